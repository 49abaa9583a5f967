//! The router's own table (路由表): every route is added once, through [`Api`], which both calls
//! `Router::route` and records the route's documentation. The OpenAPI document (`openapi.rs`) is
//! built from the recorded operations, so a route cannot be served without being documented, and
//! its path parameters are derived from the `{…}` segments of the path it is served under.

use crate::AppState;
use axum::handler::Handler;
use axum::routing::MethodRouter;
use axum::Router;
use schemars::{JsonSchema, Schema, SchemaGenerator};
use std::borrow::Cow;

/// Writes the schema of a body type into a generator and returns a reference to it.
pub type SchemaFn = fn(&mut SchemaGenerator) -> Schema;

fn schema_of<T: JsonSchema>(g: &mut SchemaGenerator) -> Schema {
    g.subschema_for::<T>()
}

/// The schema of a query type with every part written out (no references): an object whose
/// properties are the parameters.
fn query_schema<T: JsonSchema>() -> serde_json::Value {
    let mut settings = schemars::generate::SchemaSettings::draft2020_12();
    settings.inline_subschemas = true;
    settings.meta_schema = None;
    settings
        .into_generator()
        .into_root_schema_for::<T>()
        .to_value()
}

/// What the document says about one operation (method + path).
#[derive(Clone)]
pub struct Doc {
    pub summary: Cow<'static, str>,
    /// Needs a bearer token (`Authorization: Bearer …` from `POST /api/v1/session`).
    pub auth: bool,
    /// The query parameters: the JSON Schema of the type the handler reads them into (its
    /// properties become the documented `in: query` parameters).
    pub query: Option<fn() -> serde_json::Value>,
    /// The JSON request body, if any.
    pub request: Option<SchemaFn>,
    /// Or the request body's schema written out (ticket actions: from the domain's action table).
    pub request_schema: Option<serde_json::Value>,
    /// Whether the request body may be left out.
    pub request_optional: bool,
    /// The JSON response body of a success, if it is typed.
    pub response: Option<SchemaFn>,
    /// The media type of a success that is not JSON (CSV, xlsx, a file, plain text).
    pub media: Option<&'static str>,
    /// Path parameters whose type or description differ from the defaults of [`path_params`].
    pub params: Vec<(&'static str, &'static str, &'static str)>,
    /// The status codes of a success, the first the usual one (200 unless told).
    pub success: &'static [u16],
    /// May answer 503 (problem+json) while a part it needs is not ready (the classifier training
    /// at start-up).
    pub unavailable: bool,
    /// Who may use it (权限): documented as `x-capability`, `x-action` or `x-signed-in`, so the
    /// authorization matrix test derives each route's expected answers from the domain's tables.
    pub access: Access,
}

/// Who may use an operation that needs a token; checked by the handler, stated here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Not stated (a route added without it fails the authorization matrix test).
    Unstated,
    /// Any signed-in user (their own session: `/me`, log-out).
    SignedIn,
    /// The roles with this capability (`jiesu_domain::capability`); a route under
    /// `/tickets/{id}` is also limited to the tickets the caller may see.
    Capability(jiesu_domain::capability::Capability),
    /// The roles the domain's action table allows this ticket action (and the ticket's scope).
    Action(jiesu_domain::Action),
}

/// An operation that needs a token (the usual case).
pub fn doc(summary: impl Into<Cow<'static, str>>) -> Doc {
    Doc {
        summary: summary.into(),
        auth: true,
        query: None,
        request: None,
        request_schema: None,
        request_optional: false,
        response: None,
        media: None,
        params: Vec::new(),
        success: &[200],
        unavailable: false,
        access: Access::Unstated,
    }
}

impl Doc {
    /// Open to anyone (no token).
    pub fn public(mut self) -> Doc {
        self.auth = false;
        self
    }
    /// The query parameters are read into a `T` (axum's `Query<T>`).
    pub fn query<T: JsonSchema>(mut self) -> Doc {
        self.query = Some(query_schema::<T>);
        self
    }
    /// The request body is a `T` (JSON).
    pub fn body<T: JsonSchema>(mut self) -> Doc {
        self.request = Some(schema_of::<T>);
        self
    }
    /// The request body is described by this JSON Schema.
    pub fn body_schema(mut self, schema: serde_json::Value) -> Doc {
        self.request_schema = Some(schema);
        self
    }
    /// The request body is a `T` (JSON) and may be left out.
    pub fn optional_body<T: JsonSchema>(mut self) -> Doc {
        self.request = Some(schema_of::<T>);
        self.request_optional = true;
        self
    }
    /// A success answers a `T` (JSON).
    pub fn returns<T: JsonSchema>(mut self) -> Doc {
        self.response = Some(schema_of::<T>);
        self
    }
    /// A success answers something other than JSON.
    pub fn media(mut self, media_type: &'static str) -> Doc {
        self.media = Some(media_type);
        self
    }
    /// A success answers these status codes (e.g. `&[201]` for a creation, `&[204]` for no
    /// content), the first the usual one; the document lists each.
    pub fn success(mut self, codes: &'static [u16]) -> Doc {
        self.success = codes;
        self
    }
    /// For the roles with `cap` (the handler checks it with `crate::auth::require`).
    pub fn cap(mut self, cap: jiesu_domain::capability::Capability) -> Doc {
        self.access = Access::Capability(cap);
        self
    }
    /// For every signed-in user.
    pub fn signed_in(mut self) -> Doc {
        self.access = Access::SignedIn;
        self
    }
    /// For the roles the action table allows `action`.
    pub fn action(mut self, action: jiesu_domain::Action) -> Doc {
        self.access = Access::Action(action);
        self
    }
    /// May answer 503 while a part it needs is not ready.
    pub fn unavailable(mut self) -> Doc {
        self.unavailable = true;
        self
    }
    /// Overrides the type (`integer` or `string`) and description of one path parameter.
    pub fn param(mut self, name: &'static str, ty: &'static str, description: &'static str) -> Doc {
        self.params.push((name, ty, description));
        self
    }
}

/// One documented operation.
pub struct Operation {
    pub method: &'static str,
    /// The path as documented (an expanded `{action}` is written out).
    pub path: String,
    pub doc: Doc,
}

/// One path and method as the router serves it.
pub struct Served {
    pub method: &'static str,
    pub path: String,
}

/// The route table being built: the axum router and the documented operations.
pub struct Api {
    router: Router<AppState>,
    pub operations: Vec<Operation>,
    pub served: Vec<Served>,
}

impl Default for Api {
    fn default() -> Self {
        Api::new()
    }
}

impl Api {
    pub fn new() -> Api {
        Api {
            router: Router::new(),
            operations: Vec::new(),
            served: Vec::new(),
        }
    }

    pub fn get<H: Handler<T, AppState>, T: 'static>(self, path: &str, h: H, d: Doc) -> Api {
        self.route(path, "get", axum::routing::get(h), d)
    }

    pub fn post<H: Handler<T, AppState>, T: 'static>(self, path: &str, h: H, d: Doc) -> Api {
        self.route(path, "post", axum::routing::post(h), d)
    }

    pub fn put<H: Handler<T, AppState>, T: 'static>(self, path: &str, h: H, d: Doc) -> Api {
        self.route(path, "put", axum::routing::put(h), d)
    }

    /// Serves `method_router` (for `method` only, possibly with layers) at `path`.
    pub fn route(
        self,
        path: &str,
        method: &'static str,
        mr: MethodRouter<AppState>,
        d: Doc,
    ) -> Api {
        self.route_expanded(path, method, mr, vec![(path.to_string(), d)])
    }

    /// Serves one route whose last segment is a parameter (`{action}`) that the document writes
    /// out, one operation per value.
    pub fn route_expanded(
        mut self,
        path: &str,
        method: &'static str,
        mr: MethodRouter<AppState>,
        docs: Vec<(String, Doc)>,
    ) -> Api {
        self.router = self.router.route(path, mr);
        self.served.push(Served {
            method,
            path: path.to_string(),
        });
        for (p, d) in docs {
            self.operations.push(Operation {
                method,
                path: p,
                doc: d,
            });
        }
        self
    }

    /// The router (without state and without the UI fallback).
    pub fn into_router(self) -> Router<AppState> {
        self.router
    }
}

/// The path parameters of an operation: `(name, type, description)`. `id` is an integer, the
/// others strings, unless the operation's [`Doc::param`] says otherwise.
pub fn path_params(path: &str, d: &Doc) -> Vec<(String, &'static str, String)> {
    let segments: Vec<&str> = path.split('/').collect();
    let mut out = Vec::new();
    for (i, s) in segments.iter().enumerate() {
        let Some(name) = s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) else {
            continue;
        };
        let before = if i > 0 { segments[i - 1] } else { "" };
        let (ty, desc): (&'static str, String) = match d.params.iter().find(|(n, _, _)| *n == name)
        {
            Some((_, ty, desc)) => (ty, desc.to_string()),
            None => match (name, before) {
                ("id", "articles") => ("integer", "The knowledge-base article's id".into()),
                ("id", _) => ("integer", "The ticket's id".into()),
                ("att", _) => ("string", "The attachment's id".into()),
                ("token", _) => ("string", "The one-time self-rating token".into()),
                ("session", _) => ("string", "The virtual agent's session id".into()),
                ("number", _) => ("string", "The public ticket number".into()),
                ("period", _) => ("string", "The scoring period, a month (YYYY-MM)".into()),
                ("level", _) => (
                    "string",
                    "The level: street, district, department or enterprise".into(),
                ),
                ("code", _) => ("string", "The unit's code".into()),
                ("version", _) => ("integer", "The catalogue version".into()),
                (other, _) => ("string", format!("The {other}")),
            },
        };
        out.push((name.to_string(), ty, desc));
    }
    out
}
