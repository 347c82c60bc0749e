"""The six Timekit graphs, as the reference catalogue describes them."""

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain.errors import Conflict, ValidationFailed
from chalicelib.domain.graph_docs import to_document, to_dot
from chalicelib.domain.graphs import GRAPHS, Action, Seats
from chalicelib.domain.transitions import Plan, next_timer, plan

NOW = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
END = NOW + timedelta(hours=2)

# (graph, create action, initial state, {state: manual actions})
CATALOGUE = [
    (
        "instant",
        "confirm",
        "confirmed",
        {"confirmed": ["cancel", "cancel_by_customer", "complete", "reschedule_by_customer"]},
    ),
    (
        "confirm_decline",
        "create",
        "tentative",
        {
            "tentative": ["confirm", "decline"],
            "confirmed": ["cancel", "cancel_by_customer", "complete", "reschedule_by_customer"],
        },
    ),
    ("instant_payment", "create", "tentative", {"tentative": ["pay"], "paid": ["cancel", "complete"]}),
    ("group_owner", "create", "tentative", {"tentative": ["cancel", "complete"]}),
    ("group_customer", "create", "confirmed", {"confirmed": ["complete", "cancel_by_customer", "cancel_by_owner"]}),
    (
        "group_customer_payment",
        "create",
        "tentative",
        {"tentative": ["pay", "cancel_by_owner"], "paid": ["cancel_by_owner", "complete", "cancel_by_customer"]},
    ),
]


def _plan(graph: str, state: str, action: str, by_timer: bool = False) -> Plan:
    return plan(GRAPHS[graph], state, action, now=NOW, end=END, settings={}, options={}, by_timer=by_timer)


def _action(graph: str, state: str, name: str) -> Action:
    found = GRAPHS[graph].action(state, name)
    assert found is not None, (graph, state, name)
    return found


def test_there_are_exactly_six_graphs() -> None:
    assert sorted(GRAPHS) == sorted(name for name, *_ in CATALOGUE)


@pytest.mark.parametrize(("name", "create", "initial", "manual"), CATALOGUE)
def test_graph_matches_the_catalogue(name: str, create: str, initial: str, manual: dict[str, list[str]]) -> None:
    graph = GRAPHS[name]
    assert graph.create.name == create and graph.create.to == initial
    for state, actions in manual.items():
        assert graph.possible_actions(state) == actions
    for state in graph.terminal_states:
        assert graph.is_completed(state) and graph.possible_actions(state) == []


def test_payment_graphs_time_out_by_timer_only() -> None:
    for name in ("instant_payment", "group_customer_payment"):
        graph = GRAPHS[name]
        assert "timeout" not in graph.possible_actions("tentative")
        assert graph.action("tentative", "timeout") is not None
        with pytest.raises(Conflict):
            _plan(name, "tentative", "timeout")
        assert _plan(name, "tentative", "timeout", by_timer=True).to_state == "unpaid"


def test_seat_effects() -> None:
    assert GRAPHS["group_owner"].create.seats is Seats.OPEN
    assert _action("group_owner", "tentative", "cancel").seats is Seats.CLOSE
    assert _action("group_owner", "tentative", "complete").seats is Seats.END  # closes its shards, no cascade
    assert GRAPHS["group_customer"].create.seats is Seats.TAKE
    for action in ("cancel_by_customer", "cancel_by_owner"):
        assert _action("group_customer", "confirmed", action).seats is Seats.RELEASE
    assert _action("group_customer_payment", "tentative", "timeout").seats is Seats.RELEASE
    assert _action("group_customer_payment", "paid", "complete").seats is Seats.NONE


def test_refusal_names_the_possible_actions() -> None:
    with pytest.raises(Conflict) as refused:
        _plan("confirm_decline", "declined", "confirm")
    assert refused.value.extra["possible_actions"] == []
    with pytest.raises(Conflict) as refused:
        _plan("confirm_decline", "tentative", "cancel")
    assert refused.value.extra["possible_actions"] == ["confirm", "decline"]


def test_logs_walk_through_the_steps_and_mark_skipped_ones() -> None:
    step = plan(
        GRAPHS["confirm_decline"],
        "tentative",
        "decline",
        now=NOW,
        end=END,
        settings={},
        options={"notify_customer_by_email": {"enabled": False}, "decline": {"message": "Sorry"}},
    )
    descriptions = [entry.description for entry in step.logs]
    assert descriptions[0] == "Changed state to: declining"
    assert "Skipped notify_customer_by_email (disabled in the request)" in descriptions
    assert descriptions[-1] == "Changed state to: declined"
    assert step.event_type == "booking.declined"


def test_essential_steps_cannot_be_disabled() -> None:
    with pytest.raises(ValidationFailed) as refused:
        plan(
            GRAPHS["group_customer"],
            "initialized",
            "create",
            now=NOW,
            end=END,
            settings={},
            options={"reserve_seats": {"enabled": False}},
        )
    assert refused.value.field == "reserve_seats"


def test_payment_timer_defaults_to_five_minutes_and_follows_the_setting() -> None:
    step = _plan("instant_payment", "initialized", "create")
    assert step.timer is not None and step.timer.action == "timeout"
    assert step.timer.at == NOW + timedelta(minutes=5)
    due = next_timer(GRAPHS["instant_payment"], "tentative", now=NOW, end=END, settings={"payment_timeout": 60})
    assert due is not None and due.at == NOW + timedelta(seconds=60)


def test_auto_complete_one_hour_after_the_end_unless_disabled() -> None:
    due = next_timer(GRAPHS["instant"], "confirmed", now=NOW, end=END, settings={})
    assert due is not None and due.action == "complete" and due.at == END + timedelta(hours=1)
    off = {"auto_complete_one_hour_after_booking_ends": {"enabled": False}}
    assert next_timer(GRAPHS["instant"], "confirmed", now=NOW, end=END, settings=off) is None
    assert next_timer(GRAPHS["instant"], "completed", now=NOW, end=END, settings={}) is None


def test_group_owner_cancel_rests_in_cancelling() -> None:
    step = _plan("group_owner", "tentative", "cancel")
    assert step.to_state == "cancelling"


@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_documents_cover_every_state(name: str) -> None:
    document = to_document(GRAPHS[name])
    states = {state["name"] for state in document["states"]}
    assert set(GRAPHS[name].all_states) - {"initialized"} == states
    dot = to_dot(GRAPHS[name])
    assert dot.startswith(f'digraph "{name}"') and dot.rstrip().endswith("}")
    for action in GRAPHS[name].actions_in(GRAPHS[name].create.to):
        assert f'label="{action.name}"' in dot
