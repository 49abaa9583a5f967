//! The ticket lifecycle: named rules, and property tests over random command sequences.

use chrono::{DateTime, Duration, TimeZone, Utc};
use jiesu_domain::command::{execute, AssignmentRequest, Command};
use jiesu_domain::event::*;
use jiesu_domain::state::*;
use jiesu_domain::ticket::*;
use jiesu_domain::Role;
use proptest::prelude::*;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 1, 0, 0).unwrap()
}

fn actor() -> ActorRef {
    ActorRef {
        user: "tester".into(),
        role: Role::System,
        unit: None,
    }
}

fn intake() -> Intake {
    Intake {
        channel: Channel::Phone,
        request_type: RequestType::Complaint,
        category_code: "010101".into(),
        title: "夜间施工噪音".into(),
        text: "楼下工地夜里施工，噪音扰民。".into(),
        place: Place {
            district_code: "110105".into(),
            street_code: "110105001".into(),
            ..Default::default()
        },
        requester: Requester {
            name: "张先生".into(),
            phone: "13812345678".into(),
        },
        enterprise: false,
        tier: None,
        praised_unit: None,
        risk: None,
    }
}

fn new_ticket() -> (TicketState, Vec<Event>) {
    let ev = Event {
        seq: 1,
        at: t0(),
        actor: actor(),
        kind: jiesu_domain::command::create("2026030200000001".into(), intake().check().unwrap()),
    };
    (TicketState::created(1, &ev).unwrap(), vec![ev])
}

/// The clocks of a 7-day assignment started at `at`, in calendar time (the domain takes deadlines
/// from a `DeadlineSource`; the server's is `jiesu_routing::DeadlineEngine`): sign in 2 hours,
/// respond in 24, finish in 7 days.
fn d7(at: DateTime<Utc>) -> jiesu_domain::event::Deadlines {
    jiesu_domain::event::Deadlines {
        sign: at + Duration::hours(2),
        respond: at + Duration::hours(24),
        finish: at + Duration::days(7),
    }
}

fn assign(unit: &str, role: AssignmentRole, at: DateTime<Utc>) -> AssignmentRequest {
    AssignmentRequest {
        unit: unit.into(),
        role,
        tier: DeadlineTier::D7,
        deadlines: d7(at),
    }
}

fn run(
    st: &mut TicketState,
    log: &mut Vec<Event>,
    cmd: Command,
    at: DateTime<Utc>,
) -> Result<(), jiesu_domain::DomainError> {
    let ev = execute(st, &cmd, &actor(), at)?;
    log.extend(ev);
    Ok(())
}

fn dispatch(unit: &str) -> Command {
    Command::Dispatch {
        assignments: vec![assign(unit, AssignmentRole::Lead, t0())],
        note: None,
        rule: None,
    }
}

#[test]
fn returned_ticket_goes_to_dispute_review_not_back_to_pool() {
    let (mut st, mut log) = new_ticket();
    let at = t0() + Duration::minutes(5);
    run(&mut st, &mut log, dispatch("A"), at).unwrap();
    run(
        &mut st,
        &mut log,
        Command::RequestReturn {
            unit: "A".into(),
            reason: ReturnReason::NotOurDuty,
            text: "非本街道职责".into(),
        },
        at,
    )
    .unwrap();
    assert_eq!(st.status, Status::ReturnReview);
    // while under review the unit cannot sign it
    assert!(run(&mut st, &mut log, Command::Sign { unit: "A".into() }, at).is_err());
    // rejected: back to the same unit
    run(
        &mut st,
        &mut log,
        Command::ReviewReturn {
            unit: "A".into(),
            approve: false,
            note: None,
        },
        at,
    )
    .unwrap();
    assert_eq!(st.status, Status::Dispatched);
    run(
        &mut st,
        &mut log,
        Command::RequestReturn {
            unit: "A".into(),
            reason: ReturnReason::NotOurDuty,
            text: "确非职责".into(),
        },
        at,
    )
    .unwrap();
    run(
        &mut st,
        &mut log,
        Command::ReviewReturn {
            unit: "A".into(),
            approve: true,
            note: None,
        },
        at,
    )
    .unwrap();
    // approved: waits for re-dispatch, the returned assignment is kept in the history
    assert_eq!(st.status, Status::New);
    assert_eq!(st.assignments[0].state, AssignmentState::Returned);
    run(&mut st, &mut log, dispatch("B"), at).unwrap();
    assert_eq!(st.status, Status::Dispatched);
    assert_eq!(st.assignments.len(), 2);
    assert_eq!(st.first_dispatched_at, Some(at));
}

#[test]
fn full_handling_then_callback_then_close() {
    let (mut st, mut log) = new_ticket();
    let mut at = t0();
    for cmd in [
        dispatch("A"),
        Command::Sign { unit: "A".into() },
        Command::Respond {
            unit: "A".into(),
            note: None,
        },
        Command::SubmitResult {
            unit: "A".into(),
            text: "已处理".into(),
            evidence: vec![],
        },
    ] {
        at += Duration::minutes(10);
        run(&mut st, &mut log, cmd, at).unwrap();
    }
    assert_eq!(st.status, Status::ResultSubmitted);
    // a second sign after the result is an illegal transition
    assert!(matches!(
        run(&mut st, &mut log, Command::Sign { unit: "A".into() }, at),
        Err(jiesu_domain::DomainError::NoAssignment { .. })
    ));
    let cb = Command::Callback {
        outcome: CallbackOutcome::Reached {
            contacted: true,
            resolution: Resolution::Resolved,
            satisfaction: Satisfaction::Satisfied,
            attitude: None,
            comment: None,
        },
    };
    run(&mut st, &mut log, cb.clone(), at).unwrap();
    assert_eq!(st.status, Status::CallbackDone);
    // a second callback for the same round is refused
    assert!(run(&mut st, &mut log, cb, at).is_err());
    run(&mut st, &mut log, Command::Close { note: None }, at).unwrap();
    assert_eq!(st.status, Status::Closed);
    assert_eq!(TicketState::fold(1, &log).unwrap(), st);
}

#[test]
fn reopened_ticket_starts_a_new_round_with_new_deadlines() {
    let (mut st, mut log) = new_ticket();
    let at = t0();
    for cmd in [
        dispatch("A"),
        Command::Sign { unit: "A".into() },
        Command::Respond {
            unit: "A".into(),
            note: None,
        },
        Command::SubmitResult {
            unit: "A".into(),
            text: "已处理".into(),
            evidence: vec![],
        },
        Command::Callback {
            outcome: CallbackOutcome::Reached {
                contacted: true,
                resolution: Resolution::Unresolved,
                satisfaction: Satisfaction::Unsatisfied,
                attitude: None,
                comment: None,
            },
        },
    ] {
        run(&mut st, &mut log, cmd, at).unwrap();
    }
    let later = at + Duration::days(2);
    let d = d7(later);
    run(
        &mut st,
        &mut log,
        Command::Reopen {
            reason: "市民反映未解决".into(),
            deadlines: vec![("A".into(), d)],
        },
        later,
    )
    .unwrap();
    assert_eq!(st.round, 1);
    assert_eq!(st.status, Status::Dispatched);
    assert_eq!(st.assignments[0].deadlines, d);
    // the new round may be called back again
    assert!(st.current_callback().is_none());
}

#[test]
fn only_one_lead_at_a_time_and_assists_may_join() {
    let (mut st, mut log) = new_ticket();
    run(&mut st, &mut log, dispatch("A"), t0()).unwrap();
    assert!(run(&mut st, &mut log, dispatch("B"), t0()).is_err());
    let assist = Command::Dispatch {
        assignments: vec![assign("B", AssignmentRole::Assist, t0())],
        note: None,
        rule: None,
    };
    run(&mut st, &mut log, assist, t0()).unwrap();
    assert_eq!(st.assignments.len(), 2);
}

#[test]
fn a_deadline_before_its_start_is_refused() {
    let (mut st, mut log) = new_ticket();
    let late = t0() + Duration::days(30);
    let cmd = dispatch("A"); // deadlines computed from t0, executed 30 days later
    assert!(run(&mut st, &mut log, cmd, late).is_err());
}

#[test]
fn answered_consultation_cannot_be_dispatched() {
    let (mut st, mut log) = new_ticket();
    run(
        &mut st,
        &mut log,
        Command::Answer {
            answer: "按政策可办理".into(),
            article_id: None,
        },
        t0(),
    )
    .unwrap();
    assert_eq!(st.status, Status::Answered);
    assert!(run(&mut st, &mut log, dispatch("A"), t0()).is_err());
    run(&mut st, &mut log, Command::Close { note: None }, t0()).unwrap();
    run(&mut st, &mut log, Command::Archive, t0()).unwrap();
    assert_eq!(st.status, Status::Archived);
}

// ---- property tests -------------------------------------------------------------------------

const UNITS: [&str; 3] = ["A", "B", "C"];

fn arb_unit() -> impl Strategy<Value = String> {
    prop::sample::select(UNITS.to_vec()).prop_map(str::to_string)
}

fn arb_cmd() -> impl Strategy<Value = (u32, u8, String, bool, u8)> {
    (0u32..600, 0u8..28, arb_unit(), any::<bool>(), 0u8..3)
}

fn make(kind: u8, unit: String, flag: bool, n: u8, at: DateTime<Utc>, st: &TicketState) -> Command {
    let res = [
        Resolution::Resolved,
        Resolution::Partly,
        Resolution::Unresolved,
    ][n as usize];
    let sat = [
        Satisfaction::Satisfied,
        Satisfaction::Basic,
        Satisfaction::Unsatisfied,
    ][n as usize];
    match kind {
        0 => Command::Answer {
            answer: "答复".into(),
            article_id: None,
        },
        1 => Command::SpecialHandle {
            handling: SpecialHandling::LegalRoute,
            note: "告知".into(),
        },
        2 | 3 => Command::Dispatch {
            assignments: vec![assign(
                &unit,
                if flag {
                    AssignmentRole::Lead
                } else {
                    AssignmentRole::Assist
                },
                at,
            )],
            note: None,
            rule: None,
        },
        4 | 5 => Command::Sign { unit },
        6 => Command::Respond { unit, note: None },
        7 => Command::Note {
            unit: Some(unit),
            text: "进展".into(),
            public: flag,
        },
        8 => Command::Whistle {
            unit,
            summoned: vec!["C".into()],
            reason: "需要协同".into(),
            report_deadline: at + Duration::minutes(30),
        },
        9 => Command::Report { unit },
        10 => Command::RequestReturn {
            unit,
            reason: ReturnReason::NotOurDuty,
            text: "非职责".into(),
        },
        11 => Command::ReviewReturn {
            unit,
            approve: flag,
            note: None,
        },
        12 => Command::RequestExtension {
            unit,
            until: at + Duration::days(20),
            reason: "需要时间".into(),
        },
        13 => Command::ReviewExtension {
            unit,
            approve: flag,
            note: None,
        },
        14 => Command::Escalate {
            level: EscalationLevel::District,
            to_unit: None,
            reason: "协调".into(),
        },
        15 | 16 => Command::SubmitResult {
            unit,
            text: "办结".into(),
            evidence: vec![],
        },
        17 => Command::Callback {
            outcome: if n == 2 && flag {
                CallbackOutcome::Unreachable { note: None }
            } else {
                CallbackOutcome::Reached {
                    contacted: flag || n == 0,
                    resolution: res,
                    satisfaction: sat,
                    attitude: None,
                    comment: None,
                }
            },
        },
        18 => Command::Reopen {
            reason: "未解决".into(),
            deadlines: st
                .assignments
                .iter()
                .filter(|a| a.role == AssignmentRole::Lead && a.state == AssignmentState::Finished)
                .map(|a| (a.unit.clone(), d7(at)))
                .collect(),
        },
        19 => Command::Close { note: None },
        20 => Command::Archive,
        21 => Command::Merge {
            primary: 99,
            primary_number: "x".into(),
        },
        22 => Command::Reclassify {
            category_code: ["0101", "0202", "0303"][n as usize].into(),
            request_type: if flag {
                RequestType::Complaint
            } else {
                RequestType::Help
            },
            reason: "座席纠正分类".into(),
        },
        24 => Command::Consult {
            note: "疑难诉求会商".into(),
            units: vec![unit],
        },
        25 => Command::Pause {
            unit,
            reason: "约定上门时间".into(),
        },
        26 => Command::Resume { unit },
        27 => Command::Urge {
            unit,
            note: "请加快办理".into(),
        },
        _ => Command::Remind {
            unit,
            clock: ["sign", "respond", "finish"][n as usize].into(),
            epoch: 0,
            index: flag as u8,
            permille: 500,
            overdue: false,
        },
    }
}

fn check_invariants(st: &TicketState) -> Result<(), TestCaseError> {
    let active_leads = st
        .assignments
        .iter()
        .filter(|a| a.role == AssignmentRole::Lead && a.state.active())
        .count();
    prop_assert!(active_leads <= 1, "two active leads: {:?}", st.assignments);
    match st.status {
        Status::Dispatched | Status::InProgress | Status::ReturnReview => {
            prop_assert_eq!(active_leads, 1)
        }
        Status::Consultation => {
            prop_assert_eq!(active_leads, 0);
            prop_assert!(st.consultation.is_some());
        }
        Status::Answered | Status::SpecialHandled => prop_assert!(st.assignments.is_empty()),
        _ => {}
    }
    for a in &st.assignments {
        prop_assert!(a.deadlines.sign <= a.deadlines.finish);
        prop_assert!(
            a.deadlines.sign >= a.dispatched_at || a.round > 0 || a.extensions_granted > 0
        );
        if a.state == AssignmentState::Finished {
            prop_assert!(a.finished_at.is_some());
        }
        if let (Some(s), Some(r)) = (a.signed_at, a.responded_at) {
            prop_assert!(s <= r);
        }
    }
    for a in &st.assignments {
        for (clock, (_, n)) in &a.reminders {
            prop_assert!(*n <= 2, "reminder {clock} recorded out of order: {n}");
        }
    }
    let reached_this_round = st
        .callbacks
        .iter()
        .filter(|c| c.round == st.round && matches!(c.outcome, CallbackOutcome::Reached { .. }))
        .count();
    prop_assert!(reached_this_round <= 1, "two callbacks in one round");
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    /// Random command sequences never reach a state the machine forbids; the fold of the log equals
    /// the state built step by step; every event round-trips through JSON (as stored).
    #[test]
    fn random_command_sequences_keep_the_invariants(cmds in prop::collection::vec(arb_cmd(), 1..60)) {
        let (mut st, mut log) = new_ticket();
        let mut at = t0();
        for (dt, kind, unit, flag, n) in cmds {
            at += Duration::minutes(dt as i64);
            let cmd = make(kind, unit, flag, n, at, &st);
            let before = st.clone();
            match execute(&mut st, &cmd, &actor(), at) {
                Ok(ev) => {
                    prop_assert_eq!(ev.len(), 1);
                    log.extend(ev);
                }
                Err(_) => prop_assert_eq!(&st, &before, "a refused command changed the state"),
            }
            check_invariants(&st)?;
            if st.status == Status::Archived {
                let again = make(kind, "A".into(), flag, n, at, &st);
                let refused = execute(&mut st.clone(), &again, &actor(), at).is_err();
                prop_assert!(refused, "an archived ticket accepted {:?}", again);
            }
        }
        prop_assert_eq!(st.version as usize, log.len());
        let folded = TicketState::fold(1, &log).unwrap();
        prop_assert_eq!(&folded, &st);
        prop_assert_eq!(TicketState::fold(1, &log).unwrap(), folded);
        for e in &log {
            let json = serde_json::to_string(&e.kind).unwrap();
            let back: EventKind = serde_json::from_str(&json).unwrap();
            prop_assert_eq!(&back, &e.kind);
        }
    }
}
