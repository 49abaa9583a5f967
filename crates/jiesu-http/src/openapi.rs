//! The OpenAPI 3.1 document, built from the router's own table (`crate::api()`): every served
//! route is an operation, its path parameters come from the path's `{…}` segments, and request
//! and response bodies are JSON Schemas derived (schemars) from the Rust types the handlers
//! read and answer. `jiesu openapi` prints the same document; `web/openapi.json` is its committed
//! copy, from which the UI's TypeScript types are generated.

use crate::route_table::{doc, path_params, Access, Doc, Operation};
use axum::Json;
use schemars::generate::{Contract, SchemaSettings};
use schemars::SchemaGenerator;
use serde_json::{json, Map, Value};
use std::sync::OnceLock;

/// One documented operation per routed ticket action (`POST /api/v1/tickets/{id}/{action}`),
/// its request body described from the domain's action table ([`jiesu_domain::Action`]'s body
/// fields): the one place actions are listed.
pub fn ticket_action_docs() -> Vec<(String, Doc)> {
    jiesu_domain::Action::ROUTED
        .iter()
        .map(|a| {
            let d = doc(format!(
                "Ticket action `{}` ({}; roles: {})",
                a.wire(),
                a.label_zh(),
                a.roles()
                    .iter()
                    .map(|r| r.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
            .returns::<crate::views::TicketView>()
            .action(*a)
            .body_schema(action_body_schema(*a));
            (format!("/api/v1/tickets/{{id}}/{}", a.wire()), d)
        })
        .collect()
}

/// The JSON Schema of an action's body, from its field specs.
fn action_body_schema(a: jiesu_domain::Action) -> Value {
    use jiesu_domain::action::FieldType as T;
    let mut props = Map::new();
    let mut required = Vec::new();
    for f in a.body_fields() {
        let schema = match f.ty {
            T::Text | T::Unit | T::Category | T::Ticket => json!({"type": "string"}),
            T::Bool => json!({"type": "boolean"}),
            T::Integer => json!({"type": "integer"}),
            T::Time => json!({"type": "string", "format": "date-time"}),
            T::Units | T::Strings => json!({"type": "array", "items": {"type": "string"}}),
            T::Enum => json!({"type": "string", "enum": (f.values)()}),
            T::Assignments => json!({"type": "array", "items": {
                "type": "object", "required": ["unit_code", "role"],
                "properties": {"unit_code": {"type": "string"},
                               "role": {"type": "string", "enum": ["lead", "assist"]}}}}),
        };
        props.insert(f.name.to_string(), schema);
        if f.required {
            required.push(f.name);
        }
    }
    json!({"type": "object", "properties": props, "required": required})
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
    let mut answers = Map::new();
    for code in d.success {
        let answer = if *code == 204 {
            json!({"description": "No Content"})
        } else {
            ok.clone()
        };
        answers.insert(code.to_string(), answer);
    }
    let problem = json!({"description": "Problem", "content": {"application/problem+json": {"schema": responses.subschema_for::<crate::views::Problem>().to_value()}}});
    if d.unavailable {
        answers.insert("503".into(), problem.clone());
    }
    answers.insert("4XX".into(), problem);
    let mut o = json!({
        "summary": d.summary,
        "operationId": operation_id(op.method, &op.path),
        "responses": answers,
    });
    let params: Vec<Value> = path_params(&op.path, d)
        .into_iter()
        .map(|(name, ty, description)| {
            // integers in paths are parsed as i64: say so, so that clients (and the fuzzer)
            // keep to the range the server accepts
            let schema = if ty == "integer" {
                json!({"type": "integer", "format": "int64", "minimum": i64::MIN, "maximum": i64::MAX})
            } else {
                json!({"type": ty})
            };
            json!({"name": name, "in": "path", "required": true, "description": description,
                   "schema": schema})
        })
        .collect();
    let mut params = params;
    if let Some(q) = d.query {
        params.extend(query_params(&q()));
    }
    if !params.is_empty() {
        o["parameters"] = Value::Array(params);
    }
    if d.auth {
        o["security"] = json!([{"bearer": []}]);
        match d.access {
            Access::Unstated => {}
            Access::SignedIn => o["x-signed-in"] = json!(true),
            Access::Capability(c) => o["x-capability"] = json!(c.as_str()),
            Access::Action(a) => o["x-action"] = json!(a.wire()),
        }
    }
    let body = match (d.request, &d.request_schema) {
        (Some(f), _) => Some(f(requests).to_value()),
        (None, Some(schema)) => Some(schema.clone()),
        (None, None) => None,
    };
    if let Some(schema) = body {
        // an empty body is read as `{}` (`crate::json::Json`), so a body whose fields are all
        // optional may be left out
        let required = !d.request_optional && !all_optional(&schema, requests);
        o["requestBody"] = json!({"required": required, "content": json_content(schema)});
    }
    o
}

/// The `in: query` parameters of a query type's schema: one per property, required when the
/// type requires it, its schema without `null` (a parameter left out is the `None`).
fn query_params(schema: &Value) -> Vec<Value> {
    let required: Vec<&str> = schema["required"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let Some(props) = schema["properties"].as_object() else {
        return Vec::new();
    };
    props
        .iter()
        .map(|(name, p)| {
            let mut p = p.clone();
            let description = p
                .as_object_mut()
                .and_then(|o| o.remove("description"))
                .unwrap_or_else(|| json!(format!("The {name}")));
            if let Some(Value::Array(types)) = p.get("type") {
                let types: Vec<Value> = types.iter().filter(|t| *t != "null").cloned().collect();
                p["type"] = if types.len() == 1 {
                    types[0].clone()
                } else {
                    Value::Array(types)
                };
            }
            if let Some(o) = p.as_object_mut() {
                o.remove("default");
            }
            json!({"name": name, "in": "query", "required": required.contains(&name.as_str()),
                   "description": description, "schema": p})
        })
        .collect()
}

/// Whether a body schema (an object, or a reference to one in the generator's definitions) has
/// no required field: `{}` matches it, and so does an empty body.
fn all_optional(schema: &Value, requests: &SchemaGenerator) -> bool {
    let resolved = match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let name = r.rsplit('/').next().unwrap_or_default();
            match requests.definitions().get(name) {
                Some(s) => s.clone(),
                None => return false,
            }
        }
        None => schema.clone(),
    };
    resolved.get("type") == Some(&json!("object"))
        && resolved
            .get("required")
            .and_then(Value::as_array)
            .is_none_or(|r| r.is_empty())
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
