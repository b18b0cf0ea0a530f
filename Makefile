# Loki push endpoint on AWS: build, test, run locally, deploy.
# `make help` lists the targets. Everything installs itself on first use.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

ROOT        := $(abspath .)
PYTHON      ?= python3
VENV        := $(ROOT)/.venv
PY          := $(VENV)/bin/python
CHECKOV_VENV:= $(ROOT)/.venv-checkov
PARLIAMENT_VENV := $(ROOT)/.venv-parliament
LOCAL       := $(ROOT)/.local
ENV         ?= dev
LAMBDA_ARCH ?= arm64
LOCAL_PORT  ?= 3100
EMULATOR_PORT ?= 4599
TF_TIMEOUT  ?= 900

# A second interpreter for the Lambda runtime's Python (3.12), when the machine has one.
PY312 ?= $(shell for p in python3.12 $(HOME)/.pyenv/versions/3.12*/bin/python3.12; do \
            command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; assert sys.version_info[:2] == (3, 12)' 2>/dev/null && { command -v $$p; break; }; done)

# --- Terraform CLI configuration --------------------------------------------------------
# Use an offline provider mirror when the machine has one, the public registry otherwise.
TF_MIRROR ?= $(shell for d in /opt/tf-plugins /usr/share/terraform/providers /usr/local/share/terraform/plugins $(HOME)/.terraform.d/plugins; do \
                [ -d $$d/registry.terraform.io/hashicorp/aws ] && { echo $$d; break; }; done)
ifeq ($(TF_MIRROR),)
TF_MIRROR := $(shell d=$$(find / -maxdepth 6 -path '*registry.terraform.io/hashicorp/aws' -type d 2>/dev/null | head -1); [ -n "$$d" ] && dirname $$(dirname $$(dirname $$d)) || true)
endif
TFRC := $(ROOT)/.tfcli/terraformrc
export TF_CLI_CONFIG_FILE := $(TFRC)
export TF_IN_AUTOMATION := 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1

ifeq ($(LAMBDA_ARCH),arm64)
PIP_PLATFORM := manylinux2014_aarch64
else
PIP_PLATFORM := manylinux2014_x86_64
endif

.PHONY: help
help: ## Show this help
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_-]+:.*## / {printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# --- environments ------------------------------------------------------------------------

$(VENV)/.installed: requirements-dev.txt requirements.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -r requirements-dev.txt
	$(PY) -m pip install --quiet --no-deps -e .
	@touch $@

.PHONY: venv
venv: $(VENV)/.installed ## Create .venv with the pinned dev requirements

$(CHECKOV_VENV)/.installed: requirements-checkov.txt
	@test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet -r requirements-checkov.txt
	@touch $@

# parliament (the IAM policy linter of test-terraform) pins old helpers (json-cfg,
# kwonly-args) of its own; its venv keeps them out of the dev closure.
$(PARLIAMENT_VENV)/.installed: requirements-parliament.txt
	@test -x $(PARLIAMENT_VENV)/bin/python || $(PYTHON) -m venv $(PARLIAMENT_VENV)
	$(PARLIAMENT_VENV)/bin/python -m pip install --quiet -r requirements-parliament.txt
	@touch $@

$(TFRC):
	@mkdir -p $(dir $@) $(ROOT)/.tfcli/plugin-cache
	@if [ -n "$(TF_MIRROR)" ]; then \
	  printf 'provider_installation {\n  filesystem_mirror {\n    path    = "%s"\n    include = ["registry.terraform.io/hashicorp/*"]\n  }\n  direct {\n    exclude = ["registry.terraform.io/hashicorp/*"]\n  }\n}\n' "$(TF_MIRROR)" > $@; \
	  echo "terraform: using the provider mirror at $(TF_MIRROR)"; \
	else \
	  printf 'plugin_cache_dir = "%s"\n' "$(ROOT)/.tfcli/plugin-cache" > $@; \
	  echo "terraform: using the public registry"; \
	fi

.PHONY: tfrc
tfrc: $(TFRC)

.PHONY: lock
lock: ## Re-resolve requirements-dev.txt and requirements-checkov.txt
	rm -rf $(ROOT)/build/lock && $(PYTHON) -m venv $(ROOT)/build/lock/dev && $(PYTHON) -m venv $(ROOT)/build/lock/ckv
	$(ROOT)/build/lock/dev/bin/pip install --quiet -r requirements-dev.in
	{ echo "# Generated from requirements-dev.in: the full pinned closure for Python 3.11 and 3.12."; echo "# Regenerate: make lock"; \
	  $(ROOT)/build/lock/dev/bin/pip freeze | grep -v -E '^(pip|setuptools|wheel)=='; } > requirements-dev.txt
	$(ROOT)/build/lock/ckv/bin/pip install --quiet checkov
	{ echo "# checkov runs in its own venv: it installs a module named hcl2 that clashes with python-hcl2."; echo "# Regenerate: make lock"; \
	  $(ROOT)/build/lock/ckv/bin/pip freeze | grep -v -E '^(pip|setuptools|wheel)=='; } > requirements-checkov.txt

# --- quality ------------------------------------------------------------------------------

.PHONY: format
format: venv ## Format Python and Terraform
	$(VENV)/bin/ruff format lambda local tests bench scripts
	$(VENV)/bin/ruff check --fix lambda local tests bench scripts
	terraform fmt -recursive modules environments

.PHONY: docs
docs: venv ## Regenerate the module tables, the settings table and the settings bounds test
	$(PY) scripts/tfdocs.py README.md modules/loki-ingest/README.md
	$(PY) scripts/settings_docs.py

.PHONY: lint
lint: venv ## ruff, mypy --strict, terraform fmt -check, README tables up to date
	$(VENV)/bin/ruff check lambda local tests bench scripts
	$(VENV)/bin/ruff format --check lambda local tests bench scripts
	$(VENV)/bin/mypy
	terraform fmt -check -recursive modules environments
	$(PY) scripts/tfdocs.py --check README.md modules/loki-ingest/README.md
	$(PY) scripts/settings_docs.py --check

# --- build -------------------------------------------------------------------------------

DEPS_DIR := $(ROOT)/build/deps-$(LAMBDA_ARCH)

$(DEPS_DIR)/.installed: requirements.txt
	rm -rf $(DEPS_DIR) && mkdir -p $(DEPS_DIR)
	$(PYTHON) -m pip install --quiet --root-user-action=ignore --no-deps --no-compile --only-binary=:all: \
	  --platform $(PIP_PLATFORM) --implementation cp --python-version 3.12 \
	  --target $(DEPS_DIR) -r requirements.txt
	@touch $@

.PHONY: build
build: $(DEPS_DIR)/.installed ## Build dist/lambda.zip (reproducible: same inputs, same sha256)
	$(PYTHON) scripts/build_zip.py --package lambda/loki_ingest --deps $(DEPS_DIR) --output dist/lambda.zip \
	  $(if $(PY312),--python $(PY312),)

# Rebuilt whenever the handler, the runtime requirements or the build script change.
dist/lambda.zip: $(wildcard lambda/loki_ingest/*.py) requirements.txt scripts/build_zip.py
	@$(MAKE) build

# --- tests -------------------------------------------------------------------------------

PYTEST := $(VENV)/bin/python -m pytest

.PHONY: test
test: venv tfrc dist/lambda.zip ## Every test: lint, unit (3.11 + 3.12), integration, fuzz, terraform, end-to-end
	@rm -f build/test-figures.jsonl
	@$(MAKE) lint
	$(PYTEST) tests/unit tests/integration tests/fuzz -q -n 2 --dist loadfile
	@$(MAKE) test-py312
	@$(MAKE) test-terraform
	@$(MAKE) test-e2e
	@echo "Figures measured by the tests:" && cat build/test-figures.jsonl

.PHONY: test-unit
test-unit: venv ## Unit tests only (fast)
	$(PYTEST) tests/unit -q

.PHONY: test-integration
test-integration: venv ## Handler against an in-process moto server, with fault injection
	$(PYTEST) tests/integration -q

.PHONY: test-fuzz
test-fuzz: venv ## Fuzz the real handler (hypothesis + mutated corpus)
	$(PYTEST) tests/fuzz -q

.PHONY: test-py312
test-py312: ## Unit tests and the S3 round-trip property on Python 3.12 (the Lambda runtime), when installed
	@if [ -z "$(PY312)" ]; then echo "python3.12 not found: skipping the 3.12 run"; exit 0; fi; \
	 test -x $(ROOT)/.venv312/bin/python || $(PY312) -m venv $(ROOT)/.venv312; \
	 if [ ! -f $(ROOT)/.venv312/.installed ] || [ requirements-dev.txt -nt $(ROOT)/.venv312/.installed ]; then \
	   $(ROOT)/.venv312/bin/python -m pip install --quiet -r requirements-dev.txt && \
	   $(ROOT)/.venv312/bin/python -m pip install --quiet --no-deps -e . && touch $(ROOT)/.venv312/.installed; fi; \
	 $(ROOT)/.venv312/bin/python -m pytest tests/unit tests/integration/test_roundtrip.py -q -n 2 --dist loadfile -p no:cacheprovider

.PHONY: test-terraform
test-terraform: venv tfrc dist/lambda.zip $(CHECKOV_VENV)/.installed $(PARLIAMENT_VENV)/.installed ## Terraform: fmt, validate, module tests and the prod root applied to moto, checkov, parliament
	CHECKOV=$(CHECKOV_VENV)/bin/checkov PARLIAMENT=$(PARLIAMENT_VENV)/bin/python \
	  $(PYTEST) tests/terraform -q -m terraform -n 3 --dist loadfile

.PHONY: test-e2e
test-e2e: venv tfrc dist/lambda.zip ## terraform apply to an emulator, real HTTP, real Loki clients, S3 read back
	$(PYTEST) tests/e2e -q -m e2e

.PHONY: soak
soak: venv tfrc dist/lambda.zip ## Long fault-injection and load variants
	@rm -f build/test-figures.jsonl
	LOKI_FUZZ_EXAMPLES=20000 LOKI_FUZZ_RANDOM=1 $(PYTEST) tests/integration tests/fuzz tests/e2e -q --run-soak -m "soak or fuzz" -p no:cacheprovider
	@echo "Figures measured by the soak:" && cat build/test-figures.jsonl

.PHONY: coverage
coverage: venv ## Unit + integration + fuzz coverage of the handler package
	$(PYTEST) tests/unit tests/integration tests/fuzz -q --cov --cov-report=term --cov-report=xml

.PHONY: bench
bench: venv ## Benchmarks (ratios measured in the same run; never fails on speed)
	$(PY) -m bench.run

# --- local stack -------------------------------------------------------------------------

LOCAL_TF := TF_DATA_DIR=$(LOCAL)/terraform timeout $(TF_TIMEOUT) terraform -chdir=environments/dev

.PHONY: emulator
emulator: venv ## Start the AWS emulator (moto server) in the background
	@mkdir -p $(LOCAL)
	$(PY) -m local.emulator start --port $(EMULATOR_PORT) --state-dir $(LOCAL)

.PHONY: stop-local
stop-local: ## Stop the emulator started by deploy-local/run
	@if [ -x $(PY) ]; then $(PY) -m local.emulator stop --state-dir $(LOCAL); fi

.PHONY: deploy-local
deploy-local: venv tfrc dist/lambda.zip emulator ## Apply environments/dev to the local emulator and print the outputs
	@printf 'aws_endpoint_url = "http://127.0.0.1:%s"\nenforce_tls      = false\nname             = "loki-ingest-local"\n' $(EMULATOR_PORT) > $(LOCAL)/local.tfvars
	$(LOCAL_TF) init -input=false -reconfigure -backend-config=path=$(LOCAL)/terraform.tfstate >/dev/null
	$(LOCAL_TF) apply -input=false -auto-approve -var-file=$(LOCAL)/local.tfvars
	$(LOCAL_TF) output -json > $(LOCAL)/outputs.json
	$(PY) -m local.info --state-dir $(LOCAL) --port $(LOCAL_PORT)

.PHONY: destroy-local
destroy-local: venv tfrc ## Destroy the local deployment (the emulator keeps running)
	$(LOCAL_TF) destroy -input=false -auto-approve -var-file=$(LOCAL)/local.tfvars

.PHONY: run
run: deploy-local ## Serve the real handler at http://127.0.0.1:3100 against the local stack (Ctrl-C stops)
	$(PY) -m local.server --state-dir $(LOCAL) --port $(LOCAL_PORT)

.PHONY: password
password: venv ## Print the local deployment's password (read from the emulator's Secrets Manager)
	@$(PY) -m local.info --state-dir $(LOCAL) --password

.PHONY: load
load: venv ## Load test against `make run` (CLIENTS=8 PUSHES=25 ENTRIES=20): every line must land once
	$(PY) -m local.load --state-dir $(LOCAL) --url http://127.0.0.1:$(LOCAL_PORT)/loki/api/v1/push \
	  --clients $(or $(CLIENTS),8) --pushes $(or $(PUSHES),25) --entries $(or $(ENTRIES),20)

.PHONY: logs
logs: venv ## Show the newest records that landed in the local bucket
	@$(PY) -m local.logs --state-dir $(LOCAL) $(if $(N),--count $(N),)

# --- real AWS ----------------------------------------------------------------------------

ENV_DIR   ?= environments/$(ENV)
PLAN_FILE := $(ENV_DIR)/plan.tfplan
PARTIAL_PLAN := $(ENV_DIR)/plan.partial.tfplan
BACKEND_ARGS := $(if $(wildcard $(ENV_DIR)/backend.hcl),-backend-config=backend.hcl,)

.PHONY: bootstrap
bootstrap: tfrc ## Create prod's Terraform state bucket (once per account) and write environments/prod/backend.hcl
	terraform -chdir=environments/prod/bootstrap init -input=false
	terraform -chdir=environments/prod/bootstrap apply -input=false
	@if [ -f environments/prod/backend.hcl ]; then \
	   echo "environments/prod/backend.hcl exists; left as it is. The bootstrap's settings:"; \
	   terraform -chdir=environments/prod/bootstrap output -raw backend_hcl; \
	 else \
	   terraform -chdir=environments/prod/bootstrap output -raw backend_hcl > environments/prod/backend.hcl; \
	   echo "wrote environments/prod/backend.hcl; next: make plan ENV=prod"; \
	 fi

.PHONY: init
init: tfrc ## terraform init for ENV=dev|prod (prod reads environments/prod/backend.hcl, see make bootstrap)
	@if grep -qs 'backend "s3"' $(ENV_DIR)/versions.tf && [ ! -f $(ENV_DIR)/backend.hcl ]; then \
	   echo "$(ENV_DIR)/backend.hcl is missing: run 'make bootstrap' (creates the state bucket) or copy backend.hcl.example"; exit 1; fi
	terraform -chdir=$(ENV_DIR) init -input=false $(BACKEND_ARGS)

# A failed plan still writes its -out file, marked incomplete, and every later apply of it
# dies with "Cannot apply incomplete plan". Plan into a scratch file, keep it only on success,
# and drop any older plan first so apply never runs a plan older than the last attempt.
.PHONY: plan
plan: tfrc dist/lambda.zip init ## terraform plan for ENV=dev|prod against real AWS (saved for make apply)
	@rm -f $(PLAN_FILE) $(PARTIAL_PLAN)
	@terraform -chdir=$(ENV_DIR) plan -input=false -out=$(notdir $(PARTIAL_PLAN)) \
	  || { rc=$$?; rm -f $(PARTIAL_PLAN); echo "plan failed; nothing saved for make apply"; exit $$rc; }
	@mv $(PARTIAL_PLAN) $(PLAN_FILE)
	@echo "saved $(PLAN_FILE); review it, then: make apply ENV=$(ENV)"

.PHONY: apply
apply: tfrc dist/lambda.zip init ## terraform apply for ENV=dev|prod (applies the plan saved by make plan, once)
	@if [ -f $(PLAN_FILE) ]; then \
	   rc=0; terraform -chdir=$(ENV_DIR) apply -input=false $(notdir $(PLAN_FILE)) || rc=$$?; \
	   rm -f $(PLAN_FILE); exit $$rc; \
	 else terraform -chdir=$(ENV_DIR) apply -input=false; fi

# Function URLs created by hashicorp/aws < 6.28 (such as this repository's offline tests use)
# lack the lambda:InvokeFunction statement AWS requires since October 2025: 403 until added.
.PHONY: function-url-permission
function-url-permission: venv ## Add the InvokeFunction statement a function URL made by hashicorp/aws < 6.28 lacks (ENV=dev|prod; idempotent)
	@name=$$(terraform -chdir=$(ENV_DIR) output -json loki_ingest | $(PY) -c 'import json,sys; print(json.load(sys.stdin)["function_arn"])'); \
	 $(PY) scripts/function_url_permission.py --function-name "$$name"

.PHONY: clean
clean: stop-local ## Remove venvs, build outputs and local state
	rm -rf $(VENV) $(ROOT)/.venv312 $(CHECKOV_VENV) $(PARLIAMENT_VENV) build dist .local .tfcli .pytest_cache .mypy_cache .ruff_cache .hypothesis .coverage coverage.xml
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
	find . -name .terraform -type d -prune -exec rm -rf {} +

.PHONY: print-py312
print-py312:
	@echo $(PY312)
