//! 治理规则 against the real binary: the city's own street policy (and the reply audit's) listed,
//! read, previewed and submitted by an admin only; a bad policy refused with 400 naming the field;
//! a new version changes the classification only from its month on.

mod common;
use common::*;
use serde_json::{json, Value};

/// 20 October 2026 in Beijing: September is the last complete month, October the current one.
const CLOCK: &str = "2026-10-20T02:00:00Z";

fn send(s: &Server, token: &str, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let b = body.map(|b| b.to_string());
    let (st, _, v) = call(s, method, path, Some(token), b.as_deref());
    (st, v)
}

fn classes(v: &Value) -> Vec<(String, String, bool)> {
    v["streets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["code"].as_str().unwrap().to_string(),
                r["class"].as_str().unwrap().to_string(),
                r["listed"].as_bool().unwrap(),
            )
        })
        .collect()
}

fn count(v: &Value, class: &str) -> usize {
    v["streets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["class"] == class)
        .count()
}

#[test]
fn an_admins_street_policy_is_checked_stored_and_governs_only_from_its_month() {
    let s = server_full(
        |db| {
            ok(&[
                "generate",
                "--no-train",
                "--db",
                db.to_str().unwrap(),
                "--from",
                "2026-07",
                "--to",
                "2026-10",
                "--scale",
                "0.006",
                "--seed",
                "9",
            ]);
        },
        &[("sup1", "supervisor", None), ("admin1", "admin", None)],
        &["--test-clock", CLOCK],
        &[],
    );
    let sup = login(&s, "sup1");
    let admin = login(&s, "admin1");
    let base = "/api/v1/governance/policies/streets";

    // only the admin (capability governance-policies)
    for (m, p, b) in [
        ("GET", base.to_string(), None),
        ("GET", format!("{base}/0"), None),
        ("POST", base.to_string(), Some(json!({"policy": {}}))),
        (
            "POST",
            "/api/v1/governance/policy-previews/streets".to_string(),
            Some(json!({"policy": {}})),
        ),
    ] {
        let (st, v) = send(&s, &sup, m, &p, b);
        assert_eq!(st, 403, "{m} {p}: {v}");
    }
    let (st, list) = send(&s, &admin, "GET", base, None);
    assert_eq!(st, 200, "{list}");
    assert_eq!(list["month"], "2026-10");
    let vs = list["versions"].as_array().unwrap();
    assert_eq!(vs.len(), 1);
    assert_eq!(vs[0]["version"], 0);
    assert_eq!(vs[0]["author"], "shipped");
    assert_eq!(vs[0]["current"], true);
    let shipped = vs[0]["policy"].clone();
    assert_eq!(shipped["entry_volume_top"], 10);

    // bad policies: 400 naming the field, in Chinese and English
    let with = |k: &str, v: Value| {
        let mut p = shipped.clone();
        p["effective_from"] = json!("2026-10");
        p[k] = v;
        p
    };
    let mut missing = with("id", json!("x"));
    missing.as_object_mut().unwrap().remove("exit_months");
    for (body, field) in [
        (
            json!({"policy": with("advanced_share", json!(1.5))}),
            "advanced_share",
        ),
        (
            json!({"policy": with("entry_volume_top", json!(-3))}),
            "entry_volume_top",
        ),
        (
            json!({"policy": with("entry_volume_top", json!(0))}),
            "entry_volume_top",
        ),
        (json!({"policy": with("name", json!(12))}), "name"),
        (json!({"policy": with("colour", json!("red"))}), "colour"),
        (json!({"policy": missing}), "exit_months"),
        (
            json!({"policy": with("effective_from", json!("2026-9"))}),
            "effective_from",
        ),
        // a month already classified keeps its policy
        (
            json!({"policy": with("effective_from", json!("2026-09"))}),
            "effective_from",
        ),
        (json!({"toml": "id = \"a\"\nadvanced_share = "}), "toml"),
        (json!({}), "toml"),
    ] {
        let (st, v) = send(&s, &admin, "POST", base, Some(body.clone()));
        assert_eq!(st, 400, "{body}: {v}");
        assert_eq!(v["field"], field, "{body}: {v}");
        assert!(v["detail"].as_str().unwrap().len() > 3, "{v}");
        assert!(
            !v["detail_zh"].as_str().unwrap_or_default().is_empty(),
            "{v}"
        );
    }
    assert_eq!(
        send(&s, &admin, "GET", base, None).1["versions"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // the months before: classified under the shipped default
    let (st, sep) = send(&s, &sup, "GET", "/api/v1/governance/streets/2026-09", None);
    assert_eq!(st, 200, "{sep}");
    assert_eq!(sep["policy_version"], 0);
    let (_, oct) = send(&s, &sup, "GET", "/api/v1/governance/streets/2026-10", None);
    let ranked = oct["streets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| !r["rank"].is_null())
        .count();
    assert!(ranked >= 4, "October has ranked streets: {ranked}");

    // a draft: half the ranked streets are 先进 (advanced)
    let toml =
        "[policy]\nid = \"streets-2026-10\"\nname = \"半数先进\"\neffective_from = \"2026-10\"\n\
        advanced_share = 0.5\nrectify_share = 0.1\nprogress_rank_gain = 30\nentry_volume_top = 10\n\
        entry_weak_share = 0.5\nexit_months = 3\ntrack_months = 6\n";
    let (st, pv) = send(
        &s,
        &admin,
        "POST",
        "/api/v1/governance/policy-previews/streets",
        Some(json!({ "toml": toml })),
    );
    assert_eq!(st, 200, "{pv}");
    let sep_preview = pv["months"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["period"] == "2026-09")
        .expect("September previewed");
    assert!(
        sep_preview["changed"].as_u64().unwrap() > 0,
        "{sep_preview}"
    );
    assert!(
        sep_preview["draft_classes"]["advanced"].as_u64().unwrap()
            > sep_preview["classes"]["advanced"].as_u64().unwrap_or(0)
    );
    // … and nothing was stored
    assert_eq!(
        send(&s, &admin, "GET", base, None).1["versions"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let (_, same) = send(&s, &sup, "GET", "/api/v1/governance/streets/2026-09", None);
    assert_eq!(classes(&same), classes(&sep));

    // submitted as TOML, it governs October on, not September
    let (st, v1) = send(&s, &admin, "POST", base, Some(json!({ "toml": toml })));
    assert_eq!(st, 201, "{v1}");
    assert_eq!(v1["version"], 1);
    assert_eq!(v1["author"], "admin1");
    assert_eq!(v1["effective_from"], "2026-10");
    assert_eq!(v1["current"], true);
    assert_eq!(v1["policy"]["advanced_share"], 0.5);
    let (st, got) = send(&s, &admin, "GET", &format!("{base}/1"), None);
    assert_eq!(st, 200);
    assert_eq!(got["id"], "streets-2026-10");
    assert_eq!(send(&s, &admin, "GET", &format!("{base}/7"), None).0, 404);
    let (_, list) = send(&s, &admin, "GET", base, None);
    let flags: Vec<bool> = list["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["current"].as_bool().unwrap())
        .collect();
    assert_eq!(flags, vec![false, true]);

    let (_, sep_after) = send(&s, &sup, "GET", "/api/v1/governance/streets/2026-09", None);
    assert_eq!(sep_after["policy_version"], 0);
    assert_eq!(
        classes(&sep_after),
        classes(&sep),
        "September stays as it was classified"
    );
    let (_, oct_after) = send(&s, &sup, "GET", "/api/v1/governance/streets/2026-10", None);
    assert_eq!(oct_after["policy_version"], 1);
    assert_eq!(oct_after["policy"]["id"], "streets-2026-10");
    assert!(
        count(&oct_after, "advanced") > count(&oct, "advanced"),
        "October under the new version: {} advanced, before {}",
        count(&oct_after, "advanced"),
        count(&oct, "advanced")
    );

    // the reply audit's thresholds are versioned the same way
    let (st, a) = send(
        &s,
        &admin,
        "GET",
        "/api/v1/governance/policies/reply-audit",
        None,
    );
    assert_eq!(st, 200, "{a}");
    let mut ap = a["versions"][0]["policy"].clone();
    ap["effective_from"] = json!("2026-11");
    ap["fast_minutes"] = json!(-5);
    let (st, v) = send(
        &s,
        &admin,
        "POST",
        "/api/v1/governance/policies/reply-audit",
        Some(json!({"policy": ap.clone()})),
    );
    assert_eq!(
        (st, v["field"].as_str()),
        (400, Some("fast_minutes")),
        "{v}"
    );
    ap["fast_minutes"] = json!(10);
    let (st, v) = send(
        &s,
        &admin,
        "POST",
        "/api/v1/governance/policies/reply-audit",
        Some(json!({"policy": ap})),
    );
    assert_eq!(st, 201, "{v}");
    assert_eq!(v["version"], 1);
    assert_eq!(
        send(&s, &admin, "GET", "/api/v1/governance/policies/other", None).0,
        404
    );
}
