"""One actor per person or organisation, and the resolution of the model's names to actor ids.

Titles and pronouns ("the minister", "he") resolve to a named person by the rules of
`factline.coreference`; a surname two people share resolves only with that kind of support.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache

from factline.coreference import (
    content_stems,
    is_descriptor,
    is_person_pronoun,
    nearest_before,
    paragraph_bounds,
    role_context,
)
from factline.grounding import ArticleIndex, Located, fold
from factline.page_chrome import PageChrome
from factline.speech_cues import NAME_PARTICLES, SpeechCue
from schemas import Actor, ActorKind, MatchKind, Span
from schemas.llm_output import ModelActor

# Pronouns would match every "he" in the text; they carry no grounding.
_PRONOUNS = frozenset(
    "he she they him her them his hers their theirs it its we us our i me my you your".split()  # noqa: SIM905
)
_LEADING_ARTICLE = re.compile(r"^(the|a|an)\s+")
_POSSESSIVE = re.compile(r"'s?$")


@lru_cache(maxsize=8192)
def actor_key(name: str) -> str:
    """Comparable form of a name: folded, without a leading article or possessive. Remembered: every
    name, title and mention is compared with every actor's, again for each item naming one."""
    key = fold(name).strip(" .,;:")
    key = _LEADING_ARTICLE.sub("", key)
    return _POSSESSIVE.sub("", key).strip()


def is_pronoun(name: str) -> bool:
    """ "he", "She", "US" is not one: an all-capitals name is an abbreviation ("US", "IT")."""
    stripped = name.strip()
    return stripped.lower() in _PRONOUNS and not stripped.isupper()


def _surname(key: str) -> str:
    return key.rsplit(" ", 1)[-1]


def _titled(longer: str, shorter: str) -> bool:
    """'german defense minister boris pistorius' is 'boris pistorius' with a title in front."""
    return " " in shorter and longer.endswith(" " + shorter)


@dataclass
class _Entry:
    name: str
    kind: ActorKind
    roles: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)

    keys: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.keys = {actor_key(name) for name in self.names} - {""}

    def absorb(self, other: _Entry) -> None:
        """Merge another entry for the same actor; a title in front of the name becomes a role."""
        mine, theirs = actor_key(self.name), actor_key(other.name)
        if _titled(mine, theirs) or _titled(theirs, mine):
            longer, shorter = (self.name, other.name) if len(mine) > len(theirs) else (other.name, self.name)
            title = longer[: -len(shorter)].strip() if longer.endswith(shorter) else ""
            self.name = shorter
            if title and title not in self.roles:
                self.roles.append(title)
        elif len(theirs) > len(mine) and _is_a_name(other.name):
            self.name = other.name
        if self.kind is ActorKind.OTHER:
            self.kind = other.kind
        self.roles.extend(role for role in other.roles if role not in self.roles)
        self.names.extend(name for name in other.names if name not in self.names)
        self.keys |= other.keys


def _is_a_name(words: str) -> bool:
    """ "Ursula von der Leyen" is; "George Beebe of the Quincy Institute" (a name with its apposition)
    is not, and does not replace the name it contains."""
    return all(word[:1].isupper() or word in NAME_PARTICLES for word in words.split())


def _inside(passages: tuple[tuple[int, int], ...], at: int) -> bool:
    """Whether `at` falls in one of `passages` (sorted, not overlapping): a binary search, as a long
    article has dozens of quoted passages and every mention is asked about."""
    before = bisect_right(passages, (at, math.inf)) - 1
    return before >= 0 and passages[before][0] <= at < passages[before][1]


class ActorDirectory:
    """The article's actors: merged from the model's list, grounded in the text, addressable by any name."""

    def __init__(self, index: ArticleIndex, chrome: PageChrome | None = None) -> None:
        self._index = index
        self._chrome = chrome
        self._entries: list[_Entry] = []
        self._mentions: list[list[Span]] = []
        self._ids: dict[int, str] = {}
        # Stems of a piece of text, remembered for this article: every pronoun or title resolved
        # compares each person's roles and mentions again.
        self._stems: dict[str, frozenset[str]] = {}
        self._context_stems: dict[tuple[int, int], frozenset[str]] = {}

    def add(self, model_actors: Iterable[ModelActor]) -> None:
        for actor in model_actors:
            names = [actor.name, *actor.mentions]
            entry = _Entry(
                name=actor.name.strip(),
                kind=ActorKind(actor.kind),
                roles=[role.strip() for role in actor.roles if role.strip()],
                names=[name.strip() for name in names if name.strip() and not is_pronoun(name)],
            )
            if not entry.keys:
                continue
            for mention in actor.mentions:  # "U.S. Foreign Minister Andrii Sybiha", also "Andrii Sybiha"
                if _titled(actor_key(entry.name), actor_key(mention)):
                    entry.absorb(_Entry(name=mention.strip(), kind=entry.kind, names=[mention.strip()]))
            if len(existing := self._matches(entry.keys)) == 1:
                self._entries[existing[0]].absorb(entry)
            else:
                self._entries.append(entry)
                self._mentions.append([])
        self._ground_all()
        self._attach_descriptors()

    def resolve(
        self, name: str | None, evidence: Span | None = None, *, kind: ActorKind = ActorKind.OTHER
    ) -> str | None:
        """The id of the grounded actor `name` designates, added (as `kind`) if only the text names it;
        else None.

        `evidence` is where the item that names it stands: a title or pronoun resolves to the person
        the text around it designates, and the occurrence becomes one of that person's mentions.
        """
        if name is None or not name.strip():
            return None
        if is_pronoun(name):
            return self._referred(name, evidence)
        if not (key := actor_key(name)):
            return None
        matches = self._matches({key})
        if not matches and is_descriptor(name) and (referred := self._referred(name, evidence)):
            return referred
        shared = len(matches) > 1
        if shared and evidence is not None:
            # A surname two people share: the one named last before it in the paragraph, if any.
            near = nearest_before(
                evidence.start, paragraph_bounds(self._index.text, evidence.start)[0], self._named(matches)
            )
            matches = [near] if near is not None else matches
        if len(matches) == 1:
            found = matches[0]
            if key not in self._entries[found].keys and found in self._ids and not shared:
                # "Boris Pistorius" for "German Defense Minister Boris Pistorius": learn the plain name.
                self._entries[found].absorb(
                    _Entry(name=name.strip(), kind=self._entries[found].kind, names=[name])
                )
                self._add_mentions(found, self._ground(self._entries[found]))
            return self._ids.get(found)
        if matches:
            return None  # a surname shared by several people: no guess
        entry = _Entry(name=name.strip(), kind=kind, names=[name.strip()])
        if not (mentions := self._ground(entry)):
            return None
        self._entries.append(entry)
        self._mentions.append(mentions)
        self._ids[len(self._entries) - 1] = f"actor_{len(self._ids) + 1}"
        return self._ids[len(self._entries) - 1]

    def resolve_speaker(self, cue: SpeechCue, quoted: Iterable[tuple[int, int]]) -> str | None:
        """The actor a speech cue's speaker phrase designates, the phrase becoming one of its mentions.

        A full name the model did not list is in the text all the same: it becomes a person with its
        mentions. A lone surname must be an actor's already, a pronoun or title designates the person
        named last before it outside quotation marks (`quoted`), and "according to" names a person
        (not "according to Reuters").
        """
        span = self._index.span(Located(cue.start, cue.end, MatchKind.EXACT, 100.0))
        if is_pronoun(cue.speaker) or is_descriptor(cue.speaker):
            found = self._refer(cue.speaker, cue.start, quoted=tuple(sorted(quoted)))
            if found is None or found not in self._ids:
                return None
            self._add_mentions(found, [span])
            actor_id: str | None = self._ids[found]
        elif self._matches({actor_key(cue.speaker)}):
            actor_id = self.resolve(cue.speaker, span)
        elif cue.person:
            actor_id = self.resolve(cue.person, span, kind=ActorKind.PERSON)
        else:
            return None
        if cue.verb.lower() == "according to" and actor_id not in {self._ids[p] for p in self._people()}:
            return None
        return actor_id

    def actors(self) -> list[Actor]:
        """Grounded actors, in id order, with the roles the article gives them. A role the model gave
        that the text does not contain ("U.S. Foreign Minister" for Ukraine's) still helps resolve
        titles, but is not returned as a fact."""
        return [
            Actor(
                id=self._ids[position],
                name=self._entries[position].name,
                kind=self._entries[position].kind,
                roles=[role for role in self._entries[position].roles if self.in_text(role)],
                mentions=self._mentions[position],
            )
            for position in self._ids
        ]

    def in_text(self, words: str) -> bool:
        """Whether the article contains `words` as whole words, exactly or normalised."""
        return bool(self._index.find_all(words, whole_words=True))

    def within(self, start: int, end: int) -> list[str]:
        """Ids of the actors mentioned in `text[start:end]`, in the order of their first mention there."""
        first: dict[int, int] = {}
        for position in self._ids:
            inside = [mention.start for mention in self._mentions[position] if start <= mention.start < end]
            if inside:
                first[position] = min(inside)
        return [self._ids[position] for position in sorted(first, key=first.__getitem__)]

    def _matches(self, keys: set[str]) -> list[int]:
        """Entries with the same name or mention; else the one whose name is this one with a title in front
        (or the reverse); else the people whose surname is the lone name given."""
        same = [position for position, entry in enumerate(self._entries) if keys & entry.keys]
        if same:
            return same[:1]
        titled = {
            position
            for position, entry in enumerate(self._entries)
            if entry.kind in (ActorKind.PERSON, ActorKind.OTHER)
            for mine in entry.keys
            for key in keys
            if _titled(mine, key) or _titled(key, mine)
        }
        if titled:
            return sorted(titled)
        lone = {key for key in keys if " " not in key}
        return sorted(
            {
                position
                for position, entry in enumerate(self._entries)
                if entry.kind in (ActorKind.PERSON, ActorKind.OTHER)
                for key in entry.keys
                if " " in key and _surname(key) in lone
            }
        )

    def _people(self, excluding: int | None = None) -> list[int]:
        return [
            position
            for position in self._ids
            if position != excluding and self._entries[position].kind in (ActorKind.PERSON, ActorKind.OTHER)
        ]

    def _named(self, positions: Iterable[int]) -> Iterator[tuple[int, int]]:
        """(entry, start) of every mention by name, not by title or pronoun."""
        for position in positions:
            for mention in self._mentions[position]:
                if (
                    mention.text[:1].isupper()
                    and not is_descriptor(mention.text)
                    and not is_pronoun(mention.text)
                ):
                    yield position, mention.start

    def _mentioned(
        self, positions: Iterable[int], quoted: tuple[tuple[int, int], ...] = ()
    ) -> Iterator[tuple[int, int]]:
        """(entry, start) of every mention, by name or by a title or pronoun already resolved to it."""
        for position in positions:
            for mention in self._mentions[position]:
                if not _inside(quoted, mention.start):
                    yield position, mention.start

    def _role_stems(self, position: int) -> set[str]:
        """Stems of the words that say what this person is: roles, and how the text introduces them."""
        roles = map(self._stems_of, self._entries[position].roles)
        return set().union(*roles, *map(self._mention_stems, self._mentions[position]))

    def _mention_stems(self, mention: Span) -> frozenset[str]:
        """Stems of a mention and of the words around it that give it a role: the same each time a
        title or pronoun asks about its person, which in a long article is hundreds of times."""
        key = (mention.start, mention.end)
        if (stems := self._context_stems.get(key)) is None:
            context = role_context(self._index.text, mention.start, mention.end)
            stems = self._context_stems[key] = self._stems_of(mention.text) | self._stems_of(context)
        return stems

    def _stems_of(self, piece: str) -> frozenset[str]:
        if (stems := self._stems.get(piece)) is None:
            stems = self._stems[piece] = frozenset(content_stems(piece))
        return stems

    def _refer(
        self,
        name: str,
        at: int | None,
        excluding: int | None = None,
        quoted: tuple[tuple[int, int], ...] = (),
    ) -> int | None:
        """The entry a descriptor or pronoun standing at `at` designates (rules: factline.coreference);
        mentions inside `quoted` passages do not count."""
        people = self._people(excluding)
        paragraph_start = paragraph_bounds(self._index.text, at)[0] if at is not None else 0
        if is_descriptor(name):
            wanted = content_stems(name)
            fitting = [position for position in people if wanted and wanted <= self._role_stems(position)]
            if fitting:
                near = (
                    nearest_before(at, paragraph_start, self._mentioned(fitting, quoted))
                    if at is not None
                    else None
                )
                if near is not None:
                    return near
                return fitting[0] if len(fitting) == 1 else None
        elif not is_person_pronoun(name):
            return None
        if at is None:
            return None
        return nearest_before(at, paragraph_start, self._mentioned(people, quoted))

    def _referred(self, name: str, evidence: Span | None) -> str | None:
        """Resolve a title or pronoun named for an item, and keep its occurrence as a mention."""
        occurrence = self._occurrence_near(name, evidence)
        at = occurrence.start if occurrence else (evidence.start if evidence else None)
        found = self._refer(name, at)
        if found is None:
            return None
        if occurrence:
            self._add_mentions(found, [self._index.span(occurrence)])
        return self._ids.get(found)

    def _add_mentions(self, position: int, spans: list[Span]) -> None:
        """Mentions in text order; one inside a mention already held is that mention."""
        held = self._mentions[position]
        new = [s for s in spans if not any(h.start <= s.start and s.end <= h.end for h in held)]
        kept = [h for h in held if not any(s.start <= h.start and h.end <= s.end for s in new)]
        self._mentions[position] = sorted([*kept, *new], key=lambda m: m.start)

    def _occurrence_near(self, name: str, evidence: Span | None) -> Located | None:
        """The occurrence of a title or pronoun in the item's paragraph closest to the item, outside it."""
        if evidence is None:
            return None
        start, end = paragraph_bounds(self._index.text, evidence.start)
        hits = [
            hit
            for hit in self._index.find_all(name.strip(), whole_words=True)
            if start <= hit.start < end and not (evidence.start <= hit.start < evidence.end)
        ]
        return min(hits, key=lambda hit: abs(hit.start - evidence.start), default=None)

    def _attach_descriptors(self) -> None:
        """A model actor that is a title ("the minister") joins the person it designates, if one does."""
        while (pair := self._descriptor_to_attach()) is not None:
            position, target = pair
            entry = self._entries[position]
            self._entries[target].roles.append(entry.name)
            self._entries[target].names.extend(entry.names)
            del self._entries[position], self._mentions[position]
            self._ground_all()

    def _descriptor_to_attach(self) -> tuple[int, int] | None:
        for position in self._people():
            if is_descriptor(self._entries[position].name):
                target = self._refer(
                    self._entries[position].name, self._mentions[position][0].start, position
                )
                if target is not None:
                    return position, target
        return None

    def _ground_all(self) -> None:
        """Ground every entry; ids go to grounded entries only, so they have no gaps."""
        self._mentions = [self._ground(entry) for entry in self._entries]
        self._ids = {}
        for position, spans in enumerate(self._mentions):
            if spans:
                self._ids[position] = f"actor_{len(self._ids) + 1}"

    def _ground(self, entry: _Entry) -> list[Span]:
        hits = {
            (hit.start, hit.end): hit
            for name in entry.names
            for hit in self._index.find_all(name, whole_words=True)
            # A name in a teaser or a credit is another story's, not a mention in this article.
            if not (self._chrome and self._chrome.covers(hit.start, hit.end))
        }
        # A mention inside a longer one ("Pistorius" in "Boris Pistorius") is the same mention.
        kept = [
            hit
            for hit in hits.values()
            if not any(o.start <= hit.start and hit.end <= o.end and o != hit for o in hits.values())
        ]
        return [self._index.span(hit) for hit in sorted(kept, key=lambda hit: hit.start)]
