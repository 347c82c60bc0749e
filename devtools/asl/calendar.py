"""Date arithmetic in JSONPath ASL: what the mirrors need, from intrinsic functions only.

ASL has no dates and no multiplication: ``States.MathAdd`` adds two integers,
``States.ArrayGetItem`` reads a table. So the two computations the mirrors need
are table look-ups plus additions, every intermediate value kept far below 2^31
(whatever range the service's integers have):

* :func:`clock_states`: "now" as the engine writes it (``db.iso``: seconds, ``Z``)
  and the outbox TTL (epoch seconds + :data:`RETENTION_SECONDS`) as a decimal
  string. Epoch seconds are summed in two base-100000 halves (``hi``, ``lo``),
  then ``lo`` is carried and zero-padded.
* :func:`due_states`: an ISO timestamp plus one hour (the auto-complete timer:
  ``end_at`` + 3600 s), carrying into the day, month and year, with leap years.

Both read years :data:`FIRST_YEAR` .. :data:`LAST_YEAR` only; outside them the
look-up fails the execution (``States.Runtime``) instead of writing a wrong time.
"""

from __future__ import annotations

import calendar
from datetime import date
from typing import Any

from chalicelib.domain.graphs import AUTO_COMPLETE_AFTER_SECONDS
from chalicelib.services.messaging.outbox import RETENTION_SECONDS

FIRST_YEAR = 2000
LAST_YEAR = 2199
_BASE = 100_000  # epoch seconds = hi * _BASE + lo

State = dict[str, Any]

if AUTO_COMPLETE_AFTER_SECONDS != 3600:  # pragma: no cover - a guard for whoever changes it
    raise RuntimeError("due_states adds exactly one hour; teach it the new AUTO_COMPLETE_AFTER_SECONDS")


def _years() -> range:
    return range(FIRST_YEAR, LAST_YEAR + 1)


def _split(seconds: int) -> tuple[int, int]:
    return divmod(seconds, _BASE)


def _clock_tables() -> dict[str, list[int]]:
    epoch = date(1970, 1, 1)
    year_start = [_split((date(year, 1, 1) - epoch).days * 86_400) for year in _years()]
    month_start: list[tuple[int, int]] = []
    for leap in (False, True):
        days = 0
        for month in range(1, 13):
            month_start.append(_split(days * 86_400))
            days += 29 if (leap and month == 2) else calendar.monthrange(2001, month)[1]
    day_start = [_split(day * 86_400) for day in range(31)]
    return {
        "year_hi": [hi for hi, _ in year_start],
        "year_lo": [lo for _, lo in year_start],
        # index: month - 1, plus 12 in a leap year (leap12)
        "month_hi": [hi for hi, _ in month_start],
        "month_lo": [lo for _, lo in month_start],
        "leap12": [12 if calendar.isleap(year) else 0 for year in _years()],
        "day_hi": [hi for hi, _ in day_start],
        "day_lo": [lo for _, lo in day_start],
        "hour": [hour * 3600 for hour in range(24)],
        "minute": [minute * 60 for minute in range(60)],
    }


def _item(array: str, index: str) -> str:
    return f"States.ArrayGetItem({array}, {index})"


def _two_digits(text: str, add: int) -> str:
    """The number in a zero-padded field ("07"), plus ``add``: JSON has no leading zeros, so read "107" - 100."""
    return f"States.MathAdd(States.StringToJson(States.Format('1{{}}', {text})), {add - 100})"


def clock_states(prefix: str, source: str, target: str, next_state: str) -> dict[str, State]:
    """States that write ``{"iso", "ttl"}`` at ``target`` from the ISO time at ``source``, then go on.

    ``source`` is normally ``$$.State.EnteredTime`` ("2024-01-01T10:00:00.123Z" on
    AWS, "...+00:00" on moto); both split into year, month, day, hour, minute, second.
    """
    tables = _clock_tables()
    ret_hi, ret_lo = _split(RETENTION_SECONDS)
    part = [_item(f"{target}.parts", str(i)) for i in range(6)]
    year = f"{target}.y"
    month = f"States.MathAdd({target}.mo, {_item(f'{target}.t.leap12', year)})"
    name = {key: f"{prefix}{key}" for key in ("split", "fields", "offsets", "sum", "carry?", "carry", "pad?")}
    states: dict[str, State] = {
        name["split"]: {
            "Type": "Pass",
            "Comment": "now, split into year, month, day, hour, minute, second (and the fraction, unused)",
            "Parameters": {"parts.$": f"States.StringSplit({source}, '-T:.Z+')"},
            "ResultPath": target,
            "Next": name["fields"],
        },
        name["fields"]: {
            "Type": "Pass",
            "Parameters": {
                "iso.$": f"States.Format('{{}}-{{}}-{{}}T{{}}:{{}}:{{}}Z', {', '.join(part)})",
                "y.$": f"States.MathAdd(States.StringToJson({part[0]}), -{FIRST_YEAR})",
                "mo.$": _two_digits(part[1], -1),
                "d.$": _two_digits(part[2], -1),
                "h.$": _two_digits(part[3], 0),
                "mi.$": _two_digits(part[4], 0),
                "s.$": _two_digits(part[5], 0),
                "t": tables,
            },
            "ResultPath": target,
            "Next": name["offsets"],
        },
        name["offsets"]: {
            "Type": "Pass",
            "Comment": f"epoch seconds + {RETENTION_SECONDS} as hi * {_BASE} + lo1 + lo2",
            "Parameters": {
                "iso.$": f"{target}.iso",
                "hi.$": (
                    f"States.MathAdd(States.MathAdd({_item(f'{target}.t.year_hi', year)}, "
                    f"{_item(f'{target}.t.month_hi', month)}), "
                    f"States.MathAdd({_item(f'{target}.t.day_hi', f'{target}.d')}, {ret_hi}))"
                ),
                "lo1.$": (
                    f"States.MathAdd(States.MathAdd({_item(f'{target}.t.year_lo', year)}, "
                    f"{_item(f'{target}.t.month_lo', month)}), {_item(f'{target}.t.day_lo', f'{target}.d')})"
                ),
                "lo2.$": (
                    f"States.MathAdd(States.MathAdd({_item(f'{target}.t.hour', f'{target}.h')}, "
                    f"{_item(f'{target}.t.minute', f'{target}.mi')}), States.MathAdd({target}.s, {ret_lo}))"
                ),
            },
            "ResultPath": target,
            "Next": name["sum"],
        },
        name["sum"]: {
            "Type": "Pass",
            "Parameters": {
                "iso.$": f"{target}.iso",
                "hi.$": f"{target}.hi",
                "lo.$": f"States.MathAdd({target}.lo1, {target}.lo2)",
            },
            "ResultPath": target,
            "Next": name["carry?"],
        },
        name["carry?"]: {
            "Type": "Choice",
            "Choices": [{"Variable": f"{target}.lo", "NumericGreaterThanEquals": _BASE, "Next": name["carry"]}],
            "Default": name["pad?"],
        },
        name["carry"]: {
            "Type": "Pass",
            "Parameters": {
                "iso.$": f"{target}.iso",
                "hi.$": f"States.MathAdd({target}.hi, 1)",
                "lo.$": f"States.MathAdd({target}.lo, -{_BASE})",
            },
            "ResultPath": target,
            "Next": name["carry?"],
        },
    }
    width = len(str(_BASE)) - 1  # lo has this many digits once padded
    choices = []
    for zeros in range(width - 1, 0, -1):
        limit = 10 ** (width - zeros)
        choices.append({"Variable": f"{target}.lo", "NumericLessThan": limit, "Next": f"{prefix}pad {zeros}"})
    states[name["pad?"]] = {"Type": "Choice", "Choices": choices, "Default": f"{prefix}pad 0"}
    for zeros in range(width):
        states[f"{prefix}pad {zeros}"] = {
            "Type": "Pass",
            "Parameters": {
                "iso.$": f"{target}.iso",
                "ttl.$": f"States.Format('{{}}{'0' * zeros}{{}}', {target}.hi, {target}.lo)",
            },
            "ResultPath": target,
            "Next": next_state,
        }
    return states


def _due_tables() -> dict[str, list[Any]]:
    return {
        "pad": [f"{n:02d}" for n in range(32)],
        # index: month (1..12), plus 13 in a leap year (leap13)
        "dim": [*(calendar.monthrange(year, m)[1] if m else 0 for year in (2001, 2000) for m in range(13))],
        "leap13": [13 if calendar.isleap(year) else 0 for year in _years()],
    }


def due_states(prefix: str, source: str, target: str, next_state: str) -> dict[str, State]:
    """States that write ``{"iso"}`` at ``target``: the ``db.iso`` time at ``source`` plus one hour."""
    part = [_item(f"{target}.p", str(i)) for i in range(6)]
    keep = {key: f"{target}.{key}" for key in ("y", "mo", "d", "h", "mi", "s", "t")}

    def carry(**changes: str | int) -> dict[str, Any]:
        """Every field again (Parameters replace the whole object), some changed: a path or a constant."""
        fields: dict[str, Any] = {}
        for key, path in keep.items():
            value = changes.get(key, path)
            fields[f"{key}.$" if isinstance(value, str) else key] = value
        return fields

    name = {key: f"{prefix}{key}" for key in ("split", "fields", "next day?", "next day", "next month?")}
    name.update({key: f"{prefix}{key}" for key in ("next month", "next year?", "next year", "format")})
    last_day = _item(
        f"{target}.t.dim",
        f"States.MathAdd({target}.mo, {_item(f'{target}.t.leap13', f'States.MathAdd({target}.y, -{FIRST_YEAR})')})",
    )
    return {
        name["split"]: {
            "Type": "Pass",
            "Parameters": {"p.$": f"States.StringSplit({source}, '-T:Z')"},
            "ResultPath": target,
            "Next": name["fields"],
        },
        name["fields"]: {
            "Type": "Pass",
            "Comment": "the hour is read one hour on",
            "Parameters": {
                "y.$": f"States.StringToJson({part[0]})",
                "mo.$": _two_digits(part[1], 0),
                "d.$": _two_digits(part[2], 0),
                "h.$": _two_digits(part[3], 1),
                "mi.$": part[4],
                "s.$": part[5],
                "t": _due_tables(),
            },
            "ResultPath": target,
            "Next": name["next day?"],
        },
        name["next day?"]: {
            "Type": "Choice",
            "Choices": [{"Variable": f"{target}.h", "NumericGreaterThanEquals": 24, "Next": name["next day"]}],
            "Default": name["format"],
        },
        name["next day"]: {
            "Type": "Pass",
            "Parameters": {
                **carry(h=0, d=f"States.MathAdd({target}.d, 1)"),
                "last.$": last_day,
            },
            "ResultPath": target,
            "Next": name["next month?"],
        },
        name["next month?"]: {
            "Type": "Choice",
            "Choices": [
                {"Variable": f"{target}.d", "NumericGreaterThanPath": f"{target}.last", "Next": name["next month"]}
            ],
            "Default": name["format"],
        },
        name["next month"]: {
            "Type": "Pass",
            "Parameters": carry(d=1, mo=f"States.MathAdd({target}.mo, 1)"),
            "ResultPath": target,
            "Next": name["next year?"],
        },
        name["next year?"]: {
            "Type": "Choice",
            "Choices": [{"Variable": f"{target}.mo", "NumericGreaterThan": 12, "Next": name["next year"]}],
            "Default": name["format"],
        },
        name["next year"]: {
            "Type": "Pass",
            "Parameters": carry(mo=1, y=f"States.MathAdd({target}.y, 1)"),
            "ResultPath": target,
            "Next": name["format"],
        },
        name["format"]: {
            "Type": "Pass",
            "Parameters": {
                "iso.$": (
                    f"States.Format('{{}}-{{}}-{{}}T{{}}:{{}}:{{}}Z', {target}.y, "
                    f"{_item(f'{target}.t.pad', f'{target}.mo')}, {_item(f'{target}.t.pad', f'{target}.d')}, "
                    f"{_item(f'{target}.t.pad', f'{target}.h')}, {target}.mi, {target}.s)"
                )
            },
            "ResultPath": target,
            "Next": next_state,
        },
    }
