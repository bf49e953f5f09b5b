"""Where an article becomes the chat messages sent to the model."""

from __future__ import annotations

from prompts import PromptTemplate, load_prompt
from schemas import ExtractionRequest, ItemType

EXTRACTION_PROMPT = "extraction-v1"


def extraction_prompt() -> PromptTemplate:
    return load_prompt(EXTRACTION_PROMPT)


def build_extraction_messages(request: ExtractionRequest) -> list[dict[str, str]]:
    """The system prompt is a fixed prefix for every article, so servers can reuse its cached state."""
    header = []
    if request.title:
        header.append(f"Title: {request.title}")
    if request.published_date:
        header.append(f"Published: {request.published_date.isoformat()}")
    if len(request.types) < len(ItemType):
        wanted = ", ".join(["actors", *(t.list_name for t in request.types)])
        header.append(f"Extract only: {wanted}.")
    # Surrounding whitespace tells the model nothing; offsets come from grounding against the full text.
    user = "\n".join([*header, "Article:", request.text.strip()])
    return [
        {"role": "system", "content": extraction_prompt().text},
        {"role": "user", "content": user},
    ]
