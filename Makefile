# Two commands matter: `make demo` (set up and run the product) and `make test` (set up and pass the tests).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: demo serve test test-deps system-deps messages latency bench bench-smoke serve-prod clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install -q -e '.[test]'
	@touch $@

## make demo: a seeded group and a live workshop on http://127.0.0.1:8000 (SQLite, nothing else)
demo: $(VENV)/.installed
	@scripts/system-deps.sh pdf
	$(BIN)/python manage.py migrate --noinput -v0
	$(BIN)/python manage.py seed_demo --base-url http://$(HOST):$(PORT)
	$(BIN)/uvicorn codev.asgi:application --host $(HOST) --port $(PORT) --no-access-log

serve: $(VENV)/.installed
	$(BIN)/python manage.py migrate --noinput -v0
	$(BIN)/uvicorn codev.asgi:application --host $(HOST) --port $(PORT) --no-access-log

system-deps:
	@scripts/system-deps.sh

test-deps: $(VENV)/.installed-test system-deps

## make test: the whole suite on SQLite, then again on PostgreSQL (+ Redis) when reachable
test: test-deps
	@scripts/test.sh

## make latency: delay from submit to every screen in one live workshop of 8 (prints figures)
latency: $(VENV)/.installed-test
	$(BIN)/python bench/latency.py

## make bench: K live workshops of 8 over real websockets, then the same against a bare fan-out
## server; a table and one JSON line. e.g. make bench WORKSHOPS=200 SECONDS=20 BENCH_ARGS="--workers 2 --postgres --redis"
WORKSHOPS ?= 50
SECONDS ?= 20
BENCH_ARGS ?=
bench: $(VENV)/.installed-test
	$(BIN)/python -m bench --workshops $(WORKSHOPS) --seconds $(SECONDS) $(BENCH_ARGS)

## make bench-smoke: a few workshops for a few seconds; fails unless nothing is lost or duplicated
bench-smoke: $(VENV)/.installed-test
	$(BIN)/pytest -q tests/test_bench_smoke.py

## make serve-prod: the production layout locally: nginx (if installed) in front of WORKERS uvicorn
## workers, PostgreSQL and Redis (docs/deploy.md)
WORKERS ?= 2
PROD_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/codev
PROD_REDIS_URL ?= redis://127.0.0.1:6379/0
serve-prod: $(VENV)/.installed
	HOST=$(HOST) PORT=$(PORT) WORKERS=$(WORKERS) DATABASE_URL=$(PROD_DATABASE_URL) REDIS_URL=$(PROD_REDIS_URL) deploy/serve.sh

## make messages: refresh the translation catalogues after changing user-visible strings
messages: $(VENV)/.installed-test
	$(BIN)/python manage.py makemessages -l fr -l en --no-obsolete --ignore '.venv/*' --ignore 'tests/*' --ignore 'bench/*'
	$(BIN)/python scripts/english_catalogue.py
	$(BIN)/python manage.py makemessages -d djangojs -l fr -l en --no-obsolete --ignore '.venv/*' || true
	$(BIN)/python manage.py compilemessages --ignore '.venv/*'

clean:
	rm -rf $(VENV) var test-artifacts .pytest_cache
