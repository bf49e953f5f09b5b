"""Counting tokens, not guessing them: the budget that decides whether an article is split.

`llama_server` asks the configured llama.cpp server's `/tokenize` (the embedded model's own
tokenizer, exact); `cl100k_base` and `o200k_base` count with OpenAI's encodings through tiktoken,
from the vocabularies in `factline/vocabularies` (OpenAI's files, gzipped), so nothing is downloaded
at run time. For other models those are an estimate; the budget leaves room for the difference.
"""

from __future__ import annotations

import asyncio
import base64
import gzip
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Protocol

import httpx
import tiktoken

from factline.settings import Settings

VOCABULARIES = Path(__file__).parent / "vocabularies"


class TokenCounter(Protocol):
    async def count(self, pieces: Sequence[str]) -> list[int]:
        """Tokens of each piece."""
        ...

    def prepare(self) -> None:
        """Load what counting needs (blocking; called off the event loop at start-up)."""
        ...


@dataclass(frozen=True)
class EncodingDefinition:
    """What tiktoken needs besides the vocabulary, and the vocabulary's SHA-256 as OpenAI publishes it."""

    pat_str: str
    special_tokens: dict[str, int]
    vocabulary_sha256: str


# As `tiktoken_ext.openai_public` defines them (a test holds them equal): tiktoken's own constructors
# download the vocabularies.
ENCODINGS = {
    "cl100k_base": EncodingDefinition(
        pat_str=r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s""",  # noqa: E501
        special_tokens={
            "<|endoftext|>": 100257,
            "<|fim_prefix|>": 100258,
            "<|fim_middle|>": 100259,
            "<|fim_suffix|>": 100260,
            "<|endofprompt|>": 100276,
        },
        vocabulary_sha256="223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
    ),
    "o200k_base": EncodingDefinition(
        pat_str="|".join(
            [
                r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
                r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
                r"""\p{N}{1,3}""",
                r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
                r"""\s*[\r\n]+""",
                r"""\s+(?!\S)""",
                r"""\s+""",
            ]
        ),
        special_tokens={"<|endoftext|>": 199999, "<|endofprompt|>": 200018},
        vocabulary_sha256="446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
    ),
}


def vocabulary(name: str) -> dict[bytes, int]:
    """An encoding's token ranks from the file shipped with factline, checked against OpenAI's hash."""
    data = gzip.decompress((VOCABULARIES / f"{name}.tiktoken.gz").read_bytes())
    if hashlib.sha256(data).hexdigest() != ENCODINGS[name].vocabulary_sha256:
        raise RuntimeError(f"{VOCABULARIES / name}.tiktoken.gz is not OpenAI's {name} vocabulary")
    return {
        base64.b64decode(token): int(rank) for token, rank in (line.split() for line in data.splitlines())
    }


@cache
def _encoding(name: str) -> tiktoken.Encoding:
    """Loaded on first use: 0.2 s and ~40 MB for cl100k_base (bpe-openai, before it, held ~100 MB)."""
    definition = ENCODINGS[name]
    return tiktoken.Encoding(
        name,
        pat_str=definition.pat_str,
        mergeable_ranks=vocabulary(name),
        special_tokens=definition.special_tokens,
    )


class BpeCounter:
    """Counts with an OpenAI encoding (loaded once per process)."""

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
