"""Project rules and the widget's defaults (chalicelib/domain/projects.py)."""

from __future__ import annotations

import pytest

from chalicelib.domain import projects
from chalicelib.domain.errors import ValidationFailed


def test_defaults_fill_what_the_widget_reads_without_overriding_the_caller() -> None:
    filled = projects.with_widget_defaults(
        {"name": "Clinic", "ui": {"localization": {"submit_button": "Book"}}, "booking": {"what": "Check-up"}}
    )
    localization = filled["ui"]["localization"]
    assert localization["submit_button"] == "Book"
    assert "%s" in localization["success_message"]
    assert localization["allocated_resource_prefix"]
    assert filled["customer_fields"]["name"]["required"] and filled["customer_fields"]["email"]["required"]
    assert filled["booking"] == {"graph": "instant", "what": "Check-up"}
    assert filled["availability"]["mode"] == "roundrobin_random"
    assert filled["name"] == "Clinic"


def test_unknown_keys_are_kept() -> None:
    filled = projects.with_widget_defaults({"availability": {"closest_time_interval": "15 minutes"}})
    assert filled["availability"]["closest_time_interval"] == "15 minutes"


@pytest.mark.parametrize("slug", ["a", "doc-brown", "clinic-2", "x" * 64])
def test_slugs(slug: str) -> None:
    assert projects.check_slug(slug) == slug


@pytest.mark.parametrize("slug", ["", "-a", "a-", "Doc", "a_b", "a/b", "x" * 65, "é"])
def test_bad_slugs(slug: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        projects.check_slug(slug)
    assert refused.value.field == "slug"


def test_a_slug_from_a_name() -> None:
    assert projects.slug_from_name("Doc Brown's Clinic!") == "doc-brown-s-clinic"
    assert projects.slug_from_name("!!!") == "project"


@pytest.mark.parametrize(
    ("project", "field"),
    [
        ({"booking": {"graph": "group_owner"}}, "booking.graph"),
        ({"booking": {"graph": "nope"}}, "booking.graph"),
        ({"availability": {"mode": "random"}}, "availability.mode"),
        ({"ui": {"localization": {"success_message": 3}}}, "ui.localization"),
        ({"customer_fields": {"email": "yes"}}, "customer_fields.email"),
    ],
)
def test_what_would_break_a_page_is_refused(project: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        projects.check_rules(project)
    assert refused.value.field == field


def test_group_projects() -> None:
    projects.check_rules({"booking": {"graph": "group_customer"}})
    assert projects.is_group_project({"booking": {"graph": "group_customer"}})
    assert not projects.is_group_project(projects.with_widget_defaults({}))
