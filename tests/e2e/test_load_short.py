"""The load test, short: `bench/load.py` for 10 s with 16 clients against the real service and fake LLM
processes. Every answer must be the one its request kind expects, and memory must stay bounded."""

from __future__ import annotations

import pytest

from bench.load import RSS_GROWTH_BOUND_MB, run_load

pytestmark = pytest.mark.e2e


def test_mixed_load_gets_only_expected_answers_and_bounded_memory() -> None:
    result = run_load(seconds=10, clients=16, max_requests=20_000, batches=1)
    assert result["unexpected"] == [], result
    assert result["warm_up_unexpected"] == [], result
    assert result["requests"] > 200, result  # enough to mean something even on a busy machine
    assert result["statuses"]["batch outcome"] == {"completed: 9 succeeded, 1 failed": 1}
    assert result["rss_growth_mb"] <= RSS_GROWTH_BOUND_MB, result
    assert result["serving_after"]
