//! Working calendars (工作日历) as data, and the time arithmetic of clocks: counting calendar or
//! working time from a start, skipping pauses (waiting for the citizen).
//!
//! A calendar says which dates are working days — the working weekdays, minus public holidays,
//! plus make-up working days (调休: a weekend day that is a working day) — and the working hours
//! of a working day, in a fixed UTC offset (Beijing: UTC+8, no daylight saving).
//!
//! The one rule of the arithmetic: **a deadline is the earliest instant at which the countable
//! time elapsed since the start reaches the span.** Countable time is wall time (calendar basis)
//! or working hours of working days (working basis), minus pauses in both cases. So a span of 0
//! gives the start itself, and a deadline is never before its start.

use chrono::{
    DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Timelike, Utc, Weekday,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// The offset of the shipped reference calendars (China Standard Time, UTC+8 all year). A city
/// elsewhere sets its zone ([`Calendar::in_zone`]); nothing else assumes this value.
pub const CHINA_STANDARD_OFFSET_MINUTES: i32 = 8 * 60;

/// A pause of a clock: from, and until (`None` = still paused).
pub type Pause = (DateTime<Utc>, Option<DateTime<Utc>>);

/// Whether a span counts wall-clock time or working time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeBasis {
    /// 自然时间 — every minute counts (7×24).
    Calendar,
    /// 工作时间 — only the working hours of working days count.
    Working,
}

/// The unit of a span's amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpanUnit {
    Minutes,
    Hours,
    /// Calendar basis: 24 hours. Working basis: one working day's working hours
    /// (so "7 working days" from 10:00 Monday ends at 10:00 on the 7th working day after).
    Days,
}

/// A length of countable time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Span {
    pub amount: i64,
    pub unit: SpanUnit,
    pub basis: TimeBasis,
}

impl Span {
    pub const fn new(amount: i64, unit: SpanUnit, basis: TimeBasis) -> Self {
        Span {
            amount,
            unit,
            basis,
        }
    }
    pub const fn calendar_minutes(n: i64) -> Self {
        Span::new(n, SpanUnit::Minutes, TimeBasis::Calendar)
    }
    pub const fn calendar_hours(n: i64) -> Self {
        Span::new(n, SpanUnit::Hours, TimeBasis::Calendar)
    }
    pub const fn calendar_days(n: i64) -> Self {
        Span::new(n, SpanUnit::Days, TimeBasis::Calendar)
    }
    pub const fn working_minutes(n: i64) -> Self {
        Span::new(n, SpanUnit::Minutes, TimeBasis::Working)
    }
    pub const fn working_hours(n: i64) -> Self {
        Span::new(n, SpanUnit::Hours, TimeBasis::Working)
    }
    pub const fn working_days(n: i64) -> Self {
        Span::new(n, SpanUnit::Days, TimeBasis::Working)
    }
    /// Countable seconds of this span under `cal` (negative amounts count as 0).
    pub fn seconds(&self, cal: &Calendar) -> i64 {
        let n = self.amount.max(0);
        match (self.unit, self.basis) {
            (SpanUnit::Minutes, _) => n.saturating_mul(60),
            (SpanUnit::Hours, _) => n.saturating_mul(3600),
            (SpanUnit::Days, TimeBasis::Calendar) => n.saturating_mul(86_400),
            (SpanUnit::Days, TimeBasis::Working) => n.saturating_mul(cal.working_seconds_per_day()),
        }
    }
    /// Compact form: `30m`, `2h`, `7d` (calendar) and `30wm`, `4wh`, `7wd` (working).
    pub fn to_compact(&self) -> String {
        let w = if self.basis == TimeBasis::Working {
            "w"
        } else {
            ""
        };
        let u = match self.unit {
            SpanUnit::Minutes => "m",
            SpanUnit::Hours => "h",
            SpanUnit::Days => "d",
        };
        format!("{}{w}{u}", self.amount)
    }
    /// Parses the compact form.
    pub fn parse_compact(s: &str) -> Option<Self> {
        let s = s.trim();
        let digits = s.find(|c: char| !c.is_ascii_digit())?;
        let amount: i64 = s[..digits].parse().ok()?;
        let (basis, rest) = match s[digits..].strip_prefix('w') {
            Some(r) => (TimeBasis::Working, r),
            None => (TimeBasis::Calendar, &s[digits..]),
        };
        let unit = match rest {
            "m" => SpanUnit::Minutes,
            "h" => SpanUnit::Hours,
            "d" => SpanUnit::Days,
            _ => return None,
        };
        Some(Span::new(amount, unit, basis))
    }
    /// "2小时" / "7个工作日" style label.
    pub fn label_zh(&self) -> String {
        let (u, w) = match (self.unit, self.basis) {
            (SpanUnit::Minutes, TimeBasis::Calendar) => ("分钟", ""),
            (SpanUnit::Hours, TimeBasis::Calendar) => ("小时", ""),
            (SpanUnit::Days, TimeBasis::Calendar) => ("天", ""),
            (SpanUnit::Minutes, TimeBasis::Working) => ("分钟", "工作"),
            (SpanUnit::Hours, TimeBasis::Working) => ("小时", "工作"),
            (SpanUnit::Days, TimeBasis::Working) => ("日", "个工作"),
        };
        format!("{}{w}{u}", self.amount)
    }
}

impl std::fmt::Display for Span {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_compact())
    }
}

/// One working period of a working day, in local time: `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkPeriod {
    pub start: NaiveTime,
    pub end: NaiveTime,
}

impl WorkPeriod {
    pub fn new(start: (u32, u32), end: (u32, u32)) -> Self {
        WorkPeriod {
            start: NaiveTime::from_hms_opt(start.0, start.1, 0).unwrap_or(NaiveTime::MIN),
            end: NaiveTime::from_hms_opt(end.0, end.1, 0).unwrap_or(NaiveTime::MIN),
        }
    }
    fn start_s(&self) -> i64 {
        self.start.num_seconds_from_midnight() as i64
    }
    fn end_s(&self) -> i64 {
        self.end.num_seconds_from_midnight() as i64
    }
}

/// A calendar is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("no working weekday and no make-up day: there is no working time at all")]
    NoWorkingDays,
    #[error("no working hours")]
    NoWorkingHours,
    #[error("working period {0} is empty, reversed, or overlaps the previous one (periods must be sorted)")]
    BadPeriod(usize),
    #[error("{0} is both a public holiday and a make-up working day")]
    HolidayAndMakeup(NaiveDate),
    #[error("UTC offset {0} minutes is out of range")]
    BadOffset(i32),
}

/// A working calendar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Calendar {
    pub name: String,
    /// Local time = UTC + this many minutes (fixed; 480 for Beijing).
    #[serde(default = "default_offset")]
    pub utc_offset_minutes: i32,
    /// Weekdays that are working days unless a holiday (Mon–Fri by default).
    #[serde(default = "default_weekdays")]
    pub working_weekdays: Vec<Weekday>,
    /// 法定节假日 — dates off even on a working weekday.
    #[serde(default)]
    pub holidays: BTreeSet<NaiveDate>,
    /// 调休上班 — dates that are working days even on a weekend.
    #[serde(default)]
    pub makeup_workdays: BTreeSet<NaiveDate>,
    /// Working periods of a working day, sorted, non-overlapping, local time.
    pub hours: Vec<WorkPeriod>,
}

fn default_offset() -> i32 {
    CHINA_STANDARD_OFFSET_MINUTES
}
fn default_weekdays() -> Vec<Weekday> {
    vec![
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
    ]
}

/// The search horizon of working-time arithmetic (a degenerate calendar gives up after this).
const HORIZON_DAYS: i64 = 366 * 30;

impl Calendar {
    /// Mon–Fri, 09:00–12:00 and 13:30–17:30, Beijing time, no holidays.
    pub fn weekdays_beijing(name: &str) -> Self {
        Calendar {
            name: name.into(),
            utc_offset_minutes: CHINA_STANDARD_OFFSET_MINUTES,
            working_weekdays: default_weekdays(),
            holidays: BTreeSet::new(),
            makeup_workdays: BTreeSet::new(),
            hours: vec![
                WorkPeriod::new((9, 0), (12, 0)),
                WorkPeriod::new((13, 30), (17, 30)),
            ],
        }
    }

    /// The PRC public holiday schedule for 2025 and 2026 (国务院办公厅 notices of 2024-11-12 and
    /// 2025-11-04), with the make-up working days, Mon–Fri 09:00–12:00 and 13:30–17:30 Beijing time.
    pub fn china_2025_2026() -> Self {
        let mut c = Calendar::weekdays_beijing("中国大陆 2025–2026（国务院办公厅放假安排）");
        let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).expect("valid date");
        let mut off = |from: NaiveDate, to: NaiveDate| {
            let mut x = from;
            while x <= to {
                c.holidays.insert(x);
                x = x.succ_opt().expect("date in range");
            }
        };
        // 2025
        off(d(2025, 1, 1), d(2025, 1, 1)); // 元旦
        off(d(2025, 1, 28), d(2025, 2, 4)); // 春节
        off(d(2025, 4, 4), d(2025, 4, 6)); // 清明节
        off(d(2025, 5, 1), d(2025, 5, 5)); // 劳动节
        off(d(2025, 5, 31), d(2025, 6, 2)); // 端午节
        off(d(2025, 10, 1), d(2025, 10, 8)); // 国庆节、中秋节
                                             // 2026
        off(d(2026, 1, 1), d(2026, 1, 3)); // 元旦
        off(d(2026, 2, 15), d(2026, 2, 23)); // 春节
        off(d(2026, 4, 4), d(2026, 4, 6)); // 清明节
        off(d(2026, 5, 1), d(2026, 5, 5)); // 劳动节
        off(d(2026, 6, 19), d(2026, 6, 21)); // 端午节
        off(d(2026, 9, 25), d(2026, 9, 27)); // 中秋节
        off(d(2026, 10, 1), d(2026, 10, 7)); // 国庆节
        for (y, m, dd) in [
            (2025, 1, 26),
            (2025, 2, 8),
            (2025, 4, 27),
            (2025, 9, 28),
            (2025, 10, 11),
            (2026, 1, 4),
            (2026, 2, 14),
            (2026, 2, 28),
            (2026, 5, 9),
            (2026, 9, 20),
            (2026, 10, 10),
        ] {
            c.makeup_workdays.insert(d(y, m, dd));
        }
        c
    }

    /// The same calendar in the city's zone: its working hours are local hours there. The
    /// arithmetic counts in one fixed offset — the zone's offset at `at` — so in a zone with
    /// daylight saving a server re-derives its calendar when the offset changes (documented in
    /// docs/ROUTING.md); zones without it (Asia/Shanghai) are exact all year.
    pub fn in_zone(mut self, zone: jiesu_domain::CityZone, at: DateTime<Utc>) -> Self {
        self.utc_offset_minutes = zone.offset_seconds(at) / 60;
        self
    }

    /// The calendar's local date of an instant.
    pub fn local_date(&self, at: DateTime<Utc>) -> NaiveDate {
        (at + Duration::minutes(self.utc_offset_minutes as i64)).date_naive()
    }

    /// Checks the calendar is usable.
    pub fn validate(&self) -> Result<(), CalendarError> {
        if !(-14 * 60..=14 * 60).contains(&self.utc_offset_minutes) {
            return Err(CalendarError::BadOffset(self.utc_offset_minutes));
        }
        if self.working_weekdays.is_empty() && self.makeup_workdays.is_empty() {
            return Err(CalendarError::NoWorkingDays);
        }
        if self.hours.is_empty() {
            return Err(CalendarError::NoWorkingHours);
        }
        let mut prev_end = -1;
        for (i, p) in self.hours.iter().enumerate() {
            if p.start_s() >= p.end_s() || p.start_s() < prev_end {
                return Err(CalendarError::BadPeriod(i));
            }
            prev_end = p.end_s();
        }
        if let Some(x) = self.holidays.intersection(&self.makeup_workdays).next() {
            return Err(CalendarError::HolidayAndMakeup(*x));
        }
        Ok(())
    }

    /// Whether a local date is a working day.
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        if self.makeup_workdays.contains(&date) {
            return true;
        }
        !self.holidays.contains(&date) && self.working_weekdays.contains(&date.weekday())
    }

    /// Working seconds in one working day.
    pub fn working_seconds_per_day(&self) -> i64 {
        self.hours
            .iter()
            .map(|p| (p.end_s() - p.start_s()).max(0))
            .sum()
    }

    /// Whether an instant falls in working time (a working day's working hours).
    pub fn is_working_instant(&self, at: DateTime<Utc>) -> bool {
        let local = at + Duration::minutes(self.utc_offset_minutes as i64);
        let s = local.num_seconds_from_midnight() as i64;
        self.is_working_day(local.date_naive())
            && self.hours.iter().any(|p| p.start_s() <= s && s < p.end_s())
    }

    /// The deadline `span` after `start`, skipping pauses; see the module doc. `None` only for a
    /// degenerate calendar with no working time within 30 years (or a clock paused for good).
    pub fn add(&self, start: DateTime<Utc>, span: Span, pauses: &[Pause]) -> Option<DateTime<Utc>> {
        let s = ceil_secs(start);
        let p = normalise_pauses(pauses);
        let r = advance(self, s, span.seconds(self), span.basis, &p)?;
        Some(from_secs(r).max(start))
    }

    /// `start` plus `minutes` of working time (no pauses); falls back to calendar time on a
    /// degenerate calendar.
    pub fn add_working_minutes(&self, start: DateTime<Utc>, minutes: i64) -> DateTime<Utc> {
        self.add(start, Span::working_minutes(minutes), &[])
            .unwrap_or(start + Duration::minutes(minutes.max(0)))
    }

    /// Countable seconds between `a` and `b` (0 if `b <= a`), skipping pauses.
    pub fn countable_seconds(
        &self,
        a: DateTime<Utc>,
        b: DateTime<Utc>,
        basis: TimeBasis,
        pauses: &[Pause],
    ) -> i64 {
        let (a, b) = (ceil_secs(a), b.timestamp());
        if b <= a {
            return 0;
        }
        let p = normalise_pauses(pauses);
        let mut total = 0;
        for_each_countable(self, a, basis, &p, |x, y| {
            if x >= b {
                return true;
            }
            total += y.min(b) - x;
            y >= b
        });
        total
    }
}

/// Working seconds from the start of a range of dates, for many look-ups (the reminder pass over a
/// million clocks): one prefix sum per local day, so each instant costs O(working periods) instead
/// of a walk over the days. `at(b) - at(a)` equals `countable_seconds(a, b, Working, &[])` for
/// whole-second instants inside the range (tested).
#[derive(Debug, Clone)]
pub struct WorkingTimeline {
    /// Local midnight of the first day, in UTC seconds.
    first_midnight: i64,
    /// Working seconds before each day (one more entry than days).
    prefix: Vec<i64>,
    working: Vec<bool>,
    periods: Vec<(i64, i64)>,
}

impl WorkingTimeline {
    /// For the local dates `from ..= to` (swapped if reversed; at most 30 years).
    pub fn new(cal: &Calendar, from: NaiveDate, to: NaiveDate) -> Self {
        let (from, to) = if from <= to { (from, to) } else { (to, from) };
        let days = ((to - from).num_days() + 1).clamp(1, HORIZON_DAYS) as usize;
        let periods: Vec<(i64, i64)> = cal.hours.iter().map(|p| (p.start_s(), p.end_s())).collect();
        let per_day: i64 = periods.iter().map(|(a, b)| (b - a).max(0)).sum();
        let mut prefix = Vec::with_capacity(days + 1);
        let mut working = Vec::with_capacity(days);
        let mut acc = 0;
        let mut d = from;
        for _ in 0..days {
            prefix.push(acc);
            let w = cal.is_working_day(d);
            working.push(w);
            if w {
                acc += per_day;
            }
            d = d.succ_opt().unwrap_or(d);
        }
        prefix.push(acc);
        let first_midnight = from.and_time(NaiveTime::MIN).and_utc().timestamp()
            - cal.utc_offset_minutes as i64 * 60;
        WorkingTimeline {
            first_midnight,
            prefix,
            working,
            periods,
        }
    }

    /// Working seconds from the range's first midnight to `t` (clamped to the range).
    pub fn at(&self, t: DateTime<Utc>) -> i64 {
        let s = t.timestamp() - self.first_midnight;
        if s <= 0 {
            return 0;
        }
        let day = (s / 86_400) as usize;
        if day >= self.working.len() {
            return *self.prefix.last().unwrap_or(&0);
        }
        let within = s % 86_400;
        let part = if self.working[day] {
            self.periods
                .iter()
                .map(|&(a, b)| (within.min(b) - a).max(0))
                .sum()
        } else {
            0
        };
        self.prefix[day] + part
    }
}

fn ceil_secs(t: DateTime<Utc>) -> i64 {
    t.timestamp() + i64::from(t.timestamp_subsec_nanos() > 0)
}

fn from_secs(s: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(s, 0)
        .single()
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// Pauses as sorted, merged `[from, until)` second ranges; an open pause lasts for ever.
pub(crate) fn normalise_pauses(pauses: &[Pause]) -> Vec<(i64, i64)> {
    let mut v: Vec<(i64, i64)> = pauses
        .iter()
        .map(|(a, b)| (a.timestamp(), b.map_or(i64::MAX, ceil_secs)))
        .filter(|(a, b)| a < b)
        .collect();
    v.sort_unstable();
    let mut out: Vec<(i64, i64)> = Vec::with_capacity(v.len());
    for (a, b) in v {
        match out.last_mut() {
            Some(last) if a <= last.1 => last.1 = last.1.max(b),
            _ => out.push((a, b)),
        }
    }
    out
}

/// Calls `f(a, b)` for every countable segment `[a, b)` from `start` on, in order, until `f`
/// returns true or the horizon is reached. Returns whether `f` stopped it.
fn for_each_countable(
    cal: &Calendar,
    start: i64,
    basis: TimeBasis,
    pauses: &[(i64, i64)],
    mut f: impl FnMut(i64, i64) -> bool,
) -> bool {
    let mut pi = 0usize;
    // Emits [a, b) minus the pauses.
    let mut emit = |a: i64, b: i64, pi: &mut usize| -> bool {
        while *pi < pauses.len() && pauses[*pi].1 <= a {
            *pi += 1;
        }
        let mut cur = a;
        let mut j = *pi;
        while cur < b {
            if j < pauses.len() && pauses[j].0 < b {
                let (ps, pe) = pauses[j];
                if ps > cur && f(cur, ps) {
                    return true;
                }
                cur = cur.max(pe);
                j += 1;
            } else {
                return f(cur, b);
            }
        }
        false
    };
    match basis {
        TimeBasis::Calendar => emit(start, i64::MAX, &mut pi),
        TimeBasis::Working => {
            if cal.hours.is_empty() {
                return false;
            }
            let off = cal.utc_offset_minutes as i64 * 60;
            let local = start + off;
            let mut day = local.div_euclid(86_400);
            let last_day = day + HORIZON_DAYS;
            while day <= last_day {
                let date = NaiveDate::from_num_days_from_ce_opt((day + 719_163) as i32);
                let Some(date) = date else { return false };
                if cal.is_working_day(date) {
                    let base = day * 86_400 - off;
                    for p in &cal.hours {
                        let a = (base + p.start_s()).max(start);
                        let b = base + p.end_s();
                        if a < b && emit(a, b, &mut pi) {
                            return true;
                        }
                    }
                }
                // Past the last pause that never ends, nothing more counts.
                if pauses
                    .last()
                    .is_some_and(|&(ps, pe)| pe == i64::MAX && ps <= day * 86_400 - off)
                {
                    return false;
                }
                day += 1;
            }
            false
        }
    }
}

/// The earliest second at which `amount` countable seconds have elapsed since `start`.
pub(crate) fn advance(
    cal: &Calendar,
    start: i64,
    amount: i64,
    basis: TimeBasis,
    pauses: &[(i64, i64)],
) -> Option<i64> {
    if amount <= 0 {
        return Some(start);
    }
    let mut remaining = amount;
    let mut out = None;
    for_each_countable(cal, start, basis, pauses, |a, b| {
        let len = b.saturating_sub(a);
        if remaining <= len {
            out = Some(a + remaining);
            true
        } else {
            remaining -= len;
            false
        }
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bj(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap() - Duration::hours(8)
    }

    #[test]
    fn china_2025_2026_loads_and_knows_the_real_schedule() {
        let c = Calendar::china_2025_2026();
        c.validate().unwrap();
        let json = serde_json::to_string(&c).unwrap();
        let back: Calendar = serde_json::from_str(&json).unwrap();
        assert_eq!(back, c);
        let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        // 2025: Spring Festival 1-28..2-4, make-up Sunday 1-26 and Saturday 2-8.
        assert!(c.is_working_day(d(2025, 1, 26)));
        assert!(!c.is_working_day(d(2025, 1, 28)));
        assert!(!c.is_working_day(d(2025, 2, 4)));
        assert!(c.is_working_day(d(2025, 2, 5)));
        assert!(c.is_working_day(d(2025, 2, 8)));
        assert!(!c.is_working_day(d(2025, 10, 8)));
        assert!(c.is_working_day(d(2025, 10, 11)));
        // 2026: Spring Festival 2-15..2-23, make-up 2-14 and 2-28; National Day 10-1..10-7.
        assert!(c.is_working_day(d(2026, 2, 14)));
        assert!(!c.is_working_day(d(2026, 2, 23)));
        assert!(c.is_working_day(d(2026, 2, 24)));
        assert!(c.is_working_day(d(2026, 1, 4)));
        assert!(!c.is_working_day(d(2026, 10, 7)));
        assert!(c.is_working_day(d(2026, 10, 10)));
        assert!(!c.is_working_day(d(2026, 3, 7))); // an ordinary Saturday
                                                   // 13 holiday periods, 11 make-up days.
        assert_eq!(c.makeup_workdays.len(), 11);
        assert_eq!(
            c.holidays.len(),
            1 + 8 + 3 + 5 + 3 + 8 + 3 + 9 + 3 + 5 + 3 + 3 + 7
        );
    }

    #[test]
    fn calendar_json_is_hand_writable() {
        let json = r#"{"name":"test","hours":[{"start":"09:00","end":"17:00"}],
            "holidays":["2026-01-01"],"makeup_workdays":["2026-01-04"],"working_weekdays":["Mon","Tue","Wed","Thu","Fri"]}"#;
        let c: Calendar = serde_json::from_str(json).unwrap();
        c.validate().unwrap();
        assert_eq!(c.utc_offset_minutes, 480);
        assert_eq!(c.working_seconds_per_day(), 8 * 3600);
    }

    #[test]
    fn working_time_skips_lunch_nights_weekends_and_holidays() {
        let c = Calendar::china_2025_2026();
        // Friday 2026-02-13 16:30 + 2 working hours: 1 h Friday, Sat 2-14 is a make-up day → 10:00.
        let t = c
            .add(bj(2026, 2, 13, 16, 30), Span::working_hours(2), &[])
            .unwrap();
        assert_eq!(t, bj(2026, 2, 14, 10, 0));
        // 11:00 + 2 working hours → 12:00 then 13:30 + 1 h = 14:30.
        let t = c
            .add(bj(2026, 3, 2, 11, 0), Span::working_hours(2), &[])
            .unwrap();
        assert_eq!(t, bj(2026, 3, 2, 14, 30));
        // 1 working day from Tuesday 10:00 before the holiday is Wednesday 10:00 … but 2-15..23 off.
        let t = c
            .add(bj(2026, 2, 14, 10, 0), Span::working_days(1), &[])
            .unwrap();
        assert_eq!(t, bj(2026, 2, 24, 10, 0));
        // Started at night: counts from the next morning.
        let t = c
            .add(bj(2026, 3, 2, 22, 0), Span::working_minutes(30), &[])
            .unwrap();
        assert_eq!(t, bj(2026, 3, 3, 9, 30));
        // Zero span is the start itself, even outside working hours.
        let s = bj(2026, 3, 1, 3, 0);
        assert_eq!(c.add(s, Span::working_days(0), &[]).unwrap(), s);
    }

    #[test]
    fn pauses_stop_the_clock_and_open_pauses_stop_it_for_good() {
        let c = Calendar::china_2025_2026();
        let s = bj(2026, 3, 2, 9, 0);
        let p = [(bj(2026, 3, 2, 10, 0), Some(bj(2026, 3, 2, 11, 0)))];
        let t = c.add(s, Span::calendar_hours(2), &p).unwrap();
        assert_eq!(t, bj(2026, 3, 2, 12, 0));
        let open = [(bj(2026, 3, 2, 10, 0), None)];
        assert_eq!(c.add(s, Span::calendar_hours(2), &open), None);
        assert_eq!(c.add(s, Span::working_hours(2), &open), None);
        assert_eq!(
            c.add(s, Span::calendar_minutes(30), &open).unwrap(),
            bj(2026, 3, 2, 9, 30)
        );
        assert_eq!(
            c.countable_seconds(s, bj(2026, 3, 2, 13, 0), TimeBasis::Working, &p),
            2 * 3600
        );
    }

    #[test]
    fn compact_spans_round_trip() {
        for s in ["30m", "2h", "7d", "30wm", "4wh", "15wd"] {
            assert_eq!(Span::parse_compact(s).unwrap().to_compact(), s);
        }
        assert!(Span::parse_compact("7x").is_none());
        assert_eq!(Span::working_days(7).label_zh(), "7个工作日");
    }

    #[test]
    fn invalid_calendars_are_refused() {
        let mut c = Calendar::weekdays_beijing("x");
        c.hours.push(WorkPeriod::new((17, 0), (18, 0)));
        assert_eq!(c.validate(), Err(CalendarError::BadPeriod(2)));
        let mut c = Calendar::weekdays_beijing("x");
        let d = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        c.holidays.insert(d);
        c.makeup_workdays.insert(d);
        assert_eq!(c.validate(), Err(CalendarError::HolidayAndMakeup(d)));
        let mut c = Calendar::weekdays_beijing("x");
        c.working_weekdays.clear();
        assert_eq!(c.validate(), Err(CalendarError::NoWorkingDays));
        // A degenerate calendar gives up rather than looping for ever.
        assert_eq!(
            c.add(bj(2026, 1, 1, 9, 0), Span::working_hours(1), &[]),
            None
        );
    }
}
