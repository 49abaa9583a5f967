//! `jiesu bench kb`: search latency (p50/p95) and recall@3 of our index against SQLite FTS5
//! with the trigram tokenizer, on the same 100,000 articles and the same queries, in the same
//! run.
//!
//! Articles: the demo city's articles and the real official replies (TipDM 附件4), each in
//! place-specific variants — a different street/town per variant, the place written into the
//! question, tags and owner unit, the masked names of the real data replaced by the variant's
//! district, synonyms swapped, a sentence of the answer sometimes dropped. Queries: for a
//! sampled variant, either a relevance-fixture-like paraphrase of the demo question or the
//! first 80 characters of the real message's detail, with the variant's place named; the target
//! is that one variant, so a system must find the topic *and* the place.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Result};
use chrono::NaiveDate;

use crate::article::{Article, ArticleStatus};
use crate::kb::{KnowledgeBase, SearchOptions};
use crate::realdata::{load_replies, replies_path, RealMessage};
use crate::rng::Rng;
use crate::synth::{
    drop_sentence, head_chars, street_places, swap_synonyms, unmask_places, StreetPlace,
};

/// Articles built from real messages: `M00000`, `M00001`, … in input order, question = title,
/// answer = official reply, owned by the hotline centre, valid since 2000-01-01.
pub fn real_articles(msgs: &[RealMessage]) -> Vec<Article> {
    msgs.iter()
        .enumerate()
        .map(|(i, m)| Article {
            id: format!("M{i:05}"),
            version: 1,
            question: m
                .title
                .trim()
                .chars()
                .take(crate::article::MAX_QUESTION_CHARS)
                .collect(),
            answer: m
                .reply
                .trim()
                .chars()
                .take(crate::article::MAX_ANSWER_CHARS)
                .collect(),
            policy_basis: String::new(),
            owner_unit: jiesu_refdata::CENTRE_CODE.to_string(),
            categories: Vec::new(),
            tags: Vec::new(),
            valid_from: NaiveDate::from_ymd_opt(2000, 1, 1).expect("valid date"),
            valid_to: None,
            status: ArticleStatus::Published,
            reviewed_by: Some("real-data".to_string()),
        })
        .collect()
}

/// `jiesu bench kb`
#[derive(clap::Args, Debug, Clone)]
pub struct BenchKbArgs {
    /// Number of articles to generate.
    #[arg(long, default_value_t = 100_000)]
    pub articles: usize,
    /// Number of queries (half from demo articles, half from real messages).
    #[arg(long, default_value_t = 1_000)]
    pub queries: usize,
    /// The real message/reply CSV (default: tipdm2020_gov_messages_votes_replies/
    /// messages_with_replies.csv under $JIESU_SHARED_DATA, else the workspace's ../shared/data).
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Random seed of the generator.
    #[arg(long, default_value_t = 12345)]
    pub seed: u64,
    /// Runs of each query; its fastest run counts (both systems alike), so that other
    /// processes on a shared machine do not inflate the tail.
    #[arg(long, default_value_t = 3)]
    pub repeat: usize,
    /// Skip SQLite FTS5 (our figures only).
    #[arg(long)]
    pub no_fts: bool,
}

impl Default for BenchKbArgs {
    fn default() -> Self {
        BenchKbArgs {
            articles: 100_000,
            queries: 1_000,
            data: None,
            seed: 12345,
            repeat: 3,
            no_fts: false,
        }
    }
}

/// One base article and how to query it.
struct Base {
    article: Article,
    /// Query text with the place left out (paraphrase of the question, or the real detail).
    query: String,
    real: bool,
}

/// The generated benchmark: articles and (query, target index) pairs.
pub struct BenchSet {
    pub articles: Vec<Article>,
    pub queries: Vec<(String, usize)>,
    /// Which queries come from real messages.
    pub real_query: Vec<bool>,
}

const FIXTURES: &str = include_str!("../data/relevance_fixtures.tsv");

fn fixture_queries() -> HashMap<String, Vec<String>> {
    let mut m: HashMap<String, Vec<String>> = HashMap::new();
    for l in FIXTURES
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let mut f = l.split('\t');
        if let (Some(q), Some(id)) = (f.next(), f.next()) {
            m.entry(id.to_string()).or_default().push(q.to_string());
        }
    }
    m
}

/// A caller's paraphrase of a question: trailing punctuation and politeness trimmed, synonyms
/// swapped.
fn paraphrase_question(q: &str, rng: &mut Rng) -> String {
    let q = q.trim_end_matches(['？', '?', '。']);
    let q = swap_synonyms(q, rng, 0.6, 2);
    match rng.below(3) {
        0 => format!("请问{q}"),
        1 => format!("我想咨询{q}"),
        _ => q,
    }
}

fn with_place(q: &str, p: &StreetPlace, rng: &mut Rng) -> String {
    match rng.below(4) {
        0 => format!("{}{}，{q}", p.district, p.street_short),
        1 => format!("我是{}的居民，{q}", p.street),
        2 => format!("{q}，我在{}{}", p.district, p.street),
        _ => format!("{}{q}", p.street_short),
    }
}

fn variant(base: &Base, p: &StreetPlace, v: usize, rng: &mut Rng) -> Article {
    let mut a = base.article.clone();
    a.id = format!("{}-{v:02}", base.article.id);
    let (question, answer) = if base.real {
        (
            unmask_places(&a.question, &p.district),
            unmask_places(&a.answer, &p.district),
        )
    } else {
        (a.question.clone(), a.answer.clone())
    };
    let question = swap_synonyms(&question, rng, 0.3, 1);
    a.question = match rng.below(4) {
        0 => format!("{}{}：{question}", p.district, p.street),
        1 => format!("{}{question}", p.street_short),
        2 => format!("{question}（{}{}）", p.district, p.street),
        _ => format!("关于{}{question}", p.street),
    }
    .chars()
    .take(crate::article::MAX_QUESTION_CHARS)
    .collect();
    a.answer = if rng.chance(0.5) {
        drop_sentence(&answer, rng, 3)
    } else {
        answer
    };
    a.owner_unit = p.street_code.clone();
    a.tags.push(p.street.clone());
    a.tags.push(p.district.clone());
    a
}

/// Generates the benchmark set (deterministic for a seed).
pub fn generate(
    demo: &[Article],
    real: &[RealMessage],
    n_articles: usize,
    n_queries: usize,
    seed: u64,
) -> Result<BenchSet> {
    let mut rng = Rng::new(seed);
    let fx = fixture_queries();
    let mut bases: Vec<Base> = Vec::new();
    for a in demo.iter().filter(|a| a.valid_to.is_none()) {
        let q = match fx.get(&a.id) {
            Some(qs) if rng.chance(0.5) => rng.pick(qs).clone(),
            _ => paraphrase_question(&a.question, &mut rng),
        };
        bases.push(Base {
            article: a.clone(),
            query: q,
            real: false,
        });
    }
    for a in real_articles(real) {
        let i: usize = a.id[1..].parse().unwrap_or(0);
        bases.push(Base {
            query: real[i].detail.clone(),
            article: a,
            real: true,
        });
    }
    if bases.is_empty() {
        bail!("no base articles");
    }
    let places = street_places();
    let per_base = n_articles.div_ceil(bases.len()).min(places.len());
    let mut articles = Vec::with_capacity(n_articles);
    // (base, variant) of every article, to draw query targets from.
    let mut origin: Vec<(usize, usize)> = Vec::with_capacity(n_articles);
    'outer: for v in 0..per_base {
        for (b, base) in bases.iter().enumerate() {
            if articles.len() >= n_articles {
                break 'outer;
            }
            let start = (b * 7919) % places.len();
            let p = &places[(start + v * 2) % places.len()];
            articles.push(variant(base, p, v, &mut rng));
            origin.push((b, v));
        }
    }
    let mut queries = Vec::with_capacity(n_queries);
    let mut real_query = Vec::with_capacity(n_queries);
    let (demo_idx, real_idx): (Vec<usize>, Vec<usize>) =
        (0..articles.len()).partition(|&i| !bases[origin[i].0].real);
    for k in 0..n_queries {
        let pool = if (k % 2 == 0 && !demo_idx.is_empty()) || real_idx.is_empty() {
            &demo_idx
        } else {
            &real_idx
        };
        let t = *rng.pick(pool);
        let (b, v) = origin[t];
        let base = &bases[b];
        let start = (b * 7919) % places.len();
        let p = &places[(start + v * 2) % places.len()];
        let text = if base.real {
            head_chars(&unmask_places(&base.query, &p.district), 80)
        } else {
            base.query.clone()
        };
        queries.push((with_place(&text, p, &mut rng), t));
        real_query.push(base.real);
    }
    Ok(BenchSet {
        articles,
        queries,
        real_query,
    })
}

/// Latency summary in milliseconds.
#[derive(Debug, Clone, Copy, Default)]
pub struct Latency {
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub mean: f64,
}

fn latency(mut ms: Vec<f64>) -> Latency {
    if ms.is_empty() {
        return Latency::default();
    }
    ms.sort_by(|a, b| a.total_cmp(b));
    let q = |p: f64| ms[((ms.len() as f64 - 1.0) * p).round() as usize];
    Latency {
        p50: q(0.50),
        p95: q(0.95),
        p99: q(0.99),
        mean: ms.iter().sum::<f64>() / ms.len() as f64,
    }
}

/// One system's results on the query set.
#[derive(Debug, Clone, Default)]
pub struct SystemResult {
    pub latency: Latency,
    pub recall3: f64,
    pub recall3_demo: f64,
    pub recall3_real: f64,
    pub build_seconds: f64,
}

impl SystemResult {
    /// The result of a run: each query's fastest time in milliseconds and whether its target was
    /// in the top 3 (`real[i]`: query `i` is from the real data), and the build time.
    pub fn from_runs(ms: Vec<f64>, hit: &[bool], real: &[bool], build_seconds: f64) -> Self {
        SystemResult {
            latency: latency(ms),
            recall3: recall(hit, real, None),
            recall3_demo: recall(hit, real, Some(false)),
            recall3_real: recall(hit, real, Some(true)),
            build_seconds,
        }
    }
}

/// A reference engine measured beside ours on the same set: it returns its results like
/// [`run_ours`]. `jiesu bench kb` uses SQLite FTS5 (trigram), in the `jiesu-kb-bench` crate.
pub type Reference<'a> = &'a dyn Fn(&BenchSet, usize) -> Result<SystemResult>;

fn recall(hit: &[bool], real: &[bool], want_real: Option<bool>) -> f64 {
    let sel: Vec<bool> = hit
        .iter()
        .zip(real)
        .filter(|(_, &r)| want_real.is_none_or(|w| w == r))
        .map(|(&h, _)| h)
        .collect();
    if sel.is_empty() {
        return 0.0;
    }
    sel.iter().filter(|&&h| h).count() as f64 / sel.len() as f64
}

/// Our index: build, then each query timed (search with highlighting, top 3).
pub fn run_ours(set: &BenchSet, repeat: usize) -> Result<SystemResult> {
    let t0 = Instant::now();
    let ids: Vec<String> = set.articles.iter().map(|a| a.id.clone()).collect();
    let kb = KnowledgeBase::from_articles(set.articles.iter().cloned())
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let build = t0.elapsed().as_secs_f64();
    let ix = kb.index();
    println!(
        "jiesu-kb index: {} documents, {} terms, {} postings, ~{} MiB",
        ix.len(),
        ix.term_count(),
        ix.posting_count(),
        ix.heap_bytes() >> 20
    );
    let day = NaiveDate::from_ymd_opt(2024, 6, 1).expect("date");
    let opts = SearchOptions::top(3).on(day);
    for (q, _) in set.queries.iter().take(50) {
        let _ = kb.search(q, &opts);
    }
    let mut ms = Vec::with_capacity(set.queries.len());
    let mut hit = Vec::with_capacity(set.queries.len());
    for (q, t) in &set.queries {
        let mut best = f64::INFINITY;
        let mut res = Vec::new();
        for _ in 0..repeat.max(1) {
            let t0 = Instant::now();
            res = kb.search(q, &opts);
            best = best.min(t0.elapsed().as_secs_f64() * 1e3);
        }
        ms.push(best);
        hit.push(res.iter().any(|h| h.id == ids[*t]));
    }
    Ok(SystemResult::from_runs(ms, &hit, &set.real_query, build))
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| {
            let v: Vec<&str> = s.split_whitespace().take(3).collect();
            (v.len() == 3).then(|| v.join(" "))
        })
        .unwrap_or_else(|| "n/a".into())
}

fn print_system(name: &str, r: &SystemResult) {
    println!(
        "{name:<18} build {:>7.1} s   p50 {:>8.3} ms   p95 {:>8.3} ms   p99 {:>8.3} ms   mean {:>8.3} ms   recall@3 {:.3} (demo {:.3}, real {:.3})",
        r.build_seconds,
        r.latency.p50,
        r.latency.p95,
        r.latency.p99,
        r.latency.mean,
        r.recall3,
        r.recall3_demo,
        r.recall3_real
    );
}

/// Runs the benchmark and prints both systems (ours and `reference`, SQLite FTS5 in `jiesu bench
/// kb`); the last line is `ratio R` with R = our p95 / FTS5 p95 (lower is better).
pub fn run_bench_kb(args: BenchKbArgs, reference: Reference) -> Result<()> {
    if args.articles == 0 || args.queries == 0 {
        bail!("--articles and --queries must be positive");
    }
    let path = args.data.clone().unwrap_or_else(replies_path);
    let real = load_replies(&path)?;
    let demo = crate::demo::demo_articles();
    let t0 = Instant::now();
    let set = generate(&demo, &real, args.articles, args.queries, args.seed)?;
    let avg_chars = set
        .articles
        .iter()
        .map(|a| a.question.chars().count() + a.answer.chars().count())
        .sum::<usize>() as f64
        / set.articles.len() as f64;
    let avg_q = set
        .queries
        .iter()
        .map(|(q, _)| q.chars().count())
        .sum::<usize>() as f64
        / set.queries.len() as f64;
    println!(
        "jiesu bench kb: {} articles (avg {avg_chars:.0} chars) from {} demo + {} real bases, {} queries (avg {avg_q:.0} chars), generated in {:.1} s",
        set.articles.len(),
        demo.len(),
        real.len(),
        set.queries.len(),
        t0.elapsed().as_secs_f64()
    );
    println!(
        "each query run {}× (fastest counts); load average {}",
        args.repeat.max(1),
        load_average()
    );
    let ours = run_ours(&set, args.repeat)?;
    print_system("jiesu-kb (BM25F)", &ours);
    if args.no_fts {
        return Ok(());
    }
    let fts = reference(&set, args.repeat)?;
    print_system("SQLite FTS5 trigram", &fts);
    println!(
        "recall@3 side by side: jiesu-kb {:.3} vs FTS5 {:.3}",
        ours.recall3, fts.recall3
    );
    let ratio = if fts.latency.p95 > 0.0 {
        ours.latency.p95 / fts.latency.p95
    } else {
        f64::NAN
    };
    println!("load average after: {}", load_average());
    println!("ratio {ratio:.4}");
    Ok(())
}
