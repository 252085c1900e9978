# Two commands matter: `make demo` (set up and run the product) and `make test` (set up and pass the tests).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: demo serve test test-deps system-deps messages latency clean

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

## make messages: refresh the translation catalogues after changing user-visible strings
messages: $(VENV)/.installed
	$(BIN)/python manage.py makemessages -l fr -l en --no-obsolete --ignore '.venv/*' --ignore 'tests/*'
	$(BIN)/python manage.py makemessages -d djangojs -l fr -l en --no-obsolete --ignore '.venv/*' || true
	$(BIN)/python manage.py compilemessages --ignore '.venv/*'

clean:
	rm -rf $(VENV) var test-artifacts .pytest_cache
