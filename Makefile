# The two commands a fresh machine needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install run test test-sqlite test-postgres lint schema bench

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: install
	$(BIN)/laurel serve

lint: install
	$(BIN)/ruff check app tests bench
	$(BIN)/mypy app
	$(BIN)/lint-imports

# The two backends' suites run side by side (each has its own database and Redis database).
test: lint
	$(MAKE) --no-print-directory -j2 --output-sync=target test-sqlite test-postgres

test-sqlite: install
	LAUREL_TEST_BACKEND=sqlite $(BIN)/pytest

test-postgres: install
	LAUREL_TEST_BACKEND=postgres $(BIN)/pytest

schema: install
	$(BIN)/python -c 'from app.api.schema import schema_sdl; print(schema_sdl(), end="")' > schema.graphql

bench: install
	$(BIN)/python bench/run.py --backend sqlite --achievements 10
