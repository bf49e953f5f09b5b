"""The OpenAPI document's fixed parts; everything else is generated from the routes and schemas."""

from __future__ import annotations

from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin
from litestar.openapi.spec import Components, OpenAPI, OpenAPIResponse, Schema, SecurityScheme, Tag

import factline
from schemas import TEXT_PATTERN, ExtractionRequest

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
    for path_item in (document.paths or {}).values():
        for method in ("get", "post", "put", "patch", "delete"):
            operation = getattr(path_item, method, None)
            if operation is None or not operation.responses:
                continue
            generic = operation.responses.get("400")
            if isinstance(generic, OpenAPIResponse) and "urn:factline:problem:" not in generic.description:
                del operation.responses["400"]
