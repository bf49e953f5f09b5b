"""The OpenAI encodings counted offline: tiktoken's own definitions, with the vocabularies factline ships."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import pytest
from tiktoken_ext import openai_public

import factline.tokens
from factline.tokens import ENCODINGS, BpeCounter, vocabulary


@pytest.mark.parametrize("name", sorted(ENCODINGS))
def test_each_encoding_is_defined_as_tiktoken_defines_it(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    asked: dict[str, Any] = {}

    def no_download(url: str, expected_hash: str) -> dict[bytes, int]:
        asked.update(url=url, expected_hash=expected_hash)
        return {}

    monkeypatch.setattr(openai_public, "load_tiktoken_bpe", no_download)
    theirs = openai_public.ENCODING_CONSTRUCTORS[name]()
    ours = ENCODINGS[name]
    assert theirs["pat_str"] == ours.pat_str
    assert theirs["special_tokens"] == ours.special_tokens
    assert asked["url"].endswith(f"/{name}.tiktoken")
    assert asked["expected_hash"] == ours.vocabulary_sha256


@pytest.mark.parametrize(
    ("name", "size", "hello_world"),
    [("cl100k_base", 100_256, [15339, 1917]), ("o200k_base", 199_998, [24912, 2375])],
)
async def test_the_shipped_vocabularies_encode_as_openai_does(
    name: str, size: int, hello_world: list[int]
) -> None:
    assert len(vocabulary(name)) == size
    assert factline.tokens._encoding(name).encode_ordinary("hello world") == hello_world
    assert await BpeCounter(name).count(["hello world", "", "⺀⺁⺂"]) == [2, 0, len("⺀⺁⺂".encode())]


def test_a_damaged_vocabulary_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shipped = gzip.decompress((factline.tokens.VOCABULARIES / "cl100k_base.tiktoken.gz").read_bytes())
    (tmp_path / "cl100k_base.tiktoken.gz").write_bytes(gzip.compress(shipped.replace(b" 100", b" 101", 1)))
    monkeypatch.setattr(factline.tokens, "VOCABULARIES", tmp_path)
    with pytest.raises(RuntimeError, match="is not OpenAI's cl100k_base vocabulary"):
        vocabulary("cl100k_base")
