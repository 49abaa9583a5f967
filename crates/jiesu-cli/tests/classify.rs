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
                "generate", "--db", d, "--months", "2", "--scale", "0.001", "--seed", "9",
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
        assert!(cats.len() == 3 && cats[0]["confidence"].as_f64().unwrap() > 0.0);
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
