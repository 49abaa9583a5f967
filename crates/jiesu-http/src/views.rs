//! JSON views of tickets for staff and for the citizen, with personal data masked by role.

use crate::AppState;
use chrono::{DateTime, Utc};
use jiesu_domain::auth::{can_see_personal, Actor};
use jiesu_domain::ticket::{mask_name, mask_phone};
use jiesu_domain::{Event, EventKind, TicketState};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{json, Value};

pub fn unit_name(st: &AppState, code: &str) -> Option<String> {
    st.org.get(code).map(|u| u.name.clone())
}

/// 工单 — the staff view of one ticket (`GET /api/v1/tickets/{id}`).
#[derive(Serialize, JsonSchema)]
pub struct TicketView {
    pub id: i64,
    pub number: String,
    pub status: &'static str,
    pub status_label: &'static str,
    pub channel: &'static str,
    #[serde(rename = "type")]
    pub request_type: &'static str,
    pub type_label: &'static str,
    pub category_code: String,
    /// The category's path, top level first.
    pub category_path: String,
    pub title: String,
    pub text: String,
    /// 风险标记 — the emergency marked at intake (transfer to 110 / 119 / 120 / 122).
    pub risk: Option<crate::risk::RiskView>,
    pub tier: Option<&'static str>,
    pub enterprise: bool,
    pub place: PlaceView,
    pub requester: RequesterView,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub first_dispatched_at: Option<DateTime<Utc>>,
    pub assignments: Vec<AssignmentView>,
    /// The running clocks of the active assignments, with the server's state.
    pub deadlines: Vec<DeadlineSet>,
    /// 办结单位 — the lead that finished the current round (the unit the callback is about).
    pub result_unit: Option<UnitRef>,
    /// 协办单位 of the current round.
    pub assisting_units: Vec<UnitRef>,
    pub answer: Option<String>,
    pub result_text: Option<String>,
    pub special_handling: Option<&'static str>,
    pub callbacks: Vec<jiesu_domain::state::CallbackRecord>,
    pub whistles: Vec<jiesu_domain::state::Whistle>,
    pub escalations: Vec<jiesu_domain::state::Escalation>,
    /// 转接 — transfers to 110/119/120/122 with the services' replies.
    pub transfers: Vec<jiesu_domain::state::TransferRecord>,
    /// 待转接 — the numbers the risk mark names that no transfer has gone to yet.
    pub transfers_pending: Vec<&'static str>,
    pub round: u32,
    /// 合并 — the ticket this one was merged into.
    pub merged_into: Option<TicketRef>,
    /// The tickets merged into this one.
    pub duplicates: Vec<TicketRef>,
    pub closed_at: Option<DateTime<Utc>>,
    pub version: u32,
    /// The ticket actions the caller may take now (wire names).
    pub allowed_actions: Vec<&'static str>,
}

/// A page of the ticket list (`GET /api/v1/tickets`).
#[derive(Serialize, JsonSchema)]
pub struct TicketListPage {
    /// The server's time the states and `overdue` flags were worked out at (the UI counts the
    /// time left from it).
    pub at: DateTime<Utc>,
    pub items: Vec<TicketListItem>,
    pub total: u64,
    pub page: u32,
    pub page_size: u32,
}

/// One row of the ticket list (no personal data).
#[derive(Serialize, JsonSchema)]
pub struct TicketListItem {
    pub id: i64,
    pub number: String,
    pub created_at: String,
    pub channel: String,
    #[serde(rename = "type")]
    pub request_type: String,
    pub category_code: String,
    /// The category's path, top level first.
    pub category_path: String,
    pub district_code: String,
    pub district_name: Option<String>,
    pub street_code: String,
    pub street_name: Option<String>,
    pub status: String,
    pub status_label: String,
    pub title: String,
    pub lead_unit: Option<String>,
    pub lead_unit_name: Option<String>,
    /// The lead's finish deadline (办结时限).
    pub finish_deadline: Option<String>,
    /// The lead's finish deadline has passed while the ticket is open.
    pub overdue: bool,
    /// For a unit's list (`unit` or a unit caller): the nearest running clock of its active
    /// assignment, which `sort=deadline` sorts by.
    pub next_clock: Option<NextClockView>,
}

/// 下一个时限 — the nearest running clock of a unit's active assignment: sign (签收) until signed,
/// respond (响应) until responded, else finish (办结).
#[derive(Serialize, JsonSchema)]
pub struct NextClockView {
    pub clock: ClockKind,
    /// The clock's name in Chinese (签收时限, 响应时限, 办结时限).
    pub label: &'static str,
    pub due: DateTime<Utc>,
    /// When the clock started (the assignment's dispatch).
    pub start: DateTime<Utc>,
    pub unit_code: String,
    /// The server's state of the clock now (due soon by the deadline policy's share of the span).
    pub state: ClockState,
}

/// Which of an assignment's three clocks.
#[derive(Serialize, JsonSchema, Clone, Copy, PartialEq, Eq, Debug)]
#[serde(rename_all = "snake_case")]
pub enum ClockKind {
    /// 签收
    Sign,
    /// 响应
    Respond,
    /// 办结
    Finish,
}

impl ClockKind {
    /// The wire name of the store's `NextClock::clock`.
    pub fn parse(s: &str) -> Option<ClockKind> {
        match s {
            "sign" => Some(ClockKind::Sign),
            "respond" => Some(ClockKind::Respond),
            "finish" => Some(ClockKind::Finish),
            _ => None,
        }
    }
    /// 签收时限 / 响应时限 / 办结时限.
    pub fn label_zh(self) -> &'static str {
        match self {
            ClockKind::Sign => "签收时限",
            ClockKind::Respond => "响应时限",
            ClockKind::Finish => "办结时限",
        }
    }
}

impl ClockState {
    /// The view of the routing policy's clock state.
    pub fn of(s: jiesu_routing::ClockState) -> ClockState {
        match s {
            jiesu_routing::ClockState::Running => ClockState::Running,
            jiesu_routing::ClockState::DueSoon => ClockState::DueSoon,
            jiesu_routing::ClockState::Overdue => ClockState::Overdue,
            jiesu_routing::ClockState::Met => ClockState::Met,
            jiesu_routing::ClockState::MetLate => ClockState::MetLate,
        }
    }
}

/// The view of a unit's next clock at `now`, its state by the deadline policy's due-soon rule
/// ([`jiesu_routing::DueSoon`]'s default) over its real span, dispatch → due.
pub fn next_clock_view(n: &jiesu_store::NextClock, now: DateTime<Utc>) -> Option<NextClockView> {
    let clock = ClockKind::parse(&n.clock)?;
    let due = jiesu_store::time::parse(&n.due)?;
    let start = jiesu_store::time::parse(&n.start)?;
    let state =
        jiesu_routing::clock_state(due, None, now, start, jiesu_routing::DueSoon::default());
    Some(NextClockView {
        clock,
        label: clock.label_zh(),
        due,
        start,
        unit_code: n.unit_code.clone(),
        state: ClockState::of(state),
    })
}

/// The list row of a stored summary, at `now`.
pub fn ticket_list_item(
    st: &AppState,
    t: jiesu_store::TicketSummary,
    now: DateTime<Utc>,
) -> TicketListItem {
    let open = matches!(
        t.status.as_str(),
        "dispatched" | "in_progress" | "return_review"
    );
    let overdue = t
        .finish_deadline
        .as_deref()
        .and_then(jiesu_store::time::parse)
        .is_some_and(|d| d < now && open);
    let next_clock = t.next_clock.as_ref().and_then(|n| next_clock_view(n, now));
    TicketListItem {
        id: t.id,
        status_label: jiesu_domain::Status::label_zh_of(&t.status).to_string(),
        category_path: st.categories.path_label(&t.category_code),
        lead_unit_name: t.lead_unit.as_deref().and_then(|u| unit_name(st, u)),
        street_name: unit_name(st, &t.street_code),
        district_name: unit_name(st, &t.district_code),
        overdue,
        next_clock,
        number: t.number,
        created_at: t.created_at,
        channel: t.channel,
        request_type: t.request_type,
        category_code: t.category_code,
        district_code: t.district_code,
        street_code: t.street_code,
        status: t.status,
        title: t.title,
        lead_unit: t.lead_unit,
        finish_deadline: t.finish_deadline,
    }
}

/// The logged-in user (`GET /api/v1/me`).
#[derive(Serialize, JsonSchema)]
pub struct UserView {
    pub username: String,
    pub role: String,
    pub role_label: String,
    pub unit_code: Option<String>,
    pub unit_name: Option<String>,
    /// What the user's role may use: wire names of the domain's capability table (权限表).
    pub capabilities: Vec<&'static str>,
}

/// 操作表 — every ticket action of the domain's action table (`GET /api/v1/actions`).
#[derive(Serialize, JsonSchema)]
pub struct ActionList {
    pub items: Vec<jiesu_domain::action::ActionInfo>,
}

/// 登录 — a session token for `Authorization: Bearer …`.
#[derive(Serialize, JsonSchema)]
pub struct LoginView {
    pub token: String,
    /// Seconds until the token expires.
    pub expires_in: i64,
    pub user: UserView,
}

/// The demo log-ins of a demo city.
#[derive(Serialize, JsonSchema)]
pub struct DemoInfo {
    pub demo: bool,
    pub accounts: Vec<DemoAccountView>,
}

/// One demo log-in.
#[derive(Serialize, JsonSchema)]
pub struct DemoAccountView {
    pub username: String,
    pub password: String,
    pub role: String,
    pub unit_code: Option<String>,
    pub note: String,
    pub unit_name: Option<String>,
}

/// RFC 9457 problem document (`application/problem+json`), in English and Chinese.
#[derive(Serialize, JsonSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    /// A stable machine-readable code (`invalid`, `not_found`, `unauthorized` …).
    pub code: String,
    pub detail: String,
    pub detail_zh: String,
    /// The request field at fault, if one is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// 受理 — what intake answers: the new ticket's summary (the full view is one GET away).
#[derive(Serialize, JsonSchema)]
pub struct CreatedTicket {
    pub id: i64,
    pub number: String,
    pub status: &'static str,
    pub status_label: &'static str,
    pub created_at: DateTime<Utc>,
    #[serde(rename = "type")]
    pub request_type: &'static str,
    pub channel: &'static str,
    pub category_code: String,
    pub title: String,
    pub place: CreatedPlace,
    /// Always empty at intake.
    pub assignments: Vec<AssignmentView>,
    /// Always null at intake.
    pub answer: Option<String>,
    /// The same Idempotency-Key was seen before: this is the ticket it created.
    pub replayed: bool,
    pub href: String,
    /// 查询码 — the citizen's tracking code (tell it to the caller; it is also sent by SMS).
    pub tracking_code: Option<String>,
    /// 风险标记 — signs of an emergency in the request: transfer the caller to `transfer_to`
    /// (110 / 119 / 120 / 122); null when none.
    pub risk: Option<crate::risk::RiskView>,
    /// The risk alert pushed to the ticket's street and district.
    pub risk_alert: Option<i64>,
    /// The incident (similar reports in the same place within an hour) it opened or joined.
    pub incident_alert: Option<i64>,
}

/// The place of a ticket just taken in.
#[derive(Serialize, JsonSchema)]
pub struct CreatedPlace {
    pub district_code: String,
    pub street_code: String,
}

/// 诉求地点 — where the request is about.
#[derive(Serialize, JsonSchema)]
pub struct PlaceView {
    pub district_code: String,
    pub district_name: Option<String>,
    pub street_code: String,
    pub street_name: Option<String>,
    pub community_code: Option<String>,
    pub community_name: Option<String>,
    pub address: Option<String>,
    pub lat: Option<f64>,
    pub lng: Option<f64>,
}

/// 诉求人 — the requester, masked unless the caller may see personal data.
#[derive(Serialize, JsonSchema)]
pub struct RequesterView {
    pub name: String,
    pub phone: String,
    pub masked: bool,
    /// 个人信息已删除 — when the retention period erased the name, phone and address.
    pub erased_at: Option<DateTime<Utc>>,
}

/// A unit by code and name.
#[derive(Serialize, JsonSchema)]
pub struct UnitRef {
    pub code: String,
    pub name: Option<String>,
}

/// A ticket by id and public number.
#[derive(Serialize, JsonSchema)]
pub struct TicketRef {
    pub id: i64,
    pub number: String,
}

/// 承办 — one unit's assignment on a ticket.
#[derive(Serialize, JsonSchema)]
pub struct AssignmentView {
    pub unit_code: String,
    pub unit_name: Option<String>,
    pub role: &'static str,
    pub role_label: &'static str,
    pub tier: &'static str,
    pub state: &'static str,
    pub state_label: &'static str,
    pub dispatched_at: DateTime<Utc>,
    pub deadlines: jiesu_domain::event::Deadlines,
    pub signed_at: Option<DateTime<Utc>>,
    pub responded_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// 退单 — a return waiting for the centre's decision.
    pub pending_return: Option<jiesu_domain::state::PendingReturn>,
    /// 延期 — an extension waiting for the centre's decision.
    pub pending_extension: Option<jiesu_domain::state::PendingExtension>,
    /// The centre's own deadline for deciding the pending return (审核时限).
    pub return_review_due: Option<DateTime<Utc>>,
    /// The centre's own deadline for deciding the pending extension (审核时限).
    pub extension_review_due: Option<DateTime<Utc>>,
    pub round: u32,
    pub extensions_granted: u32,
    pub paused_since: Option<DateTime<Utc>>,
    pub paused_seconds: i64,
}

/// The three clocks (sign, respond, finish) of an active assignment.
#[derive(Serialize, JsonSchema)]
pub struct DeadlineSet {
    pub unit_code: String,
    pub role: &'static str,
    pub sign: Clock,
    pub respond: Clock,
    pub finish: Clock,
}

/// One clock as the server sees it.
#[derive(Serialize, JsonSchema)]
pub struct Clock {
    pub due: DateTime<Utc>,
    pub done_at: Option<DateTime<Utc>>,
    pub state: ClockState,
}

/// Where a clock stands.
#[derive(Serialize, JsonSchema, Clone, Copy, PartialEq, Eq, Debug)]
#[serde(rename_all = "snake_case")]
pub enum ClockState {
    Running,
    DueSoon,
    Overdue,
    Met,
    MetLate,
}

/// The staff view of a ticket. Returns the view and whether personal data was shown unmasked.
pub fn ticket_view(
    st: &AppState,
    actor: &Actor,
    t: &TicketState,
    allowed: Vec<&'static str>,
) -> (TicketView, bool) {
    let i = &t.intake;
    let personal = can_see_personal(actor, t, &st.org);
    let requester = if personal {
        RequesterView {
            name: i.requester.name.clone(),
            phone: i.requester.phone.clone(),
            masked: false,
            erased_at: t.personal_data_erased,
        }
    } else {
        RequesterView {
            name: mask_name(&i.requester.name),
            phone: mask_phone(&i.requester.phone),
            masked: true,
            erased_at: t.personal_data_erased,
        }
    };
    let assignments = t
        .assignments
        .iter()
        .map(|a| AssignmentView {
            unit_code: a.unit.clone(),
            unit_name: unit_name(st, &a.unit),
            role: a.role.as_str(),
            role_label: a.role.label_zh(),
            tier: a.tier.as_str(),
            state: a.state.as_str(),
            state_label: a.state.label_zh(),
            dispatched_at: a.dispatched_at,
            deadlines: a.deadlines,
            signed_at: a.signed_at,
            responded_at: a.responded_at,
            finished_at: a.finished_at,
            pending_return: a.pending_return.clone(),
            pending_extension: a.pending_extension.clone(),
            // the centre's own deadline for deciding the request (审核时限)
            return_review_due: a.pending_return.as_ref().map(|r| {
                st.deadlines.policy.review_due(
                    jiesu_routing::ReviewKind::Return,
                    r.at,
                    &st.deadlines.calendar,
                )
            }),
            extension_review_due: a.pending_extension.as_ref().map(|x| {
                st.deadlines.policy.review_due(
                    jiesu_routing::ReviewKind::Extension,
                    x.at,
                    &st.deadlines.calendar,
                )
            }),
            round: a.round,
            extensions_granted: a.extensions_granted,
            paused_since: a.paused_since,
            paused_seconds: a.paused_seconds,
        })
        .collect();
    let deadlines = t
        .assignments
        .iter()
        .filter(|a| a.state.active())
        .map(|a| {
            let now = st.now();
            // the deadline policy's rule, as in the list's `next_clock` and the review queue
            let clock = |due: DateTime<Utc>, done: Option<DateTime<Utc>>| {
                let state = ClockState::of(jiesu_routing::clock_state(
                    due,
                    done,
                    now,
                    a.dispatched_at,
                    jiesu_routing::DueSoon::default(),
                ));
                Clock {
                    due,
                    done_at: done,
                    state,
                }
            };
            DeadlineSet {
                unit_code: a.unit.clone(),
                role: a.role.as_str(),
                sign: clock(a.deadlines.sign, a.signed_at),
                respond: clock(a.deadlines.respond, a.responded_at),
                finish: clock(a.deadlines.finish, a.finished_at),
            }
        })
        .collect();
    let place = &i.place;
    let unit_ref = |code: &str| UnitRef {
        code: code.to_string(),
        name: unit_name(st, code),
    };
    let v = TicketView {
        id: t.id,
        number: t.number.clone(),
        status: t.status.as_str(),
        status_label: t.status.label_zh(),
        channel: i.channel.as_str(),
        request_type: i.request_type.as_str(),
        type_label: i.request_type.label_zh(),
        category_code: i.category_code.clone(),
        category_path: st.categories.path_label(&i.category_code),
        title: i.title.clone(),
        text: i.text.clone(),
        risk: i.risk.as_ref().map(crate::risk::view),
        tier: i.tier.map(|x| x.as_str()),
        enterprise: i.enterprise,
        place: PlaceView {
            district_code: place.district_code.clone(),
            district_name: unit_name(st, &place.district_code),
            street_code: place.street_code.clone(),
            street_name: unit_name(st, &place.street_code),
            community_code: place.community_code.clone(),
            community_name: place
                .community_code
                .as_deref()
                .and_then(|c| unit_name(st, c)),
            address: place.address.clone(),
            lat: place.lat,
            lng: place.lng,
        },
        requester,
        created_at: t.created_at,
        created_by: t.created_by.clone(),
        first_dispatched_at: t.first_dispatched_at,
        assignments,
        deadlines,
        result_unit: t.result_unit().map(|a| unit_ref(&a.unit)),
        assisting_units: t.assisting_units().map(|a| unit_ref(&a.unit)).collect(),
        answer: t.answer.clone(),
        result_text: t.result_text.clone(),
        special_handling: t.special.map(|s| s.as_str()),
        callbacks: t.callbacks.clone(),
        whistles: t.whistles.clone(),
        escalations: t.escalations.clone(),
        transfers: t.transfers.clone(),
        transfers_pending: t.transfers_pending().iter().map(|s| s.as_str()).collect(),
        round: t.round,
        merged_into: t.merged_into.as_ref().map(|m| TicketRef {
            id: m.0,
            number: m.1.clone(),
        }),
        duplicates: t
            .duplicates
            .iter()
            .map(|d| TicketRef {
                id: d.0,
                number: d.1.clone(),
            })
            .collect(),
        closed_at: t.closed_at,
        version: t.version,
        allowed_actions: allowed,
    };
    (v, personal)
}

/// One event for staff.
pub fn event_view(st: &AppState, e: &Event, personal: bool) -> Value {
    let mut kind = serde_json::to_value(&e.kind).unwrap_or(Value::Null);
    if let EventKind::Created { .. } = e.kind {
        if !personal {
            if let Some(r) = kind.pointer_mut("/intake/requester") {
                let name = r["name"].as_str().map(mask_name).unwrap_or_default();
                let phone = r["phone"].as_str().map(mask_phone).unwrap_or_default();
                *r = json!({"name": name, "phone": phone, "masked": true});
            }
        }
    }
    let mut v = json!({
        "seq": e.seq, "at": e.at, "label_zh": e.kind.label_zh(),
        "actor": {"user": e.actor.user, "role": e.actor.role.as_str(),
                   "unit": e.actor.unit, "unit_name": e.actor.unit.as_deref().and_then(|u| unit_name(st, u))},
        "public": e.kind.public(),
    });
    if let (Value::Object(m), Value::Object(k)) = (&mut v, kind) {
        for (key, val) in k {
            m.insert(key, val);
        }
    }
    v
}

/// The citizen's timeline entry: public events only, no personal data, no internal reasons.
pub fn public_event(st: &AppState, e: &Event) -> Option<Value> {
    if !e.kind.public() {
        return None;
    }
    let (text, unit): (Option<String>, Option<String>) = match &e.kind {
        EventKind::Created { .. } => (Some("您的诉求已受理".into()), None),
        EventKind::AnsweredDirectly { answer, .. } => (Some(answer.clone()), None),
        EventKind::SpecialHandled { note, .. } => (Some(note.clone()), None),
        EventKind::Dispatched { assignments, .. } => (
            Some("已转交承办单位办理".into()),
            Some(
                assignments
                    .iter()
                    .filter_map(|a| unit_name(st, &a.unit))
                    .collect::<Vec<_>>()
                    .join("、"),
            ),
        ),
        EventKind::Signed { unit } => (Some("承办单位已签收".into()), unit_name(st, unit)),
        EventKind::Responded { unit, .. } => {
            (Some("承办单位已与您联系".into()), unit_name(st, unit))
        }
        EventKind::NoteAdded { text, unit, .. } => (
            Some(text.clone()),
            unit.as_deref().and_then(|u| unit_name(st, u)),
        ),
        EventKind::ResultSubmitted { unit, text, .. } => (Some(text.clone()), unit_name(st, unit)),
        EventKind::CallbackRecorded { .. } => (Some("热线中心已回访".into()), None),
        EventKind::Reopened { .. } => (Some("您的诉求已重新交办".into()), None),
        EventKind::MergedInto { primary_number, .. } => (
            Some(format!("已与同一问题的诉求 {primary_number} 合并办理")),
            None,
        ),
        EventKind::Closed { .. } => (Some("诉求已办结".into()), None),
        EventKind::Archived {} => (None, None),
        _ => (None, None),
    };
    Some(
        json!({"at": e.at, "kind": e.kind.name(), "label_zh": e.kind.label_zh(), "text": text, "unit_name": unit}),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    #[test]
    fn a_next_clock_is_due_soon_only_in_the_last_fifth_of_its_span() {
        let start = Utc.with_ymd_and_hms(2026, 5, 1, 2, 0, 0).unwrap();
        let n = jiesu_store::NextClock {
            clock: "sign".into(),
            due: jiesu_store::time::fmt(start + Duration::minutes(100)),
            start: jiesu_store::time::fmt(start),
            unit_code: "110105001".into(),
        };
        let at = |m: i64| next_clock_view(&n, start + Duration::minutes(m)).unwrap();
        assert_eq!(at(0).state, ClockState::Running);
        assert_eq!(at(79).state, ClockState::Running);
        assert_eq!(at(80).state, ClockState::DueSoon);
        assert_eq!(at(100).state, ClockState::DueSoon);
        assert_eq!(at(101).state, ClockState::Overdue);
        assert_eq!(at(0).clock, ClockKind::Sign);
        assert_eq!(at(0).label, "签收时限");
        assert_eq!(at(0).start, start);
    }
}
