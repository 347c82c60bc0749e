"""Use cases of the BookingBug catalogue: services, question groups, client details, clients."""

from __future__ import annotations

from typing import Any

from chalicelib.domain import clock
from chalicelib.domain.catalogue import (
    check_question,
    check_service_bounds,
    service_durations_and_prices,
)
from chalicelib.domain.errors import Conflict, ErrorCode, NotFound, ValidationFailed
from chalicelib.store import db, guards, keys, warm
from chalicelib.store.errors import ItemNotFound, refused
from chalicelib.store.models import Client, ClientDetails, Guard, QuestionGroup, Service, plain_map
from chalicelib.store.pages import Page, query_page
from chalicelib.store.transact import Refusal, Transaction, transact

# --- services -----------------------------------------------------------------------

_SERVICE_SCALARS = (
    "name",
    "description",
    "spaces",
    "detail_group_id",
    "booking_time_step",
    "min_advance_period",
    "max_advance_period",
    "min_cancel_period",
    "min_bookings",
    "max_bookings",
    "pre_time",
    "post_time",
    "booking_type_public",
    "booking_type_member",
    "queuing_disabled",
    "disabled",
    "order",
    "listed_durations",
    "extra",
    "person_ids",
    "resource_ids",
)


def create_service(company_id: int, fields: dict[str, Any]) -> Service:
    db.ensure_bound()
    if fields.get("detail_group_id") is not None:
        require_question_group(company_id, int(fields["detail_group_id"]))
    service_id = db.allocate_ids()
    durations, prices = service_durations_and_prices(fields, [], [])
    service = Service(keys.company_pk(company_id), keys.service_sk(service_id))
    service.company_id = company_id
    service.service_id = service_id
    service.durations, service.prices = durations, prices
    for name in _SERVICE_SCALARS:
        if fields.get(name) is not None:
            setattr(service, name, fields[name])
    _check_staff(company_id, fields)
    service.order = fields.get("order") if fields.get("order") is not None else service_id
    service.reference = fields.get("reference")
    check_service_bounds(service.attribute_values | _service_defaults(service))

    def build(tx: Transaction) -> None:
        tx.save(service, condition=Service.pk.does_not_exist())
        if service.reference:
            tx.save(_ref_guard(company_id, service.reference, service_id), condition=Guard.pk.does_not_exist())

    transact(build, lambda _: _duplicate_reference(service.reference))
    return service


def _check_staff(company_id: int, fields: dict[str, Any]) -> None:
    if fields.get("person_ids") or fields.get("resource_ids"):
        from chalicelib.services.catalogue import staff

        staff.check_staff(company_id, fields.get("person_ids"), fields.get("resource_ids"))


def _service_defaults(service: Service) -> dict[str, Any]:
    return {
        name: getattr(service, name)
        for name in ("min_bookings", "max_bookings", "min_advance_period", "max_advance_period")
    }


def _ref_guard(company_id: int, reference: str, target_id: int) -> Guard:
    return Guard(keys.company_pk(company_id), keys.service_ref_sk(reference), target_id=target_id)


def _duplicate_reference(reference: str | None) -> Conflict:
    return Conflict(
        f"a service with reference {reference!r} already exists", field="reference", code=ErrorCode.DUPLICATE_REFERENCE
    )


def get_service(company_id: int, service_id: int, *, include_deleted: bool) -> Service:
    db.ensure_bound()
    try:
        service = Service.get(keys.company_pk(company_id), keys.service_sk(service_id))
    except ItemNotFound:
        raise NotFound("service not found", field="id") from None
    if service.deleted and not include_deleted:
        raise NotFound("service not found", field="id")
    return service


def list_services(company_id: int, page: int, per_page: int, *, admin: bool) -> Page[Service]:
    visible = None if admin else (Service.deleted == False) & (Service.disabled == False)  # noqa: E712
    return query_page(Service, keys.company_pk(company_id), keys.SERVICE_PREFIX, page, per_page, visible)


def all_services(company_id: int) -> list[Service]:
    """Every service of the company, deleted too: one Query of its partition's services."""
    db.ensure_bound()
    return list(Service.query(keys.company_pk(company_id), Service.sk.startswith(keys.SERVICE_PREFIX)))


def find_service_by_ref(company_id: int, reference: str) -> Service:
    service_id = guards.target(company_id, keys.service_ref_sk(reference))
    if service_id is None:
        raise NotFound(f"no service with reference {reference!r}", field="reference")
    return get_service(company_id, service_id, include_deleted=True)


def update_service(company_id: int, service_id: int, fields: dict[str, Any]) -> Service:
    """Partial update, compare-and-set on the version read; a new reference moves its guard."""
    service = get_service(company_id, service_id, include_deleted=False)
    _check_staff(company_id, fields)
    durations, prices = service_durations_and_prices(fields, service.durations, service.prices)
    if fields.get("detail_group_id") is not None:
        require_question_group(company_id, int(fields["detail_group_id"]))
    for name in _SERVICE_SCALARS:
        if fields.get(name) is not None:
            setattr(service, name, fields[name])
    service.durations, service.prices = durations, prices
    check_service_bounds(_service_defaults(service))
    old_reference = service.reference
    new_reference = fields.get("reference", old_reference) or old_reference
    service.reference = new_reference

    def build(tx: Transaction) -> None:
        tx.save(service)  # VersionAttribute adds the compare-and-set condition
        if new_reference != old_reference:
            tx.save(_ref_guard(company_id, new_reference, service_id), condition=Guard.pk.does_not_exist())
            if old_reference:
                tx.delete(Guard(keys.company_pk(company_id), keys.service_ref_sk(old_reference)))

    def refused(_: Refusal) -> Exception:
        if new_reference != old_reference and _reference_taken(company_id, new_reference):
            return _duplicate_reference(new_reference)
        return Conflict("the service changed while you edited it; read it and retry", code=ErrorCode.VERSION_CONFLICT)

    transact(build, refused)
    return service


def _reference_taken(company_id: int, reference: str) -> bool:
    return guards.target(company_id, keys.service_ref_sk(reference)) is not None


def delete_service(company_id: int, service_id: int) -> Service:
    """Soft delete: public reads stop seeing it; admin reads show ``deleted: true``.

    The reference stays reserved so that find_by_ref still finds the deleted service.
    """
    service = get_service(company_id, service_id, include_deleted=True)
    if service.deleted:
        return service
    if refused(lambda: service.update(actions=[Service.deleted.set(True)])):
        raise Conflict("the service changed while you deleted it; retry", code=ErrorCode.VERSION_CONFLICT)
    return service


# --- question groups -------------------------------------------------------------------


def _numbered_questions(questions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for index, question in enumerate(questions):
        check_question(index, question)
    needed = len(questions) + sum(len(q.get("options") or []) for q in questions)
    next_id = db.allocate_ids(needed) if needed else 0
    numbered = []
    for question in questions:
        options = []
        question_id, next_id = next_id, next_id + 1
        for option in question.get("options") or []:
            options.append({**option, "id": next_id})
            next_id += 1
        numbered.append({**question, "id": question_id, "options": options})
    return numbered


def create_question_group(company_id: int, name: str, questions: list[dict[str, Any]]) -> QuestionGroup:
    db.ensure_bound()
    group_id = db.allocate_ids()
    group = QuestionGroup(
        keys.company_pk(company_id),
        keys.question_group_sk(group_id),
        company_id=company_id,
        group_id=group_id,
        name=name,
        questions=_numbered_questions(questions),
    )
    group.save(condition=QuestionGroup.pk.does_not_exist())
    return group


def require_question_group(company_id: int, group_id: int) -> None:
    """The one rule for a ``detail_group_id`` given to a service or an event chain: a question
    group of the same company (another company's group would fail every booker's checkout)."""
    try:
        get_question_group(company_id, group_id)
    except NotFound:
        raise ValidationFailed("no such question group", field="detail_group_id") from None


def get_question_group(company_id: int, group_id: int) -> QuestionGroup:
    db.ensure_bound()
    try:
        return QuestionGroup.get(keys.company_pk(company_id), keys.question_group_sk(group_id))
    except ItemNotFound:
        raise NotFound("question group not found", field="detail_group_id") from None


def question_group_for_sale(company_id: int, group_id: int) -> QuestionGroup:
    """``get_question_group``, as read at most ``warm.SECONDS`` ago by this process (checkout)."""
    return warm.read(company_id, f"qgroup {group_id}", lambda: get_question_group(company_id, group_id))


def list_question_groups(company_id: int, page: int, per_page: int) -> Page[QuestionGroup]:
    return query_page(QuestionGroup, keys.company_pk(company_id), keys.QUESTION_GROUP_PREFIX, page, per_page)


def update_question_group(
    company_id: int, group_id: int, name: str | None, questions: list[dict[str, Any]] | None
) -> QuestionGroup:
    """Replace the name and/or the whole question list (new question ids are issued)."""
    group = get_question_group(company_id, group_id)
    if name is not None:
        group.name = name
    if questions is not None:
        group.questions = _numbered_questions(questions)
    if refused(group.save):
        raise Conflict("the question group changed meanwhile; read it and retry", code=ErrorCode.VERSION_CONFLICT)
    warm.forget(company_id)
    return group


def delete_question_group(company_id: int, group_id: int) -> None:
    group = get_question_group(company_id, group_id)
    group.delete()
    warm.forget(company_id)


# --- client details -------------------------------------------------------------------

DEFAULT_CLIENT_FIELDS: tuple[tuple[str, str, bool], ...] = (
    ("first_name", "First name", True),
    ("last_name", "Last name", True),
    ("email", "Email", True),
    ("phone", "Phone", False),
    ("mobile", "Mobile", False),
    ("address1", "Address", False),
    ("address2", "Address line 2", False),
    ("address3", "Town", False),
    ("address4", "County", False),
    ("postcode", "Postcode", False),
    ("country", "Country", False),
    ("newsletter", "Send me the newsletter", False),
)
_LABELS = {name: label for name, label, _ in DEFAULT_CLIENT_FIELDS} | {
    "address5": "Address line 5",
    "date_of_birth": "Date of birth",
}


def client_fields(company_id: int) -> list[dict[str, Any]]:
    """The company's client fields, as read at most ``warm.SECONDS`` ago by this process:
    every checkout of a new client checks them."""
    return warm.read(company_id, "client fields", lambda: _stored_client_fields(company_id))


def _stored_client_fields(company_id: int) -> list[dict[str, Any]]:
    db.ensure_bound()
    try:
        stored = ClientDetails.get(keys.company_pk(company_id), keys.CLIENT_DETAILS_SK)
    except ItemNotFound:
        return [
            {"name": name, "label": label, "required": required, "enabled": True}
            for name, label, required in DEFAULT_CLIENT_FIELDS
        ]
    return [plain_map(field) for field in stored.fields]


def configure_client_fields(company_id: int, fields: list[dict[str, Any]]) -> list[dict[str, Any]]:
    names = [field["name"] for field in fields]
    if len(set(names)) != len(names):
        raise ValidationFailed("each client field may be listed once", field="fields")
    by_name = {field["name"]: field for field in fields}
    email = by_name.get("email")
    if email is None or not email["enabled"] or not email["required"]:
        # Clients are identified by email; a company cannot switch that off.
        raise ValidationFailed("the email field must be enabled and required", field="fields")
    resolved = [
        {
            "name": field["name"],
            "label": field.get("label") or _LABELS[field["name"]],
            "required": bool(field["required"]) and bool(field["enabled"]),
            "enabled": bool(field["enabled"]),
        }
        for field in fields
    ]
    db.ensure_bound()
    ClientDetails(keys.company_pk(company_id), keys.CLIENT_DETAILS_SK, company_id=company_id, fields=resolved).save(
        add_version_condition=False
    )
    warm.forget(company_id)
    return resolved


# --- clients -------------------------------------------------------------------------------


def _check_required(company_id: int, details: dict[str, Any]) -> None:
    for field in client_fields(company_id):
        if field["required"] and field["enabled"] and details.get(field["name"]) in (None, ""):
            raise ValidationFailed(f"{field['name']} is required", field=field["name"])


def upsert_client(company_id: int, fields: dict[str, Any]) -> tuple[Client, bool]:
    """Create the client, or update the one with this email. True when created.

    Two racing creates for one email: the email guard lets exactly one create;
    the other finds the winner and updates it.
    """
    db.ensure_bound()
    email = str(fields["email"]).lower()
    details = {
        name: value for name, value in fields.items() if name not in ("email", "reference") and value is not None
    }
    for _attempt in range(3):
        existing = _client_by_email(company_id, email)
        if existing is not None:
            return _update_client(existing, details, fields.get("reference")), False
        _check_required(company_id, details | {"email": email})
        created = _try_create_client(company_id, email, details, fields.get("reference"))
        if created is not None:
            return created, True
    raise Conflict("the client is being changed concurrently; retry", code=ErrorCode.VERSION_CONFLICT)


def _try_create_client(company_id: int, email: str, details: dict[str, Any], reference: str | None) -> Client | None:
    client_id = db.allocate_ids(spread=True)  # a checkout makes clients at the sale's rate
    now = db.iso(clock.utcnow())
    client = Client(
        keys.client_pk(company_id, client_id),
        keys.client_sk(client_id),
        gsi1pk=keys.company_clients(company_id, keys.spread(str(client_id), keys.CLIENT_LISTING_PARTITIONS)),
        gsi1sk=keys.client_sk(client_id),
        company_id=company_id,
        client_id=client_id,
        email=email,
        reference=reference,
        details=details,
        created_at=now,
        updated_at=now,
    )

    def build(tx: Transaction) -> None:
        tx.save(client, condition=Client.pk.does_not_exist())
        tx.save(
            Guard(keys.client_email_pk(company_id, email), keys.client_email_sk(email), target_id=client_id),
            condition=Guard.pk.does_not_exist(),
        )
        if reference:
            tx.save(
                Guard(keys.company_pk(company_id), keys.client_ref_sk(reference), target_id=client_id),
                condition=Guard.pk.does_not_exist(),
            )

    def refused(_: Refusal) -> Exception | None:
        if reference and _client_by_guard(company_id, keys.client_ref_sk(reference)) is not None:
            return Conflict(
                f"a client with reference {reference!r} exists", field="reference", code=ErrorCode.DUPLICATE_REFERENCE
            )
        return None  # lost the race for the email: update the winner instead

    return client if transact(build, refused) else None


def _update_client(client: Client, details: dict[str, Any], reference: str | None) -> Client:
    """Merge the given fields into the stored client, field by field, in one write.

    An upsert is a merge, not a replace: each field is SET on its own, so two
    concurrent upserts of one client both land (last write wins per field)
    instead of one failing a version check.
    """
    current = plain_map(client.details)
    _check_required(client.company_id, current | details | {"email": client.email})
    now = db.iso(clock.utcnow())
    actions = [Client.details[name].set(value) for name, value in details.items()]
    actions.append(Client.updated_at.set(now))  # PynamoDB adds the version increment
    old_reference = client.reference
    moves_reference = reference is not None and reference != old_reference
    if reference is not None and moves_reference:
        actions.append(Client.reference.set(reference))
    company_pk = keys.company_pk(client.company_id)

    def build(tx: Transaction) -> None:
        # The reference guard is moved under the reference read, so a concurrent
        # reference change makes one of the two fail rather than orphan a guard.
        condition = Client.pk.exists()
        if moves_reference:
            condition &= Client.reference == old_reference if old_reference else Client.reference.does_not_exist()
            tx.save(
                Guard(company_pk, keys.client_ref_sk(reference or ""), target_id=client.client_id),
                condition=Guard.pk.does_not_exist(),
            )
            if old_reference:
                tx.delete(Guard(company_pk, keys.client_ref_sk(old_reference)))
        tx.update(client, actions=actions, condition=condition, add_version_condition=False)

    def refused(_: Refusal) -> Exception:
        if moves_reference and _client_by_guard(client.company_id, keys.client_ref_sk(reference or "")):
            return Conflict(
                f"a client with reference {reference!r} exists", field="reference", code=ErrorCode.DUPLICATE_REFERENCE
            )
        return Conflict("the client's reference changed meanwhile; retry", code=ErrorCode.VERSION_CONFLICT)

    transact(build, refused)
    return get_client(client.company_id, client.client_id)


def _client_by_guard(company_id: int, guard_sk: str) -> Client | None:
    client_id = guards.target(company_id, guard_sk)
    return None if client_id is None else get_client(company_id, client_id)


def _client_by_email(company_id: int, email: str) -> Client | None:
    client_id = guards.target(company_id, keys.client_email_sk(email), pk=keys.client_email_pk(company_id, email))
    return None if client_id is None else get_client(company_id, client_id)


def get_client(company_id: int, client_id: int) -> Client:
    db.ensure_bound()
    try:
        return Client.get(keys.client_pk(company_id, client_id), keys.client_sk(client_id))
    except ItemNotFound:
        raise NotFound("client not found", field="id") from None


def find_client(company_id: int, *, email: str | None = None, reference: str | None = None) -> Client:
    db.ensure_bound()
    if email is not None:
        client = _client_by_email(company_id, email)
    else:
        client = _client_by_guard(company_id, keys.client_ref_sk(reference or ""))
    if client is None:
        raise NotFound("client not found", field="email" if email is not None else "reference")
    return client


def list_clients(company_id: int, page: int, per_page: int) -> Page[Client]:
    """By id, merged over the company's client listing partitions (one COUNT and one Query each)."""
    return query_page(
        Client, keys.company_client_partitions(company_id), keys.CLIENT_PREFIX, page, per_page, index=Client.listing
    )
