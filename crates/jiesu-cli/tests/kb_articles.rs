//! Knowledge-base article management: drafts, versions, review by someone other than the author,
//! retirement, validity dates in search, and all of it stored (another server process sees it).

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

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[test]
fn articles_are_drafted_reviewed_versioned_retired_and_stored() {
    let s = server(&users());
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
    // the server checks validity on its day in the city (Beijing), not the UTC day
    let today = jiesu_routing::beijing_date(chrono::Utc::now());
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
    let db = s.dir.path().join("city.db");
    let mut other = std::process::Command::new(bin())
        .args([
            "serve",
            "--db",
            db.to_str().unwrap(),
            "--listen",
            &format!("127.0.0.1:{port}"),
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
