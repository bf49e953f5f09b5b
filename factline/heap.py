"""The garbage collector, settled once a process has started.

Start-up leaves a large heap that lives as long as the process (modules, pydantic and litestar
machinery, the tokenizer, the schemas): every full collection walked all of it again. Frozen, the
collector skips it; young collections run per 10,000 allocations instead of 700, since a request
allocates thousands of short-lived objects that reference counting frees anyway. Measured with an
instant fake LLM, one process, 3 paired runs each: 177/s as it was, 198/s frozen, 190/s with the
thresholds, 202/s with both (and 190 -> 220/s in another hour).
"""

from __future__ import annotations

import gc

YOUNG_ALLOCATIONS = 10_000


def settle() -> None:
    """Collect what start-up left, freeze the rest, and collect young objects less often."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_ALLOCATIONS, middle, old)
