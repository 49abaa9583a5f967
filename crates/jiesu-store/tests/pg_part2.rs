//! The PostgreSQL backend's reference, user, label, agent-session, re-check, knowledge-base,
//! catalogue, rating, personal-data, review and outbox stores against a real server.
//!
//! Run with `JIESU_TEST_PG=postgres://user@host:port cargo nextest run -p jiesu-store --test
//! pg_part2`: every test makes a new database on that server. Without the variable every test
//! prints one line and passes.
//!
//! PgStore has no `TicketStore` yet (it is ported apart), so the tests that need tickets build
//! them with a [`SqliteStore`] sharing the PostgreSQL store's key file, copy its rows (events,
//! projections, data keys) into PostgreSQL, and check that both backends answer the same.

mod support;
use support::new_database;

use chrono::{DateTime, Duration, TimeZone, Utc};
use jiesu_domain::category::{Category, LivelihoodDomain};
use jiesu_domain::command::{execute, AssignmentRequest, Command};
use jiesu_domain::org::{FunctionalZone, Unit, UnitKind};
use jiesu_domain::ticket::*;
use jiesu_domain::{ActorRef, CallbackOutcome, CityZone, Role, TicketState};
use jiesu_store::crypt::Keyring;
use jiesu_store::{
    prelude::*, IntakeCorrection, KbVersionRow, KeySource, NewAgentSession, NewRecheck, NewTicket,
    PgStore, RecheckVerdict, SessionOutcome, SqliteStore, StoreError, StoreOptions,
};
use std::path::{Path, PathBuf};

/// A new database (see `new_database`) and a temporary data directory
/// (`JIESU_DATA_DIR`, where the key file goes); `None` when `JIESU_TEST_PG` is not set.
fn fresh() -> Option<(String, tempfile::TempDir)> {
    let Ok(url) = std::env::var("JIESU_TEST_PG") else {
        println!("skipped: JIESU_TEST_PG not set");
        return None;
    };
    let url = new_database(&url);
    let dir = tempfile::tempdir().unwrap();
    std::env::set_var("JIESU_DATA_DIR", dir.path());
    std::env::remove_var("JIESU_KEYS");
    std::env::remove_var("JIESU_KEY_FILE");
    Some((url, dir))
}

fn client(url: &str) -> postgres::Client {
    postgres::Client::connect(url, postgres::NoTls).unwrap()
}

fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, 0, 0).unwrap()
}

// ---- reference -------------------------------------------------------------------------------

fn units() -> Vec<Unit> {
    vec![
        Unit {
            code: "110108".into(),
            name: "海淀区".into(),
            kind: UnitKind::District,
            parent: Some("C".into()),
            population: Some(3_130_000),
            zone: Some(FunctionalZone::CoreAndSubCentre),
            active: true,
        },
        Unit {
            code: "C".into(),
            name: "市民热线服务中心".into(),
            kind: UnitKind::Centre,
            parent: None,
            population: None,
            zone: None,
            active: true,
        },
        Unit {
            code: "a-old".into(),
            name: "撤销的单位".into(),
            kind: UnitKind::Other,
            parent: Some("C".into()),
            population: None,
            zone: Some(FunctionalZone::EcologicalConservation),
            active: false,
        },
    ]
}

fn categories() -> Vec<Category> {
    vec![
        Category {
            code: "0101".into(),
            name: "路灯".into(),
            level: 2,
            parent: Some("01".into()),
            domain: Some(LivelihoodDomain::Education),
            active: true,
        },
        Category {
            code: "01".into(),
            name: "城市管理".into(),
            level: 1,
            parent: None,
            domain: None,
            active: false,
        },
    ]
}

#[test]
fn reference_data_is_replaced_whole_and_read_in_code_order() {
    let Some((url, dir)) = fresh() else { return };
    let store = PgStore::open(&url).unwrap();
    // `<JIESU_DATA_DIR>/<database name>.pg`
    assert_eq!(store.path().parent(), Some(dir.path()));
    assert_eq!(
        store.path().extension().and_then(|e| e.to_str()),
        Some("pg")
    );
    assert!(store.units().unwrap().is_empty());
    store.replace_reference(&units(), &categories()).unwrap();
    let mut want = units();
    want.sort_by(|a, b| a.code.cmp(&b.code));
    // "C" < "a-old" in code-point order, whatever the database's collation
    assert_eq!(
        want.iter().map(|u| u.code.as_str()).collect::<Vec<_>>(),
        ["110108", "C", "a-old"]
    );
    assert_eq!(store.units().unwrap(), want);
    let mut cats = categories();
    cats.sort_by(|a, b| a.code.cmp(&b.code));
    assert_eq!(store.categories().unwrap(), cats);
    // a second replacement leaves only its own rows
    store
        .replace_reference(&units()[1..2], &categories()[..1])
        .unwrap();
    assert_eq!(store.units().unwrap(), units()[1..2].to_vec());
    assert_eq!(store.categories().unwrap(), categories()[..1].to_vec());
    // one transaction: a failing replacement (a duplicate code) leaves the old data
    let mut dup = units();
    dup.push(units()[0].clone());
    assert!(matches!(
        store.replace_reference(&dup, &categories()),
        Err(StoreError::Db(_))
    ));
    assert_eq!(store.units().unwrap(), units()[1..2].to_vec());
    assert_eq!(store.categories().unwrap(), categories()[..1].to_vec());
}

#[test]
fn settings_are_upserted_and_the_city_zone_round_trips() {
    let Some((url, _dir)) = fresh() else { return };
    let store = PgStore::open(&url).unwrap();
    assert_eq!(store.meta("notify_cursor").unwrap(), None);
    store.set_meta("notify_cursor", "5").unwrap();
    store.set_meta("notify_cursor", "17").unwrap();
    assert_eq!(store.meta("notify_cursor").unwrap().as_deref(), Some("17"));
    // the schema version is a setting too, written by the migration
    assert_eq!(store.meta("schema_version").unwrap().as_deref(), Some("1"));
    assert_eq!(store.city_zone().unwrap(), CityZone::default());
    let urumqi = CityZone::parse("Asia/Urumqi").unwrap();
    store.set_city_zone(urumqi).unwrap();
    assert_eq!(store.city_zone().unwrap(), urumqi);
    store
        .set_meta(CityZone::SETTING_KEY, "Mars/Olympus")
        .unwrap();
    assert!(matches!(
        store.city_zone(),
        Err(StoreError::Invalid { field, .. }) if field == CityZone::SETTING_KEY
    ));
    // a setting survives a reopen
    drop(store);
    let store = PgStore::open(&url).unwrap();
    assert_eq!(store.meta("notify_cursor").unwrap().as_deref(), Some("17"));
}

// ---- users -----------------------------------------------------------------------------------

#[test]
fn users_and_sessions() {
    let Some((url, _dir)) = fresh() else { return };
    let store = PgStore::open(&url).unwrap();
    let now = at(2026, 5, 1, 2);
    let a = store
        .add_user("zhang", "$argon2$x", "agent", None, now)
        .unwrap();
    let b = store
        .add_user("li", "$argon2$y", "unit", Some("110108"), now)
        .unwrap();
    assert_eq!(
        (a, b),
        (1, 2),
        "identity ids count from 1 like SQLite's rowid"
    );
    match store.add_user("zhang", "h", "agent", None, now) {
        Err(StoreError::Invalid { field, message, .. }) => {
            assert_eq!(field, "name");
            assert!(message.contains("zhang"), "{message}");
        }
        r => panic!("expected a refusal, got {r:?}"),
    }
    let u = store.user_by_name("li").unwrap().unwrap();
    assert_eq!(
        (
            u.id,
            u.username.as_str(),
            u.password_hash.as_str(),
            u.role.as_str(),
            u.unit_code.as_deref(),
            u.active
        ),
        (b, "li", "$argon2$y", "unit", Some("110108"), true)
    );
    assert!(store.user_by_name("wang").unwrap().is_none());

    store
        .create_session(a, "tok-a", now, now + Duration::hours(8))
        .unwrap();
    let s = store.session("tok-a").unwrap().unwrap();
    assert_eq!(s.user.username, "zhang");
    assert_eq!(s.created_at, now);
    assert_eq!(s.expires_at, now + Duration::hours(8));
    assert_eq!(s.last_seen_at, now, "last seen starts at creation");
    store
        .touch_session("tok-a", now + Duration::minutes(20))
        .unwrap();
    assert_eq!(
        store.session("tok-a").unwrap().unwrap().last_seen_at,
        now + Duration::minutes(20)
    );
    assert!(store.session("nope").unwrap().is_none());
    // the session of a deactivated user is not served
    store
        .create_session(b, "tok-b", now, now + Duration::hours(8))
        .unwrap();
    client(&url)
        .execute("UPDATE users SET active=0 WHERE id=$1", &[&b])
        .unwrap();
    assert!(store.session("tok-b").unwrap().is_none());
    assert!(!store.user_by_name("li").unwrap().unwrap().active);
    assert!(store.delete_session("tok-a").unwrap());
    assert!(!store.delete_session("tok-a").unwrap());
    assert!(store.session("tok-a").unwrap().is_none());
}

// ---- catalogue -------------------------------------------------------------------------------

#[test]
fn catalogue_versions_draft_publish_supersede() {
    let Some((url, _dir)) = fresh() else { return };
    let store = PgStore::open(&url).unwrap();
    let now = at(2026, 5, 1, 2);
    assert!(store.catalogue("published").unwrap().is_none());
    let v1 = store
        .save_catalogue("published", "a,b\n", 1, "admin", None, now)
        .unwrap();
    let v2 = store
        .save_catalogue("draft", "a,b\nc,d\n", 2, "admin", Some("first draft"), now)
        .unwrap();
    let v3 = store
        .save_catalogue("draft", "x\n", 3, "admin", Some("second draft"), now)
        .unwrap();
    assert_eq!((v1, v2, v3), (1, 2, 3));
    let d = store.catalogue("draft").unwrap().unwrap();
    assert_eq!((d.version, d.rules, d.csv.as_str()), (3, 3, "x\n"));
    assert_eq!(d.note.as_deref(), Some("second draft"));
    assert_eq!(d.created_at, "2026-05-01T02:00:00.000Z");
    let statuses = |s: &PgStore| {
        s.catalogue_history()
            .unwrap()
            .into_iter()
            .map(|v| (v.version, v.status, v.csv))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        statuses(&store),
        vec![
            (3, "draft".into(), String::new()),
            (2, "replaced".into(), String::new()),
            (1, "published".into(), String::new()),
        ],
        "newest first, without the CSV; a newer draft replaces the older one"
    );
    match store.publish_catalogue(2) {
        Err(StoreError::Invalid { field, .. }) => assert_eq!(field, "version"),
        r => panic!("only a draft can be published, got {r:?}"),
    }
    store.publish_catalogue(3).unwrap();
    assert_eq!(store.catalogue("published").unwrap().unwrap().version, 3);
    assert!(store.catalogue("draft").unwrap().is_none());
    assert_eq!(store.catalogue("superseded").unwrap().unwrap().version, 1);
    // publishing directly supersedes the published one
    let v4 = store
        .save_catalogue("published", "y\n", 1, "admin", None, now)
        .unwrap();
    assert_eq!(v4, 4);
    assert_eq!(
        statuses(&store)
            .into_iter()
            .map(|(v, s, _)| (v, s))
            .collect::<Vec<_>>(),
        vec![
            (4, "published".into()),
            (3, "superseded".into()),
            (2, "replaced".into()),
            (1, "superseded".into()),
        ]
    );
}

// ---- knowledge base --------------------------------------------------------------------------

fn kb_row(id: &str, version: u32, status: &str) -> KbVersionRow {
    KbVersionRow {
        id: id.into(),
        version,
        status: status.into(),
        article: format!("{{\"title\":\"{id} v{version}\"}}"),
        author: "editor".into(),
        created_at: "2026-05-01T02:00:00Z".into(),
        updated_at: "2026-05-01T02:00:00Z".into(),
        reviewed_by: None,
        reviewed_at: None,
        review_note: None,
    }
}

#[test]
fn knowledge_base_versions_are_upserted_by_id_and_version() {
    let Some((url, _dir)) = fresh() else { return };
    let store = PgStore::open(&url).unwrap();
    assert_eq!(store.kb_version_count().unwrap(), 0);
    store
        .kb_put_versions(vec![
            kb_row("kb-b", 1, "published"),
            kb_row("kb-a", 2, "draft"),
            kb_row("kb-a", 1, "published"),
            kb_row("KB-Z", 1, "draft"),
        ])
        .unwrap();
    assert_eq!(store.kb_version_count().unwrap(), 4);
    let mut reviewed = kb_row("kb-a", 2, "published");
    reviewed.created_at = "2099-01-01T00:00:00Z".into(); // not updated: created once
    reviewed.updated_at = "2026-05-02T02:00:00Z".into();
    reviewed.reviewed_by = Some("chief".into());
    reviewed.reviewed_at = Some("2026-05-02T02:00:00Z".into());
    reviewed.review_note = Some("好".into());
    store.kb_put_versions(vec![reviewed.clone()]).unwrap();
    assert_eq!(store.kb_version_count().unwrap(), 4);
    let all = store.kb_all_versions().unwrap();
    assert_eq!(
        all.iter()
            .map(|r| (r.id.as_str(), r.version))
            .collect::<Vec<_>>(),
        [("KB-Z", 1), ("kb-a", 1), ("kb-a", 2), ("kb-b", 1)]
    );
    let a = store.kb_versions("kb-a").unwrap();
    assert_eq!(a.len(), 2);
    assert_eq!(a[0], kb_row("kb-a", 1, "published"));
    let mut want = reviewed;
    want.created_at = "2026-05-01T02:00:00Z".into();
    assert_eq!(a[1], want);
    assert!(store.kb_versions("none").unwrap().is_empty());
    assert_eq!(
        store
            .kb_usage(at(2026, 1, 1, 0), at(2027, 1, 1, 0))
            .unwrap(),
        (0, 0, vec![])
    );
}

// ---- agent sessions --------------------------------------------------------------------------

#[test]
fn agent_sessions_link_tickets_within_the_window_and_count() {
    let Some((url, _dir)) = fresh() else { return };
    let store = PgStore::open(&url).unwrap();
    let t0 = at(2026, 5, 1, 2);
    let s = |id: &str, h: i64, answered: bool, article: Option<&str>| NewAgentSession {
        id: id.into(),
        asked_at: t0 + Duration::hours(h),
        answered,
        article_id: article.map(str::to_string),
        confidence: article.map(|_| 0.75),
    };
    store
        .record_agent_session(s("s1", 0, true, Some("kb-1")))
        .unwrap();
    store.record_agent_session(s("s2", 1, false, None)).unwrap();
    store
        .record_agent_session(s("s3", 2, true, Some("kb-2")))
        .unwrap();
    store.record_agent_session(s("s4", 3, false, None)).unwrap();
    store.record_agent_session(s("s5", 48, true, None)).unwrap();
    assert!(matches!(
        store.record_agent_session(s("s5", 48, true, None)),
        Err(StoreError::Db(_))
    ));
    let now = t0 + Duration::hours(5);
    assert!(matches!(
        store.link_agent_session_ticket("nope", 1, now, now),
        Err(StoreError::NotFound)
    ));
    // handed over, then a request: created
    assert_eq!(
        store
            .link_agent_session_ticket("s2", 7, t0 + Duration::hours(2), now)
            .unwrap(),
        SessionOutcome::TicketCreated
    );
    // again for the same ticket: harmless; for another: refused
    assert_eq!(
        store
            .link_agent_session_ticket("s2", 7, t0 + Duration::hours(2), now)
            .unwrap(),
        SessionOutcome::TicketCreated
    );
    assert!(matches!(
        store.link_agent_session_ticket("s2", 8, t0 + Duration::hours(2), now),
        Err(StoreError::Conflict(_))
    ));
    // answered, still a request
    store
        .link_agent_session_ticket("s3", 9, t0 + Duration::hours(3), now)
        .unwrap();
    // outside the window: before the question, or more than a day after
    assert!(matches!(
        store.link_agent_session_ticket("s4", 10, t0, now),
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store.link_agent_session_ticket("s4", 10, t0 + Duration::hours(28), now),
        Err(StoreError::Conflict(_))
    ));
    let st = store.agent_stats(None, None).unwrap();
    assert_eq!(
        (
            st.asked,
            st.answered,
            st.handed_over,
            st.ticket_created,
            st.resolved_one_shot
        ),
        (5, 3, 2, 2, 2)
    );
    assert!((st.one_shot_rate - 0.4).abs() < 1e-9);
    let first_day = store
        .agent_stats(Some(t0), Some(t0 + Duration::hours(24)))
        .unwrap();
    assert_eq!((first_day.asked, first_day.resolved_one_shot), (4, 1));
    let empty = store
        .agent_stats(Some(at(2020, 1, 1, 0)), Some(at(2020, 1, 2, 0)))
        .unwrap();
    assert_eq!(empty.asked, 0);
    assert_eq!(empty.one_shot_rate, 0.0);
    let (outcome, ticket): (String, Option<i64>) = {
        let r = client(&url)
            .query_one(
                "SELECT outcome, ticket_id FROM agent_sessions WHERE id='s2'",
                &[],
            )
            .unwrap();
        (r.get(0), r.get(1))
    };
    assert_eq!((outcome.as_str(), ticket), ("ticket_created", Some(7)));
}

// ---- with tickets: built in SQLite, copied, both backends compared ----------------------------

fn actor() -> ActorRef {
    ActorRef {
        user: "agent1".into(),
        role: Role::Agent,
        unit: None,
    }
}

fn intake(category: &str, title: &str) -> Intake {
    Intake {
        channel: Channel::Phone,
        request_type: RequestType::Complaint,
        category_code: category.into(),
        title: title.into(),
        text: format!("{title}，请尽快处理。"),
        place: Place {
            district_code: "110108".into(),
            street_code: "110108010".into(),
            address: Some("某小区3号楼".into()),
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
}

fn create(s: &SqliteStore, category: &str, title: &str, now: DateTime<Utc>) -> i64 {
    s.create_ticket(NewTicket {
        intake: intake(category, title).check().unwrap(),
        actor: actor(),
        now,
        idempotency_key: None,
        tracking_code: None,
    })
    .unwrap()
    .state
    .id
}

fn command(cmd: Command, now: DateTime<Utc>) -> jiesu_store::Change {
    Box::new(move |t: &mut TicketState| {
        Ok(execute(
            t,
            &cmd,
            &ActorRef {
                user: "sys".into(),
                role: Role::System,
                unit: None,
            },
            now,
        )?)
    })
}

fn step(s: &SqliteStore, id: i64, cmd: Command, now: DateTime<Utc>) -> TicketState {
    s.update_ticket(id, command(cmd, now)).unwrap().0
}

const STREET: &str = "110108010";

fn dispatch(now: DateTime<Utc>) -> Command {
    Command::Dispatch {
        assignments: vec![AssignmentRequest {
            unit: STREET.into(),
            role: AssignmentRole::Lead,
            tier: DeadlineTier::D7,
            deadlines: jiesu_routing::DeadlinePolicy::calendar_time_default().deadlines(
                DeadlineTier::D7,
                "",
                "",
                now,
                &jiesu_routing::Calendar::china_2025_2026(),
                &[],
            ),
        }],
        note: None,
        rule: Some("r1".into()),
    }
}

/// Tickets in several states, in SQLite (keyed with `keyfile`); their ids: answered+archived,
/// extension pending, escalated+reclassified, called back unresolved, new.
fn city(db: &Path, keyfile: &Path) -> (SqliteStore, [i64; 5]) {
    let s = SqliteStore::open_with(
        db,
        StoreOptions {
            durable: true,
            keys: KeySource::File(keyfile.to_path_buf()),
        },
    )
    .unwrap();
    let t0 = at(2026, 5, 1, 2);
    let m = |n: i64| t0 + Duration::minutes(n);
    let a = create(&s, "010101", "供暖时间咨询", m(0));
    step(
        &s,
        a,
        Command::Answer {
            answer: "本市供暖自11月15日开始。".into(),
            article_id: Some("kb-heat".into()),
        },
        m(1),
    );
    step(&s, a, Command::Close { note: None }, m(2));
    step(&s, a, Command::Archive, m(3));

    let b = create(&s, "020202", "噪音扰民", m(10));
    step(&s, b, dispatch(m(11)), m(11));
    step(
        &s,
        b,
        Command::Sign {
            unit: STREET.into(),
        },
        m(12),
    );
    step(
        &s,
        b,
        Command::RequestExtension {
            unit: STREET.into(),
            until: m(12) + Duration::days(20),
            reason: "等待配件".into(),
        },
        m(13),
    );

    let c = create(&s, "010101", "路灯不亮", m(20));
    step(&s, c, dispatch(m(21)), m(21));
    step(
        &s,
        c,
        Command::Escalate {
            level: EscalationLevel::District,
            to_unit: None,
            reason: "跨部门".into(),
        },
        m(22),
    );
    step(
        &s,
        c,
        Command::Reclassify {
            category_code: "030303".into(),
            request_type: RequestType::Help,
            reason: "实为求助".into(),
        },
        m(23),
    );

    let d = create(&s, "020202", "井盖缺失", m(30));
    step(&s, d, dispatch(m(31)), m(31));
    step(
        &s,
        d,
        Command::Escalate {
            level: EscalationLevel::City,
            to_unit: None,
            reason: "反复".into(),
        },
        m(32),
    );
    step(
        &s,
        d,
        Command::Sign {
            unit: STREET.into(),
        },
        m(32),
    );
    step(
        &s,
        d,
        Command::Respond {
            unit: STREET.into(),
            note: None,
        },
        m(33),
    );
    step(
        &s,
        d,
        Command::SubmitResult {
            unit: STREET.into(),
            text: "已补装".into(),
            evidence: vec![],
        },
        m(34),
    );
    step(
        &s,
        d,
        Command::Callback {
            outcome: CallbackOutcome::Reached {
                contacted: true,
                resolution: Resolution::Unresolved,
                satisfaction: Satisfaction::Unsatisfied,
                attitude: None,
                comment: Some("没修好".into()),
            },
        },
        m(35),
    );

    let e = create(&s, "040404", "咨询公积金", m(40));
    (s, [a, b, c, d, e])
}

/// The event log's monthly partitions (as the store names them) for the months of the SQLite
/// file's events, so copied rows have somewhere to go.
fn make_partitions(lite: &rusqlite::Connection, pg: &mut postgres::Client) {
    let months: Vec<String> = lite
        .prepare("SELECT DISTINCT substr(at, 1, 7) FROM events")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    for m in months {
        let (y, mo): (i32, u32) = (m[..4].parse().unwrap(), m[5..7].parse().unwrap());
        let next = if mo == 12 {
            format!("{:04}-01", y + 1)
        } else {
            format!("{y:04}-{:02}", mo + 1)
        };
        pg.batch_execute(&format!(
            "CREATE TABLE IF NOT EXISTS events_{y:04}_{mo:02} PARTITION OF events FOR VALUES FROM ('{m}') TO ('{next}')"
        ))
        .unwrap();
    }
}

/// Copies the SQLite file's ticket rows into PostgreSQL, column by column as PostgreSQL types
/// them.
fn copy_rows(db: &Path, url: &str) {
    let lite = rusqlite::Connection::open(db).unwrap();
    let mut pg = client(url);
    make_partitions(&lite, &mut pg);
    for table in [
        "events",
        "tickets",
        "assignments",
        "personal_keys",
        "tracking_codes",
    ] {
        let cols: Vec<(String, String)> = pg
            .query(
                "SELECT column_name::TEXT, data_type::TEXT FROM information_schema.columns
                 WHERE table_schema='public' AND table_name=$1 ORDER BY ordinal_position",
                &[&table],
            )
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        let names: Vec<&str> = cols.iter().map(|c| c.0.as_str()).collect();
        let marks: Vec<String> = (1..=cols.len()).map(|i| format!("${i}")).collect();
        let insert = pg
            .prepare(&format!(
                "INSERT INTO {table} ({}) VALUES ({})",
                names.join(","),
                marks.join(",")
            ))
            .unwrap();
        let mut s = lite
            .prepare(&format!("SELECT {} FROM {table}", names.join(",")))
            .unwrap();
        let mut rows = s.query([]).unwrap();
        while let Some(r) = rows.next().unwrap() {
            let vals: Vec<Box<dyn postgres::types::ToSql + Sync>> = cols
                .iter()
                .enumerate()
                .map(|(i, (_, ty))| -> Box<dyn postgres::types::ToSql + Sync> {
                    match ty.as_str() {
                        "bigint" => Box::new(r.get::<_, Option<i64>>(i).unwrap()),
                        "bytea" => Box::new(r.get::<_, Option<Vec<u8>>>(i).unwrap()),
                        "double precision" => Box::new(r.get::<_, Option<f64>>(i).unwrap()),
                        _ => Box::new(r.get::<_, Option<String>>(i).unwrap()),
                    }
                })
                .collect();
            let refs: Vec<&(dyn postgres::types::ToSql + Sync)> =
                vals.iter().map(|v| v.as_ref()).collect();
            pg.execute(&insert, &refs).unwrap();
        }
    }
}

/// The PostgreSQL store and a SQLite store holding the same tickets under the same key file.
fn both(url: &str, dir: &Path) -> (PgStore, SqliteStore, [i64; 5], PathBuf) {
    let pg = PgStore::open(url).unwrap();
    let mut keyfile = pg.path().as_os_str().to_owned();
    keyfile.push(".keys");
    let keyfile = PathBuf::from(keyfile);
    assert!(
        keyfile.exists(),
        "the key file is created in JIESU_DATA_DIR"
    );
    let db = dir.join("city.db");
    let (lite, ids) = city(&db, &keyfile);
    copy_rows(&db, url);
    (pg, lite, ids, keyfile)
}

#[test]
fn reads_over_tickets_agree_with_sqlite() {
    let Some((url, dir)) = fresh() else { return };
    let (pg, lite, [a, b, c, d, e], _) = both(&url, dir.path());
    let (from, to) = (at(2026, 5, 1, 0), at(2026, 5, 2, 0));

    let counts = pg.category_use_counts(from, to).unwrap();
    // by the projection's category: the reclassified ticket counts under its new one
    assert_eq!(
        counts,
        vec![
            ("020202".to_string(), 2),
            ("010101".to_string(), 1),
            ("030303".to_string(), 1),
            ("040404".to_string(), 1)
        ]
    );
    assert_eq!(counts, lite.category_use_counts(from, to).unwrap());
    assert!(pg
        .category_use_counts(at(2026, 6, 1, 0), at(2026, 7, 1, 0))
        .unwrap()
        .is_empty());

    let ex = pg.labelled_examples(10).unwrap();
    assert_eq!(ex, lite.labelled_examples(10).unwrap());
    assert_eq!(
        ex.iter().map(|x| x.ticket_id).collect::<Vec<_>>(),
        vec![e, d, c, b, a]
    );
    let xc = ex.iter().find(|x| x.ticket_id == c).unwrap();
    assert!(xc.reclassified && xc.corrected());
    assert_eq!(
        (xc.category_code.as_str(), xc.request_type.as_str()),
        ("030303", "help")
    );
    assert_eq!(xc.lead_unit.as_deref(), Some(STREET));
    assert_eq!(
        pg.labelled_examples(2).unwrap(),
        lite.labelled_examples(2).unwrap()
    );
    assert_eq!(
        pg.recent_intakes(3).unwrap(),
        lite.recent_intakes(3).unwrap()
    );
    assert_eq!(pg.recent_intakes(3).unwrap()[0].title, "咨询公积金");
    assert_eq!(
        pg.correction_counts().unwrap(),
        lite.correction_counts().unwrap()
    );
    assert_eq!(pg.correction_counts().unwrap().reclassified, 1);

    let usage = pg.kb_usage(from, to).unwrap();
    assert_eq!(usage, (5, 1, vec![("kb-heat".to_string(), 1)]));
    assert_eq!(usage, lite.kb_usage(from, to).unwrap());

    assert_eq!(pg.pending_review_tickets().unwrap(), vec![b]);
    assert_eq!(
        pg.pending_review_tickets().unwrap(),
        lite.pending_review_tickets().unwrap()
    );
    assert_eq!(pg.escalated_tickets(10).unwrap(), vec![d, c]);
    assert_eq!(pg.escalated_tickets(1).unwrap(), vec![d]);
    assert_eq!(
        pg.escalated_tickets(10).unwrap(),
        lite.escalated_tickets(10).unwrap()
    );

    let un = pg.unresolved_callbacks(10).unwrap();
    assert_eq!(un, lite.unresolved_callbacks(10).unwrap());
    assert_eq!(un.len(), 1);
    assert_eq!((un[0].id, un[0].round), (d, 0));
    assert_eq!(un[0].satisfaction.as_deref(), Some("unsatisfied"));

    let closed_before = at(2026, 5, 1, 3);
    assert_eq!(pg.retention_candidates(closed_before, 10).unwrap(), vec![a]);
    assert_eq!(
        pg.retention_candidates(closed_before, 10).unwrap(),
        lite.retention_candidates(closed_before, 10).unwrap()
    );
    assert!(pg
        .retention_candidates(at(2026, 5, 1, 2), 10)
        .unwrap()
        .is_empty());
    assert_eq!(pg.data_key_usage().unwrap(), lite.data_key_usage().unwrap());
    assert_eq!(pg.data_key_usage().unwrap().1[0].1, 5);

    // a callback without its time sorts first in both (SQLite puts NULL first, PostgreSQL needs
    // NULLS FIRST): made by hand in both databases
    let fake = "UPDATE tickets SET status='callback_done', cb_resolution='unresolved', cb_at=NULL WHERE id=";
    rusqlite::Connection::open(dir.path().join("city.db"))
        .unwrap()
        .execute_batch(&format!("{fake}{b}"))
        .unwrap();
    client(&url).batch_execute(&format!("{fake}{b}")).unwrap();
    let un = pg.unresolved_callbacks(10).unwrap();
    assert_eq!(un, lite.unresolved_callbacks(10).unwrap());
    assert_eq!(un.iter().map(|u| u.id).collect::<Vec<_>>(), vec![b, d]);
}

#[test]
fn the_outbox_gives_the_same_positions_and_events_as_sqlite() {
    let Some((url, dir)) = fresh() else { return };
    let (pg, lite, [a, ..], _) = both(&url, dir.path());
    let all = pg.events_after(0, 1000).unwrap();
    assert_eq!(all, lite.events_after(0, 1000).unwrap());
    assert_eq!(all.len(), 20, "4 + 4 + 4 + 7 + 1 events");
    assert_eq!(
        all[0].0, 1,
        "the first event is at position 1, after cursor 0"
    );
    assert_eq!(all[0].1, a);
    // personal data is opened with the ticket's data key
    match &all[0].3.kind {
        jiesu_domain::EventKind::Created { intake, .. } => {
            assert_eq!(intake.requester.phone, "13900001111");
            assert_eq!(intake.place.address.as_deref(), Some("某小区3号楼"));
        }
        k => panic!("the first event is the creation, got {k:?}"),
    }
    assert!(all.windows(2).all(|w| w[1].0 == w[0].0 + 1));
    // a page after a cursor, and its limit
    let page = pg.events_after(5, 3).unwrap();
    assert_eq!(page, lite.events_after(5, 3).unwrap());
    assert_eq!(page.iter().map(|p| p.0).collect::<Vec<_>>(), vec![6, 7, 8]);
    let last = all.last().unwrap().0;
    assert!(pg.events_after(last, 10).unwrap().is_empty());
}

#[test]
fn intake_corrections_and_rechecks_are_written_like_sqlite() {
    let Some((url, dir)) = fresh() else { return };
    let (pg, lite, [a, b, c, d, e], _) = both(&url, dir.path());
    let now = at(2026, 5, 2, 2);
    let corr = |t| IntakeCorrection {
        ticket_id: t,
        suggested_category: Some("010101".into()),
        suggested_type: None,
        category_code: "020202".into(),
        request_type: "complaint".into(),
        model_version: Some("m-3".into()),
        user: "agent1".into(),
        now,
    };
    for s in [&pg as &dyn LabelStore, &lite as &dyn LabelStore] {
        assert!(s.record_intake_correction(corr(b)).unwrap());
        assert!(
            !s.record_intake_correction(corr(b)).unwrap(),
            "one per ticket"
        );
        assert!(s.record_intake_correction(corr(e)).unwrap());
    }
    assert_eq!(pg.correction_counts().unwrap().intake, 2);
    assert_eq!(
        pg.correction_counts().unwrap(),
        lite.correction_counts().unwrap()
    );
    assert_eq!(
        pg.labelled_examples(10).unwrap(),
        lite.labelled_examples(10).unwrap()
    );
    assert!(
        pg.labelled_examples(10)
            .unwrap()
            .iter()
            .find(|x| x.ticket_id == b)
            .unwrap()
            .intake_corrected
    );

    let recheck = |t, round, verdict, h| NewRecheck {
        ticket_id: t,
        round,
        callback_at: at(2026, 5, 1, 3),
        verdict,
        note: (verdict == RecheckVerdict::Disagree).then(|| "录音显示未解决".to_string()),
        user: "chief".into(),
        now: now + Duration::hours(h),
    };
    let mut recs = Vec::new();
    for s in [&pg as &dyn CallbackStore, &lite as &dyn CallbackStore] {
        let r1 = s
            .record_recheck(recheck(d, 1, RecheckVerdict::Disagree, 0))
            .unwrap();
        let r2 = s
            .record_recheck(recheck(a, 1, RecheckVerdict::Agree, 1))
            .unwrap();
        let r3 = s
            .record_recheck(recheck(99, 1, RecheckVerdict::Agree, 2))
            .unwrap();
        assert!(matches!(
            s.record_recheck(recheck(d, 1, RecheckVerdict::Agree, 3)),
            Err(StoreError::Conflict(_))
        ));
        let r4 = s
            .record_recheck(recheck(d, 2, RecheckVerdict::Agree, 4))
            .unwrap();
        recs.push((
            vec![r1, r2, r3, r4],
            s.rechecks_of(&[d, 99]).unwrap(),
            s.rechecks_of(&[]).unwrap(),
            s.rechecks_of(&[c]).unwrap(),
            s.rechecks_between(now, now + Duration::hours(3), 10)
                .unwrap(),
            s.rechecks_between(now, now + Duration::hours(10), 2)
                .unwrap(),
        ));
    }
    assert_eq!(recs[0], recs[1], "PostgreSQL and SQLite agree");
    let (made, of_d, none, of_c, between, limited) = &recs[0];
    assert_eq!(
        made.iter().map(|r| r.id).collect::<Vec<_>>(),
        vec![1, 2, 3, 4]
    );
    assert_eq!(
        made[0].number,
        lite.load_ticket(d).unwrap().unwrap().0.number
    );
    assert_eq!(made[0].verdict_zh, "复核不一致");
    assert_eq!(made[2].number, "", "an unknown ticket has no number");
    assert_eq!(of_d.iter().map(|r| r.id).collect::<Vec<_>>(), vec![1, 3, 4]);
    assert!(none.is_empty() && of_c.is_empty());
    assert_eq!(
        between.iter().map(|r| r.id).collect::<Vec<_>>(),
        vec![3, 2, 1]
    );
    assert_eq!(limited.iter().map(|r| r.id).collect::<Vec<_>>(), vec![4, 3]);
    // and each has its audit line
    let n: i64 = client(&url)
        .query_one(
            "SELECT COUNT(*) FROM audit_log WHERE action='callback_recheck'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(n, 4);
}

#[test]
fn a_rating_link_is_used_once_with_its_change_in_the_same_transaction() {
    let Some((url, dir)) = fresh() else { return };
    let (pg, lite, [_, b, ..], _) = both(&url, dir.path());
    let now = at(2026, 5, 2, 2);
    let note = |text: &str| Command::Note {
        unit: None,
        text: text.into(),
        public: false,
    };
    let mut states = Vec::new();
    for s in [&pg as &dyn RatingStore, &lite as &dyn RatingStore] {
        s.save_rating_token("h-1", b, 1, now, now + Duration::days(7))
            .unwrap();
        s.save_rating_token(
            "h-old",
            b,
            1,
            now - Duration::days(9),
            now - Duration::days(2),
        )
        .unwrap();
        assert_eq!(s.rating_token("h-1", now).unwrap(), Some((b, 1)));
        assert_eq!(s.rating_token("h-old", now).unwrap(), None, "expired");
        assert_eq!(s.rating_token("nope", now).unwrap(), None);
        // a change that fails spends nothing
        assert!(matches!(
            s.use_rating_token("h-1", 12345, command(note("x"), now), now),
            Err(StoreError::NotFound)
        ));
        assert_eq!(s.rating_token("h-1", now).unwrap(), Some((b, 1)));
        let st = s
            .use_rating_token("h-1", b, command(note("市民自评：满意"), now), now)
            .unwrap();
        assert!(matches!(
            s.use_rating_token("h-1", b, command(note("again"), now), now),
            Err(StoreError::NotFound)
        ));
        assert_eq!(s.rating_token("h-1", now).unwrap(), None, "used");
        states.push(st);
    }
    assert_eq!(states[0], states[1]);
    // the event went into the chain: the outbox reads it back the same on both
    let p = pg.events_after(0, 1000).unwrap();
    assert_eq!(p, lite.events_after(0, 1000).unwrap());
    assert!(matches!(
        &p.last().unwrap().3.kind,
        jiesu_domain::EventKind::NoteAdded { .. }
    ));
}

#[test]
fn a_rotation_rewraps_every_data_key_and_the_data_stays_readable() {
    let Some((url, dir)) = fresh() else { return };
    let (pg, lite, _, keyfile) = both(&url, dir.path());
    let before = pg.events_after(0, 1000).unwrap();
    drop(lite);
    drop(pg);
    let old = Keyring::load(&keyfile).unwrap();
    let rotated = old.with_new_master();
    rotated.save(&keyfile).unwrap();
    let pg = PgStore::open(&url).unwrap();
    let (current, usage) = pg.data_key_usage().unwrap();
    assert_eq!(current, rotated.current_id());
    assert_eq!(usage, vec![(old.current_id().to_string(), 5)]);
    let mut total = 0;
    loop {
        let n = pg.rewrap_data_keys(2).unwrap();
        assert!(n <= 2);
        if n == 0 {
            break;
        }
        total += n;
    }
    assert_eq!(total, 5);
    assert_eq!(
        pg.data_key_usage().unwrap().1,
        vec![(rotated.current_id().to_string(), 5)]
    );
    drop(pg);
    // the old master key can go: everything opens with the new one alone
    rotated.current_only().save(&keyfile).unwrap();
    let pg = PgStore::open(&url).unwrap();
    assert_eq!(pg.events_after(0, 1000).unwrap(), before);
}

#[test]
fn two_servers_adding_the_same_user_or_recheck_get_one_row_and_the_usual_refusals() {
    let Some((url, _dir)) = fresh() else { return };
    let stores = [PgStore::open(&url).unwrap(), PgStore::open(&url).unwrap()];
    let now = at(2026, 5, 1, 2);
    for round in 0..5u32 {
        let name = format!("user{round}");
        let results: Vec<_> = std::thread::scope(|sc| {
            let hs: Vec<_> = (0..8)
                .map(|i| {
                    let (s, name) = (&stores[i % 2], name.clone());
                    sc.spawn(move || {
                        (
                            s.add_user(&name, "h", "agent", None, now),
                            s.record_recheck(NewRecheck {
                                ticket_id: 1,
                                round,
                                callback_at: now,
                                verdict: RecheckVerdict::Agree,
                                note: None,
                                user: "chief".into(),
                                now,
                            }),
                        )
                    })
                })
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(results.iter().filter(|r| r.0.is_ok()).count(), 1);
        assert!(results
            .iter()
            .all(|r| matches!(r.0, Ok(_) | Err(StoreError::Invalid { .. }))));
        assert_eq!(results.iter().filter(|r| r.1.is_ok()).count(), 1);
        assert!(results
            .iter()
            .all(|r| matches!(r.1, Ok(_) | Err(StoreError::Conflict(_)))));
    }
}

// ---- migration 5: a street's work -------------------------------------------------------------

#[test]
fn a_database_from_before_migration_5_gets_the_street_work_tables_when_opened() {
    use jiesu_store::prelude::StreetWorkStore;
    let Some((url, _dir)) = fresh() else { return };
    drop(PgStore::open(&url).unwrap());
    // as a city migrated before version 5: without the tables and the migration's row
    client(&url)
        .batch_execute(
            "DROP TABLE street_interviews, street_items, street_changes;
             DELETE FROM schema_migrations WHERE version = 5;",
        )
        .unwrap();
    let store = PgStore::open(&url).unwrap();
    let item = jiesu_store::StreetItemRow {
        id: 0,
        street: "110102011".into(),
        district: "110102".into(),
        kind: "problem".into(),
        title: "群租房".into(),
        owner: "街道".into(),
        due: chrono::NaiveDate::from_ymd_opt(2026, 12, 31).unwrap(),
        status: "open".into(),
        progress: String::new(),
        version: 0,
        updated_by: "sup1".into(),
        created_at: at(2026, 11, 2, 3),
        updated_at: at(2026, 11, 2, 3),
    };
    let id = store.add_street_item(item).unwrap();
    assert_eq!(store.street_items("110102011").unwrap()[0].id, id);
    assert_eq!(store.street_changes("110102011", 5).unwrap().len(), 1);
    let applied: i64 = client(&url)
        .query_one(
            "SELECT COUNT(*) FROM schema_migrations WHERE version = 5",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(applied, 1);
}
