"""All of factline's settings, read once from `FACTLINE_*` environment variables or `.env`."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, HttpUrl, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url

_SHA256_HEX = r"^[0-9a-fA-F]{64}$"


class Settings(BaseSettings):
    """Each field is one environment variable: `FACTLINE_` + the field name in capitals."""

    model_config = SettingsConfigDict(env_prefix="FACTLINE_", env_file=".env", extra="ignore")

    host: Annotated[str, Field(description="Interface the HTTP server binds to.")] = "127.0.0.1"
    port: Annotated[int, Field(ge=1, le=65535, description="Port the HTTP server listens on.")] = 8000
    web_processes: Annotated[
        int,
        Field(
            ge=1,
            le=64,
            description="HTTP processes `factline serve` runs, each with a listening socket of its own "
            "(SO_REUSEPORT: the kernel spreads connections over them); about the number of cores. More "
            "than one needs PostgreSQL and an LLM endpoint.",
        ),
    ] = 1

    llm_base_url: Annotated[
        HttpUrl | None,
        Field(
            description="OpenAI-compatible endpoint, e.g. http://127.0.0.1:8080/v1. Unset with an API key: "
            "OpenAI itself. Unset without a key: no LLM, extraction answers 503."
        ),
    ] = None
    llm_api_key: Annotated[SecretStr | None, Field(description="API key sent as a bearer token.")] = None
    llm_model: Annotated[str, Field(description="Model name sent with every request.")] = "gpt-4o-mini"
    llm_mode: Annotated[
        Literal["json_schema", "tools", "json"],
        Field(
            description="How the schema reaches the model: response_format json_schema, a tool call, or "
            "JSON mode with the schema in the prompt."
        ),
    ] = "json_schema"
    llm_temperature: Annotated[float, Field(ge=0, le=2, description="Sampling temperature.")] = 0.0
    llm_seed: Annotated[int | None, Field(description="Sampling seed, for servers that honour it.")] = 0
    llm_max_output_tokens: Annotated[int, Field(ge=256, description="Cap on generated tokens per call.")] = (
        6144
    )
    llm_timeout_seconds: Annotated[float, Field(gt=0, description="Time allowed for one LLM call.")] = 180.0
    llm_connect_timeout_seconds: Annotated[float, Field(gt=0, description="Time allowed to connect.")] = 5.0
    llm_http_client: Annotated[
        Literal["aiohttp", "httpx"],
        Field(
            description="HTTP transport under the OpenAI client: aiohttp costs ~1 ms less CPU per call "
            "than httpx's own; httpx is what pytest-httpx intercepts in tests."
        ),
    ] = "aiohttp"
    llm_max_retries: Annotated[
        int,
        Field(
            ge=0,
            le=10,
            description="Transport retries of one LLM call (429, 408, 500, 502, 503, 504, broken "
            "connections), with exponential backoff and jitter or the provider's Retry-After; the only "
            "layer that retries transport failures.",
        ),
    ] = 2
    llm_retry_budget_seconds: Annotated[
        float,
        Field(
            ge=0,
            description="Total time one LLM call may spend waiting between transport retries; no retry "
            "starts that would wait past it (a longer Retry-After goes to the client instead).",
        ),
    ] = 30.0
    llm_retry_backoff_seconds: Annotated[
        float,
        Field(
            gt=0,
            description="Base of the exponential backoff between transport retries: the n-th wait is "
            "random between 0 and this times 2^n (at most 30 s).",
        ),
    ] = 0.5
    llm_circuit_failure_threshold: Annotated[
        int,
        Field(
            ge=1,
            description="Failed LLM calls in a row (unreachable, timed out, 5xx, after retries) that open "
            "the circuit: calls then fail at once with 503 until the cool-down ends.",
        ),
    ] = 5
    llm_circuit_cooldown_seconds: Annotated[
        float,
        Field(
            gt=0,
            description="How long an open circuit fails calls at once before one probe call is let through.",
        ),
    ] = 30.0
    shutdown_grace_seconds: Annotated[
        int,
        Field(
            ge=1,
            description="On SIGTERM, how long in-flight requests may take to finish before connections are "
            "closed; batch items in flight go back to the queue at once.",
        ),
    ] = 60
    llm_max_reasks: Annotated[
        int,
        Field(
            ge=0,
            le=5,
            description="Times output that fails validation is sent back to the model with the "
            "errors before the request fails with 502.",
        ),
    ] = 1
    llm_max_concurrency: Annotated[
        int, Field(ge=1, description="LLM calls in flight at once (the embedded model: 1, its one slot).")
    ] = 4

    extraction_calls: Annotated[
        Literal["auto", "single", "per_type"],
        Field(
            description="How an article is put to the model: one call for all types (`single`, best with a "
            "strong model; no worked example), or one smaller call per type (`per_type`, better with a small "
            "one; each call shows a worked example, and the server's prompt cache keeps it and the article "
            "between the calls). `auto`: per_type with the embedded model, single with an endpoint.",
        ),
    ] = "auto"

    max_article_chars: Annotated[
        int, Field(ge=1, description="Longest article accepted, in characters; longer ones get 413.")
    ] = 100_000
    fuzzy_match_threshold: Annotated[
        float,
        Field(
            ge=50,
            le=100,
            description="Lowest similarity (0-100) at which an excerpt that is not in the text "
            "verbatim is still grounded on its closest span.",
        ),
    ] = 90.0
    local_model: Annotated[
        Literal["qwen2.5-coder-1.5b-instruct-q4_k_m", "smollm2-135m-instruct-q4_1", "none"],
        Field(
            description="Embedded model served by a local llama.cpp server when no LLM endpoint is "
            "configured (set up by `make run` / `factline setup-local`); `none` turns it off."
        ),
    ] = "qwen2.5-coder-1.5b-instruct-q4_k_m"
    local_home: Annotated[
        Path,
        Field(
            description="Where the embedded LLM's server binary and model files are kept, once per machine."
        ),
    ] = Field(
        default_factory=lambda: Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "factline"
    )
    local_context_tokens: Annotated[
        int, Field(ge=2048, description="Context window of the embedded model (prompt plus output).")
    ] = 8192
    local_threads: Annotated[int, Field(ge=1, description="CPU threads of the embedded model.")] = Field(
        default_factory=lambda: os.cpu_count() or 2
    )
    local_timeout_seconds: Annotated[
        float,
        Field(gt=0, description="Time allowed for one call to the embedded model (it runs on the CPU)."),
    ] = 600.0
    local_startup_timeout_seconds: Annotated[
        float, Field(gt=0, description="Time allowed for the embedded model's server to load.")
    ] = 120.0
    database_url: Annotated[
        str,
        Field(
            description="SQLAlchemy async URL of the database that keeps batches, their items and results, "
            "and the extraction cache: a SQLite file in the working directory by default (one process); "
            "postgresql+asyncpg://user:password@host/db for PostgreSQL, which several services and "
            "`factline worker` processes on several machines can share.",
        ),
    ] = "sqlite+aiosqlite:///factline.db"
    batch_concurrency: Annotated[
        int,
        Field(
            ge=1,
            le=256,
            description="LLM calls made at once for batch items by this process's workers. Each has one "
            "more item beside it (being claimed, read or written), so up to twice as many items are held.",
        ),
    ] = 2
    batch_workers_in_process: Annotated[
        bool,
        Field(
            description="Whether `factline serve` runs batch workers itself; false when dedicated "
            "`factline worker` processes do the work (the service then only accepts and reports).",
        ),
    ] = True
    batch_queue: Annotated[
        Literal["auto", "database", "procrastinate"],
        Field(
            description="What hands batch items to workers: `database`, factline's own queue (the items "
            "table, claimed under leases; SQLite or PostgreSQL), or `procrastinate`, the procrastinate "
            "job queue (PostgreSQL only: one job per item, worker heartbeats, stalled jobs retried). "
            "`auto`: procrastinate on PostgreSQL, database on SQLite.",
        ),
    ] = "auto"
    batch_lease_seconds: Annotated[
        float,
        Field(
            gt=0,
            description="How long a worker owns a claimed item before it is returned to the queue; renewed "
            "while the worker is alive.",
        ),
    ] = 60.0
    batch_poll_seconds: Annotated[
        float,
        Field(gt=0, description="How often idle workers, result streams and progress events look for news."),
    ] = 0.5
    batch_max_upload_bytes: Annotated[
        int, Field(ge=1, description="Largest archive upload accepted, in bytes as sent; more gets 413.")
    ] = 256 * 1024 * 1024
    batch_max_total_bytes: Annotated[
        int,
        Field(ge=1, description="Largest total decompressed size of an archive's files; larger gets 413."),
    ] = 1024 * 1024 * 1024
    batch_max_file_bytes: Annotated[
        int,
        Field(ge=1, description="Largest decompressed file (or NDJSON line) in an archive; larger gets 413."),
    ] = 8 * 1024 * 1024
    batch_max_files: Annotated[
        int, Field(ge=1, description="Most articles (files or lines) in one archive; more gets 413.")
    ] = 100_000
    chunk_budget_tokens: Annotated[
        int,
        Field(
            ge=256,
            description="Longest article text sent to the model in one call, in tokens; a longer article "
            "is split on paragraph and sentence boundaries and its parts extracted concurrently.",
        ),
    ] = 3000
    chunk_overlap_tokens: Annotated[
        int,
        Field(ge=0, description="Tokens of text each part of a split article repeats from the one before."),
    ] = 200
    chunk_tokenizer: Annotated[
        Literal["auto", "llama_server", "cl100k_base", "o200k_base"],
        Field(
            description="How article tokens are counted: the llama.cpp server's /tokenize, or an OpenAI "
            "encoding (shipped, no download); auto: the embedded model's server for the embedded model, "
            "cl100k_base otherwise.",
        ),
    ] = "auto"
    log_level: Annotated[
        Literal["DEBUG", "INFO", "WARNING", "ERROR"], Field(description="Logging level.")
    ] = "INFO"
    api_key_sha256: Annotated[
        list[Annotated[str, Field(pattern=_SHA256_HEX)]],
        NoDecode,
        Field(
            description="Comma-separated sha256 hex digests of the accepted API keys; when set, every route "
            "but /health needs `Authorization: Bearer <key>`. Empty: open, for local use.",
        ),
    ] = []
    rate_limit_per_minute: Annotated[
        int | None,
        Field(
            ge=1,
            description="Requests per minute allowed to each API key (each client address when keys are "
            "off); more get 429 with Retry-After. Unset: no limit.",
        ),
    ] = None
    rate_limit_dir: Annotated[
        Path | None,
        Field(
            description="Directory where the rate limit's counters are kept, shared by every process that "
            "names it; unset: each process counts on its own, in memory.",
        ),
    ] = None
    cors_allow_origins: Annotated[
        list[str],
        NoDecode,
        Field(
            description="Comma-separated origins that browsers may call the API from (`*` for any); "
            "empty: no CORS headers, so browsers on other origins are refused.",
        ),
    ] = []

    @field_validator("api_key_sha256", "cors_allow_origins", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @property
    def llm_configured(self) -> bool:
        return self.llm_base_url is not None or self.llm_api_key is not None

    @property
    def uses_local_llm(self) -> bool:
        """The embedded model serves when no endpoint is configured, unless it is turned off."""
        return not self.llm_configured and self.local_model != "none"

    def for_local_server(self, base_url: str) -> Settings:
        """These settings pointed at the embedded server, with its CPU-sized timeout."""
        return self.model_copy(
            update={
                "llm_base_url": base_url,
                "llm_model": self.local_model,
                "llm_timeout_seconds": self.local_timeout_seconds,
                "chunk_tokenizer": "llama_server" if self.chunk_tokenizer == "auto" else self.chunk_tokenizer,
                "extraction_calls": self.local_call_plan,
                # The server has one slot (`--parallel 1`): more calls in flight only queue there.
                "llm_max_concurrency": 1,
            }
        )

    @property
    def call_plan(self) -> Literal["single", "per_type"]:
        return "single" if self.extraction_calls == "auto" else self.extraction_calls

    @property
    def local_call_plan(self) -> Literal["single", "per_type"]:
        """The plan with the embedded model, a small one: `auto` is one call per type."""
        return "per_type" if self.extraction_calls == "auto" else self.extraction_calls

    @model_validator(mode="after")
    def _procrastinate_needs_postgres(self) -> Settings:
        if self.batch_queue == "procrastinate" and not self.on_postgres:
            raise ValueError("FACTLINE_BATCH_QUEUE=procrastinate needs a PostgreSQL FACTLINE_DATABASE_URL")
        return self

    @model_validator(mode="after")
    def _processes_share_what_they_can(self) -> Settings:
        if self.web_processes > 1 and not self.on_postgres:
            raise ValueError(
                "FACTLINE_WEB_PROCESSES > 1 needs a PostgreSQL FACTLINE_DATABASE_URL: one SQLite file "
                "serves one process"
            )
        if self.web_processes > 1 and self.uses_local_llm:
            raise ValueError(
                "FACTLINE_WEB_PROCESSES > 1 needs an LLM endpoint (FACTLINE_LLM_BASE_URL): the embedded "
                "model would start one llama.cpp server per process"
            )
        return self

    @property
    def on_postgres(self) -> bool:
        return make_url(self.database_url).get_backend_name() == "postgresql"

    @property
    def uses_procrastinate(self) -> bool:
        return self.batch_queue == "procrastinate" or (self.batch_queue == "auto" and self.on_postgres)

    @property
    def max_body_bytes(self) -> int:
        """Room for the longest article however it is encoded (a JSON \\uXXXX surrogate pair is 12 bytes)."""
        return self.max_article_chars * 12 + 64 * 1024


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
