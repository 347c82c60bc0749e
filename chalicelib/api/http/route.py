"""The one way a route is declared: auth, body cap, content type, parsing,
validation, the error shape and the OpenAPI description all happen here, so a
view is a few lines that call a service.

Every route registers with ``content_types=['*/*']`` so that this module, not
Chalice, decides on 415 and answers with the product's error shape.
"""

from __future__ import annotations

import importlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar, cast

from chalice import Response
from chalice.app import Request

from chalicelib.api.http.errors import JSON_TYPE, error_in, error_response, validation_error
from chalicelib.domain import cors
from chalicelib.domain.errors import (
    BadRequest,
    BookingError,
    ErrorCode,
    NotFound,
    PayloadTooLarge,
    TooManyRequests,
    Unavailable,
    UnsupportedMediaType,
    ValidationFailed,
)
from chalicelib.observability import get_logger
from chalicelib.services.identity.auth import Principal, Role, Scheme, authenticate, presented_key
from chalicelib.settings import get_settings

if TYPE_CHECKING:
    from typing import TypeAlias

    from pydantic import BaseModel

    ModelRef: TypeAlias = type[BaseModel] | str

M = TypeVar("M", bound="BaseModel")

# A ModelRef is a model or its name: "face.module:Name" for a face's model, relative to
# chalicelib.api ("bookingbug.schemas:ServiceOut", "timekit.schemas:BookingOut"), a bare
# "Name" for a shared type in chalicelib.api.http.schemas, "chalicelib.x.y:Name" elsewhere.
# Routes name their models so that importing the app builds no pydantic model
# (Lambda cold start is import time); a name imports only its own module, on first use.


def resolve(ref: ModelRef | None) -> type[BaseModel] | None:
    if ref is None or not isinstance(ref, str):
        return ref
    return _resolve_name(ref)


@cache
def _resolve_name(ref: str) -> type[BaseModel]:
    module_name, _, name = ref.rpartition(":")
    if not module_name:
        module_name = "chalicelib.api.http.schemas"
    elif not module_name.startswith("chalicelib."):
        module_name = f"chalicelib.api.{module_name}"
    module = importlib.import_module(module_name)
    model = getattr(module, name)
    from pydantic import BaseModel

    assert isinstance(model, type) and issubclass(model, BaseModel), ref
    return model


@dataclass(frozen=True)
class Operation:
    """What the OpenAPI generator needs to know about one route."""

    path: str
    method: str
    summary: str
    scheme: Scheme
    tag: str
    request_ref: ModelRef | None
    query_ref: ModelRef | None
    response_ref: ModelRef | None
    status: int
    errors: tuple[int, ...]
    consumes: str
    produces: str
    path_types: Mapping[str, str]
    idempotent: bool = False
    also_status: tuple[int, ...] = ()  # other success statuses with the same body (an upsert's 200)
    also_produces: tuple[str, ...] = ()  # other media types the success may come in (text bodies)
    error_bodies: tuple[tuple[int, ModelRef], ...] = ()  # a status whose body may also take another shape

    @property
    def request(self) -> type[BaseModel] | None:
        return resolve(self.request_ref)

    @property
    def query(self) -> type[BaseModel] | None:
        return resolve(self.query_ref)

    @property
    def response(self) -> type[BaseModel] | None:
        return resolve(self.response_ref)


class LazyModule:
    """A module imported on first attribute access (for the views' schemas)."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str) -> Any:
        return getattr(importlib.import_module(self._name), attribute)


OPERATIONS: list[Operation] = []


@dataclass
class Call:
    """One request, already authenticated and validated."""

    request: Request
    principal: Principal | None
    raw_body: bytes
    _body: BaseModel | None = None
    _query: BaseModel | None = None
    extra_headers: dict[str, str] = field(default_factory=dict)

    def body(self, model: type[M]) -> M:
        assert isinstance(self._body, model), f"route declared no {model.__name__} body"
        return self._body

    def query(self, model: type[M]) -> M:
        assert isinstance(self._query, model), f"route declared no {model.__name__} query"
        return self._query

    def header(self, name: str) -> str | None:
        return headers_of(self.request).get(name.lower())

    @property
    def auth(self) -> Principal:
        assert self.principal is not None, "route is not authenticated"
        return self.principal

    @property
    def client_address(self) -> str | None:
        return client_address(self.request)

    @property
    def base_url(self) -> str:
        """Absolute root of this API, for HAL links (honours API Gateway's stage path)."""
        headers = headers_of(self.request)
        host = headers.get("host", "localhost")
        proto = headers.get("x-forwarded-proto", "http" if host.startswith(("127.", "localhost")) else "https")
        context: Mapping[str, Any] = self.request.context or {}
        stage_path = f"/{context['stage']}" if "execute-api" in host and context.get("stage") else ""
        return f"{proto}://{host}{stage_path}"


View = Callable[..., Any]


def headers_of(request: Request) -> Mapping[str, str]:
    """The request's headers (case-insensitive, lower-case keys)."""
    return cast("Mapping[str, str]", request.headers or {})


def client_address(request: Request) -> str | None:
    """The caller's IP as API Gateway saw it (never a header the caller could forge)."""
    context: Mapping[str, Any] = request.context or {}
    identity: Mapping[str, Any] = context.get("identity") or {}
    address = identity.get("sourceIp")
    return str(address) if address else None


def _media_type(request: Request) -> str:
    raw = headers_of(request).get("content-type", "")
    return raw.split(";", 1)[0].strip().lower()


MAX_JSON_DEPTH = 32
"""Deeper JSON is refused before parsing: no request model nests this deep, and a deep
enough document makes the parser (and pydantic) recurse out of the stack."""
MAX_ITEM_BODY_BYTES = 350_000
"""A body that a route stores must fit one DynamoDB item (400 KB with its own attributes)."""
MAX_PATH_PARAMETER = 256
"""Longer path values name nothing: every stored key is shorter, and DynamoDB refuses
keys over 1,024/2,048 bytes with an error, not a miss."""
MAX_QUERY_VALUE = 2_000
_CANONICAL_ID = re.compile(r"[1-9][0-9]{0,17}")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_JSON_BRACKETS = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[\[{\]}]')
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def parse_json_body(request: Request, raw: bytes) -> Any:
    media_type = _media_type(request)
    # Timekit's and BookingBug's own curl examples send JSON with `--data` and no
    # Content-Type, i.e. as form-encoded; accept that when the body is JSON.
    lenient = media_type in ("", "application/x-www-form-urlencoded")
    if not (media_type == JSON_TYPE or media_type.endswith("+json") or lenient):
        raise UnsupportedMediaType(f"send the body as {JSON_TYPE}, not {media_type}", field="Content-Type")
    if _too_deep(raw):
        raise BadRequest(f"the JSON nests deeper than {MAX_JSON_DEPTH} levels", code=ErrorCode.MALFORMED_JSON)
    try:
        payload = json.loads(raw, parse_constant=_no_constants)
    except (ValueError, UnicodeDecodeError, RecursionError):
        if lenient and media_type:
            raise UnsupportedMediaType(f"send the body as {JSON_TYPE}", field="Content-Type") from None
        raise BadRequest("the request body is not valid JSON", code=ErrorCode.MALFORMED_JSON) from None
    if _SURROGATE_ESCAPE.search(raw) and not _is_unicode(payload):
        raise ValidationFailed("the body holds a lone surrogate (\\ud800-\\udfff), which is not text")
    return payload


def _too_deep(raw: bytes) -> bool:
    """Nesting depth over the limit, counted on the bytes (strings skipped) without parsing."""
    if raw.count(b"[") + raw.count(b"{") <= MAX_JSON_DEPTH:
        return False
    depth = 0
    for match in _JSON_BRACKETS.finditer(raw):
        token = match.group()
        if token in (b"[", b"{"):
            depth += 1
            if depth > MAX_JSON_DEPTH:
                return True
        elif token in (b"]", b"}"):
            depth -= 1
    return False


def _is_unicode(payload: Any) -> bool:
    # A lone surrogate (in a key or a value) cannot be encoded as UTF-8, so it cannot be stored.
    try:
        json.dumps(payload, ensure_ascii=False).encode()
    except UnicodeEncodeError:
        return False
    return True


def _no_constants(name: str) -> Any:
    # Python's json accepts NaN and Infinity; JSON does not, and DynamoDB cannot store them.
    raise ValueError(f"{name} is not JSON")


def _error(produces: str, error: BookingError) -> Response:
    """The error in the route's media type; a 503 or 429 says when to come back (``Retry-After``, seconds)."""
    response = error_in(produces, error)
    if isinstance(error, Unavailable):
        response.headers["Retry-After"] = str(get_settings().unavailable_retry_after_seconds)
    elif isinstance(error, TooManyRequests):
        response.headers["Retry-After"] = str(error.retry_after)
    return response


def _error_chain(error: BaseException) -> str:
    """The exception and its causes, by type (the messages may carry request details)."""
    names = [type(error).__name__]
    current: BaseException | None = error.__cause__ or error.__context__
    while current is not None and len(names) < 5:
        names.append(type(current).__name__)
        current = current.__cause__ or current.__context__
    return " <- ".join(names)


def _query_params(request: Request) -> dict[str, Any]:
    params: Mapping[str, str] = request.query_params or {}
    multi = getattr(request.query_params, "getlist", None)
    values = {name: (multi(name) if multi and len(multi(name)) > 1 else value) for name, value in params.items()}
    for name, value in values.items():
        if sum(len(v) for v in (value if isinstance(value, list) else [value])) > MAX_QUERY_VALUE:
            raise ValidationFailed(f"{name} is longer than {MAX_QUERY_VALUE} characters", field=name)
    return values


def _path_args(raw: Mapping[str, str], types: Mapping[str, str]) -> dict[str, Any]:
    """Path values, bounded here for every route: a value that cannot name anything is 404."""
    args: dict[str, Any] = {}
    for name, value in raw.items():
        kind = types.get(name, "integer")
        what = name.removesuffix("_id").removesuffix("_file") or "resource"
        if kind == "integer":
            # One spelling per id: "0001503" and "+1503" are not service 1503.
            if not _CANONICAL_ID.fullmatch(value):
                raise NotFound(f"no such {what}", field=name)
            args[name] = int(value)
        elif _names_nothing(kind, value):
            raise NotFound(f"no such {what}", field=name)
        else:
            args[name] = value
    return args


def _names_nothing(kind: str, value: str) -> bool:
    if kind == "uuid":
        return not _UUID.fullmatch(value)
    return len(value) > MAX_PATH_PARAMETER or len(value.encode(errors="replace")) > 4 * MAX_PATH_PARAMETER


def path_names_nothing(path: str, raw: Mapping[str, str]) -> bool:
    """True when the values in a routed path cannot name anything on any of its routes:
    such a request is 404, whatever its method (not 405, which says the resource exists)."""
    kinds = [op.path_types for op in OPERATIONS if op.path == path]
    if not kinds:
        return False
    try:
        _path_args(raw, kinds[0])
    except NotFound:
        return True
    return False


def route(
    registrar: Any,
    path: str,
    method: str,
    *,
    summary: str,
    scheme: Scheme,
    tag: str,
    request: ModelRef | None = None,
    query: ModelRef | None = None,
    response: ModelRef | None = None,
    status: int = 200,
    errors: tuple[int, ...] = (),
    consumes: str = JSON_TYPE,
    produces: str = JSON_TYPE,
    path_types: Mapping[str, str] | None = None,
    prefix: str = "",
    idempotent: bool = False,
    also_status: tuple[int, ...] = (),
    also_produces: tuple[str, ...] = (),
    error_bodies: tuple[tuple[int, ModelRef], ...] = (),
    rate_limited: bool = False,
) -> Callable[[View], View]:
    """Register ``view`` on ``registrar`` (the app or a blueprint) at ``path``.

    The view is called as ``view(call, **path_args)`` and returns a pydantic
    model (dumped by alias), a dict, or a chalice ``Response``.

    Every answer carries CORS headers (:func:`_cors_allowed`), and the path answers CORS
    preflights (:func:`_register_preflight`). Requests made with a public key, and those
    to ``rate_limited`` routes without credentials, count against the public rate limit.
    """
    types = dict(path_types or {})
    auth_errors: tuple[int, ...] = () if scheme is Scheme.NONE else (401,)
    if scheme in (Scheme.V2, Scheme.LEGACY):
        auth_errors += (429,)  # failed Basic credentials are limited (services/identity/limits.py)
    body_errors = (400, 413, 415, 422) if (request is not None or consumes != JSON_TYPE) else ()
    query_errors = (422,) if query is not None else ()
    unavailable = (503,)  # any route: AWS unreachable, too slow or throttling (handler below)
    limit_errors = (429,) if rate_limited or scheme in PUBLIC_KEY_SCHEMES else ()
    all_errors = tuple(sorted(set(errors + auth_errors + body_errors + query_errors + unavailable + limit_errors)))
    OPERATIONS.append(
        Operation(
            path=prefix + path,
            method=method,
            summary=summary,
            scheme=scheme,
            tag=tag,
            request_ref=request,
            query_ref=query,
            response_ref=response,
            status=status,
            errors=all_errors,
            consumes=consumes,
            produces=produces,
            path_types=types,
            idempotent=idempotent,
            also_status=also_status,
            also_produces=also_produces,
            error_bodies=error_bodies,
        )
    )

    def decorate(view: View) -> View:
        def handler(**raw_path: str) -> Response:
            current: Request = registrar.current_request
            seen: list[Principal] = []
            try:
                response = _run(view, current, raw_path, seen)
            except BookingError as error:
                response = _error(produces, error)
            except Exception as error:
                from chalicelib.store.aws import is_unavailable

                if is_unavailable(error):  # timed out, refused, throttled: not the caller's fault, nor a bug
                    get_logger().warning("AWS unavailable", extra={"path": current.path, "error": _error_chain(error)})
                    response = _error(produces, Unavailable("the service is unavailable; retry later"))
                else:
                    get_logger().exception("unhandled error", extra={"path": current.path})
                    internal = BookingError("an internal error occurred", code=ErrorCode.INTERNAL_ERROR)
                    internal.status = 500
                    response = error_in(produces, internal)
            _add_cors(response, current, scheme, raw_path, seen)
            return response

        def _run(view: View, current: Request, raw_path: Mapping[str, str], seen: list[Principal]) -> Response:
            from pydantic import ValidationError

            raw_body = current.raw_body or b""
            raw = raw_body.encode() if isinstance(raw_body, str) else raw_body
            if len(raw) > get_settings().max_body_bytes:
                raise PayloadTooLarge(f"the body exceeds {get_settings().max_body_bytes} bytes")
            if len(raw) > MAX_ITEM_BODY_BYTES and (request is not None or consumes != JSON_TYPE):
                raise PayloadTooLarge(f"the body exceeds {MAX_ITEM_BODY_BYTES} bytes, more than one item can hold")
            principal = authenticate(scheme, headers_of(current), client_address(current))
            if principal is not None:
                seen.append(principal)
            if rate_limited or (principal is not None and principal.role is Role.PUBLIC):
                _count_public_request(current)
            args = _path_args(raw_path, types)
            if principal is not None and "company_id" in args and principal.company_id is not None:
                principal.require_company(args["company_id"])
            call = Call(request=current, principal=principal, raw_body=raw)
            query_model = resolve(query)
            if query_model is not None:
                try:
                    call._query = query_model.model_validate(_query_params(current))
                except ValidationError as exc:
                    raise validation_error(exc) from None
            request_model = resolve(request)
            payload: Any = None
            if request_model is not None:
                payload = parse_json_body(current, raw) if raw.strip() else {}
                try:
                    call._body = request_model.model_validate(payload)
                except ValidationError as exc:
                    raise validation_error(exc) from None
            key = call.header("Idempotency-Key") if idempotent else None
            if key is None:
                return _render(view(call, **args), status, call.extra_headers, produces)
            return _once(
                call,
                key,
                {"operation": f"{method} {path}", "args": args, "body": payload},
                registrar,
                lambda: _render(view(call, **args), status, call.extra_headers, produces),
            )

        handler.__name__ = view.__name__
        handler.__doc__ = view.__doc__
        registrar.route(path, methods=[method], content_types=["*/*"])(handler)
        _register_preflight(registrar, prefix + path, path, method, scheme)
        return view

    return decorate


# --- CORS and the public rate limit --------------------------------------------------------

# Where a PUBLIC principal (a public key) can call, so where a 429 can come from.
PUBLIC_KEY_SCHEMES = frozenset({Scheme.V1_PUBLIC, Scheme.V1_BASKET, Scheme.V2_PUBLIC})


@dataclass
class _PathMethods:
    methods: set[str] = field(default_factory=set)
    schemes: set[Scheme] = field(default_factory=set)


_PREFLIGHTS: dict[str, _PathMethods] = {}


def _register_preflight(registrar: Any, full_path: str, path: str, method: str, scheme: Scheme) -> None:
    """One OPTIONS route per path, answering for every method the path has (added as they come)."""
    known = _PREFLIGHTS.get(full_path)
    if known is not None:
        known.methods.add(method)
        known.schemes.add(scheme)
        return
    known = _PREFLIGHTS[full_path] = _PathMethods({method}, {scheme})

    def preflight(**raw_path: str) -> Response:
        current: Request = registrar.current_request
        headers = headers_of(current)
        if Scheme.PLATFORM in known.schemes:
            return Response(body="", status_code=204, headers={"Vary": "Origin"})
        try:
            allowed = _cors_allowed(known.schemes, raw_path, [])
        except Exception:  # a preflight never fails on a lookup: it then allows no origin
            get_logger().exception("preflight lookup failed", extra={"path": current.path})
            allowed = []
        answer: dict[str, str | list[str]] = {}
        answer.update(
            cors.preflight_headers(
                headers.get("origin"), headers.get("access-control-request-headers"), known.methods, allowed
            )
        )
        return Response(body="", status_code=204, headers=answer)

    preflight.__name__ = f"preflight_{re.sub(r'[^A-Za-z0-9]+', '_', full_path).strip('_') or 'root'}"
    registrar.route(path, methods=["OPTIONS"], content_types=["*/*"])(preflight)


def _cors_allowed(schemes: set[Scheme], raw_path: Mapping[str, str], seen: list[Principal]) -> list[str] | None:
    """The origins that may read this answer: ``*`` for public routes, else the company's
    (None: any origin, by name)."""
    from chalicelib.services.identity import companies

    if schemes == {Scheme.NONE}:
        return [cors.ANY]
    company_id = next((p.company_id for p in seen if p.company_id is not None), None)
    if company_id is None and str(raw_path.get("company_id", "")).isdigit():
        company_id = int(raw_path["company_id"])
    if company_id is None:
        return None  # not authenticated (a 401): nothing of any company in the answer
    return companies.allowed_origins(company_id)


def _add_cors(
    response: Response, current: Request, scheme: Scheme, raw_path: Mapping[str, str], seen: list[Principal]
) -> None:
    """The platform face gets none (operators' tools, not browsers); a request without Origin
    (not from a page) costs no lookup."""
    if scheme is Scheme.PLATFORM:
        return
    origin = headers_of(current).get("origin")
    if origin is None:
        response.headers["Vary"] = "Origin"
        return
    try:
        allowed = _cors_allowed({scheme}, raw_path, seen)
    except Exception:
        get_logger().exception("CORS lookup failed", extra={"path": current.path})
        allowed = []
    response.headers.update(cors.response_headers(origin, allowed))


def _count_public_request(current: Request) -> None:
    from chalicelib.services.identity import ratelimit

    context: Mapping[str, Any] = current.context or {}
    address = str((context.get("identity") or {}).get("sourceIp") or "unknown")
    ratelimit.count_request(presented_key(headers_of(current)), address, get_settings().public_requests_per_minute)


def _once(call: Call, key: str, fingerprint: Any, registrar: Any, respond: Callable[[], Response]) -> Response:
    """Run the view once per Idempotency-Key; replays carry ``Idempotent-Replayed: true``."""
    from chalicelib.services.selling import idempotency

    ran: list[bool] = []

    def execute() -> dict[str, Any]:
        ran.append(True)
        try:
            response = respond()
        except BookingError as error:
            response = error_response(error)
        return {"status": response.status_code, "body": response.body, "headers": dict(response.headers)}

    assert call.auth.company_id is not None
    context = getattr(registrar, "lambda_context", None)
    reply = idempotency.run_once(call.auth.company_id, key, fingerprint, execute, context)
    headers = dict(reply["headers"])
    if not ran:
        headers["Idempotent-Replayed"] = "true"
    return Response(body=reply["body"], status_code=reply["status"], headers=headers)


def _render(result: Any, status: int, headers: dict[str, str], produces: str) -> Response:
    from pydantic import BaseModel

    if isinstance(result, Response):
        result.headers.update(headers)
        return result
    if isinstance(result, BaseModel):
        body: Any = result.model_dump(mode="json", by_alias=True)
    else:
        body = result
    return Response(body=body, status_code=status, headers={"Content-Type": produces, **headers})


# --- errors Chalice produced itself ------------------------------------------------------------


def normalise_chalice_errors(event: Any, get_response: Callable[[Any], Response]) -> Response:
    """Middleware: rewrite errors Chalice produced itself (405, 500) into our shape."""
    response = get_response(event)
    body = response.body
    if response.status_code == 405 and _request_names_nothing(event):
        return error_response(NotFound("no such resource"))
    if response.status_code >= 400 and isinstance(body, dict) and "Code" in body:
        code = str(body.get("Code", "error"))
        message = str(body.get("Message", ""))
        if response.status_code >= 500:
            message = "an internal error occurred"
        response.body = {"error": {"code": _snake(code), "message": message}}
        response.headers["Content-Type"] = JSON_TYPE
    return response


def _request_names_nothing(request: Any) -> bool:
    context = getattr(request, "context", None) or {}
    resource = context.get("resourcePath")
    return bool(resource) and path_names_nothing(str(resource), getattr(request, "uri_params", None) or {})


def _snake(name: str) -> str:
    out = [f"_{ch.lower()}" if ch.isupper() else ch for ch in name.removesuffix("Error")]
    return "".join(out).lstrip("_")
