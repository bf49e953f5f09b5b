"""RFC 9457 problem details: the body of every error response."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field


class FieldError(BaseModel):
    """One invalid part of a request."""

    model_config = ConfigDict(extra="forbid")

    location: Annotated[
        str,
        Field(
            description="Where the problem is: a dotted path into the body, or `query.<name>`.",
            examples=["body.published_at"],
        ),
    ]
    message: Annotated[
        str, Field(description="What is wrong with it.", examples=["Input should be a valid date"])
    ]


class Problem(BaseModel):
    """An error, as `application/problem+json` (RFC 9457)."""

    model_config = ConfigDict(extra="allow")

    type: Annotated[
        str,
        Field(
            description="URI that identifies the kind of problem; stable, safe to branch on.",
            examples=["urn:factline:problem:article-too-large"],
        ),
    ]
    title: Annotated[
        str, Field(description="Short summary of the kind of problem.", examples=["Article too large"])
    ]
    status: Annotated[int, Field(ge=400, le=599, description="The HTTP status code.", examples=[413])]
    detail: Annotated[
        str,
        Field(
            description="What went wrong with this request, for a person to read.",
            examples=["The article has 150000 characters; the limit is 100000."],
        ),
    ]
    instance: Annotated[
        str | None,
        Field(description="The request path the problem occurred on.", examples=["/v1/extractions"]),
    ] = None
    errors: Annotated[
        list[FieldError] | None,
        Field(description="Each invalid field, for `invalid-request` problems."),
    ] = None
    retry_after: Annotated[
        int | None,
        Field(
            ge=0,
            description="Seconds to wait before retrying, when the problem is temporary (also sent "
            "as the Retry-After header).",
            examples=[20],
        ),
    ] = None
    request_id: Annotated[
        str | None,
        Field(
            description="The request's id, also in the `X-Request-ID` response header and on the "
            "service's log lines for this request.",
            examples=["5f0c6a2e8b7d4c1e9a3f2b1c0d9e8f7a"],
        ),
    ] = None
