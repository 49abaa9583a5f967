//! The cells early warning watches — place × category per city day — built from the data
//! platform's facts: the whole city, districts, streets and communities, crossed with first-level
//! categories and (city and street) second-level ones.

use crate::warn_eval::CellSeries;
use chrono::NaiveDate;
use jiesu_analytics::TicketFacts;
use jiesu_domain::category::CategoryTree;
use std::collections::HashMap;

/// The levels, in the order of [`CellSeries::level`]'s values.
pub const LEVELS: [&str; 6] = [
    "city×category",
    "city×sub-category",
    "district×category",
    "street×category",
    "street×sub-category",
    "community×category",
];

/// Daily series of every cell with at least one request in `[from, to)` (city days), the days,
/// and the city-wide total per day. `from` defaults to the first month of the facts, `to` to the
/// end of the last.
pub fn cell_series(
    facts: &TicketFacts,
    tree: &CategoryTree,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> (Vec<NaiveDate>, Vec<CellSeries>, Vec<f64>) {
    let Some((first, last)) = facts
        .partitions
        .keys()
        .next()
        .zip(facts.partitions.keys().next_back())
    else {
        return (Vec::new(), Vec::new(), Vec::new());
    };
    let start = from.unwrap_or_else(|| first.first_day());
    let end = to.unwrap_or_else(|| last.next().first_day());
    if end <= start {
        return (Vec::new(), Vec::new(), Vec::new());
    }
    let days = (end - start).num_days() as usize;
    let dates: Vec<NaiveDate> = (0..days)
        .map(|i| start + chrono::Duration::days(i as i64))
        .collect();
    // category id → (top code, second-level code)
    let mut cat_levels: HashMap<u16, (String, String)> = HashMap::new();
    let mut cells: HashMap<(u8, u16, String), Vec<u32>> = HashMap::new();
    let mut totals = vec![0.0; days];
    for p in facts.partitions.values() {
        let Some(m) = p.month else { continue };
        if m.next().first_day() <= start || m.first_day() >= end {
            continue;
        }
        let base = (m.first_day() - start).num_days();
        for i in 0..p.len() {
            let t = base + i64::from(p.day[i]) - 1;
            if t < 0 || t >= days as i64 {
                continue;
            }
            let t = t as usize;
            totals[t] += 1.0;
            let (top, sub) = cat_levels
                .entry(p.category[i])
                .or_insert_with(|| {
                    let code = facts.categories.code(p.category[i]);
                    // top first
                    let mut path: Vec<String> = tree.path(code).map(|c| c.code.clone()).collect();
                    path.reverse();
                    let top = path.first().cloned().unwrap_or_else(|| code.to_string());
                    let sub = path.get(1).cloned().unwrap_or_else(|| top.clone());
                    (top, sub)
                })
                .clone();
            let keys: [(u8, u16, &str); 6] = [
                (0, 0, &top),
                (1, 0, &sub),
                (2, p.district[i], &top),
                (3, p.street[i], &top),
                (4, p.street[i], &sub),
                (5, p.community[i], &top),
            ];
            for (l, place, cat) in keys {
                if l >= 2 && place == 0 {
                    continue;
                }
                cells
                    .entry((l, place, cat.to_string()))
                    .or_insert_with(|| vec![0; days])[t] += 1;
            }
        }
    }
    let mut out: Vec<CellSeries> = cells
        .into_iter()
        .map(|((l, place, cat), counts)| {
            let place = facts.places.code(place).to_string();
            CellSeries {
                name: if place.is_empty() {
                    format!("city/{cat}")
                } else {
                    format!("{place}/{cat}")
                },
                level: LEVELS[usize::from(l)].to_string(),
                place,
                category: cat,
                counts,
            }
        })
        .collect();
    out.sort_by(|a, b| a.level.cmp(&b.level).then(a.name.cmp(&b.name)));
    (dates, out, totals)
}

/// The tickets of a cell created in `[from, to)` (city days), at most `limit`, in id order.
pub fn tickets_of(
    facts: &TicketFacts,
    tree: &CategoryTree,
    cell: &CellSeries,
    from: NaiveDate,
    to: NaiveDate,
    limit: usize,
) -> Vec<i64> {
    let level = LEVELS.iter().position(|l| *l == cell.level).unwrap_or(0);
    let place = if cell.place.is_empty() {
        0
    } else {
        match facts.places.id(&cell.place) {
            Some(p) => p,
            None => return Vec::new(),
        }
    };
    let mut in_cat: HashMap<u16, bool> = HashMap::new();
    let mut out = Vec::new();
    for p in facts.partitions.values() {
        let Some(m) = p.month else { continue };
        if m.next().first_day() <= from || m.first_day() >= to {
            continue;
        }
        for i in 0..p.len() {
            let day = m.first_day() + chrono::Duration::days(i64::from(p.day[i]) - 1);
            if day < from || day >= to {
                continue;
            }
            let at = match level {
                2 => p.district[i],
                3 | 4 => p.street[i],
                5 => p.community[i],
                _ => 0,
            };
            if at != place {
                continue;
            }
            let ok = *in_cat.entry(p.category[i]).or_insert_with(|| {
                tree.path(facts.categories.code(p.category[i]))
                    .any(|c| c.code == cell.category)
            });
            if ok {
                out.push(p.ticket_id[i]);
                if out.len() >= limit {
                    return out;
                }
            }
        }
    }
    out
}
