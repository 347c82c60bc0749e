"""Timekit v2 face: resources (people and things that can be booked) and availability."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint

from chalicelib.api.http.hal import v2_page
from chalicelib.api.http.route import Call, LazyModule, route
from chalicelib.domain.errors import NotFound
from chalicelib.services.identity.auth import Scheme

if TYPE_CHECKING:
    from chalicelib.api.timekit import schemas as s
    from chalicelib.services.catalogue import resources
    from chalicelib.services.selling import availability
    from chalicelib.store.models import Resource
else:
    s = LazyModule("chalicelib.api.timekit.schemas")
    resources = LazyModule("chalicelib.services.catalogue.resources")
    availability = LazyModule("chalicelib.services.selling.availability")

bp = Blueprint(__name__)
TAG = "timekit"
V2 = Scheme.V2


def _cid(call: Call) -> int:
    assert call.auth.company_id is not None
    return call.auth.company_id


def _plain(value: Any) -> Any:
    return value.as_dict() if hasattr(value, "as_dict") else value


def _data(resource: Resource) -> Any:
    return s.ResourceData(
        id=str(int(resource.resource_id)),
        name=resource.name,
        email=resource.email,
        first_name=resource.first_name,
        last_name=resource.last_name,
        timezone=resource.timezone,
        image=resource.image,
        availability_constraints=[_plain(c) for c in resource.constraints],
        meta=_plain(resource.meta) or {},
        created_at=resource.created_at,
        updated_at=resource.updated_at,
    )


def _fields(body: Any) -> dict[str, Any]:
    fields: dict[str, Any] = body.model_dump(exclude_none=True, exclude={"availability_constraints"})
    if body.availability_constraints is not None:
        fields["constraints"] = body.availability_constraints
    return fields


@route(
    bp,
    "/v2/resources",
    "POST",
    summary="Create a resource: a person or thing with a time zone and availability constraints",
    scheme=V2,
    tag=TAG,
    request="timekit.schemas:ResourceCreate",
    response="timekit.schemas:ResourceOut",
    status=201,
    errors=(409,),
)
def create_resource(call: Call) -> Any:
    body = call.body(s.ResourceCreate)
    return s.ResourceOut(data=_data(resources.create(_cid(call), _fields(body))))


@route(
    bp,
    "/v2/resources",
    "GET",
    summary="The company's resources, paged",
    scheme=V2,
    tag=TAG,
    query="http.schemas:PageQuery",
    response="timekit.schemas:ResourceList",
)
def list_resources(call: Call) -> Any:
    from chalicelib.api.http.schemas import PageQuery

    query = call.query(PageQuery)
    page = resources.listing(_cid(call), query.page, query.per_page)
    return s.ResourceList.model_validate(v2_page(call, "/v2/resources", page, [_data(item) for item in page.items]))


@route(
    bp,
    "/v2/resources/{resource_id}",
    "GET",
    summary="One resource",
    scheme=V2,
    tag=TAG,
    response="timekit.schemas:ResourceOut",
    errors=(404,),
)
def get_resource(call: Call, resource_id: int) -> Any:
    return s.ResourceOut(data=_data(resources.get(_cid(call), resource_id)))


@route(
    bp,
    "/v2/resources/{resource_id}",
    "PUT",
    summary="Change a resource (fields given only); compare-and-set on its version",
    scheme=V2,
    tag=TAG,
    request="timekit.schemas:ResourceUpdate",
    response="timekit.schemas:ResourceOut",
    errors=(404, 409),
)
def update_resource(call: Call, resource_id: int) -> Any:
    body = call.body(s.ResourceUpdate)
    return s.ResourceOut(data=_data(resources.update(_cid(call), resource_id, _fields(body))))


@route(
    bp,
    "/v2/resources/{resource_id}",
    "DELETE",
    summary="Delete a resource (its bookings keep naming it; it is no longer bookable)",
    scheme=V2,
    tag=TAG,
    response="timekit.schemas:ResourceOut",
    errors=(404, 409),
)
def delete_resource(call: Call, resource_id: int) -> Any:
    return s.ResourceOut(data=_data(resources.delete(_cid(call), resource_id)))


@route(
    bp,
    "/v2/availability",
    "POST",
    summary="Free slots of the given resources, in Timekit's modes",
    scheme=V2,
    tag=TAG,
    request="timekit.schemas:AvailabilityIn",
    response="timekit.schemas:AvailabilityOut",
    errors=(404,),
)
def find_availability(call: Call) -> Any:
    body = call.body(s.AvailabilityIn)
    if body.project_id is not None:
        raise NotFound("project not found: projects are not supported yet", field="project_id")
    ask = availability.Ask(
        resources=body.resources,
        mode=body.mode,
        length=body.length,
        start=body.start,
        end=body.end,
        constraints=body.constraints,
        buffer=body.buffer,
        timeslot_increments=body.timeslot_increments,
        output_timezone=body.output_timezone,
    )
    return s.AvailabilityOut.model_validate({"data": availability.find(_cid(call), ask)})
