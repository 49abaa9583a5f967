//! Deadline policies (限时办理, 分级响应): per tier, the sign / respond / finish spans and whether
//! each counts calendar or working time; per-unit and per-category overrides; pauses and
//! extensions; and the state of a clock.
//!
//! Policies are data (serde) and versioned (`version`, `effective_from`): deadlines are computed
//! once, at dispatch, with the policy in force then, and stored on the ticket — so a later policy
//! never changes last month's deadlines or scores.

use crate::calendar::{Calendar, Pause, Span};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use jiesu_domain::event::Deadlines;
use jiesu_domain::ticket::DeadlineTier;
use serde::{Deserialize, Serialize};

/// The three clocks of an assignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClockKind {
    /// 签收
    Sign,
    /// 响应 — contact the citizen.
    Respond,
    /// 办结
    Finish,
}

impl ClockKind {
    pub const ALL: [ClockKind; 3] = [ClockKind::Sign, ClockKind::Respond, ClockKind::Finish];
    pub fn as_str(self) -> &'static str {
        match self {
            ClockKind::Sign => "sign",
            ClockKind::Respond => "respond",
            ClockKind::Finish => "finish",
        }
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            ClockKind::Sign => "签收",
            ClockKind::Respond => "响应",
            ClockKind::Finish => "办结",
        }
    }
    pub fn of(self, d: &Deadlines) -> DateTime<Utc> {
        match self {
            ClockKind::Sign => d.sign,
            ClockKind::Respond => d.respond,
            ClockKind::Finish => d.finish,
        }
    }
}

/// The spans of the three clocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClockSpans {
    pub sign: Span,
    pub respond: Span,
    pub finish: Span,
}

impl ClockSpans {
    pub fn get(&self, k: ClockKind) -> Span {
        match k {
            ClockKind::Sign => self.sign,
            ClockKind::Respond => self.respond,
            ClockKind::Finish => self.finish,
        }
    }
}

/// The spans of every tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TierSpans {
    #[serde(rename = "2h")]
    pub h2: ClockSpans,
    #[serde(rename = "24h")]
    pub h24: ClockSpans,
    #[serde(rename = "7d")]
    pub d7: ClockSpans,
    #[serde(rename = "15d")]
    pub d15: ClockSpans,
}

impl TierSpans {
    pub fn get(&self, t: DeadlineTier) -> &ClockSpans {
        match t {
            DeadlineTier::H2 => &self.h2,
            DeadlineTier::H24 => &self.h24,
            DeadlineTier::D7 => &self.d7,
            DeadlineTier::D15 => &self.d15,
        }
    }
}

/// A tighter (or, with `replace`, different) clock for some units and/or categories, e.g. 1 hour
/// for floods (防汛), 12 hours for water supply (供水).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadlineOverride {
    pub name: String,
    /// The unit it applies to (`None` = any unit).
    #[serde(default)]
    pub unit: Option<String>,
    /// The category code prefix it applies to (`None` = any category).
    #[serde(default)]
    pub category_prefix: Option<String>,
    /// The tiers it applies to (empty = all).
    #[serde(default)]
    pub tiers: Vec<DeadlineTier>,
    #[serde(default)]
    pub sign: Option<Span>,
    #[serde(default)]
    pub respond: Option<Span>,
    #[serde(default)]
    pub finish: Option<Span>,
    /// `false` (default): a cap — the earlier of the tier's deadline and the override's wins.
    /// `true`: the override's deadline replaces the tier's.
    #[serde(default)]
    pub replace: bool,
}

impl DeadlineOverride {
    fn applies(&self, tier: DeadlineTier, unit: &str, category: &str) -> bool {
        self.unit.as_deref().is_none_or(|u| u == unit)
            && self
                .category_prefix
                .as_deref()
                .is_none_or(|p| category.starts_with(p))
            && (self.tiers.is_empty() || self.tiers.contains(&tier))
    }
    /// Unit-specific beats category-only; then the longer category prefix.
    fn specificity(&self) -> (bool, usize) {
        (
            self.unit.is_some(),
            self.category_prefix.as_deref().map_or(0, str::len),
        )
    }
    fn span(&self, k: ClockKind) -> Option<Span> {
        match k {
            ClockKind::Sign => self.sign,
            ClockKind::Respond => self.respond,
            ClockKind::Finish => self.finish,
        }
    }
}

/// An approved extension (延期) of the finish clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum Extension {
    /// Finish no earlier than this instant (an earlier one changes nothing).
    Until(DateTime<Utc>),
    /// Finish this much later (counted like the clock: pauses and working time apply).
    By(Span),
}

/// Everything needed to compute one assignment's clocks.
#[derive(Debug, Clone, PartialEq)]
pub struct ClockInput<'a> {
    pub tier: DeadlineTier,
    pub unit: &'a str,
    pub category: &'a str,
    /// Dispatch instant.
    pub start: DateTime<Utc>,
    /// Pauses while waiting for the citizen; an open one is taken to end at `now`.
    pub pauses: &'a [Pause],
    /// Approved extensions in approval order.
    pub extensions: &'a [Extension],
    pub now: DateTime<Utc>,
}

/// The computed clocks and how they were obtained.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClockReport {
    pub deadlines: Deadlines,
    /// `Some(since)` when the clock is paused now (deadlines assume it resumes `now`).
    pub paused_since: Option<DateTime<Utc>>,
    /// The pauses applied, closed, sorted (recorded on the ticket).
    pub pauses: Vec<(DateTime<Utc>, DateTime<Utc>)>,
    /// The finish deadline before extensions.
    pub finish_before_extensions: DateTime<Utc>,
    /// Override names applied, for the explanation.
    pub overrides: Vec<String>,
}

/// A deadline policy version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadlinePolicy {
    pub version: String,
    pub effective_from: NaiveDate,
    pub tiers: TierSpans,
    #[serde(default)]
    pub overrides: Vec<DeadlineOverride>,
    /// How long the centre has to decide a unit's request (审核时限).
    #[serde(default)]
    pub review: ReviewSpans,
}

/// 审核时限 — the centre's own deadlines for deciding what a unit asked for: a return (退单审核,
/// the ticket waits unhandled meanwhile, so it is short and runs in calendar time) and an
/// extension (延期审核).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewSpans {
    pub return_review: Span,
    pub extension_review: Span,
}

impl Default for ReviewSpans {
    fn default() -> Self {
        ReviewSpans {
            return_review: Span::calendar_minutes(120),
            extension_review: Span::working_days(1),
        }
    }
}

/// Which request a review deadline is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewKind {
    /// 退单审核
    Return,
    /// 延期审核
    Extension,
}

impl DeadlinePolicy {
    /// Exactly the domain's current calendar-time rules (`jiesu_domain::deadline::DeadlineRules`):
    /// everything counted in wall time.
    pub fn calendar_time_default() -> Self {
        let c = |sign, respond, finish| ClockSpans {
            sign: Span::calendar_minutes(sign),
            respond: Span::calendar_minutes(respond),
            finish: Span::calendar_minutes(finish),
        };
        DeadlinePolicy {
            version: "calendar-v1".into(),
            effective_from: NaiveDate::from_ymd_opt(2019, 1, 1).expect("date"),
            tiers: TierSpans {
                h2: c(15, 30, 120),
                h24: c(60, 240, 24 * 60),
                d7: c(120, 24 * 60, 7 * 24 * 60),
                d15: c(120, 24 * 60, 15 * 24 * 60),
            },
            overrides: Vec::new(),
            review: ReviewSpans::default(),
        }
    }

    /// The shipped Beijing policy: the 2-hour and 24-hour tiers run in calendar time (7×24);
    /// the 7-day and 15-day tiers count working days (sign within 2 working hours, contact within
    /// 1 working day). Overrides: floods (防汛排涝 2701) and gas/electricity safety (1803, 060602)
    /// finish within 1 hour; water supply (供水 0602, and the water company SE003) within 12 hours.
    pub fn beijing_default() -> Self {
        let urgent = |sign, respond, finish| ClockSpans {
            sign: Span::calendar_minutes(sign),
            respond: Span::calendar_minutes(respond),
            finish: Span::calendar_minutes(finish),
        };
        let working = |days| ClockSpans {
            sign: Span::working_hours(2),
            respond: Span::working_days(1),
            finish: Span::working_days(days),
        };
        let cap = |name: &str, unit: Option<&str>, cat: Option<&str>, s, r, f| DeadlineOverride {
            name: name.into(),
            unit: unit.map(Into::into),
            category_prefix: cat.map(Into::into),
            tiers: Vec::new(),
            sign: Some(Span::calendar_minutes(s)),
            respond: Some(Span::calendar_minutes(r)),
            finish: Some(Span::calendar_minutes(f)),
            replace: false,
        };
        DeadlinePolicy {
            version: "beijing-v1".into(),
            effective_from: NaiveDate::from_ymd_opt(2025, 1, 1).expect("date"),
            tiers: TierSpans {
                h2: urgent(15, 30, 120),
                h24: urgent(60, 240, 24 * 60),
                d7: working(7),
                d15: working(15),
            },
            overrides: vec![
                cap("防汛 1 小时 / floods 1 h", None, Some("2701"), 10, 20, 60),
                cap(
                    "燃气用电安全 1 小时 / gas & power safety 1 h",
                    None,
                    Some("1803"),
                    10,
                    20,
                    60,
                ),
                cap(
                    "燃气安全隐患 1 小时 / gas hazard 1 h",
                    None,
                    Some("060602"),
                    10,
                    20,
                    60,
                ),
                cap(
                    "供水 12 小时 / water supply 12 h",
                    None,
                    Some("0602"),
                    30,
                    120,
                    12 * 60,
                ),
                cap(
                    "自来水集团 12 小时 / water company 12 h",
                    Some("SE003"),
                    None,
                    30,
                    120,
                    12 * 60,
                ),
            ],
            review: ReviewSpans::default(),
        }
    }

    /// The span of one clock after overrides, and whether the override replaces (vs caps).
    fn clock_rule(
        &self,
        tier: DeadlineTier,
        unit: &str,
        category: &str,
        k: ClockKind,
    ) -> (Span, Option<(&DeadlineOverride, Span)>) {
        let base = self.tiers.get(tier).get(k);
        let best = self
            .overrides
            .iter()
            .filter(|o| o.applies(tier, unit, category))
            .filter_map(|o| o.span(k).map(|s| (o, s)))
            .fold(None::<(&DeadlineOverride, Span)>, |acc, x| match acc {
                Some(a) if a.0.specificity() >= x.0.specificity() => Some(a),
                _ => Some(x),
            });
        (base, best)
    }

    /// The three clocks at dispatch (pauses optional; an open pause is ignored — use
    /// [`DeadlinePolicy::clocks`] with `now` for a clock that is paused now).
    /// Never before `start`; sign ≤ respond ≤ finish.
    pub fn deadlines(
        &self,
        tier: DeadlineTier,
        unit: &str,
        category: &str,
        start: DateTime<Utc>,
        calendar: &Calendar,
        pauses: &[Pause],
    ) -> Deadlines {
        let closed: Vec<Pause> = pauses.iter().filter(|p| p.1.is_some()).copied().collect();
        self.clocks(
            &ClockInput {
                tier,
                unit,
                category,
                start,
                pauses: &closed,
                extensions: &[],
                now: start,
            },
            calendar,
        )
        .deadlines
    }

    /// Whether a clock counts calendar or working time (after the overrides that apply).
    pub fn clock_basis(
        &self,
        tier: DeadlineTier,
        unit: &str,
        category: &str,
        k: ClockKind,
    ) -> crate::calendar::TimeBasis {
        let (base, ov) = self.clock_rule(tier, unit, category, k);
        match ov {
            Some((o, s)) if o.replace => s.basis,
            _ => base.basis,
        }
    }

    /// When the centre must have decided a request made at `requested_at` (never before it).
    pub fn review_due(
        &self,
        kind: ReviewKind,
        requested_at: DateTime<Utc>,
        calendar: &Calendar,
    ) -> DateTime<Utc> {
        let span = match kind {
            ReviewKind::Return => self.review.return_review,
            ReviewKind::Extension => self.review.extension_review,
        };
        calendar
            .add(requested_at, span, &[])
            .unwrap_or_else(|| requested_at + Duration::seconds(span.seconds(calendar)))
            .max(requested_at)
    }

    /// The three clocks with pauses and extensions, see [`ClockInput`].
    pub fn clocks(&self, input: &ClockInput<'_>, calendar: &Calendar) -> ClockReport {
        let start = input.start;
        let now = input.now.max(start);
        let mut paused_since = None;
        let mut pauses: Vec<Pause> = Vec::with_capacity(input.pauses.len());
        for &(a, b) in input.pauses {
            match b {
                Some(b) => pauses.push((a, Some(b))),
                None => {
                    paused_since = Some(paused_since.map_or(a, |s: DateTime<Utc>| s.min(a)));
                    pauses.push((a, Some(now.max(a))));
                }
            }
        }
        let add = |from: DateTime<Utc>, span: Span| {
            calendar
                .add(from, span, &pauses)
                .unwrap_or_else(|| from + Duration::seconds(span.seconds(calendar)))
                .max(from)
        };
        let mut applied = Vec::new();
        let mut clock = |k: ClockKind| {
            let (base, ov) = self.clock_rule(input.tier, input.unit, input.category, k);
            let t = add(start, base);
            match ov {
                None => t,
                Some((o, s)) => {
                    let to = add(start, s);
                    if o.replace || to < t {
                        if !applied.contains(&o.name) {
                            applied.push(o.name.clone());
                        }
                        to
                    } else {
                        t
                    }
                }
            }
        };
        let finish0 = clock(ClockKind::Finish);
        let respond = clock(ClockKind::Respond).min(finish0);
        let sign = clock(ClockKind::Sign).min(respond);
        let mut finish = finish0;
        for e in input.extensions {
            finish = match *e {
                Extension::Until(t) => finish.max(t),
                Extension::By(s) => add(finish, s),
            };
        }
        let mut recorded: Vec<(DateTime<Utc>, DateTime<Utc>)> = pauses
            .iter()
            .filter_map(|&(a, b)| b.map(|b| (a, b)))
            .filter(|(a, b)| a < b)
            .collect();
        recorded.sort();
        ClockReport {
            deadlines: Deadlines {
                sign: sign.max(start),
                respond: respond.max(start),
                finish: finish.max(start),
            },
            paused_since,
            pauses: recorded,
            finish_before_extensions: finish0,
            overrides: applied,
        }
    }
}

/// Picks the policy version in force on a date (the latest `effective_from` not after it).
pub fn policy_on(policies: &[DeadlinePolicy], date: NaiveDate) -> Option<&DeadlinePolicy> {
    policies
        .iter()
        .filter(|p| p.effective_from <= date)
        .max_by_key(|p| p.effective_from)
}

/// Where a clock stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClockState {
    /// 进行中
    Running,
    /// 即将超时
    DueSoon,
    /// 已超时
    Overdue,
    /// 按时完成
    Met,
    /// 超时完成
    MetLate,
}

impl ClockState {
    pub fn as_str(self) -> &'static str {
        match self {
            ClockState::Running => "running",
            ClockState::DueSoon => "due_soon",
            ClockState::Overdue => "overdue",
            ClockState::Met => "met",
            ClockState::MetLate => "met_late",
        }
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            ClockState::Running => "进行中",
            ClockState::DueSoon => "即将超时",
            ClockState::Overdue => "已超时",
            ClockState::Met => "按时完成",
            ClockState::MetLate => "超时完成",
        }
    }
}

/// When a running clock counts as due soon.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum DueSoon {
    /// Once this fraction of start → due has elapsed (wall time), e.g. 0.8.
    Fraction(f64),
    /// Once no more than this many minutes remain.
    RemainingMinutes(i64),
}

impl Default for DueSoon {
    fn default() -> Self {
        DueSoon::Fraction(0.8)
    }
}

/// The state of one clock at `now`. Done exactly at the deadline is met; not done exactly at the
/// deadline is due soon (overdue strictly after).
pub fn clock_state(
    due: DateTime<Utc>,
    done_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    start: DateTime<Utc>,
    due_soon: DueSoon,
) -> ClockState {
    if let Some(d) = done_at {
        return if d <= due {
            ClockState::Met
        } else {
            ClockState::MetLate
        };
    }
    if now > due {
        return ClockState::Overdue;
    }
    let soon = match due_soon {
        DueSoon::Fraction(f) => {
            let total = (due - start).num_seconds().max(0) as f64;
            let elapsed = (now - start).num_seconds() as f64;
            elapsed >= f.clamp(0.0, 1.0) * total
        }
        DueSoon::RemainingMinutes(m) => due - now <= Duration::minutes(m),
    };
    if soon {
        ClockState::DueSoon
    } else {
        ClockState::Running
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use jiesu_domain::deadline::DeadlineRules;

    fn bj(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap() - Duration::hours(8)
    }

    #[test]
    fn calendar_time_default_equals_the_domain_rules() {
        let p = DeadlinePolicy::calendar_time_default();
        let cal = Calendar::china_2025_2026();
        let start = bj(2026, 2, 13, 16, 47);
        for t in DeadlineTier::ALL {
            assert_eq!(
                p.deadlines(*t, "U", "0101", start, &cal, &[]),
                DeadlineRules::default().deadlines(*t, start)
            );
        }
    }

    #[test]
    fn beijing_default_counts_working_days_for_7d_and_overrides_floods() {
        let p = DeadlinePolicy::beijing_default();
        let cal = Calendar::china_2025_2026();
        let start = bj(2026, 2, 13, 10, 0); // Friday before Spring Festival
        let d = p.deadlines(DeadlineTier::D7, "110108010", "140201", start, &cal, &[]);
        // 2-14 (make-up Sat), then 2-24, 25, 26, 27, 28 (make-up Sat), 3-2 → 7 working days.
        assert_eq!(d.finish, bj(2026, 3, 2, 10, 0));
        assert_eq!(d.sign, bj(2026, 2, 13, 12, 0));
        assert_eq!(d.respond, bj(2026, 2, 14, 10, 0));
        let f = p.deadlines(DeadlineTier::H24, "110108D13", "270101", start, &cal, &[]);
        assert_eq!(f.finish, start + Duration::hours(1));
        assert!(f.sign <= f.respond && f.respond <= f.finish);
        // Water: 12 h cap on a 24 h ticket; but a 2 h ticket stays 2 h (a cap never loosens).
        let w = p.deadlines(DeadlineTier::H24, "110108D13", "060201", start, &cal, &[]);
        assert_eq!(w.finish, start + Duration::hours(12));
        let w2 = p.deadlines(DeadlineTier::H2, "SE003", "060201", start, &cal, &[]);
        assert_eq!(w2.finish, start + Duration::hours(2));
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(serde_json::from_str::<DeadlinePolicy>(&json).unwrap(), p);
    }

    #[test]
    fn pauses_and_extensions_move_the_finish() {
        let p = DeadlinePolicy::beijing_default();
        let cal = Calendar::china_2025_2026();
        let start = bj(2026, 3, 2, 9, 0);
        let pauses = [(bj(2026, 3, 2, 10, 0), Some(bj(2026, 3, 3, 10, 0)))];
        let ext = [
            Extension::By(Span::working_days(2)),
            Extension::Until(bj(2026, 3, 1, 0, 0)),
        ];
        let r = p.clocks(
            &ClockInput {
                tier: DeadlineTier::D7,
                unit: "X",
                category: "1402",
                start,
                pauses: &pauses,
                extensions: &ext,
                now: bj(2026, 3, 4, 0, 0),
            },
            &cal,
        );
        // 7 working days + 1 paused working day (Mon 10:00 → Tue 10:00 = 7 working hours), from
        // Mon 09:00: the 49th+7th working hour ends at 17:30 on the 8th working day (3-11); the
        // extension adds 2 working days (3-13 17:30). `Until` an earlier date changes nothing.
        assert_eq!(r.deadlines.finish, bj(2026, 3, 13, 17, 30));
        assert_eq!(r.finish_before_extensions, bj(2026, 3, 11, 17, 30));
        assert_eq!(r.pauses.len(), 1);
        assert!(r.paused_since.is_none());
        // Open pause: the clock is paused since 10:00 and deadlines assume resumption at now.
        let open = [(bj(2026, 3, 2, 10, 0), None)];
        let r = p.clocks(
            &ClockInput {
                tier: DeadlineTier::D7,
                unit: "X",
                category: "1402",
                start,
                pauses: &open,
                extensions: &[],
                now: bj(2026, 3, 3, 10, 0),
            },
            &cal,
        );
        assert_eq!(r.paused_since, Some(bj(2026, 3, 2, 10, 0)));
        assert_eq!(r.deadlines.finish, bj(2026, 3, 11, 17, 30));
    }

    #[test]
    fn clock_states() {
        let s = bj(2026, 3, 2, 9, 0);
        let due = s + Duration::hours(10);
        let f = DueSoon::Fraction(0.8);
        assert_eq!(
            clock_state(due, None, s + Duration::hours(1), s, f),
            ClockState::Running
        );
        assert_eq!(
            clock_state(due, None, s + Duration::hours(8), s, f),
            ClockState::DueSoon
        );
        assert_eq!(clock_state(due, None, due, s, f), ClockState::DueSoon);
        assert_eq!(
            clock_state(due, None, due + Duration::seconds(1), s, f),
            ClockState::Overdue
        );
        assert_eq!(
            clock_state(due, Some(due), due + Duration::hours(5), s, f),
            ClockState::Met
        );
        assert_eq!(
            clock_state(due, Some(due + Duration::minutes(1)), due, s, f),
            ClockState::MetLate
        );
        let r = DueSoon::RemainingMinutes(30);
        assert_eq!(
            clock_state(due, None, due - Duration::minutes(31), s, r),
            ClockState::Running
        );
        assert_eq!(
            clock_state(due, None, due - Duration::minutes(30), s, r),
            ClockState::DueSoon
        );
    }

    #[test]
    fn policy_versions_are_picked_by_date() {
        let a = DeadlinePolicy::calendar_time_default();
        let b = DeadlinePolicy::beijing_default();
        let v = [a.clone(), b.clone()];
        let d = |y, m, dd| NaiveDate::from_ymd_opt(y, m, dd).unwrap();
        assert_eq!(policy_on(&v, d(2024, 6, 1)), Some(&a));
        assert_eq!(policy_on(&v, d(2025, 6, 1)), Some(&b));
        assert_eq!(policy_on(&v, d(2018, 6, 1)), None);
    }

    #[test]
    fn review_deadlines_return_in_two_calendar_hours_extension_in_one_working_day() {
        let p = DeadlinePolicy::beijing_default();
        let cal = Calendar::china_2025_2026();
        // Friday 2026-03-06 23:00 Beijing: a return is decided by 01:00 on Saturday.
        let fri_late = bj(2026, 3, 6, 23, 0);
        assert_eq!(
            p.review_due(ReviewKind::Return, fri_late, &cal),
            bj(2026, 3, 7, 1, 0)
        );
        // An extension asked on Friday afternoon is due on the next working day, not Saturday.
        let fri = bj(2026, 3, 6, 15, 0);
        let due = p.review_due(ReviewKind::Extension, fri, &cal);
        assert!(due >= bj(2026, 3, 9, 9, 0), "{due}");
        assert!(due <= bj(2026, 3, 9, 18, 0), "{due}");
        // Never before the request.
        let t = bj(2026, 3, 8, 12, 0);
        assert!(p.review_due(ReviewKind::Extension, t, &cal) > t);
    }
}

/// The server's deadline source (the domain's [`jiesu_domain::DeadlineSource`]): the deadline
/// policy with its overrides, on a working-time calendar. Dispatch and reopen take their clocks
/// from it (`jiesu_domain::prepare`).
#[derive(Debug, Clone, Copy)]
pub struct WorkingDeadlines<'a> {
    /// The policy (tiers, overrides).
    pub policy: &'a DeadlinePolicy,
    /// The calendar (holidays, 调休, hours).
    pub calendar: &'a Calendar,
}

impl jiesu_domain::DeadlineSource for WorkingDeadlines<'_> {
    fn deadlines(
        &self,
        tier: DeadlineTier,
        unit: &str,
        category: &str,
        start: DateTime<Utc>,
    ) -> Deadlines {
        self.policy
            .deadlines(tier, unit, category, start, self.calendar, &[])
    }
}
