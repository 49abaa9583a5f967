//! The data platform against the real binary: grouped counts follow the tickets taken in across
//! the city's month boundary on a test clock, a change is seen at once, every figure drills to its
//! tickets, roles and scopes hold, bad input is named; the stored reports (日通报) come due on the
//! server's clock; the facts export and the hotline report from the command line.

mod common;
use common::*;
use serde_json::{json, Value};

const USERS: &[(&str, &str, Option<&str>)] = &[
    ("agent1", "agent", None),
    ("sup1", "supervisor", None),
    ("admin1", "admin", None),
    ("cy", "unit_manager", Some("110105")),
    ("h1", "unit_handler", Some("110105001")),
];

fn advance(s: &Server, admin: &str, secs: i64) {
    let (st, _, v) = call(
        s,
        "POST",
        "/api/v1/test-clock",
        Some(admin),
        Some(&json!({"advance_seconds": secs}).to_string()),
    );
    assert_eq!(st, 200, "{v}");
}

fn take_in(s: &Server, token: &str, leaf: &str, district: &str, street: &str) -> i64 {
    let body = json!({"channel": "phone", "type": "complaint", "category_code": leaf,
        "title": "占道经营", "text": "小区门口长期占道经营，影响通行。", "district_code": district,
        "street_code": street, "requester": {"name": "李女士", "phone": "13800001111"}});
    let (st, _, t) = call(
        s,
        "POST",
        "/api/v1/tickets",
        Some(token),
        Some(&body.to_string()),
    );
    assert_eq!(st, 201, "{t}");
    t["id"].as_i64().unwrap()
}

fn get(s: &Server, token: &str, path: &str) -> (u16, Value) {
    let (st, _, v) = call(s, "GET", path, Some(token), None);
    (st, v)
}

fn counts(v: &Value) -> Vec<(String, u64)> {
    v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let key: Vec<&str> = r["keys"]
                .as_array()
                .unwrap()
                .iter()
                .map(|k| k["code"].as_str().unwrap())
                .collect();
            (key.join("|"), r["count"].as_u64().unwrap())
        })
        .collect()
}

#[test]
fn counts_follow_the_tickets_across_the_city_month_boundary_and_a_change_is_seen_at_once() {
    // 23:30 on 30 November, city time
    let s = server_at_clock(USERS);
    let (agent, sup, admin) = (login(&s, "agent1"), login(&s, "sup1"), login(&s, "admin1"));
    let _ = sup;
    let leaf = first_leaf(&s);
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(take_in(&s, &agent, &leaf, "110105", "110105001"));
    }
    // one hour later it is 00:30 on 1 December in the city (still 30 November in UTC); the idle
    // sessions have expired meanwhile
    advance(&s, &admin, 3600);
    let (agent, sup) = (login(&s, "agent1"), login(&s, "sup1"));
    for _ in 0..2 {
        take_in(&s, &agent, &leaf, "110108", "110108001");
    }
    let q = "from=2026-11-01&to=2026-12-02";
    let (st, v) = get(&s, &sup, &format!("/api/v1/analytics/group?by=month&{q}"));
    assert_eq!(st, 200, "{v}");
    assert_eq!(
        counts(&v),
        vec![("2026-11".into(), 3), ("2026-12".into(), 2)],
        "the month is the city's, not UTC's: {v}"
    );
    assert_eq!(v["counted"]["tickets"], 5);
    let (_, v) = get(
        &s,
        &sup,
        &format!("/api/v1/analytics/group?by=district&{q}"),
    );
    let rows = v["rows"].as_array().unwrap();
    assert_eq!(rows[0]["keys"][0]["code"], "110105");
    assert_eq!(rows[0]["keys"][0]["label_zh"], "朝阳区");
    assert!(
        rows[0]["per_10k"].as_f64().unwrap() > 0.0,
        "districts carry requests per 10,000 residents: {v}"
    );
    let drill = rows[0]["drill"].as_str().unwrap();
    assert!(
        drill.starts_with("#/tickets?") && drill.contains("district=110105"),
        "{drill}"
    );
    // the tickets behind the figure, exactly
    let (_, t) = get(
        &s,
        &sup,
        &format!("/api/v1/analytics/tickets?district=110105&{q}"),
    );
    assert_eq!(t["counted"]["tickets"], 3);
    let mut behind: Vec<i64> = t["ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_i64().unwrap())
        .collect();
    behind.sort();
    assert_eq!(behind, ids);

    // a dispatch changes November's facts; the next answer sees it
    let (_, v) = get(
        &s,
        &sup,
        &format!("/api/v1/analytics/group?by=dispatched&{q}"),
    );
    assert_eq!(counts(&v), vec![("false".into(), 5)]);
    let d = json!({"assignments": [{"unit_code": "110105001", "role": "lead"}], "tier": "7d"});
    let (st, _, r) = call(
        &s,
        "POST",
        &format!("/api/v1/tickets/{}/dispatch", ids[0]),
        Some(&agent),
        Some(&d.to_string()),
    );
    assert_eq!(st, 200, "{r}");
    let (_, v) = get(
        &s,
        &sup,
        &format!("/api/v1/analytics/group?by=dispatched&{q}"),
    );
    assert_eq!(
        counts(&v),
        vec![("false".into(), 4), ("true".into(), 1)],
        "{v}"
    );

    // the daily series has every day of the range, with the change against the day before
    let (st, v) = get(
        &s,
        &sup,
        "/api/v1/analytics/series?interval=day&from=2026-11-29&to=2026-12-02",
    );
    assert_eq!(st, 200, "{v}");
    let pts = v["points"].as_array().unwrap();
    let got: Vec<(&str, u64)> = pts
        .iter()
        .map(|p| (p["period"].as_str().unwrap(), p["count"].as_u64().unwrap()))
        .collect();
    assert_eq!(
        got,
        vec![("2026-11-29", 0), ("2026-11-30", 3), ("2026-12-01", 2)]
    );
    assert!(pts[1]["mom"].is_null(), "no change from nothing");
    assert!((pts[2]["mom"].as_f64().unwrap() - (2.0 / 3.0 - 1.0)).abs() < 1e-9);

    // the problem ledger names the street and the category, and what is still open
    let (st, v) = get(&s, &sup, &format!("/api/v1/analytics/ledger?{q}"));
    assert_eq!(st, 200, "{v}");
    let first = &v["rows"][0];
    assert_eq!(first["street"]["code"], "110105001");
    assert_eq!(first["count"], 3);
    assert_eq!(first["open"], 3);
}

#[test]
fn channel_and_type_filters_narrow_every_answer_and_their_drill_lists_the_same_tickets() {
    let s = server_at_clock(USERS);
    let (agent, sup) = (login(&s, "agent1"), login(&s, "sup1"));
    let leaf = first_leaf(&s);
    let file = |channel: &str, kind: &str| {
        let body = json!({"channel": channel, "type": kind, "category_code": leaf,
            "title": "占道经营", "text": "小区门口长期占道经营，影响通行。", "district_code": "110105",
            "street_code": "110105001", "requester": {"name": "李女士", "phone": "13800001111"}});
        let (st, _, t) = call(
            &s,
            "POST",
            "/api/v1/tickets",
            Some(&agent),
            Some(&body.to_string()),
        );
        assert_eq!(st, 201, "{t}");
    };
    file("phone", "complaint");
    file("web", "complaint");
    file("web", "suggestion");
    file("web", "suggestion");
    let q = "from=2026-11-01&to=2026-12-02";
    // the type filter narrows a grouping by channel; each row's drill carries both
    let (st, v) = get(
        &s,
        &sup,
        &format!("/api/v1/analytics/group?by=channel&type=suggestion&{q}"),
    );
    assert_eq!(st, 200, "{v}");
    assert_eq!(counts(&v), vec![("web".into(), 2)]);
    let drill = v["rows"][0]["drill"].as_str().unwrap();
    assert!(
        drill.contains("channel=web") && drill.contains("type=suggestion"),
        "{drill}"
    );
    // the ticket list honours the same two filters, so the drill shows exactly those tickets
    let (st, l) = get(&s, &sup, "/api/v1/tickets?channel=web&type=suggestion");
    assert_eq!(st, 200, "{l}");
    assert_eq!(l["total"], 2, "{l}");
    assert!(l["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|t| t["channel"] == "web" && t["type"] == "suggestion"));
    let (_, l) = get(&s, &sup, "/api/v1/tickets?channel=web");
    assert_eq!(l["total"], 3, "{l}");
    // the series, durations and ledger answer under the filters too
    let (_, v) = get(
        &s,
        &sup,
        "/api/v1/analytics/series?interval=day&from=2026-11-30&to=2026-12-01&channel=web&type=complaint",
    );
    assert_eq!(v["points"][0]["count"], 1, "{v}");
    let (_, v) = get(
        &s,
        &sup,
        &format!("/api/v1/analytics/ledger?channel=phone&{q}"),
    );
    assert_eq!(v["rows"][0]["count"], 1, "{v}");
    // unknown values are named in both languages
    for (path, field) in [
        ("/api/v1/tickets?channel=pigeon", "channel"),
        ("/api/v1/tickets?type=rumour", "type"),
    ] {
        let (st, ct, v) = call(&s, "GET", path, Some(&sup), None);
        assert_eq!(st, 422, "{path}: {v}");
        assert!(ct.contains("problem+json"));
        assert_eq!(v["field"], field, "{path}: {v}");
        assert!(v["detail_zh"].as_str().is_some_and(|z| !z.is_empty()));
    }
}

#[test]
fn roles_scopes_and_bad_input_are_answered_in_words() {
    let s = server_at_clock(USERS);
    let (agent, sup) = (login(&s, "agent1"), login(&s, "sup1"));
    let (cy, h1) = (login(&s, "cy"), login(&s, "h1"));
    let leaf = first_leaf(&s);
    take_in(&s, &agent, &leaf, "110105", "110105001");
    take_in(&s, &agent, &leaf, "110108", "110108001");
    let q = "from=2026-11-01&to=2026-12-01";
    // an agent and a street handler may not read analytics
    for t in [&agent, &h1] {
        let (st, v) = get(&s, t, &format!("/api/v1/analytics/group?by=district&{q}"));
        assert_eq!(st, 403, "{v}");
    }
    // a district's manager sees only the district
    let (st, v) = get(&s, &cy, &format!("/api/v1/analytics/group?by=district&{q}"));
    assert_eq!(st, 200, "{v}");
    assert_eq!(counts(&v), vec![("110105".into(), 1)]);
    // bad input names the parameter, in both languages
    for (path, field) in [
        ("group?by=phone", "by"),
        ("group?by=district,street,channel", "by"),
        ("group?by=district&top=0", "top"),
        ("group?by=district&from=2026-12-01&to=2026-11-01", "to"),
        ("group?by=district&from=2026-13-01", "from"),
        ("group?by=district&category=NOPE", "category"),
        ("group?by=district&channel=pigeon", "channel"),
        ("series?interval=hourly", "interval"),
    ] {
        let (st, ct, v) = call(
            &s,
            "GET",
            &format!("/api/v1/analytics/{path}"),
            Some(&sup),
            None,
        );
        assert_eq!(st, 422, "{path}: {v}");
        assert!(ct.contains("problem+json"), "{path}: {ct}");
        assert_eq!(v["field"], field, "{path}: {v}");
        assert!(
            v["detail_zh"].as_str().is_some_and(|z| !z.is_empty()),
            "{path}: {v}"
        );
    }
    // the open-data view needs no log-in, offers only open dimensions and withholds small cells
    let (st, _, v) = call(
        &s,
        "GET",
        &format!("/api/v1/public/analytics/group?by=district&{q}"),
        None,
        None,
    );
    assert_eq!(st, 200, "{v}");
    assert!(v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["suppressed"] == true && r["count"].is_null()));
    let (st, _, v) = call(
        &s,
        "GET",
        &format!("/api/v1/public/analytics/group?by=unit&{q}"),
        None,
        None,
    );
    assert_eq!(st, 422, "{v}");
}

#[test]
fn the_daily_bulletin_comes_due_after_the_city_midnight_and_downloads_as_html_and_xlsx() {
    let s = server_at_clock(USERS);
    let (agent, sup, admin) = (login(&s, "agent1"), login(&s, "sup1"), login(&s, "admin1"));
    let leaf = first_leaf(&s);
    for _ in 0..4 {
        take_in(&s, &agent, &leaf, "110105", "110105001");
    }
    let (_, v) = get(&s, &sup, "/api/v1/analytics/reports?kind=daily");
    let before: Vec<String> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["period"].as_str().unwrap().to_string())
        .collect();
    assert!(
        !before.contains(&"2026-11-30".to_string()),
        "30 November is not over yet: {v}"
    );
    // past midnight in the city the day's bulletin is made
    advance(&s, &admin, 3600);
    let (agent, sup) = (login(&s, "agent1"), login(&s, "sup1"));
    let (_, v) = get(&s, &sup, "/api/v1/analytics/reports?kind=daily");
    let item = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["period"] == "2026-11-30")
        .unwrap_or_else(|| panic!("no daily bulletin of 30 November: {v}"))
        .clone();
    let id = item["id"].as_i64().unwrap();
    let (st, b) = get(&s, &sup, &format!("/api/v1/analytics/reports/{id}"));
    assert_eq!(st, 200, "{b}");
    assert_eq!(b["totals"]["count"], 4, "{b}");
    let (st, ct, html) = call(
        &s,
        "GET",
        &format!("/api/v1/analytics/reports/{id}/html"),
        Some(&sup),
        None,
    );
    assert_eq!(st, 200);
    assert!(ct.starts_with("text/html"), "{ct}");
    assert!(html.as_str().unwrap().contains("日通报"));
    let resp = ureq::get(&format!("{}/api/v1/analytics/reports/{id}/html", s.base))
        .set("Authorization", &format!("Bearer {sup}"))
        .call()
        .unwrap();
    let csp = resp.header("content-security-policy").unwrap_or("");
    assert!(
        csp.contains("style-src 'unsafe-inline'")
            && csp.contains("default-src 'none'")
            && !csp.contains("script"),
        "the report may style itself and run nothing: {csp}"
    );
    let resp = ureq::get(&format!("{}/api/v1/analytics/reports/{id}/xlsx", s.base))
        .set("Authorization", &format!("Bearer {sup}"))
        .call()
        .unwrap();
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut resp.into_reader(), &mut bytes).unwrap();
    assert_eq!(&bytes[..2], b"PK", "an xlsx workbook is a zip");
    // on demand: a month that has begun
    let (st, _, v) = call(
        &s,
        "POST",
        "/api/v1/analytics/reports",
        Some(&sup),
        Some(r#"{"kind":"monthly","period":"2026-11"}"#),
    );
    assert_eq!(st, 201, "{v}");
    let (st, _, v) = call(
        &s,
        "POST",
        "/api/v1/analytics/reports",
        Some(&sup),
        Some(r#"{"kind":"yearly"}"#),
    );
    assert_eq!((st, v["field"].as_str()), (422, Some("kind")), "{v}");
    // a template with an unknown field is refused naming it, and nothing is stored
    let (_, before) = get(&s, &sup, "/api/v1/analytics/report-templates/daily");
    let mut bad = before.clone();
    bad["colour"] = json!("red");
    let (st, _, v) = call(
        &s,
        "PUT",
        "/api/v1/analytics/report-templates/daily",
        Some(&sup),
        Some(&bad.to_string()),
    );
    assert_eq!(st, 422, "{v}");
    assert!(v["detail"].as_str().unwrap().contains("colour"), "{v}");
    let (_, after) = get(&s, &sup, "/api/v1/analytics/report-templates/daily");
    assert_eq!(before, after);
    // a dispatcher reads reports but may not edit templates
    let (st, _, _) = call(
        &s,
        "PUT",
        "/api/v1/analytics/report-templates/daily",
        Some(&agent),
        Some(&before.to_string()),
    );
    assert_eq!(st, 403);
}

#[test]
fn facts_export_and_the_hotline_report_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("city.db");
    let dbs = db.to_str().unwrap();
    ok(&[
        "generate",
        "--no-train",
        "--db",
        dbs,
        "--from",
        "2025-01",
        "--to",
        "2025-03",
        "--scale",
        "0.001",
        "--seed",
        "3",
    ]);
    let csv = ok(&[
        "export", "facts", "--db", dbs, "--from", "2025-01", "--to", "2025-04", "--format", "csv",
    ]);
    let mut lines = csv.lines();
    let header = lines.next().unwrap();
    assert!(header.starts_with("ticket_id,created_date,"), "{header}");
    assert!(
        !header.contains("phone") && !header.contains("name"),
        "{header}"
    );
    let rows = lines.count();
    assert!(rows > 1000, "{rows} rows");
    let json_path = dir.path().join("r.json");
    ok(&[
        "report",
        "hotline",
        "--db",
        dbs,
        "--from",
        "2025-01",
        "--to",
        "2025-03",
        "--format",
        "json",
        "--out",
        json_path.to_str().unwrap(),
    ]);
    let r: Value = serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
    assert_eq!(
        r["overview"]["total"].as_u64().unwrap() as usize,
        rows,
        "the report and the export count the same tickets"
    );
    assert_eq!(r["overview"]["months"].as_array().unwrap().len(), 3);
    assert_eq!(r["top_categories"].as_array().unwrap().len(), 10);
    assert!(r["handling"]["districts"].as_array().unwrap().len() >= 16);
    let pq = dir.path().join("f.parquet");
    ok(&[
        "export",
        "facts",
        "--db",
        dbs,
        "--from",
        "2025-01-01",
        "--to",
        "2025-04-01",
        "--format",
        "parquet",
        "--out",
        pq.to_str().unwrap(),
    ]);
    let bytes = std::fs::read(&pq).unwrap();
    assert_eq!(&bytes[..4], b"PAR1");
    // bad input in plain words
    let out = jiesu(&[
        "report", "hotline", "--db", dbs, "--from", "2025-13", "--to", "2025-03",
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("2025-13"), "{err}");
    let out = jiesu(&[
        "export", "facts", "--db", dbs, "--from", "2025-03", "--to", "2025-01",
    ]);
    assert!(!out.status.success());
}

#[test]
fn a_city_loads_its_own_street_boundaries_and_a_foreign_code_is_refused_whole() {
    let s = server_at_clock(USERS);
    let (sup, admin) = (login(&s, "sup1"), login(&s, "admin1"));
    let (st, _) = get(&s, &sup, "/api/v1/analytics/geojson");
    assert_eq!(st, 404, "no boundaries loaded yet");
    let square = json!({"type": "Polygon", "coordinates": [[[116.4, 39.9], [116.5, 39.9], [116.5, 40.0], [116.4, 39.9]]]});
    let good = json!({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": "110105001", "name": "建外街道"}, "geometry": square},
        {"type": "Feature", "properties": {"code": "110105"}, "geometry": square}]});
    let bad = json!({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": "110105001"}, "geometry": square},
        {"type": "Feature", "properties": {"code": "990000"}, "geometry": square}]});
    let (st, _, v) = call(
        &s,
        "PUT",
        "/api/v1/analytics/geojson",
        Some(&admin),
        Some(&bad.to_string()),
    );
    assert_eq!(st, 422, "{v}");
    assert!(v["detail"].as_str().unwrap().contains("features[1]"), "{v}");
    let (st, _) = get(&s, &sup, "/api/v1/analytics/geojson");
    assert_eq!(st, 404, "nothing of the refused file was stored");
    // only an admin loads boundaries
    let (st, _, _) = call(
        &s,
        "PUT",
        "/api/v1/analytics/geojson",
        Some(&sup),
        Some(&good.to_string()),
    );
    assert_eq!(st, 403);
    let (st, _, v) = call(
        &s,
        "PUT",
        "/api/v1/analytics/geojson",
        Some(&admin),
        Some(&good.to_string()),
    );
    assert_eq!(st, 200, "{v}");
    assert_eq!(
        (v["streets"].as_u64(), v["districts"].as_u64()),
        (Some(1), Some(1))
    );
    let (st, g) = get(&s, &sup, "/api/v1/analytics/geojson");
    assert_eq!(st, 200);
    assert_eq!(g, good);
}
