//! Helpers for integration tests against the real `jiesu` binary.
#![allow(dead_code)]

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

pub const PW: &str = "Pw-123456!";

pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_jiesu"))
}

pub fn jiesu(args: &[&str]) -> std::process::Output {
    Command::new(bin()).args(args).output().expect("run jiesu")
}

pub fn ok(args: &[&str]) -> String {
    let o = jiesu(args);
    assert!(
        o.status.success(),
        "jiesu {args:?} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).to_string()
}

pub struct Server {
    pub base: String,
    child: Child,
    pub dir: tempfile::TempDir,
    /// The city's database: `dir/city.db`, or a PostgreSQL URL (see [`test_db`]).
    pub db: PathBuf,
}

impl Server {
    /// A file derived from the database (`.keys`, `.signing-key`, `.models` …): beside the SQLite
    /// file, or in the PostgreSQL city's data directory (`dir`).
    pub fn beside(&self, suffix: &str) -> PathBuf {
        let base = match self.db.to_str() {
            Some(u) if u.starts_with("postgres") => {
                let name = u
                    .rsplit('/')
                    .next()
                    .unwrap_or("city")
                    .split('?')
                    .next()
                    .unwrap_or("city");
                self.dir.path().join(format!("{name}.pg"))
            }
            _ => self.db.clone(),
        };
        let mut p = base.into_os_string();
        p.push(suffix);
        PathBuf::from(p)
    }

    /// Opens the city's store in the test process (SQLite or PostgreSQL).
    pub fn store(&self) -> std::sync::Arc<dyn jiesu_store::Store> {
        jiesu_store::open_store(&self.db, Default::default()).unwrap()
    }
}

impl Drop for Server {
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

/// Where a test's city lives: `city.db` in `dir` (SQLite), or — when `JIESU_TEST_PG` names a
/// PostgreSQL server (`postgres://user@host:port`), as `scripts/test.sh` sets it for the suite's
/// PostgreSQL run — a new, empty database on that server, its local files (key file, models) in
/// `dir`. The same tests then run on both stores.
pub fn test_db(dir: &Path) -> PathBuf {
    match std::env::var("JIESU_TEST_PG") {
        Ok(base) if !base.is_empty() => {
            let base = base.trim_end_matches('/');
            let name = format!(
                "t{}_{}",
                std::process::id(),
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_nanos()
                    % 1_000_000_000_000
            );
            let mut admin = postgres::Client::connect(&format!("{base}/postgres"), postgres::NoTls)
                .expect("connect to the test PostgreSQL server (JIESU_TEST_PG)");
            admin
                .batch_execute(&format!("CREATE DATABASE {name}"))
                .expect("create a test database");
            // the key file and models of a PostgreSQL city go to its data directory; each test
            // runs in its own process (nextest), so the variable is this test's alone
            std::env::set_var("JIESU_DATA_DIR", dir);
            PathBuf::from(format!("{base}/{name}"))
        }
        _ => dir.join("city.db"),
    }
}

/// Where the store puts files derived from the database `db` (models, keys): the SQLite file
/// itself, or `<JIESU_DATA_DIR>/<name>.pg` for a PostgreSQL city (see `ReferenceStore::path`).
pub fn store_path(db: &Path) -> PathBuf {
    match db.to_str() {
        Some(u) if u.starts_with("postgres") => {
            let name = u.rsplit('/').next().unwrap_or("city");
            let name = name.split('?').next().unwrap_or(name);
            let dir = std::env::var_os("JIESU_DATA_DIR")
                .map(PathBuf::from)
                .unwrap_or_default();
            dir.join(format!("{name}.pg"))
        }
        _ => db.to_path_buf(),
    }
}

/// The classifier models' directory of the city at `db` (`<db>.models`).
pub fn models_dir(db: &Path) -> PathBuf {
    store_path(db).with_extension("models")
}

/// Whether this run's cities are PostgreSQL databases (see [`test_db`]).
pub fn on_postgres() -> bool {
    std::env::var("JIESU_TEST_PG").is_ok_and(|v| !v.is_empty())
}

/// A database with reference data, the given users, and a server on it.
pub fn server_with(db_setup: impl FnOnce(&Path), users: &[(&str, &str, Option<&str>)]) -> Server {
    server_full(db_setup, users, &[], &[])
}

/// As `server_with`, with extra `serve` arguments and environment.
pub fn server_full(
    db_setup: impl FnOnce(&Path),
    users: &[(&str, &str, Option<&str>)],
    extra: &[&str],
    env: &[(&str, &str)],
) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let db = test_db(dir.path());
    db_setup(&db);
    let dbs = db.to_str().unwrap();
    for (name, role, unit) in users {
        let mut a = vec![
            "user",
            "add",
            "--db",
            dbs,
            "--name",
            name,
            "--role",
            role,
            "--password",
            PW,
        ];
        if let Some(u) = unit {
            a.extend(["--unit", u]);
        }
        ok(&a);
    }
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let child = Command::new(bin())
        .args(["serve", "--db", dbs, "--listen", &listen])
        .args(extra)
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Owned by `Server` at once, so its Drop stops the child even if start-up fails.
    let server = Server {
        base: format!("http://{listen}"),
        child,
        dir,
        db,
    };
    for _ in 0..200 {
        if ureq::get(&format!("{}/api/openapi.json", server.base))
            .call()
            .is_ok()
        {
            return server;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("server did not start");
}

/// The instant every `server_at_clock` server starts at: 23:30 on 30 November 2026 in Beijing, the
/// last hour of a month (the boundary a clock bug shows at), whatever the hour the tests run.
pub const TEST_CLOCK: &str = "2026-11-30T15:30:00Z";

/// [`TEST_CLOCK`] as an instant.
pub fn test_now() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(TEST_CLOCK)
        .unwrap()
        .with_timezone(&chrono::Utc)
}

/// The city's date of [`TEST_CLOCK`] (the reference data's zone, Asia/Shanghai): 2026-11-30.
pub fn test_today() -> chrono::NaiveDate {
    jiesu_domain::CityZone::default().date(test_now())
}

/// As [`server`], with the server's clock starting at [`TEST_CLOCK`].
pub fn server_at_clock(users: &[(&str, &str, Option<&str>)]) -> Server {
    server_full(
        |db| {
            ok(&["init", "--db", db.to_str().unwrap()]);
        },
        users,
        &["--test-clock", TEST_CLOCK],
        &[],
    )
}

pub fn server(users: &[(&str, &str, Option<&str>)]) -> Server {
    server_with(
        |db| {
            ok(&["init", "--db", db.to_str().unwrap()]);
        },
        users,
    )
}

/// (status, content-type, body)
pub fn call(
    s: &Server,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> (u16, String, Value) {
    let mut req = ureq::request(method, &format!("{}{}", s.base, path));
    if let Some(t) = token {
        req = req.set("Authorization", &format!("Bearer {t}"));
    }
    let r = match body {
        Some(b) => req.set("Content-Type", "application/json").send_string(b),
        None => req.call(),
    };
    let resp = match r {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{method} {path}: {e}"),
    };
    let status = resp.status();
    let ct = resp.content_type().to_string();
    let text = resp.into_string().unwrap_or_default();
    let v = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, ct, v)
}

/// Takes in a complaint in the first leaf category at `street` (of `district`) and dispatches it
/// to that street as lead; returns the ticket id.
pub fn complaint_dispatched_to(
    s: &Server,
    token: &str,
    district: &str,
    street: &str,
    phone: &str,
) -> i64 {
    let cat = first_leaf(s);
    let body = serde_json::json!({"channel": "phone", "type": "complaint", "category_code": cat,
        "title": "噪音扰民", "text": "夜间施工噪音扰民，请尽快处理。", "district_code": district,
        "street_code": street, "requester": {"name": "王先生", "phone": phone}});
    let (st, _, t) = call(
        s,
        "POST",
        "/api/v1/tickets",
        Some(token),
        Some(&body.to_string()),
    );
    assert_eq!(st, 201, "{t}");
    let id = t["id"].as_i64().unwrap();
    let d =
        serde_json::json!({"assignments": [{"unit_code": street, "role": "lead"}], "tier": "7d"});
    let (st, _, v) = call(
        s,
        "POST",
        &format!("/api/v1/tickets/{id}/dispatch"),
        Some(token),
        Some(&d.to_string()),
    );
    assert_eq!(st, 200, "{v}");
    id
}

/// Percent-encodes a query value (every byte but ASCII letters and digits).
pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

pub fn login(s: &Server, name: &str) -> String {
    let (st, _, v) = call(
        s,
        "POST",
        "/api/v1/session",
        None,
        Some(&format!(r#"{{"username":"{name}","password":"{PW}"}}"#)),
    );
    assert_eq!(st, 200, "login {name}: {v}");
    v["token"].as_str().unwrap().to_string()
}

pub fn first_leaf(s: &Server) -> String {
    let (_, _, cats) = call(s, "GET", "/api/v1/categories", None, None);
    fn walk(v: &Value) -> Option<String> {
        let kids = v["children"].as_array()?;
        if kids.is_empty() {
            return v["code"].as_str().map(str::to_string);
        }
        kids.iter().find_map(walk)
    }
    cats.as_array().unwrap().iter().find_map(walk).unwrap()
}

/// What a test webhook receiver got: (signature header, body) of each POST.
pub type Received = std::sync::Arc<std::sync::Mutex<Vec<(String, String)>>>;

/// A tiny HTTP receiver for webhook tests: its URL and the (signature header, body) of each
/// POST it got, answered 200.
pub fn receiver() -> (String, Received) {
    use std::io::{BufRead, BufReader, Read, Write};
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", l.local_addr().unwrap());
    let got: Received = Default::default();
    let g = got.clone();
    std::thread::spawn(move || {
        for stream in l.incoming().flatten() {
            let mut r = BufReader::new(stream.try_clone().unwrap());
            let (mut len, mut sig) = (0usize, String::new());
            loop {
                let mut line = String::new();
                if r.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                let lower = line.to_ascii_lowercase();
                if let Some(v) = lower.strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap_or(0);
                }
                if lower.starts_with("x-jiesu-signature:") {
                    sig = line["x-jiesu-signature:".len()..].trim().to_string();
                }
            }
            let mut body = vec![0; len];
            let _ = r.read_exact(&mut body);
            g.lock()
                .unwrap()
                .push((sig, String::from_utf8_lossy(&body).to_string()));
            let mut s = stream;
            let _ =
                s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
        }
    });
    (url, got)
}
