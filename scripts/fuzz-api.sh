#!/usr/bin/env bash
# Schema fuzzing (模糊测试) of the HTTP API: schemathesis, in a venv of its own (.venv-fuzz/, made
# here and reused), against a real `jiesu serve` on a throw-away demo city, over the complete
# OpenAPI document the server serves, with every check, a bounded number of cases per operation
# and a supervisor's bearer token. Exits non-zero on any failure.
#
#   scripts/fuzz-api.sh                # JIESU_BIN or $CARGO_TARGET_DIR/debug/jiesu
#   FUZZ_EXAMPLES=50 scripts/fuzz-api.sh
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
target=${CARGO_TARGET_DIR:-$root/target}
bin=${JIESU_BIN:-$target/debug/jiesu}
examples=${FUZZ_EXAMPLES:-50}
# The pinned version: a newer schemathesis may add checks; upgrade on purpose.
version=4.32.5
venv=$root/.venv-fuzz

[ -x "$bin" ] || { echo "fuzz: no jiesu binary at $bin (build first)"; exit 1; }
if [ ! -x "$venv/bin/schemathesis" ] || ! "$venv/bin/schemathesis" --version 2>/dev/null | grep -q "$version"; then
  echo "== fuzz: creating $venv with schemathesis $version (PyPI)"
  python3 -m venv "$venv" || exit 1
  "$venv/bin/pip" install -q --disable-pip-version-check "schemathesis==$version" || exit 1
fi

work=$(mktemp -d)
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null; fi
  rm -rf "$work"
}
trap cleanup EXIT

db=$work/city.db
pw='Fuzz-Pw-2026!x'
"$bin" generate --db "$db" --months 1 --scale 0.002 --seed 7 >/dev/null || exit 1
"$bin" user add --db "$db" --name fuzz-sup --role supervisor --password "$pw" >/dev/null || exit 1
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base=http://127.0.0.1:$port
# The abuse limits are turned off (0): the fuzzer's thousands of log-ins, look-ups and public
# requests from one address would otherwise be answered 429 (documented, but they would hide
# the routes behind them). The limits have their own tests (crates/jiesu-cli/tests/abuse.rs).
limits=()
for l in login_account_failures login_address_failures track_number_failures track_address_failures \
         public_intake_per_hour ask_per_hour rate_per_hour transparency_per_hour; do
  limits+=(--limit "$l=0")
done
"$bin" serve --db "$db" --listen "127.0.0.1:$port" "${limits[@]}" >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 300); do
  curl -fsS "$base/healthz" >/dev/null 2>&1 && break
  kill -0 "$server_pid" 2>/dev/null || { echo "fuzz: jiesu serve exited"; cat "$work/server.log"; exit 1; }
  sleep 0.2
done

token=$(curl -fsS -H 'Content-Type: application/json' \
  -d "{\"username\":\"fuzz-sup\",\"password\":\"$pw\"}" "$base/api/v1/session" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])') || { echo "fuzz: log-in failed"; exit 1; }

# The classifier trains at start-up (POST /classify answers a documented 503 until then, which
# the server-error check would count): wait for it.
for _ in $(seq 1 600); do
  curl -fsS -H "Authorization: Bearer $token" "$base/api/v1/classify/model" 2>/dev/null | grep -q '"ready":true' && break
  sleep 0.5
done

report=${FUZZ_REPORT_DIR:-$target/fuzz-report}
mkdir -p "$report"
run() { # name, extra schemathesis arguments…
  local name=$1; shift
  "$venv/bin/schemathesis" --config-file "$root/scripts/fuzz-api.toml" run "$base/api/openapi.json" \
    --checks all \
    --max-examples "$examples" \
    --seed 2026 \
    --workers 1 \
    --request-timeout 30 \
    --header "Authorization: Bearer $token" \
    --generation-database none \
    --report junit --report-junit-path "$report/$name.xml" \
    --no-color "$@"
}
status=0
# Log-out revokes the token every other operation runs with, so it runs on its own, last.
run main --exclude-path /api/v1/session/logout || status=1
run logout --include-path /api/v1/session/logout || status=1
if [ "$status" != 0 ]; then
  echo "== fuzz: failures (the server's log: $report/server.log)"
  cp "$work/server.log" "$report/server.log"
fi
exit $status
