#!/usr/bin/env python3
"""The crate boundaries docs/ARCHITECTURE.md promises, checked from `cargo metadata` and the sources.

Run from the project root (scripts/test.sh does). Prints one line per broken rule and exits 1, or
prints a one-line summary and exits 0. A rule here is a sentence of ARCHITECTURE.md's crate map; when
the map changes, this table changes in the same commit.
"""
import json
import pathlib
import re
import subprocess
import sys

DB_CLIENTS = {"rusqlite", "libsqlite3-sys", "postgres", "tokio-postgres", "sqlx"}
# Crates that do IO: network, async runtimes, process-wide logging set-up, databases.
IO_CRATES = DB_CLIENTS | {"tokio", "axum", "hyper", "hyper-util", "reqwest", "ureq", "tracing-subscriber", "rust-embed"}

# crate -> (workspace crates it may depend on, external crates it may depend on, or None = any but IO)
ALLOWED = {
    # the rules: no IO, no clock, a handful of value-type crates
    "jiesu-domain": (set(), {"chrono", "chrono-tz", "serde", "serde_json", "thiserror", "schemars"}),
    "jiesu-routing": ({"jiesu-domain"}, None),
    "jiesu-refdata": ({"jiesu-domain"}, None),
    "jiesu-text": ({"jiesu-baseline", "jiesu-pybaseline"}, None),
    "jiesu-kb": ({"jiesu-domain", "jiesu-refdata", "jiesu-text", "jiesu-baseline", "jiesu-pybaseline"}, None),
    "jiesu-score": ({"jiesu-domain", "jiesu-store", "jiesu-baseline", "jiesu-pybaseline"}, None),
    "jiesu-demo": ({"jiesu-domain", "jiesu-refdata", "jiesu-routing", "jiesu-store"}, None),
    # storage knows the domain's types and nothing of routing, scoring or HTTP
    "jiesu-store": ({"jiesu-domain", "jiesu-analytics"}, None),
    # the data platform's facts, queries and reports: no IO, no clock (the store fills the facts)
    "jiesu-analytics": ({"jiesu-domain"}, None),
    # proactive governance (early warning, reply audit, street policy): series and texts in, lists out
    "jiesu-governance": ({"jiesu-domain", "jiesu-routing", "jiesu-analytics"}, None),
    # file formats (xlsx, csv) in memory: bytes in, rows out; no workspace crate
    "jiesu-io": (set(), None),
    # legacy imports: the mapping (pure) and the histories built through the domain, written
    # through the store's traits; no IO of its own, `now` passed in
    "jiesu-import": ({"jiesu-domain", "jiesu-store", "jiesu-routing"}, None),
    # the FTS5 reference engine of `jiesu bench kb` (may use SQLite: it is a benchmark)
    "jiesu-kb-bench": ({"jiesu-kb", "jiesu-refdata", "jiesu-text"}, None),
}
# Crates that may do IO at all (others are libraries that take data and a `now`).
IO_ALLOWED = {"jiesu-store", "jiesu-http", "jiesu-cli"}
# Source folders that must not read the machine's clock (time is passed in).
NO_CLOCK = ["crates/jiesu-analytics/src", "crates/jiesu-governance/src", "crates/jiesu-domain/src", "crates/jiesu-routing/src", "crates/jiesu-text/src", "crates/jiesu-kb/src"]
CLOCK = re.compile(r"\b(Utc::now|Local::now|SystemTime::now)\s*\(")


def is_bench(name):
    return "bench" in name or "baseline" in name


def main():
    meta = json.loads(subprocess.run(["cargo", "metadata", "--format-version", "1", "--no-deps"],
                                     check=True, capture_output=True, text=True).stdout)
    ours = {p["name"] for p in meta["packages"]}
    bad = []
    for p in meta["packages"]:
        name = p["name"]
        normal = {d["name"] for d in p["dependencies"] if d.get("kind") in (None, "normal")}
        internal, external = normal & ours, normal - ours
        if name != "jiesu-store" and not is_bench(name) and normal & DB_CLIENTS:
            bad.append(f"{name} depends on a database client {sorted(normal & DB_CLIENTS)}: only jiesu-store speaks SQL")
        if name not in IO_ALLOWED and not is_bench(name) and external & (IO_CRATES - DB_CLIENTS):
            bad.append(f"{name} depends on IO crates {sorted(external & (IO_CRATES - DB_CLIENTS))}")
        if "jiesu-http" in internal and name != "jiesu-cli":
            bad.append(f"{name} depends on jiesu-http: only the binary may (engine code lives in its own crate)")
        if name in ALLOWED:
            may_int, may_ext = ALLOWED[name]
            if internal - may_int:
                bad.append(f"{name} depends on {sorted(internal - may_int)}; it may depend only on {sorted(may_int) or 'no workspace crate'}")
            if may_ext is not None and external - may_ext:
                bad.append(f"{name} depends on {sorted(external - may_ext)}; it may depend only on {sorted(may_ext)}")
    for folder in NO_CLOCK:
        for f in sorted(pathlib.Path(folder).rglob("*.rs")):
            for i, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1):
                if CLOCK.search(line) and not line.lstrip().startswith("//"):
                    bad.append(f"{f}:{i} reads the machine's clock; take `now` from the caller")
    for b in bad:
        print(b)
    if bad:
        print(f"crate boundaries: {len(bad)} broken (docs/ARCHITECTURE.md, scripts/check-boundaries.py)")
        return 1
    print(f"crate boundaries hold ({len(meta['packages'])} crates)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
