//! 季节性预判 — seasonal foresight: from past years, the volume expected next month in every
//! district × category with its range (heating season, flood season, exam season, year-end unpaid
//! wages …), and the 冬病夏治 list — the streets that peaked in a rising category last season, to
//! act on before it comes back.
//!
//! # The forecast
//! For a cell (district × first-level category) and a target month:
//! - the category's **seasonal index** for a calendar month: its city-wide count in that month of
//!   the latest year seen, over the mean month of a 12-month window around it (1 when less than a
//!   year is known);
//! - the cell's **level**: its last 3 complete months, each divided by its seasonal index;
//! - **expected** = level × the target month's index; the **range** is the 80 % interval of a count
//!   with Poisson noise plus 15 % model error (variance `e + (0.15 e)²`).
//!
//! [`backtest`] applies the same to the last complete month from the months before it and reports
//! the error and how often the actual count fell in the range — the forecast is measured, not
//! assumed.

use chrono::Datelike;
use jiesu_analytics::facts::LocalMonth;
use jiesu_analytics::TicketFacts;
use jiesu_domain::category::CategoryTree;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Monthly counts of the cells foresight reads.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Monthly {
    /// The months, oldest first, consecutive.
    pub months: Vec<LocalMonth>,
    /// (district, first-level category) → count per month.
    pub districts: HashMap<(String, String), Vec<u32>>,
    /// (street, first-level category) → count per month.
    pub streets: HashMap<(String, String), Vec<u32>>,
    /// First-level category → city-wide count per month.
    pub city: HashMap<String, Vec<u32>>,
}

/// Counts every ticket of the facts by month into district and street × first-level category.
pub fn monthly(facts: &TicketFacts, tree: &CategoryTree) -> Monthly {
    let Some((&first, &last)) = facts
        .partitions
        .keys()
        .next()
        .zip(facts.partitions.keys().next_back())
    else {
        return Monthly::default();
    };
    let mut months = vec![first];
    while *months.last().expect("one") < last {
        let next = months.last().expect("one").next();
        months.push(next);
    }
    let n = months.len();
    let index: HashMap<LocalMonth, usize> =
        months.iter().enumerate().map(|(i, m)| (*m, i)).collect();
    let mut top_of: HashMap<u16, String> = HashMap::new();
    let mut out = Monthly {
        months,
        ..Monthly::default()
    };
    for (m, p) in &facts.partitions {
        let t = index[m];
        for i in 0..p.len() {
            let top = top_of
                .entry(p.category[i])
                .or_insert_with(|| {
                    let code = facts.categories.code(p.category[i]);
                    tree.top(code)
                        .map(|c| c.code.clone())
                        .unwrap_or_else(|| code.to_string())
                })
                .clone();
            out.city.entry(top.clone()).or_insert_with(|| vec![0; n])[t] += 1;
            let d = facts.places.code(p.district[i]);
            if !d.is_empty() {
                out.districts
                    .entry((d.to_string(), top.clone()))
                    .or_insert_with(|| vec![0; n])[t] += 1;
            }
            let s = facts.places.code(p.street[i]);
            if !s.is_empty() {
                out.streets
                    .entry((s.to_string(), top))
                    .or_insert_with(|| vec![0; n])[t] += 1;
            }
        }
    }
    out
}

/// A category's seasonal index of calendar month `moy` (1–12) from the months `..=upto`: its
/// count in the latest such month over the mean month of a 12-month window around it (inside the
/// history); 1 when less than 12 months are known.
pub fn seasonal_index(city: &[u32], months: &[LocalMonth], upto: usize, moy: u32) -> f64 {
    let upto = upto
        .min(months.len().saturating_sub(1))
        .min(city.len().saturating_sub(1));
    if upto < 11 {
        return 1.0;
    }
    let Some(at) = (0..=upto).rev().find(|&i| months[i].month == moy) else {
        return 1.0;
    };
    let start = at.saturating_sub(6).min(upto - 11);
    let mean = city[start..start + 12]
        .iter()
        .map(|&x| f64::from(x))
        .sum::<f64>()
        / 12.0;
    if mean <= 0.0 {
        1.0
    } else {
        (f64::from(city[at]) / mean).clamp(0.2, 5.0)
    }
}

/// One cell's forecast.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Forecast {
    /// District code.
    pub district: String,
    /// First-level category code.
    pub category: String,
    /// Requests expected in the target month.
    pub expected: f64,
    /// 80 % range, low.
    pub low: f64,
    /// 80 % range, high.
    pub high: f64,
    /// The same month a year before (if known).
    pub last_year: Option<u32>,
    /// The last complete month's count.
    pub recent: u32,
    /// The category's seasonal index of the target month (>1: its season).
    pub season: f64,
}

/// z of the 80 % two-sided interval.
const Z80: f64 = 1.281_551_565_5;
/// Model error on top of Poisson noise (share of the expectation).
const MODEL_CV: f64 = 0.15;

fn range(e: f64) -> (f64, f64) {
    let sd = (e + (MODEL_CV * e).powi(2)).sqrt();
    ((e - Z80 * sd).max(0.0), e + Z80 * sd)
}

/// Forecasts `target` (a month after `last`, the last complete month index in `m.months`) for
/// every district × category cell, from the months `..=last`. Sorted by expected volume.
pub fn forecast(m: &Monthly, last: usize, target: LocalMonth) -> Vec<Forecast> {
    if m.months.is_empty() || last >= m.months.len() {
        return Vec::new();
    }
    let lo = last.saturating_sub(2);
    let mut index_cache: HashMap<(String, u32), f64> = HashMap::new();
    let mut idx = |cat: &str, moy: u32| -> f64 {
        *index_cache
            .entry((cat.to_string(), moy))
            .or_insert_with(|| {
                m.city
                    .get(cat)
                    .map(|c| seasonal_index(c, &m.months, last, moy))
                    .unwrap_or(1.0)
            })
    };
    let year_before = m
        .months
        .iter()
        .position(|x| x.year == target.year - 1 && x.month == target.month)
        .filter(|&i| i <= last);
    let mut out: Vec<Forecast> = m
        .districts
        .iter()
        .map(|((d, c), counts)| {
            let mut level_sum = 0.0;
            for (x, month) in counts[lo..=last].iter().zip(&m.months[lo..=last]) {
                level_sum += f64::from(*x) / idx(c, month.month);
            }
            let level = level_sum / (last - lo + 1) as f64;
            let season = idx(c, target.month);
            let expected = level * season;
            let (low, high) = range(expected);
            Forecast {
                district: d.clone(),
                category: c.clone(),
                expected: (expected * 10.0).round() / 10.0,
                low: low.floor(),
                high: high.ceil(),
                last_year: year_before.map(|i| counts[i]),
                recent: counts[last],
                season: (season * 100.0).round() / 100.0,
            }
        })
        .collect();
    out.sort_by(|a, b| {
        b.expected
            .total_cmp(&a.expected)
            .then(a.district.cmp(&b.district))
    });
    out
}

/// How the forecast did on the last complete month, from the months before it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Backtest {
    /// The month forecast, `YYYY-MM`.
    pub month: String,
    /// Cells with at least 20 requests that month.
    pub cells: usize,
    /// Median absolute percentage error over those cells.
    pub median_ape: f64,
    /// Share of those cells whose count fell in the 80 % range.
    pub coverage: f64,
}

/// Forecasts the month `last` from `..last` and compares with what came.
pub fn backtest(m: &Monthly, last: usize) -> Option<Backtest> {
    if last < 3 {
        return None;
    }
    let target = m.months[last];
    let f = forecast(m, last - 1, target);
    let mut apes = Vec::new();
    let mut inside = 0usize;
    for c in &f {
        let actual = m.districts[&(c.district.clone(), c.category.clone())][last];
        if actual < 20 {
            continue;
        }
        apes.push((c.expected - f64::from(actual)).abs() / f64::from(actual));
        if (c.low..=c.high).contains(&f64::from(actual)) {
            inside += 1;
        }
    }
    if apes.is_empty() {
        return None;
    }
    apes.sort_by(|a, b| a.total_cmp(b));
    Some(Backtest {
        month: target.key(),
        cells: apes.len(),
        median_ape: (apes[apes.len() / 2] * 1000.0).round() / 1000.0,
        coverage: (inside as f64 / apes.len() as f64 * 1000.0).round() / 1000.0,
    })
}

/// A street that peaked in a category's season last year (冬病夏治).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeasonalHotspot {
    /// First-level category code.
    pub category: String,
    /// The category's seasonal index of the target month.
    pub season: f64,
    /// The streets with the most requests of that category in the same month last year, most
    /// first: (street code, count).
    pub streets: Vec<(String, u32)>,
}

/// For the categories whose season the target month is (index ≥ `min_season`), the `top`
/// streets with the most requests of it in the same month a year before.
pub fn seasonal_hotspots(
    m: &Monthly,
    last: usize,
    target: LocalMonth,
    min_season: f64,
    top: usize,
) -> Vec<SeasonalHotspot> {
    let Some(yb) = m
        .months
        .iter()
        .position(|x| x.year == target.year - 1 && x.month == target.month)
        .filter(|&i| i <= last)
    else {
        return Vec::new();
    };
    let mut out: Vec<SeasonalHotspot> = m
        .city
        .iter()
        .filter_map(|(c, counts)| {
            let season = seasonal_index(counts, &m.months, last, target.month);
            (season >= min_season).then(|| {
                let mut streets: Vec<(String, u32)> = m
                    .streets
                    .iter()
                    .filter(|((_, sc), v)| sc == c && v[yb] > 0)
                    .map(|((s, _), v)| (s.clone(), v[yb]))
                    .collect();
                streets.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
                streets.truncate(top);
                SeasonalHotspot {
                    category: c.clone(),
                    season: (season * 100.0).round() / 100.0,
                    streets,
                }
            })
        })
        .filter(|h| !h.streets.is_empty())
        .collect();
    out.sort_by(|a, b| {
        b.season
            .total_cmp(&a.season)
            .then(a.category.cmp(&b.category))
    });
    out
}

/// The month after a city day's month.
pub fn next_month(d: chrono::NaiveDate) -> LocalMonth {
    LocalMonth {
        year: d.year(),
        month: d.month(),
    }
    .next()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lm(y: i32, m: u32) -> LocalMonth {
        LocalMonth { year: y, month: m }
    }

    /// 24 months of one district × category with a winter season (Nov–Feb doubled) and growth.
    fn seasonal() -> Monthly {
        let months: Vec<LocalMonth> = (0..24)
            .map(|i| lm(2019 + i / 12, (i % 12) as u32 + 1))
            .collect();
        let counts: Vec<u32> = months
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let base = 100.0 * (1.0 + 0.01 * i as f64);
                let s = if matches!(m.month, 11 | 12 | 1 | 2) {
                    2.0
                } else {
                    1.0
                };
                (base * s) as u32
            })
            .collect();
        let mut m = Monthly {
            months,
            ..Monthly::default()
        };
        m.city.insert("07".into(), counts.clone());
        m.districts
            .insert(("110105".into(), "07".into()), counts.clone());
        m.streets.insert(
            ("110105001".into(), "07".into()),
            counts.iter().map(|c| c / 10).collect(),
        );
        m.streets.insert(
            ("110105002".into(), "07".into()),
            counts.iter().map(|c| c / 20).collect(),
        );
        m
    }

    #[test]
    fn the_heating_season_is_foreseen_from_last_year() {
        let m = seasonal();
        // data up to October 2020 (index 21); forecast November 2020
        let f = forecast(&m, 21, lm(2020, 11));
        let c = &f[0];
        assert!(c.season >= 1.4, "{c:?}");
        assert!(c.expected > 1.7 * f64::from(c.recent), "{c:?}");
        assert!(
            c.low <= 2.0 * 122.0 && 2.0 * 122.0 <= c.high + 10.0,
            "{c:?}"
        );
        assert_eq!(
            c.last_year,
            Some(m.districts[&("110105".into(), "07".into())][10])
        );
    }

    #[test]
    fn the_backtest_measures_the_last_month() {
        let m = seasonal();
        let b = backtest(&m, 23).expect("enough history");
        assert_eq!(b.month, "2020-12");
        assert!(b.median_ape < 0.1, "{b:?}");
        assert_eq!(b.coverage, 1.0);
    }

    #[test]
    fn the_streets_that_peaked_last_winter_are_listed_before_it_comes_back() {
        let m = seasonal();
        let h = seasonal_hotspots(&m, 21, lm(2020, 11), 1.3, 5);
        assert_eq!(h.len(), 1);
        assert_eq!(h[0].streets[0].0, "110105001");
        assert!(h[0].streets[0].1 > h[0].streets[1].1);
        // in spring nothing is in season
        assert!(seasonal_hotspots(&m, 21, lm(2021, 4), 1.3, 5).is_empty());
    }

    #[test]
    fn a_short_history_has_no_season_and_no_last_year() {
        let mut m = seasonal();
        for v in m.city.values_mut() {
            v.truncate(6);
        }
        for v in m.districts.values_mut() {
            v.truncate(6);
        }
        m.months.truncate(6);
        let f = forecast(&m, 5, lm(2019, 7));
        assert_eq!(f[0].season, 1.0);
        assert_eq!(f[0].last_year, None);
    }
}
