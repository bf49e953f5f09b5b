"""`make eval`: score the extraction against the reference annotations and write EVAL.md and JSON.

Offline on the recorded exchanges by default; against the live endpoint when FACTLINE_LLM_BASE_URL is set.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
from pathlib import Path

from factline.evaluation.gold import load_gold
from factline.evaluation.report import results_json, results_markdown
from factline.evaluation.runner import ArticleRun, run_live, run_recorded
from factline.settings import Settings


async def _run(args: argparse.Namespace, settings: Settings, live: bool) -> list[ArticleRun]:
    golds = load_gold(args.gold)
    if live:
        return list(await asyncio.gather(*(run_live(settings, gold, args.articles) for gold in golds)))
    return [await run_recorded(settings, gold, args.articles, args.recordings) for gold in golds]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m factline.evaluation", description=__doc__)
    parser.add_argument("--gold", type=Path, default=Path("fixtures/gold"))
    parser.add_argument("--articles", type=Path, default=Path("fixtures/articles"))
    parser.add_argument("--recordings", type=Path, default=Path("fixtures/llm"))
    parser.add_argument("--markdown", type=Path, default=Path("EVAL.md"))
    parser.add_argument("--json", type=Path, default=Path("eval/results.json"))
    args = parser.parse_args(argv)
    live = bool(os.environ.get("FACTLINE_LLM_BASE_URL"))
    settings = Settings()
    runs = asyncio.run(_run(args, settings, live))
    source = (
        f"the live endpoint {settings.llm_base_url}"
        if live
        else f"the recorded exchanges in `{args.recordings}`"
    )
    report = results_json(runs, source)
    markdown = results_markdown(report, runs)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n", "utf-8")
    args.markdown.write_text(markdown, "utf-8")
    print(markdown)
    print(f"wrote {args.markdown} and {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
