"""The legacy XML sessions API (seed 001): round trip, defaults, and hostile input."""

from __future__ import annotations

import base64
from datetime import date, datetime, timedelta
from xml.etree import ElementTree as ET
from zoneinfo import ZoneInfo

import pytest

from chalicelib.services.catalogue import events
from chalicelib.services.selling import holds
from tests.conftest import Api, Reply, Tenant, make_tenant

XML = {"Content-Type": "text/xml"}


def _xml(
    api: Api, method: str, path: str, tenant: Tenant, body: str = "", headers: dict[str, str] | None = None
) -> tuple[Reply, ET.Element | None]:
    reply = api.call(method, path, headers={**tenant.legacy, **XML, **(headers or {})}, raw=body)
    text = reply.body if isinstance(reply.body, str) else None
    root = ET.fromstring(text) if text and text.startswith("<?xml") else None
    return reply, root


def _found(node: ET.Element | None, path: str = ".") -> ET.Element:
    """The element at ``path`` under ``node``; the test fails where it is missing."""
    found = node.find(path) if node is not None else None
    assert found is not None, f"no {path}"
    return found


def _create(api: Api, tenant: Tenant, body: str, kind: str = "event") -> tuple[Reply, ET.Element]:
    reply, root = _xml(api, "POST", f"/api/sessions.xml?type={kind}", tenant, body)
    assert reply.status == 201, reply.body
    assert root is not None
    return reply, root


def _count_chains(api: Api, tenant: Tenant) -> int:
    return int(api.get(f"/api/v1/admin/{tenant.id}/event_chains", tenant.admin).body["total_entries"])


def test_round_trip_and_the_same_model_on_v1(api: Api, tenant: Tenant) -> None:
    reply, created = _create(
        api,
        tenant,
        "<session><name>Pottery</name><group>Crafts</group><spaces>4</spaces><price>12.50</price>"
        "<repeat>6</repeat><slots><slot><date>2031-01-01</date><time>11:00</time><duration>60</duration></slot>"
        "<slot><date>2031-02-10</date><time>11:10</time><duration>50</duration></slot></slots></session>",
        kind="course",
    )
    session_id = created.get("id")
    assert reply.headers["Location"].endswith(f"/api/sessions/{session_id}.xml")
    assert reply.headers["Content-Type"] == "application/xml"
    shown, root = _xml(api, "GET", f"/api/sessions/{session_id}.xml", tenant)
    assert shown.status == 200 and root is not None
    assert (root.findtext("name"), root.findtext("group"), root.findtext("price")) == ("Pottery", "Crafts", "12.50")
    assert root.findtext("type") == "1" and root.findtext("min_cancel") == "5"
    slots = root.findall("slots/slot")
    assert [(s.findtext("date"), s.findtext("time"), s.findtext("duration")) for s in slots] == [
        ("2031-01-01", "11:00", "60"),
        ("2031-02-10", "11:10", "50"),
    ]
    assert [(s.findtext("spaces_booked"), s.findtext("spaces_reserved")) for s in slots] == [("0", "0"), ("0", "0")]
    # the same chain on /api/v1, its slots bookable events
    chain = api.get(f"/api/v1/{tenant.id}/event_chains/{session_id}", tenant.public).body
    assert chain["course"] is True and chain["price"] == 1250 and chain["spaces"] == 4
    event = api.get(f"/api/v1/{tenant.id}/events/{slots[0].get('id')}", tenant.public).body
    assert event["bookable"] is True and event["num_spaces"] == 4
    # a hold shows as spaces_reserved in the XML
    held = events.get_event(tenant.id, int(slots[0].get("id") or 0))
    holds.place(tenant.id, held.capacity_id, 1, 2, 900, {})
    _, again = _xml(api, "GET", f"/api/sessions/{session_id}.xml", tenant)
    assert _found(again, "slots/slot").findtext("spaces_reserved") == "2"
    listed, sessions = _xml(api, "GET", "/api/sessions.xml", tenant)
    assert listed.status == 200 and sessions is not None and sessions.tag == "sessions"
    assert [(s.get("id"), s.findtext("name"), s.findtext("group")) for s in sessions] == [
        (session_id, "Pottery", "Crafts")
    ]


def test_defaults_per_type(api: Api, tenant: Tenant) -> None:
    london = ZoneInfo("Europe/London")
    _, event = _create(api, tenant, "<session><group>G</group></session>", "event")
    week = (datetime.now(london) + timedelta(days=7)).date()
    assert event.findtext("name") == "My Event" and event.findtext("duration") == "120"
    assert event.findtext("start_date") == event.findtext("end_date") == week.isoformat()
    assert event.findtext("repeat") == "0" and event.findtext("min_cancel") == "5"
    assert len(event.findall("slots/slot")) == 1
    _, course = _create(api, tenant, "<session><name>My Course</name><group>G</group></session>", "course")
    assert course.findtext("repeat") == "6" and course.findtext("duration") == "60"
    _, recurring = _create(api, tenant, "<session><group>G</group></session>", "recurring_event")
    assert recurring.findtext("name") == "My Recurring Event" and recurring.findtext("repeat") == "1"
    assert recurring.findtext("max_advance") == "60"
    dates = [date.fromisoformat(s.findtext("date") or "") for s in recurring.findall("slots/slot")]
    assert len(dates) == 9 and all((d - week).days % 7 == 0 for d in dates)  # weekly for 60 days


def test_update_replaces_custom_slots_but_never_drops_a_booked_one(api: Api, tenant: Tenant) -> None:
    _, created = _create(
        api, tenant, "<session><name>A</name><group>G</group><start_date>2031-01-01</start_date></session>"
    )
    session_id = created.get("id")
    first_slot = created.find("slots/slot")
    assert first_slot is not None
    renamed, _root = _xml(
        api,
        "PUT",
        f"/api/sessions/{session_id}.xml",
        tenant,
        "<session><name>My New Session Name</name><slots><slot><date>2031-01-01</date></slot>"
        "<slot><date>2031-01-03</date></slot></slots></session>",
    )
    assert renamed.status == 422  # a one-off event has one slot
    assert _found(_xml(api, "GET", f"/api/sessions/{session_id}.xml", tenant)[1]).findtext("name") == "A"
    event = events.get_event(tenant.id, int(first_slot.get("id") or 0))
    holds.place(tenant.id, event.capacity_id, 1, 1, 900, {})
    moved, error = _xml(
        api,
        "PUT",
        f"/api/sessions/{session_id}.xml",
        tenant,
        "<session><slots><slot><date>2031-01-05</date></slot></slots></session>",
    )
    assert moved.status == 409 and error is not None and error.tag == "error"
    assert error.findtext("code") == "slot_has_bookings"
    assert str(first_slot.get("id")) in (error.findtext("message") or "")
    slot_move, _ = _xml(
        api, "PUT", f"/api/slots/{first_slot.get('id')}.xml", tenant, "<slot><date>2031-01-05</date></slot>"
    )
    assert slot_move.status == 409
    resized, slot = _xml(
        api, "PUT", f"/api/slots/{first_slot.get('id')}.xml", tenant, "<slot><spaces>3</spaces></slot>"
    )
    assert resized.status == 200 and slot is not None and slot.findtext("spaces") == "3"
    deleted, _ = _xml(api, "DELETE", f"/api/sessions/{session_id}.xml", tenant)
    assert deleted.status == 409


def test_slot_edit_and_delete(api: Api, tenant: Tenant) -> None:
    _, created = _create(
        api,
        tenant,
        "<session><name>B</name><group>G</group><start_date>2031-01-01</start_date><time>10:00</time></session>",
    )
    slot_id = _found(created, "slots/slot").get("id")
    reply, slot = _xml(
        api,
        "PUT",
        f"/api/slots/{slot_id}.xml",
        tenant,
        "<slot><date>2031-01-05</date><time>11:30</time><duration>35</duration></slot>",
    )
    assert reply.status == 200 and slot is not None
    assert (slot.findtext("date"), slot.findtext("time"), slot.findtext("duration")) == ("2031-01-05", "11:30", "35")
    event = api.get(f"/api/v1/{tenant.id}/events/{slot_id}", tenant.public).body
    assert event["datetime"] == "2031-01-05T11:30:00+00:00" and event["duration"] == 35
    deleted, _ = _xml(api, "DELETE", f"/api/sessions/{created.get('id')}.xml", tenant)
    assert deleted.status == 200
    assert _xml(api, "GET", f"/api/sessions/{created.get('id')}.xml", tenant)[0].status == 404
    assert api.get(f"/api/v1/{tenant.id}/events/{slot_id}", tenant.public).status == 404


BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">' for i in range(1, 10))
    + "]><session><name>&lol9;</name></session>"
)
XXE = (
    '<?xml version="1.0"?><!DOCTYPE s [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><session><name>&xxe;</name></session>'
)
EXTERNAL_DTD = (
    '<?xml version="1.0"?><!DOCTYPE session SYSTEM "http://evil.example/x.dtd"><session><name>x</name></session>'
)


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (BILLION_LAUGHS, 400, "xml_forbidden"),
        (XXE, 400, "xml_forbidden"),
        (EXTERNAL_DTD, 400, "xml_forbidden"),
        ("<session><name>unclosed</session>", 400, "malformed_xml"),
        ("", 400, "malformed_xml"),
        ("\xff\xfe garbage", 400, "malformed_xml"),
        ("<sessions/>", 422, "validation_error"),
        ("<session><colour>red</colour></session>", 422, "unknown_field"),
        ("<session><price>12.345</price></session>", 422, "validation_error"),
        ("<session><spaces>lots</spaces></session>", 422, "validation_error"),
        ("<session><start_date>2031-02-30</start_date></session>", 422, "validation_error"),
        ("<session><name><b>x</b></name></session>", 422, "validation_error"),
        ("<session>" + "<name>x</name>" * 10 + "x" * (5 * 1024 * 1024) + "</session>", 413, "payload_too_large"),
    ],
)
def test_hostile_and_bad_input_is_refused_without_a_write(
    api: Api, tenant: Tenant, body: str, status: int, code: str
) -> None:
    reply, error = _xml(api, "POST", "/api/sessions.xml?type=event", tenant, body)
    assert reply.status == status, reply.body
    assert reply.headers["Content-Type"] == "application/xml"
    assert error is not None and error.tag == "error" and error.findtext("code") == code
    assert _count_chains(api, tenant) == 0


def test_hostile_input_on_update_changes_nothing(api: Api, tenant: Tenant) -> None:
    _, created = _create(api, tenant, "<session><name>Keep</name><group>G</group></session>")
    for body in (BILLION_LAUGHS, XXE, EXTERNAL_DTD, "<session>"):
        reply, _ = _xml(api, "PUT", f"/api/sessions/{created.get('id')}.xml", tenant, body)
        assert reply.status == 400
    kept = _found(_xml(api, "GET", f"/api/sessions/{created.get('id')}.xml", tenant)[1])
    assert kept.findtext("name") == "Keep"


def test_auth_paths_and_other_companies(api: Api, tenant: Tenant) -> None:
    _, created = _create(api, tenant, "<session><name>Mine</name><group>G</group></session>")
    session_id = created.get("id")
    wrong = {"Authorization": "Basic " + base64.b64encode(f"{tenant.admin_email}:nope".encode()).decode()}
    reply = api.call("GET", "/api/sessions.xml", headers=wrong)
    assert reply.status == 401 and reply.headers["Content-Type"] == "application/xml"
    for path in (
        "/api/sessions/abc.xml",
        f"/api/sessions/{session_id}.json",
        f"/api/sessions/{session_id}",
        "/api/sessions/0.xml",
    ):
        assert _xml(api, "GET", path, tenant)[0].status == 404, path
    other = make_tenant(api, "Other")
    assert _xml(api, "GET", f"/api/sessions/{session_id}.xml", other)[0].status == 404
    listed = _xml(api, "GET", "/api/sessions.xml", other)[1]
    assert listed is not None and len(listed) == 0
    bad_type = _xml(api, "POST", "/api/sessions.xml?type=party", tenant, "<session/>")[0]
    assert bad_type.status == 422
    json_body = api.call(
        "POST", "/api/sessions.xml", headers={**tenant.legacy, "Content-Type": "application/json"}, raw="{}"
    )
    assert json_body.status == 415
