"""BookingBug v1 face: people and resources (public and admin), the company's opening
hours, and availability (time_data, day_data) over the one resource model."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote
from zoneinfo import ZoneInfo

from chalice import Blueprint

from chalicelib.api.http.hal import link, page_links, v1_root
from chalicelib.api.http.route import Call, LazyModule, route
from chalicelib.domain.errors import Conflict, ErrorCode, NotFound, ValidationFailed
from chalicelib.services.identity.auth import Scheme
from chalicelib.store.models import Resource, Service, plain_map

if TYPE_CHECKING:
    from chalicelib.api.bookingbug import schemas_staff as s
    from chalicelib.services.catalogue import catalogue, resources, staff
    from chalicelib.services.identity import companies
    from chalicelib.services.selling import slots
else:
    s = LazyModule("chalicelib.api.bookingbug.schemas_staff")  # built on first request, not at cold start
    catalogue = LazyModule("chalicelib.services.catalogue.catalogue")
    resources = LazyModule("chalicelib.services.catalogue.resources")
    staff = LazyModule("chalicelib.services.catalogue.staff")
    companies = LazyModule("chalicelib.services.identity.companies")
    slots = LazyModule("chalicelib.services.selling.slots")

bp = Blueprint(__name__)
TAG = "bookingbug"
PUBLIC = Scheme.V1_PUBLIC
ADMIN = Scheme.V1_ADMIN
# BookingBug's names: the collection in the path, the kind stored, the HAL key, the models.
KINDS = {
    "people": ("person", "people", "schemas_staff:PeopleList"),
    "resources": ("resource", "resources", "schemas_staff:StaffResourceList"),
}
# Fields the engine reads; everything else a face sends is kept in ``extra`` as given.
_OWN = {"name", "email", "timezone", "availability_constraints", "reference", "api_ref", "disabled"}


def _fields(company_id: int, body: Any, *, creating: bool) -> dict[str, Any]:
    given = body.model_dump(exclude_none=True, mode="json")
    fields: dict[str, Any] = {name: given[name] for name in ("name", "email", "disabled") if name in given}
    if "availability_constraints" in given:
        fields["constraints"] = given["availability_constraints"]
    if given.get("reference") or given.get("api_ref"):
        fields["reference"] = given.get("reference") or given.get("api_ref")
    if "timezone" in given:
        fields["timezone"] = given["timezone"]
    elif creating:
        fields["timezone"] = companies.get_company(company_id).timezone
    extra = {name: value for name, value in given.items() if name not in _OWN}
    if extra:
        fields["extra"] = extra
    return fields


def _out(call: Call, item: Resource, service_ids: list[int], admin: bool) -> Any:
    cid, rid = item.company_id, item.resource_id
    collection = "people" if item.resource_kind == "person" else "resources"
    own = f"{v1_root(call)}/admin/{cid}/{collection}/{rid}" if admin else f"{v1_root(call)}/{cid}/{collection}/{rid}"
    extra = plain_map(item.extra)
    constraints = [plain_map(c) for c in item.constraints or []]
    query = "person_id" if item.resource_kind == "person" else "resource_id"
    return s.StaffOut.model_validate(
        {
            **extra,
            "id": rid,
            "name": item.name,
            "type": item.resource_kind,
            "deleted": bool(item.deleted),
            "disabled": bool(item.disabled),
            "company_id": cid,
            "order": int(extra.get("position", rid)) if isinstance(extra.get("position", rid), int) else rid,
            "email": item.email,
            "reference": item.reference,
            "timezone": item.timezone,
            "availability_constraints": constraints,
            "service_ids": service_ids,
            "_links": {
                "self": link(own),
                "edit": link(f"{v1_root(call)}/admin/{cid}/{collection}/{rid}"),
                "items": link(f"{v1_root(call)}/{cid}/time_data?{query}={rid}{{&service_id,date,end_date}}", True),
            },
        }
    )


def _services_of(company_id: int) -> dict[int, list[int]]:
    """Resource id -> the services it delivers: one Query of the company's services."""
    delivered: dict[int, list[int]] = {}
    for service in catalogue.all_services(company_id):
        for rid in staff.staff_ids(service):
            delivered.setdefault(rid, []).append(service.service_id)
    return delivered


def _one(call: Call, company_id: int, item: Resource, kind: str, admin: bool) -> Any:
    if item.resource_kind != kind:
        raise NotFound(f"{kind} not found", field="id")
    return _out(call, item, _services_of(company_id).get(item.resource_id, []), admin)


def _register(collection: str) -> None:
    kind, key, list_ref = KINDS[collection]
    single = "Person" if kind == "person" else "StaffResource"
    create_ref, update_ref = f"bookingbug.schemas_staff:{single}Create", f"bookingbug.schemas_staff:{single}Update"
    list_ref = f"bookingbug.{list_ref}"
    one_ref = "bookingbug.schemas_staff:StaffOut"
    id_name = "person_id" if kind == "person" else "resource_id"

    def listing(call: Call, company_id: int, admin: bool) -> Any:
        query = call.query(s.StaffQuery)
        page = resources.listing(company_id, query.page, query.per_page, kind=kind, admin=admin)
        delivered = _services_of(company_id)
        path = f"/admin/{company_id}/{collection}" if admin else f"/{company_id}/{collection}"
        model = s.PeopleList if kind == "person" else s.StaffResourceList
        return model.model_validate(
            {
                "total_entries": page.total,
                "_embedded": {key: [_out(call, r, delivered.get(r.resource_id, []), admin) for r in page.items]},
                "_links": page_links(call, path, page),
            }
        )

    def public_list(call: Call, company_id: int) -> Any:
        return listing(call, company_id, admin=False)

    def admin_list(call: Call, company_id: int) -> Any:
        return listing(call, company_id, admin=True)

    def public_one(call: Call, company_id: int, **ids: int) -> Any:
        item = resources.get(company_id, ids[id_name])
        if item.disabled:
            raise NotFound(f"{kind} not found", field="id")
        return _one(call, company_id, item, kind, admin=False)

    def admin_one(call: Call, company_id: int, **ids: int) -> Any:
        return _one(call, company_id, resources.get(company_id, ids[id_name]), kind, admin=True)

    def admin_create(call: Call, company_id: int) -> Any:
        body = call.body(getattr(s, f"{single}Create"))
        created = resources.create(company_id, _fields(company_id, body, creating=True), kind=kind)
        return _out(call, created, [], admin=True)

    def admin_update(call: Call, company_id: int, **ids: int) -> Any:
        current = resources.get(company_id, ids[id_name])
        _one(call, company_id, current, kind, admin=True)  # 404 for the other kind
        fields = _fields(company_id, call.body(getattr(s, f"{single}Update")), creating=False)
        if "extra" in fields:  # kept fields not given stay as they were
            kept = plain_map(current.extra)
            fields["extra"] = {**kept, **fields["extra"]}
        updated = resources.update(company_id, ids[id_name], fields)
        return _one(call, company_id, updated, kind, admin=True)

    def admin_delete(call: Call, company_id: int, **ids: int) -> Any:
        _one(call, company_id, resources.get(company_id, ids[id_name]), kind, admin=True)
        return _one(call, company_id, resources.delete(company_id, ids[id_name]), kind, admin=True)

    public = f"/api/v1/{{company_id}}/{collection}"
    admin = f"/api/v1/admin/{{company_id}}/{collection}"
    item_path = f"{{{id_name}}}"
    query = "bookingbug.schemas_staff:StaffQuery"
    for function, path, method, summary, scheme, extra in (
        (
            public_list,
            public,
            "GET",
            f"Bookable {collection} (not disabled)",
            PUBLIC,
            {"query": query, "response": list_ref},
        ),
        (public_one, f"{public}/{item_path}", "GET", f"One {kind}", PUBLIC, {"response": one_ref}),
        (admin_list, admin, "GET", f"All {collection}, disabled too", ADMIN, {"query": query, "response": list_ref}),
        (
            admin_create,
            admin,
            "POST",
            f"Create a {kind}: its schedule is its constraints, else the company's opening hours",
            ADMIN,
            {"request": create_ref, "response": one_ref, "status": 201},
        ),
        (admin_one, f"{admin}/{item_path}", "GET", f"One {kind}, deleted too", ADMIN, {"response": one_ref}),
        (
            admin_update,
            f"{admin}/{item_path}",
            "PUT",
            f"Update a {kind} (fields given only)",
            ADMIN,
            {"request": update_ref, "response": one_ref},
        ),
        (
            admin_delete,
            f"{admin}/{item_path}",
            "DELETE",
            f"Soft-delete a {kind}: its bookings keep it; no new ones",
            ADMIN,
            {"response": one_ref},
        ),
    ):
        function.__name__ = f"{function.__name__}_{collection}"
        errors = (404, 409) if method in ("POST", "PUT", "DELETE") else (404,)
        route(bp, path, method, summary=summary, scheme=scheme, tag=TAG, errors=errors, **extra)(function)


_register("people")
_register("resources")


@route(
    bp,
    "/api/v1/admin/{company_id}/people/find_by_ref/{reference}",
    "GET",
    summary="Find a person by reference",
    scheme=ADMIN,
    tag=TAG,
    response="bookingbug.schemas_staff:StaffOut",
    errors=(404,),
    path_types={"reference": "string"},
)
def person_by_ref(call: Call, company_id: int, reference: str) -> Any:
    return _one(call, company_id, resources.find_by_ref(company_id, unquote(reference)), "person", admin=True)


# --- opening hours ------------------------------------------------------------------------


def _hours(call: Call, company_id: int) -> Any:
    company = companies.get_company(company_id)
    return s.OpeningHoursOut.model_validate(
        {
            "timezone": company.timezone,
            "availability_constraints": staff.opening_hours(company),
            "_links": {"self": link(f"{v1_root(call)}/admin/{company_id}/opening_hours")},
        }
    )


@route(
    bp,
    "/api/v1/admin/{company_id}/opening_hours",
    "GET",
    summary="The company's default opening hours (Timekit constraints in the company's zone)",
    scheme=ADMIN,
    tag=TAG,
    response="bookingbug.schemas_staff:OpeningHoursOut",
    errors=(404,),
)
def get_opening_hours(call: Call, company_id: int) -> Any:
    return _hours(call, company_id)


@route(
    bp,
    "/api/v1/admin/{company_id}/opening_hours",
    "PUT",
    summary="Replace the company's default opening hours",
    scheme=ADMIN,
    tag=TAG,
    request="bookingbug.schemas_staff:OpeningHoursIn",
    response="bookingbug.schemas_staff:OpeningHoursOut",
    errors=(404, 409),
)
def put_opening_hours(call: Call, company_id: int) -> Any:
    staff.set_opening_hours(company_id, call.body(s.OpeningHoursIn).availability_constraints)
    return _hours(call, company_id)


# --- time_data and day_data ---------------------------------------------------------------------


def _duration_and_price(service: Service, asked: int | None) -> tuple[int, int]:
    if not service.durations:
        raise Conflict("this service has no duration to book", field="service_id", code=ErrorCode.SERVICE_DISABLED)
    duration = service.durations[0] if asked is None else asked
    return duration, slots.rules(service, duration).price


def _minutes(moment: datetime, zone: ZoneInfo) -> int:
    local = moment.astimezone(zone)
    return local.hour * 60 + local.minute


@route(
    bp,
    "/api/v1/{company_id}/time_data",
    "GET",
    summary="Free times of a service per person/resource and day (minutes after local midnight, minor units)",
    scheme=PUBLIC,
    tag=TAG,
    query="bookingbug.schemas_staff:TimeDataQuery",
    response="bookingbug.schemas_staff:TimeData",
    errors=(404,),
)
def time_data(call: Call, company_id: int) -> Any:
    query = call.query(s.TimeDataQuery)
    company = companies.get_company(company_id)
    service = catalogue.get_service(company_id, query.service_id, include_deleted=False)
    duration, price = _duration_and_price(service, query.duration)
    days = staff.local_days(company, query.date, query.end_date, staff.MAX_TIME_DAYS, "end_date")
    chosen = staff.pick(service, query.person_id, query.resource_id)
    zone = ZoneInfo(company.timezone)
    api = f"{v1_root(call)}/{company_id}"
    events = []
    for found in staff.free_times(company, service, duration, days, chosen):
        rid = found.resource.resource_id
        which = "person_id" if found.resource.resource_kind == "person" else "resource_id"
        times = [
            {"time": _minutes(start, zone), "avail": 1, "price": price, "datetime": start.astimezone(zone).isoformat()}
            for start in found.starts
        ]
        events.append(
            {
                "event_id": rid,
                "name": found.resource.name,
                "date": found.day.isoformat(),
                which: rid,
                "times": times,
                "_links": {
                    "self": link(
                        f"{api}/time_data?service_id={query.service_id}&{which}={rid}"
                        f"&date={found.day.isoformat()}&duration={duration}"
                    )
                },
            }
        )
    return s.TimeData.model_validate({"_embedded": {"events": events}, "_links": {"self": link(_self(call))}})


def _self(call: Call) -> str:
    query = "&".join(f"{k}={v}" for k, v in (call.request.query_params or {}).items())
    return f"{call.base_url}{call.request.path}" + (f"?{query}" if query else "")


def _month(text: str) -> tuple[str, str]:
    month, year = int(text[:2]), 2000 + int(text[2:])
    if not 1 <= month <= 12:
        raise ValidationFailed("month is MMYY", field="month")
    first = date(year, month, 1)
    following = date(year + month // 12, month % 12 + 1, 1)
    return first.isoformat(), date.fromordinal(following.toordinal() - 1).isoformat()


@route(
    bp,
    "/api/v1/{company_id}/day_data",
    "GET",
    summary="Which days of a service have any free time (spaces = free start times that day)",
    scheme=PUBLIC,
    tag=TAG,
    query="bookingbug.schemas_staff:DayDataQuery",
    response="bookingbug.schemas_staff:DayData",
    errors=(404,),
)
def day_data(call: Call, company_id: int) -> Any:
    query = call.query(s.DayDataQuery)
    company = companies.get_company(company_id)
    service = catalogue.get_service(company_id, query.service_id, include_deleted=False)
    duration, _price = _duration_and_price(service, query.duration)
    first, last = query.date, query.edate
    if query.month:
        first, last = _month(query.month)
    elif last is None:
        start = date.fromisoformat(first) if first else datetime.now(ZoneInfo(company.timezone)).date()
        first, last = start.isoformat(), date.fromordinal(start.toordinal() + 27).isoformat()
    days = staff.local_days(company, first, last, staff.MAX_DAY_DAYS, "edate")
    chosen = staff.pick(service, query.person_id, query.resource_id)
    starts: dict[date, set[datetime]] = {day: set() for day in days}
    for found in staff.free_times(company, service, duration, days, chosen):
        starts[found.day].update(found.starts)
    listed = [{"date": day.isoformat(), "spaces": len(starts[day])} for day in days]
    return s.DayData.model_validate(
        {
            "_embedded": {
                "day_data": [
                    {
                        "service_id": service.service_id,
                        "name": service.name,
                        "days": listed,
                        "_links": {"self": link(_self(call))},
                    }
                ]
            },
            "days": listed,
            "_links": {"self": link(_self(call))},
        }
    )
