# The first and only commands a newcomer types: `make demo`, `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: install demo test test-rules bench kafka-start kafka-stop clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,embedded,rocksdb]'
	touch $(STAMP)

demo: install
	$(BIN)/inapp demo

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-rules: install
	$(BIN)/python -m pytest tests/rules $(PYTEST_ARGS)

bench: install
	$(BIN)/python -m bench.run --preset quick

kafka-start:
	bash scripts/kafka/kafka.sh start

kafka-stop:
	bash scripts/kafka/kafka.sh stop

clean:
	rm -rf $(VENV) .inapp-data .pytest_cache .hypothesis
