from tests.conftest import Api, Tenant

GROUP = {
    "name": "Booking questions",
    "questions": [
        {
            "name": "Size",
            "detail_type": "select-price",
            "required": True,
            "options": [{"name": "Small", "price": 0}, {"name": "Large", "price": 500}],
        },
        {"name": "Notes", "detail_type": "text_area"},
        {"name": "Internal", "detail_type": "text_field", "admin_only": True},
    ],
}


def test_question_group_round_trip_and_public_view(api: Api, tenant: Tenant) -> None:
    created = api.post(f"/api/v1/admin/{tenant.id}/question_groups", GROUP, tenant.admin)
    assert created.status == 201
    group_id = created.body["id"]
    size = created.body["questions"][0]
    assert size["required"] is True and [o["price"] for o in size["options"]] == [0, 500]
    public = api.get(f"/api/v1/{tenant.id}/questions?detail_group_id={group_id}", tenant.public)
    assert public.status == 200
    assert [q["name"] for q in public.body["questions"]] == ["Size", "Notes"]  # admin_only hidden


def test_every_detail_type_is_accepted(api: Api, tenant: Tenant) -> None:
    kinds = [
        "text_field",
        "text_area",
        "select",
        "select-price",
        "radio",
        "radio-price",
        "check",
        "check-price",
        "date",
        "heading",
    ]
    questions = [
        {
            "name": kind,
            "detail_type": kind,
            "options": [{"name": "A", "price": 100 if kind.endswith("price") else 0}]
            if kind.startswith(("select", "radio", "check"))
            else [],
        }
        for kind in kinds
    ]
    created = api.post(
        f"/api/v1/admin/{tenant.id}/question_groups", {"name": "All", "questions": questions}, tenant.admin
    )
    assert created.status == 201, created.body
    assert [q["detail_type"] for q in created.body["questions"]] == kinds
    bad = api.post(
        f"/api/v1/admin/{tenant.id}/question_groups",
        {"name": "Bad", "questions": [{"name": "x", "detail_type": "slider"}]},
        tenant.admin,
    )
    assert bad.status == 422 and bad.error["field"] == "questions.0.detail_type"


def test_question_group_update_and_delete(api: Api, tenant: Tenant) -> None:
    group_id = api.post(f"/api/v1/admin/{tenant.id}/question_groups", GROUP, tenant.admin).body["id"]
    renamed = api.put(f"/api/v1/admin/{tenant.id}/question_groups/{group_id}", {"name": "Renamed"}, tenant.admin)
    assert renamed.status == 200 and renamed.body["name"] == "Renamed" and len(renamed.body["questions"]) == 3
    assert api.delete(f"/api/v1/admin/{tenant.id}/question_groups/{group_id}", tenant.admin).status == 200
    assert api.get(f"/api/v1/{tenant.id}/questions?detail_group_id={group_id}", tenant.public).status == 404


def test_missing_detail_group_is_422(api: Api, tenant: Tenant) -> None:
    refused = api.get(f"/api/v1/{tenant.id}/questions", tenant.public)
    assert refused.status == 422 and refused.error["field"] == "detail_group_id"


def test_client_details_defaults_and_configuration(api: Api, tenant: Tenant) -> None:
    default = api.get(f"/api/v1/{tenant.id}/client_details", tenant.public)
    fields = {f["name"]: f for f in default.body["fields"]}
    assert fields["email"]["required"] and fields["first_name"]["required"] and not fields["phone"]["required"]
    assert "newsletter" in fields
    configured = api.put(
        f"/api/v1/admin/{tenant.id}/client_details",
        {"fields": [{"name": "email", "required": True}, {"name": "phone", "required": True}]},
        tenant.admin,
    )
    assert configured.status == 200
    assert [f["name"] for f in configured.body["fields"]] == ["email", "phone"]
    no_email = api.put(
        f"/api/v1/admin/{tenant.id}/client_details", {"fields": [{"name": "phone", "required": True}]}, tenant.admin
    )
    assert no_email.status == 422
    # the configuration now decides what a client must give
    missing_phone = api.post(f"/api/v1/{tenant.id}/client", {"email": "a@b.example"}, tenant.public)
    assert missing_phone.status == 422 and missing_phone.error["field"] == "phone"


def test_same_email_twice_is_one_client(api: Api, tenant: Tenant) -> None:
    first = api.post(
        f"/api/v1/{tenant.id}/client",
        {"email": "Marty@Example.com", "first_name": "Marty", "last_name": "McFly"},
        tenant.public,
    )
    assert first.status == 201 and first.body["email"] == "marty@example.com"
    again = api.post(f"/api/v1/{tenant.id}/client", {"email": "marty@example.com", "phone": "555"}, tenant.public)
    assert again.status == 200 and again.body["id"] == first.body["id"]
    assert again.body["first_name"] == "Marty" and again.body["phone"] == "555"
    listing = api.get(f"/api/v1/admin/{tenant.id}/client", tenant.admin)
    assert listing.body["total_entries"] == 1


def test_client_lookups(api: Api, tenant: Tenant) -> None:
    created = api.post(
        f"/api/v1/admin/{tenant.id}/client",
        {"email": "doc@example.com", "first_name": "Emmett", "last_name": "Brown", "reference": "DOC-1"},
        tenant.admin,
    )
    client_id = created.body["id"]
    assert api.get(f"/api/v1/admin/{tenant.id}/client/{client_id}", tenant.admin).body["email"] == "doc@example.com"
    by_email = api.get(f"/api/v1/admin/{tenant.id}/client/find_by_email/doc%40example.com", tenant.admin)
    assert by_email.status == 200 and by_email.body["id"] == client_id
    by_ref = api.get(f"/api/v1/admin/{tenant.id}/client/find_by_ref/DOC-1", tenant.admin)
    assert by_ref.status == 200 and by_ref.body["id"] == client_id
    assert api.get(f"/api/v1/admin/{tenant.id}/client/find_by_ref/NOPE", tenant.admin).status == 404
    other = api.post(
        f"/api/v1/admin/{tenant.id}/client",
        {"email": "biff@example.com", "first_name": "B", "last_name": "T", "reference": "DOC-1"},
        tenant.admin,
    )
    assert other.status == 409 and other.error["field"] == "reference"


def test_company_document_links_everything(api: Api, tenant: Tenant) -> None:
    company = api.get(f"/api/v1/company/{tenant.id}", tenant.public)
    assert company.status == 200 and company.body["id"] == tenant.id
    links = company.body["_links"]
    for name in ("services", "event_chains", "events", "event_groups", "questions", "client_details", "add_item"):
        assert name in links
    assert links["services"]["templated"] is True
