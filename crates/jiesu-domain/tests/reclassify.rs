//! 改类: correcting a ticket's type and category.

use chrono::{TimeZone, Utc};
use jiesu_domain::auth::{authorize, Actor};
use jiesu_domain::command::{create, execute, Command};
use jiesu_domain::event::*;
use jiesu_domain::org::OrgTree;
use jiesu_domain::state::*;
use jiesu_domain::ticket::*;
use jiesu_domain::Role;

fn ticket() -> (TicketState, Vec<Event>) {
    let intake = Intake {
        channel: Channel::Phone,
        request_type: RequestType::Consultation,
        category_code: "010101".into(),
        title: "小区停水".into(),
        text: "小区从昨天开始停水，没有通知。".into(),
        place: Place {
            district_code: "110105".into(),
            street_code: "110105001".into(),
            ..Default::default()
        },
        requester: Requester {
            name: "李女士".into(),
            phone: "13812345678".into(),
        },
        enterprise: false,
        tier: None,
        praised_unit: None,
        risk: None,
    };
    let ev = Event {
        seq: 1,
        at: Utc.with_ymd_and_hms(2026, 3, 2, 1, 0, 0).unwrap(),
        actor: ActorRef {
            user: "agent1".into(),
            role: Role::Agent,
            unit: None,
        },
        kind: create("2026030200000001".into(), intake.check().unwrap()),
    };
    (TicketState::created(1, &ev).unwrap(), vec![ev])
}

fn reclassify(code: &str, t: RequestType) -> Command {
    Command::Reclassify {
        category_code: code.into(),
        request_type: t,
        reason: "市民反映的是停水，不是咨询".into(),
    }
}

#[test]
fn reclassify_changes_the_folded_intake_and_keeps_the_old_labels() {
    let (mut st, mut log) = ticket();
    let actor = ActorRef {
        user: "disp1".into(),
        role: Role::Dispatcher,
        unit: None,
    };
    let now = Utc.with_ymd_and_hms(2026, 3, 2, 2, 0, 0).unwrap();
    let evs = execute(
        &mut st,
        &reclassify("020301", RequestType::Complaint),
        &actor,
        now,
    )
    .unwrap();
    assert_eq!(st.intake.category_code, "020301");
    assert_eq!(st.intake.request_type, RequestType::Complaint);
    assert_eq!(st.status, Status::New, "reclassifying changes no status");
    match &evs[0].kind {
        EventKind::Reclassified {
            from_category,
            from_type,
            category_code,
            request_type,
            reason,
        } => {
            assert_eq!(from_category, "010101");
            assert_eq!(*from_type, RequestType::Consultation);
            assert_eq!(category_code, "020301");
            assert_eq!(*request_type, RequestType::Complaint);
            assert!(reason.contains("停水"));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(evs[0].kind.name(), "reclassified");
    assert_eq!(evs[0].kind.label_zh(), "改类");
    assert!(
        !evs[0].kind.public(),
        "internal correction, not on the tracking page"
    );
    // JSON round trip and fold = incremental state.
    let json = serde_json::to_string(&evs[0]).unwrap();
    let back: Event = serde_json::from_str(&json).unwrap();
    assert_eq!(back, evs[0]);
    log.extend(evs);
    assert_eq!(TicketState::fold(1, &log).unwrap(), st);
}

#[test]
fn reclassify_refuses_no_change_blank_reason_and_archived_tickets() {
    let (mut st, _) = ticket();
    let actor = ActorRef {
        user: "a".into(),
        role: Role::Agent,
        unit: None,
    };
    let now = Utc.with_ymd_and_hms(2026, 3, 2, 2, 0, 0).unwrap();
    let same = execute(
        &mut st,
        &reclassify("010101", RequestType::Consultation),
        &actor,
        now,
    );
    assert!(same.is_err(), "no change is refused");
    let blank = Command::Reclassify {
        category_code: "020301".into(),
        request_type: RequestType::Complaint,
        reason: "  ".into(),
    };
    assert!(execute(&mut st, &blank, &actor, now).is_err());
    assert!(execute(
        &mut st,
        &reclassify("", RequestType::Complaint),
        &actor,
        now
    )
    .is_err());
    // Only the type changes: accepted.
    execute(
        &mut st,
        &reclassify("010101", RequestType::Help),
        &actor,
        now,
    )
    .unwrap();
    assert_eq!(st.intake.request_type, RequestType::Help);
    // Answered, closed, archived: no more corrections.
    for c in [
        Command::Answer {
            answer: "已答复".into(),
            article_id: None,
        },
        Command::Close { note: None },
        Command::Archive,
    ] {
        execute(&mut st, &c, &actor, now).unwrap();
    }
    let before = st.clone();
    assert!(execute(
        &mut st,
        &reclassify("020301", RequestType::Complaint),
        &actor,
        now
    )
    .is_err());
    assert_eq!(st, before, "a refused command changes nothing");
}

#[test]
fn only_centre_staff_may_reclassify() {
    let (st, _) = ticket();
    let org = OrgTree::default();
    let cmd = reclassify("020301", RequestType::Complaint);
    for (role, ok) in [
        (Role::Agent, true),
        (Role::Dispatcher, true),
        (Role::Supervisor, true),
        (Role::Admin, true),
        (Role::CallbackAgent, false),
        (Role::UnitHandler, false),
        (Role::UnitManager, false),
        (Role::Citizen, false),
    ] {
        let actor = Actor {
            user: "u".into(),
            role,
            unit: if role.is_unit() {
                Some("110105001".into())
            } else {
                None
            },
        };
        assert_eq!(
            authorize(&actor, &cmd, &st, &org).is_ok(),
            ok,
            "{role:?} reclassify"
        );
    }
}
