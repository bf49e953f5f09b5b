"""The speaker the article itself names for a quote, resolved to an actor.

The text's own cue ("…,” Pistorius said", "the minister added", a "– Name" line) outranks the
model's reading: it is what a reader goes by, and the 1.5B model mostly goes down its actor list
instead (2 of the 12 matched quotes attributed right before these rules; README, *Extraction
quality*, has the figures after). Without a cue, or when its speaker resolves to no actor, the
model's reading stands.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from factline.actors import ActorDirectory
from factline.article_reading import ArticleReading
from factline.grounding import Located
from factline.quote_candidates import QuoteCandidate
from factline.speech_cues import SpeechCue
from factline.stance_cues import StatedFact
from schemas import MatchKind, Span


@dataclass(frozen=True)
class TextAttribution:
    """An actor named by the article's words at `cue`, with the reporting verb when there is one."""

    speaker_id: str
    cue: Span
    verb: str | None


class ArticleAttribution:
    """Reads who said what from one article's reporting cues, resolving speakers in its actor directory;
    and, from the same sentences, the events, stances and proposals the article states itself."""

    def __init__(self, reading: ArticleReading, actors: ActorDirectory) -> None:
        self._reading = reading
        self._index = reading.index
        self._actors = actors
        self._cues = reading.cues
        self._told: dict[tuple[int, int], TextAttribution | None] = {}

    def of_words(self, start: int, end: int) -> TextAttribution | None:
        """Who the article says spoke the words at `start:end` (a quoted passage or a reported one);
        remembered, as a quote candidate is asked about more than once."""
        if (start, end) not in self._told:
            cue = self._cues.of_words(start, end)
            self._told[start, end] = None if cue is None else self.resolve(cue)
        return self._told[start, end]

    def resolve(self, cue: SpeechCue) -> TextAttribution | None:
        """The actor a cue's speaker phrase designates (`ActorDirectory.resolve_speaker`), if any."""
        speaker_id = self._actors.resolve_speaker(cue, self._cues.quoted)
        if speaker_id is None:
            return None
        return TextAttribution(speaker_id, self._span(cue.start, cue.end), cue.verb)

    def byline(self, candidate: QuoteCandidate, speaker_id: str) -> TextAttribution | None:
        """The speaker of a block quote, named on the "– Name" line under it."""
        name = candidate.attributed_to or ""
        start = self._index.text.find(name, candidate.end) if name else -1
        return None if start < 0 else TextAttribution(speaker_id, self._span(start, start + len(name)), None)

    @cached_property
    def stated_facts(self) -> list[tuple[StatedFact, TextAttribution]]:
        """Stances and proposals the text states (`factline.stance_cues`) whose subject is an actor;
        read once, as positions and proposals both ask."""
        resolved = ((fact, self.resolve(fact.subject)) for fact in self._reading.stated_facts)
        return [(fact, told) for fact, told in resolved if told is not None]

    def _span(self, start: int, end: int) -> Span:
        return self._index.span(Located(start, end, MatchKind.EXACT, 100.0))
