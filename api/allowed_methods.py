"""OPTIONS answers with every method of the path.

litestar (2.25) builds a path's automatic OPTIONS handler with the first handler registered for it,
so `Allow` on `/v1/batches` said `OPTIONS, POST` and left out `GET`. This hook answers from the
complete route instead.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.enums import HttpMethod, MediaType
from litestar.routes import HTTPRoute


def route_of(request: Request[Any, Any, Any]) -> HTTPRoute | None:
    """The route (full path, every method) whose handler answers this request."""
    for route in request.app.routes:
        if isinstance(route, HTTPRoute) and request.route_handler in route.route_handlers:
            return route
    return None


def answer_options(request: Request[Any, Any, Any]) -> Response[None] | None:
    """The 204 for an automatic OPTIONS handler, with the path's full `Allow`; None for other methods."""
    if request.method != HttpMethod.OPTIONS or (route := route_of(request)) is None:
        return None
    return Response(
        None, status_code=204, headers={"Allow": ", ".join(sorted(route.methods))}, media_type=MediaType.TEXT
    )
