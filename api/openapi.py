"""The OpenAPI document's fixed parts; everything else is generated from the routes and schemas."""

from __future__ import annotations

from collections.abc import Iterator

from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin
from litestar.openapi.spec import (
    OpenAPI,
    OpenAPIFormat,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Parameter,
    Reference,
    Schema,
    Tag,
)

import factline
from api.archive_upload import UPLOAD_FORM, UPLOAD_FORM_SCHEMA

API_VERSION = "0.1.0"
ITEM_TYPE = Reference(ref="#/components/schemas/ItemType")
METHODS = ("get", "post", "put", "patch", "delete")
NDJSON = "application/x-ndjson"


def openapi_config() -> OpenAPIConfig:
    return OpenAPIConfig(
        title="factline",
        version=API_VERSION,
        summary="News articles in, grounded typed facts out.",
        description=(factline.__doc__ or "").strip()
        + " Every error is RFC 9457 `application/problem+json` with a stable `type` URI.",
        tags=[
            Tag(name="extractions", description="Extract quotes, events, positions and proposals."),
            Tag(name="batches", description="Archives of articles extracted in the background."),
            Tag(name="operations", description="Probes for orchestrators."),
        ],
        path="/schema",
        render_plugins=[ScalarRenderPlugin()],
        use_handler_docstrings=False,
        create_examples=False,
    )


def finish_document(document: OpenAPI) -> None:
    """What litestar cannot generate from the routes: see each step."""
    drop_generic_validation_responses(document)
    share_item_type(document)
    document_streams_as_bytes(document)
    if document.components.schemas is not None:
        document.components.schemas[UPLOAD_FORM] = UPLOAD_FORM_SCHEMA


def _operations(document: OpenAPI) -> Iterator[Operation]:
    for path_item in (document.paths or {}).values():
        for method in METHODS:
            if (operation := getattr(path_item, method, None)) is not None:
                yield operation


def drop_generic_validation_responses(document: OpenAPI) -> None:
    """Remove the 400 "Validation Exception" litestar documents for any route with parameters.

    Invalid parameters answer 422 `invalid-request` here (see `api/problems.py`); routes that can
    answer 400 document their own problem instead.
    """
    for operation in _operations(document):
        generic = (operation.responses or {}).get("400")
        if isinstance(generic, OpenAPIResponse) and "urn:factline:problem:" not in generic.description:
            del operation.responses["400"]  # type: ignore[union-attr]


def share_item_type(document: OpenAPI) -> None:
    """Make every `types` query parameter a list of the `ItemType` schema.

    Routes read `types` as strings (they also accept comma-separated values), so litestar documents
    plain strings; generated clients should get the one `ItemType` enum instead.
    """
    for operation in _operations(document):
        for parameter in operation.parameters or []:
            if isinstance(parameter, Parameter) and parameter.name == "types":
                parameter.schema = Schema(type=OpenAPIType.ARRAY, items=ITEM_TYPE)


def document_streams_as_bytes(document: OpenAPI) -> None:
    """Document NDJSON responses as bytes: client generators would parse a whole stream as one object.

    Each line's schema (`BatchResult`) stays a named component, so clients decode the lines with it.
    """
    for operation in _operations(document):
        for response in (operation.responses or {}).values():
            content = response.content if isinstance(response, OpenAPIResponse) else None
            body = (content or {}).get(NDJSON)
            if body is not None and isinstance(body.schema, Reference):
                line = body.schema.ref.rsplit("/", 1)[-1]
                body.schema = Schema(
                    type=OpenAPIType.STRING,
                    format=OpenAPIFormat.BINARY,
                    description=f"One JSON `{line}` per line.",
                    content_media_type=NDJSON,
                )
