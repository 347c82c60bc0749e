"""Graph definitions rendered for people and tools: a JSON document and Graphviz DOT."""

from __future__ import annotations

from typing import Any

from chalicelib.domain.graphs import Action, Graph


def _action(action: Action) -> dict[str, Any]:
    return {
        "name": action.name,
        "to": action.to,
        "via": action.transitional,
        "steps": [step.value for step in action.steps],
        "manual": action.manual,
        "seats": action.seats.value,
    }


def to_document(graph: Graph) -> dict[str, Any]:
    states = []
    for state in graph.all_states:
        if state == "initialized":
            continue
        timer = graph.timers.get(state)
        states.append(
            {
                "name": state,
                "actions": [_action(a) for a in graph.actions_in(state)],
                "timer": None
                if timer is None
                else {"action": timer.action, "setting": timer.setting, "default_seconds": timer.default_seconds},
                "terminal": state in graph.terminal_states,
            }
        )
    return {
        "name": graph.name,
        "description": graph.description,
        "initial_action": _action(graph.create),
        "states": states,
        "terminal_states": graph.terminal_states,
        "reschedulable_states": sorted(graph.reschedulable),
    }


def to_dot(graph: Graph) -> str:
    lines = [
        f'digraph "{graph.name}" {{',
        "  rankdir=LR;",
        '  node [shape=box, style=rounded, fontname="Helvetica"];',
        '  edge [fontname="Helvetica", fontsize=10];',
        "  initialized [shape=point, width=0.2];",
    ]
    for state in graph.terminal_states:
        lines.append(f'  "{state}" [peripheries=2];')
    edges = [("initialized", graph.create)]
    edges += [(state, action) for state, actions in graph.states.items() for action in actions]
    for source, action in edges:
        style = ", style=dashed" if not action.manual else ""
        lines.append(f'  "{source}" -> "{action.to}" [label="{action.name}"{style}];')
    for state in sorted(graph.reschedulable):
        lines.append(f'  "{state}" -> "{graph.rescheduled_state}" [label="reschedule", style=dotted];')
    lines.append("}")
    return "\n".join(lines) + "\n"
