"""The name an actor is known by across articles: titles stripped, so that "German Defense Minister
Boris Pistorius" in one article and "Boris Pistorius" in another are one key."""

from __future__ import annotations

from dataclasses import dataclass

from factline.actors import actor_key
from schemas import Actor, ActorKind

# Words that make up titles and roles in front of a name; a leading run of them is not the name.
_TITLE_WORDS = frozenset(
    """
    minister ministers president vice prime chancellor secretary general chief head deputy foreign
    defense defence affairs interior finance security state national council adviser advisor envoy
    special ambassador spokesperson spokesman spokeswoman leader commander senator representative
    governor mayor king queen prince pope chairman chairwoman chair director official officer
    former acting and of the for mr mrs ms dr sir lord lady gen general adm colonel lt
    german ukrainian russian american french british polish italian spanish european chinese
    eu us u.s. uk un nato ukraine russia germany france britain poland kremlin white house
    """.split()  # noqa: SIM905
)
_PERSONAL_KINDS = (ActorKind.PERSON, ActorKind.OTHER)
# The widths of `view_actors.key` and `.name` (PostgreSQL enforces them).
MAX_KEY, MAX_NAME = 256, 512


@dataclass(frozen=True)
class CrossName:
    """An actor's cross-article identity: `key` is None when the article gives only a title."""

    key: str | None
    name: str
    surname: str | None
    title: str | None
    named_by: str | None = None

    @property
    def is_lone_name(self) -> bool:
        """A single word for a person ("Pistorius"): a surname, shared by many people."""
        return self.surname is not None and self.key == self.surname


def _is_title_word(word: str, role_words: set[str]) -> bool:
    """A word of a title: a known one, one of the actor's roles, or lower case ("the", "chief")."""
    folded = actor_key(word)
    return folded in _TITLE_WORDS or folded in role_words or (word[:1].islower() and word.isalpha())


def _strip_title(name: str, role_words: set[str]) -> tuple[str, str | None]:
    """("Boris Pistorius", "German Defense Minister") from "German Defense Minister Boris Pistorius"."""
    words = name.split()
    cut = 0
    while cut < len(words) and _is_title_word(words[cut], role_words):
        cut += 1
    return " ".join(words[cut:]), " ".join(words[:cut]) or None


def cross_name(actor: Actor) -> CrossName:
    """The key, display name and surname of `actor`; a person's leading title and role words go.

    When the article's name for a person is a title only ("German Defense Minister"), the fullest
    name among its mentions in the same article stands for it ("Boris Pistorius"); with none, the
    actor has no key: a title is not a person across articles (ministers change).
    """
    name = " ".join(actor.name.split())
    if actor.kind not in _PERSONAL_KINDS:
        key = actor_key(name)[:MAX_KEY]
        return CrossName(key or None, name[:MAX_NAME], None, None)
    role_words = {actor_key(word) for role in actor.roles for word in role.split()}
    core, title = _strip_title(name, role_words)
    named_by = None
    if not core:
        cores = [_strip_title(" ".join(span.text.split()), role_words)[0] for span in actor.mentions]
        core = max(cores, key=lambda mention: len(mention.split()), default="")
        if not core:
            return CrossName(None, name, None, name)
        title, named_by = name, core
    key = actor_key(core)[:MAX_KEY]
    return CrossName(key, core[:MAX_NAME], key.rsplit(" ", 1)[-1], title, named_by)
