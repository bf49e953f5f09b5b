"""Several HTTP processes share only what can be shared: refused at start where they could not."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from tests.conftest import make_settings

POSTGRES = "postgresql+asyncpg://factline:secret@db.internal:5432/factline"


def test_several_processes_on_postgresql_with_an_endpoint_are_accepted() -> None:
    assert make_settings(database_url=POSTGRES, web_processes=4).web_processes == 4


def test_several_processes_on_one_sqlite_file_are_refused() -> None:
    with pytest.raises(ValidationError, match="FACTLINE_WEB_PROCESSES > 1 needs a PostgreSQL"):
        make_settings(web_processes=2)


def test_several_processes_each_starting_the_embedded_model_are_refused() -> None:
    with pytest.raises(ValidationError, match="the embedded model would start one llama\\.cpp server per"):
        make_settings(
            database_url=POSTGRES,
            web_processes=2,
            llm_base_url=None,
            local_model="qwen2.5-coder-1.5b-instruct-q4_k_m",
        )
