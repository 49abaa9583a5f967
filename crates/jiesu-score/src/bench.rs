//! `jiesu bench score`: the monthly scorecard of every unit at every level over a Beijing-scale
//! month, ours against DuckDB running equivalent SQL over the same rows in Parquet, in one run.
//!
//! What is timed, for both (median of `--runs`, files warm in the page cache):
//! - ours: open the database, read the organisation tree, check the fact file is current (one
//!   look-up at the end of the event log), read the fact file's scoring columns, and compute the
//!   four levels' scorecards (counts, rates, composite, ranks with ties, Wilson intervals,
//!   case-mix expected/adjusted rates, 行业三率) into memory;
//! - DuckDB: connect, read the Parquet files (facts and units) and run the equivalent SQL, fetching
//!   every result row into Python.
//!
//! Not timed, reported separately: generating the city, building our fact file from SQLite and
//! writing DuckDB's Parquet (each is a one-off per month of data).
//!
//! DuckDB is a Python package installed for the benchmark only (a venv in the cache directory,
//! `pip install --user` as a fallback); it is never a product dependency.

use crate::facts::{load_facts, CacheMode, Columns, FactSource, FactTable};
use crate::month::Month;
use crate::policy::PolicySet;
use crate::score::{score_levels, Level, ScoreOptions, Scorecard};
use crate::service;
use anyhow::{bail, Context, Result};
use jiesu_domain::org::OrgTree;
use jiesu_store::prelude::*;
use jiesu_store::SqliteStore;
use serde::Deserialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

const DUCKDB_SCRIPT: &str = include_str!("../bench/duckdb_score.py");

/// `jiesu bench score`.
#[derive(clap::Args, Debug, Clone)]
pub struct BenchScoreArgs {
    /// The database to score; generated with `jiesu generate --months 1 --scale S` if it does not
    /// exist (default: a cached one in the cache directory, reused across runs).
    #[arg(long)]
    pub db: Option<PathBuf>,
    /// Volume when generating (1.0 = Beijing: about 600k dispatched tickets a month).
    #[arg(long, default_value_t = 1.0)]
    pub scale: f64,
    /// The month to score (default: the month with the most first dispatches).
    #[arg(long)]
    pub period: Option<Month>,
    /// Timed runs of each side (the median is reported).
    #[arg(long, default_value_t = 5)]
    pub runs: usize,
    /// The Python interpreter used to install and run DuckDB.
    #[arg(long, default_value = "python3")]
    pub python: String,
    /// Cache directory (venv, Parquet, default database). Default: $JIESU_CACHE_DIR, else
    /// $XDG_CACHE_HOME/jiesu, else ~/.cache/jiesu.
    #[arg(long)]
    pub cache_dir: Option<PathBuf>,
    /// Keep the CSV and Parquet files (printed) for inspection.
    #[arg(long)]
    pub keep_files: bool,
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    if v.is_empty() {
        return f64::NAN;
    }
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn has_tickets(db: &Path) -> bool {
    SqliteStore::open(db)
        .and_then(|s| s.ticket_count())
        .map(|n| n > 0)
        .unwrap_or(false)
}

/// Runs `jiesu bench score` and prints its report; the last line is `ratio R` (ours / DuckDB).
pub fn run_bench_score(args: BenchScoreArgs) -> Result<()> {
    if args.runs == 0 || args.runs > 100 {
        bail!("--runs must be between 1 and 100");
    }
    let cache = args
        .cache_dir
        .clone()
        .unwrap_or_else(jiesu_pybaseline::cache_dir);
    std::fs::create_dir_all(&cache)
        .with_context(|| format!("cannot create the cache directory {}", cache.display()))?;
    let db = args
        .db
        .clone()
        .unwrap_or_else(|| cache.join(format!("bench-score-scale{}.db", args.scale)));

    // 1. the data: reuse or generate one Beijing-scale month
    if db.exists() && has_tickets(&db) {
        println!("data   : reusing {}", db.display());
    } else {
        if db.exists() {
            bail!(
                "{} exists but holds no tickets; remove it or pass another --db",
                db.display()
            );
        }
        let exe = std::env::current_exe().context("cannot find the jiesu binary")?;
        println!(
            "data   : generating one month at scale {} into {} (one-off) …",
            args.scale,
            db.display()
        );
        let t = Instant::now();
        let out = Command::new(&exe)
            .arg("generate")
            .arg("--db")
            .arg(&db)
            .args(["--months", "1", "--scale", &args.scale.to_string()])
            .output()
            .with_context(|| format!("cannot run {} generate", exe.display()))?;
        if !out.status.success() {
            let _ = std::fs::remove_file(&db);
            let err = String::from_utf8_lossy(&out.stderr);
            let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
            bail!(
                "`{} generate` failed ({}):\n{}",
                exe.display(),
                out.status,
                lines[lines.len().saturating_sub(6)..].join("\n")
            );
        }
        println!("data   : generated in {:.0} s", t.elapsed().as_secs_f64());
    }
    let store = service::open_existing(&db)?;
    let period = match args.period {
        Some(p) => p,
        None => busiest_month(&*store)?,
    };
    let policies = PolicySet::shipped_default();
    let policy = policies
        .for_month(period)
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .clone();
    let (start, end) = policy.period_bounds(period);

    // 2. our fact file (one-off per month of data; refreshed when the database changes)
    let t = Instant::now();
    let (facts, source) = load_facts(&*store, start, end, Columns::full(), CacheMode::Use)?;
    let built = t.elapsed().as_secs_f64();
    let tickets = facts.ticket_first.iter().filter(|&&f| f == 1).count();
    let file = crate::facts::cache_file(&db, start, end);
    let size = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
    match &source {
        FactSource::Cache(_) => println!("facts  : {} assignment rows of {} tickets first dispatched in {period}; fact file up to date ({:.1} MB)", facts.len(), tickets, size as f64 / 1e6),
        FactSource::Database { written } => println!(
            "facts  : {} assignment rows of {} tickets first dispatched in {period}; fact file built from SQLite in {built:.2} s ({:.1} MB{})",
            facts.len(),
            tickets,
            size as f64 / 1e6,
            if written.is_some() { "" } else { ", NOT written" }
        ),
    }
    if facts.is_empty() {
        bail!("no facts in {period}: nothing to benchmark");
    }

    // 3. DuckDB's input: the same rows as Parquet (via CSV), and the units
    let org = OrgTree::new(store.units()?);
    let python = jiesu_pybaseline::python_with(
        &cache,
        &args.python,
        "bench-venv-duckdb",
        &["duckdb"],
        &["duckdb"],
    )?;
    let work = cache.join(format!("bench-score-{}", std::process::id()));
    std::fs::create_dir_all(&work)?;
    let result = (|| -> Result<()> {
        let facts_csv = work.join("facts.csv");
        let units_csv = work.join("units.csv");
        write_facts_csv(&facts, &facts_csv)?;
        write_units_csv(&org, &units_csv)?;
        drop(facts);
        let script = work.join("duckdb_score.py");
        std::fs::write(&script, DUCKDB_SCRIPT)?;
        let spec = serde_json::json!({
            "facts_csv": facts_csv, "units_csv": units_csv, "dir": work,
            "from": start.to_rfc3339(), "to": end.to_rfc3339(), "runs": args.runs,
            "w_partly": policy.weights.w_partly, "w_basic": policy.weights.w_basic,
            "c_response": policy.composite.response, "c_resolution": policy.composite.resolution,
            "c_satisfaction": policy.composite.satisfaction, "min_sample": policy.min_sample,
        });
        let spec_path = work.join("spec.json");
        std::fs::write(&spec_path, serde_json::to_vec(&spec)?)?;

        // 4. ours, timed: what `jiesu score` does for all four levels, minus printing
        let (mut ours, mut t_open, mut t_read) = (vec![], vec![], vec![]);
        let mut cards: Vec<Scorecard> = vec![];
        drop(store);
        for _ in 0..args.runs {
            let t = Instant::now();
            let store = SqliteStore::open(&db)?;
            let org = OrgTree::new(store.units()?);
            let fingerprint = crate::facts::db_fingerprint(&store)?;
            t_open.push(t.elapsed().as_secs_f64());
            let (facts, header) = FactTable::read_file(&file, Columns::scoring())?;
            if header.fingerprint != fingerprint {
                bail!("the fact file is not current (the database changed during the benchmark)");
            }
            t_read.push(t.elapsed().as_secs_f64());
            cards = score_levels(
                &facts,
                period,
                &policy,
                &org,
                &Level::ALL,
                &ScoreOptions::default(),
            )?;
            ours.push(t.elapsed().as_secs_f64());
        }
        let ours_ms = median(&mut ours) * 1000.0;
        let open_ms = median(&mut t_open) * 1000.0;
        let read_ms = median(&mut t_read) * 1000.0 - open_ms;

        // 5. DuckDB, timed in the same run
        let out = Command::new(&python)
            .arg(&script)
            .arg(&spec_path)
            .output()
            .with_context(|| format!("cannot run {}", python.display()))?;
        if !out.status.success() {
            bail!(
                "the DuckDB baseline failed ({}):\n{}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let stdout = String::from_utf8_lossy(&out.stdout);
        let last = stdout
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("");
        let duck: DuckReport = serde_json::from_str(last)
            .with_context(|| format!("cannot read the DuckDB report line {last:?}"))?;
        let duck_ms = duck.median_seconds * 1000.0;

        // 6. the same numbers?
        let (checked, bad) = compare(&cards, &duck.rows);
        println!(
            "ours   : {ours_ms:>8.1} ms median of {} (open db + org tree {open_ms:.1} ms, read fact file {read_ms:.1} ms, score 4 levels {:.1} ms: {} street, {} district, {} department, {} enterprise rows; one thread)",
            args.runs,
            ours_ms - open_ms - read_ms,
            cards[0].units.len(),
            cards[1].units.len(),
            cards[2].units.len(),
            cards[3].units.len()
        );
        println!(
            "duckdb : {duck_ms:>8.1} ms median of {} (connect + read Parquet + equivalent SQL, all threads; DuckDB {}; Parquet written in {:.2} s, {:.1} MB)",
            args.runs, duck.duckdb, duck.parquet_seconds, duck.parquet_bytes as f64 / 1e6
        );
        if !bad.is_empty() {
            for b in bad.iter().take(10) {
                println!("MISMATCH {b}");
            }
            bail!(
                "{} of {checked} unit figures differ between ours and DuckDB",
                bad.len()
            );
        }
        println!("check  : counts, composite, rank, adjusted rates and 行业三率 equal for all {checked} scored units at 4 levels");
        if args.keep_files {
            println!("files  : kept in {}", work.display());
        }
        println!("ratio {:.3}", ours_ms / duck_ms);
        Ok(())
    })();
    if !args.keep_files {
        let _ = std::fs::remove_dir_all(&work);
    }
    result
}

/// The UTC month with the most first dispatches.
fn busiest_month(store: &dyn Store) -> Result<Month> {
    let m = store.busiest_dispatch_month()?;
    m.as_deref()
        .and_then(Month::parse)
        .context("the database has no dispatched tickets")
}

/// The fact rows as CSV for DuckDB (same strings as `jiesu export tickets`).
fn write_facts_csv(t: &FactTable, path: &Path) -> Result<()> {
    let mut w = csv::Writer::from_writer(std::io::BufWriter::with_capacity(
        1 << 20,
        std::fs::File::create(path)?,
    ));
    w.write_record(crate::output::EXPORT_COLUMNS)?;
    for i in 0..t.len() {
        w.write_record(crate::output::export_row(&t.fact(i)))?;
    }
    w.flush()?;
    Ok(())
}

/// The organisation as CSV (code, name, kind, parent, district, population).
fn write_units_csv(org: &OrgTree, path: &Path) -> Result<()> {
    let mut w = csv::Writer::from_writer(std::fs::File::create(path)?);
    w.write_record(["code", "name", "kind", "parent", "district", "population"])?;
    for u in org.units() {
        w.write_record([
            u.code.as_str(),
            u.name.as_str(),
            u.kind.as_str(),
            u.parent.as_deref().unwrap_or(""),
            org.district_of(&u.code)
                .map(|d| d.code.as_str())
                .unwrap_or(""),
            &u.population.map(|p| p.to_string()).unwrap_or_default(),
        ])?;
    }
    w.flush()?;
    Ok(())
}

#[derive(Debug, Deserialize)]
struct DuckReport {
    duckdb: String,
    median_seconds: f64,
    parquet_seconds: f64,
    parquet_bytes: u64,
    rows: Vec<DuckRow>,
}

#[derive(Debug, Deserialize)]
struct DuckRow {
    level: String,
    member: String,
    counted: u32,
    responded: u32,
    valid: u32,
    resolved: u32,
    partly: u32,
    satisfied: u32,
    basic: u32,
    composite: Option<f64>,
    rnk: Option<u32>,
    adj_res: Option<f64>,
    adj_sat: Option<f64>,
    res_low: Option<f64>,
    ind_counted: Option<u32>,
    ind_composite: Option<f64>,
}

fn close(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (Some(x), Some(y)) => (x - y).abs() <= 1e-6 * x.abs().max(1.0),
        (None, None) => true,
        _ => false,
    }
}

/// Compares DuckDB's rows with our scorecards; returns (units checked, mismatches).
fn compare(cards: &[Scorecard], rows: &[DuckRow]) -> (usize, Vec<String>) {
    let by: HashMap<(&str, &str), &DuckRow> = rows
        .iter()
        .map(|r| ((r.level.as_str(), r.member.as_str()), r))
        .collect();
    let mut bad = vec![];
    let mut checked = 0;
    for card in cards {
        for u in &card.units {
            let Some(d) = by.get(&(card.level.as_str(), u.unit_code.as_str())) else {
                if u.counts.counted > 0 {
                    bad.push(format!(
                        "{} {}: counted {} by us, absent from DuckDB",
                        card.level, u.unit_code, u.counts.counted
                    ));
                }
                continue;
            };
            checked += 1;
            let n = &u.counts;
            let ours = [
                n.counted,
                n.responded,
                n.valid_callbacks,
                n.resolved,
                n.partly,
                n.satisfied,
                n.basic,
            ];
            let theirs = [
                d.counted,
                d.responded,
                d.valid,
                d.resolved,
                d.partly,
                d.satisfied,
                d.basic,
            ];
            if ours != theirs {
                bad.push(format!(
                    "{} {} counts: ours {ours:?} vs DuckDB {theirs:?}",
                    card.level, u.unit_code
                ));
            }
            if !close(u.composite, d.composite) || u.rank != d.rnk {
                bad.push(format!(
                    "{} {} composite/rank: ours {:?}/{:?} vs DuckDB {:?}/{:?}",
                    card.level, u.unit_code, u.composite, u.rank, d.composite, d.rnk
                ));
            }
            if !close(u.case_mix.resolution.adjusted, d.adj_res)
                || !close(u.case_mix.satisfaction.adjusted, d.adj_sat)
            {
                bad.push(format!(
                    "{} {} adjusted: ours {:?}/{:?} vs DuckDB {:?}/{:?}",
                    card.level,
                    u.unit_code,
                    u.case_mix.resolution.adjusted,
                    u.case_mix.satisfaction.adjusted,
                    d.adj_res,
                    d.adj_sat
                ));
            }
            if !close(u.intervals.resolution.map(|i| i.low), d.res_low) {
                bad.push(format!(
                    "{} {} wilson: ours {:?} vs DuckDB {:?}",
                    card.level, u.unit_code, u.intervals.resolution, d.res_low
                ));
            }
            if card.level == Level::Department {
                let (ic, ip) = u
                    .industry
                    .as_ref()
                    .map_or((None, None), |i| (Some(i.counts.counted), i.composite));
                if ic.unwrap_or(0) != d.ind_counted.unwrap_or(0) || !close(ip, d.ind_composite) {
                    bad.push(format!(
                        "department {} 行业三率: ours {ic:?}/{ip:?} vs DuckDB {:?}/{:?}",
                        u.unit_code, d.ind_counted, d.ind_composite
                    ));
                }
            }
        }
    }
    for r in rows {
        if !cards
            .iter()
            .any(|c| c.level.as_str() == r.level && c.unit(&r.member).is_some())
        {
            bad.push(format!(
                "{} {}: in DuckDB's result, not in our scorecard",
                r.level, r.member
            ));
        }
    }
    (checked, bad)
}
