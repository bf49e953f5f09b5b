"""The reference annotations quote their articles word for word, and agree with the articles' metadata."""

from __future__ import annotations

import json

import pytest

from factline.evaluation.gold import GoldArticle, load_gold
from schemas import ItemType
from tests.conftest import ARTICLES, ROOT

GOLD = load_gold(ROOT / "fixtures" / "gold")
METADATA = json.loads((ARTICLES / "articles.json").read_text("utf-8"))


@pytest.fixture(params=GOLD, ids=[gold.article for gold in GOLD])
def gold(request: pytest.FixtureRequest) -> GoldArticle:
    return request.param  # type: ignore[no-any-return]


def test_every_text_and_evidence_is_verbatim_in_its_article(gold: GoldArticle) -> None:
    text = (ARTICLES / gold.article).read_text("utf-8")
    for item_type in ItemType:
        for excerpt in gold.excerpts(item_type):
            assert excerpt in text, (item_type, excerpt)


def test_annotations_agree_with_the_article_index(gold: GoldArticle) -> None:
    assert gold.published_at is not None
    assert gold.published_at.isoformat() == METADATA[gold.article]["published_at"]


def test_shared_annotations_are_copied_unchanged() -> None:
    shared = ROOT.parent / "shared" / "gold"
    if not shared.is_dir():
        pytest.skip("no ../shared/gold next to this checkout")
    for path in shared.glob("*.json"):
        assert GoldArticle.model_validate_json(path.read_bytes()) in GOLD, path.name
