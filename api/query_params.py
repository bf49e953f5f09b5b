"""Unknown query parameters are refused (422), as unknown body fields are, instead of being ignored.

What a route accepts is what `openapi.json` documents for it. The single-extraction route reads its
own query (text/plain metadata, validated with the body), so it is left to that.
"""

from __future__ import annotations

import re
from typing import Any

from litestar import Request, Response
from litestar.openapi.spec import Parameter

from api.allowed_methods import answer_options, route_of
from api.article_body import ArticleRequest
from api.problems import INVALID_REQUEST

_TYPED_PARAMETER = re.compile(r"\{(\w+):\w+\}")


def _documented_query(request: Request[Any, Any, Any]) -> set[str] | None:
    """The query parameters the document declares for this route, or None for undocumented routes."""
    route = route_of(request)
    item = (
        (request.app.openapi_schema.paths or {}).get(_TYPED_PARAMETER.sub(r"{\1}", route.path))
        if route
        else None
    )
    operation = getattr(item, request.method.lower(), None) if item else None
    if operation is None:
        return None
    return {p.name for p in operation.parameters or [] if isinstance(p, Parameter) and p.param_in == "query"}


def refuse_unknown_query(request: Request[Any, Any, Any]) -> None:
    if not request.query_params or isinstance(request, ArticleRequest):
        return
    known = _documented_query(request)
    unknown = [name for name in request.query_params if known is not None and name not in known]
    if unknown:
        raise INVALID_REQUEST.exception(
            f"Unknown query parameters: {', '.join(unknown) or '(empty name)'}.",
            errors=[
                {"location": f"query.{name}", "message": "not a parameter of this route"} for name in unknown
            ],
        )


async def screen_request(request: Request[Any, Any, Any]) -> Response[None] | None:
    """The app's `before_request` hook: OPTIONS answered in full, unknown query parameters refused.

    A coroutine although it never waits: litestar runs a plain function hook in a worker thread, a
    thread hop per request for a few dictionary lookups."""
    if (options := answer_options(request)) is not None:
        return options
    refuse_unknown_query(request)
    return None
