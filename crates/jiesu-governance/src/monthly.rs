//! 每月一题 — the problem of the month (seed, 专项报告二): from last year's requests, the concrete
//! problems worth a month of a city department's attention; once one is adopted, its plan and its
//! three lists (一方案三清单), its progress and its outcome.
//!
//! # Candidates
//! [`candidates`] takes the clusters of [`crate::topics`] (concrete problems inside a category)
//! and the facts of the tickets behind them, and ranks them on seven criteria, each turned into a
//! percentile among the candidates and weighted ([`RankWeights`]): volume, growth (the last three
//! months against the three before), spread (districts reached), low resolution and low
//! satisfaction (回访), repeat requests (a requester asking again about the same problem, or a
//! reopened ticket) and the number of different lead units — a problem many departments each
//! hold a piece of is what 每月一题 is for.
//!
//! # Adopted topics
//! A [`Topic`] is a month, a theme, its 1–3 concrete problems (each with the versioned [`Rule`]
//! saying which tickets belong to it: categories + keywords + places), the lead city department,
//! the responsible leader, one plan (一方案) and three lists (三清单: tasks with owner, due date and
//! status; responsibilities; policies with their issue dates). Every change is a new version of
//! the whole record (the store keeps them all). [`Topic::progress`] counts tasks done as the seed
//! does ("570 of 603, 94.52 %"); [`outcome`] measures a problem as the seed measures it: its
//! dispatched volume month by month, against the month before and the same month last year, and
//! its 三率.

use crate::topics::Cluster;
use chrono::NaiveDate;
use jiesu_analytics::facts::{flag, LocalMonth};
use jiesu_analytics::TicketFacts;
use jiesu_domain::category::CategoryTree;
use jiesu_domain::ticket::{Resolution, Satisfaction};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

/// The weights of the ranking criteria (they need not sum to 1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RankWeights {
    pub volume: f64,
    pub growth: f64,
    pub spread: f64,
    pub low_resolution: f64,
    pub low_satisfaction: f64,
    pub repeat: f64,
    pub lead_units: f64,
}

impl Default for RankWeights {
    fn default() -> Self {
        RankWeights {
            volume: 0.25,
            growth: 0.1,
            spread: 0.15,
            low_resolution: 0.1,
            low_satisfaction: 0.1,
            repeat: 0.1,
            lead_units: 0.2,
        }
    }
}

/// 三率 of a set of tickets: shares, `None` when nothing to count.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Rates {
    /// 响应率 — dispatched tickets whose lead unit responded in time.
    pub response: Option<f64>,
    /// 解决率 — called-back tickets answered 已解决.
    pub resolution: Option<f64>,
    /// 满意率 — called-back tickets answered 满意 or 基本满意.
    pub satisfaction: Option<f64>,
}

#[derive(Default)]
struct RateCount {
    dispatched: u32,
    responded: u32,
    rated_res: u32,
    resolved: u32,
    rated_sat: u32,
    satisfied: u32,
}

impl RateCount {
    fn add(&mut self, flags: u8, callback: u8) {
        if flags & flag::DISPATCHED != 0 {
            self.dispatched += 1;
            if flags & flag::RESPONDED_IN_TIME != 0 {
                self.responded += 1;
            }
        }
        let (_, r, s) = TicketFacts::callback(callback);
        if let Some(r) = r {
            self.rated_res += 1;
            if r == Resolution::Resolved {
                self.resolved += 1;
            }
        }
        if let Some(s) = s {
            self.rated_sat += 1;
            if matches!(s, Satisfaction::Satisfied | Satisfaction::Basic) {
                self.satisfied += 1;
            }
        }
    }
    fn rates(&self) -> Rates {
        let share = |a: u32, b: u32| (b > 0).then(|| f64::from(a) / f64::from(b));
        Rates {
            response: share(self.responded, self.dispatched),
            resolution: share(self.resolved, self.rated_res),
            satisfaction: share(self.satisfied, self.rated_sat),
        }
    }
}

/// Where a ticket's facts are: (month, row).
fn locate(facts: &TicketFacts) -> HashMap<i64, (LocalMonth, usize)> {
    let mut out = HashMap::new();
    for (m, p) in &facts.partitions {
        for (i, id) in p.ticket_id.iter().enumerate() {
            out.insert(*id, (*m, i));
        }
    }
    out
}

/// A candidate problem with its figures over the window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    /// The category the problem was found in.
    pub category: String,
    /// The problem's label.
    pub label: String,
    /// The label's terms (the keywords of a rule for it).
    pub label_terms: Vec<String>,
    /// Its most distinctive words.
    pub top_words: Vec<String>,
    /// NPMI coherence of those words on the corpus.
    pub coherence: f64,
    /// Requests in the window.
    pub volume: u32,
    /// Requests per month of the window, oldest first.
    pub series: Vec<u32>,
    /// The last three months over the three before (`None`: nothing before).
    pub growth: Option<f64>,
    /// Districts the requests came from.
    pub districts: u32,
    /// Different lead units that handled them.
    pub lead_units: u32,
    /// Share of requests repeated (the same requester again on this problem, or reopened).
    pub repeat_share: f64,
    /// 三率.
    pub rates: Rates,
    /// The weighted percentile score, 0–1.
    pub score: f64,
    /// Why it ranks (the criteria where it stands in the top quarter, Chinese).
    pub reasons: Vec<String>,
    /// The most frequent district and street codes, most first (for a rule's places).
    pub top_places: Vec<String>,
    /// Every ticket behind it, ascending.
    pub tickets: Vec<i64>,
}

/// Ranks the clusters as candidates over the months `window` (inclusive, oldest first): only their
/// tickets created in the window count; clusters with fewer than `min_volume` such tickets are
/// left out. Best first.
pub fn candidates(
    facts: &TicketFacts,
    clusters: &[Cluster],
    window: &[LocalMonth],
    min_volume: u32,
    w: &RankWeights,
) -> Vec<Candidate> {
    let at = locate(facts);
    let month_ix: HashMap<LocalMonth, usize> =
        window.iter().enumerate().map(|(i, m)| (*m, i)).collect();
    let mut out = Vec::new();
    for c in clusters {
        let mut series = vec![0u32; window.len()];
        let mut districts = HashSet::new();
        let mut units = HashSet::new();
        let mut requesters: HashMap<u32, u32> = HashMap::new();
        let mut reopened = 0u32;
        let mut rates = RateCount::default();
        let mut places: HashMap<u16, u32> = HashMap::new();
        let mut tickets = Vec::new();
        for id in &c.tickets {
            let Some(&(m, i)) = at.get(id) else { continue };
            let Some(&mi) = month_ix.get(&m) else {
                continue;
            };
            let p = &facts.partitions[&m];
            series[mi] += 1;
            tickets.push(*id);
            if p.district[i] != 0 {
                districts.insert(p.district[i]);
                *places.entry(p.district[i]).or_default() += 1;
            }
            if p.street[i] != 0 {
                *places.entry(p.street[i]).or_default() += 1;
            }
            if p.lead_unit[i] != 0 {
                units.insert(p.lead_unit[i]);
            }
            if p.requester[i] != 0 {
                *requesters.entry(p.requester[i]).or_default() += 1;
            }
            if p.flags[i] & flag::REOPENED != 0 {
                reopened += 1;
            }
            rates.add(p.flags[i], p.callback[i]);
        }
        let volume: u32 = series.iter().sum();
        if volume < min_volume.max(1) {
            continue;
        }
        let repeated: u32 = requesters.values().filter(|&&n| n > 1).map(|n| n - 1).sum();
        let n = series.len();
        let growth = if n >= 6 {
            let last: u32 = series[n - 3..].iter().sum();
            let before: u32 = series[n - 6..n - 3].iter().sum();
            (before > 0).then(|| f64::from(last) / f64::from(before))
        } else {
            None
        };
        let mut top: Vec<(u16, u32)> = places.into_iter().collect();
        top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        out.push(Candidate {
            category: c.category.clone(),
            label: c.label.clone(),
            label_terms: c.label_terms.clone(),
            top_words: c.top_words.clone(),
            coherence: c.coherence,
            volume,
            series,
            growth,
            districts: districts.len() as u32,
            lead_units: units.len() as u32,
            repeat_share: f64::from(repeated + reopened) / f64::from(volume),
            rates: rates.rates(),
            score: 0.0,
            reasons: Vec::new(),
            top_places: top
                .iter()
                .take(5)
                .map(|(p, _)| facts.places.code(*p).to_string())
                .collect(),
            tickets,
        });
    }
    score(&mut out, w);
    out
}

/// Percentile of each value among all (ties share the mean rank), 0–1; higher value → higher.
fn percentiles(xs: &[f64]) -> Vec<f64> {
    let n = xs.len();
    if n <= 1 {
        return vec![0.5; n];
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| xs[a].total_cmp(&xs[b]));
    let mut out = vec![0.0; n];
    let mut i = 0;
    while i < n {
        let mut j = i;
        while j + 1 < n && xs[order[j + 1]] == xs[order[i]] {
            j += 1;
        }
        let r = (i + j) as f64 / 2.0 / (n - 1) as f64;
        for k in i..=j {
            out[order[k]] = r;
        }
        i = j + 1;
    }
    out
}

fn score(cs: &mut [Candidate], w: &RankWeights) {
    let col = |f: &dyn Fn(&Candidate) -> f64| percentiles(&cs.iter().map(f).collect::<Vec<_>>());
    let volume = col(&|c| f64::from(c.volume));
    let growth = col(&|c| c.growth.unwrap_or(1.0));
    let spread = col(&|c| f64::from(c.districts));
    let low_res = col(&|c| 1.0 - c.rates.resolution.unwrap_or(1.0));
    let low_sat = col(&|c| 1.0 - c.rates.satisfaction.unwrap_or(1.0));
    let repeat = col(&|c| c.repeat_share);
    let units = col(&|c| f64::from(c.lead_units));
    let total = w.volume
        + w.growth
        + w.spread
        + w.low_resolution
        + w.low_satisfaction
        + w.repeat
        + w.lead_units;
    for (i, c) in cs.iter_mut().enumerate() {
        let parts = [
            (w.volume, volume[i], "诉求量大"),
            (w.growth, growth[i], "近三月增长"),
            (w.spread, spread[i], "涉及区多"),
            (w.low_resolution, low_res[i], "解决率低"),
            (w.low_satisfaction, low_sat[i], "满意率低"),
            (w.repeat, repeat[i], "重复诉求多"),
            (w.lead_units, units[i], "涉及主办单位多"),
        ];
        c.score = if total > 0.0 {
            parts.iter().map(|(w, p, _)| w * p).sum::<f64>() / total
        } else {
            0.0
        };
        c.reasons = parts
            .iter()
            .filter(|(w, p, _)| *w > 0.0 && *p >= 0.75)
            .map(|(_, _, r)| r.to_string())
            .collect();
    }
    cs.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(b.volume.cmp(&a.volume))
            .then(a.label.cmp(&b.label))
    });
}

/// Which tickets belong to a problem: a ticket in one of the categories (any level: a ticket
/// belongs when the category is its category or an ancestor), from one of the places (district,
/// street or community codes; none = anywhere), whose title or text contains one of the keywords
/// (none = any text). Every field is required (an empty list says "any"), so the record reads
/// the same sent and served.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Rule {
    pub categories: Vec<String>,
    pub keywords: Vec<String>,
    pub places: Vec<String>,
}

impl Rule {
    /// Whether a ticket of `category` (a leaf) at `places` with `text` belongs.
    pub fn matches(
        &self,
        tree: &CategoryTree,
        category: &str,
        places: &[&str],
        text: &str,
    ) -> bool {
        (self.categories.is_empty()
            || tree
                .path(category)
                .any(|c| self.categories.contains(&c.code)))
            && (self.places.is_empty() || places.iter().any(|p| self.places.iter().any(|q| q == p)))
            && (self.keywords.is_empty() || self.keywords.iter().any(|k| text.contains(k.as_str())))
    }
}

/// A task of the task list (任务清单).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Task {
    pub title: String,
    /// The unit or person who owns it.
    pub owner: String,
    pub due: NaiveDate,
    /// `todo`, `doing` or `done`.
    pub status: TaskStatus,
    /// The owner's latest word on it (set with its status; left out when none).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
}

/// A task's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    /// 未开始
    Todo,
    /// 推进中
    Doing,
    /// 已完成
    Done,
}

impl TaskStatus {
    /// The Chinese name.
    pub fn zh(self) -> &'static str {
        match self {
            TaskStatus::Todo => "未开始",
            TaskStatus::Doing => "推进中",
            TaskStatus::Done => "已完成",
        }
    }
}

/// Longest task note kept, in characters.
pub const TASK_NOTE_MAX: usize = 500;

/// A line of the responsibility list (责任清单).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Responsibility {
    /// The unit.
    pub unit: String,
    /// What it answers for.
    pub duty: String,
}

/// A line of the policy list (政策清单).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Policy {
    pub title: String,
    pub issued: NaiveDate,
    pub issuer: String,
}

/// One concrete problem of a topic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TopicProblem {
    pub label: String,
    pub rule: Rule,
}

/// 每月一题 — an adopted topic, as one version of its record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Topic {
    /// The month it is the problem of, YYYY-MM.
    pub month: String,
    /// 主题
    pub theme: String,
    /// The 1–3 concrete problems.
    pub problems: Vec<TopicProblem>,
    /// 市级牵头部门 — the lead city department's unit code.
    pub lead_unit: String,
    /// 责任领导
    pub leader: String,
    /// 一方案 — the plan.
    pub plan: String,
    /// 任务清单
    pub tasks: Vec<Task>,
    /// 责任清单
    pub responsibilities: Vec<Responsibility>,
    /// 政策清单
    pub policies: Vec<Policy>,
}

/// What is wrong with a topic (field, English, Chinese).
pub type TopicError = (&'static str, String, String);

/// Progress as the seed reports it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Progress {
    pub done: u32,
    pub total: u32,
    /// Percent done, cut (not rounded) to two decimals as the seed prints it (0 with no tasks).
    pub percent: f64,
}

impl Topic {
    /// Checks the record; the first fault found.
    pub fn validate(&self) -> Result<(), TopicError> {
        if LocalMonth::parse(&self.month).is_none() {
            return Err((
                "month",
                format!("'{}' is not a month (YYYY-MM)", self.month),
                "月份格式应为 YYYY-MM".into(),
            ));
        }
        for (field, v, zh) in [
            ("theme", &self.theme, "主题"),
            ("lead_unit", &self.lead_unit, "牵头部门"),
            ("leader", &self.leader, "责任领导"),
            ("plan", &self.plan, "工作方案"),
        ] {
            if v.trim().is_empty() {
                return Err((
                    field,
                    format!("{field} is required"),
                    format!("{zh}不能为空"),
                ));
            }
        }
        if !(1..=3).contains(&self.problems.len()) {
            return Err((
                "problems",
                format!(
                    "a topic has 1 to 3 concrete problems, not {}",
                    self.problems.len()
                ),
                format!(
                    "每个题目应包含 1 至 3 个具体问题，当前 {} 个",
                    self.problems.len()
                ),
            ));
        }
        for p in &self.problems {
            if p.label.trim().is_empty() || p.rule.categories.is_empty() {
                return Err((
                    "problems",
                    "every problem needs a label and at least one category".into(),
                    "每个具体问题须有名称和至少一个分类".into(),
                ));
            }
        }
        if let Some(t) = self
            .tasks
            .iter()
            .find(|t| t.title.trim().is_empty() || t.owner.trim().is_empty())
        {
            return Err((
                "tasks",
                format!("a task needs a title and an owner (due {})", t.due),
                "任务须有名称和责任单位".into(),
            ));
        }
        Ok(())
    }

    /// Tasks done of all, as "570 of 603, 94.52 %".
    pub fn progress(&self) -> Progress {
        let total = self.tasks.len() as u32;
        let done = self
            .tasks
            .iter()
            .filter(|t| t.status == TaskStatus::Done)
            .count() as u32;
        let percent = if total == 0 {
            0.0
        } else {
            (f64::from(done) * 10000.0 / f64::from(total)).floor() / 100.0
        };
        Progress {
            done,
            total,
            percent,
        }
    }

    /// Tasks past their due date on `today` and not done.
    pub fn overdue_tasks(&self, today: NaiveDate) -> usize {
        self.overdue_task_indexes(today).len()
    }

    /// The positions (0-based) of the tasks past their due date on `today` and not done.
    pub fn overdue_task_indexes(&self, today: NaiveDate) -> Vec<usize> {
        self.tasks
            .iter()
            .enumerate()
            .filter(|(_, t)| t.status != TaskStatus::Done && t.due < today)
            .map(|(i, _)| i)
            .collect()
    }

    /// Sets task `index`'s status and note (one task's progress, 任务进度): answers the line a
    /// version records, e.g. `任务 3「摸排充电需求」：推进中 → 已完成（已摸排 120 个小区）`; the
    /// field at fault when the task does not exist, the note is too long, or nothing changes.
    pub fn set_task(
        &mut self,
        index: usize,
        status: TaskStatus,
        note: &str,
    ) -> Result<String, TopicError> {
        let note = note.trim();
        if note.chars().count() > TASK_NOTE_MAX {
            return Err((
                "note",
                format!("a task note is at most {TASK_NOTE_MAX} characters"),
                format!("任务备注不能超过 {TASK_NOTE_MAX} 字"),
            ));
        }
        let n = self.tasks.len();
        let Some(t) = self.tasks.get_mut(index) else {
            return Err((
                "index",
                format!("the topic has {n} tasks: there is no task {}", index + 1),
                format!("该题目共 {n} 项任务，没有第 {} 项", index + 1),
            ));
        };
        if t.status == status && t.note == note {
            return Err((
                "status",
                format!("task {} is already {status:?} with that note", index + 1),
                format!("第 {} 项任务已是“{}”，备注相同", index + 1, status.zh()),
            ));
        }
        let line = format!(
            "任务 {}「{}」：{} → {}{}",
            index + 1,
            t.title,
            t.status.zh(),
            status.zh(),
            if note.is_empty() {
                String::new()
            } else {
                format!("（{note}）")
            }
        );
        t.status = status;
        t.note = note.to_string();
        Ok(line)
    }
}

/// What a draft rule takes (规则预览): its tickets per month and the newest of them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RulePreview {
    /// The months counted, YYYY-MM, oldest first.
    pub months: Vec<String>,
    /// Requests the rule takes per month.
    pub requests: Vec<u32>,
    /// Of them dispatched (派单量).
    pub dispatched: Vec<u32>,
    /// All requests it takes over the months.
    pub total: u32,
    /// The newest tickets it takes (newest first, at most the sample size asked).
    pub sample: Vec<i64>,
}

/// Whether `rule` takes row `i` of partition `p`: its category (at any level, remembered per leaf
/// in `in_cat`), its place (district, street or community) and a keyword in its text.
fn rule_matches(
    rule: &Rule,
    tree: &CategoryTree,
    facts: &TicketFacts,
    p: &jiesu_analytics::facts::FactPartition,
    i: usize,
    texts: &HashMap<i64, String>,
    in_cat: &mut HashMap<u16, bool>,
) -> bool {
    let in_category = *in_cat.entry(p.category[i]).or_insert_with(|| {
        rule.categories.is_empty()
            || tree
                .path(facts.categories.code(p.category[i]))
                .any(|c| rule.categories.contains(&c.code))
    });
    if !in_category {
        return false;
    }
    let places = [
        facts.places.code(p.district[i]),
        facts.places.code(p.street[i]),
        facts.places.code(p.community[i]),
    ];
    if !rule.places.is_empty() && !places.iter().any(|x| rule.places.iter().any(|q| q == x)) {
        return false;
    }
    rule.keywords.is_empty()
        || texts
            .get(&p.ticket_id[i])
            .is_some_and(|t| rule.keywords.iter().any(|k| t.contains(k.as_str())))
}

/// Counts the tickets `rule` takes in each of `months` (ascending) and keeps the newest `sample`
/// of them; `texts` as in [`outcome`].
pub fn preview(
    facts: &TicketFacts,
    tree: &CategoryTree,
    texts: &HashMap<i64, String>,
    rule: &Rule,
    months: &[LocalMonth],
    sample: usize,
) -> RulePreview {
    let mut requests = vec![0u32; months.len()];
    let mut dispatched = vec![0u32; months.len()];
    let mut taken: Vec<(usize, u8, u8, i64)> = Vec::new();
    let mut in_cat: HashMap<u16, bool> = HashMap::new();
    for (mi, m) in months.iter().enumerate() {
        let Some(p) = facts.partitions.get(m) else {
            continue;
        };
        for i in 0..p.len() {
            if !rule_matches(rule, tree, facts, p, i, texts, &mut in_cat) {
                continue;
            }
            requests[mi] += 1;
            if p.flags[i] & flag::DISPATCHED != 0 {
                dispatched[mi] += 1;
            }
            taken.push((mi, p.day[i], p.hour[i], p.ticket_id[i]));
        }
    }
    taken.sort_unstable_by(|a, b| b.cmp(a));
    RulePreview {
        months: months.iter().map(|m| m.key()).collect(),
        total: requests.iter().sum(),
        requests,
        dispatched,
        sample: taken.into_iter().take(sample).map(|x| x.3).collect(),
    }
}

/// A problem's outcome, as the seed measures it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Outcome {
    /// The months counted, YYYY-MM, oldest first.
    pub months: Vec<String>,
    /// Dispatched requests (派单量) per month.
    pub dispatched: Vec<u32>,
    /// All requests per month.
    pub requests: Vec<u32>,
    /// The month measured (the last of `months`).
    pub month: String,
    /// Its dispatched volume over the month before's − 1 (`None`: no month before, or 0).
    pub month_over_month: Option<f64>,
    /// Over the same month last year − 1.
    pub year_over_year: Option<f64>,
    /// 三率 of the month measured.
    pub response_rate: Option<f64>,
    pub resolution_rate: Option<f64>,
    pub satisfaction_rate: Option<f64>,
    /// The tickets of the month measured (for drill-down), ascending, at most 500.
    pub tickets: Vec<i64>,
}

/// Measures a rule over the facts up to and including `month`: `texts` holds each ticket's title
/// and text (a ticket without one matches only a rule without keywords).
pub fn outcome(
    facts: &TicketFacts,
    tree: &CategoryTree,
    texts: &HashMap<i64, String>,
    rule: &Rule,
    month: LocalMonth,
) -> Outcome {
    let months: Vec<LocalMonth> = facts
        .partitions
        .keys()
        .copied()
        .filter(|m| *m <= month)
        .collect();
    let mut dispatched = vec![0u32; months.len()];
    let mut requests = vec![0u32; months.len()];
    let mut in_cat: HashMap<u16, bool> = HashMap::new();
    let mut rates = RateCount::default();
    let mut tickets = Vec::new();
    for (mi, m) in months.iter().enumerate() {
        let p = &facts.partitions[m];
        for i in 0..p.len() {
            if !rule_matches(rule, tree, facts, p, i, texts, &mut in_cat) {
                continue;
            }
            requests[mi] += 1;
            if p.flags[i] & flag::DISPATCHED != 0 {
                dispatched[mi] += 1;
            }
            if *m == month {
                rates.add(p.flags[i], p.callback[i]);
                if tickets.len() < 500 {
                    tickets.push(p.ticket_id[i]);
                }
            }
        }
    }
    let find = |m: LocalMonth| months.iter().position(|x| *x == m);
    let cur = find(month).map(|i| dispatched[i]);
    let prev_month = LocalMonth {
        year: if month.month == 1 {
            month.year - 1
        } else {
            month.year
        },
        month: if month.month == 1 {
            12
        } else {
            month.month - 1
        },
    };
    let ratio = |other: Option<usize>| {
        let (o, c) = (dispatched[other?], cur?);
        (o > 0).then(|| f64::from(c) / f64::from(o) - 1.0)
    };
    let r = rates.rates();
    Outcome {
        month: month.key(),
        month_over_month: ratio(find(prev_month)),
        year_over_year: ratio(find(LocalMonth {
            year: month.year - 1,
            month: month.month,
        })),
        months: months.iter().map(|m| m.key()).collect(),
        dispatched,
        requests,
        response_rate: r.response,
        resolution_rate: r.resolution,
        satisfaction_rate: r.satisfaction,
        tickets,
    }
}

/// The rule a candidate suggests: its category, its label's terms as keywords, anywhere.
pub fn suggested_rule(c: &Candidate) -> Rule {
    Rule {
        categories: vec![c.category.clone()],
        keywords: c.label_terms.clone(),
        places: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiesu_analytics::facts::TicketFact;
    use jiesu_domain::category::Category;
    use jiesu_domain::state::Status;
    use jiesu_domain::ticket::{Channel, RequestType};

    fn tree() -> CategoryTree {
        let c = |code: &str, parent: Option<&str>| Category {
            code: code.into(),
            name: code.into(),
            level: 1 + code.len() as u8 / 2 - 1,
            parent: parent.map(str::to_string),
            domain: None,
            active: true,
        };
        CategoryTree::new(vec![
            c("03", None),
            c("0301", Some("03")),
            c("030101", Some("0301")),
            c("030102", Some("0301")),
        ])
    }

    fn fact(
        id: i64,
        date: (i32, u32, u32),
        cat: &str,
        district: &str,
        unit: &str,
        res: Option<Resolution>,
    ) -> TicketFact {
        TicketFact {
            ticket_id: id,
            created_date: NaiveDate::from_ymd_opt(date.0, date.1, date.2).unwrap(),
            created_hour: 9,
            channel: Channel::Phone,
            request_type: RequestType::Complaint,
            category_code: cat.into(),
            district_code: district.into(),
            street_code: format!("{district}001"),
            community_code: String::new(),
            lead_unit: unit.into(),
            lead_unit_kind: None,
            tier: None,
            status: Status::Closed,
            dispatched: true,
            answered_directly: false,
            enterprise: false,
            overdue: false,
            returned: false,
            reopened: false,
            responded_in_time: true,
            contacted: res.map(|_| true),
            resolution: res,
            satisfaction: res.map(|r| {
                if r == Resolution::Resolved {
                    Satisfaction::Satisfied
                } else {
                    Satisfaction::Unsatisfied
                }
            }),
            secs_to_sign: None,
            secs_to_respond: None,
            secs_to_finish: None,
            requester_hash: None,
        }
    }

    fn facts(rows: &[TicketFact]) -> TicketFacts {
        let mut f = TicketFacts::new();
        for r in rows {
            f.push(LocalMonth::of(r.created_date), r).unwrap();
        }
        f
    }

    fn cluster(label: &str, tickets: Vec<i64>) -> Cluster {
        Cluster {
            category: "0301".into(),
            label: label.into(),
            label_terms: vec![label.into()],
            top_words: vec![],
            tickets,
            coherence: 0.0,
        }
    }

    #[test]
    fn a_problem_spread_over_districts_and_units_with_low_resolution_outranks_a_local_one() {
        let mut rows = Vec::new();
        // 充电桩: 40 tickets in 4 districts, 4 lead units, half unresolved
        for i in 0..40 {
            let d = ["110101", "110102", "110105", "110108"][i % 4];
            let u = ["U1", "U2", "U3", "U4"][i % 4];
            let r = if i % 2 == 0 {
                Resolution::Resolved
            } else {
                Resolution::Unresolved
            };
            rows.push(fact(
                i as i64,
                (2026, 1 + (i % 12) as u32, 5),
                "030101",
                d,
                u,
                Some(r),
            ));
        }
        // 路灯: 40 tickets, one district, one unit, all resolved
        for i in 0..40 {
            rows.push(fact(
                100 + i as i64,
                (2026, 1 + (i % 12) as u32, 5),
                "030102",
                "110101",
                "U1",
                Some(Resolution::Resolved),
            ));
        }
        let f = facts(&rows);
        let window: Vec<LocalMonth> = (1..=12)
            .map(|m| LocalMonth {
                year: 2026,
                month: m,
            })
            .collect();
        let cs = candidates(
            &f,
            &[
                cluster("路灯", (100..140).collect()),
                cluster("充电桩", (0..40).collect()),
            ],
            &window,
            5,
            &RankWeights::default(),
        );
        assert_eq!(cs[0].label, "充电桩");
        assert_eq!(cs[0].districts, 4);
        assert_eq!(cs[0].lead_units, 4);
        assert_eq!(cs[0].rates.resolution, Some(0.5));
        assert!(cs[0].reasons.contains(&"涉及主办单位多".to_string()));
        assert_eq!(cs[1].rates.resolution, Some(1.0));
        assert_eq!(cs[0].tickets.len(), 40);
    }

    #[test]
    fn progress_counts_done_tasks_to_two_decimals_as_the_seed_reports_it() {
        let task = |s| Task {
            title: "t".into(),
            owner: "o".into(),
            due: NaiveDate::from_ymd_opt(2026, 6, 1).unwrap(),
            status: s,
            note: String::new(),
        };
        let mut tasks: Vec<Task> = (0..570).map(|_| task(TaskStatus::Done)).collect();
        tasks.extend((0..33).map(|_| task(TaskStatus::Doing)));
        let t = Topic {
            month: "2026-05".into(),
            theme: "x".into(),
            problems: vec![],
            lead_unit: "u".into(),
            leader: "l".into(),
            plan: "p".into(),
            tasks,
            responsibilities: vec![],
            policies: vec![],
        };
        assert_eq!(
            t.progress(),
            Progress {
                done: 570,
                total: 603,
                percent: 94.52
            }
        );
        assert_eq!(
            t.overdue_tasks(NaiveDate::from_ymd_opt(2026, 6, 2).unwrap()),
            33
        );
        assert_eq!(t.validate().unwrap_err().0, "problems");
    }

    #[test]
    fn outcome_counts_the_rule_s_dispatched_tickets_month_over_month_and_year_over_year() {
        let mut rows = Vec::new();
        let mut texts = HashMap::new();
        let mut id = 0;
        for (m, n) in [((2025, 5), 10), ((2026, 4), 8), ((2026, 5), 4)] {
            for _ in 0..n {
                rows.push(fact(
                    id,
                    (m.0, m.1, 3),
                    "030101",
                    "110105",
                    "U1",
                    Some(Resolution::Resolved),
                ));
                texts.insert(id, "小区充电桩无法安装".to_string());
                id += 1;
            }
            // the same category without the keyword: not counted
            rows.push(fact(id, (m.0, m.1, 3), "030101", "110105", "U1", None));
            texts.insert(id, "小区道路破损".to_string());
            id += 1;
        }
        let f = facts(&rows);
        let rule = Rule {
            categories: vec!["0301".into()],
            keywords: vec!["充电桩".into()],
            places: vec![],
        };
        let o = outcome(
            &f,
            &tree(),
            &texts,
            &rule,
            LocalMonth {
                year: 2026,
                month: 5,
            },
        );
        assert_eq!(o.dispatched.last(), Some(&4));
        assert_eq!(o.month_over_month, Some(-0.5));
        assert_eq!(o.year_over_year, Some(-0.6));
        assert_eq!(o.resolution_rate, Some(1.0));
        assert_eq!(o.tickets.len(), 4);
        assert!(rule.matches(&tree(), "030101", &["110105"], "充电桩"));
        assert!(!rule.matches(&tree(), "030101", &["110105"], "道路"));
    }

    fn topic_with(tasks: Vec<Task>) -> Topic {
        Topic {
            month: "2026-05".into(),
            theme: "x".into(),
            problems: vec![],
            lead_unit: "u".into(),
            leader: "l".into(),
            plan: "p".into(),
            tasks,
            responsibilities: vec![],
            policies: vec![],
        }
    }

    #[test]
    fn setting_one_task_changes_only_it_names_the_change_and_refuses_a_missing_or_unchanged_task() {
        let day = |d| NaiveDate::from_ymd_opt(2026, 6, d).unwrap();
        let task = |title: &str, due, status| Task {
            title: title.into(),
            owner: "o".into(),
            due,
            status,
            note: String::new(),
        };
        let mut t = topic_with(vec![
            task("摸排", day(1), TaskStatus::Doing),
            task("建设", day(10), TaskStatus::Todo),
            task("验收", day(1), TaskStatus::Done),
        ]);
        // due the 1st, not done: overdue from the 2nd (not on the day itself)
        assert_eq!(t.overdue_task_indexes(day(1)), Vec::<usize>::new());
        assert_eq!(t.overdue_task_indexes(day(2)), vec![0]);
        assert_eq!(t.overdue_task_indexes(day(11)), vec![0, 1]);
        let line = t
            .set_task(0, TaskStatus::Done, " 已摸排 120 个小区 ")
            .unwrap();
        assert_eq!(line, "任务 1「摸排」：推进中 → 已完成（已摸排 120 个小区）");
        assert_eq!(t.tasks[0].note, "已摸排 120 个小区");
        assert_eq!(t.tasks[1].status, TaskStatus::Todo);
        assert_eq!(t.progress().done, 2);
        assert_eq!(t.overdue_task_indexes(day(2)), Vec::<usize>::new());
        assert_eq!(
            t.set_task(0, TaskStatus::Done, "已摸排 120 个小区")
                .unwrap_err()
                .0,
            "status"
        );
        assert_eq!(t.set_task(3, TaskStatus::Done, "").unwrap_err().0, "index");
        let long = "字".repeat(TASK_NOTE_MAX + 1);
        assert_eq!(
            t.set_task(1, TaskStatus::Doing, &long).unwrap_err().0,
            "note"
        );
        assert_eq!(t.tasks[1].status, TaskStatus::Todo);
    }

    #[test]
    fn preview_counts_a_rule_s_tickets_per_month_and_samples_the_newest() {
        let mut rows = Vec::new();
        let mut texts = HashMap::new();
        for (id, m, d, text, district) in [
            (1, 3, 2, "充电桩报装难", "110105"),
            (2, 3, 9, "充电桩被占", "110108"),
            (3, 4, 1, "道路破损", "110105"),
            (4, 5, 20, "充电桩收费高", "110105"),
            (5, 5, 3, "充电桩报装难", "110105"),
        ] {
            rows.push(fact(id, (2026, m, d), "030101", district, "U1", None));
            texts.insert(id, text.to_string());
        }
        // another category: never taken
        rows.push(fact(6, (2026, 5, 4), "0302", "110105", "U1", None));
        texts.insert(6, "充电桩".to_string());
        let f = facts(&rows);
        let months: Vec<LocalMonth> = (3..=6)
            .map(|m| LocalMonth {
                year: 2026,
                month: m,
            })
            .collect();
        let rule = Rule {
            categories: vec!["0301".into()],
            keywords: vec!["充电桩".into()],
            places: vec![],
        };
        let p = preview(&f, &tree(), &texts, &rule, &months, 3);
        assert_eq!(p.months, ["2026-03", "2026-04", "2026-05", "2026-06"]);
        assert_eq!(p.requests, [2, 0, 2, 0]);
        assert_eq!(p.dispatched, [2, 0, 2, 0]);
        assert_eq!(p.total, 4);
        assert_eq!(p.sample, [4, 5, 2]);
        let local = Rule {
            places: vec!["110108001".into()],
            ..rule
        };
        let p = preview(&f, &tree(), &texts, &local, &months, 3);
        assert_eq!((p.total, p.sample.as_slice()), (1, &[2][..]));
    }
}
