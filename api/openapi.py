"""The OpenAPI document's fixed parts; everything else is generated from the routes and schemas."""

from __future__ import annotations

from collections.abc import Iterator

from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin
from litestar.openapi.spec import (
    Components,
    OpenAPI,
    OpenAPIFormat,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Parameter,
    Reference,
    Schema,
    SecurityScheme,
    Tag,
)

import factline
from api.archive_upload import UPLOAD_FORM, UPLOAD_FORM_SCHEMA
from api.views import BATCH_VALUE_PATTERN
from schemas import TEXT_PATTERN, ExtractionRequest

ITEM_TYPE = Reference(ref="#/components/schemas/ItemType")
METHODS = ("get", "post", "put", "patch", "delete")
NDJSON = "application/x-ndjson"
SECURITY_SCHEME = "apiKey"


def openapi_config() -> OpenAPIConfig:
    return OpenAPIConfig(
        title="factline",
        version=factline.__version__,
        summary="News articles in, grounded typed facts out.",
        description=(factline.__doc__ or "").strip()
        + " Every error is RFC 9457 `application/problem+json` with a stable `type` URI.",
        tags=[
            Tag(name="extractions", description="Extract quotes, events, positions and proposals."),
            Tag(name="batches", description="Archives of articles extracted in the background."),
            Tag(name="operations", description="Probes for orchestrators."),
        ],
        components=Components(
            security_schemes={
                SECURITY_SCHEME: SecurityScheme(
                    type="http",
                    scheme="bearer",
                    description="An API key, when the service is configured with keys "
                    "(`FACTLINE_API_KEY_SHA256`); without keys no header is needed.",
                )
            }
        ),
        security=[{SECURITY_SCHEME: []}],
        path="/schema",
        render_plugins=[ScalarRenderPlugin()],
        use_handler_docstrings=False,
        create_examples=False,
    )


def finish_document(document: OpenAPI) -> None:
    """What litestar cannot generate from the routes: see each step."""
    drop_generic_validation_responses(document)
    document_request_constraints(document)
    share_item_type(document)
    document_batch_values(document)
    document_streams_as_bytes(document)
    if document.components.schemas is not None:
        document.components.schemas[UPLOAD_FORM] = UPLOAD_FORM_SCHEMA


def _operations(document: OpenAPI) -> Iterator[Operation]:
    for path_item in (document.paths or {}).values():
        for method in METHODS:
            if (operation := getattr(path_item, method, None)) is not None:
                yield operation


def document_request_constraints(document: OpenAPI) -> None:
    """Put into the request's schema what it is validated with: no unknown fields, and patterns.

    litestar drops `additionalProperties: false` and the `pattern` of an optional string
    (`language`). The text's pattern (a
    non-space character) is checked by a validator with a clearer message than pydantic's
    `pattern`, and `json_schema_extra` would be merged into the document again each time an app is
    built.
    """
    schemas = document.components.schemas if document.components else None
    request = (schemas or {}).get("ExtractionRequest")
    if not isinstance(request, Schema) or not request.properties:
        return
    request.additional_properties = ExtractionRequest.model_config.get("extra") != "forbid"
    patterns = {"text": TEXT_PATTERN}
    for name, field in ExtractionRequest.model_json_schema()["properties"].items():
        for variant in field.get("anyOf", [field]):
            if "pattern" in variant:
                patterns[name] = variant["pattern"]
    for name, pattern in patterns.items():
        if isinstance(prop := request.properties.get(name), Schema):
            prop.pattern = pattern


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


def document_batch_values(document: OpenAPI) -> None:
    """The views' `batch` values must each name a batch: litestar leaves the items' pattern out."""
    for operation in _operations(document):
        for parameter in operation.parameters or []:
            if not isinstance(parameter, Parameter) or parameter.name != "batch":
                continue
            if isinstance(schema := parameter.schema, Schema) and isinstance(schema.items, Schema):
                schema.items.pattern = BATCH_VALUE_PATTERN


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
