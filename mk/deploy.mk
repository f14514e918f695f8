# Build and deployment targets (SAM). Included from the main Makefile.
# Tools live in $(VENV_TOOLS), created by the scripts on first use from requirements-tools.txt.
VENV_TOOLS ?= .venv-tools
ENV ?= dev
export VENV_TOOLS

ifneq ($(filter deploy,$(MAKECMDGOALS)),)
ifeq ($(filter $(ENV),dev prod),)
$(error ENV must be dev or prod, not '$(ENV)')
endif
endif

.PHONY: build deploy sam-validate artifact-smoke check-workflows check-template prune-versions

build: ## sam validate --lint + sam build (arm64) + bytecode + artifact checks
	scripts/build.sh

sam-validate: ## sam validate --lint
	scripts/sam.sh validate --lint

# Rebuilds first (cheap with cached builds): sam deploy would otherwise ship the
# source template's unbuilt CodeUri without dependencies.
deploy: build ## sam deploy for ENV=dev|prod (samconfig.toml)
	scripts/sam.sh deploy --config-env $(ENV) --no-confirm-changeset --no-fail-on-empty-changeset

artifact-smoke: ## x86_64 build imported in a clean python3.12, fed API Gateway events
	scripts/artifact_smoke.sh

check-workflows: ## schema-check and audit .github/workflows
	scripts/check_workflows.sh

check-template: ## cfn-lint + SAM's translator per samconfig environment, offline
	scripts/check_template.sh

KEEP_VERSIONS ?= 3
prune-versions: $(STAMP) ## delete old published versions: make prune-versions FUNCTION=<name> [KEEP_VERSIONS=3]
	@test -n "$(FUNCTION)" || { echo "usage: make prune-versions FUNCTION=<function name>" >&2; exit 2; }
	$(PY) scripts/prune_versions.py --function "$(FUNCTION)" --keep $(KEEP_VERSIONS)
