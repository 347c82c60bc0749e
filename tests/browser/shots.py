"""Where the browser tests save their screenshots.

``SCREENSHOTS`` names the folder (``make screenshots`` sets it to ``docs/screenshots``, the
pictures the README shows); by default they go to ``.data/screenshots`` so that a test run
does not rewrite tracked files.
"""

from __future__ import annotations

import os
from pathlib import Path

from playwright.sync_api import Page

ROOT = Path(__file__).resolve().parents[2]


def screenshot(page: Page, name: str) -> Path:
    folder = Path(os.environ.get("SCREENSHOTS") or ROOT / ".data" / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
