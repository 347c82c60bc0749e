"""HAL (application/hal+json) helpers: links and paged collections under the BookingBug root."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from chalicelib.api.http.route import Call, LazyModule
from chalicelib.store.pages import Page

if TYPE_CHECKING:
    from chalicelib.api.http import schemas
else:
    schemas = LazyModule("chalicelib.api.http.schemas")  # built on first request, not at cold start


def v1_root(call: Call) -> str:
    return f"{call.base_url}/api/v1"


def link(href: str, templated: bool = False) -> schemas.Link:
    return schemas.Link(href=href, templated=True) if templated else schemas.Link(href=href)


def hal_page(call: Call, path: str, page: Page[Any], key: str, render: Callable[[Call, Any], Any]) -> dict[str, Any]:
    """A HAL collection: total_entries, the page's items under _embedded[key], paging links."""
    return {
        "total_entries": page.total,
        "_embedded": {key: [render(call, item) for item in page.items]},
        "_links": page_links(call, path, page),
    }


def page_links(call: Call, path: str, page: Page[Any], extra_query: str = "") -> schemas.Links:
    base = f"{v1_root(call)}{path}?{extra_query}"
    links = {"self": link(f"{base}page={page.page}&per_page={page.per_page}")}
    if page.has_next:
        links["next"] = link(f"{base}page={page.page + 1}&per_page={page.per_page}")
    if page.page > 1:
        links["prev"] = link(f"{base}page={page.page - 1}&per_page={page.per_page}")
    return links


def v2_page(call: Call, path: str, page: Page[Any], data: list[Any]) -> dict[str, Any]:
    """A Timekit-face collection: ``data``, ``meta`` (total, page, per_page) and paging links."""
    base = f"{call.base_url}{path}"
    links = {"self": {"href": f"{base}?page={page.page}&per_page={page.per_page}"}}
    if page.has_next:
        links["next"] = {"href": f"{base}?page={page.page + 1}&per_page={page.per_page}"}
    return {
        "data": data,
        "meta": {"total_entries": page.total, "page": page.page, "per_page": page.per_page},
        "_links": links,
    }
