"""`make bench-views`: the cost of adding one article to the cross-article views as the archive grows.

A synthetic archive of news articles with recurring people, places, meetings and proposals is
extracted with the fake LLM's answers (`tests/fakes/fake_llm.py`: everything copied from the
article) and the real grounding, then added batch by batch through the batch store's real finish
step, which writes the result line and updates the views in one transaction. At each archive size
the next articles are timed one by one: the whole finish transaction, and the view update within
it, in wall time and in CPU time of the event loop's thread (a write transaction's SQLite statements
run there), which the other work on a shared machine inflates less. Reading the first page of each
view is timed too. Near-constant cost per added article means the views are maintained
incrementally, not recomputed.

    python -m bench.views --sizes 100,1000,10000 --sample 50 [--database-url postgresql+asyncpg://…]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402

from factline import batch_store, view_updates  # noqa: E402
from factline.archives import ArchiveEntry  # noqa: E402
from factline.batch_store import BatchStore  # noqa: E402
from factline.database import create_engine, sessions, upgrade_to_head  # noqa: E402
from factline.extraction import assemble_extraction  # noqa: E402
from factline.prompting import quote_candidates_for  # noqa: E402
from factline.tables import BatchRow  # noqa: E402
from factline.view_queries import CrossArticleViews, ViewFilter  # noqa: E402
from schemas import (  # noqa: E402
    ArchiveKind,
    Extraction,
    ExtractionRequest,
    Problem,
    Usage,
    facts_model_for,
)
from tests.fakes.fake_llm import synthetic_facts  # noqa: E402

FIRST = [
    "Anna",
    "Boris",
    "Clara",
    "Dmitri",
    "Elena",
    "Felix",
    "Greta",
    "Hans",
    "Irina",
    "Jonas",
    "Kaja",
    "Lena",
    "Marek",
    "Nina",
    "Olaf",
    "Petra",
]
LAST = [
    "Weber",
    "Pistorius",
    "Kallas",
    "Novak",
    "Berg",
    "Lindqvist",
    "Horvat",
    "Meyer",
    "Sokol",
    "Brandt",
    "Varga",
    "Moreau",
    "Rossi",
    "Keller",
]
PLACES = [
    "Berlin",
    "Brussels",
    "Warsaw",
    "Kyiv",
    "Paris",
    "Vienna",
    "Oslo",
    "Prague",
    "Rome",
    "Madrid",
    "Riga",
    "Vilnius",
]
PROPOSALS = [
    "twenty point peace plan",
    "European reassurance force",
    "bilateral security guarantees",
    "ceasefire along current front lines",
    "frozen assets reconstruction fund",
    "joint air defence shield",
    "grain corridor through the Black Sea",
    "energy price cap for the winter",
]
TOPICS = [
    "troop deployments",
    "sanctions",
    "arms deliveries",
    "peace talks",
    "energy prices",
    "NATO membership",
]
NO_USAGE = Usage(prompt_tokens=0, completion_tokens=0, total_tokens=0, llm_calls=1)
START = dt.date(2024, 1, 1)


def person(rng: random.Random) -> str:
    return (
        f"{rng.choice(FIRST[:8])} {rng.choice(LAST)}"
        if rng.random() < 0.7
        else f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    )


def synthetic_article(n: int) -> ExtractionRequest:
    """Article `n`: recurring names, places, meetings and proposals; 24 sentences as the fake expects."""
    rng = random.Random(n)
    published = START + dt.timedelta(days=n % 700)
    people = [person(rng) for _ in range(4)]
    place, topic, plan = rng.choice(PLACES), rng.choice(TOPICS), rng.choice(PROPOSALS)
    sentences = [
        f"{people[0]} said “we will not accept any deal on {topic} without Europe” in {place}.",
        f"{people[1]} met {people[2]} in {place} to discuss {topic} and the {plan}.",
        f"Talks in {place} on {topic} continued for a second day with {people[3]} present.",
        f"{people[2]} said “the {plan} is the only serious offer on the table” after the meeting.",
    ]
    sentences += [
        f"Delegates from {rng.choice(PLACES)} discussed {rng.choice(TOPICS)} at length today."
        for _ in range(8)
    ]
    sentences += [
        f"{people[0]} holds that {topic} must be decided together with the allies now." for _ in range(1)
    ]
    sentences += [
        f"Observers in {rng.choice(PLACES)} expect little progress on {rng.choice(TOPICS)} soon."
        for _ in range(9)
    ]
    sentences += [f"{people[1]} proposed the {plan} again as the basis for any agreement." for _ in range(1)]
    sentences += [
        f"Officials said the {rng.choice(PROPOSALS)} would be reviewed next month." for _ in range(3)
    ]
    return ExtractionRequest(text=" ".join(sentences), id=f"synthetic/{n:05}.txt", published_at=published)


def extraction_of(request: ExtractionRequest) -> Extraction:
    """What the service would return with the fake LLM answering: the fake's answer, really grounded."""
    candidates = quote_candidates_for(request)
    model = facts_model_for(request.types, candidates=len(candidates))
    answer = synthetic_facts(request.text, model.model_json_schema()["properties"])
    return assemble_extraction(
        request,
        model.model_validate(answer),
        candidates=candidates,
        usage=NO_USAGE,
        model="fake",
        prompt_version="bench",
        fuzzy_threshold=90,
    )


async def _chunk(entries: list[ArchiveEntry]) -> AsyncIterator[Sequence[ArchiveEntry]]:
    yield entries


def _no_problem(error: Exception) -> Problem:
    raise AssertionError(error)


class ViewTimer:
    """Wraps the view update the batch store calls, to time it inside the finish transaction."""

    def __init__(self, update: Callable[..., Awaitable[None]]) -> None:
        self.update = update
        self.seconds: list[float] = []
        self.cpu_seconds: list[float] = []

    async def __call__(self, *args: Any) -> None:
        started, cpu = time.perf_counter(), time.thread_time()
        await self.update(*args)
        self.seconds.append(time.perf_counter() - started)
        self.cpu_seconds.append(time.thread_time() - cpu)


async def add_articles(store: BatchStore, first: int, count: int, timer: ViewTimer) -> list[float]:
    """A new batch of articles `first`…`first + count - 1`, finished one by one; each finish's seconds."""
    requests = [synthetic_article(n) for n in range(first, first + count)]
    entries = [ArchiveEntry(n, request.id, request=request) for n, request in enumerate(requests)]
    await store.create(ArchiveKind.NDJSON, None, None, _chunk(entries), _no_problem)
    by_id = {request.id: request for request in requests}
    finishes = []
    while (item := await store.claim("bench")) is not None:
        extraction = extraction_of(by_id[item.article_id or ""])
        started = time.perf_counter()
        assert await store.finish(item, "bench", extraction=extraction)
        finishes.append(time.perf_counter() - started)
    return finishes


async def read_first_pages(views: CrossArticleViews, batch_ids: tuple[str, ...]) -> dict[str, float]:
    scope = ViewFilter(batch_ids)
    pages: dict[str, Callable[[ViewFilter, str | None, int], Awaitable[object]]] = {
        "actors": views.actors,
        "timeline": views.timeline,
        "proposals": views.proposals,
        "positions": views.positions,
    }
    timings = {}
    for name, read in pages.items():
        started = time.perf_counter()
        await read(scope, None, 20)
        timings[name] = time.perf_counter() - started
    return timings


def ms(seconds: Sequence[float]) -> str:
    return f"{statistics.median(seconds) * 1000:.1f} ms (mean {statistics.mean(seconds) * 1000:.1f})"


async def run(sizes: list[int], sample: int, url: str, chunk: int) -> None:
    engine = create_engine(url)
    await upgrade_to_head(engine)
    store = BatchStore(sessions(engine), lease_seconds=300)
    views = CrossArticleViews(store.sessions)
    timer = ViewTimer(view_updates.record_article_views)
    setattr(batch_store, "record_article_views", timer)  # noqa: B010 - the store's own binding, timed
    added, rows = 0, []
    started = time.perf_counter()
    for size in sizes:
        while added < size - sample:
            count = min(chunk, size - sample - added)
            await add_articles(store, added, count, timer)
            added += count
        timer.seconds.clear()
        timer.cpu_seconds.clear()
        finishes = await add_articles(store, added, sample, timer)
        added += sample
        async with store.readers() as session:
            batch_ids = tuple((await session.scalars(select(BatchRow.id))).all())
        reads = await read_first_pages(views, batch_ids)
        rows.append((size, ms(finishes), ms(timer.seconds), ms(timer.cpu_seconds), reads))
        print(f"… {size} articles after {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
        print(size, rows[-1], file=sys.stderr, flush=True)
    await engine.dispose()
    print(f"Database: {engine.dialect.name}; the next {sample} articles timed one by one at each size.\n")
    print(
        "| articles in the archive | finish (result line + views), wall | view update, wall "
        "| view update, CPU | first page (20 items): actors / timeline / proposals / positions |"
    )
    print("|---:|---:|---:|---:|---|")
    for size, finish, view, cpu, reads in rows:
        pages = " / ".join(
            f"{reads[name] * 1000:.0f} ms" for name in ("actors", "timeline", "proposals", "positions")
        )
        print(f"| {size:,} | {finish} | {view} | {cpu} | {pages} |")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="100,1000,10000", help="archive sizes to measure at")
    parser.add_argument("--sample", type=int, default=50, help="articles timed at each size")
    parser.add_argument("--chunk", type=int, default=1000, help="articles per batch while filling")
    parser.add_argument("--database-url", default=None, help="default: a new SQLite file, removed at the end")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    if args.database_url:
        asyncio.run(run(sizes, args.sample, args.database_url, args.chunk))
        return
    with tempfile.TemporaryDirectory(prefix="factline-bench-views-") as directory:
        asyncio.run(run(sizes, args.sample, f"sqlite+aiosqlite:///{directory}/views.db", args.chunk))


if __name__ == "__main__":
    main()
