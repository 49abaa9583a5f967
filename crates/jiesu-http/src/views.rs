//! JSON views of tickets for staff and for the citizen, with personal data masked by role.

use crate::AppState;
use jiesu_domain::auth::{can_see_personal, Actor};
use jiesu_domain::ticket::{mask_name, mask_phone};
use jiesu_domain::{Event, EventKind, TicketState};
use serde_json::{json, Value};

pub fn unit_name(st: &AppState, code: &str) -> Option<String> {
    st.org.get(code).map(|u| u.name.clone())
}

/// The staff view of a ticket. Returns the view and whether personal data was shown unmasked.
pub fn ticket_view(
    st: &AppState,
    actor: &Actor,
    t: &TicketState,
    allowed: Vec<&'static str>,
) -> (Value, bool) {
    let i = &t.intake;
    let personal = can_see_personal(actor, t, &st.org);
    let requester = if personal {
        json!({"name": i.requester.name, "phone": i.requester.phone, "masked": false})
    } else {
        json!({"name": mask_name(&i.requester.name), "phone": mask_phone(&i.requester.phone), "masked": true})
    };
    let assignments: Vec<Value> = t
        .assignments
        .iter()
        .map(|a| {
            json!({
                "unit_code": a.unit, "unit_name": unit_name(st, &a.unit),
                "role": a.role.as_str(), "role_label": a.role.label_zh(),
                "tier": a.tier.as_str(), "state": a.state.as_str(), "state_label": a.state.label_zh(),
                "dispatched_at": a.dispatched_at, "deadlines": a.deadlines,
                "signed_at": a.signed_at, "responded_at": a.responded_at, "finished_at": a.finished_at,
                "pending_return": a.pending_return, "pending_extension": a.pending_extension,
                // the centre's own deadline for deciding the request (审核时限)
                "return_review_due": a.pending_return.as_ref().map(|r| st.deadlines.policy.review_due(jiesu_routing::ReviewKind::Return, r.at, &st.deadlines.calendar)),
                "extension_review_due": a.pending_extension.as_ref().map(|x| st.deadlines.policy.review_due(jiesu_routing::ReviewKind::Extension, x.at, &st.deadlines.calendar)),
                "round": a.round, "extensions_granted": a.extensions_granted,
                "paused_since": a.paused_since, "paused_seconds": a.paused_seconds,
            })
        })
        .collect();
    let deadlines: Vec<Value> = t
        .assignments
        .iter()
        .filter(|a| a.state.active())
        .map(|a| {
            let now = st.now();
            let clock = |due: chrono::DateTime<chrono::Utc>,
                         done: Option<chrono::DateTime<chrono::Utc>>| {
                let state = match done {
                    Some(d) if d <= due => "met",
                    Some(_) => "met_late",
                    None if now > due => "overdue",
                    None if due - now < (due - a.dispatched_at) / 5 => "due_soon",
                    None => "running",
                };
                json!({"due": due, "done_at": done, "state": state})
            };
            json!({
                "unit_code": a.unit, "role": a.role.as_str(),
                "sign": clock(a.deadlines.sign, a.signed_at),
                "respond": clock(a.deadlines.respond, a.responded_at),
                "finish": clock(a.deadlines.finish, a.finished_at),
            })
        })
        .collect();
    let place = &i.place;
    let v = json!({
        "id": t.id, "number": t.number, "status": t.status.as_str(), "status_label": t.status.label_zh(),
        "channel": i.channel.as_str(), "type": i.request_type.as_str(), "type_label": i.request_type.label_zh(),
        "category_code": i.category_code, "category_path": st.categories.path_label(&i.category_code),
        "title": i.title, "text": i.text, "tier": i.tier.map(|x| x.as_str()),
        "enterprise": i.enterprise,
        "place": {
            "district_code": place.district_code, "district_name": unit_name(st, &place.district_code),
            "street_code": place.street_code, "street_name": unit_name(st, &place.street_code),
            "community_code": place.community_code,
            "community_name": place.community_code.as_deref().and_then(|c| unit_name(st, c)),
            "address": place.address, "lat": place.lat, "lng": place.lng,
        },
        "requester": requester,
        "created_at": t.created_at, "created_by": t.created_by,
        "first_dispatched_at": t.first_dispatched_at,
        "assignments": assignments, "deadlines": deadlines,
        "result_unit": t.result_unit().map(|a| json!({"code": a.unit, "name": unit_name(st, &a.unit)})),
        "assisting_units": t.assisting_units().map(|a| json!({"code": a.unit, "name": unit_name(st, &a.unit)})).collect::<Vec<_>>(),
        "answer": t.answer, "result_text": t.result_text, "special_handling": t.special.map(|s| s.as_str()),
        "callbacks": t.callbacks, "whistles": t.whistles, "escalations": t.escalations,
        "round": t.round,
        "merged_into": t.merged_into.as_ref().map(|m| json!({"id": m.0, "number": m.1})),
        "duplicates": t.duplicates.iter().map(|d| json!({"id": d.0, "number": d.1})).collect::<Vec<_>>(),
        "closed_at": t.closed_at, "version": t.version,
        "allowed_actions": allowed,
    });
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
