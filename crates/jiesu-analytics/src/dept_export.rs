//! 部门定制导出与开放数据 — the tables behind a department's saved export (chosen columns of the
//! ticket facts, filtered, within the department's scope) and the public open-data file (no
//! personal data, places no finer than the community, no free text, small cells coarsened and
//! then suppressed), and when a scheduled export is due. No IO, no clock: the caller passes
//! `now` and the city's zone.

use crate::bulletin::{BulletinKind, BulletinPeriod};
use crate::export::{month_columns, months_in, Kind, Values, COLUMNS};
use crate::query::{Engine, QueryError};
use chrono::{DateTime, NaiveDate, Utc};
use jiesu_domain::CityZone;
use std::collections::{HashMap, HashSet};

/// A table of named, typed columns (all of one length).
#[derive(Debug, Clone, PartialEq)]
pub struct ExportTable {
    /// `(name, values)` in order.
    pub columns: Vec<(&'static str, Values)>,
}

impl ExportTable {
    /// Rows in the table.
    pub fn rows(&self) -> usize {
        self.columns.first().map_or(0, |(_, v)| values_len(v))
    }
}

fn values_len(v: &Values) -> usize {
    match v {
        Values::Int(v) => v.len(),
        Values::Text(v) => v.len(),
        Values::Bool(v) => v.len(),
        Values::Date(v) => v.len(),
        Values::Float(v) => v.len(),
    }
}

fn empty(kind: Kind) -> Values {
    match kind {
        Kind::Int => Values::Int(vec![]),
        Kind::Text => Values::Text(vec![]),
        Kind::Bool => Values::Bool(vec![]),
        Kind::Date => Values::Date(vec![]),
        Kind::Float => Values::Float(vec![]),
    }
}

fn push(dst: &mut Values, src: &Values, i: usize) {
    match (dst, src) {
        (Values::Int(d), Values::Int(s)) => d.push(s[i]),
        (Values::Text(d), Values::Text(s)) => d.push(s[i].clone()),
        (Values::Bool(d), Values::Bool(s)) => d.push(s[i]),
        (Values::Date(d), Values::Date(s)) => d.push(s[i]),
        (Values::Float(d), Values::Float(s)) => d.push(s[i]),
        _ => unreachable!("columns keep their kinds"),
    }
}

fn col(name: &str) -> usize {
    COLUMNS
        .iter()
        .position(|(n, _)| *n == name)
        .expect("a column of the fact export")
}

fn text_at(cols: &[Values], c: usize, i: usize) -> Option<&str> {
    match &cols[c] {
        Values::Text(v) => v[i].as_deref(),
        _ => None,
    }
}

/// What a saved export keeps: the rows of its scope matching its filters (each a code; an
/// empty filter keeps all).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    /// The unit codes of the department's scope (its unit and those below it); a row is in scope
    /// when its lead unit or one of its places (district, street, community) is. `None`: the city.
    pub scope: Option<HashSet<String>>,
    /// A channel wire name.
    pub channel: Option<String>,
    /// A ticket type wire name.
    pub ticket_type: Option<String>,
    /// A category code at any level (its subtree).
    pub category: Option<String>,
    /// A district code.
    pub district: Option<String>,
    /// A street code.
    pub street: Option<String>,
}

/// Why a saved export's definition is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExportDefError {
    /// A column that is not one of [`COLUMNS`].
    #[error("'{0}' is not an export column")]
    UnknownColumn(String),
    /// No column at all.
    #[error("choose at least one column")]
    NoColumns,
    /// A schedule other than daily, weekly, monthly or none.
    #[error("'{0}' is not a schedule (daily, weekly, monthly or none)")]
    BadSchedule(String),
}

/// Checks chosen column names against [`COLUMNS`] (order kept, duplicates dropped).
pub fn check_columns(names: &[String]) -> Result<Vec<&'static str>, ExportDefError> {
    let mut out: Vec<&'static str> = vec![];
    for n in names {
        let (c, _) = COLUMNS
            .iter()
            .find(|(c, _)| c == n)
            .ok_or_else(|| ExportDefError::UnknownColumn(n.clone()))?;
        if !out.contains(c) {
            out.push(c);
        }
    }
    if out.is_empty() {
        return Err(ExportDefError::NoColumns);
    }
    Ok(out)
}

/// The rows of `[from, to)` that `sel` keeps, in the chosen columns.
pub fn custom_table(
    engine: &Engine,
    from: NaiveDate,
    to: NaiveDate,
    columns: &[&'static str],
    sel: &Selection,
) -> Result<ExportTable, QueryError> {
    let idx: Vec<usize> = columns.iter().map(|c| col(c)).collect();
    let mut out: Vec<Values> = idx.iter().map(|&i| empty(COLUMNS[i].1)).collect();
    let (c_unit, c_dist, c_street, c_comm) = (
        col("lead_unit"),
        col("district"),
        col("street"),
        col("community"),
    );
    let (c_chan, c_type, c_l1, c_l2, c_cat) = (
        col("channel"),
        col("type"),
        col("category_l1"),
        col("category_l2"),
        col("category"),
    );
    let is =
        |want: &Option<String>, got: Option<&str>| want.as_deref().is_none_or(|w| got == Some(w));
    for m in months_in(engine.facts, from, to) {
        let Some(cols) = month_columns(engine, m, from, to)? else {
            continue;
        };
        for i in 0..values_len(&cols[0]) {
            if let Some(scope) = &sel.scope {
                let inside = [c_unit, c_dist, c_street, c_comm]
                    .iter()
                    .any(|&c| text_at(&cols, c, i).is_some_and(|u| scope.contains(u)));
                if !inside {
                    continue;
                }
            }
            let category_ok = sel.category.as_deref().is_none_or(|w| {
                [c_l1, c_l2, c_cat]
                    .iter()
                    .any(|&c| text_at(&cols, c, i) == Some(w))
            });
            if !(category_ok
                && is(&sel.channel, text_at(&cols, c_chan, i))
                && is(&sel.ticket_type, text_at(&cols, c_type, i))
                && is(&sel.district, text_at(&cols, c_dist, i))
                && is(&sel.street, text_at(&cols, c_street, i)))
            {
                continue;
            }
            for (o, &c) in out.iter_mut().zip(&idx) {
                push(o, &cols[c], i);
            }
        }
    }
    Ok(ExportTable {
        columns: columns.iter().copied().zip(out).collect(),
    })
}

/// The open-data file's columns, in order (documented in docs/EXPORTS.md). No ticket number, no
/// requester, no unit, no exact day or hour: a month, what kind of request, where (community at
/// the finest), how it went.
pub const OPEN_DATA_COLUMNS: &[&str] = &[
    "created_month",
    "channel",
    "type",
    "category_l1",
    "category_l2",
    "district",
    "street",
    "community",
    "status",
    "dispatched",
    "answered_directly",
    "overdue",
    "resolution",
    "satisfaction",
    "hours_to_finish",
];

/// The smallest group of requests (same month, second-level category and place) the open data
/// shows at a place: smaller ones are shown one level up (community → street → district), and
/// dropped when even the district's group is smaller.
pub const OPEN_DATA_K: usize = 5;

/// What the open-data export did to protect requesters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OpenDataFigures {
    /// Rows written.
    pub rows: usize,
    /// Rows whose community was withheld (shown at the street).
    pub coarsened_to_street: usize,
    /// Rows whose street was withheld too (shown at the district).
    pub coarsened_to_district: usize,
    /// Rows dropped: fewer than `k` like them in their district.
    pub suppressed: usize,
}

/// The open-data table of `[from, to)` with groups smaller than `k` coarsened, then suppressed.
/// Durations are rounded to whole hours.
#[allow(clippy::needless_range_loop)] // parallel columns indexed by row
pub fn open_data_table(
    engine: &Engine,
    from: NaiveDate,
    to: NaiveDate,
    k: usize,
) -> Result<(ExportTable, OpenDataFigures), QueryError> {
    let mut t = custom_table(engine, from, to, OPEN_DATA_COLUMNS, &Selection::default())?;
    let n = t.rows();
    let text = |t: &ExportTable, name: &str| -> Vec<Option<String>> {
        match &t
            .columns
            .iter()
            .find(|(c, _)| *c == name)
            .expect("column")
            .1
        {
            Values::Text(v) => v.clone(),
            _ => unreachable!("a text column"),
        }
    };
    let (month, cat, dist, mut street, mut comm) = (
        text(&t, "created_month"),
        text(&t, "category_l2"),
        text(&t, "district"),
        text(&t, "street"),
        text(&t, "community"),
    );
    let mut figures = OpenDataFigures::default();
    let key = |i: usize, place: &Option<String>| (month[i].clone(), cat[i].clone(), place.clone());
    // community level
    let mut count: HashMap<_, usize> = HashMap::new();
    for i in 0..n {
        *count.entry(key(i, &comm[i])).or_default() += 1;
    }
    for i in 0..n {
        if comm[i].is_some() && count[&key(i, &comm[i])] < k {
            comm[i] = None;
            figures.coarsened_to_street += 1;
        }
    }
    // street level (over every row of the street, coarsened or not)
    let mut count: HashMap<_, usize> = HashMap::new();
    for i in 0..n {
        *count.entry(key(i, &street[i])).or_default() += 1;
    }
    for i in 0..n {
        if street[i].is_some() && count[&key(i, &street[i])] < k {
            street[i] = None;
            if comm[i].take().is_some() {
                figures.coarsened_to_street += 1;
            }
            figures.coarsened_to_district += 1;
        }
    }
    // district level: dropped when still too few
    let mut count: HashMap<_, usize> = HashMap::new();
    for i in 0..n {
        *count.entry(key(i, &dist[i])).or_default() += 1;
    }
    let keep: Vec<bool> = (0..n).map(|i| count[&key(i, &dist[i])] >= k).collect();
    figures.suppressed = keep.iter().filter(|k| !**k).count();
    for (name, v) in t.columns.iter_mut() {
        match *name {
            "street" => *v = Values::Text(street.clone()),
            "community" => *v = Values::Text(comm.clone()),
            "hours_to_finish" => {
                if let Values::Float(h) = v {
                    h.iter_mut().for_each(|x| *x = x.map(f64::round));
                }
            }
            _ => {}
        }
    }
    // drop the suppressed rows
    for (_, v) in t.columns.iter_mut() {
        let mut src = empty(kind_of(v));
        std::mem::swap(&mut src, v);
        for (i, &k) in keep.iter().enumerate() {
            if k {
                push(v, &src, i);
            }
        }
    }
    figures.rows = t.rows();
    Ok((t, figures))
}

fn kind_of(v: &Values) -> Kind {
    match v {
        Values::Int(_) => Kind::Int,
        Values::Text(_) => Kind::Text,
        Values::Bool(_) => Kind::Bool,
        Values::Date(_) => Kind::Date,
        Values::Float(_) => Kind::Float,
    }
}

/// How often a saved export is made: 每日 / 每周 / 每月, or only on demand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schedule {
    /// Every city day, for the day before.
    Daily,
    /// Every ISO week (Monday), for the week before.
    Weekly,
    /// Every calendar month (the 1st), for the month before.
    Monthly,
    /// Only on demand.
    None,
}

impl Schedule {
    /// Parses `daily`, `weekly`, `monthly` or `none`.
    pub fn parse(s: &str) -> Result<Schedule, ExportDefError> {
        Ok(match s {
            "daily" => Schedule::Daily,
            "weekly" => Schedule::Weekly,
            "monthly" => Schedule::Monthly,
            "none" | "" => Schedule::None,
            _ => return Err(ExportDefError::BadSchedule(s.to_string())),
        })
    }

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Schedule::Daily => "daily",
            Schedule::Weekly => "weekly",
            Schedule::Monthly => "monthly",
            Schedule::None => "none",
        }
    }

    /// The period a scheduled export owes at `now`: the last complete day, ISO week or month in
    /// the city's time (its key names the file, so each is made once); `None` on demand only.
    pub fn due(self, now: DateTime<Utc>, zone: &CityZone) -> Option<BulletinPeriod> {
        let kind = match self {
            Schedule::Daily => BulletinKind::Daily,
            Schedule::Weekly => BulletinKind::Weekly,
            Schedule::Monthly => BulletinKind::Monthly,
            Schedule::None => return None,
        };
        Some(BulletinPeriod::last_complete(kind, zone.date(now)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_monthly_export_owes_the_month_that_ended_at_city_midnight_not_utc_midnight() {
        let zone = CityZone::parse("Asia/Shanghai").unwrap();
        // 2026-11-30 23:30 in Beijing = 15:30 UTC: November has not ended in the city
        let before = Utc.with_ymd_and_hms(2026, 11, 30, 15, 30, 0).unwrap();
        assert_eq!(Schedule::Monthly.due(before, &zone).unwrap().key, "2026-10");
        // 2026-12-01 00:10 in Beijing = 2026-11-30 16:10 UTC: November is owed
        let after = Utc.with_ymd_and_hms(2026, 11, 30, 16, 10, 0).unwrap();
        let p = Schedule::Monthly.due(after, &zone).unwrap();
        assert_eq!(
            (p.key.as_str(), p.from.to_string(), p.to.to_string()),
            ("2026-11", "2026-11-01".into(), "2026-12-01".into())
        );
        assert_eq!(Schedule::Daily.due(after, &zone).unwrap().key, "2026-11-30");
        assert_eq!(Schedule::None.due(after, &zone), None);
        assert!(Schedule::parse("hourly").is_err());
    }

    #[test]
    fn columns_are_checked_and_kept_in_the_chosen_order() {
        let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            check_columns(&names(&["status", "ticket_id", "status"])).unwrap(),
            ["status", "ticket_id"]
        );
        assert_eq!(
            check_columns(&names(&["phone"])),
            Err(ExportDefError::UnknownColumn("phone".into()))
        );
        assert_eq!(check_columns(&[]), Err(ExportDefError::NoColumns));
    }
}
