#!/usr/bin/env bash
# Starts a throwaway PostgreSQL cluster on 127.0.0.1 from Debian's packages and prints
# the TEST_POSTGRES_URL for it. Usage: eval "$(.ci/postgres.sh start DIR PORT)"; .ci/postgres.sh stop DIR
set -euo pipefail
action=$1
dir=$2
port=${3:-55432}

pg_bin() {
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

case "$action" in
  start)
    if [ -z "$(pg_bin)" ]; then
      echo "installing PostgreSQL from Debian's packages" >&2
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq >&2
      apt-get install -y -qq postgresql >&2
    fi
    bin=$(pg_bin)
    id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql postgres
    run_as_postgres() {
      if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
    }
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres "$dir"
    run_as_postgres "$bin/initdb" -D "$dir/data" -U postgres -A trust --no-sync >&2
    run_as_postgres "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >&2
    "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -q -c "CREATE DATABASE keywarden_test" >&2
    echo "export TEST_POSTGRES_URL=postgres://postgres:postgres@127.0.0.1:$port/keywarden_test?sslmode=disable"
    ;;
  stop)
    bin=$(pg_bin)
    if [ "$(id -u)" = 0 ]; then
      runuser -u postgres -- "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >&2 || true
    else
      "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >&2 || true
    fi
    rm -rf "$dir"
    ;;
esac
