# Filrouge: `make demo` to try it, `make test` to check it. `make help` lists every target.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
KEYWORDS = $(shell $(BIN)/python -c "from filrouge.i18n import EXTRACT_KEYWORDS as k; print(' '.join('-k ' + x for x in k))")
LOCALE := src/filrouge/locale
PYTEST_WORKERS ?= 2

.PHONY: help install demo serve test lint typecheck browser pytest bench eval-triage messages clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	rm -f $(VENV)/.installed-* && touch $(STAMP)

install: $(STAMP) ## Create .venv with the package and the dev tools

demo: install ## Install, migrate ./var/filrouge.db, load the demo data, serve on :8000
	$(BIN)/filrouge migrate
	$(BIN)/filrouge demo
	$(BIN)/filrouge serve --host 127.0.0.1 --port 8000

serve: install ## Serve on :8000 without loading anything
	$(BIN)/filrouge migrate
	$(BIN)/filrouge serve --host 127.0.0.1 --port 8000

test: install lint typecheck browser pytest ## Every check: ruff, mypy, the whole suite

lint: install ## ruff (lint and format check)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: install ## mypy on the package
	$(BIN)/mypy

browser: ## Debian's Chromium for the browser tests (installed with apt-get when missing)
	@test -x /usr/bin/chromium || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
		&& apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } \
		|| { echo "The browser tests need /usr/bin/chromium: sudo apt-get install chromium"; exit 1; }

pytest: install ## The suite on $(PYTEST_WORKERS) workers (and on PostgreSQL when FILROUGE_TEST_DATABASE_URL is set)
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

bench: install ## Every benchmark (Redis on :6379), figures in docs/PERFORMANCE.md
	$(BIN)/python benchmarks/ingest.py
	$(BIN)/python benchmarks/inbox.py
	$(BIN)/python benchmarks/realtime.py
	$(BIN)/python benchmarks/mail_parse.py
	$(BIN)/python benchmarks/mail_ingest.py
	$(BIN)/python benchmarks/webhooks.py
	$(BIN)/python benchmarks/analytics.py
	$(BIN)/python benchmarks/dashboard.py
	$(BIN)/python benchmarks/triage.py
	$(BIN)/python benchmarks/customer_import.py
	$(BIN)/python benchmarks/concierge.py
	$(BIN)/python benchmarks/routing.py
	$(BIN)/python benchmarks/search.py
	$(BIN)/python benchmarks/sla.py
	$(BIN)/python benchmarks/automation.py

eval-triage: install ## Triage's precision, recall, F1 on ../shared/data/triage (FILROUGE_SHARED_DATA), docs/TRIAGE.md
	$(BIN)/python -m filrouge.triage.evaluate

messages: install ## Re-extract translatable messages and update the fr/en catalogues
	$(BIN)/pybabel extract -F babel.cfg --no-default-keywords $(KEYWORDS) --no-location \
		--omit-header --sort-output -o $(LOCALE)/messages.pot src/filrouge
	$(BIN)/pybabel update -i $(LOCALE)/messages.pot -d $(LOCALE) -D messages \
		--no-fuzzy-matching --omit-header

clean: ## Remove the venv, the demo database and caches
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
