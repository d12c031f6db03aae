# `make run`: the console with its demo data, a Celery worker and three edge agents. `make test`: the suite.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.12 2>/dev/null || echo python3)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000

.PHONY: install run test lint messages bench bench-fanout bench-pages bench-api bench-edge clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -c 'import sys; assert sys.version_info >= (3, 12), "Python 3.12 or newer is needed"'

$(VENV)/.installed: requirements.lock | $(BIN)/python
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --require-hashes -r requirements.lock
	touch $@

# The browser tests' accessibility check needs axe-core from package-lock.json; without npm it is skipped
# (and fails under CI=true, where .ci/run installs nodejs and npm).
node_modules/.package-lock.json: package-lock.json
	@if command -v npm >/dev/null; then npm ci --no-audit --no-fund --loglevel=error; \
	else echo "npm not found: the accessibility tests will skip (apt-get install nodejs npm)"; fi

install: $(VENV)/.installed node_modules/.package-lock.json

var/secret_key:
	mkdir -p var
	umask 077; $(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(50))' > $@

run: install var/secret_key
	export SECRET_KEY="$${SECRET_KEY:-$$(cat var/secret_key)}"; \
	$(BIN)/python manage.py migrate --noinput && \
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0 && \
	$(BIN)/python manage.py seed_demo && \
	echo "CDN Console on http://127.0.0.1:$(PORT)/ (Ctrl-C stops everything)" && \
	PATH="$(CURDIR)/$(BIN):$$PATH" CONSOLE_PORT=$(PORT) exec $(BIN)/honcho start --no-prefix -f Procfile 2>&1 || true

test: install
	$(BIN)/pytest

# Benchmarks run on their own PostgreSQL database and Redis database, never the console's.
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/cdn_console_bench
BENCH_REDIS_URL ?= redis://127.0.0.1:6379/14
BENCH_ENV = DATABASE_URL=$(BENCH_DATABASE_URL) REDIS_URL=$(BENCH_REDIS_URL) CELERY_BROKER_URL= SECRET_KEY=bench \
	CONSOLE_VAR_DIR=$(CURDIR)/var/bench

bench: bench-fanout bench-pages bench-api bench-edge

bench-fanout: install
	psql "$(dir $(BENCH_DATABASE_URL))postgres" -qc "CREATE DATABASE $(notdir $(BENCH_DATABASE_URL))" 2>/dev/null || true
	$(BENCH_ENV) $(BIN)/python manage.py migrate --noinput --verbosity 0
	$(BENCH_ENV) $(BIN)/python manage.py bench_fanout

# Collect every translatable string into locale/zh_Hans/LC_MESSAGES/django.po (new ones untranslated), then
# compile the .mo that Django reads. Translate the empty msgstr entries, run it again, commit both files.
MESSAGES_IGNORE := --ignore=.venv --ignore=node_modules --ignore=staticfiles --ignore=var --ignore=tests

messages: install
	SECRET_KEY=messages $(BIN)/python manage.py makemessages --locale=zh_Hans --no-obsolete --add-location=file $(MESSAGES_IGNORE)
	SECRET_KEY=messages $(BIN)/python manage.py compilemessages --locale=zh_Hans $(MESSAGES_IGNORE)

bench-pages: install
	psql "$(dir $(BENCH_DATABASE_URL))postgres" -qc "CREATE DATABASE $(notdir $(BENCH_DATABASE_URL))" 2>/dev/null || true
	$(BENCH_ENV) $(BIN)/python manage.py migrate --noinput --verbosity 0
	$(BENCH_ENV) $(BIN)/python manage.py bench_pages

# The API benchmark seeds its own account and domains, on a database of its own (no edge nodes of bench-fanout).
BENCH_API_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/cdn_console_bench_api
BENCH_API_REDIS_URL ?= redis://127.0.0.1:6379/13
BENCH_API_ENV = DATABASE_URL=$(BENCH_API_DATABASE_URL) REDIS_URL=$(BENCH_API_REDIS_URL) CELERY_BROKER_URL= \
	SECRET_KEY=bench CONSOLE_VAR_DIR=$(CURDIR)/var/bench

bench-api: install
	psql "$(dir $(BENCH_API_DATABASE_URL))postgres" -qc "CREATE DATABASE $(notdir $(BENCH_API_DATABASE_URL))" 2>/dev/null || true
	$(BENCH_API_ENV) $(BIN)/python manage.py migrate --noinput --verbosity 0
	$(BENCH_API_ENV) $(BIN)/python manage.py bench_api

# One edge agent with its real nginx holding 100 to 50,000 domains; needs nginx, its Lua module and dnsmasq.
bench-edge: install
	$(BIN)/python -m edge_agent.bench

# Style, and the layers of the house (import-linter's contracts in pyproject.toml; the suite checks them too).
lint: install
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/lint-imports

clean:
	rm -rf var staticfiles
