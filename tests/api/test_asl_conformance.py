"""The Step Functions mirrors do what the engine does, on moto.

Every (graph, state, action) - allowed or not, timer actions with and without
``by_timer`` - starts from the same items in two tables: the engine acts on one
(``bookings.act``, or ``_apply(..., by_timer=True)``), the graph's state machine on
the other (moto runs it: ``execute_state_machine``). Both runs must have the same
outcome (the new state, or the same refusal) and both tables must then hold the
same items.

Cases are grouped by (graph, state): refused actions write nothing, so they share
one starting booking; every allowed action gets its own. Starting items are made
by the engine (create, engine actions, a reschedule, or an owner's cancel with no
cascade budget for ``cancelling``) and copied item by item into the mirror's
table. Only ``group_owner``/``rescheduled`` cannot be reached (a group moves in
place): that state is written directly.

Compared: every item, except what differs by nature: the time "now" (booking
``updated_at``, log ``created_at``, ``paid_at``, outbox ``occurred_at`` and
``ttl``: checked for format and range instead), outbox ids, and the outbox payload
beyond the fields a mirror writes. Timers are compared exactly, except where
``generate.UNMIRRORED`` says the mirror cannot place one: the booking has no
``xpk`` to reuse, so the engine sets the auto-complete timer and the mirror
removes it (asserted).

Speed (test-only, behaviour unchanged): moto parses a definition on every
execution, builds a JSONPath parser per expression and a boto3 client per task;
all three are cached here.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import json
import re
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from chalicelib.domain.errors import BookingError, Conflict, NotFound, PreconditionFailed, ValidationFailed
from chalicelib.domain.graphs import GRAPHS, Graph, Seats
from chalicelib.services.catalogue import resources
from chalicelib.services.messaging.outbox import RETENTION_SECONDS
from chalicelib.services.selling import bookings
from chalicelib.services.selling.time_claims import TimeAsk
from chalicelib.settings import reset_settings
from chalicelib.store import db, keys, schema
from chalicelib.store.models import Booking
from devtools.asl import generate
from devtools.asl.calendar import clock_states, due_states

ENGINE = "asl-conformance-engine"
MIRROR = "asl-conformance-mirror"
REGION = "us-east-1"
ROLE = "arn:aws:iam::123456789012:role/booking-mirror"
COMPANY = 7
PAYMENT = {"pay": {"payment_id": "pay-1"}}
# Month end, 23:30: the auto-complete timer (end + 1 hour) carries into the next month.
EVENT = {"start": "2031-03-31T22:00:00Z", "end": "2031-03-31T23:30:00Z"}
MOVED = ("2031-04-02T10:00:00Z", "2031-04-02T11:00:00Z")
NO_AUTO_COMPLETE = {"auto_complete_one_hour_after_booking_ends": {"enabled": False}}
MIRROR_PAYLOAD = ("id", "graph", "state", "completed", "created_at")
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


# --- the environment: moto with Step Functions executing, two tables, one machine per graph -----------


@dataclass
class Env:
    ddb: Any
    sfn: Any
    machines: dict[str, str]
    runs: int = 0

    def fresh_tables(self) -> None:
        for name in (ENGINE, MIRROR):
            with contextlib.suppress(self.ddb.exceptions.ResourceNotFoundException):
                self.ddb.delete_table(TableName=name)
            schema.create_table_if_absent(self.ddb, name)

    def scan(self, table: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"TableName": table, "ConsistentRead": True}
        while True:
            page = self.ddb.scan(**kwargs)
            items += page["Items"]
            if "LastEvaluatedKey" not in page:
                return items
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def items(self, table: str) -> list[dict[str, Any]]:
        """Every item, read from moto's table itself: a scan would serialize each one (slow), same data."""
        from moto.core.models import DEFAULT_ACCOUNT_ID
        from moto.dynamodb.models import dynamodb_backends

        found = dynamodb_backends[DEFAULT_ACCOUNT_ID][REGION].get_table(table).all_items()
        return [json.loads(json.dumps(item.to_json()["Attributes"])) for item in found]

    def copy_engine_to_mirror(self) -> list[dict[str, Any]]:
        """Copy every item; returns them (the starting items)."""
        items = self.scan(ENGINE)
        for start in range(0, len(items), 25):
            batch = [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]
            self.ddb.batch_write_item(RequestItems={MIRROR: batch})
        return items

    def execute(self, arn: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Start an execution and wait for it: join moto's worker thread, then poll describe_execution."""
        from moto.stepfunctions.parser.utils import TMP_THREADS

        self.runs += 1
        first = len(TMP_THREADS)
        started = self.sfn.start_execution(stateMachineArn=arn, name=f"run-{self.runs}", input=json.dumps(payload))
        for thread in TMP_THREADS[first:]:
            thread.join(timeout=60)
        deadline = time.monotonic() + 60
        while True:
            described: dict[str, Any] = self.sfn.describe_execution(executionArn=started["executionArn"])
            if described["status"] != "RUNNING":
                return described
            assert time.monotonic() < deadline, "the execution did not finish"
            time.sleep(0.005)


def _speed_up_moto(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_aws_sdk,
        state_task_service_dynamodb,
    )
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
    from moto.stepfunctions.parser.asl.utils import boto_client, json_path

    monkeypatch.setattr(json_path, "parse", functools.lru_cache(maxsize=8192)(vars(json_path)["parse"]))  # not exported
    parse = functools.lru_cache(maxsize=64)(AmazonStateLanguageParser.parse)
    monkeypatch.setattr(AmazonStateLanguageParser, "parse", staticmethod(parse))
    clients = functools.lru_cache(maxsize=None)(
        lambda region, service: boto_client.boto_client_for(region=region, service=service)
    )

    def client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        return clients(region, service)

    for module in (state_task_service_aws_sdk, state_task_service_dynamodb):
        monkeypatch.setattr(module, "boto_client_for", client_for)
    # Every exception (a Fail state, an IsPresent that finds nothing) is logged with the repr() of each
    # component it passes through, up to the whole program: logging only.
    monkeypatch.setattr(EvalComponent, "_log_exception", lambda self, exception: None)
    monkeypatch.setattr(EvalComponent, "_log_failure_event_exception", lambda self, failure_event_exception: None)


@pytest.fixture(scope="module")
def env() -> Iterator[Env]:
    from moto import mock_aws

    with (
        pytest.MonkeyPatch.context() as monkeypatch,
        mock_aws(config={"stepfunctions": {"execute_state_machine": True}}),
    ):
        _speed_up_moto(monkeypatch)
        monkeypatch.setenv("TABLE_NAME", ENGINE)
        monkeypatch.delenv("DYNAMODB_ENDPOINT", raising=False)
        reset_settings()
        db._bound_to = None
        sfn = boto3.client("stepfunctions", region_name=REGION)
        machines = {}
        for graph in GRAPHS.values():
            # moto ignores DefinitionSubstitutions: substitute the placeholder here.
            definition = generate.render(graph).replace(generate.TABLE, MIRROR)
            created = sfn.create_state_machine(name=f"mirror-{graph.name}", definition=definition, roleArn=ROLE)
            machines[graph.name] = created["stateMachineArn"]
        gc.collect()
        gc.freeze()  # moto keeps much alive: keep the collector from walking it again and again
        yield Env(boto3.client("dynamodb", region_name=REGION), sfn, machines)
        gc.unfreeze()
    reset_settings()
    db._bound_to = None


@pytest.fixture
def tables(env: Env) -> Env:
    env.fresh_tables()
    reset_settings()
    db._bound_to = None
    return env


# --- the cases -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    graph: str
    state: str
    action: str
    by_timer: bool = False

    @property
    def id(self) -> str:
        return f"{self.graph}:{self.state}:{self.action}" + ("+timer" if self.by_timer else "")

    @property
    def allowed(self) -> bool:
        action = GRAPHS[self.graph].action(self.state, self.action)
        return action is not None and (action.manual or self.by_timer)


@dataclass(frozen=True)
class Group:
    """Cases that start from one (graph, state); ``variant`` changes how the bookings are made."""

    graph: str
    state: str
    cases: tuple[Case, ...]
    variant: str = ""  # "split seats", "auto-complete off", "no payment", "log taken", "no seats", "time claimed"

    @property
    def id(self) -> str:
        return f"{self.graph}:{self.state}" + (f"[{self.variant}]" if self.variant else "")


def _action_names(graph: Graph) -> list[str]:
    names = {graph.create.name, "no_such_action"}
    for actions in graph.states.values():
        names.update(action.name for action in actions)
    return sorted(names)


def _groups() -> list[Group]:
    found = []
    for graph in GRAPHS.values():
        # What the sweeper runs (by_timer): the graph's timers, and complete (auto-complete).
        timer_actions = {timer.action for timer in graph.timers.values()}
        timer_actions |= {a.name for actions in graph.states.values() for a in actions if a.name == "complete"}
        for state in graph.all_states:
            if state == "initialized":
                continue
            cases = []
            for action in _action_names(graph):
                cases.append(Case(graph.name, state, action))
                if action in timer_actions:
                    cases.append(Case(graph.name, state, action, by_timer=True))
            found.append(Group(graph.name, state, tuple(cases)))
    for graph in GRAPHS.values():
        if graph.capacity != "none":
            continue
        # The same cases on bookings that claim a resource's time (two claim days: the padding
        # after carries into the next UTC day): a release frees both days, a completion none.
        for state in graph.all_states:
            if state != "initialized":
                cases = [Case(graph.name, state, action) for action in _action_names(graph)]
                found.append(Group(graph.name, state, tuple(cases), "time claimed"))
    for name, state, action, variant in (
        ("group_customer", "confirmed", "cancel_by_customer", "split seats"),
        ("group_customer_payment", "paid", "cancel_by_owner", "split seats"),
        ("confirm_decline", "tentative", "confirm", "auto-complete off"),
        ("instant_payment", "tentative", "pay", "auto-complete off"),
        ("instant_payment", "tentative", "pay", "no payment"),
        ("group_customer_payment", "tentative", "pay", "no payment"),
        ("instant", "confirmed", "cancel", "log taken"),
        ("group_customer", "confirmed", "cancel_by_owner", "log taken"),
        ("group_owner", "tentative", "cancel", "no seats"),
    ):
        found.append(Group(name, state, (Case(name, state, action),), variant))
    return found


GROUPS = _groups()


def test_every_pair_is_a_case() -> None:
    covered = {(case.graph, case.state, case.action) for group in GROUPS for case in group.cases}
    for graph in GRAPHS.values():
        for transition in generate.transitions(graph):
            assert (graph.name, transition.state, transition.action.name) in covered
        for state in graph.all_states[1:]:
            for action in _action_names(graph):
                assert (graph.name, state, action) in covered


def test_seat_effects_are_covered() -> None:
    effects = {t.action.seats for graph in GRAPHS.values() for t in generate.transitions(graph)}
    assert effects == {Seats.NONE, Seats.RELEASE, Seats.CLOSE, Seats.END}


# --- starting items, made by the engine ---------------------------------------------------------------


def _path(graph: Graph, target: str) -> list[str] | None:
    """The shortest list of actions from where a new booking rests to ``target``."""
    start = graph.create.to
    queue: deque[tuple[str, list[str]]] = deque([(start, [])])
    seen = {start}
    while queue:
        state, actions = queue.popleft()
        if state == target:
            return actions
        for action in graph.actions_in(state):
            if action.to not in seen:
                seen.add(action.to)
                queue.append((action.to, [*actions, action.name]))
    return None


def _move(booking_id: str, actions: list[str]) -> None:
    for name in actions:
        booking = bookings.get(COMPANY, booking_id)
        action = GRAPHS[booking.graph].action(booking.state, name)
        assert action is not None
        options = PAYMENT if action.needs == "pay" else {}
        if action.manual:
            bookings.act(COMPANY, booking_id, name, options)
        else:
            bookings._apply(booking, name, options, by_timer=True)


def _owner(max_seats: int = 10, shards: int = 2) -> str:
    settings = {"max_seats": max_seats, "capacity_shards": shards}
    return bookings.create(COMPANY, bookings.NewBooking(graph="group_owner", event=EVENT, settings=settings)).booking_id


def _seat(graph: str, owner_id: str, seats: int = 1, settings: dict[str, Any] | None = None) -> str:
    new = bookings.NewBooking(graph=graph, owner_booking_id=owner_id, seats=seats, settings=settings or {})
    return bookings.create(COMPANY, new).booking_id


@dataclass
class Starter:
    """Makes bookings of one group's graph in the group's state, with the engine."""

    group: Group
    owner_id: str = ""
    made: list[str] = field(default_factory=list)

    def booking(self, case: Case | None = None) -> str:
        """A new booking resting in the group's state (for ``case``, or for the group's refusals)."""
        graph = GRAPHS[self.group.graph]
        variant = self.group.variant
        settings = NO_AUTO_COMPLETE if variant == "auto-complete off" else {}
        if graph.capacity == "seat":
            if variant == "split seats":
                owner_id = _owner(max_seats=4, shards=2)
                _seat("group_customer", owner_id)  # one shard keeps 1 seat free, the other 2
                booking_id = _seat(graph.name, owner_id, seats=3)
                assert len(bookings.get(COMPANY, booking_id).seat_shards) == 2
            else:
                if not self.owner_id:
                    self.owner_id = _owner()
                    _seat("group_customer", self.owner_id)  # another booker on the same capacity
                booking_id = _seat(graph.name, self.owner_id, settings=settings)
        elif graph.capacity == "owner":
            booking_id = _owner(shards=1 if variant == "no seats" else 2)
            action = graph.action(case.state, case.action) if case is not None else None
            closing = action is not None and action.seats is Seats.CLOSE
            if variant != "no seats" and (closing or self.group.state == "cancelling"):
                # Seat bookings in every state the cascade meets (refusals elsewhere need none).
                _seat("group_customer", booking_id)
                _seat("group_customer_payment", booking_id, seats=2)
                _move(_seat("group_customer_payment", booking_id), ["pay"])
                _move(_seat("group_customer", booking_id), ["cancel_by_customer"])
        else:
            time = None
            if variant == "time claimed":  # a resource each: the group's bookings share their time
                resource = resources.create(COMPANY, {"name": "Room", "timezone": "Europe/London"})
                time = TimeAsk((int(resource.resource_id),), after=timedelta(hours=1))
            booking_id = bookings.create(
                COMPANY, bookings.NewBooking(graph.name, event=EVENT, settings=settings, time=time)
            ).booking_id
        self._rest(graph, booking_id)
        self.made.append(booking_id)
        return booking_id

    def _rest(self, graph: Graph, booking_id: str) -> None:
        state = self.group.state
        path = _path(graph, state)
        if path is not None:
            _move(booking_id, path)
        elif state == graph.rescheduled_state and graph.capacity != "owner":
            bookings.reschedule(COMPANY, booking_id, *MOVED, None)
        elif state == "cancelling":
            with pytest.MonkeyPatch.context() as patch:
                patch.setattr(bookings, "CASCADE_BUDGET", 0)  # the owner rests in cancelling, due now
                bookings.act(COMPANY, booking_id, "cancel", {})
        else:  # group_owner/rescheduled: a group moves in place and never rests there
            bookings.get(COMPANY, booking_id).update(actions=[Booking.state.set(state)])
        booking = bookings.get(COMPANY, booking_id)
        assert booking.state == state, self.group.id
        if self.group.variant == "log taken":
            # Someone else wrote the next log item: the transaction's put-if-absent fails, like a lost race.
            log_key = {"pk": {"S": booking.pk}, "sk": {"S": keys.log_sk(int(booking.log_count) + 1)}}
            db.low_level_client().put_item(TableName=ENGINE, Item={**log_key, "kind": {"S": "taken"}})


# --- running both ---------------------------------------------------------------------------------------

_ERRORS: dict[type[BookingError], str] = {
    NotFound: generate.BOOKING_NOT_FOUND,
    ValidationFailed: generate.VALIDATION_FAILED,
    PreconditionFailed: generate.PRECONDITION_FAILED,
}
_CONFLICTS = {"action_not_allowed": generate.ACTION_NOT_ALLOWED, "state_conflict": generate.STATE_CONFLICT}


def _options(case: Case, variant: str = "") -> dict[str, Any]:
    return dict(PAYMENT) if case.action == "pay" and variant != "no payment" else {}


def _engine(
    case: Case, booking_id: str, *, variant: str = "", company: int = COMPANY, if_match: int | None = None
) -> str:
    """The engine's outcome: the resting state, or the mirror's name for its refusal."""
    try:
        if case.by_timer:
            booking = bookings._apply(
                bookings.get(company, booking_id), case.action, _options(case, variant), by_timer=True
            )
        else:
            booking = bookings.act(company, booking_id, case.action, _options(case, variant), if_match=if_match)
    except Conflict as error:
        return _CONFLICTS[error.code]
    except BookingError as error:
        return _ERRORS[type(error)]
    return f"state:{booking.state}"


def _mirror(env: Env, case: Case, booking_id: str, *, variant: str = "", **extra: Any) -> str:
    payload: dict[str, Any] = {"booking_id": booking_id, "action": case.action, "input": _options(case, variant)}
    payload["company_id"] = COMPANY
    if case.by_timer:
        payload["by_timer"] = True
    payload.update(extra)
    run = env.execute(env.machines[case.graph], payload)
    if run["status"] == "SUCCEEDED":
        return f"state:{json.loads(run['output'])['state']}"
    assert run["status"] == "FAILED", run
    return str(run.get("error"))


# --- comparing ------------------------------------------------------------------------------------------------


def _plain(raw: dict[str, Any]) -> dict[str, Any]:
    from boto3.dynamodb.types import TypeDeserializer

    deserializer = TypeDeserializer()
    return {key: deserializer.deserialize(value) for key, value in raw.items()}


def _normal(items: list[dict[str, Any]], timerless: set[str]) -> tuple[dict[tuple[str, str], Any], list[str]]:
    """Items keyed by (pk, sk), outbox events as a sorted list; what differs by nature removed."""
    keyed: dict[tuple[str, str], Any] = {}
    events: list[str] = []
    for raw in items:
        item = _plain(raw)
        kind = item.get("kind")
        if kind == "outbox":
            # The payload fields a mirror writes, but for the time ("updated_at", checked apart) and the
            # possible actions (the engine's cascade still writes the state it left; checked apart).
            payload = {key: item["payload"].get(key) for key in MIRROR_PAYLOAD}
            event = {key: item[key] for key in ("event_type", "company_id", "subject_id")}
            events.append(json.dumps({**event, "payload": payload}, sort_keys=True, default=str))
            continue
        if kind == "booking":
            item.pop("updated_at", None)
            if item.get("payment"):
                item["payment"] = {key: value for key, value in item["payment"].items() if key != "paid_at"}
            if item.get("timer_action") == "cancel":  # due "now": the time differs
                item["xsk"] = str(item["xsk"]).split("#", 1)[1]
            if item["pk"] in timerless:
                for name in ("timer_action", "xpk", "xsk"):
                    item.pop(name, None)
        if kind == "booking_log":
            item.pop("created_at", None)
        keyed[(item["pk"], item["sk"])] = item
    return keyed, sorted(events)


def _check_mirror_times(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> None:
    """What the mirror wrote at "now": the engine's formats, and the outbox TTL a week on."""
    old = {json.dumps(item, sort_keys=True) for item in before}
    week_on = time.time() + RETENTION_SECONDS
    for raw in after:
        if json.dumps(raw, sort_keys=True) in old:
            continue
        item = _plain(raw)
        for name in ("updated_at", "created_at", "occurred_at"):
            if name in item:
                assert ISO.match(str(item[name])), (name, item[name])
        if item.get("kind") == "outbox":
            assert abs(int(item["ttl"]) - week_on) < 300, item["ttl"]
            payload = item["payload"]
            assert ISO.match(str(payload["updated_at"]))
            assert payload["possible_actions"] == GRAPHS[payload["graph"]].possible_actions(payload["state"])
        if item.get("payment"):
            assert ISO.match(str(item["payment"]["paid_at"]))


def _booking_item(items: list[dict[str, Any]], booking_id: str) -> dict[str, Any]:
    pk = keys.booking_pk(booking_id)
    return next(item for item in items if item["pk"]["S"] == pk and item["sk"]["S"] == keys.BOOKING_SK)


def _compare(env: Env, before: list[dict[str, Any]], acted: list[tuple[Case, str]]) -> None:
    engine_items, mirror_items = env.items(ENGINE), env.items(MIRROR)
    timerless: set[str] = set()
    for case, booking_id in acted:
        if (case.graph, case.state, case.action) in generate.UNMIRRORED and "xpk" not in _booking_item(
            before, booking_id
        ):
            # The one divergence: no xpk to reuse, so the mirror removes the timer the engine sets.
            assert "timer_action" not in _booking_item(mirror_items, booking_id)
            timerless.add(keys.booking_pk(booking_id))
    engine_keyed, engine_events = _normal(engine_items, timerless)
    mirror_keyed, mirror_events = _normal(mirror_items, timerless)
    assert sorted(mirror_keyed) == sorted(engine_keyed)
    for key, item in engine_keyed.items():
        assert mirror_keyed[key] == item, key
    assert mirror_events == engine_events
    _check_mirror_times(before, mirror_items)


@pytest.mark.parametrize("group", GROUPS, ids=[group.id for group in GROUPS])
def test_mirror_does_what_the_engine_does(group: Group, tables: Env) -> None:
    starter = Starter(group)
    # Refusals write nothing, so they share one booking, which the last allowed action then uses;
    # every other allowed action gets a booking of its own. Both sides run the cases in this order.
    writers = [case for case in group.cases if case.allowed and group.variant != "no payment"]
    last = writers[-1] if writers else None
    shared = starter.booking(last)
    runs = [(case, shared) for case in group.cases if case not in writers]
    runs += [(case, shared if case is last else starter.booking(case)) for case in writers]
    before = tables.copy_engine_to_mirror()
    engine = {case.id: _engine(case, booking_id, variant=group.variant) for case, booking_id in runs}
    mirror = {case.id: _mirror(tables, case, booking_id, variant=group.variant) for case, booking_id in runs}
    assert mirror == engine
    assert all(engine[case.id] == generate.ACTION_NOT_ALLOWED for case, _ in runs if not case.allowed)
    _compare(tables, before, [(case, booking_id) for case, booking_id in runs if case.allowed])


# --- refusals before the graph: not found, another company, If-Match, another graph's machine ------------


def test_refusals_before_the_graph(tables: Env) -> None:
    booking_id = bookings.create(COMPANY, bookings.NewBooking(graph="instant", event=EVENT)).booking_id
    tables.copy_engine_to_mirror()
    case = Case("instant", "confirmed", "cancel")
    assert _engine(case, "no-such-booking") == _mirror(tables, case, "no-such-booking") == generate.BOOKING_NOT_FOUND
    assert _engine(case, booking_id, company=COMPANY + 1) == generate.BOOKING_NOT_FOUND
    assert _mirror(tables, case, booking_id, company_id=COMPANY + 1) == generate.BOOKING_NOT_FOUND
    assert _engine(case, booking_id, if_match=9) == generate.PRECONDITION_FAILED
    assert _mirror(tables, case, booking_id, if_match=9) == generate.PRECONDITION_FAILED
    other = tables.execute(tables.machines["confirm_decline"], {"booking_id": booking_id, "action": "cancel"})
    assert other["error"] == generate.GRAPH_MISMATCH
    assert tables.execute(tables.machines["instant"], {"booking": booking_id})["error"] == generate.INVALID_INPUT
    assert tables.scan(ENGINE) == tables.scan(MIRROR)  # nothing written by either
    assert _mirror(tables, case, booking_id, if_match=1) == "state:cancelled"  # the version read goes through


# --- a transaction conflict (another transaction held an item) is tried again, as store.transact does ------


def test_a_transaction_conflict_is_tried_again(tables: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.dynamodb.exceptions import TransactionCanceledException
    from moto.dynamodb.models import DynamoDBBackend

    booking_id = bookings.create(COMPANY, bookings.NewBooking(graph="instant", event=EVENT)).booking_id
    before = tables.copy_engine_to_mirror()
    case = Case("instant", "confirmed", "cancel")
    assert _engine(case, booking_id) == "state:cancelled"  # (the engine's own retry is not exercised here)
    write = DynamoDBBackend.transact_write_items
    conflicts = [1]  # the mirror's first commit meets one

    def once_in_conflict(backend: Any, transact_items: list[dict[str, Any]]) -> None:
        if conflicts:
            conflicts.pop()
            reasons = [("TransactionConflict", "Transaction is ongoing for the item", None)]
            raise TransactionCanceledException(reasons + [(None, None, None)] * (len(transact_items) - 1))
        write(backend, transact_items)

    monkeypatch.setattr(DynamoDBBackend, "transact_write_items", once_in_conflict)
    assert _mirror(tables, case, booking_id) == "state:cancelled"
    assert not conflicts
    _compare(tables, before, [(case, booking_id)])


# --- the cascade left to the sweeper: both stop after one batch; the engine's sweeper finishes both -------


def test_cascade_resumed_by_the_sweeper(tables: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    owner_id = _owner()
    for graph in ("group_customer", "group_customer_payment", "group_customer"):
        _seat(graph, owner_id)
    before = tables.copy_engine_to_mirror()
    monkeypatch.setattr(bookings, "CASCADE_BUDGET", 1)
    definition = generate.render(GRAPHS["group_owner"], cascade_budget=1).replace(generate.TABLE, MIRROR)
    arn = tables.sfn.create_state_machine(name="mirror-budget-1", definition=definition, roleArn=ROLE)[
        "stateMachineArn"
    ]
    case = Case("group_owner", "tentative", "cancel")
    assert _engine(case, owner_id) == "state:cancelling"
    run = tables.execute(arn, {"booking_id": owner_id, "action": "cancel"})
    assert run["status"] == "SUCCEEDED" and json.loads(run["output"])["state"] == "cancelling"
    _compare(tables, before, [(case, owner_id)])
    for table in (ENGINE, MIRROR):
        monkeypatch.setenv("TABLE_NAME", table)
        reset_settings()
        db._bound_to = None
        owner = bookings.get(COMPANY, owner_id)
        assert owner.timer_action == "cancel" and owner.xpk
        assert bookings.run_timer(owner) is not None
        assert bookings.get(COMPANY, owner_id).state == "cancelled"
    monkeypatch.setenv("TABLE_NAME", ENGINE)
    reset_settings()
    db._bound_to = None
    _compare(tables, before, [(case, owner_id)])


# --- the date arithmetic, on many times (one execution, a Map over them) ------------------------------------


def test_calendar_arithmetic(env: Env) -> None:
    processor: dict[str, Any] = {"Start": {"Type": "Pass", "Next": "C: split"}}
    processor.update(clock_states("C: ", "$.now_text", "$.now", "D: split"))
    processor.update(due_states("D: ", "$.end_text", "$.due", "Out"))
    processor["Out"] = {
        "Type": "Pass",
        "Parameters": {"iso.$": "$.now.iso", "ttl.$": "$.now.ttl", "due.$": "$.due.iso"},
        "End": True,
    }
    definition = {
        "StartAt": "Each",
        "States": {
            "Each": {
                "Type": "Map",
                "ItemsPath": "$.cases",
                "MaxConcurrency": 1,
                "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "Start", "States": processor},
                "End": True,
            }
        },
    }
    moments = [
        datetime(2028, 2, 28, 23, 59, 59, tzinfo=UTC),  # a leap year: Feb 29 follows
        datetime(2028, 2, 29, 23, 0, tzinfo=UTC),
        datetime(2027, 2, 28, 23, 10, tzinfo=UTC),
        datetime(2100, 2, 28, 23, 0, tzinfo=UTC),  # not a leap year
        datetime(2000, 2, 28, 23, 0, tzinfo=UTC),  # a leap year
        datetime(2026, 12, 31, 23, 0, 5, tzinfo=UTC),
        datetime(2026, 12, 31, 22, 59, 59, tzinfo=UTC),
        datetime(2026, 4, 30, 23, 30, tzinfo=UTC),
        datetime(2030, 1, 1, 0, 0, tzinfo=UTC),
        datetime(2199, 12, 31, 22, 0, tzinfo=UTC),
    ]
    step = timedelta(days=3, hours=7, minutes=13, seconds=11)
    moments += [datetime(2026, 1, 1, 0, 0, 1, tzinfo=UTC) + step * k * 97 for k in range(8)]
    cases = []
    for k, moment in enumerate(moments):
        fraction = moment.replace(microsecond=123456)
        # AWS writes EnteredTime as ...123Z, moto as ...123456+00:00: both are read.
        text = fraction.isoformat() if k % 2 else fraction.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        cases.append({"now_text": text, "end_text": db.iso(moment)})
    arn = env.sfn.create_state_machine(name="calendar", definition=json.dumps(definition), roleArn=ROLE)
    run = env.execute(arn["stateMachineArn"], {"cases": cases})
    assert run["status"] == "SUCCEEDED", run.get("cause")
    expected = [
        {
            "iso": db.iso(moment),
            "ttl": str(int(moment.timestamp()) + RETENTION_SECONDS),
            "due": db.iso(moment + timedelta(hours=1)),
        }
        for moment in moments
    ]
    assert json.loads(run["output"]) == expected
