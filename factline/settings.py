"""All of factline's settings, read once from `FACTLINE_*` environment variables or `.env`."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Literal

from pydantic import Field, HttpUrl, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Each field is one environment variable: `FACTLINE_` + the field name in capitals."""

    model_config = SettingsConfigDict(env_prefix="FACTLINE_", env_file=".env", extra="ignore")

    host: Annotated[str, Field(description="Interface the HTTP server binds to.")] = "127.0.0.1"
    port: Annotated[int, Field(ge=1, le=65535, description="Port the HTTP server listens on.")] = 8000

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
        4096
    )
    llm_timeout_seconds: Annotated[float, Field(gt=0, description="Time allowed for one LLM call.")] = 180.0
    llm_connect_timeout_seconds: Annotated[float, Field(gt=0, description="Time allowed to connect.")] = 5.0
    llm_max_retries: Annotated[
        int,
        Field(
            ge=0,
            le=10,
            description="Transport retries (429, 5xx, connection errors) with backoff, done by the "
            "OpenAI client, which honours Retry-After.",
        ),
    ] = 2
    llm_max_reasks: Annotated[
        int,
        Field(
            ge=0,
            le=5,
            description="Times output that fails validation is sent back to the model with the "
            "errors before the request fails with 502.",
        ),
    ] = 1
    llm_max_concurrency: Annotated[int, Field(ge=1, description="LLM calls in flight at once.")] = 4

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
    log_level: Annotated[
        Literal["DEBUG", "INFO", "WARNING", "ERROR"], Field(description="Logging level.")
    ] = "INFO"

    @property
    def llm_configured(self) -> bool:
        return self.llm_base_url is not None or self.llm_api_key is not None

    @property
    def max_body_bytes(self) -> int:
        """Room for the longest article however it is encoded (a JSON \\uXXXX surrogate pair is 12 bytes)."""
        return self.max_article_chars * 12 + 64 * 1024


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
