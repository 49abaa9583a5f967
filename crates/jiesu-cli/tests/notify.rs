//! Outgoing notifications: signed webhooks and the SMS file log, delivered at least once.

mod common;
use common::*;
use hmac::{Hmac, Mac};
use serde_json::Value;

#[test]
fn ticket_events_reach_webhooks_signed_and_citizens_by_sms() {
    const SECRET: &str = "a-test-secret-of-some-length";
    let (url, got) = receiver();
    let sms = tempfile::NamedTempFile::new().unwrap();
    let sms_path = sms.path().to_str().unwrap().to_string();
    let s = server_full(
        |db| {
            ok(&["init", "--db", db.to_str().unwrap()]);
        },
        &[("agent1", "agent", None)],
        &["--webhook", &url, "--sms-log", &sms_path],
        &[("JIESU_WEBHOOK_SECRET", SECRET)],
    );
    let agent = login(&s, "agent1");
    let id = complaint_dispatched_to(&s, &agent, "110105", "110105001", "13812345678");
    let (_, _, t) = call(
        &s,
        "GET",
        &format!("/api/v1/tickets/{id}"),
        Some(&agent),
        None,
    );
    for _ in 0..150 {
        if got.lock().unwrap().len() >= 2 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let got = got.lock().unwrap().clone();
    assert!(got.len() >= 2, "webhook deliveries: {got:?}");
    for (sig, body) in &got {
        let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(SECRET.as_bytes()).unwrap();
        mac.update(body.as_bytes());
        assert_eq!(
            sig,
            &format!("sha256={}", hex::encode(mac.finalize().into_bytes())),
            "bad signature"
        );
        assert!(
            !body.contains("13812345678") && !body.contains("张先生"),
            "no personal data in webhooks"
        );
    }
    let kinds: Vec<String> = got
        .iter()
        .map(|(_, b)| {
            serde_json::from_str::<Value>(b).unwrap()["kind"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(&kinds[..2], ["created", "dispatched"]);
    let log = std::fs::read_to_string(&sms_path).unwrap();
    assert!(
        log.contains("13812345678") && log.contains(t["number"].as_str().unwrap()),
        "{log}"
    );
    // the intake SMS carries the tracking code (查询码), which no webhook carries
    let code: String = log
        .split("查询码 ")
        .nth(1)
        .expect("the intake SMS names the tracking code")
        .chars()
        .take(10)
        .collect();
    assert!(
        code.chars()
            .all(|c| "23456789ABCDEFGHJKMNPQRSTUVWXYZ".contains(c)),
        "{log}"
    );
    assert!(
        got.iter().all(|(_, b)| !b.contains(&code)),
        "no code in webhooks"
    );
}
