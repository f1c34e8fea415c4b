# The documented entry points. `make run` and `make test` work on a fresh clone with nothing
# installed by hand; everything lands in .venv/ at the repo root.
SHELL := /bin/bash
.DEFAULT_GOAL := help

UV_VERSION := 0.13.9
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
# Development defaults: the embedded stack (SQLite in var/, local-memory cache, eager tasks).
DEV_ENV := DJANGO_DEBUG=1

# The first interpreter that is Python >= 3.12 (Django 6.1's floor); PYTHON=... overrides.
PYTHON ?= $(shell for p in python3.13 python3.12 python3 python; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null \
	&& { command -v $$p; break; }; done)

.PHONY: help install messages run test lint format migrate seed superuser worker beat bench stack clean lint-deploy
.PHONY: bench-report bench-small bench-imports soak

help:  ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(BIN)/uv:
	@if [ -z "$(PYTHON)" ]; then \
		echo "error: Python >= 3.12 is required (Django 6.1). Install it (e.g. pyenv install 3.13)"; \
		echo "       or point to one: make install PYTHON=/path/to/python3.13"; exit 1; fi
	@echo "Creating $(VENV) with $(PYTHON) ($$($(PYTHON) --version))"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.synced: $(BIN)/uv pyproject.toml uv.lock
	$(BIN)/uv sync --locked --inexact --python $(PY) --quiet
	@touch $@

# The .mo files Django reads, compiled from the .po files in git whenever one changed.
$(VENV)/.messages: $(VENV)/.synced $(wildcard */locale/*/LC_MESSAGES/*.po)
	@command -v msgfmt >/dev/null || { echo "error: msgfmt is missing (GNU gettext), which compiles the"; \
		echo "       translations: sudo bash bin/install-system-deps (or apt-get install gettext)"; exit 1; }
	$(PY) bin/messages compile
	@touch $@

install: $(VENV)/.messages  ## Create .venv/ with the locked dependencies and compile the translations

messages: install  ## Gather new strings into each app's Russian catalogue (then translate them)
	$(PY) bin/messages

migrate: install
	$(DEV_ENV) $(PY) manage.py migrate --noinput

seed: migrate  ## Load demo data (only into an empty database)
	$(DEV_ENV) $(PY) manage.py seed_demo --if-empty

run: seed  ## Set up and serve the app with demo data on http://127.0.0.1:8000
	@echo ""
	@echo "  Mini CRM on http://127.0.0.1:8000/   log in as (user / password):"
	@echo "    demo / demo12345         superuser: everything, the admin included"
	@echo "    manager / manager12345   Managers: everything with clients and orders"
	@echo "    sales / sales12345       Sales: view, add, change (no delete, merge, export)"
	@echo "    viewer / viewer12345     Viewers: view only"
	@echo "    demo-ru / demo-ru12345   Managers, in Russian (its profile: Russian, Europe/Moscow)"
	@echo ""
	$(DEV_ENV) $(PY) manage.py runserver 127.0.0.1:8000

test: install  ## Run the test suite (embedded default; set DATABASE_URL/REDIS_URL for the real stack)
	$(BIN)/pytest $(PYTEST_ARGS)

lint: install  ## ruff check + format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install  ## Fix what ruff can fix
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

.PHONY: screenshots
screenshots: install  ## Retake the README's screenshots (docs/screenshots/) in headless Chromium
	$(PY) bin/screenshots

superuser: migrate  ## Create a superuser (reads DJANGO_SUPERUSER_* when --noinput is wanted)
	$(DEV_ENV) $(PY) manage.py createsuperuser

# --- Monthly report: Celery worker and beat (README "Monthly report") ---------------------------
# Both need Redis: without REDIS_URL tasks run eagerly inside the web process and there is
# nothing to consume or schedule.
define need_redis
	@if [ -z "$$REDIS_URL" ]; then \
		echo "error: REDIS_URL is not set. The worker and beat need Redis, e.g."; \
		echo "       REDIS_URL=redis://127.0.0.1:6379/0 make $@"; \
		echo "       (without it tasks run eagerly in the web process: nothing to start)"; exit 1; fi
endef

worker: install  ## Run a Celery worker (needs REDIS_URL)
	$(need_redis)
	$(DEV_ENV) $(PY) manage.py migrate --noinput
	$(DEV_ENV) $(BIN)/celery -A mini_crm worker --loglevel=INFO

beat: install  ## Run Celery beat, the scheduler: exactly ONE per deployment (needs REDIS_URL)
	$(need_redis)
	@mkdir -p var
	$(DEV_ENV) $(BIN)/celery -A mini_crm beat --loglevel=INFO

bench-report: install  ## Time the monthly report for 1,000,000 orders on PostgreSQL
	$(PY) bench/report.py $(BENCH_ARGS)
# --- end monthly report ------------------------------------------------------------------------

# --- Bench (bench/README.md): seeds PostgreSQL, serves it with gunicorn, measures with wrk -----
BENCH_CLIENTS ?= 100000
BENCH_ORDERS ?= 1000000
BENCH_ARGS ?=
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/mini_crm_bench
BENCH_SMALL_DATABASE_URL ?= $(BENCH_DATABASE_URL)_small
BENCH_REDIS_URL ?= redis://127.0.0.1:6379/6
BENCH_ENV := BENCH_DATABASE_URL=$(BENCH_DATABASE_URL) BENCH_SMALL_DATABASE_URL=$(BENCH_SMALL_DATABASE_URL) \
	BENCH_REDIS_URL=$(BENCH_REDIS_URL)

bench: install  ## Benchmark the pages at 1k and 100k clients (BENCH_CLIENTS, BENCH_ORDERS, BENCH_ARGS)
	$(BENCH_ENV) $(PY) -m bench.run --clients $(BENCH_CLIENTS) --orders $(BENCH_ORDERS) $(BENCH_ARGS)

bench-small: install  ## Quick bench smoke run: 1,000 clients / 10,000 orders against 100 / 1,000
	$(BENCH_ENV) $(PY) -m bench.run --quick $(BENCH_ARGS)

bench-imports: install  ## Time importing 100,000 clients and orders (CSV, .xlsx) beside django-import-export
	$(PY) -m bench.imports $(BENCH_ARGS)

.PHONY: bench-timeline
bench-timeline: install  ## Time the history's cost on order creation and a client page with 10,000 entries
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres} $(PY) -m bench.timeline $(BENCH_ARGS)

# Its own PostgreSQL (initdb on :18032) and Redis (:18079), never the machine's: it restarts them.
# Needs nginx, redis-server and PostgreSQL 15's binaries (SOAK_PG_BIN). Not in CI.
SOAK_SECONDS ?= 300
soak: install  ## Soak the production stack: 32 users, 5 min, Redis and PostgreSQL restarted (~7 min)
	SOAK_SECONDS=$(SOAK_SECONDS) $(PY) -m bench.soak $(SOAK_ARGS)

clean:  ## Remove .venv/ and var/ (the local database and media)
	rm -rf $(VENV) var

# --- The production stack ------------------------------------------------------------------
stack: install  ## The production stack without Docker (needs DATABASE_URL, REDIS_URL; nginx on :8080)
	bin/stack

lint-deploy: install  ## Lint the Dockerfile (hadolint) and validate docker-compose.yml (dclint)
	$(BIN)/hadolint Dockerfile
	npx --yes dclint@3.1.0 docker-compose.yml
