"""The start-up benchmark compares app and baseline from bytecode whatever the shell says.

With PYTHONDONTWRITEBYTECODE=1 in the environment, its warm-up round used to write no
bytecode for the app, so every measured ``import app`` compiled the app from source while
the libraries loaded theirs (docs/performance.md, "Start-up").
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from devtools import bench


@pytest.mark.parametrize("write", [True, False])
def test_bytecode_is_written_under_the_prefix_only_when_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, write: bool
) -> None:
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "probe_module.py").write_text("VALUE = 1\n")
    env = bench.bytecode_env(tmp_path / "cache", write=write)
    env["PYTHONPATH"] = str(tmp_path / "src")
    subprocess.run([sys.executable, "-c", "import probe_module"], env=env, check=True)
    written = list((tmp_path / "cache").rglob("probe_module.*.pyc"))
    assert len(written) == (1 if write else 0)
    assert not (tmp_path / "src" / "__pycache__").exists()
