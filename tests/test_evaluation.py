"""`make eval` end to end: offline on the recorded exchanges, and live against a fake endpoint process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pytest_httpx import HTTPXMock

from factline.evaluation.gold import load_gold
from factline.evaluation.replay import StaleRecording
from factline.evaluation.report import results_json, results_markdown
from factline.evaluation.runner import run_live, run_recorded
from schemas import ItemType
from tests.conftest import ARTICLES, COMPLETIONS_URL, RECORDED, ROOT, make_settings
from tests.fakes.fake_llm import running_fake_llm

GOLD = ROOT / "fixtures" / "gold"


def run_eval(tmp_path: Path, **env: str) -> tuple[dict[str, Any], str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("FACTLINE_")}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "factline.evaluation",
            "--markdown",
            str(tmp_path / "EVAL.md"),
            "--json",
            str(tmp_path / "eval" / "results.json"),
        ],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    markdown = (tmp_path / "EVAL.md").read_text("utf-8")
    return json.loads((tmp_path / "eval" / "results.json").read_text("utf-8")), markdown, result.stdout


def merged_answer(recording: dict[str, Any]) -> dict[str, list[Any]]:
    """What the model proposed per type, over all of the recording's calls: quotes are the candidates
    read as quotes and the reported quotes."""
    answer: dict[str, list[Any]] = {}
    for exchange in recording["exchanges"]:
        content = json.loads(exchange["response"]["json"]["choices"][0]["message"]["content"])
        for name, items in content.items():
            answer.setdefault(name, []).extend(items)
    readings = [q for q in answer.pop("quotes", []) if q.get("kind") != "not_a_quote"]
    answer["quotes"] = readings + answer.pop("reported_quotes", [])
    return answer


def test_offline_eval_replays_the_recordings_and_writes_table_and_json(tmp_path: Path) -> None:
    report, markdown, stdout = run_eval(tmp_path)
    recordings = [
        json.loads((RECORDED / f"{Path(g.article).stem}.json").read_text()) for g in load_gold(GOLD)
    ]
    assert report["models"] == sorted({r["recorded"]["model"] for r in recordings})
    assert report["prompt_versions"] == sorted({r["prompt_version"] for r in recordings})
    assert "recorded exchanges" in report["source"]
    assert [a["article"] for a in report["articles"]] == [r["article"] for r in recordings]
    for item_type in ItemType:
        name = item_type.list_name
        total = report["totals"][name]
        for key in ("reference", "returned", "kept", "matched", "attributed", "dated_right"):
            assert total[key] == sum(a["types"][name][key] for a in report["articles"]), (name, key)
        assert f"| {name} | {total['reference']} | {total['returned']} |" in markdown
    for article, recording in zip(report["articles"], recordings, strict=True):
        answer = merged_answer(recording)
        assert article["recorded_at"] == recording["recorded"]["started_at"]
        assert article["usage"] == recording["summary"]["usage"]
        for name, counts in article["types"].items():
            assert counts["returned"] == len(answer[name]), (article["article"], name)
            # Less what page chrome drops; quotes the text's cues found where the model passed over them add.
            assert counts["kept"] - counts["found_in_text"] <= recording["summary"]["items"][name]
            assert counts["matched"] <= min(counts["reference"], counts["kept"])
    assert markdown in stdout


async def test_a_matched_reference_is_attributed_to_the_right_speaker() -> None:
    [gold] = [g for g in load_gold(GOLD) if g.article.startswith("001_")]
    run = await run_recorded(make_settings(), gold, ARTICLES, RECORDED)
    assert run.result is not None
    # The recorded model returns the "Putin does not intend…" block quote with Pistorius as speaker.
    block = next(q for q in run.result.quotes if q.text.startswith("Putin does not intend"))
    speaker = next(a for a in run.result.actors if a.id == block.speaker_id)
    assert speaker.name == "Boris Pistorius"
    quotes = run.counts[ItemType.QUOTE]
    assert quotes.matched >= 1
    assert quotes.attributed >= 1


async def test_a_stale_recording_is_named_not_scored(tmp_path: Path) -> None:
    [gold] = [g for g in load_gold(GOLD) if g.article.startswith("003_")]
    recording = json.loads((RECORDED / "003_e66833ffe3436db9.json").read_text("utf-8"))
    recording["exchanges"][0]["request"]["json"]["messages"][0]["content"] += " (an older prompt)"
    (tmp_path / "003_e66833ffe3436db9.json").write_text(json.dumps(recording), "utf-8")
    with pytest.raises(StaleRecording, match="re-record"):
        await run_recorded(make_settings(), gold, ARTICLES, tmp_path)


@pytest.mark.e2e
def test_live_eval_runs_against_the_configured_endpoint(tmp_path: Path) -> None:
    with running_fake_llm() as fake:
        report, markdown, _ = run_eval(
            tmp_path, FACTLINE_LLM_BASE_URL=fake.base_url, FACTLINE_LLM_MODEL="fake-model"
        )
    assert report["models"] == ["fake-model"]
    assert fake.base_url in report["source"]
    assert all(article["recorded_at"] is None for article in report["articles"])
    # The fake copies every quoted passage of the article: some references are found.
    assert report["totals"]["quotes"]["matched"] > 0
    assert "`fake-model`" in markdown


async def test_an_article_the_model_fails_on_counts_as_missed_not_as_a_crash(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=COMPLETIONS_URL, status_code=500, json={"error": {}}, is_reusable=True)
    [gold] = [g for g in load_gold(GOLD) if g.article.startswith("003_")]
    run = await run_live(make_settings(), gold, ARTICLES)
    assert run.error is not None
    assert run.error.startswith("LLMOutputUnusable")
    assert run.counts[ItemType.QUOTE].reference == len(gold.quotes)
    assert all(counts.matched == 0 and counts.kept == 0 for counts in run.counts.values())
    report = results_json([run], "test")
    assert report["articles"][0]["error"] == run.error
    assert report["totals"]["quotes"]["recall"] == 0
    assert "003_e66833ffe3436db9.txt` failed" in results_markdown(report, [run])
