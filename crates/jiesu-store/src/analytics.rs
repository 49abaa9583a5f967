//! 分析事实的读取 — what the data platform reads: one [`TicketFact`] per ticket, and where the log
//! has moved since a watermark, so a cached [`TicketFacts`] rewrites only the months that changed
//! ([`refresh_facts`]). No SQL here; each backend implements [`AnalyticsStore`].

use crate::{ReferenceStore, Result};
use chrono::{DateTime, Datelike, Utc};
use jiesu_analytics::{LocalMonth, TicketFact, TicketFacts};
use jiesu_domain::CityZone;
use std::collections::BTreeSet;

/// What the data platform reads from a store.
pub trait AnalyticsStore: Send + Sync {
    /// The position of the last event in the log (`None`: no event yet). Any change to any ticket
    /// moves it.
    fn analytics_watermark(&self) -> Result<Option<i64>>;
    /// The creation instants' UTC months (`YYYY-MM`) of the tickets with an event after position
    /// `pos` (the months whose facts may have changed).
    fn months_changed_since(&self, pos: i64) -> Result<Vec<String>>;
    /// The first and last creation instant of any ticket.
    fn created_range(&self) -> Result<Option<(DateTime<Utc>, DateTime<Utc>)>>;
    /// Streams the facts of the tickets created in `[from, to)`, ordered by ticket id; dates and
    /// hours city-local in `zone`; a lead assignment still open past its deadline at `now` counts
    /// as overdue.
    fn for_each_ticket_fact(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        zone: &CityZone,
        now: DateTime<Utc>,
        f: &mut dyn FnMut(TicketFact) -> Result<()>,
    ) -> Result<u64>;
}

/// Where a cached fact table stands against the log.
#[derive(Debug, Clone, Default)]
pub struct FactsState {
    /// The log position the cache was last brought up to (`None`: never built).
    pub watermark: Option<i64>,
    /// When each month was last read (to refresh open tickets' overdue flags).
    pub read_at: std::collections::BTreeMap<LocalMonth, DateTime<Utc>>,
}

/// Brings `facts` up to date with the store: the first call reads every month; later calls read
/// again only the city months holding tickets with new events (and months whose open tickets may
/// have become overdue: the current and the previous month, read again when `stale_after` has
/// passed since their last read). With `spill_to`, each month read is moved out of this
/// process's heap into an unnamed mapped file in that directory as soon as it is complete
/// ([`crate::fact_spill`]; kept in memory if the file cannot be made), so reading a whole history
/// never holds it all in memory. Returns the months rewritten.
pub fn refresh_facts<S: AnalyticsStore + ReferenceStore + ?Sized>(
    store: &S,
    facts: &mut TicketFacts,
    state: &mut FactsState,
    zone: &CityZone,
    now: DateTime<Utc>,
    stale_after: chrono::Duration,
    spill_to: Option<&std::path::Path>,
) -> Result<Vec<LocalMonth>> {
    let mark = store.analytics_watermark()?;
    let mut months: BTreeSet<LocalMonth> = BTreeSet::new();
    match (state.watermark, mark) {
        (_, None) => {}
        (None, Some(_)) => {
            if let Some((first, last)) = store.created_range()? {
                let mut m = month_of(zone, first);
                let end = month_of(zone, last);
                while m <= end {
                    months.insert(m);
                    m = m.next();
                }
            }
        }
        (Some(old), Some(new)) if new > old => {
            for key in store.months_changed_since(old)? {
                // a UTC month overlaps at most two city months: its first and its last instant's
                if let Some(utc) = LocalMonth::parse(&key) {
                    let start = utc_month_start(utc);
                    let end = utc_month_start(utc.next()) - chrono::Duration::milliseconds(1);
                    months.insert(month_of(zone, start));
                    months.insert(month_of(zone, end));
                }
            }
        }
        _ => {}
    }
    // open tickets turn overdue with time alone: re-read the recent months now and then
    let current = month_of(zone, now);
    let previous = current
        .first_day()
        .pred_opt()
        .map(LocalMonth::of)
        .unwrap_or(current);
    for m in [previous, current] {
        if let Some(at) = state.read_at.get(&m) {
            if now - *at >= stale_after {
                months.insert(m);
            }
        }
    }
    for &m in &months {
        let (from, to) = zone.month_bounds(m.year, m.month);
        facts.rebuild_month(m, mark.unwrap_or(-1));
        store.for_each_ticket_fact(from, to, zone, now, &mut |f| {
            facts
                .push(m, &f)
                .map_err(|e| crate::StoreError::Db(format!("analytics facts: {e}")))
        })?;
        if facts.partitions.get(&m).is_some_and(|p| p.is_empty()) {
            facts.partitions.remove(&m);
        }
        if let (Some(dir), Some(p)) = (spill_to, facts.partitions.get_mut(&m)) {
            if let Err(e) = crate::fact_spill::spill(p, dir) {
                tracing::warn!(month = %m.key(), dir = %dir.display(), error = %e, "analytics facts kept in memory: the spill file could not be made");
            }
        }
        state.read_at.insert(m, now);
    }
    state.watermark = mark.or(state.watermark);
    Ok(months.into_iter().collect())
}

fn month_of(zone: &CityZone, at: DateTime<Utc>) -> LocalMonth {
    let d = zone.date(at);
    LocalMonth {
        year: d.year(),
        month: d.month(),
    }
}

fn utc_month_start(m: LocalMonth) -> DateTime<Utc> {
    m.first_day()
        .and_hms_opt(0, 0, 0)
        .expect("midnight")
        .and_utc()
}
