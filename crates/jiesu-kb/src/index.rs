//! The inverted index: BM25F over four kinds of terms (analyser words, character bigrams,
//! synonym groups, places) and five fields (question, tags, answer, policy basis, place), with
//! each posting's score contribution (its *impact*) computed at build time.
//!
//! Build: every document is analysed once; per term the field frequencies are combined the
//! BM25F way, `tf~ = Σ_f w_f · tf_f / (1 − b_f + b_f · len_f / avglen_f)`, and stored as the
//! impact `idf · tf~ · (k1 + 1) / (k1 + tf~)`. Postings are one compressed-sparse-row array of
//! `(doc, impact)`. Search: the query's terms are looked up, weighted (word 1, synonym group
//! 0.7, bigram 0.5, place 1 — see [`RankParams`]), the most informative ones kept when a query
//! is long, and impacts accumulated into a per-thread score array that is reused across queries
//! (only the touched entries are reset). The top *k* are kept in a small sorted buffer.

use std::cell::RefCell;

use jiesu_text::{Analysis, Analyzer};

use crate::text::{
    bigram_term, for_each_kept_bigram, for_each_subword_group, group_term, place_term, term_kind,
    word_term, word_term_of_key, Gazetteer, PlaceRef, Synonyms, TermKind, TermMap,
};

/// The fields of a document, in index order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Question = 0,
    Tags = 1,
    Answer = 2,
    Basis = 3,
}

const N_TEXT_FIELDS: usize = 4;

/// Ranking parameters. The defaults were chosen on the relevance fixtures and the real
/// message/reply set (see `docs/KB.md`).
#[derive(Debug, Clone, PartialEq)]
pub struct RankParams {
    /// BM25 term-frequency saturation.
    pub k1: f32,
    /// Field weights: question, tags, answer, policy basis.
    pub field_weight: [f32; N_TEXT_FIELDS],
    /// Field length normalisation: question, tags, answer, policy basis.
    pub field_b: [f32; N_TEXT_FIELDS],
    /// Weight of a place term in a document (its owner unit's or a tag's district/street).
    pub place_field_weight: f32,
    /// Query-side weights per term kind.
    pub word_weight: f32,
    /// A one-character word in a query of several words (`天`, `交`): mostly noise.
    pub single_char_weight: f32,
    pub bigram_weight: f32,
    pub group_weight: f32,
    pub place_weight: f32,
    /// Most query terms used (the highest `weight × idf` ones) — keeps long queries fast.
    pub max_query_terms: usize,
}

impl Default for RankParams {
    fn default() -> Self {
        RankParams {
            k1: 1.2,
            field_weight: [3.0, 2.0, 1.0, 0.6],
            field_b: [0.5, 0.3, 0.75, 0.5],
            place_field_weight: 2.0,
            word_weight: 1.0,
            single_char_weight: 0.3,
            bigram_weight: 0.5,
            group_weight: 0.7,
            place_weight: 1.0,
            max_query_terms: 64,
        }
    }
}

/// The text of one document as the index sees it.
#[derive(Debug, Clone, Default)]
pub struct DocText<'a> {
    pub question: &'a str,
    pub tags: &'a str,
    pub answer: &'a str,
    pub basis: &'a str,
    /// Places the document belongs to (owner unit, place tags).
    pub places: Vec<PlaceRef>,
}

/// A query term after look-up.
#[derive(Debug, Clone, Copy)]
struct QTerm {
    id: u32,
    weight: f32,
}

/// A query analysed against an index: the terms found in it and what highlighting needs.
#[derive(Debug, Clone, Default)]
pub struct PreparedQuery {
    terms: Vec<QTerm>,
    /// Upper bound of any document's score (for a relative confidence).
    pub max_score: f32,
    /// Strings to highlight (normalised): query words, their synonyms, place names, and the
    /// bigrams inside long query words.
    pub needles: Vec<String>,
    /// Places named in the query.
    pub places: Vec<PlaceRef>,
}

impl PreparedQuery {
    /// Whether any query term occurs in the index.
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }
}

/// An immutable inverted index over `n` documents (numbered `0..n`).
#[derive(Debug, Clone, Default)]
pub struct SearchIndex {
    params: RankParams,
    terms: TermMap<u32>,
    idf: Vec<f32>,
    offsets: Vec<u32>,
    post_doc: Vec<u32>,
    post_impact: Vec<f32>,
    n_docs: u32,
}

#[derive(Default)]
struct Scratch {
    scores: Vec<f32>,
    touched: Vec<u32>,
    analysis: Analysis,
    terms: Vec<(u64, f32)>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// Per-document term statistics before combination: (key, field, count).
type RawTerms = Vec<(u64, u8, u32)>;

fn analyze_field(
    analyzer: &Analyzer,
    syn: &Synonyms,
    text: &str,
    field: u8,
    a: &mut Analysis,
    out: &mut RawTerms,
) -> u32 {
    analyzer.analyze_into(text, a);
    for (w, &k) in a.tokens().zip(a.word_keys()) {
        let key = word_term_of_key(k);
        out.push((key, field, 1));
        match syn.group_of_key(key) {
            Some(g) => out.push((group_term(g), field, 1)),
            None => for_each_subword_group(syn, w, |g| out.push((group_term(g), field, 1))),
        }
    }
    for_each_kept_bigram(a, |x, y| {
        out.push((bigram_term(x, y), field, 1));
    });
    a.normalized().chars().count() as u32
}

/// Places named by the words of a text.
pub fn places_in(analyzer: &Analyzer, gaz: &Gazetteer, text: &str, out: &mut Vec<PlaceRef>) {
    let mut a = Analysis::default();
    analyzer.analyze_into(text, &mut a);
    places_in_analysis(gaz, &a, out);
}

fn places_in_analysis(gaz: &Gazetteer, a: &Analysis, out: &mut Vec<PlaceRef>) {
    for &k in a.word_keys() {
        for p in gaz.lookup_key(word_term_of_key(k)) {
            if !out.contains(p) {
                out.push(p.clone());
            }
        }
    }
}

fn place_keys(p: &PlaceRef) -> (u64, Option<u64>) {
    (place_term(&p.district), p.street.as_deref().map(place_term))
}

/// One document's combined terms: (key, tf~).
fn doc_terms(
    analyzer: &Analyzer,
    syn: &Synonyms,
    params: &RankParams,
    avg: &[f32; N_TEXT_FIELDS],
    d: &DocText<'_>,
    a: &mut Analysis,
    raw: &mut RawTerms,
) -> Vec<(u64, f32)> {
    raw.clear();
    let texts = [d.question, d.tags, d.answer, d.basis];
    let mut lens = [0u32; N_TEXT_FIELDS];
    for (f, t) in texts.iter().enumerate() {
        lens[f] = analyze_field(analyzer, syn, t, f as u8, a, raw);
    }
    raw.sort_unstable_by_key(|&(k, f, _)| (k, f));
    let mut out: Vec<(u64, f32)> = Vec::with_capacity(raw.len() / 2 + d.places.len() * 2);
    let mut i = 0;
    while i < raw.len() {
        let key = raw[i].0;
        let mut tf = 0.0f32;
        while i < raw.len() && raw[i].0 == key {
            let f = raw[i].1 as usize;
            let mut c = 0u32;
            while i < raw.len() && raw[i].0 == key && raw[i].1 as usize == f {
                c += raw[i].2;
                i += 1;
            }
            let norm = 1.0 - params.field_b[f] + params.field_b[f] * lens[f] as f32 / avg[f];
            tf += params.field_weight[f] * c as f32 / norm.max(1e-3);
        }
        out.push((key, tf));
    }
    // Places: a district term for every place, a street term for street-level places.
    let mut pk: Vec<u64> = Vec::new();
    for p in &d.places {
        let (dk, sk) = place_keys(p);
        pk.push(dk);
        if let Some(sk) = sk {
            pk.push(sk);
        }
    }
    pk.sort_unstable();
    pk.dedup();
    for k in pk {
        out.push((k, params.place_field_weight));
    }
    out
}

impl SearchIndex {
    /// Builds the index over `docs` (document `i` is `docs[i]`), analysing on up to `threads`
    /// threads.
    pub fn build(
        analyzer: &Analyzer,
        params: RankParams,
        docs: &[DocText<'_>],
        threads: usize,
    ) -> SearchIndex {
        let syn = Synonyms::shipped();
        let n = docs.len();
        // Average field lengths (normalised characters).
        let mut avg = [0f32; N_TEXT_FIELDS];
        let mut buf = String::new();
        for d in docs {
            for (f, t) in [d.question, d.tags, d.answer, d.basis].iter().enumerate() {
                jiesu_text::analyzer::normalize_into(t, &mut buf);
                avg[f] += buf.chars().count() as f32;
            }
        }
        for x in &mut avg {
            *x = (*x / n.max(1) as f32).max(1.0);
        }
        // Analyse in parallel.
        let threads = threads.clamp(1, 16).min(n.max(1));
        let chunk = n.div_ceil(threads).max(1);
        let per_doc: Vec<Vec<(u64, f32)>> = std::thread::scope(|s| {
            let handles: Vec<_> = docs
                .chunks(chunk)
                .map(|part| {
                    let params = &params;
                    let avg = &avg;
                    s.spawn(move || {
                        let mut a = Analysis::default();
                        let mut raw = RawTerms::new();
                        part.iter()
                            .map(|d| doc_terms(analyzer, syn, params, avg, d, &mut a, &mut raw))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().expect("index worker panicked"))
                .collect()
        });
        // Term ids and document frequencies.
        let mut terms: TermMap<u32> = TermMap::default();
        let mut df: Vec<u32> = Vec::new();
        for d in &per_doc {
            for &(k, _) in d {
                let next = df.len() as u32;
                let id = *terms.entry(k).or_insert(next);
                if id == next {
                    df.push(0);
                }
                df[id as usize] += 1;
            }
        }
        let nt = df.len();
        let mut offsets = vec![0u32; nt + 1];
        for (t, &c) in df.iter().enumerate() {
            offsets[t + 1] = offsets[t] + c;
        }
        let total = offsets[nt] as usize;
        let nf = n as f32;
        let idf: Vec<f32> = df
            .iter()
            .map(|&c| (1.0 + (nf - c as f32 + 0.5) / (c as f32 + 0.5)).ln())
            .collect();
        let mut post_doc = vec![0u32; total];
        let mut post_impact = vec![0f32; total];
        let mut fill: Vec<u32> = offsets[..nt].to_vec();
        let k1 = params.k1;
        for (doc, d) in per_doc.into_iter().enumerate() {
            for (k, tf) in d {
                let t = terms[&k] as usize;
                let p = fill[t] as usize;
                fill[t] += 1;
                post_doc[p] = doc as u32;
                post_impact[p] = idf[t] * tf * (k1 + 1.0) / (k1 + tf);
            }
        }
        SearchIndex {
            params,
            terms,
            idf,
            offsets,
            post_doc,
            post_impact,
            n_docs: n as u32,
        }
    }

    /// Number of documents.
    pub fn len(&self) -> usize {
        self.n_docs as usize
    }

    pub fn is_empty(&self) -> bool {
        self.n_docs == 0
    }

    /// Number of distinct terms.
    pub fn term_count(&self) -> usize {
        self.idf.len()
    }

    /// Number of postings.
    pub fn posting_count(&self) -> usize {
        self.post_doc.len()
    }

    /// The ranking parameters.
    pub fn params(&self) -> &RankParams {
        &self.params
    }

    /// Approximate heap size in bytes.
    pub fn heap_bytes(&self) -> usize {
        self.post_doc.len() * 8
            + self.offsets.len() * 4
            + self.idf.len() * 4
            + self.terms.len() * 24
    }

    /// Analyses a query: words (+ their synonym groups), bigrams and named places, looked up in
    /// the index and weighted; long queries keep their `max_query_terms` most informative terms.
    pub fn prepare(&self, analyzer: &Analyzer, query: &str) -> PreparedQuery {
        SCRATCH.with(|s| {
            let mut s = s.borrow_mut();
            let s = &mut *s;
            self.prepare_with(analyzer, query, &mut s.analysis, &mut s.terms)
        })
    }

    fn prepare_with(
        &self,
        analyzer: &Analyzer,
        query: &str,
        a: &mut Analysis,
        cand: &mut Vec<(u64, f32)>,
    ) -> PreparedQuery {
        let syn = Synonyms::shipped();
        let gaz = Gazetteer::shipped();
        let p = &self.params;
        let mut q = PreparedQuery::default();
        analyzer.analyze_into(query, a);
        cand.clear();
        for (w, &k) in a.tokens().zip(a.word_keys()) {
            let key = word_term_of_key(k);
            let n = w.chars().count();
            let single = n == 1 && a.len() > 1;
            cand.push((
                key,
                if single {
                    p.single_char_weight
                } else {
                    p.word_weight
                },
            ));
            let mut groups: [u32; 4] = [u32::MAX; 4];
            match syn.group_of_key(key) {
                Some(g) => groups[0] = g,
                None => {
                    let mut i = 0;
                    for_each_subword_group(syn, w, |g| {
                        groups[i] = g;
                        i += 1;
                    });
                }
            }
            for &g in groups.iter().filter(|&&g| g != u32::MAX) {
                cand.push((group_term(g), p.group_weight));
                for s in syn.words(g) {
                    push_needle(&mut q.needles, s);
                }
            }
            if n >= 2 || a.len() <= 2 {
                push_needle(&mut q.needles, w);
            }
            if n >= 3 && w.chars().all(crate::text::is_cjk) {
                let cs: Vec<char> = w.chars().collect();
                for pair in cs.windows(2) {
                    push_needle(&mut q.needles, &pair.iter().collect::<String>());
                }
            }
        }
        for_each_kept_bigram(a, |x, y| {
            cand.push((bigram_term(x, y), p.bigram_weight));
        });
        places_in_analysis(gaz, a, &mut q.places);
        for pl in &q.places {
            let (dk, sk) = place_keys(pl);
            match sk {
                Some(sk) => {
                    cand.push((sk, p.place_weight));
                    cand.push((dk, p.place_weight * 0.5));
                }
                None => cand.push((dk, p.place_weight)),
            }
        }
        // Merge repeats: weight × (1 + ln count), capped.
        cand.sort_unstable_by_key(|&(k, _)| k);
        let mut merged: Vec<(u32, f32, f32)> = Vec::with_capacity(cand.len());
        let mut i = 0;
        while i < cand.len() {
            let k = cand[i].0;
            let w = cand[i].1;
            let mut c = 0u32;
            while i < cand.len() && cand[i].0 == k {
                c += 1;
                i += 1;
            }
            if let Some(&id) = self.terms.get(&k) {
                let weight = if term_kind(k) == TermKind::Place {
                    w
                } else {
                    w * (1.0 + (c as f32).ln()).min(2.0)
                };
                merged.push((id, weight, weight * self.idf[id as usize]));
            }
        }
        if merged.len() > p.max_query_terms {
            merged.sort_unstable_by(|a, b| b.2.total_cmp(&a.2));
            merged.truncate(p.max_query_terms);
        }
        let k1 = p.k1;
        q.max_score = merged.iter().map(|m| m.2 * (k1 + 1.0)).sum();
        q.terms = merged
            .into_iter()
            .map(|(id, weight, _)| QTerm { id, weight })
            .collect();
        q
    }

    /// The `k` best documents for a prepared query among those `keep` accepts, best first, as
    /// `(doc, score)`. `keep` is asked only about documents that would enter the top `k`.
    pub fn top_k(
        &self,
        q: &PreparedQuery,
        k: usize,
        mut keep: impl FnMut(u32) -> bool,
    ) -> Vec<(u32, f32)> {
        if k == 0 || q.terms.is_empty() {
            return Vec::new();
        }
        SCRATCH.with(|s| {
            let mut s = s.borrow_mut();
            let s = &mut *s;
            let n = self.n_docs as usize;
            if s.scores.len() < n {
                s.scores.resize(n, 0.0);
            }
            let scores = &mut s.scores[..n];
            let touched = &mut s.touched;
            touched.clear();
            for t in &q.terms {
                let lo = self.offsets[t.id as usize] as usize;
                let hi = self.offsets[t.id as usize + 1] as usize;
                let docs = &self.post_doc[lo..hi];
                let imps = &self.post_impact[lo..hi];
                for (&d, &imp) in docs.iter().zip(imps) {
                    let slot = &mut scores[d as usize];
                    if *slot == 0.0 {
                        touched.push(d);
                    }
                    *slot += t.weight * imp;
                }
            }
            let mut best: Vec<(u32, f32)> = Vec::with_capacity(k + 1);
            for &d in touched.iter() {
                let sc = scores[d as usize];
                scores[d as usize] = 0.0;
                if best.len() == k && sc <= best[k - 1].1 {
                    continue;
                }
                if !keep(d) {
                    continue;
                }
                let pos = best
                    .iter()
                    .position(|&(bd, bs)| sc > bs || (sc == bs && d < bd))
                    .unwrap_or(best.len());
                best.insert(pos, (d, sc));
                best.truncate(k);
            }
            best
        })
    }

    /// Number of postings a prepared query reads (its cost).
    pub fn postings_scanned(&self, q: &PreparedQuery) -> usize {
        q.terms
            .iter()
            .map(|t| (self.offsets[t.id as usize + 1] - self.offsets[t.id as usize]) as usize)
            .sum()
    }

    /// IDF of a term key, if indexed (for diagnostics).
    pub fn idf_of(&self, key: u64) -> Option<f32> {
        self.terms.get(&key).map(|&t| self.idf[t as usize])
    }

    /// Document frequency of a word (normalised), for diagnostics.
    pub fn df_of_word(&self, word: &str) -> usize {
        self.terms
            .get(&word_term(word))
            .map(|&t| (self.offsets[t as usize + 1] - self.offsets[t as usize]) as usize)
            .unwrap_or(0)
    }
}

fn push_needle(v: &mut Vec<String>, s: &str) {
    if !s.is_empty() && !v.iter().any(|x| x == s) {
        v.push(s.to_string());
    }
}
