//! Benchmarks as library functions (`jiesu bench route` prints them). The only module that reads a
//! clock (`std::time::Instant`), to time itself. Single-threaded: figures are for one core.

use crate::catalogue::{Catalogue, PlaceScope, RouteFacts, Rule, RuleAssignment, UnitRef};
use crate::policy::ClockKind;
use crate::scheduler::{due_reminders, ClockKey, Emitted, OpenClock, Scheduler, Thresholds};
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use jiesu_domain::category::{Category, CategoryTree};
use jiesu_domain::org::{OrgTree, Unit, UnitKind};
use jiesu_domain::ticket::{AssignmentRole, DeadlineTier};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::time::Instant;

/// One measured figure with its goal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BenchFigure {
    pub name: String,
    /// Operations timed (suggestions, clocks …).
    pub count: u64,
    pub seconds: f64,
    pub per_second: f64,
    /// e.g. "≥ 50000/s" or "< 1 s"; empty if informative only.
    pub goal: String,
    /// figure / goal for throughput goals, goal / figure for time goals: ≥ 1 means met.
    pub goal_ratio: Option<f64>,
}

impl BenchFigure {
    pub fn met(&self) -> Option<bool> {
        self.goal_ratio.map(|r| r >= 1.0)
    }
    /// A print-ready line.
    pub fn line(&self) -> String {
        let mut s = format!(
            "{:<44} {:>12.0}/s  {:>9.3} s  ({} ops)",
            self.name, self.per_second, self.seconds, self.count
        );
        if let Some(r) = self.goal_ratio {
            s.push_str(&format!(
                "  goal {} → ratio {:.2} {}",
                self.goal,
                r,
                if r >= 1.0 { "OK" } else { "MISSED" }
            ));
        }
        s
    }
}

/// A benchmark's figures and setting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BenchReport {
    pub title: String,
    pub setting: String,
    pub figures: Vec<BenchFigure>,
}

impl std::fmt::Display for BenchReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "{} — {}", self.title, self.setting)?;
        for x in &self.figures {
            writeln!(f, "  {}", x.line())?;
        }
        Ok(())
    }
}

/// splitmix64: a tiny deterministic generator.
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);
impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
    pub fn chance(&mut self, p: f64) -> bool {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
}

fn unit(code: String, name: String, kind: UnitKind, parent: Option<&str>) -> Unit {
    Unit {
        code,
        name,
        kind,
        parent: parent.map(Into::into),
        population: None,
        zone: None,
        active: true,
    }
}

const DISTRICTS: [(&str, &str); 16] = [
    ("110101", "东城区"),
    ("110102", "西城区"),
    ("110105", "朝阳区"),
    ("110106", "丰台区"),
    ("110107", "石景山区"),
    ("110108", "海淀区"),
    ("110109", "门头沟区"),
    ("110111", "房山区"),
    ("110112", "通州区"),
    ("110113", "顺义区"),
    ("110114", "昌平区"),
    ("110115", "大兴区"),
    ("110116", "怀柔区"),
    ("110117", "平谷区"),
    ("110118", "密云区"),
    ("110119", "延庆区"),
];

/// A Beijing-sized synthetic org tree: the centre, 16 districts with 21–22 streets each (343),
/// 20 communities per street, 24 department slots per district, 65 city departments, 49 state
/// firms and 60 e-commerce firms.
pub fn synthetic_org() -> OrgTree {
    let mut u = vec![unit(
        "C".into(),
        "市民热线服务中心".into(),
        UnitKind::Centre,
        None,
    )];
    for (i, (d, name)) in DISTRICTS.iter().enumerate() {
        u.push(unit(
            d.to_string(),
            name.to_string(),
            UnitKind::District,
            Some("C"),
        ));
        let n_streets = if i < 7 { 22 } else { 21 };
        for s in 1..=n_streets {
            let sc = format!("{d}{s:03}");
            u.push(unit(
                sc.clone(),
                format!("{name}第{s}街道"),
                UnitKind::StreetTown,
                Some(d),
            ));
            for c in 1..=20 {
                u.push(unit(
                    format!("{sc}{c:03}"),
                    format!("第{c}社区"),
                    UnitKind::Community,
                    Some(&sc),
                ));
            }
        }
        for slot in 1..=24 {
            u.push(unit(
                format!("{d}D{slot:02}"),
                format!("{name}部门{slot:02}"),
                UnitKind::DistrictDepartment,
                Some(d),
            ));
        }
    }
    for i in 1..=65 {
        u.push(unit(
            format!("CD{i:03}"),
            format!("市级部门{i}"),
            UnitKind::CityDepartment,
            Some("C"),
        ));
    }
    for i in 1..=49 {
        u.push(unit(
            format!("SE{i:03}"),
            format!("国企{i}"),
            UnitKind::StateEnterprise,
            Some("C"),
        ));
    }
    let firms = ["京东", "淘宝/天猫", "拼多多", "美团", "饿了么", "抖音电商"];
    for i in 1..=60 {
        let name = firms
            .get(i - 1)
            .map_or(format!("电商平台{i}"), |s| s.to_string());
        u.push(unit(
            format!("EC{i:03}"),
            name,
            UnitKind::Ecommerce,
            Some("C"),
        ));
    }
    OrgTree::new(u)
}

/// A synthetic three-level category tree: 28 × 5 × 2–3 = 350 leaves.
pub fn synthetic_categories() -> CategoryTree {
    let mut v = Vec::new();
    let cat = |code: String, level: u8, parent: Option<String>| Category {
        name: format!("分类{code}"),
        code,
        level,
        parent,
        domain: None,
        active: true,
    };
    let mut n = 0;
    for t in 1..=28 {
        let tc = format!("{t:02}");
        v.push(cat(tc.clone(), 1, None));
        for m in 1..=5 {
            let mc = format!("{tc}{m:02}");
            v.push(cat(mc.clone(), 2, Some(tc.clone())));
            let leaves = if (t * 5 + m) % 2 == 0 { 3 } else { 2 };
            for l in 1..=leaves {
                n += 1;
                if n > 350 {
                    break;
                }
                v.push(cat(format!("{mc}{l:02}"), 3, Some(mc.clone())));
            }
        }
    }
    CategoryTree::new(v)
}

const KEYWORDS: [&str; 12] = [
    "地铁",
    "自来水",
    "燃气",
    "噪音",
    "占道",
    "漏水",
    "路灯",
    "井盖",
    "欠薪",
    "退款",
    "积水",
    "电梯",
];

/// A synthetic catalogue of exactly `n_rules` non-overlapping rules over `org` and `categories`
/// (catch-all, family and leaf rules, then district overrides, street rules and keyword rules).
pub fn synthetic_catalogue(
    n_rules: usize,
    org: &OrgTree,
    categories: &CategoryTree,
    seed: u64,
) -> Catalogue {
    let mut rng = Rng::new(seed);
    let from = NaiveDate::from_ymd_opt(2025, 1, 1).expect("date");
    let districts: Vec<&Unit> = org.of_kind(UnitKind::District).collect();
    let streets: Vec<&Unit> = org.of_kind(UnitKind::StreetTown).collect();
    let mut slots: Vec<String> = org
        .of_kind(UnitKind::DistrictDepartment)
        .filter_map(|u| u.code.get(u.code.len().saturating_sub(3)..))
        .filter(|s| crate::catalogue::valid_slot(s))
        .map(String::from)
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    if slots.is_empty() {
        slots.push(String::new());
    }
    let named: Vec<&Unit> = org
        .units()
        .iter()
        .filter(|u| matches!(u.kind, UnitKind::CityDepartment | UnitKind::StateEnterprise))
        .collect();
    let refs = |rng: &mut Rng| -> UnitRef {
        match rng.below(10) {
            0..=3 => UnitRef::Street,
            4..=7 if !slots[0].is_empty() => {
                UnitRef::DistrictDept(slots[rng.below(slots.len())].clone())
            }
            8 if !named.is_empty() => UnitRef::Unit(named[rng.below(named.len())].code.clone()),
            9 => UnitRef::Ecommerce,
            _ => UnitRef::Street,
        }
    };
    let tiers = [
        DeadlineTier::H2,
        DeadlineTier::H24,
        DeadlineTier::D7,
        DeadlineTier::D15,
    ];
    let mut rules: Vec<Rule> = Vec::new();
    let mut seen = HashSet::new();
    let mut push = |r: Rule, rules: &mut Vec<Rule>| {
        if rules.len() < n_rules && seen.insert(r.scope_key()) {
            rules.push(r);
        }
    };
    let mk = |id: String,
              prefix: &str,
              place: PlaceScope,
              kw: Vec<String>,
              a: Vec<RuleAssignment>,
              t| Rule {
        id,
        effective_from: from,
        effective_to: None,
        priority: 0,
        category_prefix: prefix.into(),
        place,
        keywords: kw,
        enterprise: None,
        assignments: a,
        tier: t,
        note: String::new(),
    };
    let lead = |u| {
        vec![RuleAssignment {
            unit: u,
            role: AssignmentRole::Lead,
        }]
    };
    push(
        mk(
            "R-ANY".into(),
            "",
            PlaceScope::Any,
            vec![],
            lead(UnitRef::District),
            DeadlineTier::D7,
        ),
        &mut rules,
    );
    let all: Vec<&Category> = categories.all().iter().collect();
    for c in &all {
        let mut a = lead(refs(&mut rng));
        if a[0].unit == UnitRef::Ecommerce {
            a = lead(UnitRef::Street);
        }
        let t = tiers[rng.below(4)];
        push(
            mk(
                format!("C{}", c.code),
                &c.code,
                PlaceScope::Any,
                vec![],
                a,
                t,
            ),
            &mut rules,
        );
    }
    let leaves: Vec<&Category> = categories.leaves().collect();
    let mid: Vec<&Category> = all.iter().copied().filter(|c| c.level == 2).collect();
    let mut guard = 0usize;
    while rules.len() < n_rules && guard < n_rules * 20 {
        guard += 1;
        let t = tiers[rng.below(4)];
        let k = rules.len();
        match rng.below(10) {
            0..=3 if !districts.is_empty() => {
                let d = districts[rng.below(districts.len())];
                let c = leaves[rng.below(leaves.len())];
                push(
                    mk(
                        format!("D{k:05}"),
                        &c.code,
                        PlaceScope::District(d.code.clone()),
                        vec![],
                        lead(refs(&mut rng)),
                        t,
                    ),
                    &mut rules,
                );
            }
            4..=7 if !streets.is_empty() => {
                let s = streets[rng.below(streets.len())];
                let c = if rng.chance(0.5) {
                    mid[rng.below(mid.len())]
                } else {
                    leaves[rng.below(leaves.len())]
                };
                let mut a = lead(UnitRef::Street);
                if rng.chance(0.3) && !slots[0].is_empty() {
                    a.push(RuleAssignment {
                        unit: UnitRef::DistrictDept(slots[rng.below(slots.len())].clone()),
                        role: AssignmentRole::Assist,
                    });
                }
                push(
                    mk(
                        format!("S{k:05}"),
                        &c.code,
                        PlaceScope::Street(s.code.clone()),
                        vec![],
                        a,
                        t,
                    ),
                    &mut rules,
                );
            }
            _ => {
                let c = leaves[rng.below(leaves.len())];
                let kw = vec![KEYWORDS[rng.below(KEYWORDS.len())].to_string()];
                push(
                    mk(
                        format!("K{k:05}"),
                        &c.code,
                        PlaceScope::Any,
                        kw,
                        lead(refs(&mut rng)),
                        t,
                    ),
                    &mut rules,
                );
            }
        }
    }
    Catalogue::new(rules)
}

/// Random request facts over `org` and `categories` (30 % mention a keyword, 10 % a firm).
pub fn synthetic_facts(
    n: usize,
    org: &OrgTree,
    categories: &CategoryTree,
    seed: u64,
) -> Vec<RouteFacts> {
    let mut rng = Rng::new(seed);
    let streets: Vec<&Unit> = org.of_kind(UnitKind::StreetTown).collect();
    let leaves: Vec<&Category> = categories.leaves().collect();
    let firms: Vec<&Unit> = org.of_kind(UnitKind::Ecommerce).collect();
    (0..n)
        .map(|_| {
            let s = streets[rng.below(streets.len())];
            let district = org
                .district_of(&s.code)
                .map(|d| d.code.clone())
                .unwrap_or_default();
            let mut text =
                String::from("市民反映小区附近的问题已经持续一段时间，希望相关部门尽快处理。");
            if rng.chance(0.3) {
                text.push_str(KEYWORDS[rng.below(KEYWORDS.len())]);
            }
            if !firms.is_empty() && rng.chance(0.1) {
                text.push('在');
                text.push_str(
                    firms[rng.below(firms.len())]
                        .name
                        .split('/')
                        .next()
                        .unwrap_or(""),
                );
                text.push_str("购买的商品");
            }
            let community = org.children(&s.code).next().map(|c| c.code.clone());
            RouteFacts {
                category_code: leaves[rng.below(leaves.len())].code.clone(),
                district_code: district,
                street_code: s.code.clone(),
                community_code: community,
                title: "市民诉求".into(),
                text,
                enterprise: rng.chance(0.05),
                tier: None,
            }
        })
        .collect()
}

/// Suggestions per second on one core over an `n_rules`-rule catalogue (synthetic, over the given
/// org and categories or over a synthetic Beijing-sized city), `n_queries` suggestions.
/// Goal: ≥ 50,000/s for the full explained suggestion.
pub fn bench_suggest(
    n_rules: usize,
    n_queries: usize,
    city: Option<(&OrgTree, &CategoryTree)>,
) -> BenchReport {
    let (own_org, own_cat);
    let (org, cats) = match city {
        Some(c) => c,
        None => {
            own_org = synthetic_org();
            own_cat = synthetic_categories();
            (&own_org, &own_cat)
        }
    };
    let cat = synthetic_catalogue(n_rules, org, cats, 42);
    let facts = synthetic_facts(10_000.min(n_queries.max(1)), org, cats, 7);
    let at = Utc
        .with_ymd_and_hms(2026, 3, 2, 2, 0, 0)
        .single()
        .unwrap_or_default();
    let n = n_queries.max(1);
    // Warm-up.
    let mut sink = 0usize;
    for f in facts.iter().take(1000) {
        sink += cat.suggest(f, at, org).assignments.len();
    }
    let t = Instant::now();
    for i in 0..n {
        sink += cat
            .suggest(&facts[i % facts.len()], at, org)
            .assignments
            .len();
    }
    let full = t.elapsed().as_secs_f64();
    let router = cat.router(org);
    let t = Instant::now();
    for i in 0..n {
        sink += router.suggest(&facts[i % facts.len()], at).runner_ups.len();
    }
    let routed = t.elapsed().as_secs_f64();
    let t = Instant::now();
    for i in 0..n {
        sink += router
            .quick_lead(&facts[i % facts.len()], at)
            .map_or(0, |q| q.rule_index & 1);
    }
    let quick = t.elapsed().as_secs_f64();
    std::hint::black_box(sink);
    let fig = |name: &str, secs: f64, goal: bool| {
        let ps = n as f64 / secs.max(1e-9);
        BenchFigure {
            name: name.into(),
            count: n as u64,
            seconds: secs,
            per_second: ps,
            goal: if goal {
                "≥ 50000/s".into()
            } else {
                String::new()
            },
            goal_ratio: goal.then_some(ps / 50_000.0),
        }
    };
    BenchReport {
        title: "route suggest (派单建议)".into(),
        setting: format!(
            "{} rules, {} units, {} leaf categories, one core",
            cat.len(),
            org.units().len(),
            cats.leaves().count()
        ),
        figures: vec![
            fig("Catalogue::suggest (explained)", full, true),
            fig("Router::suggest (explained, cached org)", routed, false),
            fig("Router::quick_lead (lead only)", quick, false),
        ],
    }
}

/// Synthetic open clocks at `now`: starts within the last 15 days, spans of the four tiers.
pub fn synthetic_clocks(n: usize, now: DateTime<Utc>, seed: u64) -> Vec<OpenClock> {
    let mut rng = Rng::new(seed);
    let spans = [120i64, 24 * 60, 7 * 24 * 60, 15 * 24 * 60];
    (0..n)
        .map(|i| {
            let start = now - Duration::seconds(rng.below(15 * 86_400) as i64);
            let span = spans[rng.below(4)];
            let clock = ClockKind::ALL[rng.below(3)];
            OpenClock {
                key: ClockKey {
                    ticket: i as i64,
                    unit: format!("110108{:03}", rng.below(30)),
                    clock,
                    epoch: 0,
                },
                start,
                due: start + Duration::minutes(span),
            }
        })
        .collect()
}

/// One scheduler pass over `n_open` open clocks after `downtime` (the watermarks are those of a
/// pass at `now − downtime`): the stateless scan, the heap scheduler's start-up and its pass.
/// Goal: one pass < 1 s for 1,000,000 open clocks.
pub fn bench_scheduler(n_open: usize, downtime: Duration) -> BenchReport {
    let now = Utc
        .with_ymd_and_hms(2026, 3, 2, 2, 0, 0)
        .single()
        .unwrap_or_default();
    let clocks = synthetic_clocks(n_open, now, 9);
    let th = Thresholds::standard();
    let before = now - downtime;
    let prev = due_reminders(&clocks, &Emitted::new(), &th, before);
    let emitted = Emitted::from_events(prev.iter().map(|r| (r.key(), r.threshold_index)));
    let n = n_open.max(1) as u64;
    let t = Instant::now();
    let r1 = due_reminders(&clocks, &emitted, &th, now);
    let scan = t.elapsed().as_secs_f64();
    // The product's pass sees working-time clocks through the calendar (`in_working_time`): the
    // same clocks, every one of them counted in working time (the worst case).
    let cal = crate::calendar::Calendar::china_2025_2026();
    let t = Instant::now();
    let mut r_working = 0usize;
    let first = clocks.iter().map(|c| c.start).min().unwrap_or(now);
    let last = clocks.iter().map(|c| c.due).max().unwrap_or(now).max(now);
    let tl =
        crate::calendar::WorkingTimeline::new(&cal, cal.local_date(first), cal.local_date(last));
    for c in &clocks {
        let (m, n) = c.in_working_time_on(&tl, now);
        r_working += due_reminders(std::slice::from_ref(&m), &emitted, &th, n).len();
    }
    let working = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let mut sched = Scheduler::load(th, clocks, &emitted);
    let load = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let r2 = sched.pass(now);
    let pass = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let r3 = sched.pass(now + Duration::seconds(60));
    let steady = t.elapsed().as_secs_f64();
    let fig = |name: String, secs: f64, goal: bool| BenchFigure {
        name,
        count: n,
        seconds: secs,
        per_second: n as f64 / secs.max(1e-9),
        goal: if goal { "< 1 s".into() } else { String::new() },
        goal_ratio: goal.then_some(1.0 / secs.max(1e-9)),
    };
    BenchReport {
        title: "scheduler pass (超时提醒)".into(),
        setting: format!(
            "{n_open} open clocks, thresholds 50/80/100 %, after {} min downtime: {} reminders due ({} by the heap pass; {} if all counted working time), {} in the next minute",
            downtime.num_minutes(),
            r1.len(),
            r2.len(),
            r_working,
            r3.len()
        ),
        figures: vec![
            fig("stateless due_reminders pass".into(), scan, true),
            fig(
                "stateless pass, every clock in working time (the server's pass)".into(),
                working,
                true,
            ),
            fig("Scheduler::load (start-up, heapify)".into(), load, false),
            fig("Scheduler::pass (catch-up after downtime)".into(), pass, true),
            fig("Scheduler::pass (steady state, next minute)".into(), steady, false),
        ],
    }
}
