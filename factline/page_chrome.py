"""Page chrome in raw web captures: share buttons, calls to action, photo credits, donation and
newsletter appeals, and "keep reading" teasers of other stories. None of it is the article's facts.

Detection is deterministic and works on lines, with offsets into the submitted text:

- a *chrome line* is a short line that matches `_CHROME_LINE` (share, call to action, credit,
  breadcrumb, "keep reading") or any line that appeals to the reader for money (`_APPEAL`);
- a *teaser* is the run of lines that ends at a "keep reading" / "read more" marker, back to the
  line after the previous chrome line (headline, section label, excerpt of another story);
- the *page tail* starts at the first chrome line after which every non-blank line is chrome, a
  teaser or a short label (no sentence punctuation): the end of the page after the article.

The model still sees the whole text (recorded exchanges and offsets stay as they are); what it
takes from a chrome region is dropped afterwards with a `page_chrome` warning.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass

_CHROME_LINE = re.compile(
    r"""^(?:
        (?:follow\ us|share\ (?:this|on)|sign\ up|subscribe|newsletter|click\ here|want\ more\ of\ our)\b.*
      | (?:also\ read|read\ also|related(?:\ stories|\ articles)?|more\ stories|see\ also|recommended):?
      | you\ may\ also\ like:?
      | .{0,40}\bcta
      | (?:top\ )?(?:photo|image|picture)(?:\ credit)?s?:.*
      | .*\b(?:photo|image)\ credit\b.*
      | .*\bcredit[:,]\ .{0,80}
      | .*\b(?:keep\ reading|continue\ reading|read\ more|show\ less).{0,20}
      | [\w.&-]+(?:\ [\w.&-]+){0,3}\ \|\ [\w.&-]+(?:\ [\w.&-]+){0,3}
      | advertisement
    )$""",
    re.IGNORECASE | re.VERBOSE,
)
# Appeals to the reader run long; every other kind of chrome line is short.
_APPEAL = re.compile(
    r"^dear .{0,40}readers\b|\bplease (?:consider|support|donate)\b.*\b(?:contribution|donation|donate)\b",
    re.IGNORECASE,
)
_CHROME_LINE_MAX_CHARS = 250
_TEASER_END = re.compile(r"\b(?:keep reading|continue reading|read more|show less)", re.IGNORECASE)
# A label, not prose: short and without sentence punctuation ("LATEST", "Europe", a headline).
_LABEL_MAX_CHARS = 100
_SENTENCE_PUNCTUATION = re.compile(r"[.!?:;]")


@dataclass(frozen=True)
class ChromeRegion:
    start: int
    end: int
    reason: str


@dataclass(frozen=True)
class _Line:
    start: int
    end: int
    text: str

    @property
    def blank(self) -> bool:
        return not self.text.strip()

    @property
    def label(self) -> bool:
        stripped = self.text.strip()
        return len(stripped) <= _LABEL_MAX_CHARS and not _SENTENCE_PUNCTUATION.search(stripped)


def _lines(text: str) -> list[_Line]:
    lines, start = [], 0
    for piece in text.split("\n"):
        lines.append(_Line(start, start + len(piece), piece))
        start += len(piece) + 1
    return lines


class PageChrome:
    """The chrome regions of one text, and whether a span lies in them."""

    def __init__(self, text: str) -> None:
        self.regions = _detect(_lines(text))
        self._ends = [region.end for region in self.regions]  # regions are in text order, disjoint

    def __bool__(self) -> bool:
        return bool(self.regions)

    def share_of(self, start: int, end: int) -> float:
        """Which share of `[start, end)` lies in chrome. Only the regions the span reaches are
        visited: a long page has dozens, and every excerpt and actor mention is asked about."""
        if end <= start:
            return 0.0
        covered = 0
        for region in self.regions[bisect_right(self._ends, start) :]:
            if region.start >= end:
                break
            covered += min(end, region.end) - max(start, region.start)
        return covered / (end - start)

    def covers(self, start: int, end: int) -> bool:
        """A span mostly in chrome belongs to the page, not to the article."""
        return self.share_of(start, end) > 0.5

    def reason(self, start: int, end: int) -> str:
        return max(self.regions, key=lambda r: min(end, r.end) - max(start, r.start)).reason


def _detect(lines: list[_Line]) -> list[ChromeRegion]:
    kinds: list[str | None] = [_boilerplate(line.text.strip()) for line in lines]
    for end, line in enumerate(lines):
        if kinds[end] and _TEASER_END.search(line.text):
            start = end - 1
            while start >= 0 and kinds[start] is None:
                start -= 1
            for position in range(start + 1, end):
                kinds[position] = "teaser of another story"
    tail = _tail_start(lines, kinds)
    regions = []
    for position, (line, kind) in enumerate(zip(lines, kinds, strict=True)):
        if reason := "end of page" if tail is not None and position >= tail else kind:
            regions.append(ChromeRegion(line.start, line.end, reason))
    return _merged(regions)


def _boilerplate(line: str) -> str | None:
    lowered = line.lower()
    # The substring test first: searching every line of an article with `_APPEAL` alone cost more
    # than the rest of the chrome detection together.
    if ("please" in lowered or lowered.startswith("dear")) and _APPEAL.search(line):
        return "appeal to the reader"
    if line and len(line) <= _CHROME_LINE_MAX_CHARS and _CHROME_LINE.match(line):
        return "boilerplate"
    return None


def _tail_start(lines: list[_Line], kinds: list[str | None]) -> int | None:
    """The first chrome line after which nothing but chrome, teasers, labels and blank lines follow."""
    tail: int | None = None
    for position in range(len(lines) - 1, -1, -1):
        line = lines[position]
        if kinds[position]:
            tail = position
        elif not (line.blank or line.label):
            break
    return tail


def _merged(regions: list[ChromeRegion]) -> list[ChromeRegion]:
    """Adjacent regions of one reason become one (lines are separated by one newline)."""
    merged: list[ChromeRegion] = []
    for region in regions:
        if merged and merged[-1].reason == region.reason and region.start - merged[-1].end <= 1:
            merged[-1] = ChromeRegion(merged[-1].start, region.end, region.reason)
        else:
            merged.append(region)
    return merged
