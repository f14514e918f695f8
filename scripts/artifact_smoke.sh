#!/usr/bin/env bash
# Builds the template for x86_64 (this machine) into a temporary folder, then imports the
# artifact in a clean python3.12 (-I -S, cwd outside the repo) and replays API Gateway events.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
"$ROOT/scripts/build.sh" --arch x86_64 --build-dir "$WORK/build"
PY312="$(find_python312)"

cd "$WORK"
# Without SMOKE_DATABASE_URL the process has no database (/health never connects); with it (a
# migrated database), the task routes run against it too, with a token signed by AUTH_JWT_SECRET.
env -i PATH=/usr/bin:/bin HOME="$WORK" LANG=C.UTF-8 TZ=UTC \
  AWS_REGION=us-east-1 AWS_LAMBDA_FUNCTION_NAME=tasks-api-smoke \
  APP_ENV="${SMOKE_APP_ENV:-test}" LOG_LEVEL=INFO \
  DATABASE_URL="${SMOKE_DATABASE_URL:-postgresql://smoke:smoke@127.0.0.1:9/smoke}" \
  SMOKE_WITH_DATABASE="${SMOKE_DATABASE_URL:+1}" \
  AUTH_JWT_SECRET="${SMOKE_AUTH_JWT_SECRET:-artifact-smoke-secret-0123456789abcdef}" \
  "$PY312" -I -S "$ROOT/scripts/artifact_smoke.py" "$WORK/build/ApiFunction"
