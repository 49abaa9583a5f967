"""The DuckDB side of `jiesu bench report`: the hotline report's figures (专项报告四: 一 总体情况,
二 前十类问题, 三 承办情况) as SQL over the ticket facts in Parquet (the columns of `jiesu export
facts`).

Usage: duckdb_report.py SPEC.json. Runs the whole set of queries once untimed (warm-up), then `runs`
times, each time on a fresh connection reading the Parquet file (DuckDB's default: every core), and
prints one JSON line: the DuckDB version, the median and every time in seconds, and the figures (same
shape as the Rust side builds from its report, compared there)."""
import json, statistics, sys, time
import duckdb

spec = json.load(open(sys.argv[1]))
PQ = spec["parquet"].replace("'", "''")
YEARS = spec["years"]
MONTHS = spec["months"]
L1_NAMES = spec["l1_names"]
WP, WB = spec["w_partly"], spec["w_basic"]
Y0, YL, NY = YEARS[0], YEARS[-1], len(YEARS)
LOCAL = "('district', 'district_department', 'street_town', 'community')"


def compute():
    con = duckdb.connect()
    con.execute(f"CREATE VIEW f AS SELECT * FROM read_parquet('{PQ}')")
    q = lambda sql: con.execute(sql).fetchall()

    # 一 总体情况: month × channel with the callback counts
    mc = q("""
      SELECT created_month, channel, count(*) AS n,
        count(*) FILTER (WHERE dispatched) AS dispatched,
        count(*) FILTER (WHERE answered_directly) AS direct,
        count(*) FILTER (WHERE "type" = 'praise') AS praise,
        count(*) FILTER (WHERE contacted) AS valid,
        count(*) FILTER (WHERE contacted AND resolution = 'resolved') AS resolved,
        count(*) FILTER (WHERE contacted AND resolution = 'partly') AS partly,
        count(*) FILTER (WHERE contacted AND satisfaction = 'satisfied') AS satisfied,
        count(*) FILTER (WHERE contacted AND satisfaction = 'basic') AS basic
      FROM f GROUP BY ALL""")

    # requesters: one bit per year each requester called in
    bits = ", ".join(
        [f"count(*) FILTER (WHERE b & {1 << i} <> 0) AS y{i}" for i in range(NY)]
        + [f"count(*) FILTER (WHERE b & {(1 << (i + 1)) - 1} = {1 << i}) AS new{i}" for i in range(NY)])
    req = q(f"""
      WITH r AS (SELECT requester_id, bit_or(1::BIGINT << (year(created_date) - {Y0})) AS b
                 FROM f WHERE requester_id IS NOT NULL GROUP BY requester_id)
      SELECT count(*) AS total, count(*) FILTER (WHERE b = {(1 << NY) - 1}) AS every, {bits} FROM r""")[0]

    # 二 前十类问题: month × level-1 × level-2
    con.execute("""
      CREATE TEMP TABLE c2 AS
      SELECT created_month, category_l1, category_l2, count(*) AS n,
             count(*) FILTER (WHERE answered_directly) AS direct
      FROM f GROUP BY ALL""")
    top20 = q("""
      SELECT category_l1, sum(n) AS cnt, sum(direct) AS d FROM c2 WHERE category_l1 IS NOT NULL
      GROUP BY 1 ORDER BY cnt DESC, category_l1 LIMIT 20""")
    top10 = [r[0] for r in top20[:10]]
    in10 = ", ".join("'" + c.replace("'", "''") + "'" for c in top10) or "NULL"
    monthly = q(f"""
      SELECT category_l1, created_month, sum(n) FROM c2 WHERE category_l1 IN ({in10}) GROUP BY ALL""")
    subs = q(f"""
      SELECT category_l1, category_l2, sum(n) AS cnt FROM c2
      WHERE category_l1 IN ({in10}) AND category_l2 IS NOT NULL GROUP BY category_l1, category_l2
      QUALIFY row_number() OVER (PARTITION BY category_l1 ORDER BY cnt DESC, category_l2) <= 5
      ORDER BY category_l1, cnt DESC, category_l2""")

    # 三 承办情况: dispatched tickets by lead unit, by district × unit kind, by district × level-1 × year
    con.execute("""
      CREATE TEMP TABLE du AS
      SELECT lead_unit, unit_kind, count(*) AS n FROM f WHERE dispatched GROUP BY ALL""")
    kinds = q("SELECT coalesce(unit_kind, ''), sum(n) FROM du GROUP BY 1 ORDER BY 1")
    top_of = lambda kind, k: q(f"""
      SELECT lead_unit, n FROM du WHERE unit_kind = '{kind}' ORDER BY n DESC, lead_unit LIMIT {k}""")
    top_streets = top_of("street_town", 20)
    bottom_streets = q("""
      SELECT * FROM (SELECT lead_unit, n FROM du WHERE unit_kind = 'street_town'
                     ORDER BY n, lead_unit DESC LIMIT 20) ORDER BY n, lead_unit""")
    streets_handling = q("SELECT count(*) FROM du WHERE unit_kind = 'street_town'")[0][0]
    top_cd = top_of("city_department", 10)
    top_se = top_of("state_enterprise", 10)
    districts = q(f"""
      SELECT district,
        sum(n) AS cnt,
        coalesce(sum(n) FILTER (WHERE unit_kind IN ('district', 'district_department')), 0) AS dd,
        coalesce(sum(n) FILTER (WHERE unit_kind IN ('street_town', 'community')), 0) AS st
      FROM (SELECT district, unit_kind, count(*) AS n FROM f
            WHERE dispatched AND district IS NOT NULL AND unit_kind IN {LOCAL} GROUP BY ALL)
      GROUP BY 1 ORDER BY cnt DESC, district""")
    con.execute("""
      CREATE TEMP TABLE dc AS
      SELECT district, category_l1, year(created_date) AS y, count(*) AS n
      FROM f WHERE dispatched AND district IS NOT NULL AND category_l1 IS NOT NULL GROUP BY ALL""")
    dtop = q("""
      SELECT district, category_l1, sum(n) AS cnt FROM dc GROUP BY district, category_l1
      QUALIFY row_number() OVER (PARTITION BY district ORDER BY cnt DESC, category_l1) <= 5
      ORDER BY district, cnt DESC, category_l1""")
    trend = []
    if Y0 != YL:
        trend = q(f"""
          WITH a AS (SELECT district, category_l1 AS c,
                            sum(n)::DOUBLE / (sum(sum(n)) OVER (PARTITION BY district))::DOUBLE AS s
                     FROM dc WHERE y = {Y0} GROUP BY district, category_l1),
               b AS (SELECT district, category_l1 AS c,
                            sum(n)::DOUBLE / (sum(sum(n)) OVER (PARTITION BY district))::DOUBLE AS s
                     FROM dc WHERE y = {YL} GROUP BY district, category_l1),
               d AS (SELECT coalesce(a.district, b.district) AS district, coalesce(a.c, b.c) AS c,
                            coalesce(b.s, 0.0) - coalesce(a.s, 0.0) AS delta
                     FROM a FULL JOIN b ON a.district = b.district AND a.c = b.c),
               r AS (SELECT *, row_number() OVER (PARTITION BY district ORDER BY delta DESC, c) AS up,
                               row_number() OVER (PARTITION BY district ORDER BY delta, c DESC) AS down
                     FROM d)
          SELECT district, c, delta, up, down FROM r
          WHERE (up <= 3 AND delta > 0) OR (down <= 3 AND delta < 0)
          ORDER BY district, up""")
    con.close()
    return dict(mc=mc, req=req, top20=top20, monthly=monthly, subs=subs, kinds=kinds,
                top_streets=top_streets, bottom_streets=bottom_streets,
                streets_handling=streets_handling, top_cd=top_cd, top_se=top_se,
                districts=districts, dtop=dtop, trend=trend)


def rate(a, b, w, valid):
    return (a + w * b) / valid if valid > 0 else None


def figures(r):
    """The raw results in the shape of the Rust side's figures."""
    cols = ["n", "dispatched", "direct", "praise", "valid", "resolved", "partly", "satisfied", "basic"]
    total = dict.fromkeys(cols, 0)
    phone = 0
    by_month = {m: {"channels": {}, **dict.fromkeys(cols, 0)} for m in MONTHS}
    by_year = {}
    for row in r["mc"]:
        m, ch, vals = row[0], row[1] or "", dict(zip(cols, row[2:]))
        for k in cols:
            total[k] += vals[k]
        e = by_month.setdefault(m, {"channels": {}, **dict.fromkeys(cols, 0)})
        for k in cols:
            e[k] += vals[k]
        e["channels"][ch] = e["channels"].get(ch, 0) + vals["n"]
        y = by_year.setdefault(int(m[:4]), [0, 0])
        y[0] += vals["n"]
        if ch == "phone":
            phone += vals["n"]
            y[1] += vals["n"]
    req = r["req"]
    years = [{"year": y, "total": t, "phone": p, "online": t - p,
              "requesters": req[2 + YEARS.index(y)], "new_requesters": req[2 + NY + YEARS.index(y)]}
             for y, (t, p) in sorted(by_year.items())]
    months = [{"month": m, "total": e["n"], "channels": e["channels"],
               "resolution_rate": rate(e["resolved"], e["partly"], WP, e["valid"]),
               "satisfaction_rate": rate(e["satisfied"], e["basic"], WB, e["valid"])}
              for m, e in sorted(by_month.items())]
    overview = {"total": total["n"], "phone": phone, "online": total["n"] - phone,
                "dispatched": total["dispatched"], "answered_directly": total["direct"],
                "praise": total["praise"], "requesters": req[0], "requesters_every_year": req[1],
                "resolution_rate": rate(total["resolved"], total["partly"], WP, total["valid"]),
                "satisfaction_rate": rate(total["satisfied"], total["basic"], WB, total["valid"])}
    monthly = {}
    for c, m, n in r["monthly"]:
        monthly.setdefault(c, {})[m] = n
    subs = {}
    for c, c2, n in r["subs"]:
        subs.setdefault(c, []).append({"code": c2, "count": n})
    top_categories = [{"code": c, "count": n, "monthly": [monthly.get(c, {}).get(m, 0) for m in MONTHS],
                       "sub_categories": subs.get(c, [])} for c, n, _ in r["top20"][:10]]
    top20 = [{"code": c, "count": n, "answered_directly_share": d / n if n else 0.0}
             for c, n, d in r["top20"]]
    named = lambda rows: [{"code": c or "", "count": n} for c, n in rows]
    dtop, rising, falling = {}, {}, {}
    for d, c, n in r["dtop"]:
        dtop.setdefault(d, []).append({"code": c, "count": n})
    for d, c, delta, up, down in r["trend"]:
        if delta > 0 and up <= 3:
            rising.setdefault(d, []).append((up, L1_NAMES.get(c, c)))
        if delta < 0 and down <= 3:
            falling.setdefault(d, []).append((down, L1_NAMES.get(c, c)))
    districts = [{"code": d, "count": n, "district_departments": dd, "streets": st,
                  "top_categories": dtop.get(d, []),
                  "rising": [x for _, x in sorted(rising.get(d, []))],
                  "falling": [x for _, x in sorted(falling.get(d, []))]}
                 for d, n, dd, st in r["districts"]]
    handling = {"dispatched": total["dispatched"], "by_unit_kind": named(r["kinds"]),
                "districts": districts, "top_streets": named(r["top_streets"]),
                "bottom_streets": named(r["bottom_streets"]),
                "streets_handling": r["streets_handling"],
                "top_city_departments": named(r["top_cd"]),
                "top_state_enterprises": named(r["top_se"])}
    return {"overview": overview, "years": years, "months": months, "top20": top20,
            "top_categories": top_categories, "handling": handling}


result = compute()  # warm-up, as the Rust side has one
times = []
for _ in range(int(spec["runs"])):
    t = time.perf_counter()
    result = compute()
    times.append(time.perf_counter() - t)

print(json.dumps({"duckdb": duckdb.__version__, "median_seconds": statistics.median(times),
                  "times": times, "threads": duckdb.connect().execute(
                      "SELECT current_setting('threads')").fetchone()[0],
                  "figures": figures(result)}))
