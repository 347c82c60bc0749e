"""Request and response models of Timekit projects (``/v2/projects``).

A project's objects (``ui``, ``booking``, ``availability``, ``customer_fields`` ...) are the
widget's, posted back verbatim by it, so their inner keys are kept as sent; top-level keys
this engine does not know are kept too (Timekit's own read-only fields sent back with a PUT
are ignored). What would break a page is refused (chalicelib.domain.projects.check_rules).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from chalicelib.api.http.schemas import Name, Out

Slug = Annotated[str, StringConstraints(min_length=1, max_length=64)]
ResourceIds = Annotated[list[Annotated[str, StringConstraints(min_length=1, max_length=100)]], Field(max_length=100)]
Obj = dict[str, Any]


class _ProjectFields(BaseModel):
    model_config = ConfigDict(extra="allow", defer_build=True)

    slug: Slug | None = Field(default=None, description="the hosted page's address: /book/<slug>")
    resources: ResourceIds | None = Field(default=None, description="ids of the resources the page books")
    availability: Obj | None = Field(default=None, description="posted verbatim into /v2/availability")
    availability_constraints: Annotated[list[Obj], Field(max_length=200)] | None = None
    booking: Obj | None = Field(
        default=None, description="merged last into POST /v2/bookings; graph: what the page books (default instant)"
    )
    customer_fields: Obj | None = None
    ui: Obj | None = Field(default=None, description="the widget's texts and views (ui.localization ...)")
    reminders: list[Any] | None = None
    meta: Obj | None = None


class ProjectCreate(_ProjectFields):
    name: Name


class ProjectUpdate(_ProjectFields):
    name: Name | None = None


class ProjectData(Out):
    model_config = ConfigDict(extra="allow", defer_build=True)

    id: str
    name: str
    slug: str
    resources: list[str]
    availability: Obj
    booking: Obj
    customer_fields: Obj
    ui: Obj
    created_at: str
    updated_at: str
    app_key: str | None = Field(default=None, description="the company's public key (hosted and embed only)")


class ProjectOut(Out):
    data: ProjectData


class ProjectListMeta(Out):
    total_entries: int
    page: int
    per_page: int


class ProjectList(Out):
    data: list[ProjectData]
    meta: ProjectListMeta


class ProjectsQuery(BaseModel):
    model_config = ConfigDict(extra="ignore", defer_build=True)

    page: Annotated[int, Field(ge=1, le=100_000)] = 1
    per_page: Annotated[int, Field(ge=1, le=100)] = 30
