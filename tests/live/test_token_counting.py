"""Token counts from the embedded model's own tokenizer (llama-server's /tokenize) drive the split."""

from __future__ import annotations

import os

import pytest

from factline.chunking import plan_chunks
from factline.local_llm import SMOLLM2_135M, LocalSetup, run_local_server
from factline.settings import Settings
from factline.tokens import BpeCounter, LlamaServerCounter, token_counter
from tests.conftest import ARTICLES, make_settings

pytestmark = pytest.mark.live


async def test_llama_server_counts_tokens_and_the_split_respects_them() -> None:
    if os.environ.get("FACTLINE_LIVE_TESTS") != "1":
        pytest.skip("set FACTLINE_LIVE_TESTS=1 (as `make test` does) to run the embedded model")
    setup = LocalSetup(Settings(_env_file=None).local_home)
    assert setup.is_ready(SMOLLM2_135M), "run `factline setup-local --model smollm2-135m-instruct-q4_1`"
    text = (ARTICLES / "002_e7cf198c34dc2028.txt").read_text("utf-8")
    async with run_local_server(setup, SMOLLM2_135M, context=2048, threads=1, startup_timeout=120) as server:
        counter = token_counter(
            make_settings(local_model=SMOLLM2_135M.name).for_local_server(server.base_url)
        )
        assert isinstance(counter, LlamaServerCounter)
        [whole] = await counter.count([text])
        [estimate] = await BpeCounter("cl100k_base").count([text])
        # The model's own vocabulary, not cl100k: close to it, but its own number.
        assert 0.7 * estimate < whole < 1.6 * estimate
        name, empty = await counter.count(["Boris Pistorius", ""])
        assert 2 <= name <= 8
        assert empty == 0
        chunks = await plan_chunks(text, 800, 100, counter)
        assert len(chunks) >= whole // 800
        for chunk in chunks:
            [tokens] = await counter.count([text[chunk.start : chunk.end]])
            assert tokens <= 800
