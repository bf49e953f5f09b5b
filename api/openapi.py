"""The OpenAPI document's fixed parts; everything else is generated from the routes and schemas."""

from __future__ import annotations

from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin
from litestar.openapi.spec import Components, OpenAPI, OpenAPIResponse, Schema, SecurityScheme, Tag

import factline
from schemas import TEXT_PATTERN

API_VERSION = "0.1.0"
SECURITY_SCHEME = "apiKey"


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


def document_text_pattern(document: OpenAPI) -> None:
    """Say in the schema that an article's text needs a non-space character, as its validator checks.

    Not with pydantic's `pattern`, whose error message is worse, nor `json_schema_extra`, which
    litestar merges into the document again each time an app is built.
    """
    schemas = document.components.schemas if document.components else None
    request = (schemas or {}).get("ExtractionRequest")
    text = (request.properties or {}).get("text") if isinstance(request, Schema) else None
    if isinstance(text, Schema):
        text.pattern = TEXT_PATTERN


def drop_generic_validation_responses(document: OpenAPI) -> None:
    """Remove the 400 "Validation Exception" litestar documents for any route with parameters.

    Invalid parameters answer 422 `invalid-request` here (see `api/problems.py`); routes that can
    answer 400 document their own problem instead.
    """
    for path_item in (document.paths or {}).values():
        for method in ("get", "post", "put", "patch", "delete"):
            operation = getattr(path_item, method, None)
            if operation is None or not operation.responses:
                continue
            generic = operation.responses.get("400")
            if isinstance(generic, OpenAPIResponse) and "urn:factline:problem:" not in generic.description:
                del operation.responses["400"]
