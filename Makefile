# The two commands a newcomer needs: `make demo` (main job, offline) and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install lint typecheck test demo bench soak clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# A venv made before the rename holds the old distribution name; drop it first.
	$(PY) -m pip uninstall -q -y bedrock-kit 2>/dev/null || true
	$(PY) -m pip install -q -e ".[all,test]"
	touch $(STAMP)

install: $(STAMP)

lint: $(STAMP)
	$(VENV)/bin/ruff check bedrock_kit tests benchmarks
	$(VENV)/bin/ruff format --check bedrock_kit tests benchmarks

typecheck: $(STAMP)
	$(VENV)/bin/mypy

test: lint typecheck
	$(PY) -m pytest -q -n auto

demo: $(STAMP)
	$(VENV)/bin/bedrock-kit demo

bench: $(STAMP)
	$(PY) -m pip install -q -r benchmarks/requirements.txt
	$(PY) benchmarks/run.py

soak: $(STAMP)
	$(PY) benchmarks/soak.py --calls 10000

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
