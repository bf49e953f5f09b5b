"""Positions and proposals the article states in so many words, read off its stance and proposal cues.

The reporting cues (`factline.speech_cues`) find who said what; these find who stands where and who
proposed what, in the shapes reporters write them:

- a stance verb after its subject: `Kallas criticized the US approach` (oppose), `The mayor
  welcomed the plan` (support); not negated ("did not reject"), not passive ("was rejected");
- a short quoted judgement whose speaker the text names: `said it was “fundamentally wrong” to …`
  (oppose), `Russia has “never objected” to …` (support): reporters quote the evaluative words;
- a proposal verb after its subject: `The US has proposed that …`, `Zelensky offered a major
  concession: …`, `She called for talks`.

Only what the text shows is read: a verb with no subject the text names, or no object after it
("as Russia proposed, …"), gives nothing. Whether a subject is an actor is the caller's question.
Each statement's evidence is its clause: from the start of the subject's phrase (titles included)
to the end of its object or quote.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from factline.grounding import fold
from factline.speech_cues import ArticleCues, SpeechCue
from factline.word_patterns import any_word

SUPPORT = "support"
OPPOSE = "oppose"
PROPOSAL = "proposal"

# Past forms, and present ones that are no nouns too ("some Russian demands", "his offers" are not verbs).
_VERBS = {
    OPPOSE: """rejected rejects opposed opposes criticized criticised criticizes criticises condemned condemns
        denounced denounces dismissed dismisses vetoed vetoes""",
    SUPPORT: "supported backed welcomed welcomes endorsed endorses praised championed",
    PROPOSAL: "proposed proposes offered suggested urged urges demanded",
}
_PHRASES = {
    OPPOSE: ["ruled out", "rules out", "objected to", "objects to", "warned against", "spoke out against"],
    SUPPORT: [],
    PROPOSAL: ["called for", "put forward", "pushed for"],
}
_KIND_OF = {verb: kind for kind, words in _VERBS.items() for verb in [*words.split(), *_PHRASES[kind]]}
_VERB = re.compile(rf"(?<=\s){any_word(_KIND_OF)}\b")
# The word before the verb: "did not reject", "was rejected" state no stance of the subject's.
_NEGATED_OR_PASSIVE = frozenset("not never was were is are be been being".split())  # noqa: SIM905
# The word before a subject that is none: "ministers gathered in Brussels demanded", "some Russian demands".
_NOT_A_SUBJECT_AFTER = frozenset(
    "in at of from to for with by on into over under about some any many most several".split()  # noqa: SIM905
)
# A break ends an object phrase; a spaced en dash does not ("talks Kyiv – Washington – Moscow").
_BREAK = re.compile(r"[,;()\[\]—]|\s-\s|\.(?=\s|$)|[!?]")
# Where a subject's clause can begin: after a break, or after "that" ("Zelensky said that the US had …").
_CLAUSE_BREAK = re.compile(r"[,;:()\[\]—]|\bthat\s")
_OBJECT_WORDS = 20
_JUDGEMENT_WORDS = 6

# Folded (lower case, straight apostrophes). The negative judgements are tried first, so that "not
# welcome" is one; "never objected" is a positive judgement made of negative words.
_OPPOSING_JUDGEMENT = re.compile(
    r"(?:\b(?:unacceptable|wrong|a mistake|mistaken|dangerous|absurd|nonsense|reckless|irresponsible"
    r"|unrealistic|illegal|illegitimate|unjustified|outrageous|disgraceful|shameful|worthless|pointless"
    r"|counterproductive|premature|a red line|out of the question|betrayal|appeasement)\b"
    r"|(?:\bnot|n't|\bnever|\bhardly)\s+(?:be\s+)?(?:worth|acceptable|welcome|helpful|an option)\b)"
)
_SUPPORTING_JUDGEMENT = re.compile(
    r"\b(?:(?:never|not)\s+(?:\w+\s+)?objected|no objections?|welcome[sd]?|a step in the right direction"
    r"|the right (?:step|decision|thing|move)|a good (?:idea|step|thing)|constructive|indispensable"
    r"|the only way|essential)\b"
)
_TOPIC_AFTER = re.compile(r"[\s,]*(?=(?:to|for|of|about|on|with|against)\s)")
_TOPIC_LEAD = re.compile(r"^(?:that|it was|it is|it would be|this was|this is)\s+", re.IGNORECASE)
_TOPIC_TAIL = re.compile(r"\s+(?:as|is|was|were|are|would be|will be|be|has|have|had)$", re.IGNORECASE)
# When it was said is no part of what: "criticized the cuts on Monday", "backed the plan last week".
_WHEN_TAIL = re.compile(
    r"\s+(?:(?:on|last|this|next|early|late)\s+)?(?:(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day|week(?:end)?"
    r"|month|year|morning|evening|night)$"
)


@dataclass(frozen=True)
class StatedFact:
    """A stance or proposal the text states: `kind` is support, oppose or proposal; `subject` the cue
    naming who; `topic` what it is about, as written; `start`/`end` the clause that says it."""

    kind: str
    subject: SpeechCue
    topic: str
    start: int
    end: int
    verb: str


def stated_facts(cues: ArticleCues) -> list[StatedFact]:
    """The article's stated stances and proposals in text order: those its verbs state, and those its
    short quoted judgements state."""
    found = [*_by_verbs(cues), *_by_judgements(cues)]
    return sorted(found, key=lambda fact: (fact.start, fact.end))


def _by_verbs(cues: ArticleCues) -> Iterator[StatedFact]:
    text, masked = cues.text, cues.masked
    for low, high in cues.every_sentence():
        for match in _VERB.finditer(masked, low, high):
            before = masked[low : match.start()].split()[-1:]
            if before and _negated_or_passive(before[0].lower()):
                continue
            if masked.startswith(" by ", match.end()):
                continue  # "prices rejected by buyers": a passive participle
            subject = cues.subject((low, high), match.start(), match.group())
            if subject is None or _after_preposition(masked, low, subject.start):
                continue
            topic_end = _object_end(masked, match.end(), high)
            topic = _topic(text[match.end() : topic_end])
            if not topic:
                continue
            yield StatedFact(
                kind=_KIND_OF[match.group()],
                subject=subject,
                topic=topic,
                start=_clause_start(cues, (low, high), subject.start),
                end=topic_end,
                verb=match.group(),
            )


def _by_judgements(cues: ArticleCues) -> Iterator[StatedFact]:
    text, masked = cues.text, cues.masked
    for opening, closing in cues.quoted:
        words = text[opening + 1 : closing - 1]
        if len(words.split()) > _JUDGEMENT_WORDS:
            continue  # a statement, not a judgement: the model's to read
        cue = cues.of_words(opening + 1, closing - 1)
        if cue is None:
            continue
        folded = fold(words)
        if _OPPOSING_JUDGEMENT.search(folded):
            kind = OPPOSE
        elif _SUPPORTING_JUDGEMENT.search(folded):
            kind = SUPPORT
        else:
            continue
        sentence = cues.sentence_at(opening)
        end, topic = closing, ""
        if after := _TOPIC_AFTER.match(masked, closing, sentence[1]):
            end = _object_end(masked, after.end(), sentence[1])
            topic = _topic(text[after.end() : end])
        if not topic:  # "described the suggestion as “unacceptable”": the object before the quote
            verbs = [found.end for found in cues.sentence_cues(sentence) if found.end <= opening]
            if verbs:
                topic = _topic(text[verbs[-1] : opening])
        yield StatedFact(
            kind=kind,
            subject=cue,
            topic=topic or words.strip(" ,.;:"),
            start=_clause_start(cues, sentence, cue.start),
            end=max(end, closing),
            verb=cue.verb,
        )


def _negated_or_passive(word_before: str) -> bool:
    return word_before in _NEGATED_OR_PASSIVE or word_before.endswith(("n't", "n’t"))


def _after_preposition(masked: str, low: int, subject_start: int) -> bool:
    before = masked[low:subject_start].split()[-1:]
    return bool(before) and before[0].lower() in _NOT_A_SUBJECT_AFTER


def _object_end(masked: str, start: int, high: int) -> int:
    """Where the object phrase starting at `start` ends: at a break, the sentence's end, or after
    `_OBJECT_WORDS` words; a quoted passage in it is part of it (masked, so no break inside counts)."""
    stop = _BREAK.search(masked, start, high)
    end = stop.start() if stop else high
    words = list(re.finditer(r"\S+", masked[start:end]))
    if len(words) > _OBJECT_WORDS:
        end = start + words[_OBJECT_WORDS - 1].end()
    while end > start and masked[end - 1].isspace():
        end -= 1
    return end


def _topic(phrase: str) -> str:
    topic = " ".join(phrase.split()).strip(" ,.;:")
    topic = _TOPIC_LEAD.sub("", topic)
    return _WHEN_TAIL.sub("", _TOPIC_TAIL.sub("", topic))


def _clause_start(cues: ArticleCues, sentence: tuple[int, int], subject_start: int) -> int:
    """The start of the subject's clause: after the last break or quoted passage before the subject,
    so that its title is in ("EU foreign affairs chief Kaja Kallas"), an opening "On Monday," is not."""
    low = sentence[0]
    breaks = [match.end() for match in _CLAUSE_BREAK.finditer(cues.masked, low, subject_start)]
    quoted = [end for start, end in cues.quoted if low <= start and end <= subject_start]
    start = max([low, *breaks, *quoted])
    while start < subject_start and not cues.text[start].isalnum():
        start += 1
    return start
