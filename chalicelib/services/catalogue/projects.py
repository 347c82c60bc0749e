"""Timekit projects: create, read, list, update, delete; find one by its hosted slug.

A project lives under its company's partition; its slug is a global guard item
(``SLUG#<slug>``) written in the same transaction, so of two projects claiming one slug
exactly one gets it. Updates are compare-and-set on the version read (409 on a lost race);
a new slug moves its guard in the same transaction.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from chalicelib.domain import clock
from chalicelib.domain import projects as rules
from chalicelib.domain.errors import Conflict, ErrorCode, NotFound, ValidationFailed
from chalicelib.store import db, keys
from chalicelib.store.errors import ItemNotFound
from chalicelib.store.models import Project, ProjectSlug
from chalicelib.store.pages import Page, query_page
from chalicelib.store.transact import Refusal, Transaction, transact

MAX_SETTINGS_CHARS = 64_000  # Timekit's own cap on a request's JSON
OWN_FIELDS = ("id", "name", "slug", "created_at", "updated_at", "app_key")
SLUG_ATTEMPTS = 5


def settings_of(project: Project) -> dict[str, Any]:
    stored: dict[str, Any] = json.loads(project.settings)
    return stored


def _settings(fields: dict[str, Any]) -> str:
    """The project's settings as stored: what was sent, less its own columns, checked."""
    settings = {name: value for name, value in fields.items() if name not in OWN_FIELDS}
    rules.check_rules(rules.with_widget_defaults(settings))
    text = json.dumps(settings, separators=(",", ":"), sort_keys=True)
    if len(text) > MAX_SETTINGS_CHARS:
        raise ValidationFailed(f"a project's settings are at most {MAX_SETTINGS_CHARS} characters of JSON")
    return text


def _guard(project: Project) -> ProjectSlug:
    return ProjectSlug(
        keys.slug_pk(project.slug), keys.SLUG_SK, company_id=project.company_id, project_id=project.project_id
    )


def _slug_taken(slug: str) -> Conflict:
    return Conflict(f"the slug {slug!r} is taken", field="slug", code=ErrorCode.DUPLICATE_SLUG)


def create_project(company_id: int, fields: dict[str, Any]) -> Project:
    db.ensure_bound()
    now = clock.utcnow().isoformat()
    given_slug = fields.get("slug")
    base = rules.check_slug(given_slug) if given_slug else rules.slug_from_name(fields["name"])
    settings = _settings(fields)

    def refused(_: Refusal) -> Conflict | None:
        # The slug is taken: a given slug is refused, one derived from the name tries another suffix.
        return _slug_taken(base) if given_slug else None

    for attempt in range(SLUG_ATTEMPTS):
        project_id = str(uuid.uuid4())
        # A slug derived from the name gets a short suffix when another project has it.
        slug = base if given_slug or attempt == 0 else f"{base[:55]}-{project_id[:8]}"
        project = Project(
            keys.company_pk(company_id),
            keys.project_sk(project_id),
            company_id=company_id,
            project_id=project_id,
            name=fields["name"],
            slug=slug,
            settings=settings,
            created_at=now,
            updated_at=now,
        )

        def build(tx: Transaction, project: Project = project) -> None:
            tx.save(project, condition=Project.pk.does_not_exist())
            tx.save(_guard(project), condition=ProjectSlug.pk.does_not_exist())

        if transact(build, refused):
            return project
    raise _slug_taken(base)


def get_project(company_id: int, project_id: str, *, field: str = "id") -> Project:
    db.ensure_bound()
    try:
        return Project.get(keys.company_pk(company_id), keys.project_sk(project_id), consistent_read=True)
    except ItemNotFound:
        raise NotFound("project not found", field=field) from None


def find_by_slug(slug: str) -> Project:
    """The project a hosted page names (no credentials: the slug is the address)."""
    db.ensure_bound()
    try:
        guard = ProjectSlug.get(keys.slug_pk(slug), keys.SLUG_SK)
    except ItemNotFound:
        raise NotFound("project not found", field="slug") from None
    return get_project(guard.company_id, str(guard.project_id))


def list_projects(company_id: int, page: int, per_page: int) -> Page[Project]:
    return query_page(Project, keys.company_pk(company_id), keys.PROJECT_PREFIX, page, per_page)


def update_project(company_id: int, project_id: str, fields: dict[str, Any]) -> Project:
    """Top-level fields given replace the stored ones (Timekit's PUT); the rest stay."""
    project = get_project(company_id, project_id)
    old_guard = _guard(project)
    merged = settings_of(project) | {k: v for k, v in fields.items() if k not in OWN_FIELDS}
    project.settings = _settings(merged)
    if fields.get("name"):
        project.name = fields["name"]
    if fields.get("slug"):
        project.slug = rules.check_slug(fields["slug"])
    project.updated_at = clock.utcnow().isoformat()

    def build(tx: Transaction) -> None:
        tx.save(project)  # VersionAttribute: compare-and-set on the version read
        if project.slug != old_guard.pk.removeprefix("SLUG#"):
            tx.save(_guard(project), condition=ProjectSlug.pk.does_not_exist())
            tx.delete(old_guard, condition=ProjectSlug.project_id == project_id)

    def refused(refusal: Refusal) -> Conflict:
        if refusal.positions == (1,):
            return _slug_taken(project.slug)
        return Conflict("the project changed since it was read", code=ErrorCode.VERSION_CONFLICT)

    transact(build, refused)
    return project


def delete_project(company_id: int, project_id: str) -> Project:
    project = get_project(company_id, project_id)

    def build(tx: Transaction) -> None:
        tx.delete(project, condition=Project.version == project.version)
        tx.delete(_guard(project), condition=ProjectSlug.project_id == project_id)

    transact(build, lambda _: Conflict("the project changed since it was read", code=ErrorCode.VERSION_CONFLICT))
    return project


def project_view(project: Project, app_key: str | None = None) -> dict[str, Any]:
    """The project as the widget reads it: its settings with the widget's required defaults."""
    view = rules.with_widget_defaults(settings_of(project))
    view.setdefault("resources", [])
    view |= {
        "id": project.project_id,
        "name": project.name,
        "slug": project.slug,
        "created_at": project.created_at,
        "updated_at": project.updated_at,
    }
    if app_key is not None:
        view["app_key"] = app_key
    return view
