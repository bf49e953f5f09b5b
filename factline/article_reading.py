"""What factline reads from an article's text alone, before and without the model's answer.

The page chrome and the reporting cues (reported speech, stated stances and proposals, dated events)
depend on the text only. Read while the model is answering, they cost an extraction no time: the
~0.7 ms they take on a 4 KB article would otherwise come after the answer, on top of the LLM's
latency. Only what the requested types use is read. The folded search index (~0.05 ms) is built
too: only an excerpt the model did not copy exactly needs it, but every recorded answer of a real
model (five of five articles) had one.
"""

from __future__ import annotations

from collections.abc import Collection
from functools import cached_property

from factline.event_cues import DatedEvent, dated_events
from factline.grounding import ArticleIndex
from factline.page_chrome import PageChrome
from factline.quote_candidates import find_quote_candidates
from factline.reported_speech import ReportedSpeech, find_reported_speech
from factline.speech_cues import ArticleCues
from factline.stance_cues import StatedFact, stated_facts
from schemas import ItemType


class ArticleReading:
    """One article's text-only analyses, each computed on first use or all at once by `read`."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.index = ArticleIndex(text)
        # Every passage in quotation marks, marks included: no cue is read inside one.
        quoted = [(found.start - 1, found.end + 1) for found in find_quote_candidates(text)]
        self.cues = ArticleCues(text, quoted)

    @cached_property
    def chrome(self) -> PageChrome:
        return PageChrome(self.text)

    @cached_property
    def reported_speech(self) -> list[ReportedSpeech]:
        """Statements the text reports without quotation marks (`factline.reported_speech`)."""
        return find_reported_speech(self.cues)

    @cached_property
    def stated_facts(self) -> list[StatedFact]:
        """Stances and proposals the text states (`factline.stance_cues`), speakers not yet resolved."""
        return stated_facts(self.cues)

    @cached_property
    def dated_events(self) -> list[DatedEvent]:
        """Sentences that report what was done on a day they name (`factline.event_cues`)."""
        return dated_events(self.cues)

    def read(self, types: Collection[ItemType]) -> ArticleReading:
        """Every analysis that grounding items of these types uses, now."""
        _ = self.chrome
        _ = self.index.folded
        if ItemType.QUOTE in types:
            _ = self.reported_speech
        if ItemType.EVENT in types:
            _ = self.dated_events
        if ItemType.POSITION in types or ItemType.PROPOSAL in types:
            _ = self.stated_facts
        return self
