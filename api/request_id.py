"""Every request gets an id: the client's `X-Request-ID` when it is a sane token, else a new one.

It is returned in the `X-Request-ID` response header, put on every log line written while the
request is handled, and into problem bodies as `request_id`, so a client's report leads to the logs.
Each request's access line carries it too, written once the response has gone: uvicorn's own came
between the response's headers and its body (~15 µs of formatting and a write to stderr each time).
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.types import ASGIApp, HTTPScope, Message, Receive, Scope, Send
from uvicorn.protocols.utils import get_client_addr, get_path_with_query_string

from factline.logs import REQUEST_ID

HEADER = "X-Request-ID"
ACCESS = logging.getLogger("factline.access")
_VALID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def _incoming(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            candidate = value.decode("latin-1")
            return candidate if _VALID.fullmatch(candidate) else None
    return None


class RequestIdMiddleware:
    """Wraps the whole ASGI app, so unknown routes and errors carry the id too."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = _incoming(scope) or uuid.uuid4().hex
        token = REQUEST_ID.set(request_id)
        status: int | None = None

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableScopeHeaders.from_message(message)[HEADER] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            _log_access(scope, status, (time.perf_counter() - started) * 1000)
            REQUEST_ID.reset(token)


def _log_access(scope: HTTPScope, status: int | None, milliseconds: float) -> None:
    """uvicorn's access line, with the time the request took; status "-" when the app sent no response."""
    ACCESS.info(
        '%s - "%s %s HTTP/%s" %s %.1f ms',
        get_client_addr(scope),  # type: ignore[arg-type]  # uvicorn's scope type, the same ASGI keys
        scope["method"],
        get_path_with_query_string(scope),  # type: ignore[arg-type]
        scope["http_version"],
        status or "-",
        milliseconds,
        extra={"status": status, "duration_ms": round(milliseconds, 1)},
    )
