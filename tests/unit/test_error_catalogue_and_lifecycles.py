"""Names for errors and lifecycles: one catalogue of codes, one liveness rule for holds."""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass
from pathlib import Path

from chalicelib.domain.errors import BookingError, Conflict, ErrorCode
from chalicelib.domain.lifecycle import HoldStatus, effective_status, is_live

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class _Hold:
    status: str
    expires_at: float


def test_an_active_hold_is_live_until_its_expiry_then_expired() -> None:
    hold = _Hold(HoldStatus.ACTIVE, expires_at=100)
    assert effective_status(hold, 99.5) is HoldStatus.ACTIVE and is_live(hold, 99.5)
    assert effective_status(hold, 100) is HoldStatus.EXPIRED and not is_live(hold, 100)


def test_an_ended_hold_keeps_the_status_it_ended_with() -> None:
    for ended in (HoldStatus.CONVERTED, HoldStatus.RELEASED, HoldStatus.EXPIRED):
        assert effective_status(_Hold(ended.value, expires_at=10**12), 0) is ended


def test_every_code_has_a_status_and_a_sentence_and_serialises_as_its_name() -> None:
    assert len({code.value for code in ErrorCode}) == len(ErrorCode)
    for code in ErrorCode:
        assert 400 <= code.status < 600 and code.sentence.endswith(".")
    assert json.dumps({"code": ErrorCode.HOLD_EXPIRED}) == '{"code": "hold_expired"}'
    error = Conflict("gone", code=ErrorCode.HOLD_EXPIRED)
    assert error.code == "hold_expired" and error.status == ErrorCode.HOLD_EXPIRED.status


def test_the_error_classes_answer_with_their_codes_status() -> None:
    classes: list[type[BookingError]] = [BookingError, *BookingError.__subclasses__()]
    assert all(ErrorCode(cls.code).status == cls.status for cls in classes)


def test_no_error_code_is_written_as_a_string_outside_the_catalogue() -> None:
    found: list[str] = []
    for path in [*sorted((ROOT / "chalicelib").rglob("*.py")), ROOT / "app.py"]:
        for node in ast.walk(ast.parse(path.read_text())):
            lines = [
                kw.value.lineno
                for kw in (node.keywords if isinstance(node, ast.Call) else [])
                if kw.arg == "code" and isinstance(kw.value, ast.Constant)
            ]
            if isinstance(node, ast.ClassDef) and path.name != "errors.py":
                lines += [
                    item.lineno
                    for item in node.body
                    if isinstance(item, ast.Assign)
                    and any(isinstance(t, ast.Name) and t.id == "code" for t in item.targets)
                    and isinstance(item.value, ast.Constant)
                ]
            found += [f"{path.relative_to(ROOT)}:{line}" for line in lines]
    assert not found, found
