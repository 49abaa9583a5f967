//! The scorecard over the API and the CLI agree, and carry no personal data.

mod common;
use common::*;

/// The generated city covers October and November 2026; the server's clock is the morning after,
/// so the month scored never depends on the day the tests run.
const CLOCK: &str = "2026-12-01T01:00:00Z";
const PERIOD: &str = "2026-11";

#[test]
fn the_public_scorecard_matches_the_cli_and_has_no_personal_data() {
    let s = server_full(
        |db| {
            ok(&[
                "generate",
                "--no-train",
                "--db",
                db.to_str().unwrap(),
                "--from",
                "2026-10",
                "--to",
                "2026-11",
                "--scale",
                "0.001",
                "--seed",
                "5",
            ]);
        },
        &[],
        &["--test-clock", CLOCK],
        &[],
    );
    let db = s.db.clone();
    let period = PERIOD.to_string();
    let (st, _, card) = call(
        &s,
        "GET",
        &format!("/api/v1/scores/{period}/street"),
        None,
        None,
    );
    assert_eq!(st, 200, "{card}");
    let units = card["units"].as_array().expect("units");
    assert!(units.len() > 50, "{} streets", units.len());
    let body = card.to_string();
    assert!(
        !regex_like_mobile(&body),
        "the scorecard must not contain phone numbers"
    );
    let csv = ok(&[
        "score",
        "--db",
        db.to_str().unwrap(),
        "--period",
        &period,
        "--level",
        "street",
        "--format",
        "csv",
    ]);
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let ci = header.iter().position(|h| *h == "counted").unwrap();
    let ui = header.iter().position(|h| *h == "unit_code").unwrap();
    for line in csv.lines().skip(1).take(30) {
        let f: Vec<&str> = line.split(',').collect();
        let api = units
            .iter()
            .find(|u| u["unit_code"] == f[ui])
            .expect("same units");
        assert_eq!(api["counted"].as_u64().unwrap().to_string(), f[ci]);
    }
    let x = ureq::get(&format!(
        "{}/api/v1/scores/{period}/street?format=xlsx",
        s.base
    ))
    .call()
    .unwrap();
    assert!(x.content_type().contains("spreadsheetml"));
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut x.into_reader(), &mut bytes).unwrap();
    assert_eq!(&bytes[..2], b"PK", "an xlsx workbook");
    let out = s.dir.path().join("catalogue.xlsx");
    ok(&[
        "catalogue",
        "export",
        "--db",
        db.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(&std::fs::read(&out).unwrap()[..2], b"PK");
    let (st, _, _) = call(&s, "GET", "/api/v1/scores/2026-13/street", None, None);
    assert_eq!(st, 422);
}

fn regex_like_mobile(s: &str) -> bool {
    let b = s.as_bytes();
    b.windows(11)
        .any(|w| w[0] == b'1' && (b'3'..=b'9').contains(&w[1]) && w.iter().all(u8::is_ascii_digit))
        && !b.windows(12).any(|w| w.iter().all(u8::is_ascii_digit))
}

/// For several units of every level and every measure, the drill-down lists exactly as many
/// assignments as the scorecard's figure, names the policy, and carries no personal data.
#[test]
fn every_figure_of_the_scorecard_drills_down_to_exactly_its_tickets() {
    let s = server_full(
        |db| {
            ok(&[
                "generate",
                "--no-train",
                "--db",
                db.to_str().unwrap(),
                "--from",
                "2026-10",
                "--to",
                "2026-11",
                "--scale",
                "0.001",
                "--seed",
                "7",
            ]);
        },
        &[],
        &["--test-clock", CLOCK],
        &[],
    );
    let period = PERIOD.to_string();
    const MEASURES: [&str; 11] = [
        "counted",
        "responded",
        "valid_callbacks",
        "resolved",
        "partly",
        "unresolved",
        "satisfied",
        "basic",
        "unsatisfied",
        "exempted",
        "excluded",
    ];
    // all rows of a drill-down, page by page
    let rows = |code: &str,
                level: &str,
                scope: &str,
                m: &str|
     -> (serde_json::Value, Vec<serde_json::Value>) {
        // small pages for `counted` (paging is exercised), one page for the others
        let size = if m == "counted" { 7 } else { 1000 };
        let mut all = vec![];
        let mut page = 1;
        loop {
            let (st, _, d) = call(
                &s,
                "GET",
                &format!("/api/v1/scores/{period}/units/{code}/tickets?measure={m}&level={level}&scope={scope}&page={page}&page_size={size}"),
                None,
                None,
            );
            assert_eq!(st, 200, "{code} {m}: {d}");
            let items = d["items"].as_array().unwrap().clone();
            let done = items.len() < size;
            all.extend(items);
            if done {
                return (d, all);
            }
            page += 1;
        }
    };
    let mut checked = 0;
    for level in ["street", "district", "department", "enterprise"] {
        let (st, _, card) = call(
            &s,
            "GET",
            &format!("/api/v1/scores/{period}/{level}"),
            None,
            None,
        );
        assert_eq!(st, 200);
        // the level's totals: every unit's rows
        for m in [
            "counted",
            "responded",
            "valid_callbacks",
            "resolved",
            "exempted",
        ] {
            let (st, _, d) = call(
                &s,
                "GET",
                &format!("/api/v1/scores/{period}/{level}/tickets?measure={m}&page_size=1000"),
                None,
                None,
            );
            assert_eq!(st, 200, "{level} totals {m}: {d}");
            let figure = card["totals"][m].as_u64().unwrap();
            assert_eq!(d["total"].as_u64().unwrap(), figure, "{level} totals {m}");
            assert_eq!(d["figure"].as_u64().unwrap(), figure);
            assert!(d["unit_code"].is_null());
            if figure <= 1000 {
                assert_eq!(d["items"].as_array().unwrap().len() as u64, figure);
            }
        }
        let mut units: Vec<&serde_json::Value> = card["units"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|u| u["counted"].as_u64().unwrap() > 0)
            .collect();
        units.sort_by_key(|u| std::cmp::Reverse(u["counted"].as_u64().unwrap()));
        // the busiest, one from the middle and the quietest unit with work
        let picks: Vec<&serde_json::Value> = match units.len() {
            0 => vec![],
            n => vec![units[0], units[n / 2], units[n - 1]],
        };
        assert!(
            !picks.is_empty() || level == "enterprise",
            "{level}: no unit with work"
        );
        for u in picks {
            let code = u["unit_code"].as_str().unwrap();
            for m in MEASURES {
                let (d, all) = rows(code, level, "unit", m);
                let figure = u[m].as_u64().unwrap();
                assert_eq!(
                    all.len() as u64,
                    figure,
                    "{level} {code} {m}: rows vs the scorecard"
                );
                assert_eq!(d["total"].as_u64().unwrap(), figure);
                assert_eq!(d["figure"].as_u64().unwrap(), figure);
                assert_eq!(d["policy_id"], "default");
                assert!(
                    d["policy_period"].as_str().unwrap().contains(" … "),
                    "{}",
                    d["policy_period"]
                );
                assert_eq!(d["from"], card["from"]);
                let instant = |v: &serde_json::Value| {
                    chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap()).unwrap()
                };
                let (from, to) = (instant(&card["from"]), instant(&card["to"]));
                for r in &all {
                    let t = instant(&r["first_dispatched_at"]);
                    assert!(
                        from <= t && t < to,
                        "{t} outside the city month [{from}, {to})"
                    );
                    if level != "district" {
                        assert_eq!(r["unit_code"], code);
                    }
                }
                checked += 1;
            }
            if let Some(ind) = u["industry"].as_object() {
                for m in ["counted", "valid_callbacks", "resolved", "satisfied"] {
                    let (_, all) = rows(code, level, "industry", m);
                    assert_eq!(
                        all.len() as u64,
                        ind[m].as_u64().unwrap(),
                        "industry {code} {m}"
                    );
                }
            }
            // the CSV holds the same rows (header + figure lines), no personal data
            let resp = ureq::get(&format!(
                "{}/api/v1/scores/{period}/units/{code}/tickets?measure=counted&level={level}&format=csv",
                s.base
            ))
            .call()
            .unwrap();
            let text = resp.into_string().unwrap();
            assert_eq!(
                text.lines().count() as u64,
                1 + u["counted"].as_u64().unwrap()
            );
            assert!(text
                .lines()
                .next()
                .unwrap()
                .ends_with("responded_in_time,counted_resolution,policy"));
            assert!(
                !regex_like_mobile(&text),
                "no phone numbers in the drill-down"
            );
        }
    }
    assert!(
        checked >= 3 * 3 * MEASURES.len(),
        "{checked} figures checked"
    );
    // a street's drill-down defaults to the street level; the district of a street is refused
    let (_, _, card) = call(
        &s,
        "GET",
        &format!("/api/v1/scores/{period}/street"),
        None,
        None,
    );
    let street = card["units"][0]["unit_code"].as_str().unwrap().to_string();
    let (st, _, d) = call(
        &s,
        "GET",
        &format!("/api/v1/scores/{period}/units/{street}/tickets"),
        None,
        None,
    );
    assert_eq!(st, 200);
    assert_eq!(d["level"], "street");
    assert_eq!(d["measure"], "counted");
    let (st, ct, e) = call(
        &s,
        "GET",
        &format!("/api/v1/scores/{period}/units/{street}/tickets?level=district"),
        None,
        None,
    );
    assert_eq!(st, 422, "{e}");
    assert!(ct.contains("problem+json"));
    assert_eq!(e["field"], "level");
    assert!(e["detail_zh"].as_str().unwrap().contains("考核单位"));
    let (st, _, e) = call(
        &s,
        "GET",
        &format!("/api/v1/scores/{period}/units/{street}/tickets?measure=happy"),
        None,
        None,
    );
    assert_eq!(st, 422);
    assert_eq!(e["field"], "measure");
    let (st, _, e) = call(
        &s,
        "GET",
        &format!("/api/v1/scores/{period}/units/{street}/tickets?scope=industry"),
        None,
        None,
    );
    assert_eq!(st, 422);
    assert_eq!(e["field"], "scope");
    let (st, _, _) = call(
        &s,
        "GET",
        &format!("/api/v1/scores/{period}/units/NOPE/tickets"),
        None,
        None,
    );
    assert_eq!(st, 404);
    let (st, _, _) = call(
        &s,
        "GET",
        "/api/v1/scores/2026-13/units/110105/tickets",
        None,
        None,
    );
    assert_eq!(st, 422);
    // not-ranked reasons in both languages; street rows name their district
    let u = &card["units"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["rank"].is_null())
        .expect("an unranked street")
        .clone();
    assert!(u["not_ranked_reason"].as_str().unwrap().is_ascii());
    assert!(u["not_ranked_reason_zh"].as_str().unwrap().contains("不"));
    assert!(card["units"][0]["district_name"]
        .as_str()
        .unwrap()
        .ends_with('区'));
}

/// The public (no log-in) scorecard and drill-down name the shipped default policy the way
/// a citizen reads it; staff keep the internal name.
#[test]
fn the_public_scorecard_hides_the_internal_policy_name() {
    let s = server(&[("super1", "supervisor", None)]);
    let tok = login(&s, "super1");
    // any month: the policy line is there even when nothing was counted
    for path in [
        "/api/v1/scores/2026-01/street",
        "/api/v1/scores/2026-01/district/tickets?measure=counted",
    ] {
        let (st, _, public) = call(&s, "GET", path, None, None);
        assert_eq!(st, 200, "{path}: {public}");
        let name = public["policy_name"].as_str().expect("policy_name");
        assert_eq!(name, "接诉即办考核办法", "{path}");
        let body = public.to_string();
        assert!(!body.contains("shipped"), "{path}: {body}");
        assert!(!body.contains("默认"), "{path}: {body}");
        // a bad token is the public
        let (_, _, bad) = call(&s, "GET", path, Some("not-a-token"), None);
        assert_eq!(bad["policy_name"], public["policy_name"], "{path}");

        let (st, _, staff) = call(&s, "GET", path, Some(&tok), None);
        assert_eq!(st, 200, "{path}: {staff}");
        assert!(
            staff["policy_name"]
                .as_str()
                .unwrap()
                .contains("shipped default"),
            "{path}: staff see the policy's own name"
        );
        assert_eq!(staff["policy_id"], public["policy_id"]);
        assert_eq!(staff["policy_fingerprint"], public["policy_fingerprint"]);
    }
}
