"""An extraction laid over its article: the text cut at every span boundary, each piece knowing its spans.

Spans overlap (a quote inside an event's evidence, an actor's mention inside a quote), so the text is
cut wherever any span starts or ends; every piece lists the spans covering it. A span's pieces, put
back together, are exactly `text[start:end]`.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

from schemas import Extraction, Span

KINDS = ("quote", "event", "position", "proposal")


@dataclass(frozen=True)
class Marked:
    """One span of one item: `span_id` is `<item id>:<n>`, the item's n-th evidence or mention."""

    span_id: str
    item_id: str
    kind: str
    start: int
    end: int


@dataclass(frozen=True)
class Piece:
    text: str
    spans: tuple[Marked, ...]

    @property
    def kinds(self) -> list[str]:
        """Kinds covering this piece, evidence first (it is coloured), mentions last (underlined)."""
        present = {span.kind for span in self.spans}
        return [kind for kind in (*KINDS, "mention") if kind in present]


def marked_spans(extraction: Extraction) -> list[Marked]:
    items: list[tuple[str, str, list[Span]]] = [
        *(("quote", q.id, q.evidence) for q in extraction.quotes),
        *(("event", e.id, e.evidence) for e in extraction.events),
        *(("position", p.id, p.evidence) for p in extraction.positions),
        *(("proposal", p.id, p.evidence) for p in extraction.proposals),
        *(("mention", a.id, a.mentions) for a in extraction.actors),
    ]
    return [
        Marked(f"{item_id}:{n}", item_id, kind, span.start, span.end)
        for kind, item_id, spans in items
        for n, span in enumerate(spans)
        if span.end > span.start
    ]


def pieces(text: str, spans: list[Marked]) -> list[Piece]:
    """The text in order, cut at every boundary; pieces outside all spans carry none."""
    cuts = sorted({0, len(text), *(s.start for s in spans), *(s.end for s in spans)})
    by_start = sorted(spans, key=lambda s: s.start)
    open_spans: list[Marked] = []
    result: list[Piece] = []
    next_span = 0
    for start, end in pairwise(cuts):
        while next_span < len(by_start) and by_start[next_span].start <= start:
            open_spans.append(by_start[next_span])
            next_span += 1
        open_spans = [s for s in open_spans if s.end > start]
        result.append(Piece(text[start:end], tuple(open_spans)))
    return result
