//! `jiesu bench topics`: the coherence (NPMI on the corpus) of 每月一题's concrete problems
//! against gensim's LdaModel with the same number of topics per category on the same segmented
//! texts (LDA's vocabulary filtered as ours is: the same document-frequency bounds within a
//! category, the same common-speech words left out). Both topic sets are scored by the same NPMI (`jiesu_governance::topics::npmi`, words
//! co-occurring in one text) and, as a second opinion, by gensim's own `CoherenceModel`
//! (`c_npmi`, sliding windows of 10 words). The last line is `ratio R`: ours / LDA on our NPMI
//! moved to [0, 1] ((1 + NPMI) / 2; NPMI is often negative for LDA on short texts, where a plain
//! quotient would mean nothing).

use anyhow::{bail, Context, Result};
use jiesu_domain::category::CategoryTree;
use jiesu_governance::topics::{
    cluster_corpus, generic_words, mean, npmi, usable, ClusterConfig, TextDoc,
};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

/// `jiesu bench topics` arguments.
#[derive(clap::Args, Debug)]
pub struct BenchTopicsArgs {
    /// A city database (e.g. `jiesu generate --db x.db --months 12 --scale 0.01 --no-train`).
    #[arg(long)]
    pub db: Option<PathBuf>,
    /// Instead of a database: a CSV of real messages (columns `category` and `text`, or the
    /// shared TipDM file's `一级分类`/`留言主题`/`留言详情`).
    #[arg(long)]
    pub csv: Option<PathBuf>,
    /// The newest this many texts.
    #[arg(long, default_value_t = 60_000)]
    pub limit: u32,
    /// Problems per category (LDA gets the same number per category).
    #[arg(long, default_value_t = 3)]
    pub topics_per_category: usize,
    /// LDA passes over each category's texts.
    #[arg(long, default_value_t = 10)]
    pub passes: u32,
    /// Skip gensim's own CoherenceModel (slow on large corpora).
    #[arg(long)]
    pub no_gensim_coherence: bool,
    /// The Python to install gensim for (a venv in the cache directory).
    #[arg(long, default_value = "python3")]
    pub python: String,
}

const SCRIPT: &str = r#"
import json, sys
from gensim.corpora import Dictionary
from gensim.models import LdaModel
from gensim.models.coherencemodel import CoherenceModel
data = json.load(open(sys.argv[1], encoding="utf-8"))
docs = data["docs"]            # [category, [words]]
ks = data["topics"]            # category -> k
by_cat = {}
for cat, words in docs:
    by_cat.setdefault(cat, []).append(words)
lda_topics = []
for cat in sorted(ks):
    texts = by_cat[cat]
    d = Dictionary(texts)
    d.filter_extremes(no_below=data["min_df"], no_above=data["max_df_share"], keep_n=None)
    d.filter_tokens(bad_ids=[d.token2id[w] for w in data["generic"] if w in d.token2id])
    bow = [d.doc2bow(t) for t in texts]
    if len(d) == 0:
        continue
    lda = LdaModel(bow, id2word=d, num_topics=ks[cat], passes=data["passes"], iterations=100,
                   random_state=13, alpha="auto", eta="auto")
    for t in range(ks[cat]):
        lda_topics.append([w for w, _ in lda.show_topic(t, topn=data["top_words"])])
out = {"lda": lda_topics}
if data["gensim_coherence"]:
    all_texts = [w for _, w in docs]
    full = Dictionary(all_texts)
    def c(topics):
        topics = [[w for w in t if w in full.token2id] for t in topics]
        topics = [t for t in topics if len(t) >= 2]
        cm = CoherenceModel(topics=topics, texts=all_texts, dictionary=full, coherence="c_npmi", processes=1)
        return cm.get_coherence()
    out["gensim_c_npmi_ours"] = c(data["ours"])
    out["gensim_c_npmi_lda"] = c(lda_topics)
print(json.dumps(out, ensure_ascii=False))
"#;

fn docs_from_db(db: &std::path::Path, limit: u32) -> Result<Vec<TextDoc>> {
    let store = crate::open_existing(db)?;
    let tree = CategoryTree::new(store.categories()?);
    let examples = store.labelled_examples(limit)?;
    let analyzer = jiesu_text::analyzer::Analyzer::new();
    Ok(jiesu_http::monthly::text_docs(&examples, &tree, &analyzer))
}

fn docs_from_csv(path: &std::path::Path, limit: u32) -> Result<Vec<TextDoc>> {
    let mut rd = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let headers = rd.headers()?.clone();
    let find = |names: &[&str]| {
        headers
            .iter()
            .position(|h| names.contains(&h.trim().trim_start_matches('\u{feff}')))
    };
    let Some(cat) = find(&["category", "label_l1", "一级分类"]) else {
        bail!("{}: no `category` (or 一级分类) column", path.display());
    };
    let title = find(&["title", "留言主题"]);
    let text = find(&["text", "message", "tokens", "留言详情"]);
    if title.is_none() && text.is_none() {
        bail!(
            "{}: no `text` (or 留言主题/留言详情) column",
            path.display()
        );
    }
    let analyzer = jiesu_text::analyzer::Analyzer::new();
    let mut out = Vec::new();
    for (i, rec) in rd.records().enumerate() {
        if out.len() >= limit as usize {
            break;
        }
        let rec = rec.with_context(|| format!("{}: line {}", path.display(), i + 2))?;
        let get = |c: Option<usize>| c.and_then(|c| rec.get(c)).unwrap_or("").trim().to_string();
        out.push(TextDoc {
            ticket_id: i as i64 + 1,
            category: get(Some(cat)),
            words: analyzer.tokens(&format!("{}\n{}", get(title), get(text))),
        });
    }
    Ok(out)
}

/// Runs the benchmark.
pub fn run(args: BenchTopicsArgs) -> Result<()> {
    let t0 = Instant::now();
    let mut docs = match (&args.db, &args.csv) {
        (Some(db), None) => docs_from_db(db, args.limit)?,
        (None, Some(csv)) => docs_from_csv(csv, args.limit)?,
        _ => bail!("give either --db or --csv"),
    };
    // both sides see the same words: those the clustering can use
    for d in &mut docs {
        d.words.retain(|w| usable(w));
    }
    docs.retain(|d| !d.words.is_empty());
    if docs.is_empty() {
        bail!("no texts to cluster");
    }
    println!(
        "{} texts segmented in {:.1} s",
        docs.len(),
        t0.elapsed().as_secs_f64()
    );
    let cfg = ClusterConfig {
        topics_per_category: args.topics_per_category,
        ..ClusterConfig::default()
    };
    let t1 = Instant::now();
    let ours = cluster_corpus(&docs, &cfg);
    let our_secs = t1.elapsed().as_secs_f64();
    let mut ks: BTreeMap<&str, usize> = BTreeMap::new();
    for c in &ours {
        *ks.entry(c.category.as_str()).or_default() += 1;
    }
    // categories where clustering found a single problem are not a clustering: both sides skip them
    ks.retain(|_, k| *k >= 2);
    let ours_kept: Vec<&jiesu_governance::topics::Cluster> = ours
        .iter()
        .filter(|c| ks.contains_key(c.category.as_str()))
        .collect();
    let in_cats: Vec<&TextDoc> = docs
        .iter()
        .filter(|d| ks.contains_key(d.category.as_str()))
        .collect();
    println!(
        "jiesu : {} problems in {} categories (k-means, {} per category at most) in {:.1} s",
        ours_kept.len(),
        ks.len(),
        args.topics_per_category,
        our_secs
    );
    let cache = jiesu_pybaseline::cache_dir();
    std::fs::create_dir_all(&cache)
        .with_context(|| format!("cannot create the cache directory {}", cache.display()))?;
    let python = jiesu_pybaseline::python_with(
        &cache,
        &args.python,
        "venv-topics",
        &["gensim"],
        &["gensim"],
    )?;
    let script = cache.join("topics_bench.py");
    std::fs::write(&script, SCRIPT)?;
    let input = cache.join(format!("bench-topics-{}.json", std::process::id()));
    let payload = serde_json::json!({
        "docs": in_cats.iter().map(|d| (d.category.as_str(), &d.words)).collect::<Vec<_>>(),
        "topics": ks,
        "ours": ours_kept.iter().map(|c| &c.top_words).collect::<Vec<_>>(),
        "generic": generic_words(&docs, cfg.generic_share),
        "min_df": cfg.min_df,
        "max_df_share": cfg.max_df_share,
        "top_words": cfg.top_words,
        "passes": args.passes,
        "gensim_coherence": !args.no_gensim_coherence,
    });
    std::fs::write(&input, serde_json::to_vec(&payload)?)?;
    let t2 = Instant::now();
    let out = Command::new(&python).arg(&script).arg(&input).output();
    let _ = std::fs::remove_file(&input); // shared data may be licensed for testing only
    let out = out.with_context(|| format!("cannot run {}", python.display()))?;
    if !out.status.success() {
        bail!(
            "the gensim baseline failed ({}):\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let lda_secs = t2.elapsed().as_secs_f64();
    let r: serde_json::Value = serde_json::from_slice(
        out.stdout
            .split(|b| *b == b'\n')
            .rfind(|l| !l.is_empty())
            .unwrap_or_default(),
    )
    .context("the gensim baseline printed no JSON")?;
    let lda: Vec<Vec<String>> = serde_json::from_value(r["lda"].clone())?;
    let corpus: Vec<&[String]> = docs.iter().map(|d| d.words.as_slice()).collect();
    let ours_topics: Vec<Vec<String>> = ours_kept.iter().map(|c| c.top_words.clone()).collect();
    let ours_npmi = mean(&npmi(&ours_topics, &corpus));
    let lda_npmi = mean(&npmi(&lda, &corpus));
    println!(
        "gensim: {} LDA topics (same k per category, {} passes) in {:.1} s",
        lda.len(),
        args.passes,
        lda_secs
    );
    for (i, c) in ours_kept.iter().take(8).enumerate() {
        println!(
            "  e.g. {} → 「{}」 {} texts, NPMI {:.3}; LDA: {}",
            c.category,
            c.label,
            c.tickets.len(),
            c.coherence,
            lda.get(i).map(|t| t.join(" ")).unwrap_or_default()
        );
    }
    if let (Some(a), Some(b)) = (
        r["gensim_c_npmi_ours"].as_f64(),
        r["gensim_c_npmi_lda"].as_f64(),
    ) {
        println!("gensim CoherenceModel c_npmi (window 10): jiesu {a:.4}, LDA {b:.4}");
    }
    println!(
        "NPMI (text co-occurrence, top {} words): jiesu {ours_npmi:.4}, LDA {lda_npmi:.4}",
        cfg.top_words
    );
    // NPMI lies in [−1, 1] and is often negative for LDA on short texts: the ratio is taken on
    // the same measure moved to [0, 1], (1 + NPMI) / 2, so it stays defined and ordered
    let ratio = (1.0 + ours_npmi) / (1.0 + lda_npmi).max(1e-9);
    println!(
        "{}",
        serde_json::json!({"ours_npmi": ours_npmi, "lda_npmi": lda_npmi, "problems": ours_kept.len(), "texts": docs.len(),
            "gensim_c_npmi_ours": r["gensim_c_npmi_ours"], "gensim_c_npmi_lda": r["gensim_c_npmi_lda"]})
    );
    println!("ratio {ratio:.2}  (jiesu / LDA on (1 + NPMI) / 2)");
    Ok(())
}
