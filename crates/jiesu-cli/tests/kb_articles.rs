//! Knowledge-base article management: drafts, versions, review by someone other than the author,
//! retirement, validity dates in search, and all of it stored (another server process sees it).
//! Every server here runs on a test clock (`serve --test-clock`), so no test depends on the hour
//! it runs at; the city-day boundaries (23:30 and 00:30 city time) are tested explicitly.

mod common;
use common::*;
use serde_json::{json, Value};

fn users() -> Vec<(&'static str, &'static str, Option<&'static str>)> {
    vec![
        ("agent1", "agent", None),
        ("sup1", "supervisor", None),
        ("sup2", "supervisor", None),
        ("h1", "unit_handler", Some("110105001")),
    ]
}

fn search_ids(s: &Server, tok: &str, q: &str) -> Vec<String> {
    let (st, _, v) = call(
        s,
        "GET",
        &format!("/api/v1/kb/search?q={}&k=5", urlencode(q)),
        Some(tok),
        None,
    );
    assert_eq!(st, 200, "{v}");
    v["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["id"].as_str().unwrap().to_string())
        .collect()
}

/// A server on a fresh database whose clock starts at `clock` (RFC 3339), in the city zone `tz`.
fn server_at(clock: &str, tz: &str) -> Server {
    server_full(
        |db| {
            ok(&["init", "--db", db.to_str().unwrap(), "--tz", tz]);
        },
        &users(),
        &["--test-clock", clock],
        &[],
    )
}

/// Publishes an article valid `[from, to]` (dates) and returns its id.
fn publish_valid(
    s: &Server,
    author: &str,
    reviewer: &str,
    q: &str,
    from: &str,
    to: Option<&str>,
) -> String {
    let leaf = first_leaf(s);
    let body = json!({"question": q, "answer": "请携带相关材料到社区服务站办理，工作日上午九点至下午五点。",
                      "owner_unit": "110105001", "categories": [leaf],
                      "valid_from": from, "valid_to": to});
    let (st, _, a) = call(
        s,
        "POST",
        "/api/v1/kb/articles",
        Some(author),
        Some(&body.to_string()),
    );
    assert_eq!(st, 201, "{a}");
    let id = a["id"].as_str().unwrap().to_string();
    for (step, tok) in [("submit", author), ("approve", reviewer)] {
        let (st, _, v) = call(
            s,
            "POST",
            &format!("/api/v1/kb/articles/{id}/{step}"),
            Some(tok),
            None,
        );
        assert_eq!(st, 200, "{step}: {v}");
    }
    id
}

#[test]
fn validity_follows_the_city_day_at_23_30_and_00_30() {
    // An article that starts on 1 December and one that ended on 30 November, looked up at
    // 23:30 and at 00:30 city time around that midnight, in Beijing and in New York.
    for (clock, tz, december) in [
        ("2026-11-30T15:30:00Z", "Asia/Shanghai", false), // 23:30 on 30 November in Beijing
        ("2026-11-30T16:30:00Z", "Asia/Shanghai", true),  // 00:30 on 1 December in Beijing
        ("2026-12-01T04:30:00Z", "America/New_York", false), // 23:30 on 30 November in New York
        ("2026-12-01T05:30:00Z", "America/New_York", true), // 00:30 on 1 December in New York
    ] {
        let s = server_at(clock, tz);
        let (agent, sup) = (login(&s, "agent1"), login(&s, "sup1"));
        let starts = "十二月起实行的冬季供暖补贴新标准怎么领取";
        let ended = "十一月临时开放的夜间疫苗接种点在哪里";
        let a = publish_valid(&s, &agent, &sup, starts, "2026-12-01", None);
        let b = publish_valid(&s, &agent, &sup, ended, "2026-11-01", Some("2026-11-30"));
        assert_eq!(
            search_ids(&s, &agent, starts).contains(&a),
            december,
            "{clock} in {tz}: the article from 1 December"
        );
        assert_eq!(
            search_ids(&s, &agent, ended).contains(&b),
            !december,
            "{clock} in {tz}: the article until 30 November"
        );
        let (_, _, e) = call(&s, "GET", "/api/v1/enums", None, None);
        assert_eq!(e["time_zone"], json!(tz));
        // the ticket number carries the city's date of intake
        let id = complaint_dispatched_to(&s, &sup, "110105", "110105001", "13912345678");
        let (_, _, t) = call(
            &s,
            "GET",
            &format!("/api/v1/tickets/{id}"),
            Some(&sup),
            None,
        );
        let day = if december { "20261201" } else { "20261130" };
        assert!(
            t["number"].as_str().unwrap().starts_with(day),
            "{clock} in {tz}: {}",
            t["number"]
        );
        // the scorecard's November is November in the city's zone
        let (st, _, card) = call(&s, "GET", "/api/v1/scores/2026-11/street", None, None);
        assert_eq!(st, 200, "{card}");
        let (from, to) = if tz == "Asia/Shanghai" {
            ("2026-10-31T16:00:00", "2026-11-30T16:00:00")
        } else {
            ("2026-11-01T04:00:00", "2026-12-01T05:00:00")
        };
        assert!(
            card["from"].as_str().unwrap().starts_with(from),
            "{}",
            card["from"]
        );
        assert!(
            card["to"].as_str().unwrap().starts_with(to),
            "{}",
            card["to"]
        );
    }
}

#[test]
fn an_unknown_time_zone_is_refused_in_words() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("x.db");
    let o = jiesu(&["init", "--db", db.to_str().unwrap(), "--tz", "Beijing/Time"]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("IANA") && err.contains("时区"), "{err}");
    assert!(!db.exists(), "nothing is created on a refused zone");
    let o = jiesu(&[
        "serve",
        "--db",
        db.to_str().unwrap(),
        "--test-clock",
        "yesterday",
    ]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("RFC 3339"));
}

#[test]
fn articles_are_drafted_reviewed_versioned_retired_and_stored() {
    let s = server_at("2026-06-15T04:00:00Z", "Asia/Shanghai");
    let (agent, sup1, sup2, h1) = (
        login(&s, "agent1"),
        login(&s, "sup1"),
        login(&s, "sup2"),
        login(&s, "h1"),
    );
    let leaf = first_leaf(&s);
    let req = |m: &str, p: &str, tok: &str, body: Option<Value>| {
        call(&s, m, p, Some(tok), body.map(|b| b.to_string()).as_deref())
    };

    // the demo articles seed the database
    let (st, _, list) = req("GET", "/api/v1/kb/articles", &agent, None);
    assert_eq!(st, 200, "{list}");
    assert!(list["total"].as_u64().unwrap() >= 243, "{}", list["total"]);
    let (_, _, published) = req("GET", "/api/v1/kb/articles?status=published", &agent, None);
    assert!(published["total"].as_u64().unwrap() >= 230);
    let (st, _, _) = req("GET", "/api/v1/kb/articles?status=gone", &agent, None);
    assert_eq!(st, 422);
    let (st, _, _) = req("GET", "/api/v1/kb/articles", &h1, None);
    assert_eq!(st, 403);

    // a new article is a draft, invisible to search
    let q = "社区老年助餐点怎么申请办理就餐卡";
    let body = json!({"question": q, "answer": "持本人身份证到户籍或居住地社区居委会申请办理老年助餐卡，充值后可在辖区助餐点就餐。",
                      "policy_basis": "《老年助餐服务管理办法（示例）》", "owner_unit": "110105001",
                      "categories": [leaf], "tags": ["老年餐桌", "助餐卡"]});
    let (st, _, a) = req("POST", "/api/v1/kb/articles", &agent, Some(body.clone()));
    assert_eq!(st, 201, "{a}");
    let id = a["id"].as_str().unwrap().to_string();
    assert_eq!(
        (a["version"].as_u64(), a["status"].as_str()),
        (Some(1), Some("draft"))
    );
    assert!(!search_ids(&s, &agent, q).contains(&id));
    let (st, _, _) = req("POST", "/api/v1/kb/articles", &h1, Some(body.clone()));
    assert_eq!(st, 403, "units do not write articles");

    // bad input: clear 422s naming the field
    for (patch, field) in [
        (json!({"owner_unit": "nope"}), "owner_unit"),
        (json!({"categories": ["zz"]}), "categories"),
        (json!({"valid_from": "2026-13-01"}), "valid_from"),
        (
            json!({"valid_from": "2026-05-01", "valid_to": "2026-04-01"}),
            "valid_to",
        ),
        (json!({"question": "  "}), "question"),
    ] {
        let mut b = body.clone();
        for (k, v) in patch.as_object().unwrap() {
            b[k] = v.clone();
        }
        let (st, ct, v) = req("PUT", &format!("/api/v1/kb/articles/{id}"), &agent, Some(b));
        assert_eq!(st, 422, "{patch}: {v}");
        assert!(ct.contains("problem+json"));
        assert_eq!(v["field"], json!(field), "{v}");
    }

    // submit; in review it cannot be edited; the author may not approve
    let (st, _, a) = req(
        "POST",
        &format!("/api/v1/kb/articles/{id}/submit"),
        &agent,
        None,
    );
    assert_eq!((st, a["status"].as_str()), (200, Some("in_review")), "{a}");
    let (st, _, _) = req(
        "PUT",
        &format!("/api/v1/kb/articles/{id}"),
        &agent,
        Some(body.clone()),
    );
    assert_eq!(st, 409);
    let (st, _, _) = req(
        "POST",
        &format!("/api/v1/kb/articles/{id}/approve"),
        &agent,
        None,
    );
    assert_eq!(st, 403, "agents do not review");
    // sent back with a reason, then approved by a supervisor
    let (st, _, _) = req(
        "POST",
        &format!("/api/v1/kb/articles/{id}/reject"),
        &sup1,
        None,
    );
    assert_eq!(st, 422, "a reason is needed to send back");
    let (st, _, a) = req(
        "POST",
        &format!("/api/v1/kb/articles/{id}/reject"),
        &sup1,
        Some(json!({"note": "请补充政策依据的文号"})),
    );
    assert_eq!((st, a["status"].as_str()), (200, Some("draft")), "{a}");
    req(
        "POST",
        &format!("/api/v1/kb/articles/{id}/submit"),
        &agent,
        None,
    );
    let (st, _, a) = req(
        "POST",
        &format!("/api/v1/kb/articles/{id}/approve"),
        &sup1,
        None,
    );
    assert_eq!((st, a["status"].as_str()), (200, Some("published")), "{a}");
    assert_eq!(a["reviewed_by"], json!("sup1"));
    assert!(
        search_ids(&s, &agent, q).contains(&id),
        "published and valid: searchable"
    );

    // a supervisor's own version needs another reviewer
    let mut v2 = body.clone();
    v2["answer"] = json!("持本人身份证或社保卡到社区居委会申请老年助餐卡，可线上在“京通”小程序办理，充值后在助餐点刷卡就餐。");
    let (st, _, a) = req("PUT", &format!("/api/v1/kb/articles/{id}"), &sup1, Some(v2));
    assert_eq!(
        (st, a["version"].as_u64(), a["status"].as_str()),
        (200, Some(2), Some("draft"))
    );
    assert!(
        search_ids(&s, &agent, q).contains(&id),
        "version 1 stays in use meanwhile"
    );
    req(
        "POST",
        &format!("/api/v1/kb/articles/{id}/submit"),
        &sup1,
        None,
    );
    let (st, _, v) = req(
        "POST",
        &format!("/api/v1/kb/articles/{id}/approve"),
        &sup1,
        None,
    );
    assert_eq!(st, 403, "{v}");
    assert!(v.to_string().contains("作者"), "{v}");
    let (st, _, _) = req(
        "POST",
        &format!("/api/v1/kb/articles/{id}/approve"),
        &sup2,
        None,
    );
    assert_eq!(st, 200);
    let (_, _, vs) = req(
        "GET",
        &format!("/api/v1/kb/articles/{id}/versions"),
        &agent,
        None,
    );
    let vs = vs["versions"].as_array().unwrap();
    let states: Vec<(&str, &str)> = vs
        .iter()
        .map(|v| (v["status"].as_str().unwrap(), v["author"].as_str().unwrap()))
        .collect();
    assert_eq!(states, [("retired", "agent1"), ("published", "sup1")]);
    assert_eq!(
        vs[0]["review_note"],
        json!(null),
        "approved after the reject: the note is the approval's"
    );
    assert_eq!(vs[1]["reviewed_by"], json!("sup2"));
    let (st, _, a) = req("GET", &format!("/api/v1/kb/articles/{id}"), &agent, None);
    assert_eq!((st, a["version"].as_u64()), (200, Some(2)));

    // validity: an article valid only from tomorrow, one that ended yesterday
    // the server's clock is 12:00 on 15 June 2026 in Beijing
    let today = chrono::NaiveDate::from_ymd_opt(2026, 6, 15).unwrap();
    let mut ids = Vec::new();
    for (from, to, qq) in [
        (
            today + chrono::Duration::days(1),
            None,
            "明年起实行的冬季供暖补贴新标准怎么领取",
        ),
        (
            today - chrono::Duration::days(30),
            Some(today - chrono::Duration::days(1)),
            "上个月临时开放的夜间疫苗接种点在哪里",
        ),
    ] {
        let mut b = body.clone();
        b["question"] = json!(qq);
        b["valid_from"] = json!(from.to_string());
        b["valid_to"] = json!(to.map(|d| d.to_string()));
        let (_, _, a) = req("POST", "/api/v1/kb/articles", &agent, Some(b));
        let nid = a["id"].as_str().unwrap().to_string();
        req(
            "POST",
            &format!("/api/v1/kb/articles/{nid}/submit"),
            &agent,
            None,
        );
        let (st, _, _) = req(
            "POST",
            &format!("/api/v1/kb/articles/{nid}/approve"),
            &sup2,
            None,
        );
        assert_eq!(st, 200);
        assert!(
            !search_ids(&s, &agent, qq).contains(&nid),
            "{qq}: outside its validity"
        );
        ids.push(nid);
    }
    let (_, _, l) = req(
        "GET",
        &format!("/api/v1/kb/articles?q={}", ids[0]),
        &agent,
        None,
    );
    assert_eq!(l["items"][0]["searchable_today"], json!(false), "{l}");

    // retired: gone from search; retiring twice is a state error
    let (st, _, _) = req(
        "POST",
        &format!("/api/v1/kb/articles/{id}/retire"),
        &agent,
        None,
    );
    assert_eq!(st, 403);
    let (st, _, _) = req(
        "POST",
        &format!("/api/v1/kb/articles/{id}/retire"),
        &sup2,
        None,
    );
    assert_eq!(st, 200);
    assert!(!search_ids(&s, &agent, q).contains(&id));
    let (st, _, v) = req(
        "POST",
        &format!("/api/v1/kb/articles/{id}/retire"),
        &sup2,
        None,
    );
    assert_eq!(st, 409, "{v}");
    let (st, _, _) = req("POST", "/api/v1/kb/articles/KB9999/submit", &agent, None);
    assert_eq!(st, 404);
    let (st, _, _) = req(
        "POST",
        &format!("/api/v1/kb/articles/{id}/publish"),
        &sup2,
        None,
    );
    assert_eq!(st, 404);

    // durable: a second server process on the same database sees the same articles
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let db = s.db.clone();
    let mut other = std::process::Command::new(bin())
        .args([
            "serve",
            "--db",
            db.to_str().unwrap(),
            "--listen",
            &format!("127.0.0.1:{port}"),
            // the same day as the first server (sessions are valid on its clock)
            "--test-clock",
            "2026-06-15T04:10:00Z",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let mut seen = None;
    for _ in 0..200 {
        if let Ok(r) = ureq::get(&format!("{base}/api/v1/kb/articles/{id}/versions"))
            .set("Authorization", &format!("Bearer {agent}"))
            .call()
        {
            seen = Some(r.into_json::<Value>().unwrap());
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let _ = other.kill();
    let _ = other.wait();
    let seen = seen.expect("the second server answered");
    let st2: Vec<&str> = seen["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["status"].as_str().unwrap())
        .collect();
    assert_eq!(st2, ["retired", "retired"]);
}
