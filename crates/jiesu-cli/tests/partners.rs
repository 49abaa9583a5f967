//! Channels against the real binary (docs/CHANNELS.md): partners' HMAC-signed requests filed
//! through the same intake (bad signatures, stale timestamps and replayed nonces refused with
//! nothing filed, on the server's test clock), transfers to 110/119/120/122 and the services'
//! replies in the ticket's history, and grid reports (网格上报) with position and photo.

mod common;
use common::*;
use serde_json::{json, Value};

/// A partner as `jiesu partner add` printed it: the API key and the signing secret.
struct Partner {
    key: String,
    secret: String,
}

fn add_partner(db: &str, name: &str, channel: &str, serves: Option<&str>) -> Partner {
    let mut args = vec![
        "partner",
        "add",
        "--db",
        db,
        "--name",
        name,
        "--channel",
        channel,
    ];
    if let Some(s) = serves {
        args.extend(["--serves", s]);
    }
    let out = ok(&args);
    let mut lines = out.lines();
    let key = lines.next().unwrap().to_string();
    let secret = lines.next().unwrap().to_string();
    assert!(key.starts_with("o311_"), "{out}");
    assert!(secret.starts_with("ps_") && secret.len() == 67, "{out}");
    Partner { key, secret }
}

/// A city at the test clock with a district's WeChat account and the 110 linkage as partners.
fn city() -> (Server, Partner, Partner) {
    let (mut wechat, mut linkage) = (None, None);
    let s = server_full(
        |db| {
            let d = db.to_str().unwrap();
            ok(&["init", "--db", d]);
            wechat = Some(add_partner(d, "海淀微信公众号", "wechat", None));
            linkage = Some(add_partner(d, "110联动", "partner_hotline", Some("110")));
        },
        &[
            ("agent1", "agent", None),
            ("admin1", "admin", None),
            ("sup1", "supervisor", None),
            ("grid1", "grid_worker", None),
        ],
        &["--test-clock", TEST_CLOCK],
        &[],
    );
    (s, wechat.unwrap(), linkage.unwrap())
}

fn hmac_hex(secret: &str, text: &str) -> String {
    use hmac::{Hmac, Mac};
    let mut m = <Hmac<sha2::Sha256> as Mac>::new_from_slice(secret.as_bytes()).unwrap();
    m.update(text.as_bytes());
    hex::encode(m.finalize().into_bytes())
}

fn sha256_hex(b: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(b))
}

/// What a signed request is made of (each part can be spoiled by a test).
struct Req<'a> {
    path: &'a str,
    body: String,
    ts: i64,
    nonce: String,
    /// The body actually sent (the signed one unless a test swaps it).
    sent: Option<String>,
    signature: Option<String>,
    idempotency: Option<&'a str>,
}

impl<'a> Req<'a> {
    fn new(path: &'a str, body: &Value, nonce: &str) -> Req<'a> {
        Req {
            path,
            body: body.to_string(),
            ts: test_now().timestamp(),
            nonce: nonce.to_string(),
            sent: None,
            signature: None,
            idempotency: None,
        }
    }
}

/// Sends a signed request as the docs say: HMAC-SHA256 over method, path, timestamp, nonce and
/// the body's SHA-256, one per line.
fn signed(s: &Server, p: &Partner, r: &Req) -> (u16, String, Value) {
    let text = format!(
        "POST\n{}\n{}\n{}\n{}",
        r.path,
        r.ts,
        r.nonce,
        sha256_hex(r.body.as_bytes())
    );
    let sig = r
        .signature
        .clone()
        .unwrap_or_else(|| hmac_hex(&p.secret, &text));
    let mut req = ureq::post(&format!("{}{}", s.base, r.path))
        .set("Content-Type", "application/json")
        .set("X-Jiesu-Key", &p.key)
        .set("X-Jiesu-Timestamp", &r.ts.to_string())
        .set("X-Jiesu-Nonce", &r.nonce)
        .set("X-Jiesu-Signature", &sig);
    if let Some(k) = r.idempotency {
        req = req.set("Idempotency-Key", k);
    }
    let resp = match req.send_string(r.sent.as_deref().unwrap_or(&r.body)) {
        Ok(x) => x,
        Err(ureq::Error::Status(_, x)) => x,
        Err(e) => panic!("{e}"),
    };
    let st = resp.status();
    let ct = resp.content_type().to_string();
    let text = resp.into_string().unwrap();
    (
        st,
        ct,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

fn intake(s: &Server, title: &str, text: &str) -> Value {
    json!({"type": "complaint", "category_code": first_leaf(s), "title": title, "text": text,
        "district_code": "110108", "street_code": "110108010",
        "requester": {"name": "赵先生", "phone": "13912345678"}})
}

fn ticket_total(s: &Server, token: &str) -> u64 {
    let (st, _, v) = call(s, "GET", "/api/v1/tickets", Some(token), None);
    assert_eq!(st, 200, "{v}");
    v["total"].as_u64().unwrap()
}

/// A refusal: 401 problem+json with its code, in Chinese and English.
fn assert_refused(r: (u16, String, Value), code: &str) {
    let (st, ct, v) = r;
    assert_eq!(st, 401, "{v}");
    assert!(ct.starts_with("application/problem+json"), "{ct}");
    assert_eq!(v["code"], code, "{v}");
    assert!(!v["detail"].as_str().unwrap().is_empty(), "{v}");
    assert!(!v["detail_zh"].as_str().unwrap_or("").is_empty(), "{v}");
}

#[test]
fn a_signed_partner_request_is_filed_under_its_channel_and_bad_stale_or_replayed_ones_file_nothing()
{
    let (s, wechat, _) = city();
    let agent = login(&s, "agent1");
    let path = "/api/v1/partner/tickets";
    let body = intake(
        &s,
        "路灯不亮",
        "学院路某小区门口路灯连续一周不亮，晚上出行不便。",
    );

    // a well-signed request is filed, under the partner's channel whatever the body says
    let mut b = body.clone();
    b["channel"] = json!("phone");
    let (st, _, v) = signed(&s, &wechat, &Req::new(path, &b, "nonce-0000000000000001"));
    assert_eq!(st, 201, "{v}");
    assert_eq!(v["channel"], "wechat", "{v}");
    let number = v["number"].as_str().unwrap().to_string();
    assert_eq!(ticket_total(&s, &agent), 1);

    // the same request again: its nonce is spent
    assert_refused(
        signed(&s, &wechat, &Req::new(path, &b, "nonce-0000000000000001")),
        "signature_replayed",
    );
    // a wrong signature
    let mut r = Req::new(path, &body, "nonce-0000000000000002");
    r.signature = Some(hmac_hex("not-the-secret", "x"));
    assert_refused(signed(&s, &wechat, &r), "signature_invalid");
    // the body changed after signing
    let mut r = Req::new(path, &body, "nonce-0000000000000003");
    r.sent = Some(intake(&s, "路灯不亮", "另一段文字").to_string());
    assert_refused(signed(&s, &wechat, &r), "signature_invalid");
    // a key nobody has
    let stranger = Partner {
        key: "o311_nobody".into(),
        secret: wechat.secret.clone(),
    };
    assert_refused(
        signed(
            &s,
            &stranger,
            &Req::new(path, &body, "nonce-0000000000000004"),
        ),
        "signature_invalid",
    );
    // timestamps more than 300 s from the server's clock, either way (the test clock runs on
    // from TEST_CLOCK, so the offsets keep a margin of seconds)
    for off in [-400, 400] {
        let sign = if off < 0 { "behind" } else { "ahead" };
        let mut r = Req::new(path, &body, &format!("nonce-stale-{sign}-000000"));
        r.ts += off;
        assert_refused(signed(&s, &wechat, &r), "signature_stale");
    }
    // no signature at all
    let (st, ct, v) = call(&s, "POST", path, None, Some(&body.to_string()));
    assert_refused((st, ct, v), "signature_missing");
    assert_eq!(
        ticket_total(&s, &agent),
        1,
        "a refused request filed nothing"
    );

    // within the skew it is accepted …
    let mut r = Req::new(path, &body, "nonce-0000000000000005");
    r.ts -= 200;
    r.idempotency = Some("wx-msg-42");
    let (st, _, first) = signed(&s, &wechat, &r);
    assert_eq!(st, 201, "{first}");
    // … the same Idempotency-Key with a new nonce answers the same ticket, filed once
    let mut r = Req::new(path, &body, "nonce-0000000000000006");
    r.idempotency = Some("wx-msg-42");
    let (st, _, again) = signed(&s, &wechat, &r);
    assert_eq!(st, 200, "{again}");
    assert_eq!(again["number"], first["number"]);
    assert_eq!(again["replayed"], true);
    assert_eq!(ticket_total(&s, &agent), 2);

    // once the server's clock moves on 10 minutes, a request stamped at the old time is stale
    let admin = login(&s, "admin1");
    let (st, _, v) = call(
        &s,
        "POST",
        "/api/v1/test-clock",
        Some(&admin),
        Some(r#"{"advance_seconds": 600}"#),
    );
    assert_eq!(st, 200, "{v}");
    assert_refused(
        signed(
            &s,
            &wechat,
            &Req::new(path, &body, "nonce-0000000000000007"),
        ),
        "signature_stale",
    );
    let mut r = Req::new(path, &body, "nonce-0000000000000008");
    r.ts += 600;
    assert_eq!(signed(&s, &wechat, &r).0, 201);

    // the filed ticket went through the same intake: its channel and the partner as creator
    let (_, _, list) = call(
        &s,
        "GET",
        "/api/v1/tickets?page_size=50",
        Some(&agent),
        None,
    );
    let item = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["number"] == number.as_str())
        .unwrap_or_else(|| panic!("{list}"));
    let id = item["id"].as_i64().unwrap();
    let (_, _, ev) = call(
        &s,
        "GET",
        &format!("/api/v1/tickets/{id}/events"),
        Some(&agent),
        None,
    );
    let created = &ev.as_array().unwrap()[0];
    assert_eq!(
        created["actor"]["user"], "partner:海淀微信公众号",
        "{created}"
    );
}

fn kinds(ev: &Value) -> Vec<(String, String)> {
    ev.as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().unwrap_or_default().to_string(),
                e["actor"]["user"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[test]
fn a_transfer_to_110_and_the_linkage_s_signed_reply_are_in_the_ticket_s_history() {
    let (s, wechat, linkage) = city();
    let agent = login(&s, "agent1");
    // the risk push marks a request for transfer at intake
    let body = intake(
        &s,
        "有人持刀闹事",
        "小区门口有人持刀威胁路人，情况紧急，请尽快处理。",
    );
    let (st, _, t) = call(
        &s,
        "POST",
        "/api/v1/tickets",
        Some(&agent),
        Some(&body.to_string()),
    );
    assert_eq!(st, 201, "{t}");
    let id = t["id"].as_i64().unwrap();
    let number = t["number"].as_str().unwrap().to_string();
    let (_, _, view) = call(
        &s,
        "GET",
        &format!("/api/v1/tickets/{id}"),
        Some(&agent),
        None,
    );
    let pending: Vec<&str> = view["transfers_pending"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap())
        .collect();
    assert!(pending.contains(&"110"), "marked for 110: {view}");
    let allowed = view["allowed_actions"].as_array().unwrap();
    assert!(allowed.contains(&json!("transfer")), "{view}");
    assert!(
        !allowed.contains(&json!("transfer-reply")),
        "nothing to reply to yet: {view}"
    );

    // the partner cannot reply before anything was transferred to it
    let reply_path = format!("/api/v1/partner/tickets/{number}/transfer-reply");
    let reply = json!({"outcome": "accepted", "text": "已派警", "reference": "JJ-20261130-0042"});
    let (st, _, v) = signed(
        &s,
        &linkage,
        &Req::new(&reply_path, &reply, "reply-000000000000001"),
    );
    assert_eq!(st, 404, "{v}");

    // the agent transfers it: to whom, why; who and when are recorded
    let (st, _, v) = call(
        &s,
        "POST",
        &format!("/api/v1/tickets/{id}/transfer"),
        Some(&agent),
        Some(r#"{"to": "110", "reason": "持刀威胁，转公安110"}"#),
    );
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["transfers"][0]["to"], "110");
    assert_eq!(v["transfers"][0]["by"], "agent1");
    let at =
        chrono::DateTime::parse_from_rfc3339(v["transfers"][0]["at"].as_str().unwrap()).unwrap();
    assert!(at >= test_now(), "recorded on the server's clock: {v}");
    assert!(v["transfers_pending"]
        .as_array()
        .unwrap()
        .iter()
        .all(|x| x != "110"));
    // a second transfer to 110 while the first waits is refused
    let (st, _, v) = call(
        &s,
        "POST",
        &format!("/api/v1/tickets/{id}/transfer"),
        Some(&agent),
        Some(r#"{"to": "110", "reason": "再次转接"}"#),
    );
    assert_eq!(st, 422, "{v}");
    assert_eq!(v["field"], "to");

    // a partner that answers no transfers may not reply
    let (st, _, v) = signed(
        &s,
        &wechat,
        &Req::new(&reply_path, &reply, "reply-000000000000002"),
    );
    assert_eq!(st, 403, "{v}");
    // the 110 linkage replies through the signed API: accepted
    let (st, _, v) = signed(
        &s,
        &linkage,
        &Req::new(&reply_path, &reply, "reply-000000000000003"),
    );
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["transfer"]["replies"][0]["outcome"], "accepted");
    assert_eq!(v["transfer"]["replies"][0]["reference"], "JJ-20261130-0042");
    assert_eq!(v["transfer"]["replies"][0]["by"], "partner:110联动");
    // its replayed request is refused and records nothing more
    assert_refused(
        signed(
            &s,
            &linkage,
            &Req::new(&reply_path, &reply, "reply-000000000000003"),
        ),
        "signature_replayed",
    );
    // a second "accepted" is refused by the domain
    let (st, _, v) = signed(
        &s,
        &linkage,
        &Req::new(&reply_path, &reply, "reply-000000000000004"),
    );
    assert_eq!(st, 422, "{v}");

    // the agent enters the last word from the phone: handled
    let (st, _, v) = call(
        &s,
        "POST",
        &format!("/api/v1/tickets/{id}/transfer-reply"),
        Some(&agent),
        Some(r#"{"to": "110", "outcome": "handled", "text": "民警到场处置完毕，已带离"}"#),
    );
    assert_eq!(st, 200, "{v}");
    let replies = v["transfers"][0]["replies"].as_array().unwrap();
    assert_eq!(replies.len(), 2);
    assert_eq!(replies[1]["outcome"], "handled");
    assert_eq!(replies[1]["by"], "agent1");
    assert!(!v["allowed_actions"]
        .as_array()
        .unwrap()
        .contains(&json!("transfer-reply")));
    // nothing waits for a reply now
    let (st, _, _) = signed(
        &s,
        &linkage,
        &Req::new(
            &reply_path,
            &json!({"outcome": "handled", "text": "x"}),
            "reply-000000000000005",
        ),
    );
    assert_eq!(st, 422);

    // the history: transferred out, replied by the partner, replied by the agent
    let (_, _, ev) = call(
        &s,
        "GET",
        &format!("/api/v1/tickets/{id}/events"),
        Some(&agent),
        None,
    );
    let k = kinds(&ev);
    let tail: Vec<(&str, &str)> = k
        .iter()
        .filter(|(kind, _)| kind.starts_with("transfer"))
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    assert_eq!(
        tail,
        vec![
            ("transferred_out", "agent1"),
            ("transfer_replied", "partner:110联动"),
            ("transfer_replied", "agent1"),
        ],
        "{ev}"
    );
    // and the citizen's tracking shows none of it (internal)
    let code = t["tracking_code"].as_str().unwrap();
    let (st, _, track) = call(
        &s,
        "GET",
        &format!("/api/v1/track/{number}?code={code}"),
        None,
        None,
    );
    assert_eq!(st, 200, "{track}");
    assert!(!track.to_string().contains("transfer"), "{track}");
    assert!(!track.to_string().contains("JJ-20261130"), "{track}");
}

#[test]
fn a_grid_worker_files_a_report_with_position_and_photo_and_sees_no_other_ticket() {
    let (s, _, _) = city();
    let grid = login(&s, "grid1");
    let agent = login(&s, "agent1");
    let (_, _, me) = call(&s, "GET", "/api/v1/me", Some(&grid), None);
    assert_eq!(me["capabilities"], json!(["grid-report"]), "{me}");

    let mut report = intake(&s, "井盖缺失", "学院路某小区东门外井盖缺失，行人容易踩空。");
    report["type"] = json!("report");
    report["lat"] = json!(39.9925);
    report["lng"] = json!(116.3391);
    let (st, _, r) = call(
        &s,
        "POST",
        "/api/v1/grid/reports",
        Some(&grid),
        Some(&report.to_string()),
    );
    assert_eq!(st, 201, "{r}");
    assert_eq!(r["channel"], "grid");
    assert_eq!(r["lat"], 39.9925);
    let id = r["id"].as_i64().unwrap();

    // a photo of the report (a JPEG's first bytes are enough for the store)
    let jpeg: &[u8] = &[
        0xFF, 0xD8, 0xFF, 0xE0, 0, 16, b'J', b'F', b'I', b'F', 0, 1, 0xFF, 0xD9,
    ];
    let photo = |target: i64, ctype: &str| {
        let resp = ureq::post(&format!(
            "{}/api/v1/grid/reports/{target}/photos?name=manhole.jpg",
            s.base
        ))
        .set("Authorization", &format!("Bearer {grid}"))
        .set("Content-Type", ctype)
        .send_bytes(jpeg);
        match resp {
            Ok(x) => (x.status(), x.into_string().unwrap()),
            Err(ureq::Error::Status(c, x)) => (c, x.into_string().unwrap()),
            Err(e) => panic!("{e}"),
        }
    };
    let (st, body) = photo(id, "image/jpeg");
    assert_eq!(st, 201, "{body}");
    let (st, _) = photo(id, "text/plain");
    assert_eq!(st, 415);

    // a manual position: no coordinates, the street and community picked by hand
    let mut manual = report.clone();
    manual.as_object_mut().unwrap().remove("lat");
    manual.as_object_mut().unwrap().remove("lng");
    manual["address"] = json!("学院路20号院东门");
    let (st, _, m) = call(
        &s,
        "POST",
        "/api/v1/grid/reports",
        Some(&grid),
        Some(&manual.to_string()),
    );
    assert_eq!(st, 201, "{m}");
    assert_eq!(m["lat"], Value::Null);
    // half a position is refused
    let mut half = report.clone();
    half.as_object_mut().unwrap().remove("lng");
    let (st, _, v) = call(
        &s,
        "POST",
        "/api/v1/grid/reports",
        Some(&grid),
        Some(&half.to_string()),
    );
    assert_eq!(st, 422, "{v}");

    // the grid worker sees no ticket and cannot add photos to another's
    let (st, _, _) = call(&s, "GET", "/api/v1/tickets", Some(&grid), None);
    assert_eq!(st, 403);
    let (st, _, staff) = call(
        &s,
        "POST",
        "/api/v1/tickets",
        Some(&agent),
        Some(&intake(&s, "噪音", "夜间施工噪音扰民").to_string()),
    );
    assert_eq!(st, 201, "{staff}");
    let (st, _) = photo(staff["id"].as_i64().unwrap(), "image/jpeg");
    assert_eq!(st, 404);
    let (st, _, _) = call(&s, "GET", "/api/v1/grid/reports", Some(&agent), None);
    assert!(st == 404 || st == 405, "{st}");
    let (st, _, v) = call(
        &s,
        "POST",
        "/api/v1/grid/reports",
        Some(&agent),
        Some(&report.to_string()),
    );
    assert_eq!(st, 403, "an agent is no grid worker: {v}");

    // the centre sees the report like any ticket: channel, position, the photo in its history
    let (_, _, t) = call(
        &s,
        "GET",
        &format!("/api/v1/tickets/{id}"),
        Some(&agent),
        None,
    );
    assert_eq!(t["channel"], "grid", "{t}");
    let (_, _, ev) = call(
        &s,
        "GET",
        &format!("/api/v1/tickets/{id}/events"),
        Some(&agent),
        None,
    );
    let k = kinds(&ev);
    assert_eq!(k[0], ("created".to_string(), "grid1".to_string()));
    assert!(
        k.contains(&("attachment_added".to_string(), "grid1".to_string())),
        "{ev}"
    );
    assert!(
        ev.to_string().contains("39.9925"),
        "the position is stored with the ticket: {ev}"
    );

    // and analysed like any other: the channel dimension counts the grid's reports
    let sup = login(&s, "sup1");
    let (st, _, g) = call(
        &s,
        "GET",
        "/api/v1/analytics/group?by=channel&from=2026-11-01&to=2026-12-31",
        Some(&sup),
        None,
    );
    assert_eq!(st, 200, "{g}");
    let rows = g["rows"].as_array().unwrap_or_else(|| panic!("{g}"));
    let grid_row = rows
        .iter()
        .find(|r| r["keys"][0]["code"] == "grid")
        .unwrap_or_else(|| panic!("no grid row: {g}"));
    assert_eq!(grid_row["count"], 2, "{grid_row}");
}

#[test]
fn a_rotated_secret_signs_at_once_and_the_old_one_only_until_the_grace_period_ends() {
    let (s, wechat, _) = city();
    let path = "/api/v1/partner/tickets";
    let body = intake(
        &s,
        "井盖松动",
        "学院路某小区门口井盖松动，车辆经过时响声很大。",
    );
    let admin = login(&s, "admin1");
    let (_, _, list) = call(&s, "GET", "/api/v1/admin/partners", Some(&admin), None);
    let id = list
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "海淀微信公众号")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let rotate = |tok: &str, body: &str| {
        call(
            &s,
            "POST",
            &format!("/api/v1/admin/partners/{id}/rotate-secret"),
            Some(tok),
            Some(body),
        )
    };
    // only the admin rotates; a partner without a secret, or none at all, is 404
    let (st, _, _) = rotate(&login(&s, "sup1"), "{}");
    assert_eq!(st, 403);
    let (st, _, v) = rotate(&admin, r#"{"grace_hours": 169}"#);
    assert_eq!((st, v["field"].as_str()), (422, Some("grace_hours")), "{v}");
    let (st, _, _) = call(
        &s,
        "POST",
        "/api/v1/admin/partners/999999/rotate-secret",
        Some(&admin),
        Some("{}"),
    );
    assert_eq!(st, 404);
    // a partner added in the admin page has no signing secret: rotating gives it its first
    let (st, _, added) = call(
        &s,
        "POST",
        "/api/v1/admin/partners",
        Some(&admin),
        Some(r#"{"name": "燃气公司热线", "channel": "wechat"}"#),
    );
    assert_eq!(st, 201, "{added}");
    let added_id = added["id"].as_i64().unwrap();
    let (st, _, first) = call(
        &s,
        "POST",
        &format!("/api/v1/admin/partners/{added_id}/rotate-secret"),
        Some(&admin),
        Some("{}"),
    );
    assert_eq!(st, 200, "{first}");
    let gas = Partner {
        key: added["key"].as_str().unwrap().to_string(),
        secret: first["secret"].as_str().unwrap().to_string(),
    };
    assert!(gas.secret.starts_with("ps_"), "{first}");
    let (st, _, v) = signed(&s, &gas, &Req::new(path, &body, "rotate-first-0000000001"));
    assert_eq!(st, 201, "the first secret signs: {v}");

    // the default grace: 24 hours on the server's clock
    let (st, _, v) = rotate(&admin, "{}");
    assert_eq!(st, 200, "{v}");
    let new = Partner {
        key: wechat.key.clone(),
        secret: v["secret"].as_str().unwrap().to_string(),
    };
    assert!(new.secret.starts_with("ps_") && new.secret != wechat.secret);
    // the clock runs from the test clock's start: the grace ends 24 hours after the rotation
    let until: chrono::DateTime<chrono::Utc> =
        v["previous_valid_until"].as_str().unwrap().parse().unwrap();
    let from_start = until - test_now();
    assert!(
        from_start >= chrono::Duration::hours(24)
            && from_start < chrono::Duration::hours(24) + chrono::Duration::minutes(10),
        "{v}"
    );
    // both sign now
    let (st, _, v) = signed(&s, &new, &Req::new(path, &body, "rotate-000000000000001"));
    assert_eq!(st, 201, "{v}");
    let (st, _, v) = signed(
        &s,
        &wechat,
        &Req::new(path, &body, "rotate-000000000000002"),
    );
    assert_eq!(st, 201, "the old secret within its grace: {v}");

    // the server's clock moved on: its time after the move
    let advance = |secs: i64| -> i64 {
        let (st, _, v) = call(
            &s,
            "POST",
            "/api/v1/test-clock",
            Some(&login(&s, "admin1")),
            Some(&format!(r#"{{"advance_seconds": {secs}}}"#)),
        );
        assert_eq!(st, 200, "{v}");
        let now: chrono::DateTime<chrono::Utc> = v["now"].as_str().unwrap().parse().unwrap();
        now.timestamp()
    };
    // 23 hours on, the old secret still signs; 25 hours on it is refused, the new one signs on
    let at = |ts: i64, nonce: &str| {
        let mut r = Req::new(path, &body, nonce);
        r.ts = ts;
        r
    };
    let now = advance(23 * 3600);
    assert!(now < until.timestamp());
    assert_eq!(
        signed(&s, &wechat, &at(now, "rotate-000000000000003")).0,
        201
    );
    let now = advance(2 * 3600);
    assert!(now > until.timestamp());
    assert_refused(
        signed(&s, &wechat, &at(now, "rotate-000000000000004")),
        "signature_invalid",
    );
    assert_eq!(
        signed(&s, &new, &at(now, "rotate-000000000000005")).0,
        201,
        "the new secret signs on"
    );

    // the rotation is in the audit log, with who and until when
    let admin = login(&s, "admin1");
    let audit = jiesu_store::TicketStore::recent_audit(&*s.store(), 100).unwrap();
    let rot: Vec<_> = audit
        .iter()
        .filter(|e| e.action == "partner_secret_rotated")
        .collect();
    assert_eq!(rot.len(), 1, "{audit:?}");
    assert_eq!(rot[0].user, "admin1");
    assert!(rot[0].detail.contains(&until.to_rfc3339()), "{:?}", rot[0]);

    // a rotation with no grace refuses the replaced secret at once
    let (st, _, v) = rotate(&admin, r#"{"grace_hours": 0}"#);
    assert_eq!(st, 200, "{v}");
    assert_refused(
        signed(&s, &new, &at(now, "rotate-000000000000006")),
        "signature_invalid",
    );
}
