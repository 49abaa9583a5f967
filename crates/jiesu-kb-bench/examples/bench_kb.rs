//! `cargo run --release -p jiesu-kb-bench --example bench_kb -- [--articles N] [--queries N]`:
//! the same as `jiesu bench kb`.
use clap::Parser;

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    args: jiesu_kb::BenchKbArgs,
}

fn main() -> anyhow::Result<()> {
    jiesu_kb_bench::run_bench_kb(Cli::parse().args)
}
