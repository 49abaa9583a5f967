//! Each backend against the storage contract: durability shape, idempotency, projections as folds.
//! SQLite by default; PostgreSQL when `JIESU_TEST_PG` names a server (`postgres://user@host:port`,
//! as `scripts/test.sh` sets it for the suite's PostgreSQL run): each test then gets a new database.

use chrono::{Duration, TimeZone, Utc};
use jiesu_domain::command::{execute, AssignmentRequest, Command};
use jiesu_domain::ticket::*;
use jiesu_domain::{ActorRef, CallbackOutcome, Role, TicketState};
use jiesu_store::{prelude::*, KeySource, NewTicket, StoreError, StoreOptions, TicketQuery};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A new database for one test: `name` in `dir` (SQLite), or a new PostgreSQL database.
fn db_in(dir: &tempfile::TempDir, name: &str) -> PathBuf {
    match std::env::var("JIESU_TEST_PG") {
        Ok(base) if !base.is_empty() => {
            let base = base.trim_end_matches('/');
            let db = format!(
                "c{}_{}",
                std::process::id(),
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_nanos()
                    % 1_000_000_000_000
            );
            postgres::Client::connect(&format!("{base}/postgres"), postgres::NoTls)
                .expect("connect to JIESU_TEST_PG")
                .batch_execute(&format!("CREATE DATABASE {db}"))
                .expect("create a test database");
            PathBuf::from(format!("{base}/{db}"))
        }
        _ => dir.path().join(name),
    }
}

/// Opens (again) the database at `db`, its key file in the test's directory.
fn open(dir: &tempfile::TempDir, db: &Path) -> Arc<dyn Store> {
    jiesu_store::open_store(
        db,
        StoreOptions {
            durable: true,
            keys: KeySource::File(dir.path().join("city.keys")),
        },
    )
    .unwrap()
}

/// A new database for one test, opened.
fn fresh(dir: &tempfile::TempDir) -> Arc<dyn Store> {
    let db = db_in(dir, "a.db");
    open(dir, &db)
}

/// Deadlines counted in wall time (the routing policy's calendar-time variant).
fn wall_deadlines(tier: DeadlineTier, at: chrono::DateTime<Utc>) -> jiesu_domain::Deadlines {
    jiesu_routing::DeadlinePolicy::calendar_time_default().deadlines(
        tier,
        "",
        "",
        at,
        &jiesu_routing::Calendar::china_2025_2026(),
        &[],
    )
}

fn actor() -> ActorRef {
    ActorRef {
        user: "agent1".into(),
        role: Role::Agent,
        unit: None,
    }
}

fn intake(phone: &str) -> Intake {
    Intake {
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
            phone: phone.into(),
        },
        enterprise: false,
        tier: None,
        praised_unit: None,
        risk: None,
    }
}

fn new(key: Option<&str>) -> NewTicket {
    NewTicket {
        intake: intake("13900001111").check().unwrap(),
        actor: actor(),
        now: Utc.with_ymd_and_hms(2026, 5, 1, 2, 0, 0).unwrap(),
        idempotency_key: key.map(|k| jiesu_store::IdempotencyKey {
            key: k.to_string(),
            request_hash: "same-request".into(),
        }),
        tracking_code: None,
    }
}

fn step(
    store: &dyn Store,
    id: i64,
    cmd: Command,
    at: chrono::DateTime<Utc>,
) -> Result<TicketState, StoreError> {
    store
        .update_ticket(
            id,
            Box::new(move |t: &mut TicketState| {
                Ok(execute(
                    t,
                    &cmd,
                    &ActorRef {
                        user: "sys".into(),
                        role: Role::System,
                        unit: None,
                    },
                    at,
                )?)
            }),
        )
        .map(|(s, _)| s)
}

#[test]
fn same_idempotency_key_returns_the_first_ticket() {
    let dir = tempfile::tempdir().unwrap();
    let store = fresh(&dir);
    let a = store.create_ticket(new(Some("k-1"))).unwrap();
    let b = store.create_ticket(new(Some("k-1"))).unwrap();
    let c = store.create_ticket(new(Some("k-2"))).unwrap();
    assert!(!a.replayed && b.replayed && !c.replayed);
    assert_eq!(a.state.id, b.state.id);
    assert_ne!(a.state.id, c.state.id);
    assert_eq!(
        store
            .list_tickets(&TicketQuery {
                page_size: 10,
                ..Default::default()
            })
            .unwrap()
            .total,
        2
    );
}

#[test]
fn the_ticket_list_filters_by_channel_and_request_type() {
    let dir = tempfile::tempdir().unwrap();
    let store = fresh(&dir);
    let mut ids = Vec::new();
    for (channel, kind) in [
        (Channel::Phone, RequestType::Complaint),
        (Channel::Web, RequestType::Complaint),
        (Channel::Web, RequestType::Suggestion),
    ] {
        let mut n = new(None);
        let mut i = intake("13900001111");
        i.channel = channel;
        i.request_type = kind;
        n.intake = i.check().unwrap();
        ids.push(store.create_ticket(n).unwrap().state.id);
    }
    let ids_of = |q: TicketQuery| -> Vec<i64> {
        let mut v: Vec<i64> = store
            .list_tickets(&TicketQuery { page_size: 10, ..q })
            .unwrap()
            .items
            .iter()
            .map(|t| t.id)
            .collect();
        v.sort();
        v
    };
    let web = ids_of(TicketQuery {
        channel: Some("web".into()),
        ..Default::default()
    });
    assert_eq!(web, vec![ids[1], ids[2]]);
    let complaints = ids_of(TicketQuery {
        request_type: Some("complaint".into()),
        ..Default::default()
    });
    assert_eq!(complaints, vec![ids[0], ids[1]]);
    let both = ids_of(TicketQuery {
        channel: Some("web".into()),
        request_type: Some("complaint".into()),
        ..Default::default()
    });
    assert_eq!(both, vec![ids[1]]);
    let none = ids_of(TicketQuery {
        channel: Some("weibo".into()),
        ..Default::default()
    });
    assert!(none.is_empty());
}

fn report_of(kind: &str, period: &str, day: u32) -> jiesu_store::NewReport {
    let d = chrono::NaiveDate::from_ymd_opt(2026, 11, day).unwrap();
    jiesu_store::NewReport {
        kind: kind.into(),
        period: period.into(),
        from: d,
        to: d.succ_opt().unwrap(),
        generated_at: Utc.with_ymd_and_hms(2026, 11, day, 16, 5, 0).unwrap(),
        title_zh: format!("日通报 {period}"),
        title_en: format!("Daily bulletin {period}"),
        body: "{}".into(),
    }
}

#[test]
fn report_subscriptions_start_after_the_newest_report_keep_their_cursor_and_are_per_user() {
    let dir = tempfile::tempdir().unwrap();
    let store = fresh(&dir);
    let now = Utc.with_ymd_and_hms(2026, 11, 10, 2, 0, 0).unwrap();
    let first = store
        .save_report(report_of("daily", "2026-11-05", 5))
        .unwrap();
    let subs = store
        .set_report_subscriptions(
            "lead1",
            &[
                ("daily".into(), Some("http://127.0.0.1:9/hook".into())),
                ("monthly".into(), None),
            ],
            now,
        )
        .unwrap();
    assert_eq!(
        subs.iter().map(|s| s.kind.as_str()).collect::<Vec<_>>(),
        ["daily", "monthly"]
    );
    assert!(
        subs.iter().all(|s| s.cursor == first && s.since == now),
        "a new subscription starts at the newest report: {subs:?}"
    );
    assert!(store.report_subscriptions("other").unwrap().is_empty());
    // only subscriptions with a webhook are delivered to
    let hooks = store.webhook_report_subscriptions().unwrap();
    assert_eq!(hooks.len(), 1);
    assert_eq!(hooks[0].user, "lead1");
    assert_eq!(hooks[0].kind, "daily");
    // the cursor moves forward only
    let second = store
        .save_report(report_of("daily", "2026-11-06", 6))
        .unwrap();
    store
        .advance_report_subscription("lead1", "daily", second)
        .unwrap();
    store
        .advance_report_subscription("lead1", "daily", first)
        .unwrap();
    assert_eq!(
        store.webhook_report_subscriptions().unwrap()[0].cursor,
        second
    );
    // saving again keeps a kept kind's cursor (and takes its new webhook), drops the rest
    let later = now + Duration::days(1);
    let subs = store
        .set_report_subscriptions(
            "lead1",
            &[
                ("daily".into(), None),
                ("weekly".into(), Some("http://127.0.0.1:9/w".into())),
            ],
            later,
        )
        .unwrap();
    assert_eq!(subs.len(), 2, "{subs:?}");
    assert_eq!(subs[0].kind, "daily");
    assert_eq!(subs[0].cursor, second);
    assert_eq!(subs[0].webhook_url, None);
    assert_eq!(subs[0].since, now);
    assert_eq!(subs[1].kind, "weekly");
    assert_eq!(subs[1].cursor, second);
    assert_eq!(store.report_subscriptions("lead1").unwrap(), subs);
    assert!(store
        .set_report_subscriptions("lead1", &[], later)
        .unwrap()
        .is_empty());
    assert!(store.webhook_report_subscriptions().unwrap().is_empty());
}

#[test]
fn the_report_inbox_holds_subscribed_kinds_since_subscribing_with_read_state_per_user() {
    let dir = tempfile::tempdir().unwrap();
    let store = fresh(&dir);
    let day = |d: u32| Utc.with_ymd_and_hms(2026, 11, d, 16, 5, 0).unwrap();
    // generated before anyone subscribed: in no inbox
    let before = store
        .save_report(report_of("daily", "2026-11-04", 4))
        .unwrap();
    let sub_at = day(4) + Duration::hours(1);
    store
        .set_report_subscriptions("lead1", &[("daily".into(), None)], sub_at)
        .unwrap();
    store
        .set_report_subscriptions("lead2", &[("daily".into(), None)], sub_at)
        .unwrap();
    store
        .set_report_subscriptions("weekly_only", &[("weekly".into(), None)], sub_at)
        .unwrap();
    let d5 = store
        .save_report(report_of("daily", "2026-11-05", 5))
        .unwrap();
    let d6 = store
        .save_report(report_of("daily", "2026-11-06", 6))
        .unwrap();
    let inbox = store.report_inbox("lead1", 0, 10).unwrap();
    assert_eq!(
        inbox.items.iter().map(|i| i.report.id).collect::<Vec<_>>(),
        [d6, d5],
        "newest first, nothing from before subscribing (report {before})"
    );
    assert!(inbox.items.iter().all(|i| i.unread && i.read_at.is_none()));
    assert_eq!((inbox.total, inbox.unread), (2, 2));
    assert_eq!(store.report_inbox_unread("lead1").unwrap(), 2);
    // another kind's subscriber and a non-subscriber see none of them
    assert_eq!(store.report_inbox("weekly_only", 0, 10).unwrap().total, 0);
    assert_eq!(store.report_inbox("nobody", 0, 10).unwrap().total, 0);
    assert_eq!(store.report_inbox_unread("nobody").unwrap(), 0);
    // reading one is this user's alone
    let read_at = day(7);
    assert!(store.mark_report_read("lead1", d5, read_at).unwrap());
    assert!(!store.mark_report_read("lead1", 99_999, read_at).unwrap());
    let inbox = store.report_inbox("lead1", 0, 10).unwrap();
    assert_eq!(inbox.unread, 1);
    assert_eq!(inbox.items[1].read_at, Some(read_at));
    assert!(!inbox.items[1].unread && inbox.items[0].unread);
    assert_eq!(store.report_inbox_unread("lead2").unwrap(), 2);
    // paging keeps the totals of the whole inbox
    let page = store.report_inbox("lead1", 1, 1).unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].report.id, d5);
    assert_eq!((page.total, page.unread), (2, 1));
    // a report generated again after it was read is unread again (same id)
    let mut again = report_of("daily", "2026-11-05", 5);
    again.generated_at = day(8);
    assert_eq!(store.save_report(again).unwrap(), d5);
    assert_eq!(store.report_inbox_unread("lead1").unwrap(), 2);
    // mark all read: counts those that were unread; lead2 is untouched
    assert_eq!(store.mark_report_inbox_read("lead1", day(9)).unwrap(), 2);
    assert_eq!(store.report_inbox_unread("lead1").unwrap(), 0);
    assert_eq!(store.mark_report_inbox_read("lead1", day(9)).unwrap(), 0);
    assert_eq!(store.report_inbox("lead1", 0, 10).unwrap().total, 2);
    assert_eq!(store.report_inbox_unread("lead2").unwrap(), 2);
    // unsubscribing empties the inbox
    store
        .set_report_subscriptions("lead2", &[], day(9))
        .unwrap();
    assert_eq!(store.report_inbox("lead2", 0, 10).unwrap().total, 0);
}

#[test]
fn an_idempotency_key_reused_for_another_request_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = fresh(&dir);
    store.create_ticket(new(Some("k-1"))).unwrap();
    let mut other = new(Some("k-1"));
    other.idempotency_key.as_mut().unwrap().request_hash = "another-request".into();
    match store.create_ticket(other) {
        Err(StoreError::Invalid { field, .. }) => assert_eq!(field, "Idempotency-Key"),
        r => panic!("expected a refusal naming the key, got {r:?}"),
    }
}

#[test]
fn a_refused_command_writes_nothing_and_later_ones_still_work() {
    let dir = tempfile::tempdir().unwrap();
    let store = fresh(&dir);
    let t = store.create_ticket(new(None)).unwrap().state;
    let at = t.created_at + Duration::minutes(1);
    let err = step(
        &*store,
        t.id,
        Command::Sign {
            unit: "110108010".into(),
        },
        at,
    )
    .unwrap_err();
    assert!(matches!(err, StoreError::Domain(_)));
    let (_, ev) = store.load_ticket(t.id).unwrap().unwrap();
    assert_eq!(ev.len(), 1);
    let d = wall_deadlines(DeadlineTier::D7, at);
    let st = step(
        &*store,
        t.id,
        Command::Dispatch {
            assignments: vec![AssignmentRequest {
                unit: "110108010".into(),
                role: AssignmentRole::Lead,
                tier: DeadlineTier::D7,
                deadlines: d,
            }],
            note: None,
            rule: None,
        },
        at,
    )
    .unwrap();
    assert_eq!(st.version, 2);
}

#[test]
fn every_event_kind_round_trips_through_storage_and_projections_are_folds() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_in(&dir, "a.db");
    let store = open(&dir, &path);
    let t = store.create_ticket(new(None)).unwrap().state;
    let mut at = t.created_at;
    let d = |at| wall_deadlines(DeadlineTier::D7, at);
    let u = "110108010".to_string();
    let cmds: Vec<Box<dyn Fn(chrono::DateTime<Utc>) -> Command>> = vec![
        Box::new(|at| Command::Dispatch {
            assignments: vec![AssignmentRequest {
                unit: "X".into(),
                role: AssignmentRole::Lead,
                tier: DeadlineTier::D7,
                deadlines: d(at),
            }],
            note: Some("派".into()),
            rule: Some("r1".into()),
        }),
        Box::new(|_| Command::RequestReturn {
            unit: "X".into(),
            reason: ReturnReason::OutsideArea,
            text: "不在辖区".into(),
        }),
        Box::new(|_| Command::ReviewReturn {
            unit: "X".into(),
            approve: true,
            note: None,
        }),
        Box::new(move |at| Command::Dispatch {
            assignments: vec![
                AssignmentRequest {
                    unit: "110108010".into(),
                    role: AssignmentRole::Lead,
                    tier: DeadlineTier::D7,
                    deadlines: d(at),
                },
                AssignmentRequest {
                    unit: "Y".into(),
                    role: AssignmentRole::Assist,
                    tier: DeadlineTier::D7,
                    deadlines: d(at),
                },
            ],
            note: None,
            rule: None,
        }),
        Box::new({
            let u = u.clone();
            move |_| Command::Remind {
                unit: u.clone(),
                clock: "finish".into(),
                epoch: 0,
                index: 0,
                permille: 500,
                overdue: false,
            }
        }),
        Box::new({
            let u = u.clone();
            move |_| Command::Urge {
                unit: u.clone(),
                note: "请加快办理".into(),
            }
        }),
        Box::new(|_| Command::Exempt {
            reason: Some(ExemptReason::UnmanagedEstate),
            note: "失管小区".into(),
        }),
        Box::new({
            let u = u.clone();
            move |_| Command::Pause {
                unit: u.clone(),
                reason: "约定上门".into(),
            }
        }),
        Box::new({
            let u = u.clone();
            move |_| Command::Resume { unit: u.clone() }
        }),
        Box::new({
            let u = u.clone();
            move |_| Command::Sign { unit: u.clone() }
        }),
        Box::new({
            let u = u.clone();
            move |_| Command::Respond {
                unit: u.clone(),
                note: Some("已电话联系".into()),
            }
        }),
        Box::new({
            let u = u.clone();
            move |_| Command::Note {
                unit: Some(u.clone()),
                text: "正在维修".into(),
                public: true,
            }
        }),
        Box::new({
            let u = u.clone();
            move |at| Command::Whistle {
                unit: u.clone(),
                summoned: vec!["Z".into()],
                reason: "需要供电公司".into(),
                report_deadline: at + Duration::minutes(30),
            }
        }),
        Box::new(|_| Command::Report { unit: "Z".into() }),
        Box::new({
            let u = u.clone();
            move |at| Command::RequestExtension {
                unit: u.clone(),
                until: at + Duration::days(20),
                reason: "等待配件".into(),
            }
        }),
        Box::new({
            let u = u.clone();
            move |_| Command::ReviewExtension {
                unit: u.clone(),
                approve: true,
                note: None,
            }
        }),
        Box::new(|_| Command::Escalate {
            level: EscalationLevel::District,
            to_unit: None,
            reason: "跨部门".into(),
        }),
        Box::new(|_| Command::Attach {
            id: "f1".into(),
            file_name: "照片.jpg".into(),
            content_type: "image/jpeg".into(),
            size: 1024,
        }),
        Box::new({
            let u = u.clone();
            move |_| Command::SubmitResult {
                unit: u.clone(),
                text: "已修复".into(),
                evidence: vec!["f1".into()],
            }
        }),
        Box::new(|_| Command::Callback {
            outcome: CallbackOutcome::Unreachable { note: None },
        }),
        Box::new(|_| Command::Callback {
            outcome: CallbackOutcome::Reached {
                contacted: true,
                resolution: Resolution::Partly,
                satisfaction: Satisfaction::Basic,
                attitude: Some(Attitude::Good),
                comment: Some("还行".into()),
            },
        }),
        Box::new({
            let u = u.clone();
            move |at| Command::Reopen {
                reason: "未彻底解决".into(),
                deadlines: vec![(u.clone(), d(at))],
            }
        }),
        Box::new({
            let u = u.clone();
            move |_| Command::Sign { unit: u.clone() }
        }),
        Box::new({
            let u = u.clone();
            move |_| Command::Respond {
                unit: u.clone(),
                note: None,
            }
        }),
        Box::new({
            let u = u.clone();
            move |_| Command::SubmitResult {
                unit: u.clone(),
                text: "彻底修复".into(),
                evidence: vec![],
            }
        }),
        Box::new(|_| Command::Callback {
            outcome: CallbackOutcome::Reached {
                contacted: true,
                resolution: Resolution::Resolved,
                satisfaction: Satisfaction::Satisfied,
                attitude: None,
                comment: None,
            },
        }),
        Box::new(|_| Command::Close {
            note: Some("结案".into()),
        }),
        Box::new(|_| Command::Archive),
    ];
    let mut last = t.clone();
    for c in cmds {
        at += Duration::minutes(7);
        last = step(&*store, t.id, c(at), at).unwrap();
    }
    let (folded, events) = store.load_ticket(t.id).unwrap().unwrap();
    assert_eq!(folded, last, "the stored log folds to the state we built");
    assert_eq!(events.len() as u32, last.version);
    let kinds: std::collections::BTreeSet<&str> = events.iter().map(|e| e.kind.name()).collect();
    for k in [
        "created",
        "dispatched",
        "return_requested",
        "return_reviewed",
        "signed",
        "responded",
        "note_added",
        "whistled",
        "reported_in",
        "extension_requested",
        "extension_reviewed",
        "escalated",
        "attachment_added",
        "result_submitted",
        "callback_recorded",
        "reopened",
        "closed",
        "archived",
        "reminded",
        "exempted",
        "clock_paused",
        "clock_resumed",
    ] {
        assert!(kinds.contains(k), "missing {k}");
    }
    // merge / duplicate / unmerge / answer / special on other tickets
    let a = store.create_ticket(new(None)).unwrap().state;
    let b = store.create_ticket(new(None)).unwrap().state;
    let (bn, aid, bid) = (b.number.clone(), a.id, b.id);
    let an = a.number.clone();
    store
        .update_two(
            (
                aid,
                Box::new(move |t: &mut TicketState| {
                    Ok(execute(
                        t,
                        &Command::Merge {
                            primary: bid,
                            primary_number: bn,
                        },
                        &actor(),
                        at,
                    )?)
                }),
            ),
            (
                bid,
                Box::new(move |t: &mut TicketState| {
                    Ok(execute(
                        t,
                        &Command::AttachDuplicate {
                            duplicate: aid,
                            duplicate_number: an,
                        },
                        &actor(),
                        at,
                    )?)
                }),
            ),
        )
        .unwrap();
    step(
        &*store,
        aid,
        Command::Unmerge {
            note: "误合并".into(),
        },
        at,
    )
    .unwrap();
    step(
        &*store,
        aid,
        Command::Answer {
            answer: "政策如下".into(),
            article_id: Some("kb-1".into()),
        },
        at,
    )
    .unwrap();
    step(
        &*store,
        bid,
        Command::SpecialHandle {
            handling: SpecialHandling::LegalRoute,
            note: "告知诉讼途径".into(),
        },
        at,
    )
    .unwrap();
    // projections are a fold of events: rebuild and compare
    let before = store
        .list_tickets(&TicketQuery {
            page_size: 100,
            ..Default::default()
        })
        .unwrap();
    drop(store);
    let store = open(&dir, &path);
    assert_eq!(store.rebuild_projections().unwrap(), 3);
    let after = store
        .list_tickets(&TicketQuery {
            page_size: 100,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(
        serde_json::to_string(&before.items).unwrap(),
        serde_json::to_string(&after.items).unwrap()
    );
}

#[test]
fn concurrent_creates_are_all_durable_with_distinct_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_in(&dir, "a.db");
    let store = open(&dir, &path);
    let hs: Vec<_> = (0..16)
        .map(|_| {
            let s = store.clone();
            std::thread::spawn(move || {
                (0..25)
                    .map(|_| s.create_ticket(new(None)).unwrap().state.number)
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut numbers: Vec<String> = hs.into_iter().flat_map(|h| h.join().unwrap()).collect();
    numbers.sort();
    numbers.dedup();
    assert_eq!(numbers.len(), 400);
    drop(store);
    // reopened from disk: everything acknowledged is there
    let store = open(&dir, &path);
    assert_eq!(
        store
            .list_tickets(&TicketQuery {
                page_size: 1,
                ..Default::default()
            })
            .unwrap()
            .total,
        400
    );
}

#[test]
fn unit_queue_lists_active_assignments_sorted_by_deadline() {
    let dir = tempfile::tempdir().unwrap();
    let store = fresh(&dir);
    let mut ids = vec![];
    for (i, tier) in [DeadlineTier::D15, DeadlineTier::H24, DeadlineTier::D7]
        .iter()
        .enumerate()
    {
        let t = store.create_ticket(new(None)).unwrap().state;
        let at = t.created_at + Duration::minutes(i as i64);
        let d = wall_deadlines(*tier, at);
        step(
            &*store,
            t.id,
            Command::Dispatch {
                assignments: vec![AssignmentRequest {
                    unit: "S1".into(),
                    role: AssignmentRole::Lead,
                    tier: *tier,
                    deadlines: d,
                }],
                note: None,
                rule: None,
            },
            at,
        )
        .unwrap();
        // signed and responded: only the finish clock runs
        handle(&*store, t.id, "S1", at + Duration::minutes(5), true);
        ids.push(t.id);
    }
    let q = TicketQuery {
        units: Some(vec!["S1".into()]),
        active_only: true,
        by_deadline: true,
        page_size: 10,
        ..Default::default()
    };
    let page = store.list_tickets(&q).unwrap();
    let got: Vec<i64> = page.items.iter().map(|t| t.id).collect();
    assert_eq!(got, vec![ids[1], ids[2], ids[0]]);
    let other = TicketQuery {
        units: Some(vec!["S2".into()]),
        ..q
    };
    assert_eq!(store.list_tickets(&other).unwrap().total, 0);
}

/// Signs (签收) the unit's assignment and, if `respond`, responds (响应) right after.
fn handle(store: &dyn Store, id: i64, unit: &str, at: chrono::DateTime<Utc>, respond: bool) {
    step(store, id, Command::Sign { unit: unit.into() }, at).unwrap();
    if respond {
        step(
            store,
            id,
            Command::Respond {
                unit: unit.into(),
                note: None,
            },
            at + Duration::minutes(1),
        )
        .unwrap();
    }
}

/// Takes a ticket in and dispatches it to `unit` as lead at `at`.
fn dispatched(store: &dyn Store, unit: &str, tier: DeadlineTier, at: chrono::DateTime<Utc>) -> i64 {
    let t = store.create_ticket(new(None)).unwrap().state;
    step(
        store,
        t.id,
        Command::Dispatch {
            assignments: vec![AssignmentRequest {
                unit: unit.into(),
                role: AssignmentRole::Lead,
                tier,
                deadlines: wall_deadlines(tier, at),
            }],
            note: None,
            rule: None,
        },
        at,
    )
    .unwrap();
    t.id
}

#[test]
fn unsigned_assignment_lists_its_sign_clock_first() {
    let dir = tempfile::tempdir().unwrap();
    let store = fresh(&dir);
    let t0 = Utc.with_ymd_and_hms(2026, 5, 1, 2, 0, 0).unwrap();
    let rfc = |t: chrono::DateTime<Utc>| jiesu_store::time::fmt(t);
    // handled 24-hour ticket: finish due t0 + 24 h (the nearest finish deadline of the three)
    let handled = dispatched(&*store, "S1", DeadlineTier::H24, t0);
    handle(&*store, handled, "S1", t0 + Duration::minutes(10), true);
    // signed 7-day ticket, not responded: respond due t0 + 2 h + 24 h
    let signed = dispatched(&*store, "S1", DeadlineTier::D7, t0 + Duration::hours(2));
    handle(
        &*store,
        signed,
        "S1",
        t0 + Duration::hours(2) + Duration::minutes(5),
        false,
    );
    // unsigned 15-day ticket: sign due t0 + 1 h + 2 h, nearer than any finish
    let unsigned = dispatched(&*store, "S1", DeadlineTier::D15, t0 + Duration::hours(1));
    let q = TicketQuery {
        units: Some(vec!["S1".into()]),
        active_only: true,
        by_deadline: true,
        page_size: 10,
        ..Default::default()
    };
    let page = store.list_tickets(&q).unwrap();
    let got: Vec<(i64, String, String, String)> = page
        .items
        .iter()
        .map(|t| {
            let n = t
                .next_clock
                .clone()
                .expect("a queue item has its next clock");
            assert_eq!(n.unit_code, "S1");
            (t.id, n.clock, n.due, n.start)
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (
                unsigned,
                "sign".to_string(),
                rfc(t0 + Duration::hours(3)),
                rfc(t0 + Duration::hours(1))
            ),
            (
                handled,
                "finish".to_string(),
                rfc(t0 + Duration::hours(24)),
                rfc(t0)
            ),
            (
                signed,
                "respond".to_string(),
                rfc(t0 + Duration::hours(26)),
                rfc(t0 + Duration::hours(2))
            ),
        ]
    );
    // the finish deadline stays what it was (the 15-day ticket's is the furthest)
    assert_eq!(
        page.items[0].finish_deadline.as_deref(),
        Some(rfc(t0 + Duration::hours(1) + Duration::days(15)).as_str())
    );
    // without units (the centre's list) there is no unit clock and the sort is by finish
    let all = store
        .list_tickets(&TicketQuery {
            by_deadline: true,
            page_size: 10,
            ..Default::default()
        })
        .unwrap();
    assert!(all.items.iter().all(|t| t.next_clock.is_none()));
    let order: Vec<i64> = all.items.iter().map(|t| t.id).collect();
    assert_eq!(order, vec![handled, signed, unsigned]);
}

/// A history built as an import builds it (created, then dispatched), for `ImportStore`.
fn imported(id: i64, at: chrono::DateTime<Utc>) -> (TicketState, Vec<jiesu_domain::Event>) {
    let first = jiesu_domain::Event {
        seq: 1,
        at,
        actor: actor(),
        kind: jiesu_domain::command::create(
            format!("IMP{id}"),
            intake("13900002222").check().unwrap(),
        ),
    };
    let mut st = TicketState::created(id, &first).unwrap();
    let mut events = vec![first];
    let cmd = Command::Dispatch {
        assignments: vec![AssignmentRequest {
            unit: "110108010".into(),
            role: AssignmentRole::Lead,
            tier: DeadlineTier::D7,
            deadlines: wall_deadlines(DeadlineTier::D7, at),
        }],
        note: None,
        rule: None,
    };
    let d = ActorRef {
        user: "import:test".into(),
        role: Role::Dispatcher,
        unit: None,
    };
    events.extend(execute(&mut st, &cmd, &d, at + Duration::seconds(1)).unwrap());
    (st, events)
}

#[test]
fn imported_rows_are_recorded_with_their_tickets_and_never_twice() {
    let dir = tempfile::tempdir().unwrap();
    let store = fresh(&dir);
    let at = Utc.with_ymd_and_hms(2018, 10, 21, 4, 59, 0).unwrap();
    assert!(store.imported_keys("src").unwrap().is_empty());
    let first = store.next_ticket_id().unwrap();
    let batch = |keys: &[(&str, i64)]| {
        keys.iter()
            .map(|(k, id)| {
                let (state, events) = imported(*id, at);
                jiesu_store::SourcedTicket {
                    key: k.to_string(),
                    state,
                    events,
                }
            })
            .collect::<Vec<_>>()
    };
    store
        .import_sourced("src", batch(&[("a", first), ("b", first + 1)]))
        .unwrap();
    assert_eq!(store.ticket_count().unwrap(), 2);
    let keys = store.imported_keys("src").unwrap();
    assert!(keys.contains("a") && keys.contains("b") && keys.len() == 2);
    assert!(store.imported_keys("other").unwrap().is_empty());
    assert_eq!(store.next_ticket_id().unwrap(), first + 2);
    let (st, events) = store.load_ticket(first + 1).unwrap().unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(st.assignments[0].unit, "110108010");
    // a batch holding a key already imported writes nothing, not even its new rows
    let e = store
        .import_sourced("src", batch(&[("c", first + 2), ("a", first + 3)]))
        .unwrap_err();
    assert!(matches!(e, StoreError::Conflict(_)), "{e}");
    assert_eq!(store.ticket_count().unwrap(), 2);
    assert!(!store.imported_keys("src").unwrap().contains("c"));
    // the same key from another source is another row
    store
        .import_sourced("other", batch(&[("a", first + 2)]))
        .unwrap();
    assert_eq!(store.ticket_count().unwrap(), 3);
}

#[test]
fn partner_keys_tokens_status_lists_and_events_by_time() {
    let dir = tempfile::tempdir().unwrap();
    let store = fresh(&dir);
    let now = Utc.with_ymd_and_hms(2026, 5, 1, 2, 0, 0).unwrap();
    // partners: stored by key hash, names unique
    let p = store
        .add_partner("朝阳微信", "wechat", "hash-1", now)
        .unwrap();
    assert_eq!(
        (p.name.as_str(), p.channel.as_str()),
        ("朝阳微信", "wechat")
    );
    assert!(matches!(
        store.add_partner("朝阳微信", "app", "hash-2", now),
        Err(StoreError::Conflict(_))
    ));
    let q = store.add_partner("网格", "grid", "hash-3", now).unwrap();
    assert_ne!(p.id, q.id);
    assert_eq!(store.partner_by_key("hash-1").unwrap(), Some(p.clone()));
    assert_eq!(store.partner_by_key("hash-2").unwrap(), None);
    let names: Vec<String> = store
        .partners()
        .unwrap()
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert_eq!(names.len(), 2);
    // tokens: one per partner and ticket
    let a = store.create_ticket(new(None)).unwrap().state;
    let b = store.create_ticket(new(None)).unwrap().state;
    assert_eq!(
        store.save_request_token("t-a", p.id, a.id, now).unwrap(),
        "t-a"
    );
    assert_eq!(
        store
            .save_request_token("t-other", p.id, a.id, now)
            .unwrap(),
        "t-a"
    );
    assert_eq!(store.ticket_of_token("t-a").unwrap(), Some(a.id));
    assert_eq!(store.ticket_of_token("t-other").unwrap(), None);
    // a status list
    step(
        &*store,
        b.id,
        Command::Close {
            note: Some("已处理".into()),
        },
        now + Duration::hours(1),
    )
    .unwrap_or_else(|_| b.clone());
    let count = |status: &str| {
        store
            .list_tickets(&TicketQuery {
                status: Some(status.into()),
                page_size: 10,
                ..Default::default()
            })
            .unwrap()
            .total
    };
    assert_eq!(count("new,closed"), 2);
    assert_eq!(count("new") + count("closed"), 2);
    assert_eq!(count("merged,archived"), 0);
    let of_categories = |c: &str| {
        store
            .list_tickets(&TicketQuery {
                category_prefix: Some(c.into()),
                page_size: 10,
                ..Default::default()
            })
            .unwrap()
            .total
    };
    assert_eq!(of_categories("010101"), 2);
    assert_eq!(of_categories("0101"), 2);
    assert_eq!(of_categories("020101,010101"), 2);
    assert_eq!(of_categories("020101,030101"), 0);
    // events by time and kind
    let created = store
        .events_between(now, now + Duration::days(1), &["created"], 0, 10)
        .unwrap();
    assert_eq!(created.len(), 2);
    assert!(created
        .iter()
        .all(|(_, _, _, e)| e.kind.name() == "created"));
    assert_eq!(
        store
            .events_between(now, now + Duration::days(1), &["created"], 1, 10)
            .unwrap()
            .len(),
        1
    );
    assert!(store
        .events_between(
            now + Duration::seconds(1),
            now + Duration::days(1),
            &["created"],
            0,
            10
        )
        .unwrap()
        .is_empty());
}

#[test]
fn partner_signing_secrets_derive_from_the_key_file_and_nonces_are_spent_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_in(&dir, "a.db");
    let store = open(&dir, &db);
    let now = Utc.with_ymd_and_hms(2026, 5, 1, 2, 0, 0).unwrap();
    let p = store
        .add_partner("110联动", "partner_hotline", "hash-110", now)
        .unwrap();
    // no secret yet: the key alone does not sign
    assert_eq!(store.partner_signing("hash-110").unwrap(), None);
    let secret = store.new_partner_secret(p.id, Some("110"), now).unwrap();
    assert!(secret.starts_with("ps_") && secret.len() == 67, "{secret}");
    let (q, signing) = store.partner_signing("hash-110").unwrap().unwrap();
    assert_eq!(q, p);
    assert_eq!(signing.secret, secret);
    assert_eq!(signing.serves.as_deref(), Some("110"));
    assert_eq!(store.partner_signing("hash-other").unwrap(), None);
    // the database holds a salt, never the secret
    if let Some(path) = db.to_str().filter(|d| !d.starts_with("postgres")) {
        let bytes = std::fs::read(path).unwrap();
        let hex = &secret[3..];
        assert!(!bytes.windows(hex.len()).any(|w| w == hex.as_bytes()));
    }
    // a new secret replaces the old one (and the service it serves)
    let again = store.new_partner_secret(p.id, None, now).unwrap();
    assert_ne!(again, secret);
    let (_, signing) = store.partner_signing("hash-110").unwrap().unwrap();
    assert_eq!(
        (signing.secret.as_str(), signing.serves),
        (again.as_str(), None)
    );
    assert!(matches!(
        store.new_partner_secret(p.id + 1000, None, now),
        Err(StoreError::NotFound)
    ));
    // the same key file derives the same secret after a reopen
    drop(store);
    let store = open(&dir, &db);
    assert_eq!(
        store.partner_signing("hash-110").unwrap().unwrap().1.secret,
        again
    );
    // nonces: once per partner; forgotten after `forget_before`
    let later = now + Duration::minutes(3);
    assert!(store
        .use_partner_nonce(p.id, "n-1", now, now - Duration::minutes(10))
        .unwrap());
    assert!(!store
        .use_partner_nonce(p.id, "n-1", later, now - Duration::minutes(10))
        .unwrap());
    let q2 = store
        .add_partner("网格系统", "grid", "hash-grid", now)
        .unwrap();
    assert!(store
        .use_partner_nonce(q2.id, "n-1", later, now - Duration::minutes(10))
        .unwrap());
    assert!(store
        .use_partner_nonce(
            p.id,
            "n-1",
            now + Duration::minutes(20),
            now + Duration::minutes(10)
        )
        .unwrap());
}

#[test]
fn department_keys_count_their_reads_webhooks_keep_cursors_and_export_files_replace_by_period() {
    let dir = tempfile::tempdir().unwrap();
    let store = fresh(&dir);
    let now = Utc.with_ymd_and_hms(2026, 5, 1, 2, 0, 0).unwrap();
    // keys: found by hash, revoked once, their reads counted and audited
    let k = store
        .add_dept_key("朝阳区接口", "110105", "unit_manager", "kh-1", "admin", now)
        .unwrap();
    assert_eq!((k.uses, k.last_used_at, k.revoked_at), (0, None, None));
    assert_eq!(k.user_name(), format!("key:{}", k.id));
    let other = store
        .add_dept_key("水务", "110000w", "unit_handler", "kh-2", "admin", now)
        .unwrap();
    assert_eq!(store.dept_key_by_hash("kh-1").unwrap(), Some(k.clone()));
    assert_eq!(store.dept_key_by_hash("nope").unwrap(), None);
    let later = now + Duration::minutes(5);
    store
        .record_key_read(k.id, "GET /api/v1/tickets", later)
        .unwrap();
    store
        .record_key_read(k.id, "GET /api/v1/tickets/7", later)
        .unwrap();
    let k2 = store.dept_key_by_hash("kh-1").unwrap().unwrap();
    assert_eq!((k2.uses, k2.last_used_at), (2, Some(later)));
    let reads = store.key_reads(k.id, 10).unwrap();
    assert_eq!(
        reads.iter().map(|r| r.detail.as_str()).collect::<Vec<_>>(),
        ["GET /api/v1/tickets/7", "GET /api/v1/tickets"]
    );
    assert!(reads.iter().all(|r| r.action == "api_read"));
    assert!(store.key_reads(other.id, 10).unwrap().is_empty());
    assert!(store.revoke_dept_key(k.id, later).unwrap());
    assert!(!store.revoke_dept_key(k.id, later).unwrap());
    assert_eq!(
        store.dept_key_by_hash("kh-1").unwrap().unwrap().revoked_at,
        Some(later)
    );
    assert_eq!(
        store
            .dept_keys()
            .unwrap()
            .iter()
            .map(|k| k.id)
            .collect::<Vec<_>>(),
        [other.id, k.id]
    );
    // partners: a revoked key no longer finds its partner
    let p = store.add_partner("网格", "grid", "ph-1", now).unwrap();
    assert!(!store.partner_revoked(p.id).unwrap());
    assert!(store.revoke_partner(p.id).unwrap());
    assert!(!store.revoke_partner(p.id).unwrap());
    assert!(store.partner_revoked(p.id).unwrap());
    assert_eq!(store.partner_by_key("ph-1").unwrap(), None);
    // webhooks
    let h = store
        .add_dept_webhook("110105", "http://127.0.0.1:9/h", "s3cret", 42, now)
        .unwrap();
    assert_eq!((h.cursor, h.revoked_at.is_none()), (42, true));
    store.set_dept_webhook_cursor(h.id, 50).unwrap();
    assert_eq!(store.dept_webhooks().unwrap()[0].cursor, 50);
    assert!(store.revoke_dept_webhook(h.id, later).unwrap());
    assert!(store.dept_webhooks().unwrap()[0].revoked_at.is_some());
    // saved exports and their files
    let e = store
        .add_saved_export(
            jiesu_store::NewSavedExport {
                unit_code: "110105".into(),
                name: "月度明细".into(),
                columns: vec!["ticket_id".into(), "category".into()],
                filters: r#"{"channel":"phone"}"#.into(),
                format: "csv".into(),
                schedule: "monthly".into(),
                created_by: "admin".into(),
            },
            now,
        )
        .unwrap();
    assert_eq!(e.columns, ["ticket_id", "category"]);
    assert_eq!(store.saved_export(e.id).unwrap(), Some(e.clone()));
    let d = |s: &str| s.parse::<chrono::NaiveDate>().unwrap();
    let r1 = store
        .save_export_run(
            e.id,
            "2026-04",
            d("2026-04-01"),
            d("2026-05-01"),
            "csv",
            3,
            b"a,b\n",
            now,
        )
        .unwrap();
    assert!(store.has_export_run(e.id, "2026-04").unwrap());
    assert!(!store.has_export_run(e.id, "2026-03").unwrap());
    let again = store
        .save_export_run(
            e.id,
            "2026-04",
            d("2026-04-01"),
            d("2026-05-01"),
            "csv",
            4,
            b"x\n",
            later,
        )
        .unwrap();
    assert_eq!(again, r1);
    let (run, bytes) = store.export_run(r1).unwrap().unwrap();
    assert_eq!(
        (run.rows, bytes.as_slice(), run.generated_at),
        (4, &b"x\n"[..], later)
    );
    let r2 = store
        .save_export_run(
            e.id,
            "2026-05",
            d("2026-05-01"),
            d("2026-06-01"),
            "csv",
            0,
            &[0u8, 255],
            now,
        )
        .unwrap();
    assert_eq!(store.export_run(r2).unwrap().unwrap().1, vec![0u8, 255]);
    assert_eq!(
        store
            .export_runs_after(r1, 10)
            .unwrap()
            .iter()
            .map(|r| r.id)
            .collect::<Vec<_>>(),
        [r2]
    );
    assert_eq!(store.export_runs(e.id).unwrap().len(), 2);
    assert!(store.delete_saved_export(e.id).unwrap());
    assert_eq!(store.saved_export(e.id).unwrap(), None);
    assert_eq!(store.export_run(r1).unwrap(), None);
}

#[test]
fn monthly_topics_keep_every_version_and_refuse_a_stale_edit() {
    let dir = tempfile::tempdir().unwrap();
    let store = fresh(&dir);
    let now = Utc.with_ymd_and_hms(2026, 5, 2, 3, 0, 0).unwrap();
    let v = |month: &str, theme: &str, body: &str, note: &str| jiesu_store::NewTopicVersion {
        month: month.into(),
        theme: theme.into(),
        lead_unit: "110000023".into(),
        body: body.into(),
        actor: "sup".into(),
        note: note.into(),
        now,
    };
    assert!(store.topics().unwrap().is_empty());
    let a = store
        .adopt_topic(v("2026-05", "小区充电桩", "{\"a\":1}", ""))
        .unwrap();
    assert_eq!((a.topic_id, a.version), (1, 1));
    let b = store
        .adopt_topic(v("2026-06", "物业服务", "{}", ""))
        .unwrap();
    assert_eq!((b.topic_id, b.version), (2, 1));
    let a2 = store
        .revise_topic(
            1,
            1,
            v("2026-05", "小区电动车充电桩", "{\"a\":2}", "任务完成"),
        )
        .unwrap();
    assert_eq!(a2.version, 2);
    // a second edit made on version 1 is refused, nothing written
    assert!(matches!(
        store.revise_topic(1, 1, v("2026-05", "x", "{}", "")),
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store.revise_topic(9, 1, v("2026-05", "x", "{}", "")),
        Err(StoreError::NotFound)
    ));
    let current = store.topics().unwrap();
    assert_eq!(
        current
            .iter()
            .map(|t| (t.topic_id, t.version, t.theme.as_str()))
            .collect::<Vec<_>>(),
        vec![(2, 1, "物业服务"), (1, 2, "小区电动车充电桩")]
    );
    let history = store.topic_versions(1).unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[0], a);
    assert_eq!(history[1].body, "{\"a\":2}");
    assert_eq!(history[1].note, "任务完成");
    assert!(store.topic_versions(9).unwrap().is_empty());
}

#[test]
fn street_work_is_stored_with_every_change_and_a_stale_version_changes_nothing() {
    use jiesu_store::{InterviewRow, StreetItemRow};
    let dir = tempfile::tempdir().unwrap();
    let db = db_in(&dir, "a.db");
    let store = open(&dir, &db);
    let t0 = Utc.with_ymd_and_hms(2026, 11, 3, 2, 0, 0).unwrap();
    let day = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    let iv = InterviewRow {
        id: 0,
        street: "110102011".into(),
        district: "110102".into(),
        held_on: day("2026-11-02"),
        attendees: vec!["区委副书记".into(), "广外街道工委书记".into()],
        findings: "老旧小区多，基础设施薄弱".into(),
        alert_id: Some(7),
        filed_by: "sup1".into(),
        filed_at: t0,
    };
    let id = store.file_interview(iv.clone()).unwrap();
    assert!(id > 0);
    let other = InterviewRow {
        street: "110105001".into(),
        district: "110105".into(),
        alert_id: None,
        ..iv.clone()
    };
    store.file_interview(other).unwrap();
    let got = store.interviews("110102011").unwrap();
    assert_eq!(got, vec![InterviewRow { id, ..iv.clone() }]);
    assert_eq!(store.interviews_of(None, 10).unwrap().len(), 2);
    let of_district = store
        .interviews_of(Some(&["110102".to_string()]), 10)
        .unwrap();
    assert_eq!(of_district.len(), 1);
    assert_eq!(of_district[0].street, "110102011");
    assert!(store
        .interviews_of(Some(&["110108".to_string()]), 10)
        .unwrap()
        .is_empty());

    let item = StreetItemRow {
        id: 0,
        street: "110102011".into(),
        district: "110102".into(),
        kind: "project".into(),
        title: "广外南街道路改造".into(),
        owner: "区市政市容委".into(),
        due: day("2026-12-31"),
        status: "open".into(),
        progress: String::new(),
        version: 0,
        updated_by: "sup1".into(),
        created_at: t0,
        updated_at: t0,
    };
    let iid = store.add_street_item(item.clone()).unwrap();
    let stored = store.street_item(iid).unwrap().unwrap();
    assert_eq!(stored.version, 1);
    assert_eq!(stored.title, "广外南街道路改造");
    let t1 = t0 + Duration::days(3);
    let change = StreetItemRow {
        id: iid,
        status: "in_progress".into(),
        progress: "已完成设计".into(),
        updated_by: "gw".into(),
        updated_at: t1,
        ..stored.clone()
    };
    assert!(store.update_street_item(change.clone(), 1).unwrap());
    // a change made on version 1 again is stale now
    assert!(!store.update_street_item(change.clone(), 1).unwrap());
    assert!(!store
        .update_street_item(StreetItemRow { id: 999, ..change }, 2)
        .unwrap());
    let now = store.street_item(iid).unwrap().unwrap();
    assert_eq!(
        (now.version, now.status.as_str(), now.progress.as_str()),
        (2, "in_progress", "已完成设计")
    );
    assert_eq!((now.created_at, now.updated_at), (t0, t1));
    assert_eq!(store.street_items("110102011").unwrap(), vec![now]);
    assert!(store.street_items("110105001").unwrap().is_empty());
    assert!(store.street_item(999).unwrap().is_none());

    let changes = store.street_changes("110102011", 10).unwrap();
    let seen: Vec<(&str, &str, &str)> = changes
        .iter()
        .map(|c| (c.subject.as_str(), c.action.as_str(), c.by.as_str()))
        .collect();
    assert_eq!(
        seen,
        vec![
            ("item", "updated", "gw"),
            ("item", "created", "sup1"),
            ("interview", "filed", "sup1")
        ]
    );
    let after: serde_json::Value = serde_json::from_str(&changes[0].after).unwrap();
    assert_eq!(after["status"], "in_progress");
    assert_eq!(after["version"], 2);
    assert_eq!(changes[0].at, t1);
    // everything survives a reopen
    drop(store);
    let store = open(&dir, &db);
    assert_eq!(store.street_changes("110102011", 1).unwrap().len(), 1);
    assert_eq!(store.interviews("110102011").unwrap()[0].attendees.len(), 2);
}

#[test]
fn a_rotated_partner_secret_keeps_the_old_one_until_the_grace_ends_and_a_reissue_drops_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_in(&dir, "a.db");
    let store = open(&dir, &db);
    let now = Utc.with_ymd_and_hms(2026, 5, 1, 2, 0, 0).unwrap();
    let p = store
        .add_partner("120联动", "partner_hotline", "hash-120", now)
        .unwrap();
    // nothing to rotate before a secret exists
    assert!(matches!(
        store.rotate_partner_secret(p.id, now, now),
        Err(StoreError::NotFound)
    ));
    let first = store.new_partner_secret(p.id, Some("120"), now).unwrap();
    let (_, s) = store.partner_signing("hash-120").unwrap().unwrap();
    assert_eq!(s.previous, None);
    let until = now + Duration::hours(24);
    let second = store.rotate_partner_secret(p.id, until, now).unwrap();
    assert!(second.starts_with("ps_") && second != first);
    let (_, s) = store.partner_signing("hash-120").unwrap().unwrap();
    assert_eq!(s.secret, second);
    assert_eq!(
        s.serves.as_deref(),
        Some("120"),
        "a rotation keeps the service"
    );
    assert_eq!(s.previous, Some((first.clone(), until)));
    // a second rotation keeps only the one it replaced
    let until2 = now + Duration::hours(30);
    let third = store.rotate_partner_secret(p.id, until2, now).unwrap();
    let (_, s) = store.partner_signing("hash-120").unwrap().unwrap();
    assert_eq!(
        (s.secret.as_str(), s.previous),
        (third.as_str(), Some((second, until2)))
    );
    // a re-issue (no grace) drops the previous secret
    let fourth = store.new_partner_secret(p.id, Some("120"), now).unwrap();
    let (_, s) = store.partner_signing("hash-120").unwrap().unwrap();
    assert_eq!((s.secret.as_str(), s.previous), (fourth.as_str(), None));
    assert!(matches!(
        store.rotate_partner_secret(p.id + 1000, until, now),
        Err(StoreError::NotFound)
    ));
}

#[test]
fn governance_policies_are_numbered_per_kind_and_never_replaced() {
    use jiesu_store::GovPolicyRow;
    let dir = tempfile::tempdir().unwrap();
    let db = db_in(&dir, "a.db");
    let store = open(&dir, &db);
    let t0 = Utc.with_ymd_and_hms(2026, 11, 3, 2, 0, 0).unwrap();
    let row = |kind: &str, id: &str, from: &str| GovPolicyRow {
        kind: kind.into(),
        version: 0,
        policy_id: id.into(),
        effective_from: from.into(),
        body: format!("{{\"id\":\"{id}\"}}"),
        author: "admin".into(),
        created_at: t0,
    };
    assert!(store.governance_policies("streets").unwrap().is_empty());
    assert_eq!(
        store
            .add_governance_policy(row("streets", "a", "2026-01"))
            .unwrap(),
        1
    );
    assert_eq!(
        store
            .add_governance_policy(row("reply_audit", "r", "2026-01"))
            .unwrap(),
        1
    );
    assert_eq!(
        store
            .add_governance_policy(row("streets", "b", "2025-06"))
            .unwrap(),
        2
    );
    let got = store.governance_policies("streets").unwrap();
    assert_eq!(
        got.iter()
            .map(|p| (p.version, p.policy_id.as_str()))
            .collect::<Vec<_>>(),
        vec![(1, "a"), (2, "b")]
    );
    assert_eq!(got[1].effective_from, "2025-06");
    assert_eq!(got[1].body, "{\"id\":\"b\"}");
    assert_eq!(got[1].author, "admin");
    assert_eq!(got[1].created_at, t0);
    drop(store);
    let store = open(&dir, &db);
    assert_eq!(store.governance_policies("streets").unwrap().len(), 2);
    assert_eq!(
        store.governance_policies("reply_audit").unwrap()[0].policy_id,
        "r"
    );
}

#[test]
fn a_stored_audit_day_is_replaced_when_stored_again_never_duplicated() {
    use jiesu_store::{AuditDayRow, AuditFindingRow};
    let dir = tempfile::tempdir().unwrap();
    let store = fresh(&dir);
    let t0 = Utc.with_ymd_and_hms(2026, 11, 3, 16, 30, 0).unwrap();
    let day = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    let d = |on: &str, results: i64| AuditDayRow {
        day: day(on),
        results,
        unit_results: vec![("U1".into(), results)],
        policy_id: "reply-audit-2026".into(),
        policy_version: 0,
        audited_at: t0,
    };
    let f = |on: &str, ticket: i64, score: Option<f64>| AuditFindingRow {
        day: day(on),
        ticket,
        unit: "U1".into(),
        kinds: vec!["off_topic".into(), "too_fast".into()],
        score,
        detail: "{\"minutes\":3}".into(),
        policy_version: 2,
    };
    store
        .store_audit_day(
            d("2026-11-02", 5),
            vec![f("2026-11-02", 7, Some(0.125)), f("2026-11-02", 9, None)],
        )
        .unwrap();
    store
        .store_audit_day(d("2026-11-03", 1), vec![f("2026-11-03", 11, Some(1.5))])
        .unwrap();
    // again, with one finding fewer: replaced
    store
        .store_audit_day(d("2026-11-02", 6), vec![f("2026-11-02", 9, None)])
        .unwrap();
    let days = store
        .audit_days(day("2026-11-01"), day("2026-11-30"))
        .unwrap();
    assert_eq!(
        days.iter().map(|d| (d.day, d.results)).collect::<Vec<_>>(),
        vec![(day("2026-11-02"), 6), (day("2026-11-03"), 1)]
    );
    assert_eq!(days[0].unit_results, vec![("U1".to_string(), 6)]);
    assert_eq!(days[0].audited_at, t0);
    let all = store
        .audit_findings(day("2026-11-01"), day("2026-11-30"))
        .unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0], f("2026-11-02", 9, None));
    assert_eq!(all[1], f("2026-11-03", 11, Some(1.5)));
    assert_eq!(
        store
            .audit_findings(day("2026-11-03"), day("2026-11-03"))
            .unwrap()
            .len(),
        1
    );
}
