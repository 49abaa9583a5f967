//! Outgoing notifications: signed webhooks for integrations and an SMS gateway interface (with a
//! file-log implementation), fed by an outbox that follows the event log.
//!
//! Delivery is at least once: a cursor (the event log's row id) is saved in `meta` only after a
//! batch is delivered, so a restart resends what was not confirmed. Each webhook POST carries
//! `X-Jiesu-Signature: sha256=<hex HMAC of the body>` and `X-Jiesu-Event-Id` for de-duplication.
//! Messages to citizens never include anyone else's personal data.

use crate::AppState;
use hmac::{Hmac, Mac};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use jiesu_domain::EventKind;
use serde_json::{json, Value};
use sha2::Sha256;
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

/// Event kinds sent to integrations.
pub const WEBHOOK_KINDS: &[&str] = &[
    "created",
    "dispatched",
    "signed",
    "result_submitted",
    "return_requested",
    "return_reviewed",
    "reminded",
    "urged",
    "escalated",
    "callback_recorded",
    "reopened",
    "closed",
];

/// A gateway that sends a text message to a phone number; `now` is the server's clock at
/// sending (the gateway never reads the machine's clock itself).
pub trait SmsGateway: Send + Sync {
    fn send(
        &self,
        phone: &str,
        text: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> std::io::Result<()>;
}

/// The SMS gateway for development and audits: one line per message appended to a file.
pub struct FileLogSms {
    pub path: PathBuf,
}

impl SmsGateway for FileLogSms {
    fn send(
        &self,
        phone: &str,
        text: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> std::io::Result<()> {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        writeln!(
            f,
            "{}\t{}\t{}",
            now.to_rfc3339(),
            phone,
            text.replace(['\n', '\t'], " ")
        )?;
        f.sync_data()
    }
}

/// Where notifications go.
#[derive(Clone, Default)]
pub struct NotifyConfig {
    pub webhooks: Vec<String>,
    pub secret: String,
    pub sms: Option<std::sync::Arc<dyn SmsGateway>>,
}

/// `sha256=<hex>` of the body under the shared secret.
pub fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .expect("HMAC takes any key length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// The text the citizen receives for an event, if any; the intake message carries the ticket's
/// tracking code (查询码), without which the public tracking page shows nothing.
fn sms_text(kind: &EventKind, number: &str, code: Option<&str>) -> Option<String> {
    Some(match kind {
        EventKind::Created { .. } => match code {
            Some(code) => format!(
                "【12345】您的诉求已受理，编号 {number}，查询码 {code}，可凭编号和查询码查询进度。"
            ),
            None => format!("【12345】您的诉求已受理，编号 {number}。"),
        },
        EventKind::Dispatched { .. } => format!("【12345】您的诉求 {number} 已转交承办单位办理。"),
        EventKind::ResultSubmitted { .. } => {
            format!("【12345】您的诉求 {number} 已办结，热线中心将回访您。")
        }
        EventKind::Reopened { .. } => format!("【12345】您的诉求 {number} 已重新交办。"),
        _ => return None,
    })
}

pub(crate) async fn post(url: &str, body: Vec<u8>, sig: &str, id: &str) -> anyhow::Result<()> {
    let uri: hyper::Uri = url.parse()?;
    let host = uri
        .host()
        .ok_or_else(|| anyhow::anyhow!("webhook URL has no host"))?
        .to_string();
    if uri.scheme_str() != Some("http") {
        anyhow::bail!(
            "only http:// webhooks are supported by this build (terminate TLS in a proxy)"
        );
    }
    let port = uri.port_u16().unwrap_or(80);
    let stream = tokio::time::timeout(
        Duration::from_secs(5),
        tokio::net::TcpStream::connect((host.as_str(), port)),
    )
    .await??;
    let (mut send, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let req = hyper::Request::post(path)
        .header("host", host)
        .header("content-type", "application/json")
        .header("x-jiesu-signature", sig)
        .header("x-jiesu-event-id", id)
        .body(Full::new(Bytes::from(body)))?;
    let resp = tokio::time::timeout(Duration::from_secs(10), send.send_request(req)).await??;
    let status = resp.status();
    let _ = resp.into_body().collect().await;
    if !status.is_success() {
        anyhow::bail!("webhook {url} answered {status}");
    }
    Ok(())
}

/// The webhook body of a report.
fn report_body(r: &jiesu_store::ReportRow) -> Value {
    let item = crate::reports::ReportItem::from(r.clone());
    json!({
        "kind": "report", "report_id": r.id, "report_kind": r.kind, "period": r.period,
        "title_zh": r.title_zh, "title_en": r.title_en, "html": item.html, "xlsx": item.xlsx,
        "generated_at": r.generated_at,
    })
}

/// Delivers new reports to the subscribers' own webhooks (报告订阅): for each subscription with a
/// webhook, the reports of its kind stored after its cursor, oldest first, each POSTed (signed,
/// event id `report-<id>`) and the cursor moved after each answer, so a failure resends from
/// there on the next pass. One subscriber's failing webhook does not hold up the others. Needs
/// the signing secret (`JIESU_WEBHOOK_SECRET`); returns how many reports were delivered.
pub async fn subscription_pass(st: &AppState, cfg: &NotifyConfig) -> anyhow::Result<usize> {
    if cfg.secret.len() < 16 {
        return Ok(0);
    }
    let s2 = st.clone();
    let subs =
        tokio::task::spawn_blocking(move || s2.store.webhook_report_subscriptions()).await??;
    let mut n = 0;
    let mut failed = None;
    for sub in subs {
        let Some(url) = sub.webhook_url.clone() else {
            continue;
        };
        let (s2, cursor) = (st.clone(), sub.cursor);
        let batch =
            tokio::task::spawn_blocking(move || s2.store.reports_after(cursor, 100)).await??;
        let mut delivered = true;
        for r in batch.iter().filter(|r| r.kind == sub.kind) {
            let bytes = serde_json::to_vec(&report_body(r))?;
            let sig = signature(&cfg.secret, &bytes);
            if let Err(e) = post(&url, bytes, &sig, &format!("report-{}", r.id)).await {
                failed = Some(anyhow::anyhow!("{} ({}): {e}", sub.user, sub.kind));
                delivered = false;
                break;
            }
            n += 1;
            let (s2, user, kind, id) = (st.clone(), sub.user.clone(), sub.kind.clone(), r.id);
            tokio::task::spawn_blocking(move || {
                s2.store.advance_report_subscription(&user, &kind, id)
            })
            .await??;
        }
        // reports of other kinds in the batch are passed over: the cursor may skip them
        if delivered {
            if let Some(last) = batch.last() {
                let (s2, user, kind, id) =
                    (st.clone(), sub.user.clone(), sub.kind.clone(), last.id);
                tokio::task::spawn_blocking(move || {
                    s2.store.advance_report_subscription(&user, &kind, id)
                })
                .await??;
            }
        }
    }
    match failed {
        Some(e) => Err(e),
        None => Ok(n),
    }
}

/// Delivers the reports stored after the report cursor to the webhooks (subscribers such as a
/// leaders' office or a unit's system): `{"kind": "report", "report_id", "report_kind", "period",
/// "title_zh", "title_en", "html", "xlsx"}`, event id `report-<id>`; returns how many.
pub async fn report_pass(st: &AppState, cfg: &NotifyConfig) -> anyhow::Result<usize> {
    if cfg.webhooks.is_empty() {
        return Ok(0);
    }
    let s2 = st.clone();
    let cursor: i64 = tokio::task::spawn_blocking(move || s2.store.meta("report_cursor"))
        .await??
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let s2 = st.clone();
    let batch = tokio::task::spawn_blocking(move || s2.store.reports_after(cursor, 100)).await??;
    for r in &batch {
        let bytes = serde_json::to_vec(&report_body(r))?;
        let sig = signature(&cfg.secret, &bytes);
        for url in &cfg.webhooks {
            post(url, bytes.clone(), &sig, &format!("report-{}", r.id)).await?;
        }
        let (s2, id) = (st.clone(), r.id);
        tokio::task::spawn_blocking(move || s2.store.set_meta("report_cursor", &id.to_string()))
            .await??;
    }
    Ok(batch.len())
}

/// Delivers the alerts raised after the alert cursor to the webhooks (the responsible unit's and
/// its district's systems): `jiesu_http::alerts::webhook_body`, event id `alert-<id>`.
pub async fn alert_pass(st: &AppState, cfg: &NotifyConfig) -> anyhow::Result<usize> {
    if cfg.webhooks.is_empty() {
        return Ok(0);
    }
    let s2 = st.clone();
    let cursor: i64 = tokio::task::spawn_blocking(move || s2.store.meta("alert_cursor"))
        .await??
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let s2 = st.clone();
    let batch = tokio::task::spawn_blocking(move || s2.store.alerts_after(cursor, 100)).await??;
    let n = batch.len();
    for a in batch {
        let id = a.id;
        let body = crate::alerts::webhook_body(st, a);
        let bytes = serde_json::to_vec(&body)?;
        let sig = signature(&cfg.secret, &bytes);
        for url in &cfg.webhooks {
            post(url, bytes.clone(), &sig, &format!("alert-{id}")).await?;
        }
        let s2 = st.clone();
        tokio::task::spawn_blocking(move || s2.store.set_meta("alert_cursor", &id.to_string()))
            .await??;
    }
    Ok(n)
}

/// The webhook body of an event (no personal data): `event_id`, `ticket_id`, `number`, `seq`,
/// `kind`, `label_zh`, `at`, `unit` (the actor's) and `units` (those dispatched, urged or reminded).
pub(crate) fn event_body(
    ticket_id: jiesu_domain::TicketId,
    number: &str,
    e: &jiesu_domain::Event,
) -> Value {
    json!({
        "event_id": format!("{ticket_id}-{}", e.seq), "ticket_id": ticket_id, "number": number,
        "seq": e.seq, "kind": e.kind.name(), "label_zh": e.kind.label_zh(), "at": e.at,
        "unit": e.actor.unit,
        "units": match &e.kind {
            EventKind::Dispatched { assignments, .. } => assignments.iter().map(|a| a.unit.clone()).collect(),
            EventKind::Urged { unit, .. } | EventKind::Reminded { unit, .. } => vec![unit.clone()],
            _ => vec![],
        },
    })
}

/// One outbox pass: delivers events after the cursor; returns how many were delivered. With
/// neither webhooks nor SMS (the outbox running for report subscribers only) nothing is read and
/// the cursor stays, so a webhook added later still gets the log from where it stood.
pub async fn pass(st: &AppState, cfg: &NotifyConfig) -> anyhow::Result<usize> {
    if cfg.webhooks.is_empty() && cfg.sms.is_none() {
        return Ok(0);
    }
    let s2 = st.clone();
    let cursor: i64 = tokio::task::spawn_blocking(move || s2.store.meta("notify_cursor"))
        .await??
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let s2 = st.clone();
    let batch = tokio::task::spawn_blocking(move || s2.store.events_after(cursor, 500)).await??;
    if batch.is_empty() {
        return Ok(0);
    }
    let mut last = cursor;
    for (rowid, ticket_id, number, e) in &batch {
        let kind = e.kind.name();
        if WEBHOOK_KINDS.contains(&kind) {
            let body = event_body(*ticket_id, number, e);
            let bytes = serde_json::to_vec(&body)?;
            let sig = signature(&cfg.secret, &bytes);
            for url in &cfg.webhooks {
                post(url, bytes.clone(), &sig, &format!("{ticket_id}-{}", e.seq)).await?;
            }
        }
        if let Some(sms) = &cfg.sms {
            if sms_text(&e.kind, number, None).is_some() {
                let s2 = st.clone();
                let id = *ticket_id;
                let created = matches!(e.kind, EventKind::Created { .. });
                let (ticket, code) = tokio::task::spawn_blocking(move || {
                    let code = if created {
                        s2.store.tracking_code(id)?
                    } else {
                        None
                    };
                    Ok::<_, jiesu_store::StoreError>((s2.store.load_ticket(id)?, code))
                })
                .await??;
                let phone = ticket.map(|(t, _)| t.intake.requester.phone);
                let text = sms_text(&e.kind, number, code.as_deref()).unwrap_or_default();
                if let Some(phone) = phone {
                    let g = sms.clone();
                    let now = st.now();
                    tokio::task::spawn_blocking(move || g.send(&phone, &text, now)).await??;
                }
            }
        }
        last = *rowid;
    }
    let s2 = st.clone();
    tokio::task::spawn_blocking(move || s2.store.set_meta("notify_cursor", &last.to_string()))
        .await??;
    Ok(batch.len())
}

/// Runs the outbox every `every`; a failed delivery is retried on the next pass. On shutdown
/// (`Ops::begin_shutdown`) it makes one last pass, so what is already in the log is sent and the
/// cursor saved, and stops. Always runs: departments' webhooks and exports live in the database.
pub fn spawn(
    st: AppState,
    cfg: NotifyConfig,
    every: Duration,
) -> Option<tokio::task::JoinHandle<()>> {
    // with the signing secret alone the outbox still runs for the subscribers' own webhooks
    let enabled = !(cfg.webhooks.is_empty() && cfg.sms.is_none() && cfg.secret.len() < 16);
    st.ops.set_notify_enabled(enabled);
    // departments' webhooks and saved exports (stored in the database) are delivered whether or
    // not the server has webhooks or SMS of its own
    Some(tokio::spawn(async move {
        loop {
            let last = st.ops.shutting_down();
            if enabled {
                match pass(&st, &cfg).await {
                    Ok(n) if n > 0 => tracing::debug!("notifications: {n} events"),
                    Ok(_) => {}
                    Err(e) => tracing::warn!("notification delivery failed (will retry): {e}"),
                }
                if let Err(e) = report_pass(&st, &cfg).await {
                    tracing::warn!("report delivery failed (will retry): {e}");
                }
                if let Err(e) = subscription_pass(&st, &cfg).await {
                    tracing::warn!("report delivery to a subscriber failed (will retry): {e}");
                }
                if let Err(e) = alert_pass(&st, &cfg).await {
                    tracing::warn!("alert delivery failed (will retry): {e}");
                }
            }
            if let Err(e) = crate::dept::webhook_pass(&st).await {
                tracing::warn!("department webhook delivery failed (will retry): {e}");
            }
            if let Err(e) = crate::dept::export_delivery_pass(&st).await {
                tracing::warn!("export delivery failed (will retry): {e}");
            }
            if let Err(e) = crate::dept::alert_delivery_pass(&st).await {
                tracing::warn!("alert delivery to a department failed (will retry): {e}");
            }
            if last {
                break;
            }
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = st.ops.stopped() => {}
            }
        }
    }))
}
