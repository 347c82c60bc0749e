import pytest

from chalicelib.domain.catalogue import check_question, service_durations_and_prices
from chalicelib.domain.errors import ValidationFailed


def test_single_duration_and_price_become_parallel_lists() -> None:
    assert service_durations_and_prices({"duration": 60, "price": 2000}, [], []) == ([60], [2000])


def test_one_price_applies_to_every_duration() -> None:
    assert service_durations_and_prices({"durations": [30, 60], "price": 500}, [], []) == ([30, 60], [500, 500])


def test_defaults_to_an_hour_free() -> None:
    assert service_durations_and_prices({}, [], []) == ([60], [0])


def test_update_keeps_current_values() -> None:
    assert service_durations_and_prices({"price": 900}, [45], [100]) == ([45], [900])


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"duration": 60, "durations": [60]}, "durations"),
        ({"price": 1, "prices": [1]}, "prices"),
        ({"durations": [30, 60, 90], "prices": [1, 2]}, "prices"),
    ],
)
def test_inconsistent_durations_and_prices_are_refused(fields: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        service_durations_and_prices(fields, [], [])
    assert refused.value.field == field


def test_choice_question_needs_options() -> None:
    with pytest.raises(ValidationFailed, match="at least one option"):
        check_question(0, {"detail_type": "select", "options": []})


def test_text_question_takes_no_options() -> None:
    with pytest.raises(ValidationFailed, match="takes no options"):
        check_question(2, {"detail_type": "text_field", "options": [{"name": "x"}]})


def test_only_priced_types_price_options() -> None:
    with pytest.raises(ValidationFailed, match="only priced"):
        check_question(0, {"detail_type": "select", "options": [{"name": "x", "price": 5}]})
    check_question(0, {"detail_type": "select-price", "options": [{"name": "x", "price": 5}]})
