# Two commands on a fresh machine with Python 3.11+ and make: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
CHROMIUM ?= /usr/bin/chromium
# Development runs: DEBUG on, SQLite under var/ unless DATABASE_URL says otherwise.
DEV := DEBUG=1
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: install demo run test test-fast lint format messages check-deploy clean

$(VENV)/.installed: pyproject.toml uv.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv sync --frozen
	touch $@

install: $(VENV)/.installed

demo: install
	$(DEV) $(BIN)/python manage.py migrate --no-input
	$(DEV) $(BIN)/python manage.py seed_demo
	@echo "Serving on http://127.0.0.1:8000 with a worker and the scheduler (Ctrl-C stops them)"
	$(DEV) $(BIN)/honcho start

# The web server, a background worker and the scheduler (Procfile), without seeding.
run: install
	$(DEV) $(BIN)/python manage.py migrate --no-input
	$(DEV) $(BIN)/honcho start

# The whole suite; the browser tests need Debian's Chromium and say so when it is missing.
test: install
	@if [ -x "$(CHROMIUM)" ]; then \
		$(BIN)/pytest; \
	else \
		echo "*** No Chromium at $(CHROMIUM): the browser tests were NOT run (apt-get install chromium). ***"; \
		$(BIN)/pytest -m "not e2e"; \
	fi

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Needs GNU gettext (apt-get install gettext); the compiled catalogue is committed.
messages: install
	$(DEV) $(BIN)/python manage.py makemessages --locale zh_Hans --no-obsolete --no-location --ignore .venv --ignore var
	$(DEV) $(BIN)/python manage.py compilemessages --locale zh_Hans --ignore .venv

clean:
	rm -rf $(VENV) var
