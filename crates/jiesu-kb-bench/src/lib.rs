//! The reference engine of `jiesu bench kb`: SQLite FTS5 with the trigram tokenizer and bm25 with
//! the same field weights as ours, on the same articles and queries ([`jiesu_kb::bench`] builds
//! them, runs our index and prints both). Benchmarks only: kept out of `jiesu-kb` so the
//! knowledge base does not depend on a database.

use anyhow::{Context, Result};
use jiesu_kb::bench::{BenchKbArgs, BenchSet, SystemResult};
use std::time::Instant;

/// Runs `jiesu bench kb` with FTS5 as the reference; the last line is `ratio R` (our p95 / FTS5
/// p95).
pub fn run_bench_kb(args: BenchKbArgs) -> Result<()> {
    jiesu_kb::bench::run_bench_kb(args, &run_fts5)
}

/// The FTS5 query for a text: every trigram of its runs of letters/digits/ideographs, quoted,
/// joined with OR (ranked by bm25). `None` when the text has no trigram.
pub fn fts5_query(text: &str) -> Option<String> {
    let norm = jiesu_text::analyzer::normalize(text);
    let mut grams: Vec<String> = Vec::new();
    let mut run: Vec<char> = Vec::new();
    let flush = |run: &mut Vec<char>, grams: &mut Vec<String>| {
        for w in run.windows(3) {
            let g: String = w.iter().collect();
            if !grams.contains(&g) {
                grams.push(g);
            }
        }
        run.clear();
    };
    for c in norm.chars() {
        if c.is_alphanumeric() {
            run.push(c);
        } else {
            flush(&mut run, &mut grams);
        }
    }
    flush(&mut run, &mut grams);
    if grams.is_empty() {
        return None;
    }
    Some(
        grams
            .iter()
            .map(|g| format!("\"{}\"", g.replace('"', "\"\"")))
            .collect::<Vec<_>>()
            .join(" OR "),
    )
}

/// SQLite FTS5 (trigram tokenizer, bm25 with the same field weights) on the same articles and
/// queries.
pub fn run_fts5(set: &BenchSet, repeat: usize) -> Result<SystemResult> {
    let t0 = Instant::now();
    let db = rusqlite::Connection::open_in_memory()?;
    db.execute_batch(
        "CREATE VIRTUAL TABLE kb USING fts5(question, tags, answer, tokenize='trigram');",
    )
    .context("SQLite FTS5 with the trigram tokenizer is not available in this build")?;
    {
        let tx = db.unchecked_transaction()?;
        {
            let mut ins = tx
                .prepare("INSERT INTO kb(rowid, question, tags, answer) VALUES (?1, ?2, ?3, ?4)")?;
            for (i, a) in set.articles.iter().enumerate() {
                let mut tags = a.tags.join(" ");
                if let Some(u) = jiesu_refdata::org().get(&a.owner_unit) {
                    tags.push(' ');
                    tags.push_str(&u.name);
                }
                ins.execute(rusqlite::params![i as i64, a.question, tags, a.answer])?;
            }
        }
        tx.commit()?;
    }
    db.execute_batch("INSERT INTO kb(kb) VALUES('optimize');")?;
    let build = t0.elapsed().as_secs_f64();
    let mut stmt = db.prepare(
        "SELECT rowid FROM kb WHERE kb MATCH ?1 ORDER BY bm25(kb, 3.0, 2.0, 1.0) LIMIT 3",
    )?;
    let mut run = |q: &str| -> Result<Vec<i64>> {
        let Some(m) = fts5_query(q) else {
            return Ok(Vec::new());
        };
        let rows = stmt.query_map([m], |r| r.get::<_, i64>(0))?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    };
    for (q, _) in set.queries.iter().take(20) {
        let _ = run(q)?;
    }
    let mut ms = Vec::with_capacity(set.queries.len());
    let mut hit = Vec::with_capacity(set.queries.len());
    for (q, t) in &set.queries {
        let mut best = f64::INFINITY;
        let mut res = Vec::new();
        for _ in 0..repeat.max(1) {
            let t0 = Instant::now();
            res = run(q)?;
            best = best.min(t0.elapsed().as_secs_f64() * 1e3);
        }
        ms.push(best);
        hit.push(res.contains(&(*t as i64)));
    }
    Ok(SystemResult::from_runs(ms, &hit, &set.real_query, build))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_fts5_query_ors_the_quoted_trigrams_of_each_run() {
        assert_eq!(
            fts5_query("路灯不亮").as_deref(),
            Some("\"路灯不\" OR \"灯不亮\"")
        );
        assert_eq!(fts5_query("灯 亮"), None);
    }
}
