//! A catalogue bound to an org tree ([`Router`]): matching, resolving slots to units, the winner
//! and its explanation.

use super::*;

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
