"""Adding one article's extraction to the cross-article views, in the transaction that stores its result.

The cost is the article's own facts plus a few indexed look-ups per actor and proposal: it does
not grow with the archive. Merges are decided with what the archive holds when the article
arrives, and each one records its evidence.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import bindparam, case, delete, func, insert, select, text, update
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
    ViewProposalBackerRow,
    ViewProposalRow,
    ViewProposalTermRow,
    core_table,
)
from factline.upsert import insert_ignoring_duplicates, insert_or_merge
from schemas import Actor, ActorKind, Extraction, Span

logger = logging.getLogger("factline.views")

_PERSONAL = (ActorKind.PERSON.value, ActorKind.OTHER.value)


# Built once: SQLAlchemy's statement construction cost more CPU per article than the statements'
# execution, and it ran inside the write transaction, where it held up every other writer.
_KNOWN_ACTORS = select(ViewActorRow.key, ViewActorRow.name, ViewActorRow.kind, ViewActorRow.surname).where(
    ViewActorRow.key.in_(bindparam("keys", expanding=True))
    | ViewActorRow.surname.in_(bindparam("surnames", expanding=True))
)
_PROPOSAL_CANDIDATES = (
    select(ViewProposalRow.id, ViewProposalRow.summary)
    .join(ViewProposalTermRow, ViewProposalTermRow.proposal_id == ViewProposalRow.id)
    .where(ViewProposalTermRow.term.in_(bindparam("terms", expanding=True)))
    .group_by(ViewProposalRow.id, ViewProposalRow.summary)
    .order_by(func.count().desc(), ViewProposalRow.id)
    .limit(CANDIDATES)
)
_NEW_PROPOSAL = insert(core_table(ViewProposalRow)).returning(ViewProposalRow.id)
_NEW_FACTS = insert(core_table(ViewFactRow)).returning(ViewFactRow.id, sort_by_parameter_order=True)
_LAST_FACT = select(func.coalesce(func.max(ViewFactRow.id), 0))


@dataclass(frozen=True)
class ItemRef:
    """The batch item an extraction belongs to."""

    batch_id: str
    item_id: str
    article_id: str | None


def _add_reports(row: Any, new: Any) -> dict[str, Any]:
    """A proposal backer's tally with one more article's reports (dates may be unknown: NULL)."""
    return {
        "reports": row.reports + new.reports,
        "first_date": case(
            (row.first_date.is_(None) | (new.first_date < row.first_date), new.first_date),
            else_=row.first_date,
        ),
        "last_date": case(
            (row.last_date.is_(None) | (new.last_date > row.last_date), new.last_date),
            else_=row.last_date,
        ),
    }


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
        rows = await self.session.execute(_KNOWN_ACTORS, {"keys": wanted_keys, "surnames": wanted_surnames})
        self.known = {key: (name, kind, surname) for key, name, kind, surname in rows}

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
        for table in (ViewFactActorRow, ViewActorItemRow, ViewActorNameRow, ViewProposalBackerRow):
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

    def _fact(
        self,
        fact_kind: str,
        ordered_by: date | None,
        evidence: list[Span],
        actors: Sequence[tuple[str | None, str]],
        proposal_id: int | None = None,
        **fields: Any,
    ) -> tuple[dict[str, Any], Sequence[tuple[str | None, str]]]:
        """A `view_facts` row (without its id) and the actors it links to, with their roles."""
        payload = {
            "article_id": self.item.article_id,
            "published_at": self.published.isoformat() if self.published else None,
            "evidence": _spans(evidence),
            **fields,
        }
        texts = [fields.get(name) or "" for name in ("text", "topic", "summary")]
        texts += [span.text for span in evidence]
        row = {
            "batch_id": self.item.batch_id,
            "item_id": self.item.item_id,
            "kind": fact_kind,
            "date": ordered_by,
            "proposal_id": proposal_id,
            "payload_json": json.dumps(payload, ensure_ascii=False),
            "search_text": fold(" ".join(texts)),
        }
        return row, actors

    async def _facts(self) -> None:
        facts = [
            self._fact(
                "quote",
                self.published,
                quote.evidence,
                [(quote.speaker_id, "speaker")],
                text=quote.text,
                quote_kind=quote.kind,
                topic=quote.topic,
            )
            for quote in self.extraction.quotes
        ]
        facts += [
            self._fact(
                "position",
                self.published,
                position.evidence,
                [(position.holder_id, "holder")],
                topic=position.topic,
                stance=position.stance,
                summary=position.summary,
            )
            for position in self.extraction.positions
        ]
        facts += [
            # Undated, it stands at the article's publication day (`date` in the payload stays null).
            self._fact(
                "event",
                event.date or self.published,
                event.evidence,
                [(actor_id, "participant") for actor_id in event.participant_ids],
                summary=event.summary,
                date=event.date.isoformat() if event.date else None,
                date_end=event.date_end.isoformat() if event.date_end else None,
                date_text=event.date_text,
                location=event.location,
            )
            for event in self.extraction.events
        ]
        for proposal in self.extraction.proposals:
            proposal_id, match = await self._tracked_proposal(proposal.summary)
            backing = [
                *((actor_id, "proposer") for actor_id in proposal.proposer_ids),
                *((actor_id, "supporter") for actor_id in proposal.supporter_ids),
                *((actor_id, "opponent") for actor_id in proposal.opponent_ids),
            ]
            facts.append(
                self._fact(
                    "proposal", self.published, proposal.evidence, backing,
                    summary=proposal.summary, status=proposal.status, match=match, proposal_id=proposal_id,
                )
            )  # fmt: skip
        if not facts:
            return
        ids = await self._insert_facts([row for row, _ in facts])
        links = {
            (fact_id, self.keys[actor_id], role): {
                "fact_id": fact_id,
                "actor_key": self.keys[actor_id],
                "role": role,
                "batch_id": self.item.batch_id,
                "kind": row["kind"],
                "date": row["date"],
            }
            for fact_id, (row, actors) in zip(ids, facts, strict=True)
            for actor_id, role in actors
            if actor_id is not None and actor_id in self.keys
        }
        if links:
            await self.session.execute(insert(core_table(ViewFactActorRow)), list(links.values()))
        await self._tally_backers(
            {fact_id: row["proposal_id"] for fact_id, (row, _) in zip(ids, facts, strict=True)},
            list(links.values()),
        )

    async def _insert_facts(self, rows: list[dict[str, Any]]) -> Sequence[int]:
        """The new rows' ids, in the rows' order. PostgreSQL returns them from one statement. SQLite cannot
        order a batched RETURNING, and SQLAlchemy then inserts row by row (33 statements for a 4 KB
        article, the largest part of writing its result, on the event loop); there the ids are the ones
        SQLite would give, after the largest, which its one writer at a time keeps free."""
        if self.session.get_bind().dialect.name != "sqlite":
            return (await self.session.scalars(_NEW_FACTS, rows)).all()
        first = (await self.session.scalar(_LAST_FACT) or 0) + 1
        ids = range(first, first + len(rows))
        await self.session.execute(
            insert(core_table(ViewFactRow)), [row | {"id": id_} for row, id_ in zip(rows, ids, strict=True)]
        )
        return ids

    async def _tally_backers(self, proposal_of: dict[int, int | None], links: list[dict[str, Any]]) -> None:
        """Count this article's backers and opponents into their proposals' tallies."""
        reports = Counter(
            (proposal_id, link["actor_key"], link["role"])
            for link in links
            if (proposal_id := proposal_of[link["fact_id"]]) is not None
        )
        if reports:
            tallies = [
                {
                    "proposal_id": proposal_id,
                    "batch_id": self.item.batch_id,
                    "actor_key": key,
                    "role": role,
                    "first_date": self.published,
                    "last_date": self.published,
                    "reports": count,
                }
                for (proposal_id, key, role), count in sorted(reports.items())
            ]
            keys = ["proposal_id", "batch_id", "actor_key", "role"]
            await insert_or_merge(self.session, ViewProposalBackerRow, tallies, keys, _add_reports)

    async def _tracked_proposal(self, summary: str) -> tuple[int, str]:
        """The tracked proposal this report is, by shared content words then similarity; else a new one."""
        terms = sorted(proposal_terms(summary))[:32]
        candidates: Sequence[Any] = []
        if terms:
            candidates = (await self.session.execute(_PROPOSAL_CANDIDATES, {"terms": terms})).all()
        scored = [
            (score, proposal_id, known)
            for proposal_id, known in candidates
            if (score := proposal_match(summary, known)) is not None
        ]
        if scored:
            score, proposal_id, known = max(scored, key=lambda entry: (entry[0], -entry[1]))
            return proposal_id, f"same proposal as “{known}” (text similarity {score:.0f})"
        proposal_id = await self.session.scalar(_NEW_PROPOSAL, {"summary": summary})
        assert proposal_id is not None
        if terms:
            await self.session.execute(
                insert(ViewProposalTermRow),
                [{"term": term[:128], "proposal_id": proposal_id} for term in terms],
            )
        return proposal_id, "first report"


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
