//! Signed checkpoints and Merkle proofs of the event log against a real SQLite file.

use chrono::{DateTime, TimeZone, Utc};
use jiesu_domain::ticket::*;
use jiesu_domain::{ActorRef, Role};
use jiesu_store::ledger::open_note;
use jiesu_store::merkle::{empty_root, verify_consistency, verify_inclusion};
use jiesu_store::{prelude::*, NewTicket, SqliteStore, StoreOptions};

fn at(d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, d, 2, 0, 0).unwrap()
}

fn new_ticket(i: usize) -> NewTicket {
    NewTicket {
        intake: Intake {
            channel: Channel::Phone,
            request_type: RequestType::Consultation,
            category_code: "010101".into(),
            title: format!("供暖时间咨询 {i}"),
            text: "请问今年什么时候开始供暖？".into(),
            place: Place {
                district_code: "110108".into(),
                street_code: "110108010".into(),
                ..Default::default()
            },
            requester: Requester {
                name: "王秀英".into(),
                phone: "13912345678".into(),
            },
            enterprise: false,
            tier: None,
            praised_unit: None,
            risk: None,
        }
        .check()
        .unwrap(),
        actor: ActorRef {
            user: "agent1".into(),
            role: Role::Agent,
            unit: None,
        },
        now: at(1),
        idempotency_key: None,
        tracking_code: None,
    }
}

fn open(db: &std::path::Path) -> SqliteStore {
    SqliteStore::open_with(
        db,
        StoreOptions {
            durable: false,
            ..Default::default()
        },
    )
    .unwrap()
}

#[test]
fn checkpoints_prove_inclusion_and_consistency_and_verify_names_a_rewritten_event() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("city.db");
    let store = open(&db);
    let (empty, made) = store.make_checkpoint(at(1)).unwrap();
    assert!(made);
    assert_eq!((empty.tree_size, empty.root), (0, empty_root()));
    let mut ids = Vec::new();
    for i in 0..300 {
        ids.push(store.create_ticket(new_ticket(i)).unwrap().state.id);
    }
    let (a, made) = store.make_checkpoint(at(2)).unwrap();
    assert!(made && a.tree_size >= 300);
    // the log did not grow: no new checkpoint
    let (same, made) = store.make_checkpoint(at(2)).unwrap();
    assert!(!made);
    assert_eq!(same, a);
    for i in 300..620 {
        ids.push(store.create_ticket(new_ticket(i)).unwrap().state.id);
    }
    let (b, _) = store.make_checkpoint(at(3)).unwrap();
    let late = store.create_ticket(new_ticket(999)).unwrap().state.id;
    let key = store.log_key().unwrap();
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
    assert_eq!(
        store
            .checkpoints(None, 10)
            .unwrap()
            .iter()
            .map(|c| c.tree_size)
            .collect::<Vec<_>>(),
        vec![b.tree_size, a.tree_size, 0]
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
    assert!(
        ev.iter().all(|e| e.path.is_none()),
        "newer than the checkpoint"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("city.db.signing-key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    drop(store);
    let conn = rusqlite::Connection::open(&db).unwrap();
    let report = jiesu_store::verify_checkpoints(&conn, &db, None).unwrap();
    assert!(report.ok(), "{:?}", report.problems);
    assert_eq!(report.checkpoints, 3);
    assert!(report.nodes >= 3, "{report:?}");
    // a rewritten event (its hash recomputed too) changes the old roots: named by verify
    conn.execute("UPDATE events SET hash = zeroblob(32) WHERE pos = 5", [])
        .unwrap();
    let report = jiesu_store::verify_checkpoints(&conn, &db, None).unwrap();
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.starts_with(&format!("checkpoint {}:", a.tree_size))),
        "{:?}",
        report.problems
    );
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.starts_with("log node level 8 #0")),
        "{:?}",
        report.problems
    );
    // an edited note fails its signature
    conn.execute(
        "UPDATE events SET hash = ?1 WHERE pos = 5",
        [b.root.to_vec()],
    )
    .unwrap();
    let other = jiesu_store::verify_checkpoints(&conn, &db, Some([1u8; 32])).unwrap();
    assert!(
        other
            .problems
            .iter()
            .any(|p| p.contains("signature") || p.contains("public key")),
        "{:?}",
        other.problems
    );
}

#[test]
fn an_unsealed_log_is_sealed_on_open_and_a_file_is_scanned_for_one_only_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("city.db");
    let store = open(&db);
    let id = store.create_ticket(new_ticket(1)).unwrap().state.id;
    drop(store);
    let raw = |sql: &str| {
        rusqlite::Connection::open(&db)
            .unwrap()
            .execute(sql, [])
            .unwrap();
    };
    let unchained = || -> i64 {
        rusqlite::Connection::open(&db)
            .unwrap()
            .query_row("SELECT COUNT(*) FROM events WHERE hash IS NULL", [], |r| {
                r.get(0)
            })
            .unwrap()
    };
    // a file written by an older jiesu: no marker, an event without its hash
    raw("DELETE FROM meta WHERE key = 'log_sealed'");
    raw("UPDATE events SET hash = NULL");
    drop(open(&db));
    assert_eq!(unchained(), 0, "the older log was chained on open");
    let store = open(&db);
    assert!(store.load_ticket(id).unwrap().is_some());
    drop(store);
    // now marked: the next opens do not read the whole log again
    raw("UPDATE events SET hash = NULL");
    drop(open(&db));
    assert!(unchained() > 0, "a marked file is not scanned on open");
}
