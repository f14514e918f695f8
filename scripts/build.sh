#!/usr/bin/env bash
# sam validate --lint + sam build, then precompiled bytecode and artifact checks.
# Usage: scripts/build.sh [--arch arm64|x86_64] [--build-dir DIR]   (or ARCH=..., BUILD_DIR=...)
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ARCH="${ARCH:-arm64}"
BUILD_DIR="${BUILD_DIR:-$ROOT/.aws-sam/build}"
while (($#)); do
  case "$1" in
    --arch) ARCH="$2"; shift 2 ;;
    --build-dir) BUILD_DIR="$2"; shift 2 ;;
    *) echo "usage: $0 [--arch arm64|x86_64] [--build-dir DIR]" >&2; exit 2 ;;
  esac
done
case "$ARCH" in
  arm64) ELF_MACHINE="ARM aarch64" ;;
  x86_64) ELF_MACHINE="x86-64" ;;
  *) echo "error: --arch must be arm64 or x86_64, not '$ARCH'" >&2; exit 2 ;;
esac
mkdir -p "$BUILD_DIR"
BUILD_DIR="$(cd "$BUILD_DIR" && pwd)"

PY312="$(find_python312)"
SAM="$ROOT/scripts/sam.sh"
"$SAM" validate --lint
# Without Docker, sam build still fetches manylinux wheels for the target architecture.
"$SAM" build --build-dir "$BUILD_DIR" --cache-dir "$(dirname "$BUILD_DIR")/cache" \
  --parameter-overrides "Architecture=$ARCH"

FUNCTION_DIR="$BUILD_DIR/ApiFunction"
# Migrations run from CI/a workstation (make migrate), never in the function.
rm -rf "$FUNCTION_DIR/shared/migrations"
# Lambda's code directory is read-only: without shipped .pyc every cold start compiles every
# module. checked-hash: packaging rewrites file times, which would invalidate timestamp .pyc.
"$PY312" -m compileall -q -j 0 --invalidation-mode checked-hash "$FUNCTION_DIR" >/dev/null

status=0
for name in tests pytest _pytest samcli pgserver alembic boto3 botocore shared/migrations; do
  if [[ -e "$FUNCTION_DIR/$name" ]]; then
    echo "error: artifact contains $name" >&2; status=1
  fi
done
if find "$FUNCTION_DIR" -maxdepth 1 -iname '*.dist-info' \
    | grep -Eiq '/(pytest|aws_sam_cli|pgserver|alembic|boto3|botocore)-'; then
  echo "error: artifact contains a development/tooling distribution" >&2; status=1
fi
mapfile -t native < <(find "$FUNCTION_DIR" -name '*.so*' -type f | sort)
for lib in "${native[@]}"; do
  if ! file -b "$lib" | grep -q "$ELF_MACHINE"; then
    echo "error: ${lib#"$FUNCTION_DIR"/} is not $ELF_MACHINE: $(file -b "$lib")" >&2; status=1
  fi
done

echo "artifact:   $FUNCTION_DIR ($ARCH)"
echo "unzipped:   $(du -sh "$FUNCTION_DIR" | cut -f1) (Lambda limit 250 MB)"
echo "native:     ${#native[@]} shared objects, all $ELF_MACHINE$( ((status)) && echo ' (see errors)')"
echo "top level:  $(find "$FUNCTION_DIR" -mindepth 1 -maxdepth 1 ! -name '*.dist-info' -printf '%f ' | tr ' ' '\n' | sort | tr '\n' ' ')"
exit "$status"
