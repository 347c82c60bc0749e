"""Booking graphs as data: the six Timekit graphs.

A graph says, for each resting state, which actions may run; each action lists
the autoplay steps it performs (in order), the transitional state it passes
through, the resting state it reaches, and what it does to seats. Timers are
actions the sweeper runs when they fall due. The engine, the API (possible
actions, 409s), the graph documents (JSON, DOT) and the Step Functions mirrors
are all read from these definitions, so they cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Seats(StrEnum):
    """What an action does to the capacity it is booked against."""

    NONE = "none"
    TAKE = "take"  # a create that takes seats from a group owner's capacity
    RELEASE = "release"  # seats go back exactly once
    OPEN = "open"  # a group owner's create: opens capacity of max_seats
    CLOSE = "close"  # a group owner's cancel: every seat booking is cancelled by the owner
    END = "end"  # a group owner's complete: no seat is taken any more; the seats taken stay


class Step(StrEnum):
    SAVE_CUSTOMER_DATA = "save_customer_data"
    SAVE_BOOKING_DATA = "save_booking_data"
    CREATE_EVENT = "create_event"
    DELETE_EVENT = "delete_event"
    NOTIFY_OWNER_BY_EMAIL = "notify_owner_by_email"
    NOTIFY_CUSTOMER_BY_EMAIL = "notify_customer_by_email"
    TRIGGER_WEBHOOK = "trigger_webhook"
    SAVE_PAYMENT = "save_payment"
    RESERVE_SEATS = "reserve_seats"
    RELEASE_SEATS = "release_seats"
    OPEN_SEATS = "open_seats"
    CANCEL_SEAT_BOOKINGS = "cancel_seat_bookings"


ALL_STEPS = frozenset(Step)


@dataclass(frozen=True)
class Action:
    name: str
    to: str
    steps: tuple[Step, ...]
    seats: Seats = Seats.NONE
    via: str | None = None  # transitional state logged on the way, e.g. "declining"
    manual: bool = True  # False: only a timer (the sweeper) runs it
    needs: str | None = None  # input required, e.g. "pay" needs {"pay": {"payment_id"}}

    @property
    def transitional(self) -> str:
        return self.via or f"{self.name}_in_progress"


@dataclass(frozen=True)
class Timer:
    """An action that falls due by itself while the booking rests in a state."""

    action: str
    setting: str  # the setting holding the delay (seconds), e.g. "payment_timeout"
    default_seconds: int


@dataclass(frozen=True)
class Graph:
    name: str
    create: Action
    states: dict[str, tuple[Action, ...]]
    timers: dict[str, Timer] = field(default_factory=dict)
    capacity: str = "none"  # "owner": opens capacity; "seat": books against an owner's
    reschedulable: frozenset[str] = frozenset()
    rescheduled_state: str = "rescheduled"  # where a booking ends when a new one replaces it
    description: str = ""

    @property
    def all_states(self) -> list[str]:
        seen: list[str] = ["initialized"]
        for state, actions in [("initialized", (self.create,)), *self.states.items()]:
            for name in [state, *(a.to for a in actions)]:
                if name not in seen:
                    seen.append(name)
        if self.reschedulable and self.rescheduled_state not in seen:
            seen.append(self.rescheduled_state)
        if any(a.seats is Seats.CLOSE for actions in self.states.values() for a in actions):
            seen.append("cancelling")
        return seen

    @property
    def terminal_states(self) -> list[str]:
        return [state for state in self.all_states if state != "initialized" and not self.states.get(state)]

    def actions_in(self, state: str) -> tuple[Action, ...]:
        return self.states.get(state, ())

    def possible_actions(self, state: str) -> list[str]:
        """Manual actions a caller may run now (timers are not offered)."""
        return [action.name for action in self.actions_in(state) if action.manual]

    def action(self, state: str, name: str) -> Action | None:
        for action in self.actions_in(state):
            if action.name == name:
                return action
        return None

    def is_completed(self, state: str) -> bool:
        """``completed`` in responses: no further action is possible."""
        return not self.actions_in(state)


_NOTIFY = (Step.NOTIFY_OWNER_BY_EMAIL, Step.NOTIFY_CUSTOMER_BY_EMAIL, Step.TRIGGER_WEBHOOK)
_SAVE = (Step.SAVE_CUSTOMER_DATA, Step.SAVE_BOOKING_DATA)


def _cancel(name: str, to: str, seats: Seats = Seats.NONE) -> Action:
    release = (Step.RELEASE_SEATS,) if seats is Seats.RELEASE else ()
    return Action(name, to, (*release, Step.DELETE_EVENT, *_NOTIFY), seats=seats, via=f"{to}_in_progress")


def _complete() -> Action:
    return Action("complete", "completed", (Step.TRIGGER_WEBHOOK,), via="completing")


_CONFIRMED_ACTIONS = (
    _cancel("cancel", "cancelled"),
    _cancel("cancel_by_customer", "cancelled_by_customer"),
    _complete(),
    Action("reschedule_by_customer", "rescheduled_by_customer", _NOTIFY, via="rescheduling"),
)

INSTANT = Graph(
    name="instant",
    description="Instant booking: new bookings are confirmed at once.",
    create=Action("confirm", "confirmed", (*_SAVE, Step.CREATE_EVENT, *_NOTIFY), via="confirming"),
    states={"confirmed": _CONFIRMED_ACTIONS},
    reschedulable=frozenset({"confirmed"}),
    rescheduled_state="rescheduled_by_customer",
)

CONFIRM_DECLINE = Graph(
    name="confirm_decline",
    description="New bookings wait in tentative until the owner confirms or declines them.",
    create=Action("create", "tentative", (*_SAVE, Step.NOTIFY_OWNER_BY_EMAIL, Step.TRIGGER_WEBHOOK), via="creating"),
    states={
        "tentative": (
            Action("confirm", "confirmed", (Step.CREATE_EVENT, *_NOTIFY), via="confirming"),
            Action(
                "decline",
                "declined",
                (Step.NOTIFY_CUSTOMER_BY_EMAIL, Step.TRIGGER_WEBHOOK),
                via="declining",
            ),
        ),
        "confirmed": _CONFIRMED_ACTIONS,
    },
    reschedulable=frozenset({"tentative", "confirmed"}),
)

INSTANT_PAYMENT = Graph(
    name="instant_payment",
    description="The slot is held while the customer pays; unpaid after the payment timeout.",
    create=Action("create", "tentative", (*_SAVE, Step.TRIGGER_WEBHOOK), via="creating"),
    states={
        "tentative": (
            Action("pay", "paid", (Step.SAVE_PAYMENT, Step.CREATE_EVENT, *_NOTIFY), via="paying", needs="pay"),
            Action("timeout", "unpaid", (Step.NOTIFY_CUSTOMER_BY_EMAIL, Step.TRIGGER_WEBHOOK), manual=False),
        ),
        "paid": (_cancel("cancel", "cancelled"), _complete()),
    },
    timers={"tentative": Timer("timeout", "payment_timeout", 300)},
    reschedulable=frozenset({"tentative", "paid"}),
)

GROUP_OWNER = Graph(
    name="group_owner",
    description="A group (class, webinar) with max_seats; seats are group_customer bookings.",
    create=Action(
        "create",
        "tentative",
        (*_SAVE, Step.OPEN_SEATS, Step.CREATE_EVENT, Step.TRIGGER_WEBHOOK),
        seats=Seats.OPEN,
        via="creating",
    ),
    states={
        "tentative": (
            Action(
                "cancel",
                "cancelled",
                (Step.CANCEL_SEAT_BOOKINGS, Step.DELETE_EVENT, *_NOTIFY),
                seats=Seats.CLOSE,
                via="cancelling",
            ),
            Action("complete", "completed", (Step.TRIGGER_WEBHOOK,), seats=Seats.END, via="completing"),
        ),
    },
    capacity="owner",
    reschedulable=frozenset({"tentative"}),
)

GROUP_CUSTOMER = Graph(
    name="group_customer",
    description="One booker's seats in a group_owner booking.",
    create=Action("create", "confirmed", (*_SAVE, Step.RESERVE_SEATS, *_NOTIFY), seats=Seats.TAKE, via="confirming"),
    states={
        "confirmed": (
            _complete(),
            _cancel("cancel_by_customer", "cancelled_by_customer", Seats.RELEASE),
            _cancel("cancel_by_owner", "cancelled_by_owner", Seats.RELEASE),
        ),
    },
    capacity="seat",
)

GROUP_CUSTOMER_PAYMENT = Graph(
    name="group_customer_payment",
    description="A seat held while the booker pays; unpaid (seat freed) after the payment timeout.",
    create=Action(
        "create", "tentative", (*_SAVE, Step.RESERVE_SEATS, Step.TRIGGER_WEBHOOK), seats=Seats.TAKE, via="creating"
    ),
    states={
        "tentative": (
            Action("pay", "paid", (Step.SAVE_PAYMENT, *_NOTIFY), via="paying", needs="pay"),
            Action(
                "timeout",
                "unpaid",
                (Step.RELEASE_SEATS, Step.NOTIFY_CUSTOMER_BY_EMAIL, Step.TRIGGER_WEBHOOK),
                seats=Seats.RELEASE,
                manual=False,
            ),
            _cancel("cancel_by_owner", "cancelled_by_owner", Seats.RELEASE),
        ),
        "paid": (
            _cancel("cancel_by_owner", "cancelled_by_owner", Seats.RELEASE),
            _complete(),
            _cancel("cancel_by_customer", "cancelled_by_customer", Seats.RELEASE),
        ),
    },
    timers={"tentative": Timer("timeout", "payment_timeout", 300)},
    capacity="seat",
)

GRAPHS: dict[str, Graph] = {
    graph.name: graph
    for graph in (INSTANT, CONFIRM_DECLINE, INSTANT_PAYMENT, GROUP_OWNER, GROUP_CUSTOMER, GROUP_CUSTOMER_PAYMENT)
}

AUTO_COMPLETE_SETTING = "auto_complete_one_hour_after_booking_ends"
AUTO_COMPLETE_AFTER_SECONDS = 3600


def graph_named(name: str) -> Graph | None:
    return GRAPHS.get(name)
