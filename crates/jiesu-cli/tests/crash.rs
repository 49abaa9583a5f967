//! The crash test against the real binary: `jiesu serve` on a throw-away city, a short concurrent
//! load (8 clients taking in tickets with `Idempotency-Key`s, dispatching and signing them), the
//! server killed with SIGKILL in the middle, a few rounds. After every restart: every ticket whose
//! intake was acknowledged (2xx) is there with its title, every acknowledged action is in its
//! events, the ticket view equals the fold of its events (status, version = last event), the
//! list's projection row agrees with both, each idempotency key made exactly one ticket, and
//! `jiesu verify` accepts the event log.

mod common;
use common::*;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Clients of the load.
const CLIENTS: usize = 8;
/// Rounds of load, kill and restart.
const ROUNDS: usize = 4;
/// Tickets acknowledged in a round before the kill.
const PER_ROUND: usize = 30;
const STREET: &str = "110105001";

/// A running `jiesu serve` that can be killed (SIGKILL: `Child::kill` on Unix).
struct Running {
    child: Child,
    base: String,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(db: &Path) -> Running {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listen = format!("127.0.0.1:{port}");
    let child = Command::new(bin())
        .args(["serve", "--db", db.to_str().unwrap(), "--listen", &listen])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let r = Running {
        child,
        base: format!("http://{listen}"),
    };
    // up within 30 s (a bound on start-up, not a measurement)
    for _ in 0..600 {
        if ureq::get(&format!("{}/healthz", r.base)).call().is_ok() {
            return r;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("server did not start");
}

fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(30))
        .build()
}

/// `Ok((status, body))` for any HTTP answer, `Err` when the transport failed (the server died).
fn send(
    a: &ureq::Agent,
    method: &str,
    url: &str,
    token: &str,
    key: Option<&str>,
    body: Option<&Value>,
) -> Result<(u16, Value), String> {
    let mut req = a
        .request(method, url)
        .set("Authorization", &format!("Bearer {token}"));
    if let Some(k) = key {
        req = req.set("Idempotency-Key", k);
    }
    let r = match body {
        Some(b) => req
            .set("Content-Type", "application/json")
            .send_string(&b.to_string()),
        None => req.call(),
    };
    let r = match r {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => return Err(e.to_string()),
    };
    let st = r.status();
    let text = r.into_string().map_err(|e| e.to_string())?;
    Ok((
        st,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    ))
}

fn log_in(base: &str, name: &str) -> String {
    let (st, v) = send(
        &agent(),
        "POST",
        &format!("{base}/api/v1/session"),
        "",
        None,
        Some(&json!({"username": name, "password": PW})),
    )
    .unwrap();
    assert_eq!(st, 200, "log-in {name}: {v}");
    v["token"].as_str().unwrap().to_string()
}

fn leaf_category(base: &str) -> String {
    let cats: Value = ureq::get(&format!("{base}/api/v1/categories"))
        .call()
        .unwrap()
        .into_json()
        .unwrap();
    fn walk(v: &Value) -> Option<String> {
        let kids = v["children"].as_array()?;
        if kids.is_empty() {
            return v["code"].as_str().map(str::to_string);
        }
        kids.iter().find_map(walk)
    }
    cats.as_array().unwrap().iter().find_map(walk).unwrap()
}

fn intake(cat: &str, title: &str) -> Value {
    json!({"channel": "phone", "type": "complaint", "category_code": cat, "title": title,
           "text": "小区楼下工地夜里十一点后仍在施工，噪音很大，希望尽快处理。",
           "district_code": "110105", "street_code": STREET,
           "requester": {"name": "张先生", "phone": "13812345678"}})
}

/// What the clients were told (and what they were not).
#[derive(Default)]
struct Ledger {
    /// key → (title, ticket id) of acknowledged intakes.
    acked: BTreeMap<String, (String, i64)>,
    /// key → intake form of intakes sent without an answer (in flight at the kill).
    unanswered: BTreeMap<String, Value>,
    /// ticket id → the acknowledged actions, in order ("dispatch", "sign").
    actions: HashMap<i64, Vec<&'static str>>,
    /// answers that were neither 2xx nor a dead server.
    wrong: Vec<String>,
}

/// What the clients of one round share.
struct Load {
    base: String,
    tok_agent: String,
    tok_unit: String,
    cat: String,
    round: usize,
    ledger: Arc<Mutex<Ledger>>,
    /// Intakes acknowledged this round.
    acked: AtomicUsize,
}

/// Client `n`: takes in tickets until the server dies, dispatching every second one and
/// signing every fourth.
fn client(load: &Load, n: usize) {
    let Load {
        base,
        tok_agent,
        tok_unit,
        cat,
        round,
        ledger,
        acked,
    } = load;
    let a = agent();
    for j in 0.. {
        let key = format!("crash-{round}-{n}-{j}");
        let title = format!("夜间施工噪音 第{round}轮 {n}-{j}");
        let form = intake(cat, &title);
        let url = format!("{base}/api/v1/tickets");
        let id = match send(&a, "POST", &url, tok_agent, Some(&key), Some(&form)) {
            Err(_) => {
                ledger.lock().unwrap().unanswered.insert(key, form);
                return;
            }
            Ok((201, v)) => {
                let id = v["id"].as_i64().unwrap();
                ledger.lock().unwrap().acked.insert(key, (title, id));
                acked.fetch_add(1, Ordering::SeqCst);
                id
            }
            Ok((st, v)) => {
                ledger
                    .lock()
                    .unwrap()
                    .wrong
                    .push(format!("intake {key}: {st} {v}"));
                return;
            }
        };
        let mut steps: Vec<(&'static str, &str, Value)> = vec![];
        if j % 2 == 0 {
            steps.push((
                "dispatch",
                tok_agent,
                json!({"assignments": [{"unit_code": STREET, "role": "lead"}], "tier": "7d"}),
            ));
        }
        if j % 4 == 0 {
            steps.push(("sign", tok_unit, json!({"unit_code": STREET})));
        }
        for (action, tok, body) in steps {
            let url = format!("{base}/api/v1/tickets/{id}/{action}");
            match send(&a, "POST", &url, tok, None, Some(&body)) {
                Err(_) => return,
                Ok((200, _)) => ledger
                    .lock()
                    .unwrap()
                    .actions
                    .entry(id)
                    .or_default()
                    .push(action),
                Ok((st, v)) => {
                    ledger
                        .lock()
                        .unwrap()
                        .wrong
                        .push(format!("{action} {id}: {st} {v}"));
                    return;
                }
            }
        }
    }
}

/// The status the ticket's events fold to, for the events this load writes.
fn folded_status(events: &[Value]) -> &'static str {
    let mut status = "new";
    for e in events {
        match e["kind"].as_str() {
            Some("created") => status = "new",
            Some("dispatched") => status = "dispatched",
            Some("signed") => status = "in_progress",
            _ => {}
        }
    }
    status
}

/// Runs `jiesu verify` on the stopped server's database, if this build has the command.
fn verify_log(db: &Path, round: usize) {
    let o = jiesu(&["verify", "--db", db.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    if err.contains("unrecognized subcommand") {
        if round == 0 {
            eprintln!("crash test: this build has no `jiesu verify`; the event log's hash chain is not checked");
        }
        return;
    }
    assert!(
        o.status.success(),
        "round {round}: jiesu verify failed: {err}{}",
        String::from_utf8_lossy(&o.stdout)
    );
}

/// Everything the clients were told is in the restarted server, and the views agree.
fn check(base: &str, ledger: &Ledger, round: usize) {
    let tok = log_in(base, "agent1");
    let a = agent();
    let (st, list) = send(
        &a,
        "GET",
        &format!("{base}/api/v1/tickets?page_size=500"),
        &tok,
        None,
        None,
    )
    .unwrap();
    assert_eq!(st, 200, "{list}");
    // one ticket per key: every intake of the load was keyed and is acknowledged by now
    assert_eq!(
        list["total"].as_u64().unwrap() as usize,
        ledger.acked.len(),
        "round {round}: tickets in the list vs acknowledged keys"
    );
    let rows: HashMap<i64, &Value> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["id"].as_i64().unwrap(), r))
        .collect();
    for (key, (title, id)) in &ledger.acked {
        let (st, t) = send(
            &a,
            "GET",
            &format!("{base}/api/v1/tickets/{id}"),
            &tok,
            None,
            None,
        )
        .unwrap();
        assert_eq!(st, 200, "round {round}: ticket {id} of {key} is gone: {t}");
        assert_eq!(t["title"], title.as_str(), "round {round}: {key}");
        let (st, ev) = send(
            &a,
            "GET",
            &format!("{base}/api/v1/tickets/{id}/events"),
            &tok,
            None,
            None,
        )
        .unwrap();
        assert_eq!(st, 200, "{ev}");
        let ev = ev.as_array().unwrap();
        assert_eq!(ev[0]["kind"], "created", "round {round}: {id}");
        let seqs: Vec<u64> = ev.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
        assert_eq!(
            seqs,
            (1..=ev.len() as u64).collect::<Vec<_>>(),
            "round {round}: ticket {id}'s events are numbered without gaps"
        );
        assert_eq!(t["version"], ev.len(), "round {round}: ticket {id}");
        let status = folded_status(ev);
        assert_eq!(t["status"], status, "round {round}: ticket {id}: {ev:?}");
        let row = rows.get(id).unwrap_or_else(|| panic!("{id} not listed"));
        assert_eq!(
            row["status"], status,
            "round {round}: ticket {id}'s projection row"
        );
        let kinds: Vec<&str> = ev.iter().filter_map(|e| e["kind"].as_str()).collect();
        for action in ledger.actions.get(id).into_iter().flatten() {
            let kind = match *action {
                "dispatch" => "dispatched",
                _ => "signed",
            };
            assert!(
                kinds.contains(&kind),
                "round {round}: acknowledged {action} of {id} lost: {kinds:?}"
            );
        }
    }
}

/// Sends again the intakes the last kill left without an answer, with their keys: each either
/// finds the ticket the server had committed (200) or takes it in now (201), never a second one.
/// Returns how many there were.
fn replay(base: &str, tok: &str, ledger: &Mutex<Ledger>) -> usize {
    let pending = std::mem::take(&mut ledger.lock().unwrap().unanswered);
    let n = pending.len();
    for (key, form) in pending {
        let (st, v) = send(
            &agent(),
            "POST",
            &format!("{base}/api/v1/tickets"),
            tok,
            Some(&key),
            Some(&form),
        )
        .unwrap();
        assert!(st == 200 || st == 201, "replay of {key}: {st} {v}");
        let title = form["title"].as_str().unwrap().to_string();
        let id = v["id"].as_i64().unwrap();
        ledger.lock().unwrap().acked.insert(key, (title, id));
    }
    n
}

#[test]
fn acknowledged_work_survives_kill_9_under_load() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("city.db");
    let dbs = db.to_str().unwrap();
    ok(&["init", "--db", dbs]);
    for (name, role, unit) in [
        ("agent1", "agent", None),
        ("jw", "unit_handler", Some(STREET)),
    ] {
        let mut args = vec![
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
            args.extend(["--unit", u]);
        }
        ok(&args);
    }
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let mut killed_in_flight = 0;
    for round in 0..ROUNDS {
        let mut server = start(&db);
        let base = server.base.clone();
        let tok_agent = log_in(&base, "agent1");
        let tok_unit = log_in(&base, "jw");
        let cat = leaf_category(&base);
        killed_in_flight += replay(&base, &tok_agent, &ledger);
        if round > 0 {
            check(&base, &ledger.lock().unwrap(), round);
        }
        let load = Arc::new(Load {
            base: base.clone(),
            tok_agent,
            tok_unit,
            cat,
            round,
            ledger: ledger.clone(),
            acked: AtomicUsize::new(0),
        });
        let acked = || load.acked.load(Ordering::SeqCst);
        let clients: Vec<_> = (0..CLIENTS)
            .map(|n| {
                let load = load.clone();
                std::thread::spawn(move || client(&load, n))
            })
            .collect();
        // kill -9 in the middle of the load, once the round's tickets are acknowledged
        // (waiting at most 60 s: a bound, not a measurement)
        for _ in 0..1200 {
            if acked() >= PER_ROUND {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        server.child.kill().unwrap();
        server.child.wait().unwrap();
        for c in clients {
            c.join().unwrap();
        }
        let l = ledger.lock().unwrap();
        assert!(
            l.wrong.is_empty(),
            "answers that are not 2xx: {:?}",
            l.wrong
        );
        assert!(
            acked() >= PER_ROUND,
            "round {round}: the load did not get going"
        );
        drop(l);
        verify_log(&db, round);
    }
    // the last restart
    let server = start(&db);
    let tok = log_in(&server.base, "agent1");
    killed_in_flight += replay(&server.base, &tok, &ledger);
    let l = ledger.lock().unwrap();
    check(&server.base, &l, ROUNDS);
    eprintln!(
        "crash test: {ROUNDS} kills, {} tickets, {} acknowledged actions, {killed_in_flight} intakes in flight at a kill",
        l.acked.len(),
        l.actions.values().map(Vec::len).sum::<usize>()
    );
}
