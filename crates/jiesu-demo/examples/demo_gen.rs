//! Generates a demo city and prints the report and the statistics (for timing runs):
//! `cargo run --release -p jiesu-demo --example demo_gen -- DB [SCALE] [MONTHS] [SEED] [END]`.

use chrono::{DateTime, Utc};
use jiesu_store::{SqliteStore, StoreOptions};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let db = args.get(1).map(String::as_str).unwrap_or("/tmp/demo.db");
    let scale: f64 = args.get(2).map(|s| s.parse()).transpose()?.unwrap_or(0.01);
    let months: u32 = args.get(3).map(|s| s.parse()).transpose()?.unwrap_or(12);
    let seed: u64 = args.get(4).map(|s| s.parse()).transpose()?.unwrap_or(7);
    let end: DateTime<Utc> = match args.get(5) {
        Some(s) => s.parse()?,
        None => Utc::now(),
    };
    for ext in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{db}{ext}"));
    }
    let store = SqliteStore::open_with(
        db,
        StoreOptions {
            durable: false,
            ..Default::default()
        },
    )?;
    let last = std::cell::Cell::new(0u64);
    let report = jiesu_demo::generate(
        &jiesu_demo::GenerateOptions {
            months,
            scale,
            seed,
            end,
        },
        &store,
        &|done, total| {
            if done >= last.get() + total / 20 || done == total {
                last.set(done);
                eprintln!("{done}/{total}");
            }
        },
    )?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    let t = std::time::Instant::now();
    let stats = jiesu_demo::stats(&store)?;
    println!("{}", serde_json::to_string_pretty(&stats)?);
    eprintln!("stats in {:.1} s", t.elapsed().as_secs_f64());
    Ok(())
}
