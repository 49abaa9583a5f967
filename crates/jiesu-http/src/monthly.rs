//! 每月一题 — the problem of the month: candidates mined from last year's requests (texts
//! segmented here with `jiesu_text`, clustered and ranked by `jiesu_governance::topics` and
//! `::monthly`), adopted topics with their plan, three lists and progress (`TopicStore`, every
//! change a new version), and each problem's outcome measured by its versioned rule.

use crate::auth::{require, Caller};
use crate::error::{ApiError, ApiResult};
use crate::json::Json as JsonBody;
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use jiesu_analytics::LocalMonth;
use jiesu_domain::auth::{Actor, Role};
use jiesu_domain::capability::Capability;
use jiesu_domain::category::CategoryTree;
use jiesu_governance::monthly::{
    candidates, outcome, suggested_rule, Candidate, Outcome, Progress, RankWeights, Rates, Rule,
    Topic,
};
use jiesu_governance::topics::{cluster_corpus, Cluster, ClusterConfig, TextDoc};
use jiesu_store::{LabelledExample, NewTopicVersion, TopicVersion};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Texts read for mining: the newest this many tickets.
pub const TEXT_LIMIT: u32 = 200_000;
/// Mined results are reused while younger than this (server clock), even if tickets were filed
/// meanwhile: a year of requests barely moves in a quarter of an hour.
pub const REUSE_MINUTES: i64 = 15;

/// The category a text is clustered in: the second-level ancestor of its category (the top one
/// when the tree has a single level there).
pub fn cluster_category(tree: &CategoryTree, code: &str) -> String {
    let path: Vec<&jiesu_domain::category::Category> = tree.path(code).collect();
    match path.len() {
        0 => code.to_string(),
        1 => path[0].code.clone(),
        n => path[n - 2].code.clone(),
    }
}

/// The texts of labelled examples, segmented, each in its clustering category.
pub fn text_docs(
    examples: &[LabelledExample],
    tree: &CategoryTree,
    analyzer: &jiesu_text::analyzer::Analyzer,
) -> Vec<TextDoc> {
    let mut cat_of: HashMap<&str, String> = HashMap::new();
    examples
        .iter()
        .map(|e| TextDoc {
            ticket_id: e.ticket_id,
            category: cat_of
                .entry(e.category_code.as_str())
                .or_insert_with(|| cluster_category(tree, &e.category_code))
                .clone(),
            words: analyzer.tokens(&format!("{}\n{}", e.title, e.text)),
        })
        .collect()
}

/// What mining found.
pub struct Mined {
    pub at: DateTime<Utc>,
    pub ticket_count: u64,
    pub texts: usize,
    pub clusters: Vec<Cluster>,
    /// Ticket → title and text (for rules with keywords).
    pub text_of: HashMap<i64, String>,
}

/// The last mining, reused (see [`REUSE_MINUTES`]).
#[derive(Default)]
pub struct MiningCache {
    last: Mutex<Option<Arc<Mined>>>,
    analyzer: std::sync::OnceLock<jiesu_text::analyzer::Analyzer>,
}

impl MiningCache {
    fn get(&self, st: &AppState) -> ApiResult<Arc<Mined>> {
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        let now = st.now();
        let count = st.store.ticket_count()?;
        if let Some(m) = last.as_ref() {
            if m.ticket_count == count || now - m.at < chrono::Duration::minutes(REUSE_MINUTES) {
                return Ok(m.clone());
            }
        }
        let analyzer = self
            .analyzer
            .get_or_init(jiesu_text::analyzer::Analyzer::new);
        let examples = st.store.labelled_examples(TEXT_LIMIT)?;
        let docs = text_docs(&examples, &st.categories, analyzer);
        let clusters = cluster_corpus(&docs, &ClusterConfig::default());
        let text_of = examples
            .into_iter()
            .map(|e| (e.ticket_id, format!("{}\n{}", e.title, e.text)))
            .collect();
        let m = Arc::new(Mined {
            at: now,
            ticket_count: count,
            texts: docs.len(),
            clusters,
            text_of,
        });
        *last = Some(m.clone());
        Ok(m)
    }
}

async fn mined(st: &AppState) -> ApiResult<Arc<Mined>> {
    let st2 = st.clone();
    tokio::task::spawn_blocking(move || st2.monthly.get(&st2)).await?
}

/// `GET /api/v1/governance/monthly/candidates` query.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct CandidateQuery {
    /// The last month of the window, YYYY-MM (default: the last complete month).
    pub month: Option<String>,
    /// Months in the window (1–24, default 12).
    pub months: Option<u32>,
    /// How many candidates (1–100, default 20).
    pub top: Option<usize>,
    /// Only problems found in this category (or below it).
    pub category: Option<String>,
}

/// The candidates.
#[derive(Debug, Serialize, JsonSchema)]
pub struct CandidatesView {
    /// The window, YYYY-MM, oldest first.
    pub months: Vec<String>,
    /// Texts clustered.
    pub texts: usize,
    /// Concrete problems found.
    pub problems: usize,
    /// Their mean NPMI coherence.
    pub mean_coherence: f64,
    /// How the score is made (Chinese).
    pub method: String,
    pub candidates: Vec<CandidateView>,
}

/// One candidate problem.
#[derive(Debug, Serialize, JsonSchema)]
pub struct CandidateView {
    pub rank: usize,
    pub category: String,
    pub category_name: String,
    pub label: String,
    pub label_terms: Vec<String>,
    pub top_words: Vec<String>,
    pub coherence: f64,
    pub volume: u32,
    pub series: Vec<u32>,
    pub growth: Option<f64>,
    pub districts: u32,
    pub lead_units: u32,
    pub repeat_share: f64,
    pub response_rate: Option<f64>,
    pub resolution_rate: Option<f64>,
    pub satisfaction_rate: Option<f64>,
    pub score: f64,
    pub reasons: Vec<String>,
    /// The most frequent districts and streets (code and name).
    pub top_places: Vec<NamedCode>,
    /// Tickets behind it.
    pub ticket_count: usize,
    /// The newest 200 of them.
    pub tickets: Vec<i64>,
    /// The rule an adoption would start from.
    pub suggested_rule: Rule,
}

/// A code with its name.
#[derive(Debug, Serialize, JsonSchema)]
pub struct NamedCode {
    pub code: String,
    pub name: String,
}

const METHOD: &str = "近 12 个月诉求文本按二级分类聚类为具体问题（TF-IDF 词与相邻词对、球面 k-means、区分度最高的词作标签），再按诉求量、近三月增长、涉及区数、解决率低、满意率低、重复诉求、涉及主办单位数的百分位加权排序";

fn last_complete(st: &AppState) -> LocalMonth {
    let cur = LocalMonth::of(st.zone.date(st.now()));
    LocalMonth {
        year: if cur.month == 1 {
            cur.year - 1
        } else {
            cur.year
        },
        month: if cur.month == 1 { 12 } else { cur.month - 1 },
    }
}

fn month_param(st: &AppState, s: Option<&str>) -> ApiResult<LocalMonth> {
    match s.filter(|s| !s.is_empty()) {
        None => Ok(last_complete(st)),
        Some(s) => LocalMonth::parse(s).ok_or_else(|| {
            ApiError::invalid(
                "month",
                format!("'{s}' is not a month (YYYY-MM)"),
                "月份格式应为 YYYY-MM",
            )
        }),
    }
}

fn window(last: LocalMonth, n: u32) -> Vec<LocalMonth> {
    let mut out = vec![last];
    while out.len() < n as usize {
        let m = out[0];
        out.insert(
            0,
            LocalMonth {
                year: if m.month == 1 { m.year - 1 } else { m.year },
                month: if m.month == 1 { 12 } else { m.month - 1 },
            },
        );
    }
    out
}

/// `GET /api/v1/governance/monthly/candidates`.
pub async fn list_candidates(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Query(q): Query<CandidateQuery>,
) -> ApiResult<Json<CandidatesView>> {
    require(&actor, Capability::MonthlyCandidates)?;
    let last = month_param(&st, q.month.as_deref())?;
    let n = q.months.unwrap_or(12);
    if !(1..=24).contains(&n) {
        return Err(ApiError::invalid(
            "months",
            format!("months must be 1–24, not {n}"),
            "月数应在 1 至 24 之间",
        ));
    }
    let top = q.top.unwrap_or(20).clamp(1, 100);
    let category = q.category.clone().filter(|s| !s.is_empty());
    if let Some(c) = &category {
        if st.categories.get(c).is_none() {
            return Err(ApiError::invalid(
                "category",
                format!("unknown category `{c}`"),
                format!("未知的分类 `{c}`"),
            ));
        }
    }
    let m = mined(&st).await?;
    let months = window(last, n);
    let tree = st.categories.clone();
    let clusters: Vec<Cluster> = m
        .clusters
        .iter()
        .filter(|c| {
            category.as_deref().is_none_or(|want| {
                tree.path(&c.category).any(|x| x.code == want)
                    || tree.path(want).any(|x| x.code == c.category)
            })
        })
        .cloned()
        .collect();
    let ranked = st.analytics.with(&st, |facts| {
        candidates(facts, &clusters, &months, 5, &RankWeights::default())
    })?;
    let name = |code: &str| {
        st.org
            .get(code)
            .map(|u| u.name.clone())
            .unwrap_or_else(|| code.to_string())
    };
    let coherences: Vec<f64> = m.clusters.iter().map(|c| c.coherence).collect();
    Ok(Json(CandidatesView {
        months: months.iter().map(|m| m.key()).collect(),
        texts: m.texts,
        problems: m.clusters.len(),
        mean_coherence: jiesu_governance::topics::mean(&coherences),
        method: METHOD.into(),
        candidates: ranked
            .into_iter()
            .take(top)
            .enumerate()
            .map(|(i, c)| candidate_view(i + 1, c, &tree, &name))
            .collect(),
    }))
}

fn candidate_view(
    rank: usize,
    c: Candidate,
    tree: &CategoryTree,
    name: &dyn Fn(&str) -> String,
) -> CandidateView {
    let rule = suggested_rule(&c);
    let Rates {
        response,
        resolution,
        satisfaction,
    } = c.rates;
    CandidateView {
        rank,
        category_name: tree.path_label(&c.category),
        top_places: c
            .top_places
            .iter()
            .map(|p| NamedCode {
                code: p.clone(),
                name: name(p),
            })
            .collect(),
        ticket_count: c.tickets.len(),
        tickets: c.tickets.iter().rev().take(200).copied().collect(),
        suggested_rule: rule,
        category: c.category,
        label: c.label,
        label_terms: c.label_terms,
        top_words: c.top_words,
        coherence: c.coherence,
        volume: c.volume,
        series: c.series,
        growth: c.growth,
        districts: c.districts,
        lead_units: c.lead_units,
        repeat_share: c.repeat_share,
        response_rate: response,
        resolution_rate: resolution,
        satisfaction_rate: satisfaction,
        score: c.score,
        reasons: c.reasons,
    }
}

/// An adopted topic as served.
#[derive(Debug, Serialize, JsonSchema)]
pub struct TopicView {
    pub id: i64,
    /// The current version (send it back to edit).
    pub version: i64,
    pub topic: Topic,
    /// The lead department's name.
    pub lead_unit_name: String,
    /// Tasks done of all (e.g. 570 / 603, 94.52 %).
    pub progress: Progress,
    /// Tasks past their due date and not done (city date today).
    pub overdue_tasks: usize,
    pub updated_at: String,
    pub updated_by: String,
    /// Each problem's outcome (only on a single topic).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub outcomes: Vec<ProblemOutcome>,
    /// Every version, oldest first (only on a single topic).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<VersionView>,
}

/// One problem's outcome.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ProblemOutcome {
    pub label: String,
    pub rule: Rule,
    pub outcome: Outcome,
}

/// One version in a topic's history.
#[derive(Debug, Serialize, JsonSchema)]
pub struct VersionView {
    pub version: i64,
    pub at: String,
    pub by: String,
    pub note: String,
    pub theme: String,
    /// The rules of its problems then.
    pub rules: Vec<Rule>,
    pub progress: Progress,
}

fn parse_topic(v: &TopicVersion) -> ApiResult<Topic> {
    serde_json::from_str(&v.body).map_err(ApiError::internal)
}

fn view(st: &AppState, v: &TopicVersion, t: Topic) -> TopicView {
    let today = st.zone.date(st.now());
    TopicView {
        id: v.topic_id,
        version: v.version,
        lead_unit_name: st
            .org
            .get(&t.lead_unit)
            .map(|u| u.name.clone())
            .unwrap_or_else(|| t.lead_unit.clone()),
        progress: t.progress(),
        overdue_tasks: t.overdue_tasks(today),
        updated_at: v.created_at.clone(),
        updated_by: v.actor.clone(),
        topic: t,
        outcomes: Vec::new(),
        history: Vec::new(),
    }
}

/// Whether a unit's staff see a topic: their unit leads it, or is named in its responsibility
/// list or as a task's owner (by code or name).
fn concerns(st: &AppState, actor: &Actor, t: &Topic) -> bool {
    match actor.role {
        Role::UnitHandler | Role::UnitManager => {
            let Some(u) = actor.unit.as_deref() else {
                return false;
            };
            let name = st.org.get(u).map(|x| x.name.clone()).unwrap_or_default();
            let is = |s: &str| s == u || (!name.is_empty() && s == name);
            is(&t.lead_unit)
                || t.responsibilities.iter().any(|r| is(&r.unit))
                || t.tasks.iter().any(|x| is(&x.owner))
        }
        _ => true,
    }
}

/// The adopted topics.
#[derive(Debug, Serialize, JsonSchema)]
pub struct TopicList {
    pub topics: Vec<TopicView>,
}

/// `GET /api/v1/governance/monthly/topics`.
pub async fn list_topics(
    State(st): State<AppState>,
    Caller(actor): Caller,
) -> ApiResult<Json<TopicList>> {
    require(&actor, Capability::MonthlyView)?;
    let mut out = Vec::new();
    for v in st.store.topics()? {
        let t = parse_topic(&v)?;
        if concerns(&st, &actor, &t) {
            out.push(view(&st, &v, t));
        }
    }
    Ok(Json(TopicList { topics: out }))
}

/// `GET /api/v1/governance/monthly/topics/{id}` query.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct TopicQuery {
    /// The month the outcome is measured in, YYYY-MM (default: the last complete month).
    pub month: Option<String>,
}

/// `GET /api/v1/governance/monthly/topics/{id}`.
pub async fn get_topic(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<i64>,
    Query(q): Query<TopicQuery>,
) -> ApiResult<Json<TopicView>> {
    require(&actor, Capability::MonthlyView)?;
    let month = month_param(&st, q.month.as_deref())?;
    let versions = st.store.topic_versions(id)?;
    let Some(cur) = versions.last() else {
        return Err(topic_not_found(id));
    };
    let t = parse_topic(cur)?;
    if !concerns(&st, &actor, &t) {
        return Err(topic_not_found(id));
    }
    let mut history = Vec::new();
    for v in &versions {
        let old = parse_topic(v)?;
        history.push(VersionView {
            version: v.version,
            at: v.created_at.clone(),
            by: v.actor.clone(),
            note: v.note.clone(),
            theme: old.theme.clone(),
            rules: old.problems.iter().map(|p| p.rule.clone()).collect(),
            progress: old.progress(),
        });
    }
    // rules with keywords need the texts: mined (and cached) only then
    let text_of = if t.problems.iter().any(|p| !p.rule.keywords.is_empty()) {
        Some(mined(&st).await?)
    } else {
        None
    };
    let empty = HashMap::new();
    let texts = text_of.as_ref().map(|m| &m.text_of).unwrap_or(&empty);
    let tree = st.categories.clone();
    let outcomes = st.analytics.with(&st, |facts| {
        t.problems
            .iter()
            .map(|p| ProblemOutcome {
                label: p.label.clone(),
                rule: p.rule.clone(),
                outcome: outcome(facts, &tree, texts, &p.rule, month),
            })
            .collect::<Vec<_>>()
    })?;
    let mut v = view(&st, cur, t);
    v.outcomes = outcomes;
    v.history = history;
    Ok(Json(v))
}

fn topic_not_found(id: i64) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        format!("no topic {id}"),
        format!("每月一题 {id} 不存在"),
    )
}

fn check(st: &AppState, t: &Topic) -> ApiResult<()> {
    t.validate()
        .map_err(|(field, en, zh)| ApiError::invalid(field, en, zh))?;
    if st.org.get(&t.lead_unit).is_none() {
        return Err(ApiError::invalid(
            "lead_unit",
            format!("unknown unit `{}`", t.lead_unit),
            format!("未知的牵头部门 `{}`", t.lead_unit),
        ));
    }
    for p in &t.problems {
        if let Some(c) = p
            .rule
            .categories
            .iter()
            .find(|c| st.categories.get(c).is_none())
        {
            return Err(ApiError::invalid(
                "problems",
                format!("unknown category `{c}` in the rule of `{}`", p.label),
                format!("具体问题「{}」的规则含未知分类 `{c}`", p.label),
            ));
        }
    }
    Ok(())
}

/// `POST /api/v1/governance/monthly/topics`.
pub async fn adopt(
    State(st): State<AppState>,
    Caller(actor): Caller,
    JsonBody(body): JsonBody<serde_json::Value>,
) -> ApiResult<(StatusCode, Json<TopicView>)> {
    require(&actor, Capability::MonthlyEdit)?;
    let t: Topic = crate::json::from_value(&body)?;
    check(&st, &t)?;
    let v = st.store.adopt_topic(NewTopicVersion {
        month: t.month.clone(),
        theme: t.theme.clone(),
        lead_unit: t.lead_unit.clone(),
        body: serde_json::to_string(&t).map_err(ApiError::internal)?,
        actor: actor.user.clone(),
        note: String::new(),
        now: st.now(),
    })?;
    Ok((StatusCode::CREATED, Json(view(&st, &v, t))))
}

/// `PUT /api/v1/governance/monthly/topics/{id}` body.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct ReviseBody {
    /// The version the edit was made on (409 if the topic moved on meanwhile).
    pub version: i64,
    /// Why (kept with the version).
    #[serde(default)]
    pub note: String,
    /// The whole record as it should now stand.
    pub topic: Topic,
}

/// `PUT /api/v1/governance/monthly/topics/{id}`.
pub async fn revise(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<i64>,
    JsonBody(body): JsonBody<serde_json::Value>,
) -> ApiResult<Json<TopicView>> {
    require(&actor, Capability::MonthlyEdit)?;
    let b: ReviseBody = crate::json::from_value(&body)?;
    check(&st, &b.topic)?;
    let v = st
        .store
        .revise_topic(
            id,
            b.version,
            NewTopicVersion {
                month: b.topic.month.clone(),
                theme: b.topic.theme.clone(),
                lead_unit: b.topic.lead_unit.clone(),
                body: serde_json::to_string(&b.topic).map_err(ApiError::internal)?,
                actor: actor.user.clone(),
                note: b.note,
                now: st.now(),
            },
        )
        .map_err(|e| match e {
            jiesu_store::StoreError::NotFound => topic_not_found(id),
            e => e.into(),
        })?;
    Ok(Json(view(&st, &v, b.topic)))
}

/// 月分析's 每月一题 lines for the month `key` (YYYY-MM): every topic adopted for that month or
/// before, as it stands, with its progress and each problem's dispatched volume that month
/// against the month before and the same month last year (the rules' texts are mined only when a
/// rule has keywords).
pub fn bulletin_lines(st: &AppState, key: &str) -> ApiResult<Vec<String>> {
    let Some(month) = LocalMonth::parse(key) else {
        return Ok(Vec::new());
    };
    let topics: Vec<(TopicVersion, Topic)> = st
        .store
        .topics()?
        .into_iter()
        .filter(|v| v.month.as_str() <= key)
        .map(|v| parse_topic(&v).map(|t| (v, t)))
        .collect::<ApiResult<_>>()?;
    if topics.is_empty() {
        return Ok(Vec::new());
    }
    let mined = if topics
        .iter()
        .any(|(_, t)| t.problems.iter().any(|p| !p.rule.keywords.is_empty()))
    {
        Some(st.monthly.get(st)?)
    } else {
        None
    };
    let empty = HashMap::new();
    let texts = mined.as_ref().map(|m| &m.text_of).unwrap_or(&empty);
    let tree = st.categories.clone();
    let pct = |x: Option<f64>| match x {
        Some(x) => format!("{}{:.1}%", if x > 0.0 { "+" } else { "" }, x * 100.0),
        None => "—".to_string(),
    };
    let mut out = Vec::new();
    for (_, t) in &topics {
        let lead = st
            .org
            .get(&t.lead_unit)
            .map(|u| u.name.clone())
            .unwrap_or_else(|| t.lead_unit.clone());
        let p = t.progress();
        let problems = st.analytics.with(st, |facts| {
            t.problems
                .iter()
                .map(|pr| {
                    let o = outcome(facts, &tree, texts, &pr.rule, month);
                    format!(
                        "「{}」派单 {} 件，环比 {}，同比 {}",
                        pr.label,
                        o.dispatched.last().copied().unwrap_or(0),
                        pct(o.month_over_month),
                        pct(o.year_over_year)
                    )
                })
                .collect::<Vec<_>>()
        })?;
        out.push(format!(
            "{}「{}」（{}牵头，{}负责）：任务完成 {} / {} 项（{:.2}%）；{}。",
            t.month,
            t.theme,
            lead,
            t.leader,
            p.done,
            p.total,
            p.percent,
            problems.join("；")
        ));
    }
    Ok(out)
}
