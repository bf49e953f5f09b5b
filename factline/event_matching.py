"""One timeline from many articles: events that report the same happening become one, with the
reasons why, and sources that give another date are flagged.

Two events are the same when their dates are within a day of each other, they come from different
articles, they do not name two different places, and either they share a location or participant
and their texts are somewhat alike, or their texts are very alike. Texts are compared on their
content words without the date and place, which were compared already.

A report without a date of its own is placed at its article's publication day (its anchor). It joins
an event dated up to a week before that day when it names the same place and says something alike:
the article reports, undated, what happened shortly before. Reports with neither date nor
publication day are never merged.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from rapidfuzz import fuzz

from factline.grounding import fold
from factline.proposal_matching import content_words

DATE_TOLERANCE = dt.timedelta(days=1)
# How long before its article's publication an undated report may have happened.
REPORT_WINDOW = dt.timedelta(days=7)
# Re-reading this far before a page's first event rebuilds the clusters that may reach into it.
LOOKBACK = dt.timedelta(days=14)
SUPPORTED_SIMILARITY = 30.0
UNSUPPORTED_SIMILARITY = 85.0


@dataclass(frozen=True)
class EventFact:
    """One article's report of an event, as the timeline needs it."""

    fact_id: int
    item_id: str
    article_id: str | None
    date: dt.date | None
    date_end: dt.date | None
    location: str | None
    participants: frozenset[str]
    text: str
    date_text: str | None = None
    anchor: dt.date | None = None
    payload: dict[str, object] = field(default_factory=dict, compare=False, hash=False)

    @property
    def last_day(self) -> dt.date | None:
        return self.date_end or self.date

    @property
    def place(self) -> dt.date | None:
        """Where it stands in the timeline: its date, else its article's publication day."""
        return self.date or self.anchor


@dataclass
class EventCluster:
    """Reports of one event; the first one (earliest date, then first stored) is its head."""

    sources: list[EventFact]
    reasons: list[str] = field(default_factory=list)

    @property
    def head(self) -> EventFact:
        return self.sources[0]

    @property
    def cursor(self) -> str:
        """Where the timeline continues from this event: its head's place and id."""
        return f"{self.head.place.isoformat() if self.head.place else ''}~{self.head.fact_id}"

    def agreed_range(self) -> tuple[dt.date | None, dt.date | None]:
        """The date range most dated sources give (the earliest of equally common ones)."""
        counts = Counter((source.date, source.date_end) for source in self.sources if source.date)
        if not counts:
            return None, None
        best = max(counts.values())
        return min(
            (pair for pair, count in counts.items() if count == best),
            key=lambda pair: (pair[0] or dt.date.max, pair[1] or dt.date.max),
        )

    def disagrees(self, source: EventFact) -> bool:
        """Whether `source` dates the event outside the range the other sources agree on."""
        start, end = self.agreed_range()
        if start is None or source.date is None:
            return False
        last_day = source.last_day or source.date
        return last_day < start or source.date > (end or start)


def _close(head: EventFact, event: EventFact) -> str | None:
    """How `event`'s date fits the dated `head`'s, in words; None when it cannot be the same event."""
    assert head.date is not None
    head_end = head.last_day or head.date
    if event.date is not None:
        event_end = event.last_day or event.date
        if head.date <= event_end + DATE_TOLERANCE and event.date <= head_end + DATE_TOLERANCE:
            return f"dates {head.date} and {event.date} within a day"
        return None
    if event.anchor is not None and head.date <= event.anchor <= head_end + REPORT_WINDOW:
        return f"undated, reported on {event.anchor}, within a week after {head.date}"
    return None


def _what(event: EventFact) -> frozenset[str]:
    """The content words of what happened: without the words of its date and place."""
    return content_words(event.text) - content_words(f"{event.date_text or ''} {event.location or ''}")


def similarity(a: EventFact, b: EventFact) -> float:
    """Similarity of what two reports say happened; 0 without a content word in common."""
    words_a, words_b = _what(a), _what(b)
    if not words_a & words_b:
        return 0.0
    return float(fuzz.token_set_ratio(" ".join(sorted(words_a)), " ".join(sorted(words_b))))


def match_reason(cluster: EventCluster, event: EventFact) -> tuple[float, str] | None:
    """How well `event` fits `cluster`, and why; None when it is another event."""
    if any(source.item_id == event.item_id for source in cluster.sources):
        return None  # one article reports an event once: the extraction removed repeats
    head = cluster.head
    if head.date is None or (when := _close(head, event)) is None:
        return None
    locations = {fold(source.location) for source in cluster.sources if source.location}
    if event.location and locations and fold(event.location) not in locations:
        return None  # two places: two events
    score = max(similarity(source, event) for source in cluster.sources)
    support = []
    if event.location and locations:
        support.append(f"same location “{event.location}”")
    shared = sorted(
        event.participants & frozenset().union(*(source.participants for source in cluster.sources))
    )
    if shared:
        support.append(f"shared participants {', '.join(shared)}")
    if event.date is None and not (support and support[0].startswith("same location")):
        return None  # an undated report needs the same place at least
    if (support and score >= SUPPORTED_SIMILARITY) or score >= UNSUPPORTED_SIMILARITY:
        grounds = "; ".join(support) or "no shared place or participant"
        return score, f"{when}; {grounds}; text similarity {score:.0f}"
    return None


class EventClusterer:
    """Events in (place, id) order in, finished clusters out in the order of their heads."""

    def __init__(self) -> None:
        self._open: list[EventCluster] = []

    def add(self, event: EventFact) -> list[EventCluster]:
        if event.place is None:
            return [*self.flush(), EventCluster([event])]
        finished = []
        while self._open and self._closed(self._open[0], event.place):
            finished.append(self._open.pop(0))
        scored = [
            (found[0], position, found[1])
            for position, cluster in enumerate(self._open)
            if (found := match_reason(cluster, event)) is not None
        ]
        if scored:
            _, position, reason = max(scored, key=lambda entry: (entry[0], -entry[1]))
            cluster = self._open[position]
            cluster.sources.append(event)
            cluster.reasons.append(f"{event.article_id}: {reason}")
        else:
            self._open.append(EventCluster([event]))
        return finished

    @staticmethod
    def _closed(cluster: EventCluster, now: dt.date) -> bool:
        """No event placed on `now` or later can join `cluster` any more."""
        head = cluster.head
        if head.date is None:
            return True  # an undated head takes no one
        return (head.last_day or head.date) + max(DATE_TOLERANCE, REPORT_WINDOW) < now

    def flush(self) -> list[EventCluster]:
        finished, self._open = self._open, []
        return finished


def cluster_events(events: list[EventFact]) -> list[EventCluster]:
    """All clusters of `events` (sorted by place, then id), in timeline order."""
    clusterer = EventClusterer()
    clusters = [cluster for event in events for cluster in clusterer.add(event)]
    return clusters + clusterer.flush()
