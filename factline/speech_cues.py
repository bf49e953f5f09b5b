"""Who said a quote, read from the article's own reporting cues, the way a careful quote extractor does.

Quotebank-style "said" patterns on the sentence that holds the quote, with every passage in
quotation marks masked out first (a "said" inside a quote is no cue):

1. *after*: a cue right after the closing mark: `“…,” Pistorius said`, `said Pistorius`, `he added`,
   `the minister told reporters`, `according to X`. Not after a quote that ends its sentence
   (`“….” Jones said the plan failed` is Jones's own sentence).
2. *before*: else the nearest cue before the quote in its sentence: `Pistorius said: “…”`, `said it
   was “…”`, `according to X, …`, and `…, saying “…”`, whose speaker is the subject of the cue
   before the participle.
3. *later*: else the first cue after it in the same sentence (`would “…” while offering “…,” Beebe wrote`).
4. *continued*: a quote that is a sentence of its own, without any cue, continues the quote of the
   sentence just before it in the paragraph (`“…,” she said. “…”`).

A speaker is a phrase of the text with its offsets: a name, a title ("the minister", "the head of
the German Defense Ministry") or "he"/"she". Whom a title or pronoun designates, and whether a
name is an actor, is `factline.actors`' job. No library does this: sentence splitters know nothing
of quotation marks, and a parser would be a model download for what a dozen patterns settle.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace

from factline.coreference import TITLES, is_descriptor, paragraph_bounds
from factline.word_patterns import any_word

_FINITE = frozenset(
    """said says added adds told tells stated states explained noted notes stressed emphasized emphasised
    warned warns argued argues insisted insists declared announced wrote writes called asked replied
    answered claimed claims admitted acknowledged conceded criticized criticised accused described urged
    remarked recalled suggested observed commented affirmed maintained cautioned confirmed reiterated
    disagreed""".split()  # noqa: SIM905
)
_INVERTED = frozenset(
    "said says added adds wrote asked explained continued noted stated replied insisted warned".split()  # noqa: SIM905
)
_PARTICIPLES = frozenset(
    """saying adding noting stressing emphasizing emphasising warning arguing insisting explaining
    calling describing declaring stating telling claiming acknowledging admitting writing""".split()  # noqa: SIM905
)
_ACCORDING = frozenset({"according to", "According to"})
_CUE_WORDS = (*_PARTICIPLES, *_FINITE, "pointed out", *_ACCORDING)
_CUE = re.compile(rf"\b{any_word(_CUE_WORDS)}\b")
_INVERTED_CUE = re.compile(r"[\s,]*(?P<verb>{})\s+".format("|".join(sorted(_INVERTED))))
# A name or a title in quotation marks (“Plan for Prosperity”) is nobody's words.
_TITLE_WORD = r"(?:[A-Z][\w’'-]*|of|for|and|the|to|in|on)"
_TITLE_CASE = re.compile(rf"{_TITLE_WORD}(?:\s+{_TITLE_WORD})+[.,]?")
_MARKS = frozenset('“”„«»‘’"')
_TOKEN = re.compile(r"[^\W_][\w’'.\-]*")
_BREAK = re.compile(r"[,;:()\[\]—–]")
_PARAGRAPH = re.compile(r"[^\n]+")
_SENTENCE_END = re.compile(r"[.!?]+(?=\s|$)")
_ADVERBS = frozenset("also later then again further previously once repeatedly still had has have".split())  # noqa: SIM905
NAME_PARTICLES = frozenset("von van der den de la le du da di bin al ter".split())  # noqa: SIM905
_ABBREVIATIONS = frozenset("mr mrs ms dr st gen sen rep gov jr no vs lt col sgt prof".split())  # noqa: SIM905
_PRONOUNS = frozenset("he she him her".split())  # noqa: SIM905
_NOT_NAMES = frozenset("the a an but and yes no they we it i you this that these those there".split())  # noqa: SIM905
_DESCRIPTOR_WORDS = 8


@dataclass(frozen=True)
class SpeechCue:
    """A reporting cue and its speaker phrase as written, `start`/`end` indexing the article."""

    speaker: str
    start: int
    end: int
    verb: str
    rule: str
    # A full name's first name and surname ("Boris Pistorius" of "Defense Council Boris Pistorius"): the
    # name a person the model did not list is given. None for a lone surname, which must name a known actor.
    person: str | None = None


@dataclass(frozen=True)
class FoundCue:
    """A verb of saying found in a sentence, with its speaker if the text gives one."""

    cue: SpeechCue | None  # None: a cue whose speaker the text does not give ("was described as")
    at: int  # where the verb stands
    end: int  # where the cue ends
    participle: bool = False


class ArticleCues:
    """The reporting cues of one article. Its quoted passages are masked once and each sentence is read
    once, as an extraction asks about every quote and every sentence of the article."""

    def __init__(self, text: str, quoted: Sequence[tuple[int, int]]) -> None:
        """`quoted` holds every quoted passage of the article, marks included."""
        self.text = text
        self.quoted = tuple(quoted)
        self.masked = _masked_text(text, (0, len(text)), self.quoted)
        self._bounds: dict[tuple[int, int], tuple[tuple[int, int], ...]] = {}
        self._cues: dict[tuple[int, int], tuple[FoundCue, ...]] = {}

    def of_words(self, start: int, end: int) -> SpeechCue | None:
        """The cue naming who said the words at `text[start:end]` (marks excluded), by the rules above;
        the words are masked too, so a cue inside them never counts."""
        text = self.text
        if _TITLE_CASE.fullmatch(text, start, end):
            return None
        paragraph = paragraph_bounds(text, start)
        opening = start - 1 if text[start - 1 : start] in _MARKS else start
        closing = end + 1 if text[end : end + 1] in _MARKS else end
        if (opening, closing) in self.quoted:
            masked, bounds = self.masked, self.sentences(paragraph)
        else:  # words the model reported: masked for this question only
            mask = ((opening, closing), *self.quoted)
            masked = _masked_text(text, paragraph, mask)
            bounds = tuple(_sentences(text, masked, paragraph, mask))
        index = next((i for i, (low, high) in enumerate(bounds) if low <= start < high), None)
        if index is None:
            return None
        sentence = bounds[index]
        found = (
            self.sentence_cues(sentence)
            if masked is self.masked
            else tuple(_cues_in(text, masked, *sentence))
        )
        cue = _cue_in_sentence(text, masked, bounds[index], found, (start, end), closing)
        if cue is None and index > 0 and not masked[bounds[index][0] : start].strip():
            cue = self._continued(bounds[index - 1])
        return cue

    def every_sentence(self) -> Iterator[tuple[int, int]]:
        """The bounds of every sentence of the article, in text order."""
        for paragraph in _PARAGRAPH.finditer(self.text):
            yield from self.sentences((paragraph.start(), paragraph.end()))

    def subject(self, sentence: tuple[int, int], verb_at: int, verb: str) -> SpeechCue | None:
        """Who the verb at `verb_at` has as its subject, read as a speaker before a "said" is."""
        return _speaker_before(self.text, self.masked, sentence[0], verb_at, verb)

    def sentences(self, paragraph: tuple[int, int]) -> tuple[tuple[int, int], ...]:
        if paragraph not in self._bounds:
            self._bounds[paragraph] = tuple(_sentences(self.text, self.masked, paragraph, self.quoted))
        return self._bounds[paragraph]

    def sentence_at(self, at: int) -> tuple[int, int]:
        """The bounds of the sentence that holds the character at `at`."""
        return next(
            bounds
            for bounds in self.sentences(paragraph_bounds(self.text, at))
            if bounds[0] <= at < bounds[1]
        )

    def sentence_cues(self, sentence: tuple[int, int]) -> tuple[FoundCue, ...]:
        """Every cue of one of the article's sentences, in order."""
        if sentence not in self._cues:
            self._cues[sentence] = tuple(_cues_in(self.text, self.masked, *sentence))
        return self._cues[sentence]

    def _continued(self, previous: tuple[int, int]) -> SpeechCue | None:
        """The cue of the last quote in the sentence before, when that sentence has one."""
        inside = [(low, high) for low, high in self.quoted if previous[0] <= low < previous[1]]
        if not inside:
            return None
        low, high = inside[-1]
        cue = self.of_words(low + 1, high - 1)
        return None if cue is None else _as(cue, "continued")


def _cue_in_sentence(
    text: str,
    masked: str,
    sentence: tuple[int, int],
    found: Sequence[FoundCue],
    words: tuple[int, int],
    close: int,
) -> SpeechCue | None:
    """Rules 1–3 for the words at `words`, whose closing mark (if any) ends at `close`."""
    high = sentence[1]
    start, end = words
    ends_sentence = text[end - 1 : end] == "." or text[end : end + 1] == "."
    if not ends_sentence:
        if (inverted := _inverted(text, masked, close, high)) is not None:
            return _as(inverted, "after")
        for cue in found:
            # "“…,” Pistorius said" (the speaker first) or "“…,” according to the official" (the verb first)
            if (
                cue.cue is not None
                and not cue.participle
                and _adjacent(masked, close, min(cue.cue.start, cue.at))
            ):
                return _as(cue.cue, "after")
    before = [cue.cue for cue in found if cue.end <= start and cue.cue is not None]
    if before:
        return _as(before[-1], "before")
    later = [cue.cue for cue in found if cue.at >= close and cue.cue is not None]
    return _as(later[0], "later") if later else None


def _adjacent(masked: str, close: int, at: int) -> bool:
    return at >= close and not masked[close:at].strip(" ,")


def _as(cue: SpeechCue, rule: str) -> SpeechCue:
    return replace(cue, rule=rule)


def _masked_text(text: str, paragraph: tuple[int, int], regions: Iterable[tuple[int, int]]) -> str:
    """The text with the `regions` inside `paragraph` (any span) blanked; same length, so offsets hold."""
    low, high = paragraph
    pieces, at = [text[:low]], low
    for start, end in sorted(
        (max(start, low), min(end, high)) for start, end in regions if start < high and end > low
    ):
        start = max(start, at)
        if end > start:
            pieces += [text[at:start], " " * (end - start)]
            at = end
    return "".join([*pieces, text[at:]])


def _sentences(
    text: str, masked: str, paragraph: tuple[int, int], quoted: Sequence[tuple[int, int]]
) -> list[tuple[int, int]]:
    """The paragraph's sentences. A quote ending in a full stop ends its sentence; other stops inside
    quotes, abbreviations (U.S., Dr.) and stops before a lower-case word do not."""
    low, high = paragraph
    stops = [match.end() for match in _SENTENCE_END.finditer(masked, low, high)]
    stops += [
        mark_end
        for start, mark_end in quoted
        if low < mark_end <= high and text[mark_end - 2 : mark_end - 1] == "."
    ]
    bounds, begin = [], low
    for stop in sorted(set(stops)):
        following = stop
        while following < high and text[following].isspace():
            following += 1
        words = text[begin:stop].rsplit(maxsplit=1)
        word = words[-1].rstrip('.!?”’"').lower() if words else ""
        if (
            text[following : following + 1].islower()
            or (len(word) == 1 and word.isalpha())
            or word in _ABBREVIATIONS
        ):
            continue
        if "." in word.strip("."):  # U.S.
            continue
        bounds.append((begin, stop))
        begin = stop
    if begin < high:
        bounds.append((begin, high))
    return bounds


def _cues_in(text: str, masked: str, low: int, high: int) -> Iterable[FoundCue]:
    """Every cue of the sentence in order; a participle speaks for the cue before it."""
    previous: SpeechCue | None = None
    for match in _CUE.finditer(masked, low, high):
        verb = match.group()
        participle = verb in _PARTICIPLES
        if verb in _ACCORDING:
            cue = _speaker_after(text, masked, match.end(), high, verb)
        elif participle:
            if text[low : match.start()].rstrip()[-1:] not in (",", "”", '"', "»", "’"):
                continue
            cue = None if previous is None else replace(previous, verb=verb)
        else:
            cue = _speaker_before(text, masked, low, match.start(), verb)
            if cue is not None:
                previous = cue
        yield FoundCue(cue, match.start(), match.end(), participle=participle)


def _inverted(text: str, masked: str, close: int, high: int) -> SpeechCue | None:
    """ "“…,” said Pistorius": a verb, then its speaker, right after the closing mark."""
    match = _INVERTED_CUE.match(masked, close, high)
    if match is None:
        return None
    return _speaker_after(text, masked, match.end(), high, match.group("verb"))


def _tokens(masked: str, low: int, high: int) -> list[tuple[int, int]]:
    return [(match.start(), match.end()) for match in _TOKEN.finditer(masked, low, high)]


def _speaker_before(text: str, masked: str, low: int, verb_at: int, verb: str) -> SpeechCue | None:
    """The subject just before a verb: "he", "the minister", "German Defense Minister Boris Pistorius",
    or the name before an apposition ("Boris Pistorius, Germany’s Minister of Defense, said")."""
    breaks = [match.end() for match in _BREAK.finditer(masked, low, verb_at)]
    words = _tokens(masked, breaks[-1] if breaks else low, verb_at)
    last = text[words[-1][0] : words[-1][1]] if words else ""
    if last.islower() and (last in _ADVERBS or last.endswith("ly")):  # "also said", "reportedly told"
        words = words[:-1]
    if not words and len(breaks) >= 2 and not masked[breaks[-1] : verb_at].strip():
        before_apposition = breaks[-3] if len(breaks) >= 3 else low
        words = _tokens(masked, before_apposition, breaks[-2] - 1)
    if not words:
        return None
    return _phrase_ending(text, words, verb)


def _phrase_ending(text: str, words: list[tuple[int, int]], verb: str) -> SpeechCue | None:
    """The speaker phrase the words end with: a pronoun, a title, else a run of capitalised words."""

    def word(i: int) -> str:
        return text[words[i][0] : words[i][1]].rstrip(".")

    last = len(words) - 1
    if word(last).lower() in _PRONOUNS:
        return _cue(text, words[last][0], words[last][1], verb)
    for first in range(last, max(-1, last - _DESCRIPTOR_WORDS), -1):
        if word(first).lower() == "the" and is_descriptor(text[words[first][0] : words[last][1]]):
            return _cue(text, words[first][0], words[last][1], verb)
    if not _capitalised(word(last)):
        return None
    first = last
    while first > 0 and (_capitalised(word(first - 1)) or word(first - 1) in NAME_PARTICLES):
        first -= 1
    titles = [i for i in range(first, last) if word(i).lower() in TITLES]
    first = titles[-1] + 1 if titles else first  # "German Defense Minister Boris Pistorius"
    capitals = [i for i in range(first, last + 1) if _capitalised(word(i))]
    person = text[words[capitals[-2]][0] : words[last][1]] if len(capitals) >= 2 else None
    return _cue(text, words[first][0], words[last][1], verb, person=person)


def _speaker_after(text: str, masked: str, start: int, high: int, verb: str) -> SpeechCue | None:
    """The speaker right after "according to" or an inverted "said": a pronoun, a title or a name."""
    breaks = [match.start() for match in _BREAK.finditer(masked, start, high)]
    words = _tokens(masked, start, breaks[0] if breaks else high)[:_DESCRIPTOR_WORDS]

    def word(i: int) -> str:
        return text[words[i][0] : words[i][1]].rstrip(".")

    if not words:
        return None
    if word(0).lower() in _PRONOUNS:
        return _cue(text, words[0][0], words[0][1], verb)
    if word(0).lower() == "the":
        title = next((i for i in range(1, len(words)) if word(i).lower() in TITLES), None)
        if title is None:
            return None
        last = title
        if title + 1 < len(words) and word(title + 1) == "of":  # "the head of the Defense Ministry"
            after = title + 2 + (title + 2 < len(words) and word(title + 2).lower() == "the")
            while after < len(words) and _capitalised(word(after)):
                last, after = after, after + 1
        return _cue(text, words[0][0], words[last][1], verb)
    count = 0
    while count < len(words) and (_capitalised(word(count)) or word(count) in NAME_PARTICLES):
        count += 1
    return _phrase_ending(text, words[:count], verb) if count else None


def _cue(text: str, start: int, end: int, verb: str, *, person: str | None = None) -> SpeechCue:
    if text[end - 1] == "." and "." not in text[start : end - 1]:  # "according to CNN."
        end -= 1
    return SpeechCue(text[start:end], start, end, verb, "", person)


def _capitalised(word: str) -> bool:
    return word[:1].isupper() and word.lower() not in _NOT_NAMES
