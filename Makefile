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

# Where run-time files go: the SQLite file, the embedded broker, the secret key (the settings read the same
# CONSOLE_VAR_DIR, and find the key there: management commands use the console's key).
CONSOLE_VAR_DIR ?= var

$(CONSOLE_VAR_DIR)/secret_key:
	mkdir -p $(CONSOLE_VAR_DIR)
	umask 077; $(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(50))' > $@

# The demo's origins are loopback servers and documentation addresses, which origins may not be elsewhere.
DEMO_ORIGIN_NETWORKS := 127.0.0.0/8,192.0.2.0/24,198.51.100.0/24,203.0.113.0/24

run: install $(CONSOLE_VAR_DIR)/secret_key
	export ORIGIN_ALLOWED_NETWORKS="$${ORIGIN_ALLOWED_NETWORKS-$(DEMO_ORIGIN_NETWORKS)}"; \
	export EDGE_AGENT_ORIGIN_ALLOW="$${EDGE_AGENT_ORIGIN_ALLOW-$$ORIGIN_ALLOWED_NETWORKS}"; \
	export SECURE_SSL="$${SECURE_SSL:-false}"; \
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
	CONSOLE_VAR_DIR=$(CURDIR)/var/bench ORIGIN_ALLOWED_NETWORKS=127.0.0.0/8 EDGE_AGENT_ORIGIN_ALLOW=127.0.0.0/8 \
	SECURE_SSL=false

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
	SECRET_KEY=bench CONSOLE_VAR_DIR=$(CURDIR)/var/bench ORIGIN_ALLOWED_NETWORKS=127.0.0.0/8,203.0.113.0/24 \
	SECURE_SSL=false ALIBABA_API_ACCOUNT_RATE_LIMIT=0

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
