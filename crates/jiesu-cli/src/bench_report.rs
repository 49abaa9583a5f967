//! `jiesu bench report`: the hotline report (专项报告四: 一 总体情况, 二 前十类问题, 三 承办情况) over
//! three years of a Beijing-scale city — about 33 million ticket facts — ours against DuckDB
//! running equivalent SQL over the same rows in Parquet, side by side in one run.
//!
//! The facts are synthesised (`jiesu_analytics::synth`, deterministic per seed, seconds) from the
//! shipped calibration; the full demo generator would take hours for this volume. They are written
//! once as Parquet with the columns of `jiesu export facts` and cached in `--work` (keyed by
//! scale, seed and a format version, and checked against a fingerprint of the facts).
//!
//! What is timed, for both (median of `--runs`, after one untimed warm-up each; files warm in the
//! page cache):
//! - ours: `hotline_report` over the facts in memory (the engine's catalogue, every grouping,
//!   the requester pass and the assembly of the report);
//! - DuckDB: connect, read the Parquet file and run SQL computing the same figures (all threads),
//!   fetching the results into Python.
//!
//! Then the figures are compared (counts exactly, rates to 1e-9) and any difference fails the
//! command. The last line is `ratio R`, R = ours / DuckDB.
//!
//! DuckDB is a Python package installed for the benchmark only (the venv `bench-venv-duckdb` in
//! the cache directory, shared with `jiesu bench score`); it is never a product dependency.

use anyhow::{bail, Context, Result};
use jiesu_analytics::export::COLUMNS;
use jiesu_analytics::facts::{flag, FactPartition, LocalMonth, TicketFacts, NO_DURATION};
use jiesu_analytics::query::{Dim, Engine, W_BASIC, W_PARTLY};
use jiesu_analytics::report::{hotline_report, HotlineReport, Named, ReportContext};
use jiesu_analytics::synth::{
    synthesize_each, SynthLead, SynthLeaf, SynthOptions, SynthProfile, SynthUnit, SynthYear,
};
use jiesu_domain::category::CategoryTree;
use jiesu_domain::org::UnitKind;
use jiesu_io::{Column, ColumnData, ColumnKind, ParquetWriter};
use jiesu_refdata::LeadTarget;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

const DUCKDB_SCRIPT: &str = include_str!("../bench/duckdb_report.py");

/// Bump when the synthesised facts or the Parquet layout change: cached files of another version
/// are not reused.
const FORMAT_VERSION: u32 = 1;

/// `jiesu bench report`.
#[derive(clap::Args, Debug, Clone)]
pub struct BenchReportArgs {
    /// Volume (1.0 = Beijing 2019–2021: about 33 million requests in 36 months).
    #[arg(long, default_value_t = 1.0)]
    pub scale: f64,
    /// Seed of the synthesised facts.
    #[arg(long, default_value_t = 12345)]
    pub seed: u64,
    /// Timed runs of each side (the median is reported).
    #[arg(long, default_value_t = 3)]
    pub runs: usize,
    /// Working directory (the cached Parquet file, the script). Default: `jiesu-bench-report` in
    /// the system's temporary directory.
    #[arg(long)]
    pub work: Option<PathBuf>,
    /// The Python interpreter used to install and run DuckDB.
    #[arg(long, default_value = "python3")]
    pub python: String,
    /// Only the dashboard's opening queries (no Parquet, report or DuckDB): for tuning the
    /// engine. Prints no ratio.
    #[arg(long)]
    pub dashboard_only: bool,
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// Runs `jiesu bench report` and prints its report; the last line is `ratio R` (ours / DuckDB).
pub fn run_bench_report(args: BenchReportArgs) -> Result<()> {
    if args.runs == 0 || args.runs > 100 {
        bail!("--runs must be between 1 and 100");
    }
    if !(args.scale.is_finite() && args.scale > 0.0 && args.scale <= 4.0) {
        bail!("--scale must be above 0 and at most 4 (1.0 = Beijing)");
    }
    let work = args
        .work
        .clone()
        .unwrap_or_else(|| std::env::temp_dir().join("jiesu-bench-report"));
    std::fs::create_dir_all(&work)
        .with_context(|| format!("cannot create the working directory {}", work.display()))?;

    // 1. the facts
    let tree = jiesu_refdata::category_tree();
    let (profile, units) = city_profile();
    let opts = SynthOptions {
        seed: args.seed,
        scale: args.scale,
        ..SynthOptions::default()
    };
    let last = LocalMonth {
        year: 2021,
        month: 12,
    };
    // as a server holds them: each month's columns, once drawn, in a mapped unnamed file (page
    // cache), the pages let go after each query (`jiesu_store::fact_spill`)
    let t = Instant::now();
    let heap = std::sync::atomic::AtomicUsize::new(0);
    let spill_error = std::sync::Mutex::new(None);
    let facts = synthesize_each(&opts, &profile, &tree, &units, &|p| {
        heap.fetch_add(p.heap_bytes(), std::sync::atomic::Ordering::Relaxed);
        if let Err(e) = jiesu_store::fact_spill::spill(p, &work) {
            *spill_error.lock().unwrap_or_else(|e| e.into_inner()) = Some(e);
        }
    })
    .map_err(|e| anyhow::anyhow!("cannot synthesise the facts: {e}"))?;
    if let Some(e) = spill_error.into_inner().unwrap_or_else(|e| e.into_inner()) {
        bail!("cannot move the facts to a file in {}: {e}", work.display());
    }
    let synth_s = t.elapsed().as_secs_f64();
    let heap = heap.into_inner();
    let synth_peak = peak_rss_bytes();
    let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
    println!(
        "spill  : each month's columns moved to a mapped file once drawn ({:.0} MB left in the heap); peak RSS {:.0} MB while synthesising, {:.0} MB now",
        facts.heap_bytes() as f64 / 1e6,
        synth_peak as f64 / 1e6,
        rss_bytes() as f64 / 1e6
    );
    println!(
        "facts  : {} ticket facts in {} months ({}…{}), synthesised and moved in {synth_s:.1} s on {} threads (seed {}, scale {}); {:.0} MB in columns",
        facts.len(),
        facts.partitions.len(),
        opts.from.key(),
        last.key(),
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        args.seed,
        args.scale,
        heap as f64 / 1e6
    );
    if facts.is_empty() {
        bail!("no facts at scale {}: nothing to benchmark", args.scale);
    }
    if args.dashboard_only {
        dashboard_queries(&facts, &tree);
        serving_memory(reset, heap);
        return Ok(());
    }

    // 2. DuckDB's input: the same rows as Parquet (cached)
    let parquet = work.join(format!(
        "facts-v{FORMAT_VERSION}-scale{}-seed{}.parquet",
        args.scale, args.seed
    ));
    let print = fingerprint(&facts);
    let stamp = parquet.with_extension("fingerprint");
    let cached = parquet.exists()
        && std::fs::read_to_string(&stamp).is_ok_and(|s| s.trim() == format!("{print:016x}"));
    if cached {
        println!(
            "parquet: reusing {} ({:.0} MB)",
            parquet.display(),
            file_mb(&parquet)
        );
    } else {
        let t = Instant::now();
        let _ = std::fs::remove_file(&stamp);
        let engine = Engine::new(&facts, &tree);
        write_parquet(&engine, &parquet)?;
        facts.release();
        std::fs::write(&stamp, format!("{print:016x}\n"))
            .with_context(|| format!("cannot write {}", stamp.display()))?;
        println!(
            "parquet: wrote {} in {:.1} s ({:.0} MB, {} columns as `jiesu export facts`)",
            parquet.display(),
            t.elapsed().as_secs_f64(),
            file_mb(&parquet),
            COLUMNS.len()
        );
    }

    // 3. ours, timed: the whole report over the facts (the peak memory of this part measured
    // apart from the Parquet writing's, where the kernel can reset it)
    let rss_so_far = peak_rss_bytes();
    let reset = reset && std::fs::write("/proc/self/clear_refs", "5").is_ok();
    let ctx = report_context();
    let report = || {
        let r = hotline_report(&facts, &tree, &ctx, opts.from, last);
        facts.release();
        r
    };
    let mut ours = Vec::with_capacity(args.runs);
    let mut r = report()?; // warm-up
    for _ in 0..args.runs {
        let t = Instant::now();
        r = report()?;
        ours.push(t.elapsed().as_secs_f64());
    }
    let ours_ms = median(&mut ours) * 1000.0;
    let rss = peak_rss_bytes();

    // 4. DuckDB, timed in the same run
    let python = duckdb_python(&args.python)?;
    let script = work.join("duckdb_report.py");
    std::fs::write(&script, DUCKDB_SCRIPT)
        .with_context(|| format!("cannot write {}", script.display()))?;
    let spec = json!({
        "parquet": parquet,
        "runs": args.runs,
        "years": r.overview.years.iter().map(|y| y.year).collect::<Vec<_>>(),
        "months": r.overview.months.iter().map(|m| m.month.clone()).collect::<Vec<_>>(),
        "l1_names": tree.roots().map(|c| (c.code.clone(), Value::from(c.name.clone())))
            .collect::<serde_json::Map<String, Value>>(),
        "w_partly": W_PARTLY,
        "w_basic": W_BASIC,
    });
    let spec_path = work.join("spec.json");
    std::fs::write(&spec_path, serde_json::to_vec(&spec)?)
        .with_context(|| format!("cannot write {}", spec_path.display()))?;
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
    let line = stdout
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    let duck: DuckReport = serde_json::from_str(line)
        .with_context(|| format!("cannot read the DuckDB report line {line:?}"))?;
    let duck_ms = duck.median_seconds * 1000.0;

    // 5. the same figures?
    let mine = figures(&r);
    let mut bad = Vec::new();
    let checked = diff("", &mine, &duck.figures, &mut bad);
    let o = &r.overview;
    println!(
        "report : {} requests (phone {:.1} %, dispatched {:.1} %, answered directly {:.1} %), {} requesters ({} in every year), top category {}, {} districts, {} streets handling",
        o.total,
        100.0 * o.phone_share,
        100.0 * o.dispatched_share,
        100.0 * o.answered_directly_share,
        o.requesters,
        o.requesters_every_year,
        r.top_categories.first().map_or("-", |c| c.name.as_str()),
        r.handling.districts.len(),
        r.handling.streets_handling
    );
    for y in &o.years {
        println!(
            "         {}: {} requests, online {:.1} %, {} requesters ({} new)",
            y.year,
            y.total,
            100.0 * y.online_share,
            y.requesters,
            y.new_requesters
        );
    }
    let kinds: Vec<String> = r
        .handling
        .by_unit_kind
        .iter()
        .map(|k| format!("{} {:.1} %", k.name, 100.0 * k.share))
        .collect();
    println!("         dispatched by lead: {}", kinds.join(", "));
    println!(
        "ours   : {ours_ms:>9.1} ms median of {} (hotline_report over the facts in memory; runs {})",
        args.runs,
        ms_list(&ours)
    );
    println!(
        "duckdb : {duck_ms:>9.1} ms median of {} (connect + read Parquet + equivalent SQL, {} threads; DuckDB {}; runs {})",
        args.runs,
        duck.threads.as_ref().map_or_else(|| "all".to_string(), value_text),
        duck.duckdb,
        ms_list(&duck.times)
    );
    if reset {
        println!(
            "memory : peak RSS {:.0} MB over the report runs (VmHWM of this process, reset after the Parquet step; {:.0} MB from the synthesis's end up to it), facts {:.0} MB of columns in mapped files",
            rss as f64 / 1e6,
            rss_so_far as f64 / 1e6,
            heap as f64 / 1e6
        );
    } else {
        println!(
            "memory : peak RSS {:.0} MB (VmHWM of this process, synthesis and Parquet included), facts {:.0} MB of columns in mapped files",
            rss.max(rss_so_far) as f64 / 1e6,
            heap as f64 / 1e6
        );
    }
    let reset = reset && std::fs::write("/proc/self/clear_refs", "5").is_ok();
    dashboard_queries(&facts, &tree);
    serving_memory(reset, heap);
    if !bad.is_empty() {
        for b in bad.iter().take(20) {
            println!("MISMATCH {b}");
        }
        bail!(
            "{} of {checked} figures differ between ours and DuckDB",
            bad.len()
        );
    }
    println!("check  : all {checked} figures equal (overview, years, months, top 20 and top 10 categories with sub-categories, unit kinds, districts, streets, city departments, state enterprises)");
    println!("ratio {:.3}", ours_ms / duck_ms);
    Ok(())
}

/// The queries the dashboard asks on opening (`#/dashboard` with its default period: the last
/// twelve months and the current one), each run five times through the same `Engine` the HTTP
/// routes use (on every core); prints their median and 95th percentile (goal: p95 ≤ 100 ms).
fn dashboard_queries(facts: &TicketFacts, tree: &CategoryTree) {
    use jiesu_analytics::query::Filter;
    let Some(last) = facts.partitions.keys().next_back().copied() else {
        return;
    };
    let mut first = last;
    for _ in 0..12 {
        first = LocalMonth {
            year: if first.month == 1 {
                first.year - 1
            } else {
                first.year
            },
            month: if first.month == 1 {
                12
            } else {
                first.month - 1
            },
        };
    }
    let period = Filter {
        from: Some(first.first_day()),
        to: Some(last.next().first_day()),
        ..Filter::default()
    };
    let span = last.next().first_day() - first.first_day();
    let previous = Filter {
        from: Some(first.first_day() - span),
        to: Some(first.first_day()),
        ..Filter::default()
    };
    let engine = Engine::new(facts, tree);
    // what the server does after reading the facts: each month's sums by place × category class
    let t = Instant::now();
    let cube_bytes = engine.warm_cubes();
    println!(
        "cubes  : {} months summed by district × street × category class in {:.0} ms on {} threads ({:.1} MB; RSS now {:.0} MB)",
        facts.partitions.len(),
        t.elapsed().as_secs_f64() * 1e3,
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        cube_bytes as f64 / 1e6,
        rss_bytes() as f64 / 1e6
    );
    let queries: Vec<(&str, Vec<Dim>, &Filter)> = vec![
        ("trend by month", vec![Dim::Month], &period),
        ("channel mix", vec![Dim::Channel], &period),
        ("type mix", vec![Dim::Type], &period),
        ("top categories", vec![Dim::CategoryL1], &period),
        ("districts", vec![Dim::District], &period),
        (
            "street × category heat grid",
            vec![Dim::Street, Dim::CategoryL1],
            &period,
        ),
        (
            "seasonality",
            vec![Dim::MonthOfYear, Dim::CategoryL1],
            &period,
        ),
        ("三率 by month", vec![Dim::Month], &period),
        ("ledger", vec![Dim::Street, Dim::CategoryL2], &period),
        (
            "ledger, previous period",
            vec![Dim::Street, Dim::CategoryL2],
            &previous,
        ),
    ];
    let mut all = Vec::new();
    let mut rows = 0;
    let mut kinds = Vec::new();
    for (name, by, f) in &queries {
        let mut runs = Vec::new();
        for _ in 0..5 {
            let t = Instant::now();
            let g = engine
                .group(by, f)
                .expect("the dashboard's queries are valid");
            runs.push(t.elapsed().as_secs_f64() * 1e3);
            // as `FactsCache::with` after each query: the pages read leave the process
            facts.release();
            rows = rows.max(g.total.count);
        }
        all.extend(&runs);
        let slowest = runs.iter().copied().fold(0.0, f64::max);
        kinds.push(format!("{name} {:.0}/{slowest:.0}", median(&mut runs)));
    }
    let t = Instant::now();
    let _ = engine.durations(Dim::UnitKind, &period);
    let handling_ms = t.elapsed().as_secs_f64() * 1e3;
    facts.release();
    all.push(handling_ms);
    all.sort_by(f64::total_cmp);
    let p = |q: f64| all[((q * all.len() as f64).ceil() as usize).clamp(1, all.len()) - 1];
    println!(
        "dashboard: {} queries ({} kinds × 5, handling time once) over {} facts of the default 13 months, {} threads: p50 {:.0} ms, p95 {:.0} ms, slowest {:.0} ms (handling time {:.0} ms; goal p95 ≤ 100 ms)",
        all.len(),
        queries.len(),
        rows,
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        p(0.5),
        p(0.95),
        all.last().copied().unwrap_or(0.0),
        handling_ms
    );
    println!("           median/slowest ms by kind: {}", kinds.join(", "));
}

fn file_mb(p: &Path) -> f64 {
    std::fs::metadata(p).map_or(0.0, |m| m.len() as f64 / 1e6)
}

fn ms_list(v: &[f64]) -> String {
    v.iter()
        .map(|s| format!("{:.0}", s * 1000.0))
        .collect::<Vec<_>>()
        .join(" / ")
}

fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        v => v.to_string(),
    }
}

/// The server's memory while it answers the dashboard: the peak since the synthesis (or since
/// the report runs), with the facts' columns in mapped files and the cubes in the heap.
fn serving_memory(reset: bool, heap: usize) {
    if reset {
        println!(
            "memory : peak RSS {:.0} MB while answering the dashboard over {:.0} MB of fact columns in mapped files (VmHWM reset before the queries; the cubes included; goal ≤ 500 MB)",
            peak_rss_bytes() as f64 / 1e6,
            heap as f64 / 1e6
        );
    } else {
        println!(
            "memory : peak RSS {:.0} MB (VmHWM, synthesis included: this kernel cannot reset it), {:.0} MB of fact columns in mapped files",
            peak_rss_bytes() as f64 / 1e6,
            heap as f64 / 1e6
        );
    }
}

/// Peak resident memory of this process (VmHWM), bytes; 0 where /proc is absent.
fn peak_rss_bytes() -> u64 {
    proc_status_kb("VmHWM:") * 1024
}

/// Resident memory of this process now (VmRSS), bytes; 0 where /proc is absent.
fn rss_bytes() -> u64 {
    proc_status_kb("VmRSS:") * 1024
}

fn proc_status_kb(key: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix(key))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .unwrap_or(0)
}

// ---------------------------------------------------------------------------------------------
// the city: jiesu-refdata's calibration as the synthesiser's profile

/// The synthesiser's profile and units from the shipped reference data: category shares,
/// seasonality, direct-answer shares, callback rates, tiers and lead options per leaf; district
/// populations; city-wide volumes, online shares and callers per year (a year of fewer than 12
/// months scaled up to 12).
fn city_profile() -> (SynthProfile, Vec<SynthUnit>) {
    let p = jiesu_refdata::profiles();
    let o = &p.overall;
    let mut profile = SynthProfile::default();
    if !o.years.is_empty() {
        profile.years = o
            .years
            .iter()
            .map(|y| {
                let full = 12.0 / f64::from(y.months.clamp(1, 12));
                SynthYear {
                    year: y.year,
                    requests: y.requests_wan * 1e4 * full,
                    online_share: y.web_share,
                    requesters: y.callers_wan * 1e4 * full,
                }
            })
            .collect();
    }
    profile.monthly = o.monthly;
    profile.lead_kinds = o.lead_kind_shares.clone();
    profile.direct_share = o.direct_share;
    profile.resolution = o.resolution;
    profile.satisfaction = o.satisfaction;
    profile.districts = jiesu_refdata::divisions::districts()
        .iter()
        .map(|d| (d.code.clone(), d.population as f64))
        .collect();
    profile.leaves = p
        .leaves
        .iter()
        .map(|l| SynthLeaf {
            code: l.code.clone(),
            share: l.share,
            seasonal: p.category(&l.code).map_or([1.0; 12], |c| c.seasonal),
            direct_share: l.direct_share,
            resolution: l.resolution,
            satisfaction: l.satisfaction,
            tier: l.tier,
            leads: l
                .leads
                .iter()
                .map(|o| {
                    let lead = match &o.target {
                        LeadTarget::StreetTown => SynthLead::StreetTown,
                        LeadTarget::DistrictDepartment(s) => {
                            SynthLead::DistrictDepartment(s.clone())
                        }
                        LeadTarget::CityDepartment(c)
                        | LeadTarget::StateEnterprise(c)
                        | LeadTarget::Ecommerce(c) => SynthLead::Unit(c.clone()),
                        LeadTarget::AnyEcommerce => SynthLead::AnyOf(UnitKind::Ecommerce),
                    };
                    (lead, o.weight)
                })
                .collect(),
        })
        .collect();

    let all = jiesu_refdata::units();
    let parent: HashMap<&str, Option<&str>> = all
        .iter()
        .map(|u| (u.code.as_str(), u.parent.as_deref()))
        .collect();
    let units = all
        .iter()
        .map(|u| {
            let district = match u.kind {
                UnitKind::District => Some(u.code.clone()),
                UnitKind::DistrictDepartment | UnitKind::StreetTown => u.parent.clone(),
                UnitKind::Community => u
                    .parent
                    .as_deref()
                    .and_then(|s| parent.get(s).copied().flatten())
                    .map(str::to_string),
                _ => None,
            };
            SynthUnit {
                code: u.code.clone(),
                kind: u.kind,
                district,
                parent: u.parent.clone(),
            }
        })
        .collect();
    (profile, units)
}

/// Names of every unit and place, and Beijing's functional zones (as `jiesu report hotline` has
/// them for a database holding the shipped reference data).
fn report_context() -> ReportContext {
    let names = jiesu_refdata::units()
        .into_iter()
        .map(|u| (u.code, u.name))
        .collect();
    let mut zones: Vec<(String, Vec<String>)> = Vec::new();
    for d in jiesu_refdata::divisions::districts() {
        let label = d.zone.label_zh().to_string();
        match zones.iter_mut().find(|z| z.0 == label) {
            Some(z) => z.1.push(d.code.clone()),
            None => zones.push((label, vec![d.code.clone()])),
        }
    }
    ReportContext { names, zones }
}

// ---------------------------------------------------------------------------------------------
// Parquet: the columns of `jiesu export facts`, built from the dictionary codes

/// A cheap fingerprint of the facts (sizes, dictionaries and every 97th row of every column):
/// a cached Parquet file is reused only if it was written from facts with the same one.
fn fingerprint(facts: &TicketFacts) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ u64::from(FORMAT_VERSION);
    let mut mix = |v: u64| {
        h ^= v;
        h = h.wrapping_mul(0x0100_0000_01b3).rotate_left(17);
    };
    mix(facts.len() as u64);
    mix(u64::from(facts.requester_count));
    for d in [&facts.categories, &facts.places, &facts.units] {
        mix(d.len() as u64);
        for i in 0..d.len() {
            for b in d.code(i as u16).bytes() {
                mix(u64::from(b));
            }
        }
    }
    for (m, p) in &facts.partitions {
        mix((m.year * 100) as u64 + u64::from(m.month));
        mix(p.len() as u64);
        for i in (0..p.len()).step_by(97) {
            mix(p.ticket_id[i] as u64);
            mix(u64::from_le_bytes([
                p.day[i],
                p.hour[i],
                p.channel[i],
                p.request_type[i],
                p.tier[i],
                p.status[i],
                p.flags[i],
                p.callback[i],
            ]));
            mix(u64::from(p.category[i]) << 48
                | u64::from(p.street[i]) << 32
                | u64::from(p.district[i]) << 16
                | u64::from(p.community[i]));
            mix(u64::from(p.lead_unit[i]) << 32 | u64::from(p.requester[i]));
            mix(u64::from(p.secs_to_sign[i]) << 32 | u64::from(p.secs_to_finish[i]));
            mix(u64::from(p.secs_to_respond[i]));
        }
    }
    h
}

/// The text of every key of a dimension, as `jiesu export facts` writes it (`None` for "").
fn codes(engine: &Engine, dim: Dim, n: usize) -> Vec<Option<String>> {
    (0..n as u32)
        .map(|k| {
            let c = engine.code(dim, k);
            (!c.is_empty()).then_some(c)
        })
        .collect()
}

/// Per-dictionary text tables, so a cell is a clone of a ready string.
struct Tables {
    channel: Vec<Option<String>>,
    request_type: Vec<Option<String>>,
    l1: Vec<Option<String>>,
    l2: Vec<Option<String>>,
    category: Vec<Option<String>>,
    domain: Vec<Option<String>>,
    place: Vec<Option<String>>,
    unit: Vec<Option<String>>,
    unit_kind: Vec<Option<String>>,
    tier: Vec<Option<String>>,
    status: Vec<Option<String>>,
    resolution: Vec<Option<String>>,
    satisfaction: Vec<Option<String>>,
}

impl Tables {
    fn new(engine: &Engine) -> Tables {
        let f = engine.facts;
        let cat = &engine.catalog;
        let by_category = |v: &[u16]| -> Vec<Option<String>> {
            v.iter()
                .map(|&k| {
                    let c = cat.levels.code(k);
                    (!c.is_empty()).then(|| c.to_string())
                })
                .collect()
        };
        let unit_kind_names = codes(engine, Dim::UnitKind, UnitKind::ALL.len() + 1);
        Tables {
            channel: codes(engine, Dim::Channel, 256),
            request_type: codes(engine, Dim::Type, 256),
            l1: by_category(&cat.l1),
            l2: by_category(&cat.l2),
            category: codes(engine, Dim::Category, f.categories.len()),
            domain: cat
                .domain
                .iter()
                .map(|&d| engine.code(Dim::Domain, u32::from(d)))
                .map(|c| (!c.is_empty()).then_some(c))
                .collect(),
            place: codes(engine, Dim::District, f.places.len()),
            unit: codes(engine, Dim::Unit, f.units.len()),
            unit_kind: f
                .unit_kind
                .iter()
                .map(|&k| unit_kind_names.get(usize::from(k)).cloned().flatten())
                .collect(),
            tier: codes(engine, Dim::Tier, 256),
            status: codes(engine, Dim::Status, 256),
            resolution: codes(engine, Dim::Resolved, 8),
            satisfaction: codes(engine, Dim::Satisfied, 8),
        }
    }
}

/// One month's rows as the columns of [`COLUMNS`], the same values as
/// `jiesu_analytics::export::month_columns` gives for the whole month, without formatting a code
/// per cell.
fn month_columns_fast(t: &Tables, month: LocalMonth, p: &FactPartition) -> Vec<Column> {
    let text = |table: &[Option<String>], ids: &mut dyn Iterator<Item = usize>| {
        ColumnData::Utf8(
            ids.map(|k| table.get(k).cloned().flatten())
                .collect::<Vec<_>>(),
        )
    };
    let u8s = |v: &[u8]| v.iter().map(|&x| usize::from(x)).collect::<Vec<_>>();
    let u16s = |v: &[u16]| v.iter().map(|&x| usize::from(x)).collect::<Vec<_>>();
    let by = |table: &[Option<String>], ids: Vec<usize>| text(table, &mut ids.into_iter());
    let cat_of = |table: &[Option<String>]| by(table, u16s(&p.category));
    let bit = |b: u8| ColumnData::Bool(p.flags.iter().map(|&f| Some(f & b != 0)).collect());
    let hours = |col: &[u32]| {
        ColumnData::Float64(
            col.iter()
                .map(|&s| (s != NO_DURATION).then(|| f64::from(s) / 3600.0))
                .collect(),
        )
    };
    let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).expect("the epoch");
    let first = (month.first_day() - epoch).num_days() as i32;
    let key = month.key();
    let data = vec![
        ColumnData::Int64(p.ticket_id.iter().map(|&i| Some(i)).collect()),
        ColumnData::Date(
            p.day
                .iter()
                .map(|&d| Some(first + i32::from(d) - 1))
                .collect(),
        ),
        ColumnData::Int64(p.hour.iter().map(|&h| Some(i64::from(h))).collect()),
        ColumnData::Utf8(vec![Some(key); p.len()]),
        by(&t.channel, u8s(&p.channel)),
        by(&t.request_type, u8s(&p.request_type)),
        cat_of(&t.l1),
        cat_of(&t.l2),
        cat_of(&t.category),
        cat_of(&t.domain),
        by(&t.place, u16s(&p.district)),
        by(&t.place, u16s(&p.street)),
        by(&t.place, u16s(&p.community)),
        by(&t.unit, u16s(&p.lead_unit)),
        by(&t.unit_kind, u16s(&p.lead_unit)),
        by(&t.tier, u8s(&p.tier)),
        by(&t.status, u8s(&p.status)),
        bit(flag::DISPATCHED),
        bit(flag::ANSWERED_DIRECTLY),
        bit(flag::ENTERPRISE),
        bit(flag::OVERDUE),
        bit(flag::RETURNED),
        bit(flag::REOPENED),
        bit(flag::RESPONDED_IN_TIME),
        ColumnData::Bool(
            p.callback
                .iter()
                .map(|&c| match c & 3 {
                    1 => Some(true),
                    2 => Some(false),
                    _ => None,
                })
                .collect(),
        ),
        by(
            &t.resolution,
            p.callback
                .iter()
                .map(|&c| usize::from((c >> 2) & 7))
                .collect(),
        ),
        by(
            &t.satisfaction,
            p.callback
                .iter()
                .map(|&c| usize::from((c >> 5) & 7))
                .collect(),
        ),
        hours(&p.secs_to_sign),
        hours(&p.secs_to_respond),
        hours(&p.secs_to_finish),
        ColumnData::Int64(
            p.requester
                .iter()
                .map(|&r| (r != 0).then(|| i64::from(r)))
                .collect(),
        ),
    ];
    COLUMNS
        .iter()
        .zip(data)
        .map(|((name, _), d)| Column::new(*name, d))
        .collect()
}

fn schema() -> Vec<(&'static str, ColumnKind)> {
    crate::analytics_cmds::parquet_schema()
}

/// Writes every month of the facts as one row group of `path` (through a temporary file renamed
/// at the end); the next month's columns are built while the writer encodes the last.
fn write_parquet(engine: &Engine, path: &Path) -> Result<()> {
    let tmp = path.with_extension("parquet.tmp");
    let file =
        std::fs::File::create(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
    let mut w = ParquetWriter::new(std::io::BufWriter::with_capacity(1 << 22, file), &schema())
        .context("cannot start the Parquet file")?;
    let tables = Tables::new(engine);
    let facts = engine.facts;
    std::thread::scope(|s| -> Result<()> {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Column>>(1);
        let tables = &tables;
        s.spawn(move || {
            for (m, p) in &facts.partitions {
                if tx.send(month_columns_fast(tables, *m, p)).is_err() {
                    return;
                }
            }
        });
        for cols in rx {
            w.write_row_group(&cols)
                .with_context(|| format!("cannot write {}", tmp.display()))?;
        }
        Ok(())
    })?;
    w.finish()
        .context("cannot finish the Parquet file")?
        .flush()
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path)
        .with_context(|| format!("cannot move {} to {}", tmp.display(), path.display()))?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// the figures compared

#[derive(Debug, Deserialize)]
struct DuckReport {
    duckdb: String,
    median_seconds: f64,
    times: Vec<f64>,
    threads: Option<Value>,
    figures: Value,
}

fn named(v: &[Named]) -> Vec<Value> {
    v.iter()
        .map(|n| json!({"code": n.code, "count": n.count}))
        .collect()
}

/// The report's figures in the shape the DuckDB script prints: counts, codes and the rates.
fn figures(r: &HotlineReport) -> Value {
    let o = &r.overview;
    let mut kinds = r.handling.by_unit_kind.clone();
    kinds.sort_by(|a, b| a.code.cmp(&b.code));
    json!({
        "overview": {
            "total": o.total, "phone": o.phone, "online": o.online, "dispatched": o.dispatched,
            "answered_directly": o.answered_directly, "praise": o.praise,
            "requesters": o.requesters, "requesters_every_year": o.requesters_every_year,
            "resolution_rate": o.resolution_rate, "satisfaction_rate": o.satisfaction_rate,
        },
        "years": o.years.iter().map(|y| json!({
            "year": y.year, "total": y.total, "phone": y.phone, "online": y.online,
            "requesters": y.requesters, "new_requesters": y.new_requesters,
        })).collect::<Vec<_>>(),
        "months": o.months.iter().map(|m| json!({
            "month": m.month, "total": m.total, "channels": m.channels,
            "resolution_rate": m.resolution_rate, "satisfaction_rate": m.satisfaction_rate,
        })).collect::<Vec<_>>(),
        "top20": o.top20.iter().map(|c| json!({
            "code": c.code, "count": c.count, "answered_directly_share": c.answered_directly_share,
        })).collect::<Vec<_>>(),
        "top_categories": r.top_categories.iter().map(|c| json!({
            "code": c.code, "count": c.count, "monthly": c.monthly,
            "sub_categories": named(&c.sub_categories),
        })).collect::<Vec<_>>(),
        "handling": {
            "dispatched": r.handling.dispatched,
            "by_unit_kind": named(&kinds),
            "districts": r.handling.districts.iter().map(|d| json!({
                "code": d.code, "count": d.count, "district_departments": d.district_departments,
                "streets": d.streets, "top_categories": named(&d.top_categories),
                "rising": d.rising, "falling": d.falling,
            })).collect::<Vec<_>>(),
            "top_streets": named(&r.handling.top_streets),
            "bottom_streets": named(&r.handling.bottom_streets),
            "streets_handling": r.handling.streets_handling,
            "top_city_departments": named(&r.handling.top_city_departments),
            "top_state_enterprises": named(&r.handling.top_state_enterprises),
        },
    })
}

/// Compares `ours` with `theirs` (whole numbers exactly, fractions to 1e-9 relative), pushing a
/// line per difference; returns how many leaf values were compared.
fn diff(path: &str, ours: &Value, theirs: &Value, bad: &mut Vec<String>) -> usize {
    match (ours, theirs) {
        (Value::Object(a), Value::Object(b)) => {
            let mut n = 0;
            for (k, va) in a {
                let p = format!("{path}.{k}");
                match b.get(k) {
                    Some(vb) => n += diff(&p, va, vb, bad),
                    None => bad.push(format!("{p}: ours {va}, absent from DuckDB's")),
                }
            }
            for (k, vb) in b {
                if !a.contains_key(k) {
                    bad.push(format!("{path}.{k}: DuckDB's {vb}, absent from ours"));
                }
            }
            n
        }
        (Value::Array(a), Value::Array(b)) => {
            if a.len() != b.len() {
                bad.push(format!(
                    "{path}: {} entries in ours, {} in DuckDB's",
                    a.len(),
                    b.len()
                ));
            }
            a.iter()
                .zip(b)
                .enumerate()
                .map(|(i, (x, y))| diff(&format!("{path}[{i}]"), x, y, bad))
                .sum()
        }
        (Value::Number(a), Value::Number(b)) => {
            let same = match (a.as_i64(), b.as_i64()) {
                (Some(x), Some(y)) => x == y,
                _ => {
                    let (x, y) = (
                        a.as_f64().unwrap_or(f64::NAN),
                        b.as_f64().unwrap_or(f64::NAN),
                    );
                    (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1e-300)
                }
            };
            if !same {
                bad.push(format!("{path}: ours {a}, DuckDB's {b}"));
            }
            1
        }
        (a, b) => {
            if a != b {
                bad.push(format!("{path}: ours {a}, DuckDB's {b}"));
            }
            1
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Python with DuckDB

/// A Python that imports duckdb: the venv `bench-venv-duckdb` in the cache shared with `jiesu
/// bench score` (`jiesu_pybaseline`), installed there on first use.
fn duckdb_python(python: &str) -> Result<PathBuf> {
    jiesu_pybaseline::python_with(
        &jiesu_pybaseline::cache_dir(),
        python,
        "bench-venv-duckdb",
        &["duckdb"],
        &["duckdb"],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiesu_analytics::export::{month_columns, Values};
    use jiesu_analytics::synth::synthesize;
    use jiesu_domain::category::CategoryTree;

    fn small() -> (TicketFacts, CategoryTree) {
        let tree = jiesu_refdata::category_tree();
        let (profile, units) = city_profile();
        let opts = SynthOptions {
            scale: 0.0005,
            months: 3,
            ..SynthOptions::default()
        };
        (synthesize(&opts, &profile, &tree, &units).unwrap(), tree)
    }

    fn to_column(v: Values) -> ColumnData {
        match v {
            Values::Int(v) => ColumnData::Int64(v),
            Values::Text(v) => ColumnData::Utf8(v),
            Values::Bool(v) => ColumnData::Bool(v),
            Values::Float(v) => ColumnData::Float64(v),
            Values::Date(v) => {
                let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
                ColumnData::Date(
                    v.into_iter()
                        .map(|d| d.map(|d| (d - epoch).num_days() as i32))
                        .collect(),
                )
            }
        }
    }

    #[test]
    fn the_fast_columns_equal_the_export_columns() {
        let (facts, tree) = small();
        let engine = Engine::new(&facts, &tree);
        let tables = Tables::new(&engine);
        for (m, p) in &facts.partitions {
            let fast = month_columns_fast(&tables, *m, p);
            let slow = month_columns(&engine, *m, m.first_day(), m.next().first_day())
                .unwrap()
                .unwrap();
            assert_eq!(fast.len(), slow.len());
            for (f, s) in fast.into_iter().zip(slow) {
                assert_eq!(f.data, to_column(s), "column {}", f.name);
            }
        }
    }

    #[test]
    fn the_report_agrees_with_itself_and_differences_are_named() {
        let (facts, tree) = small();
        let from = LocalMonth {
            year: 2019,
            month: 1,
        };
        let r = hotline_report(&facts, &tree, &report_context(), from, from.next().next()).unwrap();
        let a = figures(&r);
        let mut bad = Vec::new();
        let n = diff("", &a, &a, &mut bad);
        assert!(n > 100 && bad.is_empty(), "{n} {bad:?}");
        let mut b = a.clone();
        b["overview"]["total"] = json!(1);
        b["handling"]["top_streets"][0]["code"] = json!("x");
        diff("", &a, &b, &mut bad);
        assert_eq!(bad.len(), 2, "{bad:?}");
        assert!(
            bad[0].starts_with(".handling.top_streets[0].code")
                || bad[1].starts_with(".handling.top_streets[0].code")
        );
        assert_eq!(r.overview.total as usize, facts.len());
    }

    #[test]
    fn the_fingerprint_changes_with_the_seed() {
        let (a, _) = small();
        let (b, _) = small();
        assert_eq!(fingerprint(&a), fingerprint(&b));
        let tree = jiesu_refdata::category_tree();
        let (profile, units) = city_profile();
        let opts = SynthOptions {
            seed: 99,
            scale: 0.0005,
            months: 3,
            ..SynthOptions::default()
        };
        let c = synthesize(&opts, &profile, &tree, &units).unwrap();
        assert_ne!(fingerprint(&a), fingerprint(&c));
    }
}
