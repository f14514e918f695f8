#!/usr/bin/env bash
# Runs the pinned SAM CLI from .venv-tools (created on first use) with python3.12 on PATH.
# Usage: scripts/sam.sh <sam arguments>, e.g. scripts/sam.sh local start-api --env-vars env.json
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
PY312="$(find_python312)"
ensure_tools_venv "$PY312"
PATH="$(dirname "$PY312"):$PATH"
export PATH
cd "$ROOT"
exec "$VENV_TOOLS/bin/sam" "$@"
