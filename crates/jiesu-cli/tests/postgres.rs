//! What only PostgreSQL has: `jiesu migrate` from an SQLite city. Runs in the suite's PostgreSQL
//! run (`JIESU_TEST_PG`, set by scripts/test.sh); in the SQLite run each test says on one line
//! that it was skipped.

mod common;

use common::*;
use serde_json::json;

fn skip() -> bool {
    if !on_postgres() {
        println!(
            "skipped: JIESU_TEST_PG is not set (scripts/test.sh sets it for the PostgreSQL run)"
        );
        return true;
    }
    false
}

#[test]
fn migrate_copies_a_city_verifies_it_resumes_and_opens_its_sealed_data() {
    if skip() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let lite = dir.path().join("old.db");
    let l = lite.to_str().unwrap();
    ok(&[
        "generate",
        "--no-train",
        "--db",
        l,
        "--months",
        "1",
        "--scale",
        "0.001",
        "--seed",
        "4",
    ]);
    ok(&[
        "user",
        "add",
        "--db",
        l,
        "--name",
        "disp1",
        "--role",
        "dispatcher",
        "--password",
        PW,
    ]);
    let key = ok(&[
        "partner",
        "add",
        "--db",
        l,
        "--name",
        "wx",
        "--channel",
        "wechat",
    ])
    .lines()
    .next()
    .unwrap_or_default()
    .to_string();
    let pg = test_db(dir.path());
    let p = pg.to_str().unwrap();
    let out = ok(&["migrate", "--from", l, "--to", p]);
    assert!(out.contains("verified"), "{out}");
    let line = |out: &str, t: &str| {
        out.lines()
            .find(|x| x.split_whitespace().next() == Some(t))
            .unwrap_or_else(|| panic!("no line for {t} in {out}"))
            .to_string()
    };
    assert!(!line(&out, "events").contains("copied now"), "{out}");
    // a second run finds everything there and copies nothing
    let again = ok(&["migrate", "--from", l, "--to", p]);
    assert!(line(&again, "events").contains("(0 copied now)"), "{again}");
    // partners came along, and the next one gets a new id (the identity moved past theirs)
    let on_pg = |args: &[&str]| {
        let o = std::process::Command::new(bin())
            .args(args)
            .env("JIESU_KEY_FILE", format!("{l}.keys"))
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).to_string()
    };
    on_pg(&[
        "partner",
        "add",
        "--db",
        p,
        "--name",
        "grid",
        "--channel",
        "grid",
    ]);
    assert_eq!(on_pg(&["partner", "list", "--db", p]).lines().count(), 2);
    // the PostgreSQL city serves with the old key file: sealed personal data opens
    let keys = format!("{l}.keys");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = std::process::Command::new(bin())
        .args(["serve", "--db", p, "--listen", &format!("127.0.0.1:{port}")])
        .env("JIESU_KEY_FILE", &keys)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let mut up = false;
    for _ in 0..200 {
        if ureq::get(&format!("{base}/api/openapi.json"))
            .call()
            .is_ok()
        {
            up = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let result = std::panic::catch_unwind(|| {
        assert!(up, "the server on the migrated city did not start");
        let token: serde_json::Value = ureq::post(&format!("{base}/api/v1/session"))
            .send_json(json!({"username": "disp1", "password": PW}))
            .unwrap()
            .into_json()
            .unwrap();
        let token = token["token"].as_str().unwrap().to_string();
        let t: serde_json::Value = ureq::get(&format!("{base}/api/v1/tickets/1"))
            .set("Authorization", &format!("Bearer {token}"))
            .call()
            .unwrap()
            .into_json()
            .unwrap();
        let phone = t["requester"]["phone"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(
            phone.len() == 11 && phone.chars().all(|c| c.is_ascii_digit()),
            "a dispatcher reads the sealed phone of a migrated ticket: {t}"
        );
        // the partner's key still files through Open311
        let code = t["category_code"].as_str().unwrap().to_string();
        let street = t["place"]["street_code"].as_str().unwrap().to_string();
        let r = ureq::post(&format!("{base}/open311/v2/requests.json")).send_form(&[
            ("api_key", key.as_str()),
            ("service_code", code.as_str()),
            ("address_id", street.as_str()),
            ("description", "路灯不亮"),
            ("first_name", "先生"),
            ("last_name", "王"),
            ("phone", "13700001234"),
        ]);
        match r {
            Ok(r) => assert_eq!(r.status(), 201),
            Err(e) => panic!("Open311 POST on the migrated city: {e}"),
        }
    });
    let _ = child.kill();
    let _ = child.wait();
    result.unwrap();
}

#[test]
fn migrate_refuses_a_database_that_holds_another_city_and_bad_arguments() {
    if skip() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let lite = dir.path().join("old.db");
    let l = lite.to_str().unwrap();
    ok(&["init", "--db", l]);
    let pg = test_db(dir.path());
    let p = pg.to_str().unwrap();
    ok(&["init", "--db", p]);
    let o = jiesu(&["migrate", "--from", l, "--to", p]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("already holds a city") && err.contains("已有城市数据"),
        "{err}"
    );
    let o = jiesu(&["migrate", "--from", l, "--to", "city.db"]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("PostgreSQL URL"));
    let o = jiesu(&["migrate", "--from", "/no/such.db", "--to", p]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("does not exist"));
}

#[test]
fn backup_while_serving_restores_identically_and_misses_nothing_written_before() {
    if skip() {
        return;
    }
    let s = server_with(
        |db| {
            ok(&[
                "generate",
                "--no-train",
                "--db",
                db.to_str().unwrap(),
                "--months",
                "1",
                "--scale",
                "0.001",
                "--seed",
                "6",
            ]);
        },
        &[("agent1", "agent", None)],
    );
    let token = login(&s, "agent1");
    let cat = first_leaf(&s);
    let body = json!({"channel": "phone", "type": "complaint", "category_code": cat,
        "title": "路灯不亮", "text": "小区门口路灯一周不亮。", "district_code": "110105",
        "street_code": "110105001", "requester": {"name": "张先生", "phone": "13812345678"}})
    .to_string();
    let created = |n: usize| -> Vec<i64> {
        (0..n)
            .map(|_| {
                let (st, _, t) = call(&s, "POST", "/api/v1/tickets", Some(&token), Some(&body));
                assert_eq!(st, 201, "{t}");
                t["id"].as_i64().unwrap()
            })
            .collect()
    };
    let before = created(5);
    // a photo on one of them: its file goes with the backup and comes back beside the restored city
    let photo: Vec<u8> = (0..3000u32).map(|i| (i * 13 % 251) as u8).collect();
    let r = ureq::post(&format!(
        "{}/api/v1/tickets/{}/attachments?name=photo.jpg",
        s.base, before[0]
    ))
    .set("Authorization", &format!("Bearer {token}"))
    .set("Content-Type", "image/jpeg")
    .send_bytes(&photo)
    .unwrap();
    assert_eq!(r.status(), 201);
    let att: serde_json::Value = r.into_json().unwrap();
    let out = s.dir.path().join("city.dump");
    let (o, later) = std::thread::scope(|sc| {
        let load = sc.spawn(|| created(20));
        let o = jiesu(&[
            "backup",
            "--db",
            s.db.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]);
        (o, load.join().unwrap())
    });
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(out.exists() && s.dir.path().join("city.dump.manifest.json").exists());
    let target = test_db(s.dir.path());
    let r = jiesu(&[
        "restore",
        "--from",
        out.to_str().unwrap(),
        "--db",
        target.to_str().unwrap(),
    ]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let text = String::from_utf8_lossy(&r.stdout).to_string();
    assert!(text.contains("match the source"), "{text}");
    assert!(text.contains("attachments: 1 files, 3000 bytes"), "{text}");
    let restored = jiesu_store::open_store(&target, Default::default()).unwrap();
    let file = jiesu_store::attachment_files::attachment_path(
        &jiesu_store::attachment_files::attachments_dir(restored.path()),
        before[0],
        att["id"].as_str().unwrap(),
    );
    assert_eq!(std::fs::read(&file).unwrap(), photo, "{}", file.display());
    for id in &before {
        assert!(
            restored.load_ticket(*id).unwrap().is_some(),
            "ticket {id} written before the backup is missing"
        );
    }
    assert!(!later.is_empty());
    // a second restore into the same database is refused
    let again = jiesu(&[
        "restore",
        "--from",
        out.to_str().unwrap(),
        "--db",
        target.to_str().unwrap(),
    ]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already holds a city"));
}
