"""Dated events the article states: a sentence that names a day and reports something done on it.

News reports most happenings in one shape: a day ("On December 7", "December 14–15", "on
Saturday", "Thursday") in the sentence that says what was done ("met", "held talks", "took place",
"assassinated", "a meeting", "negotiations"). Such a sentence is an event: its evidence is the
sentence, its `date_text` the day as written, its location the first "in <Place>" of the sentence.
Words in quotation marks are nobody's report of an event (they are masked), and a dated sentence
with no event word ("On Monday, the mayor said …") is a quote's business, not an event's.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from factline.speech_cues import ArticleCues
from factline.word_patterns import any_word

_MONTHS = (
    r"(?:Jan(?:uary|\.)?|Feb(?:ruary|\.)?|Mar(?:ch|\.)?|Apr(?:il|\.)?|May|June?|July?|Aug(?:ust|\.)?"
    r"|Sep(?:tember|t?\.)?|Oct(?:ober|\.)?|Nov(?:ember|\.)?|Dec(?:ember|\.)?)"
)
_WEEKDAYS = r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
_DAYS = r"\d{1,2}(?:\s*[–-]\s*\d{1,2})?"
# The lookahead on the first character spares trying every alternative at every word.
_DAY = re.compile(
    rf"\b(?=[A-Z\d])(?:{_MONTHS}\s+{_DAYS}\b(?:,?\s+\d{{4}})?|{_DAYS}\s+{_MONTHS}\b(?:\s+\d{{4}})?|{_WEEKDAYS}\b)"
)
_TRIGGER_WORDS = (
    *"""met meets held holds gathered convened discussed signed visited launched attacked struck killed
    assassinated resumed began ended agreed voted arrived hosted opened closed meeting talks summit
    negotiations visit ceasefire attack strike election""".split(),  # noqa: SIM905
    "took place",
    "takes place",
    "press conference",
)
_TRIGGER = re.compile(rf"\b{any_word(_TRIGGER_WORDS)}\b")
_PLACE = re.compile(
    rf"\bin ((?!{_MONTHS}\b|{_WEEKDAYS}\b)[A-Z][\w’'-]+(?:\s+(?!{_WEEKDAYS}\b)[A-Z][\w’'-]+)*)"
)
_SUMMARY_CHARS = 120


@dataclass(frozen=True)
class DatedEvent:
    """A sentence at `start:end` reporting what was done on the day written `date_text`."""

    start: int
    end: int
    date_text: str
    location: str | None

    def summary(self, text: str) -> str:
        """The sentence, cut at a word within a line's length."""
        sentence = text[self.start : self.end]
        if len(sentence) <= _SUMMARY_CHARS:
            return sentence
        return sentence[: sentence.rfind(" ", 0, _SUMMARY_CHARS)] + " …"


def dated_events(cues: ArticleCues) -> list[DatedEvent]:
    """Every sentence of the article, outside quotation marks, that names a day and an event."""
    return list(_events(cues))


def _events(cues: ArticleCues) -> Iterator[DatedEvent]:
    text, masked = cues.text, cues.masked
    for low, high in cues.every_sentence():
        day = _DAY.search(masked, low, high)
        if day is None or not _TRIGGER.search(masked, low, high):
            continue
        start, end = low, high
        while start < end and not text[start].isalnum():
            start += 1
        while end > start and (text[end - 1].isspace() or text[end - 1] in ".;:"):
            end -= 1
        place = _PLACE.search(masked, low, high)
        yield DatedEvent(start, end, text[day.start() : day.end()], place.group(1) if place else None)
