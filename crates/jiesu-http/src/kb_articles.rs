//! Knowledge-base article management (知识库维护): drafts, edits as new versions, review by
//! someone other than the author, retirement, the version history — stored in the database
//! (`kb_articles`, see `jiesu_store::KbVersionRow`) and mirrored by the in-memory
//! [`KnowledgeBase`] that search and the virtual agent read. The shipped demo articles seed an
//! empty database.
//!
//! Every change runs under one lock: the workflow step on the in-memory knowledge base (which
//! checks the state machine), then all versions of the article are written in one transaction;
//! if that fails the knowledge base is reloaded from the database, so memory never runs ahead of
//! what is stored.

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::paging::Paging;
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use chrono::{NaiveDate, Utc};
use jiesu_domain::auth::Actor;
use jiesu_kb::{Article, ArticleStatus, KbError, KnowledgeBase};
use jiesu_store::{KbVersionRow, Store};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Mutex;

/// Serialises article changes (workflow step + durable write).
static EDIT_LOCK: Mutex<()> = Mutex::new(());

/// Loads the knowledge base from the database; an empty database is first seeded with the demo
/// city's articles (as shipped: published, or retired when expired).
pub fn load_kb(store: &dyn Store, now: chrono::DateTime<Utc>) -> anyhow::Result<KnowledgeBase> {
    if store.kb_version_count()? == 0 {
        let now = crate::kb_articles::stamp(now);
        let rows = jiesu_kb::demo_articles()
            .into_iter()
            .map(|a| to_row(&a, "demo", &now, None))
            .collect::<anyhow::Result<Vec<_>>>()?;
        store.kb_put_versions(rows)?;
    }
    let mut articles = Vec::new();
    for r in store.kb_all_versions()? {
        let a: Article = serde_json::from_str(&r.article).map_err(|e| {
            anyhow::anyhow!("stored article {} v{} is unreadable: {e}", r.id, r.version)
        })?;
        articles.push(a);
    }
    KnowledgeBase::from_articles(articles)
        .map_err(|e| anyhow::anyhow!("stored articles do not load: {e}"))
}

fn stamp(t: chrono::DateTime<Utc>) -> String {
    jiesu_store::time::fmt(t)
}

fn to_row(
    a: &Article,
    author: &str,
    now: &str,
    old: Option<&KbVersionRow>,
) -> anyhow::Result<KbVersionRow> {
    Ok(KbVersionRow {
        id: a.id.clone(),
        version: a.version,
        status: a.status.as_str().to_string(),
        article: serde_json::to_string(a)?,
        author: old.map_or_else(|| author.to_string(), |o| o.author.clone()),
        created_at: old.map_or_else(|| now.to_string(), |o| o.created_at.clone()),
        updated_at: old.map_or_else(|| now.to_string(), |o| o.updated_at.clone()),
        reviewed_by: old.and_then(|o| o.reviewed_by.clone()),
        reviewed_at: old.and_then(|o| o.reviewed_at.clone()),
        review_note: old.and_then(|o| o.review_note.clone()),
    })
}

fn kb_error(e: KbError) -> ApiError {
    match e {
        KbError::NotFound(id) => ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no article {id}"),
            "知识条目不存在",
        ),
        KbError::State(m) => ApiError::new(
            StatusCode::CONFLICT,
            "invalid_state",
            m,
            "条目当前状态不允许该操作（草稿→待审核→已发布→已停用）",
        ),
        KbError::Invalid(m) => {
            let field = ["question", "answer", "valid_to"]
                .into_iter()
                .find(|f| m.contains(f))
                .unwrap_or("article");
            ApiError::invalid(field, m.clone(), format!("条目内容有误：{m}"))
        }
    }
}

fn editors(actor: &Actor) -> ApiResult<()> {
    crate::auth::require(actor, jiesu_domain::capability::Capability::KbEdit)
}

fn reviewers(actor: &Actor) -> ApiResult<()> {
    crate::auth::require(actor, jiesu_domain::capability::Capability::KbReview)
}

/// What a workflow step did to the version it touched (for the stored metadata).
enum Step {
    Edited,
    Submitted,
    Reviewed(Option<String>),
    Retired,
}

/// Runs one workflow step under the lock and stores the article's versions.
async fn change(
    st: &AppState,
    actor: &Actor,
    id: String,
    step: Step,
    op: impl FnOnce(&mut KnowledgeBase, &Actor) -> ApiResult<Article> + Send + 'static,
) -> ApiResult<Value> {
    let st2 = st.clone();
    let actor = actor.clone();
    let now = stamp(st.now());
    tokio::task::spawn_blocking(move || -> ApiResult<Value> {
        let _guard = EDIT_LOCK.lock().unwrap_or_else(|p| p.into_inner());
        let old: HashMap<u32, KbVersionRow> = st2
            .store
            .kb_versions(&id)?
            .into_iter()
            .map(|r| (r.version, r))
            .collect();
        let (touched, history) = {
            let mut kb = st2
                .kb
                .write()
                .map_err(|_| ApiError::internal("knowledge base unavailable"))?;
            let a = op(&mut kb, &actor)?;
            (a, kb.repo().history(&id).to_vec())
        };
        let mut rows = Vec::with_capacity(history.len());
        for a in &history {
            let prev = old.get(&a.version);
            let mut r = to_row(a, &actor.user, &now, prev).map_err(ApiError::internal)?;
            if a.version == touched.version {
                r.updated_at = now.clone();
                match &step {
                    Step::Edited => r.author = actor.user.clone(),
                    Step::Reviewed(note) => {
                        r.reviewed_by = Some(actor.user.clone());
                        r.reviewed_at = Some(now.clone());
                        r.review_note = note.clone();
                    }
                    Step::Submitted | Step::Retired => {}
                }
            } else if prev.is_some_and(|p| p.status != r.status) {
                r.updated_at = now.clone(); // e.g. superseded by the approved version
            }
            rows.push(r);
        }
        if let Err(e) = st2.store.kb_put_versions(rows) {
            // memory must not run ahead of the database: reload what is stored
            if let Ok(k) = load_kb(&*st2.store, st2.now()) {
                if let Ok(mut kb) = st2.kb.write() {
                    *kb = k;
                }
            }
            return Err(e.into());
        }
        Ok(article_json(&st2, &touched))
    })
    .await?
}

fn article_json(st: &AppState, a: &Article) -> Value {
    let mut v = serde_json::to_value(a).unwrap_or(Value::Null);
    v["status_zh"] = json!(a.status.label_zh());
    v["owner_unit_name"] = json!(st.org.get(&a.owner_unit).map(|u| u.name.clone()));
    v
}

fn today(st: &AppState) -> NaiveDate {
    st.today()
}

#[derive(Deserialize, schemars::JsonSchema)]
pub struct ArticleBody {
    question: String,
    answer: String,
    #[serde(default)]
    policy_basis: String,
    owner_unit: String,
    #[serde(default)]
    categories: Vec<String>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    valid_from: Option<String>,
    #[serde(default)]
    valid_to: Option<String>,
}

fn date(field: &str, s: &str) -> ApiResult<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| {
        ApiError::invalid(
            field,
            format!("'{s}' is not a date (YYYY-MM-DD)"),
            format!("“{s}”不是有效日期（年-月-日）"),
        )
    })
}

impl ArticleBody {
    fn into_article(self, st: &AppState, id: String) -> ApiResult<Article> {
        if st.org.get(&self.owner_unit).is_none() {
            return Err(ApiError::invalid(
                "owner_unit",
                format!("unknown unit '{}'", self.owner_unit),
                format!("单位代码“{}”不存在", self.owner_unit),
            ));
        }
        if let Some(c) = self
            .categories
            .iter()
            .find(|c| st.categories.get(c).is_none())
        {
            return Err(ApiError::invalid(
                "categories",
                format!("unknown category code '{c}'"),
                format!("分类代码“{c}”不存在"),
            ));
        }
        let valid_from = match self.valid_from.as_deref().filter(|s| !s.trim().is_empty()) {
            Some(s) => date("valid_from", s)?,
            None => today(st),
        };
        let valid_to = self
            .valid_to
            .as_deref()
            .filter(|s| !s.trim().is_empty())
            .map(|s| date("valid_to", s))
            .transpose()?;
        Ok(Article {
            id,
            version: 1,
            question: self.question.trim().to_string(),
            answer: self.answer.trim().to_string(),
            policy_basis: self.policy_basis.trim().to_string(),
            owner_unit: self.owner_unit,
            categories: self.categories,
            tags: self
                .tags
                .into_iter()
                .map(|t| t.trim().to_string())
                .filter(|t| !t.is_empty())
                .collect(),
            valid_from,
            valid_to,
            status: ArticleStatus::Draft,
            reviewed_by: None,
        })
    }
}

/// The next free id `KB0001`, `KB0002`, … (after the highest number in use).
fn next_id(kb: &KnowledgeBase) -> String {
    let max = kb
        .repo()
        .all_latest()
        .filter_map(|a| a.id.strip_prefix("KB")?.parse::<u32>().ok())
        .max()
        .unwrap_or(0);
    format!("KB{:04}", max + 1)
}

/// `POST /api/v1/kb/articles` — a new article, as a draft (version 1).
pub async fn create(
    State(st): State<AppState>,
    Caller(actor): Caller,
    crate::json::Json(b): crate::json::Json<ArticleBody>,
) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    editors(&actor)?;
    let st2 = st.clone();
    let article = b.into_article(&st, String::new())?;
    // the id is chosen under the edit lock, inside the step
    let id = {
        let _g = EDIT_LOCK.lock().unwrap_or_else(|p| p.into_inner());
        let kb = st2
            .kb
            .read()
            .map_err(|_| ApiError::internal("knowledge base unavailable"))?;
        next_id(&kb)
    };
    let id2 = id.clone();
    let v = change(&st, &actor, id, Step::Edited, move |kb, _| {
        if kb.repo().latest(&id2).is_some() {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "conflict",
                "the new article's id was taken meanwhile; try again",
                "条目编号冲突，请重试",
            ));
        }
        kb.save_draft(Article { id: id2, ..article })
            .map_err(kb_error)
    })
    .await?;
    Ok((StatusCode::CREATED, axum::Json(v)))
}

/// `PUT /api/v1/kb/articles/{id}` — edit: the draft is replaced, or a published/retired article
/// gets a new draft version; an article in review cannot be edited (409).
pub async fn update(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
    crate::json::Json(b): crate::json::Json<ArticleBody>,
) -> ApiResult<axum::Json<Value>> {
    editors(&actor)?;
    let article = b.into_article(&st, id.clone())?;
    let id2 = id.clone();
    let v = change(&st, &actor, id, Step::Edited, move |kb, _| {
        if kb.repo().latest(&id2).is_none() {
            return Err(kb_error(KbError::NotFound(id2)));
        }
        kb.save_draft(article).map_err(kb_error)
    })
    .await?;
    Ok(axum::Json(v))
}

#[derive(Deserialize, Default, schemars::JsonSchema)]
pub struct ReviewBody {
    #[serde(default)]
    note: Option<String>,
}

/// `POST /api/v1/kb/articles/{id}/{submit|approve|reject|retire}`.
pub async fn step(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Path((id, what)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> ApiResult<axum::Json<Value>> {
    let body: ReviewBody = if body.iter().all(u8::is_ascii_whitespace) {
        ReviewBody::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            ApiError::invalid(
                "body",
                format!("give {{note?}} as JSON: {e}"),
                "请求内容应为 JSON：{note?}",
            )
        })?
    };
    let note = body
        .note
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty());
    if note.as_ref().is_some_and(|n| n.chars().count() > 1000) {
        return Err(ApiError::invalid(
            "note",
            "the note is longer than 1,000 characters",
            "审核意见超过1000字",
        ));
    }
    let author_of_review = |st: &AppState, id: &str| -> ApiResult<Option<String>> {
        let kb = st
            .kb
            .read()
            .map_err(|_| ApiError::internal("knowledge base unavailable"))?;
        let Some(latest) = kb.repo().latest(id) else {
            return Err(kb_error(KbError::NotFound(id.to_string())));
        };
        let version = latest.version;
        drop(kb);
        Ok(st
            .store
            .kb_versions(id)?
            .into_iter()
            .find(|r| r.version == version)
            .map(|r| r.author))
    };
    let id2 = id.clone();
    let v = match what.as_str() {
        "submit" => {
            editors(&actor)?;
            change(&st, &actor, id, Step::Submitted, move |kb, _| {
                kb.submit(&id2).map_err(kb_error)
            })
            .await?
        }
        "approve" | "reject" => {
            reviewers(&actor)?;
            if author_of_review(&st, &id)?.as_deref() == Some(actor.user.as_str()) {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "forbidden",
                    "the author of a version cannot review it; another reviewer must",
                    "条目作者不能审核自己的版本，请由其他审核人审核",
                ));
            }
            if what == "reject" && note.is_none() {
                return Err(ApiError::invalid(
                    "note",
                    "say why the version is sent back",
                    "请填写退回原因",
                ));
            }
            let approve = what == "approve";
            change(&st, &actor, id, Step::Reviewed(note), move |kb, a| {
                if approve {
                    kb.approve(&id2, &a.user).map_err(kb_error)
                } else {
                    kb.reject(&id2).map_err(kb_error)
                }
            })
            .await?
        }
        "retire" => {
            reviewers(&actor)?;
            change(&st, &actor, id, Step::Retired, move |kb, _| {
                kb.retire(&id2).map_err(kb_error)
            })
            .await?
        }
        other => {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "unknown_action",
                format!("unknown step '{other}'; steps: submit, approve, reject, retire"),
                format!("未知操作“{other}”"),
            ))
        }
    };
    Ok(axum::Json(v))
}

#[derive(Deserialize, schemars::JsonSchema)]
pub struct ListQuery {
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    q: Option<String>,
    /// `id` (the default: by article id) or `updated` (the newest change first).
    #[serde(default)]
    sort: Option<String>,
    #[serde(default)]
    #[schemars(extend("pattern" = "^([1-9][0-9]*)?$"))]
    page: Option<String>,
    #[serde(default)]
    #[schemars(extend("pattern" = "^([1-9][0-9]?|[1-4][0-9]{2}|500)?$"))]
    page_size: Option<String>,
}

/// `GET /api/v1/kb/articles?status=&q=&sort=id|updated&page=&page_size=` — one page (50 by
/// default) of every article's newest version (with the published one and whether it is valid
/// today), for staff; `total` counts the articles that match.
pub async fn list(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Query(q): Query<ListQuery>,
) -> ApiResult<axum::Json<Value>> {
    editors(&actor)?;
    if let Some(s) = q.status.as_deref() {
        if ArticleStatus::parse(s).is_none() {
            return Err(ApiError::invalid(
                "status",
                format!("'{s}' is not one of: draft, in_review, published, retired"),
                format!("“{s}”不是有效状态（draft、in_review、published、retired）"),
            ));
        }
    }
    let by_update = match q.sort.as_deref().unwrap_or("id") {
        "" | "id" => false,
        "updated" => true,
        s => {
            return Err(ApiError::invalid(
                "sort",
                format!("'{s}' is not one of: id, updated"),
                format!("“{s}”不是有效排序（id、updated）"),
            ))
        }
    };
    let paging = Paging::parse(q.page.as_deref(), q.page_size.as_deref(), 50)?;
    let s2 = st.clone();
    let meta: HashMap<(String, u32), KbVersionRow> =
        tokio::task::spawn_blocking(move || s2.store.kb_all_versions())
            .await??
            .into_iter()
            .map(|r| ((r.id.clone(), r.version), r))
            .collect();
    let day = today(&st);
    let needle = q.q.as_deref().map(str::trim).unwrap_or("").to_lowercase();
    let kb = st
        .kb
        .read()
        .map_err(|_| ApiError::internal("knowledge base unavailable"))?;
    let mut matching: Vec<&Article> = kb
        .repo()
        .all_latest()
        .filter(|a| q.status.as_deref().is_none_or(|s| a.status.as_str() == s))
        .filter(|a| {
            needle.is_empty()
                || a.id.to_lowercase().contains(&needle)
                || a.question.to_lowercase().contains(&needle)
                || a.tags.iter().any(|t| t.to_lowercase().contains(&needle))
        })
        .collect();
    let updated = |a: &Article| {
        meta.get(&(a.id.clone(), a.version))
            .map(|m| m.updated_at.clone())
            .unwrap_or_default()
    };
    if by_update {
        matching.sort_by(|a, b| updated(b).cmp(&updated(a)).then_with(|| a.id.cmp(&b.id)));
    } else {
        matching.sort_by(|a, b| a.id.cmp(&b.id));
    }
    let total = matching.len() as u64;
    let items: Vec<Value> = paging
        .slice(matching)
        .into_iter()
        .map(|a| {
            let m = meta.get(&(a.id.clone(), a.version));
            let published = kb.repo().published(&a.id);
            json!({
                "id": a.id, "version": a.version, "status": a.status.as_str(),
                "status_zh": a.status.label_zh(), "question": a.question,
                "owner_unit": a.owner_unit,
                "owner_unit_name": st.org.get(&a.owner_unit).map(|u| u.name.clone()),
                "valid_from": a.valid_from, "valid_to": a.valid_to,
                "published_version": published.map(|p| p.version),
                "searchable_today": published.is_some_and(|p| p.valid_on(day)),
                "author": m.map(|m| m.author.clone()), "updated_at": m.map(|m| m.updated_at.clone()),
                "review_note": m.and_then(|m| m.review_note.clone()),
            })
        })
        .collect();
    Ok(axum::Json(paging.with_body(json!({"items": items}), total)))
}

/// `GET /api/v1/kb/articles/{id}/versions` — every version with who wrote and reviewed it.
pub async fn versions(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Value>> {
    editors(&actor)?;
    let s2 = st.clone();
    let id2 = id.clone();
    let rows = tokio::task::spawn_blocking(move || s2.store.kb_versions(&id2)).await??;
    if rows.is_empty() {
        return Err(kb_error(KbError::NotFound(id)));
    }
    let items: Vec<Value> = rows
        .into_iter()
        .map(|r| {
            let article: Value = serde_json::from_str(&r.article).unwrap_or(Value::Null);
            let status_zh = ArticleStatus::parse(&r.status).map(|s| s.label_zh());
            json!({"version": r.version, "status": r.status, "status_zh": status_zh,
                   "author": r.author, "created_at": r.created_at, "updated_at": r.updated_at,
                   "reviewed_by": r.reviewed_by, "reviewed_at": r.reviewed_at,
                   "review_note": r.review_note, "article": article})
        })
        .collect();
    Ok(axum::Json(json!({"id": id, "versions": items})))
}
