# factline: `make run` serves, `make test` checks everything. Both install into .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: install run test lint typecheck openapi record bench bench-views eval load clean

$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,local]'
	touch $(INSTALLED)

install: $(INSTALLED)

# With no FACTLINE_LLM_BASE_URL, the embedded model is set up once per machine (a ~9 min build, a 1.1 GB model).
run: install
	$(BIN)/factline setup-local
	$(BIN)/factline serve

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: install
	$(BIN)/mypy

# The live test runs the small embedded model for real; setting it up is part of the run. The
# PostgreSQL tests start a throwaway server (Debian's postgresql package, installed if missing); the viewer
# and TypeScript tests install Debian's chromium and nodejs/npm the same way.
test: lint typecheck
	$(BIN)/factline openapi --check
	$(BIN)/factline setup-local --model smollm2-135m-instruct-q4_1
	FACTLINE_LIVE_TESTS=1 FACTLINE_POSTGRES_TESTS=1 FACTLINE_BROWSER_TESTS=1 FACTLINE_NODE_TESTS=1 \
		$(BIN)/python -m pytest

openapi: install
	$(BIN)/factline openapi

# Record LLM exchanges for the sample articles against a live OpenAI-compatible endpoint:
#   FACTLINE_LLM_BASE_URL=http://127.0.0.1:8080/v1 FACTLINE_LLM_MODEL=name make record
record: install
	$(BIN)/factline record fixtures/articles/*.txt $(if $(MODEL_SHA256),--model-sha256 $(MODEL_SHA256))

# Overhead, throughput, CPU per phase and tokens, against real processes on loopback: writes BENCHMARKS.md.
bench: install
	$(BIN)/python -m bench.run

# Extraction quality against fixtures/gold: offline on fixtures/llm, or live with FACTLINE_LLM_BASE_URL set.
# Writes EVAL.md and eval/results.json.
eval: install
	$(BIN)/python -m factline.evaluation

# Concurrent good and bad requests and LLM faults against the real service for 3 minutes, loopback
# only, at most 200,000 requests: writes LOAD.md, fails on any unexpected answer or memory growth.
load: install
	$(BIN)/python -m bench.load --seconds 180 --clients 32 --max-requests 200000 --output LOAD.md

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

# The cost of adding one article to the cross-article views at 100, 1 000 and 10 000 articles.
bench-views: install
	$(BIN)/python -m bench.views --sizes 100,1000,10000 --sample 50
