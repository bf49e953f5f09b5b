"""Positions over time: one actor's positions grouped by topic, in date order, with every change of
stance marked (an actor who supported something and later opposed it)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from rapidfuzz import fuzz

from factline.grounding import fold

SAME_TOPIC = 85.0


@dataclass(frozen=True)
class StanceFact:
    fact_id: int
    date: dt.date | None
    topic: str
    stance: str
    payload: dict[str, object] = field(default_factory=dict, compare=False, hash=False)


@dataclass
class TopicHistory:
    """An actor's stances on one topic; `changed[i]` says whether entry i differs from the one before."""

    topic: str
    entries: list[StanceFact] = field(default_factory=list)

    @property
    def changed(self) -> list[bool]:
        return [i > 0 and entry.stance != self.entries[i - 1].stance for i, entry in enumerate(self.entries)]


def same_topic(a: str, b: str) -> bool:
    return fold(a) == fold(b) or fuzz.token_sort_ratio(fold(a), fold(b)) >= SAME_TOPIC


def stance_histories(positions: list[StanceFact]) -> list[TopicHistory]:
    """Topics in the order first stated; the entries of each in date order (undated last)."""
    ordered = sorted(positions, key=lambda fact: (fact.date or dt.date.max, fact.fact_id))
    topics: list[TopicHistory] = []
    for fact in ordered:
        home = next((topic for topic in topics if same_topic(topic.topic, fact.topic)), None)
        if home is None:
            topics.append(home := TopicHistory(fact.topic))
        home.entries.append(fact)
    return topics
