"""One JSON object per log line, each with the id of the request it belongs to.

Processes configure logging once at start (`factline serve`, `factline worker`); the app itself
does not, so tests and embedders keep their own. At INFO nothing logs article text or secrets:
requests are logged by method, path and status, extractions by sizes and counts.
"""

from __future__ import annotations

import logging
import logging.config
from contextvars import ContextVar

REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)
"""The id of the HTTP request being handled, set for its whole lifetime (threads it starts included)."""

# One line per LLM call from httpx is noise, and costs time on every request; so are procrastinate's
# two lines per batch item and one per sweep for stalled jobs (its errors still show).
_QUIET = ("httpx", "httpcore", "procrastinate")


class RequestIdFilter(logging.Filter):
    """Stamps each record with the current request's id (null outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get()
        return True


def configure_logging(level: str) -> None:
    """JSON lines on stderr for this process's loggers, uvicorn's included."""
    logging.config.dictConfig(
        {
            "version": 1,
            "disable_existing_loggers": False,
            "filters": {"request_id": {"()": RequestIdFilter}},
            "formatters": {
                "json": {
                    "()": "pythonjsonlogger.json.JsonFormatter",
                    "fmt": "%(levelname)s %(name)s %(message)s %(request_id)s",
                    "rename_fields": {"levelname": "level", "name": "logger"},
                    "timestamp": "time",  # ISO 8601, UTC
                },
            },
            "handlers": {
                "stderr": {
                    "class": "logging.StreamHandler",
                    "formatter": "json",
                    "filters": ["request_id"],
                    "stream": "ext://sys.stderr",
                }
            },
            "root": {"level": level, "handlers": ["stderr"]},
            "loggers": {
                **{name: {"level": "WARNING"} for name in _QUIET},
                # uvicorn's loggers send their lines to the root's handler instead of their own.
                **{
                    name: {"handlers": [], "propagate": True}
                    for name in ("uvicorn", "uvicorn.error", "uvicorn.access")
                },
            },
        }
    )
