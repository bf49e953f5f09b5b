"""Splitting long articles: parts within budget, on paragraph and sentence boundaries, overlapping."""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence

from factline.chunking import Chunk, pack, plan_chunks, split_units
from factline.tokens import BpeCounter
from tests.conftest import ARTICLES

LONG = "\n".join(
    (ARTICLES / name).read_text("utf-8") for name in sorted(p.name for p in ARTICLES.glob("*.txt"))
)
CL100K = BpeCounter("cl100k_base")


class WordCounter:
    """One token per word: budgets in tests are then easy to reason about."""

    def prepare(self) -> None:
        """Nothing to load: words are split on whitespace."""

    async def count(self, pieces: Sequence[str]) -> list[int]:
        return [len(piece.split()) for piece in pieces]


async def tokens(text: str) -> int:
    [count] = await CL100K.count([text])
    return count


async def test_a_text_within_budget_is_one_part() -> None:
    text = (ARTICLES / "001_c0f1db72d73447e2.txt").read_text("utf-8")
    assert await plan_chunks(text, 3000, 200, CL100K) == [Chunk(0, len(text))]


class RecordingCounter:
    """cl100k, keeping every piece it is asked to count."""

    def __init__(self) -> None:
        self.pieces: list[str] = []

    def prepare(self) -> None:
        """Load cl100k, as the counter it wraps does."""
        CL100K.prepare()

    async def count(self, pieces: Sequence[str]) -> list[int]:
        self.pieces += pieces
        return await CL100K.count(pieces)


async def test_a_text_far_over_budget_is_split_without_being_counted_whole() -> None:
    counter = RecordingCounter()
    assert len(LONG.encode("utf-8")) > 8 * 1000
    chunks = await plan_chunks(LONG, 1000, 150, counter)
    assert len(chunks) > 5
    assert LONG not in counter.pieces


async def test_a_text_of_many_bytes_a_token_within_budget_is_still_one_part() -> None:
    text = ("-" * 79 + "\n") * 300  # 24,000 bytes, 600 cl100k tokens: not counted whole first
    assert len(text.encode("utf-8")) > 8 * 1000 >= await tokens(text)
    assert await plan_chunks(text, 1000, 150, CL100K) == [Chunk(0, len(text))]


async def test_parts_stay_within_budget_cover_the_text_and_end_on_paragraphs() -> None:
    chunks = await plan_chunks(LONG, 1000, 150, CL100K)
    assert len(chunks) > 5
    covered = [False] * len(LONG)
    for chunk in chunks:
        assert await tokens(LONG[chunk.start : chunk.end]) <= 1000
        assert chunk.start == 0 or LONG[chunk.start - 1] == "\n" or LONG[chunk.start - 1] in " "
        for i in range(chunk.start, chunk.end):
            covered[i] = True
    assert all(covered[i] for i, char in enumerate(LONG) if not char.isspace())
    assert chunks[0].start == 0
    assert chunks[-1].end == len(LONG)


async def test_each_part_repeats_the_end_of_the_one_before_within_the_overlap() -> None:
    chunks = await plan_chunks(LONG, 1000, 150, CL100K)
    overlaps = 0
    for before, after in itertools.pairwise(chunks):
        assert before.start < after.start <= before.end
        if after.start < before.end:
            overlaps += 1
            assert await tokens(LONG[after.start : before.end]) <= 150
    assert overlaps >= len(chunks) // 2


async def test_without_overlap_parts_follow_each_other() -> None:
    chunks = await plan_chunks(LONG, 1000, 0, CL100K)
    for before, after in itertools.pairwise(chunks):
        assert not LONG[before.end : after.start].strip()


async def test_a_paragraph_over_budget_is_split_between_sentences() -> None:
    paragraph = (
        (ARTICLES / "000_38688fb7183b1fa4.txt").read_text("utf-8").split("\n")[1]
    )  # 5 sentences, 123 words
    units = await split_units(paragraph, 60, WordCounter())
    assert len(units) == 5
    assert all(re.search(r"[.!?]$", paragraph[u.start : u.end].rstrip()) for u in units)
    assert "".join(paragraph[u.start : u.end] for u in units).replace(" ", "") == paragraph.replace(" ", "")
    chunks = pack(units, 60, 0)
    assert all(len(paragraph[c.start : c.end].split()) <= 60 for c in chunks)
    assert len(chunks) >= 3


async def test_a_sentence_over_budget_is_split_between_words() -> None:
    sentence = " ".join(f"word{i}" for i in range(120)) + "."
    units = await split_units(sentence, 30, WordCounter())
    assert [u.tokens for u in units] == [50, 50, 20]
    assert all(sentence[u.start : u.end].split()[0].startswith("word") for u in units)


# 30 characters, 40 cl100k tokens
CHINESE_SENTENCE = "德国国防部长皮斯托留斯周一表示，欧洲必须为自身安全做得更多。"


async def test_a_text_with_fewer_characters_than_the_budget_but_more_tokens_is_split() -> None:
    text = "\n".join([CHINESE_SENTENCE * 3] * 3)  # 272 characters, 360 tokens
    assert len(text) <= 300 < await tokens(text)
    chunks = await plan_chunks(text, 300, 0, CL100K)
    assert len(chunks) == 2
    assert all([await tokens(text[c.start : c.end]) <= 300 for c in chunks])


async def test_chinese_sentences_are_units_of_a_paragraph_over_budget() -> None:
    paragraph = CHINESE_SENTENCE * 4
    units = await split_units(paragraph, 100, CL100K)
    assert [paragraph[u.start : u.end] for u in units] == [CHINESE_SENTENCE] * 4


class JoinPenaltyCounter:
    """Words, plus one per paragraph break inside the piece: the joined text counts more than its units."""

    def prepare(self) -> None:
        """Nothing to load: words and line breaks are counted directly."""

    async def count(self, pieces: Sequence[str]) -> list[int]:
        return [len(piece.split()) + piece.rstrip("\n").count("\n") for piece in pieces]


async def test_parts_are_tightened_until_each_counted_whole_fits() -> None:
    counter = JoinPenaltyCounter()
    chunks = await plan_chunks(LONG, 400, 40, counter)
    counts = await counter.count([LONG[c.start : c.end] for c in chunks])
    assert max(counts) <= 400
    assert max(counts) > 300  # tightened, not halved
