"""Finding the model's excerpts in the article, so every fact points at text the client sent.

Offsets are computed here and only here, in Unicode code points of the submitted string. Search
goes exact, then normalised (quotes, dashes, whitespace, compatibility forms and case folded),
then fuzzy (rapidfuzz alignment above a threshold, widened to whole words).
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass
from functools import cache, cached_property

from rapidfuzz import fuzz

from schemas import MatchKind, Span

_QUOTE_FOLD = dict.fromkeys(map(ord, "“”„‟«»″〝〞＂"), '"') | dict.fromkeys(map(ord, "‘’‚‛‹›′`´"), "'")
_DASH_FOLD = dict.fromkeys(map(ord, "‐‑‒–—―−﹘﹣－"), "-")
_FOLD_TABLE = str.maketrans(_QUOTE_FOLD | _DASH_FOLD)
_FOLDED_MARKS = re.compile("[" + re.escape("".join(map(chr, _FOLD_TABLE))) + "]")
_QUOTE_MARKS = "\"'“”„‟«»‘’‚‛‹›"
_RUNS = re.compile(r"\s+|\S+")
_SPACE_RUNS = re.compile(r"\s{2,}")
# Below this length an approximate match says little about where the excerpt came from.
FUZZY_MIN_CHARS = 20


@dataclass(frozen=True)
class Located:
    start: int
    end: int
    match: MatchKind
    score: float


@cache
def _fold_char(char: str) -> str:
    folded = unicodedata.normalize("NFKC", char.translate(_FOLD_TABLE)).casefold()
    return folded.translate(_FOLD_TABLE)


def _fold_word(word: str) -> str:
    if word.isascii():  # the common case: case and quote folding keep every character one character
        return word.lower().translate(_FOLD_TABLE)
    return "".join(map(_fold_char, word))


def _fold_mark(match: re.Match[str]) -> str:
    return str(_FOLD_TABLE[ord(match.group())])


def fold(text: str) -> str:
    """The normalised form both the article and excerpts are compared in."""
    # Quotes and dashes first, by one regex pass (`str.translate` with a table of non-ASCII characters
    # looks up every character of the text, ~7x slower): what is left is mostly ASCII, for which
    # lower-casing is all the folding, done by string methods on the whole text.
    marks_folded = _FOLDED_MARKS.sub(_fold_mark, text)
    if marks_folded.isascii():
        return " ".join(marks_folded.lower().split())
    return " ".join(
        word.lower() if word.isascii() else "".join(map(_fold_char, word)) for word in marks_folded.split()
    )


def strip_quote_marks(excerpt: str) -> str:
    """Models often include the quotation marks around a quote, or only one of them."""
    return excerpt.strip().strip(_QUOTE_MARKS).strip()


class Claims:
    """Spans already used by the items of one list: an item whose span overlaps one repeats it."""

    def __init__(self) -> None:
        self._spans: list[tuple[int, int]] = []

    def free(self, hit: Located) -> bool:
        return all(hit.end <= start or hit.start >= end for start, end in self._spans)

    def claim(self, hit: Located) -> None:
        self._spans.append((hit.start, hit.end))

    def take(self, hit: Located) -> bool:
        """Claim `hit` if it is free; whether it was."""
        if free := self.free(hit):
            self.claim(hit)
        return free


@dataclass(frozen=True)
class _CharByChar:
    """The folded text, and for each of its characters the span of the original it came from."""

    text: str
    starts: list[int]
    ends: list[int]

    def start(self, at: int) -> int:
        return self.starts[at]

    def end(self, at: int) -> int:
        return self.ends[at]


@dataclass(frozen=True)
class _SpacesCollapsed:
    """The folded text of an article that folding changed in length only where a run of whitespace
    became one space (ASCII once its quotation marks and dashes are folded: most articles in English).
    Only those runs are kept; the characters between them map one to one."""

    text: str
    runs_at: list[int]  # where each run's space stands in the folded text, ascending
    runs: list[tuple[int, int]]  # each run's span in the original
    removed: list[int]  # characters removed by the runs up to and including each

    def _span(self, at: int) -> tuple[int, int]:
        run = bisect_right(self.runs_at, at) - 1
        if run >= 0 and self.runs_at[run] == at:
            return self.runs[run]
        original = at + (self.removed[run] if run >= 0 else 0)
        return original, original + 1

    def start(self, at: int) -> int:
        return self._span(at)[0]

    def end(self, at: int) -> int:
        return self._span(at)[1]


def _folded_view(text: str) -> _CharByChar | _SpacesCollapsed:
    """The article's folded text and where each of its characters came from.

    Mapped character by character, a 4 KB article took ~1 ms: the whole text's worth of offsets in
    Python lists. An ASCII article keeps only its collapsed whitespace runs (~0.05 ms).
    """
    marks_folded = _FOLDED_MARKS.sub(_fold_mark, text)
    if not marks_folded.isascii():
        return _char_by_char(text)
    lowered = marks_folded.lower()
    collapsed = _collapsed(lowered)
    runs_at: list[int] = []
    runs: list[tuple[int, int]] = []
    removed: list[int] = []
    total = 0
    # Searched for only when the lengths say there is one: the scan costs a third of the view.
    for run in _SPACE_RUNS.finditer(lowered) if len(collapsed) < len(lowered) else ():
        begin, end = run.span()
        runs_at.append(begin - total)
        runs.append((begin, end))
        total += end - begin - 1
        removed.append(total)
    return _SpacesCollapsed(collapsed, runs_at, runs, removed)


def _collapsed(text: str) -> str:
    r"""`text` with each run of whitespace one space, as `re.sub(r"\s+", " ", text)` makes it (`\s` and
    `str.split` know the same whitespace) in a quarter of the time."""
    words = text.split()
    if not words:
        return " " if text else ""
    return "".join((" " if text[0].isspace() else "", " ".join(words), " " if text[-1].isspace() else ""))


def _char_by_char(text: str) -> _CharByChar:
    pieces: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for run in _RUNS.finditer(text):
        begin, end = run.span()
        chunk = run.group()
        if chunk[0].isspace():
            pieces.append(" ")
            starts.append(begin)
            ends.append(end)
        elif chunk.isascii():
            pieces.append(_fold_word(chunk))
            starts.extend(range(begin, end))
            ends.extend(range(begin + 1, end + 1))
        else:
            for offset, char in enumerate(chunk, start=begin):
                piece = _fold_char(char)
                pieces.append(piece)
                starts.extend([offset] * len(piece))
                ends.extend([offset + 1] * len(piece))
    return _CharByChar("".join(pieces), starts, ends)


class ArticleIndex:
    """An article prepared for many excerpt searches; its folded form is built on first use."""

    def __init__(self, text: str) -> None:
        self.text = text

    @cached_property
    def _view(self) -> _CharByChar | _SpacesCollapsed:
        return _folded_view(self.text)

    @property
    def folded(self) -> str:
        return self._view.text

    def span(self, located: Located) -> Span:
        return Span(
            start=located.start,
            end=located.end,
            text=self.text[located.start : located.end],
            match=located.match,
            score=located.score,
        )

    def find_all(self, excerpt: str, *, whole_words: bool = False) -> list[Located]:
        """Every exact occurrence, or failing that every normalised one, in text order."""
        needle = excerpt.strip()
        if not needle:
            return []
        exact = [
            Located(start, start + len(needle), MatchKind.EXACT, 100.0)
            for start in _occurrences(self.text, needle)
        ]
        if not exact:
            folded_needle = fold(needle)
            view = self._view
            exact = [
                Located(view.start(i), view.end(i + len(folded_needle) - 1), MatchKind.NORMALIZED, 100.0)
                for i in _occurrences(view.text, folded_needle)
            ]
        if whole_words:
            exact = [hit for hit in exact if self._on_word_boundaries(hit.start, hit.end)]
        return exact

    def find_fuzzy(self, excerpt: str, threshold: float) -> Located | None:
        """The closest run of whole words to `excerpt`, if its similarity reaches `threshold`."""
        needle = fold(excerpt)
        if len(needle) < FUZZY_MIN_CHARS:
            return None
        window = fuzz.partial_ratio_alignment(needle, self.folded, score_cutoff=threshold)
        if window is None:
            return None
        # The alignment window has the needle's length; snap both ends to the word boundaries that match best.
        slack = max(8, len(needle) // 5)
        starts = self._word_starts(window.dest_start - slack, window.dest_start + slack)
        ends = self._word_ends(window.dest_end - slack, window.dest_end + slack)
        best = max(
            ((fuzz.ratio(needle, self.folded[s:e]), s, e) for s in starts for e in ends if e > s),
            default=None,
        )
        if best is None or best[0] < threshold:
            return None
        score, start, end = best
        return Located(self._view.start(start), self._view.end(end - 1), MatchKind.FUZZY, round(score, 1))

    def _word_starts(self, low: int, high: int) -> list[int]:
        text = self.folded
        return [
            i
            for i in range(max(low, 0), min(high, len(text) - 1) + 1)
            if text[i].isalnum() and (i == 0 or not text[i - 1].isalnum())
        ]

    def _word_ends(self, low: int, high: int) -> list[int]:
        text = self.folded
        return [
            i
            for i in range(max(low, 1), min(high, len(text)) + 1)
            if not text[i - 1].isspace() and (i == len(text) or text[i].isspace())
        ]

    def locate(self, excerpt: str, threshold: float, claims: Claims | None = None) -> Located | None:
        """The first occurrence of `excerpt` that `claims` leaves free; None if it is not in the text.

        When every occurrence is claimed, the first is returned and the caller sees it is a repeat.
        """
        hits = self.find_all(excerpt) or [hit for hit in [self.find_fuzzy(excerpt, threshold)] if hit]
        if not hits:
            return None
        return next((hit for hit in hits if claims is None or claims.free(hit)), hits[0])

    def _on_word_boundaries(self, start: int, end: int) -> bool:
        before = self.text[start - 1] if start > 0 else " "
        after = self.text[end] if end < len(self.text) else " "
        return not (before.isalnum() and self.text[start].isalnum()) and not (
            after.isalnum() and self.text[end - 1].isalnum()
        )


def _occurrences(haystack: str, needle: str) -> list[int]:
    found = []
    start = haystack.find(needle)
    while start != -1:
        found.append(start)
        start = haystack.find(needle, start + 1)
    return found
