"""The published contract: FastAPI's OpenAPI description, completed with what the handlers do
beyond their signatures: the security schemes (kiosk request signature, operator bearer token),
per operation, and the refusals every operation can give (413 before the body is read, 422 for
malformed input, 503 when the database is down, 401 for a missing or bad credential)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

SECURITY_SCHEMES = {
    "kioskId": {"type": "apiKey", "in": "header", "name": "X-Kiosk-Id",
                "description": "the enrolled kiosk id"},
    "kioskTimestamp": {"type": "apiKey", "in": "header", "name": "X-Kiosk-Timestamp",
                       "description": "RFC 3339, within auth.request_max_skew_s of the backend's clock"},
    "kioskSignature": {"type": "apiKey", "in": "header", "name": "X-Kiosk-Signature",
                       "description": "base64 Ed25519 by the kiosk's enrolled key over "
                                      "METHOD\\ntarget (path and query as sent)\\ntimestamp\\nsha256hex(body)"},
    "operatorToken": {"type": "http", "scheme": "bearer", "description": "the backend's operator token"},
}
KIOSK = [{"kioskId": [], "kioskTimestamp": [], "kioskSignature": []}]
OPERATOR = [{"operatorToken": []}]


def _error(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ApiError"}}}}


API_ERROR_SCHEMA = {
    "type": "object", "required": ["error", "record_id", "reason"],
    "properties": {
        "error": {"type": "string", "description": "stable code for programs"},
        "record_id": {"type": ["string", "null"], "description": "the record at fault, where one is"},
        "reason": {"type": "string", "description": "a sentence for people: what happened, what to do"},
        "field": {"type": "string", "description": "the field at fault, where one is"},
        "retry_after_s": {"type": "integer", "description": "429: seconds to wait"},
    },
}

COMMON = {
    "400": "the request's framing is wrong (e.g. a Content-Length that is not a number)",
    "413": "the body is over the limit (checked before it is read)",
    "422": "malformed input; `field` and `record_id` name what is wrong",
    "503": "the database is unavailable (or the operator API is not configured); try again later",
}


def _dependency_calls(route: APIRoute) -> set[Callable[..., Any]]:
    calls: set[Callable[..., Any]] = set()
    stack = list(route.dependant.dependencies)
    while stack:
        dep = stack.pop()
        if dep.call is not None:
            calls.add(dep.call)
        stack.extend(dep.dependencies)
    return calls


def _api_routes(routes: Any) -> Any:
    """Every APIRoute, including those of included routers (FastAPI wraps each included router)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from _api_routes(inner.routes)


def install(app: FastAPI, kiosk_auth: Callable[..., Any], operator_auth: Callable[..., Any],
            enums: dict[tuple[str, str], list[str]] | None = None) -> None:
    """Replace ``app.openapi`` with the completed description (built once, then cached)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = get_openapi(title=app.title, version=app.version, description=app.description,
                             routes=app.routes)
        components = schema.setdefault("components", {})
        components.setdefault("securitySchemes", {}).update(SECURITY_SCHEMES)
        components.setdefault("schemas", {})["ApiError"] = API_ERROR_SCHEMA
        for (model, prop), values in (enums or {}).items():     # values known only at run time
            components["schemas"][model]["properties"][prop]["enum"] = values
        for route in _api_routes(app.routes):
            if not route.include_in_schema:
                continue
            calls = _dependency_calls(route)
            for method in route.methods or ():
                op = schema["paths"].get(route.path_format, {}).get(method.lower())
                if op is None:
                    continue
                responses = op.setdefault("responses", {})
                for code, text in COMMON.items():
                    responses.setdefault(code, _error(text))
                responses["422"] = _error(COMMON["422"])       # not FastAPI's HTTPValidationError shape
                if kiosk_auth in calls or any(getattr(call, "kiosk_signed", False) for call in calls):
                    op["security"] = KIOSK
                    responses.setdefault("401", _error("unsigned, badly signed, replayed or unknown kiosk"))
                elif operator_auth in calls:
                    op["security"] = OPERATOR
                    responses.setdefault("401", _error("missing or wrong operator token"))
                else:
                    op["security"] = []
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
