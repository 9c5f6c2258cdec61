# The README's commands. Needs only Python 3.11+ on the machine.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
FLASK   = $(BIN)/flask --app wsgi
export FLASK_APP = wsgi

.PHONY: install translations migrate demo run worker test bench lint extract-messages

install: $(VENV)/.installed translations

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

translations: $(VENV)/.installed
	$(BIN)/pybabel compile -d translations

migrate: install
	$(FLASK) db upgrade

demo: migrate
	$(FLASK) demo load

# Web server and worker (with beat) on the embedded defaults; Ctrl-C stops both.
run: demo
	@mkdir -p instance
	@echo "Serving http://127.0.0.1:5000 — demo logins in README.md"
	$(BIN)/celery -A worker worker -B --loglevel=INFO --concurrency=2 & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker' EXIT INT TERM; \
	$(BIN)/gunicorn --workers 2 --threads 4 --bind 127.0.0.1:5000 --no-control-socket --access-logfile - wsgi:app

worker: install
	$(BIN)/celery -A worker worker -B --loglevel=INFO

test: install
	$(BIN)/pytest -n auto -p no:cacheprovider $(PYTEST_ARGS)

bench: install
	@for b in bench/*.py; do $(BIN)/python $$b $(BENCH_ARGS) || exit 1; done

lint: install
	$(BIN)/ruff check --select E9,F,B --exclude migrations --exclude .venv .

extract-messages: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k _p:1c,2 --no-location --sort-output -o translations/messages.pot --ignore-dirs='.venv instance tests bench migrations' .
	$(BIN)/pybabel update -i translations/messages.pot -d translations --no-fuzzy-matching --ignore-obsolete
