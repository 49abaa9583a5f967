//! Personal data at rest and the tamper-evident log, against a real SQLite file: what a copy of
//! the file reveals, the key file, rotation, retention erasure, and what an edit of the log does.

use chrono::{DateTime, TimeZone, Utc};
use jiesu_domain::command::{execute, Command};
use jiesu_domain::ticket::*;
use jiesu_domain::{ActorRef, Role, TicketState};
use jiesu_store::crypt::Keyring;
use jiesu_store::{
    prelude::*, KeySource, NewTicket, SqliteStore, StoreError, StoreOptions, TicketQuery,
};
use std::path::Path;

const PHONE: &str = "13912345678";
const NAME: &str = "王秀英";
const ADDRESS: &str = "幸福里小区三号楼二单元";

fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, 2, 0, 0).unwrap()
}

fn new_ticket(phone: &str) -> NewTicket {
    NewTicket {
        intake: Intake {
            channel: Channel::Phone,
            request_type: RequestType::Consultation,
            category_code: "010101".into(),
            title: "供暖时间咨询".into(),
            text: "请问今年什么时候开始供暖？".into(),
            place: Place {
                district_code: "110108".into(),
                street_code: "110108010".into(),
                address: Some(ADDRESS.into()),
                ..Default::default()
            },
            requester: Requester {
                name: NAME.into(),
                phone: phone.into(),
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
        now: at(2020, 3, 2),
        idempotency_key: None,
        tracking_code: None,
    }
}

fn step(
    store: &SqliteStore,
    id: i64,
    cmd: Command,
    now: DateTime<Utc>,
) -> Result<TicketState, StoreError> {
    store
        .update_ticket(
            id,
            Box::new(move |t: &mut TicketState| {
                let sys = ActorRef {
                    user: "scheduler".into(),
                    role: Role::System,
                    unit: None,
                };
                Ok(execute(t, &cmd, &sys, now)?)
            }),
        )
        .map(|(s, _)| s)
}

fn file_bytes(db: &Path) -> Vec<u8> {
    let mut all = std::fs::read(db).unwrap();
    let wal = db.with_extension("db-wal");
    if let Ok(w) = std::fs::read(wal) {
        all.extend(w);
    }
    all
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[test]
fn a_copy_of_the_database_reveals_no_phone_name_or_address_but_the_store_reads_them() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("city.db");
    let store = SqliteStore::open(&db).unwrap();
    let id = store.create_ticket(new_ticket(PHONE)).unwrap().state.id;
    let (st, _) = store.load_ticket(id).unwrap().unwrap();
    assert_eq!(st.intake.requester.phone, PHONE);
    assert_eq!(st.intake.requester.name, NAME);
    assert_eq!(st.intake.place.address.as_deref(), Some(ADDRESS));
    let bytes = file_bytes(&db);
    for secret in [PHONE, NAME, ADDRESS, "5678"] {
        assert!(
            !contains(&bytes, secret),
            "{secret:?} is in the database file"
        );
    }
    assert!(
        dir.path().join("city.db.keys").exists(),
        "the key file lives beside, not inside"
    );
    drop(store);
    // the key file elsewhere: the same data opens with it
    let moved = dir.path().join("elsewhere.keys");
    std::fs::rename(dir.path().join("city.db.keys"), &moved).unwrap();
    let err = SqliteStore::open(&db)
        .err()
        .expect("no key file must be an error, not a new key");
    assert!(err.to_string().contains("key file"), "{err}");
    let store = SqliteStore::open_with(
        &db,
        StoreOptions {
            keys: KeySource::File(moved),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(
        store
            .load_ticket(id)
            .unwrap()
            .unwrap()
            .0
            .intake
            .requester
            .phone,
        PHONE
    );
}

#[test]
fn staff_find_a_callers_tickets_by_the_keyed_phone_index_only() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("city.db")).unwrap();
    let a = store.create_ticket(new_ticket(PHONE)).unwrap().state.id;
    store.create_ticket(new_ticket("13800001111")).unwrap();
    let c = store.create_ticket(new_ticket(PHONE)).unwrap().state.id;
    let found = store
        .list_tickets(&TicketQuery {
            phone: Some("139-1234-5678".into()),
            page: 1,
            page_size: 10,
            ..Default::default()
        })
        .unwrap();
    let mut ids: Vec<i64> = found.items.iter().map(|t| t.id).collect();
    ids.sort();
    assert_eq!(
        ids,
        vec![a, c],
        "the same digits, with dashes or without, are the same caller"
    );
    let none = store
        .list_tickets(&TicketQuery {
            phone: Some("13700000000".into()),
            page: 1,
            page_size: 10,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(none.total, 0);
}

#[test]
fn a_rotation_rewraps_every_data_key_and_leaves_the_log_verifiable() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("city.db");
    let keyfile = dir.path().join("city.db.keys");
    let store = SqliteStore::open(&db).unwrap();
    let ids: Vec<i64> = (0..7)
        .map(|_| store.create_ticket(new_ticket(PHONE)).unwrap().state.id)
        .collect();
    let old = Keyring::load(&keyfile).unwrap();
    let rotated = old.with_new_master();
    rotated.save(&keyfile).unwrap();
    drop(store);
    let store = SqliteStore::open(&db).unwrap();
    // in batches of 3 while the store stays usable
    let mut total = 0;
    loop {
        let n = store.rewrap_data_keys(3).unwrap();
        assert!(n <= 3);
        if n == 0 {
            break;
        }
        total += n;
        store.create_ticket(new_ticket(PHONE)).unwrap();
    }
    assert_eq!(total, 7);
    let (current, usage) = store.data_key_usage().unwrap();
    assert_eq!(current, rotated.current_id());
    assert_eq!(
        usage.len(),
        1,
        "every data key is under the new master key: {usage:?}"
    );
    drop(store);
    rotated.current_only().save(&keyfile).unwrap();
    let store = SqliteStore::open(&db).unwrap();
    for id in ids {
        assert_eq!(
            store
                .load_ticket(id)
                .unwrap()
                .unwrap()
                .0
                .intake
                .requester
                .phone,
            PHONE
        );
    }
    drop(store);
    let report = jiesu_store::verify_file(&db).unwrap();
    assert!(report.ok(), "{:?}", report.problems);
}

#[test]
fn retention_erases_an_archived_tickets_personal_data_by_an_event_and_keeps_the_ticket() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("city.db");
    let store = SqliteStore::open(&db).unwrap();
    let id = store.create_ticket(new_ticket(PHONE)).unwrap().state.id;
    let answer = Command::Answer {
        answer: "本市供暖自11月15日开始。".into(),
        article_id: None,
    };
    step(&store, id, answer, at(2020, 3, 2)).unwrap();
    step(&store, id, Command::Close { note: None }, at(2020, 3, 3)).unwrap();
    let erase = |y| Command::ErasePersonalData { retention_years: y };
    // not archived yet: refused by the domain
    assert!(matches!(
        step(&store, id, erase(3), at(2024, 1, 1)),
        Err(StoreError::Domain(_))
    ));
    step(&store, id, Command::Archive, at(2020, 4, 1)).unwrap();
    // archived, but three years have not passed since closing (closed 2020-03-03 02:00)
    assert!(store
        .retention_candidates(at(2020, 3, 2), 10)
        .unwrap()
        .is_empty());
    assert!(matches!(
        step(&store, id, erase(3), at(2023, 3, 2)),
        Err(StoreError::Domain(_))
    ));
    assert_eq!(
        store.retention_candidates(at(2020, 3, 4), 10).unwrap(),
        vec![id]
    );
    let st = step(&store, id, erase(3), at(2023, 3, 4)).unwrap();
    assert!(st.personal_data_erased.is_some());
    assert_eq!(st.status.as_str(), "archived");
    // the ticket, its text and its timeline stay; the personal data is gone for good
    let (st, events) = store.load_ticket(id).unwrap().unwrap();
    assert_eq!(st.intake.title, "供暖时间咨询");
    assert_eq!(st.intake.requester.phone, "");
    assert_eq!(st.intake.requester.name, "");
    assert_eq!(st.intake.place.address, None);
    assert_eq!(events.len(), 5);
    assert!(store
        .retention_candidates(at(2030, 1, 1), 10)
        .unwrap()
        .is_empty());
    assert!(matches!(
        step(&store, id, erase(3), at(2030, 1, 1)),
        Err(StoreError::Domain(_))
    ));
    let none = store
        .list_tickets(&TicketQuery {
            phone: Some(PHONE.into()),
            page: 1,
            page_size: 5,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(none.total, 0, "the phone index entry goes with the data");
    drop(store);
    assert!(
        jiesu_store::verify_file(&db).unwrap().ok(),
        "erasure edits no event"
    );
}

fn raw(db: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(db).unwrap()
}

#[test]
fn an_edited_payload_is_named_by_verify_and_the_ticket_is_refused_when_loaded() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("city.db");
    let store = SqliteStore::open(&db).unwrap();
    let a = store.create_ticket(new_ticket(PHONE)).unwrap().state.id;
    let b = store.create_ticket(new_ticket(PHONE)).unwrap().state.id;
    let answer = Command::Answer {
        answer: "已答复：十一月中旬。".into(),
        article_id: None,
    };
    step(&store, b, answer, at(2020, 3, 2)).unwrap();
    drop(store);
    assert!(jiesu_store::verify_file(&db).unwrap().ok());
    raw(&db)
        .execute(
            "UPDATE events SET payload = replace(payload, '十一月', '十二月') WHERE ticket_id=?1 AND seq=2",
            [b],
        )
        .unwrap();
    let report = jiesu_store::verify_file(&db).unwrap();
    assert!(!report.ok());
    assert!(
        report.problems[0].contains("event 2"),
        "{:?}",
        report.problems
    );
    let store = SqliteStore::open(&db).unwrap();
    match store.load_ticket(b) {
        Err(StoreError::Tampered(brk)) => assert_eq!((brk.ticket, brk.seq), (b, 2)),
        other => panic!(
            "a broken chain was served: {:?}",
            other.map(|o| o.map(|t| t.0.status))
        ),
    }
    // a change to it is refused too; the untouched ticket is served
    assert!(matches!(
        step(&store, b, Command::Close { note: None }, at(2020, 3, 3)),
        Err(StoreError::Tampered(_))
    ));
    assert!(store.load_ticket(a).unwrap().is_some());
}

#[test]
fn deleted_edited_kind_and_inserted_events_are_each_named() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("city.db");
    let store = SqliteStore::open(&db).unwrap();
    let ids: Vec<i64> = (0..3)
        .map(|_| store.create_ticket(new_ticket(PHONE)).unwrap().state.id)
        .collect();
    for id in &ids {
        let answer = Command::Answer {
            answer: "已答复。".into(),
            article_id: None,
        };
        step(&store, *id, answer, at(2020, 3, 2)).unwrap();
    }
    drop(store);
    let copy = |name: &str| {
        let p = dir.path().join(name);
        raw(&db)
            .execute_batch(&format!("VACUUM INTO '{}'", p.display()))
            .unwrap();
        p
    };
    // the last event of a ticket deleted: the log has a hole
    let deleted = copy("deleted.db");
    raw(&deleted)
        .execute("DELETE FROM events WHERE ticket_id=?1 AND seq=2", [ids[0]])
        .unwrap();
    let r = jiesu_store::verify_file(&deleted).unwrap();
    assert!(
        r.problems.iter().any(|p| p.contains("missing")),
        "{:?}",
        r.problems
    );
    // the kind column changed
    let kind = copy("kind.db");
    raw(&kind)
        .execute(
            "UPDATE events SET kind='closed' WHERE ticket_id=?1 AND seq=2",
            [ids[1]],
        )
        .unwrap();
    let r = jiesu_store::verify_file(&kind).unwrap();
    assert!(r.problems[0].contains("event 2"), "{:?}", r.problems);
    // an event inserted with a made-up hash
    let inserted = copy("inserted.db");
    raw(&inserted)
        .execute(
            "INSERT INTO events (ticket_id, seq, at, kind, actor, role, unit_code, payload, sealed, hash, pos)
             SELECT ticket_id, 3, at, 'closed', actor, role, unit_code, '{\"closed\":{}}', NULL, hash, 1000 FROM events WHERE ticket_id=?1 AND seq=2",
            [ids[2]],
        )
        .unwrap();
    let r = jiesu_store::verify_file(&inserted).unwrap();
    assert!(
        r.problems.iter().any(|p| p.contains("event 3")),
        "{:?}",
        r.problems
    );
    // the projection alone edited
    let proj = copy("projection.db");
    raw(&proj)
        .execute("UPDATE tickets SET status='closed' WHERE id=?1", [ids[2]])
        .unwrap();
    let r = jiesu_store::verify_file(&proj).unwrap();
    assert!(
        r.problems.iter().any(|p| p.contains("fold")),
        "{:?}",
        r.problems
    );
}
