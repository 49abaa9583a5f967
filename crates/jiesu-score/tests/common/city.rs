//! Tickets built through the real domain transitions (`jiesu_domain::command::execute`), for
//! tests on a real database and for the synthetic city of `examples/synth_city.rs`.
#![allow(dead_code)]

use chrono::{DateTime, Duration, Utc};
use jiesu_domain::command::{execute, AssignmentRequest, Command};
use jiesu_domain::ticket::*;
use jiesu_domain::{ActorRef, CallbackOutcome, Event, Role, TicketState};

/// How the lead unit responds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Respond {
    OnTime,
    Late,
    Never,
}

/// One ticket's story.
#[derive(Debug, Clone)]
pub struct Spec {
    pub id: i64,
    pub created: DateTime<Utc>,
    pub request_type: RequestType,
    pub category: String,
    pub district: String,
    pub street: String,
    pub tier: DeadlineTier,
    pub lead: String,
    pub assist: Option<String>,
    /// A unit that gets the ticket first and returns it (approved) before `lead` gets it.
    pub returned_by: Option<String>,
    pub respond: Respond,
    /// The (first) callback: contacted, resolution, satisfaction; `None` = no callback yet.
    pub callback: Option<(bool, Resolution, Satisfaction)>,
    /// Reopened after the callback, and the second round's callback.
    pub reopen: Option<(Resolution, Satisfaction)>,
    pub exempt: Option<ExemptReason>,
}

impl Spec {
    pub fn new(id: i64, created: DateTime<Utc>, lead: &str, district: &str, street: &str) -> Spec {
        Spec {
            id,
            created,
            request_type: RequestType::Complaint,
            category: "030101".into(),
            district: district.into(),
            street: street.into(),
            tier: DeadlineTier::D7,
            lead: lead.into(),
            assist: None,
            returned_by: None,
            respond: Respond::OnTime,
            callback: Some((true, Resolution::Resolved, Satisfaction::Satisfied)),
            reopen: None,
            exempt: None,
        }
    }
}

fn sys() -> ActorRef {
    ActorRef {
        user: "sys".into(),
        role: Role::System,
        unit: None,
    }
}

/// The ticket's folded state and its events.
pub fn build(s: &Spec) -> (TicketState, Vec<Event>) {
    let intake = Intake {
        channel: Channel::Phone,
        request_type: s.request_type,
        category_code: s.category.clone(),
        title: "小区楼道灯不亮".into(),
        text: "小区三号楼楼道灯坏了一个月，晚上看不见路，希望尽快修理。".into(),
        place: Place {
            district_code: s.district.clone(),
            street_code: s.street.clone(),
            ..Default::default()
        },
        requester: Requester {
            name: "王先生".into(),
            phone: "13912345678".into(),
        },
        enterprise: false,
        tier: Some(s.tier),
        praised_unit: None,
        risk: None,
    };
    let number = format!(
        "{}{:08}",
        (s.created + Duration::hours(8)).format("%Y%m%d"),
        s.id
    );
    let first = Event {
        seq: 1,
        at: s.created,
        actor: sys(),
        kind: jiesu_domain::command::create(number, intake.check().expect("valid intake")),
    };
    let mut r = Run {
        st: TicketState::created(s.id, &first).expect("created"),
        events: vec![first],
        id: s.id,
        lead: s.lead.clone(),
    };
    let mut now = s.created;
    let rules = jiesu_routing::DeadlinePolicy::calendar_time_default();
    let calendar = jiesu_routing::Calendar::china_2025_2026();
    let req = |unit: &str, role, at| AssignmentRequest {
        unit: unit.into(),
        role,
        tier: s.tier,
        deadlines: rules.deadlines(s.tier, unit, "", at, &calendar, &[]),
    };
    now += Duration::minutes(1);
    if let Some(u) = &s.returned_by {
        r.step(
            Command::Dispatch {
                assignments: vec![req(u, AssignmentRole::Lead, now)],
                note: None,
                rule: None,
            },
            now,
        );
        r.step(
            Command::Sign { unit: u.clone() },
            now + Duration::minutes(2),
        );
        r.step(
            Command::RequestReturn {
                unit: u.clone(),
                reason: ReturnReason::NotOurDuty,
                text: "非本单位职责".into(),
            },
            now + Duration::minutes(3),
        );
        r.step(
            Command::ReviewReturn {
                unit: u.clone(),
                approve: true,
                note: None,
            },
            now + Duration::minutes(4),
        );
        now += Duration::minutes(5);
    }
    let mut assignments = vec![req(&s.lead, AssignmentRole::Lead, now)];
    if let Some(a) = &s.assist {
        assignments.push(req(a, AssignmentRole::Assist, now));
    }
    let deadlines = assignments[0].deadlines;
    r.step(
        Command::Dispatch {
            assignments,
            note: None,
            rule: None,
        },
        now,
    );
    now = r.handle(now, deadlines, s.respond);
    if let Some((contacted, resolution, satisfaction)) = s.callback {
        let outcome = CallbackOutcome::Reached {
            contacted,
            resolution,
            satisfaction,
            attitude: None,
            comment: None,
        };
        r.step(Command::Callback { outcome }, now);
        if let Some((r2, s2)) = s.reopen {
            now += Duration::minutes(1);
            let d = rules.deadlines(s.tier, &s.lead, "", now, &calendar, &[]);
            r.step(
                Command::Reopen {
                    reason: "市民反映仍未解决".into(),
                    deadlines: vec![(s.lead.clone(), d)],
                },
                now,
            );
            now = r.handle(now, d, Respond::OnTime);
            let outcome = CallbackOutcome::Reached {
                contacted: true,
                resolution: r2,
                satisfaction: s2,
                attitude: None,
                comment: None,
            };
            r.step(Command::Callback { outcome }, now);
        }
    }
    if let Some(x) = s.exempt {
        now += Duration::minutes(1);
        r.step(
            Command::Exempt {
                reason: Some(x),
                note: "经核实".into(),
            },
            now,
        );
    }
    (r.st, r.events)
}

struct Run {
    st: TicketState,
    events: Vec<Event>,
    id: i64,
    lead: String,
}

impl Run {
    fn step(&mut self, cmd: Command, at: DateTime<Utc>) {
        let ev = execute(&mut self.st, &cmd, &sys(), at)
            .unwrap_or_else(|e| panic!("{cmd:?} on ticket {}: {e}", self.id));
        self.events.extend(ev);
    }
    /// Sign, respond and submit (or never respond); returns when the callback may happen.
    fn handle(
        &mut self,
        start: DateTime<Utc>,
        d: jiesu_domain::Deadlines,
        respond: Respond,
    ) -> DateTime<Utc> {
        let lead = self.lead.clone();
        self.step(
            Command::Sign { unit: lead.clone() },
            start + Duration::minutes(1),
        );
        match respond {
            Respond::Never => d.finish + Duration::minutes(1),
            r => {
                let at = if r == Respond::OnTime {
                    start + Duration::minutes(2)
                } else {
                    d.respond + Duration::seconds(1)
                };
                self.step(
                    Command::Respond {
                        unit: lead.clone(),
                        note: None,
                    },
                    at,
                );
                let done = at + Duration::minutes(1);
                self.step(
                    Command::SubmitResult {
                        unit: lead,
                        text: "已处理".into(),
                        evidence: vec![],
                    },
                    done,
                );
                done + Duration::minutes(1)
            }
        }
    }
}
