# Zhijiao (智矫) — the two commands: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed
export ZHIJIAO_DATA_DIR ?= ./var
PYTEST_ARGS ?=

.PHONY: demo test install bench serve migrate clean lint

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip setuptools wheel
	$(PIP) install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

migrate: $(STAMP)
	$(VENV)/bin/zhijiao db upgrade

demo: $(STAMP)
	ZHIJIAO_DEMO_MODE=true $(VENV)/bin/zhijiao demo

serve: $(STAMP)
	$(VENV)/bin/zhijiao serve

test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

bench: $(STAMP)
	@for f in bench/[a-z]*.py; do echo "# $$f" >&2; $(PY) $$f || exit 1; done

clean:
	rm -rf $(VENV) var build dist src/*.egg-info
