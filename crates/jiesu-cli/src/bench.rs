//! Benchmarks. Each prints its figure and the ratio against the reference its issue names,
//! measured side by side in the same run.

use anyhow::{bail, Context, Result};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use jiesu_domain::auth::Role;
use jiesu_domain::ticket::*;
use jiesu_domain::ActorRef;
use jiesu_http::AppState;
use jiesu_store::{NewTicket, Store};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

const PW: &str = "bench-password-1";

fn sample_intake(category: &str) -> Intake {
    Intake {
        channel: Channel::Phone,
        request_type: RequestType::Complaint,
        category_code: category.to_string(),
        title: "小区楼下夜间施工噪音扰民".into(),
        text: "朝阳区建外街道某小区楼下工地每天夜里十一点以后还在施工，噪音很大，影响休息，希望尽快处理。".into(),
        place: Place {
            district_code: "110105".into(),
            street_code: "110105001".into(),
            community_code: None,
            address: Some("建国门外大街1号院".into()),
            lat: None,
            lng: None,
        },
        requester: Requester { name: "张先生".into(), phone: "13812345678".into() },
        enterprise: false,
        tier: None,
        praised_unit: None,
        risk: None,
    }
}

fn fresh(db: &Path, now: chrono::DateTime<chrono::Utc>) -> Result<Arc<dyn Store>> {
    if jiesu_store::city_exists(db)? {
        bail!(
            "{} already holds a city; the benchmark needs a new file or an empty PostgreSQL database (nothing was changed)",
            db.display()
        );
    }
    let store = jiesu_store::open_store(db, jiesu_store::StoreOptions::default())?;
    crate::seed_reference(&*store, now)?;
    Ok(store)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// `jiesu bench intake`: N HTTP clients creating tickets (each durable before its 201) against the
/// same rows and events written in-process by N threads through the same store, same durability.
pub fn intake(
    db: &Path,
    clients: usize,
    seconds: u64,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<()> {
    if clients == 0 || clients > 4096 {
        bail!("--clients must be between 1 and 4096");
    }
    let pg_url = db
        .to_str()
        .filter(|s| jiesu_store::is_postgres_url(s))
        .map(str::to_string);
    let limit_db = db.with_extension("limit.db");
    let store = fresh(db, now)?;
    crate::add_user(&*store, "bench", "agent", None, PW, now)?;
    let kept = store.clone();
    let mut state = AppState::load(store)?;
    // one in-process client address and thousands of requests: the abuse limits stay off
    state.limiter = std::sync::Arc::new(jiesu_http::limits::Limiter::new(
        jiesu_http::limits::Limits::off(),
    ));
    let category = state
        .categories
        .leaves()
        .next()
        .map(|c| c.code.clone())
        .context("no categories")?;
    let body = serde_json::json!({
        "channel": "phone", "type": "complaint", "category_code": category,
        "title": "小区楼下夜间施工噪音扰民",
        "text": "朝阳区建外街道某小区楼下工地每天夜里十一点以后还在施工，噪音很大，影响休息，希望尽快处理。",
        "district_code": "110105", "street_code": "110105001", "address": "建国门外大街1号院",
        "requester": {"name": "张先生", "phone": "13812345678"}
    })
    .to_string();

    // 1. over HTTP
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let (count, mut lat) = rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let app = jiesu_http::router(state);
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        let token = login(addr).await?;
        let deadline = Instant::now() + Duration::from_secs(seconds);
        let mut tasks = Vec::new();
        for _ in 0..clients {
            let (token, body) = (token.clone(), body.clone());
            tasks.push(tokio::spawn(async move {
                client_loop(addr, &token, &body, deadline).await
            }));
        }
        let mut count = 0u64;
        let mut lat = Vec::new();
        for t in tasks {
            let (n, l) = t.await??;
            count += n;
            lat.extend(l);
        }
        anyhow::Ok((count, lat))
    })?;
    drop(rt);
    lat.sort_by(|a, b| a.total_cmp(b));
    let http_rate = count as f64 / seconds as f64;

    if let Some(url) = &pg_url {
        return pg_limit(url, &*kept, clients, seconds, http_rate, &lat);
    }
    drop(kept);
    // 2. the raw in-process limit: same store call, same rows/events, same durability, N threads
    let limit_store = fresh(&limit_db, now)?;
    let intake_rec = sample_intake(&category).check()?;
    // the same store call with `clients` requests in flight, submitted without threads or HTTP:
    // what the storage engine itself sustains with these durability settings
    let (tx, rx) = std::sync::mpsc::channel::<bool>();
    let start = Instant::now();
    let deadline = start + Duration::from_secs(seconds);
    let (mut inflight, mut raw) = (0usize, 0u64);
    loop {
        while inflight < clients && Instant::now() < deadline {
            let tx = tx.clone();
            limit_store.create_ticket_then(
                NewTicket {
                    intake: intake_rec.clone(),
                    actor: ActorRef {
                        user: "bench".into(),
                        role: Role::Agent,
                        unit: None,
                    },
                    now,
                    idempotency_key: None,
                    tracking_code: None,
                },
                Box::new(move |r| {
                    let _ = tx.send(r.is_ok());
                }),
            );
            inflight += 1;
        }
        if inflight == 0 {
            break;
        }
        if !rx.recv()? {
            bail!("a raw insert failed");
        }
        inflight -= 1;
        raw += 1;
    }
    let raw_rate = raw as f64 / start.elapsed().as_secs_f64();
    println!(
        "setup: {clients} clients, {seconds} s each side, SQLite WAL synchronous=FULL, group commit; every ticket durable before its answer"
    );
    println!(
        "intake: {:.0} tickets/s (p50 {:.2} ms, p99 {:.2} ms); limit: {:.0} tickets/s; ratio {:.2}",
        http_rate,
        percentile(&lat, 0.50),
        percentile(&lat, 0.99),
        raw_rate,
        http_rate / raw_rate.max(1e-9)
    );
    // what the tamper-evident chain and the sealing of personal data cost per ticket, measured
    // on this thread: both sides above include them, this says how much of a ticket's time it is
    let (per_ticket_us, n) = integrity_cost(200_000);
    println!(
        "integrity: hash chain + sealed personal data {:.1} µs per ticket ({n} measured), {:.1} % of the raw limit's time per ticket",
        per_ticket_us,
        per_ticket_us / (1e6 / raw_rate.max(1e-9)) * 100.0
    );
    let _ = std::fs::remove_file(&limit_db);
    let _ = std::fs::remove_file(limit_db.with_extension("db.keys"));
    let _ = std::fs::remove_file(db.with_extension("db.keys"));
    for ext in ["limit.db-wal", "limit.db-shm"] {
        let _ = std::fs::remove_file(db.with_extension(ext));
    }
    Ok(())
}

/// The PostgreSQL side of `bench intake`: the raw limit is the same rows written by `clients`
/// connections of this process, a transaction per ticket, the server's durability.
fn pg_limit(
    url: &str,
    store: &dyn Store,
    clients: usize,
    seconds: u64,
    http_rate: f64,
    lat: &[f64],
) -> Result<()> {
    let (st, events) = store
        .load_ticket(1)?
        .context("the HTTP side created no ticket to copy")?;
    let sample = store.encode_ticket(&st, &events)?;
    let raw = jiesu_store::pg::bench::raw_intake_limit(url, clients, seconds, &sample)?;
    let raw_rate = raw.tickets as f64 / raw.seconds.max(1e-9);
    let mut raw_lat = raw.latencies_ms;
    raw_lat.sort_by(|a, b| a.total_cmp(b));
    println!(
        "setup: {clients} clients, {seconds} s each side, PostgreSQL (synchronous_commit as the server sets it), one writer with group commit; every ticket committed before its answer"
    );
    println!(
        "intake: {:.0} tickets/s (p50 {:.2} ms, p99 {:.2} ms); limit: {:.0} tickets/s with {clients} connections, a transaction per ticket (p50 {:.2} ms, p99 {:.2} ms); ratio {:.2}",
        http_rate,
        percentile(lat, 0.50),
        percentile(lat, 0.99),
        raw_rate,
        percentile(&raw_lat, 0.50),
        percentile(&raw_lat, 0.99),
        http_rate / raw_rate.max(1e-9)
    );
    Ok(())
}

/// Microseconds per ticket of the integrity work a new ticket's row costs: a data key made and
/// wrapped, the personal data sealed, the event hashed, the phone's index hash.
fn integrity_cost(n: u32) -> (f64, u32) {
    let ring = jiesu_store::crypt::Keyring::generate();
    let payload = serde_json::to_string(&sample_intake("010101")).unwrap_or_default();
    let start = Instant::now();
    let mut sink = 0u8;
    for i in 0..n {
        let (dek, _, wrapped) = ring.new_data_key(i64::from(i));
        let sealed = dek.seal(
            i64::from(i),
            br#"{"name":"\u5f20\u5148\u751f","phone":"13812345678"}"#,
        );
        let h = jiesu_store::chain::event_hash(
            &jiesu_store::chain::GENESIS,
            &jiesu_store::chain::StoredEvent {
                ticket: i64::from(i),
                seq: 1,
                at: "2026-12-01T08:00:00.000000Z",
                kind: "created",
                actor: "agent",
                role: "agent",
                unit: None,
                payload: &payload,
                sealed: Some(&sealed),
            },
        );
        let idx = ring.phone_index("13812345678").unwrap_or_default();
        sink ^= h[0] ^ wrapped[0] ^ idx[0];
    }
    std::hint::black_box(sink);
    (start.elapsed().as_secs_f64() * 1e6 / f64::from(n), n)
}

type Conn = hyper::client::conn::http1::SendRequest<Full<Bytes>>;

async fn connect(addr: std::net::SocketAddr) -> Result<Conn> {
    let stream = tokio::net::TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (send, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(send)
}

async fn post(
    conn: &mut Conn,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> Result<(u16, Bytes)> {
    let mut req = hyper::Request::post(path)
        .header("host", "127.0.0.1")
        .header("content-type", "application/json");
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    let req = req.body(Full::new(Bytes::from(body.to_string())))?;
    conn.ready().await?;
    let resp = conn.send_request(req).await?;
    let status = resp.status().as_u16();
    let bytes = resp.into_body().collect().await?.to_bytes();
    Ok((status, bytes))
}

async fn login(addr: std::net::SocketAddr) -> Result<String> {
    let mut c = connect(addr).await?;
    let (st, b) = post(
        &mut c,
        "/api/v1/session",
        None,
        &format!(r#"{{"username":"bench","password":"{PW}"}}"#),
    )
    .await?;
    if st != 200 {
        bail!("bench log-in failed: {st} {}", String::from_utf8_lossy(&b));
    }
    let v: serde_json::Value = serde_json::from_slice(&b)?;
    Ok(v["token"].as_str().context("no token")?.to_string())
}

async fn client_loop(
    addr: std::net::SocketAddr,
    token: &str,
    body: &str,
    deadline: Instant,
) -> Result<(u64, Vec<f64>)> {
    let mut c = connect(addr).await?;
    let mut n = 0;
    let mut lat = Vec::new();
    while Instant::now() < deadline {
        let t0 = Instant::now();
        let (st, b) = post(&mut c, "/api/v1/tickets", Some(token), body).await?;
        if st != 201 {
            bail!("create answered {st}: {}", String::from_utf8_lossy(&b));
        }
        lat.push(t0.elapsed().as_secs_f64() * 1000.0);
        n += 1;
    }
    Ok((n, lat))
}

/// `jiesu bench generate`: runs `jiesu generate` as a child process and reports wall time and
/// peak resident memory (VmHWM from /proc), against the issue's goals (≤ 5 min, ≤ 2 GB at 1.0).
pub fn generate(db: &Path, scale: f64, months: u32) -> Result<()> {
    let exe = std::env::current_exe()?;
    let t0 = Instant::now();
    let mut child = std::process::Command::new(exe)
        .args(["generate", "--no-train", "--db"])
        .arg(db)
        .args([
            "--scale",
            &scale.to_string(),
            "--months",
            &months.to_string(),
        ])
        .stdout(std::process::Stdio::inherit())
        .stderr(std::process::Stdio::null())
        .spawn()?;
    let status_path = format!("/proc/{}/status", child.id());
    let mut peak_kb = 0u64;
    let status = loop {
        if let Ok(s) = std::fs::read_to_string(&status_path) {
            for line in s.lines() {
                if let Some(v) = line.strip_prefix("VmHWM:") {
                    let kb: u64 = v.trim().trim_end_matches("kB").trim().parse().unwrap_or(0);
                    peak_kb = peak_kb.max(kb);
                }
            }
        }
        if let Some(st) = child.try_wait()? {
            break st;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    if !status.success() {
        bail!("generate failed ({status})");
    }
    let secs = t0.elapsed().as_secs_f64();
    let gb = peak_kb as f64 / 1024.0 / 1024.0;
    // the goals are for a Beijing-scale year: at another size only the figures are printed
    if scale == 1.0 && months == 12 {
        println!(
            "generate: scale {scale} × {months} months in {secs:.1} s (goal ≤ 300 s: ratio {:.2}), peak memory {gb:.2} GB (goal ≤ 2 GB: ratio {:.2})",
            secs / 300.0,
            gb / 2.0
        );
    } else {
        println!(
            "generate: scale {scale} × {months} months in {secs:.1} s, peak memory {gb:.2} GB (the goals, ≤ 300 s and ≤ 2 GB, are for --scale 1.0 --months 12)"
        );
    }
    Ok(())
}
