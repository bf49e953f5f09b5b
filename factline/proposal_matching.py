"""Which earlier proposal a newly reported one is: shared content words to find candidates, text
similarity to decide, so the same plan reported by several articles is tracked as one."""

from __future__ import annotations

import re
from functools import lru_cache

from rapidfuzz import fuzz

from factline.grounding import fold

SIMILARITY = 80.0
MIN_SHARED_TERMS = 2
CANDIDATES = 20
_WORD = re.compile(r"[\w-]+")
_STOP_WORDS = frozenset(
    """
    a an the of for to in on at by with and or but from into about over under as is are was were be
    been its it this that these those their his her our new would should could will can must not no
    any all some more most other such than then there which who whom what when where while also
    """.split()  # noqa: SIM905
)


# Summaries recur: each new report is compared with up to CANDIDATES known ones, and a known one with
# every later report naming it; folding them again each time was 40 % of adding an article's views.
_folded = lru_cache(maxsize=4096)(fold)


@lru_cache(maxsize=4096)
def content_words(text: str) -> frozenset[str]:
    """The words of a text that say what it is about: folded, without stop words and short words."""
    return frozenset(
        word for word in _WORD.findall(_folded(text)) if word not in _STOP_WORDS and len(word) > 2
    )


def proposal_terms(summary: str) -> frozenset[str]:
    """What candidates for the same proposal are looked up by."""
    return content_words(summary)


def proposal_match(summary: str, known: str) -> float | None:
    """The similarity of two summaries when they name the same proposal, else None.

    A subset counts as the same ("20-point peace plan" in "the US 20-point peace plan for Ukraine"),
    but only when at least two content words are shared: "plan" alone is every plan.
    """
    if len(proposal_terms(summary) & proposal_terms(known)) < MIN_SHARED_TERMS:
        return None
    score = float(fuzz.token_set_ratio(_folded(summary), _folded(known)))
    return score if score >= SIMILARITY else None
