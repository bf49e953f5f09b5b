"""`make bench` splits the service's sampled stacks into phases: the innermost named frame decides."""

from bench.run import OTHER_PHASE, phase_of


def stack(*functions: str) -> list[str]:
    return [f"{function} (somewhere.py:1)" for function in functions]


def test_the_innermost_named_frame_decides_the_phase() -> None:
    handler = ("Runner.run", "RequestResponseCycle.run_asgi", "CachingExtractor.extract")
    assert phase_of(stack(*handler, "cache_key", "plan_extraction_calls", "article_message")) == (
        "prompt building"
    )
    assert phase_of(stack(*handler, "cache_key", "dumps")) == "cache key and lookup, cache writes"
    written = stack("Runner.run", "_WriteBehind._write_soon", "_WriteBehind._write", "model_dump_json")
    assert phase_of(written) == "cache key and lookup, cache writes"
    waiting = stack(*handler, "Extractor.extract", "_meanwhile", "within_budget", "BpeCounter.count")
    assert phase_of(waiting) == "token counting (chunk plan)"
    called = stack(*handler, "LLMClient.complete", "retry_async_v2")
    assert phase_of(called) == "LLM client (openai + instructor + HTTP)"
    assert phase_of([*called, *stack("OpenAIJSONSchemaHandler.parse_response")]) == (
        "validation of the model's answer"
    )
    assert phase_of(stack(*handler)) == "HTTP server and framework (uvicorn, litestar)"


def test_frames_named_by_no_phase_are_the_event_loops() -> None:
    assert phase_of(stack("Runner.run", "_UnixSelectorEventLoop._run_once")) == OTHER_PHASE
    # A marker names a whole function, not a part of one's name.
    assert phase_of(stack("Runner.run", "not_assemble_extraction_really")) == OTHER_PHASE
