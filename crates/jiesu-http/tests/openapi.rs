//! The OpenAPI document and the router come from one route table: every served path and method
//! is documented with all its path parameters, every documented operation reaches a handler, and
//! the committed `web/openapi.json` is what the server serves.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use jiesu_http::{openapi_document, openapi_text, router, served_routes, AppState};
use jiesu_store::prelude::*;
use jiesu_store::SqliteStore;
use serde_json::Value;
use std::sync::Arc;
use tower::ServiceExt;

fn param_names(path: &str) -> Vec<&str> {
    path.split('/')
        .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .collect()
}

/// Does a documented path (an expanded `{action}` written out) fall under a served pattern?
fn matches(pattern: &str, path: &str) -> bool {
    let (p, q): (Vec<&str>, Vec<&str>) = (pattern.split('/').collect(), path.split('/').collect());
    p.len() == q.len()
        && p.iter()
            .zip(&q)
            .all(|(a, b)| a == b || (a.starts_with('{') && a.ends_with('}')))
}

fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            out.push((method.clone(), path.clone(), op.clone()));
        }
    }
    out
}

#[test]
fn every_served_route_and_method_is_documented() {
    let doc = openapi_document();
    let ops = operations(&doc);
    for (method, pattern) in served_routes() {
        assert!(
            ops.iter()
                .any(|(m, p, _)| m == method && matches(&pattern, p)),
            "{} {pattern} is served but not in the OpenAPI document",
            method.to_uppercase()
        );
    }
    for (m, p, _) in &ops {
        assert!(
            served_routes()
                .iter()
                .any(|(sm, sp)| sm == m && matches(sp, p)),
            "{} {p} is documented but not served",
            m.to_uppercase()
        );
    }
    for p in [
        "/healthz",
        "/api/openapi.json",
        "/api/v1/catalogue",
        "/api/v1/catalogue/lint",
        "/api/v1/catalogue/import",
        "/api/v1/supervision/overdue",
        "/api/v1/supervision/reviews",
        "/api/v1/supervision/escalations",
        "/api/v1/inbox",
        "/api/v1/praise",
        "/api/v1/tickets/{id}/duplicates",
        "/api/v1/tickets/{id}/route",
        "/api/v1/tickets/{id}/attachments/{att}",
        "/api/v1/tickets/{id}/dispatch",
        "/api/v1/scores/{period}/{level}",
    ] {
        assert!(
            doc["paths"][p].is_object(),
            "{p} is missing from the document"
        );
    }
}

#[test]
fn every_operation_declares_each_of_its_path_parameters() {
    let doc = openapi_document();
    for (m, p, op) in operations(&doc) {
        let declared: Vec<&Value> = op["parameters"]
            .as_array()
            .map(|a| a.iter().filter(|x| x["in"] == "path").collect())
            .unwrap_or_default();
        let names = param_names(&p);
        assert_eq!(
            declared.len(),
            names.len(),
            "{m} {p} declares {} path parameters, its path has {}",
            declared.len(),
            names.len()
        );
        for n in names {
            let d = declared
                .iter()
                .find(|x| x["name"] == n)
                .unwrap_or_else(|| panic!("{m} {p} does not declare its path parameter {n}"));
            assert_eq!(d["required"], true, "{m} {p}: {n} must be required");
            let ty = d["schema"]["type"].as_str().unwrap_or("");
            assert!(
                ty == "integer" || ty == "string",
                "{m} {p}: {n} has no schema type"
            );
            assert!(
                d["description"].is_string(),
                "{m} {p}: {n} has no description"
            );
        }
    }
}

#[test]
fn every_schema_reference_resolves() {
    let doc = openapi_document();
    let text = doc.to_string();
    let schemas = doc["components"]["schemas"].as_object().expect("schemas");
    for part in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
        let name = &part[..part.find('"').expect("closing quote")];
        assert!(schemas.contains_key(name), "unresolved $ref to {name}");
    }
    assert!(schemas.contains_key("TicketView"));
    assert!(schemas.contains_key("Problem"));
}

fn state() -> (tempfile::TempDir, AppState) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("o.db")).unwrap();
    store
        .replace_reference(
            &jiesu_refdata::units(),
            jiesu_refdata::category_tree().all(),
        )
        .unwrap();
    let st = AppState::load(Arc::new(store)).unwrap();
    (dir, st)
}

#[tokio::test]
async fn every_documented_operation_reaches_a_handler() {
    let (_dir, st) = state();
    let app = router(st);
    for (m, p, _) in operations(&openapi_document()) {
        let uri: String = p
            .split('/')
            .map(|s| match s {
                "{id}" => "1",
                "{period}" => "2026-01",
                "{level}" => "street",
                s if s.starts_with('{') => "x",
                s => s,
            })
            .collect::<Vec<_>>()
            .join("/");
        let method = Method::from_bytes(m.to_uppercase().as_bytes()).unwrap();
        let req = Request::builder()
            .method(method)
            .uri(&uri)
            .header("content-type", "application/json")
            .body(Body::from("{}"))
            .unwrap();
        let res = app.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let body = res.into_body().collect().await.unwrap().to_bytes();
        let problem: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        assert_ne!(
            status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{m} {uri}: the router does not serve this method"
        );
        assert_ne!(
            problem["code"], "no_route",
            "{m} {uri}: the router has no such route"
        );
    }
}

#[test]
fn the_committed_document_is_what_the_server_serves() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../web/openapi.json");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == openapi_text(),
        "web/openapi.json is not the API's document: regenerate it with \
         `cargo run -p jiesu-cli -- openapi > web/openapi.json` (then `npm run build` in web/ \
         regenerates the TypeScript types)"
    );
}
