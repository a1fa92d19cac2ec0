# The two commands a newcomer needs:
#   make run    set up, migrate a SQLite database, seed a demo organisation, serve on localhost
#   make test   set up and run the whole test suite (rule examples, then pytest)
# Everything is installed into .venv; nothing outside this folder is touched, except that
# `make test` installs Debian's chromium, redis-server, nginx, docker-compose, nodejs and npm
# for the tests when missing, the test OpenID provider's npm packages (tests/oidc) and axe-core
# for the accessibility checks (tests/browser/axe), each from its lock file.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test test-pg install lint bench worker clean mutation translations translations-update

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(BIN)/.installed translations

# Page translations: the catalogues (.po) are kept in git, the compiled .mo files are built.
TRANSLATIONS := service/translations
MO_FILES := $(patsubst %.po,%.mo,$(wildcard $(TRANSLATIONS)/*/LC_MESSAGES/messages.po))
translations: $(MO_FILES)
$(TRANSLATIONS)/%/LC_MESSAGES/messages.mo: $(TRANSLATIONS)/%/LC_MESSAGES/messages.po $(BIN)/.installed
	$(BIN)/pybabel -q compile -i $< -o $@ -l $*

# After changing a text on a page: collect the texts and add the new ones to every catalogue
# (then translate them; tests/i18n says which are missing).
translations-update: install
	$(BIN)/pybabel -q extract -F babel.cfg -k N_ -k lazy_gettext --sort-by-file --no-wrap \
		--project Defuse --copyright-holder "Defuse contributors" -o $(TRANSLATIONS)/messages.pot .
	for lang in $$($(BIN)/python -c 'from service.vocab import LANGUAGES; print(*LANGUAGES[1:])'); do \
		test -f $(TRANSLATIONS)/$$lang/LC_MESSAGES/messages.po || \
		$(BIN)/pybabel -q init --no-wrap -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS) -l $$lang; \
	done
	$(BIN)/pybabel -q update --no-fuzzy-matching --ignore-obsolete --no-wrap \
		-i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS)

# The real OpenID provider the single sign-on tests sign in through.
OIDC_DIR := tests/oidc
$(OIDC_DIR)/node_modules/.installed: $(OIDC_DIR)/package-lock.json
	cd $(OIDC_DIR) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# axe-core, which the browser tests inject into every page they check for WCAG 2.2 AA.
AXE_DIR := tests/browser/axe
$(AXE_DIR)/node_modules/.installed: $(AXE_DIR)/package-lock.json
	cd $(AXE_DIR) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

run: install
	$(BIN)/defuse db upgrade
	$(BIN)/defuse seed-demo
	$(BIN)/defuse run --host $(HOST) --port $(PORT)

worker: install
	$(BIN)/defuse worker

test: install
	scripts/ensure-tools chromium redis-server nginx docker-compose node=nodejs npm
	$(MAKE) --no-print-directory $(OIDC_DIR)/node_modules/.installed $(AXE_DIR)/node_modules/.installed
	$(BIN)/defuse rules test
	$(BIN)/pytest $(PYTEST_ARGS)

# The suite against the local PostgreSQL and Redis (as CI runs it), in database TEST_DB
# (default defuse_test, created if missing) and Redis TEST_REDIS_URL (default index 15).
test-pg: install
	scripts/ensure-tools chromium redis-server nginx docker-compose node=nodejs npm
	$(MAKE) --no-print-directory $(OIDC_DIR)/node_modules/.installed
	scripts/test-pg $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check service tests bench scripts gunicorn.conf.py
	$(BIN)/ruff format --check service tests bench scripts gunicorn.conf.py

# Mutation testing of the core ([tool.mutmut] in pyproject.toml); slow, not part of `make test`.
$(BIN)/.mutation-installed: $(BIN)/.installed
	$(BIN)/pip install --quiet -e '.[dev,mutation]'
	touch $@

# MODULES="privacy routing" runs only those. MUTATION_ARGS=--fresh judges every mutant, not only
# those of functions changed since the stored verdicts. tests/MUTATION.md is written either way.
mutation: install $(BIN)/.mutation-installed
	$(BIN)/python scripts/mutation.py run $(MUTATION_ARGS) $(MODULES)

$(BIN)/.bench-installed: $(BIN)/.installed
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	touch $@

bench: install $(BIN)/.bench-installed
	scripts/ensure-tools wrk
	$(BIN)/python -m bench.run_all $(BENCH_ARGS)

clean:
	rm -rf $(VENV) instance .pytest_cache $(OIDC_DIR)/node_modules $(AXE_DIR)/node_modules
