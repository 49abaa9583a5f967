//! The reminder scheduler's pure core: which reminder / overdue events are due, each exactly once
//! per (clock, threshold), surviving restarts and downtime.
//!
//! # Exactly once
//!
//! Thresholds are sorted fractions of a clock's start → due span (e.g. 0.5, 0.8, 1.0; 1.0 and
//! above are "overdue" events). Threshold *k* of a clock is passed at
//! `start + ceil(k‰ × (due − start))` (whole seconds, integer arithmetic). They are emitted **in
//! order**, so what has been emitted for a clock is one number, its *watermark* (how many of its
//! thresholds were emitted). A pass emits, for every clock, thresholds `watermark .. passed(now)` —
//! all missed ones at once after downtime — and the store must persist each reminder event and the
//! new watermark in the same transaction. On restart the watermarks are rebuilt from the stored
//! reminder events ([`Emitted::from_events`]), so nothing is emitted twice and nothing passed is
//! missed. A `now` that goes backwards emits nothing.
//!
//! # Layout for a million open clocks
//!
//! [`due_reminders`] is the stateless form: a linear scan that hashes only clocks with at least one
//! passed threshold. [`Scheduler`] is the incremental form for a long-running process: clocks live
//! in a slab and a binary min-heap holds each clock's *next* threshold instant, so a pass pops only
//! what is due (`O(due · log n)`), and re-pushes the clock's next threshold.

use crate::fxhash::FxMap;
use crate::policy::ClockKind;
use chrono::{DateTime, TimeZone, Utc};
use jiesu_domain::command::Command;
use jiesu_domain::event::TicketId;
use jiesu_domain::ticket::DeadlineTier;
use jiesu_domain::AssignmentState;
use serde::{Deserialize, Serialize};
use std::borrow::Borrow;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// Identifies one clock. `epoch` starts at 0; bump it (e.g. on 重办 or an approved extension)
/// when a clock should get a fresh set of reminders.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ClockKey {
    pub ticket: TicketId,
    pub unit: String,
    pub clock: ClockKind,
    #[serde(default)]
    pub epoch: u32,
}

/// One open (not yet met, not paused) clock of an assignment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenClock {
    pub key: ClockKey,
    pub start: DateTime<Utc>,
    pub due: DateTime<Utc>,
}

impl OpenClock {
    /// The clock seen in working time, for a clock whose span counts working time only: the
    /// returned clock and `now` are in "working seconds since `start`" (start stays the origin;
    /// after the deadline every second counts, so thresholds above 100 % are wall time past the
    /// deadline). Threshold *k* of the mapped clock is passed exactly when *k* of the working time
    /// between start and due has been worked — a 50 % reminder of a 7-working-day clock falls in
    /// the middle of the working days, not on a weekend. Pass both to [`due_reminders`] (the
    /// reminders' `passed_at` are then in the mapped time).
    pub fn in_working_time(
        &self,
        calendar: &crate::calendar::Calendar,
        now: DateTime<Utc>,
    ) -> (OpenClock, DateTime<Utc>) {
        let local = |t: DateTime<Utc>| calendar.local_date(t);
        let tl = crate::calendar::WorkingTimeline::new(
            calendar,
            local(self.start),
            local(self.due.max(now)),
        );
        self.in_working_time_on(&tl, now)
    }

    /// As [`OpenClock::in_working_time`], with a timeline built once for many clocks (it must
    /// cover the clock's start, due and `now`).
    pub fn in_working_time_on(
        &self,
        tl: &crate::calendar::WorkingTimeline,
        now: DateTime<Utc>,
    ) -> (OpenClock, DateTime<Utc>) {
        let origin = self.start.timestamp();
        let w0 = tl.at(self.start);
        let span = (tl.at(self.due) - w0).max(0);
        let worked = if now >= self.due {
            span + (now - self.due).num_seconds()
        } else {
            (tl.at(now) - w0).max(0)
        };
        (
            OpenClock {
                key: self.key.clone(),
                start: at(origin),
                due: at(origin.saturating_add(span)),
            },
            at(origin.saturating_add(worked)),
        )
    }
}

/// A reminder (or overdue) event to emit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reminder {
    pub ticket: TicketId,
    pub unit: String,
    pub clock: ClockKind,
    pub epoch: u32,
    /// The fraction, e.g. 0.8.
    pub threshold: f64,
    /// Its index in the sorted thresholds (what the store records).
    pub threshold_index: u8,
    /// When it was passed (not when it was emitted: after downtime these differ).
    pub passed_at: DateTime<Utc>,
    /// Threshold ≥ 1.0: the deadline has come (超时).
    pub overdue: bool,
}

impl Reminder {
    pub fn key(&self) -> ClockKey {
        ClockKey {
            ticket: self.ticket,
            unit: self.unit.clone(),
            clock: self.clock,
            epoch: self.epoch,
        }
    }
}

/// Sorted, de-duplicated thresholds in permille.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Thresholds {
    permille: Vec<u32>,
}

impl Thresholds {
    /// From fractions (0.5, 0.8, 1.0 …): rounded to ‰, non-positive and non-finite ones dropped,
    /// sorted, de-duplicated, at most 255.
    pub fn new(fractions: &[f64]) -> Self {
        let mut permille: Vec<u32> = fractions
            .iter()
            .filter(|f| f.is_finite() && **f > 0.0)
            .map(|f| (f * 1000.0).round().min(1_000_000.0) as u32)
            .filter(|p| *p > 0)
            .collect();
        permille.sort_unstable();
        permille.dedup();
        permille.truncate(255);
        Thresholds { permille }
    }
    /// 50 %, 80 %, 100 %.
    pub fn standard() -> Self {
        Thresholds::new(&[0.5, 0.8, 1.0])
    }
    pub fn len(&self) -> usize {
        self.permille.len()
    }
    pub fn is_empty(&self) -> bool {
        self.permille.is_empty()
    }
    pub fn fraction(&self, k: usize) -> f64 {
        self.permille[k] as f64 / 1000.0
    }
    /// The instant (unix seconds) threshold `k` is passed for a clock.
    #[inline]
    pub fn instant(&self, k: usize, start_s: i64, due_s: i64) -> i64 {
        let len = due_s.saturating_sub(start_s).max(0);
        let p = self.permille[k] as i64;
        match len.checked_mul(p) {
            Some(x) => start_s.saturating_add((x + 999) / 1000),
            None => {
                let x = (len as i128 * p as i128 + 999) / 1000;
                start_s.saturating_add(x.min(i64::MAX as i128) as i64)
            }
        }
    }
    /// How many thresholds are passed at `now_s` (instants are non-decreasing in k).
    #[inline]
    pub fn passed(&self, start_s: i64, due_s: i64, now_s: i64) -> usize {
        let mut k = 0;
        while k < self.permille.len() && self.instant(k, start_s, due_s) <= now_s {
            k += 1;
        }
        k
    }
}

/// What has been emitted: per clock, how many thresholds (its watermark).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Emitted {
    watermark: FxMap<ClockKey, u8>,
}

impl Emitted {
    pub fn new() -> Self {
        Emitted::default()
    }
    /// From stored reminder events `(clock, threshold_index)`, in any order.
    pub fn from_events<K: Borrow<ClockKey>>(events: impl IntoIterator<Item = (K, u8)>) -> Self {
        let mut e = Emitted::default();
        for (k, i) in events {
            e.bump(k.borrow(), i.saturating_add(1));
        }
        e
    }
    pub fn get(&self, key: &ClockKey) -> u8 {
        self.watermark.get(key).copied().unwrap_or(0)
    }
    fn bump(&mut self, key: &ClockKey, to: u8) {
        match self.watermark.get_mut(key) {
            Some(w) => *w = (*w).max(to),
            None => {
                self.watermark.insert(key.clone(), to);
            }
        }
    }
    /// Records an emitted reminder (what the store does in the same transaction).
    pub fn record(&mut self, r: &Reminder) {
        self.bump(&r.key(), r.threshold_index.saturating_add(1));
    }
    pub fn len(&self) -> usize {
        self.watermark.len()
    }
    pub fn is_empty(&self) -> bool {
        self.watermark.is_empty()
    }
    /// Forgets clocks that are no longer open (met, returned, re-dispatched).
    pub fn retain(&mut self, mut open: impl FnMut(&ClockKey) -> bool) {
        self.watermark.retain(|k, _| open(k));
    }
}

fn at(s: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(s, 0)
        .single()
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

fn make(th: &Thresholds, key: &ClockKey, k: usize, start_s: i64, due_s: i64) -> Reminder {
    Reminder {
        ticket: key.ticket,
        unit: key.unit.clone(),
        clock: key.clock,
        epoch: key.epoch,
        threshold: th.fraction(k),
        threshold_index: k as u8,
        passed_at: at(th.instant(k, start_s, due_s)),
        overdue: th.permille[k] >= 1000,
    }
}

/// The stateless pass: every reminder due at `now` that `emitted` does not hold yet, for each
/// clock in threshold order. Does not modify `emitted` (record the ones you persist).
pub fn due_reminders(
    clocks: &[OpenClock],
    emitted: &Emitted,
    thresholds: &Thresholds,
    now: DateTime<Utc>,
) -> Vec<Reminder> {
    let now_s = now.timestamp();
    let mut out = Vec::new();
    for c in clocks {
        let (s, d) = (c.start.timestamp(), c.due.timestamp());
        let passed = thresholds.passed(s, d, now_s);
        if passed == 0 {
            continue;
        }
        let w = emitted.get(&c.key) as usize;
        for k in w..passed {
            out.push(make(thresholds, &c.key, k, s, d));
        }
    }
    out
}

#[derive(Debug, Clone)]
struct Slot {
    key: ClockKey,
    start_s: i64,
    due_s: i64,
    watermark: u8,
    /// Bumped on update/removal so stale heap entries are skipped.
    generation: u32,
    live: bool,
}

/// The incremental scheduler: a slab of clocks and a min-heap of next threshold instants.
#[derive(Debug, Clone)]
pub struct Scheduler {
    thresholds: Thresholds,
    slots: Vec<Slot>,
    by_key: FxMap<ClockKey, u32>,
    free: Vec<u32>,
    heap: BinaryHeap<Reverse<(i64, u32, u32)>>,
}

impl Scheduler {
    pub fn new(thresholds: Thresholds) -> Self {
        Scheduler {
            thresholds,
            slots: Vec::new(),
            by_key: FxMap::default(),
            free: Vec::new(),
            heap: BinaryHeap::new(),
        }
    }

    /// Builds the scheduler from the open clocks and the stored watermarks (startup after a
    /// restart). `O(n)`: the heap is built in one go.
    pub fn load(thresholds: Thresholds, clocks: Vec<OpenClock>, emitted: &Emitted) -> Self {
        let n = clocks.len();
        let mut s = Scheduler {
            thresholds,
            slots: Vec::with_capacity(n),
            by_key: FxMap::with_capacity_and_hasher(n, Default::default()),
            free: Vec::new(),
            heap: BinaryHeap::new(),
        };
        let mut entries = Vec::with_capacity(n);
        for c in clocks {
            let w = emitted.get(&c.key);
            if let Some(&i) = s.by_key.get(&c.key) {
                // Duplicate key: the later one wins.
                let slot = &mut s.slots[i as usize];
                slot.start_s = c.start.timestamp();
                slot.due_s = c.due.timestamp();
                slot.generation += 1;
                continue;
            }
            let i = s.slots.len() as u32;
            s.by_key.insert(c.key.clone(), i);
            s.slots.push(Slot {
                key: c.key,
                start_s: c.start.timestamp(),
                due_s: c.due.timestamp(),
                watermark: w,
                generation: 0,
                live: true,
            });
        }
        for (i, slot) in s.slots.iter().enumerate() {
            if let Some(t) = s.next_instant(slot) {
                entries.push(Reverse((t, i as u32, slot.generation)));
            }
        }
        s.heap = BinaryHeap::from(entries);
        s
    }

    fn next_instant(&self, slot: &Slot) -> Option<i64> {
        let k = slot.watermark as usize;
        (k < self.thresholds.len()).then(|| self.thresholds.instant(k, slot.start_s, slot.due_s))
    }

    /// Number of open clocks.
    pub fn len(&self) -> usize {
        self.by_key.len()
    }
    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }

    /// Adds a clock or changes its start/due (e.g. after a pause ends). Its watermark is kept;
    /// use a new `epoch` in the key for fresh reminders.
    pub fn upsert(&mut self, c: OpenClock) {
        let (start_s, due_s) = (c.start.timestamp(), c.due.timestamp());
        let i = match self.by_key.get(&c.key) {
            Some(&i) => {
                let slot = &mut self.slots[i as usize];
                slot.start_s = start_s;
                slot.due_s = due_s;
                slot.generation = slot.generation.wrapping_add(1);
                i
            }
            None => {
                let slot = Slot {
                    key: c.key.clone(),
                    start_s,
                    due_s,
                    watermark: 0,
                    generation: 0,
                    live: true,
                };
                let i = match self.free.pop() {
                    Some(i) => {
                        let g = self.slots[i as usize].generation.wrapping_add(1);
                        self.slots[i as usize] = Slot {
                            generation: g,
                            ..slot
                        };
                        i
                    }
                    None => {
                        self.slots.push(slot);
                        (self.slots.len() - 1) as u32
                    }
                };
                self.by_key.insert(c.key, i);
                i
            }
        };
        let slot = &self.slots[i as usize];
        if let Some(t) = self.next_instant(slot) {
            self.heap.push(Reverse((t, i, slot.generation)));
        }
    }

    /// Removes a clock (met, paused, returned). Returns whether it was there.
    pub fn remove(&mut self, key: &ClockKey) -> bool {
        match self.by_key.remove(key) {
            Some(i) => {
                let slot = &mut self.slots[i as usize];
                slot.live = false;
                slot.generation = slot.generation.wrapping_add(1);
                self.free.push(i);
                true
            }
            None => false,
        }
    }

    /// One pass: pops every clock whose next threshold is passed at `now` and emits all its
    /// passed thresholds in order (updating the in-memory watermark).
    pub fn pass(&mut self, now: DateTime<Utc>) -> Vec<Reminder> {
        let now_s = now.timestamp();
        let mut out = Vec::new();
        while let Some(&Reverse((t, i, g))) = self.heap.peek() {
            if t > now_s {
                break;
            }
            self.heap.pop();
            let slot = &self.slots[i as usize];
            if !slot.live || slot.generation != g {
                continue;
            }
            let (s, d, w) = (slot.start_s, slot.due_s, slot.watermark as usize);
            let passed = self.thresholds.passed(s, d, now_s);
            for k in w..passed {
                out.push(make(&self.thresholds, &slot.key, k, s, d));
            }
            let slot = &mut self.slots[i as usize];
            slot.watermark = slot.watermark.max(passed as u8);
            let slot = &self.slots[i as usize];
            if let Some(t) = self.next_instant(slot) {
                self.heap.push(Reverse((t, i, g)));
            }
        }
        out
    }

    /// The in-memory watermark of a clock.
    pub fn watermark(&self, key: &ClockKey) -> Option<u8> {
        self.by_key
            .get(key)
            .map(|&i| self.slots[i as usize].watermark)
    }

    /// The next instant anything is due (to sleep until), if any.
    pub fn next_due(&mut self) -> Option<DateTime<Utc>> {
        while let Some(&Reverse((t, i, g))) = self.heap.peek() {
            let slot = &self.slots[i as usize];
            if slot.live && slot.generation == g {
                return Some(at(t));
            }
            self.heap.pop();
        }
        None
    }
}

/// 在办承办 — one open assignment as the scheduler pass sees it, read by the caller from its
/// store: its clocks' deadlines, what is met, and the reminders already recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenAssignment {
    pub ticket: TicketId,
    pub unit: String,
    /// The ticket's category (which deadline override, hence which time basis, applies).
    pub category: String,
    /// The assignment's tier; `None` for an unknown one (its clocks then count wall time).
    pub tier: Option<DeadlineTier>,
    /// `None` for a state the domain does not know (treated as past signing).
    pub state: Option<AssignmentState>,
    /// The clocks' start.
    pub dispatched_at: DateTime<Utc>,
    pub signed_at: Option<DateTime<Utc>>,
    pub responded_at: Option<DateTime<Utc>>,
    /// `None` where the stored deadline does not parse (that clock is skipped).
    pub sign_due: Option<DateTime<Utc>>,
    pub respond_due: Option<DateTime<Utc>>,
    pub finish_due: Option<DateTime<Utc>>,
    /// Approved extensions: the finish clock's epoch (each extension gets fresh reminders).
    pub extensions_granted: u32,
    /// Per clock, the (epoch, thresholds recorded) of its reminders so far.
    pub reminders: Vec<(ClockKind, u32, u8)>,
}

impl OpenAssignment {
    /// The clocks still running: (clock, due, epoch). Sign stops at signing (or any later
    /// state), respond at contact; finish runs until the assignment is finished.
    fn running(&self) -> impl Iterator<Item = (ClockKind, DateTime<Utc>, u32)> + '_ {
        let sign_met = self.signed_at.is_some() || self.state != Some(AssignmentState::Dispatched);
        let respond_met =
            self.responded_at.is_some() || self.state == Some(AssignmentState::Responded);
        [
            (ClockKind::Sign, self.sign_due, sign_met, 0),
            (ClockKind::Respond, self.respond_due, respond_met, 0),
            (
                ClockKind::Finish,
                self.finish_due,
                false,
                self.extensions_granted,
            ),
        ]
        .into_iter()
        .filter(|(_, _, met, _)| !met)
        .filter_map(|(k, due, _, epoch)| due.map(|d| (k, d, epoch)))
    }
}

/// One scheduler pass, decided: every reminder (and overdue mark) due at `now` on the open
/// assignments that is not recorded yet, in threshold order per clock. Clocks that count working
/// time under `policy` (the 7- and 15-day tiers) reach their thresholds in working time on
/// `calendar` ([`OpenClock::in_working_time_on`]); the others in wall time. The caller writes
/// each as [`Reminder::command`]; the domain refuses one already recorded, so overlapping passes
/// and restarts neither duplicate nor miss.
pub fn reminders_due(
    open: &[OpenAssignment],
    policy: &crate::policy::DeadlinePolicy,
    calendar: &crate::calendar::Calendar,
    thresholds: &Thresholds,
    now: DateTime<Utc>,
) -> Vec<Reminder> {
    let mut clocks = Vec::new();
    // Clocks that count working time: their thresholds are fractions of the working time (each
    // seen through `OpenClock::in_working_time_on`, with its own mapped `now`).
    let mut working: Vec<OpenClock> = Vec::new();
    let mut marks = Vec::new();
    for a in open {
        for (clock, due, epoch) in a.running() {
            let key = ClockKey {
                ticket: a.ticket,
                unit: a.unit.clone(),
                clock,
                epoch,
            };
            if let Some((_, e, n)) = a.reminders.iter().find(|r| r.0 == clock) {
                if *e == epoch && *n > 0 {
                    marks.push((key.clone(), n - 1));
                }
            }
            let basis = a
                .tier
                .map(|t| policy.clock_basis(t, &a.unit, &a.category, clock));
            let c = OpenClock {
                key,
                start: a.dispatched_at,
                due,
            };
            if basis == Some(crate::calendar::TimeBasis::Working) {
                working.push(c);
            } else {
                clocks.push(c);
            }
        }
    }
    let emitted = Emitted::from_events(marks);
    let mut due = due_reminders(&clocks, &emitted, thresholds, now);
    if !working.is_empty() {
        // One timeline of working seconds for the whole pass (O(1) per instant).
        let local = |t: DateTime<Utc>| calendar.local_date(t);
        let first = working.iter().map(|c| c.start).min().unwrap_or(now);
        let last = working.iter().map(|c| c.due).max().unwrap_or(now).max(now);
        let tl = crate::calendar::WorkingTimeline::new(calendar, local(first), local(last));
        for c in &working {
            let (m, n) = c.in_working_time_on(&tl, now);
            due.extend(due_reminders(
                std::slice::from_ref(&m),
                &emitted,
                thresholds,
                n,
            ));
        }
    }
    due
}

impl Reminder {
    /// The domain command that records this reminder (提醒 / 超时).
    pub fn command(&self) -> Command {
        Command::Remind {
            unit: self.unit.clone(),
            clock: self.clock.as_str().to_string(),
            epoch: self.epoch,
            index: self.threshold_index,
            permille: (self.threshold * 1000.0).round() as u32,
            overdue: self.overdue,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn key(t: i64) -> ClockKey {
        ClockKey {
            ticket: t,
            unit: "U".into(),
            clock: ClockKind::Finish,
            epoch: 0,
        }
    }

    #[test]
    fn catch_up_after_downtime_emits_all_missed_thresholds_once() {
        let s0 = Utc.with_ymd_and_hms(2026, 3, 2, 0, 0, 0).unwrap();
        let c = OpenClock {
            key: key(1),
            start: s0,
            due: s0 + Duration::hours(10),
        };
        let th = Thresholds::standard();
        let mut em = Emitted::new();
        let r = due_reminders(std::slice::from_ref(&c), &em, &th, s0 + Duration::hours(4));
        assert!(r.is_empty());
        let r = due_reminders(std::slice::from_ref(&c), &em, &th, s0 + Duration::hours(11));
        assert_eq!(r.len(), 3);
        assert_eq!(r[0].passed_at, s0 + Duration::hours(5));
        assert!(r[2].overdue && !r[1].overdue);
        r.iter().for_each(|x| em.record(x));
        let r = due_reminders(std::slice::from_ref(&c), &em, &th, s0 + Duration::hours(30));
        assert!(r.is_empty());
        // The same with the heap scheduler, restarted from the stored events.
        let em2 = Emitted::from_events([(key(1), 0u8)]);
        let mut s = Scheduler::load(th.clone(), vec![c.clone()], &em2);
        let r = s.pass(s0 + Duration::hours(11));
        assert_eq!(
            r.iter().map(|x| x.threshold_index).collect::<Vec<_>>(),
            vec![1, 2]
        );
        assert!(s.pass(s0 + Duration::hours(12)).is_empty());
        assert_eq!(s.next_due(), None);
    }

    #[test]
    fn upsert_and_remove() {
        let s0 = Utc.with_ymd_and_hms(2026, 3, 2, 0, 0, 0).unwrap();
        let mut s = Scheduler::new(Thresholds::new(&[1.0]));
        s.upsert(OpenClock {
            key: key(1),
            start: s0,
            due: s0 + Duration::hours(1),
        });
        s.upsert(OpenClock {
            key: key(2),
            start: s0,
            due: s0 + Duration::hours(2),
        });
        // Extend clock 1 to 3 h: the old heap entry is stale.
        s.upsert(OpenClock {
            key: key(1),
            start: s0,
            due: s0 + Duration::hours(3),
        });
        assert!(s.remove(&key(2)));
        assert!(s.pass(s0 + Duration::hours(2)).is_empty());
        assert_eq!(s.next_due(), Some(s0 + Duration::hours(3)));
        let r = s.pass(s0 + Duration::hours(3));
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].ticket, 1);
        assert_eq!(s.len(), 1);
    }

    fn open_h2(at: DateTime<Utc>) -> OpenAssignment {
        OpenAssignment {
            ticket: 7,
            unit: "110105001".into(),
            category: "0101".into(),
            tier: Some(DeadlineTier::H2),
            state: Some(AssignmentState::Dispatched),
            dispatched_at: at,
            signed_at: None,
            responded_at: None,
            sign_due: Some(at + chrono::Duration::minutes(15)),
            respond_due: Some(at + chrono::Duration::minutes(30)),
            finish_due: Some(at + chrono::Duration::minutes(120)),
            extensions_granted: 0,
            reminders: vec![],
        }
    }

    fn pass(open: &[OpenAssignment], now: DateTime<Utc>) -> Vec<(ClockKind, u8, bool)> {
        let policy = crate::policy::DeadlinePolicy::beijing_default();
        let cal = crate::calendar::Calendar::china_2025_2026();
        reminders_due(open, &policy, &cal, &Thresholds::standard(), now)
            .into_iter()
            .map(|r| (r.clock, r.threshold_index, r.overdue))
            .collect()
    }

    #[test]
    fn a_pass_decides_the_reminders_of_running_clocks_that_are_not_recorded_yet() {
        let t0 = Utc.with_ymd_and_hms(2026, 3, 2, 1, 0, 0).unwrap();
        let now = t0 + chrono::Duration::minutes(20);
        let a = open_h2(t0);
        // sign: 50 %, 80 %, overdue; respond: 50 %; finish: nothing yet
        assert_eq!(
            pass(std::slice::from_ref(&a), now),
            [
                (ClockKind::Sign, 0, false),
                (ClockKind::Sign, 1, false),
                (ClockKind::Sign, 2, true),
                (ClockKind::Respond, 0, false)
            ]
        );
        // recorded reminders are not decided again
        let recorded = OpenAssignment {
            reminders: vec![(ClockKind::Sign, 0, 2)],
            ..a.clone()
        };
        assert_eq!(
            pass(&[recorded], now),
            [(ClockKind::Sign, 2, true), (ClockKind::Respond, 0, false)]
        );
        // a met clock gets none
        let signed = OpenAssignment {
            signed_at: Some(t0 + chrono::Duration::minutes(5)),
            state: Some(AssignmentState::Signed),
            ..a.clone()
        };
        assert_eq!(pass(&[signed], now), [(ClockKind::Respond, 0, false)]);
        // an approved extension starts a new epoch of the finish clock
        let extended = OpenAssignment {
            extensions_granted: 1,
            reminders: vec![(ClockKind::Finish, 0, 3)],
            ..a
        };
        let r = pass(&[extended], t0 + chrono::Duration::minutes(70));
        assert!(r.contains(&(ClockKind::Finish, 0, false)), "{r:?}");
    }

    #[test]
    fn working_time_clocks_do_not_advance_over_the_weekend() {
        let policy = crate::policy::DeadlinePolicy::beijing_default();
        let cal = crate::calendar::Calendar::china_2025_2026();
        // Friday 2026-03-06 17:00 Beijing time
        let start = Utc.with_ymd_and_hms(2026, 3, 6, 9, 0, 0).unwrap();
        let d = policy.deadlines(DeadlineTier::D7, "110105001", "0101", start, &cal, &[]);
        let a = OpenAssignment {
            tier: Some(DeadlineTier::D7),
            sign_due: Some(d.sign),
            respond_due: Some(d.respond),
            finish_due: Some(d.finish),
            ..open_h2(start)
        };
        // Sunday 20:00: more than half of the sign clock's wall time, little of its working time
        let sunday = Utc.with_ymd_and_hms(2026, 3, 8, 12, 0, 0).unwrap();
        assert!((sunday - start) * 2 > d.sign - start);
        assert!(pass(std::slice::from_ref(&a), sunday).is_empty());
        // once the deadline has come, it is overdue
        let r = pass(&[a], d.sign + chrono::Duration::minutes(1));
        assert!(r.contains(&(ClockKind::Sign, 2, true)), "{r:?}");
    }

    #[test]
    fn a_reminder_becomes_the_domain_remind_command() {
        let t0 = Utc.with_ymd_and_hms(2026, 3, 2, 1, 0, 0).unwrap();
        let policy = crate::policy::DeadlinePolicy::beijing_default();
        let cal = crate::calendar::Calendar::china_2025_2026();
        let r = reminders_due(
            &[open_h2(t0)],
            &policy,
            &cal,
            &Thresholds::standard(),
            t0 + chrono::Duration::minutes(16),
        );
        assert_eq!(
            r[2].command(),
            Command::Remind {
                unit: "110105001".into(),
                clock: "sign".into(),
                epoch: 0,
                index: 2,
                permille: 1000,
                overdue: true,
            }
        );
    }
}
