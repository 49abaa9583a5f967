//! The OpenAPI 3.1 document, generated from one route table. Written by hand rather than with
//! utoipa: the request bodies are the domain's types, and deriving schemas would put an HTTP
//! library into the IO-free domain crate; a table also feeds the authorization-matrix test.

use axum::Json;
use serde_json::{json, Map, Value};

/// (method, path, summary, needs a token, request schema)
pub const ROUTES: &[(&str, &str, &str, bool, Option<&str>)] = &[
    ("post", "/api/v1/session", "Log in: returns a bearer token", false, Some("Login")),
    ("get", "/api/v1/me", "The logged-in user", true, None),
    ("get", "/api/v1/demo", "Demo accounts (demo cities only)", false, None),
    ("get", "/api/v1/units", "Units (filter by kind, parent, q)", false, None),
    ("get", "/api/v1/categories", "The three-level category tree", false, None),
    ("get", "/api/v1/categories/search", "Categories matching the citizen's word or a synonym (q, limit), leaves first, by match then use in the last 30 days; without q the most used leaves", false, None),
    ("get", "/api/v1/enums", "Every enumeration with Chinese and English labels", false, None),
    ("post", "/api/v1/tickets", "Take in a request (Idempotency-Key header supported)", true, Some("NewTicket")),
    ("get", "/api/v1/tickets", "List tickets: unit, mine, status, category, district, street, from, to, overdue, sort=deadline, page, page_size", true, None),
    ("get", "/api/v1/tickets/{id}", "One ticket with assignments, deadlines and allowed actions", true, None),
    ("get", "/api/v1/tickets/{id}/events", "The ticket's event log", true, None),
    ("get", "/api/v1/track/{number}", "Citizen tracking by number and phone_last4 (public)", false, None),
    ("post", "/api/v1/public/tickets", "A citizen files a request (public)", false, Some("NewTicket")),
    ("get", "/api/v1/scores/{period}/{level}", "Monthly scorecard (三率) of a level: format=json|csv|xlsx (public)", false, None),
    ("get", "/api/v1/scores/{period}/units/{code}/tickets", "Drill-down: the assignments behind one figure (measure, level, scope=unit|industry, page, page_size, format=json|csv); their number is the figure (public, no personal data)", false, None),
    ("get", "/api/v1/scores/{period}/{level}/tickets", "Drill-down of the level's totals: every assignment a unit of the level counts for the measure (public)", false, None),
    ("get", "/api/v1/callbacks/due", "Callback desk queue with unreachable attempts", true, None),
    ("post", "/api/v1/tickets/{id}/rating-link", "A one-time self-rating link for the citizen (7 days)", true, None),
    ("get", "/api/v1/public/rate/{token}", "What the self-rating link asks about (public)", false, None),
    ("post", "/api/v1/public/rate/{token}", "The citizen's own rating through the link (public)", false, Some("Rating")),
    ("get", "/api/v1/callbacks/recheck-sample", "Reproducible sample of called-back tickets to re-check (from, to, n)", true, None),
    ("post", "/api/v1/callbacks/rechecks", "Record a re-check of a ticket's callback: agree, or disagree with a note", true, Some("Recheck")),
    ("get", "/api/v1/callbacks/rechecks", "Re-checks recorded in [from, to)", true, None),
    ("get", "/api/v1/callbacks/unresolved", "Tickets called back as unresolved, waiting for reopen (重办) or close", true, None),
    ("post", "/api/v1/classify", "Top-3 types and categories with confidence and driver words; up to three responsible units (rules first, then the model)", true, None),
    ("get", "/api/v1/classify/model", "The classifier in use: version, trained_at, examples, corrections", true, None),
    ("post", "/api/v1/classify/feedback", "The classifier's top suggestion at intake (an overridden one becomes a corrected example)", true, None),
    ("post", "/api/v1/duplicates/candidates", "Duplicate candidates for a request being taken in (draft text and place, before the ticket exists); same engine and thresholds as a ticket's duplicates", true, Some("DuplicateDraft")),
    ("get", "/api/v1/kb/search", "Knowledge-base search with highlighting (published articles valid today)", true, None),
    ("get", "/api/v1/kb/articles", "Knowledge-base articles: every article's newest version (status, q)", true, None),
    ("post", "/api/v1/kb/articles", "A new knowledge-base article (draft)", true, None),
    ("get", "/api/v1/kb/articles/{id}", "The published version of an article", true, None),
    ("put", "/api/v1/kb/articles/{id}", "Edit an article (the draft, or a new version)", true, None),
    ("get", "/api/v1/kb/articles/{id}/versions", "Every version of an article with author and reviewer", true, None),
    ("post", "/api/v1/kb/articles/{id}/{step}", "submit, approve {note?}, reject {note}, retire (reviewers: not the author)", true, None),
    ("get", "/api/v1/kb/usage", "Direct-answer rate and answers per article in [from, to)", true, None),
    ("get", "/api/v1/kb/stats", "The virtual agent's stored sessions and one-shot resolution rate in [from, to)", true, None),
    ("post", "/api/v1/public/ask", "The virtual agent answers from the knowledge base or hands over (public)", false, None),
    ("get", "/api/v1/overview", "Overview for supervisors, leaders and dispatchers: today's intake, open by status, overdue, pending reviews, alerts, each with its #/tickets filter (a unit manager: own units)", true, None),
    ("post", "/api/v1/public/ask/{session}/ticket", "The request filed from a virtual-agent session's hand-over (public)", false, None),
];

fn schemas() -> Value {
    let s = |t: &str| json!({"type": t});
    json!({
        "DuplicateDraft": {"type": "object", "required": ["text"], "properties": {
            "title": {"type": "string", "maxLength": 200}, "text": {"type": "string", "maxLength": 4000},
            "category_code": s("string"), "district_code": s("string"), "street_code": s("string"),
            "community_code": s("string"), "phone": s("string")}},
        "Login": {"type": "object", "required": ["username", "password"],
                  "properties": {"username": s("string"), "password": s("string")}},
        "NewTicket": {"type": "object",
            "required": ["type", "category_code", "title", "text", "district_code", "street_code", "requester"],
            "properties": {
                "channel": {"type": "string", "enum": ["phone","web","wechat","app","weibo","message_board","grid","partner_hotline"]},
                "type": {"type": "string", "enum": ["consultation","help","complaint","report","suggestion","praise"]},
                "category_code": s("string"), "title": {"type": "string", "maxLength": 200},
                "text": {"type": "string", "maxLength": 4000},
                "district_code": s("string"), "street_code": s("string"), "community_code": s("string"),
                "address": s("string"), "lat": s("number"), "lng": s("number"), "enterprise": s("boolean"),
                "tier": {"type": "string", "enum": ["2h","24h","7d","15d"]},
                "requester": {"type": "object", "required": ["name","phone"],
                              "properties": {"name": s("string"), "phone": s("string")}}}},
        "Dispatch": {"type": "object", "required": ["assignments"], "properties": {
            "assignments": {"type": "array", "items": {"type": "object", "required": ["unit_code","role"],
                "properties": {"unit_code": s("string"), "role": {"type": "string", "enum": ["lead","assist"]}}}},
            "tier": s("string"), "note": s("string")}},
        "Callback": {"type": "object", "properties": {
            "contacted": s("boolean"), "resolution": {"type": "string", "enum": ["resolved","partly","unresolved"]},
            "satisfaction": {"type": "string", "enum": ["satisfied","basic","unsatisfied"]},
            "attitude": s("string"), "comment": s("string"), "unreachable": s("boolean"), "note": s("string")}},
        "Rating": {"type": "object", "required": ["contacted", "resolution", "satisfaction"], "properties": {
            "contacted": s("boolean"), "resolution": {"type": "string", "enum": ["resolved","partly","unresolved"]},
            "satisfaction": {"type": "string", "enum": ["satisfied","basic","unsatisfied"]}, "comment": s("string")}},
        "Recheck": {"type": "object", "required": ["ticket_id", "verdict"], "properties": {
            "ticket_id": s("integer"), "verdict": {"type": "string", "enum": ["agree","disagree"]},
            "note": {"type": "string", "maxLength": 2000}}},
        "Problem": {"type": "object", "properties": {"type": s("string"), "title": s("string"), "status": s("integer"),
            "detail": s("string"), "detail_zh": s("string"), "field": s("string"), "code": s("string")}},
    })
}

fn op(summary: &str, auth: bool, req: Option<&str>) -> Value {
    let mut o = json!({
        "summary": summary,
        "responses": {
            "200": {"description": "OK"},
            "4XX": {"description": "Problem", "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}
        }
    });
    if auth {
        o["security"] = json!([{"bearer": []}]);
    }
    if let Some(r) = req {
        o["requestBody"] = json!({"required": true, "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{r}")}}}});
    }
    o
}

pub fn build() -> Value {
    let mut paths = Map::new();
    for (method, path, summary, auth, req) in ROUTES {
        let entry = paths.entry(path.to_string()).or_insert_with(|| json!({}));
        entry[*method] = op(summary, *auth, *req);
    }
    let actions: Vec<&str> = jiesu_domain::Action::ALL.iter().map(|a| a.wire()).collect();
    for a in &actions {
        let req = match *a {
            "dispatch" => Some("Dispatch"),
            "callback" => Some("Callback"),
            _ => None,
        };
        let mut o = op(
            &format!(
                "Ticket action `{a}` ({})",
                jiesu_domain::command::action_label_zh(a)
            ),
            true,
            req,
        );
        if req.is_none() {
            o["requestBody"] =
                json!({"content": {"application/json": {"schema": {"type": "object"}}}});
        }
        paths.insert(format!("/api/v1/tickets/{{id}}/{a}"), json!({"post": o}));
    }
    json!({
        "openapi": "3.1.0",
        "info": {"title": "Jiesu 接诉 API", "version": env!("CARGO_PKG_VERSION"),
                 "description": "12345 citizen-service hotline platform. Errors are application/problem+json."},
        "paths": paths,
        "components": {"schemas": schemas(),
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    })
}

pub async fn document() -> Json<Value> {
    Json(build())
}
