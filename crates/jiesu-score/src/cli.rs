//! Command-line front ends, for the `jiesu` binary to mount:
//!
//! ```text
//! jiesu score   --db PATH --period YYYY-MM --level street|district|department|enterprise
//!               --format csv|json [--policy FILE] [--exemptions] [--no-cache] [--output FILE]
//! jiesu export tickets --db PATH --from DATE --to DATE [--format csv|jsonl] [--output FILE]
//! jiesu export score-cache --db PATH --period YYYY-MM [--output FILE]
//! jiesu policy check   --file FILE [--db PATH]
//! jiesu policy default
//! jiesu bench score    [--db PATH] [--scale 1.0]
//! ```

use crate::facts::{CacheMode, FactTable};
use crate::month::Month;
use crate::output;
use crate::policy::DEFAULT_POLICY_TOML;
use crate::score::Level;
use crate::service::{self, LoadOptions};
use anyhow::{bail, Context, Result};
use chrono::{DateTime, NaiveDate, Utc};
use jiesu_domain::CityZone;
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

pub use crate::bench::{run_bench_score, BenchScoreArgs};

/// Scorecard output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ScoreFormat {
    Csv,
    Json,
}

/// `jiesu score`: the month's scorecard of one level.
#[derive(clap::Args, Debug, Clone)]
pub struct ScoreArgs {
    /// The database.
    #[arg(long)]
    pub db: PathBuf,
    /// The month, YYYY-MM (a ticket belongs to the month of its first dispatch).
    #[arg(long)]
    pub period: Month,
    #[arg(long, value_enum, default_value_t = Level::Street)]
    pub level: Level,
    #[arg(long, value_enum, default_value_t = ScoreFormat::Csv)]
    pub format: ScoreFormat,
    /// A TOML policy file (default: the shipped default policy).
    #[arg(long)]
    pub policy: Option<PathBuf>,
    /// Print the exempted assignments with their reasons instead of the table (CSV; JSON output
    /// always includes them).
    #[arg(long)]
    pub exemptions: bool,
    /// Read the database directly; do not use or write the fact file beside it.
    #[arg(long)]
    pub no_cache: bool,
    /// Write here instead of standard output.
    #[arg(long)]
    pub output: Option<PathBuf>,
}

fn sink(path: &Option<PathBuf>) -> Result<Box<dyn Write>> {
    Ok(match path {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("cannot create {}", p.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    })
}

/// Runs `jiesu score`.
pub fn run_score(args: ScoreArgs) -> Result<()> {
    let mut out = sink(&args.output)?;
    run_score_to(&args, &mut out)?;
    out.flush()?;
    Ok(())
}

/// Runs `jiesu score`, writing to `out`.
pub fn run_score_to(args: &ScoreArgs, out: &mut dyn Write) -> Result<()> {
    let store = service::open_existing(&args.db)?;
    let cats = service::category_tree(&*store)?;
    let policies = service::load_policies(args.policy.as_deref(), Some(&cats))?;
    let opts = LoadOptions {
        cache: if args.no_cache {
            CacheMode::Bypass
        } else {
            CacheMode::Use
        },
        ..LoadOptions::default()
    };
    let (mut cards, _) =
        service::monthly_scorecards(&*store, args.period, &[args.level], &policies, opts)?;
    let card = cards.remove(0);
    for w in &card.warnings {
        eprintln!("warning: {w}");
    }
    match (args.format, args.exemptions) {
        (ScoreFormat::Json, _) => output::write_scorecard_json(&card, out)?,
        (ScoreFormat::Csv, true) => output::write_exemptions_csv(&card, out)?,
        (ScoreFormat::Csv, false) => output::write_scorecard_csv(&card, out)?,
    }
    Ok(())
}

/// `jiesu export …`
#[derive(clap::Subcommand, Debug, Clone)]
pub enum ExportCmd {
    /// One row per assignment of the tickets first dispatched in [from, to), with the facts
    /// scoring uses and no personal data (streamed; constant memory).
    Tickets(ExportTicketsArgs),
    /// Writes scoring's compact columnar fact file of a month beside the database (what `jiesu
    /// score` reads when it is up to date), or to --output.
    ScoreCache(ExportFactsArgs),
}

/// Export format of `export tickets`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    Csv,
    Jsonl,
}

#[derive(clap::Args, Debug, Clone)]
pub struct ExportTicketsArgs {
    #[arg(long)]
    pub db: PathBuf,
    /// First dispatch on or after: YYYY-MM-DD (midnight, city time), YYYY-MM or an RFC 3339 time.
    #[arg(long)]
    pub from: String,
    /// First dispatch before (exclusive), same forms.
    #[arg(long)]
    pub to: String,
    #[arg(long, value_enum, default_value_t = ExportFormat::Csv)]
    pub format: ExportFormat,
    #[arg(long)]
    pub output: Option<PathBuf>,
}

#[derive(clap::Args, Debug, Clone)]
pub struct ExportFactsArgs {
    #[arg(long)]
    pub db: PathBuf,
    /// The month in the city's time zone, YYYY-MM.
    #[arg(long)]
    pub period: Month,
    /// Write the file here instead of the cache beside the database.
    #[arg(long)]
    pub output: Option<PathBuf>,
}

/// Parses a DATE argument: `YYYY-MM-DD` (midnight in the city's zone), `YYYY-MM` (the first of
/// the month, city time) or RFC 3339 (an instant, as written).
pub fn parse_date(s: &str, zone: CityZone) -> Result<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(zone.start_of_day(d));
    }
    if let Some(m) = Month::parse(s) {
        return Ok(zone.start_of_month(m.year, m.month));
    }
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            anyhow::anyhow!("'{s}' is not a date: write YYYY-MM-DD, YYYY-MM or an RFC 3339 time")
        })
}

/// Runs `jiesu export …`.
pub fn run_export(cmd: ExportCmd) -> Result<()> {
    match cmd {
        ExportCmd::Tickets(a) => {
            let mut out = sink(&a.output)?;
            run_export_tickets_to(&a, &mut out)?;
            out.flush()?;
            Ok(())
        }
        ExportCmd::ScoreCache(a) => run_export_facts(&a),
    }
}

/// Runs `jiesu export tickets`, writing to `out`; returns the number of rows.
pub fn run_export_tickets_to(a: &ExportTicketsArgs, out: &mut dyn Write) -> Result<u64> {
    let store = service::open_existing(&a.db)?;
    let zone = store.city_zone()?;
    let (from, to) = (parse_date(&a.from, zone)?, parse_date(&a.to, zone)?);
    if to <= from {
        bail!("--to ({}) must be after --from ({})", a.to, a.from);
    }
    match a.format {
        ExportFormat::Csv => output::export_tickets_csv(&*store, from, to, out),
        ExportFormat::Jsonl => output::export_tickets_jsonl(&*store, from, to, out),
    }
}

fn run_export_facts(a: &ExportFactsArgs) -> Result<()> {
    let store = service::open_existing(&a.db)?;
    let (from, to) = store
        .city_zone()?
        .month_bounds(a.period.year, a.period.month);
    let t0 = Instant::now();
    let fp = crate::facts::db_fingerprint(&*store)?;
    let table = FactTable::from_store(&*store, from, to)?;
    let read = t0.elapsed();
    let path = match &a.output {
        Some(p) => p.clone(),
        None => {
            std::fs::create_dir_all(crate::facts::cache_dir(&a.db))?;
            crate::facts::cache_file(&a.db, from, to)
        }
    };
    let bytes = table.write_file(&path, &fp)?;
    println!(
        "{} assignment rows of {} → {} ({:.1} MB; read {:.2} s, total {:.2} s)",
        table.len(),
        a.period,
        path.display(),
        bytes as f64 / 1e6,
        read.as_secs_f64(),
        t0.elapsed().as_secs_f64()
    );
    Ok(())
}

/// `jiesu policy …`
#[derive(clap::Subcommand, Debug, Clone)]
pub enum PolicyCmd {
    /// Validate a policy file: weights, periods, category codes (against --db's categories).
    Check {
        #[arg(long)]
        file: PathBuf,
        #[arg(long)]
        db: Option<PathBuf>,
    },
    /// Print the shipped default policy (a starting point for your own file).
    Default,
}

/// Runs `jiesu policy …`.
pub fn run_policy(cmd: PolicyCmd) -> Result<()> {
    match cmd {
        PolicyCmd::Default => {
            print!("{DEFAULT_POLICY_TOML}");
            Ok(())
        }
        PolicyCmd::Check { file, db } => {
            let cats = match &db {
                Some(db) => Some(service::category_tree(&*service::open_existing(db)?)?),
                None => None,
            };
            let set = service::load_policies(Some(&file), cats.as_ref())?;
            println!(
                "{}: {} polic{} valid",
                file.display(),
                set.policies.len(),
                if set.policies.len() == 1 { "y" } else { "ies" }
            );
            for p in &set.policies {
                println!(
                    "  {} ({}) {} [{}]",
                    p.id,
                    p.period_label(),
                    p.name,
                    p.fingerprint()
                );
            }
            if cats.is_none() {
                println!(
                    "  (category codes not checked: pass --db to check them against a database)"
                );
            }
            Ok(())
        }
    }
}
