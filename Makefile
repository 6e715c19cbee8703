# The project's interface. `make run` runs the system with demo data; `make test` runs what CI checks.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STACK := deploy/local/stack.sh
PACKAGE_FILES := $(wildcard shared/*/pyproject.toml services/*/pyproject.toml web/*/pyproject.toml)
PACKAGES := $(patsubst %/pyproject.toml,%,$(PACKAGE_FILES))
IMPORT_DIRS := $(wildcard $(addsuffix /aftersales_*,$(PACKAGES)))
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
IMAGE_REVISION ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)

.PHONY: help install constraints stack-up stack-down stack-status run test lint typecheck \
        test-unit test-stack asyncapi asyncapi-check docs docs-check contracts-check \
        contracts-baseline deploy-check images console fuzz bench-intake bench-scheduler \
        bench-pipeline bench-contact bench-contact-hours bench-reporting reliability soak clean pdf-tools

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

$(VENV)/.installed: requirements-dev.txt constraints.txt $(PACKAGE_FILES)
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is needed ($(PYTHON) not found)"; exit 1; }
	@[ -x $(PY) ] || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c constraints.txt -r requirements-dev.txt $(foreach p,$(PACKAGES),-e $(p))
	@command -v kcat >/dev/null || [ "$$(id -u)" != 0 ] || { apt-get update -qq && apt-get install -y -qq kcat >/dev/null; } \
		|| echo "note: kcat could not be installed; the non-Python client test will be skipped"
	@touch $@

# reporting's PDF export embeds a TrueType CJK font (fonts-wqy-zenhei); its test renders a page
# with pdftoppm (poppler-utils). Installed when missing and running as root.
CJK_FONT := /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc
pdf-tools:
	@{ [ -f $(CJK_FONT) ] && command -v pdftoppm >/dev/null; } || [ "$$(id -u)" != 0 ] \
		|| { apt-get update -qq && apt-get install -y -qq fonts-wqy-zenhei poppler-utils >/dev/null; } \
		|| echo "note: fonts-wqy-zenhei/poppler-utils could not be installed; PDF exports need a CJK font"

install: $(VENV)/.installed pdf-tools ## create the venv and install every package (idempotent)

constraints: ## re-pin exact versions of all third-party packages (pip freeze)
	$(PY) -m pip freeze --exclude-editable | grep -v '^-e ' | grep -v '^aftersales-' > constraints.txt

stack-up: ## start Kafka and FerretDB (fetches and builds them the first time)
	@bash $(STACK) up

stack-down: ## stop Kafka and FerretDB; WIPE=1 also deletes their data
	@bash $(STACK) down

stack-status: ## state, port and version of each component
	@bash $(STACK) status

CONSOLE_DIR := web/console
CONSOLE_SOURCES := $(shell find $(CONSOLE_DIR)/src -type f) $(CONSOLE_DIR)/index.html $(CONSOLE_DIR)/vite.config.js

$(CONSOLE_DIR)/node_modules/.package-lock.json: $(CONSOLE_DIR)/package-lock.json
	cd $(CONSOLE_DIR) && npm ci --no-audit --no-fund

$(CONSOLE_DIR)/dist/index.html: $(CONSOLE_DIR)/node_modules/.package-lock.json $(CONSOLE_SOURCES)
	cd $(CONSOLE_DIR) && npm run build

console: $(CONSOLE_DIR)/dist/index.html ## build the web console's pages (npm ci, vite build into web/console/dist)

run: install console ## run the whole system locally with demo data and the console on :8080 (Ctrl-C stops it)
	@$(PY) -m deploy.local.run

lint: install ## ruff (lint and format check)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: install ## mypy over every package
	$(VENV)/bin/mypy $(filter-out %.egg-info,$(IMPORT_DIRS))

asyncapi: install ## regenerate the AsyncAPI document of every service
	@bash deploy/asyncapi.sh write

asyncapi-check: install ## fail when a checked-in AsyncAPI document differs from the code
	@bash deploy/asyncapi.sh check

docs: install ## regenerate the OpenAPI document of every service into docs/openapi
	@$(PY) -m deploy.docs write

docs-check: install ## fail when a document in docs/openapi differs from the code
	@$(PY) -m deploy.docs check

contracts-check: install ## fail when a contract change would break a reader or writer on the baseline
	@$(PY) -m aftersales_contracts.compat check

contracts-baseline: install ## record the current contracts as the baseline (after an agreed change)
	@$(PY) -m aftersales_contracts.compat write

deploy-check: install ## validate the Dockerfiles, docker-compose.yml and deploy/k8s offline
	@$(PY) -m deploy.checks

images: ## build the five service images (needs a Docker engine; without one: make deploy-check)
	@docker info >/dev/null 2>&1 || { echo "images: no Docker engine answers here; 'make deploy-check' lints the Dockerfiles"; exit 1; }
	@for s in intake scheduler contact complaints reporting; do \
		v=$$(sed -n 's/^version = "\(.*\)"/\1/p' services/$$s/pyproject.toml); \
		docker build -f services/$$s/Dockerfile -t aftersales/$$s:$$v \
			--build-arg VERSION=$$v --build-arg REVISION=$(IMAGE_REVISION) . || exit 1; \
	done

test: install lint typecheck asyncapi-check docs-check contracts-check deploy-check stack-up ## everything CI checks: lint, types, all test tiers
	$(VENV)/bin/pytest

fuzz: install stack-up ## schemathesis over every service's OpenAPI document, longer (FUZZ_EXAMPLES=200)
	FUZZ_EXAMPLES=$(or $(FUZZ_EXAMPLES),200) $(VENV)/bin/pytest -s tests/api

bench-intake: install stack-up ## intake throughput against a raw aiokafka passthrough
	$(PY) -m benchmarks.intake

bench-scheduler: install stack-up ## scheduler dispatch and plan rates, empty and with history (HISTORY=50000)
	$(PY) -m benchmarks.scheduler --history $(or $(HISTORY),50000)

bench-contact: install stack-up ## claim/submit through HTTP with 10k and 1M finished tasks (FINISHED="10000 1000000")
	$(PY) -m benchmarks.contact --finished $(or $(FINISHED),10000 1000000)

bench-contact-hours: install stack-up ## the open queue's claims and removals in one busy hour, per hour size (SIZES="667 2000 6667")
	$(PY) -m benchmarks.contact_hours --sizes $(or $(SIZES),667 2000 6667)

bench-pipeline: install stack-up ## the five services as processes, end to end, empty and with history (ORDERS=20000 HISTORY=50000)
	$(PY) -m benchmarks.pipeline --orders $(or $(ORDERS),20000) --history $(or $(HISTORY),50000)

bench-reporting: install stack-up ## report read p99, projection events/s and rebuild time at 1M results (RESULTS=1000000)
	$(PY) -m benchmarks.reporting --results $${RESULTS:-1000000}

reliability: install stack-up ## every fault injected while a known workload flows, then counted (FAULTS=…, ORDERS=60)
	$(PY) -m tests.reliability

soak: install stack-up ## the pipeline at half its measured rate for SOAK_MINUTES (30): RSS, lag, p99 start vs end
	$(PY) -m tests.reliability.soak

clean: ## remove the venv and caches (not the stack's downloads: see stack-down WIPE=1)
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
