//! # jiesu-http
//!
//! The HTTP API (axum, JSON, problem+json errors) and the embedded web UI. Every route that acts on
//! a ticket passes through `jiesu_domain::auth` (one place for authorization); every write goes
//! through the store's writer and is durable before the response.

// `ApiError` carries the bilingual problem document; it is returned on the cold path only, so its
// size is not worth boxing.
#![allow(clippy::result_large_err)]

mod actions;
mod attachments;
pub mod auth;
mod callbacks;
pub mod classify;
mod error;
mod inbox;
mod json;
mod kb;
mod kb_articles;
pub mod notify;
mod openapi;
pub(crate) mod overview;
mod reference;
mod routing;
mod scheduler_task;
mod scores;
mod supervision;
mod tickets;
mod ui;
mod views;

use axum::routing::{get, post};
use axum::Router;
use chrono::{DateTime, Utc};
use jiesu_domain::category::CategoryTree;
use jiesu_domain::org::OrgTree;
use jiesu_store::Store;
use std::sync::Arc;

pub use error::ApiError;
pub use routing::{scheduler_pass, whatif_report};

/// A demo log-in shown on the log-in page of a demo city.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DemoAccount {
    pub username: String,
    pub password: String,
    pub role: String,
    pub unit_code: Option<String>,
    pub note: String,
}

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub org: Arc<OrgTree>,
    pub categories: Arc<CategoryTree>,
    pub demo_accounts: Arc<Option<Vec<DemoAccount>>>,
    /// The clock (swappable in tests); the domain never reads it itself.
    pub clock: Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>,
    /// Recently verified sessions (token hash → caller), so each request does not read the
    /// sessions table; entries are re-checked against the store after `auth::SESSION_CACHE_SECS`.
    pub sessions: Arc<std::sync::RwLock<std::collections::HashMap<String, auth::CachedSession>>>,
    /// The published duty catalogue (swapped on publish).
    pub catalogue: Arc<std::sync::RwLock<Arc<jiesu_routing::Catalogue>>>,
    /// The city's time zone (the database's `time_zone` setting): every local day and month.
    pub zone: jiesu_domain::CityZone,
    /// 时限引擎 — the one deadline engine (policy on the working calendar in the city's zone): the
    /// domain's [`jiesu_domain::DeadlineSource`] for dispatch and reopen, the scheduler's and the
    /// review queue's spans.
    pub deadlines: Arc<jiesu_routing::DeadlineEngine>,
    /// Reminder thresholds of the scheduler (fractions of each clock's span).
    pub thresholds: Arc<jiesu_routing::Thresholds>,
    /// The knowledge base (in-memory index).
    pub kb: Arc<std::sync::RwLock<jiesu_kb::KnowledgeBase>>,
    /// The classifiers in use (None while training at start-up).
    pub models: Arc<std::sync::RwLock<Option<Arc<classify::Models>>>>,
}

impl AppState {
    /// Loads the reference data from the store, with the machine's clock.
    pub fn load(store: Arc<dyn Store>) -> anyhow::Result<AppState> {
        AppState::load_with_clock(store, Arc::new(Utc::now))
    }

    /// Loads the reference data from the store; `clock` is the server's clock from the start
    /// (a test clock in tests), so nothing reads the machine's clock behind it.
    pub fn load_with_clock(
        store: Arc<dyn Store>,
        clock: Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>,
    ) -> anyhow::Result<AppState> {
        let now = clock();
        let units = store.units()?;
        let cats = store.categories()?;
        if units.is_empty() || cats.is_empty() {
            anyhow::bail!(
                "the database {} has no units or categories; create it with `jiesu generate` or `jiesu init`",
                store.path().display()
            );
        }
        let org = OrgTree::new(units);
        let categories = CategoryTree::new(cats);
        let catalogue = match store.catalogue("published")? {
            Some(v) => jiesu_routing::Catalogue::from_csv(v.csv.as_bytes(), &org, &categories)
                .map_err(|r| {
                    anyhow::anyhow!(
                        "the published duty catalogue (version {}) does not load: {r}",
                        v.version
                    )
                })?,
            None => jiesu_routing::Catalogue::new(vec![]),
        };
        let knowledge = kb_articles::load_kb(&*store, now)?;
        let zone = store.city_zone()?;
        // the one deadline engine (the demo generator builds the same)
        let deadlines = jiesu_routing::DeadlineEngine::city_default(zone, now);
        Ok(AppState {
            store,
            org: Arc::new(org),
            categories: Arc::new(categories),
            demo_accounts: Arc::new(None),
            clock,
            sessions: Arc::new(std::sync::RwLock::new(std::collections::HashMap::new())),
            catalogue: Arc::new(std::sync::RwLock::new(Arc::new(catalogue))),
            zone,
            deadlines: Arc::new(deadlines),
            thresholds: Arc::new(jiesu_routing::Thresholds::standard()),
            kb: Arc::new(std::sync::RwLock::new(knowledge)),
            models: Arc::new(std::sync::RwLock::new(None)),
        })
    }
    pub fn now(&self) -> DateTime<Utc> {
        (self.clock)()
    }

    /// Today in the city (the local date of [`AppState::now`] in [`AppState::zone`]).
    pub fn today(&self) -> chrono::NaiveDate {
        self.zone.date(self.now())
    }
}

/// The whole application: API routes and the UI.
pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/session", post(auth_routes::login))
        .route("/me", get(auth_routes::me))
        .route("/demo", get(auth_routes::demo))
        .route("/units", get(reference::units))
        .route("/categories", get(reference::categories))
        .route("/categories/search", get(reference::category_search))
        .route("/enums", get(reference::enums))
        .route("/actions", get(actions::list))
        .route("/tickets", post(tickets::create).get(tickets::list))
        .route("/tickets/{id}", get(tickets::get_one))
        .route("/tickets/{id}/events", get(tickets::events))
        .route("/tickets/{id}/{action}", post(actions::act))
        .route(
            "/tickets/{id}/attachments",
            post(attachments::upload).layer(axum::extract::DefaultBodyLimit::max(
                attachments::MAX_BYTES + 1,
            )),
        )
        .route(
            "/tickets/{id}/attachments/{att}",
            get(attachments::download),
        )
        .route("/tickets/{id}/route", get(routing::route))
        .route("/tickets/{id}/rating-link", post(callbacks::rating_link))
        .route("/callbacks/due", get(callbacks::due))
        .route("/callbacks/recheck-sample", get(callbacks::recheck_sample))
        .route(
            "/callbacks/rechecks",
            get(callbacks::rechecks).post(callbacks::record_recheck),
        )
        .route("/callbacks/unresolved", get(callbacks::unresolved))
        .route("/praise", get(callbacks::praise))
        .route(
            "/public/rate/{token}",
            get(callbacks::rate_info).post(callbacks::rate),
        )
        .route("/tickets/{id}/duplicates", get(kb::duplicates))
        .route("/duplicates/candidates", post(kb::duplicate_candidates))
        .route("/kb/search", get(kb::search))
        .route(
            "/kb/articles",
            get(kb_articles::list).post(kb_articles::create),
        )
        .route(
            "/kb/articles/{id}",
            get(kb::article).put(kb_articles::update),
        )
        .route("/kb/articles/{id}/versions", get(kb_articles::versions))
        .route("/kb/articles/{id}/{step}", post(kb_articles::step))
        .route("/kb/usage", get(kb::usage))
        .route("/classify", post(classify::classify))
        .route("/classify/model", get(classify::model_info))
        .route("/classify/feedback", post(classify::feedback))
        .route("/scores/{period}/{level}", get(scores::scorecard))
        .route("/scores/{period}/units/{code}/tickets", get(scores::drill))
        .route("/scores/{period}/{level}/tickets", get(scores::level_drill))
        .route("/kb/stats", get(kb::stats))
        .route("/public/ask", post(kb::ask))
        .route("/public/ask/{session}/ticket", post(kb::handover_ticket))
        .route("/catalogue", get(routing::catalogue_info))
        .route("/catalogue/export.csv", get(routing::export_csv))
        .route("/catalogue/export.xlsx", get(routing::export_xlsx))
        .route("/catalogue/import", post(routing::import_csv))
        .route("/catalogue/lint", get(routing::lint))
        .route(
            "/catalogue/drafts/{version}/rules",
            get(routing::draft_rules),
        )
        .route("/catalogue/draft/edit", post(routing::edit_draft))
        .route("/catalogue/drafts/{version}/whatif", get(routing::whatif))
        .route(
            "/catalogue/drafts/{version}/publish",
            post(routing::publish),
        )
        .route("/supervision/overdue", get(routing::overdue_board))
        .route("/supervision/remind", post(routing::remind_bulk))
        .route("/supervision/reviews", get(routing::review_queue))
        .route("/supervision/escalations", get(routing::escalations))
        .route(
            "/supervision/dispatch-accuracy",
            get(routing::dispatch_accuracy),
        )
        .route("/inbox", get(routing::inbox))
        .route("/overview", get(overview::overview))
        .route("/track/{number}", get(tickets::track))
        .route("/public/tickets", post(tickets::public_create));
    Router::new()
        .nest("/api/v1", api)
        .route("/api/openapi.json", get(openapi::document))
        .route("/healthz", get(|| async { "ok" }))
        .fallback(ui::serve)
        .with_state(state)
}

/// Serves until Ctrl-C / SIGTERM.
pub async fn serve(state: AppState, listen: &str) -> anyhow::Result<()> {
    serve_with(state, listen, notify::NotifyConfig::default()).await
}

/// Serves with outgoing notifications (webhooks, SMS) configured.
pub async fn serve_with(
    state: AppState,
    listen: &str,
    notify_cfg: notify::NotifyConfig,
) -> anyhow::Result<()> {
    notify::spawn(state.clone(), notify_cfg, std::time::Duration::from_secs(5));
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {listen}: {e}"))?;
    routing::spawn_scheduler(state.clone(), std::time::Duration::from_secs(30));
    classify::start(&state);
    axum::serve(listener, router(state))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}

mod auth_routes {
    use super::*;
    use crate::auth::{new_token, token_hash, verify_password, Caller};
    use crate::error::{ApiError, ApiResult};
    use crate::json::Json;
    use axum::extract::State;
    use axum::http::StatusCode;
    use serde::Deserialize;
    use serde_json::{json, Value};

    #[derive(Deserialize)]
    pub struct Login {
        username: String,
        password: String,
    }

    /// The signed-in user (log-in and `/me`), with the wire names of the capabilities their role
    /// has in the domain's capability table — the UI shows only what they may use.
    pub fn user_json(st: &AppState, username: &str, role: &str, unit: Option<&str>) -> Value {
        let parsed = jiesu_domain::Role::parse(role);
        let role_label = parsed.map(|r| r.label_zh()).unwrap_or(role);
        let capabilities: Vec<&str> = parsed
            .map(jiesu_domain::capability::Capability::of)
            .unwrap_or_default()
            .iter()
            .map(|c| c.as_str())
            .collect();
        json!({
            "username": username,
            "role": role,
            "role_label": role_label,
            "unit_code": unit,
            "unit_name": unit.and_then(|u| st.org.get(u)).map(|u| u.name.clone()),
            "capabilities": capabilities,
        })
    }

    pub async fn login(
        State(st): State<AppState>,
        Json(b): Json<Login>,
    ) -> ApiResult<axum::Json<Value>> {
        let s2 = st.clone();
        let name = b.username.clone();
        let user = tokio::task::spawn_blocking(move || s2.store.user_by_name(&name)).await??;
        let bad = || {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "bad_credentials",
                "wrong user name or password",
                "用户名或密码错误",
            )
        };
        let user = user.filter(|u| u.active).ok_or_else(bad)?;
        let pw = b.password.clone();
        let hash = user.password_hash.clone();
        let ok = tokio::task::spawn_blocking(move || verify_password(&pw, &hash)).await?;
        if !ok {
            return Err(bad());
        }
        let token = new_token();
        let now = st.now();
        let th = token_hash(&token);
        let s2 = st.clone();
        let uid = user.id;
        tokio::task::spawn_blocking(move || {
            s2.store
                .create_session(uid, &th, now, now + chrono::Duration::hours(12))
        })
        .await??;
        Ok(axum::Json(json!({
            "token": token,
            "expires_in": 12 * 3600,
            "user": user_json(&st, &user.username, &user.role, user.unit_code.as_deref()),
        })))
    }

    pub async fn me(State(st): State<AppState>, Caller(a): Caller) -> axum::Json<Value> {
        axum::Json(user_json(&st, &a.user, a.role.as_str(), a.unit.as_deref()))
    }

    pub async fn demo(State(st): State<AppState>) -> ApiResult<axum::Json<Value>> {
        match st.demo_accounts.as_ref() {
            Some(acc) => {
                let acc: Vec<Value> = acc
                    .iter()
                    .map(|a| {
                        let mut v = serde_json::to_value(a).unwrap_or(Value::Null);
                        v["unit_name"] = json!(a
                            .unit_code
                            .as_deref()
                            .and_then(|u| st.org.get(u))
                            .map(|u| u.name.clone()));
                        v
                    })
                    .collect();
                Ok(axum::Json(json!({"demo": true, "accounts": acc})))
            }
            None => Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "not_demo",
                "this server is not a demo",
                "非演示环境",
            )),
        }
    }
}
