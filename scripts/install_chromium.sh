#!/usr/bin/env bash
# Debian's chromium for the browser tests (tests/clients/): installed once, as root, with apt.
# Where that cannot be done (not root, no apt), say so and leave it: those tests then skip.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
if [[ "$(id -u)" != 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
  echo "note: chromium is not installed and this is not a root Debian shell;" \
    "the browser tests will skip (install it with: apt-get install -y chromium)" >&2
  exit 0
fi
echo "Installing Debian's chromium for the browser tests" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
