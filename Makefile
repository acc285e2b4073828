VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install run test schema schema-check lint bench format

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/schoolgraph dev

test: $(STAMP)
	$(PY) -m pytest

schema: $(STAMP)
	$(PY) -m app.graphql.export > schema.graphql

schema-check: $(STAMP)
	@$(PY) -m app.graphql.export > .schema.graphql.tmp
	@diff -u schema.graphql .schema.graphql.tmp && rm -f .schema.graphql.tmp || \
		(rm -f .schema.graphql.tmp; echo "schema.graphql is out of date: run 'make schema'"; exit 1)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy app workers

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: $(STAMP)
	$(PY) -m bench
	$(PY) -m bench.compiled
