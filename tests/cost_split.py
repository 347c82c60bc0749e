"""Splitting a test run into parts of about equal measured cost (tests/api/test_schemathesis.py)."""

from __future__ import annotations


def split_by_cost(labels: list[str], costs: dict[str, float], parts: int) -> list[set[str]]:
    """The operations in ``parts`` groups of about equal measured cost: the costliest first, each
    to the group with the least so far (an operation not measured yet counts as the median)."""
    known = sorted(costs.values())
    typical = known[len(known) // 2] if known else 1.0
    groups: list[set[str]] = [set() for _ in range(parts)]
    loads = [0.0] * parts
    for label in sorted(labels, key=lambda label: (-costs.get(label, typical), label)):
        lightest = loads.index(min(loads))
        groups[lightest].add(label)
        loads[lightest] += costs.get(label, typical)
    return groups
