"""The app's own web pages and their assets: ``/`` (landing), ``/docs`` (Swagger UI over
``/openapi.json``), ``/events`` (the BookingBug events page), ``/book/{slug}`` (a project's
hosted booking page with Timekit's widget) and ``/static/...``.

The pages are files in ``chalicelib/static``; ``static/build`` is made by ``make web`` (the
widget built from npm, Swagger UI) and is not in git, so a package built without it serves
404 for those files and says why. Everything is text (the widget's fonts are inlined into
its CSS), so API Gateway needs no binary media types. Pages use relative addresses, so
they work under a deployment's stage path (``/api/``) as they do at the root.
"""

from __future__ import annotations

import html
from pathlib import Path

from chalice import Blueprint, Response

from chalicelib.api.http.route import Call, route
from chalicelib.domain.errors import NotFound
from chalicelib.services.identity.auth import Scheme

bp = Blueprint(__name__)
TAG = "pages"
STATIC = Path(__file__).resolve().parents[2] / "static"
BUILD = STATIC / "build"
TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".txt": "text/plain; charset=utf-8",
}
# Built assets change with each `make web`; pages and scripts are small: cache briefly.
CACHE = "public, max-age=300"


def _file(folder: Path, name: str) -> Response:
    path = (folder / name).resolve()
    kind = TYPES.get(path.suffix)
    if kind is None or path.parent != folder or not path.is_file():
        hint = " (the browser assets are built by `make web`)" if folder == BUILD else ""
        raise NotFound(f"no such file{hint}", field="name")
    return Response(
        body=path.read_text(encoding="utf-8"), status_code=200, headers={"Content-Type": kind, "Cache-Control": CACHE}
    )


def _page(name: str) -> Response:
    return _file(STATIC, name)


PAGES = {
    "/": ("index.html", "The landing page (HTML)"),
    "/docs": ("docs.html", "The API reference in a browser (Swagger UI over /openapi.json)"),
    "/events": ("events.html", "A company's events, basket and checkout (HTML; ?company=&app_id=&app_key=)"),
}


def _register_page(path: str, name: str, summary: str) -> None:
    def page(call: Call) -> Response:
        return _page(name)

    page.__name__ = f"page_{name.removesuffix('.html')}"
    route(bp, path, "GET", summary=summary, scheme=Scheme.NONE, tag=TAG, produces="text/html", errors=(404,))(page)


for _path, (_name, _summary) in PAGES.items():
    _register_page(_path, _name, _summary)


@route(
    bp,
    "/book/{slug}",
    "GET",
    summary="A project's hosted booking page (HTML with Timekit's booking widget)",
    scheme=Scheme.NONE,
    tag=TAG,
    produces="text/html",
    path_types={"slug": "string"},
    errors=(404,),
)
def hosted_page(call: Call, slug: str) -> Response:
    # The slug is checked when the widget loads the project; here it is only escaped.
    page = _page("book.html")
    page.body = str(page.body).replace("{{project_slug}}", html.escape(slug, quote=True))
    return page


@route(
    bp,
    "/static/{name}",
    "GET",
    summary="The pages' scripts and styles",
    scheme=Scheme.NONE,
    tag=TAG,
    produces="text/plain",
    path_types={"name": "string"},
    errors=(404,),
)
def static_file(call: Call, name: str) -> Response:
    return _file(STATIC, name)


@route(
    bp,
    "/static/build/{name}",
    "GET",
    summary="Built browser assets: Timekit's booking widget (booking.min.js, booking.min.css) and Swagger UI",
    scheme=Scheme.NONE,
    tag=TAG,
    produces="text/plain",
    path_types={"name": "string"},
    errors=(404,),
)
def built_file(call: Call, name: str) -> Response:
    return _file(BUILD, name)
