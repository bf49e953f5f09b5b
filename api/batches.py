"""/v1/batches: submit an archive of articles, follow its progress, stream its results, cancel, retry."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from itertools import islice
from typing import Annotated, Any

import anyio
from litestar import Controller, Request, Response, delete, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import Parameter
from litestar.response import ServerSentEvent, ServerSentEventMessage, Stream

from api.archive_upload import ArchiveUploadOperation, received_upload
from api.problems import (
    ALWAYS_POSSIBLE,
    ARCHIVE_TOO_LARGE,
    BATCH_CONFLICT,
    BATCH_NOT_FOUND,
    INVALID_REQUEST,
    MALFORMED_ARCHIVE,
    UNSUPPORTED_ARCHIVE,
    problem_for,
    problem_responses,
)
from factline.archives import ArchiveEntry, ArchiveLimits, detect_kind, read_archive
from factline.batch_store import BatchStore, result_line
from factline.settings import Settings
from factline.worker_lifecycle import Workers
from schemas import Batch, BatchPage, BatchResult, BatchRetry, ItemType

NDJSON = "application/x-ndjson"
ENTRIES_PER_INSERT = 500
BATCH_ID = Parameter(description="The batch's id, as returned when it was submitted.")


def provide_store(state: State) -> BatchStore:
    store: BatchStore = state.batch_store
    return store


def provide_workers(state: State) -> Workers:
    workers: Workers = state.batch_workers
    return workers


def provide_settings(state: State) -> Settings:
    settings: Settings = state.settings
    return settings


def _types(values: list[str] | None) -> list[ItemType] | None:
    """`?types=quote,event` or `?types=quote&types=event`; null means each article's own, or all."""
    if not values:
        return None
    names = [part.strip() for value in values for part in value.split(",") if part.strip()]
    wrong = [name for name in names if name not in ItemType.__members__.values()]
    if wrong or not names:
        raise INVALID_REQUEST.exception(
            f"Unknown types: {', '.join(wrong) or '(none)'}; use quote, event, position, proposal.",
            errors=[{"location": "query.types", "message": f"not a type: {name}"} for name in wrong],
        )
    return sorted({ItemType(name) for name in names}, key=list(ItemType).index)


async def _chunks(entries: Any) -> AsyncIterator[Sequence[ArchiveEntry]]:
    """The archive's entries a few hundred at a time, read in a thread: files are read and inflated there."""
    while chunk := await anyio.to_thread.run_sync(lambda: list(islice(entries, ENTRIES_PER_INSERT))):
        yield chunk


class BatchController(Controller):
    path = "/v1/batches"
    tags = ["batches"]
    dependencies = {
        "store": Provide(provide_store, sync_to_thread=False),
        "workers": Provide(provide_workers, sync_to_thread=False),
        "settings": Provide(provide_settings, sync_to_thread=False),
    }

    @post(
        operation_id="createBatch",
        summary="Submit an archive of articles",
        description=(
            "The body is the archive: NDJSON (one article object per line, the fields of a single "
            "extraction), or a zip, tar or tar.gz of `.txt`, `.md` and `.json` files whose paths become "
            "the article ids; or a `multipart/form-data` form with the archive in its `file` part. The "
            "format is recognised by content. Lines or files that are no article become failed results; "
            "the rest is extracted in the background. Answers 202 with the batch and its `Location`."
        ),
        status_code=202,
        operation_class=ArchiveUploadOperation,
        request_max_body_size=None,  # the upload limit is enforced while streaming to disk
        responses=problem_responses(
            MALFORMED_ARCHIVE, ARCHIVE_TOO_LARGE, UNSUPPORTED_ARCHIVE, INVALID_REQUEST, *ALWAYS_POSSIBLE
        ),
    )
    async def create_batch(
        self,
        request: Request[Any, Any, Any],
        store: NamedDependency[BatchStore],
        workers: NamedDependency[Workers],
        settings: NamedDependency[Settings],
        types: Annotated[
            list[str] | None,
            Parameter(
                description="Kinds of fact for articles that do not name their own `types`: "
                "repeated or comma-separated; all four when omitted."
            ),
        ] = None,
    ) -> Response[Batch]:
        wanted = _types(types)
        limits = ArchiveLimits(
            max_total_bytes=settings.batch_max_total_bytes,
            max_file_bytes=settings.batch_max_file_bytes,
            max_files=settings.batch_max_files,
        )
        async with received_upload(request, settings.batch_max_upload_bytes) as upload:
            kind = await anyio.to_thread.run_sync(detect_kind, upload.path)
            entries = read_archive(upload.path, kind, wanted, limits)
            batch_id = await store.create(kind, upload.filename, wanted, _chunks(entries), problem_for)
        workers.wake()
        batch = await store.get(batch_id)
        return Response(batch, status_code=202, headers={"Location": f"{self.path}/{batch_id}"})

    @get(
        operation_id="listBatches",
        summary="List batches, newest first",
        responses=problem_responses(BATCH_NOT_FOUND, INVALID_REQUEST, *ALWAYS_POSSIBLE),
    )
    async def list_batches(
        self,
        store: NamedDependency[BatchStore],
        after: Annotated[
            str | None, Parameter(description="`next_cursor` of the previous page.", required=False)
        ] = None,
        limit: Annotated[int, Parameter(ge=1, le=100, description="Batches per page.")] = 20,
    ) -> BatchPage:
        batches, next_cursor = await store.page(after, limit)
        return BatchPage(batches=batches, next_cursor=next_cursor)

    @get(
        "/{batch_id:str}",
        operation_id="getBatch",
        summary="A batch's status, counts, timings, usage and time left",
        responses=problem_responses(BATCH_NOT_FOUND, *ALWAYS_POSSIBLE),
    )
    async def get_batch(
        self, store: NamedDependency[BatchStore], batch_id: Annotated[str, BATCH_ID]
    ) -> Batch:
        return await store.get(batch_id)

    @get(
        "/{batch_id:str}/results",
        operation_id="listBatchResults",
        summary="Stream a batch's results as NDJSON",
        description=(
            "One `BatchResult` line per finished article, in the order they finished, each with the same "
            "`Extraction` as a single extraction or a problem. With `follow` (the default) the stream "
            "stays open until every article has finished. A client that lost its connection passes "
            "the last `cursor` it read as `after` and continues there."
        ),
        media_type=NDJSON,
        responses={
            200: ResponseSpec(
                data_container=BatchResult,
                media_type=NDJSON,
                description="One JSON `BatchResult` per line.",
                generate_examples=False,
            ),
            **problem_responses(BATCH_NOT_FOUND, INVALID_REQUEST, *ALWAYS_POSSIBLE),
        },
    )
    async def list_batch_results(
        self,
        store: NamedDependency[BatchStore],
        settings: NamedDependency[Settings],
        batch_id: Annotated[str, BATCH_ID],
        after: Annotated[
            int, Parameter(ge=0, description="Continue after the line with this `cursor`.", required=False)
        ] = 0,
        follow: Annotated[
            bool, Parameter(description="Keep streaming until the batch has finished.", required=False)
        ] = True,
    ) -> Stream:
        await store.get(batch_id)  # a missing batch is a 404 before the stream starts

        async def lines() -> AsyncIterator[bytes]:
            cursor = after
            while True:
                rows = await store.results(batch_id, cursor)
                for seq, line in rows:
                    cursor = seq
                    yield (result_line(seq, line) + "\n").encode("utf-8")
                if rows:
                    continue
                if not follow or (await store.get(batch_id)).counts.pending == 0:
                    # Whatever finished before the last check was committed with it: one last read.
                    for seq, line in await store.results(batch_id, cursor):
                        yield (result_line(seq, line) + "\n").encode("utf-8")
                    return
                await asyncio.sleep(settings.batch_poll_seconds)

        return Stream(lines(), media_type=NDJSON)

    @get(
        "/{batch_id:str}/events",
        operation_id="streamBatchEvents",
        summary="Follow a batch's progress as Server-Sent Events",
        description=(
            "A `progress` event with the `Batch` whenever its counts or status change, then one `done` "
            "event with the final `Batch`, after which the stream ends."
        ),
        responses={
            200: ResponseSpec(
                data_container=str,
                media_type="text/event-stream",
                description="`progress` and `done` events; each `data` is a JSON `Batch`.",
                generate_examples=False,
            ),
            **problem_responses(BATCH_NOT_FOUND, *ALWAYS_POSSIBLE),
        },
    )
    async def stream_batch_events(
        self,
        store: NamedDependency[BatchStore],
        settings: NamedDependency[Settings],
        batch_id: Annotated[str, BATCH_ID],
    ) -> ServerSentEvent:
        first = await store.get(batch_id)

        async def events() -> AsyncIterator[ServerSentEventMessage]:
            batch, seen = first, None
            number = 0
            while True:
                state = (batch.status, batch.counts)
                finished = batch.counts.pending == 0
                if state != seen or finished:
                    number += 1
                    yield ServerSentEventMessage(
                        data=batch.model_dump_json(), event="done" if finished else "progress", id=number
                    )
                    seen = state
                if finished:
                    return
                await asyncio.sleep(settings.batch_poll_seconds)
                batch = await store.get(batch_id)

        return ServerSentEvent(events())

    @delete(
        "/{batch_id:str}",
        operation_id="cancelBatch",
        summary="Cancel a batch",
        description=(
            "Articles not yet finished end as `cancelled` in the results; a running one's outcome is "
            "discarded. Answers the batch; cancelling twice is harmless, cancelling a finished batch is 409."
        ),
        status_code=200,
        responses=problem_responses(BATCH_NOT_FOUND, BATCH_CONFLICT, *ALWAYS_POSSIBLE),
    )
    async def cancel_batch(
        self, store: NamedDependency[BatchStore], batch_id: Annotated[str, BATCH_ID]
    ) -> Batch:
        await store.cancel(batch_id)
        return await store.get(batch_id)

    @post(
        "/{batch_id:str}/retry",
        operation_id="retryBatchItems",
        summary="Queue a batch's failed articles again",
        description=(
            "Failed articles (not those that were never articles, such as a bad line) go back to the "
            "queue; their old result lines are replaced by new ones later in the stream."
        ),
        status_code=202,
        responses=problem_responses(BATCH_NOT_FOUND, BATCH_CONFLICT, *ALWAYS_POSSIBLE),
    )
    async def retry_batch_items(
        self,
        store: NamedDependency[BatchStore],
        workers: NamedDependency[Workers],
        batch_id: Annotated[str, BATCH_ID],
    ) -> BatchRetry:
        requeued = await store.retry(batch_id)
        workers.wake()
        return BatchRetry(requeued=requeued, batch=await store.get(batch_id))
