"""Who a title or a pronoun designates: "the minister", "the head of the German Defense Ministry", "he".

Deterministic rules, used by `factline.actors` when the model names a speaker or holder that way:

- A *descriptor* is "the" followed, within four words, by a word of `TITLES` ("the minister",
  "the German chancellor", "the head of the Defense Ministry"); "the United States" is a name.
- Its content words (without "the", "of", "head", …), stemmed, must all occur among the words
  that give a person their role: the model's `roles`, the words just before a mention in the same
  sentence ("German Defense Minister Boris Pistorius") and an apposition after it ("Boris
  Pistorius, Germany’s Minister of Defense,"). The nearest such person mentioned earlier in the
  same paragraph wins; otherwise the only such person in the article.
- A pronoun, or a descriptor whose words fit nobody's role ("the official"), designates the person
  mentioned last before it in the same paragraph (by name, or by a title already resolved to
  them), and nobody when the paragraph mentions none.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

TITLES = frozenset(
    """minister chancellor president premier secretary official officials spokesman spokeswoman spokesperson
    head chief leader commissioner ambassador envoy general director aide adviser advisor mayor governor
    senator diplomat negotiator king queen prime""".split()  # noqa: SIM905
)
PERSON_PRONOUNS = frozenset("he she him her his hers".split())  # noqa: SIM905
_NOT_CONTENT = frozenset("the a an of for and in at to head chief top senior former s".split())  # noqa: SIM905
_SPELLINGS = {"defence": "defense", "organisation": "organization"}
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_STEM_CHARS = 6
_CLAUSE_BREAK = re.compile(r"[.;:!?\n()“”\"]")
_CONTEXT_CHARS = 60


def stem(word: str) -> str:
    """Crude and enough here: 'Ministry' and 'Minister', 'Germany' and 'German' share a stem."""
    word = word.lower().removesuffix("’s").removesuffix("'s")
    return _SPELLINGS.get(word, word)[:_STEM_CHARS]


def content_stems(text: str) -> set[str]:
    return {stem(word) for word in _WORD.findall(text) if word.lower() not in _NOT_CONTENT}


def is_descriptor(name: str) -> bool:
    words = name.strip().split()
    return (
        len(words) >= 2
        and words[0].lower() == "the"
        and any(word.lower().strip(",.") in TITLES for word in words[1:5])
    )


def is_person_pronoun(name: str) -> bool:
    return name.strip().lower() in PERSON_PRONOUNS


def role_context(text: str, start: int, end: int) -> str:
    """The words that give a mention its role: the clause just before it and an apposition after it."""
    before = text[max(0, start - _CONTEXT_CHARS) : start]
    before = _CLAUSE_BREAK.split(before)[-1].rsplit(",", 1)[-1]
    after = text[end : end + _CONTEXT_CHARS]
    apposition = _CLAUSE_BREAK.split(after[1:])[0].split(",")[0] if after.startswith(",") else ""
    return f"{before} {apposition}"


def paragraph_bounds(text: str, at: int) -> tuple[int, int]:
    start = text.rfind("\n", 0, at) + 1
    end = text.find("\n", at)
    return start, len(text) if end == -1 else end


def nearest_before(at: int, paragraph_start: int, candidates: Iterable[tuple[int, int]]) -> int | None:
    """Of (candidate, mention start) pairs, the candidate mentioned last in `[paragraph_start, at)`."""
    best: tuple[int, int] | None = None
    for candidate, start in candidates:
        if paragraph_start <= start < at and (best is None or start > best[1]):
            best = (candidate, start)
    return None if best is None else best[0]
