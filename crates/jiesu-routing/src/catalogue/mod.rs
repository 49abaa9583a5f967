//! The duty catalogue (接诉即办职责目录 / 派单目录): versioned rules mapping (category, place,
//! keywords, enterprise flag) to the responsible units, and the explained suggestion.
//!
//! # Precedence
//!
//! Of the rules that are in force on the request's city-local date and match it, the winner is the one
//! with the greatest [`Rank`], compared field by field in this order:
//!
//! 1. `priority` — an explicit integer, 0 by default; an administrator raises it to force a rule.
//! 2. place specificity — community (3) > street/town (2) > district (1) > anywhere (0).
//! 3. category prefix length — `140201` (a leaf) > `1402` > `14` > `` (any category).
//! 4. number of keyword conditions — a rule with keywords beats one without.
//! 5. enterprise flag — a rule that says `yes`/`no` beats one that does not care.
//!
//! Rules with equal rank that both match are a **conflict**: it is reported in the suggestion
//! (and by `lint`), and broken deterministically by the smaller rule id. A matching rule whose
//! lead unit cannot be resolved (no street in the request, retired unit, missing department slot,
//! no e-commerce firm named) is skipped and the explanation says why; the next rule is used.

use crate::fxhash::FxMap;
use chrono::{DateTime, NaiveDate, Utc};
use jiesu_domain::org::{OrgTree, Unit, UnitKind};
use jiesu_domain::ticket::{AssignmentRole, DeadlineTier, Intake};
use jiesu_domain::CityZone;
use serde::{Deserialize, Serialize};
use std::cell::OnceCell;
use std::collections::HashMap;
use std::fmt::Write as _;

mod router;
mod rule;
mod suggestion;

pub use router::*;
pub use rule::*;
pub use suggestion::*;

/// Rule indices by place level → place code → category prefix.
#[derive(Debug, Clone, Default)]
struct Index {
    buckets: [FxMap<String, FxMap<String, Vec<u32>>>; 4],
    prefix_lens: Vec<usize>,
}

impl Index {
    fn build(rules: &[Rule]) -> Self {
        let mut ix = Index::default();
        for (i, r) in rules.iter().enumerate() {
            let lvl = r.place.level() as usize;
            let code = r.place.code().unwrap_or("").to_string();
            ix.buckets[lvl]
                .entry(code)
                .or_default()
                .entry(r.category_prefix.clone())
                .or_default()
                .push(i as u32);
            if !ix.prefix_lens.contains(&r.category_prefix.len()) {
                ix.prefix_lens.push(r.category_prefix.len());
            }
        }
        ix.prefix_lens.sort_unstable();
        ix
    }
    /// Calls `f` with every rule index whose place and category prefix fit the request.
    fn for_each_candidate(&self, cat: &str, p: &NormPlace<'_>, mut f: impl FnMut(u32)) {
        let codes = ["", p.district, p.street, p.community];
        for (lvl, code) in codes.iter().enumerate() {
            if lvl > 0 && code.is_empty() {
                continue;
            }
            let Some(by_prefix) = self.buckets[lvl].get(*code) else {
                continue;
            };
            for &len in &self.prefix_lens {
                if len > cat.len() {
                    break;
                }
                if !cat.is_char_boundary(len) {
                    continue;
                }
                if let Some(ids) = by_prefix.get(&cat[..len]) {
                    ids.iter().for_each(|&i| f(i));
                }
            }
        }
    }
}

/// The versioned duty catalogue: every version of every rule, indexed for fast suggestion.
#[derive(Debug, Clone, Default)]
pub struct Catalogue {
    rules: Vec<Rule>,
    index: Index,
}

impl PartialEq for Catalogue {
    fn eq(&self, other: &Self) -> bool {
        self.rules == other.rules
    }
}

impl Serialize for Catalogue {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Data<'a> {
            rules: &'a [Rule],
        }
        Data { rules: &self.rules }.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Catalogue {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Data {
            rules: Vec<Rule>,
        }
        Ok(Catalogue::new(Data::deserialize(d)?.rules))
    }
}

impl Catalogue {
    /// Builds the index. Rules are kept in canonical order (id, then effective_from); lead
    /// assignments are moved first. No validation: see [`Catalogue::from_csv`] and
    /// [`crate::lint::lint`] / [`Catalogue::structural_problems`].
    pub fn new(mut rules: Vec<Rule>) -> Self {
        for r in &mut rules {
            r.assignments
                .sort_by_key(|a| (a.role != AssignmentRole::Lead) as u8);
        }
        rules.sort_by(|a, b| {
            (a.id.as_str(), a.effective_from).cmp(&(b.id.as_str(), b.effective_from))
        });
        let index = Index::build(&rules);
        Catalogue { rules, index }
    }
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }
    pub fn len(&self) -> usize {
        self.rules.len()
    }
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
    pub fn into_rules(self) -> Vec<Rule> {
        self.rules
    }
    /// The version of rule `id` in force on a city-local date.
    pub fn get(&self, id: &str, on: NaiveDate) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id == id && r.active_on(on))
    }
    /// The versions in force on a city-local date.
    pub fn active_on(&self, on: NaiveDate) -> impl Iterator<Item = &Rule> {
        self.rules.iter().filter(move |r| r.active_on(on))
    }
    /// Problems that need no org tree: missing/duplicate lead, overlapping versions of the same
    /// id, and overlapping rules (same priority and scope, dates overlap). `(rule index, other
    /// rule index, message)`.
    pub fn structural_problems(&self) -> Vec<(usize, Option<usize>, String)> {
        let mut out = Vec::new();
        for (i, r) in self.rules.iter().enumerate() {
            let leads = r
                .assignments
                .iter()
                .filter(|a| a.role == AssignmentRole::Lead)
                .count();
            if leads != 1 {
                out.push((
                    i,
                    None,
                    format!("rule {} has {leads} lead units (exactly one needed)", r.id),
                ));
            }
            if let Some(t) = r.effective_to {
                if t <= r.effective_from {
                    out.push((
                        i,
                        None,
                        format!("rule {} ends ({t}) on or before it starts", r.id),
                    ));
                }
            }
        }
        // Versions of one id must not overlap (rules are sorted by id, effective_from).
        for w in 0..self.rules.len() {
            for v in (w + 1)..self.rules.len() {
                if self.rules[v].id != self.rules[w].id {
                    break;
                }
                if self.rules[w].dates_overlap(&self.rules[v]) {
                    out.push((
                        w,
                        Some(v),
                        format!(
                            "two versions of rule {} overlap in time ({} and {})",
                            self.rules[w].id,
                            self.rules[w].effective_from,
                            self.rules[v].effective_from
                        ),
                    ));
                }
            }
        }
        // Different rules with the same scope and priority must not overlap in time.
        let mut by_scope: HashMap<ScopeKey, Vec<usize>> = HashMap::new();
        for (i, r) in self.rules.iter().enumerate() {
            by_scope.entry(r.scope_key()).or_default().push(i);
        }
        let mut groups: Vec<&Vec<usize>> = by_scope.values().filter(|g| g.len() > 1).collect();
        groups.sort();
        for g in groups {
            for (x, &a) in g.iter().enumerate() {
                for &b in &g[x + 1..] {
                    let (ra, rb) = (&self.rules[a], &self.rules[b]);
                    if ra.id != rb.id && ra.dates_overlap(rb) {
                        out.push((
                            a,
                            Some(b),
                            format!(
                                "rules {} and {} overlap: same scope and priority, and their dates overlap",
                                ra.id, rb.id
                            ),
                        ));
                    }
                }
            }
        }
        out
    }

    /// A router bound to an org tree (caches the e-commerce firm names); use it for loops.
    /// A router in the default zone ([`CityZone::default`]); servers use [`Catalogue::router_in`].
    pub fn router<'a>(&'a self, org: &'a OrgTree) -> Router<'a> {
        Router::new(self, org)
    }

    /// A router whose rule validity follows the city's local date.
    pub fn router_in<'a>(&'a self, org: &'a OrgTree, zone: CityZone) -> Router<'a> {
        Router::new(self, org).in_zone(zone)
    }

    /// Suggests the dispatch for a request at instant `at` (rules in force on its local date in the
    /// default zone), with the explanation, runner-ups and conflicts.
    pub fn suggest(&self, facts: &RouteFacts, at: DateTime<Utc>, org: &OrgTree) -> Suggestion {
        Router::new(self, org).suggest(facts, at)
    }

    /// [`Catalogue::suggest`] on the city's local date.
    pub fn suggest_in(
        &self,
        facts: &RouteFacts,
        at: DateTime<Utc>,
        org: &OrgTree,
        zone: CityZone,
    ) -> Suggestion {
        Router::new(self, org).in_zone(zone).suggest(facts, at)
    }
}

/// Why a matching rule could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Unresolved {
    NoStreet,
    NoDistrict,
    NoFirmNamed,
    NotFound(String),
    Inactive(String),
    WrongKind(String, UnitKind),
}

impl Unresolved {
    fn zh(&self) -> String {
        match self {
            Unresolved::NoStreet => "诉求未注明街乡，无法直派".into(),
            Unresolved::NoDistrict => "诉求未注明所在区".into(),
            Unresolved::NoFirmNamed => "诉求中未提及电商企业名称".into(),
            Unresolved::NotFound(c) => format!("单位 {c} 不存在"),
            Unresolved::Inactive(c) => format!("单位 {c} 已撤销"),
            Unresolved::WrongKind(c, k) => format!("单位 {c} 类型为{}，不能承办", k.label_zh()),
        }
    }
    fn en(&self) -> String {
        match self {
            Unresolved::NoStreet => "the request names no street/town".into(),
            Unresolved::NoDistrict => "the request names no district".into(),
            Unresolved::NoFirmNamed => "no e-commerce firm is named in the request".into(),
            Unresolved::NotFound(c) => format!("unit {c} does not exist"),
            Unresolved::Inactive(c) => format!("unit {c} is retired"),
            Unresolved::WrongKind(c, k) => {
                format!("unit {c} is a {} and cannot be dispatched to", k.as_str())
            }
        }
    }
}

/// A matching rule with its resolution.
pub(crate) struct Candidate<'r> {
    pub rule: &'r Rule,
    pub rank: Rank,
    pub outcome: Resolution<'r>,
    pub warnings: Vec<String>,
}

/// A rule's units resolved for a request, or why its lead could not be.
pub(crate) type Resolution<'r> = Result<Vec<(&'r Unit, AssignmentRole)>, Unresolved>;

fn to_suggested(v: &[(&Unit, AssignmentRole)]) -> Vec<SuggestedAssignment> {
    v.iter()
        .map(|(u, role)| SuggestedAssignment {
            unit_code: u.code.clone(),
            unit_name: u.name.clone(),
            unit_kind: u.kind,
            role: *role,
        })
        .collect()
}

/// The names by which a firm is recognised: its name split at `/`, `／`, `、` (two characters or
/// more each).
fn firm_aliases(name: &str) -> impl Iterator<Item = &str> {
    name.split(['/', '／', '、'])
        .map(str::trim)
        .filter(|a| a.chars().count() >= 2)
}
