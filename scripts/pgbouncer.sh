#!/usr/bin/env bash
# Start PgBouncer in transaction pooling mode (as Neon's pooled endpoint runs it) in front of
# the PostgreSQL on 127.0.0.1:5432. Usage: scripts/pgbouncer.sh start|stop [port]
# Installs Debian's pgbouncer when it is missing.
set -euo pipefail
action=${1:-start}
port=${2:-6432}
dir=/tmp/tasks-api-pgbouncer-$port

if [ "$action" = stop ]; then
  [ -f "$dir/pgbouncer.pid" ] && kill "$(cat "$dir/pgbouncer.pid")" 2>/dev/null || true
  exit 0
fi

if ! command -v pgbouncer >/dev/null 2>&1 && [ ! -x /usr/sbin/pgbouncer ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pgbouncer >/dev/null
fi
bin=$(command -v pgbouncer || echo /usr/sbin/pgbouncer)

mkdir -p "$dir"
cat > "$dir/pgbouncer.ini" <<INI
[databases]
; Any database name: the test suite's per-worker databases (<name>_<run>_<worker>) included.
* = host=127.0.0.1 port=5432

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir =
auth_type = trust
auth_file = $dir/userlist.txt
pool_mode = transaction
max_client_conn = 200
default_pool_size = 20
ignore_startup_parameters = extra_float_digits
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
INI
echo '"postgres" ""' > "$dir/userlist.txt"
chown -R postgres "$dir" 2>/dev/null || true
"$0" stop "$port"
sleep 0.2
# PgBouncer refuses to run as root: -u drops to the postgres user.
"$bin" -d -u postgres "$dir/pgbouncer.ini"
for _ in $(seq 50); do
  psql -h 127.0.0.1 -p "$port" -U postgres -tAc "select 1" test >/dev/null 2>&1 && { echo "pgbouncer (transaction mode) on 127.0.0.1:$port"; exit 0; }
  sleep 0.1
done
echo "pgbouncer did not start; see $dir/pgbouncer.log" >&2
exit 1
