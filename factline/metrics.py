"""What the service does, counted for Prometheus (`GET /metrics`): LLM calls, tokens, retries, the
extraction cache and the batch queue. HTTP requests are counted by litestar's middleware.

Counters live in prometheus_client's process-wide registry; incrementing one costs well under a
microsecond, so they are updated in line. With several worker processes, set PROMETHEUS_MULTIPROC_DIR
and /metrics adds up every process's files.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge

LLM_CALLS = Counter(
    "factline_llm_calls", "Chat completions received from the LLM endpoint, re-asks included."
)
LLM_TOKENS = Counter("factline_llm_tokens", "Tokens spent on LLM calls.", ["kind"])
LLM_RETRIES = Counter(
    "factline_llm_retries",
    "LLM requests sent again: `transport` after a 429, 5xx or connection error; `reask` after bad output.",
    ["kind"],
)
CACHE_LOOKUPS = Counter(
    "factline_extraction_cache_lookups",
    "Extractions looked up in the cache: `hit` (no LLM call) or `miss`.",
    ["result"],
)
BATCH_ITEMS = Counter(
    "factline_batch_items_finished", "Batch items finished by this process's workers.", ["status"]
)
BATCH_QUEUE = Gauge(
    "factline_batch_queue_depth",
    "Batch items queued or running, across all batches (read from the database when scraped).",
    ["state"],
    multiprocess_mode="mostrecent",
)

for _kind in ("prompt", "completion"):
    LLM_TOKENS.labels(_kind)
for _kind in ("transport", "reask"):
    LLM_RETRIES.labels(_kind)
for _result in ("hit", "miss"):
    CACHE_LOOKUPS.labels(_result)


def record_llm_call(*, requests: int, completions: int, prompt_tokens: int, completion_tokens: int,
                    transport_failed: bool) -> None:  # fmt: skip
    """One structured completion: `requests` HTTP requests brought `completions` completions.

    Each attempt ends in a completion unless the last one failed in transport; attempts after the first
    are re-asks, requests beyond the attempts are transport retries.
    """
    attempts = completions + (1 if transport_failed else 0)
    LLM_CALLS.inc(completions)
    LLM_TOKENS.labels("prompt").inc(prompt_tokens)
    LLM_TOKENS.labels("completion").inc(completion_tokens)
    LLM_RETRIES.labels("reask").inc(max(attempts - 1, 0))
    LLM_RETRIES.labels("transport").inc(max(requests - attempts, 0))


def record_queue_depth(queued: int, running: int) -> None:
    BATCH_QUEUE.labels("queued").set(queued)
    BATCH_QUEUE.labels("running").set(running)
