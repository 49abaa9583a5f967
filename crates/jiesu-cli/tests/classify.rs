//! Classification trained from the store's own history, served to the intake form.

mod common;
use common::*;
use serde_json::{json, Value};

#[test]
fn the_classifier_trained_from_history_suggests_the_category_of_a_known_kind_of_request() {
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
            assert!(out.contains("trained on"), "{out}");
        },
        &[
            ("agent1", "agent", None),
            ("h1", "unit_handler", Some("110105001")),
        ],
    );
    let (agent, h1) = (login(&s, "agent1"), login(&s, "h1"));
    // the saved models load in the background at start-up: 503 until then
    for _ in 0..600 {
        let (st, _, _) = call(
            &s,
            "POST",
            "/api/v1/classify",
            Some(&agent),
            Some(r#"{"text":"供暖"}"#),
        );
        if st != 503 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    // take real tickets' texts and check the true category is in the top 3 for most
    let (_, _, list) = call(
        &s,
        "GET",
        "/api/v1/tickets?page_size=40",
        Some(&agent),
        None,
    );
    let mut hits = 0;
    let items = list["items"].as_array().unwrap();
    for it in items {
        let id = it["id"].as_i64().unwrap();
        let (_, _, t) = call(
            &s,
            "GET",
            &format!("/api/v1/tickets/{id}"),
            Some(&agent),
            None,
        );
        let body = json!({"title": t["title"], "text": t["text"]}).to_string();
        let (st, _, c) = call(&s, "POST", "/api/v1/classify", Some(&agent), Some(&body));
        assert_eq!(st, 200, "{c}");
        let cats: &Vec<Value> = c["category"].as_array().unwrap();
        assert!(
            !cats.is_empty() && cats.len() <= 3 && cats[0]["confidence"].as_f64().unwrap() > 0.0
        );
        if cats.iter().any(|x| x["code"] == t["category_code"]) {
            hits += 1;
        }
    }
    assert!(
        hits * 10 >= items.len() * 6,
        "true category in the top 3 for only {hits} of {}",
        items.len()
    );
    let (st, _, _) = call(
        &s,
        "POST",
        "/api/v1/classify",
        Some(&h1),
        Some(r#"{"text":"x"}"#),
    );
    assert_eq!(st, 403);
    let (st, _, v) = call(
        &s,
        "POST",
        "/api/v1/classify",
        Some(&agent),
        Some(r#"{"text":"   "}"#),
    );
    assert_eq!(st, 422, "{v}");
}

#[test]
fn the_classify_answer_proposes_responsible_units_rules_first_then_the_model() {
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
                "11",
            ]);
            ok(&["train", "--db", d]);
            assert!(models_dir(db).join("unit.model").exists());
        },
        &[("agent1", "agent", None)],
    );
    let agent = login(&s, "agent1");
    for _ in 0..600 {
        let (st, _, _) = call(
            &s,
            "POST",
            "/api/v1/classify",
            Some(&agent),
            Some(r#"{"text":"供暖"}"#),
        );
        if st != 503 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let (_, _, list) = call(
        &s,
        "GET",
        "/api/v1/tickets?page_size=60",
        Some(&agent),
        None,
    );
    let (mut asked, mut in_top3, mut from_rule, mut from_model) = (0, 0, 0, 0);
    for it in list["items"].as_array().unwrap() {
        let id = it["id"].as_i64().unwrap();
        let (_, _, t) = call(
            &s,
            "GET",
            &format!("/api/v1/tickets/{id}"),
            Some(&agent),
            None,
        );
        let Some(lead) = t["assignments"]
            .as_array()
            .and_then(|a| a.iter().find(|x| x["role"] == "lead"))
            .and_then(|x| x["unit_code"].as_str())
        else {
            continue;
        };
        let body = json!({"title": t["title"], "text": t["text"], "category_code": t["category_code"],
                          "district_code": t["place"]["district_code"], "street_code": t["place"]["street_code"],
                          "community_code": t["place"]["community_code"]})
        .to_string();
        let (st, _, c) = call(&s, "POST", "/api/v1/classify", Some(&agent), Some(&body));
        assert_eq!(st, 200, "{c}");
        let units = c["unit"].as_array().unwrap();
        assert!(!units.is_empty() && units.len() <= 3, "{c}");
        let codes: Vec<&str> = units
            .iter()
            .filter_map(|u| u["unit_code"].as_str())
            .collect();
        let mut dedup = codes.clone();
        dedup.dedup();
        assert_eq!(codes.len(), dedup.len(), "a unit comes once: {codes:?}");
        for u in units {
            assert!(u["unit_name"].is_string(), "{u}");
            match u["source"].as_str() {
                Some("rule") => {
                    assert!(u["rule_id"].as_str().is_some_and(|r| !r.is_empty()), "{u}");
                    from_rule += 1;
                }
                Some("model") => {
                    let p = u["confidence"].as_f64().unwrap();
                    assert!((0.0..=1.0).contains(&p), "{u}");
                    assert!(u["drivers"].is_array(), "{u}");
                    from_model += 1;
                }
                other => panic!("unknown source {other:?} in {u}"),
            }
        }
        // rules come before the model
        let first_model = units
            .iter()
            .position(|u| u["source"] == "model")
            .unwrap_or(units.len());
        assert!(
            units[first_model..].iter().all(|u| u["source"] == "model"),
            "{units:?}"
        );
        asked += 1;
        if codes.contains(&lead) {
            in_top3 += 1;
        }
    }
    eprintln!("unit suggestions: lead in top 3 for {in_top3} of {asked}; sources: rule {from_rule}, model {from_model}");
    assert!(asked >= 20, "only {asked} dispatched tickets");
    assert!(
        from_rule > 0 && from_model > 0,
        "rule {from_rule}, model {from_model}"
    );
    assert!(
        in_top3 * 10 >= asked * 7,
        "the lead unit is among the suggestions for only {in_top3} of {asked}"
    );
    // without a place the model can still name place-free units; nothing panics
    let (st, _, c) = call(
        &s,
        "POST",
        "/api/v1/classify",
        Some(&agent),
        Some(r#"{"text":"医保卡丢了怎么补办"}"#),
    );
    assert_eq!(st, 200, "{c}");
    assert!(c["unit"].as_array().unwrap().len() <= 3);
    assert!(c["unit_category"].is_string());
}
