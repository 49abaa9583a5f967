//! The volume model: how many requests arrive on each day and at what times.
//!
//! Beijing's 2021 level is the base: 1,335万 requests in January–November 2021, spread over the
//! months by the reference data's monthly multipliers (February low ≈ 101万, November high
//! ≈ 145万), so ≈ 1,470万 a year. A day's expected volume is its month's level × a weekday factor ×
//! a holiday factor (Spring Festival, National Day, New Year, Labour Day, Qingming), normalised so
//! that the calendar of 2021 reproduces those monthly figures exactly; other years keep the same
//! per-day levels and move the holidays. Within a day, arrivals follow
//! an hour-of-day profile in Beijing time (night is quiet, the peak is 9–11 and 14–16).

use crate::rng::{purpose, Alias, Rng};
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, Utc, Weekday};

/// The demo city's time zone: the shipped reference city is Beijing, so its history is simulated
/// in Beijing time, and `generate` stores this zone as the database's `time_zone` setting.
pub fn demo_zone() -> jiesu_domain::CityZone {
    jiesu_domain::CityZone::default()
}

/// Requests in January–November 2021 at `--scale 1.0` (the report's 1,335万).
pub const JAN_NOV_2021: f64 = 13_350_000.0;

/// 2021 volume of each month at scale 1.0 from monthly multipliers (mean 1, January first).
pub fn monthly_2021(multipliers: &[f64; 12]) -> [f64; 12] {
    let jan_nov: f64 = multipliers[..11].iter().sum();
    multipliers.map(|m| JAN_NOV_2021 * m / jan_nov)
}

/// Share of a day's arrivals in each Beijing-time hour.
pub const HOUR_WEIGHTS: [f64; 24] = [
    0.8, 0.5, 0.35, 0.3, 0.3, 0.5, 1.2, 2.8, 5.5, 7.5, 7.8, 7.0, 5.5, 6.0, 6.8, 6.8, 6.5, 5.8, 4.8,
    4.5, 4.3, 3.8, 2.8, 1.6,
];

/// Gregorian date of the Spring Festival (春节, lunar new year's day).
fn spring_festival(year: i32) -> Option<NaiveDate> {
    let (m, d) = match year {
        2015 => (2, 19),
        2016 => (2, 8),
        2017 => (1, 28),
        2018 => (2, 16),
        2019 => (2, 5),
        2020 => (1, 25),
        2021 => (2, 12),
        2022 => (2, 1),
        2023 => (1, 22),
        2024 => (2, 10),
        2025 => (1, 29),
        2026 => (2, 17),
        2027 => (2, 6),
        2028 => (1, 26),
        2029 => (2, 13),
        2030 => (2, 3),
        2031 => (1, 23),
        2032 => (2, 11),
        2033 => (1, 31),
        2034 => (2, 19),
        2035 => (2, 8),
        2036 => (1, 28),
        2037 => (2, 15),
        2038 => (2, 4),
        2039 => (1, 24),
        2040 => (2, 12),
        _ => (2, 5),
    };
    NaiveDate::from_ymd_opt(year, m, d)
}

/// Weekday factor: Mondays busiest, weekends quieter.
fn weekday_factor(d: NaiveDate) -> f64 {
    match d.weekday() {
        Weekday::Mon => 1.10,
        Weekday::Tue => 1.05,
        Weekday::Wed => 1.03,
        Weekday::Thu => 1.02,
        Weekday::Fri => 1.00,
        Weekday::Sat => 0.86,
        Weekday::Sun => 0.90,
    }
}

/// Holiday factor: dips on Spring Festival, National Day and other public holidays, a small
/// rebound after the Spring Festival week.
pub fn holiday_factor(d: NaiveDate) -> f64 {
    for year in [d.year() - 1, d.year(), d.year() + 1] {
        if let Some(sf) = spring_festival(year) {
            let k = (d - sf).num_days();
            match k {
                -1..=2 => return 0.55,
                3..=5 => return 0.70,
                6 => return 0.85,
                7..=10 => return 1.10,
                -7..=-2 => return 0.93,
                _ => {}
            }
        }
    }
    match (d.month(), d.day()) {
        (10, 1..=3) => 0.70,
        (10, 4..=7) => 0.80,
        (1, 1) => 0.80,
        (5, 1..=5) => 0.85,
        (4, 4..=6) => 0.90,
        _ => 1.0,
    }
}

/// Per-day level of each month (at scale 1.0, before weekday and holiday factors), such that the
/// calendar of 2021 gives `monthly_2021(multipliers)`.
fn month_levels(multipliers: &[f64; 12]) -> [f64; 12] {
    let months = monthly_2021(multipliers);
    let mut out = [0.0; 12];
    for (m, level) in out.iter_mut().enumerate() {
        let want = months[m];
        let mut d = NaiveDate::from_ymd_opt(2021, m as u32 + 1, 1).expect("valid date");
        let mut sum = 0.0;
        while d.month() == m as u32 + 1 {
            sum += weekday_factor(d) * holiday_factor(d);
            d = d.succ_opt().expect("valid date");
        }
        *level = want / sum;
    }
    out
}

/// Expected requests on a whole Beijing-time day at scale 1.0.
pub fn day_rate(d: NaiveDate, levels: &[f64; 12]) -> f64 {
    levels[d.month0() as usize] * weekday_factor(d) * holiday_factor(d)
}

/// One day of the generated history.
#[derive(Debug, Clone)]
pub struct DayPlan {
    /// Beijing-time date.
    pub date: NaiveDate,
    /// The part of the day inside the history window (UTC).
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// Requests arriving in it.
    pub count: u64,
    /// Id of its first ticket (ids run 1..N in creation order).
    pub first_id: i64,
}

/// Start of a local day of the demo city, in UTC.
pub fn day_start(d: NaiveDate) -> DateTime<Utc> {
    demo_zone().start_of_day(d)
}

/// The demo city's local wall-clock time of an instant.
pub fn local(t: DateTime<Utc>) -> NaiveDateTime {
    demo_zone().local(t)
}

/// The start of the history: `months` calendar months (local time) before `end`.
pub fn window_start(end: DateTime<Utc>, months: u32) -> DateTime<Utc> {
    let l = local(end);
    let s = l
        .checked_sub_months(chrono::Months::new(months))
        .unwrap_or(l);
    demo_zone().instant(s)
}

/// Weight of the part `[from, to)` of the day starting at `start` under the hour profile (as a
/// share of the whole day).
fn covered_share(start: DateTime<Utc>, from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    let total: f64 = HOUR_WEIGHTS.iter().sum();
    let mut w = 0.0;
    for (h, hw) in HOUR_WEIGHTS.iter().enumerate() {
        let hs = start + Duration::hours(h as i64);
        let he = hs + Duration::hours(1);
        let a = hs.max(from);
        let b = he.min(to);
        if b > a {
            w += hw * (b - a).num_seconds() as f64 / 3600.0;
        }
    }
    w / total
}

/// Plans every day of the history: counts and id ranges. Deterministic in (seed, scale, window,
/// multipliers). `multipliers`: the monthly volume shape (mean 1, January first).
pub fn plan(
    seed: u64,
    scale: f64,
    months: u32,
    end: DateTime<Utc>,
    multipliers: &[f64; 12],
) -> Vec<DayPlan> {
    let levels = month_levels(multipliers);
    let start = window_start(end, months);
    let mut out = Vec::new();
    let mut d = local(start).date();
    let last = local(end).date();
    let mut next_id = 1i64;
    while d <= last {
        let ds = day_start(d);
        let de = day_start(d.succ_opt().expect("valid date"));
        let from = ds.max(start);
        let to = de.min(end);
        if to > from {
            let mut rng = Rng::new(seed, purpose::DAY, d.num_days_from_ce() as u64);
            // day-to-day noise (weather, news) on top of the calendar
            let noise = rng.lognormal(1.0, 0.04);
            let lambda = scale * day_rate(d, &levels) * noise * covered_share(ds, from, to);
            let count = rng.poisson(lambda);
            out.push(DayPlan {
                date: d,
                from,
                to,
                count,
                first_id: next_id,
            });
            next_id += count as i64;
        }
        d = d.succ_opt().expect("valid date");
    }
    out
}

/// The arrival times of a day's requests, sorted (whole seconds, inside `[from, to)`).
pub fn arrival_times(seed: u64, day: &DayPlan) -> Vec<DateTime<Utc>> {
    let mut rng = Rng::new(
        seed,
        purpose::DAY ^ 0x7133,
        day.date.num_days_from_ce() as u64,
    );
    let ds = day_start(day.date);
    let hours = Alias::new(&HOUR_WEIGHTS.map(|w| w));
    let mut secs: Vec<i64> = Vec::with_capacity(day.count as usize);
    let lo = (day.from - ds).num_seconds();
    let hi = (day.to - ds).num_seconds();
    while secs.len() < day.count as usize {
        let h = hours.sample(&mut rng) as i64;
        let s = h * 3600 + rng.below(3600) as i64;
        if s >= lo && s < hi {
            secs.push(s);
        }
    }
    secs.sort_unstable();
    secs.into_iter()
        .map(|s| ds + Duration::seconds(s))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    const M: [f64; 12] = [
        1.0, 0.83, 0.97, 0.96, 0.97, 0.99, 1.04, 1.03, 1.0, 0.94, 1.19, 1.08,
    ];

    #[test]
    fn a_full_2021_reproduces_the_monthly_figures() {
        let end = day_start(NaiveDate::from_ymd_opt(2021, 12, 1).unwrap());
        let days = plan(1, 1.0, 11, end, &M);
        let total: u64 = days.iter().map(|d| d.count).sum();
        assert!((total as f64 / JAN_NOV_2021 - 1.0).abs() < 0.005, "{total}");
        let feb: u64 = days
            .iter()
            .filter(|d| d.date.month() == 2)
            .map(|d| d.count)
            .sum();
        let nov: u64 = days
            .iter()
            .filter(|d| d.date.month() == 11)
            .map(|d| d.count)
            .sum();
        // Beijing 2021: February ≈ 101万, November ≈ 145万
        assert!((feb as f64 / 1_010_000.0 - 1.0).abs() < 0.02, "{feb}");
        assert!((nov as f64 / 1_450_000.0 - 1.0).abs() < 0.02, "{nov}");
        // the Spring Festival dips
        let sf = days
            .iter()
            .find(|d| d.date == NaiveDate::from_ymd_opt(2021, 2, 12).unwrap())
            .unwrap();
        let before = days
            .iter()
            .find(|d| d.date == NaiveDate::from_ymd_opt(2021, 1, 25).unwrap())
            .unwrap();
        assert!((sf.count as f64) < 0.7 * before.count as f64);
    }

    #[test]
    fn partial_days_and_times_stay_in_the_window() {
        let end = Utc.with_ymd_and_hms(2026, 3, 10, 5, 30, 0).unwrap();
        let days = plan(3, 0.01, 1, end, &M);
        assert_eq!(days.first().unwrap().from, window_start(end, 1));
        assert_eq!(days.last().unwrap().to, end);
        let mut id = 1;
        for d in &days {
            assert_eq!(d.first_id, id);
            id += d.count as i64;
            let ts = arrival_times(3, d);
            assert_eq!(ts.len() as u64, d.count);
            assert!(ts.windows(2).all(|w| w[0] <= w[1]));
            assert!(ts.iter().all(|t| *t >= d.from && *t < d.to));
        }
        // night is quiet
        let ts: Vec<_> = days.iter().flat_map(|d| arrival_times(3, d)).collect();
        let night = ts
            .iter()
            .filter(|t| {
                (2..5).contains(
                    &local(**t)
                        .time()
                        .format("%H")
                        .to_string()
                        .parse::<u32>()
                        .unwrap(),
                )
            })
            .count();
        let morning = ts
            .iter()
            .filter(|t| {
                (9..12).contains(
                    &local(**t)
                        .time()
                        .format("%H")
                        .to_string()
                        .parse::<u32>()
                        .unwrap(),
                )
            })
            .count();
        assert!(night * 10 < morning);
    }
}
