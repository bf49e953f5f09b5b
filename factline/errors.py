"""Failures the core reports; the HTTP layer turns each into its own problem response."""

from __future__ import annotations

from schemas import Usage


class FactlineError(Exception):
    """Base of every failure factline reports to a client."""


class LLMCallWithdrawn(FactlineError):
    """The caller withdrew the call, before or while it was made: the batch item's batch was
    cancelled, or its workers stopped. Its answer is not wanted; nothing is recorded for it."""


class ArticleTooLarge(FactlineError):
    def __init__(self, characters: int, limit: int) -> None:
        super().__init__(f"The article has {characters} characters; the limit is {limit}.")
        self.characters = characters
        self.limit = limit


class LLMError(FactlineError):
    """The LLM could not produce a usable answer."""

    usage: Usage | None = None

    def with_usage(self, usage: Usage) -> LLMError:
        """Attach what the failed attempts cost: clients are billed for them too."""
        self.usage = usage
        return self


class LLMNotConfigured(LLMError):
    def __init__(self, reason: str | None = None) -> None:
        super().__init__(
            reason
            or "No LLM endpoint is configured: set FACTLINE_LLM_BASE_URL "
            "(and FACTLINE_LLM_API_KEY if it needs one)."
        )


class LLMUnavailable(LLMError):
    """The endpoint refused the connection or answered with a server error after retries."""


class LLMCircuitOpen(LLMUnavailable):
    """The endpoint failed repeatedly: calls are paused (no request was made) for `retry_after` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            f"The LLM endpoint failed repeatedly; calls are paused for {retry_after} s, then one probe "
            "call tests it."
        )
        self.retry_after = retry_after


class LLMTimeout(LLMError):
    """The endpoint did not answer within the configured time."""


class LLMRateLimited(LLMError):
    def __init__(self, message: str, retry_after: int | None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class LLMOutputUnusable(LLMError):
    """The model's output stayed invalid after the configured re-asks, was cut off, or was a refusal."""


class ArchiveError(FactlineError):
    """The uploaded archive cannot be used as a whole."""


class ArchiveUnreadable(ArchiveError):
    """Corrupt, truncated or empty."""


class ArchiveUnsupported(ArchiveError):
    """Not one of the formats a batch reads."""


class ArchiveTooLarge(ArchiveError):
    def __init__(self, limit_name: str, limit: int, unit: str, where: str | None = None) -> None:
        at = f" (“{where}”)" if where else ""
        super().__init__(f"The archive exceeds the {limit_name} limit of {limit} {unit}{at}.")
        self.limit_name = limit_name
        self.limit = limit


class InvalidArchiveEntry(FactlineError):
    """One place in an archive that holds no usable article; the rest of the archive is still read."""


class BatchNotFound(FactlineError):
    def __init__(self, batch_id: str) -> None:
        super().__init__(f"There is no batch “{batch_id}”.")


class BatchConflict(FactlineError):
    """The batch is in a state that does not allow the operation."""
