//! The fast path of [`Engine::group`]: the rows of a partition are taken in chunks, column by
//! column — the period and the filters into a keep mask, each dimension's key into a buffer (one
//! loop per dimension, no per-row dispatch), the two keys into a dense group index (filtered rows
//! go to a discarded group 0) — and then summed with four table look-ups per row into 8-bit
//! lanes (two words per group, spilled into full [`Measures`] before a lane can overflow; two or
//! four sets of words when the groups are few, so that rows of one group do not wait on each
//! other's sums).
//! Partitions are cut into tasks counted on every core (`std::thread::scope`), each thread with
//! its own groups, merged at the end.
//!
//! Time dimensions are dense too: their keys are offset by the smallest key of the partitions
//! read; category levels are renumbered densely (both levels share one dictionary). When one
//! dimension has many ids (places, units) and the product is large, that
//! dimension's ids get slots in order of first sight (per thread), so the groups held are only
//! those met. Key spaces too large even so are left to the row-by-row path
//! ([`Engine::group_rows`]), which is also the reference the tests compare with.

use super::{
    cardinality, flag, time_key, Dim, Engine, FactPartition, Grouped, LocalMonth, Measures, Pred,
    BASIC, NO_DURATION, OPEN_MASK, PARTLY, PRAISE, RESOLVED, SATISFIED,
};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Rows per chunk (the key and mask buffers stay in L1).
const CHUNK: usize = 1024;
/// At most this many groups are held directly (`na × nb`) by default: 2 MB of lanes per thread.
const DIRECT_MAX: usize = 1 << 17;
/// With slots for the larger dimension, the other one may have at most this many keys.
const SMALL_MAX: usize = 4096;

/// How the work is cut (tests use tiny tasks and several threads on small facts).
#[derive(Debug, Clone, Copy)]
pub(super) struct Tuning {
    /// Threads at most.
    pub threads: usize,
    /// Rows per task at most.
    pub task_rows: usize,
    /// Below this many rows, one thread.
    pub min_parallel_rows: usize,
    /// At most this many groups are held directly (`na × nb`); above, slots.
    pub direct_max: usize,
}

impl Default for Tuning {
    fn default() -> Self {
        Tuning {
            threads: std::thread::available_parallelism()
                .map_or(1, |n| n.get())
                .clamp(1, 16),
            task_rows: 1 << 18,
            min_parallel_rows: 1 << 17,
            direct_max: DIRECT_MAX,
        }
    }
}

// ---- the measures as 16 lanes of 8 bits in two words ----------------------------------------
// w0: count, dispatched, answered directly, overdue, returned, reopened, enterprise, responded
// w1: praise, open, valid callbacks, resolved, partly, satisfied, basic, -
// A group's words are spilled into its full `Measures` when its count lane reaches 255 (no other
// lane counts more rows than the count lane).

/// Sets of words per group when the groups are few: even and odd rows go to different sets, so
/// that rows of one group in a row do not wait on each other's sums. Many groups get one set (half
/// the memory to miss in the caches).
const FEW_GROUPS: usize = 4096;

const fn lane(i: u32) -> u64 {
    1u64 << (8 * i)
}

/// Per byte of the flag, request type, status and callback columns: what a row adds to the words.
struct LaneTables {
    flags: [u64; 256],
    praise: [u64; 256],
    status: [u64; 256],
    callback: [u64; 256],
}

impl LaneTables {
    fn new() -> Self {
        let mut t = LaneTables {
            flags: [0; 256],
            praise: [0; 256],
            status: [0; 256],
            callback: [0; 256],
        };
        for b in 0..256usize {
            let f = b as u8;
            let bit = |x: u8| u64::from(f & x != 0);
            t.flags[b] = lane(0)
                + bit(flag::DISPATCHED) * lane(1)
                + bit(flag::ANSWERED_DIRECTLY) * lane(2)
                + bit(flag::OVERDUE) * lane(3)
                + bit(flag::RETURNED) * lane(4)
                + bit(flag::REOPENED) * lane(5)
                + bit(flag::ENTERPRISE) * lane(6)
                + bit(flag::RESPONDED_IN_TIME) * lane(7);
            t.praise[b] = u64::from(f == PRAISE) * lane(0);
            // as `Measures::add_row`'s shift in a release build (the amount wraps at 32)
            t.status[b] = u64::from(OPEN_MASK & (1u32 << (b & 31)) != 0) * lane(1);
            if b & 3 == 1 {
                let r = ((b >> 2) & 7) as u8;
                let s = ((b >> 5) & 7) as u8;
                t.callback[b] = lane(2)
                    + u64::from(r == RESOLVED) * lane(3)
                    + u64::from(r == PARTLY) * lane(4)
                    + u64::from(s == SATISFIED) * lane(5)
                    + u64::from(s == BASIC) * lane(6);
            }
        }
        t
    }
}

fn unpack(l: &[u64]) -> Measures {
    let at = |w: usize, i: u32| (l[w] >> (8 * i)) & 0xff;
    Measures {
        count: at(0, 0),
        dispatched: at(0, 1),
        answered_directly: at(0, 2),
        overdue: at(0, 3),
        returned: at(0, 4),
        reopened: at(0, 5),
        enterprise: at(0, 6),
        responded: at(0, 7),
        praise: at(1, 0),
        open: at(1, 1),
        valid_callbacks: at(1, 2),
        resolved: at(1, 3),
        partly: at(1, 4),
        satisfied: at(1, 5),
        basic: at(1, 6),
    }
}

// ---- keys -----------------------------------------------------------------------------------

/// The keys of one dimension over the partitions read: `off..off + n`.
#[derive(Debug, Clone, Copy)]
struct Space {
    off: u32,
    n: usize,
}

/// One partition to read, with what is constant over it.
struct Part<'p> {
    m: LocalMonth,
    p: &'p FactPartition,
    lo: u8,
    hi: u8,
    /// Per day byte, the key of each time-of-day dimension asked (`Day`, `Week`, `Weekday`).
    days: Vec<(Dim, Box<[u32; 256]>)>,
}

impl Part<'_> {
    fn day_table(&self, d: Dim) -> &[u32; 256] {
        &self
            .days
            .iter()
            .find(|(x, _)| *x == d)
            .expect("the day tables of the dimensions asked are made")
            .1
    }
}

fn by_month(d: Dim) -> bool {
    matches!(d, Dim::Year | Dim::Month | Dim::MonthOfYear)
}

fn by_day(d: Dim) -> bool {
    matches!(d, Dim::Day | Dim::Week | Dim::Weekday)
}

/// The keys of `d` for rows `s..s + out.len()` of `part`, as [`super::key_of`] gives them.
fn fill(d: Dim, e: &Engine, part: &Part, s: usize, out: &mut [u32]) {
    let p = part.p;
    let r = s..s + out.len();
    macro_rules! col {
        ($c:ident) => {
            for (o, &v) in out.iter_mut().zip(&p.$c[r]) {
                *o = u32::from(v);
            }
        };
    }
    macro_rules! via {
        ($c:ident, $t:expr) => {{
            let t = $t;
            for (o, &v) in out.iter_mut().zip(&p.$c[r]) {
                *o = u32::from(t[usize::from(v)]);
            }
        }};
    }
    macro_rules! bits {
        ($c:ident, $f:expr) => {{
            let f = $f;
            for (o, &v) in out.iter_mut().zip(&p.$c[r]) {
                *o = f(v);
            }
        }};
    }
    let cat = &e.catalog;
    match d {
        Dim::Year | Dim::Month | Dim::MonthOfYear => out.fill(time_key(d, part.m, 1)),
        Dim::Day | Dim::Week | Dim::Weekday => via!(day, part.day_table(d)),
        Dim::Hour => col!(hour),
        Dim::Channel => col!(channel),
        Dim::Type => col!(request_type),
        Dim::CategoryL1 => via!(category, &cat.l1),
        Dim::CategoryL2 => via!(category, &cat.l2),
        Dim::Category => col!(category),
        Dim::Domain => via!(category, &cat.domain),
        Dim::District => col!(district),
        Dim::Street => col!(street),
        Dim::Community => col!(community),
        Dim::Unit => col!(lead_unit),
        Dim::UnitKind => via!(lead_unit, &e.facts.unit_kind),
        Dim::Tier => col!(tier),
        Dim::Status => col!(status),
        Dim::Dispatched => bits!(flags, |f: u8| u32::from(f & flag::DISPATCHED != 0)),
        Dim::AnsweredDirectly => {
            bits!(flags, |f: u8| u32::from(f & flag::ANSWERED_DIRECTLY != 0))
        }
        Dim::Enterprise => bits!(flags, |f: u8| u32::from(f & flag::ENTERPRISE != 0)),
        Dim::Overdue => bits!(flags, |f: u8| u32::from(f & flag::OVERDUE != 0)),
        Dim::Returned => bits!(flags, |f: u8| u32::from(f & flag::RETURNED != 0)),
        Dim::Reopened => bits!(flags, |f: u8| u32::from(f & flag::REOPENED != 0)),
        Dim::Contacted => bits!(callback, |c: u8| u32::from(c & 3)),
        Dim::Resolved => bits!(callback, |c: u8| u32::from((c >> 2) & 7)),
        Dim::Satisfied => bits!(callback, |c: u8| u32::from((c >> 5) & 7)),
    }
}

/// The keys an equality filter accepts, as a bitmap from its smallest key.
pub(super) struct Member {
    pub(super) dim: Dim,
    off: u32,
    bits: Vec<bool>,
}

impl Member {
    pub(super) fn new(dim: Dim, keys: &[u32]) -> Member {
        let off = keys.iter().copied().min().unwrap_or(0);
        let len = keys.iter().map(|k| k - off + 1).max().unwrap_or(0) as usize;
        let mut bits = vec![false; len];
        for k in keys {
            bits[(k - off) as usize] = true;
        }
        Member { dim, off, bits }
    }
    #[inline]
    pub(super) fn has(&self, k: u32) -> bool {
        self.bits
            .get(k.wrapping_sub(self.off) as usize)
            .copied()
            .unwrap_or(false)
    }
}

/// Where a row's group lives.
#[derive(Debug, Clone, Copy)]
enum Layout {
    /// Group `1 + (ka - a.off) × b.n + (kb - b.off)`.
    Direct { a: Space, b: Option<Space> },
    /// Group `1 + slot(k_big) × small.n + (k_small - small.off)`, slots given per thread in order
    /// of first sight (`big.n`: the size of the slot table).
    Slots {
        big: Space,
        small: Space,
        big_is_a: bool,
    },
}

/// One thread's groups.
struct Local {
    /// `2 × sets` words per group (group 0: the rows filtered out).
    lanes: Vec<u64>,
    /// Sets of words per group (1, 2 or 4).
    sets: usize,
    /// The sums spilled from the lanes, by group (grown on the first spill).
    spill: Vec<Measures>,
    /// `Layout::Slots`: per big key, its slot (`u32::MAX`: none yet) and the keys by slot.
    slot: Vec<u32>,
    seen: Vec<u32>,
}

impl Local {
    fn new(layout: Layout, sets: usize) -> Local {
        match layout {
            Layout::Direct { a, b } => Local {
                lanes: vec![0; 2 * sets * (1 + a.n * b.map_or(1, |b| b.n))],
                sets,
                spill: Vec::new(),
                slot: Vec::new(),
                seen: Vec::new(),
            },
            Layout::Slots { big, .. } => Local {
                lanes: vec![0; 2 * sets],
                sets,
                spill: Vec::new(),
                slot: vec![u32::MAX; big.n],
                seen: Vec::new(),
            },
        }
    }

    /// The groups met: ((key a, key b), sums).
    fn groups(self, layout: Layout) -> Vec<((u32, u32), Measures)> {
        let key = |g: usize| -> (u32, u32) {
            let g = g - 1;
            match layout {
                Layout::Direct { a, b } => {
                    let nb = b.map_or(1, |b| b.n);
                    (
                        (g / nb) as u32 + a.off,
                        b.map_or(0, |b| (g % nb) as u32 + b.off),
                    )
                }
                Layout::Slots {
                    small, big_is_a, ..
                } => {
                    let big = self.seen[g / small.n];
                    let sm = (g % small.n) as u32 + small.off;
                    if big_is_a {
                        (big, sm)
                    } else {
                        (sm, big)
                    }
                }
            }
        };
        let mut out = Vec::new();
        for (g, l) in self.lanes.chunks_exact(2 * self.sets).enumerate().skip(1) {
            let mut ms = Measures::default();
            for set in l.chunks_exact(2) {
                if set[0] & 0xff != 0 {
                    ms.merge(&unpack(set));
                }
            }
            if let Some(s) = self.spill.get(g) {
                ms.merge(s);
            }
            if ms.count > 0 {
                out.push((key(g), ms));
            }
        }
        out
    }
}

/// The partitions a query reads, its filters compiled for chunks of rows, and the threads.
struct Scan<'e, 'a> {
    e: &'e Engine<'a>,
    pred: &'e Pred,
    /// Equality filters checked per row (those of per-month dimensions decide whole partitions).
    eq: Vec<Member>,
    /// The partitions left to read.
    parts: Vec<Part<'e>>,
    /// Partitions in the period (what [`Grouped::months`] reports).
    months: usize,
}

impl<'e, 'a> Scan<'e, 'a> {
    /// `dims`: the dimensions whose keys will be asked (for their day tables).
    fn new(e: &'e Engine<'a>, pred: &'e Pred, dims: &[Dim]) -> Self {
        let all: Vec<(LocalMonth, &FactPartition, u8, u8)> = e.months(pred).collect();
        let mut eq = Vec::new();
        let mut month_eq = Vec::new();
        for (d, keys) in &pred.eq {
            let m = Member::new(*d, keys);
            if by_month(*d) {
                month_eq.push(m);
            } else {
                eq.push(m);
            }
        }
        let mut day_dims: Vec<Dim> = dims
            .iter()
            .copied()
            .chain(eq.iter().map(|m| m.dim))
            .filter(|d| by_day(*d))
            .collect();
        day_dims.sort_by_key(|d| d.as_str());
        day_dims.dedup();
        let parts = all
            .iter()
            .filter(|(m, p, _, _)| {
                !p.is_empty() && month_eq.iter().all(|f| f.has(time_key(f.dim, *m, 1)))
            })
            .map(|&(m, p, lo, hi)| Part {
                m,
                p,
                lo,
                hi,
                days: day_dims
                    .iter()
                    .map(|&d| {
                        let mut t = Box::new([0u32; 256]);
                        for (x, v) in t.iter_mut().enumerate() {
                            *v = time_key(d, m, x as u8);
                        }
                        (d, t)
                    })
                    .collect(),
            })
            .collect();
        Scan {
            e,
            pred,
            eq,
            parts,
            months: all.len(),
        }
    }

    /// The keys `d` takes in the partitions read.
    fn space(&self, d: Dim) -> Space {
        if let Some(n) = cardinality(d, self.e.facts, &self.e.catalog) {
            return Space { off: 0, n };
        }
        let keys = self.parts.iter().flat_map(|pt| {
            if by_day(d) {
                let t = pt.day_table(d);
                let lo = t.iter().copied().min().unwrap_or(0);
                let hi = t.iter().copied().max().unwrap_or(0);
                [lo, hi]
            } else {
                let k = time_key(d, pt.m, 1);
                [k, k]
            }
        });
        let (lo, hi) = keys.fold((u32::MAX, 0), |(lo, hi), k| (lo.min(k), hi.max(k)));
        if lo > hi {
            Space { off: 0, n: 1 }
        } else {
            Space {
                off: lo,
                n: (hi - lo) as usize + 1,
            }
        }
    }

    /// 1 for the rows `start..start + keep.len()` of `part` the filter keeps, else 0.
    fn keep(&self, part: &Part, start: usize, keep: &mut [u32], tmp: &mut [u32]) {
        let p = part.p;
        let n = keep.len();
        let (lo, hi) = (part.lo, part.hi);
        for (k, &d) in keep.iter_mut().zip(&p.day[start..start + n]) {
            *k = u32::from(d >= lo && d <= hi);
        }
        if let Some((places, units)) = &self.pred.scope {
            for (j, k) in keep.iter_mut().enumerate() {
                let i = start + j;
                let ok = places[usize::from(p.district[i])]
                    || places[usize::from(p.street[i])]
                    || units[usize::from(p.lead_unit[i])];
                *k &= u32::from(ok);
            }
        }
        for m in &self.eq {
            let t = &mut tmp[..n];
            fill(m.dim, self.e, part, start, t);
            for (k, &v) in keep.iter_mut().zip(t.iter()) {
                *k &= u32::from(m.has(v));
            }
        }
    }

    /// Runs `step(part, start, end, state)` over tasks of at most `tuning.task_rows` rows on up
    /// to `tuning.threads` threads, each with its own state from `init`; the states.
    fn run<T: Send>(
        &self,
        tuning: Tuning,
        init: impl Fn() -> T + Sync,
        step: impl Fn(&Part, usize, usize, &mut T) + Sync,
    ) -> Vec<T> {
        let mut tasks: Vec<(usize, usize, usize)> = Vec::new();
        let mut rows = 0;
        for (i, pt) in self.parts.iter().enumerate() {
            let n = pt.p.len();
            rows += n;
            let mut s = 0;
            while s < n {
                let end = n.min(s + tuning.task_rows.max(1));
                tasks.push((i, s, end));
                s = end;
            }
        }
        let threads = if rows < tuning.min_parallel_rows {
            1
        } else {
            tuning.threads.clamp(1, tasks.len().max(1))
        };
        // tasks left per partition: the thread finishing a partition's last one lets the pages
        // of its columns go if they are read in place (`FactPartition::release`), so a scan holds
        // about one partition per thread, not the whole period
        let left: Vec<AtomicUsize> = self.parts.iter().map(|_| AtomicUsize::new(0)).collect();
        for &(i, _, _) in &tasks {
            left[i].fetch_add(1, Ordering::Relaxed);
        }
        let next = AtomicUsize::new(0);
        let work = || {
            let mut state = init();
            while let Some(&(i, s, end)) = tasks.get(next.fetch_add(1, Ordering::Relaxed)) {
                step(&self.parts[i], s, end, &mut state);
                if left[i].fetch_sub(1, Ordering::AcqRel) == 1 {
                    self.parts[i].p.release();
                }
            }
            state
        };
        if threads == 1 {
            return vec![work()];
        }
        std::thread::scope(|s| {
            let workers: Vec<_> = (1..threads).map(|_| s.spawn(work)).collect();
            let mut all = vec![work()];
            for w in workers {
                all.push(w.join().unwrap_or_else(|e| std::panic::resume_unwind(e)));
            }
            all
        })
    }
}

/// A category level's ids renumbered densely (`category_l1`, `category_l2`: the level ids share
/// one dictionary of both levels, so each level alone uses a part of it).
struct Dense {
    /// Per fact category id: the dense key.
    of_category: Vec<u32>,
    /// Per dense key: the level id.
    level: Vec<u32>,
}

impl Dense {
    fn new(e: &Engine, d: Dim) -> Option<Dense> {
        let ids = match d {
            Dim::CategoryL1 => &e.catalog.l1,
            Dim::CategoryL2 => &e.catalog.l2,
            _ => return None,
        };
        let mut dense = vec![u32::MAX; e.catalog.levels.len().max(1)];
        let mut level = Vec::new();
        let of_category = ids
            .iter()
            .map(|&l| {
                let k = &mut dense[usize::from(l)];
                if *k == u32::MAX {
                    *k = level.len() as u32;
                    level.push(u32::from(l));
                }
                *k
            })
            .collect();
        Some(Dense { of_category, level })
    }
}

/// What a grouping needs in every thread.
struct Plan<'s, 'e, 'a> {
    scan: &'s Scan<'e, 'a>,
    layout: Layout,
    /// Dimensions asked (group keys), with their dense renumbering if any.
    a: (Dim, Option<Dense>),
    b: Option<(Dim, Option<Dense>)>,
    tables: LaneTables,
}

impl Plan<'_, '_, '_> {
    /// The group keys of `d` (renumbered by `dense`) for rows `start..start + out.len()`.
    fn keys(&self, d: &(Dim, Option<Dense>), part: &Part, start: usize, out: &mut [u32]) {
        match &d.1 {
            Some(dense) => {
                let t = &dense.of_category;
                let r = start..start + out.len();
                for (o, &c) in out.iter_mut().zip(&part.p.category[r]) {
                    *o = t[usize::from(c)];
                }
            }
            None => fill(d.0, self.scan.e, part, start, out),
        }
    }
}

impl Plan<'_, '_, '_> {
    /// Sums rows `s..end` of `part` into `local`.
    fn run(&self, part: &Part, s: usize, end: usize, local: &mut Local) {
        let p = part.p;
        let mut keep = [0u32; CHUNK];
        let mut ka = [0u32; CHUNK];
        let mut kb = [0u32; CHUNK];
        let mut tmp = [0u32; CHUNK];
        let mut start = s;
        while start < end {
            let n = CHUNK.min(end - start);
            let keep = &mut keep[..n];
            self.scan.keep(part, start, keep, &mut tmp);
            let ka = &mut ka[..n];
            self.keys(&self.a, part, start, ka);
            let kb = &mut kb[..n];
            if let Some(b) = &self.b {
                self.keys(b, part, start, kb);
            }
            // the group index, into `ka`
            match self.layout {
                Layout::Direct { a, b } => {
                    let (nb, boff) = b.map_or((1, 0), |b| (b.n as u32, b.off));
                    for ((x, &y), &k) in ka.iter_mut().zip(kb.iter()).zip(keep.iter()) {
                        let g = x
                            .wrapping_sub(a.off)
                            .wrapping_mul(nb)
                            .wrapping_add(y.wrapping_sub(boff))
                            .wrapping_add(1);
                        *x = g * k;
                    }
                }
                Layout::Slots {
                    big,
                    small,
                    big_is_a,
                } => {
                    let (bigk, smallk) = if big_is_a {
                        (&mut *ka, &*kb)
                    } else {
                        (&mut *kb, &*ka)
                    };
                    let sn = small.n as u32;
                    for ((x, &y), &k) in bigk.iter_mut().zip(smallk).zip(keep.iter()) {
                        if k == 0 {
                            *x = 0;
                            continue;
                        }
                        let ix = x.wrapping_sub(big.off) as usize;
                        let mut slot = local.slot[ix];
                        if slot == u32::MAX {
                            slot = local.seen.len() as u32;
                            local.slot[ix] = slot;
                            local.seen.push(*x);
                            let words = local.lanes.len() + 2 * local.sets * small.n;
                            local.lanes.resize(words, 0);
                        }
                        debug_assert!(y.wrapping_sub(small.off) < sn);
                        *x = 1 + slot * sn + y.wrapping_sub(small.off);
                    }
                    if !big_is_a {
                        ka.copy_from_slice(kb);
                    }
                }
            }
            match local.sets {
                4 => self.sum::<4>(p, start, ka, local),
                2 => self.sum::<2>(p, start, ka, local),
                _ => self.sum::<1>(p, start, ka, local),
            }
            start += n;
        }
    }
    /// Adds rows `start..start + groups.len()` to their groups.
    #[inline]
    fn sum<const SETS: usize>(
        &self,
        p: &FactPartition,
        start: usize,
        groups: &[u32],
        local: &mut Local,
    ) {
        let n = groups.len();
        let r = start..start + n;
        let (fl, rt, st, cb) = (
            &p.flags[r.clone()],
            &p.request_type[r.clone()],
            &p.status[r.clone()],
            &p.callback[r],
        );
        let t = &self.tables;
        let lanes = &mut local.lanes;
        for j in 0..n {
            let g = groups[j] as usize;
            let w0 = t.flags[usize::from(fl[j])];
            let w1 = t.praise[usize::from(rt[j])]
                + t.status[usize::from(st[j])]
                + t.callback[usize::from(cb[j])];
            let at = (g * SETS + j % SETS) * 2;
            let l = &mut lanes[at..at + 2];
            l[0] += w0;
            l[1] += w1;
            if l[0] & 0xff == 0xff {
                let ms = unpack(l);
                l.fill(0);
                if local.spill.len() <= g {
                    local
                        .spill
                        .resize(lanes.len() / (2 * SETS), Measures::default());
                }
                local.spill[g].merge(&ms);
            }
        }
    }
}

/// [`Engine::group`] the fast way; `None` when the key space is too large for dense groups (the
/// caller then goes row by row).
pub(super) fn group(e: &Engine, by: &[Dim], pred: &Pred, tuning: Tuning) -> Option<Grouped> {
    let (a, b) = (by[0], by.get(1).copied());
    let scan = Scan::new(e, pred, by);
    let dense_a = Dense::new(e, a);
    let dense_b = b.and_then(|b| Dense::new(e, b));
    let space = |d: Dim, dense: &Option<Dense>| match dense {
        Some(x) => Space {
            off: 0,
            n: x.level.len(),
        },
        None => scan.space(d),
    };
    let sa = space(a, &dense_a);
    let sb = b.map(|b| space(b, &dense_b));
    let layout = match sb {
        None if sa.n <= tuning.direct_max.max(DIRECT_MAX) => Layout::Direct { a: sa, b: None },
        Some(sb) if sa.n.saturating_mul(sb.n) <= tuning.direct_max => {
            Layout::Direct { a: sa, b: Some(sb) }
        }
        Some(sb) => {
            let big_is_a = sa.n >= sb.n;
            let (big, small) = if big_is_a { (sa, sb) } else { (sb, sa) };
            if small.n > SMALL_MAX || big.n > 1 << 20 {
                return None;
            }
            Layout::Slots {
                big,
                small,
                big_is_a,
            }
        }
        None => return None,
    };
    let groups = match layout {
        Layout::Direct { a, b } => a.n * b.map_or(1, |b| b.n),
        Layout::Slots { big, small, .. } => big.n * small.n,
    };
    let sets = match groups {
        g if g <= FEW_GROUPS / 16 => 4,
        g if g <= FEW_GROUPS => 2,
        _ => 1,
    };
    let plan = Plan {
        scan: &scan,
        layout,
        a: (a, dense_a),
        b: b.map(|b| (b, dense_b)),
        tables: LaneTables::new(),
    };
    let results = scan.run(
        tuning,
        || Local::new(layout, sets),
        |part, s, end, local| plan.run(part, s, end, local),
    );
    let merged: Vec<((u32, u32), Measures)> = if results.len() == 1 {
        results.into_iter().flat_map(|l| l.groups(layout)).collect()
    } else {
        let mut map: HashMap<(u32, u32), Measures> = HashMap::new();
        for l in results {
            for (k, ms) in l.groups(layout) {
                map.entry(k).or_default().merge(&ms);
            }
        }
        map.into_iter().collect()
    };
    let level = |d: &Option<Dense>, k: u32| d.as_ref().map_or(k, |d| d.level[k as usize]);
    let groups = merged
        .into_iter()
        .map(|((ka, kb), ms)| {
            let ka = level(&plan.a.1, ka);
            let key = match &plan.b {
                Some(b) => vec![ka, level(&b.1, kb)],
                None => vec![ka],
            };
            (key, ms)
        })
        .collect();
    Some(e.grouped(by, groups, scan.months))
}

/// Per key of one dimension: the seconds to 签收, 响应 and 办结 of the dispatched rows kept.
pub(super) type Seconds = HashMap<u32, [Vec<u32>; 3]>;

/// How many values one column of handling times has in a group, and their nearest-rank median
/// and 90th percentile (seconds).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Ranked {
    /// Values counted.
    pub n: u64,
    /// The median (nearest rank), if any value.
    pub median: Option<u32>,
    /// The 90th percentile (nearest rank), if any value.
    pub p90: Option<u32>,
}

/// The 1-based nearest ranks of the median and the 90th percentile among `n` values.
pub(super) fn ranks(n: u64) -> (u64, u64) {
    let rank = |q: f64| ((q * n as f64).ceil() as u64).clamp(1, n.max(1));
    (rank(0.5), rank(0.9))
}

impl Ranked {
    /// From all the values (reordered by selection).
    pub(super) fn select(secs: &mut [u32]) -> Ranked {
        let n = secs.len() as u64;
        if n == 0 {
            return Ranked::default();
        }
        let (r50, r90) = ranks(n);
        // the 90th first: the median is then selected in the part before it
        let (below, p90, _) = secs.select_nth_unstable(r90 as usize - 1);
        let p90 = *p90;
        let median = if r50 == r90 {
            p90
        } else {
            *below.select_nth_unstable(r50 as usize - 1).1
        };
        Ranked {
            n,
            median: Some(median),
            p90: Some(p90),
        }
    }
}

/// Per key: [`Ranked`] of the seconds to 签收, 响应 and 办结.
pub(super) type RankedTimes = HashMap<u32, [Ranked; 3]>;

/// One thread's handling times: by key offset when the keys are few, else by key.
#[derive(Default)]
struct Times {
    dense: Vec<Option<[Vec<u32>; 3]>>,
    map: Seconds,
}

/// Buckets of the handling-time histograms: exact below 256 s, then 256 buckets per power of two
/// (each at most 1/256 of its values wide), in the order of the values.
const BUCKETS: usize = 256 + 24 * 256;

fn bucket(v: u32) -> usize {
    if v < 256 {
        v as usize
    } else {
        let e = 31 - v.leading_zeros(); // 8..=31
        256 + (e as usize - 8) * 256 + ((v >> (e - 8)) & 0xff) as usize
    }
}

/// At most this many keys get histograms (three of [`BUCKETS`] counts each, per thread); more
/// keys gather their values instead.
const HISTOGRAM_KEYS: usize = 64;

/// The handling-time percentiles of [`Engine::durations`], exact. With few keys (e.g. by unit
/// kind over a year: ~10 M values) the values are not gathered: a first scan counts them in
/// histograms per key and column, which tells the bucket holding each percentile's rank; a second
/// scan gathers only the values of those buckets, among which the rank is selected. With many
/// keys the values are gathered per key and selected.
pub(super) fn durations(e: &Engine, by: Dim, pred: &Pred, tuning: Tuning) -> RankedTimes {
    let scan = Scan::new(e, pred, &[by]);
    let space = scan.space(by);
    if space.n <= HISTOGRAM_KEYS {
        return durations_by_histogram(&scan, by, space, tuning);
    }
    let seconds = gather(&scan, by, space, tuning);
    seconds
        .into_iter()
        .map(|(k, [mut a, mut b, mut c])| {
            (
                k,
                [
                    Ranked::select(&mut a),
                    Ranked::select(&mut b),
                    Ranked::select(&mut c),
                ],
            )
        })
        .collect()
}

/// Calls `f(key offset, row)` for each dispatched row the filter keeps (in `part`, rows `s..end`).
fn each_dispatched(
    scan: &Scan,
    by: Dim,
    space: Space,
    part: &Part,
    s: usize,
    end: usize,
    mut f: impl FnMut(usize, usize),
) {
    let p = part.p;
    let mut keep = [0u32; CHUNK];
    let mut key = [0u32; CHUNK];
    let mut tmp = [0u32; CHUNK];
    let mut start = s;
    while start < end {
        let n = CHUNK.min(end - start);
        let keep = &mut keep[..n];
        scan.keep(part, start, keep, &mut tmp);
        let key = &mut key[..n];
        fill(by, scan.e, part, start, key);
        for (j, (&k, &g)) in keep.iter().zip(key.iter()).enumerate() {
            let i = start + j;
            if k != 0 && p.flags[i] & flag::DISPATCHED != 0 {
                f(g.wrapping_sub(space.off) as usize, i);
            }
        }
        start += n;
    }
}

fn columns(p: &FactPartition) -> [&[u32]; 3] {
    [&p.secs_to_sign, &p.secs_to_respond, &p.secs_to_finish]
}

fn durations_by_histogram(scan: &Scan, by: Dim, space: Space, tuning: Tuning) -> RankedTimes {
    // 1. counts per key, column and bucket
    let counted = scan.run(
        tuning,
        || vec![Vec::<u32>::new(); space.n],
        |part, s, end, hist| {
            let cols = columns(part.p);
            each_dispatched(scan, by, space, part, s, end, |ix, i| {
                let h = &mut hist[ix];
                if h.is_empty() {
                    h.resize(3 * BUCKETS, 0);
                }
                for (c, col) in cols.iter().enumerate() {
                    let v = col[i];
                    if v != NO_DURATION {
                        h[c * BUCKETS + bucket(v)] += 1;
                    }
                }
            });
        },
    );
    let mut hist: Vec<Vec<u64>> = vec![Vec::new(); space.n];
    for t in counted {
        for (ix, h) in t.into_iter().enumerate() {
            if h.is_empty() {
                continue;
            }
            let sum = &mut hist[ix];
            if sum.is_empty() {
                sum.resize(3 * BUCKETS, 0);
            }
            for (a, b) in sum.iter_mut().zip(h) {
                *a += u64::from(b);
            }
        }
    }
    // 2. per key and column: the buckets holding the two ranks, and the ranks within them
    #[derive(Clone, Copy, Default)]
    struct Want {
        n: u64,
        /// (bucket, rank within the bucket, 1-based) of the median and of the 90th percentile
        at: [(usize, u64); 2],
    }
    let mut want = vec![[Want::default(); 3]; space.n];
    for (ix, h) in hist.iter().enumerate() {
        if h.is_empty() {
            continue;
        }
        for c in 0..3 {
            let counts = &h[c * BUCKETS..(c + 1) * BUCKETS];
            let n: u64 = counts.iter().sum();
            if n == 0 {
                continue;
            }
            let (r50, r90) = ranks(n);
            let mut w = Want {
                n,
                ..Want::default()
            };
            let mut below = 0;
            let mut found = 0;
            for (b, &k) in counts.iter().enumerate() {
                while found < 2 {
                    let r = if found == 0 { r50 } else { r90 };
                    if r <= below + k {
                        w.at[found] = (b, r - below);
                        found += 1;
                    } else {
                        break;
                    }
                }
                if found == 2 {
                    break;
                }
                below += k;
            }
            want[ix][c] = w;
        }
    }
    // 3. the values of those buckets only
    let gathered = scan.run(
        tuning,
        || rank_buckets(space.n),
        |part, s, end, vals| {
            let cols = columns(part.p);
            each_dispatched(scan, by, space, part, s, end, |ix, i| {
                for (c, col) in cols.iter().enumerate() {
                    let w = &want[ix][c];
                    let v = col[i];
                    if w.n == 0 || v == NO_DURATION {
                        continue;
                    }
                    let b = bucket(v);
                    if b == w.at[0].0 {
                        vals[ix][2 * c].push(v);
                    } else if b == w.at[1].0 {
                        vals[ix][2 * c + 1].push(v);
                    }
                }
            });
        },
    );
    let mut vals = rank_buckets(space.n);
    for t in gathered {
        for (ix, v) in t.into_iter().enumerate() {
            for (a, b) in vals[ix].iter_mut().zip(v) {
                a.extend(b);
            }
        }
    }
    let mut out = RankedTimes::new();
    for (ix, ws) in want.iter().enumerate() {
        if ws.iter().all(|w| w.n == 0) {
            continue;
        }
        let mut r = [Ranked::default(); 3];
        for (c, w) in ws.iter().enumerate() {
            if w.n == 0 {
                continue;
            }
            // both ranks may fall in one bucket: its values were gathered once, as the median's
            let (m_vals, rest) = vals[ix][2 * c..2 * c + 2].split_at_mut(1);
            let m_vals = &mut m_vals[0];
            let median = *m_vals.select_nth_unstable(w.at[0].1 as usize - 1).1;
            let p90 = if w.at[1].0 == w.at[0].0 {
                *m_vals.select_nth_unstable(w.at[1].1 as usize - 1).1
            } else {
                *rest[0].select_nth_unstable(w.at[1].1 as usize - 1).1
            };
            r[c] = Ranked {
                n: w.n,
                median: Some(median),
                p90: Some(p90),
            };
        }
        out.insert(ix as u32 + space.off, r);
    }
    out
}

/// Per key: the values of the median's and the 90th percentile's buckets of each column.
fn rank_buckets(keys: usize) -> Vec<[Vec<u32>; 6]> {
    vec![Default::default(); keys]
}

/// Per key met among the dispatched rows the filter keeps, their seconds (in no order).
fn gather(scan: &Scan, by: Dim, space: Space, tuning: Tuning) -> Seconds {
    let dense = space.n <= 1 << 16;
    let results = scan.run(tuning, Times::default, |part, s, end, times| {
        let cols = columns(part.p);
        each_dispatched(scan, by, space, part, s, end, |ix, i| {
            let v = if dense {
                if times.dense.len() <= ix {
                    times.dense.resize(ix + 1, None);
                }
                times.dense[ix].get_or_insert_with(Default::default)
            } else {
                times.map.entry(ix as u32 + space.off).or_default()
            };
            for (v, col) in v.iter_mut().zip(cols) {
                if col[i] != NO_DURATION {
                    v.push(col[i]);
                }
            }
        });
    });
    let mut out = Seconds::new();
    for t in results {
        let keyed = t
            .dense
            .into_iter()
            .enumerate()
            .filter_map(|(ix, v)| Some((ix as u32 + space.off, v?)))
            .chain(t.map);
        for (k, [a, b, c]) in keyed {
            let e = out.entry(k).or_default();
            e[0].extend(a);
            e[1].extend(b);
            e[2].extend(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_buckets_follow_the_values_and_hold_every_u32() {
        let mut last = 0;
        let mut v: u32 = 0;
        loop {
            let b = bucket(v);
            assert!(b >= last, "bucket of {v} goes back");
            assert!(b < BUCKETS);
            // a bucket is at most 1/256 of its values wide: values 1/128 apart never share one
            if let Some(w) = v.checked_add(v / 128).filter(|_| v >= 256) {
                assert!(bucket(w) > b, "{v}");
            }
            last = b;
            match v.checked_add(1 + v / 1000) {
                Some(n) => v = n,
                None => break,
            }
        }
        assert_eq!(bucket(u32::MAX), BUCKETS - 1);
        assert_eq!(bucket(255), 255);
        assert_eq!(bucket(256), 256);
    }

    #[test]
    fn ranks_are_nearest_rank() {
        assert_eq!(ranks(1), (1, 1));
        assert_eq!(ranks(10), (5, 9));
        assert_eq!(ranks(11), (6, 10));
    }
}
