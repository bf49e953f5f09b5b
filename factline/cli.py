"""The `factline` command: serve, run batch workers, export the OpenAPI document, record LLM fixtures."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from factline.settings import get_settings


def _serve(_: argparse.Namespace) -> int:
    import uvicorn

    settings = get_settings()
    uvicorn.run(
        "api.app:app",
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level.lower(),
        timeout_graceful_shutdown=settings.shutdown_grace_seconds,  # in-flight requests finish first
    )
    return 0


def _worker(_: argparse.Namespace) -> int:
    import logging

    from api.app import run_workers

    settings = get_settings()
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="factline", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser(
        "serve",
        help="run the HTTP service (FACTLINE_HOST, FACTLINE_PORT); on SIGTERM, requests in flight finish "
        "and batch items in flight go back to the queue",
    ).set_defaults(run=_serve)
    commands.add_parser(
        "worker",
        help="run batch workers only, no HTTP (FACTLINE_DATABASE_URL, FACTLINE_BATCH_CONCURRENCY); "
        "stops on SIGTERM, handing its items back",
    ).set_defaults(run=_worker)
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
