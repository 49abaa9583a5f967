#!/usr/bin/env bash
# The issues' acceptance contracts (../shared/acceptance, or $JIESU_ACCEPTANCE) on BOTH stores:
# the same scenarios the contracts run against an SQLite city run here against an SQLite file and
# against a database on a real PostgreSQL, with the binary the test command built.
#
#   JIESU_BIN=target/debug/jiesu scripts/contracts.sh            # starts its own PostgreSQL
#   JIESU_TEST_PG=postgres://… JIESU_BIN=… scripts/contracts.sh  # or uses this cluster
#
# Per store: a small generated city; the core API scenario (lifecycle, scoping, tracking, errors),
# the routing scenario (explained suggestions, deadlines), the scorecard against the contracts'
# independent recomputation from `jiesu export tickets`, the hotline report's sections, the facts
# export, readiness and metrics. The contracts' own scripts build a release binary and work on
# SQLite only; what they check of the store is repeated here on both.
#
# The contracts are not shipped with the project: when they are absent this prints one
# `skipped:` line, unless JIESU_REQUIRE_SHARED_DATA=1 (CI), which makes it a failure.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
bin=${JIESU_BIN:-${CARGO_TARGET_DIR:-$root/target}/debug/jiesu}
lib=${JIESU_ACCEPTANCE:-$root/../shared/acceptance}/lib
PW='Pw-123456!'

if [ ! -f "$lib/api_scenario.py" ]; then
  if [ -n "${JIESU_REQUIRE_SHARED_DATA:-}" ] && [ "${JIESU_REQUIRE_SHARED_DATA}" != 0 ]; then
    echo "the acceptance contracts are missing at $lib and JIESU_REQUIRE_SHARED_DATA is set"
    exit 1
  fi
  echo "skipped: the acceptance contracts on both stores need $lib (set JIESU_ACCEPTANCE)"
  exit 0
fi
[ -x "$bin" ] || { echo "no jiesu binary at $bin (build it, or set JIESU_BIN)"; exit 1; }

work=$(mktemp -d /tmp/jiesu-contracts.XXXXXX)
server=""
own_pg=""
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
  [ -n "$own_pg" ] && scripts/pg-test-server.sh stop "$own_pg"
  rm -rf "$work"
}
trap cleanup EXIT

failures=()
fail() { echo "FAILS ($store): $*"; failures+=("$store: $*"); }

free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1]);s.close()'; }

start_server() { # db
  local port; port=$(free_port); base="http://127.0.0.1:$port"
  "$bin" serve --db "$1" --listen "127.0.0.1:$port" >"$work/$store-server.log" 2>&1 &
  server=$!
  for _ in $(seq 1 300); do
    curl -sf "$base/readyz" >/dev/null 2>&1 && return 0
    kill -0 "$server" 2>/dev/null || break
    sleep 0.2
  done
  tail -5 "$work/$store-server.log"
  return 1
}

stop_server() {
  kill -TERM "$server" 2>/dev/null
  local rc=""
  for _ in $(seq 1 150); do
    kill -0 "$server" 2>/dev/null || { wait "$server"; rc=$?; break; }
    sleep 0.1
  done
  [ "$rc" = 0 ] || fail "the server did not exit 0 within 15 s of SIGTERM (rc=${rc:-still running})"
  server=""
}

contracts() { # store db
  store=$1
  local db=$2 out="$work/$store"
  mkdir -p "$out"
  # the files derived from the database (the personal-data key of a PostgreSQL city, models)
  export JIESU_DATA_DIR=$out
  echo "== contracts on $store"
  (cd "$out" && timeout 600 "$bin" generate --db "$db" --months 3 --scale 0.003 --seed 7 >"$out/gen.log" 2>&1) \
    || { tail -3 "$out/gen.log"; fail "jiesu generate"; return; }
  for u in "agent1 agent" "disp1 dispatcher" "cb1 callback_agent" "sup1 supervisor"; do
    set -- $u
    "$bin" user add --db "$db" --name "$1" --role "$2" --password "$PW" >/dev/null 2>&1 || fail "user add $1"
  done
  "$bin" user add --db "$db" --name h1 --role unit_handler --unit 110105001 --password "$PW" >/dev/null 2>&1 || fail "user add h1"
  "$bin" user add --db "$db" --name h2 --role unit_handler --unit 110105002 --password "$PW" >/dev/null 2>&1 || fail "user add h2"

  # the CLI contracts: the scorecard against the independent recomputation, the report, the facts
  "$bin" export tickets --db "$db" --from 2000-01-01 --to 2100-01-01 --format csv >"$out/export.csv" 2>"$out/export.err" \
    || fail "export tickets: $(tail -1 "$out/export.err")"
  if period=$(python3 "$lib/score_oracle.py" period "$out/export.csv"); then
    "$bin" score --db "$db" --period "$period" --level street --format csv >"$out/score.csv" 2>"$out/score.err" \
      || fail "score: $(tail -1 "$out/score.err")"
    "$bin" score --db "$db" --period "$period" --level street --format json >"$out/score.json" 2>/dev/null || fail "score --format json"
    read -r pfrom pto < <(python3 -c "import json,sys; j=json.load(open(sys.argv[1])); print(j.get('from',''), j.get('to',''))" "$out/score.json")
    python3 "$lib/score_oracle.py" compare "$out/export.csv" "$out/score.csv" "$period" $pfrom $pto \
      || fail "the street scorecard differs from the contracts' recomputation"
  else
    fail "the contracts' oracle cannot read the ticket export"
  fi
  read -r from to < <(python3 - "$out/score.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1])); y, m = map(int, j['period'][:7].split('-'))
print(f"{y - (m < 3):04d}-{(m - 3) % 12 + 1:02d}", f"{y:04d}-{m:02d}")
PY
)
  if "$bin" report hotline --db "$db" --from "$from" --to "$to" --format json --out "$out/report.json" >"$out/report.log" 2>&1; then
    python3 - "$out/report.json" <<'PY' || fail "the hotline report's sections"
import json, sys
r = json.load(open(sys.argv[1]))
missing = [k for k in ('overview', 'top_categories', 'handling') if not r.get(k)]
if missing: print("sections missing or empty:", missing)
sys.exit(1 if missing else 0)
PY
  else
    tail -2 "$out/report.log"; fail "report hotline"
  fi
  "$bin" export facts --db "$db" --from "$from-01" --to "$to-01" --format csv --out "$out/facts.csv" >/dev/null 2>&1 \
    && [ "$(wc -l <"$out/facts.csv")" -gt 100 ] || fail "export facts"

  # the HTTP contracts
  if start_server "$db"; then
    python3 "$lib/api_scenario.py" "$base" || fail "the core API scenario"
    python3 "$lib/route_scenario.py" "$base" || fail "the routing scenario"
    curl -sf "$base/metrics" >"$out/metrics.txt" && grep -q '^# TYPE ' "$out/metrics.txt" \
      || fail "GET /metrics is not Prometheus text"
    stop_server
  else
    fail "the server did not become ready"
  fi
}

contracts sqlite "$work/city.db"

if [ -z "${JIESU_TEST_PG:-}" ]; then
  if pgenv=$(scripts/pg-test-server.sh start); then
    eval "$pgenv"
    own_pg=$PG_TEST_DIR
  else
    store=postgres; fail "PostgreSQL could not start"
  fi
fi
if [ -n "${JIESU_TEST_PG:-}" ]; then
  name="contracts_$$_$RANDOM"
  hostport=${JIESU_TEST_PG#postgres://}; hostport=${hostport#*@}; hostport=${hostport%%/*}
  if psql -q -h "${hostport%:*}" -p "${hostport#*:}" -U postgres -c "CREATE DATABASE $name" >/dev/null; then
    contracts postgres "$JIESU_TEST_PG/$name"
  else
    store=postgres; fail "cannot create the database $name"
  fi
fi

if [ ${#failures[@]} -gt 0 ]; then
  echo "== contracts: ${#failures[@]} failed"
  printf '  %s\n' "${failures[@]}"
  exit 1
fi
echo "== contracts: every scenario passed on SQLite and on PostgreSQL"
