# The ways in: make run, make test, make bench, make build, make lint.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.mzdesk-installed

.PHONY: run test test-fast lint bench build screenshot clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

## run: open mzdesk on the default database (offers the demo township on first start)
run: $(STAMP)
	$(PY) -m mzdesk

## test: system libraries Qt needs offscreen, Python packages, then the whole suite
test: $(STAMP)
	bash scripts/system-deps.sh
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -n 2

test-fast: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -m "not slow"

lint: $(STAMP)
	$(VENV)/bin/ruff check mzdesk tests bench
	$(VENV)/bin/ruff format --check mzdesk tests bench

bench: $(STAMP)
	bash scripts/system-deps.sh
	QT_QPA_PLATFORM=offscreen $(PY) bench/bench_core.py
	$(PY) bench/bench_notice.py
	$(PY) bench/bench_booklet.py
	$(PY) bench/bench_roster.py
	$(PY) bench/bench_sync.py
	$(PY) bench/bench_hostile.py
	$(PY) bench/bench_soak.py

build: $(STAMP)
	$(VENV)/bin/pyinstaller --noconfirm --clean build.spec

screenshot: $(STAMP)
	bash scripts/system-deps.sh
	xvfb-run -a $(PY) scripts/screenshot.py docs/main-window.png
	QT_QPA_PLATFORM=offscreen $(PY) scripts/tekun_panel.py docs/tekun-panel.png
	MZ_SCREENSHOTS=docs/clerks-day QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q -p no:cacheprovider tests/ui/test_clerks_day.py

clean:
	rm -rf build dist .pytest_cache
