"""Every error a client can see, as RFC 9457 problem+json: the catalogue, the mapping, the OpenAPI docs."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi.datastructures import ResponseSpec
from litestar.plugins.problem_details import ProblemDetailsException
from litestar.types import ExceptionHandlersMap

from factline.errors import (
    ArchiveTooLarge,
    ArchiveUnreadable,
    ArchiveUnsupported,
    ArticleTooLarge,
    BatchConflict,
    BatchNotFound,
    FactlineError,
    InvalidArchiveEntry,
    LLMCircuitOpen,
    LLMError,
    LLMNotConfigured,
    LLMOutputUnusable,
    LLMRateLimited,
    LLMTimeout,
    LLMUnavailable,
)
from factline.logs import REQUEST_ID
from schemas import FieldError, Problem

logger = logging.getLogger("factline.api")

PROBLEM_MEDIA_TYPE = "application/problem+json"


@dataclass(frozen=True)
class ProblemType:
    """One kind of problem: a stable URI clients can branch on, its title and status."""

    slug: str
    title: str
    status: int
    when: str

    @property
    def uri(self) -> str:
        return f"urn:factline:problem:{self.slug}"

    def exception(
        self, detail: str, headers: dict[str, str] | None = None, **extra: Any
    ) -> ProblemDetailsException:
        return ProblemDetailsException(
            detail=detail,
            status_code=self.status,
            type_=self.uri,
            title=self.title,
            headers=headers,
            extra={key: value for key, value in extra.items() if value is not None} or None,
        )


MALFORMED_BODY = ProblemType(
    "malformed-body",
    "Malformed request body",
    400,
    "The body is not valid JSON, or not valid text in its declared charset.",
)
NOT_FOUND = ProblemType("not-found", "Not found", 404, "No such route.")
METHOD_NOT_ALLOWED = ProblemType(
    "method-not-allowed", "Method not allowed", 405, "The route exists, the method not."
)
BODY_TOO_LARGE = ProblemType(
    "body-too-large", "Request body too large", 413, "The body is larger than the route accepts."
)
ARTICLE_TOO_LARGE = ProblemType(
    "article-too-large",
    "Article too large",
    413,
    "The article has more characters than the configured limit.",
)
UNSUPPORTED_MEDIA_TYPE = ProblemType(
    "unsupported-media-type",
    "Unsupported media type",
    415,
    "The Content-Type or charset is not one the route reads.",
)
INVALID_REQUEST = ProblemType(
    "invalid-request", "Invalid request", 422, "Fields are missing, unknown or invalid; `errors` lists each."
)
LLM_RATE_LIMITED = ProblemType(
    "llm-rate-limited",
    "LLM provider rate limit",
    429,
    "The LLM provider is rate-limiting; retry after `retry_after` seconds.",
)
UNAUTHORIZED = ProblemType(
    "unauthorized",
    "API key missing or invalid",
    401,
    "API keys are configured and the request carries none, or one that is not valid; see `WWW-Authenticate`.",
)
RATE_LIMITED = ProblemType(
    "rate-limited",
    "Too many requests",
    429,
    "This API key (or client address) used up its requests for now; retry after `retry_after` seconds.",
)
INTERNAL_ERROR = ProblemType(
    "internal-error", "Internal server error", 500, "A bug; the service keeps running."
)
LLM_OUTPUT_UNUSABLE = ProblemType(
    "llm-output-unusable",
    "LLM output unusable",
    502,
    "The model's output stayed invalid after re-asks, was cut off, or the endpoint answered with an error.",
)
LLM_UNAVAILABLE = ProblemType(
    "llm-unavailable", "LLM unavailable", 503, "The LLM endpoint is unreachable, or none is configured."
)
LLM_CIRCUIT_OPEN = ProblemType(
    "llm-circuit-open",
    "LLM calls paused",
    503,
    "The LLM endpoint failed repeatedly; calls fail at once for `retry_after` seconds (also in "
    "Retry-After), then one probe call tests it.",
)
LLM_TIMEOUT = ProblemType("llm-timeout", "LLM timeout", 504, "The LLM endpoint did not answer in time.")
MALFORMED_ARCHIVE = ProblemType(
    "malformed-archive",
    "Malformed archive",
    400,
    "The archive is corrupt, truncated or empty, or a multipart upload has no `file` part.",
)
BATCH_NOT_FOUND = ProblemType("batch-not-found", "Batch not found", 404, "There is no batch with this id.")
BATCH_ITEM_NOT_FOUND = ProblemType(
    "batch-item-not-found", "Batch item not found", 404, "The batch has no item with this id."
)
BATCH_CONFLICT = ProblemType(
    "batch-conflict",
    "Batch state conflict",
    409,
    "The batch's state does not allow this: it has finished (cancel) or was cancelled (retry).",
)
ARCHIVE_TOO_LARGE = ProblemType(
    "archive-too-large",
    "Archive too large",
    413,
    "The upload, its decompressed size, one of its files or its number of articles exceeds a limit; "
    "`limit_name` and `limit` say which.",
)
UNSUPPORTED_ARCHIVE = ProblemType(
    "unsupported-archive",
    "Unsupported archive",
    415,
    "The upload is not NDJSON, a zip, a tar or a tar.gz archive.",
)
INVALID_ARTICLE = ProblemType(
    "invalid-article",
    "Invalid article in archive",
    422,
    "In a batch result: a line or file that is no article (bad JSON, invalid fields, not UTF-8, "
    "a nested archive, another file type).",
)

_BY_STATUS = {
    problem.status: problem
    for problem in (
        MALFORMED_BODY,
        NOT_FOUND,
        METHOD_NOT_ALLOWED,
        BODY_TOO_LARGE,
        UNSUPPORTED_MEDIA_TYPE,
        INVALID_REQUEST,
        INTERNAL_ERROR,
    )
}


def _from_validation(exc: ValidationException, request: Request[Any, Any, Any]) -> ProblemDetailsException:
    plain_text = request.content_type[0] == "text/plain"
    errors = []
    for error in exc.extra if isinstance(exc.extra, list) else []:
        key = str(error.get("key") or "")
        raw_source = error.get("source") or "body"
        source = str(getattr(raw_source, "value", raw_source))
        if plain_text and source == "body" and key and key != "text":
            source = "query"  # metadata of a text/plain article arrives as query parameters
        errors.append(
            FieldError(location=f"{source}.{key}" if key else source, message=str(error.get("message")))
        )
    detail = "; ".join(f"{e.location}: {e.message}" for e in errors) or str(exc.detail)
    return INVALID_REQUEST.exception(detail, errors=[e.model_dump() for e in errors])


def _from_http(exc: HTTPException, _: Request[Any, Any, Any]) -> ProblemDetailsException:
    if exc.status_code == RATE_LIMITED.status:  # only the rate limit middleware raises it
        headers = dict(exc.headers or {})
        retry_after = max(int(headers.get("RateLimit-Reset", "1")), 1)
        return RATE_LIMITED.exception(
            f"Rate limit reached; retry in {retry_after} seconds.",
            headers={**headers, "Retry-After": str(retry_after)},
            retry_after=retry_after,
        )
    problem = _BY_STATUS.get(exc.status_code)
    if problem is None:
        return ProblemDetailsException(status_code=exc.status_code, title=exc.detail, headers=exc.headers)
    detail = exc.detail if exc.detail and exc.detail != problem.title else problem.when
    return problem.exception(detail, headers=exc.headers)


def _from_factline(exc: FactlineError, _: Request[Any, Any, Any] | None = None) -> ProblemDetailsException:
    detail = str(exc)
    usage = exc.usage.model_dump() if isinstance(exc, LLMError) and exc.usage else None
    match exc:
        case ArchiveUnreadable():
            return MALFORMED_ARCHIVE.exception(detail)
        case ArchiveUnsupported():
            return UNSUPPORTED_ARCHIVE.exception(detail)
        case ArchiveTooLarge():
            return ARCHIVE_TOO_LARGE.exception(detail, limit_name=exc.limit_name, limit=exc.limit)
        case InvalidArchiveEntry():
            return INVALID_ARTICLE.exception(detail)
        case BatchNotFound():
            return BATCH_NOT_FOUND.exception(detail)
        case BatchConflict():
            return BATCH_CONFLICT.exception(detail)
        case ArticleTooLarge():
            return ARTICLE_TOO_LARGE.exception(detail, limit=exc.limit, characters=exc.characters)
        case LLMRateLimited(retry_after=retry_after):
            headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
            return LLM_RATE_LIMITED.exception(detail, headers=headers, retry_after=retry_after, usage=usage)
        case LLMTimeout():
            return LLM_TIMEOUT.exception(detail, usage=usage)
        case LLMCircuitOpen(retry_after=retry_after):
            return LLM_CIRCUIT_OPEN.exception(
                detail, headers={"Retry-After": str(retry_after)}, retry_after=retry_after
            )
        case LLMUnavailable() | LLMNotConfigured():
            return LLM_UNAVAILABLE.exception(detail, usage=usage)
        case LLMOutputUnusable():
            return LLM_OUTPUT_UNUSABLE.exception(detail, usage=usage)
    return INTERNAL_ERROR.exception("Unexpected failure.")


def _from_unexpected(exc: Exception, request: Request[Any, Any, Any]) -> ProblemDetailsException:
    logger.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return INTERNAL_ERROR.exception("The service failed to handle this request; it has been logged.")


def problem_for(exc: Exception) -> Problem:
    """The problem a client would get for this failure, as the body of a batch result line."""
    if isinstance(exc, FactlineError):
        converted = _from_factline(exc)
    else:
        logger.error("batch item failed unexpectedly", exc_info=exc)
        converted = INTERNAL_ERROR.exception(
            "Extracting this article failed unexpectedly; it has been logged."
        )
    extra = converted.extra if isinstance(converted.extra, dict) else {}
    return Problem(
        type=converted.type_ or INTERNAL_ERROR.uri,
        title=converted.title or INTERNAL_ERROR.title,
        status=converted.status_code,
        detail=converted.detail,
        **extra,
    )


def _handler(convert: Callable[[Any, Request[Any, Any, Any]], ProblemDetailsException]) -> Any:
    def handle(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
        problem = convert(exc, request)
        problem.instance = request.url.path
        if request_id := REQUEST_ID.get():
            problem.extra = {
                **(problem.extra if isinstance(problem.extra, dict) else {}),
                "request_id": request_id,
            }
        return problem.to_response(request)

    return handle


def exception_handlers() -> ExceptionHandlersMap:
    """Problem details for our own problems, litestar's HTTP errors, core failures and bugs alike."""
    return {
        ProblemDetailsException: _handler(lambda exc, _: exc),
        ValidationException: _handler(_from_validation),
        HTTPException: _handler(_from_http),
        FactlineError: _handler(_from_factline),
        Exception: _handler(_from_unexpected),
    }


def problem_responses(*problems: ProblemType) -> dict[int, ResponseSpec]:
    """OpenAPI entries for the problems a route can answer (the plugin does not document itself)."""
    by_status: dict[int, list[ProblemType]] = {}
    for problem in problems:
        by_status.setdefault(problem.status, []).append(problem)
    return {
        status: ResponseSpec(
            data_container=Problem,
            media_type=PROBLEM_MEDIA_TYPE,
            description=" ".join(f"`{p.uri}`: {p.when}" for p in group),
            generate_examples=False,
        )
        for status, group in sorted(by_status.items())
    }


OPEN_ROUTE = (NOT_FOUND, METHOD_NOT_ALLOWED, INTERNAL_ERROR)
"""What any route can answer; /health answers no more."""
ALWAYS_POSSIBLE = (*OPEN_ROUTE, UNAUTHORIZED, RATE_LIMITED)
"""What any route behind the API key and the rate limit can answer."""
