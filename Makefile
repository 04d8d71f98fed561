# Visual search platform. `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

# Tests run against the real services; override the addresses if yours differ.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/test
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15
DEMO_ADDR ?= 127.0.0.1:8000
PYTEST_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help venv demo test test-fast lint duplicate-code format migrate bench bench-indexing bench-vector-index bench-search bench-outbox bench-understanding schemathesis relevance browser clean openapi client lock lock-check

help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-20s\033[0m %s\n", $$1, $$2}'

# Torch's wheel index: CPU by default; a CUDA one (https://download.pytorch.org/whl/cu128) for
# GPUs; empty where pip is already set up to find the wheel (a local mirror).
TORCH_INDEX_URL ?= https://download.pytorch.org/whl/cpu
TORCH_VERSION := $(shell sed -n 's/^ *"torch==\([^"]*\)".*/\1/p' pyproject.toml)

$(STAMP): pyproject.toml requirements-dev.lock clients/python/pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is needed ($(PYTHON) not found)"; exit 1; }
	$(PYTHON) deploy/lock.py check
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	# torch first, pinned, from the index that picks CPU or CUDA (the lock leaves it out: PyPI's
	# Linux torch would pull a multi-GB CUDA build); its own dependencies are in the lock.
	$(VENV)/bin/pip install --quiet --no-deps "torch==$(TORCH_VERSION)" \
		$(if $(TORCH_INDEX_URL),--extra-index-url $(TORCH_INDEX_URL))
	# Everything else exactly as locked, hashes checked; then the project itself.
	$(VENV)/bin/pip install --quiet --require-hashes --no-deps -r requirements-dev.lock
	$(VENV)/bin/pip install --quiet --no-deps --no-build-isolation -e .
	# The generated API client (clients/python), as its users install it; its dependencies are locked.
	$(VENV)/bin/pip install --quiet --no-deps --no-build-isolation -e clients/python
	$(VENV)/bin/pip check
	touch $(STAMP)

venv: $(STAMP) ## Create or update the virtual environment (from requirements-dev.lock)

lock: ## Pin every dependency of pyproject.toml with hashes (requirements*.lock; PyPI, needs uv)
	$(PYTHON) deploy/lock.py compile

lock-check: ## Fail when pyproject.toml's dependencies changed without `make lock`
	$(PYTHON) deploy/lock.py check

demo: $(STAMP) ## Run the platform on its embedded defaults at http://127.0.0.1:8000
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_demo_catalog
	@echo "Storefront: http://$(DEMO_ADDR)/   admin: http://$(DEMO_ADDR)/admin/ (demo / demo-password)   API docs: http://$(DEMO_ADDR)/api/docs/"
	# One torch thread per search, as gunicorn.conf.py gives web workers (bench/search.md).
	TORCH_THREADS=$${TORCH_THREADS:-1} WARM_MODELS_AT_START=true $(PY) manage.py runserver $(DEMO_ADDR) --noreload

browser: ## Install Debian's Chromium for the browser tests when it is missing
	@test -x /usr/bin/chromium || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

test: $(STAMP) browser ## Run every test against PostgreSQL and Redis
	DATABASE_URL=$(TEST_DATABASE_URL) $(PY) manage.py makemigrations --check --dry-run
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 \
		$(PY) -m pytest $(PYTEST_ARGS)

test-fast: $(STAMP) ## Run the tests without the browser and worker ones
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 \
		$(PY) -m pytest -m "not browser and not worker" $(PYTEST_ARGS)

lint: $(STAMP) ## ruff, mypy, the import layers (no cycles) and repeated code in search/
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy config catalog search workers frontend webhooks analytics merchandising
	$(VENV)/bin/lint-imports
	@$(MAKE) --no-print-directory duplicate-code

# pylint's duplicate-code checker on its own (symilar): it always exits 0, so the summary decides.
duplicate-code: ## Fail on any run of 11 or more lines repeated inside search/
	@out=$$($(VENV)/bin/symilar --duplicates=11 --ignore-comments --ignore-docstrings \
		$$(find search -name '*.py' -not -path '*/migrations/*' | sort)); \
	echo "$$out" | tail -n 1; \
	echo "$$out" | grep -q ' duplicates=0 ' || { echo "$$out"; exit 1; }

format: $(STAMP) ## Format the code with ruff
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench-indexing: $(STAMP) ## Images/s of the indexing pipeline vs the naive loop (and int8)
	HF_HUB_OFFLINE=1 $(PY) bench/indexing.py

bench-vector-index: $(STAMP) ## Embedded vector index at 100k vectors: load time, p50/p95, recall@20
	$(PY) bench/vector_index.py

bench-search: $(STAMP) ## Search endpoint over HTTP at 100k products (300k images): p50/p95 vs its stages, requests/s
	HF_HUB_OFFLINE=1 $(PY) bench/search.py

bench-outbox: $(STAMP) ## What the outbox of index work adds to a merchant write (p50, with and without)
	DATABASE_URL=$(TEST_DATABASE_URL) $(PY) bench/outbox.py

bench-understanding: $(STAMP) ## Query understanding at 100k products: vocabulary build, per-query cost by query kind
	DATABASE_URL=$(TEST_DATABASE_URL) HF_HUB_OFFLINE=1 $(PY) bench/understanding.py

.PHONY: bench-ingest bench-query-runtime
bench-ingest: $(STAMP) ## Uploads through the merchant API (web + one Celery worker) until indexed vs the seed loop
	DATABASE_URL=$(TEST_DATABASE_URL) HF_HUB_OFFLINE=1 $(PY) bench/ingest.py

bench-query-runtime: $(STAMP) ## Text towers per query: eager, int8, torch.compile, ONNX Runtime fp32/int8
	HF_HUB_OFFLINE=1 $(PY) bench/query_runtime.py

.PHONY: bench-enrichment
bench-enrichment: $(STAMP) ## Colour accuracy and near-duplicate precision/recall on synthetic sets
	HF_HUB_OFFLINE=1 $(PY) bench/enrichment.py

.PHONY: bench-analytics
bench-analytics: $(STAMP) ## Search analytics: search p50 with recording on vs off, events/s, rollup of 1M events
	DATABASE_URL=$(TEST_DATABASE_URL) HF_HUB_OFFLINE=1 $(PY) bench/analytics.py

bench: bench-indexing bench-ingest bench-query-runtime bench-vector-index bench-search bench-outbox bench-understanding bench-analytics bench-enrichment ## All benchmarks

openapi: $(STAMP) ## Write the API schema to docs/openapi.yaml (a test fails when it drifts from the code)
	@# Integer ranges in the schema follow the database; the contract is PostgreSQL's (no connection is made).
	DATABASE_URL=postgres://schema@127.0.0.1:5432/schema HF_HUB_OFFLINE=1 \
		$(PY) manage.py spectacular --file docs/openapi.yaml --validate --fail-on-warn

client: $(STAMP) ## Regenerate the Python client (clients/python) from docs/openapi.yaml (a test fails when it is stale)
	$(PY) clients/generate.py write

schemathesis: $(STAMP) ## A longer schemathesis run against the OpenAPI schema
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) HF_HUB_OFFLINE=1 SCHEMATHESIS_MAX_EXAMPLES=500 \
		$(PY) -m pytest tests/test_openapi.py $(PYTEST_ARGS)

relevance: $(STAMP) ## Evaluate search relevance on the development set (nDCG@10, MRR, recall; per leg and fused)
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	export DATABASE_URL="sqlite:///$$tmp/relevance.sqlite3" VECTOR_BACKEND=embedded VECTOR_PATH="$$tmp/vectors" \
		MEDIA_ROOT="$$tmp/media" CELERY_TASK_ALWAYS_EAGER=1 LOG_LEVEL=WARNING && \
	$(PY) manage.py migrate --noinput -v 0 && \
	$(PY) manage.py load_relevance_devset && \
	$(PY) manage.py evaluate_relevance --queries search/relevance/data/queries.tsv --qrels search/relevance/data/qrels.tsv

clean: ## Remove the demo database, media, vectors and the virtual environment
	rm -rf var $(VENV)
