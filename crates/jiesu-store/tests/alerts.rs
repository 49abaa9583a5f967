//! Alerts in SQLite: spikes stay one per cell and day, risk pushes and incidents may share a
//! cell and day, incidents are found and updated; a file whose alerts table predates them is
//! rebuilt once on open with its rows, ids and steps kept.

use chrono::{NaiveDate, TimeZone, Utc};
use jiesu_store::{prelude::*, AlertRow, SqliteStore};

fn row(level: &str, place: &str, tickets: Vec<i64>, detail: Option<&str>) -> AlertRow {
    AlertRow {
        id: 0,
        day: NaiveDate::from_ymd_opt(2026, 7, 1).unwrap(),
        level: level.into(),
        place: place.into(),
        category: "0101".into(),
        score: 1.0,
        observed: tickets.len() as u32,
        expected: 0.0,
        window_days: 1,
        unit: "110105001".into(),
        district: "110105".into(),
        tickets,
        status: "open".into(),
        created_at: Utc.with_ymd_and_hms(2026, 7, 1, 2, 0, 0).unwrap(),
        detail: detail.map(str::to_string),
    }
}

#[test]
fn spikes_are_unique_per_cell_and_day_risk_pushes_and_incidents_are_not() {
    let dir = tempfile::tempdir().unwrap();
    let s = SqliteStore::open(dir.path().join("a.db")).unwrap();
    assert!(s
        .raise_alert(row("street×category", "110105001", vec![1], None))
        .unwrap()
        .is_some());
    assert!(s
        .raise_alert(row("street×category", "110105001", vec![1], None))
        .unwrap()
        .is_none());
    // a later pass counting more requests in the open cell-day updates it, not a second alert
    assert!(s
        .raise_alert(row("street×category", "110105001", vec![1, 9], None))
        .unwrap()
        .is_none());
    let (spikes, _) = s.list_alerts(&Default::default(), 0, 10).unwrap();
    assert_eq!(spikes.len(), 1);
    assert_eq!(
        (spikes[0].observed, spikes[0].tickets.clone()),
        (2, vec![1, 9])
    );
    let a = s
        .raise_alert(row("risk", "110105001024", vec![2], Some("{\"ticket\":2}")))
        .unwrap();
    let b = s
        .raise_alert(row("risk", "110105001024", vec![3], Some("{\"ticket\":3}")))
        .unwrap();
    assert!(a.is_some() && b.is_some() && a != b);
    let i = s
        .raise_alert(row("incident", "110105001024", vec![4, 5, 6], Some("{}")))
        .unwrap()
        .unwrap();
    let latest = s
        .latest_alert("incident", "110105001024", "0101")
        .unwrap()
        .unwrap();
    assert_eq!(latest.id, i);
    let join = |t: i64| -> jiesu_store::AlertAmend {
        Box::new(move |a: &AlertRow| {
            let mut v = a.tickets.clone();
            v.push(t);
            Some((v, Some(format!("{{\"n\":{}}}", a.tickets.len() + 1))))
        })
    };
    // each amendment sees the one before it (the writer runs them in turn)
    assert!(s.amend_alert(i, join(7)).unwrap());
    assert!(
        !s.amend_alert(i, Box::new(|_| None)).unwrap(),
        "no change made, none reported"
    );
    assert!(!s.amend_alert(i + 1000, join(8)).unwrap(), "no such alert");
    let (got, steps) = s.alert(i).unwrap().unwrap();
    assert_eq!(got.tickets, vec![4, 5, 6, 7]);
    assert_eq!(got.observed, 4);
    assert_eq!(got.detail.as_deref(), Some("{\"n\":4}"));
    assert_eq!(steps.len(), 1);
    // risk pushes come first in the list of a day
    let (list, total) = s.list_alerts(&Default::default(), 0, 10).unwrap();
    assert_eq!(total, 4);
    assert_eq!(list[0].level, "risk");
}

#[test]
fn an_alerts_table_from_before_risk_pushes_is_rebuilt_with_its_rows_and_steps() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    drop(SqliteStore::open(&path).unwrap());
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch(
            "PRAGMA foreign_keys=OFF;
             DROP TABLE alert_steps; DROP TABLE alerts;
             CREATE TABLE alerts (
               id INTEGER PRIMARY KEY, day TEXT NOT NULL, level TEXT NOT NULL, place TEXT NOT NULL,
               category TEXT NOT NULL, score REAL NOT NULL, observed INTEGER NOT NULL, expected REAL NOT NULL,
               window_days INTEGER NOT NULL, unit TEXT NOT NULL, district TEXT NOT NULL, tickets TEXT NOT NULL,
               status TEXT NOT NULL, created_at TEXT NOT NULL, UNIQUE (day, level, place, category));
             CREATE TABLE alert_steps (
               id INTEGER PRIMARY KEY, alert_id INTEGER NOT NULL REFERENCES alerts (id), action TEXT NOT NULL,
               status TEXT NOT NULL, reason TEXT NOT NULL, by_user TEXT NOT NULL, at TEXT NOT NULL);
             INSERT INTO alerts VALUES (5, '2026-06-30', 'street×category', '110105001', '0101', 6.1,
               7, 1.2, 1, '110105001', '110105', '[1,2]', 'open', '2026-06-30T02:00:00Z');
             INSERT INTO alert_steps (alert_id, action, status, reason, by_user, at)
               VALUES (5, 'raised', 'open', '', 'warning', '2026-06-30T02:00:00Z');",
        )
        .unwrap();
    }
    let s = SqliteStore::open(&path).unwrap();
    let (a, steps) = s.alert(5).unwrap().unwrap();
    assert_eq!(a.tickets, vec![1, 2]);
    assert_eq!(a.detail, None);
    assert_eq!(steps.len(), 1);
    assert!(s
        .raise_alert(row("risk", "110105001024", vec![8], Some("{}")))
        .unwrap()
        .is_some());
    assert!(s
        .raise_alert(row("risk", "110105001024", vec![9], Some("{}")))
        .unwrap()
        .is_some());
}
