"""Batches: archives of articles extracted in the background, their progress and their result lines."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import Field

from schemas.article import ItemType
from schemas.contract import Choice, Contract
from schemas.extraction import Extraction, Usage
from schemas.problem import Problem


class BatchStatus(Choice):
    """Where a batch stands as a whole."""

    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    FAILED = "failed"


class ItemStatus(Choice):
    """How one article of a batch ended."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


class ArchiveKind(Choice):
    """The archive format a batch was submitted as."""

    NDJSON = "ndjson"
    ZIP = "zip"
    TAR = "tar"
    TAR_GZ = "tar.gz"


class BatchCounts(Contract):
    """How many of a batch's articles are in each state."""

    total: Annotated[int, Field(ge=0, description="Articles in the batch.", examples=[30])]
    succeeded: Annotated[int, Field(ge=0, description="Extracted successfully.", examples=[21])]
    failed: Annotated[int, Field(ge=0, description="Ended with a problem.", examples=[1])]
    cancelled: Annotated[int, Field(ge=0, description="Cancelled before they ran.", examples=[0])]
    pending: Annotated[int, Field(ge=0, description="Queued or being extracted.", examples=[8])]
    running: Annotated[
        int,
        Field(
            ge=0,
            description="Held by a worker: being extracted, next in line for the LLM (up to as many as are "
            "being extracted), or having the result written.",
            examples=[2],
        ),
    ]
    cached: Annotated[
        int,
        Field(ge=0, description="Served by the extraction cache, no LLM call.", examples=[3]),
    ]


class Batch(Contract):
    """An archive of articles being extracted in the background."""

    id: Annotated[str, Field(description="Identifier of the batch.", examples=["bat_0f8fad5bd9cb469fa1b2"])]
    status: Annotated[BatchStatus, Field(description="Where the batch stands.", examples=["running"])]
    archive: Annotated[ArchiveKind, Field(description="The format it was read as.", examples=["zip"])]
    filename: Annotated[
        str | None,
        Field(description="The uploaded file's name, for multipart uploads.", examples=["archive.zip"]),
    ]
    types: Annotated[
        list[ItemType] | None,
        Field(
            description="Kinds of fact requested for articles that do not name their own; all when null.",
            examples=[["quote", "event"]],
        ),
    ]
    counts: Annotated[BatchCounts, Field(description="Articles by state.")]
    usage: Annotated[Usage, Field(description="Tokens and LLM calls spent on the batch so far.")]
    created_at: Annotated[
        dt.datetime,
        Field(description="When it was submitted (UTC).", examples=["2026-11-22T03:58:12Z"]),
    ]
    started_at: Annotated[
        dt.datetime | None,
        Field(description="When a worker took up its first article.", examples=["2026-11-22T03:58:13Z"]),
    ]
    finished_at: Annotated[
        dt.datetime | None,
        Field(description="When its last article finished, or it was cancelled.", examples=[None]),
    ]
    elapsed_seconds: Annotated[
        float | None,
        Field(ge=0, description="Seconds from start to finish, or to now while it runs.", examples=[42.5]),
    ]
    estimated_seconds_left: Annotated[
        float | None,
        Field(
            ge=0,
            description="Time left at the pace so far; null until an article has finished, 0 when done.",
            examples=[17.0],
        ),
    ]
    results_url: Annotated[
        str,
        Field(description="Where results stream from.", examples=["/v1/batches/bat_0f8f/results"]),
    ]
    events_url: Annotated[
        str, Field(description="Where progress events stream from.", examples=["/v1/batches/bat_0f8f/events"])
    ]


class BatchPage(Contract):
    """One page of batches, newest first."""

    batches: Annotated[list[Batch], Field(description="The batches of this page.")]
    next_cursor: Annotated[
        str | None,
        Field(
            description="Pass as `after` for the next page; null on the last page.",
            examples=["bat_0f8fad5bd9cb469fa1b2"],
        ),
    ]


class BatchResult(Contract):
    """One line of a batch's results: how one article ended."""

    cursor: Annotated[
        str,
        Field(description="Pass as `after` to continue the results after this line.", examples=["17"]),
    ]
    item_id: Annotated[
        str, Field(description="Identifier of the article within the batch.", examples=["itm_3c1d9b0a2e4f"])
    ]
    position: Annotated[
        int,
        Field(ge=0, description="Index in the archive (line or file order).", examples=[4]),
    ]
    article_id: Annotated[
        str | None,
        Field(
            description="The article's id: its `id` field, its path in the archive, or `line-<n>`.",
            examples=["politics/2025-12-15-pistorius.txt"],
        ),
    ]
    status: Annotated[ItemStatus, Field(description="How the article ended.", examples=["succeeded"])]
    extraction: Annotated[
        Extraction | None, Field(description="The facts, exactly as a single extraction returns them.")
    ] = None
    problem: Annotated[
        Problem | None, Field(description="What went wrong, as a single extraction's error would say.")
    ] = None


class BatchRetry(Contract):
    """What a retry re-queued."""

    requeued: Annotated[int, Field(ge=0, description="Failed articles queued again.", examples=[2])]
    batch: Annotated[Batch, Field(description="The batch after the retry.")]
