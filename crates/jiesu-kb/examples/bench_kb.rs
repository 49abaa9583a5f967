//! `cargo run --release -p jiesu-kb --example bench_kb -- [--articles N] [--queries N]`: the
//! same as `jiesu bench kb`, until the CLI wires it.
use clap::Parser;

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    args: jiesu_kb::BenchKbArgs,
}

fn main() -> anyhow::Result<()> {
    jiesu_kb::run_bench_kb(Cli::parse().args)
}
