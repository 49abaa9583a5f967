//! 预聚合 — each month's rows summed by (district, street, category class), made on a partition's
//! first use and kept beside it ([`crate::facts::CubeSlot`]). The dashboard's place × category
//! views (城市问题台账, the heat grid, districts, top categories, seasonality) read these sums
//! instead of the rows when every dimension they group or filter by follows from the cell's key
//! and their period is whole months: a month of Beijing (~1 M rows) is a few tens of thousands of
//! cells. Any other query reads the rows ([`super::fast`]). The answers are the same either way
//! (tested against the row-by-row reference).
//!
//! A category class is one (level 1, level 2) pair of the category tree (the 七有五性 domain is
//! given per leaf, so domain queries read the rows); a cube remembers the classes it was built
//! with and is built again when the tree or the partition changed.

use super::{fast, time_key, Dim, Engine, Grouped, Measures, Pred};
use crate::facts::{FactPartition, LocalMonth};
use chrono::Datelike;
use rustc_hash::FxHashMap as HashMap;
use std::sync::Arc;

/// The sums of one partition.
#[derive(Debug)]
pub(crate) struct Cube {
    /// Rows summed (a partition that grew is summed again).
    rows: usize,
    /// Per fact category id: its class.
    class_of: Vec<u16>,
    /// Per cell: district id, street id, class.
    keys: Vec<(u16, u16, u16)>,
    /// Per cell: its [`Measures`] as 32-bit sums (see [`LANES`]).
    sums: Vec<[u32; LANES]>,
}

/// The measures a cell holds, in [`Measures`]' order.
const LANES: usize = 15;

fn to_lanes(m: &Measures) -> Option<[u32; LANES]> {
    let v = [
        m.count,
        m.dispatched,
        m.answered_directly,
        m.overdue,
        m.returned,
        m.reopened,
        m.enterprise,
        m.praise,
        m.open,
        m.responded,
        m.valid_callbacks,
        m.resolved,
        m.partly,
        m.satisfied,
        m.basic,
    ];
    let mut out = [0u32; LANES];
    for (o, x) in out.iter_mut().zip(v) {
        *o = u32::try_from(x).ok()?;
    }
    Some(out)
}

fn add_lanes(m: &mut Measures, l: &[u32; LANES]) {
    let v = |i: usize| u64::from(l[i]);
    m.count += v(0);
    m.dispatched += v(1);
    m.answered_directly += v(2);
    m.overdue += v(3);
    m.returned += v(4);
    m.reopened += v(5);
    m.enterprise += v(6);
    m.praise += v(7);
    m.open += v(8);
    m.responded += v(9);
    m.valid_callbacks += v(10);
    m.resolved += v(11);
    m.partly += v(12);
    m.satisfied += v(13);
    m.basic += v(14);
}

impl Cube {
    fn build(p: &FactPartition, class_of: &[u16]) -> Option<Cube> {
        let mut index: HashMap<(u16, u16, u16), u32> = HashMap::default();
        let mut keys = Vec::new();
        let mut sums: Vec<Measures> = Vec::new();
        for i in 0..p.len() {
            let class = *class_of.get(usize::from(p.category[i]))?;
            let k = (p.district[i], p.street[i], class);
            let g = *index.entry(k).or_insert_with(|| {
                keys.push(k);
                sums.push(Measures::default());
                (keys.len() - 1) as u32
            });
            sums[g as usize].add_row(p, i);
        }
        Some(Cube {
            rows: p.len(),
            class_of: class_of.to_vec(),
            keys,
            sums: sums.iter().map(to_lanes).collect::<Option<_>>()?,
        })
    }

    /// Bytes held (for memory reports).
    pub(crate) fn heap_bytes(&self) -> usize {
        self.class_of.capacity() * 2 + self.keys.capacity() * 6 + self.sums.capacity() * 4 * LANES
    }
}

/// The category classes of an engine's catalog: per fact category id its class, per class its
/// (level 1, level 2) keys.
struct Classes {
    class_of: Vec<u16>,
    keys: Vec<(u32, u32)>,
}

impl Classes {
    fn of(e: &Engine) -> Option<Classes> {
        let c = &e.catalog;
        let mut index: HashMap<(u32, u32), u16> = HashMap::default();
        let mut keys = Vec::new();
        let mut class_of = Vec::with_capacity(c.l1.len());
        for id in 0..c.l1.len() {
            let k = (u32::from(c.l1[id]), u32::from(c.l2[id]));
            let next = u16::try_from(keys.len()).ok()?;
            let class = *index.entry(k).or_insert_with(|| {
                keys.push(k);
                next
            });
            class_of.push(class);
        }
        Some(Classes { class_of, keys })
    }
}

/// The dimensions a cell's key decides.
fn in_cube(d: Dim) -> bool {
    matches!(
        d,
        Dim::Year
            | Dim::Month
            | Dim::MonthOfYear
            | Dim::District
            | Dim::Street
            | Dim::CategoryL1
            | Dim::CategoryL2
    )
}

/// The cube of `p` for these classes: the one kept if it is still right, else made and kept.
fn cube_of(p: &FactPartition, classes: &Classes) -> Option<Arc<Cube>> {
    let mut slot = p.cube.0.lock().ok()?;
    if let Some(c) = slot.as_ref() {
        if c.rows == p.len() && c.class_of == classes.class_of {
            return Some(c.clone());
        }
    }
    let c = Arc::new(Cube::build(p, &classes.class_of)?);
    // the rows were read once for the sums: a month read in place lets their pages go
    p.release();
    *slot = Some(c.clone());
    Some(c)
}

fn whole_month(m: LocalMonth, lo: u8, hi: u8) -> bool {
    let last = m.next().first_day().pred_opt().map_or(31, |d| d.day());
    lo <= 1 && u32::from(hi) >= last
}

/// [`Engine::group`] from the cubes, when the query allows (`None`: read the rows). Whole months
/// are read from their cubes; a month the period cuts (the current one, say) from its rows.
pub(super) fn group(e: &Engine, by: &[Dim], pred: &Pred) -> Option<Grouped> {
    if pred.scope.is_some()
        || !by.iter().all(|&d| in_cube(d))
        || !pred.eq.iter().all(|(d, _)| in_cube(*d))
    {
        return None;
    }
    let parts: Vec<_> = e.months(pred).collect();
    let cut = parts
        .iter()
        .filter(|&&(m, p, lo, hi)| !p.is_empty() && !whole_month(m, lo, hi))
        .map(|&(_, p, _, _)| p.len())
        .sum::<usize>();
    let rows: usize = parts.iter().map(|&(_, p, _, _)| p.len()).sum();
    // mostly cut months (a period of days): the rows' own path is as fast
    if cut * 2 > rows {
        return None;
    }
    let classes = Classes::of(e)?;
    let members: Vec<fast::Member> = pred
        .eq
        .iter()
        .map(|(d, keys)| fast::Member::new(*d, keys))
        .collect();
    let whole: Vec<&FactPartition> = parts
        .iter()
        .filter(|&&(m, p, lo, hi)| !p.is_empty() && whole_month(m, lo, hi))
        .map(|&(_, p, _, _)| p)
        .collect();
    let cubes = cubes_of(&whole, &classes)?;
    let mut groups: HashMap<(u32, u32), Measures> = HashMap::default();
    let mut cubes = cubes.into_iter();
    for &(m, p, lo, hi) in &parts {
        if p.is_empty() {
            continue;
        }
        if !whole_month(m, lo, hi) {
            for i in 0..p.len() {
                if e.keep(pred, p, m, i, lo, hi) {
                    let k = |d: Dim| super::key_of(d, e.facts, &e.catalog, p, m, i);
                    let g = (k(by[0]), by.get(1).map_or(0, |&b| k(b)));
                    groups.entry(g).or_default().add_row(p, i);
                }
            }
            continue;
        }
        let cube = cubes.next()?;
        let key = |d: Dim, k: &(u16, u16, u16)| -> u32 {
            let class = classes.keys[usize::from(k.2)];
            match d {
                Dim::District => u32::from(k.0),
                Dim::Street => u32::from(k.1),
                Dim::CategoryL1 => class.0,
                Dim::CategoryL2 => class.1,
                time => time_key(time, m, 1),
            }
        };
        for (k, sums) in cube.keys.iter().zip(&cube.sums) {
            if !members.iter().all(|f| f.has(key(f.dim, k))) {
                continue;
            }
            let g = (key(by[0], k), by.get(1).map_or(0, |&b| key(b, k)));
            add_lanes(groups.entry(g).or_default(), sums);
        }
    }
    let groups = groups
        .into_iter()
        .map(|((a, b), ms)| {
            let key = if by.len() == 2 { vec![a, b] } else { vec![a] };
            (key, ms)
        })
        .collect();
    Some(e.grouped(by, groups, parts.len()))
}

/// The cubes of `parts`, in order: those kept, the others made on every core.
fn cubes_of(parts: &[&FactPartition], classes: &Classes) -> Option<Vec<Arc<Cube>>> {
    let missing = parts
        .iter()
        .filter(|p| {
            p.cube.0.lock().ok().is_none_or(|c| {
                c.as_ref()
                    .is_none_or(|c| c.rows != p.len() || c.class_of != classes.class_of)
            })
        })
        .count();
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 16)
        .min(missing.max(1));
    if threads > 1 {
        let next = std::sync::atomic::AtomicUsize::new(0);
        let work = || {
            while let Some(p) = parts.get(next.fetch_add(1, std::sync::atomic::Ordering::Relaxed)) {
                let _ = cube_of(p, classes);
            }
        };
        std::thread::scope(|s| {
            for _ in 1..threads {
                s.spawn(work);
            }
            work();
        });
    }
    parts.iter().map(|p| cube_of(p, classes)).collect()
}

/// Makes the cubes of every partition not yet summed (on every core); their bytes in all.
pub(super) fn warm(e: &Engine) -> usize {
    let Some(classes) = Classes::of(e) else {
        return 0;
    };
    let parts: Vec<&FactPartition> = e.facts.partitions.values().collect();
    cubes_of(&parts, &classes).map_or(0, |cubes| cubes.iter().map(|c| c.heap_bytes()).sum())
}
