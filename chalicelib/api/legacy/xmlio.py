"""XML in and out for the legacy sessions API (seed 001).

Parsing goes through defusedxml with DTDs, entity declarations and external
references all forbidden, so billion-laughs, XXE and external-DTD bodies are
refused (400) before any entity is expanded. Output is built with ElementTree,
which escapes text and attributes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from xml.etree import ElementTree as ET

from chalice import Response

from chalicelib.domain.errors import BadRequest, BookingError, ErrorCode

XML_TYPE = "application/xml"
DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'


def parse(raw: bytes) -> ET.Element:
    """The document's root element; 400 for anything hostile or malformed."""
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import ParseError, fromstring

    if not raw.strip():
        raise BadRequest("the request body is empty; send the XML document", code=ErrorCode.MALFORMED_XML)
    try:
        root: ET.Element = fromstring(raw, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise BadRequest(
            "DTDs, entity declarations and external references are not accepted", code=ErrorCode.XML_FORBIDDEN
        ) from None
    except (ParseError, ValueError, UnicodeError):
        raise BadRequest("the request body is not well-formed XML", code=ErrorCode.MALFORMED_XML) from None
    return root


def element(tag: str, attributes: Mapping[str, Any] | None = None, **children: Any) -> ET.Element:
    """``<tag attr="..."><child>text</child>...</tag>``; None children are left out."""
    node = ET.Element(tag, {name: str(value) for name, value in (attributes or {}).items()})
    for name, value in children.items():
        if value is None:
            continue
        if isinstance(value, ET.Element):
            node.append(value)
            continue
        child = ET.SubElement(node, name)
        child.text = str(value).lower() if isinstance(value, bool) else str(value)
    return node


def response(root: ET.Element, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    body = DECLARATION + ET.tostring(root, encoding="unicode")
    return Response(body=body, status_code=status, headers={"Content-Type": XML_TYPE, **(headers or {})})


def error_response(error: BookingError) -> Response:
    """The legacy error body: ``<error><code/><message/><field/></error>``."""
    root = element("error", code=error.code, message=error.message, field=error.field)
    return response(root, error.status)
