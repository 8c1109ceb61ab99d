# Two commands: `make demo` and `make test`. Both set up .venv/ from requirements.lock first.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
WB     := $(VENV)/bin/workbench
STAMP  := $(VENV)/.installed
DEMO   ?= demo

.PHONY: setup demo test bench clean lock

setup: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@bash scripts/system-deps.sh
	@bash scripts/browser-deps.sh
	@touch $(STAMP)

demo: setup
	$(WB) demo --out $(DEMO)

test: setup
	$(PY) -m pytest -q -p no:cacheprovider

# The benchmark suite (bench/RESULTS.md): every scale by default, ~55 min on 2 cores;
# `make bench BENCH_SCALES=demo,city` for the first ~15 min of it.
BENCH_SCALES ?= demo,city,province
bench: setup
	$(PY) -m bench --scales $(BENCH_SCALES)

# Re-pin after changing pyproject.toml's dependencies (needs the package registry).
lock:
	rm -rf .lockenv && $(PYTHON) -m venv .lockenv
	.lockenv/bin/pip install --quiet -e '.[spark,ui,test]'
	.lockenv/bin/pip freeze --all --exclude-editable | grep -v "^fund-audit-workbench\|^pip==" > requirements.lock
	rm -rf .lockenv

clean:
	rm -rf $(VENV) $(DEMO)
