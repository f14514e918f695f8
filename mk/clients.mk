# Real clients for tests/clients/: the pinned npm packages (npm ci from package-lock.json) and
# Debian's chromium. Without Node.js or chromium the tests that need them skip and say so.
CLIENTS_DIR := tests/clients
CLIENTS_STAMP := $(CLIENTS_DIR)/node_modules/.installed

.PHONY: client-deps browser

$(CLIENTS_STAMP): $(CLIENTS_DIR)/package.json $(CLIENTS_DIR)/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
	  echo "npm ci in $(CLIENTS_DIR)" >&2; \
	  cd $(CLIENTS_DIR) && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2 && touch node_modules/.installed; \
	else \
	  echo "note: Node.js/npm not found: the generated-client and Better Auth tests will skip" >&2; \
	fi

client-deps: $(CLIENTS_STAMP) browser ## npm packages for tests/clients (npm ci) and Debian's chromium

browser: ## Debian's chromium for the browser tests (apt-get as root)
	@bash scripts/install_chromium.sh

test: client-deps
