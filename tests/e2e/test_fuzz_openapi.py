"""Property-based fuzzing of every operation in the committed `openapi.json` with schemathesis.

A real uvicorn server (its own thread) backed by the fake LLM (its own process) answers requests that
schemathesis generates from the document: valid ones and, for each, broken variants. Every check
schemathesis has runs on every response: no 5xx, only documented status codes and content types,
bodies and headers that match the documented schemas, invalid data refused and valid data accepted.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

import hypothesis
import pytest
import schemathesis
from schemathesis.checks import CheckFunction
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from api.app import create_app
from tests.conftest import ROOT, make_settings, serving
from tests.fakes.fake_llm import running_fake_llm

if TYPE_CHECKING:
    # An alias schemathesis defines for type checkers only: `Case` of an OpenAPI operation.
    from schemathesis.specs.openapi.schemas import OpenApiCase

pytestmark = pytest.mark.e2e

# Up to 100 generated cases per operation, valid and invalid: enough that every parameter,
# enum value, media type and body shape appears many times, in about a minute on 2 busy cores.
EXAMPLES_PER_OPERATION = 100
KEY = "fl-fuzz-key-7d41"

schema = schemathesis.openapi.from_path(ROOT / "openapi.json")
# Archives are bytes however they are labelled: send them as the octet-stream body is sent.
schemathesis.serializer.alias(
    ["application/gzip", "application/x-ndjson", "application/x-tar", "application/zip"],
    "application/octet-stream",
)


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    """factline on a loopback port, extracting through the fake LLM, with an API key required (the
    auth checks send requests without it, or with a wrong one); a small batch poll so streams end."""
    with running_fake_llm() as fake:
        settings = make_settings(
            llm_base_url=fake.base_url,
            batch_poll_seconds=0.02,
            batch_concurrency=4,
            api_key_sha256=[hashlib.sha256(KEY.encode()).hexdigest()],
        )
        with serving(create_app(settings), startup_seconds=30) as server:
            yield server.base_url


@schema.parametrize()
@hypothesis.settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=list(hypothesis.HealthCheck),
    derandomize=True,
    database=None,
)
def test_every_operation_keeps_its_contract(case: OpenApiCase, base_url: str) -> None:
    excluded: list[CheckFunction] = []
    if case.operation.label == "POST /v1/batches":
        # Random bytes that fit `format: binary` are no archive: refusing them is right, not a finding.
        excluded.append(positive_data_acceptance)
    if case.media_type == "text/plain":
        # A "wrong type" text/plain body (an integer, say) goes out as its text, which is a valid article.
        excluded.append(negative_data_rejection)
    query_values = case.query or {}
    if case.operation.label.startswith("GET /v1/views/") and str(query_values.get("since", "")) > str(
        query_values.get("until", "9999")
    ):
        # `since` after `until` is refused with 422; a schema cannot say that one date follows another.
        excluded.append(positive_data_acceptance)
    query = case.meta.components.get(ParameterLocation.QUERY) if case.meta else None
    if (
        case.operation.label == "POST /v1/extractions"
        and case.media_type != "text/plain"
        and query is not None
        and query.mode is GenerationMode.POSITIVE
    ):
        # The query parameters are documented as text/plain only; a JSON body carries its metadata itself.
        # Invalid ones stay: they must be refused either way.
        case.query = {}
    case.call_and_validate(
        base_url=base_url, headers={"Authorization": f"Bearer {KEY}"}, timeout=30, excluded_checks=excluded
    )
