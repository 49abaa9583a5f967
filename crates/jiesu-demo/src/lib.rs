//! # jiesu-demo
//!
//! The calibrated demo city: a Beijing-like 12345 history generated through the real domain
//! transitions, and the statistics that check it against Beijing's figures.
//!
//! - [`generate`] writes the reference data and `months` of history ending at `end` into a
//!   store. `scale` 1.0 is Beijing's real volume (2021 level, ≈ 1,470万 requests a year).
//! - [`stats`] computes the calibration figures of a database (`jiesu stats --json`).
//!
//! The model (volumes, routing, handling times, callbacks) and every calibration figure with
//! target and achieved value are in `docs/DEMO_CITY.md`.
//!
//! Pipeline: the history is planned day by day (counts and id ranges, deterministic); two
//! generator threads produce alternate days of tickets — each ticket a pure function of (seed,
//! id, creation time) — in batches, which two importer threads write through
//! `TicketStore::import` (one transaction per batch) between `begin_bulk` and `end_bulk`. At
//! most a few batches are in flight, so memory stays flat whatever the scale.
//! [`Regenerator`] rebuilds any single ticket without a database.

pub mod calendar;
pub mod catalogue;
pub mod city;
pub mod flow;
pub mod kb_refs;
pub mod model;
pub mod rng;
pub mod stats;
pub mod text;

pub use stats::stats;

use anyhow::{bail, Context, Result};
use chrono::{DateTime, Utc};
use jiesu_domain::{Event, TicketState};
use jiesu_store::Store;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::mpsc;
use std::time::Instant;

/// What to generate.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GenerateOptions {
    /// Months of history (calendar months, Beijing time) ending at `end`.
    pub months: u32,
    /// 1.0 = Beijing's real volume.
    pub scale: f64,
    pub seed: u64,
    /// The history ends here (the caller passes "now"); nothing happens after it.
    pub end: DateTime<Utc>,
}

/// What was generated and where the time went.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GenerateReport {
    pub tickets: u64,
    pub events: u64,
    /// Wall-clock seconds of the whole run.
    pub seconds: f64,
    /// Seconds the writer spent in `import` (SQLite inserts, JSON encoding of events).
    pub write_seconds: f64,
    /// Seconds the writer waited for generated batches (generation was the bottleneck).
    pub wait_seconds: f64,
    /// Seconds spent rebuilding indexes at the end (`end_bulk`).
    pub index_seconds: f64,
    /// Seconds spent building the model and writing the reference data.
    pub setup_seconds: f64,
    /// Worker threads used for generation.
    pub workers: usize,
    /// Days of history.
    pub days: u64,
    /// First and last creation time.
    pub first_created: Option<DateTime<Utc>>,
    pub last_created: Option<DateTime<Utc>>,
    /// Tickets by final status (the open ones form the live queues).
    pub status: BTreeMap<String, u64>,
    /// CPU seconds (user + system) of the whole process so far, and of the store's writer
    /// thread alone (Linux; 0 elsewhere). On a busy machine these show what the run would take
    /// alone: about max(writer, process / cores).
    pub cpu_seconds: f64,
    pub writer_cpu_seconds: f64,
    /// Peak resident memory of the process so far, MiB (Linux `VmHWM`; 0 elsewhere).
    pub peak_rss_mb: f64,
}

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

/// (process, store writer thread) CPU seconds from `/proc` (Linux); zeros where unavailable.
fn cpu_seconds() -> (f64, f64) {
    fn ticks(stat: &str) -> Option<f64> {
        // fields after the parenthesised name: state is field 3; utime 14, stime 15
        let rest = stat.rsplit_once(')')?.1;
        let f: Vec<&str> = rest.split_whitespace().collect();
        let u: f64 = f.get(11)?.parse().ok()?;
        let s: f64 = f.get(12)?.parse().ok()?;
        Some((u + s) / 100.0)
    }
    let process = std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| ticks(&s))
        .unwrap_or(0.0);
    let mut writer = 0.0;
    if let Ok(dir) = std::fs::read_dir("/proc/self/task") {
        for e in dir.flatten() {
            let comm = std::fs::read_to_string(e.path().join("comm")).unwrap_or_default();
            if comm.trim() == "jiesu-writer" {
                if let Some(t) = std::fs::read_to_string(e.path().join("stat"))
                    .ok()
                    .and_then(|s| ticks(&s))
                {
                    writer += t;
                }
            }
        }
    }
    (process, writer)
}

/// The day-by-day plan of a history (counts and id ranges).
fn plan(opts: &GenerateOptions) -> Vec<calendar::DayPlan> {
    calendar::plan(
        opts.seed,
        opts.scale,
        opts.months,
        opts.end,
        &jiesu_refdata::profiles().overall.monthly,
    )
}

/// Share of all tickets that gives the size of the repeat-caller pool.
const CALLER_POOL_PER_TICKET: f64 = 0.14;

fn generator<'a>(
    city: &'a model::City,
    opts: &GenerateOptions,
    total: u64,
    routing: Option<(&'a jiesu_routing::Catalogue, &'a jiesu_routing::Router<'a>)>,
) -> flow::TicketGen<'a> {
    flow::TicketGen {
        city,
        routing,
        seed: opts.seed,
        end: opts.end,
        pool: ((total as f64) * CALLER_POOL_PER_TICKET).round().max(20.0) as u64,
        engine: jiesu_routing::DeadlineEngine::city_default(calendar::demo_zone(), opts.end),
        extra: city::extra_pools(),
    }
}

/// Regenerates single tickets of a demo city without a database: every ticket is a pure
/// function of the options and its id, so this gives exactly what [`generate`] wrote (used by
/// the tests to check stored tickets against their generation).
pub struct Regenerator {
    city: model::City,
    org: jiesu_domain::org::OrgTree,
    catalogue: jiesu_routing::Catalogue,
    opts: GenerateOptions,
    days: Vec<calendar::DayPlan>,
    total: u64,
}

impl Regenerator {
    pub fn new(opts: &GenerateOptions) -> Result<Regenerator> {
        let days = plan(opts);
        let total = days.iter().map(|d| d.count).sum();
        let city = city::beijing(opts.seed)?;
        let org = jiesu_domain::org::OrgTree::new(city.units.clone());
        let catalogue = catalogue::demo_catalogue(
            &org,
            &jiesu_domain::category::CategoryTree::new(city.categories.clone()),
        );
        Ok(Regenerator {
            city,
            org,
            catalogue,
            opts: opts.clone(),
            days,
            total,
        })
    }
    /// Tickets in the history.
    pub fn tickets(&self) -> u64 {
        self.total
    }
    /// Ticket `id` (1-based) as generated, or `None` outside the history.
    pub fn ticket(&self, id: i64) -> Result<Option<(TicketState, Vec<Event>)>> {
        let Some(day) = self
            .days
            .iter()
            .find(|d| id >= d.first_id && id < d.first_id + d.count as i64)
        else {
            return Ok(None);
        };
        let at = calendar::arrival_times(self.opts.seed, day)[(id - day.first_id) as usize];
        let router = self.catalogue.router_in(&self.org, calendar::demo_zone());
        let gen = generator(
            &self.city,
            &self.opts,
            self.total,
            Some((&self.catalogue, &router)),
        );
        gen.ticket(id, at).map(Some)
    }
    /// The calibrated model.
    pub fn city(&self) -> &model::City {
        &self.city
    }
}

/// Tickets per generated batch (and per `import` transaction).
pub const BATCH: usize = 8192;

type Batch = Vec<(TicketState, Vec<Event>)>;

/// Generates the demo city into `store` (which must hold no tickets yet). `progress(done, total)`
/// is called after every batch written.
pub fn generate(
    opts: &GenerateOptions,
    store: &dyn Store,
    progress: &dyn Fn(u64, u64),
) -> Result<GenerateReport> {
    let t0 = Instant::now();
    if !(opts.scale > 0.0 && opts.scale.is_finite()) {
        bail!("scale must be a positive number, got {}", opts.scale);
    }
    if opts.months == 0 {
        bail!("months must be at least 1");
    }
    let existing = store.ticket_count()?;
    if existing > 0 {
        bail!(
            "the database already holds {existing} tickets; generate the demo city into a new file"
        );
    }
    let city = city::beijing(opts.seed).context("building the demo city model")?;
    store
        .replace_reference(&city.units, &city.categories)
        .context("writing the reference data")?;
    store.set_meta("demo_city", "beijing")?;
    store.set_city_zone(calendar::demo_zone())?;
    store.set_meta("generated_at", &jiesu_store::time::fmt(opts.end))?;
    store.set_meta("demo_options", &serde_json::to_string(opts)?)?;

    let days = plan(opts);
    let total: u64 = days.iter().map(|d| d.count).sum();
    // the duty catalogue the centre dispatches by (published in the database too)
    let org = jiesu_domain::org::OrgTree::new(city.units.clone());
    let catalogue = catalogue::demo_catalogue(
        &org,
        &jiesu_domain::category::CategoryTree::new(city.categories.clone()),
    );
    store.save_catalogue(
        "published",
        &catalogue.to_csv(),
        catalogue.len(),
        "system",
        Some("demo city default catalogue"),
        opts.end,
    )?;
    let setup_seconds = t0.elapsed().as_secs_f64();
    progress(0, total);
    // secondary indexes are dropped and rebuilt once at the end: measured 2.5× faster than
    // maintaining them row by row
    store.begin_bulk()?;
    let batch_size = BATCH;

    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .clamp(1, 8);
    let importers = 2;
    let mut written = 0u64;
    let mut events = 0u64;
    let mut write_seconds = 0.0;
    let mut wait_seconds = 0.0;
    let mut status: BTreeMap<String, u64> = BTreeMap::new();
    let mut first_created = None;
    let mut last_created = None;

    std::thread::scope(|scope| -> Result<()> {
        // worker w generates days w, w + W, w + 2W … and sends their batches in order
        let mut rxs = Vec::new();
        for w in 0..workers {
            let (tx, rx) = mpsc::sync_channel::<Result<Batch>>(1);
            rxs.push(rx);
            let days = &days;
            let (city, catalogue, org) = (&city, &catalogue, &org);
            let seed = opts.seed;
            std::thread::Builder::new()
                .name(format!("jiesu-demo-gen{w}"))
                .spawn_scoped(scope, move || {
                    // the router caches per thread, so each generator thread has its own
                    let router = catalogue.router_in(org, calendar::demo_zone());
                    let gen = generator(city, opts, total, Some((catalogue, &router)));
                    for day in days.iter().skip(w).step_by(workers) {
                        let times = calendar::arrival_times(seed, day);
                        for (part, chunk) in times.chunks(batch_size).enumerate() {
                            let first = day.first_id + (part * batch_size) as i64;
                            let batch: Result<Batch> = chunk
                                .iter()
                                .enumerate()
                                .map(|(i, at)| gen.ticket(first + i as i64, *at))
                                .collect();
                            let failed = batch.is_err();
                            if tx.send(batch).is_err() || failed {
                                return;
                            }
                        }
                    }
                })
                .context("starting a generator thread")?;
        }
        // importers: each encodes its batch into SQL rows (JSON payloads, timestamps) and frees it
        // afterwards, so the store's single writer thread only inserts; with two importers one
        // encodes while the writer writes the other's batch
        let (done_tx, done_rx) = mpsc::channel::<Result<u64>>();
        let mut to_importer = Vec::new();
        for k in 0..importers {
            let (tx, rx) = mpsc::sync_channel::<Batch>(0);
            to_importer.push(tx);
            let done_tx = done_tx.clone();
            std::thread::Builder::new()
                .name(format!("jiesu-demo-imp{k}"))
                .spawn_scoped(scope, move || {
                    for batch in rx {
                        let n = batch.len() as u64;
                        let r = batch
                            .iter()
                            .map(|(st, events)| store.encode_ticket(st, events))
                            .collect::<jiesu_store::Result<Vec<_>>>()
                            .and_then(|enc| {
                                drop(batch);
                                store.import_encoded(enc)
                            })
                            .map(|_| n)
                            .context("writing generated tickets");
                        let failed = r.is_err();
                        if done_tx.send(r).is_err() || failed {
                            return;
                        }
                    }
                })
                .context("starting an importer thread")?;
        }
        drop(done_tx);
        let mut seq = 0usize;
        let mut note = |r: Result<u64>| -> Result<()> {
            written += r?;
            progress(written, total);
            Ok(())
        };
        for (i, day) in days.iter().enumerate() {
            let parts = (day.count as usize).div_ceil(batch_size);
            for _ in 0..parts {
                let tw = Instant::now();
                let batch = rxs[i % workers]
                    .recv()
                    .context("a generator thread stopped")??;
                wait_seconds += tw.elapsed().as_secs_f64();
                for (st, evs) in &batch {
                    events += evs.len() as u64;
                    *status.entry(st.status.as_str().to_string()).or_default() += 1;
                    first_created.get_or_insert(st.created_at);
                    last_created = Some(st.created_at);
                }
                let tw = Instant::now();
                if to_importer[seq % importers].send(batch).is_err() {
                    // the importer stopped on an error: report it
                    while let Ok(r) = done_rx.recv() {
                        note(r)?;
                    }
                    bail!("an importer thread stopped");
                }
                write_seconds += tw.elapsed().as_secs_f64();
                seq += 1;
                while let Ok(r) = done_rx.try_recv() {
                    note(r)?;
                }
            }
        }
        drop(to_importer);
        let tw = Instant::now();
        while let Ok(r) = done_rx.recv() {
            note(r)?;
        }
        write_seconds += tw.elapsed().as_secs_f64();
        Ok(())
    })?;

    let ti = Instant::now();
    // `end_bulk` ends with ANALYZE: a sampled one is as good for the planner and does not read
    // all of a Beijing-scale event log, and the index sorts spill to temporary files, not
    // memory, so a Beijing-scale build stays within its memory budget
    store.end_bulk(true)?;
    let index_seconds = ti.elapsed().as_secs_f64();
    let cpu = cpu_seconds();
    Ok(GenerateReport {
        tickets: written,
        events,
        seconds: t0.elapsed().as_secs_f64(),
        write_seconds,
        wait_seconds,
        index_seconds,
        setup_seconds,
        workers,
        days: days.len() as u64,
        first_created,
        last_created,
        status,
        cpu_seconds: cpu.0,
        writer_cpu_seconds: cpu.1,
        peak_rss_mb: peak_rss_mb(),
    })
}
