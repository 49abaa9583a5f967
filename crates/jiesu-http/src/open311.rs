//! Open311 GeoReport v2 (with the FixMyStreet `servicerequestupdates` extension): the open
//! standard for civic requests, in JSON and XML, under `/open311/v2/`. See docs/OPEN311.md.
//!
//! These routes speak another protocol than `/api/v1` (form-encoded posts, the spec's error
//! format `[{"code", "description"}]`, XML), so they are served by their own small router
//! ([`router`], merged in `crate::router`) and documented in docs/OPEN311.md rather than in the
//! OpenAPI document; every path they serve is listed in [`PATHS`].
//!
//! Public answers hold no personal data: no requester name or phone, the address coarsened to
//! the street or community, the text with the requester's name, address and every phone-like
//! digit run masked ([`redact`]).

use crate::error::ApiError;
use crate::AppState;
use axum::extract::{Path, RawForm, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, Duration, FixedOffset, SecondsFormat, Utc};
use jiesu_domain::intake::{Filer, IntakeForm, RequesterForm};
use jiesu_domain::{ActorRef, Event, EventKind, Role, Status, TicketState};
use jiesu_store::TicketQuery;
use serde_json::{json, Map, Value};

/// The longest window of `start_date`/`end_date` (the spec's 90 days).
pub const MAX_WINDOW_DAYS: i64 = 90;
/// Requests per page of `GET requests` unless `page_size` says otherwise (at most
/// [`MAX_PAGE_SIZE`]).
pub const DEFAULT_PAGE_SIZE: u32 = 50;
/// The largest `page_size`.
pub const MAX_PAGE_SIZE: u32 = 200;

/// Every path served (each in `.json` and `.xml`; `{…}` is one path segment before the format).
pub const PATHS: &[(&str, &str)] = &[
    ("GET", "/open311/v2/discovery"),
    ("GET", "/open311/v2/services"),
    ("GET", "/open311/v2/services/{service_code}"),
    ("GET", "/open311/v2/requests"),
    ("POST", "/open311/v2/requests"),
    ("GET", "/open311/v2/requests/{service_request_id}"),
    ("GET", "/open311/v2/tokens/{token}"),
    ("GET", "/open311/v2/servicerequestupdates"),
];

/// The Open311 router (merged into the application's).
pub fn router() -> Router<AppState> {
    let mut r = Router::new();
    for f in ["json", "xml"] {
        r = r
            .route(&format!("/open311/v2/discovery.{f}"), get(discovery))
            .route(&format!("/open311/v2/services.{f}"), get(services))
            .route(
                &format!("/open311/v2/requests.{f}"),
                get(list_requests).post(post_request),
            )
            .route(
                &format!("/open311/v2/servicerequestupdates.{f}"),
                get(updates),
            );
    }
    r.route("/open311/v2/services/{file}", get(service_definition))
        .route("/open311/v2/requests/{file}", get(one_request))
        .route("/open311/v2/tokens/{file}", get(token))
        // anything else under /open311 is a 404 in the spec's format, not the UI's page
        .route("/open311/{*rest}", axum::routing::any(unknown))
}

async fn unknown(uri: Uri) -> O311Error {
    O311Error::new(
        fmt_of(uri.path()),
        StatusCode::NOT_FOUND,
        format!(
            "no Open311 endpoint {} (see /open311/v2/discovery.json)",
            uri.path()
        ),
    )
}

// ---------------------------------------------------------------- formats and errors

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Fmt {
    Json,
    Xml,
}

/// The format of a path ending in `.json` or `.xml` (JSON otherwise).
fn fmt_of(path: &str) -> Fmt {
    if path.ends_with(".xml") {
        Fmt::Xml
    } else {
        Fmt::Json
    }
}

/// A `{stem}.{json|xml}` path segment split into the stem and the format.
fn split_file(file: &str) -> Result<(String, Fmt), O311Error> {
    match file.rsplit_once('.') {
        Some((stem, "json")) => Ok((stem.to_string(), Fmt::Json)),
        Some((stem, "xml")) => Ok((stem.to_string(), Fmt::Xml)),
        _ => Err(O311Error::new(
            Fmt::Json,
            StatusCode::NOT_FOUND,
            "give the format as .json or .xml",
        )),
    }
}

/// An error in the spec's format: `[{"code": 400, "description": "…"}]` or
/// `<errors><error><code>…</code><description>…</description></error></errors>`.
#[derive(Debug)]
struct O311Error {
    fmt: Fmt,
    status: StatusCode,
    description: String,
}

impl O311Error {
    fn new(fmt: Fmt, status: StatusCode, description: impl Into<String>) -> O311Error {
        O311Error {
            fmt,
            status,
            description: description.into(),
        }
    }
    fn bad(fmt: Fmt, description: impl Into<String>) -> O311Error {
        O311Error::new(fmt, StatusCode::BAD_REQUEST, description)
    }
    /// An error of Jiesu's own (intake's checks, the store) in the spec's format: its field is
    /// named as Open311 names it.
    fn from_api(fmt: Fmt, e: ApiError) -> O311Error {
        let status = match e.status {
            StatusCode::UNPROCESSABLE_ENTITY => StatusCode::BAD_REQUEST,
            s => s,
        };
        let description = match e.field.as_deref() {
            Some(f) => format!("{}: {}", open311_field(f), e.detail),
            None => e.detail,
        };
        O311Error::new(fmt, status, description)
    }
}

/// The Open311 name of an intake field.
fn open311_field(f: &str) -> &str {
    match f {
        "text" | "title" => "description",
        "requester.name" => "first_name/last_name",
        "requester.phone" => "phone",
        "category_code" => "service_code",
        "district_code" | "street_code" | "community_code" => "address_id",
        "address" => "address_string",
        "type" => "attribute[type]",
        other => other,
    }
}

impl IntoResponse for O311Error {
    fn into_response(self) -> Response {
        let body = json!([{"code": self.status.as_u16(), "description": self.description}]);
        answer(self.fmt, self.status, "errors", &body)
    }
}

type O311Result<T> = Result<T, O311Error>;

/// An answer in the format asked: JSON as is, XML with `root` as the outer element.
fn answer(fmt: Fmt, status: StatusCode, root: &str, v: &Value) -> Response {
    match fmt {
        Fmt::Json => (status, axum::Json(v.clone())).into_response(),
        Fmt::Xml => {
            let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
            xml_element(root, v, &mut out);
            out.push('\n');
            (
                status,
                [(axum::http::header::CONTENT_TYPE, "text/xml; charset=utf-8")],
                out,
            )
                .into_response()
        }
    }
}

/// The element name of one item of a list element (the spec's plural → singular).
fn singular(name: &str) -> &str {
    match name {
        "services" => "service",
        "service_requests" => "request",
        "service_request_updates" => "request_update",
        "errors" => "error",
        "attributes" => "attribute",
        "values" => "value",
        "endpoints" => "endpoint",
        "formats" => "format",
        _ => "item",
    }
}

/// Writes `v` as the element `name`: an object's members as child elements, a list's items as
/// elements named by [`singular`], text escaped.
fn xml_element(name: &str, v: &Value, out: &mut String) {
    out.push('<');
    out.push_str(name);
    out.push('>');
    match v {
        Value::Null => {}
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => xml_escape(s, out),
        Value::Array(items) => {
            let item = singular(name);
            for i in items {
                xml_element(item, i, out);
            }
        }
        Value::Object(m) => {
            for (k, v) in m {
                xml_element(k, v, out);
            }
        }
    }
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

/// Escapes text for XML; characters XML 1.0 cannot hold are dropped.
fn xml_escape(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
}

/// An instant in ISO 8601 with the city's offset (the database's `time_zone`).
fn iso(st: &AppState, t: DateTime<Utc>) -> String {
    let off = FixedOffset::east_opt(st.zone.offset_seconds(t))
        .unwrap_or_else(|| FixedOffset::east_opt(0).expect("zero offset"));
    t.with_timezone(&off)
        .to_rfc3339_opts(SecondsFormat::Secs, false)
}

/// Query or form pairs, in order (repeated names kept).
fn pairs(raw: Option<&str>) -> Vec<(String, String)> {
    raw.map(|q| {
        form_urlencoded_pairs(q.as_bytes())
            .into_iter()
            .filter(|(_, v)| !v.is_empty())
            .collect()
    })
    .unwrap_or_default()
}

fn form_urlencoded_pairs(b: &[u8]) -> Vec<(String, String)> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(b).unwrap_or_default()
}

fn param<'a>(p: &'a [(String, String)], name: &str) -> Option<&'a str> {
    p.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

async fn blocking<T: Send + 'static>(
    fmt: Fmt,
    f: impl FnOnce() -> jiesu_store::Result<T> + Send + 'static,
) -> O311Result<T> {
    match tokio::task::spawn_blocking(f).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(O311Error::from_api(fmt, e.into())),
        Err(e) => Err(O311Error::from_api(fmt, e.into())),
    }
}

// ---------------------------------------------------------------- the mapping to Jiesu

/// Jiesu's status as Open311's `open` or `closed` (docs/OPEN311.md): closed once the request
/// needs nothing more from a unit — answered on the spot, handled specially, called back,
/// closed, merged into another request or archived.
pub fn open311_status(s: Status) -> &'static str {
    match s {
        Status::New
        | Status::Consultation
        | Status::Dispatched
        | Status::InProgress
        | Status::ReturnReview
        | Status::ResultSubmitted => "open",
        Status::Answered
        | Status::SpecialHandled
        | Status::CallbackDone
        | Status::Closed
        | Status::Merged
        | Status::Archived => "closed",
    }
}

/// The Jiesu statuses of an Open311 status.
fn jiesu_statuses(open311: &str) -> Vec<&'static str> {
    Status::ALL
        .iter()
        .filter(|s| open311_status(**s) == open311)
        .map(|s| s.as_str())
        .collect()
}

/// The event kinds that are service request updates, with the Open311 status each leaves the
/// request in.
const UPDATE_KINDS: &[(&str, &str)] = &[
    ("created", "open"),
    ("answered_directly", "closed"),
    ("special_handled", "closed"),
    ("dispatched", "open"),
    ("signed", "open"),
    ("responded", "open"),
    ("result_submitted", "open"),
    ("callback_recorded", "closed"),
    ("reopened", "open"),
    ("merged_into", "closed"),
    ("closed", "closed"),
    ("archived", "closed"),
];

/// Free text for a public answer: the requester's name and address (when known) and every run
/// of seven or more digits (phone numbers, house and ID numbers) masked.
pub fn redact(text: &str, name: Option<&str>, address: Option<&str>) -> String {
    let mut s = text.to_string();
    if let Some(n) = name.map(str::trim).filter(|n| n.chars().count() >= 2) {
        s = s.replace(n, &jiesu_domain::ticket::mask_name(n));
    }
    if let Some(a) = address.map(str::trim).filter(|a| a.chars().count() >= 4) {
        s = s.replace(a, "（地址略）");
    }
    let mut out = String::with_capacity(s.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if run.chars().filter(|c| c.is_ascii_digit()).count() >= 7 {
            out.extend(
                run.chars()
                    .map(|c| if c.is_ascii_digit() { '*' } else { c }),
            );
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in s.chars() {
        // a digit run may hold the dashes and spaces of a written phone number
        if c.is_ascii_digit() || (!run.is_empty() && (c == '-' || c == ' ')) {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

/// The place as public text: district, street and community names (never the address).
fn coarse_address(st: &AppState, t: &TicketState) -> String {
    let p = &t.intake.place;
    [
        Some(p.district_code.as_str()),
        Some(p.street_code.as_str()),
        p.community_code.as_deref(),
    ]
    .into_iter()
    .flatten()
    .filter_map(|c| st.org.get(c).map(|u| u.name.clone()))
    .collect::<Vec<_>>()
    .join(" ")
}

/// One service request as the public sees it.
fn request_json(st: &AppState, t: &TicketState, events: &[Event]) -> Value {
    let cat = st.categories.get(&t.intake.category_code);
    let p = &t.intake.place;
    let updated = events.last().map(|e| e.at).unwrap_or(t.created_at);
    let lead = t
        .assignments
        .iter()
        .find(|a| a.role == jiesu_domain::ticket::AssignmentRole::Lead)
        .or(t.assignments.first());
    let agency = lead
        .and_then(|a| crate::views::unit_name(st, &a.unit))
        .unwrap_or_default();
    let expected = lead.map(|a| iso(st, a.deadlines.finish));
    let notice = match &t.merged_into {
        Some((_, n)) => format!("与诉求 {n} 合并办理"),
        None => String::new(),
    };
    let requester = &t.intake.requester;
    // about 1 km: the point of a street, not of a door
    let coarse = |x: Option<f64>| x.map(|v| (v * 100.0).round() / 100.0);
    json!({
        "service_request_id": t.number,
        "status": open311_status(t.status),
        "status_notes": t.status.label_zh(),
        "service_name": cat.map(|c| c.name.clone()).unwrap_or_default(),
        "service_code": t.intake.category_code,
        "description": redact(
            &if t.intake.text.starts_with(&t.intake.title) {
                t.intake.text.clone()
            } else {
                format!("{}\n{}", t.intake.title, t.intake.text)
            },
            Some(&requester.name),
            p.address.as_deref(),
        ),
        "agency_responsible": agency,
        "service_notice": notice,
        "requested_datetime": iso(st, t.created_at),
        "updated_datetime": iso(st, updated),
        "expected_datetime": expected,
        "address": coarse_address(st, t),
        "address_id": p.community_code.clone().unwrap_or_else(|| p.street_code.clone()),
        "zipcode": "",
        "lat": coarse(p.lat),
        "long": coarse(p.lng),
        "media_url": "",
    })
}

// ---------------------------------------------------------------- discovery and services

async fn discovery(State(st): State<AppState>, uri: Uri, headers: HeaderMap) -> Response {
    let fmt = fmt_of(uri.path());
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            h.chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
        })
        .unwrap_or("localhost");
    let base = format!("http://{host}/open311/v2");
    let v = json!({
        "changeset": iso(&st, DateTime::<Utc>::from_timestamp(1_767_225_600, 0).unwrap_or_default()),
        "contact": "接诉即办 Jiesu — see docs/OPEN311.md",
        "key_service": "api_key per partner: `jiesu partner add --db … --name … --channel …`",
        "endpoints": [{
            "specification": "http://wiki.open311.org/GeoReport_v2",
            "url": base,
            "changeset": "2026-01-01T00:00:00Z",
            "type": "production",
            "formats": ["application/json", "text/xml"],
        }],
    });
    answer(fmt, StatusCode::OK, "discovery", &v)
}

/// The level-1 category a category belongs to.
fn group_of(st: &AppState, code: &str) -> String {
    st.categories
        .top(code)
        .map(|c| c.name.clone())
        .unwrap_or_default()
}

fn service_json(st: &AppState, c: &jiesu_domain::category::Category) -> Value {
    // root first: 一级 / 二级 / 三级
    let mut path: Vec<String> = st
        .categories
        .path(&c.code)
        .map(|c| c.name.clone())
        .collect();
    if st.categories.path(&c.code).next().map(|x| &x.code) == Some(&c.code) {
        path.reverse();
    }
    json!({
        "service_code": c.code,
        "service_name": c.name,
        "description": path.join(" / "),
        "metadata": true,
        "type": "realtime",
        "keywords": path.join(", "),
        "group": group_of(st, &c.code),
    })
}

async fn services(State(st): State<AppState>, uri: Uri) -> Response {
    let fmt = fmt_of(uri.path());
    let list: Vec<Value> = st
        .categories
        .leaves()
        .filter(|c| c.active)
        .map(|c| service_json(&st, c))
        .collect();
    answer(fmt, StatusCode::OK, "services", &Value::Array(list))
}

/// The attributes every service takes (no category of the tree models fields of its own).
fn attributes() -> Value {
    let types: Vec<Value> = jiesu_domain::ticket::RequestType::ALL
        .iter()
        .filter(|t| **t != jiesu_domain::ticket::RequestType::Praise)
        .map(|t| json!({"key": t.as_str(), "name": t.label_zh()}))
        .collect();
    json!([
        {
            "variable": true, "code": "type", "datatype": "singlevaluelist", "required": false,
            "datatype_description": "诉求类型 (default help / 求助)",
            "order": 1, "description": "诉求类型 — the kind of request", "values": types,
        },
        {
            "variable": true, "code": "enterprise", "datatype": "singlevaluelist", "required": false,
            "datatype_description": "", "order": 2,
            "description": "企业诉求 — filed for an enterprise",
            "values": [{"key": "false", "name": "否"}, {"key": "true", "name": "是"}],
        },
        {
            "variable": true, "code": "title", "datatype": "string", "required": false,
            "datatype_description": "at most 200 characters (default: the description's first line)",
            "order": 3, "description": "标题 — a short title",
        },
    ])
}

async fn service_definition(
    State(st): State<AppState>,
    Path(file): Path<String>,
) -> O311Result<Response> {
    let (code, fmt) = split_file(&file)?;
    let c = st
        .categories
        .get(&code)
        .filter(|c| c.active && st.categories.is_leaf(&c.code))
        .ok_or_else(|| {
            O311Error::new(
                fmt,
                StatusCode::NOT_FOUND,
                format!("no service with service_code {code}"),
            )
        })?;
    let v = json!({"service_code": c.code, "attributes": attributes()});
    Ok(answer(fmt, StatusCode::OK, "service_definition", &v))
}

// ---------------------------------------------------------------- reading requests

/// An ISO 8601 instant (with an offset or `Z`), or a date taken as the start of that city day.
fn parse_when(st: &AppState, fmt: Fmt, field: &str, s: &str) -> O311Result<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    if let Ok(t) = chrono::DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%z") {
        return Ok(t.with_timezone(&Utc));
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(st.zone.start_of_day(d));
    }
    Err(O311Error::bad(
        fmt,
        format!("{field}: '{s}' is not an ISO 8601 date-time (e.g. 2026-05-01T00:00:00+08:00)"),
    ))
}

/// `start_date`/`end_date`: at most [`MAX_WINDOW_DAYS`] apart; by default the `default_days`
/// before the end (the end being now unless given).
fn window(
    st: &AppState,
    fmt: Fmt,
    p: &[(String, String)],
    default_days: i64,
) -> O311Result<(DateTime<Utc>, DateTime<Utc>)> {
    let start = param(p, "start_date")
        .map(|s| parse_when(st, fmt, "start_date", s))
        .transpose()?;
    let end = param(p, "end_date")
        .map(|s| parse_when(st, fmt, "end_date", s))
        .transpose()?;
    let now = st.now();
    let (start, end) = match (start, end) {
        (Some(s), Some(e)) => (s, e),
        (Some(s), None) => (s, now.max(s)),
        (None, Some(e)) => (e - Duration::days(default_days), e),
        (None, None) => (now - Duration::days(default_days), now),
    };
    if end < start {
        return Err(O311Error::bad(fmt, "end_date is before start_date"));
    }
    if end - start > Duration::days(MAX_WINDOW_DAYS) {
        return Err(O311Error::bad(
            fmt,
            format!("start_date and end_date may be at most {MAX_WINDOW_DAYS} days apart"),
        ));
    }
    Ok((start, end))
}

fn paging(fmt: Fmt, p: &[(String, String)]) -> O311Result<(u32, u32)> {
    let num = |name: &str, default: u32, max: u32| -> O311Result<u32> {
        match param(p, name) {
            None => Ok(default),
            Some(s) => s
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=max).contains(n))
                .ok_or_else(|| {
                    O311Error::bad(
                        fmt,
                        format!("{name} must be a whole number from 1 to {max}"),
                    )
                }),
        }
    };
    Ok((
        num("page", 1, 1_000_000)?,
        num("page_size", DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)?,
    ))
}

/// Loads tickets by number, in the order given, skipping numbers that do not exist.
async fn load_numbers(
    st: &AppState,
    fmt: Fmt,
    numbers: Vec<String>,
) -> O311Result<Vec<(TicketState, Vec<Event>)>> {
    let s2 = st.clone();
    blocking(fmt, move || {
        let mut out = Vec::new();
        for n in numbers {
            if let Some(id) = s2.store.ticket_id_by_number(&n)? {
                if let Some(t) = s2.store.load_ticket(id)? {
                    out.push(t);
                }
            }
        }
        Ok(out)
    })
    .await
}

async fn list_requests(
    State(st): State<AppState>,
    uri: Uri,
    RawQuery(q): RawQuery,
) -> O311Result<Response> {
    let fmt = fmt_of(uri.path());
    let p = pairs(q.as_deref());
    // the spec: with service_request_id every other parameter is ignored
    if let Some(ids) = param(&p, "service_request_id") {
        let numbers: Vec<String> = ids
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .take(MAX_PAGE_SIZE as usize)
            .collect();
        let found = load_numbers(&st, fmt, numbers).await?;
        let list: Vec<Value> = found.iter().map(|(t, e)| request_json(&st, t, e)).collect();
        return Ok(answer(
            fmt,
            StatusCode::OK,
            "service_requests",
            &Value::Array(list),
        ));
    }
    let (from, to) = window(&st, fmt, &p, MAX_WINDOW_DAYS)?;
    let status = match param(&p, "status") {
        None => None,
        Some(s) => {
            let mut wanted = Vec::new();
            for one in s.split(',').map(str::trim) {
                if one != "open" && one != "closed" {
                    return Err(O311Error::bad(
                        fmt,
                        format!("status: '{one}' is neither open nor closed"),
                    ));
                }
                wanted.extend(jiesu_statuses(one));
            }
            Some(wanted.join(","))
        }
    };
    // one code, or several comma-separated
    let service = param(&p, "service_code").map(|s| {
        s.split(',')
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .collect::<Vec<_>>()
    });
    if let Some(codes) = &service {
        if let Some(c) = codes.iter().find(|c| st.categories.get(c).is_none()) {
            return Err(O311Error::bad(fmt, format!("service_code: no service {c}")));
        }
    }
    let service = service.filter(|c| !c.is_empty()).map(|c| c.join(","));
    let (page, page_size) = paging(fmt, &p)?;
    let tq = TicketQuery {
        status,
        category_prefix: service,
        from: Some(from),
        to: Some(to),
        page,
        page_size,
        ..Default::default()
    };
    let s2 = st.clone();
    let found = blocking(fmt, move || {
        let page = s2.store.list_tickets(&tq)?;
        let mut out = Vec::with_capacity(page.items.len());
        for item in page.items {
            if let Some(t) = s2.store.load_ticket(item.id)? {
                out.push(t);
            }
        }
        Ok(out)
    })
    .await?;
    let list: Vec<Value> = found.iter().map(|(t, e)| request_json(&st, t, e)).collect();
    Ok(answer(
        fmt,
        StatusCode::OK,
        "service_requests",
        &Value::Array(list),
    ))
}

async fn one_request(State(st): State<AppState>, Path(file): Path<String>) -> O311Result<Response> {
    let (number, fmt) = split_file(&file)?;
    let found = load_numbers(&st, fmt, vec![number.clone()]).await?;
    let Some((t, e)) = found.first() else {
        return Err(O311Error::new(
            fmt,
            StatusCode::NOT_FOUND,
            format!("no service request {number}"),
        ));
    };
    Ok(answer(
        fmt,
        StatusCode::OK,
        "service_requests",
        &json!([request_json(&st, t, e)]),
    ))
}

async fn token(State(st): State<AppState>, Path(file): Path<String>) -> O311Result<Response> {
    let (token, fmt) = split_file(&file)?;
    let s2 = st.clone();
    let t2 = token.clone();
    let found = blocking(fmt, move || match s2.store.ticket_of_token(&t2)? {
        Some(id) => s2.store.load_ticket(id),
        None => Ok(None),
    })
    .await?;
    let Some((t, _)) = found else {
        return Err(O311Error::new(
            fmt,
            StatusCode::NOT_FOUND,
            format!("no service request for token {token}"),
        ));
    };
    Ok(answer(
        fmt,
        StatusCode::OK,
        "service_requests",
        &json!([{"service_request_id": t.number, "token": token}]),
    ))
}

/// The FixMyStreet extension: the updates (public events that change or state a request's
/// progress) in `[start_date, end_date)`, oldest first, each with the status it leaves.
async fn updates(
    State(st): State<AppState>,
    uri: Uri,
    RawQuery(q): RawQuery,
) -> O311Result<Response> {
    let fmt = fmt_of(uri.path());
    let p = pairs(q.as_deref());
    let (from, to) = window(&st, fmt, &p, 1)?;
    let (page, page_size) = paging(fmt, &p)?;
    let kinds: Vec<&str> = UPDATE_KINDS.iter().map(|(k, _)| *k).collect();
    let s2 = st.clone();
    let rows = blocking(fmt, move || {
        s2.store.events_between(
            from,
            to,
            &kinds,
            (page - 1).saturating_mul(page_size),
            page_size,
        )
    })
    .await?;
    let list: Vec<Value> = rows
        .iter()
        .filter(|(_, _, _, e)| e.kind.public())
        .map(|(pos, _, number, e)| {
            let name = e.kind.name();
            let status = UPDATE_KINDS
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, s)| *s)
                .unwrap_or("open");
            let text = crate::views::public_event(&st, e)
                .and_then(|v| v["text"].as_str().map(str::to_string))
                .unwrap_or_default();
            let text = match &e.kind {
                EventKind::Created { .. } => "诉求已受理".to_string(),
                _ => redact(&text, None, None),
            };
            json!({
                "update_id": pos.to_string(),
                "service_request_id": number,
                "status": status,
                "external_status_code": name,
                "updated_datetime": iso(&st, e.at),
                "description": text,
                "media_url": "",
            })
        })
        .collect();
    Ok(answer(
        fmt,
        StatusCode::OK,
        "service_request_updates",
        &Value::Array(list),
    ))
}

// ---------------------------------------------------------------- filing a request

/// The SHA-256 of a partner key, as stored.
pub fn key_hash(key: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// A new partner key: 32 random bytes in hex, prefixed so it is recognised in a config file.
pub fn new_partner_key() -> String {
    use rand::RngCore;
    let mut b = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut b);
    format!("o311_{}", hex::encode(b))
}

async fn post_request(
    State(st): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    RawForm(body): RawForm,
) -> O311Result<Response> {
    let fmt = fmt_of(uri.path());
    let p = form_urlencoded_pairs(&body);
    let p: Vec<(String, String)> = p
        .into_iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .collect();
    let forbidden = || {
        O311Error::new(
            fmt,
            StatusCode::FORBIDDEN,
            "api_key is missing or not valid",
        )
    };
    let key = param(&p, "api_key").ok_or_else(forbidden)?;
    let hash = key_hash(key);
    let s2 = st.clone();
    let partner = blocking(fmt, move || s2.store.partner_by_key(&hash))
        .await?
        .ok_or_else(forbidden)?;
    let code =
        param(&p, "service_code").ok_or_else(|| O311Error::bad(fmt, "service_code is required"))?;
    let cat = st
        .categories
        .get(code)
        .filter(|c| c.active && st.categories.is_leaf(&c.code))
        .ok_or_else(|| O311Error::bad(fmt, format!("service_code: no service {code}")))?;
    let lat = param(&p, "lat").map(str::parse::<f64>).transpose();
    let lng = param(&p, "long").map(str::parse::<f64>).transpose();
    let (Ok(lat), Ok(lng)) = (lat, lng) else {
        return Err(O311Error::bad(fmt, "lat and long must be decimal degrees"));
    };
    let address_id = param(&p, "address_id");
    let address = param(&p, "address_string");
    if address_id.is_none() && address.is_none() && (lat.is_none() || lng.is_none()) {
        return Err(O311Error::bad(
            fmt,
            "a location is required: lat and long, address_string or address_id",
        ));
    }
    // the city's places are its org tree: address_id names a street (街乡镇) or community (社区)
    let Some(place) = address_id.and_then(|a| st.org.get(a)) else {
        return Err(O311Error::bad(
            fmt,
            "address_id: give the code of a street (街乡镇) or community (社区) of the city; \
             this server does not geocode lat/long or address_string",
        ));
    };
    let chain: Vec<&jiesu_domain::org::Unit> = std::iter::once(place)
        .chain(st.org.ancestors(&place.code))
        .collect();
    let kind_of = |u: &&jiesu_domain::org::Unit| u.kind;
    let find = |k: jiesu_domain::org::UnitKind| {
        chain
            .iter()
            .find(|u| kind_of(u) == k)
            .map(|u| u.code.clone())
    };
    use jiesu_domain::org::UnitKind;
    let (district, street, community) = (
        find(UnitKind::District),
        find(UnitKind::StreetTown),
        find(UnitKind::Community),
    );
    let (Some(district), Some(street)) = (district, street) else {
        return Err(O311Error::bad(
            fmt,
            "address_id: give the code of a street (街乡镇) or community (社区) of the city",
        ));
    };
    let description = param(&p, "description").unwrap_or_default().to_string();
    if description.chars().count() > jiesu_domain::ticket::MAX_TEXT_CHARS {
        return Err(O311Error::bad(
            fmt,
            format!(
                "description: at most {} characters",
                jiesu_domain::ticket::MAX_TEXT_CHARS
            ),
        ));
    }
    let title = match param(&p, "attribute[title]") {
        Some(t) => t.to_string(),
        None => {
            let first = description.lines().next().unwrap_or_default();
            let short: String = first.chars().take(40).collect();
            if short.trim().is_empty() {
                cat.name.clone()
            } else {
                short
            }
        }
    };
    let name = [param(&p, "last_name"), param(&p, "first_name")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join("");
    let form = IntakeForm {
        channel: Some(partner.channel.clone()),
        request_type: param(&p, "attribute[type]").unwrap_or("help").to_string(),
        category_code: cat.code.clone(),
        title,
        text: description,
        district_code: district,
        street_code: street,
        community_code: community,
        address: address.map(str::to_string),
        lat,
        lng,
        requester: RequesterForm {
            name,
            phone: param(&p, "phone").unwrap_or_default().to_string(),
        },
        enterprise: param(&p, "attribute[enterprise]") == Some("true"),
        tier: None,
        praised_unit: None,
    };
    let actor = ActorRef {
        user: format!("partner:{}", partner.name),
        role: Role::Citizen,
        unit: None,
    };
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .filter(|k| !k.is_empty() && k.len() <= 200)
        .map(|k| format!("open311:{}:{k}", partner.id));
    let created = crate::tickets::file_form(&st, form, Filer::Public, actor, key)
        .await
        .map_err(|e| O311Error::from_api(fmt, e))?;
    let (s2, id) = (st.clone(), created.state.id);
    let token = new_partner_key()[5..29].to_string();
    let now = st.now();
    let token = blocking(fmt, move || {
        s2.store.save_request_token(&token, partner.id, id, now)
    })
    .await?;
    let mut m = Map::new();
    m.insert("service_request_id".into(), json!(created.state.number));
    m.insert("token".into(), json!(token));
    m.insert(
        "service_notice".into(),
        json!("凭编号查询办理进度 / track the request by its service_request_id"),
    );
    m.insert("account_id".into(), Value::Null);
    let status = if created.replayed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok(answer(
        fmt,
        status,
        "service_requests",
        &Value::Array(vec![Value::Object(m)]),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_masks_phones_names_and_addresses() {
        let r = redact(
            "张三反映：朝阳路12号楼噪音，电话13812345678，或010-6512 3456。",
            Some("张三"),
            Some("朝阳路12号楼"),
        );
        assert!(!r.contains("13812345678"), "{r}");
        assert!(!r.contains("6512"), "{r}");
        assert!(!r.contains("张三"), "{r}");
        assert!(!r.contains("朝阳路12号楼"), "{r}");
        assert!(r.contains("噪音"));
        // short numbers stay
        assert_eq!(redact("3 号楼 12 层", None, None), "3 号楼 12 层");
    }

    #[test]
    fn xml_is_escaped_and_lists_are_named() {
        let mut out = String::new();
        xml_element(
            "services",
            &json!([{"service_name": "a<b&c", "keywords": "x"}]),
            &mut out,
        );
        assert_eq!(
            out,
            "<services><service><keywords>x</keywords><service_name>a&lt;b&amp;c</service_name></service></services>"
        );
    }

    #[test]
    fn every_status_is_open_or_closed() {
        for s in Status::ALL {
            assert!(["open", "closed"].contains(&open311_status(*s)));
        }
        assert_eq!(open311_status(Status::InProgress), "open");
        assert_eq!(open311_status(Status::Closed), "closed");
    }
}
