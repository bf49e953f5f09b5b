"""Counting tokens, not guessing them: the budget that decides whether an article is split.

`llama_server` asks the configured llama.cpp server's `/tokenize` (the embedded model's own
tokenizer, exact); `cl100k_base` and `o200k_base` count with OpenAI's encodings, whose vocabularies
the `bpe-openai` package ships, so nothing is downloaded at run time. For other models those are an
estimate; the budget leaves room for the difference.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from functools import cache
from typing import Any, Protocol

import httpx

from factline.settings import Settings


class TokenCounter(Protocol):
    async def count(self, pieces: Sequence[str]) -> list[int]:
        """Tokens of each piece."""
        ...

    def prepare(self) -> None:
        """Load what counting needs (blocking; called off the event loop at start-up)."""
        ...


@cache
def _encoding(name: str) -> Any:
    """Imported on first use: the package takes a second to import, and most articles fit one call."""
    import bpe_openai

    return bpe_openai.get_encoding(name)


class BpeCounter:
    """Counts with an OpenAI encoding (loaded once per process: about 0.3 s)."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding

    def prepare(self) -> None:
        _encoding(self.encoding)

    async def count(self, pieces: Sequence[str]) -> list[int]:
        encoding = _encoding(self.encoding)
        return [len(encoding.encode_ordinary(piece)) for piece in pieces]


class LlamaServerCounter:
    """Counts with the llama.cpp server's own tokenizer (`POST /tokenize`, next to `/v1`)."""

    def __init__(self, base_url: str, timeout: float) -> None:
        self.url = base_url.rstrip("/").removesuffix("/v1") + "/tokenize"
        self.timeout = timeout

    def prepare(self) -> None:
        """Nothing to load: the server holds the tokenizer."""

    async def count(self, pieces: Sequence[str]) -> list[int]:
        async with httpx.AsyncClient(timeout=self.timeout) as http:

            async def one(piece: str) -> int:
                response = await http.post(self.url, json={"content": piece, "add_special": False})
                response.raise_for_status()
                return len(response.json()["tokens"])

            return list(await asyncio.gather(*(one(piece) for piece in pieces)))


def token_counter(settings: Settings) -> TokenCounter:
    """The counter the settings name; `auto` outside the embedded model counts with cl100k_base."""
    if settings.chunk_tokenizer == "llama_server" and settings.llm_base_url is not None:
        return LlamaServerCounter(str(settings.llm_base_url), settings.llm_timeout_seconds)
    return BpeCounter(
        "cl100k_base" if settings.chunk_tokenizer in ("auto", "llama_server") else settings.chunk_tokenizer
    )
