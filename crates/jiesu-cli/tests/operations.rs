//! Operations against the real binary: liveness, readiness and metrics; JSON logs with request
//! ids; a graceful SIGTERM with a slow request in flight; an online backup while the server takes
//! tickets, restored identically; plain-words refusals. No timed assertions: waits are generous
//! polls.

mod common;

use common::*;
use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A server this test controls itself (signals, its standard error in a file).
struct Proc {
    child: Child,
    base: String,
    addr: String,
    log: PathBuf,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start(db: &Path, extra: &[&str]) -> Proc {
    let addr = format!("127.0.0.1:{}", free_port());
    // beside the database file, or in the data directory of a PostgreSQL city
    let log = store_path(db).with_extension("serve.log");
    let child = Command::new(bin())
        .args(["serve", "--db", db.to_str().unwrap(), "--listen", &addr])
        .args(extra)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let p = Proc {
        child,
        base: format!("http://{addr}"),
        addr,
        log,
    };
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_secs(60) {
        if ureq::get(&format!("{}/healthz", p.base)).call().is_ok() {
            return p;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("server did not start");
}

fn get(base: &str, path: &str) -> (u16, String, String) {
    let r = match ureq::get(&format!("{base}{path}")).call() {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{path}: {e}"),
    };
    let st = r.status();
    let ct = r.content_type().to_string();
    (st, ct, r.into_string().unwrap_or_default())
}

fn post(base: &str, path: &str, token: Option<&str>, body: &str) -> (u16, serde_json::Value) {
    let mut req = ureq::post(&format!("{base}{path}")).set("Content-Type", "application/json");
    if let Some(t) = token {
        req = req.set("Authorization", &format!("Bearer {t}"));
    }
    let r = match req.send_string(body) {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{path}: {e}"),
    };
    let st = r.status();
    (st, r.into_json().unwrap_or(serde_json::Value::Null))
}

fn login_at(base: &str, name: &str) -> String {
    let (st, v) = post(
        base,
        "/api/v1/session",
        None,
        &format!(r#"{{"username":"{name}","password":"{PW}"}}"#),
    );
    assert_eq!(st, 200, "{v}");
    v["token"].as_str().unwrap().to_string()
}

fn add_agent(db: &Path) {
    ok(&[
        "user",
        "add",
        "--db",
        db.to_str().unwrap(),
        "--name",
        "agent1",
        "--role",
        "agent",
        "--password",
        PW,
    ]);
}

/// The first leaf category of the city.
fn leaf(base: &str) -> String {
    let (_, _, text) = get(base, "/api/v1/categories");
    let cats: serde_json::Value = serde_json::from_str(&text).unwrap();
    fn walk(v: &serde_json::Value) -> Option<String> {
        let kids = v["children"].as_array()?;
        if kids.is_empty() {
            return v["code"].as_str().map(str::to_string);
        }
        kids.iter().find_map(walk)
    }
    cats.as_array().unwrap().iter().find_map(walk).unwrap()
}

fn intake(cat: &str, phone: &str) -> String {
    serde_json::json!({"channel": "phone", "type": "complaint", "category_code": cat,
        "title": "噪音扰民", "text": "夜间施工噪音扰民，请尽快处理。", "district_code": "110105",
        "street_code": "110105001", "requester": {"name": "王先生", "phone": phone}})
    .to_string()
}

fn sigterm(child: &Child) {
    let st = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
}

/// Waits (generously) for the process to exit; its exit code.
fn wait_exit(child: &mut Child) -> Option<i32> {
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_secs(60) {
        if let Some(st) = child.try_wait().unwrap() {
            return st.code();
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("the server did not exit after SIGTERM");
}

/// Checks the exposition text: every sample's metric family has a `# TYPE` line before it; gives
/// the families.
fn families(text: &str) -> HashSet<String> {
    let mut typed: HashSet<String> = HashSet::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let mut parts = rest.split_whitespace();
            let name = parts.next().unwrap().to_string();
            let kind = parts.next().unwrap();
            assert!(
                ["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind),
                "{line}"
            );
            typed.insert(name);
            continue;
        }
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        let name = line.split(['{', ' ']).next().unwrap_or_default();
        let value = line.rsplit(' ').next().unwrap_or_default();
        assert!(
            value.parse::<f64>().is_ok() || value == "+Inf",
            "not a sample value: {line}"
        );
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|s| {
                name.strip_suffix(s)
                    .filter(|base| typed.contains(*base))
                    .map(str::to_string)
            })
            .unwrap_or_else(|| name.to_string());
        assert!(typed.contains(&family), "{name} has no # TYPE line: {line}");
    }
    typed
}

#[test]
fn health_readiness_metrics_and_json_logs_without_personal_data() {
    let dir = tempfile::tempdir().unwrap();
    let db = test_db(dir.path());
    ok(&["init", "--db", db.to_str().unwrap()]);
    add_agent(&db);
    let s = start(&db, &["--log-format", "json"]);

    let (st, _, body) = get(&s.base, "/healthz");
    assert_eq!((st, body.as_str()), (200, "ok"));

    // a new city has too few tickets to train on: ready all the same, and it says why
    let t0 = Instant::now();
    let ready = loop {
        let (st, ct, body) = get(&s.base, "/readyz");
        if st == 200 {
            break body;
        }
        assert_eq!(st, 503, "{body}");
        assert!(ct.starts_with("application/problem+json"), "{ct}");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert!(v["detail"].as_str().unwrap().contains("not ready"), "{v}");
        assert!(v["detail_zh"].as_str().unwrap().contains("尚未就绪"), "{v}");
        assert!(t0.elapsed() < Duration::from_secs(120), "never ready: {v}");
        std::thread::sleep(Duration::from_millis(200));
    };
    let v: serde_json::Value = serde_json::from_str(&ready).unwrap();
    assert_eq!(v["status"], "ready", "{v}");
    assert_eq!(v["checks"]["store"], "ok", "{v}");
    assert_eq!(v["checks"]["schema"], "ok", "{v}");
    assert_eq!(v["checks"]["text_models"], "too_few_tickets", "{v}");

    // a ticket with a phone number: it must show up in no metric and no log line
    let phone = "13912345678";
    let tok = login_at(&s.base, "agent1");
    let cat = leaf(&s.base);
    let (st, t) = post(&s.base, "/api/v1/tickets", Some(&tok), &intake(&cat, phone));
    assert_eq!(st, 201, "{t}");
    let id = t["id"].as_i64().unwrap();
    let r = ureq::get(&format!("{}/api/v1/tickets/{id}", s.base))
        .set("Authorization", &format!("Bearer {tok}"))
        .set("x-request-id", "test-req-42")
        .call()
        .unwrap();
    assert_eq!(r.header("x-request-id"), Some("test-req-42"));
    // an unusable request id is replaced, never echoed
    let r = ureq::get(&format!("{}/healthz", s.base))
        .set("x-request-id", "bad id with spaces")
        .call()
        .unwrap();
    let given = r.header("x-request-id").unwrap_or_default().to_string();
    assert!(!given.is_empty() && !given.contains(' '), "{given}");

    let (st, ct, text) = get(&s.base, "/metrics");
    assert_eq!(st, 200);
    assert!(ct.starts_with("text/plain"), "{ct}");
    let fams = families(&text);
    for f in [
        "jiesu_http_requests_total",
        "jiesu_http_request_duration_seconds",
        "jiesu_store_writer_queue_depth",
        "jiesu_store_commit_duration_seconds",
        "jiesu_outbox_lag_events",
        "jiesu_scheduler_pass_duration_seconds",
        "jiesu_scheduler_reminders_total",
        "jiesu_classifier_ready",
        "jiesu_open_tickets",
        "jiesu_db_size_bytes",
    ] {
        assert!(fams.contains(f), "{f} missing:\n{text}");
    }
    assert!(
        text.contains(
            r#"jiesu_http_requests_total{route="/api/v1/tickets/{id}",method="GET",status="2xx"} 1"#
        ),
        "{text}"
    );
    assert!(
        text.contains(r#"jiesu_open_tickets{status="new"} 1"#),
        "{text}"
    );
    assert!(!text.contains(phone) && !text.contains(&format!("/tickets/{id}\"")));

    let s_log = s.log.clone();
    drop(s);
    let log = std::fs::read_to_string(&s_log).unwrap();
    assert!(!log.contains(phone), "a phone number in the log");
    assert!(!log.contains("王先生"), "a name in the log");
    let mut requests = 0;
    for line in log.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        if v["target"] == "jiesu::request" {
            requests += 1;
            assert!(v["span"]["request_id"].is_string(), "{line}");
            assert!(v["route"].is_string() && v["status"].is_number(), "{line}");
        }
    }
    assert!(requests >= 5, "{log}");
    assert!(log.contains("\"request_id\":\"test-req-42\""), "{log}");
}

#[test]
fn sigterm_lets_a_slow_request_finish_and_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let db = test_db(dir.path());
    ok(&["init", "--db", db.to_str().unwrap()]);
    add_agent(&db);
    let mut s = start(&db, &[]);
    // a log-in whose body arrives in two parts
    let body = format!(r#"{{"username":"agent1","password":"{PW}"}}"#);
    let (head, tail) = body.split_at(10);
    let mut conn = std::net::TcpStream::connect(&s.addr).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    write!(
        conn,
        "POST /api/v1/session HTTP/1.1\r\nHost: jiesu\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{head}",
        body.len()
    )
    .unwrap();
    conn.flush().unwrap();
    // the request is in flight once the metrics count it (besides the scrape itself)
    let t0 = Instant::now();
    loop {
        let (_, _, m) = get(&s.base, "/metrics");
        let n: f64 = m
            .lines()
            .find_map(|l| l.strip_prefix("jiesu_http_requests_in_flight "))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0);
        if n >= 2.0 {
            break;
        }
        assert!(t0.elapsed() < Duration::from_secs(30), "never in flight");
        std::thread::sleep(Duration::from_millis(50));
    }
    sigterm(&s.child);
    // new connections are refused soon after the signal
    let t0 = Instant::now();
    while std::net::TcpStream::connect(&s.addr).is_ok() {
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "still accepting after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // the slow request completes
    conn.write_all(tail.as_bytes()).unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("\"token\""), "{answer}");
    assert_eq!(wait_exit(&mut s.child), Some(0));
    let log = std::fs::read_to_string(&s.log).unwrap();
    assert!(log.contains("SIGTERM"), "{log}");
}

#[test]
fn backup_while_serving_under_load_restores_identically_with_its_attachments() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("city.db");
    let dbs = db.to_str().unwrap().to_string();
    ok(&[
        "generate",
        "--no-train",
        "--db",
        &dbs,
        "--months",
        "1",
        "--scale",
        "0.001",
        "--seed",
        "5",
    ]);
    add_agent(&db);
    let s = start(&db, &[]);
    let tok = login_at(&s.base, "agent1");
    let cat = leaf(&s.base);

    // tickets taken in while the backup runs; those answered before it started must be in it
    let stop = Arc::new(AtomicBool::new(false));
    let created: Arc<Mutex<Vec<(i64, Instant)>>> = Arc::default();
    let mut load = Vec::new();
    for w in 0..2 {
        let (stop, created, base, tok, cat) = (
            stop.clone(),
            created.clone(),
            s.base.clone(),
            tok.clone(),
            cat.clone(),
        );
        load.push(std::thread::spawn(move || {
            let mut i = 0;
            while !stop.load(Ordering::SeqCst) {
                let phone = format!("1390000{w}{i:03}");
                let (st, t) = post(&base, "/api/v1/tickets", Some(&tok), &intake(&cat, &phone));
                assert_eq!(st, 201, "{t}");
                created
                    .lock()
                    .unwrap()
                    .push((t["id"].as_i64().unwrap(), Instant::now()));
                i += 1;
            }
        }));
    }
    while created.lock().unwrap().len() < 10 {
        std::thread::sleep(Duration::from_millis(20));
    }
    // a photo on one of them: its file goes with the backup
    let with_photo = created.lock().unwrap()[0].0;
    let photo: Vec<u8> = (0..5000u32).map(|i| (i * 7 % 251) as u8).collect();
    let r = ureq::post(&format!(
        "{}/api/v1/tickets/{with_photo}/attachments?name=photo.jpg",
        s.base
    ))
    .set("Authorization", &format!("Bearer {tok}"))
    .set("Content-Type", "image/jpeg")
    .send_bytes(&photo)
    .unwrap();
    assert_eq!(r.status(), 201);
    let att: serde_json::Value = r.into_json().unwrap();
    let started = Instant::now();
    let out = dir.path().join("backup.db");
    let outs = out.to_str().unwrap().to_string();
    let printed = ok(&["backup", "--db", &dbs, "--out", &outs]);
    stop.store(true, Ordering::SeqCst);
    for t in load {
        t.join().unwrap();
    }
    assert!(printed.contains("match the source"), "{printed}");
    assert!(dir.path().join("backup.db.keys").is_file(), "{printed}");
    assert!(
        printed.contains("attachments: 1 files, 5000 bytes"),
        "{printed}"
    );

    let restored = dir.path().join("restored.db");
    let rs = restored.to_str().unwrap().to_string();
    let printed = ok(&["restore", "--from", &outs, "--db", &rs]);
    assert!(printed.contains("events"), "{printed}");
    assert!(dir.path().join("restored.db.keys").is_file());

    let a = jiesu_store::fingerprint_sqlite(&out).unwrap();
    let b = jiesu_store::fingerprint_sqlite(&restored).unwrap();
    assert_eq!(a, b, "{:?}", a.differences(&b));
    assert!(a.rows("events") > 1000);
    let in_backup: HashSet<i64> = b.tickets.iter().map(|t| t.0).collect();
    let before: Vec<i64> = created
        .lock()
        .unwrap()
        .iter()
        .filter(|(_, at)| *at < started)
        .map(|(id, _)| *id)
        .collect();
    assert!(before.len() >= 10);
    for id in &before {
        assert!(
            in_backup.contains(id),
            "ticket {id} was created before the backup and is missing"
        );
    }
    // the restored city opens with the key file put beside it: personal data reads back
    drop(s);
    {
        use jiesu_store::prelude::*;
        let store = jiesu_store::SqliteStore::open_with(
            &restored,
            jiesu_store::StoreOptions {
                durable: true,
                keys: jiesu_store::KeySource::Beside,
            },
        )
        .unwrap();
        let (t, _) = store.load_ticket(before[0]).unwrap().unwrap();
        assert!(
            t.intake.requester.phone.starts_with("1390000"),
            "{}",
            t.intake.requester.phone
        );
    }

    // the restored city serves the photo from its own attachments folder (the original's is gone)
    std::fs::remove_dir_all(db.with_extension("attachments")).unwrap();
    {
        let r = start(&restored, &[]);
        let tok = login_at(&r.base, "agent1");
        let got = ureq::get(&format!("{}{}", r.base, att["href"].as_str().unwrap()))
            .set("Authorization", &format!("Bearer {tok}"))
            .call()
            .unwrap();
        let mut bytes = Vec::new();
        got.into_reader().read_to_end(&mut bytes).unwrap();
        assert_eq!(bytes, photo);
    }

    // a second restore onto the same path is refused, in plain words, unless --force
    let o = jiesu(&["restore", "--from", &outs, "--db", &rs]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("already exists") && err.contains("--force"),
        "{err}"
    );
    ok(&["restore", "--from", &outs, "--db", &rs, "--force"]);
    assert_eq!(jiesu_store::fingerprint_sqlite(&restored).unwrap(), a);

    // a key file that does not fit the backup is found by the restore, in plain words
    let other = dir.path().join("other.db");
    std::fs::copy(&out, &other).unwrap();
    let other_keys = dir.path().join("other.db.keys");
    ok(&["keys", "new", "--out", other_keys.to_str().unwrap()]);
    let o = jiesu(&[
        "restore",
        "--from",
        other.to_str().unwrap(),
        "--db",
        dir.path().join("r2.db").to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("does not open its personal data"), "{err}");
}

#[test]
fn bad_input_is_refused_in_plain_words() {
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n).to_str().unwrap().to_string();
    let fails = |args: &[&str], words: &[&str]| {
        let o = jiesu(args);
        assert!(!o.status.success(), "{args:?} succeeded");
        let err = String::from_utf8_lossy(&o.stderr);
        for w in words {
            assert!(err.contains(w), "{args:?}: {err}");
        }
        assert!(!err.contains("panicked"), "{err}");
    };
    fails(
        &["backup", "--db", &p("none.db"), "--out", &p("b.db")],
        &["cannot read", "none.db"],
    );
    std::fs::write(p("notes.txt"), "not a database at all, just some words\n").unwrap();
    fails(
        &["backup", "--db", &p("notes.txt"), "--out", &p("b.db")],
        &["not a Jiesu database"],
    );
    fails(
        &["backup", "--db", "mysql://h/city", "--out", &p("b.db")],
        &["unknown database kind"],
    );
    fails(
        &[
            "backup",
            "--db",
            "postgres://u@no-such-host.invalid/city",
            "--out",
            &p("b.db"),
        ],
        &["cannot connect to PostgreSQL"],
    );
    fails(
        &["restore", "--from", &p("missing.db"), "--db", &p("new.db")],
        &["cannot read"],
    );
    assert!(!dir.path().join("new.db").exists());
    // a backup onto an existing file is refused too
    ok(&["init", "--db", &p("city.db")]);
    std::fs::write(p("taken.db"), "x").unwrap();
    fails(
        &["backup", "--db", &p("city.db"), "--out", &p("taken.db")],
        &["already exists", "--force"],
    );
    fails(
        &["backup", "--db", &p("city.db"), "--out", &p("nodir/b.db")],
        &["does not exist"],
    );
}

/// A webhook receiver: the bodies it got.
fn webhook_receiver() -> (String, Arc<Mutex<Vec<String>>>) {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", l.local_addr().unwrap());
    let got: Arc<Mutex<Vec<String>>> = Arc::default();
    let g = got.clone();
    std::thread::spawn(move || {
        for stream in l.incoming().flatten() {
            let mut r = BufReader::new(stream.try_clone().unwrap());
            let mut len = 0usize;
            loop {
                let mut line = String::new();
                if r.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; len];
            let _ = r.read_exact(&mut body);
            g.lock()
                .unwrap()
                .push(String::from_utf8_lossy(&body).to_string());
            let mut w = stream;
            let _ =
                w.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        }
    });
    (url, got)
}

#[test]
fn sigterm_sends_what_is_in_the_outbox_and_saves_the_cursor() {
    let dir = tempfile::tempdir().unwrap();
    let db = test_db(dir.path());
    ok(&["init", "--db", db.to_str().unwrap()]);
    add_agent(&db);
    let (url, got) = webhook_receiver();
    let addr = format!("127.0.0.1:{}", free_port());
    let mut child = Command::new(bin())
        .args(["serve", "--db", db.to_str().unwrap(), "--listen", &addr])
        .args(["--webhook", &url])
        .env("JIESU_WEBHOOK_SECRET", "a-secret-of-16-chars-or-more")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://{addr}");
    let t0 = Instant::now();
    while ureq::get(&format!("{base}/healthz")).call().is_err() {
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "server did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let tok = login_at(&base, "agent1");
    let cat = leaf(&base);
    let (st, t) = post(
        &base,
        "/api/v1/tickets",
        Some(&tok),
        &intake(&cat, "13800002222"),
    );
    assert_eq!(st, 201, "{t}");
    let number = t["number"].as_str().unwrap().to_string();
    // at once: the outbox's next timed pass is seconds away, the shutdown's last pass sends it
    sigterm(&child);
    assert_eq!(wait_exit(&mut child), Some(0));
    let bodies = got.lock().unwrap().clone();
    assert!(
        bodies
            .iter()
            .any(|b| b.contains(&number) && b.contains("\"created\"")),
        "{bodies:?}"
    );
    assert!(bodies.iter().all(|b| !b.contains("13800002222")));
    let store = jiesu_store::open_store(&db, Default::default()).unwrap();
    let cursor: i64 = store
        .meta("notify_cursor")
        .unwrap()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    assert!(cursor > 0, "the cursor was not saved");
    assert_eq!(store.ops_figures().unwrap().outbox_lag, Some(0));
}
