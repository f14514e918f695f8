#!/usr/bin/env bash
# Validates .github/workflows against the GitHub workflow schema and audits them with zizmor.
# Both tools live in their own venv under .venv-tools: check-jsonschema needs a newer click
# than aws-sam-cli allows.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

LINT_VENV="$VENV_TOOLS/workflow-lint"
TOOLS=(check-jsonschema==0.39.0 zizmor==1.32.0)
stamp="$LINT_VENV/.installed-$(printf '%s\n' "${TOOLS[@]}" | sha256sum | cut -c1-16)"
if [[ ! -f "$stamp" ]]; then
  [[ -x "$LINT_VENV/bin/python" ]] || "$(find_python312)" -m venv "$LINT_VENV"
  "$LINT_VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${TOOLS[@]}"
  rm -f "$LINT_VENV"/.installed-* && touch "$stamp"
fi

cd "$ROOT"
"$LINT_VENV/bin/check-jsonschema" --builtin-schema vendor.github-workflows .github/workflows/*.yml
"$LINT_VENV/bin/zizmor" --offline .github/workflows/
