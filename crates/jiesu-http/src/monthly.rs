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
    candidates, outcome, preview, suggested_rule, Candidate, Outcome, Progress, RankWeights, Rates,
    Rule, TaskStatus, Topic,
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
    /// Tasks past their due date and not done (city date today, server clock).
    pub overdue_tasks: usize,
    /// Their positions in the task list (0-based), so each can be flagged.
    pub overdue_task_indexes: Vec<usize>,
    /// Whether the caller may set a task's status (the lead unit's manager, the admin).
    pub may_update_tasks: bool,
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

fn view(st: &AppState, actor: &Actor, v: &TopicVersion, t: Topic) -> TopicView {
    let today = st.zone.date(st.now());
    TopicView {
        overdue_task_indexes: t.overdue_task_indexes(today),
        may_update_tasks: may_update_tasks(actor, &t),
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

/// Whether `actor` may set a task's status on `t`: the admin, or a manager of its lead unit
/// (and the capability table must grant it).
fn may_update_tasks(actor: &Actor, t: &Topic) -> bool {
    actor.may(Capability::MonthlyTaskUpdate)
        && match actor.role {
            Role::UnitManager => actor.unit.as_deref() == Some(t.lead_unit.as_str()),
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
            out.push(view(&st, &actor, &v, t));
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
    let mut v = view(&st, &actor, cur, t);
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
        check_rule(st, &p.rule).map_err(|(_, en, zh)| {
            ApiError::invalid(
                "problems",
                format!("{en} (the rule of `{}`)", p.label),
                format!("具体问题「{}」的规则：{zh}", p.label),
            )
        })?;
    }
    Ok(())
}

/// Keywords a rule may hold, and their length in characters.
pub const RULE_KEYWORDS_MAX: usize = 20;
/// The longest keyword.
pub const RULE_KEYWORD_CHARS: usize = 30;
/// Categories or places a rule may name.
pub const RULE_CODES_MAX: usize = 50;

/// What is wrong with a rule: the field (`categories`, `keywords`, `places`), English, Chinese.
fn check_rule(st: &AppState, r: &Rule) -> Result<(), (&'static str, String, String)> {
    if r.categories.is_empty() {
        return Err((
            "categories",
            "a rule needs at least one category".into(),
            "规则须至少包含一个分类".into(),
        ));
    }
    for (field, list, zh) in [
        ("categories", &r.categories, "分类"),
        ("places", &r.places, "地区"),
    ] {
        if list.len() > RULE_CODES_MAX {
            return Err((
                field,
                format!("a rule names at most {RULE_CODES_MAX} {field}"),
                format!("规则最多包含 {RULE_CODES_MAX} 个{zh}"),
            ));
        }
    }
    if let Some(c) = r.categories.iter().find(|c| st.categories.get(c).is_none()) {
        return Err((
            "categories",
            format!("unknown category `{c}`"),
            format!("未知的分类 `{c}`"),
        ));
    }
    if let Some(p) = r.places.iter().find(|p| st.org.get(p).is_none()) {
        return Err((
            "places",
            format!("unknown place `{p}` (a district, street or community code)"),
            format!("未知的地区 `{p}`（应为区、街乡镇或社区代码）"),
        ));
    }
    if r.keywords.len() > RULE_KEYWORDS_MAX {
        return Err((
            "keywords",
            format!("a rule holds at most {RULE_KEYWORDS_MAX} keywords"),
            format!("规则最多包含 {RULE_KEYWORDS_MAX} 个关键词"),
        ));
    }
    if let Some(k) = r
        .keywords
        .iter()
        .find(|k| k.trim().is_empty() || k.chars().count() > RULE_KEYWORD_CHARS)
    {
        return Err((
            "keywords",
            format!("a keyword is 1 to {RULE_KEYWORD_CHARS} characters, not `{k}`"),
            format!("关键词应为 1 至 {RULE_KEYWORD_CHARS} 个字，“{k}”不符合"),
        ));
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
    Ok((StatusCode::CREATED, Json(view(&st, &actor, &v, t))))
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
    Ok(Json(view(&st, &actor, &v, b.topic)))
}

/// `PUT /api/v1/governance/monthly/topics/{id}/tasks/{n}` body.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct TaskUpdateBody {
    /// The topic version the change was made on (see the 409 rule on the route).
    pub version: i64,
    /// The task's new status.
    pub status: TaskStatus,
    /// The owner's word on it (replaces the task's note; empty clears it).
    #[serde(default)]
    pub note: String,
}

/// `PUT /api/v1/governance/monthly/topics/{id}/tasks/{n}` — one task's progress (任务进度): the
/// topic's next version with only that task changed, the change named in the version's note.
pub async fn update_task(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Path((id, n)): Path<(i64, i64)>,
    JsonBody(body): JsonBody<serde_json::Value>,
) -> ApiResult<Json<TopicView>> {
    require(&actor, Capability::MonthlyTaskUpdate)?;
    let b: TaskUpdateBody = crate::json::from_value(&body)?;
    let versions = st.store.topic_versions(id)?;
    let Some(cur) = versions.last() else {
        return Err(topic_not_found(id));
    };
    let mut t = parse_topic(cur)?;
    if !concerns(&st, &actor, &t) {
        return Err(topic_not_found(id));
    }
    if !may_update_tasks(&actor, &t) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "only the lead unit's manager or the admin sets a task's status",
            "只有牵头部门的管理人员或系统管理员可以更新任务进度",
        ));
    }
    let index = usize::try_from(n - 1).ok().filter(|i| *i < t.tasks.len());
    let Some(index) = index else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("topic {id} has {} tasks: no task {n}", t.tasks.len()),
            format!("该题目共 {} 项任务，没有第 {n} 项", t.tasks.len()),
        ));
    };
    // made on an older version: fine only if this task has not changed since
    if b.version != cur.version {
        let seen = versions
            .iter()
            .find(|v| v.version == b.version)
            .map(parse_topic)
            .transpose()?;
        let same = seen
            .as_ref()
            .and_then(|s| s.tasks.get(index))
            .is_some_and(|x| *x == t.tasks[index]);
        if !same {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "conflict",
                format!(
                    "task {n} of topic {id} changed since version {} (now version {}): reload",
                    b.version, cur.version
                ),
                format!(
                    "第 {n} 项任务在第 {} 版之后已被修改（当前第 {} 版），请刷新后再改",
                    b.version, cur.version
                ),
            ));
        }
    }
    let task_seen = t.tasks[index].clone();
    let mut on = cur.version;
    // another task's change may land between the read and the write: then the write is tried
    // again on the newer version, as long as this task is still as it was seen
    for _ in 0..3 {
        let line = t
            .set_task(index, b.status, &b.note)
            .map_err(|(field, en, zh)| ApiError::invalid(field, en, zh))?;
        let written = st.store.revise_topic(
            id,
            on,
            NewTopicVersion {
                month: t.month.clone(),
                theme: t.theme.clone(),
                lead_unit: t.lead_unit.clone(),
                body: serde_json::to_string(&t).map_err(ApiError::internal)?,
                actor: actor.user.clone(),
                note: line,
                now: st.now(),
            },
        );
        match written {
            Ok(v) => return Ok(Json(view(&st, &actor, &v, t))),
            Err(jiesu_store::StoreError::Conflict(_)) => {
                let versions = st.store.topic_versions(id)?;
                let Some(newer) = versions.last() else {
                    return Err(topic_not_found(id));
                };
                t = parse_topic(newer)?;
                if t.tasks.get(index) != Some(&task_seen) {
                    break;
                }
                on = newer.version;
            }
            Err(jiesu_store::StoreError::NotFound) => return Err(topic_not_found(id)),
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::new(
        StatusCode::CONFLICT,
        "conflict",
        format!("task {n} of topic {id} changed meanwhile: reload"),
        format!("第 {n} 项任务刚被他人修改，请刷新后再改"),
    ))
}

/// `POST /api/v1/governance/monthly/rule-preview` body.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct PreviewBody {
    /// The draft rule.
    pub rule: Rule,
    /// The last month counted, YYYY-MM (default: the last complete month); 13 months end there.
    #[serde(default)]
    pub month: Option<String>,
}

/// Months a preview counts: a year and the same month before it.
pub const PREVIEW_MONTHS: u32 = 13;
/// Tickets a preview shows.
pub const PREVIEW_SAMPLE: usize = 20;

/// What a draft rule takes.
#[derive(Debug, Serialize, JsonSchema)]
pub struct RulePreviewView {
    /// The months, YYYY-MM, oldest first.
    pub months: Vec<String>,
    /// Requests the rule takes per month.
    pub requests: Vec<u32>,
    /// Of them dispatched (派单量), per month.
    pub dispatched: Vec<u32>,
    /// Requests taken over the 13 months.
    pub total: u32,
    /// Whether keywords were matched on the texts kept for mining (the newest 200,000 tickets);
    /// older tickets then count only for rules without keywords.
    pub texts_limited: bool,
    /// The newest tickets taken (no personal data: the title with names, addresses and long
    /// digit runs masked).
    pub sample: Vec<PreviewTicket>,
}

/// A ticket a draft rule takes.
#[derive(Debug, Serialize, JsonSchema)]
pub struct PreviewTicket {
    pub id: i64,
    pub number: String,
    /// The city date it was filed.
    pub date: String,
    pub category_name: String,
    /// The district's name.
    pub district: String,
    /// The title, personal data masked.
    pub title: String,
}

/// `POST /api/v1/governance/monthly/rule-preview` — what a draft rule would take before it is
/// adopted or changed: its tickets per month over 13 months and the newest 20 of them.
pub async fn rule_preview(
    State(st): State<AppState>,
    Caller(actor): Caller,
    JsonBody(body): JsonBody<serde_json::Value>,
) -> ApiResult<Json<RulePreviewView>> {
    require(&actor, Capability::MonthlyEdit)?;
    let b: PreviewBody = crate::json::from_value(&body)?;
    check_rule(&st, &b.rule)
        .map_err(|(field, en, zh)| ApiError::invalid(&format!("rule.{field}"), en, zh))?;
    let last = month_param(&st, b.month.as_deref())?;
    let months = window(last, PREVIEW_MONTHS);
    let m = if b.rule.keywords.is_empty() {
        None
    } else {
        Some(mined(&st).await?)
    };
    let empty = HashMap::new();
    let texts = m.as_ref().map(|m| &m.text_of).unwrap_or(&empty);
    let tree = st.categories.clone();
    let p = st.analytics.with(&st, |facts| {
        preview(facts, &tree, texts, &b.rule, &months, PREVIEW_SAMPLE)
    })?;
    let st2 = st.clone();
    let ids = p.sample.clone();
    let sample = tokio::task::spawn_blocking(move || -> ApiResult<Vec<PreviewTicket>> {
        let mut out = Vec::new();
        for id in ids {
            let Some((t, _)) = st2.store.load_ticket(id)? else {
                continue;
            };
            let i = &t.intake;
            out.push(PreviewTicket {
                id,
                number: t.number.clone(),
                date: st2.zone.date(t.created_at).to_string(),
                category_name: st2.categories.path_label(&i.category_code),
                district: st2
                    .org
                    .get(&i.place.district_code)
                    .map(|u| u.name.clone())
                    .unwrap_or_default(),
                title: crate::open311::redact(
                    &i.title,
                    Some(&i.requester.name),
                    i.place.address.as_deref(),
                ),
            });
        }
        Ok(out)
    })
    .await??;
    Ok(Json(RulePreviewView {
        months: p.months,
        requests: p.requests,
        dispatched: p.dispatched,
        total: p.total,
        texts_limited: m.is_some(),
        sample,
    }))
}

/// 月分析's 每月一题 lines and rows for the month `key` (YYYY-MM): every topic adopted for that
/// month or before, as it stood at the month's end (its last version written before then), with
/// its progress (and tasks overdue at the month's end, or today for the month under way) and each problem's dispatched volume that month against the month before and the same
/// month last year, and its 三率 (the rules' texts are mined only when a rule has keywords).
pub fn bulletin_section(
    st: &AppState,
    key: &str,
) -> ApiResult<(Vec<String>, Vec<jiesu_analytics::bulletin::TopicRow>)> {
    let Some(month) = LocalMonth::parse(key) else {
        return Ok((Vec::new(), Vec::new()));
    };
    // each topic as it stood when the month ended (or now, for the month under way): its rule,
    // its tasks, its overdue ones on that day
    let (_, end) = st.zone.month_bounds(month.year, month.month);
    let end_at = end.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let today = st.zone.date(st.now()).min(st.zone.date(end));
    let mut topics: Vec<(TopicVersion, Topic)> = Vec::new();
    for cur in st.store.topics()? {
        let versions = st.store.topic_versions(cur.topic_id)?;
        let Some(v) = versions.iter().rev().find(|v| v.created_at < end_at) else {
            continue;
        };
        if v.month.as_str() <= key {
            topics.push((v.clone(), parse_topic(v)?));
        }
    }
    if topics.is_empty() {
        return Ok((Vec::new(), Vec::new()));
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
    let mut rows = Vec::new();
    for (_, t) in &topics {
        let lead = st
            .org
            .get(&t.lead_unit)
            .map(|u| u.name.clone())
            .unwrap_or_else(|| t.lead_unit.clone());
        let p = t.progress();
        let overdue = t.overdue_tasks(today) as u32;
        let outcomes = st.analytics.with(st, |facts| {
            t.problems
                .iter()
                .map(|pr| {
                    (
                        pr.label.clone(),
                        outcome(facts, &tree, texts, &pr.rule, month),
                    )
                })
                .collect::<Vec<_>>()
        })?;
        let mut problems = Vec::new();
        for (label, o) in outcomes {
            let at = |m: LocalMonth| {
                o.months
                    .iter()
                    .position(|x| *x == m.key())
                    .map(|i| u64::from(o.dispatched[i]))
                    .unwrap_or(0)
            };
            let dispatched = at(month);
            problems.push(format!(
                "「{}」派单 {} 件，环比 {}，同比 {}",
                label,
                dispatched,
                pct(o.month_over_month),
                pct(o.year_over_year)
            ));
            rows.push(jiesu_analytics::bulletin::TopicRow {
                topic_month: t.month.clone(),
                theme: t.theme.clone(),
                lead_unit: lead.clone(),
                leader: t.leader.clone(),
                tasks_done: p.done,
                tasks_total: p.total,
                tasks_percent: p.percent,
                tasks_overdue: overdue,
                problem: label,
                dispatched,
                previous: at(window(month, 2)[0]),
                last_year: at(LocalMonth {
                    year: month.year - 1,
                    month: month.month,
                }),
                month_over_month: o.month_over_month,
                year_over_year: o.year_over_year,
                response_rate: o.response_rate,
                resolution_rate: o.resolution_rate,
                satisfaction_rate: o.satisfaction_rate,
            });
        }
        out.push(format!(
            "{}「{}」（{}牵头，{}负责）：任务完成 {} / {} 项（{:.2}%）{}；{}。",
            t.month,
            t.theme,
            lead,
            t.leader,
            p.done,
            p.total,
            p.percent,
            if overdue > 0 {
                format!("，逾期 {overdue} 项")
            } else {
                String::new()
            },
            problems.join("；")
        ));
    }
    Ok((out, rows))
}
