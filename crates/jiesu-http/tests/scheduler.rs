//! The reminder scheduler: each threshold of each clock is recorded exactly once, across restarts
//! and downtime; met clocks get no reminders.

use chrono::{DateTime, Duration, TimeZone, Utc};
use jiesu_domain::command::{execute, AssignmentRequest, Command};
use jiesu_domain::ticket::*;
use jiesu_domain::{ActorRef, Role, TicketState};
use jiesu_http::{scheduler_pass, AppState};
use jiesu_store::{NewTicket, SqliteStore};
use std::sync::{Arc, Mutex};

fn state_at(path: &std::path::Path, clock: Arc<Mutex<DateTime<Utc>>>) -> AppState {
    let store: Arc<dyn jiesu_store::Store> = Arc::new(SqliteStore::open(path).unwrap());
    if store.units().unwrap().is_empty() {
        store
            .replace_reference(
                &jiesu_refdata::units(),
                jiesu_refdata::category_tree().all(),
            )
            .unwrap();
    }
    let mut st = AppState::load(store).unwrap();
    st.clock = Arc::new(move || *clock.lock().unwrap());
    st
}

fn sys() -> ActorRef {
    ActorRef {
        user: "t".into(),
        role: Role::System,
        unit: None,
    }
}

fn reminders(st: &AppState, id: i64) -> Vec<(String, u8, bool)> {
    let (_, ev) = st.store.load_ticket(id).unwrap().unwrap();
    ev.iter()
        .filter_map(|e| match &e.kind {
            jiesu_domain::EventKind::Reminded {
                clock,
                index,
                overdue,
                ..
            } => Some((clock.clone(), *index, *overdue)),
            _ => None,
        })
        .collect()
}

#[test]
fn scheduler_emits_each_threshold_once_even_after_restart_and_downtime() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let t0 = Utc.with_ymd_and_hms(2026, 3, 2, 1, 0, 0).unwrap();
    let clock = Arc::new(Mutex::new(t0));
    let st = state_at(&path, clock.clone());
    let cat = st.categories.leaves().next().unwrap().code.clone();
    let t = st
        .store
        .create_ticket(NewTicket {
            intake: Intake {
                channel: Channel::Phone,
                request_type: RequestType::Complaint,
                category_code: cat,
                title: "噪音".into(),
                text: "夜间施工噪音".into(),
                place: Place {
                    district_code: "110105".into(),
                    street_code: "110105001".into(),
                    ..Default::default()
                },
                requester: Requester {
                    name: "张".into(),
                    phone: "13812345678".into(),
                },
                enterprise: false,
                tier: None,
                praised_unit: None,
                risk: None,
            }
            .check()
            .unwrap(),
            actor: sys(),
            now: t0,
            idempotency_key: None,
            tracking_code: None,
        })
        .unwrap()
        .state;
    // 2-hour tier in calendar time: sign 15 min, respond 30 min, finish 2 h
    let d = jiesu_routing::DeadlinePolicy::calendar_time_default().deadlines(
        DeadlineTier::H2,
        "110105001",
        "",
        t0,
        &jiesu_routing::Calendar::china_2025_2026(),
        &[],
    );
    let cmd = Command::Dispatch {
        assignments: vec![AssignmentRequest {
            unit: "110105001".into(),
            role: AssignmentRole::Lead,
            tier: DeadlineTier::H2,
            deadlines: d,
        }],
        note: None,
        rule: None,
    };
    st.store
        .update_ticket(
            t.id,
            Box::new(move |s: &mut TicketState| Ok(execute(s, &cmd, &sys(), t0)?)),
        )
        .unwrap();

    // 10 minutes in: sign clock passed 50 % (7.5 of 15 min), respond at 33 % (nothing), finish 8 %
    *clock.lock().unwrap() = t0 + Duration::minutes(10);
    assert_eq!(scheduler_pass(&st, st.now()).unwrap(), 1);
    assert_eq!(
        scheduler_pass(&st, st.now()).unwrap(),
        0,
        "a second pass at the same time adds nothing"
    );
    assert_eq!(reminders(&st, t.id), vec![("sign".into(), 0, false)]);

    // the unit signs; the sign clock is met and gets nothing more
    let cmd = Command::Sign {
        unit: "110105001".into(),
    };
    let at = t0 + Duration::minutes(11);
    st.store
        .update_ticket(
            t.id,
            Box::new(move |s: &mut TicketState| Ok(execute(s, &cmd, &sys(), at)?)),
        )
        .unwrap();

    // restart after 3 hours of downtime: every passed threshold of respond and finish, once
    drop(st);
    *clock.lock().unwrap() = t0 + Duration::hours(3);
    let st = state_at(&path, clock.clone());
    let n = scheduler_pass(&st, st.now()).unwrap();
    assert_eq!(n, 6, "respond 50/80/100 % and finish 50/80/100 %");
    drop(st);
    let st = state_at(&path, clock.clone());
    assert_eq!(
        scheduler_pass(&st, st.now()).unwrap(),
        0,
        "nothing twice after another restart"
    );
    let r = reminders(&st, t.id);
    assert_eq!(r.iter().filter(|x| x.0 == "sign").count(), 1);
    assert_eq!(r.iter().filter(|x| x.0 == "respond").count(), 3);
    assert_eq!(
        r.iter().filter(|x| x.0 == "finish" && x.2).count(),
        1,
        "one overdue event for the finish clock"
    );
}
