"""The viewer: an extraction over its article, as an HTML page for people (not part of the API).

`GET /viewer` is a form; posting it extracts the article and shows the result. A batch's finished
articles are listed at `/viewer/batches/{batch_id}`, each shown at `.../items/{item_id}`. The page
is rendered here; a little inline JavaScript shows an item's fields on click. Errors answer the same
problem+json as the API.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated, Any

from jinja2 import Environment, PackageLoader, select_autoescape
from litestar import Controller, MediaType, Response, get, post
from litestar.datastructures import State
from litestar.enums import RequestEncodingType
from litestar.params import Body, Parameter
from pydantic import ValidationError

from api.highlights import Piece, marked_spans, pieces
from api.problems import BATCH_ITEM_NOT_FOUND, INVALID_REQUEST
from factline.batch_store import BatchStore
from factline.cache import CachingExtractor
from schemas import Extraction, ExtractionRequest

_templates = Environment(loader=PackageLoader("api", "templates"), autoescape=select_autoescape(["html"]))
_templates.policies["json.dumps_kwargs"] = {"sort_keys": False}  # fields in the schema's order
BATCH_ID = Parameter(description="The batch's id.")
ITEM_ID = Parameter(description="The item's id, from a result line.")


@dataclass
class ArticleForm:
    """The viewer's form; browsers send its line breaks as CRLF, the article had LF."""

    text: str
    title: str = ""
    published_at: str = ""

    def request(self) -> ExtractionRequest:
        text = self.text.replace("\r\n", "\n")
        fields = {"text": text, "title": self.title, "published_at": self.published_at}
        try:
            return ExtractionRequest.model_validate({name: value for name, value in fields.items() if value})
        except ValidationError as error:
            errors = [
                {"location": "body." + ".".join(map(str, e["loc"])), "message": e["msg"]}
                for e in error.errors()
            ]
            raise INVALID_REQUEST.exception(
                "; ".join(f"{e['location']}: {e['message']}" for e in errors), errors=errors
            ) from None


def _piece_items(piece: Piece) -> list[str]:
    """Items under a piece, evidence before mentions, each once: the order clicks cycle through."""
    ordered = sorted(piece.spans, key=lambda s: s.kind == "mention")
    return list(dict.fromkeys(span.item_id for span in ordered))


def _label(kind: str, item: Any) -> str:
    match kind:
        case "quote":
            return f"“{item.text}”"
        case "event":
            return f"{item.summary}" + (f" ({item.date})" if item.date else "")
        case "position":
            return f"{item.stance} on {item.topic}: {item.summary}"
        case _:
            return f"{item.summary} [{item.status}]"


def page(**context: Any) -> Response[str]:
    extraction: Extraction | None = context.get("extraction")
    text: str | None = context.pop("text", None)
    if extraction is not None and text is not None:
        context["pieces"] = pieces(text, marked_spans(extraction))
        context["extraction_json"] = extraction.model_dump(mode="json")
        context["lists"] = [
            ("Quotes", "quote", extraction.quotes),
            ("Events", "event", extraction.events),
            ("Positions", "position", extraction.positions),
            ("Proposals", "proposal", extraction.proposals),
        ]
    context.setdefault("results", None)
    html = _templates.get_template("viewer.html").render(piece_items=_piece_items, label=_label, **context)
    return Response(html, media_type=MediaType.HTML)


class ViewerController(Controller):
    path = "/viewer"
    include_in_schema = False

    @get()
    async def form(self) -> Response[str]:
        return page()

    @post(status_code=200)
    async def extract(
        self, state: State, data: Annotated[ArticleForm, Body(media_type=RequestEncodingType.URL_ENCODED)]
    ) -> Response[str]:
        request = data.request()
        extractor: CachingExtractor = state.extractor
        return page(extraction=await extractor.extract(request), text=request.text)

    @get("/batches/{batch_id:str}")
    async def batch(self, state: State, batch_id: Annotated[str, BATCH_ID]) -> Response[str]:
        store: BatchStore = state.batch_store
        lines = await store.results(batch_id, 0, limit=1000)
        return page(batch_id=batch_id, results=[json.loads(line) for _, line in lines])

    @get("/batches/{batch_id:str}/items/{item_id:str}")
    async def batch_item(
        self, state: State, batch_id: Annotated[str, BATCH_ID], item_id: Annotated[str, ITEM_ID]
    ) -> Response[str]:
        store: BatchStore = state.batch_store
        found = await store.item(batch_id, item_id)
        if found is None:
            raise BATCH_ITEM_NOT_FOUND.exception(f"Batch {batch_id} has no item {item_id}.")
        request_json, status, line = found
        if line is None:
            return page(batch_id=batch_id, status=status)
        result = json.loads(line)
        if result.get("extraction") is None or request_json is None:
            return page(batch_id=batch_id, problem=result.get("problem"), status=status)
        request = ExtractionRequest.model_validate_json(request_json)
        extraction = Extraction.model_validate(result["extraction"])
        return page(batch_id=batch_id, extraction=extraction, text=request.text)
