//! Times the scoring step alone (min and median of N runs) on a fact file: for tuning.
//!
//! cargo run --release -p jiesu-score --example score_timing -- DB FACTFILE YYYY-MM [N]
use anyhow::Context;
use jiesu_domain::org::OrgTree;
use jiesu_score::{score_levels, Columns, FactTable, Level, Month, Policy, ScoreOptions};
use jiesu_store::{prelude::*, SqliteStore};
use std::time::Instant;

fn main() -> anyhow::Result<()> {
    let a: Vec<String> = std::env::args().collect();
    anyhow::ensure!(a.len() >= 4, "usage: score_timing DB FACTFILE YYYY-MM [N]");
    let store = SqliteStore::open(&a[1])?;
    let org = OrgTree::new(store.units()?);
    let n: usize = a
        .get(4)
        .map_or(Ok(20), |s| s.parse())
        .context("N must be a whole number")?;
    let period = Month::parse(&a[3]).with_context(|| format!("'{}' is not YYYY-MM", a[3]))?;
    let mut read = vec![];
    let mut score = vec![];
    for _ in 0..n {
        let t = Instant::now();
        let (facts, _) = FactTable::read_file(a[2].as_ref(), Columns::scoring())?;
        read.push(t.elapsed().as_secs_f64() * 1e3);
        let t = Instant::now();
        let cards = score_levels(
            &facts,
            period,
            &Policy::default(),
            &org,
            &Level::ALL,
            &ScoreOptions::default(),
        )?;
        score.push(t.elapsed().as_secs_f64() * 1e3);
        assert_eq!(cards.len(), 4);
    }
    for (name, v) in [("read", &mut read), ("score", &mut score)] {
        v.sort_by(|a, b| a.total_cmp(b));
        println!(
            "{name}: min {:.1} ms, median {:.1} ms",
            v[0],
            v[v.len() / 2]
        );
    }
    Ok(())
}
