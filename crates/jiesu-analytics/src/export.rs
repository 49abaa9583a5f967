//! 事实导出 — the ticket facts as plain typed columns, one batch per city month, for `jiesu export
//! facts` (Parquet or CSV): what a city hands to Spark, Trino or DuckDB when it outgrows one
//! machine. No personal data: the requester is a number that stands for the keyed phone hash
//! within one export (enough to count distinct and repeat requesters), never the phone.

use crate::facts::{flag, LocalMonth, TicketFacts, NO_DURATION};
use crate::query::{Catalog, Dim, Engine, Filter, QueryError};
use chrono::NaiveDate;
use jiesu_domain::category::CategoryTree;

/// The values of one column.
#[derive(Debug, Clone, PartialEq)]
pub enum Values {
    /// Whole numbers.
    Int(Vec<Option<i64>>),
    /// Text (codes, wire names).
    Text(Vec<Option<String>>),
    /// Yes/no.
    Bool(Vec<Option<bool>>),
    /// Calendar days.
    Date(Vec<Option<NaiveDate>>),
    /// Numbers with a fraction.
    Float(Vec<Option<f64>>),
}

/// The kind of a column (its values' type).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// [`Values::Int`]
    Int,
    /// [`Values::Text`]
    Text,
    /// [`Values::Bool`]
    Bool,
    /// [`Values::Date`]
    Date,
    /// [`Values::Float`]
    Float,
}

/// The exported columns, in order, with their kinds.
pub const COLUMNS: &[(&str, Kind)] = &[
    ("ticket_id", Kind::Int),
    ("created_date", Kind::Date),
    ("created_hour", Kind::Int),
    ("created_month", Kind::Text),
    ("channel", Kind::Text),
    ("type", Kind::Text),
    ("category_l1", Kind::Text),
    ("category_l2", Kind::Text),
    ("category", Kind::Text),
    ("domain", Kind::Text),
    ("district", Kind::Text),
    ("street", Kind::Text),
    ("community", Kind::Text),
    ("lead_unit", Kind::Text),
    ("unit_kind", Kind::Text),
    ("tier", Kind::Text),
    ("status", Kind::Text),
    ("dispatched", Kind::Bool),
    ("answered_directly", Kind::Bool),
    ("enterprise", Kind::Bool),
    ("overdue", Kind::Bool),
    ("returned", Kind::Bool),
    ("reopened", Kind::Bool),
    ("responded_in_time", Kind::Bool),
    ("contacted", Kind::Bool),
    ("resolution", Kind::Text),
    ("satisfaction", Kind::Text),
    ("hours_to_sign", Kind::Float),
    ("hours_to_respond", Kind::Float),
    ("hours_to_finish", Kind::Float),
    ("requester_id", Kind::Int),
];

/// One month's rows within `[from, to)` as columns in [`COLUMNS`]' order (`None` when the month
/// has no row in range).
pub fn month_columns(
    engine: &Engine,
    month: LocalMonth,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Option<Vec<Values>>, QueryError> {
    let facts: &TicketFacts = engine.facts;
    let Some(p) = facts.partitions.get(&month) else {
        return Ok(None);
    };
    let cat: &Catalog = &engine.catalog;
    let rows: Vec<usize> = (0..p.len())
        .filter(|&i| {
            let d = NaiveDate::from_ymd_opt(month.year, month.month, u32::from(p.day[i]));
            d.is_some_and(|d| d >= from && d < to)
        })
        .collect();
    if rows.is_empty() {
        return Ok(None);
    }
    let text = |dim: Dim| -> Values {
        Values::Text(
            rows.iter()
                .map(|&i| {
                    let k = crate::query::key_of_row(dim, facts, cat, p, month, i);
                    let c = engine.code(dim, k);
                    (!c.is_empty()).then_some(c)
                })
                .collect(),
        )
    };
    let bit = |b: u8| Values::Bool(rows.iter().map(|&i| Some(p.flags[i] & b != 0)).collect());
    let hours = |col: &[u32]| {
        Values::Float(
            rows.iter()
                .map(|&i| (col[i] != NO_DURATION).then(|| f64::from(col[i]) / 3600.0))
                .collect(),
        )
    };
    let cols = vec![
        Values::Int(rows.iter().map(|&i| Some(p.ticket_id[i])).collect()),
        Values::Date(
            rows.iter()
                .map(|&i| NaiveDate::from_ymd_opt(month.year, month.month, u32::from(p.day[i])))
                .collect(),
        ),
        Values::Int(rows.iter().map(|&i| Some(i64::from(p.hour[i]))).collect()),
        Values::Text(rows.iter().map(|_| Some(month.key())).collect()),
        text(Dim::Channel),
        text(Dim::Type),
        text(Dim::CategoryL1),
        text(Dim::CategoryL2),
        text(Dim::Category),
        text(Dim::Domain),
        text(Dim::District),
        text(Dim::Street),
        text(Dim::Community),
        text(Dim::Unit),
        text(Dim::UnitKind),
        text(Dim::Tier),
        text(Dim::Status),
        bit(flag::DISPATCHED),
        bit(flag::ANSWERED_DIRECTLY),
        bit(flag::ENTERPRISE),
        bit(flag::OVERDUE),
        bit(flag::RETURNED),
        bit(flag::REOPENED),
        bit(flag::RESPONDED_IN_TIME),
        Values::Bool(
            rows.iter()
                .map(|&i| match p.callback[i] & 3 {
                    1 => Some(true),
                    2 => Some(false),
                    _ => None,
                })
                .collect(),
        ),
        text(Dim::Resolved),
        text(Dim::Satisfied),
        hours(&p.secs_to_sign),
        hours(&p.secs_to_respond),
        hours(&p.secs_to_finish),
        Values::Int(
            rows.iter()
                .map(|&i| (p.requester[i] != 0).then(|| i64::from(p.requester[i])))
                .collect(),
        ),
    ];
    debug_assert_eq!(cols.len(), COLUMNS.len());
    Ok(Some(cols))
}

/// The months of `facts` that overlap `[from, to)`, in order.
pub fn months_in(facts: &TicketFacts, from: NaiveDate, to: NaiveDate) -> Vec<LocalMonth> {
    let (a, b) = (LocalMonth::of(from), LocalMonth::of(to));
    facts
        .partitions
        .keys()
        .copied()
        .filter(|m| *m >= a && (*m < b || (*m == b && to > b.first_day())))
        .collect()
}

/// An engine for exports (the filter is only the period).
pub fn engine<'a>(facts: &'a TicketFacts, tree: &'a CategoryTree) -> Engine<'a> {
    Engine::new(facts, tree)
}

/// Checks an export period.
pub fn check_period(from: NaiveDate, to: NaiveDate) -> Result<Filter, QueryError> {
    if from >= to {
        return Err(QueryError::EmptyPeriod { from, to });
    }
    Ok(Filter {
        from: Some(from),
        to: Some(to),
        ..Filter::default()
    })
}
