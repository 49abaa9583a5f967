//! 风险推送 — at intake: the emergency detector (`jiesu_governance::risk`) marks the request
//! (recorded with the intake, so the ticket carries it for good) and, once the ticket is
//! durable, a `risk` alert is raised at once for the ticket's street and its district; every new
//! ticket is also checked against the incident rule (`jiesu_governance::incident`), which merges
//! several similar reports in one place within an hour into one `incident` alert, updated as
//! more arrive. Both are ordinary alerts: the inbox, the webhooks through the outbox, the
//! acknowledge / handle / dismiss steps and the useful-alert rate are the early warning's.

use crate::error::ApiResult;
use crate::AppState;
use chrono::Duration;
use jiesu_domain::intake::ParsedIntake;
use jiesu_domain::ticket::RiskMark;
use jiesu_domain::TicketState;
use jiesu_governance::alert::AlertStatus;
use jiesu_governance::incident::{self, IncidentDecision, IncidentRule, OpenIncident, Report};
use jiesu_governance::risk::{self, RiskKind};
use jiesu_store::{AlertRow, TicketQuery};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The level of a risk push.
pub const RISK: &str = "risk";
/// The level of a merged incident.
pub const INCIDENT: &str = "incident";

/// Runs the detector on a parsed intake and records what it found with it.
pub fn mark(intake: ParsedIntake) -> ApiResult<ParsedIntake> {
    let found = found(&intake.title, &intake.text);
    Ok(intake.with_risk(found)?)
}

/// The detector's finding as the domain records it.
fn found(title: &str, text: &str) -> Option<RiskMark> {
    risk::detect(title, text).map(|f| RiskMark {
        kind: f.kind.as_str().to_string(),
        transfer_to: f
            .transfer_to
            .iter()
            .map(|t| t.number().to_string())
            .collect(),
        signs: f
            .signs
            .iter()
            .take(20)
            .map(|s| format!("{}：{}", s.phrase, s.clause))
            .collect(),
    })
}

/// `POST /api/v1/risk/check` body: the request as typed so far.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckBody {
    /// The title (optional).
    #[serde(default)]
    pub title: String,
    /// The request's text.
    pub text: String,
}

/// What the detector finds in a request being taken in.
#[derive(Debug, Serialize, JsonSchema)]
pub struct CheckAnswer {
    /// The emergency, or null.
    pub risk: Option<RiskView>,
}

/// `POST /api/v1/risk/check` — the detector on a request being taken in (the intake form asks
/// while the agent types, so the transfer is made during the call).
pub async fn check(
    axum::extract::State(_st): axum::extract::State<AppState>,
    crate::auth::Caller(actor): crate::auth::Caller,
    crate::json::Json(b): crate::json::Json<CheckBody>,
) -> ApiResult<axum::Json<CheckAnswer>> {
    crate::auth::require(&actor, jiesu_domain::capability::Capability::Intake)?;
    if b.title.chars().count() + b.text.chars().count()
        > jiesu_domain::ticket::MAX_TEXT_CHARS + jiesu_domain::ticket::MAX_TITLE_CHARS
    {
        return Err(crate::error::ApiError::invalid(
            "text",
            "the text is longer than 4,000 characters",
            "内容超过4000字",
        ));
    }
    Ok(axum::Json(CheckAnswer {
        risk: found(&b.title, &b.text).as_ref().map(view),
    }))
}

/// 风险标记 — the emergency marked at intake, as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct RiskView {
    /// `gas`, `fire`, `collapse`, `person_in_danger`, `violence`, `flood` or `traffic`.
    pub kind: String,
    /// The kind in Chinese (燃气泄漏 …).
    pub kind_label: String,
    /// The kind in English.
    pub kind_label_en: String,
    /// 转接 — the emergency numbers to transfer the caller to: 110 police, 119 fire and
    /// rescue, 120 ambulance, 122 traffic police.
    pub transfer_to: Vec<String>,
    /// The signs found (phrase：clause).
    pub signs: Vec<String>,
}

/// The view of a ticket's risk mark.
pub fn view(mark: &RiskMark) -> RiskView {
    let kind = RiskKind::parse(&mark.kind);
    RiskView {
        kind: mark.kind.clone(),
        kind_label: kind
            .map(|k| k.label_zh().to_string())
            .unwrap_or_else(|| mark.kind.clone()),
        kind_label_en: kind
            .map(|k| k.label_en().to_string())
            .unwrap_or_else(|| mark.kind.clone()),
        transfer_to: mark.transfer_to.clone(),
        signs: mark.signs.clone(),
    }
}

/// What a risk alert says beyond the alert's columns (stored as its `detail`).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct RiskDetail {
    /// The ticket.
    pub ticket: i64,
    /// Its number.
    pub number: String,
    /// Its title.
    pub title: String,
    /// The mark.
    #[serde(flatten)]
    pub risk: RiskView,
}

/// What an incident says beyond the alert's columns (stored as its `detail`).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct IncidentDetail {
    /// When its first report was created.
    pub first_at: chrono::DateTime<chrono::Utc>,
    /// When its latest report was created.
    pub last_at: chrono::DateTime<chrono::Utc>,
    /// The rule's window in minutes.
    pub window_minutes: i64,
    /// The title of its first report.
    pub title: String,
}

/// What intake learns from the pass after filing: the alerts raised or joined.
#[derive(Debug, Default, Clone, Copy)]
pub struct Pushed {
    /// The risk alert raised for the ticket.
    pub risk_alert: Option<i64>,
    /// The incident the ticket opened or joined.
    pub incident_alert: Option<i64>,
}

/// The place a report is about for the incident rule and its alert: the community, or the
/// street when none is named.
fn place_of(t: &TicketState) -> String {
    intake_place(&t.intake)
}

/// The place of an intake for the incident rule (see `place_of`).
fn intake_place(i: &jiesu_domain::ticket::Intake) -> String {
    i.place
        .community_code
        .clone()
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| i.place.street_code.clone())
}

/// The incident a new report may join, as this server last saw it (see `IncidentBoard`).
#[derive(Debug, Default)]
pub struct Prior(Option<Arc<OpenIncident>>);

/// How long this server trusts what it last saw of an incident before reading it again.
const BOARD_SECS: u64 = 10;

/// The newest incident of each place × category this server has read or written lately, so a
/// report joining one (in a storm — hundreds of calls about one burst main in the hour — most
/// do) needs no read of the store on its way: at thousands of reports a second the read beside
/// each ticket's write halved intake. An entry is trusted for `BOARD_SECS`; this server updates
/// it when it opens or joins an incident and drops it when a step closes the alert. Another
/// server on the same database closing an incident is seen within `BOARD_SECS`; every write to
/// an incident is decided again on the stored row, so a stale entry never changes one wrongly.
#[derive(Debug, Default)]
pub struct IncidentBoard {
    seen: Mutex<HashMap<IncidentKey, (std::time::Instant, Arc<OpenIncident>)>>,
}

/// A place and a category: what an incident is about.
type IncidentKey = (String, String);

impl IncidentBoard {
    fn get(&self, key: &IncidentKey) -> Option<Arc<OpenIncident>> {
        let m = self.seen.lock().ok()?;
        let (when, inc) = m.get(key)?;
        (when.elapsed().as_secs() < BOARD_SECS).then(|| inc.clone())
    }

    fn put(&self, key: IncidentKey, inc: OpenIncident) {
        if let Ok(mut m) = self.seen.lock() {
            if m.len() > 10_000 {
                m.clear();
            }
            m.insert(key, (std::time::Instant::now(), Arc::new(inc)));
        }
    }

    /// Forgets an alert (a step changed its status): the next report reads it again.
    pub fn forget(&self, alert: i64) {
        if let Ok(mut m) = self.seen.lock() {
            m.retain(|_, (_, inc)| inc.id != alert);
        }
    }
}

/// The place and category whose newest incident a new report may join (`None` for a report
/// without a place).
fn incident_key(intake: &ParsedIntake) -> Option<IncidentKey> {
    let i = intake.get();
    if i.is_placeless() {
        return None;
    }
    Some((intake_place(i), i.category_code.clone()))
}

/// The incident of the intake's place and category as this server last saw it (no IO).
pub fn prior(st: &AppState, intake: &ParsedIntake) -> Prior {
    Prior(incident_key(intake).and_then(|k| st.incidents.get(&k)))
}

/// An incident alert as the incident rule sees it.
fn open_incident(a: &AlertRow) -> Option<OpenIncident> {
    let d: IncidentDetail = serde_json::from_str(a.detail.as_deref()?).ok()?;
    let status = AlertStatus::parse(&a.status).unwrap_or(AlertStatus::Open);
    Some(OpenIncident {
        id: a.id,
        last_at: d.last_at,
        tickets: a.tickets.clone(),
        closed: matches!(status, AlertStatus::Handled | AlertStatus::Dismissed),
    })
}

/// What the push after filing comes to when it needs no reading or writing at all: a report
/// without a risk mark joining the incident read beside its write, which changes nothing on it
/// (its list is full and its last report time moved within the minute), or a report without a
/// place. `None` when `after_intake` has work to do. In a storm (hundreds of calls about one
/// water main) nearly every report is settled here, on the request's own task.
pub fn settled(t: &TicketState, prior: &Prior) -> Option<Pushed> {
    if t.intake.risk.is_some() {
        return None;
    }
    if t.intake.is_placeless() {
        return Some(Pushed::default());
    }
    let inc = prior.0.as_deref()?;
    let new = Report {
        ticket: t.id,
        at: t.created_at,
        place: place_of(t),
        category: t.intake.category_code.clone(),
    };
    let joins = matches!(
        incident::decide(&new, &[], Some(inc), &IncidentRule::default()),
        IncidentDecision::Join { .. }
    );
    (joins && incident::joined(&inc.tickets, inc.last_at, t.id, t.created_at).is_none()).then_some(
        Pushed {
            risk_alert: None,
            incident_alert: Some(inc.id),
        },
    )
}

/// After a new ticket is durable: raises its risk alert and applies the incident rule. A
/// replayed intake (same Idempotency-Key) raises nothing again. `prior` is the incident read
/// beside the write: when the report joins it nothing is read again; otherwise the newest
/// incident and the recent reports are read now, after the commit, so reports filed at the same
/// moment see each other.
pub fn after_intake(st: &AppState, t: &TicketState, prior: Prior) -> ApiResult<Pushed> {
    let mut out = Pushed::default();
    if t.intake.is_placeless() {
        return Ok(out);
    }
    let place = place_of(t);
    let street = t.intake.place.street_code.clone();
    let district = t.intake.place.district_code.clone();
    let day = st.zone.date(t.created_at);
    if let Some(mark) = &t.intake.risk {
        let detail = RiskDetail {
            ticket: t.id,
            number: t.number.clone(),
            title: t.intake.title.clone(),
            risk: view(mark),
        };
        out.risk_alert = st.store.raise_alert(AlertRow {
            id: 0,
            day,
            level: RISK.into(),
            place: place.clone(),
            category: t.intake.category_code.clone(),
            score: 0.0,
            observed: 1,
            expected: 0.0,
            window_days: 1,
            unit: street.clone(),
            district: district.clone(),
            tickets: vec![t.id],
            status: AlertStatus::Open.as_str().into(),
            created_at: t.created_at,
            detail: serde_json::to_string(&detail).ok(),
        })?;
    }
    let rule = IncidentRule::default();
    let new = Report {
        ticket: t.id,
        at: t.created_at,
        place: place.clone(),
        category: t.intake.category_code.clone(),
    };
    let joins = |inc: &OpenIncident| {
        matches!(
            incident::decide(&new, &[], Some(inc), &rule),
            IncidentDecision::Join { .. }
        )
    };
    let key = (place.clone(), t.intake.category_code.clone());
    let latest_inc = match prior.0.as_deref() {
        Some(inc) if joins(inc) => Some(inc.clone()),
        _ => {
            let read = st
                .store
                .latest_alert(INCIDENT, &place, &t.intake.category_code)?
                .as_ref()
                .and_then(open_incident);
            if let Some(inc) = &read {
                st.incidents.put(key.clone(), inc.clone());
            }
            read
        }
    };
    // a report joining an open incident needs no list of the others (in a storm, most do)
    let joined = latest_inc.as_ref().is_some_and(joins);
    let mut recent = Vec::new();
    if !joined {
        // the tickets of the street and category created within the window before this one
        let page = st.store.list_tickets(&TicketQuery {
            street: Some(street.clone()),
            category_prefix: Some(t.intake.category_code.clone()),
            from: Some(t.created_at - Duration::minutes(rule.window_minutes)),
            to: Some(t.created_at + Duration::seconds(1)),
            page: 1,
            page_size: 200,
            ..Default::default()
        })?;
        for s in page.items.iter().filter(|s| s.id != t.id) {
            if s.category_code != t.intake.category_code {
                continue;
            }
            // the list's own columns: a storm of reports in one place (hundreds in the hour) must
            // not load each of them again for every new one
            let Ok(at) = chrono::DateTime::parse_from_rfc3339(&s.created_at) else {
                continue;
            };
            recent.push(Report {
                ticket: s.id,
                at: at.with_timezone(&chrono::Utc),
                place: s
                    .community_code
                    .clone()
                    .filter(|c| !c.is_empty())
                    .unwrap_or_else(|| s.street_code.clone()),
                category: s.category_code.clone(),
            });
        }
    }
    match incident::decide(&new, &recent, latest_inc.as_ref(), &rule) {
        IncidentDecision::Nothing => {}
        IncidentDecision::Join { id, .. } => {
            // decided again on the stored alert by the writer, so reports joining at the same
            // moment all land; no writer job when the incident as read needs no change
            let (ticket, at) = (t.id, t.created_at);
            let changes = latest_inc.as_ref().is_none_or(|inc| {
                incident::joined(&inc.tickets, inc.last_at, ticket, at).is_some()
            });
            if changes {
                let stored = Arc::new(Mutex::new(None));
                let seen = stored.clone();
                // `false`: the stored incident was closed meanwhile (by another server)
                let amended = st.store.amend_alert(
                    id,
                    Box::new(move |a: &AlertRow| {
                        let inc = open_incident(a)?;
                        if inc.closed {
                            return None;
                        }
                        let mut d: IncidentDetail =
                            serde_json::from_str(a.detail.as_deref()?).ok()?;
                        let (tickets, last_at) =
                            incident::joined(&a.tickets, d.last_at, ticket, at)?;
                        d.last_at = last_at;
                        if let Ok(mut s) = seen.lock() {
                            *s = Some(OpenIncident {
                                tickets: tickets.clone(),
                                last_at,
                                ..inc
                            });
                        }
                        Some((tickets, serde_json::to_string(&d).ok()))
                    }),
                )?;
                match stored.lock().ok().and_then(|mut s| s.take()) {
                    Some(inc) => st.incidents.put(key, inc),
                    None => st.incidents.forget(id),
                }
                out.incident_alert = amended.then_some(id);
            } else {
                out.incident_alert = Some(id);
            }
        }
        IncidentDecision::Open { tickets } => {
            let first_at = recent
                .iter()
                .filter(|r| tickets.contains(&r.ticket))
                .map(|r| r.at)
                .min()
                .unwrap_or(t.created_at)
                .min(t.created_at);
            let d = IncidentDetail {
                first_at,
                last_at: t.created_at,
                window_minutes: rule.window_minutes,
                title: t.intake.title.clone(),
            };
            let (listed, last_at) = (tickets.clone(), t.created_at);
            out.incident_alert = st.store.raise_alert(AlertRow {
                id: 0,
                day,
                level: INCIDENT.into(),
                place,
                category: t.intake.category_code.clone(),
                score: 0.0,
                observed: tickets.len() as u32,
                expected: 0.0,
                window_days: 1,
                unit: street,
                district,
                tickets,
                status: AlertStatus::Open.as_str().into(),
                created_at: t.created_at,
                detail: serde_json::to_string(&d).ok(),
            })?;
            if let Some(id) = out.incident_alert {
                st.incidents.put(
                    key,
                    OpenIncident {
                        id,
                        last_at,
                        tickets: listed,
                        closed: false,
                    },
                );
            }
        }
    }
    Ok(out)
}
