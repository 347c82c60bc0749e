"""Pure webhook rules: signatures, the retry schedule, which targets are refused, the fan-out wiring."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from standardwebhooks.webhooks import Webhook as StandardWebhook

from chalicelib.domain import webhooks as rules
from chalicelib.domain.errors import ValidationFailed
from chalicelib.domain.graphs import GRAPHS, Seats, Step
from chalicelib.domain.transitions import EVENT_TYPES
from chalicelib.services.messaging import fanout_wiring as wiring


def test_signature_matches_the_standard_webhooks_library() -> None:
    secret = rules.new_secret()
    body = b'{"type":"booking.created"}'
    ours = rules.sign(secret, "msg_1", 1_700_000_000, body)
    theirs = StandardWebhook(secret).sign("msg_1", datetime.fromtimestamp(1_700_000_000, UTC), body.decode())
    assert ours == theirs
    assert len(rules.secret_key(secret)) == rules.SECRET_BYTES


def test_the_schedule_backs_off_exponentially_for_about_three_days() -> None:
    delays = [rules.nominal_delay(n) for n in range(1, rules.MAX_ATTEMPTS)]
    assert delays[:3] == [30, 90, 270] and max(delays) == rules.MAX_RETRY_SECONDS
    assert 2.5 * 86_400 < rules.schedule()[-1] < 3.5 * 86_400
    jittered = {round(rules.retry_delay(2)) for _ in range(50)}
    assert len(jittered) > 1 and all(72 <= d <= 108 for d in jittered)


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "::1",
        "fe80::1",
        "fc00::1",
        "224.0.0.1",
        "0.0.0.0",
        "100.64.0.1",
        "240.0.0.1",
        "::ffff:127.0.0.1",
        "198.18.0.1",
    ],
)
def test_non_public_addresses_are_refused_outside_the_local_stage(address: str) -> None:
    assert not rules.is_public(address)
    with pytest.raises(ValidationFailed) as refused:
        rules.check_addresses([address], local=False)
    assert refused.value.field == "url"


def test_public_addresses_pass_and_one_bad_address_refuses_the_host() -> None:
    assert rules.check_addresses(["93.184.216.34"], local=False) == "93.184.216.34"
    with pytest.raises(ValidationFailed):
        rules.check_addresses(["93.184.216.34", "10.0.0.1"], local=False)
    assert rules.check_addresses(["127.0.0.1"], local=True) == "127.0.0.1"


@pytest.mark.parametrize(
    "url", ["http://example.com/hook", "ftp://example.com", "https://user:pw@example.com/", "https:///x"]
)
def test_url_shapes_refused_in_dev_and_prod(url: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        rules.check_url_shape(url, local=False)
    assert refused.value.field == "url"


def test_the_local_stage_takes_http() -> None:
    assert rules.check_url_shape("http://127.0.0.1:9000/hook", local=True) == ("http", "127.0.0.1", 9000)


def test_email_event_types_are_exactly_the_types_whose_actions_notify_by_email() -> None:
    emailing = {Step.NOTIFY_OWNER_BY_EMAIL, Step.NOTIFY_CUSTOMER_BY_EMAIL}
    found = {"booking.rescheduled"}  # the reschedule endpoint notifies both sides
    for graph in GRAPHS.values():
        if emailing & set(graph.create.steps):
            found.add("booking.created")
        for actions in graph.states.values():
            for action in actions:
                if emailing & set(action.steps):
                    resting = "cancelling" if action.seats is Seats.CLOSE else action.to
                    found.add(EVENT_TYPES.get(resting, f"booking.{resting}"))
    assert found | set(wiring.WAITLIST_EMAIL_TYPES) == set(wiring.EMAIL_EVENT_TYPES)
    assert set(wiring.EMAIL_EVENT_TYPES) <= set(wiring.EVENT_TYPES)
    assert set(EVENT_TYPES.values()) <= set(wiring.EVENT_TYPES)


def test_every_event_type_the_code_writes_can_be_subscribed_to() -> None:
    """A literal type passed to outbox.add that EVENT_TYPES lacks could never reach a webhook."""
    import pathlib
    import re

    written: set[str] = set()
    for source in pathlib.Path("chalicelib").rglob("*.py"):
        for call in re.finditer(r"outbox\.add\(\s*tx,\s*\"([a-z_]+\.[a-z_]+)\"", source.read_text()):
            written.add(call.group(1))
    assert {"purchase.completed", "event_chain.created", "hold.created"} <= written  # the scan finds them
    assert written <= set(wiring.EVENT_TYPES)
    assert set(EVENT_TYPES.values()) <= set(wiring.EVENT_TYPES)  # the graphs' resting states too
