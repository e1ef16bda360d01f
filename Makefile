# Two commands matter: `make run` (set up and serve the demo) and `make test` (the whole suite).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
MANAGE := $(PY) manage.py
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run install migrate demo totp test lint format bench bench-watermark messages vendor clean

# Installs with uv (from PyPI: parallel downloads, several times faster than pip) and falls back to pip
# wherever uv cannot be had or fails.
$(STAMP): pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@if $(PY) -m pip install --quiet --disable-pip-version-check uv >/dev/null 2>&1 \
		&& $(VENV)/bin/uv pip install --quiet --python $(PY) -c requirements.lock ".[dev]"; then \
		echo "Installed with uv"; \
	else \
		echo "Installing with pip"; \
		$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip \
		&& $(PY) -m pip install --quiet --disable-pip-version-check -c requirements.lock ".[dev]"; \
	fi
	@rm -rf build *.egg-info
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(MANAGE) migrate --noinput --verbosity 0
	$(MANAGE) collectstatic --noinput --verbosity 0

# The demo's screeners are queued for `make run`'s worker, which packages them while the server already
# serves (DEMO_SCREENERS=N: only the first N films get one).
demo: migrate
	$(MANAGE) seed_demo_all $(if $(DEMO_SCREENERS),--screeners $(DEMO_SCREENERS))

run: demo
	HOST=$(HOST) PORT=$(PORT) VENV=$(VENV) $(if $(DEMO_SCREENERS),DEMO_SCREENERS=$(DEMO_SCREENERS)) exec infra/run-embedded

totp: install
	@$(MANAGE) demo_accounts --code

test: install
	$(PY) -m pytest -n $${PYTEST_WORKERS:-2} --dist loadgroup $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy platform screening offers payments
	PYTHONPATH=platform $(VENV)/bin/lint-imports --no-cache

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: install
	@command -v wrk >/dev/null || (apt-get install -y -qq wrk >/dev/null 2>&1 || echo "wrk not installed: using the slower Python load generator")
	RUN_BENCH=1 $(PY) -m pytest tests/bench -p no:xdist -s -q

bench-watermark: install
	RUN_BENCH=1 $(PY) -m pytest tests/bench/test_watermark_bench.py -p no:xdist -s -q

messages: install
	$(MANAGE) makemessages -l es -l fr --no-obsolete --ignore '.venv/*' --ignore 'var/*' --ignore 'tests/*'
	$(MANAGE) makemessages -d djangojs -l es -l fr --no-obsolete --ignore '.venv/*' --ignore 'var/*' \
		--ignore 'tests/*' --ignore 'platform/static/vendor/*'
	$(PY) infra/compile_messages.py

vendor:
	infra/vendor.sh

clean:
	rm -rf var build *.egg-info
