"""Optional API keys: with none configured the service is open; with some, every route but /health
needs one, sent as `Authorization: Bearer <key>`.

Keys are configured as sha256 digests, so the settings never hold a usable key; a presented key is
hashed and compared with each digest in constant time. Keys are never logged.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.types import Guard

from api.problems import UNAUTHORIZED

PUBLIC = "public"
"""Set `opt={PUBLIC: True}` on a route handler that needs no key (/health)."""
_CHALLENGE = 'Bearer realm="factline"'


class ApiKeys:
    """The accepted keys, as digests."""

    def __init__(self, sha256_digests: list[str]) -> None:
        self._digests = [bytes.fromhex(digest) for digest in sha256_digests]

    @property
    def required(self) -> bool:
        return bool(self._digests)

    def key_id(self, connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
        """A short, non-secret name for the valid key the request carries (the start of its digest)."""
        scheme, _, token = connection.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        presented = hashlib.sha256(token.strip().encode("utf-8", "surrogateescape")).digest()
        # Every digest is compared, so the time taken does not say which one (or whether one) matched.
        matches = [hmac.compare_digest(presented, digest) for digest in self._digests]
        return presented.hex()[:12] if any(matches) else None

    def guard(self) -> Guard:
        """The app-wide guard, when keys are configured: a 401 problem with a `WWW-Authenticate`
        challenge when no valid key is sent."""

        async def require_api_key(  # a coroutine: litestar runs plain guards in a worker thread
            connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
        ) -> None:
            if handler.opt.get(PUBLIC) or self.key_id(connection):
                return
            if "authorization" in connection.headers:
                raise UNAUTHORIZED.exception(
                    "The API key is not valid.",
                    headers={"WWW-Authenticate": f'{_CHALLENGE}, error="invalid_token"'},
                )
            raise UNAUTHORIZED.exception(
                "An API key is required: send `Authorization: Bearer <key>`.",
                headers={"WWW-Authenticate": _CHALLENGE},
            )

        return require_api_key
