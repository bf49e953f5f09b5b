"""Adding one article's extraction to the cross-article views, in the transaction that stores its result.

The cost is the article's own facts plus a few indexed look-ups per actor and proposal: it does
not grow with the archive. Merges are decided with what the archive holds when the article
arrives, and each one records its evidence.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from factline.cross_names import CrossName, cross_name
from factline.database import VIEWS_LOCK
from factline.grounding import fold
from factline.proposal_matching import CANDIDATES, proposal_match, proposal_terms
from factline.tables import (
    ViewActorItemRow,
    ViewActorNameRow,
    ViewActorRow,
    ViewFactActorRow,
    ViewFactRow,
    ViewProposalRow,
    ViewProposalTermRow,
)
from factline.upsert import insert_ignoring_duplicates
from schemas import Actor, ActorKind, Extraction, Span

logger = logging.getLogger("factline.views")

_PERSONAL = (ActorKind.PERSON.value, ActorKind.OTHER.value)


@dataclass(frozen=True)
class ItemRef:
    """The batch item an extraction belongs to."""

    batch_id: str
    item_id: str
    article_id: str | None


def _spans(spans: list[Span]) -> list[dict[str, Any]]:
    return [span.model_dump(mode="json") for span in spans]


class _ArticleViews:
    """The view rows of one article, written in the caller's transaction."""

    def __init__(self, session: AsyncSession, item: ItemRef, extraction: Extraction) -> None:
        self.session = session
        self.item = item
        self.extraction = extraction
        self.published = extraction.article.published_date
        self.keys: dict[str, str] = {}
        self.known: dict[str, tuple[str, str, str | None]] = {}
        self.created: dict[str, dict[str, Any]] = {}

    async def record(self) -> None:
        resolved = [(actor, cross_name(actor)) for actor in self.extraction.actors]
        resolved = [(actor, name) for actor, name in resolved if name.key is not None]
        await self._load_known({name.key for _, name in resolved}, {name.surname for _, name in resolved})
        names: dict[tuple[str, str, str], dict[str, Any]] = {}
        for actor, name in resolved:
            key, reason = await self._resolve(actor, name)
            self.keys[actor.id] = key
            for kind, written, why in [
                ("alias", actor.name, reason),
                *(
                    ("alias", m, f"mention of “{actor.name}” in the same article")
                    for m in self._mentions(actor)
                ),
                *(("role", role, f"role of “{actor.name}” in the article") for role in actor.roles),
                *([("role", name.title, f"title in front of the name “{actor.name}”")] if name.title else []),
            ]:
                if written.strip():
                    names.setdefault(
                        (key, kind, written.strip()[:512]), self._name_row(key, kind, written, why)
                    )
        await self._insert(ViewActorRow, list(self.created.values()), ["key"])
        await self._insert(ViewActorNameRow, list(names.values()), ["actor_key", "kind", "name"])
        items = [
            {"actor_key": key, "item_id": self.item.item_id, "batch_id": self.item.batch_id}
            for key in sorted(set(self.keys.values()))
        ]
        await self._insert(ViewActorItemRow, items, ["actor_key", "item_id"])
        await self._facts()

    # --- actors -------------------------------------------------------------------------------

    async def _insert(self, table: Any, rows: list[dict[str, Any]], keys: list[str]) -> None:
        if rows:
            await insert_ignoring_duplicates(self.session, table, rows, keys)

    @staticmethod
    def _mentions(actor: Actor) -> set[str]:
        return {span.text for span in actor.mentions} - {actor.name}

    def _name_row(self, key: str, kind: str, name: str, reason: str) -> dict[str, Any]:
        return {
            "actor_key": key,
            "kind": kind,
            "name": name.strip()[:512],
            "article_id": self.item.article_id,
            "reason": reason,
        }

    async def _load_known(self, keys: set[str | None], surnames: set[str | None]) -> None:
        """The archive's actors this article may merge with, in one query: same key or same surname."""
        wanted_keys = sorted(key for key in keys if key)
        wanted_surnames = sorted(surname for surname in surnames if surname)
        rows = (
            await self.session.scalars(
                select(ViewActorRow).where(
                    ViewActorRow.key.in_(wanted_keys) | ViewActorRow.surname.in_(wanted_surnames)
                )
            )
        ).all()
        self.known = {row.key: (row.name, row.kind, row.surname) for row in rows}

    def _people(self, surname: str | None) -> list[str]:
        """Known people with a full name ending in `surname`."""
        return sorted(
            key
            for key, (_, kind, known_surname) in self.known.items()
            if known_surname == surname and key != surname and kind in _PERSONAL
        )

    async def _resolve(self, actor: Actor, name: CrossName) -> tuple[str, str]:
        """The cross-article key of `actor` (created if new) and the evidence for it."""
        assert name.key is not None
        key, reason = name.key, self._same_name_reason(name)
        personal = actor.kind.value in _PERSONAL
        if personal and name.is_lone_name:
            key, reason = self._lone_name_key(name)
        elif personal and name.surname is not None and name.key not in self.known:
            await self._absorb_lone_name(name)
        if key not in self.known:
            self.known[key] = (name.name, actor.kind.value, name.surname)
            self.created[key] = {
                "key": key,
                "name": name.name,
                "kind": actor.kind.value,
                "surname": name.surname,
            }
            named = f", named “{name.named_by}”" if name.named_by else ""
            lone = f"; {reason}" if name.is_lone_name else ""
            reason = f"first seen as “{actor.name}”{named}{lone}"
        return key, reason

    @staticmethod
    def _same_name_reason(name: CrossName) -> str:
        if name.named_by:
            called = f"the article calls it “{name.title}” and names it “{name.named_by}”"
            return f"same normalised name “{name.key}”: {called}"
        removed = f" (title “{name.title}” removed)" if name.title else ""
        return f"same normalised name “{name.key}”{removed}"

    def _lone_name_key(self, name: CrossName) -> tuple[str, str]:
        """A surname alone is the person only when the archive knows one person of that surname."""
        assert name.key is not None
        people = self._people(name.surname)
        if len(people) == 1:
            return people[0], f"“{name.name}” alone: the only person of that surname in the archive"
        if people:
            return name.key, f"not merged: “{name.name}” is the surname of several people"
        return name.key, f"“{name.name}” alone; no person of that surname known yet"

    async def _absorb_lone_name(self, name: CrossName) -> None:
        """The first full name for a surname takes over what was filed under the surname alone."""
        assert name.key is not None
        assert name.surname is not None
        lone = self.known.get(name.surname)
        if lone is None or lone[1] not in _PERSONAL or self._people(name.surname):
            return
        del self.known[name.surname]
        self.known[name.key] = (name.name, lone[1], name.surname)
        await self._insert(
            ViewActorRow,
            [{"key": name.key, "name": name.name, "kind": lone[1], "surname": name.surname}],
            ["key"],
        )
        for table in (ViewFactActorRow, ViewActorItemRow, ViewActorNameRow):
            await self.session.execute(
                update(table).where(table.actor_key == name.surname).values(actor_key=name.key)
            )
        await self.session.execute(delete(ViewActorRow).where(ViewActorRow.key == name.surname))
        await self.session.execute(
            update(ViewActorNameRow)
            .where(
                ViewActorNameRow.actor_key == name.key,
                ViewActorNameRow.kind == "alias",
                ViewActorNameRow.name == lone[0],
            )
            .values(
                reason=f"“{lone[0]}” alone, filed earlier, merged: “{name.name}” is the first person "
                "of that surname"
            )
        )

    # --- facts --------------------------------------------------------------------------------

    def _payload(self, evidence: list[Span], **fields: Any) -> str:
        common = {
            "article_id": self.item.article_id,
            "published_at": self.published.isoformat() if self.published else None,
            "evidence": _spans(evidence),
        }
        return json.dumps({**common, **fields}, ensure_ascii=False)

    async def _facts(self) -> None:
        rows: list[tuple[ViewFactRow, list[tuple[str | None, str]]]] = []
        for quote in self.extraction.quotes:
            payload = self._payload(quote.evidence, text=quote.text, quote_kind=quote.kind, topic=quote.topic)
            rows.append((self._row("quote", self.published, payload), [(quote.speaker_id, "speaker")]))
        for position in self.extraction.positions:
            payload = self._payload(
                position.evidence, topic=position.topic, stance=position.stance, summary=position.summary
            )
            rows.append((self._row("position", self.published, payload), [(position.holder_id, "holder")]))
        for event in self.extraction.events:
            payload = self._payload(
                event.evidence,
                summary=event.summary,
                date=event.date.isoformat() if event.date else None,
                date_end=event.date_end.isoformat() if event.date_end else None,
                date_text=event.date_text,
                location=event.location,
            )
            participating: list[tuple[str | None, str]] = [(i, "participant") for i in event.participant_ids]
            # Undated, it stands at the article's publication day (`date` in the payload stays null).
            rows.append((self._row("event", event.date or self.published, payload), participating))
        for proposal in self.extraction.proposals:
            proposal_id, match = await self._tracked_proposal(proposal.summary)
            payload = self._payload(
                proposal.evidence, summary=proposal.summary, status=proposal.status, match=match
            )
            row = self._row("proposal", self.published, payload)
            row.proposal_id = proposal_id
            backing: list[tuple[str | None, str]] = [
                *((actor_id, "proposer") for actor_id in proposal.proposer_ids),
                *((actor_id, "supporter") for actor_id in proposal.supporter_ids),
                *((actor_id, "opponent") for actor_id in proposal.opponent_ids),
            ]
            rows.append((row, backing))
        self.session.add_all([row for row, _ in rows])
        await self.session.flush()
        links = {
            (row.id, self.keys[actor_id], role): ViewFactActorRow(
                fact_id=row.id,
                actor_key=self.keys[actor_id],
                role=role,
                batch_id=self.item.batch_id,
                kind=row.kind,
                date=row.date,
            )
            for row, actor_links in rows
            for actor_id, role in actor_links
            if actor_id is not None and actor_id in self.keys
        }
        self.session.add_all(links.values())
        await self.session.flush()

    def _row(self, kind: str, date: Any, payload: str) -> ViewFactRow:
        fields = json.loads(payload)
        texts = [fields.get(name) or "" for name in ("text", "topic", "summary")]
        texts += [span["text"] for span in fields["evidence"]]
        return ViewFactRow(
            batch_id=self.item.batch_id,
            item_id=self.item.item_id,
            kind=kind,
            date=date,
            payload_json=payload,
            search_text=fold(" ".join(texts)),
        )

    async def _tracked_proposal(self, summary: str) -> tuple[int, str]:
        """The tracked proposal this report is, by shared content words then similarity; else a new one."""
        terms = sorted(proposal_terms(summary))[:32]
        candidates: Sequence[Any] = []
        if terms:
            candidates = (
                await self.session.execute(
                    select(ViewProposalRow.id, ViewProposalRow.summary)
                    .join(ViewProposalTermRow, ViewProposalTermRow.proposal_id == ViewProposalRow.id)
                    .where(ViewProposalTermRow.term.in_(terms))
                    .group_by(ViewProposalRow.id, ViewProposalRow.summary)
                    .order_by(func.count().desc(), ViewProposalRow.id)
                    .limit(CANDIDATES)
                )
            ).all()
        scored = [
            (score, proposal_id, known)
            for proposal_id, known in candidates
            if (score := proposal_match(summary, known)) is not None
        ]
        if scored:
            score, proposal_id, known = max(scored, key=lambda entry: (entry[0], -entry[1]))
            return proposal_id, f"same proposal as “{known}” (text similarity {score:.0f})"
        row = ViewProposalRow(summary=summary)
        self.session.add(row)
        await self.session.flush()
        self.session.add_all(ViewProposalTermRow(term=term[:128], proposal_id=row.id) for term in terms)
        return row.id, "first report"


async def record_article_views(session: AsyncSession, item: ItemRef, extraction: Extraction) -> None:
    """Add the article to the views inside `session`'s transaction; a failure here never loses the
    result: the views miss this article (logged) and the result is stored all the same."""
    if session.get_bind().dialect.name == "postgresql":
        # Workers on several machines merge into the same actors and proposals: one at a time.
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": VIEWS_LOCK})
    try:
        async with session.begin_nested():
            await _ArticleViews(session, item, extraction).record()
    except Exception:
        logger.exception("cross-article views: item %s not added", item.item_id)
