# Two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Where makemessages looks for strings: the host only (the simulator speaks English).
I18N := DJANGO_DEBUG=true $(BIN)/python manage.py
I18N_IGNORE := --ignore=.venv --ignore=var --ignore=simulator --ignore=tests --ignore=bench

.PHONY: run test lint format bench bench-scale messages clean lock

# Installs exactly what the lock files name, each package checked against its hash.
$(STAMP): requirements-dev.lock requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements-dev.lock
	@touch $@

## Re-resolve requirements*.txt into the hashed lock files (after changing a pin).
lock: $(STAMP)
	$(BIN)/pip-compile --quiet --generate-hashes --strip-extras --allow-unsafe --no-emit-index-url --no-emit-find-links --output-file requirements.lock requirements.txt
	$(BIN)/pip-compile --quiet --generate-hashes --strip-extras --allow-unsafe --no-emit-index-url --no-emit-find-links --output-file requirements-dev.lock requirements-dev.txt

## Start the host (:8000), the Atomic simulator (:8001) and the task worker.
run: $(STAMP)
	@bin/ensure-gettext
	@$(I18N) compilemessages $(I18N_IGNORE) -v 0
	@bin/run

# One pytest worker more than there are cores: a worker spends part of its time waiting on the
# browser, the simulator and loopback servers, and the extra one keeps every core busy meanwhile.
TEST_WORKERS ?= $(shell echo $$(( $$(nproc) + 1 )))

## The whole test suite, on every core (browser tests use Debian's chromium-headless-shell, installed if missing).
## The project's modules are compiled once up front, and the run may cache bytecode even where the
## environment says not to, so the workers, the simulator and the fresh processes the tests start
## do not each compile them again.
test: $(STAMP)
	@bin/ensure-chromium
	@bin/ensure-gettext
	@$(BIN)/python -m compileall -q -j 0 hubsite paylink reminders simulator tests bench manage.py >/dev/null
	env -u PYTHONDONTWRITEBYTECODE $(BIN)/pytest -n $(TEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

## ruff, then mypy over hubsite, paylink, simulator and bench (pyproject.toml says how strictly).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## Side-by-side timings of the hot pages, as ratios to a trivial view (wall clock and CPU);
## exits 1 when a target is MISSED.
bench: $(STAMP)
	$(BIN)/python -m bench

## Work in proportion to what changed (reconcile, webhook drain, pollers, Refresh, searches by
## index) on PostgreSQL and Redis, each figure beside its target, met or MISSED (exit 1).
bench-scale: $(STAMP)
	$(BIN)/python -m bench.scale

## Gather the host's strings into locale/es (Python, templates, hub.js) and compile them.
## Translate what is new in the .po files (no empty msgstr, no "fuzzy"), then run it again.
messages: $(STAMP)
	@bin/ensure-gettext
	$(I18N) makemessages -l es --add-location=file --no-obsolete $(I18N_IGNORE)
	$(I18N) makemessages -d djangojs -l es --add-location=file --no-obsolete $(I18N_IGNORE)
	$(I18N) compilemessages $(I18N_IGNORE)

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .mypy_cache
