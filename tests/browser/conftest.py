"""Browser fixtures: the app over real HTTP, a second origin serving the pages, headless Chromium.

- ``api_url``: the app in its own process (``tests/browser/api_server.py``) on 127.0.0.1,
  against a fresh DynamoDB Local table; ``second_api_url`` is another process on the same
  table (a second Lambda instance), for races.
- ``pages``: another origin (another port) serving ``chalicelib/static`` at the paths the app
  uses (``/events``, ``/static/...``) plus pages a test adds, so every API call from a page
  is cross-origin and CORS is real.
- ``browser``: Debian's Chromium (``make browser``) driven by Playwright through
  ``executable_path``; Playwright's own browser download is not used.

Nothing here skips: without Chromium or the built widget (``make web``) the tests fail
with the command that fixes it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, Playwright, ViewportSize, sync_playwright

from tests.receivers import serving

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "chalicelib" / "static"
BUILD = STATIC / "build"
CHROMIUM = Path("/usr/bin/chromium")
PHONE = ViewportSize(width=390, height=844)
PAGE_ROUTES = {"/events": "events.html", "/": "index.html", "/docs": "docs.html"}


def _start_api(env: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.browser.api_server"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline().strip()
    if not line.isdigit():
        process.kill()
        raise RuntimeError(f"the API process did not start (printed {line!r})")
    return process, f"http://127.0.0.1:{line}"


def _stop(process: subprocess.Popen[str]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def _api_process() -> Iterator[str]:
    process, url = _start_api(dict(os.environ))
    try:
        yield url
    finally:
        _stop(process)


@pytest.fixture
def api_url(ddb_table: str) -> Iterator[str]:
    with _api_process() as url:
        yield url


@pytest.fixture
def second_api_url(api_url: str) -> Iterator[str]:
    with _api_process() as url:
        yield url


@dataclass
class Pages:
    """The second origin. ``extra`` maps a path to an HTML page a test wrote."""

    url: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    def add(self, path: str, html: str) -> str:
        self.extra[path] = html
        return self.url + path


def _handler(pages: Pages) -> type[SimpleHTTPRequestHandler]:
    class Handler(SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(STATIC), **kwargs)

        def log_message(self, *args: Any) -> None:
            """Quiet: pytest shows a failing test's own output."""

        def translate_path(self, path: str) -> str:
            route = urlsplit(path).path
            if route in PAGE_ROUTES:
                return str(STATIC / PAGE_ROUTES[route])
            if route.startswith("/static/"):
                return super().translate_path(route.removeprefix("/static"))
            return str(STATIC / "missing")

        def do_GET(self) -> None:
            page = pages.extra.get(urlsplit(self.path).path)
            if page is None:
                super().do_GET()
                return
            body = page.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


@pytest.fixture
def pages() -> Iterator[Pages]:
    served = Pages()
    with serving(ThreadingHTTPServer(("127.0.0.1", 0), _handler(served))) as port:
        served.url = f"http://127.0.0.1:{port}"
        yield served


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: run `make browser` (apt-get install chromium)"
    assert (BUILD / "booking.min.js").exists(), f"{BUILD} is not built: run `make web`"
    launched = playwright.chromium.launch(executable_path=str(CHROMIUM))
    yield launched
    launched.close()


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    """A phone-sized page that fails the test on any script error."""
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert errors == [], errors
