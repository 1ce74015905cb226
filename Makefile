# Two commands do the whole set-up on a fresh machine: `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench install clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/anshin db upgrade
	$(BIN)/anshin demo
	$(BIN)/anshin serve --host 127.0.0.1 --port 8000

test: $(STAMP)
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

# bench/fanout.py takes several minutes at full size: `make bench BENCHES=fanout`;
# bench/burst.py: `make bench BENCHES=burst`.
BENCHES ?= statuspage
BENCH_ARGS ?=
bench: $(STAMP)
	for b in $(BENCHES); do $(BIN)/python bench/$$b.py $(BENCH_ARGS) || exit 1; done

clean:
	rm -rf $(VENV) anshin.db anshin.db-* .pytest_cache .mypy_cache .ruff_cache
