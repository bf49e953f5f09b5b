"""The circuit breaker step by step, on a clock the test moves."""

from __future__ import annotations

import pytest

from factline.circuit_breaker import CircuitBreaker, CircuitOpen, State


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def opened(clock: Clock) -> CircuitBreaker:
    breaker = CircuitBreaker(failure_threshold=2, cooldown_seconds=10, clock=clock)
    for _ in range(2):
        breaker.record_failure(breaker.before_call())
    return breaker


def state_of(breaker: CircuitBreaker) -> State:
    """The state read afresh: mypy keeps `breaker.state` narrowed by an earlier assert across calls."""
    return breaker.state


def test_failures_in_a_row_open_it_and_a_success_in_between_resets_the_count() -> None:
    clock = Clock()
    breaker = CircuitBreaker(failure_threshold=2, cooldown_seconds=10, clock=clock)
    breaker.record_failure(breaker.before_call())
    breaker.record_success()
    breaker.record_failure(breaker.before_call())
    assert breaker.state == "closed"
    breaker.record_failure(breaker.before_call())
    assert breaker.snapshot().state == "open"
    assert breaker.snapshot().consecutive_failures == 2
    clock.now += 2.5
    with pytest.raises(CircuitOpen) as raised:
        breaker.before_call()
    assert raised.value.retry_after == 8  # whole seconds, rounded up
    assert breaker.snapshot().retry_after == 8


def test_half_open_lets_one_probe_through_and_its_outcome_decides() -> None:
    clock = Clock()
    breaker = opened(clock)
    clock.now += 10
    assert breaker.state == "half_open"
    assert breaker.before_call() is True
    with pytest.raises(CircuitOpen):
        breaker.before_call()  # the probe is out: the others still fail fast
    breaker.record_failure(probe=True)
    assert state_of(breaker) == "open"
    clock.now += 10
    assert breaker.before_call() is True
    breaker.record_success()
    assert breaker.snapshot().state == "closed"
    assert breaker.before_call() is False


def test_an_abandoned_probe_lets_the_next_call_probe() -> None:
    clock = Clock()
    breaker = opened(clock)
    clock.now += 10
    assert breaker.before_call() is True
    breaker.record_abandoned(probe=True)
    assert breaker.before_call() is True
