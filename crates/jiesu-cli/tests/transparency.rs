//! Signed checkpoints and Merkle proofs through the real binary: the daily checkpoint on the
//! server's clock, `jiesu checkpoint`, the public transparency routes and a citizen's timeline
//! proof — the signatures checked in Rust, the Merkle math by an independent Python verifier
//! written from RFC 9162.

mod common;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use common::*;
use serde_json::{json, Value};

fn users() -> Vec<(&'static str, &'static str, Option<&'static str>)> {
    vec![("admin1", "admin", None)]
}

fn advance(s: &Server, admin: &str, secs: i64) {
    let (st, _, v) = call(
        s,
        "POST",
        "/api/v1/test-clock",
        Some(admin),
        Some(&json!({"advance_seconds": secs}).to_string()),
    );
    assert_eq!(st, 200, "{v}");
}

fn file_public(s: &Server) -> (String, String) {
    let body = json!({"type": "complaint", "category_code": first_leaf(s), "title": "噪音扰民",
        "text": "夜间施工噪音扰民，请尽快处理。", "district_code": "110105", "street_code": "110105001",
        "requester": {"name": "王先生", "phone": "13812345678"}});
    let (st, _, v) = call(
        s,
        "POST",
        "/api/v1/public/tickets",
        None,
        Some(&body.to_string()),
    );
    assert_eq!(st, 201, "{v}");
    (
        v["number"].as_str().unwrap().to_string(),
        v["tracking_code"].as_str().unwrap().to_string(),
    )
}

fn checkpoints(s: &Server) -> Value {
    let (st, _, v) = call(
        s,
        "GET",
        "/api/v1/transparency/checkpoints?limit=100",
        None,
        None,
    );
    assert_eq!(st, 200, "{v}");
    v
}

fn log_key(s: &Server) -> jiesu_store::LogKey {
    let (st, _, k) = call(s, "GET", "/api/v1/transparency/key", None, None);
    assert_eq!(st, 200, "{k}");
    let public_key: [u8; 32] = B64
        .decode(k["public_key"].as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap();
    let key = jiesu_store::LogKey {
        origin: k["origin"].as_str().unwrap().into(),
        public_key,
    };
    assert_eq!(k["verifier_key"], key.verifier_key());
    key
}

/// An RFC 9162 §2.1.3.2 / §2.1.4.2 verifier written independently in Python: reads
/// `{"inclusion": [...], "consistency": [...]}` on stdin, prints one true/false per item.
const PY_VERIFIER: &str = r#"
import sys, json, hashlib, base64
def node(l, r): return hashlib.sha256(b"\x01" + l + r).digest()
def b(s): return base64.b64decode(s)
def inclusion(i, n, leaf, path, root):
    if i >= n: return False
    fn, sn, r = i, n - 1, leaf
    for p in path:
        if sn == 0: return False
        if fn & 1 or fn == sn:
            r = node(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1; sn >>= 1
        else:
            r = node(r, p)
        fn >>= 1; sn >>= 1
    return sn == 0 and r == root
def consistency(m, n, first, second, path):
    if m == n: return not path and first == second
    if m == 0: return not path and first == hashlib.sha256(b"").digest()
    if not path: return False
    if m & (m - 1) == 0: path = [first] + path
    fn, sn = m - 1, n - 1
    while fn & 1:
        fn >>= 1; sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0: return False
        if fn & 1 or fn == sn:
            fr, sr = node(c, fr), node(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1; sn >>= 1
        else:
            sr = node(sr, c)
        fn >>= 1; sn >>= 1
    return fr == first and sr == second and sn == 0
q = json.load(sys.stdin)
for x in q["inclusion"]:
    print(inclusion(x["pos"], x["size"], b(x["leaf"]), [b(p) for p in x["proof"]], b(x["root"])))
for x in q["consistency"]:
    print(consistency(x["from"], x["to"], b(x["from_root"]), b(x["to_root"]), [b(p) for p in x["proof"]]))
"#;

fn python_verdicts(q: &Value) -> Vec<bool> {
    use std::io::Write;
    let mut child = std::process::Command::new("python3")
        .args(["-c", PY_VERIFIER])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(q.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| l == "True")
        .collect()
}

#[test]
fn one_checkpoint_a_city_day_and_a_citizens_timeline_proves_against_it() {
    let s = server_at_clock(&users());
    let admin = login(&s, "admin1");
    let (number, code) = file_public(&s);
    // the day's checkpoint (23:30 on 30 November in the city)
    advance(&s, &admin, 1);
    let day1 = checkpoints(&s);
    let n1 = day1["items"].as_array().unwrap().len();
    assert!(n1 >= 1, "{day1}");
    assert!(day1["latest"]["at"]
        .as_str()
        .unwrap()
        .starts_with("2026-11-30T15:30"));
    // later the same day, the log grown: still that one checkpoint
    let (number2, code2) = file_public(&s);
    advance(&s, &admin, 60);
    assert_eq!(checkpoints(&s)["items"].as_array().unwrap().len(), n1);
    // the proof before the next checkpoint: the new ticket's events are not yet in one
    let (st, _, p) = call(
        &s,
        "GET",
        &format!("/api/v1/track/{number2}/proof?code={code2}"),
        None,
        None,
    );
    assert_eq!(st, 200, "{p}");
    assert!(
        p["checkpoint"]["tree_size"].as_u64().unwrap() <= p["events"][0]["pos"].as_u64().unwrap()
    );
    assert!(p["pending"].as_u64().unwrap() >= 1, "{p}");
    assert!(p["events"][0]["proof"].is_null(), "{p}");
    // past midnight in the city: exactly one new checkpoint, covering the whole log
    advance(&s, &admin, 3600);
    let day2 = checkpoints(&s);
    assert_eq!(day2["items"].as_array().unwrap().len(), n1 + 1, "{day2}");
    let latest = &day2["latest"];
    assert_eq!(latest["tree_size"], day2["log_size"]);
    // (an hour idle ends the session: log in again)
    let admin = login(&s, "admin1");
    advance(&s, &admin, 60);
    assert_eq!(checkpoints(&s)["items"].as_array().unwrap().len(), n1 + 1);

    // the signatures, checked with the published key
    let key = log_key(&s);
    for c in day2["items"].as_array().unwrap() {
        let body = jiesu_store::ledger::open_note(c["note"].as_str().unwrap(), &key).unwrap();
        assert_eq!(body.tree_size, c["tree_size"].as_u64().unwrap());
        assert_eq!(B64.encode(body.root), c["root_hash"].as_str().unwrap());
    }
    let forged = latest["note"].as_str().unwrap().replacen("\n", "\n1", 1);
    assert!(jiesu_store::ledger::open_note(&forged, &key).is_err());

    // the citizen's proof against the latest checkpoint
    let (st, _, p) = call(
        &s,
        "GET",
        &format!("/api/v1/track/{number}/proof?code={code}"),
        None,
        None,
    );
    assert_eq!(st, 200, "{p}");
    assert_eq!(p["checkpoint"]["tree_size"], latest["tree_size"]);
    assert_eq!(p["pending"], 0);
    let size = latest["tree_size"].as_u64().unwrap();
    let root = latest["root_hash"].as_str().unwrap();
    let events = p["events"].as_array().unwrap();
    assert!(!events.is_empty());
    for e in events {
        assert_eq!(e["public"], e["entry"].is_object(), "{e}");
    }
    let mut inclusion: Vec<Value> = events
        .iter()
        .map(|e| json!({"pos": e["pos"], "size": size, "leaf": e["leaf_hash"], "proof": e["proof"], "root": root}))
        .collect();
    // a changed leaf must fail
    let mut bad = inclusion[0].clone();
    bad["leaf"] = json!(B64.encode([7u8; 32]));
    inclusion.push(bad);

    let verdicts = python_verdicts(&json!({"inclusion": inclusion, "consistency": []}));
    let n = events.len();
    assert_eq!(verdicts.len(), n + 1);
    assert!(verdicts[..n].iter().all(|v| *v), "{verdicts:?}");
    assert!(!verdicts[n], "a changed leaf verified");

    // `jiesu checkpoint` makes one now, signed with the same key file
    file_public(&s);
    let db = s.db.clone();
    let note = ok(&["checkpoint", "--db", db.to_str().unwrap()]);
    let body = jiesu_store::ledger::open_note(&note, &key).unwrap();
    assert!(body.tree_size > latest["tree_size"].as_u64().unwrap());
    assert_eq!(checkpoints(&s)["latest"]["note"], note);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::metadata(s.beside(".signing-key")).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    }
    // consistency between the two checkpoints, both ways round the checks
    let from = latest["tree_size"].as_u64().unwrap();
    let to = body.tree_size;
    let (st, _, c) = call(
        &s,
        "GET",
        &format!("/api/v1/transparency/consistency?from={from}&to={to}"),
        None,
        None,
    );
    assert_eq!(st, 200, "{c}");
    assert_eq!(c["from_root"], latest["root_hash"]);
    let mut rewritten = c.clone();
    rewritten["from_root"] = json!(B64.encode([9u8; 32]));
    let verdicts = python_verdicts(&json!({"inclusion": [], "consistency": [c, rewritten]}));
    assert_eq!(verdicts, [true, false]);
    // and the same math in Rust
    let h =
        |v: &Value| -> [u8; 32] { B64.decode(v.as_str().unwrap()).unwrap().try_into().unwrap() };
    let proof: Vec<[u8; 32]> = c["proof"].as_array().unwrap().iter().map(h).collect();
    assert!(jiesu_store::merkle::verify_consistency(
        from,
        to,
        &h(&c["from_root"]),
        &h(&c["to_root"]),
        &proof
    ));

    // a wrong code, a size that is no checkpoint: refused
    let (st, _, _) = call(
        &s,
        "GET",
        &format!("/api/v1/track/{number}/proof?code=ZZZZZZZZZZ"),
        None,
        None,
    );
    assert_eq!(st, 404);
    let (st, _, e) = call(
        &s,
        "GET",
        &format!("/api/v1/transparency/consistency?from={from}&to={}", to + 1),
        None,
        None,
    );
    assert_eq!(st, 404, "{e}");
    let (st, _, e) = call(
        &s,
        "GET",
        "/api/v1/transparency/consistency?from=5&to=2",
        None,
        None,
    );
    assert_eq!(st, 422, "{e}");

    // the offline verifier reads an SQLite file (`jiesu verify`); a PostgreSQL city's checkpoints
    // were checked above through the API
    if !common::on_postgres() {
        let report = jiesu_store::verify_checkpoints_file(&db).unwrap();
        assert!(report.ok(), "{:?}", report.problems);
        assert_eq!(report.checkpoints as usize, n1 + 2);
    }
}
