//! Stand-alone front end for development, with the same commands the `jiesu` binary wires in:
//! `cargo run --release -p jiesu-text --example jiesu-text -- classify cv --data F --text tokens --label label_l1`
use clap::{Parser, Subcommand};
use jiesu_text::cli::{run_bench_classify, run_classify, BenchClassifyArgs, ClassifyCmd};

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Train and evaluate text classifiers.
    #[command(subcommand)]
    Classify(ClassifyCmd),
    /// Benchmarks.
    #[command(subcommand)]
    Bench(BenchCmd),
}

#[derive(Subcommand)]
enum BenchCmd {
    /// Classification throughput and macro-F1 against scikit-learn.
    Classify(BenchClassifyArgs),
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().cmd {
        Cmd::Classify(c) => run_classify(c),
        Cmd::Bench(BenchCmd::Classify(a)) => run_bench_classify(a),
    }
}
