//! 权限矩阵 — the authorization matrix, generated from the route table: every operation of the
//! document the server serves (`GET /api/openapi.json`, built from `api()`) × every role a user
//! account may have (and anonymous) × own / foreign unit for the routes of one ticket. What each
//! cell must answer is derived from the domain's tables — the operation states who may use it
//! (`x-capability`: the capability table; `x-action`: the action table; `x-signed-in`; or no
//! security: public) — never listed here, so a route added later is covered at once, and a route
//! that states none of these fails the test by name.
//!
//! Each cell checks: the status class (allowed: not 401/403, and not 404 for a ticket the caller
//! may see; denied: 401 anonymous, 403 without the role, 404 for a ticket outside the unit); that a
//! 2xx answer to a foreign unit holds none of the street's tickets; that a unit sees a ticket's
//! phone masked until it signs (签收); and that every answer with a phone unmasked left an audit
//! row (`read_personal`) for that caller and ticket.

mod common;
use common::*;
use jiesu_domain::capability::Capability;
use jiesu_domain::{Action, Role};
use serde_json::{json, Map, Value};

const STREET_A: &str = "110105001";
const STREET_B: &str = "110105002";
const DISTRICT: &str = "110105";

/// A caller of the matrix: anonymous (`role` None) or a user of a role, with a unit for unit roles
/// (street A: the street the tickets are dispatched to; street B: another street).
struct Who {
    name: String,
    role: Option<Role>,
    unit: Option<&'static str>,
}

impl Who {
    fn label(&self) -> String {
        match (self.role, self.unit) {
            (None, _) => "anonymous".into(),
            (Some(r), Some(u)) => format!("{r}@{u}"),
            (Some(r), None) => r.to_string(),
        }
    }
    /// Whether the caller's scope covers street A (centre roles cover every unit).
    fn covers_street_a(&self) -> bool {
        match self.role {
            Some(r) if r.is_unit() => self.unit == Some(STREET_A),
            Some(_) => true,
            None => false,
        }
    }
}

/// One ticket of the fixture, all dispatched to street A.
struct Fixture {
    id: i64,
    number: String,
    phone: &'static str,
    name: &'static str,
    /// Signed for by street A's handler: the street sees the phone unmasked.
    signed: bool,
}

/// Who may use an operation, as the document states it.
#[derive(Clone, Copy, Debug)]
enum Access {
    Public,
    SignedIn,
    Capability(Capability),
    Action(Action),
}

fn access_of(method: &str, path: &str, op: &Value) -> Access {
    if op.get("security").is_none() {
        return Access::Public;
    }
    if op.get("x-signed-in") == Some(&json!(true)) {
        return Access::SignedIn;
    }
    if let Some(c) = op.get("x-capability").and_then(Value::as_str) {
        let cap = Capability::parse(c).unwrap_or_else(|| {
            panic!("{method} {path}: x-capability '{c}' is not in the capability table")
        });
        return Access::Capability(cap);
    }
    if let Some(a) = op.get("x-action").and_then(Value::as_str) {
        let action = Action::from_wire(a).unwrap_or_else(|| {
            panic!("{method} {path}: x-action '{a}' is not in the action table")
        });
        return Access::Action(action);
    }
    panic!(
        "{method} {path} needs a token but states no access rule: give its route in `api()` \
         (crates/jiesu-http/src/lib.rs) `.cap(Capability::…)`, `.action(…)` or `.signed_in()`, \
         so the authorization matrix knows who may use it"
    )
}

/// What a cell must answer.
#[derive(Debug, PartialEq)]
enum Expect {
    Allowed,
    Denied(&'static [u16]),
}

fn expect(access: Access, who: &Who, ticket_scoped: bool) -> Expect {
    let Some(role) = who.role else {
        return match access {
            Access::Public => Expect::Allowed,
            _ => Expect::Denied(&[401]),
        };
    };
    let granted = match access {
        Access::Public | Access::SignedIn => return Expect::Allowed,
        Access::Capability(c) => c.granted_to(role),
        Access::Action(a) => a.allows(role),
    };
    let visible = !ticket_scoped || who.covers_street_a();
    match (granted, visible) {
        (true, true) => Expect::Allowed,
        (true, false) => Expect::Denied(&[404]),
        // a ticket route may look at the ticket first (a foreign one is 404 whatever is asked)
        (false, false) => Expect::Denied(&[403, 404]),
        (false, true) => Expect::Denied(&[403]),
    }
}

/// Resolves a local `$ref` of the document.
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let name = r.rsplit('/').next().unwrap();
            resolve(doc, &doc["components"]["schemas"][name])
        }
        None => schema,
    }
}

/// Values for fields the fixture knows by name (codes that exist, a visible ticket).
struct Values {
    leaf: String,
    ticket: i64,
}

/// A schema-valid value of `schema` (required fields only, with the fixture's values by name), so
/// a body passes extraction and the handler's own authorization check decides.
fn sample(doc: &Value, schema: &Value, field: &str, v: &Values) -> Value {
    let schema = resolve(doc, schema);
    match field {
        "unit_code" | "street_code" => return json!(STREET_A),
        "district_code" => return json!(DISTRICT),
        "category_code" => return json!(v.leaf),
        "ticket_id" => return json!(v.ticket),
        "phone" => return json!("13800000000"),
        _ => {}
    }
    if let Some(e) = schema.get("enum").and_then(Value::as_array) {
        return e[0].clone();
    }
    if let Some(c) = schema.get("const") {
        return c.clone();
    }
    for k in ["anyOf", "oneOf", "allOf"] {
        if let Some(alts) = schema.get(k).and_then(Value::as_array) {
            let alt = alts
                .iter()
                .find(|a| resolve(doc, a).get("type") != Some(&json!("null")))
                .unwrap_or(&alts[0]);
            return sample(doc, alt, field, v);
        }
    }
    let ty = match schema.get("type") {
        Some(Value::Array(ts)) => ts
            .iter()
            .find(|t| *t != "null")
            .and_then(Value::as_str)
            .unwrap_or("null"),
        Some(Value::String(t)) => t.as_str(),
        _ => "object",
    };
    match ty {
        "string" => match schema.get("format").and_then(Value::as_str) {
            Some("date-time") => json!(TEST_CLOCK),
            Some("date") => json!("2026-11-30"),
            _ => json!("矩阵测试：楼下夜间施工噪音扰民"),
        },
        "integer" | "number" => json!(1),
        "boolean" => json!(false),
        "array" => json!([]),
        "null" => Value::Null,
        _ => {
            let mut out = Map::new();
            let props = schema.get("properties").cloned().unwrap_or(json!({}));
            for r in schema
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let r = r.as_str().unwrap();
                out.insert(r.into(), sample(doc, &props[r], r, v));
            }
            // a unit acts for its own unit
            if props.get("unit_code").is_some() {
                out.insert("unit_code".into(), json!(STREET_A));
            }
            Value::Object(out)
        }
    }
}

/// Read-personal audit rows of `user` about ticket `id`.
fn audited(s: &Server, user: &str, id: i64) -> usize {
    let store = s.store();
    jiesu_store::TicketStore::recent_audit(&*store, 1_000_000)
        .unwrap()
        .into_iter()
        .filter(|e| e.user == user && e.action == "read_personal" && e.ticket == Some(id))
        .count()
}

/// (status, content type, body text) without parsing.
fn raw(
    s: &Server,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> (u16, String, String) {
    let mut req = ureq::request(method, &format!("{}{}", s.base, path));
    if let Some(t) = token {
        req = req.set("Authorization", &format!("Bearer {t}"));
    }
    let r = match body {
        Some(b) => req.set("Content-Type", "application/json").send_string(b),
        None => req.call(),
    };
    let resp = match r {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{method} {path}: {e}"),
    };
    let status = resp.status();
    let ct = resp.content_type().to_string();
    (status, ct, resp.into_string().unwrap_or_default())
}

fn new_ticket(
    s: &Server,
    disp: &str,
    leaf: &str,
    name: &str,
    phone: &str,
) -> (i64, String, String) {
    let body = json!({"channel": "phone", "type": "complaint", "category_code": leaf,
        "title": "夜间施工噪音扰民", "text": "夜间施工噪音扰民，请尽快处理。",
        "district_code": DISTRICT, "street_code": STREET_A,
        "requester": {"name": name, "phone": phone}});
    let (st, _, t) = call(
        s,
        "POST",
        "/api/v1/tickets",
        Some(disp),
        Some(&body.to_string()),
    );
    assert_eq!(st, 201, "{t}");
    let id = t["id"].as_i64().unwrap();
    let d = json!({"assignments": [{"unit_code": STREET_A, "role": "lead"}], "tier": "7d"});
    let (st, _, v) = call(
        s,
        "POST",
        &format!("/api/v1/tickets/{id}/dispatch"),
        Some(disp),
        Some(&d.to_string()),
    );
    assert_eq!(st, 200, "{v}");
    (
        id,
        t["number"].as_str().unwrap().to_string(),
        t["tracking_code"].as_str().unwrap().to_string(),
    )
}

#[test]
fn every_route_answers_every_role_as_the_capability_and_action_tables_say() {
    // every role a user account may have; a unit role on street A (the tickets' street) and on
    // street B (another street of the same district)
    let mut people: Vec<Who> = vec![Who {
        name: String::new(),
        role: None,
        unit: None,
    }];
    for r in Role::ALL.iter().copied().filter(|r| r.assignable()) {
        if r.is_unit() {
            for (tag, unit) in [("a", STREET_A), ("b", STREET_B)] {
                people.push(Who {
                    name: format!("{r}-{tag}"),
                    role: Some(r),
                    unit: Some(unit),
                });
            }
        } else {
            people.push(Who {
                name: r.to_string(),
                role: Some(r),
                unit: None,
            });
        }
    }
    let accounts: Vec<(String, String, Option<&str>)> = people
        .iter()
        .filter_map(|w| w.role.map(|r| (w.name.clone(), r.to_string(), w.unit)))
        .collect();
    let users: Vec<(&str, &str, Option<&str>)> = accounts
        .iter()
        .map(|(n, r, u)| (n.as_str(), r.as_str(), *u))
        .collect();
    let s = server_at_clock(&users);
    let mut tokens: std::collections::HashMap<String, String> = people
        .iter()
        .filter(|w| w.role.is_some())
        .map(|w| (w.name.clone(), login(&s, &w.name)))
        .collect();

    // the fixture: three tickets dispatched to street A — one never signed for (its phone stays
    // masked to units), one signed for by street A's handler, one the ticket actions act on
    let leaf = first_leaf(&s);
    let disp = tokens["dispatcher"].clone();
    let handler_a = tokens["unit_handler-a"].clone();
    let (masked_id, masked_no, code) = new_ticket(&s, &disp, &leaf, "矩阵甲", "13811110001");
    let (signed_id, signed_no, _) = new_ticket(&s, &disp, &leaf, "矩阵乙", "13822220002");
    let (act_id, act_no, _) = new_ticket(&s, &disp, &leaf, "矩阵丙", "13833330003");
    let (st, _, v) = call(
        &s,
        "POST",
        &format!("/api/v1/tickets/{signed_id}/sign"),
        Some(&handler_a),
        Some(&json!({"unit_code": STREET_A}).to_string()),
    );
    assert_eq!(st, 200, "sign: {v}");
    let fixtures = [
        Fixture {
            id: masked_id,
            number: masked_no,
            phone: "13811110001",
            name: "矩阵甲",
            signed: false,
        },
        Fixture {
            id: signed_id,
            number: signed_no,
            phone: "13822220002",
            name: "矩阵乙",
            signed: true,
        },
        Fixture {
            id: act_id,
            number: act_no,
            phone: "13833330003",
            name: "矩阵丙",
            signed: false,
        },
    ];
    // an attachment of each ticket, and a knowledge-base article
    let attachments: Vec<String> = fixtures
        .iter()
        .map(|f| {
            let (st, _, att) = raw(
                &s,
                "POST",
                &format!("/api/v1/tickets/{}/attachments?name=a.txt", f.id),
                Some(&disp),
                Some("{}"),
            );
            assert_eq!(st, 201, "{att}");
            let att: Value = serde_json::from_str(&att).unwrap();
            att["id"].as_str().unwrap().to_string()
        })
        .collect();
    let article = json!({"question": "夜间施工噪音扰民向哪里反映？",
        "answer": "夜间施工噪音扰民可向所在街道办事处反映，工作日上午九点至下午五点受理。",
        "owner_unit": STREET_A, "categories": [leaf.clone()], "valid_from": null, "valid_to": null});
    let (st, _, a) = call(
        &s,
        "POST",
        "/api/v1/kb/articles",
        Some(&tokens["supervisor"]),
        Some(&article.to_string()),
    );
    assert_eq!(st, 201, "article: {a}");
    let article_id = a["id"].as_str().unwrap().to_string();

    let (_, _, doc) = call(&s, "GET", "/api/openapi.json", None, None);
    let query = format!("from=2026-11-01&to=2026-12-01&code={code}");

    let mut cells = 0usize;
    let mut allowed_2xx = 0usize;
    let mut unmasked_reads = 0usize;
    let mut routes = 0usize;
    let mut problems: Vec<String> = Vec::new();
    let paths = doc["paths"].as_object().unwrap();
    for (path, ops) in paths {
        for (method, op) in ops.as_object().unwrap() {
            routes += 1;
            let access = access_of(method, path, op);
            let ticket_scoped = path.starts_with("/api/v1/tickets/{id}");
            let is_action = matches!(access, Access::Action(_));
            // ticket routes: each fixture ticket (actions on the third only, as they change it)
            let tickets: Vec<&Fixture> = if !ticket_scoped {
                vec![&fixtures[0]]
            } else if is_action {
                vec![&fixtures[2]]
            } else {
                fixtures.iter().collect()
            };
            let version = match op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|p| p["name"] == "version")
            {
                Some(p) if p["schema"]["type"] == "integer" => "1",
                _ => "draft",
            };
            for t in tickets {
                let t_index = fixtures.iter().position(|f| f.id == t.id).unwrap();
                let url_path = path
                    .replace(
                        "{id}",
                        &if path.starts_with("/api/v1/kb/articles/") {
                            article_id.clone()
                        } else {
                            t.id.to_string()
                        },
                    )
                    .replace("{att}", &attachments[t_index])
                    .replace("{token}", "no-such-rating-token")
                    .replace("{session}", "0123456789abcdef0123456789abcdef")
                    .replace("{number}", &t.number)
                    .replace("{period}", "2026-11")
                    .replace("{level}", "street")
                    .replace("{code}", STREET_A)
                    .replace("{street}", STREET_A)
                    .replace("{ticket}", &t.id.to_string())
                    .replace("{version}", version)
                    .replace("{step}", "submit")
                    .replace("{kind}", "daily")
                    .replace("{action}", "acknowledge")
                    .replace("{n}", "1")
                    .replace("{day}", "2026-11-29");
                assert!(
                    !url_path.contains('{'),
                    "{method} {path}: a path parameter the matrix cannot fill"
                );
                let url = if method == "get" {
                    format!("{url_path}?{query}")
                } else {
                    url_path.clone()
                };
                let body = op.get("requestBody").map(|rb| {
                    let schema = &rb["content"]["application/json"]["schema"];
                    sample(
                        &doc,
                        schema,
                        "",
                        &Values {
                            leaf: leaf.clone(),
                            ticket: t.id,
                        },
                    )
                    .to_string()
                });
                for who in &people {
                    cells += 1;
                    let want = expect(access, who, ticket_scoped);
                    let token = who.role.map(|_| tokens[&who.name].clone());
                    let before: Vec<usize> = if who.role.is_some() {
                        fixtures
                            .iter()
                            .map(|f| audited(&s, &who.name, f.id))
                            .collect()
                    } else {
                        vec![]
                    };
                    let (st, ct, text) = raw(
                        &s,
                        &method.to_uppercase(),
                        &url,
                        token.as_deref(),
                        body.as_deref(),
                    );
                    let cell = format!("{} {} as {}", method.to_uppercase(), url, who.label());
                    match &want {
                        Expect::Denied(codes) => {
                            if !codes.contains(&st) {
                                problems.push(format!(
                                    "{cell}: {st}, expected one of {codes:?} (denied): {}",
                                    &text[..text.len().min(200)]
                                ));
                            } else if !ct.starts_with("application/problem+json") {
                                problems
                                    .push(format!("{cell}: a refusal as {ct}, not problem+json"));
                            }
                        }
                        Expect::Allowed => {
                            // the log-in's own 401 (a wrong password) is its answer, not a refusal
                            // of the caller: only "log in first" is
                            let refused_401 = st == 401
                                && (!matches!(access, Access::Public)
                                    || text.contains("\"code\":\"unauthorized\""));
                            if refused_401 || st == 403 || (ticket_scoped && st == 404) {
                                problems.push(format!(
                                    "{cell}: {st}, expected to be allowed: {}",
                                    &text[..text.len().min(200)]
                                ));
                            }
                            if (200..300).contains(&st) {
                                allowed_2xx += 1;
                            }
                        }
                    }
                    if !(200..300).contains(&st) {
                        continue;
                    }
                    if matches!(want, Expect::Denied(_)) {
                        continue;
                    }
                    // what a 2xx answer may hold
                    let unit = who.role.is_some_and(|r| r.is_unit());
                    let foreign_unit = unit && !who.covers_street_a();
                    for (i, f) in fixtures.iter().enumerate() {
                        let shows_phone = text.contains(f.phone);
                        // a public answer is the same for everyone (the public scorecard's
                        // drill-down names ticket numbers, tracking shows the timeline): it may
                        // hold no personal data, checked below
                        if foreign_unit
                            && !access_is_public(access)
                            && (shows_phone || text.contains(&f.number) || text.contains(f.name))
                        {
                            problems.push(format!(
                                "{cell}: a foreign unit sees ticket {} (number, name or phone)",
                                f.number
                            ));
                        }
                        if (shows_phone || text.contains(f.name))
                            && (who.role.is_none() || access_is_public(access))
                        {
                            problems.push(format!("{cell}: the requester's phone or name of ticket {} in a public answer", f.number));
                        }
                        if shows_phone && unit && !f.signed && i != 2 {
                            problems.push(format!("{cell}: a unit sees the phone of ticket {} unmasked before signing", f.number));
                        }
                        if shows_phone {
                            unmasked_reads += 1;
                        }
                        if shows_phone
                            && who.role.is_some()
                            && audited(&s, &who.name, f.id) <= before[i]
                        {
                            problems.push(format!("{cell}: the phone of ticket {} shown unmasked without an audit row", f.number));
                        }
                    }
                    // a log-out (or anything else that ends the session) needs a new log-in
                    if let Some(tok) = &token {
                        let (me, _, _) = raw(&s, "GET", "/api/v1/me", Some(tok), None);
                        if me == 401 {
                            tokens.insert(who.name.clone(), login(&s, &who.name));
                        }
                    }
                }
            }
        }
    }
    println!(
        "authorization matrix: {routes} operations × {} callers ({} roles and anonymous; unit roles on their own street and another) → {cells} cells checked, {allowed_2xx} allowed with a 2xx answer, {unmasked_reads} unmasked reads each with its audit row",
        people.len(),
        people.len() - 1
    );
    assert!(
        unmasked_reads > 0,
        "no cell read a phone unmasked: the audit check checked nothing"
    );
    assert!(
        problems.is_empty(),
        "{} of {cells} cells are wrong:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

fn access_is_public(a: Access) -> bool {
    matches!(a, Access::Public)
}
