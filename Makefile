# The README's commands: `make run` and `make test` do all the set-up themselves.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app app
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test lint bench install translations messages clean interop browser

# The virtualenv, rebuilt when the requirements change.
$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

# A random secret key for this machine, made once; production sets FLASK_SECRET_KEY.
instance/config.py:
	mkdir -p instance
	$(BIN)/python -c 'import secrets; print(f"SECRET_KEY = {secrets.token_hex(32)!r}")' > $@

translations: install
	$(BIN)/pybabel compile --use-fuzzy -d translations

# Refresh the catalogues from the source after changing user-facing text.
messages: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -o translations/messages.pot .
	$(BIN)/pybabel update -N -i translations/messages.pot -d translations

run: install translations instance/config.py
	$(FLASK) init-db
	$(FLASK) seed-demo --if-empty
	$(FLASK) run --host $(HOST) --port $(PORT)

# Mozilla's ical.js for the feed interoperability tests (tests/interop), when npm is
# here; without it, or offline, those tests skip and say why.
INTEROP := tests/interop
$(INTEROP)/node_modules/.package-lock.json: $(INTEROP)/package.json $(INTEROP)/package-lock.json
	cd $(INTEROP) && npm ci --no-audit --no-fund

interop:
	@if command -v npm >/dev/null 2>&1; then \
		$(MAKE) --no-print-directory $(INTEROP)/node_modules/.package-lock.json \
			|| echo "npm ci failed: the ical.js interop tests will be skipped"; \
	else \
		echo "npm not found: the ical.js interop tests will be skipped"; \
	fi

# axe-core for the browser tests (tests/browser), when npm is here; they also need
# Debian's Chromium at /usr/bin/chromium, and skip and say why without either.
BROWSER_TESTS := tests/browser
$(BROWSER_TESTS)/node_modules/.package-lock.json: $(BROWSER_TESTS)/package.json $(BROWSER_TESTS)/package-lock.json
	cd $(BROWSER_TESTS) && npm ci --no-audit --no-fund

browser:
	@if command -v npm >/dev/null 2>&1; then \
		$(MAKE) --no-print-directory $(BROWSER_TESTS)/node_modules/.package-lock.json \
			|| echo "npm ci failed: the browser tests will be skipped"; \
	else \
		echo "npm not found: the browser tests will be skipped"; \
	fi

# The suite over TEST_WORKERS processes (pytest-xdist): two, the cores of the CI
# machine; each worker has its own database, ports and Redis keys, and the tests
# of one file run on one (`--dist loadfile`, in pyproject.toml). More
# workers than cores only contend, as every worker's gunicorn servers and
# PostgreSQL connections add up: `make test TEST_WORKERS=auto` on a larger one,
# `TEST_WORKERS=0` for one process. The tests marked serial run alone afterwards.
TEST_WORKERS ?= 2

test: install translations interop browser
	$(BIN)/python -m pytest -n $(TEST_WORKERS) -m "not serial"
	$(BIN)/python -m pytest -m serial

lint: install
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache $(INTEROP)/node_modules $(BROWSER_TESTS)/node_modules
