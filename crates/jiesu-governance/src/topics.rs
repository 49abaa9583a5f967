//! 问题聚类 — the concrete problems inside a category, found in the requests' texts: each text is
//! a bag of words and adjacent word pairs (the caller segments; this module never sees a
//! segmenter), weighted TF-IDF within the category; spherical k-means (k-means++ seeding from a
//! fixed seed, so the same texts give the same clusters) splits the category into `k` problems;
//! each problem is labelled with its most **distinctive** terms (the term's share of the cluster's
//! texts × the log of that share over its share in the whole category), ordered as they appear in
//! the texts, e.g. 小区 · 充电桩 · 安装 inside 小区配套.
//!
//! Coherence is measured the way topic models are: [`npmi`] — for every pair of a topic's top
//! words, the normalised pointwise mutual information of their appearing in the same text of the
//! corpus, averaged (−1 never together, 0 independent, 1 always together). `jiesu bench topics`
//! compares it with gensim's LDA on the same texts.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

/// One request's text, segmented by the caller.
#[derive(Debug, Clone, PartialEq)]
pub struct TextDoc {
    /// The ticket.
    pub ticket_id: i64,
    /// The category it is clustered in (e.g. the second-level category code).
    pub category: String,
    /// Its words in order (stopwords already removed).
    pub words: Vec<String>,
}

/// How categories are split.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterConfig {
    /// Problems per category (fewer when the category has few texts).
    pub topics_per_category: usize,
    /// A category with fewer texts is one problem.
    pub min_docs_per_topic: usize,
    /// A term kept for clustering appears in at least this many of the category's texts…
    pub min_df: usize,
    /// … and in at most this share of them (a term in every text separates nothing).
    pub max_df_share: f64,
    /// k-means rounds.
    pub iterations: usize,
    /// The seed of the k-means++ draw.
    pub seed: u64,
    /// Top words per problem (for coherence and display).
    pub top_words: usize,
    /// Terms in a label.
    pub label_terms: usize,
    /// A word in more than this share of all the corpus's texts, across categories, is the
    /// hotline's common speech (来电, 反映, 希望 …: [`generic_words`]): it neither clusters nor
    /// labels (a pair of words keeps it beside a word that is not).
    pub generic_share: f64,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        ClusterConfig {
            topics_per_category: 3,
            min_docs_per_topic: 20,
            min_df: 3,
            max_df_share: 0.6,
            iterations: 30,
            seed: 13,
            top_words: 10,
            label_terms: 3,
            generic_share: 0.02,
        }
    }
}

/// A concrete problem: a cluster of texts in one category.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cluster {
    /// The category.
    pub category: String,
    /// Its label, its terms joined in reading order (e.g. "小区充电桩安装").
    pub label: String,
    /// The label's terms.
    pub label_terms: Vec<String>,
    /// The most distinctive single words, best first (what coherence is measured on).
    pub top_words: Vec<String>,
    /// The tickets in it, ascending.
    pub tickets: Vec<i64>,
    /// NPMI of `top_words` on the corpus (filled by [`cluster_corpus`]).
    pub coherence: f64,
}

/// Whether a word can stand in a problem's terms: two characters or more, some of them letters.
pub fn usable(w: &str) -> bool {
    let n = w.chars().count();
    n >= 2
        && !w
            .chars()
            .all(|c| c.is_ascii_digit() || c.is_ascii_punctuation() || c.is_whitespace())
        && w.chars().any(|c| c.is_alphabetic())
}

/// Joins the two words of a pair term.
const PAIR: char = '\u{b7}';

/// A single ideograph (桩, 灯, 楼 …): no term alone, but part of a pair (充电·桩 → 充电桩).
fn single_ideograph(w: &str) -> bool {
    let mut c = w.chars();
    matches!((c.next(), c.next()), (Some(x), None) if ('\u{4E00}'..='\u{9FFF}').contains(&x))
}

/// The terms of one text in order, repeats kept: its usable words that are not generic, and
/// adjacent pairs of usable words or single ideographs (joined by [`PAIR`]) with at least one
/// usable word that is not generic.
fn term_seq(words: &[String], generic: &HashSet<String>) -> Vec<String> {
    let kept: Vec<&String> = words
        .iter()
        .filter(|w| usable(w) || single_ideograph(w))
        .collect();
    let own = |w: &str| usable(w) && !generic.contains(w);
    let mut out: Vec<String> = Vec::new();
    for (i, w) in kept.iter().enumerate() {
        if own(w) {
            out.push(w.to_string());
        }
        if let Some(next) = kept.get(i + 1) {
            if w != next && (own(w) || own(next)) {
                out.push(format!("{w}{PAIR}{next}"));
            }
        }
    }
    out
}

/// The terms of one text, once each (see [`term_seq`]).
fn terms(words: &[String], generic: &HashSet<String>) -> Vec<String> {
    let mut seen = HashSet::new();
    term_seq(words, generic)
        .into_iter()
        .filter(|t| seen.insert(t.clone()))
        .collect()
}

type Sparse = Vec<(u32, f32)>;

fn dot(a: &Sparse, dense: &[f32]) -> f32 {
    a.iter().map(|&(i, v)| v * dense[i as usize]).sum()
}

/// Splits the texts of one category into at most `k` clusters; returns, per text, its cluster
/// (`usize::MAX`: the text had no usable term).
fn kmeans(vectors: &[Sparse], dims: usize, k: usize, cfg: &ClusterConfig) -> Vec<usize> {
    let n = vectors.len();
    let mut assign = vec![usize::MAX; n];
    let live: Vec<usize> = (0..n).filter(|&i| !vectors[i].is_empty()).collect();
    if live.is_empty() {
        return assign;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
    let densify = |v: &Sparse| {
        let mut d = vec![0f32; dims];
        for &(i, x) in v {
            d[i as usize] = x;
        }
        d
    };
    // k-means++: the first centre at random, each next one drawn by 1 − similarity to the nearest
    let mut centres: Vec<Vec<f32>> = vec![densify(&vectors[live[rng.gen_range(0..live.len())]])];
    let mut best = vec![0f32; n];
    while centres.len() < k {
        let last = centres.last().expect("one");
        let mut total = 0f64;
        for &i in &live {
            let s = dot(&vectors[i], last);
            if centres.len() == 1 || s > best[i] {
                best[i] = s;
            }
            total += f64::from((1.0 - best[i]).max(0.0));
        }
        if total <= 1e-9 {
            break;
        }
        let mut r = rng.gen_range(0.0..total);
        let mut pick = live[live.len() - 1];
        for &i in &live {
            r -= f64::from((1.0 - best[i]).max(0.0));
            if r <= 0.0 {
                pick = i;
                break;
            }
        }
        centres.push(densify(&vectors[pick]));
    }
    for _ in 0..cfg.iterations {
        let mut changed = false;
        for &i in &live {
            let (c, _) = centres
                .iter()
                .enumerate()
                .map(|(c, centre)| (c, dot(&vectors[i], centre)))
                .fold((0, f32::MIN), |a, b| if b.1 > a.1 { b } else { a });
            if assign[i] != c {
                assign[i] = c;
                changed = true;
            }
        }
        // new centres: the normalised mean of their members
        for (c, centre) in centres.iter_mut().enumerate() {
            let mut sum = vec![0f32; dims];
            let mut members = 0;
            for &i in &live {
                if assign[i] == c {
                    members += 1;
                    for &(j, x) in &vectors[i] {
                        sum[j as usize] += x;
                    }
                }
            }
            if members == 0 {
                continue;
            }
            let norm = sum.iter().map(|x| x * x).sum::<f32>().sqrt();
            if norm > 0.0 {
                sum.iter_mut().for_each(|x| *x /= norm);
            }
            *centre = sum;
        }
        if !changed {
            break;
        }
    }
    assign
}

/// The hotline's common speech: the words in more than `share` of the texts that also appear
/// in at least a quarter of the categories (and in three at least) — a word frequent in one
/// category only is that category's subject, not common speech.
pub fn generic_words(docs: &[TextDoc], share: f64) -> HashSet<String> {
    let mut df: HashMap<&str, (usize, HashSet<&str>)> = HashMap::new();
    let mut cats: HashSet<&str> = HashSet::new();
    for d in docs {
        cats.insert(d.category.as_str());
        let mut seen = HashSet::new();
        for w in &d.words {
            if seen.insert(w.as_str()) {
                let e = df.entry(w.as_str()).or_default();
                e.0 += 1;
                e.1.insert(d.category.as_str());
            }
        }
    }
    let limit = share * docs.len() as f64;
    let min_cats = (cats.len() / 4).max(3);
    df.into_iter()
        .filter(|(_, (n, c))| *n as f64 > limit && c.len() >= min_cats)
        .map(|(w, _)| w.to_string())
        .collect()
}

/// Clusters the texts of one category into concrete problems (without coherence: see
/// [`cluster_corpus`]), leaving out the corpus's `generic` words. Deterministic for the same
/// texts and configuration.
pub fn cluster_category(
    docs: &[&TextDoc],
    generic: &HashSet<String>,
    cfg: &ClusterConfig,
) -> Vec<Cluster> {
    let Some(category) = docs.first().map(|d| d.category.clone()) else {
        return Vec::new();
    };
    let doc_terms: Vec<Vec<String>> = docs.iter().map(|d| terms(&d.words, generic)).collect();
    let n = docs.len();
    let mut df: HashMap<&str, usize> = HashMap::new();
    for ts in &doc_terms {
        for t in ts {
            *df.entry(t.as_str()).or_default() += 1;
        }
    }
    let max_df = ((n as f64) * cfg.max_df_share).ceil() as usize;
    let mut vocab: Vec<&str> = df
        .iter()
        .filter(|(_, &f)| f >= cfg.min_df && f <= max_df.max(cfg.min_df))
        .map(|(t, _)| *t)
        .collect();
    vocab.sort_unstable();
    let index: HashMap<&str, u32> = vocab
        .iter()
        .enumerate()
        .map(|(i, t)| (*t, i as u32))
        .collect();
    let vectors: Vec<Sparse> = doc_terms
        .iter()
        .map(|ts| {
            let mut v: Sparse = ts
                .iter()
                .filter_map(|t| {
                    let i = *index.get(t.as_str())?;
                    let idf = ((1.0 + n as f64) / (1.0 + df[t.as_str()] as f64)).ln() + 1.0;
                    Some((i, idf as f32))
                })
                .collect();
            let norm = v.iter().map(|(_, x)| x * x).sum::<f32>().sqrt();
            if norm > 0.0 {
                v.iter_mut().for_each(|(_, x)| *x /= norm);
            }
            v
        })
        .collect();
    let k = (n / cfg.min_docs_per_topic.max(1)).clamp(1, cfg.topics_per_category.max(1));
    let assign = kmeans(&vectors, vocab.len(), k, cfg);
    let mut out = Vec::new();
    for c in 0..k {
        let members: Vec<usize> = (0..n).filter(|&i| assign[i] == c).collect();
        if members.is_empty() {
            continue;
        }
        // distinctive terms: share in the cluster × log(share in the cluster / share in the category)
        let mut cf: HashMap<&str, usize> = HashMap::new();
        let mut first_pos: HashMap<&str, (f64, usize)> = HashMap::new();
        for &i in &members {
            let kept: Vec<&String> = docs[i].words.iter().filter(|w| usable(w)).collect();
            for t in &doc_terms[i] {
                if index.contains_key(t.as_str()) {
                    *cf.entry(t.as_str()).or_default() += 1;
                }
            }
            for (p, w) in kept.iter().enumerate() {
                let e = first_pos.entry(w.as_str()).or_insert((0.0, 0));
                e.0 += p as f64 / kept.len().max(1) as f64;
                e.1 += 1;
            }
        }
        let m = members.len() as f64;
        let mut scored: Vec<(&str, f64)> = cf
            .iter()
            .map(|(t, &f)| {
                let p_c = f as f64 / m;
                let p = df[t] as f64 / n as f64;
                (*t, p_c * (p_c / p).ln().max(0.0) + 1e-9 * p_c)
            })
            .collect();
        scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(b.0)));
        let top_words: Vec<String> = scored
            .iter()
            .filter(|(t, s)| !t.contains(PAIR) && *s > 1e-6)
            .take(cfg.top_words)
            .map(|(t, _)| t.to_string())
            .collect();
        // the label: the best terms (a pair of words counts a quarter more: it reads as a
        // phrase; ties go to the term said most often), a term dropped when it shares a word
        // with a better one or one holds the other, read in the order their first words come
        let mut tf: HashMap<String, usize> = HashMap::new();
        for &i in &members {
            for t in term_seq(&docs[i].words, generic) {
                *tf.entry(t).or_default() += 1;
            }
        }
        // (a pair holding a common-speech word, 咨询·退换货, labels by its other word alone)
        let mut for_label: Vec<(&str, f64, usize)> = scored
            .iter()
            .filter(|(t, s)| *s > 1e-6 && !t.split(PAIR).any(|w| generic.contains(w)))
            .map(|(t, s)| {
                let bonus = if t.contains(PAIR) { 1.25 } else { 1.0 };
                (
                    (*t),
                    (s * bonus * 1e6).round() / 1e6,
                    tf.get(*t).copied().unwrap_or(0),
                )
            })
            .collect();
        for_label.sort_by(|a, b| b.1.total_cmp(&a.1).then(b.2.cmp(&a.2)).then(a.0.cmp(b.0)));
        let mut label_terms: Vec<&str> = Vec::new();
        let mut used: HashSet<&str> = HashSet::new();
        for (t, _, _) in &for_label {
            if label_terms.len() >= cfg.label_terms {
                break;
            }
            let parts: Vec<&str> = t.split(PAIR).collect();
            let text = t.replace(PAIR, "");
            if parts.iter().any(|p| used.contains(p))
                || label_terms.iter().any(|l| {
                    let l = l.replace(PAIR, "");
                    l.contains(&text) || text.contains(&l)
                })
            {
                continue;
            }
            used.extend(parts);
            label_terms.push(t);
        }
        let pos = |t: &str| {
            let w = first_pos
                .get(t.split(PAIR).next().unwrap_or(t))
                .copied()
                .unwrap_or((1.0, 1));
            w.0 / w.1.max(1) as f64
        };
        label_terms.sort_by(|a, b| pos(a).total_cmp(&pos(b)));
        let ordered: Vec<String> = label_terms.iter().map(|t| t.replace(PAIR, "")).collect();
        let mut tickets: Vec<i64> = members.iter().map(|&i| docs[i].ticket_id).collect();
        tickets.sort_unstable();
        out.push(Cluster {
            category: category.clone(),
            label: ordered.concat(),
            label_terms: ordered,
            top_words,
            tickets,
            coherence: 0.0,
        });
    }
    out.sort_by(|a, b| {
        b.tickets
            .len()
            .cmp(&a.tickets.len())
            .then(a.label.cmp(&b.label))
    });
    out
}

/// Clusters every category of the corpus and measures each cluster's coherence on the whole
/// corpus. Categories in code order, clusters largest first.
pub fn cluster_corpus(docs: &[TextDoc], cfg: &ClusterConfig) -> Vec<Cluster> {
    let mut by_cat: std::collections::BTreeMap<&str, Vec<&TextDoc>> = Default::default();
    for d in docs {
        by_cat.entry(d.category.as_str()).or_default().push(d);
    }
    let generic = generic_words(docs, cfg.generic_share);
    let mut out: Vec<Cluster> = by_cat
        .values()
        .flat_map(|ds| cluster_category(ds, &generic, cfg))
        .collect();
    let topics: Vec<Vec<String>> = out.iter().map(|c| c.top_words.clone()).collect();
    let words: Vec<&[String]> = docs.iter().map(|d| d.words.as_slice()).collect();
    for (c, s) in out.iter_mut().zip(npmi(&topics, &words)) {
        c.coherence = s;
    }
    out
}

/// NPMI coherence of each topic (its words, best first) on a corpus of texts: the mean over the
/// pairs of its words of `ln(p(a,b) / (p(a) p(b))) / −ln p(a,b)`, probabilities being shares of
/// the texts containing the word(s); a pair never seen together scores −1, and a topic with fewer
/// than two words seen in the corpus scores 0.
pub fn npmi(topics: &[Vec<String>], corpus: &[&[String]]) -> Vec<f64> {
    let wanted: HashSet<&str> = topics.iter().flatten().map(String::as_str).collect();
    let mut postings: HashMap<&str, Vec<u32>> = HashMap::new();
    for (i, doc) in corpus.iter().enumerate() {
        let mut seen = HashSet::new();
        for w in doc.iter() {
            if wanted.contains(w.as_str()) && seen.insert(w.as_str()) {
                postings.entry(w.as_str()).or_default().push(i as u32);
            }
        }
    }
    let n = corpus.len().max(1) as f64;
    let both = |a: &[u32], b: &[u32]| {
        let (mut i, mut j, mut k) = (0, 0, 0usize);
        while i < a.len() && j < b.len() {
            match a[i].cmp(&b[j]) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => {
                    k += 1;
                    i += 1;
                    j += 1;
                }
            }
        }
        k
    };
    topics
        .iter()
        .map(|t| {
            let ws: Vec<&Vec<u32>> = t.iter().filter_map(|w| postings.get(w.as_str())).collect();
            let mut sum = 0.0;
            let mut pairs = 0usize;
            for i in 0..ws.len() {
                for j in i + 1..ws.len() {
                    let co = both(ws[i], ws[j]) as f64;
                    pairs += 1;
                    if co == 0.0 {
                        sum -= 1.0;
                        continue;
                    }
                    let (pa, pb, pab) = (ws[i].len() as f64 / n, ws[j].len() as f64 / n, co / n);
                    let d = -pab.ln();
                    sum += if d <= 1e-12 {
                        1.0
                    } else {
                        (pab / (pa * pb)).ln() / d
                    };
                }
            }
            if pairs == 0 {
                0.0
            } else {
                sum / pairs as f64
            }
        })
        .collect()
}

/// The mean of the topics' coherence (0 for none).
pub fn mean(xs: &[f64]) -> f64 {
    if xs.is_empty() {
        0.0
    } else {
        xs.iter().sum::<f64>() / xs.len() as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(id: i64, cat: &str, text: &str) -> TextDoc {
        TextDoc {
            ticket_id: id,
            category: cat.into(),
            words: text.split(' ').map(str::to_string).collect(),
        }
    }

    fn two_problems() -> Vec<TextDoc> {
        let mut docs = Vec::new();
        for i in 0..30 {
            let place = ["阳光花园", "幸福里", "和平小区"][i % 3];
            docs.push(doc(
                i as i64,
                "0301",
                &format!("{place} 小区 电动车 充电桩 安装 物业 不同意"),
            ));
            docs.push(doc(
                100 + i as i64,
                "0301",
                &format!("{place} 小区 停车位 不足 乱停车 占用 消防通道"),
            ));
        }
        docs
    }

    #[test]
    fn two_distinct_problems_in_a_category_become_two_labelled_clusters() {
        let docs = two_problems();
        let cfg = ClusterConfig {
            topics_per_category: 2,
            ..ClusterConfig::default()
        };
        let cs = cluster_corpus(&docs, &cfg);
        assert_eq!(cs.len(), 2);
        let charging = cs.iter().find(|c| c.label.contains("充电桩")).unwrap();
        assert_eq!(charging.tickets, (0..30).collect::<Vec<i64>>());
        let parking = cs.iter().find(|c| c.label.contains("停车")).unwrap();
        assert_eq!(parking.tickets, (100..130).collect::<Vec<i64>>());
        // a word of the other problem never labels this one
        assert!(!charging.label.contains("停车"), "{}", charging.label);
        assert!(!parking.label.contains("充电"), "{}", parking.label);
        assert!(charging.coherence > 0.5, "{}", charging.coherence);
    }

    #[test]
    fn words_common_to_many_categories_are_generic_and_a_category_s_own_subject_is_not() {
        let mut docs = Vec::new();
        for c in 0..8 {
            for i in 0..10 {
                let own = if c == 0 { "充电桩" } else { "其他" };
                docs.push(doc(
                    c * 100 + i,
                    &format!("c{c}"),
                    &format!("来电 反映 {own} x{c}"),
                ));
            }
        }
        let g = generic_words(&docs, 0.05);
        assert!(g.contains("来电") && g.contains("反映"));
        // 充电桩: 12.5 % of the texts but one category
        assert!(!g.contains("充电桩"));
    }

    #[test]
    fn the_same_texts_give_the_same_clusters() {
        let docs = two_problems();
        let cfg = ClusterConfig::default();
        assert_eq!(cluster_corpus(&docs, &cfg), cluster_corpus(&docs, &cfg));
    }

    #[test]
    fn npmi_is_one_for_words_always_together_and_minus_one_for_words_never_together() {
        let a: Vec<String> = vec!["甲".into(), "乙".into()];
        let b: Vec<String> = vec!["丙".into()];
        let c: Vec<String> = vec!["丁".into()];
        let corpus: Vec<&[String]> = vec![&a, &b, &c, &a];
        let s = npmi(
            &[
                vec!["甲".into(), "乙".into()],
                vec!["甲".into(), "丙".into()],
            ],
            &corpus,
        );
        assert!((s[0] - 1.0).abs() < 1e-9, "{s:?}");
        assert_eq!(s[1], -1.0);
    }
}
