# Hamroh. `make demo` to talk to the assistant, `make test` to run the tests.
SHELL := /bin/bash
ENGINE_VENV := .venvs/engine
APP_VENV := .venvs/app
APP_PY := $(APP_VENV)/bin/python
PYTHON3 ?= python3
export RASA_TELEMETRY_ENABLED := false
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: setup chromium demo test lint unit e2e train bench-nlu bench-gateway bench-resilience bench-dispatch bench-dialogue clean

setup: $(ENGINE_VENV)/.installed $(APP_VENV)/.installed ## create both virtual environments (idempotent)

# The engine: Rasa 3.6.21 on python3.10, pinned by engine/constraints.txt.
$(ENGINE_VENV)/.installed: engine/requirements.txt engine/constraints.txt
	@python310=$$(scripts/find-python310) || exit 1; \
	if [ ! -x $(ENGINE_VENV)/bin/python ]; then echo "creating $(ENGINE_VENV) with $$python310"; $$python310 -m venv $(ENGINE_VENV); fi
	$(ENGINE_VENV)/bin/python -m pip install --quiet -r engine/requirements.txt -c engine/constraints.txt
	touch $@

# The app: the `bot` package on python3 (>= 3.11), pinned by constraints.txt.
$(APP_VENV)/.installed: pyproject.toml constraints.txt
	@$(PYTHON3) -c "import sys; assert sys.version_info >= (3, 11)" 2>/dev/null || { echo "error: $(PYTHON3) must be Python 3.11 or newer"; exit 1; }
	@if [ ! -x $(APP_PY) ]; then echo "creating $(APP_VENV)"; $(PYTHON3) -m venv $(APP_VENV); fi
	$(APP_PY) -m pip install --quiet -e ".[dev]" -c constraints.txt
	touch $@

# The browser tests (tests/browser) drive Debian's chromium: installed here when missing and we are root,
# otherwise this fails saying what to run. Never skipped.
chromium: ## make sure Chromium for the browser tests is installed (apt-get install chromium, as root)
	@scripts/ensure-chromium >/dev/null

CHANNEL ?= terminal
demo: setup ## seed sample data, train if needed, start engine and app, open the chat (CHANNEL=telegram|sms: offline, through the gateway)
	$(APP_VENV)/bin/hamroh admin seed-demo
	@if [ "$(CHANNEL)" = terminal ]; then $(APP_VENV)/bin/hamroh chat --user demo; \
	else $(APP_VENV)/bin/hamroh chat --via-gateway --channel $(CHANNEL); fi

test: setup lint unit e2e ## everything CI runs

lint: setup
	$(APP_VENV)/bin/ruff check bot tests benchmarks engine/components engine/bench_nlu.py engine/serve_engine.py
	$(APP_VENV)/bin/mypy

unit: setup chromium ## fast tests: no engine, no TensorFlow; the browser tests (headless Chromium)
	$(APP_VENV)/bin/pytest -q -rs -m "not e2e"

e2e: setup chromium ## end-to-end tests through the real engine and app server
	$(APP_VENV)/bin/pytest -q -rs -m e2e

train: setup
	$(APP_VENV)/bin/hamroh train

bench-nlu: setup ## accuracy, language ID, crisis recall, latency, memory (prints figures)
	$(APP_VENV)/bin/hamroh bench nlu

bench-gateway: setup ## webhook-to-reply latency against the engine's REST channel; 50 people at once (prints figures)
	$(APP_VENV)/bin/python benchmarks/gateway_latency.py

bench-resilience: setup ## 200 messages from 20 people while the engine is killed, the app gets SIGTERM, SIGKILL
	$(APP_VENV)/bin/python benchmarks/resilience.py

bench-dispatch: setup ## plan 100k reminders, dispatch 10k (with and without rate limits), SIGKILL crash test
	$(APP_VENV)/bin/python benchmarks/dispatch.py

bench-dialogue: setup ## every conversation test, per language and channel, and crisis false alarms on harmless messages (prints figures)
	PYTHONPATH=. $(APP_VENV)/bin/python benchmarks/dialogue.py

.PHONY: fuzz
FUZZ_EXAMPLES ?= 1000
fuzz: setup ## property-based fuzzing of every public route, FUZZ_EXAMPLES inputs per route and database (make test runs 40)
	HAMROH_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(APP_VENV)/bin/pytest -q -rs tests/test_fuzz.py --hypothesis-show-statistics

clean:
	rm -rf .venvs engine/models engine/logs

.PHONY: console-messages
console-messages: setup ## extract the console's texts (bot/console/locales/messages.pot) and update every language's .po
	$(APP_VENV)/bin/pybabel extract -F babel.cfg -k _ -k gettext -k ngettext:1,2 --no-location --sort-output --project Hamroh -o bot/console/locales/messages.pot .
	@for po in bot/console/locales/*.po; do $(APP_VENV)/bin/pybabel update --no-fuzzy-matching -i bot/console/locales/messages.pot -o $$po -l $$(grep -m1 '^"Language: ' $$po | sed 's/"Language: \(.*\)\\n"/\1/') ; done

.PHONY: console-screenshots
console-screenshots: setup chromium ## screenshots of the console's main pages in Russian and Uzbek (docs/console/)
	PYTHONPATH=. $(APP_VENV)/bin/python scripts/console_screenshots.py
