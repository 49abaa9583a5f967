//! Corrections as labelled examples: 改类 (reclassify) on a ticket, the agent overriding the
//! classifier at intake, and `jiesu train` reading both (weighted) into a versioned model.

mod common;
use common::*;
use serde_json::{json, Value};

fn ticket_body(cat: &str, typ: &str) -> String {
    json!({"channel": "phone", "type": typ, "category_code": cat, "title": "小区停水三天",
           "text": "建外街道某小区从周一开始停水，没有任何通知，老人用水很困难，请尽快恢复供水。",
           "district_code": "110105", "street_code": "110105001",
           "requester": {"name": "李女士", "phone": "13812345678"}})
    .to_string()
}

fn leaves(s: &Server) -> Vec<String> {
    let (_, _, cats) = call(s, "GET", "/api/v1/categories", None, None);
    fn walk(v: &Value, out: &mut Vec<String>) {
        match v["children"].as_array() {
            Some(k) if !k.is_empty() => k.iter().for_each(|c| walk(c, out)),
            _ => {
                if let Some(c) = v["code"].as_str() {
                    out.push(c.to_string())
                }
            }
        }
    }
    let mut out = Vec::new();
    for c in cats.as_array().or(cats["items"].as_array()).unwrap() {
        walk(c, &mut out);
    }
    out
}

#[test]
fn corrections_are_recorded_counted_and_weighted_by_training() {
    let s = server_with(
        |db| {
            let d = db.to_str().unwrap();
            ok(&[
                "generate",
                "--no-train",
                "--db",
                d,
                "--months",
                "2",
                "--scale",
                "0.001",
                "--seed",
                "9",
            ]);
            let out = ok(&["train", "--db", d]);
            assert!(out.contains("(0 corrections"), "{out}");
        },
        &[
            ("agent1", "agent", None),
            ("agent2", "agent", None),
            ("disp1", "dispatcher", None),
            ("cb1", "callback_agent", None),
            ("h1", "unit_handler", Some("110105001")),
        ],
    );
    let (agent, agent2, disp, cb, h1) = (
        login(&s, "agent1"),
        login(&s, "agent2"),
        login(&s, "disp1"),
        login(&s, "cb1"),
        login(&s, "h1"),
    );
    let cats = leaves(&s);
    let (cat_a, cat_b) = (cats[0].clone(), cats[1].clone());
    let (st, _, t) = call(
        &s,
        "POST",
        "/api/v1/tickets",
        Some(&agent),
        Some(&ticket_body(&cat_a, "complaint")),
    );
    assert_eq!(st, 201, "{t}");
    let id = t["id"].as_i64().unwrap();

    // -- intake: the agent chose cat_a although the model's top suggestion was cat_b
    let fb = |tok: &str, body: Value| {
        call(
            &s,
            "POST",
            "/api/v1/classify/feedback",
            Some(tok),
            Some(&body.to_string()),
        )
    };
    let (st, _, v) = fb(
        &agent,
        json!({"ticket_id": id, "suggested_category": cat_a, "suggested_type": "complaint"}),
    );
    assert_eq!(
        (st, &v["corrected"]),
        (200, &json!(false)),
        "agreeing is no correction: {v}"
    );
    let (st, _, v) = fb(
        &agent,
        json!({"ticket_id": id, "suggested_category": cat_b, "suggested_type": "complaint", "model_version": "x"}),
    );
    assert_eq!((st, &v["recorded"]), (200, &json!(true)), "{v}");
    let (_, _, v) = fb(
        &agent,
        json!({"ticket_id": id, "suggested_category": cat_b}),
    );
    assert_eq!(v["recorded"], json!(false), "recorded once per ticket: {v}");
    let (st, _, v) = fb(
        &agent2,
        json!({"ticket_id": id, "suggested_category": cat_b}),
    );
    assert_eq!(st, 403, "only the agent who took it in: {v}");
    assert!(
        v["detail_zh"].as_str().unwrap_or("").contains("座席") || v.to_string().contains("座席"),
        "{v}"
    );
    let (st, _, _) = fb(
        &agent,
        json!({"ticket_id": 999_999, "suggested_category": cat_b}),
    );
    assert_eq!(st, 404);
    let (st, _, v) = fb(&agent, json!({"ticket_id": id}));
    assert_eq!(st, 422, "{v}");
    let (st, _, _) = fb(&h1, json!({"ticket_id": id, "suggested_category": cat_b}));
    assert_eq!(st, 403);

    // -- 改类: the dispatcher corrects the type and category
    let (_, _, view) = call(
        &s,
        "GET",
        &format!("/api/v1/tickets/{id}"),
        Some(&disp),
        None,
    );
    let allowed: Vec<&str> = view["allowed_actions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(allowed.contains(&"reclassify"), "{allowed:?}");
    let (_, _, view) = call(&s, "GET", &format!("/api/v1/tickets/{id}"), Some(&cb), None);
    assert!(!view["allowed_actions"].to_string().contains("reclassify"));
    let act = |tok: &str, body: Value| {
        call(
            &s,
            "POST",
            &format!("/api/v1/tickets/{id}/reclassify"),
            Some(tok),
            Some(&body.to_string()),
        )
    };
    let (st, ct, v) = act(&disp, json!({"category_code": "nope", "reason": "x"}));
    assert_eq!(st, 422, "{v}");
    assert!(ct.contains("problem+json"), "{ct}");
    let (st, _, v) = act(
        &disp,
        json!({"category_code": cat_a, "type": "complaint", "reason": "x"}),
    );
    assert_eq!(st, 422, "no change is refused: {v}");
    assert!(v.to_string().contains("已是"), "{v}");
    let (st, _, v) = act(&disp, json!({"category_code": cat_b, "type": "help"}));
    assert_eq!(st, 422, "a reason is required: {v}");
    let (st, _, v) = act(&disp, json!({"type": "blah", "reason": "x"}));
    assert_eq!(st, 422, "{v}");
    let (st, _, v) = act(&cb, json!({"category_code": cat_b, "reason": "x"}));
    assert_eq!(st, 403, "{v}");
    let (st, _, v) = act(
        &disp,
        json!({"category_code": cat_b, "type": "help", "reason": "实为求助，分类选错"}),
    );
    assert_eq!(st, 200, "{v}");
    let (_, _, view) = call(
        &s,
        "GET",
        &format!("/api/v1/tickets/{id}"),
        Some(&agent),
        None,
    );
    assert_eq!(view["category_code"], json!(cat_b), "{view}");
    assert_eq!(view["type"], json!("help"));
    let (_, _, evs) = call(
        &s,
        "GET",
        &format!("/api/v1/tickets/{id}/events"),
        Some(&agent),
        None,
    );
    let evs = evs.as_array().or(evs["items"].as_array()).cloned().unwrap();
    let re = evs
        .iter()
        .find(|e| e["kind"] == "reclassified" || e["kind"]["kind"] == "reclassified")
        .unwrap_or_else(|| panic!("no reclassified event in {evs:?}"));
    assert!(re.to_string().contains(&cat_a), "from kept: {re}");
    // the list (projection) follows too
    let (_, _, list) = call(&s, "GET", "/api/v1/tickets?page_size=5", Some(&agent), None);
    let row = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == json!(id))
        .cloned()
        .unwrap();
    assert_eq!(row["category_code"], json!(cat_b), "{row}");

    // -- the model in use and the corrections recorded since
    let (st, _, m) = call(&s, "GET", "/api/v1/classify/model", Some(&agent), None);
    assert_eq!(st, 200, "{m}");
    assert_eq!(
        m["corrections_recorded"],
        json!({"reclassified": 1, "intake": 1}),
        "{m}"
    );
    assert_eq!(m["correction_weight"], json!(3));
    let (st, _, _) = call(&s, "GET", "/api/v1/classify/model", Some(&h1), None);
    assert_eq!(st, 403);

    // -- retraining reads the correction (one ticket, both kinds) and versions the model
    let db = s.db.clone();
    let out = ok(&["train", "--db", db.to_str().unwrap()]);
    assert!(out.contains("(1 corrections, weighted ×3)"), "{out}");
    let meta = std::fs::read_to_string(models_dir(&s.db).join("VERSION")).unwrap();
    let lines: Vec<&str> = meta.lines().collect();
    assert_eq!(lines.len(), 4, "{meta}");
    assert_eq!(lines[3], "1", "{meta}");
    assert!(lines[2].ends_with('Z') && lines[2].contains('T'), "{meta}");
}
