# Zhijiao (智矫) — the two commands: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
# What each target installs: the demo is one SQLite box with the kiosk's face check-in; the
# tests (and the benchmarks) need every optional part, since CI tests them all.
EXTRAS_demo := face
EXTRAS_test := test
DEMO_STAMP := $(VENV)/.installed-demo
TEST_STAMP := $(VENV)/.installed-test
export ZHIJIAO_DATA_DIR ?= ./var
PYTEST_ARGS ?=
# make demo PORT=8090 JT808_PORT=6809 HISTORY_DAYS=30: the web port, the bracelets' JT/T 808 port, the history.
PORT ?=
JT808_PORT ?=
HISTORY_DAYS ?= 90

.PHONY: demo test install bench serve migrate clean lint

$(VENV)/.installed-%: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip setuptools wheel
	$(PIP) install -q -e '.[$(EXTRAS_$*)]'
	touch $@

install: $(DEMO_STAMP)

migrate: $(DEMO_STAMP)
	$(VENV)/bin/zhijiao db upgrade

demo: $(DEMO_STAMP)
	ZHIJIAO_DEMO_MODE=true $(if $(PORT),ZHIJIAO_PORT=$(PORT)) $(if $(JT808_PORT),ZHIJIAO_JT808_PORT=$(JT808_PORT)) \
		$(VENV)/bin/zhijiao demo --history-days $(HISTORY_DAYS)

serve: $(DEMO_STAMP)
	$(VENV)/bin/zhijiao serve

test: $(TEST_STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

bench: $(TEST_STAMP)
	@for f in bench/[a-z]*.py; do echo "# $$f" >&2; $(PY) $$f || exit 1; done

clean:
	rm -rf $(VENV) var build dist src/*.egg-info
