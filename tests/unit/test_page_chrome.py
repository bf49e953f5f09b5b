"""Detecting page chrome: the raw capture 002 against its reference annotations, the clean articles,
and chrome in the middle of a text."""

from __future__ import annotations

import pytest

from factline.evaluation.gold import load_gold
from factline.page_chrome import PageChrome
from schemas import ItemType
from tests.conftest import ARTICLES, ROOT

CAPTURE = (ARTICLES / "002_e7cf198c34dc2028.txt").read_text("utf-8")
[CAPTURE_GOLD] = [g for g in load_gold(ROOT / "fixtures" / "gold") if g.article.startswith("002_")]


def in_chrome(chrome: PageChrome, text: str, phrase: str) -> bool:
    start = text.index(phrase)
    return chrome.share_of(start, start + len(phrase)) == 1.0


@pytest.mark.parametrize(
    "phrase",
    [
        "Follow us on social",
        "google cta",
        "Reporting | QiOSK",
        "Please consider making a tax-exempt, year-end contribution",
        "Top Photo: Trump, Zelenskyy, and Putin with Ukraine graphic.",
        "Top image credit: paparazzza / Shutterstock.com",
        # The three teasers of other stories, headline and excerpt:
        "The collapse of Europe's Ukraine policy has sparked a blame game",
        "the Trump administration had advanced the idea that Ukraine be admitted into the European Union",
        "Marines know we don't kill unarmed survivors for a reason",
        'kill so-called Venezuelan "narco terrorists"',
        "Pranked Biden official exposes lie that Ukraine war was inevitable",
        "recently summed up by former Special Assistant to the President",
        "Subscribe now to our weekly round-up",
    ],
)
def test_the_captures_chrome_is_found(phrase: str) -> None:
    assert in_chrome(PageChrome(CAPTURE), CAPTURE, phrase)


def test_nothing_the_article_itself_says_is_chrome() -> None:
    chrome = PageChrome(CAPTURE)
    for item_type in ItemType:
        for excerpt in CAPTURE_GOLD.excerpts(item_type):
            start = CAPTURE.index(excerpt)
            assert chrome.share_of(start, start + len(excerpt)) == 0, excerpt
    for phrase in ("Diplomacy Watch: The musical chairs", "There were no State Department press briefings"):
        assert not in_chrome(chrome, CAPTURE, phrase)


@pytest.mark.parametrize(
    "name", sorted(p.name for p in ARTICLES.glob("*.txt") if p.name[:3] in ("000", "001", "003"))
)
def test_clean_articles_have_no_chrome(name: str) -> None:
    assert not PageChrome((ARTICLES / name).read_text("utf-8"))


def test_an_also_read_list_ends_the_page() -> None:
    text = (ARTICLES / "004_8dd281839903a95c.txt").read_text("utf-8")
    chrome = PageChrome(text)
    [region] = chrome.regions
    assert text[region.start :].startswith("Also Read:")
    assert in_chrome(chrome, text, "US Forces Raid Ship Bound for Iran Amid Rising Gulf Tensions")
    assert not in_chrome(chrome, text, "exhausted, imperfect compromise.")


def test_a_teaser_in_the_middle_of_an_article_is_chrome_and_the_article_around_it_is_not() -> None:
    text = (
        "Ministers met in Oslo on Tuesday to agree on a new fishing quota for the northern fleet.\n"
        "Photo credit: Harbour Press\n"
        "Election results surprise everyone\n"
        "Voters in Bergen chose a new mayor on Sunday after a close race, officials said.\n"
        "Read more\n"
        "The quota takes effect in March, the fisheries minister said, and will be reviewed in a year.\n"
    )
    chrome = PageChrome(text)
    assert in_chrome(chrome, text, "Voters in Bergen chose a new mayor on Sunday")
    assert in_chrome(chrome, text, "Election results surprise everyone")
    assert not in_chrome(chrome, text, "Ministers met in Oslo")
    assert not in_chrome(chrome, text, "The quota takes effect in March")
    assert chrome.reason(text.index("Voters"), text.index("Voters") + 6) == "teaser of another story"


def test_prose_that_mentions_credits_or_reading_is_not_chrome() -> None:
    text = (
        "The bank said it would extend credit, at lower rates than last year, to small farms hit by the "
        "drought, and that farmers should keep reading the ministry's notices because the scheme could "
        "change at short notice if the weather improves over the summer, as forecasters expect it will."
    )
    assert not PageChrome(text)


def test_a_span_counts_as_chrome_when_most_of_it_lies_in_chrome() -> None:
    chrome = PageChrome(CAPTURE)
    appeal = CAPTURE.index("Dear RS readers")
    assert chrome.covers(appeal - 10, appeal + 90)
    assert not chrome.covers(appeal - 90, appeal + 10)


def test_share_of_counts_every_region_a_span_reaches() -> None:
    """Spans starting and ending inside, between and across the capture's regions, against the share
    counted over all regions one by one."""
    chrome = PageChrome(CAPTURE)
    assert len(chrome.regions) > 3
    edges = sorted({edge for region in chrome.regions for edge in (region.start, region.end)})
    offsets = sorted({*range(0, len(CAPTURE), 97), *edges, *(e - 1 for e in edges), *(e + 1 for e in edges)})
    for start in offsets:
        for end in (start, start + 1, start + 40, start + 400, len(CAPTURE)):
            covered = sum(max(0, min(end, r.end) - max(start, r.start)) for r in chrome.regions)
            assert chrome.share_of(start, end) == (covered / (end - start) if end > start else 0.0)
