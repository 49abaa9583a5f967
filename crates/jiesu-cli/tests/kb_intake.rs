//! The knowledge base at intake and on the public page, against the real binary: category search
//! that finds the citizen's word (synonyms shared with the knowledge base, the most used
//! categories first), duplicate candidates for a request being taken in, and the virtual agent's
//! explicit hand-over when it does not know.

mod common;
use common::*;
use serde_json::{json, Value};

fn users() -> Vec<(&'static str, &'static str, Option<&'static str>)> {
    vec![
        ("agent1", "agent", None),
        ("h1", "unit_handler", Some("110105001")),
    ]
}

fn search(s: &Server, tok: &str, query: &str) -> (u16, Value) {
    let (st, _, v) = call(
        s,
        "GET",
        &format!("/api/v1/categories/search?{query}"),
        Some(tok),
        None,
    );
    (st, v)
}

fn create(s: &Server, tok: &str, cat: &str, title: &str, text: &str, street: &str) -> i64 {
    let body = json!({"channel": "phone", "type": "complaint", "category_code": cat,
        "title": title, "text": text, "district_code": "110105", "street_code": street,
        "requester": {"name": "李女士", "phone": "13800001111"}});
    let (st, _, t) = call(
        s,
        "POST",
        "/api/v1/tickets",
        Some(tok),
        Some(&body.to_string()),
    );
    assert_eq!(st, 201, "{t}");
    t["id"].as_i64().unwrap()
}

#[test]
fn category_search_finds_the_citizens_word_through_shared_synonyms_leaves_first() {
    let s = server(&users());
    let agent = login(&s, "agent1");
    let (st, v) = search(&s, &agent, &format!("q={}&limit=20", urlencode("噪音")));
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["query"], "噪音");
    let expanded: Vec<&str> = v["expanded"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for w in ["噪音", "噪声", "扰民"] {
        assert!(expanded.contains(&w), "{expanded:?}");
    }
    let results = v["results"].as_array().unwrap();
    assert!(
        results
            .iter()
            .any(|r| r["name"] == "社会生活噪声" && r["matched"] == "噪声"),
        "{v}"
    );
    // leaves first, each with its path
    let first_inner = results
        .iter()
        .position(|r| r["leaf"] == false)
        .unwrap_or(results.len());
    assert!(
        results[first_inner..].iter().all(|r| r["leaf"] == false),
        "{v}"
    );
    assert!(results[0]["path"].as_str().unwrap().contains(" › "), "{v}");
    assert_eq!(results[0]["level"], 3);
    // the word itself ranks above a synonym: 施工噪音扰民 (噪音) before 交通噪声 (噪声)
    let pos = |n: &str| results.iter().position(|r| r["name"] == n).unwrap();
    assert!(pos("施工噪音扰民") < pos("交通噪声"), "{v}");
    // a bad limit names the field
    let (st, _, e) = call(
        &s,
        "GET",
        "/api/v1/categories/search?q=x&limit=abc",
        Some(&agent),
        None,
    );
    assert_eq!(st, 400, "{e}");
    assert_eq!(e["field"], "limit");
    assert!(e["detail_zh"].is_string());
    let (st, _, e) = call(
        &s,
        "GET",
        "/api/v1/categories/search?limit=0",
        Some(&agent),
        None,
    );
    assert_eq!(st, 400, "{e}");
    // limit is honoured
    let (_, v) = search(&s, &agent, &format!("q={}&limit=2", urlencode("噪音")));
    assert_eq!(v["results"].as_array().unwrap().len(), 2);
}

#[test]
fn the_empty_category_search_starts_with_the_most_used_categories_not_the_epidemic() {
    let s = server(&users());
    let agent = login(&s, "agent1");
    // no history: the tree order, the finished epidemic topic (疫情防控) last
    let (st, v) = search(&s, &agent, "limit=5");
    assert_eq!(st, 200, "{v}");
    let r = v["results"].as_array().unwrap();
    assert_eq!(r.len(), 5);
    assert!(
        r.iter()
            .all(|x| !x["path"].as_str().unwrap().starts_with("疫情防控")),
        "{v}"
    );
    // with history: the most used leaves of the last 30 days, with their counts
    let (noise, heat) = ("130101", "170101");
    for _ in 0..3 {
        create(
            &s,
            &agent,
            heat,
            "暖气不热",
            "家里暖气不热，室温只有十五度。",
            "110105001",
        );
    }
    create(
        &s,
        &agent,
        noise,
        "楼上噪音",
        "楼上每天半夜很吵，影响休息。",
        "110105001",
    );
    let (_, v) = search(&s, &agent, "");
    let r = v["results"].as_array().unwrap();
    assert_eq!(r[0]["code"], heat, "{v}");
    assert_eq!(r[0]["uses_30d"], 3);
    assert_eq!(r[1]["code"], noise, "{v}");
    assert_eq!(r[1]["uses_30d"], 1);
    assert_eq!(r.len(), 20, "default limit");
    // and the use orders equally good matches
    let (_, v) = search(&s, &agent, &format!("q={}", urlencode("噪音")));
    let r = v["results"].as_array().unwrap();
    let used = r.iter().find(|x| x["code"] == noise).unwrap();
    assert_eq!(used["uses_30d"], 1, "{v}");
}

#[test]
fn duplicate_candidates_appear_for_a_draft_before_the_ticket_exists() {
    let s = server(&users());
    let (agent, h1) = (login(&s, "agent1"), login(&s, "h1"));
    let street = "110105001";
    let text = "小区3号楼门口的下水道堵了，污水冒到路面上，味道很大，请尽快疏通。";
    let id = create(&s, &agent, "140301", "下水道堵塞", text, street);
    let draft = json!({"title": "下水道堵塞", "text": "3号楼门口下水道堵了，污水冒出来了，味道很大，尽快疏通",
        "category_code": "140301", "district_code": "110105", "street_code": street,
        "phone": "13900002222"});
    let (st, _, v) = call(
        &s,
        "POST",
        "/api/v1/duplicates/candidates",
        Some(&agent),
        Some(&draft.to_string()),
    );
    assert_eq!(st, 200, "{v}");
    let c = v["candidates"].as_array().unwrap();
    assert_eq!(c.len(), 1, "{v}");
    assert_eq!(c[0]["id"], id);
    assert!(
        c[0]["number"].is_string() && c[0]["title"] == "下水道堵塞",
        "{v}"
    );
    assert!(
        c[0]["status"].is_string() && c[0]["created_at"].is_string(),
        "{v}"
    );
    assert!(c[0]["score"].as_f64().unwrap() >= 0.65, "{v}");
    let reasons = c[0]["reasons"].as_array().unwrap();
    assert!(
        reasons
            .iter()
            .all(|r| r["code"].is_string() && r["zh"].is_string() && r["en"].is_string()),
        "{v}"
    );
    // no personal data
    let body = v.to_string();
    assert!(
        !body.contains("13800001111") && !body.contains("李女士") && !body.contains("13900002222"),
        "{body}"
    );
    // the same engine as the per-ticket route: the stored ticket finds nothing else
    let (st, _, d) = call(
        &s,
        "GET",
        &format!("/api/v1/tickets/{id}/duplicates"),
        Some(&agent),
        None,
    );
    assert_eq!(st, 200, "{d}");
    // a short text, another street or a different problem: no candidates
    for (t, st_code) in [
        ("堵了", street),
        (text, "110105002"),
        ("楼上邻居装修太吵，周末一早就开始电钻。", street),
    ] {
        let b = json!({"title": "", "text": t, "district_code": "110105", "street_code": st_code});
        let (st, _, v) = call(
            &s,
            "POST",
            "/api/v1/duplicates/candidates",
            Some(&agent),
            Some(&b.to_string()),
        );
        assert_eq!(st, 200, "{v}");
        assert_eq!(v["candidates"], json!([]), "{t}: {v}");
    }
    // units do not take requests in
    let (st, _, _) = call(
        &s,
        "POST",
        "/api/v1/duplicates/candidates",
        Some(&h1),
        Some(&draft.to_string()),
    );
    assert_eq!(st, 403);
    let (st, _, _) = call(
        &s,
        "POST",
        "/api/v1/duplicates/candidates",
        None,
        Some(&draft.to_string()),
    );
    assert_eq!(st, 401);
}

#[test]
fn the_virtual_agent_says_it_does_not_know_and_how_to_file_a_request() {
    let s = server(&users());
    let ask = |q: &str| {
        let (st, _, v) = call(
            &s,
            "POST",
            "/api/v1/public/ask",
            None,
            Some(&json!({"question": q}).to_string()),
        );
        assert_eq!(st, 200, "{v}");
        v
    };
    let v = ask("今天天气怎么样");
    assert_eq!(v["outcome"], "handover", "{v}");
    assert!(v["answer"].is_null(), "{v}");
    assert!(v["handover"]["text"] == "今天天气怎么样", "{v}");
    let zh = v["handover_message"]["zh"].as_str().unwrap();
    let en = v["handover_message"]["en"].as_str().unwrap();
    assert!(
        zh.contains("不知道") && zh.contains("12345") && zh.contains("提交诉求"),
        "{zh}"
    );
    assert!(en.contains("don't know") && en.contains("12345"), "{en}");
    assert_eq!(v["handover_message"]["submit_url"], "#/submit");
    // the lost-card article is not the answer to how to get a residence permit
    let v = ask("居住证怎么办");
    assert_ne!(v["answer"]["article_id"], "KB0058", "{v}");
    // another city's matter
    let v = ask("上海的居住证怎么办理");
    assert_eq!(v["outcome"], "handover");
    assert_eq!(v["handover_reason"], "out_of_town", "{v}");
    // a question the knowledge base answers
    let v = ask("外地人在北京怎么办理居住证？");
    assert_eq!(v["outcome"], "answered", "{v}");
    assert_eq!(v["answer"]["article_id"], "KB0056");
}
