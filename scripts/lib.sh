# shellcheck shell=bash
# Sourced by the scripts in this folder: python3.12 discovery and the tools venv.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV_TOOLS="${VENV_TOOLS:-$ROOT/.venv-tools}"
export SAM_CLI_TELEMETRY=0

# Lambda's runtime is python3.12; sam build needs one on PATH to resolve wheels.
find_python312() {
  local candidate version
  if candidate="$(command -v python3.12)" && "$candidate" -c 'import sys' 2>/dev/null; then
    echo "$candidate"; return
  fi
  if command -v pyenv >/dev/null; then
    version="$(pyenv versions --bare 2>/dev/null | grep -E '^3\.12(\.[0-9]+)?$' | sort -V | tail -n 1 || true)"
    if [[ -n "$version" ]] && candidate="$(pyenv prefix "$version")/bin/python3.12" && [[ -x "$candidate" ]]; then
      echo "$candidate"; return
    fi
  fi
  echo "error: python3.12 not found (needed by sam build for the python3.12 runtime)." >&2
  echo "       Install it (e.g. 'pyenv install 3.12') or put python3.12 on PATH." >&2
  return 1
}

# Creates/updates .venv-tools from requirements-tools.txt (only when that file changed).
ensure_tools_venv() {
  local python="$1" stamp
  stamp="$VENV_TOOLS/.requirements-tools.$(sha256sum "$ROOT/requirements-tools.txt" | cut -c1-16)"
  [[ -f "$stamp" ]] && return
  [[ -x "$VENV_TOOLS/bin/python" ]] || "$python" -m venv "$VENV_TOOLS"
  echo "Installing deployment tools into $VENV_TOOLS" >&2
  "$VENV_TOOLS/bin/python" -m pip install --quiet --disable-pip-version-check \
    -r "$ROOT/requirements-tools.txt" >&2
  rm -f "$VENV_TOOLS"/.requirements-tools.* && touch "$stamp"
}
