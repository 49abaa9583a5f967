#!/usr/bin/env bash
# Open311 against a client nobody here wrote: the PyPI `georeport` package (GeoReport v2 client,
# requests + xmltodict), in a venv of its own (.venv-open311/, made once and reused, like
# .venv-fuzz/). It lists the services, reads a definition, a page of requests and one request, in
# JSON and in XML, from a running Jiesu, and compares the two formats.
#
#   scripts/open311-client-test.sh http://127.0.0.1:8080/open311/v2/
#
# Exits 0 printing "georeport: ok"; 1 when the client finds something wrong; 77 when the client
# cannot be installed (no network to PyPI), so a test can tell "skipped" from "failed".
set -uo pipefail
base=${1:?usage: $0 BASE_URL_OF_OPEN311_V2 [NOW_RFC3339]}
# NOW: the server's clock (a test server runs on a test clock); the windows asked end there
now=${2:-}
root=$(cd "$(dirname "$0")/.." && pwd)
venv=$root/.venv-open311
version=0.3.1
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('georeport') != '$version')" 2>/dev/null; then
  echo "== open311: creating $venv with georeport $version (PyPI)" >&2
  python3 -m venv "$venv" || exit 77
  "$venv/bin/pip" install -q --disable-pip-version-check "georeport==$version" >&2 || exit 77
fi
exec "$venv/bin/python" - "$base" "$now" <<'PY'
import sys, datetime
from georeport import GeoReport

base = sys.argv[1]
bad = []

def as_list(x):
    # xmltodict gives one element as a dict, several as a list
    if x is None:
        return []
    return x if isinstance(x, list) else [x]

now = (datetime.datetime.fromisoformat(sys.argv[2].replace('Z', '+00:00')) if sys.argv[2:] and sys.argv[2]
       else datetime.datetime.now(datetime.timezone.utc))

def requests(c, **q):
    # georeport 0.3.1 fails on an empty XML list (its `service_requests` element is empty):
    # that is no request, not an error of the server's
    try:
        return as_list(c.get_service_requests(**q))
    except TypeError:
        return []
start = (now - datetime.timedelta(days=7)).strftime('%Y-%m-%dT%H:%M:%SZ')
end = now.strftime('%Y-%m-%dT%H:%M:%SZ')
seen = {}
for fmt in ('json', 'xml'):
    c = GeoReport(base, jurisdiction='jiesu', output_format=fmt)
    services = as_list(c.get_service_list())
    if not services or any('service_code' not in s or 'service_name' not in s for s in services):
        bad.append(f"{fmt}: services without service_code/service_name")
        continue
    code = services[0]['service_code']
    d = c.get_service_definition(code)
    if d.get('service_code') != code:
        bad.append(f"{fmt}: the definition of {code} names {d.get('service_code')!r}")
    attrs = d.get('attributes')
    if fmt == 'xml':
        attrs = as_list((attrs or {}).get('attribute'))
    if not attrs or any('code' not in a or 'datatype' not in a for a in attrs):
        bad.append(f"{fmt}: the definition's attributes lack code/datatype: {attrs!r}")
    reqs = requests(c, start_date=start, end_date=end)
    if not reqs:
        bad.append(f"{fmt}: no requests in the last 7 days")
        continue
    for r in reqs:
        if r.get('status') not in ('open', 'closed'):
            bad.append(f"{fmt}: status {r.get('status')!r}")
        t = datetime.datetime.fromisoformat(r['requested_datetime'])
        if t.utcoffset() is None:
            bad.append(f"{fmt}: requested_datetime without an offset: {r['requested_datetime']}")
    for status in ('open', 'closed'):
        got = requests(c, start_date=start, end_date=end, status=status)
        if any(r['status'] != status for r in got):
            bad.append(f"{fmt}: status={status} answered other statuses")
    one = c.get_service_request(reqs[0]['service_request_id'])
    if one.get('service_request_id') != reqs[0]['service_request_id']:
        bad.append(f"{fmt}: request {reqs[0]['service_request_id']} answered {one.get('service_request_id')!r}")
    pair = requests(c, service_request_id=','.join(r['service_request_id'] for r in reqs[:2]))
    if len(pair) != min(2, len(reqs)):
        bad.append(f"{fmt}: service_request_id list answered {len(pair)} requests")
    seen[fmt] = ([s['service_code'] for s in services], [r['service_request_id'] for r in reqs],
                 one.get('description'), one.get('status'))
    print(f"georeport {fmt}: {len(services)} services, definition of {code} with {len(attrs)} attributes, "
          f"{len(reqs)} requests in 7 days, request {one['service_request_id']} is {one['status']}")
if len(seen) == 2 and seen['json'] != seen['xml']:
    bad.append("JSON and XML disagree (services, request ids, or one request's description/status)")
try:
    GeoReport(base, output_format='json').get_service_requests(
        start_date='2020-01-01T00:00:00Z', end_date='2020-12-31T00:00:00Z')
    bad.append("a 365-day window was accepted")
except Exception as e:
    if '400' not in str(e):
        bad.append(f"a 365-day window: {e}")
for b in bad:
    print("georeport:", b)
print("georeport: ok" if not bad else "georeport: FAILED")
sys.exit(1 if bad else 0)
PY
