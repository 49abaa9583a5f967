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

/// The place a rule applies to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "level", content = "code", rename_all = "snake_case")]
pub enum PlaceScope {
    /// Anywhere in the city.
    Any,
    /// One district (区), by code.
    District(String),
    /// One street/town (街道/乡镇), by code.
    Street(String),
    /// One community/village (社区/村), by code.
    Community(String),
}

impl PlaceScope {
    /// 0 any, 1 district, 2 street, 3 community — more is more specific.
    pub fn level(&self) -> u8 {
        match self {
            PlaceScope::Any => 0,
            PlaceScope::District(_) => 1,
            PlaceScope::Street(_) => 2,
            PlaceScope::Community(_) => 3,
        }
    }
    pub fn code(&self) -> Option<&str> {
        match self {
            PlaceScope::Any => None,
            PlaceScope::District(c) | PlaceScope::Street(c) | PlaceScope::Community(c) => Some(c),
        }
    }
    /// The CSV form: `*`, `district:110108`, `street:110108010`, `community:110108010001`.
    pub fn to_field(&self) -> String {
        match self {
            PlaceScope::Any => "*".into(),
            PlaceScope::District(c) => format!("district:{c}"),
            PlaceScope::Street(c) => format!("street:{c}"),
            PlaceScope::Community(c) => format!("community:{c}"),
        }
    }
    /// Parses the CSV form (`*` or empty = anywhere).
    pub fn parse_field(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if s.is_empty() || s == "*" {
            return Ok(PlaceScope::Any);
        }
        let (level, code) = s.split_once(':').ok_or_else(|| {
            format!("place '{s}' is not '*', 'district:CODE', 'street:CODE' or 'community:CODE'")
        })?;
        let code = code.trim();
        if code.is_empty() || code.contains(char::is_whitespace) {
            return Err(format!("place '{s}' has an empty or malformed code"));
        }
        match level.trim() {
            "district" => Ok(PlaceScope::District(code.into())),
            "street" => Ok(PlaceScope::Street(code.into())),
            "community" => Ok(PlaceScope::Community(code.into())),
            other => Err(format!(
                "place level '{other}' is not district, street or community"
            )),
        }
    }
    /// The unit kind the code must have in the organisation tree.
    pub fn unit_kind(&self) -> Option<UnitKind> {
        match self {
            PlaceScope::Any => None,
            PlaceScope::District(_) => Some(UnitKind::District),
            PlaceScope::Street(_) => Some(UnitKind::StreetTown),
            PlaceScope::Community(_) => Some(UnitKind::Community),
        }
    }
    fn matches(&self, p: &NormPlace<'_>) -> bool {
        match self {
            PlaceScope::Any => true,
            PlaceScope::District(c) => p.district == c,
            PlaceScope::Street(c) => p.street == c,
            PlaceScope::Community(c) => p.community == c,
        }
    }
}

pub(crate) fn level_label_zh(level: u8) -> &'static str {
    match level {
        0 => "全市",
        1 => "区",
        2 => "街乡",
        _ => "社区村",
    }
}
pub(crate) fn level_label_en(level: u8) -> &'static str {
    match level {
        0 => "anywhere",
        1 => "district",
        2 => "street/town",
        _ => "community",
    }
}

/// Who a rule sends the ticket to: a concrete unit, or a slot resolved from the request's place.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "ref", content = "value", rename_all = "snake_case")]
pub enum UnitRef {
    /// A concrete unit code (`CD012`, `SE003`, `110108D03`, …). CSV: the code itself.
    Unit(String),
    /// The street/town of the request — 直派, "过站不停车". CSV: `{street}` (or `street`).
    Street,
    /// The district of the request itself (its 12345 sub-centre). CSV: `{district}` (or `district`).
    District,
    /// The department in slot `Dnn` of the request's district (unit code `{district}Dnn`).
    /// CSV: `{district}D03`.
    DistrictDept(String),
    /// The e-commerce firm named in the title or text (by its name in the org tree; names with
    /// `/` or `、` give several aliases). CSV: `{ecommerce}` (or `ecommerce`).
    Ecommerce,
}

impl UnitRef {
    pub fn to_field(&self) -> String {
        match self {
            UnitRef::Unit(c) => c.clone(),
            UnitRef::Street => "{street}".into(),
            UnitRef::District => "{district}".into(),
            UnitRef::DistrictDept(slot) => format!("{{district}}{slot}"),
            UnitRef::Ecommerce => "{ecommerce}".into(),
        }
    }
    pub fn parse_field(s: &str) -> Result<Self, String> {
        let s = s.trim();
        match s {
            "{street}" | "street" => return Ok(UnitRef::Street),
            "{district}" | "district" => return Ok(UnitRef::District),
            "{ecommerce}" | "ecommerce" => return Ok(UnitRef::Ecommerce),
            _ => {}
        }
        if let Some(slot) = s.strip_prefix("{district}") {
            if valid_slot(slot) {
                return Ok(UnitRef::DistrictDept(slot.into()));
            }
            return Err(format!(
                "'{s}': a district department slot is written {{district}}Dnn (D01 … D99)"
            ));
        }
        if s.is_empty() || s.contains(|c: char| c.is_whitespace() || "{}:;,|".contains(c)) {
            return Err(format!("'{s}' is not a unit code or a slot"));
        }
        Ok(UnitRef::Unit(s.into()))
    }
}

/// `D` followed by two digits.
pub(crate) fn valid_slot(slot: &str) -> bool {
    let b = slot.as_bytes();
    b.len() == 3 && b[0] == b'D' && b[1].is_ascii_digit() && b[2].is_ascii_digit()
}

/// One unit of a rule's dispatch, lead (主办) or assist (协办).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RuleAssignment {
    pub unit: UnitRef,
    pub role: AssignmentRole,
}

/// One version of one duty-catalogue rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    /// Stable across versions; `(id, effective_from)` identifies a version.
    pub id: String,
    /// First city-local date the version is in force.
    pub effective_from: NaiveDate,
    /// First city-local date it is no longer in force (exclusive); `None` = open-ended.
    #[serde(default)]
    pub effective_to: Option<NaiveDate>,
    /// Explicit precedence, compared first; 0 by default.
    #[serde(default)]
    pub priority: i32,
    /// A category code (any level); the rule covers that node and everything below. "" = any.
    pub category_prefix: String,
    pub place: PlaceScope,
    /// Keyword conditions on title + text: **all** entries must match (AND); an entry may list
    /// alternatives separated by `|` of which **any** must appear (OR). Case-sensitive substring.
    #[serde(default)]
    pub keywords: Vec<String>,
    /// `Some(true)`: enterprise requests (企业诉求) only; `Some(false)`: citizens only.
    #[serde(default)]
    pub enterprise: Option<bool>,
    /// Exactly one lead, any number of assists.
    pub assignments: Vec<RuleAssignment>,
    /// The default deadline tier.
    pub tier: DeadlineTier,
    #[serde(default)]
    pub note: String,
}

/// How specific a rule is; compared field by field (derive order), greater wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Rank {
    pub priority: i32,
    pub place_level: u8,
    pub prefix_len: u16,
    pub keyword_count: u16,
    pub enterprise_specified: bool,
}

impl Rule {
    pub fn rank(&self) -> Rank {
        Rank {
            priority: self.priority,
            place_level: self.place.level(),
            prefix_len: self.category_prefix.len().min(u16::MAX as usize) as u16,
            keyword_count: self.keywords.len().min(u16::MAX as usize) as u16,
            enterprise_specified: self.enterprise.is_some(),
        }
    }
    /// Whether the version is in force on a city-local date.
    pub fn active_on(&self, date: NaiveDate) -> bool {
        self.effective_from <= date && self.effective_to.is_none_or(|t| date < t)
    }
    /// Whether the two versions' date ranges share a day.
    pub fn dates_overlap(&self, other: &Rule) -> bool {
        let a_before_b_ends = other.effective_to.is_none_or(|t| self.effective_from < t);
        let b_before_a_ends = self.effective_to.is_none_or(|t| other.effective_from < t);
        a_before_b_ends && b_before_a_ends
    }
    /// Whether the keyword conditions hold for this title and text.
    pub fn keywords_match(&self, title: &str, text: &str) -> bool {
        self.keywords.iter().all(|group| {
            group
                .split('|')
                .map(str::trim)
                .filter(|k| !k.is_empty())
                .any(|k| title.contains(k) || text.contains(k))
        })
    }
    /// The lead's unit reference.
    pub fn lead(&self) -> Option<&UnitRef> {
        self.assignments
            .iter()
            .find(|a| a.role == AssignmentRole::Lead)
            .map(|a| &a.unit)
    }
    /// The part of a rule that, with the priority, decides when two rules are "the same scope".
    pub(crate) fn scope_key(&self) -> ScopeKey {
        let mut kw: Vec<String> = self
            .keywords
            .iter()
            .map(|g| {
                let mut alts: Vec<&str> = g.split('|').map(str::trim).collect();
                alts.sort_unstable();
                alts.join("|")
            })
            .collect();
        kw.sort();
        ScopeKey {
            priority: self.priority,
            place: self.place.clone(),
            prefix: self.category_prefix.clone(),
            keywords: kw,
            enterprise: self.enterprise,
        }
    }
    /// The assignments encoded as in CSV: `lead:{street};assist:{district}D03`.
    pub fn assignments_field(&self) -> String {
        self.assignments
            .iter()
            .map(|a| format!("{}:{}", a.role.as_str(), a.unit.to_field()))
            .collect::<Vec<_>>()
            .join(";")
    }
    /// A one-line description of the rule's scope, in Chinese and English.
    pub fn scope_text(&self) -> (String, String) {
        let cat = if self.category_prefix.is_empty() {
            ("任意分类".to_string(), "any category".to_string())
        } else {
            (
                format!("分类 {}", self.category_prefix),
                format!("category {}", self.category_prefix),
            )
        };
        let place = match &self.place {
            PlaceScope::Any => ("全市".to_string(), "anywhere".to_string()),
            p => (
                format!("{} {}", level_label_zh(p.level()), p.code().unwrap_or("")),
                format!("{} {}", level_label_en(p.level()), p.code().unwrap_or("")),
            ),
        };
        let mut zh = format!("{} · {}", cat.0, place.0);
        let mut en = format!("{}, {}", cat.1, place.1);
        if !self.keywords.is_empty() {
            let _ = write!(zh, " · 关键词 {}", self.keywords.join("+"));
            let _ = write!(en, ", keywords {}", self.keywords.join(" AND "));
        }
        match self.enterprise {
            Some(true) => {
                zh.push_str(" · 企业诉求");
                en.push_str(", enterprise requests");
            }
            Some(false) => {
                zh.push_str(" · 非企业诉求");
                en.push_str(", non-enterprise requests");
            }
            None => {}
        }
        if self.priority != 0 {
            let _ = write!(zh, " · 优先级 {}", self.priority);
            let _ = write!(en, ", priority {}", self.priority);
        }
        (zh, en)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct ScopeKey {
    pub priority: i32,
    pub place: PlaceScope,
    pub prefix: String,
    pub keywords: Vec<String>,
    pub enterprise: Option<bool>,
}

/// The facts of a request that routing looks at (owned, so callers can stream them).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct RouteFacts {
    pub category_code: String,
    /// May be empty if the street is known (the district is then taken from the org tree).
    pub district_code: String,
    pub street_code: String,
    #[serde(default)]
    pub community_code: Option<String>,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub text: String,
    #[serde(default)]
    pub enterprise: bool,
    /// A tier set at intake (e.g. urgent); the suggestion uses the more urgent of it and the rule's.
    #[serde(default)]
    pub tier: Option<DeadlineTier>,
}

impl RouteFacts {
    pub fn from_intake(i: &Intake) -> Self {
        RouteFacts {
            category_code: i.category_code.clone(),
            district_code: i.place.district_code.clone(),
            street_code: i.place.street_code.clone(),
            community_code: i.place.community_code.clone(),
            title: i.title.clone(),
            text: i.text.clone(),
            enterprise: i.enterprise,
            tier: i.tier,
        }
    }
}

impl From<&Intake> for RouteFacts {
    fn from(i: &Intake) -> Self {
        RouteFacts::from_intake(i)
    }
}

/// The request's place with the district filled in.
pub(crate) struct NormPlace<'a> {
    pub district: &'a str,
    pub street: &'a str,
    pub community: &'a str,
}

/// One unit of a suggestion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuggestedAssignment {
    pub unit_code: String,
    pub unit_name: String,
    pub unit_kind: UnitKind,
    pub role: AssignmentRole,
}

/// A complete alternative dispatch (used for runner-ups and conflicts).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alternative {
    pub rule_id: String,
    pub rank: Rank,
    pub assignments: Vec<SuggestedAssignment>,
    pub tier: DeadlineTier,
}

impl Alternative {
    pub fn lead(&self) -> Option<&SuggestedAssignment> {
        self.assignments
            .iter()
            .find(|a| a.role == AssignmentRole::Lead)
    }
}

/// How one candidate rule fared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CandidateStatus {
    /// The rule used.
    Won,
    /// Equally specific as the winner: a conflict, lost on the rule-id tie-break.
    Tie,
    /// Less specific than the winner.
    Lost,
    /// Matched, but its lead unit could not be resolved.
    Skipped,
}

/// One matching rule and why it did or did not win.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConsideredRule {
    pub rule_id: String,
    pub rank: Rank,
    pub status: CandidateStatus,
    pub reason_zh: String,
    pub reason_en: String,
}

/// Why the suggestion is what it is, for the dispatcher.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Explanation {
    pub zh: String,
    pub en: String,
    /// Every matching rule, best first.
    pub considered: Vec<ConsideredRule>,
}

/// The engine's proposal for a request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Suggestion {
    /// Lead first, then assists. Empty when no rule resolved.
    pub assignments: Vec<SuggestedAssignment>,
    pub tier: DeadlineTier,
    /// The winning rule (`None` when none matched).
    pub rule_id: Option<String>,
    pub rank: Option<Rank>,
    pub explanation: Explanation,
    /// The next best dispatches, each with a lead different from the winner's and from each other
    /// (best first) — for "return approved → re-dispatch with the next suggestion".
    pub runner_ups: Vec<Alternative>,
    /// Rules as specific as the winner that also matched (the tie was broken by rule id).
    pub conflicts: Vec<Alternative>,
    /// Assist units dropped because they could not be resolved (lead kept).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

impl Suggestion {
    pub fn lead(&self) -> Option<&SuggestedAssignment> {
        self.assignments
            .iter()
            .find(|a| a.role == AssignmentRole::Lead)
    }
    /// The best alternative whose lead is none of `returned_units` (units that already returned
    /// the ticket), the winner included: the re-dispatch after an approved return.
    pub fn next_after(&self, returned_units: &[&str]) -> Option<Alternative> {
        let winner = self.rule_id.as_ref().and_then(|id| {
            Some(Alternative {
                rule_id: id.clone(),
                rank: self.rank?,
                assignments: self.assignments.clone(),
                tier: self.tier,
            })
        });
        winner
            .into_iter()
            .chain(self.runner_ups.iter().cloned())
            .find(|a| {
                a.lead()
                    .is_some_and(|l| !returned_units.contains(&l.unit_code.as_str()))
            })
    }
}

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

/// A catalogue bound to an org tree.
pub struct Router<'a> {
    pub catalogue: &'a Catalogue,
    pub org: &'a OrgTree,
    /// The city's zone: a rule is in force on the local date of the request.
    zone: CityZone,
    firms: OnceCell<Vec<(&'a str, &'a str)>>,
    firm_calls: std::cell::Cell<u32>,
}

impl<'a> Router<'a> {
    pub fn new(catalogue: &'a Catalogue, org: &'a OrgTree) -> Self {
        Router {
            catalogue,
            org,
            zone: CityZone::default(),
            firms: OnceCell::new(),
            firm_calls: std::cell::Cell::new(0),
        }
    }

    /// The same router with rule validity on the local dates of `zone`.
    pub fn in_zone(mut self, zone: CityZone) -> Self {
        self.zone = zone;
        self
    }

    fn firms(&self) -> &[(&'a str, &'a str)] {
        self.firms.get_or_init(|| {
            let org: &'a OrgTree = self.org;
            let mut v: Vec<(&'a str, &'a str)> = org
                .of_kind(UnitKind::Ecommerce)
                .filter(|u| u.active)
                .flat_map(|u| firm_aliases(&u.name).map(move |a| (a, u.code.as_str())))
                .collect();
            v.sort_unstable();
            v
        })
    }

    /// The firm named earliest in the title, else in the text (then the longest alias, then the
    /// smaller code). The first call of a router scans the org tree without allocating; later
    /// calls use a cached alias list.
    fn named_firm(&self, title: &str, text: &str) -> Option<&'a str> {
        type Key<'k> = (u8, usize, std::cmp::Reverse<usize>, &'k str);
        let mut best: Option<Key<'a>> = None;
        let mut consider = |alias: &str, code: &'a str| {
            let pos = title
                .find(alias)
                .map(|p| (0u8, p))
                .or_else(|| text.find(alias).map(|p| (1u8, p)));
            if let Some((field, p)) = pos {
                let k = (field, p, std::cmp::Reverse(alias.len()), code);
                if best.is_none_or(|b| k < b) {
                    best = Some(k);
                }
            }
        };
        if self.firm_calls.get() == 0 && self.firms.get().is_none() {
            self.firm_calls.set(1);
            for u in self.org.of_kind(UnitKind::Ecommerce).filter(|u| u.active) {
                for alias in firm_aliases(&u.name) {
                    consider(alias, &u.code);
                }
            }
        } else {
            for &(alias, code) in self.firms() {
                consider(alias, code);
            }
        }
        best.map(|(_, _, _, c)| c)
    }

    fn unit_ok(&self, code: &str, want: Option<UnitKind>) -> Result<&'a Unit, Unresolved> {
        let u = self
            .org
            .get(code)
            .ok_or_else(|| Unresolved::NotFound(code.to_string()))?;
        if want.is_some_and(|k| k != u.kind) || !u.kind.dispatchable() {
            return Err(Unresolved::WrongKind(code.to_string(), u.kind));
        }
        if !u.active {
            return Err(Unresolved::Inactive(code.to_string()));
        }
        Ok(u)
    }

    /// The department in `slot` of `district`: `{district}{slot}`, else a child department of the
    /// district whose code ends with the slot.
    pub(crate) fn district_dept(&self, district: &str, slot: &str) -> Option<&'a Unit> {
        let code = format!("{district}{slot}");
        if let Some(u) = self.org.get(&code) {
            return Some(u);
        }
        self.org
            .children(district)
            .find(|u| u.kind == UnitKind::DistrictDepartment && u.code.ends_with(slot))
    }

    pub(crate) fn resolve_ref(
        &self,
        r: &UnitRef,
        p: &NormPlace<'_>,
        facts: &RouteFacts,
    ) -> Result<&'a Unit, Unresolved> {
        match r {
            UnitRef::Unit(c) => self.unit_ok(c, None),
            UnitRef::Street => {
                if p.street.is_empty() {
                    return Err(Unresolved::NoStreet);
                }
                self.unit_ok(p.street, Some(UnitKind::StreetTown))
            }
            UnitRef::District => {
                if p.district.is_empty() {
                    return Err(Unresolved::NoDistrict);
                }
                self.unit_ok(p.district, Some(UnitKind::District))
            }
            UnitRef::DistrictDept(slot) => {
                if p.district.is_empty() {
                    return Err(Unresolved::NoDistrict);
                }
                match self.district_dept(p.district, slot) {
                    Some(u) => self.unit_ok(&u.code, Some(UnitKind::DistrictDepartment)),
                    None => Err(Unresolved::NotFound(format!("{}{slot}", p.district))),
                }
            }
            UnitRef::Ecommerce => match self.named_firm(&facts.title, &facts.text) {
                Some(code) => self.unit_ok(code, Some(UnitKind::Ecommerce)),
                None => Err(Unresolved::NoFirmNamed),
            },
        }
    }

    fn resolve_rule(
        &self,
        rule: &Rule,
        p: &NormPlace<'_>,
        facts: &RouteFacts,
    ) -> (Resolution<'a>, Vec<String>) {
        let mut out: Vec<(&'a Unit, AssignmentRole)> = Vec::with_capacity(rule.assignments.len());
        let mut warnings = Vec::new();
        let mut has_lead = false;
        for a in &rule.assignments {
            match self.resolve_ref(&a.unit, p, facts) {
                Ok(u) => {
                    if out.iter().any(|x| x.0.code == u.code) {
                        continue;
                    }
                    has_lead |= a.role == AssignmentRole::Lead;
                    out.push((u, a.role));
                }
                Err(e) if a.role == AssignmentRole::Lead => return (Err(e), warnings),
                Err(e) => warnings.push(format!(
                    "协办 {} 未能确定：{} / assist {} dropped: {}",
                    a.unit.to_field(),
                    e.zh(),
                    a.unit.to_field(),
                    e.en()
                )),
            }
        }
        if !has_lead {
            return (Err(Unresolved::NotFound("(no lead)".into())), warnings);
        }
        (Ok(out), warnings)
    }

    fn norm_place<'f>(&self, facts: &'f RouteFacts) -> NormPlace<'f>
    where
        'a: 'f,
    {
        let district: &'f str = if !facts.district_code.is_empty() {
            &facts.district_code
        } else if !facts.street_code.is_empty() {
            self.org
                .district_of(&facts.street_code)
                .map(|u| u.code.as_str())
                .unwrap_or("")
        } else {
            ""
        };
        NormPlace {
            district,
            street: &facts.street_code,
            community: facts.community_code.as_deref().unwrap_or(""),
        }
    }

    /// Every matching rule in force on `date`, best first (rank desc, then id asc), resolved.
    /// The matching rules in force on `date`, best first (rank desc, then id asc), unresolved.
    fn matching(
        &self,
        facts: &RouteFacts,
        place: &NormPlace<'_>,
        date: NaiveDate,
    ) -> Vec<(Rank, u32)> {
        let rules = &self.catalogue.rules;
        let mut out: Vec<(Rank, u32)> = Vec::new();
        self.catalogue
            .index
            .for_each_candidate(&facts.category_code, place, |i| {
                let r = &rules[i as usize];
                if r.active_on(date)
                    && r.enterprise.is_none_or(|e| e == facts.enterprise)
                    && r.place.matches(place)
                    && r.keywords_match(&facts.title, &facts.text)
                {
                    out.push((r.rank(), i));
                }
            });
        out.sort_unstable_by(|a, b| {
            b.0.cmp(&a.0)
                .then_with(|| rules[a.1 as usize].id.cmp(&rules[b.1 as usize].id))
                .then_with(|| a.1.cmp(&b.1))
        });
        out
    }

    /// Every matching rule in force on `date`, best first, resolved.
    pub(crate) fn candidates(&self, facts: &RouteFacts, date: NaiveDate) -> Vec<Candidate<'a>> {
        let place = self.norm_place(facts);
        let rules: &'a [Rule] = &self.catalogue.rules;
        self.matching(facts, &place, date)
            .into_iter()
            .map(|(rank, i)| {
                let r = &rules[i as usize];
                let (outcome, warnings) = self.resolve_rule(r, &place, facts);
                Candidate {
                    rule: r,
                    rank,
                    outcome,
                    warnings,
                }
            })
            .collect()
    }

    /// Only the winner's lead unit, tier and rule index (no explanation) — for lint and what-if.
    pub fn quick_lead(&self, facts: &RouteFacts, at: DateTime<Utc>) -> Option<QuickRoute> {
        self.quick_lead_on(facts, self.zone.date(at))
    }

    pub(crate) fn quick_lead_on(&self, facts: &RouteFacts, date: NaiveDate) -> Option<QuickRoute> {
        let place = self.norm_place(facts);
        let rules: &'a [Rule] = &self.catalogue.rules;
        // Resolve best first and stop at the first rule whose lead resolves.
        self.matching(facts, &place, date)
            .into_iter()
            .find_map(|(_, i)| {
                let r = &rules[i as usize];
                let lead = r.lead()?;
                let u = self.resolve_ref(lead, &place, facts).ok()?;
                Some(QuickRoute {
                    lead: u.code.clone(),
                    tier: facts.tier.map_or(r.tier, |t| t.min(r.tier)),
                    rule_index: i as usize,
                })
            })
    }

    /// The full suggestion, see [`Catalogue::suggest`].
    pub fn suggest(&self, facts: &RouteFacts, at: DateTime<Utc>) -> Suggestion {
        let date = self.zone.date(at);
        let cands = self.candidates(facts, date);
        let winner_pos = cands.iter().position(|c| c.outcome.is_ok());
        let Some(wp) = winner_pos else {
            return self.no_route(facts, date, &cands);
        };
        let w = &cands[wp];
        let w_assign = w.outcome.as_deref().map(to_suggested).unwrap_or_default();
        let w_lead: &str = w
            .outcome
            .as_deref()
            .unwrap_or_default()
            .iter()
            .find(|a| a.1 == AssignmentRole::Lead)
            .map_or("", |a| a.0.code.as_str());
        let tier_of = |r: &Rule| facts.tier.map_or(r.tier, |t| t.min(r.tier));
        let mut conflicts = Vec::new();
        let mut runner_ups: Vec<Alternative> = Vec::new();
        let mut considered = Vec::with_capacity(cands.len());
        for (i, c) in cands.iter().enumerate() {
            let (status, zh, en) = if i == wp {
                (
                    CandidateStatus::Won,
                    "命中并采用".to_string(),
                    "matched and used".to_string(),
                )
            } else if let Err(e) = &c.outcome {
                (
                    CandidateStatus::Skipped,
                    format!("已跳过：{}", e.zh()),
                    format!("skipped: {}", e.en()),
                )
            } else if c.rank == w.rank {
                (
                    CandidateStatus::Tie,
                    format!(
                        "与 {} 同等具体（冲突），按规则编号取 {}",
                        w.rule.id, w.rule.id
                    ),
                    format!(
                        "as specific as {} (a conflict); tie broken by rule id in favour of {}",
                        w.rule.id, w.rule.id
                    ),
                )
            } else {
                let (zh, en) = why_better(w.rule, c.rule);
                (CandidateStatus::Lost, zh, en)
            };
            considered.push(ConsideredRule {
                rule_id: c.rule.id.clone(),
                rank: c.rank,
                status,
                reason_zh: zh,
                reason_en: en,
            });
            if i == wp {
                continue;
            }
            if let Ok(a) = &c.outcome {
                if i < wp {
                    continue;
                }
                let lead = a
                    .iter()
                    .find(|x| x.1 == AssignmentRole::Lead)
                    .map_or("", |x| x.0.code.as_str());
                let is_conflict = c.rank == w.rank;
                let is_runner_up = runner_ups.len() < 5
                    && lead != w_lead
                    && !runner_ups
                        .iter()
                        .any(|r| r.lead().is_some_and(|l| l.unit_code == lead));
                if is_conflict || is_runner_up {
                    let alt = Alternative {
                        rule_id: c.rule.id.clone(),
                        rank: c.rank,
                        assignments: to_suggested(a),
                        tier: tier_of(c.rule),
                    };
                    if is_conflict && is_runner_up {
                        conflicts.push(alt.clone());
                        runner_ups.push(alt);
                    } else if is_conflict {
                        conflicts.push(alt);
                    } else {
                        runner_ups.push(alt);
                    }
                }
            }
        }
        let tier = tier_of(w.rule);
        let (scope_zh, scope_en) = w.rule.scope_text();
        let names = |role: AssignmentRole| {
            w_assign
                .iter()
                .filter(|a| a.role == role)
                .map(|a| format!("{}({})", a.unit_name, a.unit_code))
                .collect::<Vec<_>>()
                .join("、")
        };
        let lead_s = names(AssignmentRole::Lead);
        let assist_s = names(AssignmentRole::Assist);
        let mut zh = format!("命中规则 {}（{}），主办 {}", w.rule.id, scope_zh, lead_s);
        let mut en = format!("Rule {} matched ({}); lead {}", w.rule.id, scope_en, lead_s);
        if !assist_s.is_empty() {
            let _ = write!(zh, "，协办 {assist_s}");
            let _ = write!(en, ", assisting {assist_s}");
        }
        let _ = write!(zh, "，时限 {}。", tier.label_zh());
        let _ = write!(en, ", deadline tier {}.", tier.as_str());
        if facts.tier.is_some_and(|t| t < w.rule.tier) {
            zh.push_str("（受理时标注的时限更紧，已采用。）");
            en.push_str(" (The tier set at intake is more urgent and is used.)");
        }
        if matches!(w.rule.lead(), Some(UnitRef::Street)) {
            zh.push_str("地点明确、职责清晰，直派街乡（过站不停车）。");
            en.push_str(" Clear place and duty: sent straight to the street/town (直派).");
        }
        let others: Vec<&ConsideredRule> = considered
            .iter()
            .filter(|c| c.status != CandidateStatus::Won)
            .collect();
        if others.is_empty() {
            zh.push_str("没有其他规则匹配。");
            en.push_str(" No other rule matched.");
        } else {
            for c in others.iter().take(4) {
                let _ = write!(zh, "{}：{}；", c.rule_id, c.reason_zh);
                let _ = write!(en, " {}: {};", c.rule_id, c.reason_en);
            }
            if others.len() > 4 {
                let _ = write!(zh, "另有 {} 条规则。", others.len() - 4);
                let _ = write!(en, " … and {} more.", others.len() - 4);
            }
        }
        if !conflicts.is_empty() {
            let _ = write!(
                zh,
                "注意：{} 条同等具体的规则冲突，请修订目录。",
                conflicts.len()
            );
            let _ = write!(
                en,
                " Note: {} equally specific rule(s) conflict; the catalogue should be fixed.",
                conflicts.len()
            );
        }
        Suggestion {
            assignments: w_assign,
            tier,
            rule_id: Some(w.rule.id.clone()),
            rank: Some(w.rank),
            explanation: Explanation { zh, en, considered },
            runner_ups,
            conflicts,
            warnings: w.warnings.clone(),
        }
    }

    fn no_route(&self, facts: &RouteFacts, date: NaiveDate, cands: &[Candidate<'_>]) -> Suggestion {
        let considered: Vec<ConsideredRule> = cands
            .iter()
            .map(|c| {
                let e = c.outcome.as_ref().err();
                ConsideredRule {
                    rule_id: c.rule.id.clone(),
                    rank: c.rank,
                    status: CandidateStatus::Skipped,
                    reason_zh: e.map(|e| format!("已跳过：{}", e.zh())).unwrap_or_default(),
                    reason_en: e
                        .map(|e| format!("skipped: {}", e.en()))
                        .unwrap_or_default(),
                }
            })
            .collect();
        let (zh, en) = if cands.is_empty() {
            (
                format!(
                    "派单目录中没有在 {date} 生效且适用于分类 {} 的规则，请人工派单。",
                    facts.category_code
                ),
                format!(
                    "No catalogue rule in force on {date} covers category {} at this place; dispatch by hand.",
                    facts.category_code
                ),
            )
        } else {
            (
                format!(
                    "{} 条规则匹配，但主办单位都无法确定，请人工派单。",
                    cands.len()
                ),
                format!(
                    "{} rule(s) matched but none could resolve its lead unit; dispatch by hand.",
                    cands.len()
                ),
            )
        };
        Suggestion {
            assignments: Vec::new(),
            tier: facts.tier.unwrap_or(DeadlineTier::D7),
            rule_id: None,
            rank: None,
            explanation: Explanation { zh, en, considered },
            runner_ups: Vec::new(),
            conflicts: Vec::new(),
            warnings: Vec::new(),
        }
    }
}

/// The winner's lead unit in brief.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuickRoute {
    pub lead: String,
    pub tier: DeadlineTier,
    /// Index into [`Catalogue::rules`].
    pub rule_index: usize,
}

/// Why `w` beats `l`: "W 胜出：<first precedence criterion that differs>", in Chinese and English.
pub(crate) fn why_better(w: &Rule, l: &Rule) -> (String, String) {
    use std::fmt::Write;
    let (a, b) = (w.rank(), l.rank());
    let mut zh = String::with_capacity(64);
    let mut en = String::with_capacity(64);
    let _ = write!(zh, "{} 胜出：", w.id);
    let _ = write!(en, "{} wins: ", w.id);
    fn show(p: &str) -> &str {
        if p.is_empty() {
            "*"
        } else {
            p
        }
    }
    if a.priority != b.priority {
        let _ = write!(zh, "优先级更高（{} > {}）", a.priority, b.priority);
        let _ = write!(en, "higher priority ({} > {})", a.priority, b.priority);
    } else if a.place_level != b.place_level {
        let _ = write!(
            zh,
            "地点更具体（{} > {}）",
            level_label_zh(a.place_level),
            level_label_zh(b.place_level)
        );
        let _ = write!(
            en,
            "more specific place ({} > {})",
            level_label_en(a.place_level),
            level_label_en(b.place_level)
        );
    } else if a.prefix_len != b.prefix_len {
        let (x, y) = (show(&w.category_prefix), show(&l.category_prefix));
        let _ = write!(zh, "分类更具体（前缀 {x} 长于 {y}）");
        let _ = write!(en, "longer category prefix ({x} vs {y})");
    } else if a.keyword_count != b.keyword_count {
        let _ = write!(
            zh,
            "关键词条件更多（{} > {}）",
            a.keyword_count, b.keyword_count
        );
        let _ = write!(
            en,
            "more keyword conditions ({} > {})",
            a.keyword_count, b.keyword_count
        );
    } else if a.enterprise_specified != b.enterprise_specified {
        zh.push_str("限定了是否企业诉求");
        en.push_str("it restricts the enterprise flag");
    } else {
        zh.push_str("同等具体，按规则编号决定");
        en.push_str("equally specific; decided by rule id");
    }
    (zh, en)
}
