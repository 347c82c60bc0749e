"""Checkout answers and server-side prices (pure)."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.domain.errors import ValidationFailed
from chalicelib.domain.pricing import check_answers, check_line

QUESTIONS: list[dict[str, Any]] = [
    {"id": 1, "name": "Intro", "detail_type": "heading"},
    {"id": 2, "name": "Name on badge", "detail_type": "text_field", "required": True},
    {
        "id": 3,
        "name": "Lunch",
        "detail_type": "select-price",
        "options": [{"id": 31, "name": "None", "price": 0}, {"id": 32, "name": "Sandwich", "price": 450}],
    },
    {"id": 4, "name": "Parking", "detail_type": "check-price", "price": 300, "price_per_booking": True},
    {"id": 5, "name": "Staff note", "detail_type": "text_area", "admin_only": True, "required": True},
    {"id": 6, "name": "Birthday", "detail_type": "date"},
    {"id": 7, "name": "Level", "detail_type": "radio", "options": [{"id": 71, "name": "Beginner"}]},
]


def _line(answers: list[dict[str, Any]], quantity: int = 2, **kwargs: Any) -> Any:
    options: dict[str, Any] = {"per_ticket": False, "email_per_ticket": False, "tickets": []} | kwargs
    return check_line(QUESTIONS, unit_price=1000, quantity=quantity, answers=answers, where="items.0", **options)


def test_price_is_spaces_times_price_plus_priced_options() -> None:
    line = _line([{"id": 2, "answer": "Ann"}, {"id": 3, "answer": 32}, {"id": 4, "answer": True}])
    # 2 x 1000 + sandwich per space (2 x 450) + parking once per booking (300)
    assert line.total == 2000 + 900 + 300
    assert [a.answer for a in line.answers] == ["Ann", "Sandwich", "true"]


def test_a_client_sent_price_is_ignored() -> None:
    line = _line([{"id": 2, "answer": "Ann", "price": -5000}, {"id": 3, "answer": "Sandwich", "price": 0}])
    assert line.total == 2000 + 900


def test_required_question_must_be_answered_but_admin_only_is_not_asked() -> None:
    with pytest.raises(ValidationFailed) as error:
        _line([{"id": 3, "answer": 31}])
    assert error.value.field == "items.0.answers[id=2]"
    with pytest.raises(ValidationFailed) as error:
        _line([{"id": 2, "answer": "Ann"}, {"id": 5, "answer": "sneaky"}])
    assert error.value.field == "items.0.answers.1.id"


@pytest.mark.parametrize(
    ("answer", "field"),
    [
        ({"id": 3, "answer": "Caviar"}, "items.0.answers.1.answer"),
        ({"id": 3, "answer": 71}, "items.0.answers.1.answer"),
        ({"id": 4, "answer": "yes"}, "items.0.answers.1.answer"),
        ({"id": 6, "answer": "2031-02-30"}, "items.0.answers.1.answer"),
        ({"id": 1, "answer": "x"}, "items.0.answers.1.id"),
        ({"id": 99, "answer": "x"}, "items.0.answers.1.id"),
        ({"id": 2, "answer": "again"}, "items.0.answers.1.id"),
        ({"id": 7, "answer": ["Beginner"]}, "items.0.answers.1.answer"),
    ],
)
def test_answers_outside_the_questions_are_refused(answer: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationFailed) as error:
        _line([{"id": 2, "answer": "Ann"}, answer])
    assert error.value.field == field


def test_per_ticket_questions_and_emails() -> None:
    tickets = [
        {"email": "a@example.com", "answers": [{"id": 2, "answer": "A"}, {"id": 3, "answer": 32}]},
        {"email": "B@example.com", "answers": [{"id": 2, "answer": "B"}, {"id": 4, "answer": True}]},
    ]
    line = _line([], tickets=tickets, per_ticket=True, email_per_ticket=True)
    assert line.total == 2000 + 450 + 300
    assert [t.email for t in line.tickets] == ["a@example.com", "b@example.com"]
    with pytest.raises(ValidationFailed) as error:
        _line([], tickets=tickets[:1], per_ticket=True, email_per_ticket=True)
    assert error.value.field == "items.0.tickets"
    with pytest.raises(ValidationFailed) as error:
        _line([], tickets=[tickets[0], {"answers": [{"id": 2, "answer": "B"}]}], per_ticket=True, email_per_ticket=True)
    assert error.value.field == "items.0.tickets.1.email"
    with pytest.raises(ValidationFailed) as error:
        _line([], tickets=[tickets[0], {"email": "b@example.com", "answers": []}], per_ticket=True)
    assert error.value.field == "items.0.tickets.1.answers[id=2]"
    with pytest.raises(ValidationFailed):
        _line([{"id": 2, "answer": "Ann"}], tickets=tickets)  # tickets where none are asked


def test_checkboxes_with_options_tick_several() -> None:
    questions = [
        {
            "id": 8,
            "name": "Extras",
            "detail_type": "check-price",
            "options": [{"id": 81, "name": "Towel", "price": 100}, {"id": 82, "name": "Mat", "price": 200}],
        }
    ]
    answers = check_answers(questions, [{"id": 8, "answer": [81, "Mat"]}], "answers")
    assert answers[0].answer == "Towel, Mat" and answers[0].price == 300
    with pytest.raises(ValidationFailed):
        check_answers(questions, [{"id": 8, "answer": [81, 81]}], "answers")
