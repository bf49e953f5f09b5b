"""The `factline` command: serve, run batch workers, extract files, submit batches, export the OpenAPI
document, record LLM fixtures.

Exit codes of `extract` and `batch`: 0 done; 1 the service answered a problem; 2 a bad file or
argument; 3 the service is unreachable; 4 (batch) finished, but some articles failed or were cancelled.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from factline.logs import configure_logging
from factline.settings import get_settings

if TYPE_CHECKING:
    import httpx

EXIT_PROBLEM, EXIT_BAD_INPUT, EXIT_UNREACHABLE, EXIT_ARTICLES_FAILED = 1, 2, 3, 4
ITEM_TYPES = ("quote", "event", "position", "proposal")


def _serve(_: argparse.Namespace) -> int:
    from factline.web_processes import STARTUP_FAILURE, WebProcesses, serve_one

    settings = get_settings()
    if settings.web_processes > 1:
        return WebProcesses(settings).run()
    return 0 if serve_one(settings) else STARTUP_FAILURE


def _worker(_: argparse.Namespace) -> int:
    from api.app import run_workers

    settings = get_settings()
    configure_logging(settings.log_level)
    asyncio.run(run_workers(settings))
    return 0


def openapi_document() -> str:
    from api.app import create_app

    return (
        json.dumps(create_app().openapi_schema.to_schema(), indent=2, ensure_ascii=False, sort_keys=True)
        + "\n"
    )


def _openapi(args: argparse.Namespace) -> int:
    document = openapi_document()
    if args.check:
        if Path(args.output).read_text("utf-8") != document:
            print(f"{args.output} is stale: run `make openapi` and commit it.", file=sys.stderr)
            return 1
        return 0
    Path(args.output).write_text(document, "utf-8")
    print(f"wrote {args.output}")
    return 0


def _record(args: argparse.Namespace) -> int:
    from factline.recording import load_article_request, record_article

    settings = get_settings()
    if not settings.llm_configured:
        print(
            "Set FACTLINE_LLM_BASE_URL and FACTLINE_LLM_MODEL to the live endpoint to record.",
            file=sys.stderr,
        )
        return 2
    output_dir = Path(args.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    for article in map(Path, args.articles):
        fixture = asyncio.run(record_article(settings, load_article_request(article), args.model_sha256))
        target = output_dir / f"{article.stem}.json"
        target.write_text(json.dumps(fixture, ensure_ascii=False, indent=1) + "\n", "utf-8")
        print(f"recorded {article} -> {target}: {fixture['summary']}")
    return 0


def _setup_local(args: argparse.Namespace) -> int:
    from factline.local_llm import LOCAL_MODELS, LocalSetup

    settings = get_settings()
    if settings.llm_configured and not args.model:
        print("An LLM endpoint is configured (FACTLINE_LLM_BASE_URL): nothing local to set up.")
        return 0
    name = args.model or settings.local_model
    if name == "none":
        print("FACTLINE_LOCAL_MODEL=none: the embedded LLM is turned off.")
        return 0
    model = LOCAL_MODELS[name]
    print(f"Embedded LLM: {model.origin}", file=sys.stderr)
    LocalSetup(settings.local_home).ensure(model)
    return 0


def _types(value: str | None) -> list[str] | None:
    if not value:
        return None
    names = [name.strip() for name in value.split(",") if name.strip()]
    if wrong := [name for name in names if name not in ITEM_TYPES]:
        raise argparse.ArgumentTypeError(f"unknown types {', '.join(wrong)}; use {', '.join(ITEM_TYPES)}")
    return names


@asynccontextmanager
async def _service(url: str | None, seconds: float) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the service at `url`, or of the app run in this process (its lifespan included)."""
    import httpx

    if url:
        async with httpx.AsyncClient(base_url=url, timeout=seconds) as client:
            yield client
        return
    from api.app import create_app

    app = create_app()
    async with (
        app.lifespan(),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),  # type: ignore[arg-type]  # litestar's own ASGI types
            base_url="http://factline.in-process",
            timeout=seconds,
        ) as client,
    ):
        yield client


def _fail(message: str, code: int) -> int:
    print(f"factline: {message}", file=sys.stderr)
    return code


async def _extract_files(args: argparse.Namespace) -> int:
    from factline.service_client import BadFile, ProblemAnswer, Unreachable, article_request, extract

    try:
        requests = [(path, article_request(Path(path), args.published_at, args.types)) for path in args.files]
    except BadFile as error:
        return _fail(str(error), EXIT_BAD_INPUT)
    code = 0
    async with _service(args.url, args.timeout) as client:
        for path, request in requests:
            try:
                extraction = await extract(client, request)
            except Unreachable as error:
                return _fail(str(error), EXIT_UNREACHABLE)
            except ProblemAnswer as error:
                _fail(f"{path}: {error}", EXIT_PROBLEM)
                code = EXIT_PROBLEM
                continue
            print(json.dumps(extraction, ensure_ascii=False, indent=args.indent), flush=True)
    return code


def _extract(args: argparse.Namespace) -> int:
    return asyncio.run(_extract_files(args))


async def _run_batch(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from factline.service_client import BadFile, ProblemAnswer, Unreachable, follow_results, submit_batch

    output = Path(args.output)
    try:
        async with _service(args.url, args.timeout) as client:
            batch = await submit_batch(client, Path(args.archive), args.types)
            console = Console(stderr=True)
            console.print(f"batch {batch['id']}: {batch['counts']['total']} articles -> {output}")
            columns = (
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
            )
            # Result lines are written as they arrive, small and few: a blocking write costs nothing here.
            with (
                output.open("wb") as sink,  # noqa: ASYNC230
                Progress(*columns, console=console, disable=args.quiet) as progress,
            ):
                task = progress.add_task("extracting", total=batch["counts"]["total"])

                def write(line: bytes) -> None:
                    sink.write(line)
                    sink.flush()
                    progress.advance(task)

                batch = await follow_results(client, batch["id"], write)
    except BadFile as error:
        return _fail(str(error), EXIT_BAD_INPUT)
    except Unreachable as error:
        return _fail(str(error), EXIT_UNREACHABLE)
    except ProblemAnswer as error:
        return _fail(f"{args.archive}: {error}", EXIT_PROBLEM)
    except OSError as error:
        return _fail(f"{output}: cannot write it ({error.strerror or error})", EXIT_BAD_INPUT)
    counts = batch["counts"]
    print(
        f"batch {batch['id']} {batch['status']}: {counts['succeeded']} succeeded, {counts['failed']} failed, "
        f"{counts['cancelled']} cancelled; results in {output}",
        file=sys.stderr,
    )
    return EXIT_ARTICLES_FAILED if counts["failed"] or counts["cancelled"] else 0


def _batch(args: argparse.Namespace) -> int:
    return asyncio.run(_run_batch(args))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="factline", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser(
        "serve",
        help="run the HTTP service (FACTLINE_HOST, FACTLINE_PORT, FACTLINE_WEB_PROCESSES); on SIGTERM, "
        "requests in flight finish and batch items in flight go back to the queue",
    ).set_defaults(run=_serve)
    commands.add_parser(
        "worker",
        help="run batch workers only, no HTTP (FACTLINE_DATABASE_URL, FACTLINE_BATCH_CONCURRENCY); "
        "stops on SIGTERM, handing its items back",
    ).set_defaults(run=_worker)
    extract = commands.add_parser(
        "extract",
        help="extract article files and print each extraction as JSON (one per line unless --indent)",
        description="Each FILE is an article: .json files are extraction requests, anything else is the "
        "text. With --url they go to that running service; without, the service runs in this process "
        "with the same FACTLINE_* settings as `factline serve` (embedded model included).",
    )
    extract.add_argument("files", nargs="+", metavar="FILE")
    extract.add_argument("--url", help="a running service, e.g. http://localhost:8000")
    extract.add_argument("--published-at", help="publication date, for relative dates (YYYY-MM-DD)")
    extract.add_argument("--types", type=_types, help="comma-separated: quote,event,position,proposal")
    extract.add_argument("--indent", type=int, default=None, help="pretty-print with this indent")
    extract.add_argument("--timeout", type=float, default=900.0, help="seconds allowed per article")
    extract.set_defaults(run=_extract)
    batch = commands.add_parser(
        "batch",
        help="submit an archive (NDJSON, zip, tar, tar.gz) to a running service and write its results",
    )
    batch.add_argument("archive", metavar="ARCHIVE")
    batch.add_argument("--url", required=True, help="the running service, e.g. http://localhost:8000")
    batch.add_argument("-o", "--output", required=True, help="where the NDJSON result lines go")
    batch.add_argument("--types", type=_types, help="for articles that name none: quote,event,...")
    batch.add_argument("--quiet", action="store_true", help="no progress bar")
    batch.add_argument("--timeout", type=float, default=300.0, help="seconds allowed per request")
    batch.set_defaults(run=_batch)
    openapi = commands.add_parser("openapi", help="write the OpenAPI document generated from the code")
    openapi.add_argument("--output", default="openapi.json")
    openapi.add_argument("--check", action="store_true", help="fail if the file differs from the code")
    openapi.set_defaults(run=_openapi)
    record = commands.add_parser("record", help="record LLM exchanges for articles against the live endpoint")
    record.add_argument("articles", nargs="+")
    record.add_argument("--output-dir", default="fixtures/llm")
    record.add_argument(
        "--model-sha256", default=None, help="sha256 of the model file, written into the fixture"
    )
    record.set_defaults(run=_record)
    setup = commands.add_parser(
        "setup-local", help="build the llama.cpp server and fetch the embedded model, once per machine"
    )
    setup.add_argument(
        "--model", choices=["qwen2.5-coder-1.5b-instruct-q4_k_m", "smollm2-135m-instruct-q4_1"]
    )
    setup.set_defaults(run=_setup_local)
    args = parser.parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    raise SystemExit(main())
