//! `allowed_actions` against what the server runs — the domain's prepare, authorize and decide with
//! the server's deadline engine ([`DeadlineEngine::city_default`]): for random sequences of actions
//! on a ticket, every action it lists is accepted with some valid body, and every action it does not
//! list is refused whatever valid body is sent.

use chrono::{DateTime, Duration, TimeZone, Utc};
use jiesu_domain::action::Action;
use jiesu_domain::auth::{authorize, Actor};
use jiesu_domain::category::{Category, CategoryTree};
use jiesu_domain::command::execute;
use jiesu_domain::event::Event;
use jiesu_domain::org::{OrgTree, Unit, UnitKind};
use jiesu_domain::prepare::*;
use jiesu_domain::ticket::*;
use jiesu_domain::{allowed_actions, prepare, CityZone, Role, TicketState};
use jiesu_routing::DeadlineEngine;
use proptest::prelude::*;

fn unit(code: &str, kind: UnitKind, parent: Option<&str>) -> Unit {
    Unit {
        code: code.into(),
        name: code.into(),
        kind,
        parent: parent.map(str::to_string),
        population: None,
        zone: None,
        active: true,
    }
}

fn org() -> OrgTree {
    OrgTree::new(vec![
        unit("C", UnitKind::Centre, None),
        unit("D", UnitKind::District, Some("C")),
        unit("S1", UnitKind::StreetTown, Some("D")),
        unit("S2", UnitKind::StreetTown, Some("D")),
        unit("P", UnitKind::DistrictDepartment, Some("D")),
    ])
}

fn cat(code: &str, level: u8, parent: Option<&str>) -> Category {
    Category {
        code: code.into(),
        name: code.into(),
        level,
        parent: parent.map(str::to_string),
        domain: None,
        active: true,
    }
}

fn categories() -> CategoryTree {
    CategoryTree::new(vec![
        cat("01", 1, None),
        cat("0101", 2, Some("01")),
        cat("010101", 3, Some("0101")),
        cat("010102", 3, Some("0101")),
    ])
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 1, 0, 0).unwrap()
}

fn new_ticket(request_type: RequestType) -> TicketState {
    let intake = Intake {
        channel: Channel::Phone,
        request_type,
        category_code: "010101".into(),
        title: "夜间施工噪音".into(),
        text: "楼下工地夜里施工，噪音扰民。".into(),
        place: Place {
            district_code: "D".into(),
            street_code: "S1".into(),
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
    };
    let ev = Event {
        seq: 1,
        at: t0(),
        actor: Actor::system().to_ref(None),
        kind: jiesu_domain::command::create("2026030200000001".into(), intake.check().unwrap()),
    };
    TicketState::created(1, &ev).unwrap()
}

fn actors() -> Vec<Actor> {
    let a = |role: Role, unit: Option<&str>| Actor {
        user: format!("{role}-{unit:?}"),
        role,
        unit: unit.map(str::to_string),
    };
    vec![
        a(Role::Agent, None),
        a(Role::Dispatcher, None),
        a(Role::CallbackAgent, None),
        a(Role::Supervisor, None),
        a(Role::Admin, None),
        a(Role::UnitHandler, Some("S1")),
        a(Role::UnitHandler, Some("S2")),
        a(Role::UnitManager, Some("P")),
        a(Role::UnitManager, Some("D")),
    ]
}

const UNITS: [&str; 3] = ["S1", "S2", "P"];

fn s(x: &str) -> String {
    x.to_string()
}

/// Valid bodies of an action (well-formed, codes that exist, non-blank texts): the ones a form
/// could send.
fn bodies(action: Action) -> Vec<ActionRequest> {
    use ActionRequest as R;
    let units = || UNITS.iter().map(|u| Some(s(u))).chain([None]);
    let mut out = Vec::new();
    match action {
        Action::Answer => out.push(R::Answer(AnswerBody {
            answer: s("已答复"),
            article_id: None,
        })),
        Action::Special => out.push(R::Special(SpecialBody {
            handling: s("legal_route"),
            note: s("告知"),
        })),
        Action::Consult => out.push(R::Consult(ConsultBody {
            note: s("会商"),
            units: vec![s("P")],
        })),
        Action::Dispatch => {
            for lead in UNITS {
                out.push(R::Dispatch(DispatchBody {
                    assignments: vec![AssignBody {
                        unit_code: s(lead),
                        role: s("lead"),
                    }],
                    tier: None,
                    note: None,
                    rule: None,
                }));
                out.push(R::Dispatch(DispatchBody {
                    assignments: vec![AssignBody {
                        unit_code: s(lead),
                        role: s("assist"),
                    }],
                    tier: Some(s("24h")),
                    note: None,
                    rule: None,
                }));
            }
        }
        Action::Sign | Action::Resume | Action::Report => {
            for u in units() {
                let b = UnitBody { unit_code: u };
                out.push(match action {
                    Action::Sign => R::Sign(b),
                    Action::Resume => R::Resume(b),
                    _ => R::Report(b),
                });
            }
        }
        Action::Pause | Action::Note => {
            for u in units() {
                let b = NoteBody {
                    unit_code: u,
                    text: s("进展"),
                    public: false,
                };
                out.push(if action == Action::Pause {
                    R::Pause(b)
                } else {
                    R::Note(b)
                });
            }
        }
        Action::Respond => units().for_each(|u| {
            out.push(R::Respond(RespondBody {
                unit_code: u,
                note: None,
            }))
        }),
        Action::Whistle => units().for_each(|u| {
            for summoned in UNITS {
                out.push(R::Whistle(WhistleBody {
                    unit_code: u.clone(),
                    units: vec![s(summoned)],
                    reason: s("需协同"),
                    report_minutes: None,
                }))
            }
        }),
        Action::Return => units().for_each(|u| {
            out.push(R::Return(ReturnBody {
                unit_code: u,
                reason: s("other"),
                text: s("非本单位职责"),
            }))
        }),
        Action::ReviewReturn | Action::ReviewExtension => units().for_each(|u| {
            for approve in [true, false] {
                let b = ReviewBody {
                    unit_code: u.clone(),
                    approve,
                    note: None,
                };
                out.push(if action == Action::ReviewReturn {
                    R::ReviewReturn(b)
                } else {
                    R::ReviewExtension(b)
                });
            }
        }),
        Action::Extend => units().for_each(|u| {
            out.push(R::Extend(ExtendBody {
                unit_code: u,
                until: None,
                days: Some(3),
                reason: s("需要时间"),
            }))
        }),
        Action::Escalate => out.push(R::Escalate(EscalateBody {
            level: s("district"),
            to_unit: None,
            reason: s("难以解决"),
        })),
        Action::Transfer => {
            for to in ["110", "119", "120", "122"] {
                out.push(R::Transfer(TransferBody {
                    to: s(to),
                    reason: s("燃气泄漏"),
                }));
            }
        }
        Action::TransferReply => {
            for to in ["110", "119", "120", "122"] {
                for outcome in ["accepted", "declined", "handled"] {
                    out.push(R::TransferReply(TransferReplyBody {
                        to: s(to),
                        outcome: s(outcome),
                        text: s("已出警"),
                        reference: None,
                    }));
                }
            }
        }
        Action::Urge => units().for_each(|u| {
            out.push(R::Urge(UrgeBody {
                unit_code: u,
                note: s("请抓紧"),
            }))
        }),
        Action::Result => units().for_each(|u| {
            out.push(R::Result(ResultBody {
                unit_code: u,
                text: s("已办结"),
                evidence: vec![],
            }))
        }),
        Action::Callback => {
            out.push(R::Callback(CallbackBody {
                contacted: Some(true),
                resolution: Some(s("resolved")),
                satisfaction: Some(s("satisfied")),
                ..Default::default()
            }));
            out.push(R::Callback(CallbackBody {
                unreachable: true,
                ..Default::default()
            }));
        }
        Action::Reopen => out.push(R::Reopen(ReopenBody {
            reason: s("未解决"),
        })),
        Action::Merge => out.push(R::Merge(MergeBody { into: s("99") })),
        Action::Unmerge => out.push(R::Unmerge(CloseBody::default())),
        Action::Exempt => {
            for reason in [Some(s("unreasonable")), Some(s("emergency_transfer")), None] {
                out.push(R::Exempt(ExemptBody {
                    reason,
                    note: s("说明"),
                }));
            }
        }
        Action::Reclassify => {
            for code in ["010101", "010102"] {
                out.push(R::Reclassify(ReclassifyBody {
                    category_code: Some(s(code)),
                    request_type: None,
                    reason: s("分类有误"),
                }));
            }
        }
        Action::Close => out.push(R::Close(CloseBody::default())),
        Action::Archive => out.push(R::Archive),
        Action::AttachDuplicate | Action::Attach | Action::Remind | Action::ErasePersonalData => {}
    }
    out
}

struct World {
    org: OrgTree,
    categories: CategoryTree,
    deadlines: DeadlineEngine,
}

impl World {
    fn with<R>(&self, now: DateTime<Utc>, f: impl FnOnce(&Context) -> R) -> R {
        let none = |_: &Intake| None;
        f(&Context {
            org: &self.org,
            categories: &self.categories,
            now,
            deadlines: &self.deadlines,
            catalogue_tier: &none,
            merge_primary: Some((99, s("2026030200000099"))),
        })
    }

    /// Prepares, authorizes and decides; returns the new events when accepted.
    fn run(
        &self,
        req: ActionRequest,
        actor: &Actor,
        t: &TicketState,
        now: DateTime<Utc>,
    ) -> Option<TicketState> {
        self.with(now, |ctx| {
            let cmd = prepare(req, actor, t, ctx).ok()?;
            authorize(actor, &cmd, t, &self.org).ok()?;
            let mut next = t.clone();
            let acting = cmd.acting_unit().map(str::to_string);
            execute(&mut next, &cmd, &actor.to_ref(acting.as_deref()), now).ok()?;
            Some(next)
        })
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn listed_actions_are_accepted_and_unlisted_ones_refused(
        help in any::<bool>(),
        steps in proptest::collection::vec((0usize..9, 0usize..26, 0usize..64, 0i64..4000), 1..40),
    ) {
        let w = World { org: org(), categories: categories(), deadlines: DeadlineEngine::city_default(CityZone::default(), t0()) };
        let actors = actors();
        let mut t = new_ticket(if help { RequestType::Help } else { RequestType::Complaint });
        let mut now = t0();
        for (who, what, which, minutes) in steps {
            now += Duration::minutes(minutes);
            for actor in &actors {
                let listed = w.with(now, |ctx| allowed_actions(actor, &t, ctx));
                for a in Action::ALL {
                    let accepted = bodies(*a).into_iter().any(|b| w.run(b, actor, &t, now).is_some());
                    prop_assert_eq!(
                        listed.contains(a), accepted,
                        "{} for {:?} on a ticket that is {}", a, actor.role, t.status.as_str()
                    );
                }
            }
            // take one step: a random action and body by a random actor
            let action = Action::ALL[what];
            let bs = bodies(action);
            if let Some(next) = w.run(bs[which % bs.len()].clone(), &actors[who], &t, now) {
                t = next;
            }
        }
    }
}
