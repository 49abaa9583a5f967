//! The OpenAPI 3.1 document, built from the router's own table (`crate::api()`): every served
//! route is an operation, its path parameters come from the path's `{…}` segments, and request
//! and response bodies are JSON Schemas derived (schemars) from the Rust types the handlers
//! read and answer. `jiesu openapi` prints the same document; `web/openapi.json` is its committed
//! copy, from which the UI's TypeScript types are generated.

use crate::route_table::{doc, path_params, Doc, Operation};
use axum::Json;
use schemars::generate::{Contract, SchemaSettings};
use schemars::SchemaGenerator;
use serde_json::{json, Map, Value};
use std::sync::OnceLock;

/// The ticket actions (`POST /api/v1/tickets/{id}/{action}`): wire name and Chinese label.
/// The one place the document reads the action list from.
pub fn ticket_actions() -> Vec<(&'static str, &'static str)> {
    crate::actions::ACTIONS
        .iter()
        .map(|a| (*a, jiesu_domain::command::action_label_zh(a)))
        .collect()
}

/// One documented operation per ticket action.
pub fn ticket_action_docs() -> Vec<(String, Doc)> {
    ticket_actions()
        .into_iter()
        .map(|(a, label)| {
            let d =
                doc(format!("Ticket action `{a}` ({label})")).returns::<crate::views::TicketView>();
            let d = match a {
                "dispatch" => d.body::<bodies::Dispatch>(),
                "callback" => d.body::<bodies::Callback>(),
                _ => d.body::<bodies::ActionBody>(),
            };
            (format!("/api/v1/tickets/{{id}}/{a}"), d)
        })
        .collect()
}

/// Request bodies of ticket actions, as the document describes them (the handler reads them in
/// `actions.rs`).
#[allow(dead_code)]
pub mod bodies {
    use schemars::JsonSchema;

    /// 派单 — dispatch to one lead and any assisting units.
    #[derive(JsonSchema)]
    pub struct Dispatch {
        pub assignments: Vec<DispatchTo>,
        pub tier: Option<String>,
        pub note: Option<String>,
    }

    /// One unit of a dispatch.
    #[derive(JsonSchema)]
    pub struct DispatchTo {
        pub unit_code: String,
        pub role: DispatchRole,
    }

    /// 主办 or 协办.
    #[derive(JsonSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum DispatchRole {
        Lead,
        Assist,
    }

    /// 回访 — the callback's answers, or an unreachable attempt.
    #[derive(JsonSchema)]
    pub struct Callback {
        pub contacted: Option<bool>,
        pub resolution: Option<Resolution>,
        pub satisfaction: Option<Satisfaction>,
        pub attitude: Option<String>,
        pub comment: Option<String>,
        pub unreachable: Option<bool>,
        pub note: Option<String>,
    }

    /// 解决情况.
    #[derive(JsonSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum Resolution {
        Resolved,
        Partly,
        Unresolved,
    }

    /// 满意度.
    #[derive(JsonSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum Satisfaction {
        Satisfied,
        Basic,
        Unsatisfied,
    }

    /// The action's fields (see the action in the UI's forms).
    #[derive(JsonSchema)]
    #[schemars(extend("additionalProperties" = true))]
    pub struct ActionBody {}
}

fn generator(contract: Contract) -> SchemaGenerator {
    let mut s = SchemaSettings::draft2020_12();
    s.definitions_path = "/components/schemas".into();
    s.meta_schema = None;
    s.contract = contract;
    s.into_generator()
}

fn json_content(schema: Value) -> Value {
    json!({"application/json": {"schema": schema}})
}

fn operation(
    op: &Operation,
    requests: &mut SchemaGenerator,
    responses: &mut SchemaGenerator,
) -> Value {
    let d = &op.doc;
    let ok = match (d.response, d.media) {
        (Some(f), _) => {
            json!({"description": "OK", "content": json_content(f(responses).to_value())})
        }
        (None, Some(m)) => json!({"description": "OK", "content": {m: {}}}),
        (None, None) => json!({"description": "OK", "content": json_content(json!({}))}),
    };
    let mut o = json!({
        "summary": d.summary,
        "operationId": operation_id(op.method, &op.path),
        "responses": {
            "200": ok,
            "4XX": {"description": "Problem", "content": {"application/problem+json": {"schema": responses.subschema_for::<crate::views::Problem>().to_value()}}}
        }
    });
    let params: Vec<Value> = path_params(&op.path, d)
        .into_iter()
        .map(|(name, ty, description)| {
            json!({"name": name, "in": "path", "required": true, "description": description,
                   "schema": {"type": ty}})
        })
        .collect();
    if !params.is_empty() {
        o["parameters"] = Value::Array(params);
    }
    if d.auth {
        o["security"] = json!([{"bearer": []}]);
    }
    if let Some(f) = d.request {
        o["requestBody"] = json!({"required": !d.request_optional,
                                  "content": json_content(f(requests).to_value())});
    }
    o
}

/// `get /api/v1/tickets/{id}/events` → `get_tickets_id_events`.
fn operation_id(method: &str, path: &str) -> String {
    let mut s = method.to_string();
    for seg in path.trim_start_matches("/api/v1").split('/') {
        let seg: String = seg
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        let seg = seg.trim_matches('_');
        if !seg.is_empty() {
            s.push('_');
            s.push_str(seg);
        }
    }
    s
}

/// The whole document.
pub fn build() -> Value {
    let table = crate::api();
    let mut requests = generator(Contract::Deserialize);
    let mut responses = generator(Contract::Serialize);
    let mut paths = Map::new();
    for op in &table.operations {
        let entry = paths.entry(op.path.clone()).or_insert_with(|| json!({}));
        entry[op.method] = operation(op, &mut requests, &mut responses);
    }
    let mut schemas = responses.take_definitions(true);
    for (name, schema) in requests.take_definitions(true) {
        match schemas.get(&name) {
            Some(s) if *s != schema => panic!(
                "the schema {name} differs as a request and as a response; give one of them another name"
            ),
            _ => {
                schemas.insert(name, schema);
            }
        }
    }
    json!({
        "openapi": "3.1.0",
        "info": {"title": "Jiesu 接诉 API", "version": env!("CARGO_PKG_VERSION"),
                 "description": "12345 citizen-service hotline platform. Errors are application/problem+json."},
        "paths": paths,
        "components": {"schemas": schemas,
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    })
}

/// The document as served and as `jiesu openapi` prints it (pretty, with a final newline).
pub fn document_text() -> String {
    let mut s = serde_json::to_string_pretty(&build()).expect("the document is JSON");
    s.push('\n');
    s
}

/// `GET /api/openapi.json`
pub async fn document() -> Json<Value> {
    static DOC: OnceLock<Value> = OnceLock::new();
    Json(DOC.get_or_init(build).clone())
}
