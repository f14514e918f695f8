#!/usr/bin/env bash
# Offline template checks: cfn-lint, and SAM's translator expanding the template with each
# samconfig.toml environment (scripts/check_template.py). sam validate --lint runs in make build.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ensure_tools_venv "$(find_python312)"
cd "$ROOT"
"$VENV_TOOLS/bin/cfn-lint" template.yaml
echo "cfn-lint: template.yaml clean"
"$VENV_TOOLS/bin/python" scripts/check_template.py
