"""BookingBug's people and resources over the one resource model, the company's opening
hours, and service availability in BookingBug's terms (time_data, day_data).

A person or resource's schedule is its own Timekit constraints, or the company's
opening hours when it has none. A service names who delivers it (``person_ids``,
``resource_ids``); a slot of ``duration`` minutes at a step-aligned local time is
offered on each of them whose schedule holds the slot and whose claimed time,
padded by the service's ``pre_time``/``post_time``, leaves it free.

Reads: the service, the company, one BatchGetItem for the staff, then ONE Query per
person/resource over its claim-day items for the window (``availability`` reads them
in parallel). No Scan, no read per slot: the rest is ``domain.availability``.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from chalicelib.domain import availability as domain
from chalicelib.domain import clock
from chalicelib.domain.errors import Conflict, ErrorCode, NotFound, ValidationFailed
from chalicelib.domain.intervals import Span, pad
from chalicelib.domain.schedules import Constraint, parse_constraints, weekly_hours, zone_of
from chalicelib.services.catalogue import resources
from chalicelib.services.identity import companies
from chalicelib.store import claim_days
from chalicelib.store.errors import refused
from chalicelib.store.models import Company, Resource, Service, plain_map

DEFAULT_OPENING_HOURS = weekly_hours([(day, 9 * 60, 17 * 60) for day in range(5)])  # Monday..Friday
MAX_TIME_DAYS = 31  # time_data: one month of times per request
MAX_DAY_DAYS = 62  # day_data: two months of days
READ_THREADS = 8


# --- opening hours ------------------------------------------------------------------------


def opening_hours(company: Company) -> list[dict[str, Any]]:
    stored = [plain_map(row) for row in company.opening_hours or []]
    return stored or list(DEFAULT_OPENING_HOURS)


def set_opening_hours(company_id: int, constraints: list[dict[str, Any]]) -> Company:
    parse_constraints(constraints, "availability_constraints")
    company = companies.get_company(company_id)
    if refused(lambda: company.update(actions=[Company.opening_hours.set(constraints)])):
        raise Conflict("the company changed meanwhile; retry", code=ErrorCode.VERSION_CONFLICT)
    return company


# --- who delivers a service -----------------------------------------------------------------


def check_staff(company_id: int, person_ids: Sequence[int] | None, resource_ids: Sequence[int] | None) -> None:
    """A service's ``person_ids`` name people and its ``resource_ids`` resources of this company (404/422)."""
    for field, ids, kind in (("person_ids", person_ids, "person"), ("resource_ids", resource_ids, "resource")):
        if not ids:
            continue
        for index, found in enumerate(resources.many(company_id, list(ids), field)):
            if found.resource_kind != kind:
                raise ValidationFailed(f"{found.resource_id} is not a {kind}", field=f"{field}.{index}")


def staff_ids(service: Service) -> list[int]:
    return list(service.person_ids or []) + list(service.resource_ids or [])


def pick(service: Service, person_id: int | None, resource_id: int | None) -> list[int]:
    """The staff a request may take, in the service's order: the one named, or all ("anyone")."""
    people = list(service.person_ids or [])
    things = list(service.resource_ids or [])
    if person_id is not None and resource_id is None and person_id in things:
        person_id, resource_id = None, person_id  # an event_id from time_data naming a resource
    if person_id is not None and person_id not in people:
        raise NotFound("this service is not delivered by that person", field="person_id")
    if resource_id is not None and resource_id not in things:
        raise NotFound("this service does not use that resource", field="resource_id")
    if person_id is not None:
        return [person_id]
    if resource_id is not None:
        return [resource_id]
    return people + things


def schedule_of(resource: Resource, company: Company) -> list[Constraint]:
    own = resources.constraints_of(resource)
    return own or parse_constraints(opening_hours(company), "opening_hours")


# --- availability in BookingBug's terms ---------------------------------------------------------


@dataclass(frozen=True)
class Times:
    """The free starts of one person or resource on one local day."""

    resource: Resource
    day: date
    starts: list[datetime]  # UTC


def local_days(company: Company, first: str | None, last: str | None, limit: int, field: str) -> list[date]:
    zone = ZoneInfo(company.timezone)
    start = _day(first, "date") if first else datetime.now(UTC).astimezone(zone).date()
    end = _day(last, field) if last else start
    if end < start:
        raise ValidationFailed(f"{field} is on or after date", field=field)
    if (end - start).days + 1 > limit:
        raise ValidationFailed(f"ask for at most {limit} days at once", field=field, code=ErrorCode.WINDOW_TOO_LONG)
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


def free_times(
    company: Company,
    service: Service,
    duration: int,
    days: Sequence[date],
    staff: Sequence[int],
    *,
    now: datetime | None = None,
) -> list[Times]:
    """Per person/resource and local day, the starts of ``duration`` minutes free on it."""
    moment = now or clock.utcnow()
    company_id = company.company_id
    zone = ZoneInfo(company.timezone)
    window = Span(_midnight(days[0], zone), _midnight(days[-1] + timedelta(days=1), zone))
    step = timedelta(minutes=service.booking_time_step or duration)
    before, after = timedelta(minutes=service.pre_time), timedelta(minutes=service.post_time)
    earliest = moment + timedelta(seconds=service.min_advance_period)
    latest = moment + timedelta(seconds=service.max_advance_period)
    if not staff or window.end <= earliest or window.start > latest:
        return []
    people = [r for r in resources.many(company_id, list(staff), "staff") if not r.disabled]
    # The claim would cover [start - pre_time, end + post_time]: widen each busy interval the
    # other way round, so a start is free exactly when that padded claim fits.
    reach = Span(window.start - after - before, window.end + after + before)

    def load(person: Resource) -> domain.Resource:
        busy = claim_days.busy(person.resource_id, reach, moment)
        return domain.Resource(
            id=str(person.resource_id),
            name=person.name,
            zone=zone_of(person.timezone),
            constraints=schedule_of(person, company),
            busy=pad(busy, after, before),
        )

    if len(people) > 1:
        with ThreadPoolExecutor(max_workers=min(READ_THREADS, len(people))) as pool:
            loaded = list(pool.map(load, people))
    else:
        loaded = [load(p) for p in people]
    question = domain.Question(
        window=window, length=timedelta(minutes=duration), increments=step, mode=domain.Mode.EXCLUSIVE
    )
    slots = domain.find(loaded, question, now=earliest)
    by_id = {str(p.resource_id): p for p in people}
    found: dict[tuple[str, date], list[datetime]] = {}
    minutes_step = int(step.total_seconds()) // 60
    for slot in slots:
        local = slot.start.astimezone(zone)
        # BookingBug books on the service's step from local midnight (add_item checks it).
        if slot.start > latest or (local.hour * 60 + local.minute) % minutes_step:
            continue
        for offered in slot.resources:
            found.setdefault((offered.id, local.date()), []).append(slot.start)
    return [
        Times(by_id[str(rid)], day, found.get((str(rid), day), []))
        for rid in (p.resource_id for p in people)
        for day in days
    ]


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)


def _day(text: str, field: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationFailed(f"{field} is a date (YYYY-MM-DD)", field=field) from None
