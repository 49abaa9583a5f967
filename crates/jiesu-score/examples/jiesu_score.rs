//! The scoring commands mounted as the `jiesu` binary mounts them (a stand-in until the lead
//! wires them): `score`, `export tickets|facts`, `policy check|default`, `bench score`, and
//! `generate` (the demo city, as `jiesu generate`) so that `bench score` can build its data.
//!
//! cargo run --release -p jiesu-score --example jiesu_score -- score --db city.db --period 2026-11

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "jiesu")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// The month's scorecard of one level (三率, composite, rank, intervals, adjusted rates).
    Score(jiesu_score::cli::ScoreArgs),
    /// Exports without personal data.
    Export {
        #[command(subcommand)]
        cmd: jiesu_score::cli::ExportCmd,
    },
    /// Scoring policy files.
    Policy {
        #[command(subcommand)]
        cmd: jiesu_score::cli::PolicyCmd,
    },
    /// Build the demo city (delegates to jiesu-demo, as `jiesu generate` does).
    Generate {
        #[arg(long)]
        db: std::path::PathBuf,
        #[arg(long, default_value_t = 12)]
        months: u32,
        #[arg(long, default_value_t = 0.01)]
        scale: f64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Benchmarks.
    Bench {
        #[command(subcommand)]
        cmd: BenchCmd,
    },
}

#[derive(Subcommand)]
enum BenchCmd {
    /// The monthly scorecard of all units against DuckDB over the same rows in Parquet.
    Score(jiesu_score::cli::BenchScoreArgs),
}

fn main() {
    let r = match Cli::parse().cmd {
        Cmd::Score(a) => jiesu_score::cli::run_score(a),
        Cmd::Export { cmd } => jiesu_score::cli::run_export(cmd),
        Cmd::Policy { cmd } => jiesu_score::cli::run_policy(cmd),
        Cmd::Bench {
            cmd: BenchCmd::Score(a),
        } => jiesu_score::cli::run_bench_score(a),
        Cmd::Generate {
            db,
            months,
            scale,
            seed,
        } => generate(&db, months, scale, seed),
    };
    if let Err(e) = r {
        eprintln!("错误 error: {e:#}");
        std::process::exit(1);
    }
}

fn generate(db: &std::path::Path, months: u32, scale: f64, seed: u64) -> anyhow::Result<()> {
    anyhow::ensure!(!db.exists(), "{} exists", db.display());
    let store = jiesu_store::SqliteStore::open_with(
        db,
        jiesu_store::StoreOptions {
            durable: false,
            ..Default::default()
        },
    )?;
    let opts = jiesu_demo::GenerateOptions {
        months,
        scale,
        seed,
        end: chrono::Utc::now(),
    };
    let r = jiesu_demo::generate(&opts, &store, &|_, _| {})?;
    println!(
        "generated {} tickets into {} in {:.1} s",
        r.tickets,
        db.display(),
        r.seconds
    );
    Ok(())
}
