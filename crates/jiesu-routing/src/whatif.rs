//! What-if: replay tickets under the current and a draft catalogue and compare.

use crate::catalogue::{Catalogue, RouteFacts};
use chrono::{DateTime, NaiveDate, Utc};
use jiesu_domain::org::OrgTree;
use jiesu_domain::ticket::{AssignmentRole, DeadlineTier};
use jiesu_domain::CityZone;
use jiesu_domain::TicketState;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One unit's load under both catalogues.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitLoad {
    pub unit_code: String,
    pub unit_name: String,
    pub current: usize,
    pub draft: usize,
    pub delta: i64,
}

/// Tickets per tier under both catalogues.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TierCount {
    pub tier: DeadlineTier,
    pub current: usize,
    pub draft: usize,
}

/// One ticket whose lead would change (a sample).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Moved {
    /// Position in the input.
    pub index: usize,
    pub category_code: String,
    pub street_code: String,
    pub from_unit: Option<String>,
    pub to_unit: Option<String>,
    pub from_rule: Option<String>,
    pub to_rule: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WhatIfReport {
    pub on: NaiveDate,
    pub tickets: usize,
    /// Tickets that get a lead under the current / the draft catalogue.
    pub routed_current: usize,
    pub routed_draft: usize,
    /// Tickets whose suggested lead differs between the two.
    pub changed_lead: usize,
    pub changed_share: f64,
    /// Tickets whose suggested tier differs.
    pub changed_tier: usize,
    /// Units gaining most load (draft − current > 0), largest first (top 10).
    pub gainers: Vec<UnitLoad>,
    /// Units losing most load, largest loss first (top 10).
    pub losers: Vec<UnitLoad>,
    pub by_tier: Vec<TierCount>,
    /// Mean nominal finish time (hours of the tier) under each: deadline pressure.
    pub mean_tier_hours_current: f64,
    pub mean_tier_hours_draft: f64,
    /// Of the tickets with a known actual lead, the share each catalogue agrees with.
    pub with_actual: usize,
    pub agree_actual_current: f64,
    pub agree_actual_draft: f64,
    pub sample: Vec<Moved>,
}

/// The start of a what-if window over the last `months` (30 days each) before `now`: the
/// dispatched tickets whose lead assignment falls in `[since, now]` are replayed.
pub fn whatif_since(now: DateTime<Utc>, months: u32) -> DateTime<Utc> {
    now - chrono::Duration::days(30 * months as i64)
}

/// One dispatched ticket as a what-if replays it: its routing facts and the lead unit it actually
/// got (its first lead assignment), if any.
pub fn replay_item(t: &TicketState) -> (RouteFacts, Option<String>) {
    let actual = t
        .assignments
        .iter()
        .find(|a| a.role == AssignmentRole::Lead)
        .map(|a| a.unit.clone());
    (RouteFacts::from_intake(&t.intake), actual)
}

/// [`whatif`] over tickets as they are (each through [`replay_item`]).
pub fn whatif_tickets<I>(
    current: &Catalogue,
    draft: &Catalogue,
    tickets: I,
    org: &OrgTree,
    at: DateTime<Utc>,
    zone: CityZone,
) -> WhatIfReport
where
    I: IntoIterator<Item = TicketState>,
{
    whatif(
        current,
        draft,
        tickets.into_iter().map(|t| replay_item(&t)),
        org,
        at,
        zone,
    )
}

/// Replays `tickets` (facts, actual lead unit if known) under both catalogues, rules in force on
/// the city-local date of `at` (for a draft: its planned publication).
pub fn whatif<I>(
    current: &Catalogue,
    draft: &Catalogue,
    tickets: I,
    org: &OrgTree,
    at: DateTime<Utc>,
    zone: CityZone,
) -> WhatIfReport
where
    I: IntoIterator<Item = (RouteFacts, Option<String>)>,
{
    let on = zone.date(at);
    let (rc, rd) = (current.router_in(org, zone), draft.router_in(org, zone));
    let mut load: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut tiers: BTreeMap<DeadlineTier, (usize, usize)> = BTreeMap::new();
    let mut r = WhatIfReport {
        on,
        tickets: 0,
        routed_current: 0,
        routed_draft: 0,
        changed_lead: 0,
        changed_share: 0.0,
        changed_tier: 0,
        gainers: Vec::new(),
        losers: Vec::new(),
        by_tier: Vec::new(),
        mean_tier_hours_current: 0.0,
        mean_tier_hours_draft: 0.0,
        with_actual: 0,
        agree_actual_current: 0.0,
        agree_actual_draft: 0.0,
        sample: Vec::new(),
    };
    let (mut hours_c, mut hours_d) = (0.0, 0.0);
    let (mut agree_c, mut agree_d) = (0usize, 0usize);
    for (i, (facts, actual)) in tickets.into_iter().enumerate() {
        r.tickets += 1;
        let c = rc.quick_lead_on(&facts, on);
        let d = rd.quick_lead_on(&facts, on);
        if let Some(c) = &c {
            r.routed_current += 1;
            load.entry(c.lead.clone()).or_default().0 += 1;
            tiers.entry(c.tier).or_default().0 += 1;
            hours_c += c.tier.minutes() as f64 / 60.0;
        }
        if let Some(d) = &d {
            r.routed_draft += 1;
            load.entry(d.lead.clone()).or_default().1 += 1;
            tiers.entry(d.tier).or_default().1 += 1;
            hours_d += d.tier.minutes() as f64 / 60.0;
        }
        let (cl, dl) = (c.as_ref().map(|x| &x.lead), d.as_ref().map(|x| &x.lead));
        if cl != dl {
            r.changed_lead += 1;
            if r.sample.len() < 20 {
                r.sample.push(Moved {
                    index: i,
                    category_code: facts.category_code.clone(),
                    street_code: facts.street_code.clone(),
                    from_unit: cl.cloned(),
                    to_unit: dl.cloned(),
                    from_rule: c.as_ref().map(|x| current.rules()[x.rule_index].id.clone()),
                    to_rule: d.as_ref().map(|x| draft.rules()[x.rule_index].id.clone()),
                });
            }
        }
        if c.as_ref().map(|x| x.tier) != d.as_ref().map(|x| x.tier) {
            r.changed_tier += 1;
        }
        if let Some(a) = actual.filter(|a| !a.is_empty()) {
            r.with_actual += 1;
            agree_c += usize::from(cl == Some(&a));
            agree_d += usize::from(dl == Some(&a));
        }
    }
    let share = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    r.changed_share = share(r.changed_lead, r.tickets);
    r.mean_tier_hours_current = if r.routed_current == 0 {
        0.0
    } else {
        hours_c / r.routed_current as f64
    };
    r.mean_tier_hours_draft = if r.routed_draft == 0 {
        0.0
    } else {
        hours_d / r.routed_draft as f64
    };
    r.agree_actual_current = share(agree_c, r.with_actual);
    r.agree_actual_draft = share(agree_d, r.with_actual);
    let mut loads: Vec<UnitLoad> = load
        .into_iter()
        .filter(|(_, (c, d))| c != d)
        .map(|(u, (c, d))| UnitLoad {
            unit_name: org.get(&u).map(|x| x.name.clone()).unwrap_or_default(),
            unit_code: u,
            current: c,
            draft: d,
            delta: d as i64 - c as i64,
        })
        .collect();
    loads.sort_by(|a, b| b.delta.cmp(&a.delta).then(a.unit_code.cmp(&b.unit_code)));
    r.gainers = loads
        .iter()
        .filter(|l| l.delta > 0)
        .take(10)
        .cloned()
        .collect();
    loads.sort_by(|a, b| a.delta.cmp(&b.delta).then(a.unit_code.cmp(&b.unit_code)));
    r.losers = loads
        .iter()
        .filter(|l| l.delta < 0)
        .take(10)
        .cloned()
        .collect();
    r.by_tier = DeadlineTier::ALL
        .iter()
        .map(|t| {
            let (c, d) = tiers.get(t).copied().unwrap_or_default();
            TierCount {
                tier: *t,
                current: c,
                draft: d,
            }
        })
        .collect();
    r
}

impl std::fmt::Display for WhatIfReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "派单目录草稿影响评估 / what-if for the draft catalogue (rules in force on {})",
            self.on
        )?;
        writeln!(
            f,
            "工单 tickets: {}   有建议 routed: current {} / draft {}",
            self.tickets, self.routed_current, self.routed_draft
        )?;
        writeln!(
            f,
            "改派 would go to a different lead unit: {} ({:.1}%)   时限变化 tier changes: {}",
            self.changed_lead,
            self.changed_share * 100.0,
            self.changed_tier
        )?;
        if self.with_actual > 0 {
            writeln!(
                f,
                "与实际派单一致 agrees with the actual lead ({} tickets): current {:.1}% → draft {:.1}%",
                self.with_actual,
                self.agree_actual_current * 100.0,
                self.agree_actual_draft * 100.0
            )?;
        }
        writeln!(f, "增加工作量 gaining load:")?;
        if self.gainers.is_empty() {
            writeln!(f, "  (none)")?;
        }
        for l in &self.gainers {
            writeln!(
                f,
                "  +{:<6} {} {} ({} → {})",
                l.delta, l.unit_code, l.unit_name, l.current, l.draft
            )?;
        }
        writeln!(f, "减少工作量 losing load:")?;
        if self.losers.is_empty() {
            writeln!(f, "  (none)")?;
        }
        for l in &self.losers {
            writeln!(
                f,
                "  {:<7} {} {} ({} → {})",
                l.delta, l.unit_code, l.unit_name, l.current, l.draft
            )?;
        }
        writeln!(
            f,
            "时限压力 deadline pressure (tickets by tier, current → draft):"
        )?;
        for t in &self.by_tier {
            writeln!(
                f,
                "  {:<4} {:>8} → {:<8} ({:+})",
                t.tier.as_str(),
                t.current,
                t.draft,
                t.draft as i64 - t.current as i64
            )?;
        }
        writeln!(
            f,
            "  mean nominal finish time: {:.1} h → {:.1} h",
            self.mean_tier_hours_current, self.mean_tier_hours_draft
        )?;
        Ok(())
    }
}
