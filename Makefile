# The two commands a newcomer needs: `make demo` (main job, offline) and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install lint typecheck docs test demo bench soak clean

# A venv made before the rename to bedrock-bridge holds the old distribution: dropped first.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip uninstall -q -y bedrock-kit 2>/dev/null || true
	$(PY) -m pip install -q -e ".[all,test,docs]"
	touch $(STAMP)

install: $(STAMP)

lint: $(STAMP)
	$(VENV)/bin/ruff check bedrock_kit tests benchmarks
	$(VENV)/bin/ruff format --check bedrock_kit tests benchmarks

typecheck: $(STAMP)
	$(VENV)/bin/mypy

# The documentation site; --strict fails on a broken link or API reference.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --quiet --site-dir $(VENV)/site

test: lint typecheck docs
	$(PY) -m pytest -q -n auto

demo: $(STAMP)
	$(VENV)/bin/bedrock-kit demo

bench: $(STAMP)
	$(PY) -m pip install -q -r benchmarks/requirements.txt
	$(PY) benchmarks/run.py

soak: $(STAMP)
	$(PY) benchmarks/soak.py --calls 10000

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .cache site
