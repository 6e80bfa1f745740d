"""Request size, checked before the body is read: by Content-Length, and again while it streams.

A pure ASGI middleware, so nothing upstream (FastAPI, a dependency reading ``request.body()``)
ever holds more than the limit in memory. ``POST /v1/records:batch`` may be up to
``ingest.max_body_bytes``; every other request up to ``ingest.max_request_bytes``. The limits are
read from the live configuration on each request.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

BATCH_PATH = "/v1/records:batch"


class BodyTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"body over {limit} bytes")
        self.limit = limit


def _refusal(limit: int) -> bytes:
    return json.dumps({"error": "batch_too_large", "record_id": None,
                       "reason": f"the request body is over {limit} bytes; send less (fewer records per batch)"}
                      ).encode()


class BodyLimit:
    def __init__(self, app: ASGIApp, limits: Callable[[str], int]) -> None:
        self.app = app
        self.limits = limits            # path -> the largest body accepted there

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limits(scope.get("path", ""))
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    await _send_json(send, 400, {"error": "malformed", "record_id": None,
                                                 "reason": "Content-Length is not a number"})
                    return
                if declared > limit:
                    await _send_raw(send, 413, _refusal(limit))
                    return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:     # chunked, or a Content-Length that lied
                    raise BodyTooLarge(limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge as exc:
            if started:
                raise
            await _send_raw(send, 413, _refusal(exc.limit))


async def _send_json(send: Send, status: int, body: dict[str, Any]) -> None:
    await _send_raw(send, status, json.dumps(body).encode())


async def _send_raw(send: Send, status: int, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})
