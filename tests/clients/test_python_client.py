"""A Python client generated from the committed openapi.json, used against a real server over HTTP.

openapi-python-client generates the package into a temporary directory at test time, so a spec that
generates badly (anonymous models, clumsy names, wrong response types) fails here.
"""

from __future__ import annotations

import importlib
import io
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from http import HTTPStatus
from pathlib import Path
from types import ModuleType

import pytest
from pytest_httpx import HTTPXMock

from factline.settings import Settings
from tests.conftest import RECORDINGS, ROOT, LiveServer, load_recording, samples_settings

pytestmark = pytest.mark.e2e

PACKAGE = "factline_client"
GENERATOR = Path(sys.executable).parent / "openapi-python-client"
CONFIG = ROOT / "clients" / "python" / "openapi-python-client.json"
BATCH_ARCHIVE = ROOT / "fixtures" / "batches" / "articles.ndjson"


@pytest.fixture
def settings() -> Settings:
    """The calls the sample recordings were made with."""
    return samples_settings()


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """The client package, generated from openapi.json with the committed config, importable."""
    where = tmp_path_factory.mktemp("python-client")
    done = subprocess.run(
        [str(GENERATOR), "generate", "--path", str(ROOT / "openapi.json"), "--config", str(CONFIG),
         "--meta", "none", "--output-path", str(where / PACKAGE)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    sys.path.insert(0, str(where))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(where))
        for name in [name for name in sys.modules if name.partition(".")[0] == PACKAGE]:
            del sys.modules[name]


def test_every_schema_becomes_a_named_model_and_operations_read_well(generated: ModuleType) -> None:
    models = importlib.import_module(f"{PACKAGE}.models")
    components = json.loads((ROOT / "openapi.json").read_text("utf-8"))["components"]["schemas"]
    # No model the spec does not name (an inline object or enum would add `CreateBatchBody`-like ones).
    assert set(models.__all__) == set(components)
    for module in ("extractions.create_extraction", "batches.create_batch", "batches.get_batch",
                   "batches.list_batches", "batches.list_batch_results", "batches.cancel_batch",
                   "batches.retry_batch_items", "operations.get_readiness"):  # fmt: skip
        operation = importlib.import_module(f"{PACKAGE}.api.{module}")
        assert callable(operation.sync_detailed)
        assert callable(operation.asyncio)


def test_one_extraction_through_the_generated_client(
    generated: ModuleType, live_server: LiveServer, httpx_mock: HTTPXMock
) -> None:
    from factline_client.api.extractions import create_extraction
    from factline_client.models import Extraction, ExtractionRequest, ItemType

    recording = load_recording(RECORDINGS[4])
    recording.replay(httpx_mock)
    client = generated.Client(base_url=live_server.base_url, raise_on_unexpected_status=True)
    body = ExtractionRequest.from_dict(recording.request_json())

    result = create_extraction.sync(client=client, body=body)

    assert isinstance(result, Extraction)
    text = recording.article_text
    assert result.article.characters == len(text)
    assert set(result.types) == set(ItemType)
    spans = [span for quote in result.quotes for span in quote.evidence]
    spans += [mention for actor in result.actors for mention in actor.mentions]
    assert spans
    for span in spans:
        assert text[span.start : span.end] == span.text


def test_problems_come_back_as_problem_models(generated: ModuleType, live_server: LiveServer) -> None:
    from factline_client.api.batches import get_batch
    from factline_client.api.extractions import create_extraction
    from factline_client.models import ExtractionRequest, Problem

    client = generated.Client(base_url=live_server.base_url, raise_on_unexpected_status=True)

    invalid = create_extraction.sync_detailed(client=client, body=ExtractionRequest(text=""))
    assert invalid.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert isinstance(invalid.parsed, Problem)
    assert invalid.parsed.type_ == "urn:factline:problem:invalid-request"
    assert [error.location for error in invalid.parsed.errors] == ["body.text"]

    missing = get_batch.sync_detailed("batch_does_not_exist", client=client)
    assert missing.status_code == HTTPStatus.NOT_FOUND
    assert isinstance(missing.parsed, Problem)
    assert missing.parsed.type_ == "urn:factline:problem:batch-not-found"


def test_a_batch_submitted_polled_and_read_back(
    generated: ModuleType, live_server: LiveServer, httpx_mock: HTTPXMock
) -> None:
    from factline_client.api.batches import create_batch, get_batch, list_batch_results
    from factline_client.models import Batch, BatchResult, BatchStatus, ItemStatus
    from factline_client.types import File

    for path in RECORDINGS:
        load_recording(path).replay(httpx_mock)
    client = generated.Client(base_url=live_server.base_url, raise_on_unexpected_status=True)
    archive = BATCH_ARCHIVE.read_bytes()

    submitted = create_batch.sync(
        client=client, body=File(payload=io.BytesIO(archive), file_name="articles.ndjson")
    )
    assert isinstance(submitted, Batch)
    assert submitted.counts.total == len(archive.splitlines())

    deadline = time.monotonic() + 60
    batch = submitted
    while batch.status in (BatchStatus.QUEUED, BatchStatus.RUNNING):
        assert time.monotonic() < deadline, batch
        time.sleep(0.1)
        batch = get_batch.sync(submitted.id, client=client)
    assert batch.status == BatchStatus.COMPLETED
    assert batch.counts.succeeded == batch.counts.total

    # The NDJSON stream comes back as a file; each line decodes with the `BatchResult` model.
    stream = list_batch_results.sync(submitted.id, client=client, follow=False)
    assert isinstance(stream, File)
    results = [BatchResult.from_dict(json.loads(line)) for line in stream.payload.read().splitlines()]
    expected_ids = [json.loads(line)["id"] for line in archive.splitlines()]
    assert sorted(result.article_id for result in results) == sorted(expected_ids)
    assert all(result.status == ItemStatus.SUCCEEDED for result in results)
    for result in results:
        assert result.extraction.article.id == result.article_id
