# Customer Back Office: developer entry points.
#
#   make run     set up everything (virtualenv, .env, migrations, demo data) and serve
#                on http://127.0.0.1:$(PORT)/ with a django-q2 worker; Ctrl-C stops both
#   make test    run the test suite (PostgreSQL when DATABASE_URL points at one, else SQLite)
#   make lint    ruff and the import contracts (lint-imports)
#   make bench   performance benchmarks (DATABASE_URL must point at PostgreSQL)
#   make clean   remove the virtualenv, the SQLite database and var/

PYTHON ?= python3
VENV = .venv
PORT ?= 8000

PY = $(VENV)/bin/python
PIP = $(PY) -m pip --disable-pip-version-check

.DEFAULT_GOAL := run
.DELETE_ON_ERROR:
.PHONY: run venv test-deps test lint bench clean

# --- virtualenv -------------------------------------------------------------------------

# Created once; pip is upgraded only at creation.
$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

# (Re)installed only when the requirements file is newer than the stamp.
$(VENV)/.requirements.stamp: requirements.txt | $(PY)
	$(PIP) install -q -r requirements.txt
	@touch $@

# requirements-test.txt includes requirements.txt, so it follows that one too.
$(VENV)/.requirements-test.stamp: requirements-test.txt $(VENV)/.requirements.stamp
	$(PIP) install -q -r requirements-test.txt
	@touch $@

venv: $(VENV)/.requirements.stamp

test-deps: $(VENV)/.requirements-test.stamp

# --- local settings ---------------------------------------------------------------------

# Created only when missing; an existing .env is never touched.
.env:
	@umask 077 && \
	key=$$($(PYTHON) -c "import secrets; print(secrets.token_urlsafe(50))") && \
	printf 'DEBUG=1\nSECRET_KEY=%s\n' "$$key" > $@.tmp && \
	mv $@.tmp $@ && \
	echo "Created .env (DEBUG=1, fresh SECRET_KEY)"

# --- run --------------------------------------------------------------------------------

# The worker and the web server both run in the background of one shell, which waits for
# the web server. Ctrl-C or SIGTERM (make forwards SIGTERM to the shell) reaches the trap,
# which stops both and waits for them, so nothing is left running when make returns.
run: venv .env
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo --skip-if-exists
	@echo
	@echo "  Customer Back Office: http://127.0.0.1:$(PORT)/"
	@echo "  Logins (password: demo): demo-owner, demo-support, demo-compliance"
	@echo "  Ctrl-C stops the web server and the task worker."
	@echo
	@QPID= WPID=; \
	trap 'kill $$WPID $$QPID 2>/dev/null; wait' EXIT; \
	trap 'exit 130' INT; \
	trap 'exit 143' TERM; \
	$(PY) manage.py qcluster & QPID=$$!; \
	$(PY) manage.py runserver 127.0.0.1:$(PORT) & WPID=$$!; \
	wait $$WPID

# --- checks -----------------------------------------------------------------------------

# DEBUG=1 (unless already set) only so that SECRET_KEY has a default; tests need no .env.
test: test-deps
	DEBUG=$${DEBUG:-1} $(PY) -m pytest $(PYTEST_ARGS)

lint: test-deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

bench: venv
	$(PY) manage.py bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) db.sqlite3 var/
