"""BookingBug v1 face (HAL): login, company, services, questions, client details, clients."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from chalice import Blueprint, Response

from chalicelib.api.http.hal import hal_page, link, v1_root
from chalicelib.api.http.present import present
from chalicelib.api.http.route import Call, LazyModule, route
from chalicelib.services.catalogue import catalogue
from chalicelib.services.identity import companies
from chalicelib.services.identity.auth import Scheme
from chalicelib.store.models import Client, QuestionGroup, Service, plain_map

if TYPE_CHECKING:
    from chalicelib.api.bookingbug import schemas as s
    from chalicelib.api.http import schemas as shared
else:
    s = LazyModule("chalicelib.api.bookingbug.schemas")  # built on first request, not at cold start
    shared = LazyModule("chalicelib.api.http.schemas")

bp = Blueprint(__name__)
TAG = "bookingbug"
PUBLIC = Scheme.V1_PUBLIC
ADMIN = Scheme.V1_ADMIN


# --- login and company ------------------------------------------------------------------


@route(
    bp,
    "/api/v1/login",
    "POST",
    summary="Exchange an administrator's email and password for an Auth-Token",
    scheme=PUBLIC,
    tag=TAG,
    request="bookingbug.schemas:LoginIn",
    response="bookingbug.schemas:LoginOut",
    status=201,
    errors=(429,),  # failed logins are limited
)
def login(call: Call) -> s.LoginOut:
    body = call.body(s.LoginIn)
    company_id = call.auth.company_id if body.id is None else body.id
    if body.id is not None and body.id != call.auth.company_id:
        company_id = -1  # another company's administrator cannot log in through these keys
    session = companies.login(body.email, body.password, company_id, call.client_address)
    cid = session.company.company_id
    return s.LoginOut(
        email=session.email,
        auth_token=session.token,
        company_id=cid,
        role="admin",
        expires_at=datetime.fromtimestamp(session.expires_at, UTC).isoformat(timespec="seconds"),
        _links={
            "company": link(f"{v1_root(call)}/company/{cid}"),
            "administrator": link(f"{v1_root(call)}/admin/{cid}/services"),
        },
    )


@route(
    bp,
    "/api/v1/login",
    "DELETE",
    summary="Log out: the Auth-Token sent stops working at once",
    scheme=PUBLIC,
    tag=TAG,
    status=204,
)
def logout(call: Call) -> Response:
    from chalicelib.domain.errors import Unauthorized
    from chalicelib.services.identity.auth import revoke_token

    token = call.header("Auth-Token") or ""
    assert call.auth.company_id is not None
    if not token or not revoke_token(token, call.auth.company_id):
        raise Unauthorized("the Auth-Token is not a session of this company", field="Auth-Token")
    return Response(body="", status_code=204)


@route(
    bp,
    "/api/v1/company/{company_id}",
    "GET",
    summary="A company with links to everything it offers",
    scheme=PUBLIC,
    tag=TAG,
    response="bookingbug.schemas:CompanyOut",
    errors=(404,),
)
def company(call: Call, company_id: int) -> s.CompanyOut:
    found = companies.get_company(company_id)
    api = f"{v1_root(call)}/{company_id}"
    admin = f"{v1_root(call)}/admin/{company_id}"
    return s.CompanyOut(
        id=company_id,
        name=found.name,
        timezone=found.timezone,
        currency_code=found.currency,
        _links={
            "self": link(f"{v1_root(call)}/company/{company_id}"),
            "services": link(f"{api}/services{{?page,per_page}}", True),
            "service": link(f"{api}/services/{{id}}", True),
            "event_groups": link(f"{api}/event_groups{{?page,per_page}}", True),
            "event_chains": link(f"{api}/event_chains{{?page,per_page}}", True),
            "events": link(f"{api}/events{{?start_date,end_date,event_group_id,event_chain_id,page,per_page}}", True),
            "questions": link(f"{api}/questions{{?detail_group_id}}", True),
            "client_details": link(f"{api}/client_details"),
            "client": link(f"{api}/client"),
            "add_item": link(f"{api}/basket/add_item{{?event_id,event_chain_id,service_id}}", True),
            "login": link(f"{v1_root(call)}/login"),
            "admin_services": link(f"{admin}/services{{?page,per_page}}", True),
            "admin_clients": link(f"{admin}/client{{?page,per_page}}", True),
            "admin_question_groups": link(f"{admin}/question_groups{{?page,per_page}}", True),
            "people": link(f"{api}/people{{?page,per_page}}", True),
            "resources": link(f"{api}/resources{{?page,per_page}}", True),
            "admin_people": link(f"{admin}/people{{?page,per_page}}", True),
            "admin_resources": link(f"{admin}/resources{{?page,per_page}}", True),
            "opening_hours": link(f"{admin}/opening_hours"),
        },
    )


# --- services -------------------------------------------------------------------------------


def _service(call: Call, service: Service, admin: bool) -> s.ServiceOut:
    cid = service.company_id
    sid = service.service_id
    api = f"{v1_root(call)}/{cid}"
    own = f"{v1_root(call)}/admin/{cid}/services/{sid}" if admin else f"{api}/services/{sid}"
    links = {
        "self": link(own),
        "items": link(f"{api}/items?service_id={sid}"),
        "book": link(f"{api}/basket/add_item?service_id={sid}{{&date,time,duration,person_id,resource_id}}", True),
        "days": link(f"{api}/day_data?service_id={sid}{{&month,date,edate,person_id,resource_id,duration}}", True),
        "times": link(f"{api}/time_data?service_id={sid}{{&date,end_date,person_id,resource_id,duration}}", True),
        "company": link(f"{v1_root(call)}/company/{cid}"),
    }
    if service.detail_group_id is not None:
        links["questions"] = link(f"{api}/questions?detail_group_id={service.detail_group_id}")
    return present(
        s.ServiceOut,
        service,
        id=sid,
        extra=plain_map(service.extra),
        order=service.order if service.order is not None else sid,
        api_ref=service.reference,
        is_event_group=False,
        type="service",
        duration_unit="minute",
        groups=[],
        child_level_service=True,
        _links=links,
    )


def _service_list(call: Call, company_id: int, admin: bool) -> s.ServiceList:
    query = call.query(shared.PageQuery)
    page = catalogue.list_services(company_id, query.page, query.per_page, admin=admin)
    path = f"/admin/{company_id}/services" if admin else f"/{company_id}/services"
    return s.ServiceList.model_validate(
        hal_page(call, path, page, "services", lambda c, item: _service(c, item, admin))
    )


@route(
    bp,
    "/api/v1/{company_id}/services",
    "GET",
    summary="Bookable services (not disabled or deleted)",
    scheme=PUBLIC,
    tag=TAG,
    query="PageQuery",
    response="bookingbug.schemas:ServiceList",
    errors=(404,),
)
def public_services(call: Call, company_id: int) -> s.ServiceList:
    return _service_list(call, company_id, admin=False)


@route(
    bp,
    "/api/v1/{company_id}/services/{service_id}",
    "GET",
    summary="One service",
    scheme=PUBLIC,
    tag=TAG,
    response="bookingbug.schemas:ServiceOut",
    errors=(404,),
)
def public_service(call: Call, company_id: int, service_id: int) -> s.ServiceOut:
    return _service(call, catalogue.get_service(company_id, service_id, include_deleted=False), admin=False)


@route(
    bp,
    "/api/v1/{company_id}/items",
    "GET",
    summary="Bookable items (a service's _links.items): one per bookable service; ?service_id= filters",
    scheme=PUBLIC,
    tag=TAG,
    query="bookingbug.schemas:ItemsQuery",
    response="bookingbug.schemas:BookableItemList",
    errors=(404,),
)
def bookable_items(call: Call, company_id: int) -> s.BookableItemList:
    wanted = call.query(s.ItemsQuery).service_id
    if wanted is not None:
        found = [catalogue.get_service(company_id, wanted, include_deleted=False)]
    else:
        found = catalogue.list_services(company_id, 1, 100, admin=False).items
    api = f"{v1_root(call)}/{company_id}"
    items = [
        present(
            s.BookableItem,
            service,
            type="service",
            _links={
                "service": link(f"{api}/services/{service.service_id}"),
                "book": link(f"{api}/basket/add_item?service_id={service.service_id}{{&date,time,duration}}", True),
            },
        )
        for service in found
        if not service.disabled
    ]
    query = f"?service_id={wanted}" if wanted is not None else ""
    return s.BookableItemList(
        total_entries=len(items), _embedded={"items": items}, _links={"self": link(f"{api}/items{query}")}
    )


@route(
    bp,
    "/api/v1/admin/{company_id}/services",
    "GET",
    summary="All services, disabled and deleted too",
    scheme=ADMIN,
    tag=TAG,
    query="PageQuery",
    response="bookingbug.schemas:ServiceList",
    errors=(404,),
)
def admin_services(call: Call, company_id: int) -> s.ServiceList:
    return _service_list(call, company_id, admin=True)


@route(
    bp,
    "/api/v1/admin/{company_id}/services",
    "POST",
    summary="Create a service",
    scheme=ADMIN,
    tag=TAG,
    request="bookingbug.schemas:ServiceCreate",
    response="bookingbug.schemas:ServiceOut",
    status=201,
    errors=(404, 409),
)
def create_service(call: Call, company_id: int) -> s.ServiceOut:
    fields = call.body(s.ServiceCreate).model_dump(exclude_none=True)
    return _service(call, catalogue.create_service(company_id, fields), admin=True)


@route(
    bp,
    "/api/v1/admin/{company_id}/services/{service_id}",
    "GET",
    summary="One service, deleted too",
    scheme=ADMIN,
    tag=TAG,
    response="bookingbug.schemas:ServiceOut",
    errors=(404,),
)
def admin_service(call: Call, company_id: int, service_id: int) -> s.ServiceOut:
    return _service(call, catalogue.get_service(company_id, service_id, include_deleted=True), admin=True)


@route(
    bp,
    "/api/v1/admin/{company_id}/services/{service_id}",
    "PUT",
    summary="Update a service (fields given only)",
    scheme=ADMIN,
    tag=TAG,
    request="bookingbug.schemas:ServiceUpdate",
    response="bookingbug.schemas:ServiceOut",
    errors=(404, 409),
)
def update_service(call: Call, company_id: int, service_id: int) -> s.ServiceOut:
    fields = call.body(s.ServiceUpdate).model_dump(exclude_none=True)
    return _service(call, catalogue.update_service(company_id, service_id, fields), admin=True)


@route(
    bp,
    "/api/v1/admin/{company_id}/services/{service_id}",
    "DELETE",
    summary="Soft-delete a service",
    scheme=ADMIN,
    tag=TAG,
    response="bookingbug.schemas:ServiceOut",
    errors=(404, 409),
)
def delete_service(call: Call, company_id: int, service_id: int) -> s.ServiceOut:
    return _service(call, catalogue.delete_service(company_id, service_id), admin=True)


@route(
    bp,
    "/api/v1/admin/{company_id}/services/find_by_ref/{reference}",
    "GET",
    summary="Find a service by reference",
    scheme=ADMIN,
    tag=TAG,
    response="bookingbug.schemas:ServiceOut",
    errors=(404,),
    path_types={"reference": "string"},
)
def service_by_ref(call: Call, company_id: int, reference: str) -> s.ServiceOut:
    return _service(call, catalogue.find_service_by_ref(company_id, reference), admin=True)


# --- questions ---------------------------------------------------------------------------------


def _questions(group: QuestionGroup) -> list[s.QuestionOut]:
    out = []
    for raw in group.questions:
        question = plain_map(raw)
        out.append(
            s.QuestionOut(
                id=int(question["id"]),
                name=question["name"],
                detail_type=question["detail_type"],
                required=bool(question.get("required")),
                important=bool(question.get("important")),
                admin_only=bool(question.get("admin_only")),
                default=question.get("default"),
                price=int(question.get("price") or 0),
                price_per_booking=bool(question.get("price_per_booking")),
                options=[
                    s.OptionOut(
                        id=int(option["id"]),
                        name=option["name"],
                        price=int(option.get("price") or 0),
                        is_default=bool(option.get("is_default")),
                    )
                    for option in question.get("options") or []
                ],
                help_text=question.get("help_text"),
            )
        )
    return out


def _group(call: Call, group: QuestionGroup) -> s.QuestionGroupOut:
    cid, gid = group.company_id, group.group_id
    return present(
        s.QuestionGroupOut,
        group,
        id=gid,
        questions=_questions(group),
        _links={
            "self": link(f"{v1_root(call)}/admin/{cid}/question_groups/{gid}"),
            "questions": link(f"{v1_root(call)}/{cid}/questions?detail_group_id={gid}"),
        },
    )


@route(
    bp,
    "/api/v1/{company_id}/questions",
    "GET",
    summary="The questions of one question group",
    scheme=PUBLIC,
    tag=TAG,
    query="bookingbug.schemas:QuestionsQuery",
    response="bookingbug.schemas:QuestionsOut",
    errors=(404,),
)
def public_questions(call: Call, company_id: int) -> s.QuestionsOut:
    group_id = call.query(s.QuestionsQuery).detail_group_id
    group = catalogue.get_question_group(company_id, group_id)
    visible = [q for q in _questions(group) if not q.admin_only]
    return s.QuestionsOut(
        company_id=company_id,
        detail_group_id=group_id,
        name=group.name,
        questions=visible,
        _links={"self": link(f"{v1_root(call)}/{company_id}/questions?detail_group_id={group_id}")},
    )


@route(
    bp,
    "/api/v1/admin/{company_id}/question_groups",
    "GET",
    summary="Question groups",
    scheme=ADMIN,
    tag=TAG,
    query="PageQuery",
    response="bookingbug.schemas:QuestionGroupList",
    errors=(404,),
)
def question_groups(call: Call, company_id: int) -> s.QuestionGroupList:
    query = call.query(shared.PageQuery)
    page = catalogue.list_question_groups(company_id, query.page, query.per_page)
    return s.QuestionGroupList.model_validate(
        hal_page(call, f"/admin/{company_id}/question_groups", page, "question_groups", _group)
    )


@route(
    bp,
    "/api/v1/admin/{company_id}/question_groups",
    "POST",
    summary="Create a question group with its questions",
    scheme=ADMIN,
    tag=TAG,
    request="bookingbug.schemas:QuestionGroupIn",
    response="bookingbug.schemas:QuestionGroupOut",
    status=201,
    errors=(404,),
)
def create_question_group(call: Call, company_id: int) -> s.QuestionGroupOut:
    body = call.body(s.QuestionGroupIn)
    questions = [q.model_dump() for q in body.questions]
    return _group(call, catalogue.create_question_group(company_id, body.name, questions))


@route(
    bp,
    "/api/v1/admin/{company_id}/question_groups/{group_id}",
    "GET",
    summary="One question group",
    scheme=ADMIN,
    tag=TAG,
    response="bookingbug.schemas:QuestionGroupOut",
    errors=(404,),
)
def question_group(call: Call, company_id: int, group_id: int) -> s.QuestionGroupOut:
    return _group(call, catalogue.get_question_group(company_id, group_id))


@route(
    bp,
    "/api/v1/admin/{company_id}/question_groups/{group_id}",
    "PUT",
    summary="Rename a question group and/or replace its questions",
    scheme=ADMIN,
    tag=TAG,
    request="bookingbug.schemas:QuestionGroupUpdate",
    response="bookingbug.schemas:QuestionGroupOut",
    errors=(404, 409),
)
def update_question_group(call: Call, company_id: int, group_id: int) -> s.QuestionGroupOut:
    body = call.body(s.QuestionGroupUpdate)
    questions = None if body.questions is None else [q.model_dump() for q in body.questions]
    return _group(call, catalogue.update_question_group(company_id, group_id, body.name, questions))


@route(
    bp,
    "/api/v1/admin/{company_id}/question_groups/{group_id}",
    "DELETE",
    summary="Delete a question group",
    scheme=ADMIN,
    tag=TAG,
    response="bookingbug.schemas:QuestionGroupOut",
    errors=(404,),
)
def delete_question_group(call: Call, company_id: int, group_id: int) -> s.QuestionGroupOut:
    group = catalogue.get_question_group(company_id, group_id)
    catalogue.delete_question_group(company_id, group_id)
    return _group(call, group)


# --- client details and clients --------------------------------------------------------------------


def _client_details(call: Call, company_id: int) -> s.ClientDetailsOut:
    fields = [s.ClientFieldOut(**field) for field in catalogue.client_fields(company_id)]
    return s.ClientDetailsOut(
        company_id=company_id,
        fields=fields,
        questions=[],
        _links={"self": link(f"{v1_root(call)}/{company_id}/client_details")},
    )


@route(
    bp,
    "/api/v1/{company_id}/client_details",
    "GET",
    summary="The client fields this company collects",
    scheme=PUBLIC,
    tag=TAG,
    response="bookingbug.schemas:ClientDetailsOut",
    errors=(404,),
)
def client_details(call: Call, company_id: int) -> s.ClientDetailsOut:
    return _client_details(call, company_id)


@route(
    bp,
    "/api/v1/admin/{company_id}/client_details",
    "PUT",
    summary="Choose the client fields and which are required",
    scheme=ADMIN,
    tag=TAG,
    request="bookingbug.schemas:ClientDetailsIn",
    response="bookingbug.schemas:ClientDetailsOut",
    errors=(404,),
)
def configure_client_details(call: Call, company_id: int) -> s.ClientDetailsOut:
    body = call.body(s.ClientDetailsIn)
    catalogue.configure_client_fields(company_id, [field.model_dump() for field in body.fields])
    return _client_details(call, company_id)


def _client(call: Call, client: Client) -> s.ClientOut:
    cid, client_id = client.company_id, client.client_id
    details = plain_map(client.details)
    return present(
        s.ClientOut,
        client,
        id=client_id,
        _links={
            "self": link(f"{v1_root(call)}/admin/{cid}/client/{client_id}"),
            "questions": link(f"{v1_root(call)}/{cid}/client_details"),
        },
        **{name: value for name, value in details.items() if name in s.ClientOut.model_fields},
    )


def _upsert_client(call: Call, company_id: int) -> Any:
    client, created = catalogue.upsert_client(
        company_id, call.body(s.ClientIn).model_dump(mode="json", exclude_none=True)
    )
    body = _client(call, client)
    if created:
        return body
    return Response(
        body=body.model_dump(mode="json", by_alias=True), status_code=200, headers={"Content-Type": "application/json"}
    )


@route(
    bp,
    "/api/v1/{company_id}/client",
    "POST",
    summary="Create a client, or update the one with this email",
    scheme=PUBLIC,
    tag=TAG,
    request="bookingbug.schemas:ClientIn",
    response="bookingbug.schemas:ClientOut",
    status=201,
    also_status=(200,),
    errors=(404, 409),
)
def upsert_client(call: Call, company_id: int) -> Any:
    return _upsert_client(call, company_id)


@route(
    bp,
    "/api/v1/admin/{company_id}/client",
    "POST",
    summary="Create a client, or update the one with this email",
    scheme=ADMIN,
    tag=TAG,
    request="bookingbug.schemas:ClientIn",
    response="bookingbug.schemas:ClientOut",
    status=201,
    also_status=(200,),
    errors=(404, 409),
)
def admin_upsert_client(call: Call, company_id: int) -> Any:
    return _upsert_client(call, company_id)


@route(
    bp,
    "/api/v1/admin/{company_id}/client",
    "GET",
    summary="Clients",
    scheme=ADMIN,
    tag=TAG,
    query="PageQuery",
    response="bookingbug.schemas:ClientList",
    errors=(404,),
)
def clients(call: Call, company_id: int) -> s.ClientList:
    query = call.query(shared.PageQuery)
    page = catalogue.list_clients(company_id, query.page, query.per_page)
    return s.ClientList.model_validate(hal_page(call, f"/admin/{company_id}/client", page, "clients", _client))


@route(
    bp,
    "/api/v1/admin/{company_id}/client/{client_id}",
    "GET",
    summary="One client",
    scheme=ADMIN,
    tag=TAG,
    response="bookingbug.schemas:ClientOut",
    errors=(404,),
)
def client(call: Call, company_id: int, client_id: int) -> s.ClientOut:
    return _client(call, catalogue.get_client(company_id, client_id))


@route(
    bp,
    "/api/v1/admin/{company_id}/client/find_by_email/{email}",
    "GET",
    summary="Find a client by email",
    scheme=ADMIN,
    tag=TAG,
    response="bookingbug.schemas:ClientOut",
    errors=(404,),
    path_types={"email": "string"},
)
def client_by_email(call: Call, company_id: int, email: str) -> s.ClientOut:
    return _client(call, catalogue.find_client(company_id, email=unquote(email)))


@route(
    bp,
    "/api/v1/admin/{company_id}/client/find_by_ref/{reference}",
    "GET",
    summary="Find a client by reference",
    scheme=ADMIN,
    tag=TAG,
    response="bookingbug.schemas:ClientOut",
    errors=(404,),
    path_types={"reference": "string"},
)
def client_by_ref(call: Call, company_id: int, reference: str) -> s.ClientOut:
    return _client(call, catalogue.find_client(company_id, reference=unquote(reference)))
