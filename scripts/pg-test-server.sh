#!/usr/bin/env bash
# A throwaway PostgreSQL 15 for the test suite: installs the server from Debian if missing, creates
# a cluster in a temporary directory and starts it with pg_ctl on a free private port (loopback
# only, trust authentication, fsync on as in production).
#
#   eval "$(scripts/pg-test-server.sh start)"   # sets PG_TEST_DIR, PG_TEST_PORT, PG_TEST_BIN, JIESU_TEST_PG
#   scripts/pg-test-server.sh stop "$PG_TEST_DIR"
#
# Runs as root (CI, this machine) by running the server as the `postgres` user, or as an ordinary
# user who owns the directory. Fails loudly: the PostgreSQL suites are never skipped silently.
set -euo pipefail

find_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }

as_pg() { # run a command as the cluster's owner
  if [ "$(id -u)" = 0 ]; then su postgres -s /bin/sh -c "$*"; else sh -c "$*"; fi
}

case "${1:-}" in
  start)
    bin=$(find_bin)
    if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
      echo "== installing postgresql-15 (Debian packages)" >&2
      if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
      $SUDO apt-get update -qq >&2
      # the package's own cluster is not started (policy-rc.d in containers); ours is private
      DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql-15 >/dev/null
      bin=$(find_bin)
    fi
    [ -x "$bin/initdb" ] || { echo "no PostgreSQL server binaries after installing postgresql-15" >&2; exit 1; }
    dir=$(mktemp -d /tmp/jiesu-pg.XXXXXX)
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$dir"; fi
    as_pg "$bin/initdb -D $dir/data -U postgres --auth=trust -E UTF8 --locale=C.UTF-8" >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
    as_pg "$bin/pg_ctl -D $dir/data -l $dir/server.log -w -t 60 start -o \"-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=400 -c shared_buffers=128MB\"" >/dev/null \
      || { cat "$dir/server.log" >&2; exit 1; }
    echo "PG_TEST_DIR=$dir; PG_TEST_PORT=$port; PG_TEST_BIN=$bin; JIESU_TEST_PG=postgres://postgres@127.0.0.1:$port; export PG_TEST_DIR PG_TEST_PORT PG_TEST_BIN JIESU_TEST_PG"
    ;;
  stop)
    dir=${2:?usage: pg-test-server.sh stop DIR}
    bin=$(find_bin)
    as_pg "$bin/pg_ctl -D $dir/data -m fast -w stop" >/dev/null 2>&1 || true
    rm -rf "$dir"
    ;;
  *)
    echo "usage: $0 start | stop DIR" >&2
    exit 2
    ;;
esac
