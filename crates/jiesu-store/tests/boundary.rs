//! The storage traits are the boundary: everything a caller needs is reachable through
//! `Arc<dyn Store>`, and typed rows serialize to the shapes the API serves.

use chrono::{TimeZone, Utc};
use jiesu_domain::ticket::*;
use jiesu_domain::{ActorRef, Role};
use jiesu_store::{NewTicket, SqliteStore, Store};
use std::sync::Arc;

fn open(dir: &tempfile::TempDir) -> Arc<dyn Store> {
    Arc::new(SqliteStore::open(dir.path().join("b.db")).unwrap())
}

fn new_ticket() -> NewTicket {
    NewTicket {
        intake: Intake {
            channel: Channel::Phone,
            request_type: RequestType::Complaint,
            category_code: "010101".into(),
            title: "路灯不亮".into(),
            text: "小区门口路灯一周不亮。".into(),
            place: Place {
                district_code: "110108".into(),
                street_code: "110108010".into(),
                ..Default::default()
            },
            requester: Requester {
                name: "李女士".into(),
                phone: "13900001111".into(),
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
        now: Utc.with_ymd_and_hms(2026, 5, 1, 2, 0, 0).unwrap(),
        idempotency_key: None,
        tracking_code: None,
    }
}

#[test]
fn a_ticket_taken_in_through_dyn_store_is_durable_when_its_callback_runs() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    assert_eq!(store.ticket_count().unwrap(), 0);
    let empty = store.fact_fingerprint().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    store.create_ticket_then(
        new_ticket(),
        Box::new(move |r| {
            tx.send(r.map(|c| c.state.id)).unwrap();
        }),
    );
    let id = rx.recv().unwrap().unwrap();
    drop(store);
    // reopened: the write was committed before the callback ran
    let store = open(&dir);
    assert!(store.load_ticket(id).unwrap().is_some());
    assert_eq!(store.ticket_count().unwrap(), 1);
    assert_ne!(store.fact_fingerprint().unwrap(), empty);
    assert_eq!(store.rebuild_projections().unwrap(), 1);
}

#[test]
fn settings_and_the_city_zone_round_trip_through_dyn_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    assert_eq!(store.meta("demo_city").unwrap(), None);
    store.set_meta("demo_city", "beijing").unwrap();
    assert_eq!(store.meta("demo_city").unwrap().as_deref(), Some("beijing"));
    assert_eq!(
        store.city_zone().unwrap(),
        jiesu_domain::CityZone::default()
    );
    store.set_meta("time_zone", "Mars/Olympus").unwrap();
    assert!(
        store.city_zone().is_err(),
        "a wrong stored zone is an error"
    );
    assert_eq!(store.path(), dir.path().join("b.db"));
}

#[test]
fn dispatch_accuracy_serializes_to_the_api_shape() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    let v = serde_json::to_value(store.dispatch_accuracy().unwrap()).unwrap();
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "by_category",
            "by_dispatcher",
            "by_rule",
            "by_unit",
            "by_unit_kind",
            "dispatches",
            "overall",
            "returned"
        ]
    );
    assert_eq!(v["overall"], serde_json::json!(0.0));
    assert!(v["by_unit"].as_array().unwrap().is_empty());
    let counts = store.demo_counts().unwrap();
    assert_eq!(counts.tickets, 0);
    assert!(counts.by_month.is_empty());
}
