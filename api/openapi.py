"""The OpenAPI document's fixed parts; everything else is generated from the routes and schemas."""

from __future__ import annotations

from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin
from litestar.openapi.spec import Tag

import factline

API_VERSION = "0.1.0"


def openapi_config() -> OpenAPIConfig:
    return OpenAPIConfig(
        title="factline",
        version=API_VERSION,
        summary="News articles in, grounded typed facts out.",
        description=(factline.__doc__ or "").strip()
        + " Every error is RFC 9457 `application/problem+json` with a stable `type` URI.",
        tags=[
            Tag(name="extractions", description="Extract quotes, events, positions and proposals."),
            Tag(name="operations", description="Probes for orchestrators."),
        ],
        path="/schema",
        render_plugins=[ScalarRenderPlugin()],
        use_handler_docstrings=False,
        create_examples=False,
    )
