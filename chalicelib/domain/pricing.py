"""Checkout's answers and prices. Pure: the server prices every basket line itself.

Answers are checked against the question group the event's chain asks (BookingBug's
``{id, answer}``; a ``price`` a client sends is ignored). Prices are minor units:
the chain's price per space times the spaces, plus priced answers: per space, or
once per booking when the question says ``price_per_booking``. When the ticket type
asks for questions per ticket, each ticket (one space) answers on its own, and with
an email per ticket each ticket names its attendee.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from chalicelib.domain.catalogue import CHOICE_TYPES, PRICED_TYPES
from chalicelib.domain.errors import ValidationFailed

MAX_ANSWER_LENGTH = 10_000
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class Answer:
    """An accepted answer, as stored with the booking and shown back."""

    question_id: int
    name: str
    answer: str
    price: int  # minor units this answer adds for one space (or the booking)
    per_booking: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.question_id, "name": self.name, "answer": self.answer, "price": self.price}


@dataclass(frozen=True)
class Ticket:
    answers: tuple[Answer, ...] = ()
    email: str | None = None


@dataclass(frozen=True)
class Line:
    """One basket line, checked and priced."""

    quantity: int
    unit_price: int
    answers: tuple[Answer, ...] = ()
    tickets: tuple[Ticket, ...] = ()
    total: int = 0
    breakdown: Mapping[str, int] = field(default_factory=dict)


def check_answers(
    questions: Sequence[Mapping[str, Any]], given: Sequence[Mapping[str, Any]], where: str
) -> list[Answer]:
    """Answers for one booking or ticket: known questions, allowed options, required ones present.

    Admin-only questions are not the public's to answer; headings take no answer.
    """
    asked = {int(q["id"]): q for q in questions if not q.get("admin_only") and q.get("detail_type") != "heading"}
    seen: dict[int, Answer] = {}
    for index, raw in enumerate(given):
        place = f"{where}.{index}"
        question_id = raw.get("id")
        if not isinstance(question_id, int) or isinstance(question_id, bool) or question_id not in asked:
            raise ValidationFailed(f"question {question_id!r} is not asked here", field=f"{place}.id")
        if question_id in seen:
            raise ValidationFailed(f"question {question_id} is answered twice", field=f"{place}.id")
        answer = _answer(asked[question_id], raw.get("answer"), f"{place}.answer")
        if answer is not None:
            seen[question_id] = answer
    for question_id, question in asked.items():
        if question.get("required") and question_id not in seen:
            raise ValidationFailed(f"{question['name']!r} must be answered", field=f"{where}[id={question_id}]")
    return [seen[question_id] for question_id in asked if question_id in seen]


def _answer(question: Mapping[str, Any], value: Any, place: str) -> Answer | None:
    """None for an empty answer (which only a required question refuses)."""
    kind = str(question["detail_type"])
    options = list(question.get("options") or [])
    per_booking = bool(question.get("price_per_booking"))
    if value is None or value == "" or value == []:
        return None
    if kind in CHOICE_TYPES:
        option = _option(options, value, place)
        price = int(option.get("price") or 0) if kind in PRICED_TYPES else 0
        return Answer(int(question["id"]), str(question["name"]), str(option["name"]), price, per_booking)
    if kind in ("check", "check-price"):
        return _check(question, options, value, place, per_booking)
    if not isinstance(value, str) or len(value) > MAX_ANSWER_LENGTH:
        raise ValidationFailed(f"answer with text of at most {MAX_ANSWER_LENGTH} characters", field=place)
    if kind == "date":
        try:
            value = date.fromisoformat(value.strip()).isoformat()
        except ValueError:
            raise ValidationFailed("answer with a date like 2031-05-01", field=place) from None
    return Answer(int(question["id"]), str(question["name"]), value, 0, per_booking)


def _option(options: Sequence[Mapping[str, Any]], value: Any, place: str) -> Mapping[str, Any]:
    """An option named by its id or its name."""
    for option in options:
        if (isinstance(value, int) and not isinstance(value, bool) and int(option["id"]) == value) or (
            isinstance(value, str) and value == option["name"]
        ):
            return option
    allowed = ", ".join(repr(str(option["name"])) for option in options)
    raise ValidationFailed(f"{value!r} is not one of the options ({allowed})", field=place)


def _check(
    question: Mapping[str, Any], options: Sequence[Mapping[str, Any]], value: Any, place: str, per_booking: bool
) -> Answer | None:
    """A checkbox (true/false; priced by the question) or, with options, a list of ticked options."""
    question_id, name = int(question["id"]), str(question["name"])
    if options:
        chosen = value if isinstance(value, list) else [value]
        picked = [_option(options, item, place) for item in chosen]
        if len({int(option["id"]) for option in picked}) != len(picked):
            raise ValidationFailed("an option is ticked twice", field=place)
        price = (
            sum(int(option.get("price") or 0) for option in picked) if question["detail_type"] in PRICED_TYPES else 0
        )
        return Answer(question_id, name, ", ".join(str(option["name"]) for option in picked), price, per_booking)
    if not isinstance(value, bool):
        raise ValidationFailed("answer a checkbox with true or false", field=place)
    if not value:
        return None
    price = int(question.get("price") or 0) if question["detail_type"] == "check-price" else 0
    return Answer(question_id, name, "true", price, per_booking)


def check_line(
    questions: Sequence[Mapping[str, Any]],
    *,
    unit_price: int,
    quantity: int,
    answers: Sequence[Mapping[str, Any]],
    tickets: Sequence[Mapping[str, Any]],
    per_ticket: bool,
    email_per_ticket: bool,
    where: str,
) -> Line:
    """Check a line's answers (per ticket when the ticket type asks) and price it."""
    if quantity < 1:
        raise ValidationFailed("book at least one space", field=f"{where}.num_book")
    checked_tickets: list[Ticket] = []
    booking_answers: list[Answer] = []
    if per_ticket:
        if answers:
            raise ValidationFailed(
                "this event asks its questions per ticket: answer in tickets", field=f"{where}.answers"
            )
        if len(tickets) != quantity:
            raise ValidationFailed(f"give one ticket per space ({quantity})", field=f"{where}.tickets")
        for index, ticket in enumerate(tickets):
            place = f"{where}.tickets.{index}"
            email = ticket.get("email")
            if email_per_ticket and (not isinstance(email, str) or not _EMAIL.match(email)):
                raise ValidationFailed("each ticket needs its attendee's email", field=f"{place}.email")
            checked = check_answers(questions, ticket.get("answers") or [], f"{place}.answers")
            checked_tickets.append(Ticket(tuple(checked), email.lower() if isinstance(email, str) else None))
    else:
        if tickets:
            raise ValidationFailed("this event asks its questions once per booking", field=f"{where}.tickets")
        booking_answers = check_answers(questions, answers, f"{where}.answers")
    return price_line(unit_price, quantity, booking_answers, checked_tickets)


def price_line(unit_price: int, quantity: int, answers: Sequence[Answer], tickets: Sequence[Ticket]) -> Line:
    """Spaces times the price, plus priced answers: per space, or once per booking."""
    base = unit_price * quantity
    options = sum(answer.price if answer.per_booking else answer.price * quantity for answer in answers)
    charged_once: set[int] = set()
    for ticket in tickets:
        for answer in ticket.answers:
            if not answer.per_booking:
                options += answer.price  # a ticket is one space
            elif answer.question_id not in charged_once:
                charged_once.add(answer.question_id)
                options += answer.price
    return Line(
        quantity=quantity,
        unit_price=unit_price,
        answers=tuple(answers),
        tickets=tuple(tickets),
        total=base + options,
        breakdown={"spaces": base, "options": options},
    )
