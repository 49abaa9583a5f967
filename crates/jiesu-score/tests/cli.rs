//! The command-line front ends on a real database: tickets built through the domain's transitions,
//! imported into a temporary SQLite store with Beijing's reference data.

#[path = "common/city.rs"]
mod city;
mod common;

use chrono::{Duration, TimeZone, Utc};
use city::{build, Respond, Spec};
use jiesu_domain::ticket::{AssignmentRole, ExemptReason, Resolution, Satisfaction};
use jiesu_score::cli::{
    run_export_tickets_to, run_score_to, ExportFormat, ExportTicketsArgs, ScoreArgs, ScoreFormat,
};
use jiesu_score::facts::{load_facts, CacheMode, Columns, FactSource};
use jiesu_score::{Level, Month};
use jiesu_store::{prelude::*, SqliteStore};
use rand::{Rng, SeedableRng};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// A database of ~1 200 tickets over October and November 2026 (UTC), spread over every street.
fn city_db(dir: &Path) -> PathBuf {
    let path = dir.join("city.db");
    let store = SqliteStore::open(&path).unwrap();
    let units = jiesu_refdata::units();
    let cats = jiesu_refdata::category_tree();
    store.replace_reference(&units, cats.all()).unwrap();
    let streets: Vec<_> = units
        .iter()
        .filter(|u| u.kind == jiesu_domain::org::UnitKind::StreetTown)
        .collect();
    let leaves: Vec<String> = cats
        .leaves()
        .map(|c| c.code.clone())
        .step_by(7)
        .take(30)
        .collect();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let start = Utc.with_ymd_and_hms(2026, 10, 1, 0, 0, 0).unwrap();
    let mut batch = vec![];
    for id in 1..=1200i64 {
        let street = streets[(id as usize * 7) % streets.len()];
        let district = street.parent.clone().unwrap();
        let created = start + Duration::seconds(rng.gen_range(0..61 * 24 * 3600));
        let lead = match rng.gen_range(0..10) {
            0..=6 => street.code.clone(),
            7 | 8 => format!("{district}D01"),
            _ => "CD001".to_string(),
        };
        let mut s = Spec::new(id, created, &lead, &district, &street.code);
        s.category = leaves[rng.gen_range(0..leaves.len())].clone();
        s.tier = *[
            jiesu_domain::ticket::DeadlineTier::H24,
            jiesu_domain::ticket::DeadlineTier::D7,
        ][rng.gen_range(0..2)..][0..1]
            .first()
            .unwrap();
        s.respond = [
            Respond::OnTime,
            Respond::OnTime,
            Respond::OnTime,
            Respond::Late,
            Respond::Never,
        ][rng.gen_range(0..5)];
        let res = [
            Resolution::Resolved,
            Resolution::Resolved,
            Resolution::Partly,
            Resolution::Unresolved,
        ][rng.gen_range(0..4)];
        let sat = [
            Satisfaction::Satisfied,
            Satisfaction::Satisfied,
            Satisfaction::Basic,
            Satisfaction::Unsatisfied,
        ][rng.gen_range(0..4)];
        s.callback = match rng.gen_range(0..20) {
            0 => None,
            1 => Some((false, res, sat)),
            _ => Some((true, res, sat)),
        };
        if rng.gen_bool(0.08) {
            let other = streets[(id as usize * 13 + 5) % streets.len()];
            if other.code != lead {
                s.returned_by = Some(other.code.clone());
            }
        }
        if rng.gen_bool(0.1) {
            s.assist = Some(format!("{district}D02"));
        }
        if s.callback
            .is_some_and(|c| c.0 && c.1 == Resolution::Unresolved)
            && rng.gen_bool(0.5)
        {
            s.reopen = Some((Resolution::Resolved, Satisfaction::Basic));
        }
        if rng.gen_bool(0.05) {
            s.exempt = Some(ExemptReason::ALL[rng.gen_range(0..ExemptReason::ALL.len())]);
        }
        batch.push(build(&s));
    }
    store.import(batch).unwrap();
    path
}

fn score_csv(
    db: &Path,
    period: &str,
    level: Level,
    extra: impl FnOnce(&mut ScoreArgs),
) -> anyhow::Result<String> {
    let mut args = ScoreArgs {
        db: db.to_path_buf(),
        period: Month::parse(period).unwrap(),
        level,
        format: ScoreFormat::Csv,
        policy: None,
        exemptions: false,
        no_cache: false,
        output: None,
    };
    extra(&mut args);
    let mut out = vec![];
    run_score_to(&args, &mut out)?;
    Ok(String::from_utf8(out).unwrap())
}

fn export_csv(db: &Path) -> String {
    let mut out = vec![];
    let a = ExportTicketsArgs {
        db: db.to_path_buf(),
        from: "2000-01-01".into(),
        to: "2100-01-01".into(),
        format: ExportFormat::Csv,
        output: None,
    };
    run_export_tickets_to(&a, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

fn records(csv_text: &str) -> Vec<HashMap<String, String>> {
    let mut r = csv::Reader::from_reader(csv_text.as_bytes());
    let head: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
    r.records()
        .map(|rec| {
            head.iter()
                .cloned()
                .zip(rec.unwrap().iter().map(str::to_string))
                .collect()
        })
        .collect()
}

/// The acceptance check's recomputation (lib/score_oracle.py), in Rust. The month of a first
/// dispatch is its month in the city's zone (the demo city: Asia/Shanghai), as the policy says.
fn oracle(export: &[HashMap<String, String>], period: &str) -> HashMap<String, [u32; 7]> {
    let mut agg: HashMap<String, [u32; 7]> = HashMap::new();
    let ts = |s: &str| chrono::DateTime::parse_from_rfc3339(s).ok();
    let zone = jiesu_domain::CityZone::default();
    let in_period = |s: &str| {
        ts(s).is_some_and(|t| {
            let (y, m) = zone.year_month(t.with_timezone(&chrono::Utc));
            format!("{y:04}-{m:02}") == period
        })
    };
    for r in export {
        if r["role"] != "lead"
            || !r["exempt_reason"].is_empty()
            || !in_period(&r["first_dispatched_at"])
        {
            continue;
        }
        let a = agg.entry(r["unit_code"].clone()).or_default();
        a[0] += 1;
        if let (Some(x), Some(d)) = (ts(&r["responded_at"]), ts(&r["respond_deadline"])) {
            if x <= d {
                a[1] += 1;
            }
        }
        if r["contacted"] == "true" {
            a[6] += 1;
            a[2] += (r["resolution"] == "resolved") as u32;
            a[3] += (r["resolution"] == "partly") as u32;
            a[4] += (r["satisfaction"] == "satisfied") as u32;
            a[5] += (r["satisfaction"] == "basic") as u32;
        }
    }
    agg
}

#[test]
fn the_street_scorecard_equals_an_independent_recomputation_from_the_export() {
    let dir = tempfile::tempdir().unwrap();
    let db = city_db(dir.path());
    let export_text = export_csv(&db);
    let export = records(&export_text);
    // one row per assignment, returned ones included, no personal data
    let head = export_text.lines().next().unwrap();
    assert!(head.starts_with("number,unit_code,role,type,category_code,tier,first_dispatched_at,responded_at,respond_deadline,finished_at,finish_deadline,contacted,resolution,satisfaction,exempt_reason"), "{head}");
    assert!(
        !export_text.contains("13912345678")
            && !export_text.contains("王先生")
            && !head.contains("phone")
    );
    assert!(export.iter().any(|r| r["state"] == "returned"));
    assert!(export.iter().any(|r| r["role"] == "assist"));
    assert!(export.iter().any(|r| r["round"] == "1"));
    assert!(export.iter().any(|r| r["responded_at"].is_empty()));
    assert_eq!(
        export
            .iter()
            .filter(|r| r["role"] == "lead")
            .map(|r| &r["number"])
            .collect::<std::collections::HashSet<_>>()
            .len(),
        1200
    );

    let card = records(&score_csv(&db, "2026-11", Level::Street, |_| {}).unwrap());
    assert!(card.len() >= 340, "every street is listed: {}", card.len());
    let want = oracle(&export, "2026-11");
    let mut nonzero = 0;
    for row in &card {
        let w = want.get(&row["unit_code"]).copied().unwrap_or_default();
        let got = [
            "counted",
            "responded",
            "resolved",
            "partly",
            "satisfied",
            "basic",
            "valid_callbacks",
        ]
        .map(|k| row[k].parse::<u32>().unwrap());
        assert_eq!(got, w, "street {}", row["unit_code"]);
        nonzero += (w[0] > 0) as u32;
    }
    assert!(nonzero > 100, "{nonzero} streets with counted assignments");

    // the Python oracle of the acceptance check, when the shared checks are beside the repo
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/acceptance/lib/score_oracle.py");
    let python_ok = std::process::Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if script.exists() && python_ok {
        let (e, s) = (dir.path().join("export.csv"), dir.path().join("score.csv"));
        std::fs::write(&e, &export_text).unwrap();
        std::fs::write(
            &s,
            score_csv(&db, "2026-11", Level::Street, |_| {}).unwrap(),
        )
        .unwrap();
        let period = std::process::Command::new("python3")
            .arg(&script)
            .arg("period")
            .arg(&e)
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&period.stdout).trim(),
            "2026-10",
            "the oracle picks the busier non-final month"
        );
        let out = std::process::Command::new("python3")
            .arg(&script)
            .args(["compare"])
            .arg(&e)
            .arg(&s)
            .arg("2026-11")
            // the period's bounds in the city's zone, as the acceptance check passes them
            .args(["2026-10-31T16:00:00Z", "2026-11-30T16:00:00Z"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn every_level_prints_a_table_and_json_carries_exemptions_with_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let db = city_db(dir.path());
    for level in Level::ALL {
        let rows = records(&score_csv(&db, "2026-10", level, |_| {}).unwrap());
        assert!(!rows.is_empty(), "{level}");
        assert!(
            rows[0].contains_key("adjusted_resolution")
                && rows[0].contains_key("satisfaction_high")
        );
        if level == Level::District {
            assert_eq!(rows.len(), 16);
            assert!(
                rows.iter()
                    .all(|r| r["requests_per_10k"] != "not available"),
                "districts have census population"
            );
        }
        if level == Level::Department {
            let cd = rows.iter().find(|r| r["unit_code"] == "CD001").unwrap();
            assert!(
                cd["industry_counted"].parse::<u32>().unwrap()
                    >= cd["counted"].parse::<u32>().unwrap() / 2
            );
        }
    }
    let mut json = vec![];
    let policy = dir.path().join("p.toml");
    std::fs::write(
        &policy,
        jiesu_score::policy::DEFAULT_POLICY_TOML.replace("min_sample = 10", "min_sample = 2"),
    )
    .unwrap();
    let args = ScoreArgs {
        db: db.clone(),
        period: Month::parse("2026-10").unwrap(),
        level: Level::Street,
        format: ScoreFormat::Json,
        policy: Some(policy),
        exemptions: false,
        no_cache: true,
        output: None,
    };
    run_score_to(&args, &mut json).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(v["policy_id"], "default");
    let ex = v["exemptions"].as_array().unwrap();
    assert!(!ex.is_empty());
    assert!(ex.iter().all(|e| e["number"].as_str().unwrap().len() == 16
        && !e["reason_zh"].as_str().unwrap().is_empty()));
    assert!(
        v["top"].as_array().unwrap().len() >= 10,
        "top 10 (more when tied at the cut-off)"
    );
    assert!(v["bottom"].as_array().unwrap().len() >= 10);
    let listed =
        records(&score_csv(&db, "2026-10", Level::Street, |a| a.exemptions = true).unwrap());
    assert_eq!(listed.len(), ex.len());
}

#[test]
fn the_fact_file_is_used_when_current_and_rebuilt_when_the_database_changes() {
    let dir = tempfile::tempdir().unwrap();
    let db = city_db(dir.path());
    let store = SqliteStore::open(&db).unwrap();
    let m = Month::parse("2026-11").unwrap();
    let (from, to) = (m.start_utc(), m.plus(1).start_utc());
    let (a, src) = load_facts(&store, from, to, Columns::full(), CacheMode::Use).unwrap();
    assert!(matches!(src, FactSource::Database { written: Some(_) }));
    let (b, src) = load_facts(&store, from, to, Columns::full(), CacheMode::Use).unwrap();
    assert!(matches!(src, FactSource::Cache(_)));
    assert_eq!(a, b);
    // a change to any ticket (here: an exemption) makes the file stale
    let i = (0..a.len())
        .find(|&i| a.exempt[i] == 0 && a.role[i] == 1)
        .unwrap();
    let (id, unit) = (a.ticket_id[i], a.codes.get(a.unit[i]).to_string());
    let before = records(&score_csv(&db, "2026-11", Level::Street, |_| {}).unwrap());
    store
        .update_ticket(
            id,
            Box::new(|t| {
                let actor = jiesu_domain::ActorRef {
                    user: "sup".into(),
                    role: jiesu_domain::Role::Supervisor,
                    unit: None,
                };
                let cmd = jiesu_domain::Command::Exempt {
                    reason: Some(ExemptReason::Unreasonable),
                    note: "核实".into(),
                };
                Ok(jiesu_domain::execute(t, &cmd, &actor, Utc::now())?)
            }),
        )
        .unwrap();
    let (_, src) = load_facts(&store, from, to, Columns::full(), CacheMode::Use).unwrap();
    assert!(
        matches!(src, FactSource::Database { .. }),
        "stale file must not be used"
    );
    let after = records(&score_csv(&db, "2026-11", Level::Street, |_| {}).unwrap());
    let ex = |rows: &[HashMap<String, String>]| {
        rows.iter()
            .find(|r| r["unit_code"] == unit)
            .map(|r| r["exempted"].parse::<u32>().unwrap())
    };
    if let (Some(x), Some(y)) = (ex(&before), ex(&after)) {
        assert_eq!(y, x + 1);
    }
    let _ = AssignmentRole::Lead;
}

#[test]
fn bad_policy_files_and_bad_arguments_are_refused_with_a_clear_report() {
    let dir = tempfile::tempdir().unwrap();
    let db = city_db(dir.path());
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "[[policy]]\nid = \"a\"\neffective_from = \"2026-01\"\ncategories = [\"9999\"]\n[policy.composite]\nresponse = 0.5\nresolution = 0.4\nsatisfaction = 0.4\n",
    )
    .unwrap();
    let e = score_csv(&db, "2026-11", Level::Street, |a| {
        a.policy = Some(bad.clone())
    })
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("composite weights add up to 1.3")
            && e.contains("unknown category code \"9999\""),
        "{e}"
    );
    let e = score_csv(&db, "2026-11", Level::Street, |a| {
        a.db = dir.path().join("missing.db")
    })
    .unwrap_err()
    .to_string();
    assert!(e.contains("does not exist"), "{e}");
    let mut out = vec![];
    let a = ExportTicketsArgs {
        db: db.clone(),
        from: "2026-12-01".into(),
        to: "2026-11-01".into(),
        format: ExportFormat::Csv,
        output: None,
    };
    assert!(run_export_tickets_to(&a, &mut out)
        .unwrap_err()
        .to_string()
        .contains("must be after"));
    let a = ExportTicketsArgs {
        db,
        from: "yesterday".into(),
        to: "2026-11-01".into(),
        format: ExportFormat::Jsonl,
        output: None,
    };
    assert!(run_export_tickets_to(&a, &mut out)
        .unwrap_err()
        .to_string()
        .contains("is not a date"));
}

/// The same independent recomputation on a month of the demo city (jiesu-demo's generator).
#[test]
fn the_demo_citys_scorecard_equals_the_recomputation_at_every_street() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.db");
    let store = SqliteStore::open_with(
        &db,
        jiesu_store::StoreOptions {
            durable: false,
            ..Default::default()
        },
    )
    .unwrap();
    let end = Utc.with_ymd_and_hms(2026, 11, 28, 0, 0, 0).unwrap();
    let opts = jiesu_demo::GenerateOptions {
        months: 2,
        scale: 0.003,
        seed: 13,
        end,
    };
    jiesu_demo::generate(&opts, &store, &|_, _| {}).unwrap();
    drop(store);
    let export = records(&export_csv(&db));
    let card = records(&score_csv(&db, "2026-10", Level::Street, |_| {}).unwrap());
    let want = oracle(&export, "2026-10");
    assert!(card.len() >= 100);
    assert!(
        want.values().map(|w| w[0]).sum::<u32>() > 1000,
        "a month of demo tickets"
    );
    for row in &card {
        let w = want.get(&row["unit_code"]).copied().unwrap_or_default();
        let got = [
            "counted",
            "responded",
            "resolved",
            "partly",
            "satisfied",
            "basic",
            "valid_callbacks",
        ]
        .map(|k| row[k].parse::<u32>().unwrap());
        assert_eq!(got, w, "street {}", row["unit_code"]);
    }
}
