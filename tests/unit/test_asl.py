"""The generated Step Functions mirrors: committed, complete, well formed (and cfn-lint clean).

What they do is tested against the engine in tests/api/test_asl_conformance.py.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from chalicelib.domain.graphs import GRAPHS
from chalicelib.domain.transitions import next_timer
from devtools.asl import generate

ROOT = Path(__file__).resolve().parents[2]


def _definition(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(generate.path_for(ROOT, name).read_text(encoding="utf-8"))
    return loaded


def _scopes(machine: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The machine and every Map's item processor, each a {"StartAt", "States"}."""
    yield machine
    for state in machine["States"].values():
        if state["Type"] == "Map":
            yield from _scopes(state["ItemProcessor"])


def _targets(state: dict[str, Any]) -> list[str]:
    found = [state[key] for key in ("Next", "Default") if key in state]
    found += [rule["Next"] for rule in state.get("Choices", [])]
    found += [catch["Next"] for catch in state.get("Catch", [])]
    return found


def test_committed_files_are_what_the_graphs_generate() -> None:
    stale = generate.stale(ROOT)
    assert not stale, f"stale: {[str(path) for path in stale]}; run `make asl`"


def test_every_graph_has_a_file_and_no_file_lacks_a_graph() -> None:
    files = {path.name for path in (ROOT / generate.STATEMACHINES_DIR).glob("*.asl.json")}
    assert files == {f"{name}.asl.json" for name in GRAPHS}


@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_every_state_and_action_appears(name: str) -> None:
    graph = GRAPHS[name]
    states = _definition(name)["States"]
    which_state = {rule["StringEquals"]: rule["Next"] for rule in states["Which state?"]["Choices"]}
    assert set(which_state) == set(graph.states)  # states without actions refuse everything (the Default)
    assert states["Which state?"]["Default"] == generate.ACTION_NOT_ALLOWED
    for state, actions in graph.states.items():
        choice = states[which_state[state]]
        assert choice["Default"] == generate.ACTION_NOT_ALLOWED
        offered: dict[str, dict[str, Any]] = {}
        for rule in choice["Choices"]:
            clauses = rule.get("And", [rule])
            action = next(c["StringEquals"] for c in clauses if c.get("Variable") == "$.action")
            offered[action] = rule
            timer_only = any(c.get("Variable") == "$.by_timer" and c.get("BooleanEquals") is True for c in clauses)
            allowed = graph.action(state, action)
            assert allowed is not None and timer_only == (not allowed.manual), (state, action)
        assert list(offered) == [action.name for action in actions]
    for transition in generate.transitions(graph):
        plan = states[f"{transition.key}: plan"]["Parameters"]
        step = transition.plan
        assert (plan["from"], plan["to"], plan["event_type"]) == (step.from_state, step.to_state, step.event_type)
        entries = [entry["M"] for entry in plan["entries"]["L"]]
        assert [e["description"]["S"] for e in entries] == [log.description for log in step.logs]
        assert [e["state"]["S"] for e in entries] == [log.state for log in step.logs]
        assert plan["seats"] == transition.action.seats.value
        assert plan["completed"] == graph.is_completed(step.to_state)
        assert [a["S"] for a in plan["possible_actions"]["L"]] == graph.possible_actions(step.to_state)


@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_well_formed(name: str) -> None:
    """What cfn-lint does not check: every Next exists, every state is reachable, names are unique."""
    machine = _definition(name)
    names: list[str] = []
    for scope in _scopes(machine):
        states = scope["States"]
        names += list(states)
        reachable, todo = set(), [scope["StartAt"]]
        while todo:
            current = todo.pop()
            if current in reachable:
                continue
            assert current in states, f"{name}: no state {current!r}"
            reachable.add(current)
            todo += _targets(states[current])
        assert reachable == set(states), f"{name}: unreachable {set(states) - reachable}"
        for state_name, state in states.items():
            assert len(state_name) <= 80
            ends = state["Type"] in ("Succeed", "Fail") or state.get("End") is True
            assert ends or _targets(state), state_name
    assert len(names) == len(set(names)), "state names must be unique in the whole machine"
    text = generate.path_for(ROOT, name).read_text(encoding="utf-8")
    assert set(re.findall(r"\$\{(\w+)\}", text)) == {"TableName"}


def test_timers_are_mirrored_where_asl_can() -> None:
    """The (graph, state, action) whose timer needs date arithmetic ASL has not: exactly these."""
    assert set(generate.UNMIRRORED) == {
        ("confirm_decline", "tentative", "confirm"),
        ("instant_payment", "tentative", "pay"),
        ("group_customer_payment", "tentative", "pay"),
    }
    for graph in GRAPHS.values():
        for transition in generate.transitions(graph):
            # "none" must mean next_timer never returns a timer for that resting state.
            if transition.timer == "none":
                now = datetime(2030, 1, 1, tzinfo=UTC)
                assert next_timer(graph, transition.plan.to_state, now=now, end=now, settings={}) is None


def test_cfn_lint_accepts_every_definition(tmp_path: Path) -> None:
    """Each file as the Definition of an AWS::StepFunctions::StateMachine, ${TableName} substituted."""
    from cfnlint.api import lint_file

    resources = {}
    for name in sorted(GRAPHS):
        logical_id = "".join(part.title() for part in name.split("_")) + "Mirror"
        resources[logical_id] = {
            "Type": "AWS::StepFunctions::StateMachine",
            "Properties": {
                "RoleArn": {"Ref": "RoleArn"},
                "Definition": _definition(name),
                "DefinitionSubstitutions": {"TableName": {"Ref": "TableName"}},
            },
        }
    template = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Parameters": {"TableName": {"Type": "String"}, "RoleArn": {"Type": "String"}},
        "Resources": resources,
    }
    path = tmp_path / "mirrors.json"
    path.write_text(json.dumps(template), encoding="utf-8")
    matches = lint_file(path)
    assert [str(match) for match in matches] == []
