"""Receiving a batch archive: the request body goes to a temporary file as it arrives, never into memory.

The body is the archive itself, or a `multipart/form-data` form (`curl -F file=@archive.zip`) whose
`file` part is. Either way the bytes are counted against `FACTLINE_BATCH_MAX_UPLOAD_BYTES`.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
from litestar import Request
from litestar.openapi.spec import OpenAPIFormat, OpenAPIMediaType, OpenAPIType, Operation, RequestBody, Schema
from multipart import MultipartError, MultipartSegment, PushMultipartParser

from api.problems import ARCHIVE_TOO_LARGE, MALFORMED_ARCHIVE

MULTIPART = "multipart/form-data"
FILE_FIELD = "file"
ARCHIVE_MEDIA_TYPES = ("application/x-ndjson", "application/zip", "application/x-tar", "application/gzip")


def _upload_body() -> RequestBody:
    archive = Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY, description="The archive's bytes.")
    form = Schema(
        type=OpenAPIType.OBJECT,
        properties={FILE_FIELD: archive},
        required=[FILE_FIELD],
        description="A form whose `file` part is the archive.",
    )
    return RequestBody(
        required=True,
        description="The archive, recognised by its content (the Content-Type is not relied on): NDJSON, "
        "zip, tar or tar.gz; or a multipart form with the archive in its `file` part.",
        content={
            **{media_type: OpenAPIMediaType(schema=archive) for media_type in ARCHIVE_MEDIA_TYPES},
            "application/octet-stream": OpenAPIMediaType(schema=archive),
            MULTIPART: OpenAPIMediaType(schema=form),
        },
    )


@dataclass
class UploadOperation(Operation):
    """Documents the archive body, which the handler streams to disk itself instead of declaring it."""

    def __post_init__(self) -> None:
        self.request_body = _upload_body()


@dataclass(frozen=True)
class Upload:
    path: Path
    filename: str | None


def _too_large(limit: int) -> Exception:
    return ARCHIVE_TOO_LARGE.exception(
        f"The upload exceeds the limit of {limit} bytes.", limit_name="upload", limit=limit
    )


async def _body(request: Request[Any, Any, Any], limit: int) -> AsyncIterator[bytes]:
    if (
        (announced := request.headers.get("content-length"))
        and announced.isdigit()
        and int(announced) > limit
    ):
        raise _too_large(limit)
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > limit:
            raise _too_large(limit)
        yield chunk


async def _write_raw(request: Request[Any, Any, Any], limit: int, target: anyio.AsyncFile[bytes]) -> None:
    async for chunk in _body(request, limit):
        await target.write(chunk)


async def _write_multipart(
    request: Request[Any, Any, Any], limit: int, target: anyio.AsyncFile[bytes], boundary: str
) -> str | None:
    """Write the `file` part; returns its filename."""
    found = False
    filename: str | None = None
    writing = False
    try:
        with PushMultipartParser(boundary) as parser:
            async for chunk in _body(request, limit):
                for event in parser.parse(chunk):
                    if isinstance(event, MultipartSegment):
                        writing = event.name == FILE_FIELD and not found
                        if writing:
                            found = True
                            filename = event.filename
                    elif event is None:
                        writing = False
                    elif writing:
                        await target.write(event)
    except MultipartError as error:
        raise MALFORMED_ARCHIVE.exception(f"The multipart form is malformed: {error}.") from None
    if not found:
        raise MALFORMED_ARCHIVE.exception(
            f"The multipart form has no `{FILE_FIELD}` part: upload with `curl -F {FILE_FIELD}=@archive.zip`."
        )
    return filename


@contextlib.asynccontextmanager
async def received_upload(request: Request[Any, Any, Any], limit: int) -> AsyncIterator[Upload]:
    """The uploaded archive as a temporary file, removed when the block ends."""
    descriptor, name = tempfile.mkstemp(prefix="factline-batch-", suffix=".upload")
    os.close(descriptor)
    path = Path(name)
    try:
        media_type, params = request.content_type
        filename = None
        async with await anyio.open_file(path, "wb") as target:
            if media_type == MULTIPART:
                filename = await _write_multipart(request, limit, target, params.get("boundary", ""))
            else:
                await _write_raw(request, limit, target)
        yield Upload(path, filename)
    finally:
        await anyio.Path(path).unlink(missing_ok=True)
