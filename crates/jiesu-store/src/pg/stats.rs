//! Dispatch accuracy and the demo city's calibration counts, in PostgreSQL (the SQLite twin is
//! `sqlite/stats.rs`). SQLite sorts NULL first and sums booleans; here the NULL keys are sorted
//! `NULLS FIRST`, the booleans counted with `FILTER`, and groups with equal counts ordered by
//! key (SQLite leaves their order open).

use super::*;

/// `(key, count)` rows of a grouping query (a NULL key is the empty string).
fn rows(c: &mut Conn, sql: &str) -> Result<Vec<(String, i64)>> {
    c.query(sql, &[])?
        .iter()
        .map(|r| Ok((r.get_opt_str(0)?.unwrap_or_default(), r.get_i64(1)?)))
        .collect()
}

/// One count (NULL is 0).
fn one(c: &mut Conn, sql: &str) -> Result<i64> {
    Ok(c.query_one(sql, &[])?.get_opt_i64(0)?.unwrap_or(0))
}

/// Tickets per month of intake in the city's zone (`YYYY-MM`): counted per UTC minute in SQL (every
/// zone's offset is whole minutes), each minute put in its local month by the zone.
fn by_city_month(c: &mut Conn) -> Result<Vec<(String, i64)>> {
    let zone = zone_in(c)?;
    let mut months: std::collections::BTreeMap<String, i64> = Default::default();
    for (minute, n) in rows(
        c,
        "SELECT substr(created_at, 1, 16) AS m, COUNT(*) FROM tickets GROUP BY m",
    )? {
        let at = crate::time::parse(&format!("{minute}:00Z"))
            .ok_or_else(|| StoreError::Db(format!("stored time '{minute}' is not RFC 3339")))?;
        *months
            .entry(zone.date(at).format("%Y-%m").to_string())
            .or_default() += n;
    }
    Ok(months.into_iter().collect())
}

/// The accuracy groups of a `key, dispatches, returned` query.
fn group(c: &mut Conn, sql: &str) -> Result<Vec<AccuracyGroup>> {
    c.query(sql, &[])?
        .iter()
        .map(|r| {
            let (key, n, ret) = (
                r.get_opt_str(0)?.unwrap_or_default(),
                r.get_i64(1)?,
                r.get_i64(2)?,
            );
            Ok(AccuracyGroup {
                key,
                dispatches: n,
                returned: ret,
                accuracy: if n > 0 {
                    (n - ret) as f64 / n as f64
                } else {
                    0.0
                },
            })
        })
        .collect()
}

impl StatsStore for PgStore {
    fn dispatch_accuracy(&self) -> Result<DispatchAccuracy> {
        self.read(|c| {
            let r = c.query_one(
                "SELECT COUNT(*), COUNT(*) FILTER (WHERE state='returned') FROM assignments WHERE role='lead'",
                &[],
            )?;
            let (n, ret) = (r.get_i64(0)?, r.get_i64(1)?);
            // groups with the same count, in no particular order in SQLite, are ordered by key here
            Ok(DispatchAccuracy {
                overall: if n > 0 { (n - ret) as f64 / n as f64 } else { 0.0 },
                dispatches: n,
                returned: ret,
                by_dispatcher: group(c, "SELECT dispatched_by, COUNT(*), COUNT(*) FILTER (WHERE state='returned') FROM assignments
                                         WHERE role='lead' GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 100")?,
                by_rule: group(c, "SELECT COALESCE(e.payload::jsonb ->> 'rule', 'manual'), COUNT(*), COUNT(*) FILTER (WHERE a.state='returned')
                                     FROM assignments a JOIN events e ON e.ticket_id=a.ticket_id AND e.kind='dispatched' AND e.at=a.dispatched_at
                                     WHERE a.role='lead' GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 100")?,
                by_category: group(c, "SELECT substr(t.category_code,1,2), COUNT(*), COUNT(*) FILTER (WHERE a.state='returned') FROM assignments a
                                         JOIN tickets t ON t.id=a.ticket_id WHERE a.role='lead' GROUP BY 1 ORDER BY 2 DESC, 1")?,
                by_unit_kind: group(c, "SELECT u.kind, COUNT(*), COUNT(*) FILTER (WHERE a.state='returned') FROM assignments a
                                          JOIN units u ON u.code=a.unit_code WHERE a.role='lead' GROUP BY 1 ORDER BY 2 DESC, 1")?,
                by_unit: group(c, "SELECT unit_code, COUNT(*), COUNT(*) FILTER (WHERE state='returned') FROM assignments
                                     WHERE role='lead' GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 200")?,
            })
        })
    }

    fn demo_counts(&self) -> Result<DemoCounts> {
        self.read(|c| {
            let callbacks_by_category = c
                .query(
                    "SELECT category_code, COUNT(*),
                            COUNT(*) FILTER (WHERE cb_resolution = 'resolved'),
                            COUNT(*) FILTER (WHERE cb_satisfaction = 'satisfied')
                     FROM tickets WHERE cb_contacted = 1 GROUP BY category_code ORDER BY category_code",
                    &[],
                )?
                .iter()
                .map(|r| {
                    Ok(CategoryCallbacks {
                        category_code: r.get_str(0)?,
                        valid: r.get_i64(1)?,
                        resolved: r.get_i64(2)?,
                        satisfied: r.get_i64(3)?,
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            Ok(DemoCounts {
                tickets: one(c, "SELECT COUNT(*) FROM tickets")?,
                by_channel: rows(c, "SELECT channel, COUNT(*) FROM tickets GROUP BY channel ORDER BY channel")?,
                by_type: rows(c, "SELECT type, COUNT(*) FROM tickets GROUP BY type ORDER BY type")?,
                by_status: rows(c, "SELECT status, COUNT(*) FROM tickets GROUP BY status ORDER BY status")?,
                by_category: rows(
                    c,
                    "SELECT category_code, COUNT(*) FROM tickets GROUP BY category_code ORDER BY category_code",
                )?,
                by_month: by_city_month(c)?,
                answered_directly: one(c, "SELECT COUNT(*) FROM tickets WHERE answered_directly = 1")?,
                special_handled: one(c, "SELECT COUNT(*) FROM tickets WHERE special IS NOT NULL")?,
                dispatched: one(c, "SELECT COUNT(*) FROM tickets WHERE first_dispatched_at IS NOT NULL")?,
                enterprise: one(c, "SELECT COUNT(*) FROM tickets WHERE enterprise = 1")?,
                reopened: one(c, "SELECT COUNT(*) FROM tickets WHERE round > 0")?,
                // first dispatch: the lead assignment with the lowest index; an unknown unit's
                // kind (NULL) first, as SQLite sorts it
                first_dispatch_by_unit_kind: rows(
                    c,
                    "SELECT u.kind, COUNT(*) FROM
                       (SELECT ticket_id, MIN(idx) AS i FROM assignments WHERE role = 'lead' GROUP BY ticket_id) f
                       JOIN assignments a ON a.ticket_id = f.ticket_id AND a.idx = f.i
                       LEFT JOIN units u ON u.code = a.unit_code
                     GROUP BY u.kind ORDER BY u.kind NULLS FIRST",
                )?,
                // units.code is the key: one name per district code
                dispatched_by_district: rows(
                    c,
                    "SELECT COALESCE(u.name, t.district_code), COUNT(*) FROM tickets t
                       LEFT JOIN units u ON u.code = t.district_code
                     WHERE t.first_dispatched_at IS NOT NULL GROUP BY t.district_code, u.name ORDER BY t.district_code",
                )?,
                lead_dispatches: one(c, "SELECT COUNT(*) FROM assignments WHERE role = 'lead'")?,
                lead_returned: one(
                    c,
                    "SELECT COUNT(*) FROM assignments WHERE role = 'lead' AND state = 'returned'",
                )?,
                callbacks_reached: one(c, "SELECT COUNT(*) FROM tickets WHERE cb_contacted IS NOT NULL")?,
                callbacks_valid: one(c, "SELECT COUNT(*) FROM tickets WHERE cb_contacted = 1")?,
                resolved: one(
                    c,
                    "SELECT COUNT(*) FROM tickets WHERE cb_contacted = 1 AND cb_resolution = 'resolved'",
                )?,
                partly_resolved: one(
                    c,
                    "SELECT COUNT(*) FROM tickets WHERE cb_contacted = 1 AND cb_resolution = 'partly'",
                )?,
                satisfied: one(
                    c,
                    "SELECT COUNT(*) FROM tickets WHERE cb_contacted = 1 AND cb_satisfaction = 'satisfied'",
                )?,
                basically_satisfied: one(
                    c,
                    "SELECT COUNT(*) FROM tickets WHERE cb_contacted = 1 AND cb_satisfaction = 'basic'",
                )?,
                callbacks_by_category,
                signed: one(c, "SELECT COUNT(*) FROM assignments WHERE signed_at IS NOT NULL")?,
                signed_on_time: one(
                    c,
                    "SELECT COUNT(*) FROM assignments WHERE signed_at IS NOT NULL AND signed_at <= sign_deadline",
                )?,
                responded: one(c, "SELECT COUNT(*) FROM assignments WHERE responded_at IS NOT NULL")?,
                responded_on_time: one(
                    c,
                    "SELECT COUNT(*) FROM assignments WHERE responded_at IS NOT NULL AND responded_at <= respond_deadline",
                )?,
                assisted: one(
                    c,
                    "SELECT COUNT(DISTINCT ticket_id) FROM assignments WHERE role = 'assist'",
                )?,
            })
        })
    }
}
