#!/usr/bin/env bash
# The ordering tests need a database whose default collation is locale-aware (en_US.UTF-8), as
# most hosted PostgreSQL servers are: it is what breaks byte-order position keys. Debian images
# ship only C and POSIX; generate en_US.UTF-8 once (root only; idempotent).
set -euo pipefail
if locale -a 2>/dev/null | grep -qiE '^en_US\.utf-?8$'; then
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    echo "ensure_locale: en_US.UTF-8 is missing; as root run: $0" >&2
    exit 0
fi
if [ ! -x /usr/sbin/locale-gen ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq locales >/dev/null
fi
sed -i 's/^# *en_US.UTF-8 UTF-8/en_US.UTF-8 UTF-8/' /etc/locale.gen
grep -q '^en_US.UTF-8 UTF-8' /etc/locale.gen || echo 'en_US.UTF-8 UTF-8' >> /etc/locale.gen
locale-gen >/dev/null
