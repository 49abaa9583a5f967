//! The demo city end to end: calibration against Beijing's figures (the tolerances of the
//! acceptance check), determinism, and that every stored ticket is exactly what the real domain
//! transitions produced.

use chrono::{DateTime, TimeZone, Utc};
use jiesu_demo::{generate, stats, GenerateOptions, Regenerator};
use jiesu_store::{prelude::*, SqliteStore, StoreOptions};

/// Reads the database file directly: these tests check raw rows, which no store method offers.
trait RawSql {
    fn sql<T>(
        &self,
        f: impl FnOnce(&rusqlite::Connection) -> jiesu_store::Result<T>,
    ) -> jiesu_store::Result<T>;
}

impl RawSql for SqliteStore {
    fn sql<T>(
        &self,
        f: impl FnOnce(&rusqlite::Connection) -> jiesu_store::Result<T>,
    ) -> jiesu_store::Result<T> {
        let c = rusqlite::Connection::open_with_flags(
            self.path(),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )?;
        f(&c)
    }
}
use serde_json::Value;
use std::sync::OnceLock;

fn end() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 6, 30, 0).unwrap()
}

fn opts(scale: f64, months: u32, seed: u64) -> GenerateOptions {
    GenerateOptions {
        months,
        scale,
        seed,
        end: end(),
    }
}

struct City {
    _dir: tempfile::TempDir,
    store: SqliteStore,
    stats: Value,
    opts: GenerateOptions,
    report: jiesu_demo::GenerateReport,
}

/// One small city (scale 0.001 × 12 months ≈ 15,000 tickets) shared by the tests.
fn city() -> &'static City {
    static C: OnceLock<City> = OnceLock::new();
    C.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open_with(
            dir.path().join("city.db"),
            StoreOptions {
                durable: false,
                ..Default::default()
            },
        )
        .unwrap();
        let o = opts(0.001, 12, 7);
        let report = generate(&o, &store, &|_, _| {}).unwrap();
        let stats = stats(&store).unwrap();
        City {
            _dir: dir,
            store,
            stats,
            opts: o,
            report,
        }
    })
}

fn get(v: &Value, path: &[&str]) -> f64 {
    let mut x = v;
    for p in path {
        x = &x[*p];
    }
    x.as_f64()
        .unwrap_or_else(|| panic!("{path:?} missing in {v}"))
}

fn near(v: &Value, path: &[&str], want: f64, tol: f64) {
    let got = get(v, path);
    assert!(
        (got - want).abs() <= tol,
        "{path:?} = {got:.4}, want {want} ± {tol}"
    );
}

#[test]
fn shares_hit_beijings_figures_within_the_acceptance_tolerances() {
    let s = &city().stats;
    let n = get(s, &["tickets"]);
    // 2021 level: ≈ 1,470万 a year → ≈ 14,700 at scale 0.001
    assert!((13_500.0..16_000.0).contains(&n), "tickets {n}");
    near(s, &["channel_share", "phone"], 0.921, 0.035);
    near(s, &["answered_directly_share"], 0.585, 0.03);
    for (k, v) in [
        ("district_department", 0.378),
        ("street_town", 0.360),
        ("city_department", 0.161),
        ("state_enterprise", 0.074),
        ("ecommerce_other", 0.027),
    ] {
        near(s, &["dispatched_by_unit_type_share", k], v, 0.03);
    }
    near(s, &["dispatched_by_district_share", "朝阳区"], 0.172, 0.03);
    near(s, &["dispatched_by_district_share", "海淀区"], 0.131, 0.03);
    near(s, &["dispatched_by_district_share", "延庆区"], 0.015, 0.01);
    near(s, &["resolution_rate"], 0.85, 0.05);
    near(s, &["satisfaction_rate"], 0.90, 0.05);
    let cs = s["category_share"].as_object().unwrap();
    assert!(cs.len() >= 10);
    let sum: f64 = cs.values().map(|v| v.as_f64().unwrap()).sum();
    assert!((sum - 1.0).abs() < 0.02, "category shares sum to {sum}");
    // 市场管理 is the largest category once 疫情防控 is down-weighted
    let top = cs
        .iter()
        .max_by(|a, b| a.1.as_f64().partial_cmp(&b.1.as_f64()).unwrap())
        .unwrap();
    assert_eq!(top.0, "市场管理");
    assert!(get(s, &["category_share", "疫情防控"]) < 0.04);
    // 拆迁 is hard to resolve but its callers are fairly satisfied: 城乡建设 resolves less
    let cx = get(s, &["rates_by_category", "城乡建设", "resolution_rate"]);
    assert!(
        cx < get(s, &["resolution_rate"]),
        "城乡建设 resolution {cx}"
    );
    // routing quality and timeliness
    let acc = get(s, &["dispatch_accuracy"]);
    assert!((0.85..0.97).contains(&acc), "dispatch accuracy {acc}");
    near(s, &["respond_on_time_rate"], 0.93, 0.03);
    near(s, &["contacted_rate"], 0.97, 0.02);
    near(s, &["enterprise_share"], 0.03, 0.015);
    let praise = get(s, &["type_share", "praise"]);
    assert!((0.002..0.009).contains(&praise), "praise {praise}");
}

#[test]
fn volumes_follow_the_calendar() {
    let s = &city().stats;
    let m = s["monthly_volume"].as_object().unwrap();
    // 12 months back from 2026-11-20: Nov 2025 (partial) … Nov 2026 (partial)
    let feb = m["2026-02"].as_f64().unwrap();
    let mar = m["2026-03"].as_f64().unwrap();
    let oct = m["2026-10"].as_f64().unwrap();
    let dec = m["2025-12"].as_f64().unwrap();
    assert!(feb < mar && feb < dec, "February is the low: {m:?}");
    assert!(oct < dec, "{m:?}");
    // night is quiet: 02–05 Beijing time carries a few percent of the day
    let night: i64 = city()
        .store
        .sql(|c| {
            Ok(c.query_row(
                "SELECT COUNT(*) FROM tickets WHERE CAST(strftime('%H', datetime(created_at, '+8 hours')) AS INTEGER) BETWEEN 2 AND 4",
                [],
                |r| r.get(0),
            )?)
        })
        .unwrap();
    let total = get(s, &["tickets"]);
    assert!((night as f64) < 0.03 * total, "night {night} of {total}");
}

#[test]
fn the_newest_tickets_are_still_open_and_nothing_happens_after_the_end() {
    let c = city();
    let st = &c.stats["status_count"];
    assert!(st["in_progress"].as_i64().unwrap_or(0) > 0, "{st}");
    assert!(st["result_submitted"].as_i64().unwrap_or(0) > 0, "{st}");
    let end = jiesu_store::time::fmt(c.opts.end);
    let (after, backwards, open_old): (i64, i64, i64) = c
        .store
        .sql(|db| {
            let after = db.query_row("SELECT COUNT(*) FROM events WHERE at > ?1", [&end], |r| r.get(0))?;
            let backwards = db.query_row(
                "SELECT COUNT(*) FROM events a JOIN events b ON b.ticket_id = a.ticket_id AND b.seq = a.seq + 1 WHERE b.at < a.at",
                [],
                |r| r.get(0),
            )?;
            // open tickets are recent: none created more than 90 days before the end
            let open_old = db.query_row(
                "SELECT COUNT(*) FROM tickets WHERE status NOT IN ('closed','answered','special_handled')
                   AND created_at < strftime('%Y-%m-%dT%H:%M:%fZ', ?1, '-90 days')",
                [&end],
                |r| r.get(0),
            )?;
            Ok((after, backwards, open_old))
        })
        .unwrap();
    assert_eq!(after, 0, "events after the end of the history");
    assert_eq!(backwards, 0, "events going back in time");
    assert_eq!(open_old, 0, "old tickets left open");
    assert_eq!(c.report.tickets as f64, get(&c.stats, &["tickets"]));
}

#[test]
fn every_transition_of_the_lifecycle_occurs() {
    let kinds: Vec<String> = city()
        .store
        .sql(|c| {
            let mut s = c.prepare("SELECT DISTINCT kind FROM events ORDER BY kind")?;
            let r = s
                .query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<Vec<String>>>()?;
            Ok(r)
        })
        .unwrap();
    for k in [
        "created",
        "answered_directly",
        "special_handled",
        "dispatched",
        "signed",
        "responded",
        "note_added",
        "whistled",
        "reported_in",
        "return_requested",
        "return_reviewed",
        "extension_requested",
        "extension_reviewed",
        "escalated",
        "result_submitted",
        "callback_recorded",
        "reopened",
        "closed",
    ] {
        assert!(kinds.iter().any(|x| x == k), "no {k} event in {kinds:?}");
    }
}

#[test]
fn stored_tickets_are_exactly_their_generation_and_fold_from_their_events() {
    let c = city();
    let regen = Regenerator::new(&c.opts).unwrap();
    assert_eq!(regen.tickets(), c.report.tickets);
    let n = c.report.tickets as i64;
    let mut checked = 0;
    for id in (1..=n).step_by((n / 150).max(1) as usize).chain([n]) {
        let (stored, events) = c.store.load_ticket(id).unwrap().expect("stored ticket");
        let (made, made_events) = regen.ticket(id).unwrap().expect("generated ticket");
        assert_eq!(events, made_events, "events of ticket {id}");
        assert_eq!(stored, made, "state of ticket {id}");
        let folded = jiesu_domain::TicketState::fold(id, &events).unwrap();
        assert_eq!(folded, stored);
        assert_eq!(
            stored.number,
            jiesu_domain::zone::public_number(
                id,
                stored.created_at,
                jiesu_domain::CityZone::default()
            )
        );
        checked += 1;
    }
    assert!(checked > 100);
    assert!(regen.ticket(n + 1).unwrap().is_none());
}

/// A digest of everything a history is made of, in a fixed order.
fn digest(store: &SqliteStore) -> (i64, u64) {
    store
        .sql(|c| {
            let mut h: u64 = 0xcbf2_9ce4_8422_2325;
            let mut n = 0i64;
            let mut s = c.prepare(
                "SELECT ticket_id, seq, at, kind, actor, role, COALESCE(unit_code, ''), payload FROM events ORDER BY ticket_id, seq",
            )?;
            let mut rows = s.query([])?;
            while let Some(r) = rows.next()? {
                n += 1;
                let line = format!(
                    "{}|{}|{}|{}|{}|{}|{}|{}",
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, String>(6)?,
                    r.get::<_, String>(7)?
                );
                for b in line.bytes() {
                    h ^= b as u64;
                    h = h.wrapping_mul(0x0100_0000_01b3);
                }
            }
            let mut s = c.prepare("SELECT number, status, COALESCE(lead_unit, '') FROM tickets ORDER BY id")?;
            let mut rows = s.query([])?;
            while let Some(r) = rows.next()? {
                for part in [r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?] {
                    for b in part.bytes() {
                        h ^= b as u64;
                        h = h.wrapping_mul(0x0100_0000_01b3);
                    }
                }
            }
            Ok((n, h))
        })
        .unwrap()
}

#[test]
fn the_same_seed_gives_the_same_city_and_another_seed_another() {
    let dir = tempfile::tempdir().unwrap();
    let run = |name: &str, seed: u64| {
        let store = SqliteStore::open_with(
            dir.path().join(name),
            StoreOptions {
                durable: false,
                ..Default::default()
            },
        )
        .unwrap();
        generate(&opts(0.0005, 3, seed), &store, &|_, _| {}).unwrap();
        let d = digest(&store);
        let meta = store.meta("demo_city").unwrap();
        assert_eq!(meta.as_deref(), Some("beijing"));
        d
    };
    let a = run("a.db", 11);
    let b = run("b.db", 11);
    let c = run("c.db", 12);
    assert!(a.0 > 1000, "{a:?}");
    assert_eq!(a, b, "same seed, different content");
    assert_ne!(a.1, c.1, "different seeds, same content");
}

#[test]
fn a_database_with_tickets_is_refused() {
    let c = city();
    let err = generate(&c.opts, &c.store, &|_, _| {}).unwrap_err();
    assert!(err.to_string().contains("already holds"), "{err}");
}

#[test]
fn a_generated_file_ends_in_wal_mode_with_16k_pages_and_every_index() {
    let c = city();
    let (mode, page, indexes, check) = c
        .store
        .sql(|db| {
            let mode: String = db.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
            let page: i64 = db.query_row("PRAGMA page_size", [], |r| r.get(0))?;
            let indexes: Vec<String> = db
                .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")?
                .query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            let check: String = db.query_row("PRAGMA quick_check", [], |r| r.get(0))?;
            Ok((mode, page, indexes, check))
        })
        .unwrap();
    assert_eq!(
        mode, "wal",
        "the bulk load's in-memory journal is undone at its end"
    );
    assert_eq!(page, 16384, "a bulk-loaded file has 16 KiB pages");
    assert_eq!(check, "ok");
    // the indexes the load kept and those it dropped and built again are all there
    for name in [
        "events_pos",
        "tickets_created",
        "tickets_first_dispatch",
        "assignments_dispatched",
        "tickets_status",
        "tickets_category",
        "tickets_street",
        "tickets_phone",
        "assignments_unit",
    ] {
        assert!(
            indexes.iter().any(|i| i == name),
            "index {name} missing: {indexes:?}"
        );
    }
}
