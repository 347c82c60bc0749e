"""Step Functions mirrors of the booking graphs, generated from the same definitions.

One state machine per graph (``infra/statemachines/<graph>.asl.json``, written by
``make asl``). It runs one ACTION on an existing booking, exactly as
``chalicelib.services.selling.bookings._apply`` does, with DynamoDB service integrations
only (JSONPath ASL, no Lambda):

Input::

    {"booking_id": "...", "action": "cancel", "input": {"pay": {"payment_id": "..."}},
     "by_timer": true,      # optional: timer (non-manual) actions are allowed too
     "company_id": 7,       # optional: another company's booking is BookingNotFound
     "if_match": 3}         # optional: the version the caller read (PreconditionFailed)

1. GetItem the booking (only the attributes it needs), ``BookingNotFound`` when
   absent; then the optional company and If-Match checks and the graph.
2. Choice on the state, then on the action: the pairs the graph allows (timer
   actions only with ``by_timer``), everything else fails ``ActionNotAllowed``;
   ``pay`` without ``input.pay.payment_id`` fails ``ValidationFailed``. The
   (state, action) branch holds the planner's output as constants (``plan(...)``
   with empty options): resting state, log entries, event type, seat effect.
3. One ``transactWriteItems``, like the engine's one transaction: the booking
   (compare-and-set on state and version: state, updated_at, log_count + 1,
   version + 1, the resting state's timer, the payment), its log item
   ``LOG#<log_count + 1>`` (put-if-absent), its outbox event (put-if-absent; the
   payload holds id, graph, state, completed, possible_actions, created_at and
   updated_at of the engine's snapshot, and a TTL a week on), and the seat change:
   a release adds every ``seat_shards`` entry back to its capacity shard (a Choice
   on how many entries there are, up to 16); a group owner's cancel closes every
   shard (a Choice on ``settings.capacity_shards``; its complete closes them the
   same way and stops there), rests the owner in
   ``cancelling``, then cancels every seat booking (Query ``gsi2``, a Map with one
   transaction per seat, again until a pass finds none and no shard counts a
   booked seat) and moves the owner to ``cancelled``. A booking that claimed a
   resource's time and leaves confirmed, tentative or paid for anything but completed
   (``domain.time_claims.releases``) removes its entry from each of its ``claim_days``
   (a Choice on how many, up to ``MAX_DAYS_TOUCHED``), as ``claim_days.remove`` does. After
   :data:`CASCADE_BUDGET` pages it leaves the rest to the sweeper exactly as
   ``_schedule_resume`` does (timer ``cancel``, due now). A lost compare-and-set
   fails ``StateConflict``; a transaction conflict is tried again.

"Now" is ``$$.State.EnteredTime`` in the engine's format (``db.iso``); the dates
the mirrors need are computed by :mod:`devtools.asl.calendar` (table look-ups
and additions: ASL has no date functions).

What it does not cover, and why (see also :data:`UNMIRRORED`):

* Request options: messages and disabled steps (``input`` other than ``pay``) are
  ignored; the log entries are the planner's with empty options.
* ``cancel_by_customer``'s ``min_cancel_time`` rule on seat bookings (it needs
  ``parse_duration`` and date arithmetic on the owner's settings).
* Timers that need "now + N seconds" (a graph's own timer, e.g. ``payment_timeout``;
  no action of today's graphs comes to rest in such a state) and the auto-complete
  timer when the booking has no ``xpk`` yet: the expiry partition is
  ``crc32(pk) % keys.EXPIRY_SHARDS``, which ASL cannot compute, so the mirror can only reuse the
  partition a booking already carries. Those writes REMOVE the timer.
* Duplicate shards in ``seat_shards`` (the engine merges them; the engine never
  writes any); more than 16 entries fails ``TooManySeatShards``.
* Creating bookings (taking or opening seats) and rescheduling.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from chalicelib.domain import time_claims
from chalicelib.domain.graphs import AUTO_COMPLETE_SETTING, GRAPHS, Action, Graph, Seats
from chalicelib.domain.time_claims import MAX_DAYS_TOUCHED
from chalicelib.domain.transitions import LogEntry, Plan, plan
from chalicelib.services.selling.bookings import MAX_SHARDS, SEAT_HOLDING_STATES
from chalicelib.store import keys, schema
from chalicelib.store.models import BookingLog, Item, OutboxEvent
from devtools.asl.calendar import clock_states, due_states

TABLE = "${TableName}"
STATEMACHINES_DIR = Path("infra/statemachines")

# Errors the executions fail with (besides the service's own, e.g. DynamoDb.*).
ACTION_NOT_ALLOWED = "ActionNotAllowed"
STATE_CONFLICT = "StateConflict"
BOOKING_NOT_FOUND = "BookingNotFound"
INVALID_INPUT = "InvalidInput"
VALIDATION_FAILED = "ValidationFailed"
PRECONDITION_FAILED = "PreconditionFailed"
GRAPH_MISMATCH = "GraphMismatch"
TOO_MANY_SEAT_SHARDS = "TooManySeatShards"
TOO_MANY_CLAIM_DAYS = "TooManyClaimDays"
UNSUPPORTED_CAPACITY_SHARDS = "UnsupportedCapacityShards"
CASCADE_INCOMPLETE = "CascadeIncomplete"

_CAUSES = {
    ACTION_NOT_ALLOWED: "the action is not possible on this booking in its state",
    STATE_CONFLICT: "the booking changed meanwhile (its state or version is no longer the one read)",
    BOOKING_NOT_FOUND: "booking not found",
    INVALID_INPUT: 'the input must hold "booking_id" and "action" (strings)',
    VALIDATION_FAILED: "pay.payment_id is required",
    PRECONDITION_FAILED: "the booking is not at the version in if_match",
    GRAPH_MISMATCH: "the booking follows another graph; start that graph's state machine",
    TOO_MANY_SEAT_SHARDS: f"the booking's seat_shards has more than {MAX_SHARDS} entries",
    TOO_MANY_CLAIM_DAYS: f"the booking's claim_days has more than {MAX_DAYS_TOUCHED} entries",
    UNSUPPORTED_CAPACITY_SHARDS: f"settings.capacity_shards is not 1..{MAX_SHARDS}",
    CASCADE_INCOMPLETE: "seat bookings are left and the owner has no expiry partition (xpk) to resume from",
}

TRANSACTION_CANCELED = ["DynamoDb.TransactionCanceledException", "DynamoDB.TransactionCanceledException"]
COMMIT_ATTEMPTS = 8  # like transact.CONFLICT_RETRIES: a transaction conflict is tried again
# An execution has at most 25,000 history events; cancelling one seat booking in the Map takes ~23
# (more when its seats span several shards). So one execution reads at most CASCADE_BUDGET pages of
# CASCADE_PAGE seat bookings (<= 500, ~12,000 events) and leaves the rest to the sweeper, as the engine does.
CASCADE_PAGE = 50  # seat bookings read per query (before the state filter)
CASCADE_BUDGET = 10  # queries before the rest is left to the sweeper

# The owner's last step, as bookings._finish_owner_cancel writes it.
FINISH_OWNER_CANCEL = (
    LogEntry("Every seat booking is cancelled", "cancelling"),
    LogEntry("Changed state to: cancelled", "cancelled"),
)
FINISH_EVENT_TYPE = "booking.cancelled"

TimerMode = Literal["none", "auto_complete", "unsupported"]

# (graph, state, action) whose timer the mirror cannot always write, and when:
# "auto_complete": exact when the booking already has an xpk, else the timer is removed;
# "unsupported": the timer is always removed (needs now + N seconds).
UNMIRRORED: dict[tuple[str, str, str], str] = {}

# What the mirrors read of a booking (and of a seat booking in the cascade).
BOOKING_READ = (
    "pk",
    "booking_id",
    "graph",
    "state",
    "version",
    "log_count",
    "company_id",
    "created_at",
    "capacity_id",
    "seat_shards",
    "settings.capacity_shards",
    f"settings.{AUTO_COMPLETE_SETTING}",
    "end_at",
    "xpk",
    "resource.id",
    "claim_days",
)
SEAT_READ = ("pk", "booking_id", "graph", "state", "version", "log_count", "company_id", "created_at", "seat_shards")

_PLANNED_AT = datetime(2000, 1, 1, tzinfo=UTC)  # entries, resting state and event type do not depend on it

State = dict[str, Any]


@dataclass(frozen=True)
class Transition:
    """One allowed (state, action) of a graph, as the mirror writes it."""

    graph: Graph
    state: str
    action: Action
    plan: Plan
    timer: TimerMode

    @property
    def key(self) -> str:
        return f"{self.state}/{self.action.name}"


def timer_mode(graph: Graph, resting: str, *, end_known: bool = True) -> TimerMode:
    """How the mirror can set ``next_timer`` for a booking coming to rest in ``resting``."""
    own = resting in graph.timers
    complete = end_known and graph.action(resting, "complete") is not None
    if own:
        return "unsupported"  # now + settings[...] seconds: not computable in ASL
    return "auto_complete" if complete else "none"


def transitions(graph: Graph) -> list[Transition]:
    found = []
    for state, actions in graph.states.items():
        for action in actions:
            step = plan(graph, state, action.name, now=_PLANNED_AT, end=None, settings={}, options={}, by_timer=True)
            found.append(Transition(graph, state, action, step, timer_mode(graph, step.to_state)))
    return found


def seat_cancellations() -> list[tuple[Graph, str, Plan]]:
    """(seat graph, state, plan) of every seat booking a group owner's cancel can meet."""
    found = []
    for graph in GRAPHS.values():
        if graph.capacity != "seat":
            continue
        for state in sorted(SEAT_HOLDING_STATES):
            if graph.action(state, "cancel_by_owner") is None:
                continue
            step = plan(graph, state, "cancel_by_owner", now=_PLANNED_AT, end=None, settings={}, options={})
            if timer_mode(graph, step.to_state, end_known=False) != "none":
                raise NotImplementedError(f"{graph.name}: a cancelled seat booking with a timer is not mirrored")
            found.append((graph, state, step))
    return found


def _note_unmirrored() -> None:
    for graph in GRAPHS.values():
        for transition in transitions(graph):
            if transition.timer == "auto_complete":
                UNMIRRORED[(graph.name, transition.state, transition.action.name)] = (
                    f"auto-complete timer ({transition.plan.to_state}): exact when the booking has an xpk "
                    "(crc32 of pk, not computable in ASL); removed otherwise"
                )
            elif transition.timer == "unsupported":
                UNMIRRORED[(graph.name, transition.state, transition.action.name)] = (
                    f"timer of {transition.plan.to_state} needs now + N seconds: removed"
                )


_note_unmirrored()


# --- small builders ----------------------------------------------------------------------------------


def _fmt(template: str, *paths: str) -> str:
    return f"States.Format('{template}', {', '.join(paths)})"


def _key(pk: str, sk: str) -> dict[str, Any]:
    return {"pk": {"S.$": pk}, "sk": {"S": sk}}


def _entries(logs: tuple[LogEntry, ...]) -> dict[str, Any]:
    """Log entries as DynamoDB writes them (``_log_item``): constants of a (state, action)."""
    if any(entry.data for entry in logs):
        raise NotImplementedError("log entries with data are not mirrored")
    return {
        "L": [
            {
                "M": {
                    "description": {"S": entry.description},
                    "success": {"BOOL": entry.success},
                    "state": {"S": entry.state},
                    "data": {"M": {}},
                }
            }
            for entry in logs
        ]
    }


def _plan_constants(graph: Graph, step: Plan) -> dict[str, Any]:
    """What a (state, action) writes that does not depend on the booking: the planner's output."""
    return _constants(graph, step.from_state, step.to_state, step.event_type, step.logs)


def _constants(
    graph: Graph, from_state: str, to_state: str, event_type: str, logs: tuple[LogEntry, ...]
) -> dict[str, Any]:
    return {
        "from": from_state,
        "to": to_state,
        "event_type": event_type,
        "completed": graph.is_completed(to_state),
        "possible_actions": {"L": [{"S": name} for name in graph.possible_actions(to_state)]},
        "entries": _entries(logs),
    }


def _plan_reads(booking: str) -> dict[str, Any]:
    return {
        "event_id.$": "States.UUID()",
        "seq.$": f"States.MathAdd(States.StringToJson({booking}.log_count.N), 1)",
    }


def _put_new(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "Put": {
            "TableName": TABLE,
            "Item": item,
            "ConditionExpression": "attribute_not_exists(#pk)",
            "ExpressionAttributeNames": {"#pk": schema.PK},
        }
    }


def _log_put(booking: str, plan_path: str, now: str) -> dict[str, Any]:
    return _put_new(
        {
            "pk": {"S.$": f"{booking}.pk.S"},
            "sk": {"S.$": _fmt(keys.LOG_PREFIX + "{}", f"{plan_path}.seq")},
            "kind": {"S": Item.kind.get_discriminator(BookingLog)},
            "seq": {"N.$": _fmt("{}", f"{plan_path}.seq")},
            "entries.$": f"{plan_path}.entries",
            "created_at": {"S.$": f"{now}.iso"},
        }
    )


def _outbox_put(booking: str, plan_path: str, now: str) -> dict[str, Any]:
    """The event, as ``_apply`` writes it; its payload holds the snapshot fields a mirror knows."""
    return _put_new(
        {
            "pk": {"S.$": _fmt(keys.outbox_pk("{}"), f"{plan_path}.event_id")},
            "sk": {"S": keys.EVENT_SK},
            "kind": {"S": Item.kind.get_discriminator(OutboxEvent)},
            "event_id": {"S.$": f"{plan_path}.event_id"},
            "event_type": {"S.$": f"{plan_path}.event_type"},
            "company_id": {"N.$": f"{booking}.company_id.N"},
            "subject_id": {"S.$": f"{booking}.booking_id.S"},
            "occurred_at": {"S.$": f"{now}.iso"},
            "payload": {
                "M": {
                    "id": {"S.$": f"{booking}.booking_id.S"},
                    "graph": {"S.$": f"{booking}.graph.S"},
                    "state": {"S.$": f"{plan_path}.to"},
                    "completed": {"BOOL.$": f"{plan_path}.completed"},
                    "possible_actions.$": f"{plan_path}.possible_actions",
                    "created_at": {"S.$": f"{booking}.created_at.S"},
                    "updated_at": {"S.$": f"{now}.iso"},
                }
            },
            "ttl": {"N.$": f"{now}.ttl"},
        }
    )


def _booking_update(
    booking: str, plan_path: str, now: str, *, timer: Literal["remove", "set"], pay: bool = False
) -> dict[str, Any]:
    """The booking's compare-and-set update, as ``_apply`` builds it (ADD, as PynamoDB writes)."""
    names = {
        "#state": "state",
        "#version": "version",
        "#updated_at": "updated_at",
        "#log_count": "log_count",
        "#timer_action": "timer_action",
        "#xpk": schema.EXPIRY_PK,
        "#xsk": schema.EXPIRY_SK,
    }
    values: dict[str, Any] = {
        ":from": {"S.$": f"{plan_path}.from"},
        ":to": {"S.$": f"{plan_path}.to"},
        ":version.$": f"{booking}.version",
        ":now": {"S.$": f"{now}.iso"},
        ":one": {"N": "1"},
    }
    sets = ["#state = :to", "#updated_at = :now"]
    if pay:
        names["#payment"] = "payment"
        values[":payment"] = {"M": {"payment_id": {"S.$": "$.input.pay.payment_id"}, "paid_at": {"S.$": f"{now}.iso"}}}
        sets.append("#payment = :payment")
    if timer == "set":
        sets += ["#timer_action = :timer_action", "#xpk = :xpk", "#xsk = :xsk"]
        values[":timer_action"] = {"S": "complete"}
        values[":xpk"] = {"S.$": f"{booking}.xpk.S"}
        values[":xsk"] = {"S.$": _fmt("{}#{}", "$.due.iso", f"{booking}.pk.S")}
        expression = f"SET {', '.join(sets)} ADD #log_count :one, #version :one"
    else:
        expression = f"SET {', '.join(sets)} ADD #log_count :one, #version :one REMOVE #timer_action, #xpk, #xsk"
    return {
        "Update": {
            "TableName": TABLE,
            "Key": _key(f"{booking}.pk.S", keys.BOOKING_SK),
            "UpdateExpression": expression,
            "ConditionExpression": "#state = :from AND #version = :version",
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }
    }


def _write(booking: str, plan_path: str, now: str, next_state: str, **update: Any) -> State:
    """The booking update, its log item and its outbox event, built at ``$.tx``."""
    return {
        "Type": "Pass",
        "Parameters": {
            "booking": _booking_update(booking, plan_path, now, **update),
            "log": _log_put(booking, plan_path, now),
            "outbox": _outbox_put(booking, plan_path, now),
        },
        "ResultPath": "$.tx",
        "Next": next_state,
    }


def _is_present(path: str) -> dict[str, Any]:
    return {"Variable": path, "IsPresent": True}


def _absent(path: str) -> dict[str, Any]:
    return {"Not": _is_present(path)}


def _items(extra: list[str]) -> dict[str, Any]:
    return {"items.$": f"States.Array({', '.join(['$.tx.booking', '$.tx.log', '$.tx.outbox', *extra])})"}


# --- scopes: the machine and the Map's item processor ----------------------------------------------------


@dataclass
class _Scope:
    prefix: str = ""
    states: dict[str, State] = field(default_factory=dict)

    def add(self, name: str, state: State) -> str:
        if name in self.states:
            raise ValueError(f"duplicate state {name!r}")
        if len(name) > 80:
            raise ValueError(f"state name too long: {name!r}")
        self.states[name] = state
        return name

    def update(self, states: dict[str, State]) -> None:
        for name, state in states.items():
            self.add(name, state)

    def fail(self, error: str) -> str:
        name = f"{self.prefix}{error}"
        if name not in self.states:
            self.add(name, {"Type": "Fail", "Error": error, "Cause": _CAUSES[error]})
        return name


def _per_entry(
    scope: _Scope, name: str, entries: str, most: int, too_many: str, update: Callable[[str], State], next_state: str
) -> str:
    """One transaction item per entry of the DynamoDB list at ``entries`` (``...L``); returns the first state.

    A Choice on how many entries there are (``IsPresent`` on ``entries[i]``) enters a
    chain that builds one item per entry (``update(entry_path)``), then a Choice picks
    the transaction items of that count. More than ``most`` fails ``too_many``.
    """
    p = f"{scope.prefix}{name}"
    none = f"{scope.prefix}Seats: none"
    if none not in scope.states:
        scope.add(none, {"Type": "Pass", "Parameters": _items([]), "ResultPath": "$.tx.all", "Next": next_state})
    present = [(count, _is_present(f"{entries}[{count - 1}]")) for count in range(most, 0, -1)]
    entry = scope.add(
        f"{p}: how many?",
        {
            "Type": "Choice",
            "Choices": [
                {**_is_present(f"{entries}[{most}]"), "Next": scope.fail(too_many)},
                *({**rule, "Next": f"{p} {count - 1}"} for count, rule in present),
            ],
            "Default": none,
        },
    )
    for i in range(most - 1, -1, -1):
        # The entry is picked out first: ``list.L[i].S`` is a scalar on AWS but a one-item list on
        # moto, while a path from a picked entry is a scalar on both.
        scope.add(
            f"{p} {i}",
            {
                "Type": "Pass",
                "Parameters": {"entry.$": f"States.ArrayGetItem({entries}, {i})"},
                "ResultPath": f"$.picked.e{i}",
                "Next": f"{p} {i}: write",
            },
        )
        scope.add(
            f"{p} {i}: write",
            {
                "Type": "Pass",
                "Comment": "no condition: the booking's compare-and-set makes the release happen once",
                "Parameters": update(f"$.picked.e{i}.entry"),
                "ResultPath": f"$.tx.e{i}",
                "Next": f"{p} {i - 1}" if i else f"{p}: items?",
            },
        )
    scope.add(
        f"{p}: items?",
        {
            "Type": "Choice",
            "Choices": [{**rule, "Next": f"{p} {count}: items"} for count, rule in present],
            "Default": none,
        },
    )
    for count in range(1, most + 1):
        scope.add(
            f"{p} {count}: items",
            {
                "Type": "Pass",
                "Parameters": _items([f"$.tx.e{i}" for i in range(count)]),
                "ResultPath": "$.tx.all",
                "Next": next_state,
            },
        )
    return entry


def _release(scope: _Scope, booking: str, capacity_id: str, next_state: str) -> str:
    """Release every seat_shards entry of ``booking`` to its capacity shard; returns the first state."""

    def add_back(entry: str) -> State:
        shard = f"{entry}.M"
        return {
            "Update": {
                "TableName": TABLE,
                "Key": {
                    "pk": {"S.$": _fmt(keys.shard_pk("{}", "{}"), capacity_id, f"{shard}.shard.S")},
                    "sk": {"S.$": f"{shard}.shard.S"},
                },
                "UpdateExpression": "ADD #available :n, #booked :minus_n",
                "ExpressionAttributeNames": {"#available": "available", "#booked": "booked"},
                "ExpressionAttributeValues": {
                    ":n": {"N.$": f"{shard}.seats.N"},
                    ":minus_n": {"N.$": _fmt("-{}", f"{shard}.seats.N")},
                },
            }
        }

    shards = f"{booking}.seat_shards.L"
    chain = _per_entry(scope, "Release shard", shards, MAX_SHARDS, TOO_MANY_SEAT_SHARDS, add_back, next_state)
    none = f"{scope.prefix}Seats: none"
    return scope.add(
        f"{scope.prefix}Release: how many shards?",
        {"Type": "Choice", "Choices": [{"Not": _is_present(capacity_id), "Next": none}], "Default": chain},
    )


def _release_time(scope: _Scope, booking: str, next_state: str) -> str:
    """Remove the booking's entry from each of its claim days (as ``claim_days.remove``): its time is free."""

    def remove(entry: str) -> State:
        day_sk = _fmt(keys.claim_day_sk("{}"), f"{entry}.S")
        return {
            "Update": {
                "TableName": TABLE,
                "Key": {
                    "pk": {"S.$": _fmt(keys.resource_pk("{}"), f"{booking}.resource.M.id.S")},
                    "sk": {"S.$": day_sk},
                },
                "UpdateExpression": "REMOVE #claims.#owner",
                "ExpressionAttributeNames": {"#claims": "claims", "#owner.$": f"{booking}.booking_id.S"},
            }
        }

    days = f"{booking}.claim_days.L"
    return _per_entry(scope, "Release day", days, MAX_DAYS_TOUCHED, TOO_MANY_CLAIM_DAYS, remove, next_state)


def _shard_key(booking: str, shard: int) -> dict[str, Any]:
    """The key of the booking's capacity shard ``shard`` (its own partition: keys.shard_pk)."""
    sk = keys.shard_sk(shard)
    return {"pk": {"S.$": _fmt(keys.shard_pk("{}", sk), f"{booking}.capacity_id.S")}, "sk": {"S": sk}}


def _close(scope: _Scope, booking: str, next_state: str) -> str:
    """Close every capacity shard of a group owner: a Choice on settings.capacity_shards, then a chain."""
    shards = f"{booking}.settings.M.capacity_shards.N"
    counted = [(count, {"Variable": shards, "StringEquals": str(count)}) for count in range(MAX_SHARDS, 1, -1)]
    entry = scope.add(
        "Close: how many shards?",
        {
            "Type": "Choice",
            "Comment": "capacity_shards absent, 0 or 1: one shard (int(settings.get('capacity_shards') or 1))",
            "Choices": [
                {"Not": _is_present(f"{booking}.capacity_id.S"), "Next": "Seats: none"},
                *({**rule, "Next": f"Close shard {count - 1}"} for count, rule in counted),
                {
                    "And": [
                        _is_present(shards),
                        {"Not": {"Variable": shards, "StringEquals": "1"}},
                        {"Not": {"Variable": shards, "StringEquals": "0"}},
                    ],
                    "Next": scope.fail(UNSUPPORTED_CAPACITY_SHARDS),
                },
            ],
            "Default": "Close shard 0",
        },
    )
    for i in range(MAX_SHARDS - 1, -1, -1):
        scope.add(
            f"Close shard {i}",
            {
                "Type": "Pass",
                "Parameters": {
                    "Update": {
                        "TableName": TABLE,
                        "Key": _shard_key(booking, i),
                        "UpdateExpression": "SET #open = :closed",
                        "ExpressionAttributeNames": {"#open": "open"},
                        "ExpressionAttributeValues": {":closed": {"BOOL": False}},
                    }
                },
                "ResultPath": f"$.tx.s{i}",
                "Next": f"Close shard {i - 1}" if i else "Close: items?",
            },
        )
    scope.add(
        "Close: items?",
        {
            "Type": "Choice",
            "Choices": [{**rule, "Next": f"Close {count}: items"} for count, rule in counted],
            "Default": "Close 1: items",
        },
    )
    for count in range(1, MAX_SHARDS + 1):
        scope.add(
            f"Close {count}: items",
            {
                "Type": "Pass",
                "Parameters": _items([f"$.tx.s{i}" for i in range(count)]),
                "ResultPath": "$.tx.all",
                "Next": next_state,
            },
        )
    return entry


def _transact(next_state: str, catch_next: str) -> State:
    return {
        "Type": "Task",
        "Resource": "arn:aws:states:::aws-sdk:dynamodb:transactWriteItems",
        "Parameters": {"TransactItems.$": "$.tx.all.items"},
        "ResultPath": None,
        "Catch": [{"ErrorEquals": TRANSACTION_CANCELED, "ResultPath": "$.error", "Next": catch_next}],
        "Next": next_state,
    }


def _projection(paths: tuple[str, ...]) -> dict[str, Any]:
    """ProjectionExpression (and its names) reading only ``paths``: executions carry little data."""
    names = {f"#{part}": part for path in paths for part in path.split(".")}
    expression = ", ".join(".".join(f"#{part}" for part in path.split(".")) for path in paths)
    return {"ProjectionExpression": expression, "ExpressionAttributeNames": names}


def _get_booking(key_pk: str, result: str, next_state: str) -> State:
    return {
        "Type": "Task",
        "Resource": "arn:aws:states:::dynamodb:getItem",
        "Parameters": {
            "TableName": TABLE,
            "Key": _key(key_pk, keys.BOOKING_SK),
            "ConsistentRead": True,
            **_projection(BOOKING_READ),
        },
        "ResultPath": result,
        "Next": next_state,
    }


def _done(state: str | None) -> State:
    return {
        "Type": "Pass",
        "Parameters": {
            "booking_id.$": "$.booking_id",
            "graph.$": "$.booking.Item.graph.S",
            "action.$": "$.action",
            "from_state.$": "$.plan.from",
            **({"state": state} if state else {"state.$": "$.plan.to"}),
        },
        "End": True,
    }


# --- the machine ------------------------------------------------------------------------------------------


def definition(graph: Graph, *, cascade_budget: int = CASCADE_BUDGET) -> dict[str, Any]:
    """The ASL of ``graph``'s mirror (with the ``${TableName}`` placeholder)."""
    top = _Scope()
    steps = transitions(graph)
    booking = "$.booking.Item"
    cascades = any(step.action.seats is Seats.CLOSE for step in steps)

    top.add(
        "Check input",
        {
            "Type": "Choice",
            "Choices": [
                {
                    "And": [
                        _is_present("$.booking_id"),
                        {"Variable": "$.booking_id", "IsString": True},
                        _is_present("$.action"),
                        {"Variable": "$.action", "IsString": True},
                    ],
                    "Next": "Read booking",
                }
            ],
            "Default": top.fail(INVALID_INPUT),
        },
    )
    top.add("Read booking", _get_booking(_fmt(keys.booking_pk("{}"), "$.booking_id"), "$.booking", "Booking found?"))
    top.add(
        "Booking found?",
        {
            "Type": "Choice",
            "Choices": [{**_is_present(f"{booking}.state.S"), "Next": "Company given?"}],
            "Default": top.fail(BOOKING_NOT_FOUND),
        },
    )
    # Optional checks, in the engine's order: company (404), If-Match (412), graph.
    for label, field_name, attribute, error, next_check in (
        ("Company", "company_id", "company_id", BOOKING_NOT_FOUND, "If-Match given?"),
        ("If-Match", "if_match", "version", PRECONDITION_FAILED, "Graph matches?"),
    ):
        top.add(
            f"{label} given?",
            {
                "Type": "Choice",
                "Choices": [{**_is_present(f"$.{field_name}"), "Next": f"{label} as text"}],
                "Default": next_check,
            },
        )
        top.add(
            f"{label} as text",
            {
                "Type": "Pass",
                "Parameters": {"text.$": _fmt("{}", f"$.{field_name}")},
                "ResultPath": f"$.checked.{field_name}",
                "Next": f"{label} matches?",
            },
        )
        top.add(
            f"{label} matches?",
            {
                "Type": "Choice",
                "Choices": [
                    {
                        "Variable": f"{booking}.{attribute}.N",
                        "StringEqualsPath": f"$.checked.{field_name}.text",
                        "Next": next_check,
                    }
                ],
                "Default": top.fail(error),
            },
        )
    top.add(
        "Graph matches?",
        {
            "Type": "Choice",
            "Choices": [{"Variable": f"{booking}.graph.S", "StringEquals": graph.name, "Next": "Which state?"}],
            "Default": top.fail(GRAPH_MISMATCH),
        },
    )
    not_allowed = top.fail(ACTION_NOT_ALLOWED)
    top.add(
        "Which state?",
        {
            "Type": "Choice",
            "Comment": "states without actions (terminal, cancelling, unknown) allow nothing",
            "Choices": [
                {"Variable": f"{booking}.state.S", "StringEquals": state, "Next": f"{state}: which action?"}
                for state in graph.states
            ],
            "Default": not_allowed,
        },
    )
    by_timer = [_is_present("$.by_timer"), {"Variable": "$.by_timer", "IsBoolean": True}]
    by_timer.append({"Variable": "$.by_timer", "BooleanEquals": True})
    for state, actions in graph.states.items():
        choices = []
        for action in actions:
            first = f"{state}/{action.name}: " + ("payment given?" if action.needs == "pay" else "plan")
            rule: dict[str, Any] = {"Variable": "$.action", "StringEquals": action.name}
            if not action.manual:
                rule = {"And": [rule, *by_timer]}
            choices.append({**rule, "Next": first})
        top.add(
            f"{state}: which action?",
            {
                "Type": "Choice",
                "Comment": "manual actions; timer actions only with by_timer: true",
                "Choices": choices,
                "Default": not_allowed,
            },
        )

    for step in steps:
        if step.action.needs == "pay":
            payment = "$.input.pay.payment_id"
            top.add(
                f"{step.key}: payment given?",
                {
                    "Type": "Choice",
                    "Choices": [
                        {
                            "And": [
                                _is_present(payment),
                                {"Variable": payment, "IsString": True},
                                {"Not": {"Variable": payment, "StringEquals": ""}},
                            ],
                            "Next": f"{step.key}: plan",
                        }
                    ],
                    "Default": top.fail(VALIDATION_FAILED),
                },
            )
        plan_fields = {
            **_plan_constants(graph, step.plan),
            "timer": step.timer,
            "pay": step.action.needs == "pay",
            "seats": step.action.seats.value,
            "time": "release" if time_claims.releases(step.plan.from_state, step.plan.to_state) else "keep",
            "then": "cascade" if step.action.seats is Seats.CLOSE else "done",
            "attempts": 0,
            **_plan_reads(booking),
        }
        top.add(
            f"{step.key}: plan",
            {
                "Type": "Pass",
                "Comment": f"{step.action.name}: {step.state} -> {step.action.transitional} -> {step.plan.to_state}",
                "Parameters": plan_fields,
                "ResultPath": "$.plan",
                "Next": "Clock: split",
            },
        )

    # Shared by every (state, action): the clock, the timer, the writes, the seats.
    pays = any(step.action.needs == "pay" for step in steps)
    timed = any(step.timer == "auto_complete" for step in steps)
    seat_effects = {step.action.seats for step in steps}
    frees_time = graph.capacity not in ("seat", "owner") and any(
        time_claims.releases(step.plan.from_state, step.plan.to_state) for step in steps
    )

    def writes(timer: Literal["remove", "set"]) -> str:
        """The entry to the write states of one timer variant (a Choice on payment when a graph has one)."""
        suffix = " (timer)" if timer == "set" else ""
        after = "Seats?" if seat_effects - {Seats.NONE} else "Time?" if frees_time else "Seats: none"
        top.add(f"Write{suffix}", _write(booking, "$.plan", "$.now", after, timer=timer))
        if not pays:
            return f"Write{suffix}"
        top.add(f"Write with payment{suffix}", _write(booking, "$.plan", "$.now", after, timer=timer, pay=True))
        return top.add(
            f"Write{suffix}?",
            {
                "Type": "Choice",
                "Choices": [{"Variable": "$.plan.pay", "BooleanEquals": True, "Next": f"Write with payment{suffix}"}],
                "Default": f"Write{suffix}",
            },
        )

    untimed = writes("remove")
    if timed:
        top.update(clock_states("Clock: ", "$$.State.EnteredTime", "$.now", "Timer?"))
        settings = f"{booking}.settings.M.{AUTO_COMPLETE_SETTING}.M.enabled.BOOL"
        top.add(
            "Timer?",
            {
                "Type": "Choice",
                "Comment": (
                    "next_timer: complete at end_at + 1 hour unless there is no end or auto-complete is "
                    "disabled; without an xpk the mirror cannot place the timer (crc32 of pk) and removes it"
                ),
                "Choices": [
                    {"Not": {"Variable": "$.plan.timer", "StringEquals": "auto_complete"}, "Next": untimed},
                    {**_absent(f"{booking}.end_at.S"), "Next": untimed},
                    {"Variable": f"{booking}.end_at.S", "StringEquals": "", "Next": untimed},
                    {
                        "And": [
                            _is_present(settings),
                            {"Variable": settings, "IsBoolean": True},
                            {"Variable": settings, "BooleanEquals": False},
                        ],
                        "Next": untimed,
                    },
                    {**_absent(f"{booking}.xpk.S"), "Next": untimed},
                ],
                "Default": "Due: split",
            },
        )
        top.update(due_states("Due: ", f"{booking}.end_at.S", "$.due", writes("set")))
    else:
        top.update(clock_states("Clock: ", "$$.State.EnteredTime", "$.now", untimed))

    after_commit = "Committed" if cascades else "Done"
    top.add("Seats: none", {"Type": "Pass", "Parameters": _items([]), "ResultPath": "$.tx.all", "Next": "Commit"})
    if seat_effects - {Seats.NONE}:
        top.add(
            "Seats?",
            {
                "Type": "Choice",
                "Choices": [
                    {"Variable": "$.plan.seats", "StringEquals": effect.value, "Next": entry}
                    for effect, entry in (
                        (Seats.RELEASE, "Release: how many shards?"),
                        (Seats.CLOSE, "Close: how many shards?"),
                        (Seats.END, "Close: how many shards?"),
                    )
                    if effect in seat_effects
                ],
                "Default": "Seats: none",
            },
        )
    if frees_time:
        claimed = [_is_present(f"{booking}.claim_days.L[0]"), _is_present(f"{booking}.resource.M.id.S")]
        top.add(
            "Time?",
            {
                "Type": "Choice",
                "Comment": "a booking leaving confirmed, tentative or paid for anything but completed frees its time",
                "Choices": [
                    {
                        "And": [{"Variable": "$.plan.time", "StringEquals": "release"}, *claimed],
                        "Next": _release_time(top, booking, "Commit"),
                    }
                ],
                "Default": "Seats: none",
            },
        )
    if Seats.RELEASE in seat_effects:
        _release(top, booking, f"{booking}.capacity_id.S", "Commit")
    if seat_effects & {Seats.CLOSE, Seats.END}:
        _close(top, booking, "Commit")
    top.add("Commit", _transact(after_commit, "Commit refused"))
    top.add(
        "Commit refused",
        {
            "Type": "Choice",
            "Choices": [
                {
                    "Variable": "$.error.Cause",
                    "StringMatches": "*ConditionalCheckFailed*",
                    "Next": top.fail(STATE_CONFLICT),
                },
                {
                    "And": [
                        {"Variable": "$.error.Cause", "StringMatches": "*TransactionConflict*"},
                        {"Variable": "$.plan.attempts", "NumericLessThan": COMMIT_ATTEMPTS - 1},
                    ],
                    "Next": "Commit: wait",
                },
            ],
            "Default": "Commit failed",
        },
    )
    top.add(
        "Commit: wait",
        {
            "Type": "Wait",
            "Comment": "another transaction held an item: try the same writes again, as store.transact does",
            "Seconds": 1,
            "Next": "Commit: again",
        },
    )
    top.add(
        "Commit: again",
        {
            "Type": "Pass",
            "Parameters": {
                **{
                    f"{name}.$": f"$.plan.{name}"
                    for name in (field.removesuffix(".$") for field in plan_fields)
                    if name != "attempts"
                },
                "attempts.$": "States.MathAdd($.plan.attempts, 1)",
            },
            "ResultPath": "$.plan",
            "Next": "Commit",
        },
    )
    top.add("Commit failed", {"Type": "Fail", "ErrorPath": "$.error.Error", "CausePath": "$.error.Cause"})
    if cascades:
        _cascade(top, graph, cascade_budget)
    top.add("Done", _done(None))
    return {
        "Comment": (
            f"Mirror of the {graph.name} graph (generated by `make asl` from chalicelib/domain/graphs.py; do not "
            'edit). Input: {"booking_id", "action", "input": {...}, "by_timer"?, "company_id"?, "if_match"?}.'
        ),
        "StartAt": "Check input",
        "States": top.states,
    }


def _booked_shards(top: _Scope, booking: str, entry: str, booked: str, none_booked: str) -> None:
    """Does any capacity shard of the owner count a booked seat? A consistent GetItem per shard
    (each is its own partition), from the last shard down; ``booked`` at the first that does."""
    shards = f"{booking}.settings.M.capacity_shards.N"
    counted = [(count, {"Variable": shards, "StringEquals": str(count)}) for count in range(MAX_SHARDS, 1, -1)]
    top.add(
        entry,
        {
            "Type": "Choice",
            "Comment": "no seat booking left; like the engine, finish only when no shard counts a booked seat",
            "Choices": [{**rule, "Next": f"Booked: shard {count - 1}"} for count, rule in counted],
            "Default": "Booked: shard 0",
        },
    )
    for i in range(MAX_SHARDS - 1, -1, -1):
        top.add(
            f"Booked: shard {i}",
            {
                "Type": "Task",
                "Resource": "arn:aws:states:::dynamodb:getItem",
                "Parameters": {
                    "TableName": TABLE,
                    "Key": _shard_key(booking, i),
                    "ProjectionExpression": "#booked",
                    "ExpressionAttributeNames": {"#booked": "booked"},
                    "ConsistentRead": True,
                },
                "ResultPath": "$.shard",
                "Next": f"Booked: shard {i}?",
            },
        )
        top.add(
            f"Booked: shard {i}?",
            {
                "Type": "Choice",
                "Choices": [
                    {
                        "And": [
                            _is_present("$.shard.Item.booked.N"),
                            {"Not": {"Variable": "$.shard.Item.booked.N", "StringEquals": "0"}},
                        ],
                        "Next": booked,
                    }
                ],
                "Default": f"Booked: shard {i - 1}" if i else none_booked,
            },
        )


def _cascade(top: _Scope, owner_graph: Graph, budget: int) -> None:
    """A group owner's cancel, after the owner rests in ``cancelling``: cancel every seat booking."""
    booking = "$.booking.Item"
    top.add(
        "Committed",
        {
            "Type": "Choice",
            "Choices": [{"Variable": "$.plan.then", "StringEquals": "cascade", "Next": "Cascade: start"}],
            "Default": "Done",
        },
    )
    # Seat bookings are listed under one gsi2 partition per capacity shard (keys.owner_seats):
    # the cascade reads them partition by partition, 0 to the owner's capacity_shards - 1.
    first_partition = _fmt(keys.owner_seats("{}"), f"{booking}.booking_id.S")
    later_partition = keys.owner_seats("{}", 1).removesuffix("1") + "{}"  # OWNER#{owner}#{partition}
    kept = {"partition.$": "$.cascade.partition", "shards.$": "$.cascade.shards", "owner.$": "$.cascade.owner"}
    top.add(
        "Cascade: start",
        {
            "Type": "Pass",
            "Parameters": {
                "pages": 0,
                "dirty": False,
                "partition": 0,
                "shards.$": f"States.StringToJson({booking}.settings.M.capacity_shards.N)",
                "owner.$": first_partition,
            },
            "ResultPath": "$.cascade",
            "Next": "Cascade: first page",
        },
    )
    holding = sorted(SEAT_HOLDING_STATES)
    query: dict[str, Any] = {
        "TableName": TABLE,
        "IndexName": schema.GSI2,
        "KeyConditionExpression": "#owner = :owner",
        "FilterExpression": f"#kind = :booking AND #state IN ({', '.join(f':s{i}' for i in range(len(holding)))})",
        "ProjectionExpression": _projection(SEAT_READ)["ProjectionExpression"],
        "ExpressionAttributeNames": {
            "#owner": schema.GSI2_PK,
            "#kind": "kind",
            **_projection(SEAT_READ)["ExpressionAttributeNames"],
        },
        "ExpressionAttributeValues": {
            ":owner": {"S.$": "$.cascade.owner"},
            ":booking": {"S": "booking"},
            **{f":s{i}": {"S": state} for i, state in enumerate(holding)},
        },
        "Limit": CASCADE_PAGE,
    }
    for name, extra in (
        ("Cascade: first page", {}),
        ("Cascade: next page", {"ExclusiveStartKey.$": "$.page.LastEvaluatedKey"}),
    ):
        top.add(
            name,
            {
                "Type": "Task",
                "Comment": f"seat bookings in {', '.join(holding)} (SEAT_HOLDING_STATES)",
                "Resource": "arn:aws:states:::aws-sdk:dynamodb:query",
                "Parameters": {**query, **extra},
                "ResultPath": "$.page",
                "Next": "Cascade: any seats?",
            },
        )
    top.add(
        "Cascade: any seats?",
        {
            "Type": "Choice",
            "Choices": [{"Variable": "$.page.Count", "NumericGreaterThan": 0, "Next": "Cascade: cancel seats"}],
            "Default": "Cascade: more pages?",
        },
    )
    top.add(
        "Cascade: cancel seats",
        {
            "Type": "Map",
            "Comment": "one transaction per seat booking, one at a time: they all release to the same shards",
            "ItemsPath": "$.page.Items",
            "ItemSelector": {"seat.$": "$$.Map.Item.Value", "owner.$": booking, "now.$": "$.now"},
            "MaxConcurrency": 1,
            "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, **_seat_processor()},
            "ResultPath": None,
            "Next": "Cascade: seen seats",
        },
    )
    top.add(
        "Cascade: seen seats",
        {
            "Type": "Pass",
            "Parameters": {"pages.$": "$.cascade.pages", "dirty": True, **kept},
            "ResultPath": "$.cascade",
            "Next": "Cascade: more pages?",
        },
    )
    top.add(
        "Cascade: more pages?",
        {
            "Type": "Choice",
            "Choices": [
                {**_is_present("$.page.LastEvaluatedKey"), "Next": "Cascade: count page"},
            ],
            "Default": "Cascade: next partition",
        },
    )
    top.add(
        "Cascade: next partition",
        {
            "Type": "Pass",
            "Parameters": {
                "pages.$": "$.cascade.pages",
                "dirty.$": "$.cascade.dirty",
                "partition.$": "States.MathAdd($.cascade.partition, 1)",
                "shards.$": "$.cascade.shards",
                "owner.$": "$.cascade.owner",
            },
            "ResultPath": "$.cascade",
            "Next": "Cascade: partitions left?",
        },
    )
    top.add(
        "Cascade: partitions left?",
        {
            "Type": "Choice",
            "Choices": [
                {
                    "Variable": "$.cascade.partition",
                    "NumericLessThanPath": "$.cascade.shards",
                    "Next": "Cascade: partition key",
                },
                {"Variable": "$.cascade.dirty", "BooleanEquals": True, "Next": "Cascade: again"},
            ],
            "Comment": "a pass over every page of every partition that met no seat booking ends the cascade",
            "Default": "Cascade: seats booked?",
        },
    )
    top.add(
        "Cascade: partition key",
        {
            "Type": "Pass",
            "Parameters": {"key.$": _fmt(later_partition, f"{booking}.booking_id.S", "$.cascade.partition")},
            "ResultPath": "$.cascade_key",
            "Next": "Cascade: partition owner",
        },
    )
    top.add(
        "Cascade: partition owner",
        {
            "Type": "Pass",
            "InputPath": "$.cascade_key.key",
            "ResultPath": "$.cascade.owner",
            "Next": "Cascade: first page",
        },
    )
    # "again" starts a new pass from partition 0; "count page" goes on in this partition
    rewound = {"partition": 0, "shards.$": "$.cascade.shards", "owner.$": first_partition}
    for name, dirty, where, follow in (
        ("Cascade: count page", "$.cascade.dirty", kept, "Cascade: next page"),
        ("Cascade: again", False, rewound, "Cascade: first page"),
    ):
        top.add(
            name,
            {
                "Type": "Pass",
                "Parameters": {
                    "pages.$": "States.MathAdd($.cascade.pages, 1)",
                    **({"dirty.$": dirty} if isinstance(dirty, str) else {"dirty": dirty}),
                    **where,
                },
                "ResultPath": "$.cascade",
                "Next": f"{name}: budget left?",
            },
        )
        top.add(
            f"{name}: budget left?",
            {
                "Type": "Choice",
                "Choices": [
                    {
                        "Variable": "$.cascade.pages",
                        "NumericGreaterThanEquals": budget,
                        "Next": "Cascade: resume later?",
                    }
                ],
                "Default": follow,
            },
        )
    _booked_shards(top, booking, "Cascade: seats booked?", "Cascade: wait", "Cascade: finish read")
    top.add(
        "Cascade: wait",
        {
            "Type": "Wait",
            "Comment": "a seat booking too new for the index yet: look again",
            "Seconds": 1,
            "Next": "Cascade: again",
        },
    )
    top.add("Cascade: finish read", _get_booking(f"{booking}.pk.S", "$.owner", "Cascade: finish plan"))
    top.add(
        "Cascade: finish plan",
        {
            "Type": "Pass",
            "Comment": "as bookings._finish_owner_cancel writes it",
            "Parameters": {
                **_constants(owner_graph, "cancelling", "cancelled", FINISH_EVENT_TYPE, FINISH_OWNER_CANCEL),
                **_plan_reads("$.owner.Item"),
            },
            "ResultPath": "$.finish",
            "Next": "Cascade: finish write",
        },
    )
    top.add(
        "Cascade: finish write", _write("$.owner.Item", "$.finish", "$.now", "Cascade: finish items", timer="remove")
    )
    top.add(
        "Cascade: finish items",
        {"Type": "Pass", "Parameters": _items([]), "ResultPath": "$.tx.all", "Next": "Cascade: finish"},
    )
    finish_commit = _transact("Cascade: done", "Cascade: done")
    finish_commit["Comment"] = "refused: another run (the sweeper) finished it first"
    top.add("Cascade: finish", finish_commit)
    top.add("Cascade: done", _done("cancelled"))
    top.add(
        "Cascade: resume later?",
        {
            "Type": "Choice",
            "Comment": "like _schedule_resume: the owner is due now with the cancel timer (the sweeper goes on)",
            "Choices": [{**_is_present(f"{booking}.xpk.S"), "Next": "Cascade: resume read"}],
            "Default": top.fail(CASCADE_INCOMPLETE),
        },
    )
    top.add("Cascade: resume read", _get_booking(f"{booking}.pk.S", "$.owner", "Cascade: resume"))
    top.add(
        "Cascade: resume",
        {
            "Type": "Task",
            "Resource": "arn:aws:states:::dynamodb:updateItem",
            "Parameters": {
                "TableName": TABLE,
                "Key": _key("$.owner.Item.pk.S", keys.BOOKING_SK),
                "UpdateExpression": "SET #timer_action = :cancel, #xpk = :xpk, #xsk = :xsk ADD #version :one",
                "ConditionExpression": "#state = :cancelling AND #version = :version",
                "ExpressionAttributeNames": {
                    "#timer_action": "timer_action",
                    "#xpk": schema.EXPIRY_PK,
                    "#xsk": schema.EXPIRY_SK,
                    "#state": "state",
                    "#version": "version",
                },
                "ExpressionAttributeValues": {
                    ":cancel": {"S": "cancel"},
                    ":xpk": {"S.$": f"{booking}.xpk.S"},
                    ":xsk": {"S.$": _fmt("{}#{}", "$.now.iso", "$.owner.Item.pk.S")},
                    ":cancelling": {"S": "cancelling"},
                    ":version.$": "$.owner.Item.version",
                    ":one": {"N": "1"},
                },
            },
            "ResultPath": None,
            "Next": "Cascade: left to the sweeper",
        },
    )
    top.add("Cascade: left to the sweeper", _done("cancelling"))


def _seat_processor() -> dict[str, Any]:
    """The Map's item processor: cancel_by_owner on one seat booking ``{"seat", "owner", "now"}``."""
    scope = _Scope(prefix="Seat: ")
    seat = "$.seat"
    cancellations = seat_cancellations()
    scope.add(
        "Seat: which?",
        {
            "Type": "Choice",
            "Choices": [
                {
                    "And": [
                        {"Variable": f"{seat}.graph.S", "StringEquals": graph.name},
                        {"Variable": f"{seat}.state.S", "StringEquals": state},
                    ],
                    "Next": f"Seat {graph.name}/{state}: plan",
                }
                for graph, state, _ in cancellations
            ],
            "Default": scope.fail(ACTION_NOT_ALLOWED),
        },
    )
    for graph, state, step in cancellations:
        scope.add(
            f"Seat {graph.name}/{state}: plan",
            {
                "Type": "Pass",
                "Parameters": {**_plan_constants(graph, step), **_plan_reads(seat)},
                "ResultPath": "$.plan",
                "Next": "Seat: write",
            },
        )
    scope.add("Seat: write", _write(seat, "$.plan", "$.now", "Seat: Release: how many shards?", timer="remove"))
    _release(scope, seat, "$.owner.capacity_id.S", "Seat: commit")
    commit = _transact("Seat: cancelled", "Seat: changed meanwhile")
    scope.add("Seat: commit", commit)
    scope.add("Seat: cancelled", {"Type": "Succeed"})
    scope.add(
        "Seat: changed meanwhile",
        {"Type": "Succeed", "Comment": "the next pass reads it again (the engine retries the same way)"},
    )
    return {"StartAt": "Seat: which?", "States": scope.states}


# --- files -------------------------------------------------------------------------------------------------


def _dump(value: Any, indent: str = "") -> str:
    """JSON with two-space indent, but a list of plain values (a look-up table) on one line."""
    inner = indent + "  "
    if isinstance(value, dict) and value:
        members = [f"{inner}{json.dumps(key)}: {_dump(item, inner)}" for key, item in value.items()]
        return "{\n" + ",\n".join(members) + "\n" + indent + "}"
    if isinstance(value, list) and value and any(isinstance(item, dict | list) for item in value):
        return "[\n" + ",\n".join(inner + _dump(item, inner) for item in value) + "\n" + indent + "]"
    return json.dumps(value)


def render(graph: Graph, *, cascade_budget: int = CASCADE_BUDGET) -> str:
    """The file as committed: two-space indent, tables on one line, keys in generation order, final newline."""
    return _dump(definition(graph, cascade_budget=cascade_budget)) + "\n"


def path_for(root: Path, graph_name: str) -> Path:
    return root / STATEMACHINES_DIR / f"{graph_name}.asl.json"


def write_all(root: Path) -> list[Path]:
    written = []
    for graph in GRAPHS.values():
        path = path_for(root, graph.name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render(graph), encoding="utf-8")
        written.append(path)
    return written


def stale(root: Path) -> list[Path]:
    """Files that are missing or differ from what the graphs generate."""
    return [
        path_for(root, graph.name)
        for graph in GRAPHS.values()
        if not path_for(root, graph.name).exists()
        or path_for(root, graph.name).read_text(encoding="utf-8") != render(graph)
    ]
