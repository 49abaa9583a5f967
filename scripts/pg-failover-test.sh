#!/usr/bin/env bash
# Failover on PostgreSQL, for real: a primary and a synchronous streaming standby (two clusters on
# this machine), `jiesu serve` on both hosts (`host=primary,standby`, target_session_attrs=
# read-write), clients taking tickets in; the primary is killed with SIGKILL under load, the
# standby promoted; the server reconnects on its own and every ticket it acknowledged (201/200)
# is on the promoted standby. Run by scripts/test.sh; needs the `jiesu` binary ($JIESU_BIN).
#
#   JIESU_BIN=target/debug/jiesu scripts/pg-failover-test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
JIESU=${JIESU_BIN:-target/debug/jiesu}
[ -x "$JIESU" ] || { echo "no jiesu binary at $JIESU" >&2; exit 1; }
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -n "$bin" ] || { echo "no PostgreSQL server (scripts/pg-test-server.sh installs it)" >&2; exit 1; }
as_pg() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/sh -c "$*"; else sh -c "$*"; fi; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

work=$(mktemp -d /tmp/jiesu-failover.XXXXXX)
[ "$(id -u)" = 0 ] && chown postgres:postgres "$work"
p1=$(free_port); p2=$(free_port); web=$(free_port)
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  as_pg "$bin/pg_ctl -D $work/primary -m immediate stop" >/dev/null 2>&1 || true
  as_pg "$bin/pg_ctl -D $work/standby -m immediate stop" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "-- primary on $p1, synchronous standby on $p2"
as_pg "$bin/initdb -D $work/primary -U postgres --auth=trust -E UTF8 --locale=C.UTF-8" >"$work/initdb.log" 2>&1
cat >>"$work/primary/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $p1
unix_socket_directories = '$work'
wal_level = replica
max_wal_senders = 4
synchronous_standby_names = '*'
synchronous_commit = on
CONF
echo "host replication postgres 127.0.0.1/32 trust" >>"$work/primary/pg_hba.conf"
as_pg "$bin/pg_ctl -D $work/primary -l $work/primary.log -w start" >/dev/null
as_pg "$bin/pg_basebackup -h 127.0.0.1 -p $p1 -U postgres -D $work/standby -R -X stream" >/dev/null
sed -i "s/^port = $p1/port = $p2/" "$work/standby/postgresql.conf"
sed -i "/^synchronous_standby_names/d" "$work/standby/postgresql.conf"
as_pg "$bin/pg_ctl -D $work/standby -l $work/standby.log -w start" >/dev/null
psql -q -h 127.0.0.1 -p "$p1" -U postgres -c "create database city" >/dev/null
sync_state=$(psql -qtA -h 127.0.0.1 -p "$p1" -U postgres -c "select sync_state from pg_stat_replication")
[ "$sync_state" = sync ] || { echo "the standby is not synchronous ($sync_state)" >&2; exit 1; }

url="postgres://postgres@127.0.0.1:$p1,127.0.0.1:$p2/city?target_session_attrs=read-write&connect_timeout=2"
export JIESU_DATA_DIR=$work/data
"$JIESU" init --db "$url" >/dev/null
"$JIESU" user add --db "$url" --name agent1 --role agent --password 'Pw-123456!' >/dev/null
"$JIESU" serve --db "$url" --listen "127.0.0.1:$web" >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$web/api/openapi.json" >/dev/null 2>&1 && break; sleep 0.2; done

echo "-- read-only views from the standby: a second server with --replica"
web2=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1]);s.close()')
standby_url="postgres://postgres@127.0.0.1:$p2/city?connect_timeout=2"
if "$JIESU" serve --db "$work/not-postgres.db" --replica "$standby_url" --listen 127.0.0.1:0 >"$work/refused.log" 2>&1; then
  echo "--replica beside an SQLite --db was accepted" >&2; exit 1
fi
grep -q "needs --db to be the PostgreSQL primary\|does not exist" "$work/refused.log" || { cat "$work/refused.log" >&2; exit 1; }
"$JIESU" serve --db "$url" --replica "$standby_url" --listen "127.0.0.1:$web2" >"$work/server2.log" 2>&1 &
replica_pid=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$web2/api/openapi.json" >/dev/null 2>&1 && break; sleep 0.2; done
python3 - "$web2" "$p2" <<'PY'
import json, subprocess, sys, urllib.request, urllib.error
web, p2 = sys.argv[1], sys.argv[2]
base = f"http://127.0.0.1:{web}"
def call(method, path, body=None, token=None):
    req = urllib.request.Request(base + path, method=method,
        data=None if body is None else json.dumps(body).encode())
    req.add_header("Content-Type", "application/json")
    if token: req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=15) as r: return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e: return e.code, None
def standby_reads():
    # the last statement of each of the server's connections on the standby (pooled, idle)
    out = subprocess.run(["psql", "-qtA", "-h", "127.0.0.1", "-p", p2, "-U", "postgres", "-c",
        "select count(*) from pg_stat_activity where datname = 'city' and backend_type = 'client backend'"
        " and pid <> pg_backend_pid() and (query ilike '%tickets%' or query ilike '%events%')"],
        check=True, capture_output=True, text=True).stdout.strip()
    return int(out)
st, login = call("POST", "/api/v1/session", {"username": "agent1", "password": "Pw-123456!"})
assert st == 200, st
token = login["token"]
st, cats = call("GET", "/api/v1/categories", token=token)
codes = []
def walk(x):
    if isinstance(x, dict):
        if "code" in x and not any(isinstance(v, list) and v for v in x.values()): codes.append(str(x["code"]))
        for v in x.values(): walk(v)
    elif isinstance(x, list):
        for v in x: walk(v)
walk(cats)
leaf = max(codes, key=len)
body = {"channel": "phone", "type": "complaint", "category_code": leaf, "title": "路灯不亮",
        "text": "小区门口路灯一周不亮。", "district_code": "110105", "street_code": "110105001",
        "requester": {"name": "张先生", "phone": "13812345678"}}
st, t = call("POST", "/api/v1/tickets", body, token)
assert st == 201, f"a write through the server with --replica: {st}"
# the citizen tracks it (from the standby, or the primary while the standby has not replayed it)
st, tr = call("GET", f"/api/v1/track/{t['number']}?code={t['tracking_code']}")
assert st == 200 and tr["number"] == t["number"], (st, tr)
st, _ = call("GET", "/api/v1/track/%s?code=WRONGCODE22" % t["number"])
assert st == 404, st
# the public scorecard and the overview read the standby
st, card = call("GET", "/api/v1/scores/2026-11/street")
assert st in (200, 404), st
n = standby_reads()
assert n >= 1, "no connection of the server on the standby read tickets or events"
print(f"replica: the write went to the primary; tracking and the scorecard read tickets and events on the standby ({n} connection(s))")
PY
kill "$replica_pid" 2>/dev/null; wait "$replica_pid" 2>/dev/null || true

echo "-- load: 8 clients; the primary is killed after 3 s, the standby promoted"
python3 - "$web" "$work" "$p1" "$p2" "$bin" <<'PY'
import json, os, subprocess, sys, threading, time, urllib.request, urllib.error, uuid
web, work, p1, p2, pgbin = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
base = f"http://127.0.0.1:{web}"
def call(method, path, body=None, token=None, headers=None, timeout=15):
    req = urllib.request.Request(base + path, method=method,
        data=None if body is None else json.dumps(body).encode())
    req.add_header("Content-Type", "application/json")
    if token: req.add_header("Authorization", "Bearer " + token)
    for k, v in (headers or {}).items(): req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r: return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e: return e.code, None
    except Exception: return 0, None
st, login = call("POST", "/api/v1/session", {"username": "agent1", "password": "Pw-123456!"})
assert st == 200, st
token = login["token"]
st, cats = call("GET", "/api/v1/categories", token=token)
codes = []
def walk(x):
    if isinstance(x, dict):
        if "code" in x and not any(isinstance(v, list) and v for v in x.values()): codes.append(str(x["code"]))
        for v in x.values(): walk(v)
    elif isinstance(x, list):
        for v in x: walk(v)
walk(cats)
leaf = max(codes, key=len)
acked, errors, lock = [], [0], threading.Lock()
stop = time.time() + 25
def client(i):
    while time.time() < stop:
        key = str(uuid.uuid4())
        body = {"channel": "phone", "type": "complaint", "category_code": leaf, "title": "路灯不亮",
                "text": "小区门口路灯一周不亮。", "district_code": "110105", "street_code": "110105001",
                "requester": {"name": "张先生", "phone": "13812345678"}}
        for attempt in range(60):   # the same Idempotency-Key until it is acknowledged
            st, t = call("POST", "/api/v1/tickets", body, token, {"Idempotency-Key": key})
            if st in (200, 201):
                with lock: acked.append(t["number"])
                break
            with lock: errors[0] += 1
            time.sleep(0.25)
threads = [threading.Thread(target=client, args=(i,)) for i in range(8)]
for t in threads: t.start()
time.sleep(3)
before = len(acked)
pid = open(f"{work}/primary/postmaster.pid").readline().strip()
os.kill(int(pid), 9)
print(f"killed the primary (pid {pid}) after {before} acknowledged tickets", flush=True)
time.sleep(1)
as_pg = (lambda cmd: ["su", "postgres", "-s", "/bin/sh", "-c", cmd]) if os.getuid() == 0 else (lambda cmd: ["sh", "-c", cmd])
subprocess.run(as_pg(f"{pgbin}/pg_ctl -D {work}/standby -w promote"), check=True, stdout=subprocess.DEVNULL)
print("promoted the standby", flush=True)
for t in threads: t.join()
after = len(acked)
print(f"acknowledged {after} tickets ({after - before} after the failover), {errors[0]} failed attempts retried")
assert after > before, "no ticket was acknowledged after the failover: the server did not reconnect"
out = subprocess.run(["psql", "-qtA", "-h", "127.0.0.1", "-p", p2, "-U", "postgres", "-d", "city",
                      "-c", "select number from tickets"], capture_output=True, text=True, check=True).stdout.split()
missing = set(acked) - set(out)
assert not missing, f"{len(missing)} acknowledged tickets are not on the promoted standby: {sorted(missing)[:5]}"
assert len(set(acked)) == len(acked), "a ticket was acknowledged twice under different keys"
print(f"every acknowledged ticket ({len(acked)}) is on the promoted standby")
PY
echo "failover: passed"
