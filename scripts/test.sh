#!/usr/bin/env bash
# Runs every test of Jiesu: Rust unit, property and integration tests (against the real `jiesu`
# binary), the same store contract, integration tests, core browser suites and the issues'
# acceptance contracts (scripts/contracts.sh) on SQLite and on a real PostgreSQL, schema fuzzing of
# the API (schemathesis in .venv-fuzz/, scripts/fuzz-api.sh), then the real-browser end-to-end
# tests (headless Debian Chromium via playwright-core).
# Installs what is missing first (Debian chromium, npm packages), so it works on a fresh machine.
#
# Every suite runs even when an earlier one fails; the summary at the end names each suite's result
# and the script exits non-zero if any failed.
#
# Tests that read licensed third-party data (../shared/data, or $JIESU_SHARED_DATA) skip on one
# visible line when it is absent; with JIESU_REQUIRE_SHARED_DATA=1 (set by .ci/run) a missing data
# folder is a failure instead.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}

declare -a results=()
failed=0
record() { # name status
  if [ "$2" = 0 ]; then results+=("passed: $1"); else results+=("FAILED: $1 (exit $2)"); failed=1; fi
}

need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "== installing ${need_apt[*]} (Debian packages)"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

# The shared, licensed test data: present, or skipped visibly, or (CI) a failure.
shared=${JIESU_SHARED_DATA:-$root/../shared/data}
data_filter=()
if [ ! -d "$shared/tipdm2020_gov_messages_labelled" ] || [ ! -d "$shared/tipdm2020_gov_messages_votes_replies" ]; then
  if [ -n "${JIESU_REQUIRE_SHARED_DATA:-}" ] && [ "${JIESU_REQUIRE_SHARED_DATA}" != 0 ]; then
    echo "== the shared test data is missing at $shared and JIESU_REQUIRE_SHARED_DATA is set"
    record "shared test data present ($shared)" 1
  else
    echo "skipped: the real-data tests need $shared (set JIESU_SHARED_DATA); they are counted as skipped"
    # The filter makes nextest count them as skipped; each test also skips itself if run directly.
    data_filter=(-E 'not (binary(real_data) | binary(real_replies))')
  fi
fi

echo "== crate boundaries (docs/ARCHITECTURE.md)"
python3 scripts/check-boundaries.py
record "crate boundaries" $?

echo "== web UI: npm ci + build"
(cd web && { [ -d node_modules ] || npm ci --no-audit --no-fund; } && npm run build --silent)
ui=$?
record "web UI build" $ui

echo "== Rust: build and test (cargo nextest)"
cargo build --workspace --bins
built=$?
record "Rust build" $built
if command -v cargo-nextest >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast "${data_filter[@]}"
else
  cargo test --workspace --no-fail-fast
fi
record "Rust tests" $?

target=${CARGO_TARGET_DIR:-$root/target}
echo "== PostgreSQL: the same store contract and integration tests against a real PostgreSQL 15"
# scripts/pg-test-server.sh installs the server from Debian if missing and starts a private
# cluster; JIESU_TEST_PG makes every test city a new database on it (tests/common/mod.rs test_db).
# The integration binaries whose subject is the store and the API run again on PostgreSQL; those
# whose subject is elsewhere (model training, the analytics engine, governance statistics) or
# that read an SQLite file directly (crash recovery, key files, tampering, SQLite backup) run
# once, above, to keep the whole command well under 30 minutes.
pg_bins='binary(contract) | binary(pg_part1) | binary(pg_part2) | binary(postgres) | binary(api) | binary(authz_matrix) | binary(callbacks) | binary(notify) | binary(paging) | binary(routing) | binary(scores) | binary(staff) | binary(transparency) | binary(agent_sessions) | binary(kb_articles) | binary(kb_usage) | binary(risk) | binary(import) | binary(open311) | binary(partners) | binary(street_work) | binary(reply_audit) | binary(monthly) | binary(dept_api) | binary(report_subs) | binary(report_inbox) | (binary(operations) & not test(backup)) | binary(gov_policies)'
if [ "$built" = 0 ] && pgenv=$(scripts/pg-test-server.sh start); then
  eval "$pgenv"
  if command -v cargo-nextest >/dev/null 2>&1; then
    pg_filter="$pg_bins"
    if [ ${#data_filter[@]} -gt 0 ]; then pg_filter="($pg_filter) & ${data_filter[1]}"; fi
    JIESU_TEST_PG=$JIESU_TEST_PG cargo nextest run --workspace --no-fail-fast -E "$pg_filter"
  else
    JIESU_TEST_PG=$JIESU_TEST_PG cargo test -p jiesu-store -p jiesu-cli --no-fail-fast
  fi
  record "Rust tests on PostgreSQL" $?
  # The browser suites whose subject is the ticket's life and the workbench, on PostgreSQL too
  # (web/tests/harness.mjs makes each city a new database when JIESU_TEST_PG is set).
  if [ "$ui" = 0 ]; then
    echo "== browser: the core suites on PostgreSQL"
    (cd web && JIESU_TEST_PG=$JIESU_TEST_PG JIESU_BIN="$target/debug/jiesu" \
      node --test --test-concurrency=1 tests/e2e.test.mjs tests/workbench.test.mjs tests/lists.test.mjs tests/trust.test.mjs)
    record "browser tests on PostgreSQL" $?
  else
    record "browser tests on PostgreSQL (not run: the UI build failed)" 1
  fi
  # the issues' acceptance contracts (their scenarios and oracles, ../shared/acceptance) on an
  # SQLite city and on a PostgreSQL one, with the binary built above
  echo "== acceptance contracts on SQLite and on PostgreSQL"
  JIESU_BIN="$target/debug/jiesu" JIESU_TEST_PG=$JIESU_TEST_PG scripts/contracts.sh
  record "acceptance contracts on SQLite and PostgreSQL" $?
  scripts/pg-test-server.sh stop "$PG_TEST_DIR"
  # the later suites run on SQLite (the harness and the tests would follow the variable)
  unset JIESU_TEST_PG PG_TEST_DIR
  echo "== PostgreSQL: failover to a synchronous standby under load"
  JIESU_BIN="${CARGO_TARGET_DIR:-$root/target}/debug/jiesu" scripts/pg-failover-test.sh
  record "PostgreSQL failover" $?
else
  record "Rust tests on PostgreSQL (not run: the build failed or PostgreSQL could not start)" 1
fi

echo "== API: schema fuzzing (schemathesis) against a running server"
if [ "$built" = 0 ]; then
  JIESU_BIN="$target/debug/jiesu" scripts/fuzz-api.sh
  record "API schema fuzzing" $?
else
  record "API schema fuzzing (not run: the build failed)" 1
fi

echo "== browser: end-to-end in headless Chromium"
if [ "$built" = 0 ] && [ "$ui" = 0 ]; then
  (cd web && JIESU_BIN="$target/debug/jiesu" npm run --silent test:e2e)
  record "browser end-to-end tests" $?
else
  record "browser end-to-end tests (not run: the build failed)" 1
fi

echo "== summary"
for r in "${results[@]}"; do echo "$r"; done
if [ "$failed" = 0 ]; then echo "== all tests passed"; else echo "== some suites failed"; fi
exit $failed
