//! Governance policies and the reply audit's findings, in SQLite (the PostgreSQL twin is
//! `pg/gov_policies.rs`).

use super::*;
use crate::gov_policies::{
    kinds_json, parse_day, units_json, AuditDayRow, AuditFindingRow, GovPolicyRow,
    GovernancePolicyStore,
};
use chrono::NaiveDate;

const PCOLS: &str = "kind, version, policy_id, effective_from, body, author, created_at";
const DCOLS: &str = "day, results, unit_results, policy_id, policy_version, audited_at";
const FCOLS: &str = "day, ticket, unit, kinds, score, detail, policy_version";

fn policy(r: &rusqlite::Row) -> rusqlite::Result<GovPolicyRow> {
    let at: String = r.get(6)?;
    Ok(GovPolicyRow {
        kind: r.get(0)?,
        version: r.get(1)?,
        policy_id: r.get(2)?,
        effective_from: r.get(3)?,
        body: r.get(4)?,
        author: r.get(5)?,
        created_at: crate::time::parse(&at).unwrap_or_default(),
    })
}

fn day_of(r: &rusqlite::Row, i: usize) -> rusqlite::Result<NaiveDate> {
    let s: String = r.get(i)?;
    parse_day(&s).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            i,
            rusqlite::types::Type::Text,
            format!("not a day: {s:?}").into(),
        )
    })
}

fn audit_day(r: &rusqlite::Row) -> rusqlite::Result<AuditDayRow> {
    let units: String = r.get(2)?;
    let at: String = r.get(5)?;
    Ok(AuditDayRow {
        day: day_of(r, 0)?,
        results: r.get(1)?,
        unit_results: serde_json::from_str(&units).unwrap_or_default(),
        policy_id: r.get(3)?,
        policy_version: r.get(4)?,
        audited_at: crate::time::parse(&at).unwrap_or_default(),
    })
}

fn finding(r: &rusqlite::Row) -> rusqlite::Result<AuditFindingRow> {
    let kinds: String = r.get(3)?;
    Ok(AuditFindingRow {
        day: day_of(r, 0)?,
        ticket: r.get(1)?,
        unit: r.get(2)?,
        kinds: serde_json::from_str(&kinds).unwrap_or_default(),
        score: r.get(4)?,
        detail: r.get(5)?,
        policy_version: r.get(6)?,
    })
}

impl GovernancePolicyStore for SqliteStore {
    fn add_governance_policy(&self, p: GovPolicyRow) -> Result<i64> {
        self.write(move |c| {
            let v: i64 = c.query_row(
                "SELECT COALESCE(MAX(version), 0) + 1 FROM governance_policies WHERE kind = ?1",
                params![p.kind],
                |r| r.get(0),
            )?;
            c.execute(
                &format!(
                    "INSERT INTO governance_policies ({PCOLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
                ),
                params![
                    p.kind,
                    v,
                    p.policy_id,
                    p.effective_from,
                    p.body,
                    p.author,
                    fmt(p.created_at)
                ],
            )?;
            Ok(v)
        })
    }

    fn governance_policies(&self, kind: &str) -> Result<Vec<GovPolicyRow>> {
        let kind = kind.to_string();
        self.read(move |c| {
            let mut s = c.prepare(&format!(
                "SELECT {PCOLS} FROM governance_policies WHERE kind = ?1 ORDER BY version"
            ))?;
            let rows = s
                .query_map(params![kind], policy)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
    }

    fn store_audit_day(&self, d: AuditDayRow, findings: Vec<AuditFindingRow>) -> Result<()> {
        self.write(move |c| {
            let day = d.day.to_string();
            c.execute(
                "DELETE FROM reply_audit_findings WHERE day = ?1",
                params![day],
            )?;
            c.execute("DELETE FROM reply_audit_days WHERE day = ?1", params![day])?;
            c.execute(
                &format!("INSERT INTO reply_audit_days ({DCOLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"),
                params![
                    day,
                    d.results,
                    units_json(&d.unit_results),
                    d.policy_id,
                    d.policy_version,
                    fmt(d.audited_at)
                ],
            )?;
            let mut ins = c.prepare(&format!(
                "INSERT INTO reply_audit_findings ({FCOLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
            ))?;
            for f in &findings {
                ins.execute(params![
                    f.day.to_string(),
                    f.ticket,
                    f.unit,
                    kinds_json(&f.kinds),
                    f.score,
                    f.detail,
                    f.policy_version
                ])?;
            }
            Ok(())
        })
    }

    fn audit_days(&self, from: NaiveDate, to: NaiveDate) -> Result<Vec<AuditDayRow>> {
        self.read(move |c| {
            let mut s = c.prepare(&format!(
                "SELECT {DCOLS} FROM reply_audit_days WHERE day >= ?1 AND day <= ?2 ORDER BY day"
            ))?;
            let rows = s
                .query_map(params![from.to_string(), to.to_string()], audit_day)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
    }

    fn audit_findings(&self, from: NaiveDate, to: NaiveDate) -> Result<Vec<AuditFindingRow>> {
        self.read(move |c| {
            let mut s = c.prepare(&format!(
                "SELECT {FCOLS} FROM reply_audit_findings WHERE day >= ?1 AND day <= ?2 ORDER BY day, ticket"
            ))?;
            let rows = s
                .query_map(params![from.to_string(), to.to_string()], finding)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
    }
}
