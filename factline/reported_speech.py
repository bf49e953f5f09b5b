"""Words reported without quotation marks, found by the same reporting cues that attribute quotes.

A sentence with no quotation marks reports speech when a cue of `factline.speech_cues` frames a
clause, Quotebank-style:

- `X said (on Monday) that …`, `X told reporters that …`: the clause after "that";
- `X said it would …`, `he said there is …`: a clause straight after the verb (a pronoun or article
  opens it);
- `X answered with a warning: …`: the clause after the colon;
- `According to X, …`: the clause after the comma;
- `…, the minister added (during the briefing).`: the clause before the speaker.

The speaker must be given ("officials said" gives nobody), and one statement is taken per sentence.
Words in a sentence that holds a quotation mark are the quote's business, not this module's.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from factline.speech_cues import ArticleCues, FoundCue, SpeechCue

_REPORTING = frozenset(
    """said says added adds told tells stated states explained noted notes stressed emphasized emphasised
    warned warns argued argues insisted insists declared announced wrote writes claimed claims admitted
    acknowledged conceded answered replied confirmed reiterated suggested""".split()  # noqa: SIM905
) | {"pointed out"}
_AFTERWORD = frozenset("added adds said says wrote warned insisted noted stressed explained".split())  # noqa: SIM905
_THAT = re.compile(r"\s+(?:[^\s,.:;]+\s+){0,4}?that\s+")
_COLON = re.compile(r"[^.:;“”\"]{0,60}:\s*")
_CLAUSE_OPENERS = re.compile(r"\s+(?=(?:it|he|she|they|we|there|this|the|a|an|its|his|her|their)\s)")
_FIRST_PERSON = re.compile(r"\b(?:I|we|my|our|me|us)\b")
_MIN_WORDS = 4
_ADJUNCT_WORDS = 5  # "…, the minister added during the briefing."


@dataclass(frozen=True)
class ReportedSpeech:
    """A reported statement at `text[start:end]`, its cue, and whether the words are the speaker's own."""

    start: int
    end: int
    cue: SpeechCue
    direct: bool


def find_reported_speech(cues: ArticleCues) -> list[ReportedSpeech]:
    """Every reported statement of the article in text order."""
    return list(_statements(cues))


def _statements(cues: ArticleCues) -> Iterator[ReportedSpeech]:
    text = cues.text
    for low, high in cues.every_sentence():
        if any(low < mark_end and mark_start < high for mark_start, mark_end in cues.quoted):
            continue
        framed = (_framed(text, found, low, high) for found in cues.sentence_cues((low, high)))
        if statement := next((statement for statement in framed if statement), None):
            yield statement


def _framed(text: str, found: FoundCue, low: int, high: int) -> ReportedSpeech | None:
    """The clause the cue frames, if the sentence has one of the shapes above."""
    cue = found.cue
    if cue is None or found.participle:
        return None
    verb = cue.verb.lower()
    if verb == "according to":
        if text[cue.end : cue.end + 1] == ",":
            return _statement(text, cue.end + 1, high, cue)
        if found.at > low and text[low : found.at].rstrip().endswith(","):  # "…, according to the official."
            return _statement(text, low, text.rindex(",", low, found.at), cue)
        return None
    if verb not in _REPORTING:
        return None
    for shape in (_THAT, _COLON, _CLAUSE_OPENERS):
        if match := shape.match(text, found.end, high):
            return _statement(text, match.end(), high, cue)
    before = text[low : cue.start].rstrip()
    after = text[found.end : high].split()
    if verb in _AFTERWORD and before.endswith(",") and len(after) <= _ADJUNCT_WORDS:
        return _statement(text, low, low + len(before) - 1, cue)  # "…, the minister added"
    return None


def _statement(text: str, start: int, end: int, cue: SpeechCue) -> ReportedSpeech | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and (text[end - 1].isspace() or text[end - 1] in ".,;"):
        end -= 1
    words = text[start:end].split()
    if len(words) < _MIN_WORDS:
        return None
    return ReportedSpeech(start, end, cue, direct=bool(_FIRST_PERSON.search(text[start:end])))
