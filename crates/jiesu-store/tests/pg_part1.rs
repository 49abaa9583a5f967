//! The PostgreSQL backend's ledger, alerts, reports, stats, analytics and facts against a real
//! PostgreSQL (`JIESU_TEST_PG=postgres://…`; each test says it is skipped without it; each test makes a database of its own). Every test
//! starts from an empty schema and, wherever it can, does the same to a SQLite store and checks
//! that both give the same answers. Tickets are made by the SQLite store (the PostgreSQL ticket
//! store is not part of this) and their rows copied into PostgreSQL with COPY.
//!
//! Run with `--test-threads=1`: the tests share one database.

mod support;
use support::new_database;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use jiesu_domain::command::{execute, AssignmentRequest, Command};
use jiesu_domain::ticket::*;
use jiesu_domain::{ActorRef, CallbackOutcome, CityZone, Role, TicketState};
use jiesu_store::ledger::open_note;
use jiesu_store::merkle::{empty_root, verify_consistency, verify_inclusion};
use jiesu_store::{
    prelude::*, AlertFilter, AlertRow, AlertStep, NewReport, NewTicket, PgStore, SqliteStore,
    StoreError, StoreOptions,
};
use rusqlite::types::Value;

/// A fresh PostgreSQL store (empty schema) with its own data directory, or `None` (after saying
/// so) without `JIESU_TEST_PG`.
struct Pg {
    store: PgStore,
    client: postgres::Client,
    dir: tempfile::TempDir,
    url: String,
}

fn pg() -> Option<Pg> {
    let Ok(url) = std::env::var("JIESU_TEST_PG") else {
        println!("skipped: JIESU_TEST_PG not set");
        return None;
    };
    let url = new_database(&url);
    let client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::env::set_var("JIESU_DATA_DIR", dir.path());
    std::env::remove_var("JIESU_SIGNING_KEY_FILE");
    let store = PgStore::open(&url).unwrap();
    Some(Pg {
        store,
        client,
        dir,
        url,
    })
}

fn sqlite(dir: &std::path::Path) -> SqliteStore {
    SqliteStore::open_with(
        dir.join("city.db"),
        StoreOptions {
            durable: false,
            ..Default::default()
        },
    )
    .unwrap()
}

/// One field of PostgreSQL's COPY text format.
fn copy_field(out: &mut String, v: &Value) {
    match v {
        Value::Null => out.push_str("\\N"),
        Value::Integer(i) => out.push_str(&i.to_string()),
        Value::Real(f) => out.push_str(&format!("{f:?}")),
        Value::Text(s) => {
            for c in s.chars() {
                match c {
                    '\\' => out.push_str("\\\\"),
                    '\t' => out.push_str("\\t"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    c => out.push(c),
                }
            }
        }
        Value::Blob(b) => {
            out.push_str("\\\\x");
            for byte in b {
                out.push_str(&format!("{byte:02x}"));
            }
        }
    }
}

/// The event log's monthly partitions (as the store names them) for the months of the SQLite
/// file's events, so copied rows have somewhere to go.
fn make_partitions(lite: &rusqlite::Connection, pg: &mut postgres::Client) {
    let months: Vec<String> = lite
        .prepare("SELECT DISTINCT substr(at, 1, 7) FROM events")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    for m in months {
        let (y, mo): (i32, u32) = (m[..4].parse().unwrap(), m[5..7].parse().unwrap());
        let next = if mo == 12 {
            format!("{:04}-01", y + 1)
        } else {
            format!("{y:04}-{:02}", mo + 1)
        };
        pg.batch_execute(&format!(
            "CREATE TABLE IF NOT EXISTS events_{y:04}_{mo:02} PARTITION OF events FOR VALUES FROM ('{m}') TO ('{next}')"
        ))
        .unwrap();
    }
}

/// Copies the rows of `table` matching `filter` from the SQLite file to PostgreSQL (same
/// columns); the number copied.
fn copy_table(
    lite: &rusqlite::Connection,
    pg: &mut postgres::Client,
    table: &str,
    filter: &str,
) -> usize {
    use std::io::Write;
    if table == "events" {
        make_partitions(lite, pg);
    }
    let mut s = lite
        .prepare(&format!("SELECT * FROM {table} WHERE {filter}"))
        .unwrap();
    let cols: Vec<String> = s.column_names().iter().map(|c| c.to_string()).collect();
    let mut text = String::new();
    let mut rows = s.query([]).unwrap();
    let mut n = 0;
    while let Some(r) = rows.next().unwrap() {
        for i in 0..cols.len() {
            if i > 0 {
                text.push('\t');
            }
            copy_field(&mut text, &r.get::<_, Value>(i).unwrap());
        }
        text.push('\n');
        n += 1;
    }
    let mut w = pg
        .copy_in(&format!("COPY {table} ({}) FROM STDIN", cols.join(", ")))
        .unwrap();
    w.write_all(text.as_bytes()).unwrap();
    w.finish().unwrap();
    n
}

fn at(d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, d, 2, 0, 0).unwrap()
}

fn agent() -> ActorRef {
    ActorRef {
        user: "agent1".into(),
        role: Role::Agent,
        unit: None,
    }
}

fn intake(i: usize, channel: Channel, rtype: RequestType, district: &str) -> Intake {
    Intake {
        channel,
        request_type: rtype,
        category_code: if i.is_multiple_of(2) {
            "010101"
        } else {
            "020301"
        }
        .into(),
        title: format!("路灯不亮 {i}"),
        text: "小区门口路灯一周不亮。".into(),
        place: Place {
            district_code: district.into(),
            street_code: format!("{district}010"),
            ..Default::default()
        },
        requester: Requester {
            name: "李女士".into(),
            phone: format!("139{:08}", i % 7),
        },
        enterprise: i.is_multiple_of(6),
        tier: None,
        praised_unit: (rtype == RequestType::Praise).then(|| "S1".to_string()),
        risk: None,
    }
}

fn new_ticket(intake: Intake, now: DateTime<Utc>) -> NewTicket {
    NewTicket {
        intake: intake.check().unwrap(),
        actor: agent(),
        now,
        idempotency_key: None,
        tracking_code: None,
    }
}

fn step(store: &SqliteStore, id: i64, cmd: Command, at: DateTime<Utc>) -> TicketState {
    store
        .update_ticket(
            id,
            Box::new(move |t: &mut TicketState| {
                Ok(execute(
                    t,
                    &cmd,
                    &ActorRef {
                        user: "sys".into(),
                        role: Role::System,
                        unit: None,
                    },
                    at,
                )?)
            }),
        )
        .unwrap_or_else(|e| panic!("ticket {id}: {e}"))
        .0
}

fn deadlines(tier: DeadlineTier, at: DateTime<Utc>) -> jiesu_domain::Deadlines {
    jiesu_routing::DeadlinePolicy::calendar_time_default().deadlines(
        tier,
        "",
        "",
        at,
        &jiesu_routing::Calendar::china_2025_2026(),
        &[],
    )
}

fn lead(unit: &str, at: DateTime<Utc>) -> AssignmentRequest {
    AssignmentRequest {
        unit: unit.into(),
        role: AssignmentRole::Lead,
        tier: DeadlineTier::D7,
        deadlines: deadlines(DeadlineTier::D7, at),
    }
}

// ---- ledger ------------------------------------------------------------------------------------

#[test]
fn pg_checkpoints_give_the_sqlite_roots_and_their_proofs_verify() {
    let Some(mut pg) = pg() else { return };
    let lite_dir = tempfile::tempdir().unwrap();
    let lite = sqlite(lite_dir.path());
    let store = &pg.store;
    // an empty log
    assert_eq!(store.log_size().unwrap(), 0);
    assert!(store.latest_checkpoint().unwrap().is_none());
    let (empty, made) = store.make_checkpoint(at(1)).unwrap();
    assert!(made);
    assert_eq!((empty.tree_size, empty.root), (0, empty_root()));
    // the same events as the SQLite store's, in three parts
    let new = |i: usize| {
        new_ticket(
            intake(i, Channel::Phone, RequestType::Consultation, "110108"),
            at(1),
        )
    };
    let mut ids = Vec::new();
    for i in 0..300 {
        ids.push(lite.create_ticket(new(i)).unwrap().state.id);
    }
    let (la, _) = lite.make_checkpoint(at(2)).unwrap();
    for i in 300..620 {
        ids.push(lite.create_ticket(new(i)).unwrap().state.id);
    }
    let (lb, _) = lite.make_checkpoint(at(3)).unwrap();
    let late = lite.create_ticket(new(999)).unwrap().state.id;
    drop(lite);
    let conn = rusqlite::Connection::open(lite_dir.path().join("city.db")).unwrap();
    let part = |from: u64, to: u64| format!("pos >= {from} AND pos < {to}");

    copy_table(&conn, &mut pg.client, "events", &part(0, la.tree_size));
    assert_eq!(store.log_size().unwrap(), la.tree_size);
    let (a, made) = store.make_checkpoint(at(2)).unwrap();
    assert!(made);
    assert_eq!((a.tree_size, a.root), (la.tree_size, la.root));
    // the log did not grow: no new checkpoint
    let (same, made) = store.make_checkpoint(at(2)).unwrap();
    assert!(!made);
    assert_eq!(same, a);

    copy_table(
        &conn,
        &mut pg.client,
        "events",
        &part(la.tree_size, lb.tree_size),
    );
    let (b, _) = store.make_checkpoint(at(3)).unwrap();
    assert_eq!((b.tree_size, b.root), (lb.tree_size, lb.root));
    copy_table(
        &conn,
        &mut pg.client,
        "events",
        &part(lb.tree_size, u64::MAX >> 2),
    );
    // the stored subtrees are the SQLite store's
    let lite_nodes: Vec<(i64, i64, Vec<u8>)> = conn
        .prepare("SELECT level, idx, hash FROM log_nodes ORDER BY level, idx")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    let pg_nodes: Vec<(i64, i64, Vec<u8>)> = pg
        .client
        .query(
            "SELECT level, idx, hash FROM log_nodes ORDER BY level, idx",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    assert!(pg_nodes.len() >= 3, "{pg_nodes:?}");
    assert_eq!(pg_nodes, lite_nodes);

    let key = store.log_key().unwrap();
    assert_eq!(store.log_key().unwrap().origin, key.origin, "kept");
    for cp in [&empty, &a, &b] {
        let body = open_note(&cp.note, &key).unwrap();
        assert_eq!((body.tree_size, body.root), (cp.tree_size, cp.root));
    }
    assert!(
        b.note.contains("\ntime 2026-12-03T02:00:00.000Z\n"),
        "{}",
        b.note
    );
    assert_eq!(store.latest_checkpoint().unwrap().unwrap(), b);
    assert_eq!(store.checkpoint(a.tree_size).unwrap().unwrap(), a);
    assert!(store.checkpoint(a.tree_size + 1).unwrap().is_none());
    let sizes = |v: Vec<jiesu_store::Checkpoint>| v.iter().map(|c| c.tree_size).collect::<Vec<_>>();
    assert_eq!(
        sizes(store.checkpoints(None, 10).unwrap()),
        vec![b.tree_size, a.tree_size, 0]
    );
    assert_eq!(store.checkpoints(None, usize::MAX).unwrap().len(), 3);
    assert_eq!(
        sizes(store.checkpoints(Some(b.tree_size), 1).unwrap()),
        vec![a.tree_size]
    );
    let proof = store.consistency_proof(a.tree_size, b.tree_size).unwrap();
    assert!(verify_consistency(
        a.tree_size,
        b.tree_size,
        &a.root,
        &b.root,
        &proof
    ));
    assert!(!verify_consistency(
        a.tree_size,
        b.tree_size,
        &b.root,
        &b.root,
        &proof
    ));
    assert!(matches!(
        store.consistency_proof(b.tree_size, a.tree_size),
        Err(StoreError::NotFound)
    ));
    let size = store.log_size().unwrap();
    assert!(matches!(
        store.consistency_proof(0, size + 1),
        Err(StoreError::NotFound)
    ));
    for id in [ids[0], ids[299], ids[450]] {
        let ev = store.ticket_proofs(id, b.tree_size).unwrap();
        assert!(!ev.is_empty());
        for e in ev {
            let path = e.path.expect("in the checkpoint");
            assert!(verify_inclusion(
                e.pos,
                b.tree_size,
                &e.leaf,
                &path,
                &b.root
            ));
        }
    }
    let ev = store.ticket_proofs(late, b.tree_size).unwrap();
    assert!(!ev.is_empty());
    assert!(
        ev.iter().all(|e| e.path.is_none()),
        "newer than the checkpoint"
    );
    assert!(store
        .ticket_proofs(123_456, b.tree_size)
        .unwrap()
        .is_empty());
    // an event without its hash: no checkpoint, and the error names its position
    let last = size as i64 - 1;
    let h: Vec<u8> = pg
        .client
        .query_one("SELECT hash FROM events WHERE pos = $1", &[&last])
        .unwrap()
        .get(0);
    pg.client
        .execute("UPDATE events SET hash = NULL WHERE pos = $1", &[&last])
        .unwrap();
    let err = store.make_checkpoint(at(4)).unwrap_err().to_string();
    assert!(
        err.contains(&format!("event at position {last} has no hash")),
        "{err}"
    );
    pg.client
        .execute("UPDATE events SET hash = $2 WHERE pos = $1", &[&last, &h])
        .unwrap();
    assert_eq!(
        store.latest_checkpoint().unwrap().unwrap(),
        b,
        "nothing stored"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // the key file is `<data dir>/<database name>.pg.signing-key`
        let url = pg.url.clone();
        let db = url.rsplit('/').next().unwrap().split('?').next().unwrap();
        let file = pg.dir.path().join(format!("{db}.pg.signing-key"));
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        // another signing key is refused: the log's checkpoints were signed with the first
        std::fs::remove_file(&file).unwrap();
        let err = store.make_checkpoint(at(4)).unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{err}");
        assert_eq!(store.latest_checkpoint().unwrap().unwrap(), b, "unchanged");
    }
}

// ---- alerts ------------------------------------------------------------------------------------

fn alert(day: u32, place: &str, score: f64, unit: &str, district: &str) -> AlertRow {
    AlertRow {
        id: 0,
        day: NaiveDate::from_ymd_opt(2026, 12, day).unwrap(),
        level: "street×category".into(),
        place: place.into(),
        category: "010101".into(),
        score,
        observed: 9,
        expected: 2.5,
        window_days: 7,
        unit: unit.into(),
        district: district.into(),
        tickets: vec![3, 1, 2],
        status: "open".into(),
        created_at: at(day) + Duration::milliseconds(123),
        detail: None,
    }
}

/// The same calls on any alert store, and what they answered.
fn alert_script(s: &dyn AlertStore) -> Vec<String> {
    let mut out = Vec::new();
    let mut say = |x: String| out.push(x);
    say(format!(
        "{:?}",
        s.raise_alert(alert(3, "S1", 4.5, "S1", "D1"))
    ));
    say(format!(
        "{:?}",
        s.raise_alert(alert(3, "S2", 7.0, "S2", "D1"))
    ));
    // the same cell on the same day: not again
    say(format!(
        "{:?}",
        s.raise_alert(alert(3, "S1", 9.9, "S1", "D1"))
    ));
    say(format!(
        "{:?}",
        s.raise_alert(alert(4, "S1", 1.5, "S1", "D1"))
    ));
    say(format!(
        "{:?}",
        s.raise_alert(alert(2, "S3", 3.0, "S3", "D2"))
    ));
    say(format!("{:?}", s.raise_alert(alert(4, "", 3.0, "", ""))));
    let all = AlertFilter::default();
    say(format!("{:?}", s.list_alerts(&all, 0, 10)));
    say(format!("{:?}", s.list_alerts(&all, 1, 2)));
    say(format!("{:?}", s.list_alerts(&all, 0, u64::MAX)));
    let d1 = AlertFilter {
        units: Some(vec!["D1".into()]),
        ..Default::default()
    };
    say(format!("{:?}", s.list_alerts(&d1, 0, 10)));
    let s3 = AlertFilter {
        units: Some(vec!["S3".into(), "nowhere".into()]),
        from: Some(NaiveDate::from_ymd_opt(2026, 12, 1).unwrap()),
        ..Default::default()
    };
    say(format!("{:?}", s.list_alerts(&s3, 0, 10)));
    let none = AlertFilter {
        units: Some(vec![]),
        ..Default::default()
    };
    say(format!("{:?}", s.list_alerts(&none, 0, 10)));
    let from4 = AlertFilter {
        from: Some(NaiveDate::from_ymd_opt(2026, 12, 4).unwrap()),
        ..Default::default()
    };
    say(format!("{:?}", s.list_alerts(&from4, 0, 10)));
    let first = s.list_alerts(&all, 0, 10).unwrap().0[0].id;
    let ack = AlertStep {
        alert_id: first,
        action: "acknowledge".into(),
        status: "acknowledged".into(),
        reason: "看到了".into(),
        by: "s1-manager".into(),
        at: at(5),
    };
    say(format!("{:?}", s.record_alert_step(ack.clone(), "open")));
    // decided on a status it no longer has: nothing changes
    say(format!("{:?}", s.record_alert_step(ack.clone(), "open")));
    let handle = AlertStep {
        action: "handle".into(),
        status: "handled".into(),
        reason: "已处置".into(),
        at: at(6),
        ..ack
    };
    say(format!("{:?}", s.record_alert_step(handle, "acknowledged")));
    say(format!("{:?}", s.alert(first)));
    say(format!("{:?}", s.alert(9_999)));
    let open = AlertFilter {
        status: Some("open".into()),
        ..Default::default()
    };
    say(format!("{:?}", s.list_alerts(&open, 0, 10)));
    // counts ignore the filter's status
    say(format!("{:?}", s.alert_counts(&open)));
    say(format!("{:?}", s.alert_counts(&d1)));
    say(format!("{:?}", s.alerts_after(0, 2)));
    say(format!("{:?}", s.alerts_after(2, 10)));
    out
}

#[test]
fn pg_alerts_answer_as_sqlite_does() {
    let Some(pg) = pg() else { return };
    let dir = tempfile::tempdir().unwrap();
    let lite = sqlite(dir.path());
    let want = alert_script(&lite);
    let got = alert_script(&pg.store);
    assert_eq!(got.len(), want.len());
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        assert_eq!(g, w, "call {i}");
    }
    // spot checks of what both said
    assert_eq!(got[0], "Ok(Some(1))");
    assert_eq!(got[2], "Ok(None)");
    assert!(got[6].ends_with(", 5))"), "{}", got[6]);
    let (rows, total) = pg
        .store
        .list_alerts(&AlertFilter::default(), 0, 10)
        .unwrap();
    assert_eq!(total, 5);
    let order: Vec<(u32, f64)> = rows
        .iter()
        .map(|a| (chrono::Datelike::day(&a.day), a.score))
        .collect();
    assert_eq!(
        order,
        vec![(4, 3.0), (4, 1.5), (3, 7.0), (3, 4.5), (2, 3.0)]
    );
    assert_eq!(rows[0].tickets, vec![3, 1, 2]);
    assert_eq!(rows[0].created_at, at(4) + Duration::milliseconds(123));
    let (a, steps) = pg.store.alert(rows[0].id).unwrap().unwrap();
    assert_eq!(a.status, "handled");
    let actions: Vec<&str> = steps.iter().map(|s| s.action.as_str()).collect();
    assert_eq!(actions, vec!["raised", "acknowledge", "handle"]);
}

// ---- reports -----------------------------------------------------------------------------------

fn report(kind: &str, period: &str, from: u32, body: &str) -> NewReport {
    NewReport {
        kind: kind.into(),
        period: period.into(),
        from: NaiveDate::from_ymd_opt(2026, 11, from).unwrap(),
        to: NaiveDate::from_ymd_opt(2026, 11, from + 1).unwrap(),
        generated_at: at(1),
        title_zh: format!("日通报 {period}"),
        title_en: format!("Daily bulletin {period}"),
        body: body.into(),
    }
}

fn report_script(s: &dyn ReportStore) -> Vec<String> {
    let mut out = Vec::new();
    let mut say = |x: String| out.push(x);
    say(format!("{:?}", s.has_report("daily", "2026-11-05")));
    say(format!(
        "{:?}",
        s.save_report(report("daily", "2026-11-05", 5, "{\"a\":1}"))
    ));
    say(format!(
        "{:?}",
        s.save_report(report("daily", "2026-11-06", 6, "{\"a\":2}"))
    ));
    say(format!(
        "{:?}",
        s.save_report(report("weekly", "2026-W45", 2, "{\"w\":1}"))
    ));
    say(format!(
        "{:?}",
        s.save_report(report("monthly", "2026-11", 6, "{}"))
    ));
    // generated again: replaced, same id
    say(format!(
        "{:?}",
        s.save_report(report("daily", "2026-11-05", 5, "{\"a\":3}"))
    ));
    say(format!(
        "{:?}",
        s.save_report(report("daily", "2026-11-07", 7, "{\"a\":4}"))
    ));
    say(format!("{:?}", s.has_report("daily", "2026-11-05")));
    say(format!("{:?}", s.has_report("weekly", "2026-11-05")));
    say(format!("{:?}", s.list_reports(None, 0, 10)));
    say(format!("{:?}", s.list_reports(Some("daily"), 1, 1)));
    say(format!("{:?}", s.list_reports(Some("daily"), 0, u64::MAX)));
    say(format!("{:?}", s.list_reports(Some("yearly"), 0, 10)));
    say(format!("{:?}", s.report(1)));
    say(format!("{:?}", s.report(99)));
    say(format!("{:?}", s.reports_after(1, 2)));
    say(format!("{:?}", s.reports_after(0, 100)));
    say(format!("{:?}", s.report_template("daily")));
    say(format!(
        "{:?}",
        s.save_report_template("daily", "{\"sections\":[1]}", at(2), "admin")
    ));
    say(format!(
        "{:?}",
        s.save_report_template("daily", "{\"sections\":[2]}", at(3), "admin2")
    ));
    say(format!("{:?}", s.report_template("daily")));
    say(format!("{:?}", s.report_template("weekly")));
    out
}

#[test]
fn pg_reports_answer_as_sqlite_does() {
    let Some(mut pg) = pg() else { return };
    let dir = tempfile::tempdir().unwrap();
    let lite = sqlite(dir.path());
    let want = report_script(&lite);
    let got = report_script(&pg.store);
    assert_eq!(got.len(), want.len());
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        assert_eq!(g, w, "call {i}");
    }
    assert_eq!(got[5], "Ok(1)", "the same id when generated again");
    assert_eq!(
        got[6], "Ok(5)",
        "no identity value used up by the replacement"
    );
    let (_, body) = pg.store.report(1).unwrap().unwrap();
    assert_eq!(body, "{\"a\":3}");
    assert_eq!(
        pg.store.report_template("daily").unwrap().as_deref(),
        Some("{\"sections\":[2]}")
    );
    let (who,): (String,) = {
        let r = pg
            .client
            .query_one(
                "SELECT updated_by FROM report_templates WHERE kind='daily'",
                &[],
            )
            .unwrap();
        (r.get(0),)
    };
    assert_eq!(who, "admin2");
}

// ---- stats, facts, analytics over a small city -----------------------------------------------

/// A SQLite store with tickets in several months, channels, types, districts; dispatched to
/// known and unknown units, some signed, responded, returned, called back, praised.
fn small_city(dir: &std::path::Path) -> SqliteStore {
    let lite = sqlite(dir);
    {
        let c = rusqlite::Connection::open(dir.join("city.db")).unwrap();
        for (code, name, kind, parent) in [
            ("110108", "海淀区", "district", None),
            ("S1", "某街道", "street_town", Some("110108")),
            ("D1", "区城管委", "district_department", Some("110108")),
        ] {
            c.execute(
                "INSERT INTO units (code, name, kind, parent, population, zone, active) VALUES (?1, ?2, ?3, ?4, NULL, NULL, 1)",
                rusqlite::params![code, name, kind, parent],
            )
            .unwrap();
        }
    }
    let channels = [Channel::Phone, Channel::Web, Channel::Wechat, Channel::App];
    let types = [
        RequestType::Complaint,
        RequestType::Help,
        RequestType::Praise,
        RequestType::Suggestion,
        RequestType::Report,
    ];
    // around the turn of UTC months (16:00 UTC is the next day in Beijing)
    let t0 = Utc.with_ymd_and_hms(2026, 1, 31, 15, 30, 0).unwrap();
    for i in 0..48usize {
        let now = t0 + Duration::hours(7 * i as i64) + Duration::days(9 * (i as i64 / 6));
        let district = if i % 5 == 4 { "110105" } else { "110108" };
        let t = lite
            .create_ticket(new_ticket(
                intake(i, channels[i % 4], types[i % 5], district),
                now,
            ))
            .unwrap()
            .state;
        if i % 4 == 3 {
            continue; // never dispatched
        }
        let unit = ["S1", "D1", "S9"][i % 3];
        let at = now + Duration::minutes(20);
        let mut assignments = vec![lead(unit, at)];
        if i % 7 == 0 {
            assignments.push(AssignmentRequest {
                role: AssignmentRole::Assist,
                ..lead(if unit == "D1" { "S1" } else { "D1" }, at)
            });
        }
        step(
            &lite,
            t.id,
            Command::Dispatch {
                assignments,
                note: None,
                rule: (i % 2 == 0).then(|| format!("rule-{}", i % 3)),
            },
            at,
        );
        if i % 5 == 1 {
            // returned (退单) and approved
            step(
                &lite,
                t.id,
                Command::RequestReturn {
                    unit: unit.into(),
                    reason: ReturnReason::NotOurDuty,
                    text: "非本单位职责".into(),
                },
                at + Duration::hours(1),
            );
            step(
                &lite,
                t.id,
                Command::ReviewReturn {
                    unit: unit.into(),
                    approve: true,
                    note: None,
                },
                at + Duration::hours(2),
            );
            continue;
        }
        if i % 3 == 2 {
            continue; // dispatched, never signed
        }
        // signed late every fourth time (the sign deadline is hours, not days)
        let signed = at + Duration::minutes(if i % 4 == 0 { 30 } else { 60 * 30 });
        step(&lite, t.id, Command::Sign { unit: unit.into() }, signed);
        step(
            &lite,
            t.id,
            Command::Respond {
                unit: unit.into(),
                note: None,
            },
            signed + Duration::minutes(5),
        );
        if i % 2 == 1 {
            continue;
        }
        step(
            &lite,
            t.id,
            Command::SubmitResult {
                unit: unit.into(),
                text: "已修复".into(),
                evidence: vec![],
            },
            signed + Duration::hours(3),
        );
        let outcome = if i % 8 == 0 {
            CallbackOutcome::Unreachable { note: None }
        } else {
            CallbackOutcome::Reached {
                contacted: i % 3 != 1,
                resolution: [
                    Resolution::Resolved,
                    Resolution::Partly,
                    Resolution::Unresolved,
                ][i % 3],
                satisfaction: [
                    Satisfaction::Satisfied,
                    Satisfaction::Basic,
                    Satisfaction::Unsatisfied,
                ][(i / 2) % 3],
                attitude: None,
                comment: None,
            }
        };
        step(
            &lite,
            t.id,
            Command::Callback { outcome },
            signed + Duration::hours(5),
        );
    }
    lite
}

/// Copies a SQLite city's projections, events and units into PostgreSQL.
fn copy_city(dir: &std::path::Path, pg: &mut postgres::Client) {
    let conn = rusqlite::Connection::open(dir.join("city.db")).unwrap();
    for table in ["units", "events", "tickets", "assignments", "personal_keys"] {
        copy_table(&conn, pg, table, "1=1");
    }
}

fn facts(
    s: &dyn FactStore,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Vec<jiesu_store::AssignmentFact> {
    let mut v = Vec::new();
    let n = s
        .for_each_fact(from, to, &mut |f| {
            v.push(f);
            Ok(())
        })
        .unwrap();
    assert_eq!(n as usize, v.len());
    v
}

fn ticket_facts(
    s: &dyn AnalyticsStore,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    zone: &CityZone,
    now: DateTime<Utc>,
) -> Vec<jiesu_analytics::TicketFact> {
    let mut v = Vec::new();
    let n = s
        .for_each_ticket_fact(from, to, zone, now, &mut |f| {
            v.push(f);
            Ok(())
        })
        .unwrap();
    assert_eq!(n as usize, v.len());
    v
}

#[test]
fn pg_stats_facts_and_analytics_answer_as_sqlite_does() {
    let Some(mut pg) = pg() else { return };
    let store = &pg.store;
    // nothing yet
    assert_eq!(store.analytics_watermark().unwrap(), None);
    assert_eq!(store.created_range().unwrap(), None);
    assert_eq!(store.fact_fingerprint().unwrap(), "events:empty");
    assert_eq!(store.busiest_dispatch_month().unwrap(), None);
    assert_eq!(
        store.demo_counts().unwrap(),
        jiesu_store::DemoCounts::default()
    );
    let acc = store.dispatch_accuracy().unwrap();
    assert_eq!((acc.dispatches, acc.overall), (0, 0.0));

    let dir = tempfile::tempdir().unwrap();
    let lite = small_city(dir.path());
    copy_city(dir.path(), &mut pg.client);

    // stats
    let (want, got) = (lite.demo_counts().unwrap(), store.demo_counts().unwrap());
    assert_eq!(got, want);
    assert!(
        got.tickets == 48 && got.dispatched > 20 && got.lead_returned > 0,
        "{got:?}"
    );
    assert!(got.callbacks_valid > 0 && got.assisted > 0, "{got:?}");
    assert_eq!(
        got.first_dispatch_by_unit_kind[0].0, "",
        "the unknown unit's kind first"
    );
    assert!(got.by_month.len() >= 3, "{:?}", got.by_month);
    assert!(
        got.dispatched_by_district
            .iter()
            .any(|(k, _)| k == "110105")
            && got
                .dispatched_by_district
                .iter()
                .any(|(k, _)| k == "海淀区"),
        "{:?}",
        got.dispatched_by_district
    );
    // groups with the same count come in no particular order from SQLite, by key here
    let (mut want, got) = (
        lite.dispatch_accuracy().unwrap(),
        store.dispatch_accuracy().unwrap(),
    );
    for g in [
        &mut want.by_dispatcher,
        &mut want.by_rule,
        &mut want.by_category,
        &mut want.by_unit_kind,
        &mut want.by_unit,
    ] {
        g.sort_by(|a, b| b.dispatches.cmp(&a.dispatches).then(a.key.cmp(&b.key)));
    }
    assert_eq!(got, want);
    assert!(
        got.by_rule.iter().any(|g| g.key == "manual"),
        "{:?}",
        got.by_rule
    );
    assert!(
        got.by_rule.iter().any(|g| g.key == "rule-0"),
        "{:?}",
        got.by_rule
    );

    // facts
    let (a, b) = (
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
        Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap(),
    );
    let all = facts(store, a, b);
    assert!(all.len() > 30, "{}", all.len());
    assert_eq!(all, facts(&lite, a, b));
    assert!(all.iter().any(|f| f.contacted == Some(false)));
    assert!(all.iter().any(|f| f.contacted == Some(true)));
    let mid = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
    let part = facts(store, a, mid);
    assert!(!part.is_empty() && part.len() < all.len());
    assert_eq!(part, facts(&lite, a, mid));
    assert_eq!(
        store.busiest_dispatch_month().unwrap(),
        lite.busiest_dispatch_month().unwrap()
    );
    assert!(store.busiest_dispatch_month().unwrap().is_some());
    let praise = store.praise_by_unit(a, b).unwrap();
    assert_eq!(praise, lite.praise_by_unit(a, b).unwrap());
    assert_eq!(praise, vec![("S1".to_string(), 10)]);
    assert_eq!(
        store.praise_by_unit(a, a + Duration::days(1)).unwrap(),
        vec![]
    );

    // analytics
    let zone = CityZone::default();
    assert_eq!(
        store.analytics_watermark().unwrap(),
        lite.analytics_watermark().unwrap()
    );
    assert_eq!(
        store.created_range().unwrap(),
        lite.created_range().unwrap()
    );
    let mut months = store.months_changed_since(-1).unwrap();
    let mut lite_months = lite.months_changed_since(-1).unwrap();
    months.sort();
    lite_months.sort();
    assert_eq!(months, lite_months);
    assert!(months.len() >= 3, "{months:?}");
    let mark = store.analytics_watermark().unwrap().unwrap();
    assert_eq!(
        store.months_changed_since(mark).unwrap(),
        Vec::<String>::new()
    );
    let last = store.months_changed_since(mark - 1).unwrap();
    assert_eq!(last.len(), 1, "{last:?}");
    for now in [Utc.with_ymd_and_hms(2026, 2, 10, 0, 0, 0).unwrap(), b] {
        let got = ticket_facts(store, a, b, &zone, now);
        assert_eq!(got.len(), 48);
        assert_eq!(got, ticket_facts(&lite, a, b, &zone, now));
    }
    let got = ticket_facts(store, a, b, &zone, b);
    assert!(got.iter().any(|f| f.returned) && got.iter().any(|f| f.overdue));
    assert!(got
        .iter()
        .any(|f| f.lead_unit_kind.is_none() && f.dispatched));
    assert!(got.iter().all(|f| f.requester_hash.is_some()));

    // the fingerprint moves with the log, and only with it
    let before = store.fact_fingerprint().unwrap();
    assert_eq!(store.fact_fingerprint().unwrap(), before);
    assert!(before.starts_with(&format!("events:{mark}:")), "{before}");
    let id = lite
        .create_ticket(new_ticket(
            intake(100, Channel::Phone, RequestType::Help, "110108"),
            Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap(),
        ))
        .unwrap()
        .state
        .id;
    let conn = rusqlite::Connection::open(dir.path().join("city.db")).unwrap();
    copy_table(
        &conn,
        &mut pg.client,
        "events",
        &format!("ticket_id = {id}"),
    );
    copy_table(&conn, &mut pg.client, "tickets", &format!("id = {id}"));
    assert_ne!(store.fact_fingerprint().unwrap(), before);
    assert_eq!(store.analytics_watermark().unwrap(), Some(mark + 1));
    assert_eq!(
        store.months_changed_since(mark).unwrap(),
        vec!["2026-06".to_string()]
    );

    // a stored value the domain does not know is the same error in both, naming it
    pg.client
        .execute("UPDATE tickets SET channel = 'fax' WHERE id = 5", &[])
        .unwrap();
    conn.execute("UPDATE tickets SET channel = 'fax' WHERE id = 5", [])
        .unwrap();
    let err = |s: &dyn AnalyticsStore| {
        s.for_each_ticket_fact(a, b, &zone, b, &mut |_| Ok(()))
            .unwrap_err()
            .to_string()
    };
    assert_eq!(err(store), err(&lite));
    assert!(
        err(store).contains("stored channel 'fax' is unknown"),
        "{}",
        err(store)
    );
    // the caller's error stops the stream at once, and the store reads on afterwards
    let mut seen = 0;
    let stopped = store
        .for_each_fact(a, b, &mut |_| {
            seen += 1;
            if seen == 3 {
                Err(StoreError::Conflict("enough".into()))
            } else {
                Ok(())
            }
        })
        .unwrap_err();
    assert!(matches!(stopped, StoreError::Conflict(_)), "{stopped}");
    assert_eq!(seen, 3);
    for _ in 0..20 {
        assert_eq!(facts(store, a, b).len(), all.len());
    }
}
