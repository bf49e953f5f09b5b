"""/v1/views: what a set of batches says across its articles: actors, one timeline, proposals, positions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import Parameter

from api.problems import ALWAYS_POSSIBLE, BATCH_NOT_FOUND, INVALID_REQUEST, problem_responses
from factline.view_queries import BadCursor, CrossArticleViews, ViewFilter
from schemas.views import ActorPage, PositionPage, ProposalPage, TimelinePage, ViewPage

NDJSON = "application/x-ndjson"
NEXT_CURSOR = "Next-Cursor"
MAX_BATCHES = 50
BATCH_VALUE_PATTERN = r"^\s*[^,\s]"  # each value names at least one batch
_NDJSON_NOTE = (
    " With `Accept: application/x-ndjson` the page's items come one JSON object per line instead, and the "
    f"next page's cursor in the `{NEXT_CURSOR}` header."
)
_RESPONSES = problem_responses(BATCH_NOT_FOUND, INVALID_REQUEST, *ALWAYS_POSSIBLE)

BatchIds = Annotated[
    list[Annotated[str, msgspec.Meta(pattern=BATCH_VALUE_PATTERN)]],
    Parameter(
        description="The batches to combine: repeated (`batch=a&batch=b`) or comma-separated.",
        min_items=1,
        max_items=MAX_BATCHES,
    ),
]
ActorText = Annotated[
    str | None,
    Parameter(
        description="Only what concerns actors whose key (normalised name) contains this text.",
        required=False,
        min_length=1,
        max_length=256,
    ),
]
Since = Annotated[
    dt.date | None, Parameter(description="Only facts dated on or after this day.", required=False)
]
Until = Annotated[
    dt.date | None, Parameter(description="Only facts dated on or before this day.", required=False)
]
TopicText = Annotated[
    str | None,
    Parameter(
        description="Only facts whose text, topic or summary contains this (case and quotes folded).",
        required=False,
        min_length=1,
        max_length=256,
    ),
]
After = Annotated[
    str | None,
    Parameter(description="`next_cursor` of the previous page.", required=False, max_length=300),
]
Limit = Annotated[int, Parameter(ge=1, le=100, description="Items per page.")]
Facts = Annotated[
    int,
    Parameter(
        ge=0,
        le=1000,
        description="Most facts listed per item (quotes, positions, proposals of an actor; reports of a "
        "proposal), oldest first; the `*_count` fields say how many match. Narrow with `since` and `until`.",
    ),
]


def provide_views(state: State) -> CrossArticleViews:
    views: CrossArticleViews = state.views
    return views


async def provide_view_filter(
    views: NamedDependency[CrossArticleViews],
    batch: BatchIds,
    actor: ActorText = None,
    since: Since = None,
    until: Until = None,
    topic: TopicText = None,
) -> ViewFilter:
    """What every view is restricted to, from the query: the batches (which must exist) and filters."""
    ids = tuple(dict.fromkeys(part.strip() for value in batch for part in value.split(",") if part.strip()))
    if not ids or len(ids) > MAX_BATCHES:
        raise INVALID_REQUEST.exception(
            f"Name between 1 and {MAX_BATCHES} batches.",
            errors=[{"location": "query.batch", "message": f"{len(ids)} batches given"}],
        )
    if since and until and since > until:
        raise INVALID_REQUEST.exception(
            "`since` is after `until`.", errors=[{"location": "query.since", "message": "after until"}]
        )
    await views.check_batches(ids)
    return ViewFilter(batch_ids=ids, actor=actor, since=since, until=until, topic=topic)


async def _page(
    request: Request[Any, Any, Any],
    read: Callable[[str | None], Awaitable[ViewPage]],
    after: str | None,
    items: str,
) -> Response[Any]:
    """The page as JSON, or its items as NDJSON when the client asks for it."""
    try:
        page = await read(after)
    except BadCursor as error:
        raise INVALID_REQUEST.exception(
            str(error), errors=[{"location": "query.after", "message": "not a cursor of this view"}]
        ) from None
    next_cursor = page.next_cursor
    if NDJSON not in request.headers.get("accept", ""):
        return Response(page)
    body = "".join(item.model_dump_json() + "\n" for item in getattr(page, items))
    headers = {NEXT_CURSOR: next_cursor} if next_cursor else {}
    return Response(body, media_type=NDJSON, headers=headers)


class ViewController(Controller):
    path = "/v1/views"
    tags = ["views"]
    dependencies = {
        "views": Provide(provide_views, sync_to_thread=False),
        "view_filter": Provide(provide_view_filter),
    }

    @get(
        "/actors",
        operation_id="listActors",
        summary="People and organisations across the articles",
        description=(
            "One entry per actor across the batches' articles, merged by normalised name (titles "
            "removed; a surname alone only when one person of that name is known), with the evidence "
            "of every merge, and its quotes, positions and proposals in date order, each pointing at "
            "its article and evidence span. Date and topic filters apply to those facts." + _NDJSON_NOTE
        ),
        responses=_RESPONSES,
    )
    async def list_actors(
        self,
        request: Request[Any, Any, Any],
        views: NamedDependency[CrossArticleViews],
        view_filter: NamedDependency[ViewFilter],
        after: After = None,
        limit: Limit = 20,
        facts: Facts = 50,
    ) -> Response[ActorPage]:
        return await _page(
            request, lambda cursor: views.actors(view_filter, cursor, limit, facts), after, "actors"
        )

    @get(
        "/timeline",
        operation_id="listTimelineEvents",
        summary="One timeline of the events of all the articles",
        description=(
            "Events oldest first; those with neither a date nor a publication day last. Reports of "
            "the same event by several articles are one entry with several sources: dates within a "
            "day, not two different places, and a shared location or "
            "participant with similar text, or very similar text (`merge_reasons` says which). Each "
            "source keeps its own date text; one dating the event otherwise is flagged. A report "
            "without a date stands at its article's publication day (`date` null) and joins an event "
            "of the week before only in the same place." + _NDJSON_NOTE
        ),
        responses=_RESPONSES,
    )
    async def list_timeline_events(
        self,
        request: Request[Any, Any, Any],
        views: NamedDependency[CrossArticleViews],
        view_filter: NamedDependency[ViewFilter],
        after: After = None,
        limit: Limit = 20,
    ) -> Response[TimelinePage]:
        return await _page(
            request, lambda cursor: views.timeline(view_filter, cursor, limit), after, "events"
        )

    @get(
        "/proposals",
        operation_id="listProposals",
        summary="Proposals tracked across the articles",
        description=(
            "Each proposal once, however many articles report it (matched by shared content words and "
            "text similarity): who proposed, supported and opposed it and when, and its status in each "
            "report, oldest first." + _NDJSON_NOTE
        ),
        responses=_RESPONSES,
    )
    async def list_proposals(
        self,
        request: Request[Any, Any, Any],
        views: NamedDependency[CrossArticleViews],
        view_filter: NamedDependency[ViewFilter],
        after: After = None,
        limit: Limit = 20,
        facts: Facts = 50,
    ) -> Response[ProposalPage]:
        return await _page(
            request, lambda cursor: views.proposals(view_filter, cursor, limit, facts), after, "proposals"
        )

    @get(
        "/positions",
        operation_id="listPositions",
        summary="Each actor's stances per topic over time",
        description=(
            "Per actor, its positions grouped by topic in date order; `changed` marks a stance that "
            "differs from the one before (an actor who supported something and later opposed it)."
            + _NDJSON_NOTE
        ),
        responses=_RESPONSES,
    )
    async def list_positions(
        self,
        request: Request[Any, Any, Any],
        views: NamedDependency[CrossArticleViews],
        view_filter: NamedDependency[ViewFilter],
        after: After = None,
        limit: Limit = 20,
        facts: Facts = 50,
    ) -> Response[PositionPage]:
        return await _page(
            request, lambda cursor: views.positions(view_filter, cursor, limit, facts), after, "actors"
        )
