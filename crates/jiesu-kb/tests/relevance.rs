//! Search relevance on the demo city's articles: every fixture of
//! `data/relevance_fixtures.tsv` (query → expected article) is searched, and at least 90 % must
//! have the expected article in the top 3. Misses are printed.

use chrono::NaiveDate;
use jiesu_kb::{KnowledgeBase, SearchOptions};

const FIXTURES: &str = include_str!("../data/relevance_fixtures.tsv");

fn fixtures() -> Vec<(&'static str, &'static str, &'static str)> {
    FIXTURES
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let mut f = l.split('\t');
            let q = f.next().unwrap();
            let id = f.next().expect("expected id");
            let kind = f.next().unwrap_or("plain");
            (q, id, kind)
        })
        .collect()
}

#[test]
fn fixtures_hit_at_3_is_at_least_90_percent() {
    let kb = KnowledgeBase::demo();
    let day = NaiveDate::from_ymd_opt(2024, 6, 1).unwrap();
    let fx = fixtures();
    assert!(fx.len() >= 40, "at least 40 fixtures");
    let mut hits = 0;
    let mut by_kind: std::collections::BTreeMap<&str, (usize, usize)> = Default::default();
    let mut misses = Vec::new();
    for (q, want, kind) in &fx {
        assert!(
            kb.get(want).is_some(),
            "fixture target {want} does not exist"
        );
        let res = kb.search(q, &SearchOptions::top(3).on(day));
        let ok = res.iter().any(|h| h.id == *want);
        let e = by_kind.entry(kind).or_default();
        e.1 += 1;
        if ok {
            hits += 1;
            e.0 += 1;
        } else {
            let got: Vec<String> = res
                .iter()
                .map(|h| format!("{} {:.2}", h.id, h.score))
                .collect();
            misses.push(format!("{q} → want {want}, got {got:?}"));
        }
    }
    let rate = hits as f64 / fx.len() as f64;
    println!("hit@3 {hits}/{} = {rate:.3}", fx.len());
    for (k, (h, n)) in &by_kind {
        println!("  {k}: {h}/{n}");
    }
    for m in &misses {
        println!("  miss: {m}");
    }
    assert!(
        rate >= 0.90,
        "hit@3 {rate:.3} < 0.90; misses:\n{}",
        misses.join("\n")
    );
}
