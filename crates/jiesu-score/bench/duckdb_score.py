"""The DuckDB side of `jiesu bench score`: the same monthly scorecard (four levels, 三率, composite,
rank with ties, Wilson lower bound, case-mix adjusted rates, 行业三率) as SQL over Parquet.

Usage: duckdb_score.py SPEC.json. Converts the CSVs named in the spec to Parquet (timed apart),
then runs the query `runs` times, each on a fresh connection reading the Parquet files, and
prints one JSON line: version, median seconds, Parquet time and size, and every result row."""
import json, os, statistics, sys, time
import duckdb

spec = json.load(open(sys.argv[1]))
d = spec["dir"]
facts_pq, units_pq = os.path.join(d, "facts.parquet"), os.path.join(d, "units.parquet")

t = time.perf_counter()
con = duckdb.connect()
con.execute(f"""
COPY (SELECT number, unit_code, role, "type", category_code, NULLIF(tier, '') AS tier,
             CAST(NULLIF(first_dispatched_at, '') AS TIMESTAMPTZ) AS first_dispatched_at,
             CAST(NULLIF(responded_at, '') AS TIMESTAMPTZ) AS responded_at,
             CAST(NULLIF(respond_deadline, '') AS TIMESTAMPTZ) AS respond_deadline,
             CAST(NULLIF(finished_at, '') AS TIMESTAMPTZ) AS finished_at,
             CAST(NULLIF(finish_deadline, '') AS TIMESTAMPTZ) AS finish_deadline,
             CAST(NULLIF(contacted, '') AS BOOLEAN) AS contacted,
             NULLIF(resolution, '') AS resolution, NULLIF(satisfaction, '') AS satisfaction,
             NULLIF(exempt_reason, '') AS exempt_reason, CAST(ticket_id AS BIGINT) AS ticket_id,
             district_code, street_code, state, CAST("round" AS INTEGER) AS "round",
             CAST(NULLIF(dispatched_at, '') AS TIMESTAMPTZ) AS dispatched_at
      FROM read_csv('{spec["facts_csv"]}', header = true, all_varchar = true))
TO '{facts_pq}' (FORMAT parquet)""")
con.execute(f"""
COPY (SELECT code, name, kind, NULLIF(parent, '') AS parent, NULLIF(district, '') AS district,
             CAST(NULLIF(population, '') AS BIGINT) AS population
      FROM read_csv('{spec["units_csv"]}', header = true, all_varchar = true))
TO '{units_pq}' (FORMAT parquet)""")
con.close()
parquet_seconds = time.perf_counter() - t
parquet_bytes = os.path.getsize(facts_pq) + os.path.getsize(units_pq)

WP, WB = spec["w_partly"], spec["w_basic"]
CR, CRES, CSAT = spec["c_response"], spec["c_resolution"], spec["c_satisfaction"]
MIN = spec["min_sample"]
Z = 1.959963984540054

MACROS = f"""
CREATE OR REPLACE MACRO wlo(p, n) AS CASE WHEN n > 0 AND p IS NOT NULL THEN
  greatest(0.0, (p + {Z}*{Z}/(2.0*n)) / (1 + {Z}*{Z}/n) - {Z} / (1 + {Z}*{Z}/n) * sqrt(p*(1-p)/n + {Z}*{Z}/(4.0*n*n))) END;
"""

SQL = f"""
WITH u AS (SELECT code, kind, district FROM read_parquet('{units_pq}')),
base AS MATERIALIZED (
  SELECT unit_code, category_code, coalesce(tier, '') AS tier,
    count(*) AS n_lead,
    count(*) FILTER (WHERE exempt_reason IS NULL) AS counted,
    count(*) FILTER (WHERE exempt_reason IS NULL AND responded_at <= respond_deadline) AS responded,
    count(*) FILTER (WHERE exempt_reason IS NULL AND contacted) AS valid,
    count(*) FILTER (WHERE exempt_reason IS NULL AND contacted AND resolution = 'resolved') AS resolved,
    count(*) FILTER (WHERE exempt_reason IS NULL AND contacted AND resolution = 'partly') AS partly,
    count(*) FILTER (WHERE exempt_reason IS NULL AND contacted AND satisfaction = 'satisfied') AS satisfied,
    count(*) FILTER (WHERE exempt_reason IS NULL AND contacted AND satisfaction = 'basic') AS basic
  FROM read_parquet('{facts_pq}')
  WHERE role = 'lead' AND first_dispatched_at >= TIMESTAMPTZ '{spec["from"]}'
    AND first_dispatched_at < TIMESTAMPTZ '{spec["to"]}'
  GROUP BY unit_code, category_code, tier
),
uc AS (
  SELECT unit_code, substr(category_code, 1, 2) AS l1, tier,
    sum(counted) AS counted, sum(responded) AS responded, sum(valid) AS valid, sum(resolved) AS resolved,
    sum(partly) AS partly, sum(satisfied) AS satisfied, sum(basic) AS basic
  FROM base WHERE counted > 0 GROUP BY unit_code, l1, tier
),
m AS (
  SELECT CASE u.kind WHEN 'street_town' THEN 'street' WHEN 'city_department' THEN 'department' ELSE 'enterprise' END AS level,
         uc.unit_code AS member, uc.l1, uc.tier, uc.counted, uc.responded, uc.valid, uc.resolved, uc.partly, uc.satisfied, uc.basic
  FROM uc JOIN u ON u.code = uc.unit_code
  WHERE u.kind IN ('street_town', 'city_department', 'state_enterprise')
  UNION ALL
  SELECT 'district', u.district, uc.l1, uc.tier, uc.counted, uc.responded, uc.valid, uc.resolved, uc.partly, uc.satisfied, uc.basic
  FROM uc JOIN u ON u.code = uc.unit_code WHERE u.district IS NOT NULL
),
cell AS (
  SELECT level, l1, tier,
    sum(responded)::DOUBLE / sum(counted) AS c_resp,
    (sum(resolved) + {WP} * sum(partly))::DOUBLE / nullif(sum(valid), 0) AS c_res,
    (sum(satisfied) + {WB} * sum(basic))::DOUBLE / nullif(sum(valid), 0) AS c_sat
  FROM m GROUP BY level, l1, tier
),
agg AS (
  SELECT m.level, m.member,
    sum(m.counted) AS counted, sum(m.responded) AS responded, sum(m.valid) AS valid,
    sum(m.resolved) AS resolved, sum(m.partly) AS partly, sum(m.satisfied) AS satisfied, sum(m.basic) AS basic,
    sum(m.valid * cell.c_res) / nullif(sum(m.valid), 0) AS e_res,
    sum(m.valid * cell.c_sat) / nullif(sum(m.valid), 0) AS e_sat
  FROM m JOIN cell USING (level, l1, tier)
  GROUP BY m.level, m.member
),
peer AS (
  SELECT level,
    (sum(resolved) + {WP} * sum(partly))::DOUBLE / nullif(sum(valid), 0) AS p_res,
    (sum(satisfied) + {WB} * sum(basic))::DOUBLE / nullif(sum(valid), 0) AS p_sat
  FROM agg GROUP BY level
),
rates AS (
  SELECT agg.*, peer.p_res, peer.p_sat,
    responded::DOUBLE / counted AS r_resp,
    (resolved + {WP} * partly)::DOUBLE / nullif(valid, 0) AS r_res,
    (satisfied + {WB} * basic)::DOUBLE / nullif(valid, 0) AS r_sat
  FROM agg JOIN peer USING (level)
),
scored AS (
  SELECT *, 100 * ({CR} * r_resp + {CRES} * r_res + {CSAT} * r_sat) AS composite,
    least(1.0, greatest(0.0, p_res * r_res / nullif(e_res, 0))) AS adj_res,
    least(1.0, greatest(0.0, p_sat * r_sat / nullif(e_sat, 0))) AS adj_sat,
    wlo(r_res, valid) AS res_low
  FROM rates
),
elig AS (SELECT *, (counted >= {MIN} AND counted > 0 AND composite IS NOT NULL) AS eligible FROM scored),
ranked AS (
  SELECT *, CASE WHEN eligible THEN rank() OVER (PARTITION BY level, eligible ORDER BY round(composite * 1e9) DESC) END AS rnk
  FROM elig
),
lead_cat AS (SELECT category_code, unit_code, sum(n_lead) AS n FROM base GROUP BY category_code, unit_code),
owner AS (
  SELECT category_code, unit_code FROM (
    SELECT *, row_number() OVER (PARTITION BY category_code ORDER BY n DESC, unit_code) AS k FROM lead_cat)
  WHERE k = 1
),
catc AS (
  SELECT category_code, sum(counted) AS counted, sum(responded) AS responded, sum(valid) AS valid,
    sum(resolved) AS resolved, sum(partly) AS partly, sum(satisfied) AS satisfied, sum(basic) AS basic
  FROM base GROUP BY category_code HAVING sum(counted) > 0
),
ind AS (
  SELECT owner.unit_code AS member, sum(catc.counted) AS ind_counted,
    100 * ({CR} * sum(catc.responded)::DOUBLE / sum(catc.counted)
         + {CRES} * (sum(catc.resolved) + {WP} * sum(catc.partly))::DOUBLE / nullif(sum(catc.valid), 0)
         + {CSAT} * (sum(catc.satisfied) + {WB} * sum(catc.basic))::DOUBLE / nullif(sum(catc.valid), 0)) AS ind_composite
  FROM owner JOIN u ON u.code = owner.unit_code AND u.kind = 'city_department'
  JOIN catc USING (category_code)
  GROUP BY owner.unit_code
)
SELECT r.level, r.member, r.counted, r.responded, r.valid, r.resolved, r.partly, r.satisfied, r.basic,
       r.composite, r.rnk, r.adj_res, r.adj_sat, r.res_low, ind.ind_counted, ind.ind_composite
FROM ranked r LEFT JOIN ind ON r.level = 'department' AND ind.member = r.member
"""

times, rows = [], None
for _ in range(int(spec["runs"])):
    t = time.perf_counter()
    con = duckdb.connect()
    con.execute(MACROS)
    cur = con.execute(SQL)
    rows = cur.fetchall()
    cols = [x[0] for x in cur.description]
    con.close()
    times.append(time.perf_counter() - t)

out = [dict(zip(cols, r)) for r in rows]
for r in out:
    for k in ("counted", "responded", "valid", "resolved", "partly", "satisfied", "basic", "rnk", "ind_counted"):
        if r[k] is not None:
            r[k] = int(r[k])
print(json.dumps({"duckdb": duckdb.__version__, "median_seconds": statistics.median(times),
                  "times": times, "parquet_seconds": parquet_seconds, "parquet_bytes": parquet_bytes,
                  "rows": out}))
