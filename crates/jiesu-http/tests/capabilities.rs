//! The capability table over HTTP: `/me` serves each role's capabilities, and every route that
//! needs one answers 403 problem+json to a role without it and lets a role with it through.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::{TimeZone, Utc};
use http_body_util::BodyExt;
use jiesu_domain::capability::Capability;
use jiesu_domain::Role;
use jiesu_http::AppState;
use jiesu_store::prelude::*;
use jiesu_store::SqliteStore;
use serde_json::{json, Value};
use std::sync::Arc;
use tower::ServiceExt;

/// A user per staff role (unit roles in a street of Haidian).
const USERS: &[(&str, Role, Option<&str>)] = &[
    ("agent1", Role::Agent, None),
    ("disp1", Role::Dispatcher, None),
    ("hand1", Role::UnitHandler, Some("110108010")),
    ("mgr1", Role::UnitManager, Some("110108010")),
    ("cb1", Role::CallbackAgent, None),
    ("sup1", Role::Supervisor, None),
    ("admin1", Role::Admin, None),
    ("grid1", Role::GridWorker, None),
];

fn app(dir: &std::path::Path) -> axum::Router {
    let store = SqliteStore::open(dir.join("caps.db")).unwrap();
    store
        .replace_reference(
            &jiesu_refdata::units(),
            jiesu_refdata::category_tree().all(),
        )
        .unwrap();
    let now = Utc.with_ymd_and_hms(2026, 3, 2, 1, 0, 0).unwrap();
    let hash = jiesu_http::auth::hash_password("pw-123456").unwrap();
    for (name, role, unit) in USERS {
        store
            .add_user(name, &hash, role.as_str(), *unit, now)
            .unwrap();
    }
    let st = AppState::load_with_clock(Arc::new(store), Arc::new(move || now)).unwrap();
    jiesu_http::router(st)
}

async fn call(
    app: &axum::Router,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, String, Value) {
    let mut req = Request::builder().method(method).uri(path);
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    let req = match body {
        Some(b) => req
            .header("content-type", "application/json")
            .body(Body::from(b.to_string())),
        None => req.body(Body::empty()),
    }
    .unwrap();
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let ctype = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    let v = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, ctype, v)
}

async fn login(app: &axum::Router, name: &str) -> String {
    let (st, _, v) = call(
        app,
        "POST",
        "/api/v1/session",
        None,
        Some(json!({"username": name, "password": "pw-123456"})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{name}: {v}");
    v["token"].as_str().unwrap().to_string()
}

/// A valid staff intake (the body is parsed before the route checks the caller).
fn intake() -> Value {
    let cat = jiesu_refdata::category_tree()
        .leaves()
        .next()
        .unwrap()
        .code
        .clone();
    json!({"channel": "phone", "type": "complaint", "category_code": cat, "title": "路灯不亮",
        "text": "学院路街道某小区门口路灯连续一周不亮。", "district_code": "110108",
        "street_code": "110108010", "requester": {"name": "李女士", "phone": "13900001111"}})
}

/// A request that needs the capability, and whether a role with it gets 2xx (`true`) or only
/// gets past the check (some other answer than 403, e.g. 404 for a ticket that does not exist).
fn probe(cap: Capability) -> Option<(&'static str, &'static str, Option<Value>, bool)> {
    use Capability::*;
    Some(match cap {
        TicketsRead => ("GET", "/api/v1/tickets", None, true),
        Intake => ("POST", "/api/v1/tickets", Some(intake()), true),
        Classify => ("GET", "/api/v1/classify/model", None, true),
        Duplicates => (
            "POST",
            "/api/v1/duplicates/candidates",
            Some(json!({"title": "", "text": ""})),
            true,
        ),
        RouteSuggest => ("GET", "/api/v1/tickets/999999/route", None, false),
        CatalogueView => ("GET", "/api/v1/catalogue", None, true),
        CatalogueEdit => ("POST", "/api/v1/catalogue/import", None, false),
        CataloguePublish => (
            "POST",
            "/api/v1/catalogue/drafts/999999/publish",
            None,
            false,
        ),
        SupervisionView => ("GET", "/api/v1/supervision/overdue", None, true),
        RemindBulk => ("POST", "/api/v1/supervision/remind", Some(json!({})), false),
        ReviewQueue => ("GET", "/api/v1/supervision/reviews", None, true),
        DispatchAccuracy => ("GET", "/api/v1/supervision/dispatch-accuracy", None, true),
        Overview => ("GET", "/api/v1/overview", None, true),
        CallbackDesk => ("GET", "/api/v1/callbacks/due", None, true),
        CallbackUnresolved => ("GET", "/api/v1/callbacks/unresolved", None, true),
        Recheck => (
            "GET",
            "/api/v1/callbacks/rechecks?from=2026-02-01&to=2026-03-01",
            None,
            true,
        ),
        UnitDesk => ("GET", "/api/v1/inbox", None, true),
        KbRead => ("GET", "/api/v1/kb/search?q=%E5%99%AA%E9%9F%B3", None, true),
        KbEdit => ("GET", "/api/v1/kb/articles", None, true),
        KbReview => ("POST", "/api/v1/kb/articles/no-such/approve", None, false),
        KbStats => ("GET", "/api/v1/kb/stats", None, true),
        PhoneSearch => ("GET", "/api/v1/tickets?phone=13900001111", None, true),
        Analytics => ("GET", "/api/v1/analytics/dimensions", None, true),
        ReportTemplates => (
            "PUT",
            "/api/v1/analytics/report-templates/no-such-kind",
            Some(json!({})),
            false,
        ),
        Alerts => ("GET", "/api/v1/alerts", None, true),
        GridReport => (
            "POST",
            "/api/v1/grid/reports/999999/photos?name=a.jpg",
            None,
            false,
        ),
        ApiKeys => ("GET", "/api/v1/admin/dept-keys", None, true),
        LegacyImport => ("GET", "/api/v1/admin/imports/examples", None, true),
        DeptWebhooks => ("GET", "/api/v1/webhooks", None, true),
        DeptExports => ("GET", "/api/v1/exports", None, true),
        MonthlyView => ("GET", "/api/v1/governance/monthly/topics", None, true),
        MonthlyCandidates => ("GET", "/api/v1/governance/monthly/candidates", None, true),
        MonthlyEdit => (
            "PUT",
            "/api/v1/governance/monthly/topics/999999",
            Some(json!({})),
            false,
        ),
        // no such topic: 404 for those who may set a task's status, 403 for the others
        MonthlyTaskUpdate => (
            "PUT",
            "/api/v1/governance/monthly/topics/999999/tasks/1",
            Some(json!({"version": 1, "status": "done"})),
            false,
        ),
        StreetWork => (
            "GET",
            "/api/v1/governance/street-work/110108010",
            None,
            true,
        ),
        // a street that does not exist: 404 for those who may file, 403 for the others
        StreetInterview => (
            "POST",
            "/api/v1/governance/street-work/000/interviews",
            Some(json!({"held_on": "2026-03-01", "attendees": ["区委书记"], "findings": "x"})),
            false,
        ),
        ReplyAudit => ("GET", "/api/v1/audit/replies", None, true),
        GovernancePolicies => ("GET", "/api/v1/governance/policies/streets", None, true),
        // no HTTP route yet (the CLI manages users and reference data)
        UsersManage | ReferenceManage => return None,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_role_sees_its_capabilities_in_me_and_the_routes_enforce_them() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path());
    for (name, role, unit) in USERS {
        let token = login(&app, name).await;
        let (st, _, me) = call(&app, "GET", "/api/v1/me", Some(&token), None).await;
        assert_eq!(st, StatusCode::OK);
        let want: Vec<&str> = Capability::of(*role).iter().map(|c| c.as_str()).collect();
        assert_eq!(me["capabilities"], json!(want), "{name}");
        assert_eq!(me["username"], *name);
        assert_eq!(me["role"], role.as_str());
        assert_eq!(me["role_label"], role.label_zh());
        assert_eq!(me["unit_code"], json!(unit));
        for cap in Capability::ALL {
            let Some((method, path, body, ok)) = probe(*cap) else {
                continue;
            };
            let (st, ctype, v) = call(&app, method, path, Some(&token), body).await;
            if cap.granted_to(*role) {
                assert_ne!(st, StatusCode::FORBIDDEN, "{name} has {cap}: {v}");
                if ok {
                    assert!(
                        st.is_success(),
                        "{name} has {cap}: {method} {path} → {st} {v}"
                    );
                }
            } else {
                assert_eq!(st, StatusCode::FORBIDDEN, "{name} lacks {cap}: {v}");
                assert_eq!(ctype, "application/problem+json");
                assert_eq!(v["code"], "forbidden");
                let zh = v["detail_zh"].as_str().unwrap();
                // the phone search is a ticket list: a role that may not list tickets (the grid
                // worker) is refused that first
                let refused = if *cap == Capability::PhoneSearch
                    && !Capability::TicketsRead.granted_to(*role)
                {
                    Capability::TicketsRead
                } else {
                    *cap
                };
                assert!(
                    zh.contains(refused.label_zh()) && zh.contains(role.label_zh()),
                    "{zh}"
                );
                assert!(v["detail"].as_str().unwrap().contains(refused.as_str()));
            }
        }
    }
}

/// Where the old role lists disagreed: an admin, who may take requests in and check a draft for
/// duplicates, may also look up an existing ticket's duplicates; the centre's staff have no unit
/// inbox (403 rather than an empty list).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_may_look_up_duplicates_and_the_centre_has_no_unit_inbox() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path());
    let admin = login(&app, "admin1").await;
    let (st, _, _) = call(
        &app,
        "GET",
        "/api/v1/tickets/999999/duplicates",
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND, "past the check: no such ticket");
    let sup = login(&app, "sup1").await;
    let (st, _, _) = call(&app, "GET", "/api/v1/inbox", Some(&sup), None).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let hand = login(&app, "hand1").await;
    let (st, _, v) = call(&app, "GET", "/api/v1/inbox", Some(&hand), None).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(v["items"], json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn me_without_a_session_is_401() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path());
    let (st, ctype, _) = call(&app, "GET", "/api/v1/me", None, None).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    assert_eq!(ctype, "application/problem+json");
}
