//! Rendering: the scorecard as CSV or JSON, the exemption list, and the assignment-fact export
//! (`jiesu export tickets`). None of these carry personal data: facts hold no requester fields.

use crate::score::{Level, Scorecard, UnitScore};
use chrono::{DateTime, Utc};
use jiesu_store::prelude::*;
use jiesu_store::AssignmentFact;
use std::io::Write;

/// What "not available" looks like in CSV.
pub const NOT_AVAILABLE: &str = "not available";

/// The scorecard's CSV columns, in order (department level adds the `industry_*` columns).
pub const SCORE_COLUMNS: &[&str] = &[
    "unit_code",
    "unit_name",
    "district_code",
    "district_name",
    "counted",
    "responded",
    "resolved",
    "partly",
    "unresolved",
    "satisfied",
    "basic",
    "unsatisfied",
    "valid_callbacks",
    "exempted",
    "excluded",
    "response_rate",
    "resolution_rate",
    "satisfaction_rate",
    "composite",
    "rank",
    "rank_note",
    "response_low",
    "response_high",
    "resolution_low",
    "resolution_high",
    "satisfaction_low",
    "satisfaction_high",
    "expected_response",
    "adjusted_response",
    "expected_resolution",
    "adjusted_resolution",
    "expected_satisfaction",
    "adjusted_satisfaction",
    "requests",
    "population",
    "requests_per_10k",
    "base_period",
    "base_requests",
    "base_ratio",
    "policy",
];

/// Extra columns at department level (行业三率).
pub const INDUSTRY_COLUMNS: &[&str] = &[
    "industry_source",
    "industry_categories",
    "industry_counted",
    "industry_valid_callbacks",
    "industry_response_rate",
    "industry_resolution_rate",
    "industry_satisfaction_rate",
    "industry_composite",
];

fn rate(x: Option<f64>) -> String {
    x.map(|v| format!("{v:.6}")).unwrap_or_default()
}

fn score100(x: Option<f64>) -> String {
    x.map(|v| format!("{v:.4}")).unwrap_or_default()
}

fn unit_row(card: &Scorecard, u: &UnitScore) -> Vec<String> {
    let n = &u.counts;
    let iv = |i: Option<crate::stats::Interval>| (rate(i.map(|i| i.low)), rate(i.map(|i| i.high)));
    let (rl, rh) = iv(u.intervals.response);
    let (sl, sh) = iv(u.intervals.resolution);
    let (tl, th) = iv(u.intervals.satisfaction);
    let o = &u.observation;
    let mut row = vec![
        u.unit_code.clone(),
        u.unit_name.clone(),
        u.district_code.clone().unwrap_or_default(),
        u.district_name.clone().unwrap_or_default(),
        n.counted.to_string(),
        n.responded.to_string(),
        n.resolved.to_string(),
        n.partly.to_string(),
        n.unresolved.to_string(),
        n.satisfied.to_string(),
        n.basic.to_string(),
        n.unsatisfied.to_string(),
        n.valid_callbacks.to_string(),
        n.exempted.to_string(),
        n.excluded.to_string(),
        rate(u.response_rate),
        rate(u.resolution_rate),
        rate(u.satisfaction_rate),
        score100(u.composite),
        u.rank.map(|_| u.rank_label.clone()).unwrap_or_default(),
        u.not_ranked_reason
            .clone()
            .map(|r| format!("not ranked: {r}"))
            .unwrap_or_else(|| {
                if u.rank_tied {
                    "tied".into()
                } else {
                    String::new()
                }
            }),
        rl,
        rh,
        sl,
        sh,
        tl,
        th,
        rate(u.case_mix.response.expected),
        rate(u.case_mix.response.adjusted),
        rate(u.case_mix.resolution.expected),
        rate(u.case_mix.resolution.adjusted),
        rate(u.case_mix.satisfaction.expected),
        rate(u.case_mix.satisfaction.adjusted),
        o.requests.to_string(),
        o.population.map(|p| p.to_string()).unwrap_or_default(),
        o.requests_per_10k
            .map(|v| format!("{v:.4}"))
            .unwrap_or_else(|| NOT_AVAILABLE.into()),
        o.base_period.to_string(),
        o.base_requests
            .map(|v| v.to_string())
            .unwrap_or_else(|| NOT_AVAILABLE.into()),
        o.base_ratio
            .map(|v| format!("{v:.4}"))
            .unwrap_or_else(|| NOT_AVAILABLE.into()),
        format!("{}@{}", card.policy_id, card.policy_fingerprint),
    ];
    if card.level == Level::Department {
        match &u.industry {
            Some(i) => row.extend([
                i.source.clone(),
                i.categories.join(" "),
                i.counts.counted.to_string(),
                i.counts.valid_callbacks.to_string(),
                rate(i.rates.response),
                rate(i.rates.resolution),
                rate(i.rates.satisfaction),
                score100(i.composite),
            ]),
            None => row.extend(std::iter::repeat_n(String::new(), INDUSTRY_COLUMNS.len())),
        }
    }
    row
}

/// Writes the scorecard table as CSV (one row per unit, ranked first).
pub fn write_scorecard_csv(card: &Scorecard, w: impl Write) -> csv::Result<()> {
    let mut out = csv::Writer::from_writer(w);
    let mut head: Vec<&str> = SCORE_COLUMNS.to_vec();
    if card.level == Level::Department {
        head.extend_from_slice(INDUSTRY_COLUMNS);
    }
    out.write_record(&head)?;
    for u in &card.units {
        out.write_record(unit_row(card, u))?;
    }
    out.flush()?;
    Ok(())
}

/// Writes the scorecard as one pretty JSON document.
pub fn write_scorecard_json(card: &Scorecard, mut w: impl Write) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut w, card)?;
    writeln!(w)
}

/// Writes the exemption list as CSV.
pub fn write_exemptions_csv(card: &Scorecard, w: impl Write) -> csv::Result<()> {
    let mut out = csv::Writer::from_writer(w);
    out.write_record([
        "ticket_id",
        "number",
        "unit_code",
        "scored_unit",
        "role",
        "category_code",
        "first_dispatched_at",
        "reason",
        "reason_zh",
        "policy",
    ])?;
    for e in &card.exemptions {
        out.write_record([
            e.ticket_id.to_string(),
            e.number.clone(),
            e.unit_code.clone(),
            e.scored_unit.clone(),
            e.role.clone(),
            e.category_code.clone(),
            e.first_dispatched_at.clone(),
            e.reason.clone(),
            e.reason_zh.clone(),
            format!("{}@{}", card.policy_id, card.policy_fingerprint),
        ])?;
    }
    out.flush()?;
    Ok(())
}

/// The columns of `jiesu export tickets`, in order.
pub const EXPORT_COLUMNS: &[&str] = &[
    "number",
    "unit_code",
    "role",
    "type",
    "category_code",
    "tier",
    "first_dispatched_at",
    "responded_at",
    "respond_deadline",
    "finished_at",
    "finish_deadline",
    "contacted",
    "resolution",
    "satisfaction",
    "exempt_reason",
    "ticket_id",
    "district_code",
    "street_code",
    "state",
    "round",
    "dispatched_at",
];

/// One export row (the order of [`EXPORT_COLUMNS`]).
pub fn export_row(f: &AssignmentFact) -> [String; 21] {
    let o = |s: &Option<String>| s.clone().unwrap_or_default();
    [
        f.number.clone(),
        f.unit_code.clone(),
        f.role.clone(),
        f.request_type.clone(),
        f.category_code.clone(),
        f.tier.clone(),
        o(&f.first_dispatched_at),
        o(&f.responded_at),
        f.respond_deadline.clone(),
        o(&f.finished_at),
        f.finish_deadline.clone(),
        f.contacted.map(|c| c.to_string()).unwrap_or_default(),
        o(&f.resolution),
        o(&f.satisfaction),
        o(&f.exempt_reason),
        f.ticket_id.to_string(),
        f.district_code.clone(),
        f.street_code.clone(),
        f.state.clone(),
        f.round.to_string(),
        f.dispatched_at.clone(),
    ]
}

/// Streams the facts of tickets first dispatched in `[from, to)` as CSV (constant memory: one
/// row at a time from the store's cursor). Returns the number of rows.
pub fn export_tickets_csv(
    store: &dyn Store,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    w: impl Write,
) -> anyhow::Result<u64> {
    let mut out = csv::Writer::from_writer(std::io::BufWriter::with_capacity(1 << 16, w));
    out.write_record(EXPORT_COLUMNS)?;
    let mut werr: Option<csv::Error> = None;
    let r = store.for_each_fact(from, to, &mut |f| {
        if let Err(e) = out.write_record(export_row(&f)) {
            werr = Some(e);
            return Err(jiesu_store::StoreError::Db("output closed".into()));
        }
        Ok(())
    });
    if let Some(e) = werr {
        return Err(e.into());
    }
    let n = r?;
    out.flush()?;
    Ok(n)
}

/// Streams the same facts as JSON lines.
pub fn export_tickets_jsonl(
    store: &dyn Store,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    w: impl Write,
) -> anyhow::Result<u64> {
    let mut out = std::io::BufWriter::with_capacity(1 << 16, w);
    let mut werr: Option<std::io::Error> = None;
    let r = store.for_each_fact(from, to, &mut |f| {
        let line = serde_json::to_string(&f).map_err(jiesu_store::StoreError::from)?;
        if let Err(e) = writeln!(out, "{line}") {
            werr = Some(e);
            return Err(jiesu_store::StoreError::Db("output closed".into()));
        }
        Ok(())
    });
    if let Some(e) = werr {
        return Err(e.into());
    }
    let n = r?;
    out.flush()?;
    Ok(n)
}

/// Writes a drill-down's rows as CSV: the export's columns, then `responded_in_time`,
/// `counted_resolution` and `policy` (`id@fingerprint`).
pub fn write_drill_csv(d: &crate::drill::Drill, w: impl Write) -> csv::Result<()> {
    let mut out = csv::Writer::from_writer(w);
    let mut head: Vec<&str> = EXPORT_COLUMNS.to_vec();
    head.extend(["responded_in_time", "counted_resolution", "policy"]);
    out.write_record(&head)?;
    let policy = format!("{}@{}", d.policy_id, d.policy_fingerprint);
    for r in &d.rows {
        let mut row = export_row(&r.fact).to_vec();
        row.push(r.responded_in_time.to_string());
        row.push(r.counted_resolution.clone().unwrap_or_default());
        row.push(policy.clone());
        out.write_record(&row)?;
    }
    out.flush()?;
    Ok(())
}
