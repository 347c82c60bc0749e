from __future__ import annotations

from tests.cost_split import split_by_cost


def test_the_costliest_operation_gets_a_part_to_itself_when_it_outweighs_the_rest() -> None:
    costs = {"big": 90.0, "a": 20.0, "b": 20.0, "c": 20.0, "d": 20.0}
    assert split_by_cost(list(costs), costs, 2) == [{"big"}, {"a", "b", "c", "d"}]


def test_every_operation_lands_in_exactly_one_part_and_the_parts_are_balanced() -> None:
    costs = {f"op{n}": float(n) for n in range(1, 21)}
    parts = split_by_cost(list(costs), costs, 3)
    assert sorted(label for part in parts for label in part) == sorted(costs)
    loads = [sum(costs[label] for label in part) for part in parts]
    assert max(loads) - min(loads) <= 20.0 / 3


def test_an_operation_not_measured_yet_counts_as_the_median() -> None:
    costs = {"a": 1.0, "b": 5.0, "c": 9.0}
    assert split_by_cost(["a", "b", "c", "new"], costs, 2) == [{"c", "a"}, {"b", "new"}]
