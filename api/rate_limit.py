"""Per-key rate limiting with litestar's middleware: `RateLimit-Limit/Remaining/Reset` on every answer,
429 `rate-limited` with `Retry-After` past the limit.

The counters live in a litestar store: in memory (one process), or files in `FACTLINE_RATE_LIMIT_DIR`
that every process naming the same directory shares. Each process serialises its own updates;
between processes an update can race another, so under heavy parallel load a few requests more than
the limit may pass. /health is never limited.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.middleware.rate_limit import RateLimitConfig, get_remote_address
from litestar.stores.base import Store
from litestar.stores.file import FileStore
from litestar.stores.memory import MemoryStore

from api.access import ApiKeys
from factline.settings import Settings

STORE = "rate_limit"


def rate_limit(settings: Settings, keys: ApiKeys) -> tuple[RateLimitConfig, Store] | None:
    """The middleware's config and its store, or None when no limit is configured."""
    if settings.rate_limit_per_minute is None:
        return None

    def identify(request: Request[Any, Any, Any]) -> str:
        """The key's id when a valid key is sent; else the client's address (keys off, or a bad key)."""
        key_id = keys.key_id(request)
        return f"key:{key_id}" if key_id else f"address:{get_remote_address(request)}"

    config = RateLimitConfig(
        rate_limit=("minute", settings.rate_limit_per_minute),
        exclude=["^/health$"],
        identifier_for_request=identify,
        store=STORE,
    )
    store = (
        FileStore(settings.rate_limit_dir, create_directories=True)
        if settings.rate_limit_dir
        else MemoryStore()
    )
    return config, store
