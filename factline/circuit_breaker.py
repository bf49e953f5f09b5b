"""Stop calling an LLM endpoint that keeps failing, and find out cheaply when it is back.

After `failure_threshold` failed calls in a row (each already retried by the transport), the circuit
opens: calls fail at once for `cooldown_seconds`. Then it is half-open: one call goes through as a
probe while the others still fail fast; its success closes the circuit, its failure opens it again.
A small class rather than a library: the registry's breakers are either unmaintained or do not say
how long is left, which Retry-After and `/ready` need.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

State = Literal["closed", "open", "half_open"]


@dataclass(frozen=True)
class CircuitSnapshot:
    state: State
    consecutive_failures: int
    retry_after: int | None
    """Whole seconds until a probe call is let through, while the circuit is open."""


class CircuitOpen(Exception):
    """Raised instead of making a call while the circuit is open (or its one probe is out)."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"retry after {retry_after} s")
        self.retry_after = retry_after


class CircuitBreaker:
    def __init__(
        self,
        failure_threshold: int,
        cooldown_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.failure_threshold = failure_threshold
        self.cooldown_seconds = cooldown_seconds
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._probe_out = False

    def _seconds_left(self) -> float:
        if self._opened_at is None:
            return 0.0
        return max(0.0, self._opened_at + self.cooldown_seconds - self._clock())

    @property
    def state(self) -> State:
        if self._opened_at is None:
            return "closed"
        return "open" if self._seconds_left() > 0 else "half_open"

    def before_call(self) -> bool:
        """Let the call through (True if it is the half-open probe), or raise CircuitOpen."""
        state = self.state
        if state == "closed":
            return False
        if state == "half_open" and not self._probe_out:
            self._probe_out = True
            return True
        raise CircuitOpen(max(1, math.ceil(self._seconds_left())))

    def record_success(self) -> None:
        self._failures = 0
        self._opened_at = None
        self._probe_out = False

    def record_failure(self, probe: bool) -> None:
        self._failures += 1
        if probe or self._failures >= self.failure_threshold:
            self._opened_at = self._clock()
        if probe:
            self._probe_out = False

    def record_abandoned(self, probe: bool) -> None:
        """The call ended with no verdict on the endpoint (cancelled): another call may probe."""
        if probe:
            self._probe_out = False

    def snapshot(self) -> CircuitSnapshot:
        state = self.state
        retry_after = max(1, math.ceil(self._seconds_left())) if state == "open" else None
        return CircuitSnapshot(state, self._failures, retry_after)
