//! Governance policies and the reply audit's findings, in PostgreSQL (the SQLite twin is
//! `sqlite/gov_policies.rs`).

use super::*;
use crate::gov_policies::{
    kinds_json, parse_day, units_json, AuditDayRow, AuditFindingRow, GovPolicyRow,
    GovernancePolicyStore,
};
use chrono::NaiveDate;

const PCOLS: &str = "kind, version, policy_id, effective_from, body, author, created_at";
const DCOLS: &str = "day, results, unit_results, policy_id, policy_version, audited_at";
const FCOLS: &str = "day, ticket, unit, kinds, score, detail, policy_version";

fn policy(r: &postgres::Row) -> Result<GovPolicyRow> {
    Ok(GovPolicyRow {
        kind: r.get_str(0)?,
        version: r.get_i64(1)?,
        policy_id: r.get_str(2)?,
        effective_from: r.get_str(3)?,
        body: r.get_str(4)?,
        author: r.get_str(5)?,
        created_at: crate::time::parse(&r.get_str(6)?).unwrap_or_default(),
    })
}

fn day_of(r: &postgres::Row, i: usize) -> Result<NaiveDate> {
    let s = r.get_str(i)?;
    parse_day(&s).ok_or_else(|| StoreError::Db(format!("column {i}: not a day: {s:?}")))
}

fn audit_day(r: &postgres::Row) -> Result<AuditDayRow> {
    Ok(AuditDayRow {
        day: day_of(r, 0)?,
        results: r.get_i64(1)?,
        unit_results: serde_json::from_str(&r.get_str(2)?).unwrap_or_default(),
        policy_id: r.get_str(3)?,
        policy_version: r.get_i64(4)?,
        audited_at: crate::time::parse(&r.get_str(5)?).unwrap_or_default(),
    })
}

fn finding(r: &postgres::Row) -> Result<AuditFindingRow> {
    Ok(AuditFindingRow {
        day: day_of(r, 0)?,
        ticket: r.get_i64(1)?,
        unit: r.get_str(2)?,
        kinds: serde_json::from_str(&r.get_str(3)?).unwrap_or_default(),
        score: match r.get_opt_str(4)? {
            None => None,
            Some(_) => Some(r.get_f64(4)?),
        },
        detail: r.get_str(5)?,
        policy_version: r.get_i64(6)?,
    })
}

impl GovernancePolicyStore for PgStore {
    fn add_governance_policy(&self, p: GovPolicyRow) -> Result<i64> {
        self.write(move |c: &mut Conn| {
            let v = c
                .query_one(
                    "SELECT COALESCE(MAX(version), 0) + 1 FROM governance_policies WHERE kind = ?1",
                    &crate::pv![&p.kind],
                )?
                .get_i64(0)?;
            c.exec(
                &format!(
                    "INSERT INTO governance_policies ({PCOLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
                ),
                &crate::pv![
                    &p.kind,
                    v,
                    &p.policy_id,
                    &p.effective_from,
                    &p.body,
                    &p.author,
                    fmt(p.created_at)
                ],
            )?;
            Ok(v)
        })
    }

    fn governance_policies(&self, kind: &str) -> Result<Vec<GovPolicyRow>> {
        self.read(|c| {
            c.query(
                &format!(
                    "SELECT {PCOLS} FROM governance_policies WHERE kind = ?1 ORDER BY version"
                ),
                &crate::pv![kind],
            )?
            .iter()
            .map(policy)
            .collect()
        })
    }

    fn store_audit_day(&self, d: AuditDayRow, findings: Vec<AuditFindingRow>) -> Result<()> {
        self.write(move |c: &mut Conn| {
            let day = d.day.to_string();
            c.exec(
                "DELETE FROM reply_audit_findings WHERE day = ?1",
                &crate::pv![&day],
            )?;
            c.exec(
                "DELETE FROM reply_audit_days WHERE day = ?1",
                &crate::pv![&day],
            )?;
            c.exec(
                &format!("INSERT INTO reply_audit_days ({DCOLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"),
                &crate::pv![
                    &day,
                    d.results,
                    units_json(&d.unit_results),
                    &d.policy_id,
                    d.policy_version,
                    fmt(d.audited_at)
                ],
            )?;
            for f in &findings {
                c.exec(
                    &format!(
                        "INSERT INTO reply_audit_findings ({FCOLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
                    ),
                    &crate::pv![
                        f.day.to_string(),
                        f.ticket,
                        &f.unit,
                        kinds_json(&f.kinds),
                        f.score,
                        &f.detail,
                        f.policy_version
                    ],
                )?;
            }
            Ok(())
        })
    }

    fn audit_days(&self, from: NaiveDate, to: NaiveDate) -> Result<Vec<AuditDayRow>> {
        self.read(|c| {
            c.query(
                &format!(
                    "SELECT {DCOLS} FROM reply_audit_days WHERE day >= ?1 AND day <= ?2 ORDER BY day"
                ),
                &crate::pv![from.to_string(), to.to_string()],
            )?
            .iter()
            .map(audit_day)
            .collect()
        })
    }

    fn audit_findings(&self, from: NaiveDate, to: NaiveDate) -> Result<Vec<AuditFindingRow>> {
        self.read(|c| {
            c.query(
                &format!(
                    "SELECT {FCOLS} FROM reply_audit_findings WHERE day >= ?1 AND day <= ?2 ORDER BY day, ticket"
                ),
                &crate::pv![from.to_string(), to.to_string()],
            )?
            .iter()
            .map(finding)
            .collect()
        })
    }
}
