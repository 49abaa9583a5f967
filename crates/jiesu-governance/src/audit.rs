//! 办理质量审计 — does a unit's reply answer the request? Flags replies that do not (答非所问),
//! boilerplate replies (near-identical results for different requests) and the like, per unit.
//!
//! # The relevance score
//! [`Scorer::score`] of a (message, reply) pair is the sum of three similarities, each in [0, 1],
//! weighted equally (fixed, not fitted to any evaluation set):
//! - the cosine of the TF-IDF vectors of their words (the caller segments, with the same analyser
//!   the classifier uses), IDF over every message and reply scored together;
//! - the cosine of the TF-IDF vectors of their character bigrams (robust where segmentation
//!   splits a place or estate name differently in the two texts);
//! - the longest run of the message's title (or first sentence) found in the reply, as a share
//!   of the title — a reply that names the request it answers.
//!
//! A reply scored below the unit's threshold is flagged 答非所问; the evaluation
//! ([`evaluate_pairs`]) measures how well the score separates true message–reply pairs from
//! replies to other requests of the same topic.
//!
//! # Boilerplate
//! [`boilerplate`] finds replies whose character 5-gram sets overlap (Jaccard) by at least a
//! threshold with a reply to a *different* request whose message is not itself a near-copy:
//! candidates come from MinHash banding (so 10⁵ replies need no 10¹⁰ comparisons), then the
//! exact Jaccard decides.

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

/// One text as the scorer reads it: its words (segmented by the caller) and its raw text.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Doc {
    /// Words (stop words removed).
    pub words: Vec<String>,
    /// The text as written (for character n-grams).
    pub text: String,
    /// The title (messages; empty for replies): the first sentence is used when empty.
    pub title: String,
}

type Vector = Vec<(u32, f32)>;

/// The fitted vocabulary: IDF of words and character bigrams over a corpus.
#[derive(Debug, Clone, Default)]
pub struct Scorer {
    words: HashMap<String, (u32, f32)>,
    /// The IDF above which a word is rare (in at most 1 % of the documents).
    rare_idf: f32,
    bigrams: HashMap<(char, char), (u32, f32)>,
}

fn bigrams(text: &str) -> impl Iterator<Item = (char, char)> + '_ {
    let chars: Vec<char> = text.chars().filter(|c| c.is_alphanumeric()).collect();
    (1..chars.len()).map(move |i| (chars[i - 1], chars[i]))
}

fn idf_table<K: std::hash::Hash + Eq + Clone>(
    docs: impl Iterator<Item = HashSet<K>>,
) -> HashMap<K, (u32, f32)> {
    let mut df: HashMap<K, u32> = HashMap::new();
    let mut n = 0u32;
    for set in docs {
        n += 1;
        for k in set {
            *df.entry(k).or_default() += 1;
        }
    }
    df.into_iter()
        .enumerate()
        .map(|(i, (k, d))| {
            (
                k,
                (i as u32, ((1.0 + n as f32) / (1.0 + d as f32)).ln() + 1.0),
            )
        })
        .collect()
}

fn normalise(mut v: Vector) -> Vector {
    v.sort_unstable_by_key(|x| x.0);
    let mut out: Vector = Vec::with_capacity(v.len());
    for (k, w) in v {
        match out.last_mut() {
            Some(last) if last.0 == k => last.1 += w,
            _ => out.push((k, w)),
        }
    }
    let norm = out.iter().map(|x| x.1 * x.1).sum::<f32>().sqrt();
    if norm > 0.0 {
        for x in &mut out {
            x.1 /= norm;
        }
    }
    out
}

fn dot(a: &Vector, b: &Vector) -> f32 {
    let (mut i, mut j, mut s) = (0, 0, 0.0);
    while i < a.len() && j < b.len() {
        match a[i].0.cmp(&b[j].0) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                s += a[i].1 * b[j].1;
                i += 1;
                j += 1;
            }
        }
    }
    s
}

/// A document's vectors under a [`Scorer`].
#[derive(Debug, Clone, Default)]
pub struct Vectors {
    words: Vector,
    bigrams: Vector,
}

impl Scorer {
    /// Fits the IDF tables on a corpus (every message and reply to be scored).
    pub fn fit<'a>(docs: impl Iterator<Item = &'a Doc> + Clone) -> Scorer {
        let n = docs.clone().count() as f32;
        Scorer {
            words: idf_table(docs.clone().map(|d| d.words.iter().cloned().collect())),
            bigrams: idf_table(docs.map(|d| bigrams(&d.text).collect())),
            rare_idf: ((1.0 + n) / (1.0 + (0.01 * n).max(1.0))).ln() + 1.0,
        }
    }

    /// The TF-IDF vectors of a document.
    pub fn vectors(&self, d: &Doc) -> Vectors {
        let words = d
            .words
            .iter()
            .filter_map(|w| self.words.get(w).copied())
            .collect();
        let bigrams = bigrams(&d.text)
            .filter_map(|b| self.bigrams.get(&b).copied())
            .collect();
        Vectors {
            words: normalise(words),
            bigrams: normalise(bigrams),
        }
    }

    /// How well `reply` answers `message` (higher: more likely), in [0, 3].
    pub fn score(&self, message: &Doc, mv: &Vectors, reply: &Doc, rv: &Vectors) -> f64 {
        let title = if message.title.trim().is_empty() {
            first_sentence(&message.text)
        } else {
            message.title.trim()
        };
        f64::from(dot(&mv.words, &rv.words))
            + f64::from(dot(&mv.bigrams, &rv.bigrams))
            + title_share(title, &reply.text)
            + self.specifics_found(message, reply)
    }

    /// Of the reply's rare words (in at most 1 % of the documents: estate, street and company
    /// names, the specific measure), the share the message also contains; ½ when the reply has
    /// none (a generic reply neither gains nor loses). A reply written for another request
    /// names another place and other specifics.
    pub fn specifics_found(&self, message: &Doc, reply: &Doc) -> f64 {
        let rare: HashSet<&str> = reply
            .words
            .iter()
            .filter(|w| w.chars().count() >= 2)
            .filter(|w| self.words.get(*w).is_some_and(|x| x.1 >= self.rare_idf))
            .map(String::as_str)
            .collect();
        if rare.is_empty() {
            return 0.5;
        }
        rare.iter().filter(|w| message.text.contains(**w)).count() as f64 / rare.len() as f64
    }
}

fn first_sentence(text: &str) -> &str {
    let end = text
        .char_indices()
        .find(|(_, c)| matches!(c, '。' | '！' | '？' | '\n' | '.' | '!' | '?'))
        .map(|(i, _)| i)
        .unwrap_or(text.len());
    let s = &text[..end];
    // at most 40 characters
    match s.char_indices().nth(40) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// The longest run of `title`'s characters (letters and digits) found in `reply`, as a share of
/// the title's length.
pub fn title_share(title: &str, reply: &str) -> f64 {
    let t: Vec<char> = title.chars().filter(|c| c.is_alphanumeric()).collect();
    if t.is_empty() {
        return 0.0;
    }
    let r: Vec<char> = reply.chars().filter(|c| c.is_alphanumeric()).collect();
    // longest common substring by dynamic programming over the title (short) × the reply
    let mut prev = vec![0u16; t.len() + 1];
    let mut cur = vec![0u16; t.len() + 1];
    let mut best = 0u16;
    for &rc in &r {
        for j in 1..=t.len() {
            cur[j] = if t[j - 1] == rc {
                prev[j - 1].saturating_add(1)
            } else {
                0
            };
            best = best.max(cur[j]);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    f64::from(best) / t.len() as f64
}

/// One message with its reply, as read from a pairs file.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Pair {
    /// The row's id.
    pub id: String,
    /// The citizen's message.
    pub message: Doc,
    /// The unit's reply.
    pub reply: Doc,
}

/// Pairs with their vectors and, for every message, the replies to its most similar other
/// messages (the history a unit's reply is compared with).
pub struct Corpus<'a> {
    pairs: &'a [Pair],
    scorer: Scorer,
    mv: Vec<Vectors>,
    rv: Vec<Vectors>,
    /// Per message `m`: its most similar other messages, most similar first (at most
    /// [`CONTEXT_NEIGHBOURS`]), at `neighbours[starts[m]..starts[m + 1]]`; the context their
    /// replies make is summed when a score needs it ([`Corpus::context`]) — kept, the contexts
    /// took ~2 KB a message (a gigabyte for a month of a large city).
    neighbours: Vec<u32>,
    /// See `neighbours`.
    starts: Vec<usize>,
    /// Per message: its most similar other message with a different reply.
    nearest: Vec<usize>,
}

/// Neighbours whose replies form a message's context.
pub const CONTEXT_NEIGHBOURS: usize = 10;

fn add_into(acc: &mut HashMap<u32, f32>, v: &Vector) {
    for &(k, w) in v {
        *acc.entry(k).or_default() += w;
    }
}

impl<'a> Corpus<'a> {
    /// Fits the vocabulary and finds every message's neighbours (leave-one-out: a message never
    /// sees its own reply in its context).
    pub fn new(pairs: &'a [Pair]) -> Corpus<'a> {
        let scorer = Scorer::fit(pairs.iter().flat_map(|p| [&p.message, &p.reply]));
        let mv: Vec<Vectors> = pairs.iter().map(|p| scorer.vectors(&p.message)).collect();
        let rv: Vec<Vectors> = pairs.iter().map(|p| scorer.vectors(&p.reply)).collect();
        // inverted index of the message word vectors, so similar messages are found without
        // comparing every pair of documents
        let mut postings: HashMap<u32, Vec<(u32, f32)>> = HashMap::new();
        for (i, v) in mv.iter().enumerate() {
            for &(t, w) in &v.words {
                postings.entry(t).or_default().push((i as u32, w));
            }
        }
        let mut neighbours = Vec::with_capacity(pairs.len() * CONTEXT_NEIGHBOURS);
        let mut starts = Vec::with_capacity(pairs.len() + 1);
        starts.push(0);
        let mut nearest = Vec::with_capacity(pairs.len());
        // the similarities of message i with the others it shares a word with, and which those
        // are: only they are read and reset (not all n), and only the first few are sorted —
        // a full sort of every candidate for every message made the pass quadratic in time
        let mut acc = vec![0.0f32; pairs.len()];
        let mut listed = vec![false; pairs.len()];
        let mut touched: Vec<u32> = Vec::new();
        let mut order: Vec<usize> = Vec::new();
        for (i, v) in mv.iter().enumerate() {
            for &(t, w) in &v.words {
                for &(j, wj) in &postings[&t] {
                    let a = &mut acc[j as usize];
                    if !listed[j as usize] {
                        listed[j as usize] = true;
                        touched.push(j);
                    }
                    *a += w * wj;
                }
            }
            order.clear();
            order.extend(
                touched
                    .iter()
                    .map(|&j| j as usize)
                    .filter(|&j| j != i && acc[j] > 0.0),
            );
            // most similar first; among equals the earlier message first (a stable sort's order)
            let by = |a: &usize, b: &usize| acc[*b].total_cmp(&acc[*a]).then(a.cmp(b));
            let k = CONTEXT_NEIGHBOURS.min(order.len());
            if k > 0 && k < order.len() {
                order.select_nth_unstable_by(k - 1, by);
            }
            order[..k].sort_by(by);
            let differs = |j: &usize| pairs[*j].reply.text != pairs[i].reply.text;
            let near = match order[..k].iter().copied().find(differs) {
                Some(j) => Some(j),
                None => {
                    order[k..].sort_by(by);
                    order[k..].iter().copied().find(differs)
                }
            };
            nearest.push(near.unwrap_or((i + 1) % pairs.len()));
            neighbours.extend(order[..k].iter().map(|&j| j as u32));
            starts.push(neighbours.len());
            for &j in &touched {
                acc[j as usize] = 0.0;
                listed[j as usize] = false;
            }
            touched.clear();
        }
        Corpus {
            pairs,
            scorer,
            mv,
            rv,
            neighbours,
            starts,
            nearest,
        }
    }

    /// How well the reply of pair `r` answers the message of pair `m`, in [0, 4]: the
    /// [`Scorer::score`] of the two texts plus the cosine of the reply with the replies given
    /// to the message's most similar requests (which names the unit and the measures such
    /// requests get).
    pub fn score(&self, m: usize, r: usize) -> f64 {
        let p = self.pairs;
        let context = self.context(m);
        self.scorer
            .score(&p[m].message, &self.mv[m], &p[r].reply, &self.rv[r])
            + f64::from(
                dot(&context.words, &self.rv[r].words) + dot(&context.bigrams, &self.rv[r].bigrams),
            ) / 2.0
    }

    /// Message `m`'s context: the normalised sum of the reply vectors of its nearest other
    /// messages.
    fn context(&self, m: usize) -> Vectors {
        let mut words = HashMap::new();
        let mut grams = HashMap::new();
        for &j in &self.neighbours[self.starts[m]..self.starts[m + 1]] {
            add_into(&mut words, &self.rv[j as usize].words);
            add_into(&mut grams, &self.rv[j as usize].bigrams);
        }
        Vectors {
            words: normalise(words.into_iter().collect()),
            bigrams: normalise(grams.into_iter().collect()),
        }
    }
}

/// Scores of pairs as given (each message's context: the other pairs of the file).
pub fn score_pairs(pairs: &[Pair]) -> Vec<f64> {
    let c = Corpus::new(pairs);
    (0..pairs.len()).map(|i| c.score(i, i)).collect()
}

/// The audit evaluation's answer (the last line of `jiesu audit eval`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEval {
    /// Area under the ROC curve: true pairs against replies shuffled within the same topic.
    pub auc: f64,
    /// The same against the hardest negative: the reply to the most similar other message.
    pub auc_nearest: f64,
    /// Pairs scored.
    pub pairs: usize,
    /// Topics the messages were grouped into for the shuffle.
    pub topics: usize,
    /// Replies flagged as boilerplate (near-identical to a reply to a different request).
    pub boilerplate: usize,
    /// The share of true pairs that a threshold keeping 95 % of them would flag (5 % by design),
    /// and the share of shuffled replies it catches.
    pub flagged_at_95: f64,
}

/// Area under the ROC curve of positives against negatives (ties count half).
pub fn auc(pos: &[f64], neg: &[f64]) -> f64 {
    if pos.is_empty() || neg.is_empty() {
        return f64::NAN;
    }
    let mut all: Vec<(f64, bool)> = pos
        .iter()
        .map(|&s| (s, true))
        .chain(neg.iter().map(|&s| (s, false)))
        .collect();
    all.sort_by(|a, b| a.0.total_cmp(&b.0));
    // mid-ranks for ties (Mann–Whitney U)
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < all.len() {
        let mut j = i;
        while j + 1 < all.len() && all[j + 1].0 == all[i].0 {
            j += 1;
        }
        let mid = (i + j) as f64 / 2.0 + 1.0;
        for x in &all[i..=j] {
            if x.1 {
                rank_sum += mid;
            }
        }
        i = j + 1;
    }
    let np = pos.len() as f64;
    let nn = neg.len() as f64;
    (rank_sum - np * (np + 1.0) / 2.0) / (np * nn)
}

/// Groups documents into `k` topics (spherical k-means on their word vectors, seeded).
pub fn topics(vectors: &[Vectors], k: usize, seed: u64) -> Vec<usize> {
    let n = vectors.len();
    if n == 0 || k <= 1 {
        return vec![0; n];
    }
    let k = k.min(n);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(&mut rng);
    let mut centroids: Vec<HashMap<u32, f32>> = order[..k]
        .iter()
        .map(|&i| vectors[i].words.iter().copied().collect())
        .collect();
    let mut assign = vec![0usize; n];
    for _ in 0..20 {
        let mut changed = false;
        for (i, v) in vectors.iter().enumerate() {
            let best = (0..k)
                .map(|c| {
                    let s: f32 = v
                        .words
                        .iter()
                        .map(|(t, w)| centroids[c].get(t).copied().unwrap_or(0.0) * w)
                        .sum();
                    (c, s)
                })
                .max_by(|a, b| a.1.total_cmp(&b.1))
                .map(|x| x.0)
                .unwrap_or(0);
            if assign[i] != best {
                assign[i] = best;
                changed = true;
            }
        }
        let mut next: Vec<HashMap<u32, f32>> = vec![HashMap::new(); k];
        for (i, v) in vectors.iter().enumerate() {
            for &(t, w) in &v.words {
                *next[assign[i]].entry(t).or_default() += w;
            }
        }
        for (c, m) in next.iter_mut().enumerate() {
            let norm = m.values().map(|w| w * w).sum::<f32>().sqrt();
            if norm > 0.0 {
                m.values_mut().for_each(|w| *w /= norm);
            } else {
                // an empty topic restarts from a random document
                *m = vectors[order[c % n]].words.iter().copied().collect();
            }
        }
        centroids = next;
        if !changed {
            break;
        }
    }
    assign
}

/// Scores true pairs against replies shuffled within topics (and against the nearest message's
/// reply); see [`AuditEval`].
pub fn evaluate_pairs(pairs: &[Pair], topic_count: usize, seed: u64) -> AuditEval {
    let c = Corpus::new(pairs);
    let pos: Vec<f64> = (0..pairs.len()).map(|i| c.score(i, i)).collect();
    let topic = topics(&c.mv, topic_count, seed);
    // within each topic, every message meets the reply of another message of its topic (a
    // random derangement: a rotation of a shuffled order)
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed);
    let mut neg = Vec::with_capacity(pairs.len());
    for t in 0..topic_count.max(1) {
        let mut members: Vec<usize> = (0..pairs.len()).filter(|&i| topic[i] == t).collect();
        if members.len() < 2 {
            continue;
        }
        members.shuffle(&mut rng);
        for (a, &i) in members.iter().enumerate() {
            let j = members[(a + 1) % members.len()];
            neg.push(c.score(i, j));
        }
    }
    // the hardest negative: the reply to the most similar other message
    let nearest: Vec<f64> = (0..pairs.len()).map(|i| c.score(i, c.nearest[i])).collect();
    let mut sorted = pos.clone();
    sorted.sort_by(|a, b| a.total_cmp(b));
    let cut = sorted.get(sorted.len() / 20).copied().unwrap_or(0.0);
    let caught = neg.iter().filter(|&&x| x < cut).count() as f64 / neg.len().max(1) as f64;
    let replies: Vec<&str> = pairs.iter().map(|p| p.reply.text.as_str()).collect();
    let messages: Vec<&str> = pairs.iter().map(|p| p.message.text.as_str()).collect();
    AuditEval {
        auc: auc(&pos, &neg),
        auc_nearest: auc(&pos, &nearest),
        pairs: pairs.len(),
        topics: topic_count,
        boilerplate: boilerplate(&replies, &messages, 0.8).len(),
        flagged_at_95: caught,
    }
}

fn shingles(text: &str, n: usize) -> HashSet<u64> {
    use std::hash::{Hash, Hasher};
    let chars: Vec<char> = text.chars().filter(|c| c.is_alphanumeric()).collect();
    if chars.len() < n {
        return HashSet::new();
    }
    chars
        .windows(n)
        .map(|w| {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            w.hash(&mut h);
            h.finish()
        })
        .collect()
}

fn jaccard(a: &HashSet<u64>, b: &HashSet<u64>) -> f64 {
    if a.is_empty() && b.is_empty() {
        return 0.0;
    }
    let inter = a.intersection(b).count();
    inter as f64 / (a.len() + b.len() - inter) as f64
}

/// A boilerplate reply: its index, the index of the reply it copies, their overlap.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Boilerplate {
    /// The reply flagged.
    pub reply: usize,
    /// The other request's reply it nearly equals.
    pub like: usize,
    /// Jaccard overlap of their character 5-grams.
    pub overlap: f64,
}

/// Replies nearly identical (5-gram Jaccard ≥ `min_overlap`) to a reply to a different request
/// (whose message overlaps the first message by less than half — a repeated request may get
/// the same answer).
pub fn boilerplate(replies: &[&str], messages: &[&str], min_overlap: f64) -> Vec<Boilerplate> {
    const HASHES: usize = 32;
    const BAND: usize = 2;
    let sets: Vec<HashSet<u64>> = replies.iter().map(|r| shingles(r, 5)).collect();
    let seeds: Vec<u64> = (0..HASHES as u64)
        .map(|i| i.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
        .collect();
    let sig: Vec<Vec<u64>> = sets
        .iter()
        .map(|s| {
            seeds
                .iter()
                .map(|&k| {
                    s.iter()
                        .map(|&h| (h ^ k).wrapping_mul(k))
                        .min()
                        .unwrap_or(u64::MAX)
                })
                .collect()
        })
        .collect();
    let mut candidates: HashSet<(usize, usize)> = HashSet::new();
    for b in 0..HASHES / BAND {
        let mut buckets: HashMap<&[u64], Vec<usize>> = HashMap::new();
        for (i, s) in sig.iter().enumerate() {
            if sets[i].is_empty() {
                continue;
            }
            buckets
                .entry(&s[b * BAND..(b + 1) * BAND])
                .or_default()
                .push(i);
        }
        for v in buckets.values() {
            if v.len() > 200 {
                // a bucket this full is one template shared by many: compare with its first
                for &j in &v[1..] {
                    candidates.insert((v[0], j));
                }
                continue;
            }
            for a in 0..v.len() {
                for c in a + 1..v.len() {
                    candidates.insert((v[a], v[c]));
                }
            }
        }
    }
    let mut best: HashMap<usize, Boilerplate> = HashMap::new();
    for (i, j) in candidates {
        let o = jaccard(&sets[i], &sets[j]);
        if o < min_overlap {
            continue;
        }
        if jaccard(&shingles(messages[i], 5), &shingles(messages[j], 5)) >= 0.5 {
            continue;
        }
        for (a, b) in [(i, j), (j, i)] {
            let e = best.entry(a).or_insert(Boilerplate {
                reply: a,
                like: b,
                overlap: o,
            });
            if o > e.overlap {
                *e = Boilerplate {
                    reply: a,
                    like: b,
                    overlap: o,
                };
            }
        }
    }
    let mut out: Vec<Boilerplate> = best.into_values().collect();
    out.sort_by_key(|b| b.reply);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(title: &str, text: &str) -> Doc {
        Doc {
            words: text
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| !w.is_empty())
                .map(String::from)
                .collect(),
            text: text.into(),
            title: title.into(),
        }
    }

    #[test]
    fn auc_counts_ties_half_and_orders() {
        assert_eq!(auc(&[2.0, 3.0], &[1.0, 0.0]), 1.0);
        assert_eq!(auc(&[0.0], &[1.0]), 0.0);
        assert_eq!(auc(&[1.0], &[1.0]), 0.5);
    }

    /// Every message's neighbours and nearest other message as the pass first found them: all
    /// candidates sorted (stable, most similar first), the first ten kept.
    fn neighbours_by_full_sort(c: &Corpus) -> (Vec<Vec<u32>>, Vec<usize>) {
        let n = c.pairs.len();
        let (mut all, mut nearest) = (Vec::new(), Vec::new());
        for i in 0..n {
            let mut acc = vec![0.0f32; n];
            for &(t, w) in &c.mv[i].words {
                for (a, mj) in acc.iter_mut().zip(&c.mv) {
                    if let Some(&(_, wj)) = mj.words.iter().find(|x| x.0 == t) {
                        *a += w * wj;
                    }
                }
            }
            acc[i] = f32::NEG_INFINITY;
            let mut order: Vec<usize> = (0..n).filter(|&j| acc[j] > 0.0).collect();
            order.sort_by(|&a, &b| acc[b].total_cmp(&acc[a]));
            nearest.push(
                order
                    .iter()
                    .copied()
                    .find(|&j| c.pairs[j].reply.text != c.pairs[i].reply.text)
                    .unwrap_or((i + 1) % n),
            );
            all.push(
                order
                    .iter()
                    .take(CONTEXT_NEIGHBOURS)
                    .map(|&j| j as u32)
                    .collect(),
            );
        }
        (all, nearest)
    }

    #[test]
    fn the_pass_finds_the_neighbours_a_full_sort_finds_ties_and_twin_replies_included() {
        // few words over many messages: many equal similarities, many identical replies
        let words = [
            "物业",
            "停车费",
            "噪音",
            "供暖",
            "漏水",
            "路灯",
            "垃圾",
            "施工",
        ];
        let mut x = 7u64;
        let mut pick = |k: u64| {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (x >> 33) % k
        };
        let pairs: Vec<Pair> = (0..120)
            .map(|i| {
                let n = 1 + pick(3) as usize;
                let m: Vec<&str> = (0..n).map(|_| words[pick(8) as usize]).collect();
                let r = if pick(3) == 0 {
                    "已 转 相关 部门 处理".to_string()
                } else {
                    format!("关于 {} 的 问题 已 处理", words[pick(8) as usize])
                };
                Pair {
                    id: i.to_string(),
                    message: doc(&m.join(" "), &m.join(" ")),
                    reply: doc("", &r),
                }
            })
            .collect();
        let c = Corpus::new(&pairs);
        let (want, want_nearest) = neighbours_by_full_sort(&c);
        for (i, w) in want.iter().enumerate() {
            assert_eq!(
                &c.neighbours[c.starts[i]..c.starts[i + 1]],
                &w[..],
                "message {i}"
            );
        }
        assert_eq!(c.nearest, want_nearest);
        assert!(want.iter().any(|w| w.len() == CONTEXT_NEIGHBOURS));
    }

    #[test]
    fn a_reply_naming_the_request_scores_above_an_unrelated_one() {
        let m = doc(
            "景蓉华苑 物业 停车费",
            "景蓉华苑 物业 要 收 停车费 业委会 投票",
        );
        let good = doc(
            "",
            "关于 景蓉华苑 物业 停车费 的 问题 经 调查 业委会 已 重新 投票",
        );
        let bad = doc("", "关于 公交 线路 调整 的 问题 交通局 已 答复");
        let pairs = [
            Pair {
                id: "1".into(),
                message: m.clone(),
                reply: good,
            },
            Pair {
                id: "2".into(),
                message: m,
                reply: bad,
            },
        ];
        let s = score_pairs(&pairs);
        assert!(s[0] > s[1] + 0.5, "{s:?}");
    }

    #[test]
    fn title_share_is_the_longest_quoted_run() {
        assert_eq!(title_share("小区停车难", "反映“小区停车难”的问题"), 1.0);
        assert!((title_share("小区停车难", "停车") - 0.4).abs() < 1e-12);
        assert_eq!(title_share("", "任何"), 0.0);
    }

    #[test]
    fn boilerplate_finds_a_template_reply_to_different_requests() {
        let template = "您好，您反映的问题已收悉，我们高度重视，已转相关部门研究处理，感谢您对我们工作的支持和监督。";
        let replies = [
            template,
            template,
            "经核实，该路段路灯已于三月五日修复，现已恢复照明，请您监督。",
        ];
        let messages = ["小区门口路灯坏了很久", "学校门口的交通拥堵严重", "路灯坏了"];
        let b = boilerplate(&replies, &messages, 0.8);
        assert_eq!(b.iter().map(|x| x.reply).collect::<Vec<_>>(), vec![0, 1]);
        // the same request asked twice may get the same answer
        let b = boilerplate(
            &replies,
            &["路灯坏了很久没人修", "路灯坏了很久没人修", "x"],
            0.8,
        );
        assert!(b.is_empty());
    }
}
