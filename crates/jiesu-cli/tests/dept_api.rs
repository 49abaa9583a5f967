//! Department exports and APIs against the real binary: scoped department keys (their own unit's
//! tickets only, read-only, revocable, every read audited), webhooks of a unit's tickets, saved
//! exports made on schedule at city-time month ends, and open data without personal data.

mod common;
use common::*;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use std::io::Read;

fn users() -> Vec<(&'static str, &'static str, Option<&'static str>)> {
    vec![("admin1", "admin", None), ("disp1", "dispatcher", None)]
}

fn post(s: &Server, token: &str, path: &str, body: Value) -> (u16, Value) {
    let (st, _, v) = call(s, "POST", path, Some(token), Some(&body.to_string()));
    (st, v)
}

fn get(s: &Server, token: &str, path: &str) -> (u16, Value) {
    let (st, _, v) = call(s, "GET", path, Some(token), None);
    (st, v)
}

/// Raw GET: (status, content type, bytes).
fn get_bytes(s: &Server, token: Option<&str>, path: &str) -> (u16, String, Vec<u8>) {
    let mut req = ureq::get(&format!("{}{}", s.base, path));
    if let Some(t) = token {
        req = req.set("Authorization", &format!("Bearer {t}"));
    }
    let resp = match req.call() {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("GET {path}: {e}"),
    };
    let (st, ct) = (resp.status(), resp.content_type().to_string());
    let mut b = vec![];
    resp.into_reader().read_to_end(&mut b).unwrap();
    (st, ct, b)
}

fn new_key(s: &Server, admin: &str, unit: &str, role: &str) -> (i64, String) {
    let (st, v) = post(
        s,
        admin,
        "/api/v1/admin/dept-keys",
        json!({"name": format!("{unit} 接口"), "unit_code": unit, "role": role}),
    );
    assert_eq!(st, 201, "{v}");
    let key = v["key"].as_str().unwrap().to_string();
    assert!(key.starts_with("jdk_"));
    (v["id"].as_i64().unwrap(), key)
}

fn advance(s: &Server, seconds: i64) {
    let admin = login(s, "admin1");
    let (st, v) = post(
        s,
        &admin,
        "/api/v1/test-clock",
        json!({"advance_seconds": seconds}),
    );
    assert_eq!(st, 200, "{v}");
}

#[test]
fn a_department_key_reads_its_own_units_tickets_only_read_only_audited_and_revocable() {
    let s = server_at_clock(&users());
    let admin = login(&s, "admin1");
    let disp = login(&s, "disp1");
    let ours = complaint_dispatched_to(&s, &disp, "110105", "110105001", "13811112222");
    let foreign = complaint_dispatched_to(&s, &disp, "110108", "110108001", "13833334444");
    let (kid, key) = new_key(&s, &admin, "110105001", "unit_handler");

    // its own unit's tickets, and not a foreign unit's
    let (st, list) = get(&s, &key, "/api/v1/tickets");
    assert_eq!(st, 200, "{list}");
    let ids: Vec<i64> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [ours]);
    let (st, t) = get(&s, &key, &format!("/api/v1/tickets/{ours}"));
    assert_eq!(st, 200, "{t}");
    // dispatched but not signed for: the unit's role sees the phone masked
    assert!(!t.to_string().contains("13811112222"), "{t}");
    let (st, _) = get(&s, &key, &format!("/api/v1/tickets/{foreign}"));
    assert_eq!(st, 404);
    let (st, _) = get(&s, &key, "/api/v1/tickets?unit=110108001");
    assert_eq!(st, 404);
    // it only reads: an action is refused though a handler could sign
    let (st, v) = post(&s, &key, &format!("/api/v1/tickets/{ours}/sign"), json!({}));
    assert_eq!(
        (st, v["code"].as_str()),
        (403, Some("read_only_key")),
        "{v}"
    );
    // its role's capabilities decide: a handler has no analytics, a manager's key has them in scope
    let (st, _) = get(&s, &key, "/api/v1/analytics/group?by=district");
    assert_eq!(st, 403);
    let (_, mkey) = new_key(&s, &admin, "110105", "unit_manager");
    let (st, g) = get(
        &s,
        &mkey,
        "/api/v1/analytics/group?by=district&from=2026-11-01&to=2026-12-01",
    );
    assert_eq!(st, 200, "{g}");
    let districts: Vec<&str> = g["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["keys"][0]["code"].as_str().unwrap())
        .collect();
    assert_eq!(districts, ["110105"], "{g}");

    // the admin sees its use and what it read
    let (st, keys) = get(&s, &admin, "/api/v1/admin/dept-keys");
    assert_eq!(st, 200);
    let k = keys
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] == kid)
        .unwrap();
    assert_eq!(k["uses"], 6, "{k}");
    assert!(k["last_used_at"].is_string());
    assert_eq!(k["audit_user"], format!("key:{kid}"));
    assert!(k.get("key").is_none() && !keys.to_string().contains(&key));
    let (_, reads) = get(&s, &admin, &format!("/api/v1/admin/dept-keys/{kid}/reads"));
    let whats: Vec<&str> = reads
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["what"].as_str().unwrap())
        .collect();
    assert!(
        whats.contains(&format!("GET /api/v1/tickets/{foreign}").as_str()),
        "{whats:?}"
    );
    assert!(whats.contains(&format!("POST /api/v1/tickets/{ours}/sign").as_str()));
    assert_eq!(whats.len(), 6);
    // nobody else manages keys
    let (st, _) = get(&s, &disp, "/api/v1/admin/dept-keys");
    assert_eq!(st, 403);

    // revoked: refused at once
    let (st, _) = post(
        &s,
        &admin,
        &format!("/api/v1/admin/dept-keys/{kid}/revoke"),
        json!({}),
    );
    assert_eq!(st, 204);
    let (st, _) = get(&s, &key, "/api/v1/tickets");
    assert_eq!(st, 401);
    let (st, _) = get(&s, "jdk_0000", "/api/v1/tickets");
    assert_eq!(st, 401);
}

fn wait_for(got: &Received, what: impl Fn(&[(String, String)]) -> bool) -> Vec<(String, String)> {
    for _ in 0..300 {
        if what(&got.lock().unwrap()) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    got.lock().unwrap().clone()
}

#[test]
fn a_monthly_export_is_made_once_when_the_month_ends_in_city_time_and_the_units_webhook_hears_of_it(
) {
    const SECRET: &str = "a-department-secret-0123";
    let (url, got) = receiver();
    let (other_url, other_got) = receiver();
    let s = server_at_clock(&users());
    let admin = login(&s, "admin1");
    let disp = login(&s, "disp1");
    let (st, v) = post(
        &s,
        &admin,
        "/api/v1/admin/webhooks",
        json!({"unit_code": "110105001", "url": url, "secret": SECRET}),
    );
    assert_eq!(st, 201, "{v}");
    let (st, _) = post(
        &s,
        &admin,
        "/api/v1/admin/webhooks",
        json!({"unit_code": "110108001", "url": other_url}),
    );
    assert_eq!(st, 201);
    // 23:30 on 30 November in Beijing: a November ticket
    let ours = complaint_dispatched_to(&s, &disp, "110105", "110105001", "13855556666");
    let (st, e) = post(
        &s,
        &admin,
        "/api/v1/exports",
        json!({"unit_code": "110105001", "name": "月度工单明细", "format": "csv", "schedule": "monthly",
               "columns": ["ticket_id", "created_month", "category", "status", "street"]}),
    );
    assert_eq!(st, 201, "{e}");
    let eid = e["id"].as_i64().unwrap();
    // sessions end as the clock moves on: log in afresh each time
    let runs = |s: &Server| -> Vec<Value> {
        let (_, list) = get(s, &login(s, "admin1"), "/api/v1/exports");
        list.as_array()
            .unwrap()
            .iter()
            .find(|x| x["id"] == eid)
            .unwrap()["runs"]
            .as_array()
            .unwrap()
            .clone()
    };
    let periods = |rs: &[Value]| -> Vec<String> {
        rs.iter()
            .map(|r| r["period"].as_str().unwrap().to_string())
            .collect()
    };
    // a minute on it is still November in the city (though 1 December has begun in no zone yet
    // and UTC is at 15:31): October is owed, not November
    advance(&s, 60);
    assert!(!periods(&runs(&s)).contains(&"2026-11".to_string()));
    // an hour on it is 1 December 00:31 in Beijing (16:31 UTC, still 30 November there)
    advance(&s, 3600);
    let rs = runs(&s);
    let nov: Vec<&Value> = rs.iter().filter(|r| r["period"] == "2026-11").collect();
    assert_eq!(nov.len(), 1, "{rs:?}");
    assert_eq!(
        (nov[0]["from"].as_str(), nov[0]["to"].as_str()),
        (Some("2026-11-01"), Some("2026-12-01"))
    );
    assert_eq!(nov[0]["rows"], 1);
    let admin = login(&s, "admin1");
    let (st, ct, file) = get_bytes(&s, Some(&admin), nov[0]["file"].as_str().unwrap());
    assert_eq!(st, 200);
    assert!(ct.starts_with("text/csv"), "{ct}");
    let text = String::from_utf8(file).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("ticket_id,created_month,category,status,street")
    );
    let row = lines.next().unwrap();
    assert!(row.starts_with(&format!("{ours},2026-11,")), "{row}");
    assert!(row.ends_with(",110105001"), "{row}");
    // made once: another hour makes no second November file
    advance(&s, 3600);
    assert_eq!(
        periods(&runs(&s))
            .iter()
            .filter(|p| *p == "2026-11")
            .count(),
        1
    );

    // the unit's webhook hears the ticket's events and the export, signed with its secret;
    // the other unit's hears nothing of either
    // the November file's notice (an October one also names 2026-11 in its `to`)
    let seen = wait_for(&got, |g| {
        g.iter().any(|(_, b)| {
            serde_json::from_str::<Value>(b)
                .is_ok_and(|v| v["kind"] == "export" && v["period"] == "2026-11")
        })
    });
    let bodies: Vec<Value> = seen
        .iter()
        .map(|(_, b)| serde_json::from_str(b).unwrap())
        .collect();
    assert!(
        bodies
            .iter()
            .any(|b| b["kind"] == "dispatched" && b["ticket_id"] == ours),
        "{bodies:?}"
    );
    assert!(bodies
        .iter()
        .any(|b| b["kind"] == "export" && b["period"] == "2026-11" && b["export_id"] == eid));
    for (sig, body) in &seen {
        let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(SECRET.as_bytes()).unwrap();
        mac.update(body.as_bytes());
        assert_eq!(
            sig,
            &format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
        );
        assert!(!body.contains("13855556666") && !body.contains("王先生"));
    }
    assert!(
        other_got
            .lock()
            .unwrap()
            .iter()
            .all(|(_, b)| !b.contains(&format!("\"ticket_id\":{ours}"))
                && !b.contains("\"kind\":\"export\"")),
        "{:?}",
        other_got.lock().unwrap()
    );

    let admin = login(&s, "admin1");
    // downloadable now in every format; a unit manager's key of the district reads the files too
    for (format, magic) in [("xlsx", &b"PK"[..]), ("parquet", &b"PAR1"[..])] {
        let (st, e2) = post(
            &s,
            &admin,
            "/api/v1/exports",
            json!({"unit_code": "110105", "name": format!("{format} 导出"), "format": format,
                   "columns": ["ticket_id", "created_date", "channel", "hours_to_finish"],
                   "filters": {"channel": "phone"}}),
        );
        assert_eq!(st, 201, "{e2}");
        let (st, _, b) = get_bytes(
            &s,
            Some(&admin),
            &format!(
                "/api/v1/exports/{}/download?from=2026-11-01&to=2026-12-01",
                e2["id"]
            ),
        );
        assert_eq!(st, 200);
        assert!(b.starts_with(magic), "{format}");
    }
    let (_, mkey) = new_key(&s, &admin, "110105", "unit_manager");
    let (st, list) = get(&s, &mkey, "/api/v1/exports");
    assert_eq!(st, 200);
    assert_eq!(list.as_array().unwrap().len(), 3);
    let (st, _, _) = get_bytes(&s, Some(&mkey), nov[0]["file"].as_str().unwrap());
    assert_eq!(st, 200);
    let (_, fkey) = new_key(&s, &admin, "110108", "unit_manager");
    let (st, _, _) = get_bytes(&s, Some(&fkey), nov[0]["file"].as_str().unwrap());
    assert_eq!(st, 404);
    // a bad definition is refused naming the field
    let (st, v) = post(
        &s,
        &admin,
        "/api/v1/exports",
        json!({"unit_code": "110105", "name": "x", "columns": ["requester_phone"]}),
    );
    assert_eq!((st, v["field"].as_str()), (422, Some("columns")), "{v}");
}

const NAMES: &[&str] = &[
    "张伟",
    "李秀英",
    "王建国",
    "刘芳",
    "陈志强",
    "杨丽",
    "赵磊",
    "黄敏",
];

#[test]
fn open_data_keeps_no_phone_name_or_house_number_and_leaves_out_small_groups() {
    let s = server_at_clock(&users());
    let disp = login(&s, "disp1");
    let cat = first_leaf(&s);
    let (_, _, comms) = call(&s, "GET", "/api/v1/units?parent=110105001", None, None);
    let comm = comms.as_array().unwrap()[0]["code"]
        .as_str()
        .unwrap()
        .to_string();
    let comm2 = comms.as_array().unwrap()[1]["code"]
        .as_str()
        .unwrap()
        .to_string();
    let mut secrets: Vec<String> = vec![];
    let mut file = |district: &str, street: &str, community: Option<&str>, i: usize| {
        let name = NAMES[i % NAMES.len()];
        let phone = format!("139{:08}", 10_000_000 + i * 7_919);
        let house = format!("{}号楼{}单元{}室", 10 + i, 1 + i % 4, 301 + i);
        let addr = format!("建国路{}号院{}", 88 + i, house);
        let body = json!({"channel": "phone", "type": "complaint", "category_code": cat,
            "title": format!("{name}反映噪音扰民"),
            "text": format!("我是{name}，住{addr}，电话{phone}，楼下夜间施工噪音扰民，请联系我。"),
            "district_code": district, "street_code": street,
            "community_code": community,
            "address": addr, "requester": {"name": name, "phone": phone}});
        let (st, t) = post(&s, &disp, "/api/v1/tickets", body);
        assert_eq!(st, 201, "{t}");
        secrets.extend([
            name.to_string(),
            phone,
            house,
            format!("建国路{}号", 88 + i),
        ]);
    };
    for i in 0..8 {
        file("110105", "110105001", Some(&comm), i);
    }
    // two in another community of the same street: shown at the street, not the community
    for i in 8..10 {
        file("110105", "110105001", Some(&comm2), i);
    }
    // one request alone in its district that month: left out
    file("110108", "110108001", None, 10);

    let check = |text: &str| {
        let mut lines = text.lines();
        assert_eq!(
            lines.next(),
            Some("created_month,channel,type,category_l1,category_l2,district,street,community,status,dispatched,answered_directly,overdue,resolution,satisfaction,hours_to_finish")
        );
        let rows: Vec<&str> = lines.collect();
        assert_eq!(rows.len(), 10, "{text}");
        assert!(
            rows.iter().all(|r| r.contains(",110105,110105001,")),
            "{text}"
        );
        let at_comm = format!(",110105001,{comm},");
        assert_eq!(
            rows.iter().filter(|r| r.contains(&at_comm)).count(),
            8,
            "{text}"
        );
        assert_eq!(
            rows.iter().filter(|r| r.contains(",110105001,,")).count(),
            2,
            "{text}"
        );
        assert!(!text.contains(&comm2), "a community of two is not shown");
        for secret in &secrets {
            assert!(!text.contains(secret.as_str()), "{secret} in open data");
        }
        for word in ["号", "室", "单元", "电话", "噪音", "@"] {
            assert!(!text.contains(word), "{word} in open data");
        }
        assert!(!text.contains("110108"), "a group of one is left out");
        // no digit run that looks like a mobile number
        assert!(!text
            .split(|c: char| !c.is_ascii_digit())
            .any(|run| run.len() == 11 && run.starts_with("13")));
    };
    let (st, ct, b) = get_bytes(
        &s,
        None,
        "/api/v1/public/open-data?from=2026-11-01&to=2026-12-01",
    );
    assert_eq!(st, 200);
    assert!(ct.starts_with("text/csv"), "{ct}");
    check(&String::from_utf8(b).unwrap());
    let dbs = s.db.to_str().unwrap();
    check(&ok(&[
        "export",
        "open-data",
        "--db",
        dbs,
        "--from",
        "2026-11",
        "--to",
        "2026-12",
        "--format",
        "csv",
    ]));
    let out = s.dir.path().join("open.parquet");
    ok(&[
        "export",
        "open-data",
        "--db",
        dbs,
        "--from",
        "2026-11-01",
        "--to",
        "2026-12-01",
        "--format",
        "parquet",
        "--out",
        out.to_str().unwrap(),
    ]);
    let pq = std::fs::read(&out).unwrap();
    assert!(pq.starts_with(b"PAR1") && pq.ends_with(b"PAR1"));
    let raw = String::from_utf8_lossy(&pq);
    for secret in &secrets {
        assert!(
            !raw.contains(secret.as_str()),
            "{secret} in the Parquet file"
        );
    }
    let (st, _, _) = get_bytes(&s, None, "/api/v1/public/open-data?format=xlsx");
    assert_eq!(st, 422);
}

#[test]
fn a_department_key_manages_its_own_units_webhooks_and_no_other_units() {
    const SECRET: &str = "chaoyang-own-secret-0123";
    let (url, got) = receiver();
    let s = server_at_clock(&users());
    let admin = login(&s, "admin1");
    let disp = login(&s, "disp1");
    let (_, mkey) = new_key(&s, &admin, "110105", "unit_manager");
    let (_, other) = new_key(&s, &admin, "110108", "unit_manager");
    let (_, hkey) = new_key(&s, &admin, "110105001", "unit_handler");

    // the capability table decides: a handler's key and a dispatcher may not subscribe
    let (st, v) = post(&s, &hkey, "/api/v1/webhooks", json!({"url": url}));
    assert_eq!((st, v["code"].as_str()), (403, Some("forbidden")), "{v}");
    let (st, _) = get(&s, &disp, "/api/v1/webhooks");
    assert_eq!(st, 403);

    // the manager's key subscribes its own unit (the default) and a street below it
    let (st, v) = post(
        &s,
        &mkey,
        "/api/v1/webhooks",
        json!({"url": url, "secret": SECRET}),
    );
    assert_eq!(st, 201, "{v}");
    let own = v["id"].as_i64().unwrap();
    assert_eq!(v["secret"], SECRET);
    let (st, v) = post(
        &s,
        &mkey,
        "/api/v1/webhooks",
        json!({"unit_code": "110105001", "url": "http://127.0.0.1:9/street"}),
    );
    assert_eq!(st, 201, "{v}");
    let street = v["id"].as_i64().unwrap();
    // another district is not in its scope: as if it did not exist
    let (st, v) = post(
        &s,
        &mkey,
        "/api/v1/webhooks",
        json!({"unit_code": "110108", "url": "http://127.0.0.1:9/x"}),
    );
    assert_eq!(st, 404, "{v}");
    // the other district's key neither sees nor stops them
    let (st, list) = get(&s, &other, "/api/v1/webhooks");
    assert_eq!(
        (st, list.as_array().map(Vec::len)),
        (200, Some(0)),
        "{list}"
    );
    let (st, _) = post(
        &s,
        &other,
        &format!("/api/v1/webhooks/{own}/delete"),
        json!({}),
    );
    assert_eq!(st, 404);
    let (_, list) = get(&s, &mkey, "/api/v1/webhooks");
    let mut units: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["unit_code"].as_str().unwrap())
        .collect();
    units.sort();
    assert_eq!(units, ["110105", "110105001"], "{list}");
    assert!(
        !list.to_string().contains(SECRET),
        "a secret is never listed"
    );
    // the key may make only these writes
    let (st, v) = post(&s, &mkey, "/api/v1/exports", json!({}));
    assert_eq!(
        (st, v["code"].as_str()),
        (403, Some("read_only_key")),
        "{v}"
    );

    // its subscription hears its tickets' events, signed with its secret
    let ours = complaint_dispatched_to(&s, &disp, "110105", "110105001", "13877778888");
    let seen = wait_for(&got, |g| {
        g.iter()
            .any(|(_, b)| b.contains(&format!("\"ticket_id\":{ours}")))
    });
    let (sig, body) = seen
        .iter()
        .find(|(_, b)| b.contains(&format!("\"ticket_id\":{ours}")))
        .expect("the subscription heard its ticket");
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(body.as_bytes());
    assert_eq!(
        sig,
        &format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
    );

    // stopped by its own key; the admin sees both, one stopped
    let (st, _) = post(
        &s,
        &mkey,
        &format!("/api/v1/webhooks/{street}/delete"),
        json!({}),
    );
    assert_eq!(st, 204);
    let (st, _) = post(
        &s,
        &mkey,
        &format!("/api/v1/webhooks/{street}/delete"),
        json!({}),
    );
    assert_eq!(st, 404, "a stopped subscription is gone");
    let (_, all) = get(&s, &admin, "/api/v1/admin/webhooks");
    let stopped = |id: i64| {
        all.as_array()
            .unwrap()
            .iter()
            .find(|h| h["id"] == id)
            .map(|h| h["revoked_at"].is_string())
    };
    assert_eq!(
        (stopped(own), stopped(street)),
        (Some(false), Some(true)),
        "{all}"
    );
}
