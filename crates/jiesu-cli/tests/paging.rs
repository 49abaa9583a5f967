//! Paging of the long staff lists against the real binary: the callback queue (待回访), the
//! knowledge-base admin list, a catalogue's rules and the ticket list. Pages are `page`/`page_size` with `total`,
//! like the ticket list; a bad value is a 422 in both languages; a page past the end is empty.

mod common;
use common::*;
use serde_json::Value;
use std::collections::BTreeSet;

/// A generated city (a month of tickets, the demo catalogue and knowledge base) with a
/// supervisor, a callback agent and a street handler.
fn city() -> Server {
    server_with(
        |db| {
            let d = db.to_str().unwrap();
            ok(&[
                "generate",
                "--no-train",
                "--db",
                d,
                "--months",
                "1",
                "--scale",
                "0.001",
                "--seed",
                "5",
            ]);
        },
        &[
            ("sup1", "supervisor", None),
            ("cb1", "callback_agent", None),
            ("h1", "unit_handler", Some("110105001")),
        ],
    )
}

fn get(s: &Server, tok: &str, path: &str) -> Value {
    let (st, _, v) = call(s, "GET", path, Some(tok), None);
    assert_eq!(st, 200, "GET {path}: {v}");
    v
}

/// Every page of a list, walked with `page_size`, as the ids of its items (`key` is the array).
fn walk(
    s: &Server,
    tok: &str,
    path: &str,
    key: &str,
    id: &str,
    page_size: u64,
) -> (Vec<String>, u64) {
    let sep = if path.contains('?') { '&' } else { '?' };
    let first = get(s, tok, &format!("{path}{sep}page_size={page_size}"));
    let total = first["total"].as_u64().unwrap();
    let pages = total.div_ceil(page_size);
    let mut ids = Vec::new();
    for p in 1..=pages {
        let v = get(
            s,
            tok,
            &format!("{path}{sep}page={p}&page_size={page_size}"),
        );
        assert_eq!(v["page"], p, "{v}");
        assert_eq!(v["page_size"], page_size, "{v}");
        assert_eq!(v["total"], total, "the total is the same on every page");
        let items = v[key].as_array().unwrap();
        let expect = if p < pages {
            page_size
        } else {
            total - page_size * (pages - 1)
        };
        assert_eq!(items.len() as u64, expect, "page {p} of {pages} of {path}");
        ids.extend(items.iter().map(|i| match &i[id] {
            Value::String(x) => x.clone(),
            other => other.to_string(),
        }));
    }
    (ids, total)
}

fn assert_bad_paging(s: &Server, tok: &str, path: &str) {
    let sep = if path.contains('?') { '&' } else { '?' };
    for (q, field) in [
        ("page_size=0", "page_size"),
        ("page_size=501", "page_size"),
        ("page_size=ten", "page_size"),
        ("page=0", "page"),
        ("page=-2", "page"),
    ] {
        let (st, ct, e) = call(s, "GET", &format!("{path}{sep}{q}"), Some(tok), None);
        assert_eq!(st, 422, "{path}{sep}{q}: {e}");
        assert!(ct.starts_with("application/problem+json"), "{ct}");
        assert_eq!(e["field"], field, "{e}");
        assert!(e["detail"].as_str().is_some_and(|d| !d.is_empty()), "{e}");
        assert!(
            e["detail_zh"].as_str().is_some_and(|d| d.contains('页')),
            "{e}"
        );
    }
}

fn assert_past_the_end_is_empty(s: &Server, tok: &str, path: &str, key: &str) {
    let sep = if path.contains('?') { '&' } else { '?' };
    let total = get(s, tok, path)["total"].as_u64().unwrap();
    let v = get(s, tok, &format!("{path}{sep}page=10000&page_size=5"));
    assert_eq!(v[key].as_array().unwrap().len(), 0, "{v}");
    assert_eq!(v["total"], total, "{v}");
    assert_eq!(v["page"], 10000);
}

#[test]
fn callback_queue_pages_hold_every_due_ticket_once() {
    let s = city();
    let cb = login(&s, "cb1");
    let path = "/api/v1/callbacks/due";
    let all = get(&s, &cb, &format!("{path}?page_size=500"));
    let total = all["total"].as_u64().unwrap();
    assert!(
        total > 10,
        "the generated city has a callback queue: {total}"
    );
    let whole: Vec<String> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].to_string())
        .collect();
    assert_eq!(whole.len() as u64, total);
    // results submitted come first, then the open tickets past their deadline
    let reasons: Vec<&str> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["reason"].as_str().unwrap())
        .collect();
    let first_overdue = reasons
        .iter()
        .position(|r| *r == "deadline_passed")
        .unwrap_or(reasons.len());
    assert!(
        reasons[first_overdue..]
            .iter()
            .all(|r| *r == "deadline_passed"),
        "{reasons:?}"
    );
    let (paged, t) = walk(&s, &cb, path, "items", "id", 4);
    assert_eq!(t, total);
    assert_eq!(paged, whole, "the pages, in order, are the whole queue");
    assert_eq!(
        paged.iter().collect::<BTreeSet<_>>().len(),
        paged.len(),
        "no ticket twice"
    );
    // the default page is 50
    assert_eq!(get(&s, &cb, path)["page_size"], 50);
    assert_bad_paging(&s, &cb, path);
    assert_past_the_end_is_empty(&s, &cb, path, "items");
    let h1 = login(&s, "h1");
    let (st, _, _) = call(&s, "GET", path, Some(&h1), None);
    assert_eq!(st, 403, "a street handler has no callback desk");
}

#[test]
fn knowledge_base_list_pages_keep_the_filter_and_the_order() {
    let s = city();
    let sup = login(&s, "sup1");
    let path = "/api/v1/kb/articles?status=published";
    let (ids, total) = walk(&s, &sup, path, "items", "id", 37);
    assert!(total > 100, "the demo knowledge base is long: {total}");
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted, "by article id by default, across pages");
    assert_eq!(
        ids.iter().collect::<BTreeSet<_>>().len(),
        ids.len(),
        "no article twice"
    );
    let all = get(&s, &sup, "/api/v1/kb/articles?page_size=500");
    assert!(all["total"].as_u64().unwrap() >= total);
    // a search narrows the total; its pages hold only matching articles
    let q = get(
        &s,
        &sup,
        "/api/v1/kb/articles?q=%E4%BE%9B%E6%9A%96&page_size=2",
    );
    let found = q["total"].as_u64().unwrap();
    assert!(found >= 1 && found < total, "{q}");
    // newest change first: the order differs only in its keys, not in what is listed
    let (by_update, t2) = walk(&s, &sup, &format!("{path}&sort=updated"), "items", "id", 37);
    assert_eq!(t2, total);
    assert_eq!(
        by_update.iter().collect::<BTreeSet<_>>(),
        ids.iter().collect::<BTreeSet<_>>()
    );
    let (st, _, e) = call(&s, "GET", "/api/v1/kb/articles?sort=size", Some(&sup), None);
    assert_eq!((st, e["field"].as_str()), (422, Some("sort")), "{e}");
    assert_bad_paging(&s, &sup, path);
    assert_past_the_end_is_empty(&s, &sup, path, "items");
}

#[test]
fn catalogue_rule_pages_cover_the_whole_catalogue_and_filters_narrow_the_total() {
    let s = city();
    let sup = login(&s, "sup1");
    let path = "/api/v1/catalogue/drafts/published/rules";
    let (keys, total) = walk(&s, &sup, path, "rules", "id", 200);
    let whole = get(&s, &sup, &format!("{path}?page_size=1"));
    assert_eq!(
        total,
        whole["catalogue_rules"].as_u64().unwrap(),
        "every rule version is on a page"
    );
    assert!(total > 500, "the demo catalogue has many rules: {total}");
    assert_eq!(keys.len() as u64, total);
    let p1 = get(&s, &sup, &format!("{path}?page=1"));
    let p2 = get(&s, &sup, &format!("{path}?page=2"));
    assert_eq!(
        p1["rules"].as_array().unwrap().len(),
        50,
        "50 rules a page by default"
    );
    assert_ne!(
        p1["rules"][0]["id"], p2["rules"][0]["id"],
        "page 2 is not page 1"
    );
    // the search looks in the category's name: every rule found names it somewhere
    let heating = get(
        &s,
        &sup,
        &format!("{path}?q=%E4%BE%9B%E6%9A%96&page_size=500"),
    );
    let found = heating["total"].as_u64().unwrap();
    assert!(found > 0 && found < total, "{found} of {total}");
    for r in heating["rules"].as_array().unwrap() {
        assert!(r.to_string().contains("供暖"), "{r}");
    }
    // filters by tier and by the lead's kind
    let tier = get(&s, &sup, &format!("{path}?tier=2h&page_size=500"));
    assert!(tier["rules"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["tier"] == "2h"));
    let streets = get(
        &s,
        &sup,
        &format!("{path}?kind=street&in_force=true&page_size=500"),
    );
    let n = streets["total"].as_u64().unwrap();
    assert!(n > 0 && n < total, "{n}");
    assert!(streets["rules"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["assignments"]
            .as_str()
            .unwrap()
            .starts_with("lead:{street}")
            || r["assignments"].as_str().unwrap().starts_with("lead:1")));
    for (q, field) in [
        ("tier=9d", "tier"),
        ("kind=planet", "kind"),
        ("sort=size", "sort"),
        ("in_force=maybe", "in_force"),
    ] {
        let (st, _, e) = call(&s, "GET", &format!("{path}?{q}"), Some(&sup), None);
        assert_eq!((st, e["field"].as_str()), (422, Some(field)), "{q}: {e}");
    }
    assert_bad_paging(&s, &sup, path);
    assert_past_the_end_is_empty(&s, &sup, path, "rules");
}

#[test]
fn ticket_list_refuses_a_bad_page_instead_of_clamping_it() {
    let s = city();
    let sup = login(&s, "sup1");
    assert_bad_paging(&s, &sup, "/api/v1/tickets");
    assert_past_the_end_is_empty(&s, &sup, "/api/v1/tickets", "items");
    let (ids, total) = walk(
        &s,
        &sup,
        "/api/v1/tickets?status=closed",
        "items",
        "id",
        200,
    );
    assert_eq!(ids.len() as u64, total);
    assert_eq!(
        ids.iter().collect::<BTreeSet<_>>().len(),
        ids.len(),
        "each ticket once"
    );
}
