"""Availability over stored resources: their schedules minus their claimed time.

Reads cost what the answer needs: one BatchGetItem for the resources, then ONE Query
per resource over its claim-day items for the window (widened by the buffer), run in
parallel. No Scan, and no read per candidate slot: the rest is the pure
``domain.availability`` sweep.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chalicelib.domain import availability as domain
from chalicelib.domain import clock
from chalicelib.domain.errors import NotFound, ValidationFailed
from chalicelib.domain.intervals import Span
from chalicelib.domain.schedules import parse_constraints, zone_of
from chalicelib.services.catalogue import resources
from chalicelib.services.selling import time_claims

READ_THREADS = 8


@dataclass(frozen=True)
class Ask:
    """A Timekit availability request, fields as sent (validated here, 422 naming the field)."""

    resources: Sequence[str | int]
    mode: str | None = None
    length: str | None = None
    start: str | None = None  # "from"
    end: str | None = None  # "to"
    constraints: Any = None
    buffer: str | None = None
    timeslot_increments: str | None = None
    output_timezone: str | None = None


def resource_ids(raw: Sequence[str | int], field: str = "resources") -> list[int]:
    """Ids as the faces send them (Timekit: strings of digits); a 404 for anything that cannot be one."""
    ids = []
    for index, value in enumerate(raw):
        text = str(value).strip()
        if not text.isdigit() or not 0 < int(text) < 2**63:
            raise NotFound(f"resource {value!r} not found", field=f"{field}.{index}")
        ids.append(int(text))
    return ids


def find(
    company_id: int, ask: Ask, *, now: datetime | None = None, rng: random.Random | None = None
) -> list[dict[str, Any]]:
    """Timekit's ``data`` list for ``ask``."""
    moment = now or clock.utcnow()
    if not ask.resources:
        raise ValidationFailed("name at least one resource", field="resources")
    try:
        mode = domain.Mode(ask.mode or domain.Mode.ROUNDROBIN_RANDOM)
    except ValueError:
        modes = ", ".join(m.value for m in domain.Mode)
        raise ValidationFailed(f"mode is one of {modes}", field="mode") from None
    question = domain.Question(
        window=domain.parse_window(ask.start, ask.end, moment),
        length=domain.parse_length(ask.length),
        increments=domain.parse_increments(ask.timeslot_increments),
        buffer=domain.parse_buffer(ask.buffer),
        mode=mode,
        levels=[parse_constraints(ask.constraints, "constraints")] if ask.constraints else [],
    )
    output_zone = zone_of(ask.output_timezone or "UTC", "output_timezone")
    stored = resources.many(company_id, resource_ids(ask.resources))
    reach = Span(question.window.start - question.buffer, question.window.end + question.buffer)

    def load(resource: Any) -> domain.Resource:
        return domain.Resource(
            id=str(int(resource.resource_id)),
            name=resource.name,
            zone=zone_of(resource.timezone),
            constraints=resources.constraints_of(resource),
            busy=time_claims.busy(int(resource.resource_id), reach, moment),
        )

    stored = [r for r in stored if not r.disabled]  # a disabled resource is offered nowhere
    if len(stored) > 1:
        with ThreadPoolExecutor(max_workers=min(READ_THREADS, len(stored))) as pool:
            offered = list(pool.map(load, stored))
    else:
        offered = [load(r) for r in stored]
    return domain.as_timekit(domain.find(offered, question, now=moment, rng=rng), output_zone)
