"""Resources: people and things that can be booked, for both faces.

One item per resource under its company's partition (``CO#<company>`` /
``RESOURCE#<id>``). Its id is an integer from the global counter, like every
catalogue id: BookingBug uses it as it is, and the Timekit face shows it as a
string of digits (Timekit clients treat ids as opaque strings), so one id serves
both faces and no second lookup item is needed. A reference, when given, is unique
per company (a guard item, as for services) and finds the resource.

Deleting is soft: bookings keep naming the resource, find_by_ref still finds it,
and it is no longer listed, bookable or offered by availability.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from chalicelib.domain import clock
from chalicelib.domain.errors import Conflict, ErrorCode, NotFound, ValidationFailed
from chalicelib.domain.schedules import Constraint, parse_constraints, zone_of
from chalicelib.store import db, guards, keys
from chalicelib.store.errors import ItemNotFound, refused
from chalicelib.store.models import Guard, Resource, plain
from chalicelib.store.pages import Page, query_page
from chalicelib.store.transact import Refusal, transact

KINDS = ("person", "resource")
FIELDS = (
    "name",
    "email",
    "timezone",
    "constraints",
    "first_name",
    "last_name",
    "image",
    "reference",
    "meta",
    "extra",
    "disabled",
)
MAX_BATCH = 100  # BatchGetItem's limit; availability asks about fewer resources than that


def _check(fields: Mapping[str, Any]) -> None:
    if "timezone" in fields:
        zone_of(fields["timezone"], "timezone")
    if "constraints" in fields:
        parse_constraints(fields["constraints"], "availability_constraints")
    if "name" in fields and not str(fields["name"] or "").strip():
        raise ValidationFailed("a resource has a name", field="name")


def create(company_id: int, fields: Mapping[str, Any], *, kind: str = "resource") -> Resource:
    """A new resource; ``fields`` as in ``FIELDS`` (name and timezone required)."""
    if kind not in KINDS:
        raise ValueError(f"kind is one of {KINDS}")
    for required in ("name", "timezone"):
        if not fields.get(required):
            raise ValidationFailed(f"{required} is required", field=required)
    _check(fields)
    db.ensure_bound()
    resource_id = db.allocate_ids()
    now = db.iso(clock.utcnow())
    resource = Resource(
        keys.company_pk(company_id),
        keys.resource_sk(resource_id),
        company_id=company_id,
        resource_id=resource_id,
        resource_kind=kind,
        created_at=now,
        updated_at=now,
    )
    for name in FIELDS:
        if fields.get(name) is not None:
            setattr(resource, name, fields[name])

    def writes(tx: Any) -> None:
        tx.save(resource, condition=Resource.pk.does_not_exist())
        if resource.reference:
            tx.save(_guard(company_id, resource.reference, resource_id), condition=Guard.pk.does_not_exist())

    transact(writes, lambda _: _duplicate(resource.reference))
    return resource


def get(company_id: int, resource_id: int, *, include_deleted: bool = False, field: str = "id") -> Resource:
    db.ensure_bound()
    try:
        resource = Resource.get(keys.company_pk(company_id), keys.resource_sk(resource_id))
    except ItemNotFound:
        raise NotFound("resource not found", field=field) from None
    if resource.deleted and not include_deleted:
        raise NotFound("resource not found", field=field)
    return resource


def bookable(company_id: int, resource_id: int, field: str = "resource_id") -> Resource:
    """A resource a booking may claim: this company's, not deleted; 404 naming ``field`` otherwise."""
    resource = get(company_id, resource_id, field=field)
    if resource.disabled:
        raise Conflict("this resource is not taking bookings", field=field, code=ErrorCode.RESOURCE_DISABLED)
    return resource


def many(company_id: int, resource_ids: Sequence[int], field: str = "resources") -> list[Resource]:
    """Several resources in the order asked, with one BatchGetItem; 404 for any unknown or deleted."""
    db.ensure_bound()
    if len(resource_ids) > MAX_BATCH:
        raise ValidationFailed(f"at most {MAX_BATCH} resources at once", field=field)
    wanted = list(dict.fromkeys(resource_ids))
    found = {
        item.resource_id: item
        for item in Resource.batch_get([(keys.company_pk(company_id), keys.resource_sk(rid)) for rid in wanted])
    }
    for index, rid in enumerate(wanted):
        if rid not in found or found[rid].deleted:
            raise NotFound(f"resource {rid} not found", field=f"{field}.{index}")
    return [found[rid] for rid in wanted]


def listing(
    company_id: int, page: int, per_page: int, *, kind: str | None = None, admin: bool = True
) -> Page[Resource]:
    condition = Resource.deleted.is_in(False)
    if kind is not None:
        condition &= Resource.resource_kind == kind
    if not admin:
        condition &= Resource.disabled.is_in(False)
    return query_page(Resource, keys.company_pk(company_id), keys.RESOURCE_PREFIX, page, per_page, condition)


def find_by_ref(company_id: int, reference: str) -> Resource:
    resource_id = guards.target(company_id, keys.resource_ref_sk(reference))
    if resource_id is None:
        raise NotFound(f"no resource with reference {reference!r}", field="reference")
    return get(company_id, resource_id, include_deleted=True)


def update(company_id: int, resource_id: int, fields: Mapping[str, Any]) -> Resource:
    """Partial update, compare-and-set on the version read; a new reference moves its guard."""
    _check(fields)
    resource = get(company_id, resource_id)
    old_reference = resource.reference
    for name in FIELDS:
        if fields.get(name) is not None:
            setattr(resource, name, fields[name])
    resource.updated_at = db.iso(clock.utcnow())
    new_reference = resource.reference

    def writes(tx: Any) -> None:
        tx.save(resource)  # its VersionAttribute makes this compare-and-set
        if new_reference != old_reference:
            if new_reference:
                tx.save(_guard(company_id, new_reference, resource_id), condition=Guard.pk.does_not_exist())
            if old_reference:
                tx.delete(Guard(keys.company_pk(company_id), keys.resource_ref_sk(old_reference)))

    def refused(_: Refusal) -> Conflict:
        if new_reference and new_reference != old_reference and _reference_taken(company_id, new_reference):
            return _duplicate(new_reference)
        return Conflict("the resource changed while you edited it; read it and retry", code=ErrorCode.VERSION_CONFLICT)

    transact(writes, refused)
    return resource


def delete(company_id: int, resource_id: int) -> Resource:
    """Soft delete (idempotent); the reference stays reserved."""
    resource = get(company_id, resource_id, include_deleted=True)
    if resource.deleted:
        return resource
    if refused(
        lambda: resource.update(actions=[Resource.deleted.set(True), Resource.updated_at.set(db.iso(clock.utcnow()))])
    ):
        raise Conflict("the resource changed while you deleted it; retry", code=ErrorCode.VERSION_CONFLICT)
    return resource


def constraints_of(resource: Resource) -> list[Constraint]:
    return parse_constraints([plain(c) for c in resource.constraints], "availability_constraints")


def summary(resource: Resource) -> dict[str, Any]:
    """How a booking or an availability slot names its resource."""
    return {"id": str(resource.resource_id), "name": resource.name, "timezone": resource.timezone}


def _guard(company_id: int, reference: str, resource_id: int) -> Guard:
    return Guard(keys.company_pk(company_id), keys.resource_ref_sk(reference), target_id=resource_id)


def _reference_taken(company_id: int, reference: str) -> bool:
    return guards.target(company_id, keys.resource_ref_sk(reference)) is not None


def _duplicate(reference: str | None) -> Conflict:
    return Conflict(
        f"a resource with reference {reference!r} already exists", field="reference", code=ErrorCode.DUPLICATE_REFERENCE
    )
