"""Timekit v2 face: resources (people and things that can be booked) and availability."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint

from chalicelib.api.http.hal import v2_page
from chalicelib.api.http.present import present
from chalicelib.api.http.route import Call, LazyModule, route
from chalicelib.domain.errors import ValidationFailed
from chalicelib.services.identity.auth import Scheme
from chalicelib.store.models import plain

if TYPE_CHECKING:
    from chalicelib.api.timekit import schemas as s
    from chalicelib.services.catalogue import projects, resources
    from chalicelib.services.selling import availability
    from chalicelib.store.models import Resource
else:
    s = LazyModule("chalicelib.api.timekit.schemas")
    resources = LazyModule("chalicelib.services.catalogue.resources")
    projects = LazyModule("chalicelib.services.catalogue.projects")
    availability = LazyModule("chalicelib.services.selling.availability")

bp = Blueprint(__name__)
TAG = "timekit"
V2 = Scheme.V2


def _cid(call: Call) -> int:
    assert call.auth.company_id is not None
    return call.auth.company_id


def _data(resource: Resource) -> Any:
    return present(
        s.ResourceData,
        resource,
        id=str(resource.resource_id),
        availability_constraints=[plain(c) for c in resource.constraints],
        meta=plain(resource.meta) or {},
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
    summary="Free slots of the given resources (or a project's), in Timekit's modes; the public key may ask",
    scheme=Scheme.V2_PUBLIC,
    tag=TAG,
    request="timekit.schemas:AvailabilityIn",
    response="timekit.schemas:AvailabilityOut",
    errors=(404,),
)
def find_availability(call: Call) -> Any:
    body = call.body(s.AvailabilityIn)
    sent = body.model_dump(by_alias=False, exclude_none=True, exclude={"project_id"})
    # A project's availability settings, resources and constraints apply; what the request
    # says overrides them (constraints add up: the project's and the request's both hold).
    project: dict[str, Any] = {}
    if body.project_id is not None:
        project = projects.project_view(projects.get_project(_cid(call), body.project_id, field="project_id"))
    given = {**_project_availability(project), **sent}
    constraints = [*project.get("availability_constraints", []), *(body.constraints or [])]
    if not given.get("resources"):
        raise ValidationFailed("name the resources, or a project_id of a project with resources", field="resources")
    ask = availability.Ask(
        resources=given["resources"],
        mode=given.get("mode"),
        length=given.get("length"),
        start=given.get("start"),
        end=given.get("end"),
        constraints=constraints or None,
        buffer=given.get("buffer"),
        timeslot_increments=given.get("timeslot_increments"),
        output_timezone=given.get("output_timezone"),
    )
    return s.AvailabilityOut.model_validate({"data": availability.find(_cid(call), ask)})


def _project_availability(project: dict[str, Any]) -> dict[str, Any]:
    settings = project.get("availability") or {}
    known = {"mode": "mode", "length": "length", "from": "start", "to": "end", "buffer": "buffer"}
    known["timeslot_increments"] = "timeslot_increments"
    found = {ours: settings[theirs] for theirs, ours in known.items() if isinstance(settings.get(theirs), str)}
    if project.get("resources"):
        found["resources"] = [str(resource) for resource in project["resources"]]
    return found
