# Two commands on a fresh machine: `make demo` and `make test`. Both bootstrap .venv.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
DEMO   := demo-archive

.PHONY: demo test lint typecheck pytest stress bench bench-quick bench-full clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@ $(VENV)/.installed

demo: $(VENV)/.installed
	rm -rf $(DEMO)
	$(BIN)/imarchive ingest samples/whatsapp --archive $(DEMO) --timezone Europe/London --custodian "Demo Custodian"
	@if [ -d samples/wechat ]; then $(BIN)/imarchive ingest samples/wechat --archive $(DEMO) --custodian "Demo Custodian"; fi
	$(BIN)/imarchive ingest samples/wechat-exports/memotrace samples/wechat-exports/pywxdump --archive $(DEMO) --timezone Asia/Shanghai --custodian "Demo Custodian" --owner wxid_owner01
	$(BIN)/imarchive ingest samples/wechat-exports/wechatexporter --archive $(DEMO) --timezone Asia/Shanghai --custodian "Demo Custodian" --owner Owen
	$(BIN)/imarchive info --archive $(DEMO)
	cd $(DEMO) && sha256sum -c --strict --quiet SHA256SUMS && echo "SHA256SUMS: all files match"
	$(BIN)/imarchive verify --archive $(DEMO)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check src tests benchmarks

typecheck: $(VENV)/.installed-test
	$(BIN)/mypy

pytest: $(VENV)/.installed-test
	$(BIN)/pytest

test: lint typecheck pytest

stress: $(VENV)/.installed-test
	$(BIN)/pytest -m stress -o addopts=-q

bench: $(VENV)/.installed-test
	$(BIN)/python benchmarks/run.py $(BENCH_ARGS)

bench-quick: $(VENV)/.installed-test
	$(BIN)/python benchmarks/run.py --quick $(BENCH_ARGS)

bench-full: $(VENV)/.installed-test
	$(BIN)/python benchmarks/run.py --full $(BENCH_ARGS)

clean:
	rm -rf $(VENV) $(DEMO) .mypy_cache .ruff_cache .pytest_cache
