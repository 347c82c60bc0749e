"""A WSGI application over ``chalice.local.LocalGateway``: what ``chalice local``
serves, without a socket, so in-process clients (werkzeug, schemathesis) can call
the app on the test's own thread (moto's decorator mode is not thread-safe).
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

from chalice import Chalice
from chalice.config import Config
from chalice.local import LocalGateway, LocalGatewayException

StartResponse = Callable[..., Any]


class ChaliceWSGI:
    def __init__(self, app: Chalice) -> None:
        self.gateway = LocalGateway(app, Config.create())

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        # The raw URI, as `chalice local` sees it: path parameters stay percent-encoded.
        path = environ.get("RAW_URI") or environ.get("REQUEST_URI") or quote(environ.get("PATH_INFO", "/"))
        if "?" not in path and environ.get("QUERY_STRING"):
            path = f"{path}?{environ['QUERY_STRING']}"
        headers = {k[5:].replace("_", "-").title(): v for k, v in environ.items() if k.startswith("HTTP_")}
        for key, name in (("CONTENT_TYPE", "Content-Type"), ("CONTENT_LENGTH", "Content-Length")):
            if environ.get(key):
                headers[name] = environ[key]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length > 0 else None
        try:
            response = self.gateway.handle_request(environ["REQUEST_METHOD"], path, headers, body)
            status, out, payload = response["statusCode"], dict(response["headers"]), response["body"]
            out.update(response.get("multiValueHeaders") or {})
            if response.get("isBase64Encoded"):
                payload = base64.b64decode(payload)
        except LocalGatewayException as error:
            status, out, payload = error.CODE, dict(error.headers), error.body
        data = payload.encode() if isinstance(payload, str) else payload
        pairs = [
            (n, str(v))
            for n, vs in out.items()
            if n.lower() != "content-length"
            for v in (vs if isinstance(vs, list) else [vs])
        ]
        if data is not None and not any(n.lower() == "content-type" for n, _ in pairs):
            pairs.append(("Content-Type", "application/json"))  # what `chalice local` sends by default
        pairs.append(("Content-Length", str(len(data or b""))))
        reason = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Unknown"
        start_response(f"{status} {reason}", pairs)
        return [data or b""]
