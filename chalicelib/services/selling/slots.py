"""Service slots: a service booked at a date and time, on the same capacity engine as events.

A slot's seats are the capacity ``CAP#SLOT-<service>-<UTC start>-<duration>``
(``keys.slot_capacity``) with the service's ``spaces``. Nothing is written when a
service is created: the capacity is opened the first time someone adds the slot to
a basket, by a put conditional on the shard not existing, so two first bookers
cannot both open it (the loser's put is refused and it just goes on to take seats).

Known limits: a service has no opening hours or staff schedule here, so any
step-aligned time inside the advance window is bookable; slots of different
durations that overlap are separate capacities; a change of ``spaces`` applies to
slots not yet opened.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from chalicelib.domain import slot_rules
from chalicelib.domain.errors import Conflict, ErrorCode, NotFound, ValidationFailed
from chalicelib.domain.slot_rules import SlotRules
from chalicelib.services.catalogue import catalogue, events
from chalicelib.store import keys
from chalicelib.store.models import Service


@dataclass(frozen=True)
class Slot:
    service: Service
    rules: SlotRules
    start: datetime  # aware, UTC
    duration: int  # minutes

    @property
    def capacity_id(self) -> str:
        return keys.slot_capacity(self.service.service_id, self.start.strftime("%Y%m%dT%H%M%SZ"), self.duration)


def rules(service: Service, duration: int) -> SlotRules:
    """The service's rules for one of its durations (the price is that duration's)."""
    durations = list(service.durations)
    if duration not in durations:
        raise ValidationFailed(
            f"this service lasts one of {durations} minutes", field="duration", extra={"durations": durations}
        )
    prices = list(service.prices)
    index = durations.index(duration)
    return SlotRules(
        disabled=bool(service.disabled),
        max_num_bookings=service.max_bookings,
        min_advance_seconds=service.min_advance_period,
        max_advance_seconds=service.max_advance_period,
        min_cancel_seconds=service.min_cancel_period,
        time_step=service.booking_time_step,
        price=prices[index] if index < len(prices) else 0,
        detail_group_id=None if service.detail_group_id is None else service.detail_group_id,
    )


def local_start(company_id: int, day: str, minutes: int) -> datetime:
    """The UTC start of ``minutes`` after local midnight on ``day`` (the company's time zone)."""
    on = events.parse_date(day, "date")
    if not 0 <= minutes < slot_rules.MINUTES_PER_DAY:
        raise ValidationFailed("time is minutes after local midnight (0 to 1439)", field="time")
    zone = events.company_zone(company_id)
    wall = datetime.combine(on, time(minutes // 60, minutes % 60), tzinfo=zone)
    try:
        start = wall.astimezone(UTC)
    except (OverflowError, ValueError):
        raise ValidationFailed("date is out of range", field="date") from None
    if start.astimezone(zone).replace(tzinfo=None) != wall.replace(tzinfo=None):
        raise ValidationFailed("that local time does not exist on that day (a clock change)", field="time")
    return start


def find(company_id: int, service_id: int, start: datetime, duration: int | None) -> Slot:
    """The slot of a live service (a deleted one is 404, as every read of it)."""
    try:
        service = catalogue.get_service(company_id, service_id, include_deleted=False)
    except NotFound:
        raise NotFound("service not found", field="service_id") from None
    chosen = service.durations[0] if duration is None and service.durations else duration
    if chosen is None:
        raise Conflict("this service has no duration to book", field="service_id", code=ErrorCode.SERVICE_DISABLED)
    return Slot(service, rules(service, chosen), start, chosen)


def local_minutes(start: datetime, company_id: int) -> tuple[date, int]:
    local = start.astimezone(events.company_zone(company_id))
    return local.date(), local.hour * 60 + local.minute


def end_of(slot: Slot) -> datetime:
    return slot.start + timedelta(minutes=slot.duration)
