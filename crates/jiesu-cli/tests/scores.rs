//! The scorecard over the API and the CLI agree, and carry no personal data.

mod common;
use common::*;

#[test]
fn the_public_scorecard_matches_the_cli_and_has_no_personal_data() {
    let s = server_with(
        |db| {
            ok(&[
                "generate",
                "--db",
                db.to_str().unwrap(),
                "--months",
                "2",
                "--scale",
                "0.001",
                "--seed",
                "5",
            ]);
        },
        &[],
    );
    let db = s.dir.path().join("city.db");
    let period = (chrono::Utc::now() - chrono::Duration::days(31))
        .format("%Y-%m")
        .to_string();
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
