"""The committed openapi.json is generated from the code, complete, and good for client generators."""

from __future__ import annotations

import json
from typing import Any

import pytest

from factline.cli import openapi_document
from tests.conftest import ROOT

SPEC_PATH = ROOT / "openapi.json"


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return dict(json.loads(openapi_document()))


def test_committed_spec_is_in_sync_with_the_code() -> None:
    assert SPEC_PATH.read_text("utf-8") == openapi_document(), "openapi.json is stale: run `make openapi`"


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(path, method, op) for path, item in spec["paths"].items() for method, op in item.items()]


def test_operation_ids_are_stable_and_read_well(spec: dict[str, Any]) -> None:
    ids = {f"{method.upper()} {path}": op["operationId"] for path, method, op in _operations(spec)}
    assert ids == {
        "POST /v1/extractions": "createExtraction",
        "GET /health": "getHealth",
        "GET /ready": "getReadiness",
        "POST /v1/batches": "createBatch",
        "GET /v1/batches": "listBatches",
        "GET /v1/batches/{batch_id}": "getBatch",
        "DELETE /v1/batches/{batch_id}": "cancelBatch",
        "GET /v1/batches/{batch_id}/results": "listBatchResults",
        "GET /v1/batches/{batch_id}/events": "streamBatchEvents",
        "POST /v1/batches/{batch_id}/retry": "retryBatchItems",
        "GET /v1/views/actors": "listActors",
        "GET /v1/views/timeline": "listTimelineEvents",
        "GET /v1/views/proposals": "listProposals",
        "GET /v1/views/positions": "listPositions",
    }


def _properties(schema: dict[str, Any], where: str) -> list[tuple[str, dict[str, Any]]]:
    return [(f"{where}.{name}", prop) for name, prop in schema.get("properties", {}).items()]


def test_every_field_has_a_description(spec: dict[str, Any]) -> None:
    missing = [
        where
        for name, schema in spec["components"]["schemas"].items()
        for where, prop in _properties(schema, name)
        if not prop.get("description")
    ]
    assert missing == []


def test_every_scalar_field_has_an_example(spec: dict[str, Any]) -> None:
    """Object and enum fields point at components that carry their own examples; files have none."""
    missing = [
        where
        for name, schema in spec["components"]["schemas"].items()
        for where, prop in _properties(schema, name)
        if prop.get("type") in {"string", "integer", "number", "boolean"}
        and prop.get("format") != "binary"
        and "examples" not in prop
    ]
    assert missing == []


def test_every_response_schema_is_a_named_component(spec: dict[str, Any]) -> None:
    """Except streams, which generated clients get whole: events (text) and NDJSON (bytes, one
    `BatchResult` a line); the line schema is still a component."""
    for path, method, op in _operations(spec):
        for status, response in op["responses"].items():
            for media_type, content in response.get("content", {}).items():
                if media_type in ("text/event-stream", "application/x-ndjson"):
                    assert content["schema"]["type"] == "string"
                    continue
                assert "$ref" in content["schema"], (
                    f"{method} {path} {status} {media_type} is an inline schema"
                )


def test_errors_are_documented_as_problem_json(spec: dict[str, Any]) -> None:
    responses = spec["paths"]["/v1/extractions"]["post"]["responses"]
    assert set(responses) == {
        "200",
        "400",
        "401",
        "404",
        "405",
        "413",
        "415",
        "422",
        "429",
        "500",
        "502",
        "503",
        "504",
    }
    for status, response in responses.items():
        if status != "200":
            assert response["content"] == {
                "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
            }
            assert "urn:factline:problem:" in response["description"]


def test_both_article_formats_are_documented(spec: dict[str, Any]) -> None:
    body = spec["paths"]["/v1/extractions"]["post"]["requestBody"]
    assert set(body["content"]) == {"application/json", "text/plain"}
    assert body["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ExtractionRequest"}
    query = {p["name"] for p in spec["paths"]["/v1/extractions"]["post"]["parameters"]}
    assert query == {"id", "title", "url", "source", "published_at", "language", "types"}


def test_schemas_carry_examples(spec: dict[str, Any]) -> None:
    request = spec["components"]["schemas"]["ExtractionRequest"]
    assert request["properties"]["text"]["examples"]
    assert request["required"] == ["text"]


def test_the_batch_upload_body_is_documented(spec: dict[str, Any]) -> None:
    body = spec["paths"]["/v1/batches"]["post"]["requestBody"]
    assert body["required"] is True
    form = body["content"]["multipart/form-data"]["schema"]
    assert form == {"$ref": "#/components/schemas/BatchUploadForm"}
    assert body["content"]["application/octet-stream"]["schema"]["format"] == "binary"
    assert "BatchResult" in spec["components"]["schemas"]


def test_types_parameters_use_the_item_type_schema(spec: dict[str, Any]) -> None:
    for path in ("/v1/extractions", "/v1/batches"):
        [types] = [p for p in spec["paths"][path]["post"]["parameters"] if p["name"] == "types"]
        assert types["schema"] == {"type": "array", "items": {"$ref": "#/components/schemas/ItemType"}}
