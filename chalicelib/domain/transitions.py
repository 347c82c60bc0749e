"""Planning a transition: pure, so the engine and the Step Functions mirrors agree.

Given where a booking rests and the action asked for, :func:`plan` says whether
it may run, which log entries it writes (autoplay steps, skipped steps), where
it comes to rest, what it does to seats, which outbox event it emits and which
timer, if any, falls due next. Storage applies the plan in one transaction.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from chalicelib.domain.errors import Conflict, ErrorCode, ValidationFailed
from chalicelib.domain.graphs import (
    AUTO_COMPLETE_AFTER_SECONDS,
    AUTO_COMPLETE_SETTING,
    Action,
    Graph,
    Seats,
    Step,
)

STEP_DESCRIPTIONS: dict[Step, str] = {
    Step.SAVE_CUSTOMER_DATA: "Saved customer data",
    Step.SAVE_BOOKING_DATA: "Saved booking data",
    Step.CREATE_EVENT: "Created calendar event",
    Step.DELETE_EVENT: "Deleted calendar event",
    Step.NOTIFY_OWNER_BY_EMAIL: "Queued email to owner",
    Step.NOTIFY_CUSTOMER_BY_EMAIL: "Queued email to customer",
    Step.TRIGGER_WEBHOOK: "Queued webhook",
    Step.SAVE_PAYMENT: "Saved payment",
    Step.RESERVE_SEATS: "Reserved seats",
    Step.RELEASE_SEATS: "Released seats",
    Step.OPEN_SEATS: "Opened seats",
    Step.CANCEL_SEAT_BOOKINGS: "Cancelling every seat booking",
}

# Steps that carry the booking's promise (seats, payment, data) cannot be switched off.
ESSENTIAL_STEPS = frozenset(
    {
        Step.SAVE_CUSTOMER_DATA,
        Step.SAVE_BOOKING_DATA,
        Step.SAVE_PAYMENT,
        Step.RESERVE_SEATS,
        Step.RELEASE_SEATS,
        Step.OPEN_SEATS,
        Step.CANCEL_SEAT_BOOKINGS,
    }
)

NOTIFY_STEPS = frozenset({Step.NOTIFY_OWNER_BY_EMAIL, Step.NOTIFY_CUSTOMER_BY_EMAIL, Step.TRIGGER_WEBHOOK})

EVENT_TYPES: dict[str, str] = {
    "tentative": "booking.created",
    "confirmed": "booking.confirmed",
    "declined": "booking.declined",
    "paid": "booking.paid",
    "unpaid": "booking.expired",
    "completed": "booking.completed",
    "cancelled": "booking.cancelled",
    "cancelled_by_customer": "booking.cancelled",
    "cancelled_by_owner": "booking.cancelled",
    "rescheduled_by_customer": "booking.rescheduled",
    "cancelling": "booking.cancelling",
}


@dataclass(frozen=True)
class LogEntry:
    description: str
    state: str
    success: bool = True
    data: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Due:
    action: str
    at: datetime


@dataclass(frozen=True)
class Plan:
    action: Action
    from_state: str
    to_state: str
    logs: tuple[LogEntry, ...]
    event_type: str
    timer: Due | None
    notify: tuple[str, ...] = ()  # the notify_* / trigger_webhook steps that run (not disabled)
    message: str | None = None  # the customer's message for its email

    @property
    def seats(self) -> Seats:
        return self.action.seats


def disabled_steps(options: Mapping[str, Any]) -> frozenset[str]:
    """Steps switched off with ``{"<step>": {"enabled": false}}``."""
    off = set()
    for name, value in options.items():
        if isinstance(value, Mapping) and value.get("enabled") is False:
            off.add(name)
    return frozenset(off)


def plan(
    graph: Graph,
    state: str,
    action_name: str,
    *,
    now: datetime,
    end: datetime | None,
    settings: Mapping[str, Any],
    options: Mapping[str, Any],
    by_timer: bool = False,
) -> Plan:
    """Plan ``action_name`` on a booking of ``graph`` resting in ``state``.

    Raises Conflict (409, with possible_actions) when the graph does not allow it.
    ``options`` are the request's step settings; ``settings`` the booking's own.
    """
    if state == "initialized":
        action = graph.create if graph.create.name == action_name else None
    else:
        action = graph.action(state, action_name)
    if action is None or (not action.manual and not by_timer):
        raise Conflict(
            f"{action_name} is not possible on a {graph.name} booking in state {state}",
            code=ErrorCode.ACTION_NOT_ALLOWED,
            field="action",
            extra={"possible_actions": graph.possible_actions(state), "state": state},
        )
    off = disabled_steps(options)
    for step in off & {s.value for s in ESSENTIAL_STEPS}:
        raise ValidationFailed(f"{step} cannot be disabled", field=step)
    logs: list[LogEntry] = [LogEntry(f"Changed state to: {action.transitional}", action.transitional)]
    message = _message(options, action)
    for step in action.steps:
        if step.value in off:
            logs.append(LogEntry(f"Skipped {step.value} (disabled in the request)", action.transitional))
        else:
            data = {"message": message} if message and step is Step.NOTIFY_CUSTOMER_BY_EMAIL else None
            logs.append(LogEntry(STEP_DESCRIPTIONS[step], action.transitional, data=data))
    resting = "cancelling" if action.seats is Seats.CLOSE else action.to
    logs.append(LogEntry(f"Changed state to: {resting}", resting))
    event_type = "booking.created" if state == "initialized" else EVENT_TYPES.get(resting, f"booking.{resting}")
    return Plan(
        action=action,
        from_state=state,
        to_state=resting,
        logs=tuple(logs),
        event_type=event_type,
        timer=next_timer(graph, resting, now=now, end=end, settings=settings),
        notify=tuple(step.value for step in action.steps if step in NOTIFY_STEPS and step.value not in off),
        message=message,
    )


def _message(options: Mapping[str, Any], action: Action) -> str | None:
    for key in (action.name, f"notify_customer_{action.to}_by_email", "notify_customer_by_email"):
        value = options.get(key)
        if isinstance(value, Mapping) and isinstance(value.get("message"), str):
            return str(value["message"])
    return None


def next_timer(
    graph: Graph, state: str, *, now: datetime, end: datetime | None, settings: Mapping[str, Any]
) -> Due | None:
    """The earliest timer of a resting state: the graph's own, or auto-complete."""
    due: list[Due] = []
    timer = graph.timers.get(state)
    if timer is not None:
        seconds = int(settings.get(timer.setting) or timer.default_seconds)
        due.append(Due(timer.action, now + timedelta(seconds=seconds)))
    if end is not None and graph.action(state, "complete") is not None and auto_complete_enabled(settings):
        due.append(Due("complete", end + timedelta(seconds=AUTO_COMPLETE_AFTER_SECONDS)))
    return min(due, key=lambda d: d.at) if due else None


def auto_complete_enabled(settings: Mapping[str, Any]) -> bool:
    value = settings.get(AUTO_COMPLETE_SETTING)
    return not (isinstance(value, Mapping) and value.get("enabled") is False)


_DURATION = re.compile(r"^\s*(\d+)\s*(second|minute|hour|day|week)s?\s*$")
_UNIT_SECONDS = {"second": 1, "minute": 60, "hour": 3600, "day": 86_400, "week": 604_800}


def parse_duration(text: str, field: str) -> int:
    """Timekit's durations, e.g. "1 day", "2 hours", "30 minutes" -> seconds."""
    match = _DURATION.match(text.lower())
    if match is None:
        raise ValidationFailed(f"{text!r} is not a duration like '2 hours' or '1 day'", field=field)
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2)]
