"""Reading an article from either body format, so one pydantic model validates both.

A JSON body is the request object itself. A `text/plain` body is the article text, with its
metadata in query parameters. Either way the result is the same dict, which litestar then
validates as `ExtractionRequest` (422 with every field error).
"""

from __future__ import annotations

import codecs
import json
from dataclasses import dataclass
from typing import Any

from litestar import Request
from litestar.openapi.spec import (
    OpenAPIFormat,
    OpenAPIMediaType,
    OpenAPIType,
    Operation,
    Parameter,
    RequestBody,
    Schema,
)

from api.openapi import ITEM_TYPE
from api.problems import INVALID_REQUEST, MALFORMED_BODY, UNSUPPORTED_MEDIA_TYPE
from schemas import TEXT_PATTERN, ArticleMetadata

JSON_MEDIA_TYPES = frozenset({"application/json"})
TEXT_MEDIA_TYPE = "text/plain"
QUERY_FIELDS = (*ArticleMetadata.model_fields, "types")


def _decode_utf8(body: bytes, what: str) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise MALFORMED_BODY.exception(
            f"The {what} is not valid UTF-8 (bad byte at offset {error.start})."
        ) from None


def _metadata_from_query(request: Request[Any, Any, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in request.query_params:
        given = request.query_params.getall(name)
        if name == "types":
            # Repeats are one wish (`?types=quote&types=quote`), as in the batch route's `types`.
            parts = [part.strip() for value in given for part in value.split(",") if part.strip()]
            values[name] = list(dict.fromkeys(parts))
        else:
            # Unknown names are passed on so validation rejects them instead of dropping them silently.
            values[name] = given[0] if len(given) == 1 else given
    return values


class ArticleRequest(Request[Any, Any, Any]):
    """A request whose `data` may be a JSON article or a plain-text one."""

    async def json(self) -> Any:
        media_type, params = self.content_type
        body = await self.body()
        if media_type in JSON_MEDIA_TYPES or media_type.endswith("+json"):
            if self.query_params:
                raise INVALID_REQUEST.exception(
                    "Query parameters are only read with a text/plain body; put metadata in the JSON body.",
                    errors=[
                        {"location": f"query.{name}", "message": "not allowed with a JSON body"}
                        for name in self.query_params
                    ],
                )
            text = _decode_utf8(body, "JSON body")
            try:
                return json.loads(text)
            except json.JSONDecodeError as error:
                raise MALFORMED_BODY.exception(
                    f"The body is not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})."
                ) from None
            except (
                ValueError,
                RecursionError,
            ) as error:  # integers past Python's digit limit, absurd nesting
                raise MALFORMED_BODY.exception(f"The body is not usable JSON: {error}.") from None
        if media_type == TEXT_MEDIA_TYPE:
            charset = params.get("charset", "utf-8")
            try:
                codec = codecs.lookup(charset)
            except LookupError:
                raise UNSUPPORTED_MEDIA_TYPE.exception(f"Unknown charset “{charset}”.") from None
            if codec.name == "utf-8":
                text = _decode_utf8(body, "text")
            else:
                try:
                    text = body.decode(codec.name)
                except UnicodeDecodeError as error:
                    raise MALFORMED_BODY.exception(
                        f"The text is not valid {codec.name} (bad byte at offset {error.start})."
                    ) from None
            return {**_metadata_from_query(self), "text": text}
        raise UNSUPPORTED_MEDIA_TYPE.exception(
            f"Content-Type “{media_type or '(none)'}” is not supported; send application/json or text/plain."
        )


def _query_parameter(name: str) -> Parameter:
    if name == "types":
        return Parameter(
            name="types",
            param_in="query",
            required=False,
            description="With text/plain: kinds of fact to extract, repeated or comma-separated.",
            schema=Schema(type=OpenAPIType.ARRAY, items=ITEM_TYPE),
            explode=True,
        )
    field = ArticleMetadata.model_fields[name]
    return Parameter(
        name=name,
        param_in="query",
        required=False,
        description=f"With text/plain: {field.description}",
        schema=_query_schema(name),
    )


def _query_schema(name: str) -> Schema:
    """The body field's own constraints, so a query value the schema allows is one the service accepts."""
    if name == "published_at":
        return Schema(
            one_of=[
                Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.DATE),
                Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.DATE_TIME),
            ]
        )
    string = next(
        s for s in ArticleMetadata.model_json_schema()["properties"][name]["anyOf"] if s["type"] == "string"
    )
    return Schema(
        type=OpenAPIType.STRING,
        min_length=string.get("minLength"),
        max_length=string.get("maxLength"),
        pattern=string.get("pattern"),
    )


@dataclass
class ArticleOperation(Operation):
    """Documents the text/plain alternative next to the JSON body litestar generates from the model."""

    def __post_init__(self) -> None:
        if isinstance(self.request_body, RequestBody):
            self.request_body.description = (
                "The article as a JSON object, or as raw text/plain with its metadata in query parameters."
            )
            self.request_body.content[TEXT_MEDIA_TYPE] = OpenAPIMediaType(
                schema=Schema(
                    type=OpenAPIType.STRING,
                    min_length=1,
                    pattern=TEXT_PATTERN,
                    description="The article's full text.",
                ),
            )
        self.parameters = [*(self.parameters or []), *(_query_parameter(name) for name in QUERY_FIELDS)]
