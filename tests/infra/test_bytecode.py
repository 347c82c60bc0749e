"""The deployment zip carries its bytecode (devtools/infra.py ``add_bytecode``, run by ``make package``).

Lambda's /var/task is read-only: Python cannot cache bytecode there, so a zip without it
compiles every imported module from source at each cold start. These tests build a small
package folder (a zip and a sam.json, as ``chalice package`` writes them) instead of running
chalice; tests/infra/test_package.py checks the real package.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from devtools import infra

HERE = f"python{sys.version_info.major}.{sys.version_info.minor}"
TAG = sys.implementation.cache_tag


def _package(folder: Path, runtime: str = HERE) -> Path:
    folder.mkdir()
    functions = {
        name: {"Type": "AWS::Serverless::Function", "Properties": {"Runtime": runtime, "Handler": "app.app"}}
        for name in ("APIHandler", "SweepDue")
    }
    template = {"Resources": {**functions, "Table": {"Type": "AWS::DynamoDB::Table", "Properties": {}}}}
    (folder / "sam.json").write_text(json.dumps(template))
    with zipfile.ZipFile(folder / "deployment.zip", "w") as archive:
        archive.writestr("app.py", "from lib import mod\nVALUE = mod.VALUE\n")
        archive.writestr("lib/__init__.py", "")
        archive.writestr("lib/mod.py", "VALUE = 'compiled'\n")
        archive.writestr("lib/data.json", "{}")
        archive.writestr("other/py2_only.py", "print 'not python 3'\n")
    return folder


def test_every_module_gets_unchecked_bytecode_and_nothing_else_changes(tmp_path: Path) -> None:
    package = _package(tmp_path / "out")
    before = set(zipfile.ZipFile(package / "deployment.zip").namelist())

    assert infra.add_bytecode(package) == (3, 1)

    with zipfile.ZipFile(package / "deployment.zip") as archive:
        added = set(archive.namelist()) - before
        header = archive.read(f"lib/__pycache__/mod.{TAG}.pyc")[:16]
    assert added == {
        f"__pycache__/app.{TAG}.pyc",
        f"lib/__pycache__/__init__.{TAG}.pyc",
        f"lib/__pycache__/mod.{TAG}.pyc",
    }
    # PEP 552 flags: 0b01 hash-based, 0b10 checked; unchecked-hash is 0b01.
    assert int.from_bytes(header[4:8], "little") == 0b01


def test_the_unpacked_package_imports_from_its_bytecode(tmp_path: Path) -> None:
    """Unzipped as Lambda does, the modules load from the bytecode, not their source (a source
    changed after packaging would show), with nothing written (as on a read-only /var/task)."""
    package = _package(tmp_path / "out")
    infra.add_bytecode(package)
    task = tmp_path / "task"
    zipfile.ZipFile(package / "deployment.zip").extractall(task)
    (task / "lib" / "mod.py").write_text("VALUE = 'from source'\n")
    probe = "import app, lib.mod; print(app.VALUE, lib.mod.VALUE, app.mod.__spec__.cached is not None)"
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("PYTHONPYCACHEPREFIX", None)
    done = subprocess.run([sys.executable, "-c", probe], cwd=task, env=env, capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["compiled", "compiled", "True"]


def test_bytecode_for_another_python_is_refused(tmp_path: Path) -> None:
    package = _package(tmp_path / "out", runtime="python3.9" if HERE != "python3.9" else "python3.12")
    with pytest.raises(ValueError, match="cannot compile for them"):
        infra.add_bytecode(package)
    assert not any("__pycache__" in n for n in zipfile.ZipFile(package / "deployment.zip").namelist())
