#!/usr/bin/env bash
# Builds the stand-in for public.ecr.aws/lambda/python:3.12-<arch> where that image cannot be
# pulled, with the official layout: a Debian minbase root file system (debootstrap, from the
# machine's own Debian mirror and release), CPython 3.12 under /var/lang (this machine's
# python3.12, whose libraries the release provides), the real runtime interface client
# (awslambdaric, scripts/lambda_base/requirements.txt) under /var/runtime with a bootstrap that runs
# it, /lambda-entrypoint.sh, and the official environment. Imported into the engine at DOCKER_HOST.
# Usage (scripts/local_engine.py runs it): scripts/lambda_base_image.sh IMAGE_NAME LABEL
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
NAME="$1"
LABEL="$2"
: "${DOCKER_HOST:?DOCKER_HOST must name the engine to import into}"
started=$SECONDS

PY312="$(find_python312)"
PREFIX="$("$PY312" -c 'import sys; print(sys.base_prefix)')"
WORK="$(mktemp -d /var/tmp/tasks-api-lambda-base.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
ROOTFS="$WORK/rootfs"

# The machine's Debian release and the first mirror apt is configured with (deb822 or one-line).
# shellcheck source=/dev/null
CODENAME="$(. /etc/os-release && echo "$VERSION_CODENAME")"
MIRROR="$(
  { grep -shE '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' || true
    grep -shE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list | awk '{print $2}' || true
  } | grep -v -- '-security' | head -n 1 || true
)"
[[ -n "$MIRROR" && -n "$CODENAME" ]] || { echo "error: no Debian mirror/release found in apt's sources" >&2; exit 1; }

# The packages holding every shared library the interpreter and its extension modules link to.
mapfile -t libs < <(
  find "$PREFIX/bin" "$PREFIX/lib" -maxdepth 4 \( -name 'python3.12' -o -name '*.so*' \) -type f \
    -not -path '*/site-packages/*' -not -path '*/test/*' -not -path '*tkinter*' -not -name '*_tkinter*' \
    -exec ldd {} + 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// {print $3}' | grep -v "^$PREFIX" | sort -u
)
mapfile -t packages < <(
  for lib in "${libs[@]}"; do dpkg -S "$(readlink -f "$lib")" 2>/dev/null || dpkg -S "$lib" 2>/dev/null || true; done \
    | cut -d: -f1 | sort -u
)
include="$(IFS=,; echo "${packages[*]},ca-certificates,tzdata")"

echo "stand-in base image: debootstrap $CODENAME (minbase + $include)" >&2
debootstrap --variant=minbase --include="$include" --arch="$(dpkg --print-architecture)" \
  "$CODENAME" "$ROOTFS" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 \
  || { tail -n 30 "$WORK/debootstrap.log" >&2; exit 1; }

echo "stand-in base image: CPython $("$PY312" -c 'import platform; print(platform.python_version())') -> /var/lang" >&2
mkdir -p "$ROOTFS/var/lang" "$ROOTFS/var/runtime" "$ROOTFS/var/task" "$ROOTFS/opt"
tar -C "$PREFIX" --exclude='./lib/python3.12/test' --exclude='./lib/python3.12/site-packages/*' \
  --exclude='./lib/python3.12/idlelib' --exclude='./lib/python3.12/tkinter' --exclude='*/__pycache__' \
  -cf - . | tar -C "$ROOTFS/var/lang" -xf -
ln -sf python3.12 "$ROOTFS/var/lang/bin/python3"
ln -sf python3.12 "$ROOTFS/var/lang/bin/python"

echo "stand-in base image: awslambdaric -> /var/runtime" >&2
"$PY312" -m pip install --quiet --disable-pip-version-check --no-compile --only-binary=:all: \
  --target "$ROOTFS/var/runtime" -r "$ROOT/scripts/lambda_base/requirements.txt"
install -m 0755 "$ROOT/scripts/lambda_base/bootstrap" "$ROOTFS/var/runtime/bootstrap"
install -m 0755 "$ROOT/scripts/lambda_base/lambda-entrypoint.sh" "$ROOTFS/lambda-entrypoint.sh"
ln -sf /usr/share/zoneinfo/UTC "$ROOTFS/etc/localtime"
rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/usr/share/doc/* \
  "$ROOTFS"/usr/share/man/* "$ROOTFS"/usr/share/locale/*

# Bytecode, as the managed runtime ships it (Python then never writes to the image at run time).
chroot "$ROOTFS" /usr/bin/env LD_LIBRARY_PATH=/var/lang/lib /var/lang/bin/python3.12 -m compileall -q \
  /var/lang/lib/python3.12 /var/runtime >/dev/null
chroot "$ROOTFS" /usr/bin/env LD_LIBRARY_PATH=/var/lang/lib PYTHONPATH=/var/runtime /var/lang/bin/python3.12 \
  -c 'import ssl, sqlite3, ctypes, decimal, zoneinfo, awslambdaric.bootstrap, snapshot_restore_py'

tar -C "$ROOTFS" --numeric-owner -cf - . | /usr/bin/docker import \
  --change "LABEL ${LABEL}" \
  --change 'ENV LANG=C.UTF-8' \
  --change 'ENV TZ=:/etc/localtime' \
  --change 'ENV PATH=/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin' \
  --change 'ENV LD_LIBRARY_PATH=/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib' \
  --change 'ENV LAMBDA_TASK_ROOT=/var/task' \
  --change 'ENV LAMBDA_RUNTIME_DIR=/var/runtime' \
  --change 'WORKDIR /var/task' \
  --change 'ENTRYPOINT ["/lambda-entrypoint.sh"]' \
  - "$NAME" >/dev/null
echo "stand-in base image: $NAME built in $((SECONDS - started)) s ($(du -sh "$ROOTFS" | cut -f1) unpacked)" >&2
