//! Operations (运维): liveness (`GET /healthz`), readiness (`GET /readyz`), Prometheus metrics
//! (`GET /metrics`), the request middleware (request id, per-route counts and latency, one log
//! line per request) and the shutdown signal the background tasks watch.
//!
//! The exposition format is written by hand rather than with a metrics crate: it is a few lines
//! of text (`# HELP`, `# TYPE`, samples), the figures are a handful of counters and histograms
//! kept in atomics or one short-held mutex, and the store's figures are read at scrape time —
//! a registry crate would add a dependency and a second copy of each figure for no gain.
//!
//! Labels never carry personal data: routes are the route table's templates
//! (`/api/v1/tickets/{id}`), never the requested path; ticket statuses are wire names.

use crate::error::ApiError;
use crate::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::Mutex;
use std::time::Instant;
use tracing::Instrument;

/// Upper bounds (seconds) of the request-latency buckets.
const REQUEST_BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];
/// Upper bounds (seconds) of the scheduler-pass buckets.
const PASS_BUCKETS: [f64; 10] = [0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

/// The route label of a request no route matched (the UI's files, unknown paths).
const UNMATCHED: &str = "unmatched";

/// A histogram with fixed bounds (counts per bucket, not cumulative; the last is `+Inf`).
#[derive(Debug, Clone)]
struct Hist {
    bounds: &'static [f64],
    counts: Vec<u64>,
    sum: f64,
}

impl Hist {
    fn new(bounds: &'static [f64]) -> Hist {
        Hist {
            bounds,
            counts: vec![0; bounds.len() + 1],
            sum: 0.0,
        }
    }
    fn observe(&mut self, secs: f64) {
        let i = self
            .bounds
            .iter()
            .position(|b| secs <= *b)
            .unwrap_or(self.bounds.len());
        self.counts[i] += 1;
        self.sum += secs;
    }
    fn figures(&self) -> jiesu_store::Histogram {
        let mut acc = 0;
        jiesu_store::Histogram {
            buckets: self
                .bounds
                .iter()
                .zip(&self.counts)
                .map(|(b, n)| {
                    acc += n;
                    (*b, acc)
                })
                .collect(),
            count: self.counts.iter().sum(),
            sum_seconds: self.sum,
        }
    }
}

/// Where the text models (classifier) stand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum ModelState {
    /// Being loaded from `<db>.models/` or trained (start-up).
    Loading = 0,
    /// Loaded and serving suggestions.
    Ready = 1,
    /// Not trained because the city has too few tickets yet (suggestions answer 503; the rest of
    /// the server is fully usable, so readiness does not wait for it).
    TooFewTickets = 2,
    /// Loading and training failed.
    Failed = 3,
}

impl ModelState {
    fn name(self) -> &'static str {
        match self {
            ModelState::Loading => "loading",
            ModelState::Ready => "ready",
            ModelState::TooFewTickets => "too_few_tickets",
            ModelState::Failed => "failed",
        }
    }
}

/// What the server counts and how it stops; one per server (`AppState::ops`).
pub struct Ops {
    /// (route template, method, status class) → answers.
    requests: Mutex<BTreeMap<(String, String, &'static str), u64>>,
    /// (route template, method) → latency.
    latency: Mutex<BTreeMap<(String, String), Hist>>,
    in_flight: AtomicU64,
    scheduler: Mutex<Hist>,
    reminders: AtomicU64,
    models: AtomicU8,
    models_note: Mutex<String>,
    /// Whether outgoing notifications (webhooks, SMS) are configured: the outbox lag means
    /// something only then.
    notify_enabled: std::sync::atomic::AtomicBool,
    shutdown: tokio::sync::watch::Sender<bool>,
}

impl Default for Ops {
    fn default() -> Self {
        Ops {
            requests: Mutex::new(BTreeMap::new()),
            latency: Mutex::new(BTreeMap::new()),
            in_flight: AtomicU64::new(0),
            scheduler: Mutex::new(Hist::new(&PASS_BUCKETS)),
            reminders: AtomicU64::new(0),
            models: AtomicU8::new(ModelState::Loading as u8),
            models_note: Mutex::new(String::new()),
            notify_enabled: false.into(),
            shutdown: tokio::sync::watch::channel(false).0,
        }
    }
}

impl Ops {
    /// Records where the text models stand, with a note (the reason of a failure).
    pub fn set_models(&self, state: ModelState, note: impl Into<String>) {
        self.models.store(state as u8, Ordering::SeqCst);
        if let Ok(mut n) = self.models_note.lock() {
            *n = note.into();
        }
    }

    /// Where the text models stand.
    pub fn models(&self) -> ModelState {
        match self.models.load(Ordering::SeqCst) {
            1 => ModelState::Ready,
            2 => ModelState::TooFewTickets,
            3 => ModelState::Failed,
            _ => ModelState::Loading,
        }
    }

    /// One scheduler pass took `secs` and sent `reminders` reminder events.
    pub fn scheduler_pass(&self, secs: f64, reminders: usize) {
        if let Ok(mut h) = self.scheduler.lock() {
            h.observe(secs);
        }
        self.reminders
            .fetch_add(reminders as u64, Ordering::Relaxed);
    }

    /// Notes whether outgoing notifications are configured.
    pub fn set_notify_enabled(&self, on: bool) {
        self.notify_enabled.store(on, Ordering::Relaxed);
    }

    /// Tells every background task to finish its pass and stop; readiness answers 503 from now.
    pub fn begin_shutdown(&self) {
        self.shutdown.send_replace(true);
    }

    /// Whether the server is shutting down.
    pub fn shutting_down(&self) -> bool {
        *self.shutdown.borrow()
    }

    /// Resolves once [`Ops::begin_shutdown`] has been called (at once if it has).
    pub fn stopped(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let mut rx = self.shutdown.subscribe();
        async move {
            let _ = rx.wait_for(|v| *v).await;
        }
    }

    fn request_done(&self, route: &str, method: &str, status: StatusCode, secs: f64) {
        let class = match status.as_u16() {
            100..=199 => "1xx",
            200..=299 => "2xx",
            300..=399 => "3xx",
            400..=499 => "4xx",
            _ => "5xx",
        };
        if let Ok(mut m) = self.requests.lock() {
            *m.entry((route.to_string(), method.to_string(), class))
                .or_insert(0) += 1;
        }
        if let Ok(mut m) = self.latency.lock() {
            m.entry((route.to_string(), method.to_string()))
                .or_insert_with(|| Hist::new(&REQUEST_BUCKETS))
                .observe(secs);
        }
    }
}

/// A request id from the client's `x-request-id` if it is a plain token (letters, digits,
/// `-_.:`, at most 128), else a new random one.
fn request_id(req: &Request) -> String {
    let given = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 128
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
        });
    match given {
        Some(v) => v.to_string(),
        None => {
            let bytes: [u8; 12] = rand::random();
            hex::encode(bytes)
        }
    }
}

/// The middleware on every route: a request id (in and out as `x-request-id`, on every log line
/// of the request), the per-route counts and latency, one log line per request (method, route
/// template, status, milliseconds — no path, query, body or header values).
pub async fn track(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let id = request_id(&req);
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| UNMATCHED.to_string());
    let method = req.method().as_str().to_string();
    let span = tracing::info_span!("request", request_id = %id);
    let t0 = Instant::now();
    st.ops.in_flight.fetch_add(1, Ordering::Relaxed);
    let mut res = next.run(req).instrument(span.clone()).await;
    st.ops.in_flight.fetch_sub(1, Ordering::Relaxed);
    let secs = t0.elapsed().as_secs_f64();
    st.ops.request_done(&route, &method, res.status(), secs);
    span.in_scope(|| {
        tracing::info!(
            target: "jiesu::request",
            method = %method,
            route = %route,
            status = res.status().as_u16(),
            ms = (secs * 1000.0 * 10.0).round() / 10.0,
            "request"
        )
    });
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut().insert("x-request-id", v);
    }
    res
}

/// `GET /healthz`: the process serves.
pub async fn healthz() -> &'static str {
    "ok"
}

/// `GET /readyz`: 200 when the store answers a read, its schema is current and the text models
/// are loaded (or cannot be trained yet for want of tickets); else 503 problem+json naming what
/// is not ready, in English and Chinese.
pub async fn readyz(State(st): State<AppState>) -> Response {
    let s2 = st.clone();
    let store = tokio::task::spawn_blocking(move || {
        s2.store.ping()?;
        s2.store.schema_current()
    })
    .await;
    let mut en: Vec<String> = Vec::new();
    let mut zh: Vec<String> = Vec::new();
    let (store_check, schema_check) = match store {
        Ok(Ok(Some(true))) | Ok(Ok(None)) => ("ok".to_string(), "ok".to_string()),
        Ok(Ok(Some(false))) => {
            en.push("the database schema is not this version's (migrations not done)".into());
            zh.push("数据库结构版本不符（迁移未完成）".into());
            ("ok".into(), "not current".into())
        }
        Ok(Err(e)) => {
            en.push(format!("the database does not answer: {e}"));
            zh.push("数据库无法访问".into());
            ("unreachable".into(), "unknown".into())
        }
        Err(e) => {
            en.push(format!("the database check failed: {e}"));
            zh.push("数据库检查失败".into());
            ("unreachable".into(), "unknown".into())
        }
    };
    let models = st.ops.models();
    let note = st
        .ops
        .models_note
        .lock()
        .map(|n| n.clone())
        .unwrap_or_default();
    match models {
        ModelState::Ready | ModelState::TooFewTickets => {}
        ModelState::Loading => {
            en.push("the text models are still loading or training".into());
            zh.push("文本分类模型正在加载或训练".into());
        }
        ModelState::Failed => {
            en.push(format!(
                "the text models failed to load and to train: {note}"
            ));
            zh.push("文本分类模型加载和训练均失败".into());
        }
    }
    if st.ops.shutting_down() {
        en.push("the server is shutting down".into());
        zh.push("服务正在停止".into());
    }
    let checks = json!({
        "store": store_check,
        "schema": schema_check,
        "text_models": models.name(),
        "text_models_note": note,
        "shutting_down": st.ops.shutting_down(),
    });
    if en.is_empty() {
        return axum::Json(json!({ "status": "ready", "checks": checks })).into_response();
    }
    let mut e = ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "not_ready",
        format!("not ready: {}", en.join("; ")),
        format!("尚未就绪：{}", zh.join("；")),
    );
    e.extra = Some(json!({ "checks": checks }));
    e.into_response()
}

/// Escapes a label value of the exposition format.
fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Writes the `# HELP` and `# TYPE` lines of a family.
fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// Writes a histogram's samples (`labels` without braces, may be empty).
fn histogram(out: &mut String, name: &str, labels: &str, h: &jiesu_store::Histogram) {
    let sep = if labels.is_empty() { "" } else { "," };
    for (b, n) in &h.buckets {
        let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"{b}\"}} {n}");
    }
    let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {}", h.count);
    let braces = if labels.is_empty() {
        String::new()
    } else {
        format!("{{{labels}}}")
    };
    let _ = writeln!(out, "{name}_sum{braces} {}", h.sum_seconds);
    let _ = writeln!(out, "{name}_count{braces} {}", h.count);
}

/// `GET /metrics`: Prometheus text exposition (version 0.0.4).
pub async fn metrics(State(st): State<AppState>) -> Response {
    let s2 = st.clone();
    let store = tokio::task::spawn_blocking(move || s2.store.ops_figures()).await;
    let writer = st.store.writer_figures();
    let mut out = String::with_capacity(8192);
    let ops = &st.ops;

    family(
        &mut out,
        "jiesu_http_requests_total",
        "counter",
        "Answered requests by route template, method and status class.",
    );
    if let Ok(m) = ops.requests.lock() {
        for ((route, method, class), n) in m.iter() {
            let _ = writeln!(
                out,
                "jiesu_http_requests_total{{route=\"{}\",method=\"{method}\",status=\"{class}\"}} {n}",
                label(route)
            );
        }
    }
    family(
        &mut out,
        "jiesu_http_request_duration_seconds",
        "histogram",
        "Request latency by route template and method.",
    );
    let latency: Vec<((String, String), jiesu_store::Histogram)> = ops
        .latency
        .lock()
        .map(|m| m.iter().map(|(k, h)| (k.clone(), h.figures())).collect())
        .unwrap_or_default();
    for ((route, method), h) in &latency {
        let labels = format!("route=\"{}\",method=\"{method}\"", label(route));
        histogram(&mut out, "jiesu_http_request_duration_seconds", &labels, h);
    }
    family(
        &mut out,
        "jiesu_http_requests_in_flight",
        "gauge",
        "Requests being answered now.",
    );
    let _ = writeln!(
        out,
        "jiesu_http_requests_in_flight {}",
        ops.in_flight.load(Ordering::Relaxed)
    );

    family(
        &mut out,
        "jiesu_store_writer_queue_depth",
        "gauge",
        "Write jobs waiting for the store's single writer.",
    );
    let _ = writeln!(out, "jiesu_store_writer_queue_depth {}", writer.queue_depth);
    family(
        &mut out,
        "jiesu_store_commit_duration_seconds",
        "histogram",
        "Duration of the writer's group commits (fsync included).",
    );
    histogram(
        &mut out,
        "jiesu_store_commit_duration_seconds",
        "",
        &writer.commit_latency,
    );
    family(
        &mut out,
        "jiesu_store_commit_failures_total",
        "counter",
        "Group commits that failed.",
    );
    let _ = writeln!(
        out,
        "jiesu_store_commit_failures_total {}",
        writer.commit_failures
    );

    family(
        &mut out,
        "jiesu_scheduler_pass_duration_seconds",
        "histogram",
        "Duration of a whole scheduler pass (reminders, retention, checkpoint, reports, early warning).",
    );
    let pass = ops
        .scheduler
        .lock()
        .map(|h| h.figures())
        .unwrap_or_default();
    histogram(&mut out, "jiesu_scheduler_pass_duration_seconds", "", &pass);
    family(
        &mut out,
        "jiesu_scheduler_reminders_total",
        "counter",
        "Reminder events the scheduler wrote since start.",
    );
    let _ = writeln!(
        out,
        "jiesu_scheduler_reminders_total {}",
        ops.reminders.load(Ordering::Relaxed)
    );

    family(
        &mut out,
        "jiesu_classifier_ready",
        "gauge",
        "1 when the text models are loaded and serving suggestions, else 0.",
    );
    let models = ops.models();
    let _ = writeln!(
        out,
        "jiesu_classifier_ready {}",
        u8::from(models == ModelState::Ready)
    );
    family(
        &mut out,
        "jiesu_classifier_state",
        "gauge",
        "Where the text models stand (1 for the current state).",
    );
    for s in [
        ModelState::Loading,
        ModelState::Ready,
        ModelState::TooFewTickets,
        ModelState::Failed,
    ] {
        let _ = writeln!(
            out,
            "jiesu_classifier_state{{state=\"{}\"}} {}",
            s.name(),
            u8::from(s == models)
        );
    }

    family(
        &mut out,
        "jiesu_notify_enabled",
        "gauge",
        "1 when webhooks or SMS are configured (the outbox is being sent).",
    );
    let _ = writeln!(
        out,
        "jiesu_notify_enabled {}",
        u8::from(ops.notify_enabled.load(Ordering::Relaxed))
    );
    family(
        &mut out,
        "jiesu_store_up",
        "gauge",
        "1 when the store answered this scrape's figures.",
    );
    match store {
        Ok(Ok(f)) => {
            let _ = writeln!(out, "jiesu_store_up 1");
            family(
                &mut out,
                "jiesu_open_tickets",
                "gauge",
                "Open tickets (not closed, merged or archived) by status.",
            );
            for (status, n) in &f.open_tickets_by_status {
                let _ = writeln!(
                    out,
                    "jiesu_open_tickets{{status=\"{}\"}} {n}",
                    label(status)
                );
            }
            if let Some(lag) = f.outbox_lag {
                family(
                    &mut out,
                    "jiesu_outbox_lag_events",
                    "gauge",
                    "Event-log positions after the notification cursor (events not yet notified).",
                );
                let _ = writeln!(out, "jiesu_outbox_lag_events {lag}");
            }
            if let Some(b) = f.db_bytes {
                family(
                    &mut out,
                    "jiesu_db_size_bytes",
                    "gauge",
                    "The database's size on disk (SQLite: the file and its WAL).",
                );
                let _ = writeln!(out, "jiesu_db_size_bytes {b}");
            }
        }
        Ok(Err(e)) => {
            tracing::warn!("metrics: the store's figures failed: {e}");
            let _ = writeln!(out, "jiesu_store_up 0");
        }
        Err(e) => {
            tracing::warn!("metrics: the store's figures failed: {e}");
            let _ = writeln!(out, "jiesu_store_up 0");
        }
    }
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        out,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_histogram_is_cumulative_and_counts_the_overflow() {
        let mut h = Hist::new(&PASS_BUCKETS);
        h.observe(0.005);
        h.observe(0.2);
        h.observe(100.0);
        let f = h.figures();
        assert_eq!(f.count, 3);
        assert_eq!(f.buckets[0], (0.01, 1));
        assert_eq!(f.buckets.last().map(|b| b.1), Some(2));
        let mut out = String::new();
        histogram(&mut out, "x", "", &f);
        assert!(out.contains("x_bucket{le=\"+Inf\"} 3"), "{out}");
        assert!(out.contains("x_count 3"), "{out}");
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
