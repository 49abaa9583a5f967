//! # jiesu-http
//!
//! The HTTP API (axum, JSON, problem+json errors) and the embedded web UI. Every route that acts on
//! a ticket passes through `jiesu_domain::auth` (one place for authorization); every write goes
//! through the store's writer and is durable before the response.

// `ApiError` carries the bilingual problem document; it is returned on the cold path only, so its
// size is not worth boxing.
#![allow(clippy::result_large_err)]

mod actions;
pub mod alerts;
pub mod analytics;
mod attachments;
pub mod auth;
mod callbacks;
pub mod classify;
pub mod dept;
mod error;
pub mod foresight;
pub mod gov_policies;
mod grid;
mod hygiene;
pub mod import_api;
mod inbox;
mod json;
mod kb;
mod kb_articles;
pub mod limits;
pub mod listener;
pub mod login;
pub mod monthly;
pub mod notify;
pub mod open311;
mod openapi;
pub mod ops;
pub(crate) mod overview;
pub(crate) mod paging;
pub mod partner_api;
mod reference;
pub mod reply_audit;
pub mod report_inbox;
pub mod report_subs;
pub mod reports;
pub mod risk;
pub(crate) mod route_table;
mod routing;
mod scheduler_task;
mod scores;
pub mod street_work;
pub mod streets;
mod supervision;
mod test_clock;
mod tickets;
mod transparency;
mod ui;
mod views;

use axum::routing::post;
use axum::Router;
use chrono::{DateTime, Utc};
use jiesu_domain::category::CategoryTree;
use jiesu_domain::org::OrgTree;
use jiesu_store::Store;
use std::sync::Arc;

pub use error::ApiError;
pub use scheduler_task::scheduler_pass;

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
    /// A read-only store on a PostgreSQL standby (`jiesu serve --replica`): the dashboards' facts,
    /// the scorecards and citizens' tracking read from it (`reads`); everything else, and every
    /// write, goes to `store`.
    pub replica: Option<Arc<dyn Store>>,
    pub org: Arc<OrgTree>,
    pub categories: Arc<CategoryTree>,
    pub demo_accounts: Arc<Option<Vec<DemoAccount>>>,
    /// The clock (swappable in tests); the domain never reads it itself.
    pub clock: Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>,
    /// A test clock's manual offset in seconds (moved by `POST /api/v1/test-clock`), which
    /// `clock` adds; `None` on the machine's clock.
    pub clock_offset: Option<Arc<std::sync::atomic::AtomicI64>>,
    /// Recently verified sessions (token hash → caller), so each request does not read the
    /// sessions table; entries are re-checked against the store after `auth::SESSION_CACHE_SECS`.
    pub sessions: Arc<std::sync::RwLock<std::collections::HashMap<String, auth::CachedSession>>>,
    /// How long a log-in lasts (idle and absolute limits).
    pub session_policy: auth::SessionPolicy,
    /// The incidents intake last saw, so reports joining one need no read (`risk::IncidentBoard`).
    pub incidents: Arc<risk::IncidentBoard>,
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
    /// 防滥用限制 — the abuse limits and their counters (on the server's clock).
    pub limiter: Arc<limits::Limiter>,
    /// 保存期限 — archived tickets' personal data is erased this many years after closing
    /// (0 keeps it); the scheduler applies it.
    pub retention_years: u32,
    /// 分析事实 — the data platform's columnar facts, refreshed from the log on use.
    pub analytics: Arc<analytics::FactsCache>,
    /// 运维 — request and scheduler figures, the text models' state, the shutdown signal.
    pub ops: Arc<ops::Ops>,
    /// 每月一题 — the last mining of problems from the requests' texts, reused a while.
    pub monthly: Arc<monthly::MiningCache>,
}

/// The default retention period of personal data (`--retention-years`).
pub const DEFAULT_RETENTION_YEARS: u32 = 5;

impl AppState {
    /// The store read-only views read from: the standby when the server has one, else `store`.
    pub fn reads(&self) -> &Arc<dyn Store> {
        self.replica.as_ref().unwrap_or(&self.store)
    }

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
            clock_offset: None,
            replica: None,
            sessions: Arc::new(std::sync::RwLock::new(std::collections::HashMap::new())),
            session_policy: auth::SessionPolicy::default(),
            incidents: Default::default(),
            catalogue: Arc::new(std::sync::RwLock::new(Arc::new(catalogue))),
            zone,
            deadlines: Arc::new(deadlines),
            thresholds: Arc::new(jiesu_routing::Thresholds::standard()),
            kb: Arc::new(std::sync::RwLock::new(knowledge)),
            models: Arc::new(std::sync::RwLock::new(None)),
            limiter: Arc::new(limits::Limiter::new(limits::Limits::default())),
            retention_years: DEFAULT_RETENTION_YEARS,
            analytics: analytics::new_cache(),
            monthly: Arc::new(monthly::MiningCache::default()),
            ops: Arc::new(ops::Ops::default()),
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

/// The route table: every route of the API with its documentation. Both the axum router
/// ([`router`]) and the OpenAPI document (`GET /api/openapi.json`, `jiesu openapi`) are built
/// from it, so nothing is served undocumented.
pub(crate) fn api() -> route_table::Api {
    use crate::route_table::{doc, Api};
    use crate::views::*;
    use jiesu_domain::capability::Capability as Cap;
    let action_docs = openapi::ticket_action_docs();
    Api::new()
        .get("/healthz", ops::healthz, doc("Liveness: answers `ok` while the process serves").public().media("text/plain"))
        .get("/readyz", ops::readyz, doc("Readiness: 200 when the store answers, its schema is current and the text models are loaded; else 503 naming what is not ready").public().unavailable())
        .get("/metrics", ops::metrics, doc("Prometheus metrics (text exposition 0.0.4): requests by route, latency, the writer, the outbox, the scheduler, the classifier, open tickets, the database's size").public().media("text/plain"))
        .get("/api/openapi.json", openapi::document, doc("This OpenAPI 3.1 document").public())
        .post("/api/v1/session", auth_routes::login, doc("Log in: returns a bearer token").public().body::<auth_routes::Login>().returns::<LoginView>())
        .post("/api/v1/session/logout", auth::logout, doc("Log out: the caller's token is refused from the next request on (204)").signed_in().success(&[204]))
        .get("/api/v1/me", auth_routes::me, doc("The logged-in user").signed_in().returns::<UserView>())
        .get("/api/v1/demo", auth_routes::demo, doc("Demo accounts (demo cities only)").public().returns::<DemoInfo>())
        .get("/api/v1/units", reference::units, doc("Units (filter by kind, parent, q)").query::<reference::UnitFilter>().public())
        .get("/api/v1/categories", reference::categories, doc("The three-level category tree").public())
        .get("/api/v1/categories/search", reference::category_search, doc("Categories matching the citizen's word or a synonym (q, limit), leaves first, by match then use in the last 30 days; without q the most used leaves").query::<reference::CategorySearchQuery>().public())
        .get("/api/v1/enums", reference::enums, doc("Every enumeration with Chinese and English labels").public())
        .get("/api/v1/actions", actions::list, doc("Every ticket action of the domain's action table: wire name, labels, roles, body fields (the UI's forms and labels)").public().returns::<ActionList>())
        .post("/api/v1/test-clock", test_clock::advance, doc("Tests only: move a test clock (`jiesu serve --test-clock`) forward; 404 on the machine's clock").cap(Cap::ReferenceManage).body::<test_clock::Advance>().returns::<test_clock::ClockView>())
        .post("/api/v1/tickets", tickets::create, doc("Take in a request (Idempotency-Key header supported): 201, or 200 with the ticket the same key created").cap(Cap::Intake).success(&[201, 200]).body::<jiesu_domain::intake::IntakeForm>().returns::<CreatedTicket>())
        .get("/api/v1/tickets", tickets::list, doc("List tickets: unit, mine, status, category, district, street, channel, type, from, to, overdue, sort=deadline (a unit's list: by its nearest running clock, `next_clock`; else by the finish deadline), page, page_size").query::<tickets::ListQuery>().cap(Cap::TicketsRead).returns::<TicketListPage>())
        .get("/api/v1/tickets/{id}", tickets::get_one, doc("One ticket with assignments, deadlines and allowed actions").cap(Cap::TicketsRead).returns::<TicketView>())
        .get("/api/v1/tickets/{id}/events", tickets::events, doc("The ticket's event log").cap(Cap::TicketsRead))
        .route_expanded("/api/v1/tickets/{id}/{action}", "post", axum::routing::post(actions::act), action_docs)
        .route(
            "/api/v1/tickets/{id}/attachments",
            "post",
            post(attachments::upload).layer(axum::extract::DefaultBodyLimit::max(attachments::MAX_BYTES + 1)),
            doc("Attach a file to the ticket (?name=photo.jpg, the file as the body)").query::<attachments::UploadQuery>().success(&[201]).action(jiesu_domain::Action::Attach),
        )
        .get("/api/v1/tickets/{id}/attachments/{att}", attachments::download, doc("Download an attachment (for those who may see the ticket)").cap(Cap::TicketsRead).media("application/octet-stream"))
        .get("/api/v1/tickets/{id}/route", routing::route, doc("The routing engine's proposal for the ticket with its explanation").cap(Cap::RouteSuggest))
        .post("/api/v1/tickets/{id}/rating-link", callbacks::rating_link, doc("A one-time self-rating link for the citizen (7 days)").cap(Cap::CallbackDesk))
        .get("/api/v1/callbacks/due", callbacks::due, doc("Callback desk queue (results submitted, then open tickets past their deadline) with unreachable attempts: page, page_size (1–500, 50 by default); answers items, total, page, page_size").query::<callbacks::DueQuery>().cap(Cap::CallbackDesk))
        .get("/api/v1/callbacks/recheck-sample", callbacks::recheck_sample, doc("Reproducible sample of called-back tickets to re-check (from, to, n)").query::<callbacks::SampleQuery>().cap(Cap::Recheck))
        .get("/api/v1/callbacks/rechecks", callbacks::rechecks, doc("Re-checks recorded in [from, to)").query::<callbacks::PraiseQuery>().cap(Cap::Recheck))
        .post("/api/v1/callbacks/rechecks", callbacks::record_recheck, doc("Record a re-check of a ticket's callback: agree, or disagree with a note").cap(Cap::Recheck).success(&[201]).body::<callbacks::RecheckBody>())
        .get("/api/v1/callbacks/unresolved", callbacks::unresolved, doc("Tickets called back as unresolved, waiting for reopen (重办) or close").cap(Cap::CallbackUnresolved))
        .get("/api/v1/praise", callbacks::praise, doc("Praise (表扬) requests credited to the praised units, from/to (public)").query::<callbacks::PraiseQuery>().public())
        .get("/api/v1/public/rate/{token}", callbacks::rate_info, doc("What the self-rating link asks about (public)").public())
        .post("/api/v1/public/rate/{token}", callbacks::rate, doc("The citizen's own rating through the link (public)").public().body::<callbacks::RateBody>())
        .get("/api/v1/tickets/{id}/duplicates", kb::duplicates, doc("Requests about the same problem at the same place in the last 72 hours, with the reasons").cap(Cap::Duplicates))
        .post("/api/v1/duplicates/candidates", kb::duplicate_candidates, doc("Duplicate candidates for a request being taken in (draft text and place, before the ticket exists); same engine and thresholds as a ticket's duplicates").cap(Cap::Duplicates).body::<kb::DraftBody>())
        .get("/api/v1/kb/search", kb::search, doc("Knowledge-base search with highlighting (published articles valid today)").query::<kb::SearchQuery>().cap(Cap::KbRead))
        .get("/api/v1/kb/articles", kb_articles::list, doc("Knowledge-base articles: every article's newest version (status, q, sort=id|updated, page, page_size 1–500, 50 by default); answers items, total, page, page_size").query::<kb_articles::ListQuery>().cap(Cap::KbEdit))
        .post("/api/v1/kb/articles", kb_articles::create, doc("A new knowledge-base article (draft)").cap(Cap::KbEdit).success(&[201]).body::<kb_articles::ArticleBody>())
        .get("/api/v1/kb/articles/{id}", kb::article, doc("The published version of an article").cap(Cap::KbRead))
        .put("/api/v1/kb/articles/{id}", kb_articles::update, doc("Edit an article (the draft, or a new version)").cap(Cap::KbEdit).body::<kb_articles::ArticleBody>())
        .get("/api/v1/kb/articles/{id}/versions", kb_articles::versions, doc("Every version of an article with author and reviewer").cap(Cap::KbEdit))
        .post("/api/v1/kb/articles/{id}/{step}", kb_articles::step, doc("submit, approve {note?}, reject {note}, retire (reviewers: not the author)").cap(Cap::KbEdit).optional_body::<kb_articles::ReviewBody>().param("step", "string", "The review step: submit, approve, reject or retire"))
        .get("/api/v1/kb/usage", kb::usage, doc("Direct-answer rate and answers per article in [from, to)").query::<kb::UsageQuery>().cap(Cap::KbStats))
        .post("/api/v1/risk/check", risk::check, doc("风险识别 — signs of an emergency in a request being taken in: the kind and the numbers to transfer the caller to (110 / 119 / 120 / 122), or null; the same detector intake records").cap(Cap::Intake).body::<risk::CheckBody>().returns::<risk::CheckAnswer>())
        .post("/api/v1/classify", classify::classify, doc("Top-3 types and categories with confidence and driver words; up to three responsible units (rules first, then the model); 503 while the model trains at start-up").cap(Cap::Classify).body::<classify::ClassifyBody>().unavailable())
        .get("/api/v1/classify/model", classify::model_info, doc("The classifier in use: version, trained_at, examples, corrections").cap(Cap::Classify))
        .post("/api/v1/classify/feedback", classify::feedback, doc("The classifier's top suggestion at intake (an overridden one becomes a corrected example)").cap(Cap::Classify).body::<classify::FeedbackBody>())
        .get("/api/v1/scores/{period}/{level}", scores::scorecard, doc("Monthly scorecard (三率) of a level: format=json|csv|xlsx (public)").query::<scores::Fmt>().public())
        .get("/api/v1/scores/{period}/units/{code}/tickets", scores::drill, doc("Drill-down: the assignments behind one figure (measure, level, scope=unit|industry, page, page_size, format=json|csv); their number is the figure (public, no personal data)").query::<scores::DrillQuery>().public())
        .get("/api/v1/scores/{period}/{level}/tickets", scores::level_drill, doc("Drill-down of the level's totals: every assignment a unit of the level counts for the measure (public)").query::<scores::DrillQuery>().public())
        .get("/api/v1/kb/stats", kb::stats, doc("The virtual agent's stored sessions and one-shot resolution rate in [from, to)").query::<kb::StatsQuery>().cap(Cap::KbStats))
        .post("/api/v1/public/ask", kb::ask, doc("The virtual agent answers from the knowledge base or hands over (public)").public().body::<kb::AskBody>())
        .post("/api/v1/public/ask/{session}/ticket", kb::handover_ticket, doc("The request filed from a virtual-agent session's hand-over (public)").public().body::<kb::HandoverBody>())
        .get("/api/v1/catalogue", routing::catalogue_info, doc("The duty catalogue (派单目录): the published version, the newest draft and the history").cap(Cap::CatalogueView))
        .get("/api/v1/catalogue/export.csv", routing::export_csv, doc("The catalogue as CSV (?version=draft for the newest draft)").query::<routing::ExportQuery>().cap(Cap::CatalogueView).media("text/csv"))
        .get("/api/v1/catalogue/export.xlsx", routing::export_xlsx, doc("The published catalogue as an Excel workbook").query::<routing::ExportQuery>().cap(Cap::CatalogueView).media("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))
        .post("/api/v1/catalogue/import", routing::import_csv, doc("Import a catalogue (body: the CSV, or an xlsx workbook): stored as a draft if valid, else 422 listing every problem with its line, and nothing changes").cap(Cap::CatalogueEdit))
        .get("/api/v1/catalogue/lint", routing::lint, doc("Catalogue lint: conflicts, gaps and rules pointing at retired units").cap(Cap::CatalogueView))
        .get("/api/v1/catalogue/drafts/{version}/rules", routing::draft_rules, doc("The rule versions of a draft with their columns as the editor shows them (q, tier, kind=street|district|city|enterprise, in_force=true, sort=catalogue|from, page, page_size 1–500, 50 by default); answers rules, total, page, page_size").query::<routing::RulesQuery>().cap(Cap::CatalogueView).param("version", "string", "The catalogue version: a number, `draft` for the newest draft, or `published`"))
        .post("/api/v1/catalogue/draft/edit", routing::edit_draft, doc("Add, change or remove one rule version of the draft; checked like a file row, refused with every problem named, and then nothing changes").cap(Cap::CatalogueEdit).body::<routing::EditBody>())
        .get("/api/v1/catalogue/drafts/{version}/whatif", routing::whatif, doc("What-if: the draft replayed over past tickets (months=1)").query::<routing::WhatIfQuery>().cap(Cap::CatalogueEdit))
        .post("/api/v1/catalogue/drafts/{version}/publish", routing::publish, doc("The draft becomes the catalogue in force").cap(Cap::CataloguePublish))
        .get("/api/v1/supervision/overdue", supervision::overdue_board, doc("Overdue assignments by unit and by district, with ageing").cap(Cap::SupervisionView))
        .post("/api/v1/supervision/remind", supervision::remind_bulk, doc("批量催办: urge every overdue lead assignment of the chosen units (or tickets) at once").cap(Cap::RemindBulk).body::<supervision::UrgeBody>())
        .get("/api/v1/supervision/reviews", supervision::review_queue, doc("审核队列: every pending return (退单) and extension (延期) with the centre's review deadline, the most urgent first").cap(Cap::ReviewQueue))
        .get("/api/v1/supervision/escalations", supervision::escalations, doc("提级响应 tracking: escalated tickets with each escalation, where the ticket stands and the lead's finish clock").cap(Cap::SupervisionView))
        .get("/api/v1/supervision/dispatch-accuracy", supervision::dispatch_accuracy, doc("Dispatch accuracy: overall and by dispatcher, rule, category, unit").cap(Cap::DispatchAccuracy))
        .get("/api/v1/inbox", inbox::inbox, doc("A unit's reminders and overdue notices, newest first").cap(Cap::UnitDesk))
        .get("/api/v1/inbox/reports", report_inbox::list, doc("报告收件箱: the caller's report inbox — each report of the kinds they subscribe to, generated since they subscribed, newest first, with unread (未读) and read_at for the caller; total, unread, subscribed kinds, page, page_size (1–500, 20 by default)").query::<report_inbox::InboxQuery>().cap(Cap::Analytics).returns::<report_inbox::ReportInboxPage>())
        .get("/api/v1/inbox/reports/unread", report_inbox::unread, doc("报告收件箱: how many reports of the caller's inbox are unread (the navigation badge)").cap(Cap::Analytics).returns::<report_inbox::UnreadCount>())
        .post("/api/v1/inbox/reports/read", report_inbox::read_all, doc("报告收件箱: mark every report of the caller's inbox read (全部标为已读); answers how many were marked and the unread left").cap(Cap::Analytics).returns::<report_inbox::MarkedRead>())
        .post("/api/v1/inbox/reports/{id}/read", report_inbox::read_one, doc("报告收件箱: mark one report read for the caller (opening its figures, HTML or workbook does too); answers the caller's unread count; 404 for no such report").cap(Cap::Analytics).returns::<report_inbox::UnreadCount>())
        .get("/api/v1/analytics/dimensions", analytics::dimensions, doc("数据分析: the dimensions facts can be grouped and filtered by, with labels").cap(Cap::Analytics).returns::<analytics::DimensionsView>())
        .get("/api/v1/analytics/group", analytics::group, doc("数据分析: counts and rates (响应率, 解决率, 满意率) grouped by one or two dimensions (by=district,category_l1), with filters (from, to, district, street, category, channel, type, unit, unit_kind) and top=N with the rest as others; districts carry requests per 10,000 residents; every row links to its tickets (a unit manager: own places and units)").query::<analytics::AnalyticsQuery>().cap(Cap::Analytics).returns::<analytics::GroupView>())
        .get("/api/v1/analytics/series", analytics::series, doc("数据分析: a time series by day, week or month (interval) with month-over-month and year-over-year change and the holidays in the range").query::<analytics::AnalyticsQuery>().cap(Cap::Analytics).returns::<analytics::SeriesView>())
        .get("/api/v1/analytics/durations", analytics::durations, doc("数据分析: handling time (median and p90 hours from dispatch to sign, respond, finish) grouped by one dimension (by=unit_kind by default)").query::<analytics::AnalyticsQuery>().cap(Cap::Analytics).returns::<analytics::DurationsView>())
        .get("/api/v1/analytics/ledger", analytics::ledger, doc("城市问题台账: recurring problems by street × category with the volume, the previous period of the same length, the change and what is still open (top, 50 by default)").query::<analytics::AnalyticsQuery>().cap(Cap::Analytics).returns::<analytics::LedgerView>())
        .get("/api/v1/analytics/tickets", analytics::tickets, doc("数据分析: the tickets behind a figure (the same filters): their exact number and the newest 200 ids").query::<analytics::AnalyticsQuery>().cap(Cap::Analytics).returns::<analytics::TicketsBehind>())
        .get("/api/v1/public/analytics/group", analytics::public_group, doc("开放数据: request counts by one or two open dimensions (year, month, month_of_year, channel, type, category_l1, category_l2, domain, district, street) with the period and place/category/channel/type filters; cells under 10 requests and rates over fewer than 10 callbacks are withheld; limited per client address (open_data_per_hour, 429 with Retry-After) (public)").query::<analytics::AnalyticsQuery>().public().returns::<analytics::OpenDataView>())
        .get("/api/v1/analytics/geojson", analytics::get_geojson, doc("数据分析: the city's own district or street boundaries (GeoJSON) for the dashboard's map; 404 when none is loaded").cap(Cap::Analytics))
        .put("/api/v1/analytics/geojson", analytics::put_geojson, doc("数据分析: load the city's district or street boundaries (a GeoJSON FeatureCollection whose features carry properties.code of a district or street); refused whole, naming the features, if any lacks a polygon or a code of the city").cap(Cap::ReferenceManage).returns::<analytics::GeoJsonLoaded>())
        .get("/api/v1/analytics/reports", reports::list, doc("数据报告: stored 日通报 / 周汇总 / 月分析 (kind=daily|weekly|monthly, page, page_size 1–500, 20 by default), newest period first, with their HTML and xlsx links").query::<reports::ReportQuery>().cap(Cap::Analytics).returns::<reports::ReportPage>())
        .post("/api/v1/analytics/reports", reports::create, doc("数据报告: compute and store the report of a period now ({kind, period?}: the last complete period when left out); a period already stored is computed again under the same id").cap(Cap::Analytics).success(&[201]).body::<reports::GenerateBody>().returns::<reports::ReportItem>())
        .get("/api/v1/analytics/reports/subscriptions", report_subs::get, doc("报告订阅: the caller's report subscriptions, every kind (daily, weekly, monthly) with whether it is subscribed and the caller's own webhook").cap(Cap::Analytics).returns::<report_subs::Subscriptions>())
        .put("/api/v1/analytics/reports/subscriptions", report_subs::put, doc("报告订阅: replaces the caller's subscriptions ({subscriptions: [{kind, webhook_url?}]}; kinds left out are dropped): new reports of a subscribed kind go first in the inbox and, with a webhook (http://), are POSTed there signed (X-Jiesu-Signature), at least once; audited").cap(Cap::Analytics).body::<report_subs::SubscriptionsBody>().returns::<report_subs::Subscriptions>())
        .get("/api/v1/analytics/reports/{id}", reports::get_one, doc("数据报告: one report's figures (marks it read in the caller's report inbox)").cap(Cap::Analytics))
        .get("/api/v1/analytics/reports/{id}/html", reports::html, doc("数据报告: one report as printable HTML (charts as SVG; marks it read in the caller's report inbox)").cap(Cap::Analytics).media("text/html"))
        .get("/api/v1/analytics/reports/{id}/xlsx", reports::xlsx, doc("数据报告: one report's tables as an Excel workbook (marks it read in the caller's report inbox)").cap(Cap::Analytics).media("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))
        .get("/api/v1/analytics/report-templates/{kind}", reports::get_template, doc("数据报告: the template in force for a kind (daily, weekly, monthly): title, sections in order, list lengths").cap(Cap::Analytics).param("kind", "string", "daily, weekly or monthly"))
        .put("/api/v1/analytics/report-templates/{kind}", reports::put_template, doc("数据报告: a city's own template for a kind; an unknown field or a value out of range is refused naming it and nothing is stored").cap(Cap::ReportTemplates).param("kind", "string", "daily, weekly or monthly"))
        .get("/api/v1/governance/foresight", foresight::foresight, doc("季节性预判: the volume expected in a coming month (month=YYYY-MM, default next month; district=) per district × category with its 80 % range, the same month last year and the category's seasonal index; the method's backtest on the last complete month; the 冬病夏治 list of streets that peaked last year in the categories in season (a unit manager: their district)").query::<foresight::ForesightQuery>().cap(Cap::Analytics).returns::<foresight::ForesightView>())
        .get("/api/v1/governance/streets/{period}", streets::streets, doc("治理类街乡镇: every street's class for the month (先进 advanced / 进步 improved / 整改 rectify / 治理 govern / 一般 ordinary) each month under the version of the city's street policy in effect in it, with its volume and 三率 ranks, the list's entries, exit progress and tracking, and 未进先治 pre-warnings (a unit manager: the streets of their unit)").cap(Cap::Analytics).param("period", "string", "the month, YYYY-MM").returns::<streets::StreetsView>())
        .get("/api/v1/governance/policies/{kind}", gov_policies::list, doc("治理规则: every version of a governance policy (kind `streets` — 治理类街乡镇 classification; `reply-audit` — the reply audit's thresholds), version 0 the shipped default, with its author, first month and whether it governs the current month").cap(Cap::GovernancePolicies).param("kind", "string", "streets or reply-audit").returns::<gov_policies::PolicyVersionList>())
        .post("/api/v1/governance/policies/{kind}", gov_policies::submit, doc("治理规则: submit a new version (as `toml` text or as `policy` JSON), checked field by field (400 naming the field); it governs from its effective_from month, which may not be before the current month, so months already classified stay as they were").cap(Cap::GovernancePolicies).param("kind", "string", "streets or reply-audit").success(&[201]).body::<gov_policies::PolicySubmission>().returns::<gov_policies::PolicyVersionView>())
        .get("/api/v1/governance/policies/{kind}/{version}", gov_policies::get_one, doc("治理规则: one version (0 = the shipped default)").cap(Cap::GovernancePolicies).param("kind", "string", "streets or reply-audit").param("version", "integer", "the version, 0 = the shipped default").returns::<gov_policies::PolicyVersionView>())
        .post("/api/v1/governance/policy-previews/streets", gov_policies::preview, doc("治理规则: classify the latest three complete months under a draft street policy (as `toml` or `policy`), nothing stored — each month's classes now and under the draft and the streets it changes").cap(Cap::GovernancePolicies).body::<gov_policies::PolicySubmission>().returns::<gov_policies::PreviewView>())
        .get("/api/v1/governance/monthly/candidates", monthly::list_candidates, doc("每月一题: candidate problems of the month mined from the requests' texts of the window (month=YYYY-MM, its last month, default the last complete one; months=12; top=20; category=): each a concrete problem inside a second-level category with its label, words and NPMI coherence, its volume by month, growth, districts, lead units, repeat share and 三率, its score and reasons, the tickets behind it and the rule an adoption starts from").query::<monthly::CandidateQuery>().cap(Cap::MonthlyCandidates).returns::<monthly::CandidatesView>())
        .get("/api/v1/governance/monthly/topics", monthly::list_topics, doc("每月一题: the adopted topics, newest month first, each with its plan, three lists (tasks, responsibilities, policies) and progress (a unit: the topics it leads or is listed in)").cap(Cap::MonthlyView).returns::<monthly::TopicList>())
        .post("/api/v1/governance/monthly/topics", monthly::adopt, doc("每月一题: adopt a topic (month, theme, 1–3 problems each with its rule: categories + keywords + places, lead department, responsible leader, plan, tasks, responsibilities, policies); stored as version 1").cap(Cap::MonthlyEdit).success(&[201]).body::<jiesu_governance::monthly::Topic>().returns::<monthly::TopicView>())
        .get("/api/v1/governance/monthly/topics/{id}", monthly::get_topic, doc("每月一题: one topic with every version (who, when, why, the rules then) and each problem's outcome by its rule: dispatched volume by month, month over month, against the same month last year, and 三率 of the month (month=YYYY-MM, default the last complete month)").query::<monthly::TopicQuery>().cap(Cap::MonthlyView).param("id", "integer", "the topic").returns::<monthly::TopicView>())
        .put("/api/v1/governance/monthly/topics/{id}", monthly::revise, doc("每月一题: edit a topic — the whole record as it should stand, the version it was made on (409 when the topic changed meanwhile) and why; stored as the next version, earlier ones kept").cap(Cap::MonthlyEdit).param("id", "integer", "the topic").body::<monthly::ReviseBody>().returns::<monthly::TopicView>())
        .put("/api/v1/governance/monthly/topics/{id}/tasks/{n}", monthly::update_task, doc("每月一题任务进度: set one task's status (todo, doing, done) and note, by the lead unit's manager or the admin — stored as the topic's next version with only that task changed, who and when kept and the change named (「任务 3「…」：推进中 → 已完成（…）」); progress and overdue tasks (city date, server clock) recomputed. `version` is the topic version the change was made on: when the topic has moved on and this task changed since, 409; a unit the topic does not name answers 404, a unit named but not leading it 403").cap(Cap::MonthlyTaskUpdate).param("id", "integer", "the topic").param("n", "integer", "the task's position in the task list, from 1").body::<monthly::TaskUpdateBody>().returns::<monthly::TopicView>())
        .post("/api/v1/governance/monthly/rule-preview", monthly::rule_preview, doc("每月一题规则预览: what a draft rule (categories + keywords + places) would take before it is adopted or changed — its requests and dispatched volume per month over the 13 months ending at month (YYYY-MM, default the last complete month) and the newest 20 tickets it takes (number, date, category, district, title with personal data masked); an unknown category or place or a bad keyword is refused naming the field (rule.categories, rule.places, rule.keywords)").cap(Cap::MonthlyEdit).body::<monthly::PreviewBody>().returns::<monthly::RulePreviewView>())
        .get("/api/v1/governance/street-work/{street}", street_work::get_work, doc("治理类街乡镇工作: a street's file — its class in the month (period=YYYY-MM, default the last complete month) with list state, exit progress and tracking, its 未进先治 pre-warnings, interviews (约谈), problem and project lists with progress, monitoring of volume and 三率 by day (30), week (12) and month (13) from the facts, and every change recorded (the centre: every street; a unit manager: the streets of their unit; another street answers 404)").query::<street_work::WorkQuery>().cap(Cap::StreetWork).param("street", "string", "the street's or town's code").returns::<street_work::StreetWorkView>())
        .post("/api/v1/governance/street-work/{street}/interviews", street_work::file_interview, doc("约谈: file an interview of the street's leaders (held_on, attendees, findings, optionally the pre-warning alert it answers); by the centre or the manager of the district above the street — the street itself, like any street outside that scope, answers 404").cap(Cap::StreetInterview).param("street", "string", "the street's or town's code").success(&[201]).body::<street_work::InterviewBody>().returns::<street_work::InterviewView>())
        .post("/api/v1/governance/street-work/{street}/items", street_work::add_item, doc("问题清单 / 项目清单: add a problem or project (title, owner, due, status, progress) to the street's lists; recorded as a change").cap(Cap::StreetWork).param("street", "string", "the street's or town's code").success(&[201]).body::<street_work::NewItemBody>().returns::<street_work::ItemView>())
        .put("/api/v1/governance/street-work/{street}/items/{id}", street_work::change_item, doc("问题清单 / 项目清单: change an item (the whole item with the version read; a change made meanwhile answers 409); recorded as a change").cap(Cap::StreetWork).param("street", "string", "the street's or town's code").body::<street_work::ItemChangeBody>().returns::<street_work::ItemView>())
        .get("/api/v1/audit/replies", reply_audit::replies, doc("办理质量审计: the stored findings of the audited days in a period (from, to: city days, at most 92; default the last 30) — the nightly pass (00:30 city time) audits the previous day's results under the audit policy in effect — for 答非所问 (relevance below the policy's floor), boilerplate (near-identical to another request's result), 假办结 (the result says solved, the callback unresolved) and 办结过快 (filed within the policy's minutes of the dispatch): the counts, the rates per unit, the flagged results (the least relevant first)").query::<reply_audit::AuditQuery>().cap(Cap::ReplyAudit).returns::<reply_audit::ReplyAuditView>())
        .post("/api/v1/audit/days/{day}", reply_audit::run_day, doc("办理质量审计: audit one past city day now (e.g. under a new audit policy version), replacing what was stored for it — never duplicated").cap(Cap::ReplyAudit).param("day", "string", "the city day, YYYY-MM-DD").returns::<reply_audit::AuditDayView>())
        .post("/api/v1/audit/replies/{ticket}/supervise", reply_audit::supervise, doc("办理质量督办: turn a flagged result into supervision — the ticket is reopened (重办) through the domain with the supervisor's note and the flags as the reason, back to its units on new deadlines (the reopen action's roles; the domain refuses a ticket that cannot be reopened now)").action(jiesu_domain::Action::Reopen).param("ticket", "integer", "the ticket's id").body::<reply_audit::SuperviseBody>().returns::<reply_audit::SupervisedView>())
        .get("/api/v1/alerts", alerts::list, doc("未诉先办 预警: the early-warning alerts, risk pushes (level `risk`: an emergency at intake) and incidents (level `incident`: similar reports in one place within an hour) in the caller's scope (the centre: all; a unit: its own and those below it), newest day and strongest first (status=open|acknowledged|handled|dismissed, from=YYYY-MM-DD, page, page_size), with the counts by status and the rate of useful alerts").query::<alerts::AlertQuery>().cap(Cap::Alerts).returns::<alerts::AlertPage>())
        .get("/api/v1/alerts/{id}", alerts::get_one, doc("未诉先办 预警: one alert with the tickets behind it, every step taken and the steps the caller may take").cap(Cap::Alerts).returns::<alerts::AlertDetail>())
        .post("/api/v1/alerts/{id}/{action}", alerts::act, doc("未诉先办 预警: acknowledge (知悉), handle (已处置: say what was done) or dismiss (不予处置: say why) an alert; a closed alert or one changed meanwhile answers 409").cap(Cap::Alerts).param("action", "string", "acknowledge, handle or dismiss").body::<alerts::StepBody>().returns::<alerts::AlertDetail>())
        .get("/api/v1/overview", overview::overview, doc("Overview for supervisors, leaders and dispatchers: today's intake, open by status, overdue, pending reviews, alerts, each with its #/tickets filter (a unit manager: own units)").cap(Cap::Overview))
        .get("/api/v1/track/{number}", tickets::track, doc("Citizen tracking by number and tracking code (?code=…, given at intake); failed look-ups limited per number and address (429, Retry-After) (public)").query::<tickets::TrackQuery>().public())
        .get("/api/v1/track/{number}/proof", transparency::track_proof, doc("透明度: the citizen's events (by number and tracking code, with the tracking route's failure limits) with their leaf hashes and inclusion proofs in the latest signed checkpoint; internal events by hash only; events newer than it are not yet in a checkpoint (public)").query::<transparency::ProofQuery>().public().returns::<transparency::TimelineProof>())
        .get("/api/v1/transparency/key", transparency::key, doc("透明度: the Ed25519 public key the log's checkpoints are signed with, its origin and C2SP verifier key (public)").public().returns::<transparency::KeyView>())
        .get("/api/v1/transparency/checkpoints", transparency::checkpoints, doc("透明度: the latest signed checkpoint (C2SP signed note) and a page of past ones, newest first (before, limit 1–100, 20 by default) (public)").query::<transparency::CheckpointQuery>().public().returns::<transparency::CheckpointPage>())
        .get("/api/v1/transparency/consistency", transparency::consistency, doc("透明度: the RFC 9162 consistency proof between the checkpoints of tree sizes from ≤ to (public)").query::<transparency::ConsistencyQuery>().public().returns::<transparency::ConsistencyView>())
        .get("/api/v1/admin/partners", dept::partners, doc("合作渠道: the Open311 partners (name, channel, revoked)").cap(Cap::ApiKeys).returns::<Vec<dept::PartnerView>>())
        .post("/api/v1/admin/partners", dept::add_partner, doc("合作渠道: a new partner ({name, channel}) and its Open311 api_key, shown once (stored hashed)").cap(Cap::ApiKeys).success(&[201]).body::<dept::NewPartnerBody>().returns::<dept::NewKeyView>())
        .post("/api/v1/admin/partners/{id}/rotate-secret", dept::rotate_partner_secret, doc("合作渠道 密钥轮换: a new HMAC signing secret for a partner that signs (a new salt; shown once); requests signed with the old secret are still accepted for grace_hours (0–168, default 24) on the server's clock, refused after; audited (docs/CHANNELS.md)").cap(Cap::ApiKeys).optional_body::<dept::RotateSecretBody>().returns::<dept::RotatedSecretView>())
        .post("/api/v1/admin/partners/{id}/revoke", dept::revoke_partner, doc("合作渠道: revoke a partner's key (204; its requests are refused from then on)").cap(Cap::ApiKeys).success(&[204]))
        .get("/api/v1/admin/imports/examples", import_api::examples, doc("历史数据导入: the mappings shipped with Jiesu (name, TOML text), e.g. nyc311 (docs/IMPORT.md)").cap(Cap::LegacyImport).returns::<Vec<import_api::ImportExampleView>>())
        .route(
            "/api/v1/admin/imports",
            "post",
            post(import_api::upload).layer(axum::extract::DefaultBodyLimit::max(import_api::MAX_BODY_BYTES)),
            doc("历史数据导入: a legacy CSV export (base64, at most 8 MiB; UTF-8 with or without BOM, or GBK) with a mapping (TOML text, or a shipped example's name); dry_run=true answers the report (rows mapped fully, partly, not and why; unmapped values with counts) and writes nothing, otherwise the new rows are imported in one transaction through the same path as `jiesu import csv` (rows of the same source imported before are skipped). A bad file (encoding, quotes, missing columns, dates) is 422 import_rejected with `errors` [{line, message}] and nothing written; a larger body 413 (docs/IMPORT.md)").cap(Cap::LegacyImport).body::<import_api::ImportBody>().returns::<jiesu_import::Report>(),
        )
        .get("/api/v1/admin/dept-keys", dept::dept_keys, doc("部门接口密钥: every department key with its unit, role, capabilities and use (last used, requests); never the key").cap(Cap::ApiKeys).returns::<Vec<dept::DeptKeyView>>())
        .post("/api/v1/admin/dept-keys", dept::add_dept_key, doc("部门接口密钥: a new key ({name, unit_code, role: unit_handler|unit_manager}), shown once; `Authorization: Bearer jdk_…` then reads (GET only) the tickets and facts of the unit and those below it, as that role, every request audited").cap(Cap::ApiKeys).success(&[201]).body::<dept::NewDeptKeyBody>().returns::<dept::NewKeyView>())
        .post("/api/v1/admin/dept-keys/{id}/revoke", dept::revoke_dept_key, doc("部门接口密钥: revoke a key (204; refused with 401 from the next request on)").cap(Cap::ApiKeys).success(&[204]))
        .get("/api/v1/admin/dept-keys/{id}/reads", dept::key_reads, doc("部门接口密钥: the newest 100 audited requests of a key (when, what)").cap(Cap::ApiKeys).returns::<Vec<dept::KeyReadView>>())
        .get("/api/v1/admin/webhooks", dept::webhooks, doc("部门订阅: webhook subscriptions of units' tickets' events (never the secret)").cap(Cap::ApiKeys).returns::<Vec<dept::WebhookView>>())
        .post("/api/v1/admin/webhooks", dept::add_webhook, doc("部门订阅: subscribe an http:// URL to the events of a unit's tickets (and those below it) from now on ({unit_code, url, secret?}); deliveries are signed `X-Jiesu-Signature: sha256=<HMAC>` with the secret, answered once").cap(Cap::ApiKeys).success(&[201]).body::<dept::NewWebhookBody>().returns::<dept::NewWebhookView>())
        .post("/api/v1/admin/webhooks/{id}/revoke", dept::revoke_webhook, doc("部门订阅: stop a subscription (204)").cap(Cap::ApiKeys).success(&[204]))
        .get("/api/v1/webhooks", dept::own_webhooks, doc("部门事件订阅: the webhook subscriptions of the caller's own unit and those below it (a unit manager, or a department key of the manager role; never a secret)").cap(Cap::DeptWebhooks).returns::<Vec<dept::WebhookView>>())
        .post("/api/v1/webhooks", dept::add_own_webhook, doc("部门事件订阅: subscribe an http:// URL to the events of the caller's own unit's tickets (and those below it) from now on ({unit_code?, url, secret?}; unit_code defaults to the caller's unit, a unit outside its scope is 404); deliveries signed `X-Jiesu-Signature: sha256=<HMAC>` with the secret, answered once; a department key may make this write; audited").cap(Cap::DeptWebhooks).success(&[201]).body::<dept::OwnWebhookBody>().returns::<dept::NewWebhookView>())
        .post("/api/v1/webhooks/{id}/delete", dept::delete_own_webhook, doc("部门事件订阅: stop one of the caller's own subscriptions (204; another unit's is 404); a department key may make this write; audited").cap(Cap::DeptWebhooks).success(&[204]))
        .get("/api/v1/exports/columns", dept::columns, doc("定制导出: the columns a saved export may choose (the ticket facts; no personal data)").cap(Cap::DeptExports).returns::<Vec<dept::ExportColumnView>>())
        .get("/api/v1/exports", dept::list_exports, doc("定制导出: the saved exports of the caller's scope (a unit manager or a department key: its unit and those below) with their files").cap(Cap::DeptExports).returns::<Vec<dept::SavedExportView>>())
        .post("/api/v1/exports", dept::create_export, doc("定制导出: save an export ({unit_code, name, columns, filters, format: csv|xlsx|parquet, schedule: daily|weekly|monthly|none}); a scheduled one is made for each complete city day, ISO week or month and announced to the unit's webhooks").cap(Cap::DeptExports).success(&[201]).body::<dept::NewExportBody>().returns::<dept::SavedExportView>())
        .post("/api/v1/exports/{id}/delete", dept::delete_export, doc("定制导出: delete a saved export and its files (204)").cap(Cap::DeptExports).success(&[204]))
        .post("/api/v1/exports/{id}/run", dept::run_now, doc("定制导出: make and store the file now over from/to (default the last 30 days)").cap(Cap::DeptExports).query::<dept::PeriodQuery>().success(&[201]).returns::<dept::ExportRunView>())
        .get("/api/v1/exports/{id}/download", dept::download_now, doc("定制导出: the file over from/to now, not stored").cap(Cap::DeptExports).query::<dept::PeriodQuery>().media("application/octet-stream"))
        .get("/api/v1/exports/runs/{id}/file", dept::run_file, doc("定制导出: a stored file").cap(Cap::DeptExports).media("application/octet-stream"))
        .get("/api/v1/public/open-data", dept::public_open_data, doc("开放数据: one row per request over from/to (format=csv|parquet): month, channel, type, category, district/street/community, status and outcome; no personal data, no free text, no ticket number; a place is shown only where at least 5 requests of the month and category share it, else one level up, else the row is left out (public; fields in docs/EXPORTS.md)").query::<dept::OpenDataQuery>().public().media("text/csv"))
        .post("/api/v1/public/tickets", tickets::public_create, doc("A citizen files a request (public)").public().success(&[201]).body::<jiesu_domain::intake::IntakeForm>())
        .post("/api/v1/grid/reports", grid::file, doc("网格上报 — a grid worker files a report of their grid (the intake form; channel always `grid`; lat/lng from the phone's position, or the street and community picked by hand; Idempotency-Key supported): 201, or 200 with the report the same key filed").cap(Cap::GridReport).success(&[201, 200]).body::<jiesu_domain::intake::IntakeForm>())
        .route(
            "/api/v1/grid/reports/{id}/photos",
            "post",
            post(grid::photo).layer(axum::extract::DefaultBodyLimit::max(attachments::MAX_BYTES + 1)),
            doc("A photo of a grid report the caller filed (?name=photo.jpg, an image as the body); another ticket is 404").query::<attachments::UploadQuery>().success(&[201]).cap(Cap::GridReport),
        )
        .route(
            "/api/v1/partner/tickets",
            "post",
            post(partner_api::file),
            doc("合作渠道 — a partner files a request, signed with HMAC-SHA256 (headers X-Jiesu-Key, X-Jiesu-Timestamp, X-Jiesu-Nonce, X-Jiesu-Signature; docs/CHANNELS.md): the intake form under the partner's own channel, Idempotency-Key supported; a bad signature, a timestamp more than 300 s from the server's clock or a nonce used before is 401 and files nothing").public().success(&[201, 200]).body::<jiesu_domain::intake::IntakeForm>(),
        )
        .route(
            "/api/v1/partner/tickets/{number}/transfer-reply",
            "post",
            post(partner_api::transfer_reply),
            doc("转接回复 — the emergency service a ticket was transferred to (a partner added with --serves 110/119/120/122) replies accepted, declined or handled; signed like every partner request").public().body::<partner_api::TransferReplyForm>(),
        )
}

/// The OpenAPI 3.1 document of the API (what `GET /api/openapi.json` serves).
pub fn openapi_document() -> serde_json::Value {
    openapi::build()
}

/// The OpenAPI document as pretty JSON with a final newline (what `jiesu openapi` prints and
/// `web/openapi.json` holds).
pub fn openapi_text() -> String {
    openapi::document_text()
}

/// Every (method, path) the router serves, as added to the route table (`{…}` segments
/// unexpanded): for tests that hold the document to the router.
pub fn served_routes() -> Vec<(&'static str, String)> {
    api()
        .served
        .into_iter()
        .map(|s| (s.method, s.path))
        .collect()
}

/// The whole application: API routes and the UI.
pub fn router(state: AppState) -> Router {
    api()
        .into_router()
        .merge(open311::router())
        .fallback(ui::serve)
        .layer(axum::middleware::from_fn(hygiene::hygiene))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            ops::track,
        ))
        .with_state(state)
}

/// How long the requests in flight may take to finish after SIGTERM / Ctrl-C.
pub const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(6);

/// Resolves on Ctrl-C (SIGINT) or SIGTERM.
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT: shutting down"),
                    _ = term.recv() => tracing::info!("SIGTERM: shutting down"),
                }
            }
            Err(e) => {
                tracing::warn!("cannot watch SIGTERM ({e}); stopping on Ctrl-C only");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
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
    serve_opts(state, listen, notify_cfg, listener::DEFAULT_READ_TIMEOUT).await
}

/// Serves with notifications and the read timeout of requests (header, and the longest pause
/// in a body) chosen; the connection loop's other limits (head sizes, connections per address)
/// come from the state's abuse limits.
pub async fn serve_opts(
    state: AppState,
    listen: &str,
    notify_cfg: notify::NotifyConfig,
    read_timeout: std::time::Duration,
) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {listen}: {e}"))?;
    let notifier = notify::spawn(state.clone(), notify_cfg, std::time::Duration::from_secs(5));
    let scheduler =
        scheduler_task::spawn_scheduler(state.clone(), std::time::Duration::from_secs(30));
    classify::start(&state);
    let conn_limits = listener::ConnLimits::new(&state.limiter.limits, read_timeout);
    // 1. stop accepting and let the requests in flight finish (up to SHUTDOWN_GRACE)
    listener::serve(
        listener,
        router(state.clone()),
        conn_limits,
        SHUTDOWN_GRACE,
        stop_signal(),
    )
    .await?;
    // 2. then the background tasks finish their pass and stop: the outbox makes a last pass
    //    (the events of the requests just finished included) and saves its cursor
    state.ops.begin_shutdown();
    let tasks = async {
        if let Some(n) = notifier {
            let _ = n.await;
        }
        let _ = scheduler.await;
    };
    if tokio::time::timeout(std::time::Duration::from_secs(3), tasks)
        .await
        .is_err()
    {
        tracing::warn!("a background pass did not finish in 3 s; stopping without it");
    }
    // 3. every queued write committed
    let s2 = state.clone();
    match tokio::time::timeout(
        std::time::Duration::from_secs(3),
        tokio::task::spawn_blocking(move || s2.store.flush_writes()),
    )
    .await
    {
        Ok(Ok(Ok(()))) => {}
        Ok(Ok(Err(e))) => tracing::warn!("draining the writer failed: {e}"),
        _ => tracing::warn!("the writer did not drain in 3 s"),
    }
    tracing::info!("stopped");
    Ok(())
}

mod auth_routes {
    use super::*;
    use crate::auth::{new_token, token_hash, Caller};
    use crate::error::{ApiError, ApiResult};
    use crate::json::Json;
    use crate::views::{DemoAccountView, DemoInfo, LoginView, UserView};
    use axum::extract::State;
    use axum::http::StatusCode;
    use serde::Deserialize;

    #[derive(Deserialize, schemars::JsonSchema)]
    pub struct Login {
        username: String,
        password: String,
    }

    /// The signed-in user (log-in and `/me`), with the wire names of the capabilities their role
    /// has in the domain's capability table — the UI shows only what they may use.
    pub fn user_json(st: &AppState, username: &str, role: &str, unit: Option<&str>) -> UserView {
        let parsed = jiesu_domain::Role::parse(role);
        let role_label = parsed.map(|r| r.label_zh()).unwrap_or(role);
        UserView {
            username: username.to_string(),
            role: role.to_string(),
            role_label: role_label.to_string(),
            unit_code: unit.map(str::to_string),
            unit_name: unit.and_then(|u| st.org.get(u)).map(|u| u.name.clone()),
            capabilities: parsed
                .map(jiesu_domain::capability::Capability::of)
                .unwrap_or_default()
                .iter()
                .map(|c| c.as_str())
                .collect(),
        }
    }

    pub async fn login(
        State(st): State<AppState>,
        addr: crate::limits::ClientAddr,
        Json(b): Json<Login>,
    ) -> ApiResult<axum::Json<LoginView>> {
        let user = crate::login::check(&st, addr, &b.username, &b.password).await?;
        let token = new_token();
        let now = st.now();
        let th = token_hash(&token);
        let s2 = st.clone();
        let uid = user.id;
        tokio::task::spawn_blocking(move || {
            s2.store
                .create_session(uid, &th, now, now + s2.session_policy.absolute)
        })
        .await??;
        Ok(axum::Json(LoginView {
            token,
            expires_in: st.session_policy.absolute.num_seconds(),
            user: user_json(&st, &user.username, &user.role, user.unit_code.as_deref()),
        }))
    }

    pub async fn me(State(st): State<AppState>, Caller(a): Caller) -> axum::Json<UserView> {
        axum::Json(user_json(&st, &a.user, a.role.as_str(), a.unit.as_deref()))
    }

    pub async fn demo(State(st): State<AppState>) -> ApiResult<axum::Json<DemoInfo>> {
        match st.demo_accounts.as_ref() {
            Some(acc) => {
                let accounts = acc
                    .iter()
                    .map(|a| DemoAccountView {
                        username: a.username.clone(),
                        password: a.password.clone(),
                        role: a.role.clone(),
                        unit_code: a.unit_code.clone(),
                        note: a.note.clone(),
                        unit_name: a
                            .unit_code
                            .as_deref()
                            .and_then(|u| st.org.get(u))
                            .map(|u| u.name.clone()),
                    })
                    .collect();
                Ok(axum::Json(DemoInfo {
                    demo: true,
                    accounts,
                }))
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
