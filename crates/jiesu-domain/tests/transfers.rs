//! 转接: transfers to 110/119/120/122 and the services' replies, decided and folded by the domain;
//! the grid worker's one ticket action (a photo on its own report).

use chrono::{DateTime, Duration, TimeZone, Utc};
use jiesu_domain::auth::{authorize, own_grid_report, Actor};
use jiesu_domain::command::{create, execute, Command};
use jiesu_domain::event::*;
use jiesu_domain::org::OrgTree;
use jiesu_domain::state::*;
use jiesu_domain::ticket::*;
use jiesu_domain::{DomainError, Role};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 1, 0, 0).unwrap()
}

fn ticket(channel: Channel, by: &str, role: Role, risk: Option<&[&str]>) -> TicketState {
    let intake = Intake {
        channel,
        request_type: RequestType::Help,
        category_code: "010101".into(),
        title: "楼道燃气味很重".into(),
        text: "楼道里燃气味很重，怀疑燃气泄漏。".into(),
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
        risk: risk.map(|to| RiskMark {
            kind: "gas".into(),
            transfer_to: to.iter().map(|s| s.to_string()).collect(),
            signs: vec!["燃气泄漏".into()],
        }),
    };
    let ev = Event {
        seq: 1,
        at: t0(),
        actor: ActorRef {
            user: by.into(),
            role,
            unit: None,
        },
        kind: create("2026030200000001".into(), intake.check().unwrap()),
    };
    TicketState::created(1, &ev).unwrap()
}

fn agent() -> ActorRef {
    ActorRef {
        user: "agent1".into(),
        role: Role::Agent,
        unit: None,
    }
}

fn transfer(to: EmergencyService) -> Command {
    Command::Transfer {
        to,
        reason: "燃气泄漏，转消防".into(),
    }
}

fn reply(to: EmergencyService, outcome: TransferOutcome) -> Command {
    Command::TransferReply {
        to,
        outcome,
        text: "已出动".into(),
        reference: Some("119-0042".into()),
    }
}

#[test]
fn a_transfer_and_its_replies_fold_into_one_record_that_closes_on_handled() {
    let mut st = ticket(Channel::Phone, "agent1", Role::Agent, Some(&["119"]));
    assert_eq!(st.transfers_pending(), vec![EmergencyService::Fire]);
    let at = t0() + Duration::minutes(1);
    execute(&mut st, &transfer(EmergencyService::Fire), &agent(), at).unwrap();
    assert!(st.transfers_pending().is_empty(), "the mark is done");
    assert_eq!(st.transfers.len(), 1);
    let t = &st.transfers[0];
    assert_eq!(
        (t.to, t.by.as_str(), t.at),
        (EmergencyService::Fire, "agent1", at)
    );
    assert!(t.open());
    assert_eq!(st.status, Status::New, "a transfer changes no status");

    let partner = ActorRef {
        user: "partner:119联动".into(),
        role: Role::System,
        unit: None,
    };
    execute(
        &mut st,
        &reply(EmergencyService::Fire, TransferOutcome::Accepted),
        &partner,
        at + Duration::minutes(2),
    )
    .unwrap();
    assert!(
        st.open_transfer(EmergencyService::Fire).is_some(),
        "accepted keeps it open"
    );
    // accepted once only
    let again = execute(
        &mut st,
        &reply(EmergencyService::Fire, TransferOutcome::Accepted),
        &partner,
        at + Duration::minutes(3),
    );
    assert!(matches!(again, Err(DomainError::Invalid { ref field, .. }) if field == "outcome"));
    execute(
        &mut st,
        &reply(EmergencyService::Fire, TransferOutcome::Handled),
        &agent(),
        at + Duration::minutes(30),
    )
    .unwrap();
    let t = &st.transfers[0];
    assert_eq!(t.replies.len(), 2);
    assert_eq!(t.replies[0].by, "partner:119联动");
    assert_eq!(t.replies[1].outcome, TransferOutcome::Handled);
    assert!(!t.open());
    // nothing waits for a reply now; a new transfer to the same service may follow
    let none = execute(
        &mut st,
        &reply(EmergencyService::Fire, TransferOutcome::Handled),
        &agent(),
        at + Duration::minutes(31),
    );
    assert!(matches!(none, Err(DomainError::Invalid { ref field, .. }) if field == "to"));
    execute(
        &mut st,
        &transfer(EmergencyService::Fire),
        &agent(),
        at + Duration::hours(1),
    )
    .unwrap();
    assert_eq!(st.transfers.len(), 2);
}

#[test]
fn one_open_transfer_per_service_and_a_reply_needs_one() {
    let mut st = ticket(Channel::Phone, "agent1", Role::Agent, None);
    let at = t0() + Duration::minutes(1);
    let r = execute(
        &mut st,
        &reply(EmergencyService::Police, TransferOutcome::Accepted),
        &agent(),
        at,
    );
    assert!(matches!(r, Err(DomainError::Invalid { ref field, .. }) if field == "to"));
    execute(&mut st, &transfer(EmergencyService::Police), &agent(), at).unwrap();
    let r = execute(&mut st, &transfer(EmergencyService::Police), &agent(), at);
    assert!(matches!(r, Err(DomainError::Invalid { ref field, .. }) if field == "to"));
    // another service is another transfer
    execute(
        &mut st,
        &transfer(EmergencyService::Ambulance),
        &agent(),
        at,
    )
    .unwrap();
    // a reply from 120 does not touch 110's transfer
    execute(
        &mut st,
        &reply(EmergencyService::Ambulance, TransferOutcome::Declined),
        &agent(),
        at,
    )
    .unwrap();
    assert!(st.open_transfer(EmergencyService::Police).is_some());
    assert!(st.open_transfer(EmergencyService::Ambulance).is_none());
    // a blank reason is refused
    let blank = Command::Transfer {
        to: EmergencyService::Traffic,
        reason: "  ".into(),
    };
    assert!(execute(&mut st, &blank, &agent(), at).is_err());
}

#[test]
fn a_grid_worker_may_attach_to_its_own_grid_report_and_nothing_else() {
    let org = OrgTree::default();
    let worker = Actor {
        user: "grid1".into(),
        role: Role::GridWorker,
        unit: None,
    };
    let photo = Command::Attach {
        id: "a1".into(),
        file_name: "p.jpg".into(),
        content_type: "image/jpeg".into(),
        size: 10,
    };
    let own = ticket(Channel::Grid, "grid1", Role::GridWorker, None);
    assert!(own_grid_report(&worker, &own));
    assert!(authorize(&worker, &photo, &own, &org).is_ok());
    // any other command, even on its own report, is refused
    assert!(authorize(&worker, &transfer(EmergencyService::Police), &own, &org).is_err());
    // another worker's report, or a ticket of another channel
    let other = ticket(Channel::Grid, "grid2", Role::GridWorker, None);
    assert!(authorize(&worker, &photo, &other, &org).is_err());
    let phone = ticket(Channel::Phone, "grid1", Role::GridWorker, None);
    assert!(authorize(&worker, &photo, &phone, &org).is_err());
}
