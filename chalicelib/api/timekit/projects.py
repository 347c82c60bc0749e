"""Timekit projects: the settings of a booking page (``/v2/projects``).

The secret key manages them; the public key (a booking page's widget key) may read its
company's projects, and a hosted page reads its project by slug with no credentials at all:
that answer carries ``app_key`` (the company's public key), which the widget then uses for
every later call.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint

from chalicelib.api.http.route import Call, LazyModule, route
from chalicelib.services.identity import companies
from chalicelib.services.identity.auth import Scheme
from chalicelib.store.models import Project

if TYPE_CHECKING:
    from chalicelib.api.timekit import schemas_projects as s
    from chalicelib.services.catalogue import projects
else:
    s = LazyModule("chalicelib.api.timekit.schemas_projects")
    projects = LazyModule("chalicelib.services.catalogue.projects")

bp = Blueprint(__name__)
TAG = "projects"
ID = {"project_id": "string"}


def _cid(call: Call) -> int:
    assert call.auth.company_id is not None
    return call.auth.company_id


def _out(project: Project, *, with_key: bool = False) -> Any:
    app_key = companies.get_company(project.company_id).public_key if with_key else None
    return s.ProjectOut(data=s.ProjectData.model_validate(projects.project_view(project, app_key)))


def _fields(body: Any) -> dict[str, Any]:
    return dict(body.model_dump(exclude_none=True))


@route(
    bp,
    "/v2/projects",
    "POST",
    summary="Create a project: a booking page's resources, availability, booking graph, form and texts",
    scheme=Scheme.V2,
    tag=TAG,
    request="timekit.schemas_projects:ProjectCreate",
    response="timekit.schemas_projects:ProjectOut",
    status=201,
    errors=(409,),
)
def create_project(call: Call) -> Any:
    return _out(projects.create_project(_cid(call), _fields(call.body(s.ProjectCreate))))


@route(
    bp,
    "/v2/projects",
    "GET",
    summary="The company's projects",
    scheme=Scheme.V2,
    tag=TAG,
    query="timekit.schemas_projects:ProjectsQuery",
    response="timekit.schemas_projects:ProjectList",
)
def list_projects(call: Call) -> Any:
    query = call.query(s.ProjectsQuery)
    page = projects.list_projects(_cid(call), query.page, query.per_page)
    return s.ProjectList(
        data=[s.ProjectData.model_validate(projects.project_view(item)) for item in page.items],
        meta=s.ProjectListMeta(total_entries=page.total, page=page.page, per_page=page.per_page),
    )


@route(
    bp,
    "/v2/projects/{project_id}",
    "GET",
    summary="One project (the secret key, or the public key of a booking page)",
    scheme=Scheme.V2_PUBLIC,
    tag=TAG,
    response="timekit.schemas_projects:ProjectOut",
    errors=(404,),
    path_types=ID,
)
def get_project(call: Call, project_id: str) -> Any:
    return _out(projects.get_project(_cid(call), project_id))


@route(
    bp,
    "/v2/projects/{project_id}",
    "PUT",
    summary="Change a project: the top-level fields given replace the stored ones",
    scheme=Scheme.V2,
    tag=TAG,
    request="timekit.schemas_projects:ProjectUpdate",
    response="timekit.schemas_projects:ProjectOut",
    errors=(404, 409),
    path_types=ID,
)
def update_project(call: Call, project_id: str) -> Any:
    return _out(projects.update_project(_cid(call), project_id, _fields(call.body(s.ProjectUpdate))))


@route(
    bp,
    "/v2/projects/{project_id}",
    "DELETE",
    summary="Delete a project (its hosted page stops answering)",
    scheme=Scheme.V2,
    tag=TAG,
    response="timekit.schemas_projects:ProjectOut",
    errors=(404, 409),
    path_types=ID,
)
def delete_project(call: Call, project_id: str) -> Any:
    return _out(projects.delete_project(_cid(call), project_id))


@route(
    bp,
    "/v2/projects/embed/{project_id}",
    "GET",
    summary="A project as an embedded widget loads it (the public key)",
    scheme=Scheme.V2_PUBLIC,
    tag=TAG,
    response="timekit.schemas_projects:ProjectOut",
    errors=(404,),
    path_types=ID,
)
def embed_project(call: Call, project_id: str) -> Any:
    return _out(projects.get_project(_cid(call), project_id), with_key=True)


@route(
    bp,
    "/v2/projects/hosted/{slug}",
    "GET",
    summary="A project as its hosted page loads it: no credentials; the answer carries app_key (the public key)",
    scheme=Scheme.NONE,
    tag=TAG,
    response="timekit.schemas_projects:ProjectOut",
    errors=(404,),
    path_types={"slug": "string"},
    rate_limited=True,
)
def hosted_project(call: Call, slug: str) -> Any:
    return _out(projects.find_by_slug(slug), with_key=True)
