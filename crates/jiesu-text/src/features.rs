//! Features: word n-grams and character n-grams, hashed to stable 64-bit keys, mapped through a
//! vocabulary fitted on the training texts, weighted by sublinear tf × idf and L2-normalised.
//!
//! Words come from the [`Analyzer`](crate::Analyzer). Character n-grams are taken over the kept
//! words written one after the other (stop words and punctuation removed), so they do not depend
//! on where jieba happened to cut, nor on whether the text arrived raw or pre-segmented.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use serde::{Deserialize, Serialize};

use crate::analyzer::Analysis;

/// Which features are extracted and how they are weighted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureConfig {
    /// Longest word n-gram (1 = words only, 2 = words and adjacent word pairs).
    pub word_ngram_max: u8,
    /// Shortest character n-gram (0 disables character n-grams).
    pub char_ngram_min: u8,
    /// Longest character n-gram.
    pub char_ngram_max: u8,
    /// `1 + ln(tf)` instead of `tf`.
    pub sublinear_tf: bool,
    /// Features seen in fewer training texts are dropped.
    pub min_df: u32,
    /// Share of the squared norm given to the character block (0..1); the word block gets the
    /// rest. Each block is L2-normalised on its own first.
    pub char_weight: f32,
    /// The first this many kept words also count as *lead words* (标题词), features of their own:
    /// a message starts with its title (title + detail), which names the matter more directly
    /// than the detail. 0 = off (models written before this field). Default 10: +0.004 CV
    /// macro-F1 on raw text held out by message, on three fold seeds (docs/TEXT.md).
    #[serde(default)]
    pub lead_words: u8,
}

impl Default for FeatureConfig {
    fn default() -> Self {
        FeatureConfig {
            word_ngram_max: 1,
            char_ngram_min: 2,
            char_ngram_max: 2,
            sublinear_tf: true,
            min_df: 3,
            char_weight: 0.5,
            lead_words: 10,
        }
    }
}

/// Where a feature came from in an [`Analysis`]; used to show it to people.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeatureRef {
    /// Word `i`.
    Word(u32),
    /// Words `i` and `i + 1`.
    WordPair(u32),
    /// `len` characters starting at character `start` of the joined kept words.
    Chars { start: u32, len: u8 },
}

impl FeatureRef {
    /// 0 for the word block, 1 for the character block.
    pub fn block(self) -> usize {
        match self {
            FeatureRef::Word(_) | FeatureRef::WordPair(_) => 0,
            FeatureRef::Chars { .. } => 1,
        }
    }

    /// Human-readable form of the feature.
    pub fn display(self, a: &Analysis, chars: &[char]) -> String {
        match self {
            FeatureRef::Word(i) => a.token(i as usize).to_owned(),
            FeatureRef::WordPair(i) => {
                format!("{} {}", a.token(i as usize), a.token(i as usize + 1))
            }
            FeatureRef::Chars { start, len } => chars
                [start as usize..start as usize + len as usize]
                .iter()
                .collect(),
        }
    }
}

// ---- stable hashing -------------------------------------------------------------------------
// Keys are stored in model files, so the hash must never change between builds or Rust
// versions (std's DefaultHasher makes no such promise). A multiply-rotate mix per 8-byte word
// plus a strong finaliser is fast and, at 64 bits, collisions among a few million features are
// negligible.

const K: u64 = 0x9E37_79B9_7F4A_7C15;
const SEED_WORD: u64 = 0x243F_6A88_85A3_08D3;
const SEED_PAIR: u64 = 0x1319_8A2E_0370_7344;
const SEED_CHAR: u64 = 0xA409_3822_299F_31D0;
const SEED_LEAD: u64 = 0x082E_FA98_EC4E_6C89;

#[inline]
fn mix(h: u64, x: u64) -> u64 {
    (h ^ x).wrapping_mul(K).rotate_left(31)
}

/// SplitMix64's finaliser: a bijection on u64 with full avalanche.
#[inline]
fn finish(mut h: u64) -> u64 {
    h ^= h >> 30;
    h = h.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94D0_49BB_1331_11EB);
    h ^ (h >> 31)
}

/// Running state of a character n-gram: up to three characters are packed exactly (21 bits
/// each), so n-grams of up to three characters get collision-free keys; longer ones are mixed.
#[inline]
fn push_char(state: u64, j: usize, c: char) -> u64 {
    if j < 3 {
        (state << 21) | c as u64
    } else {
        mix(state, c as u64)
    }
}

#[inline]
fn char_gram_key(state: u64, len: usize) -> u64 {
    finish(state ^ SEED_CHAR.rotate_left(len as u32 * 8))
}

#[inline]
fn mix_bytes(mut h: u64, b: &[u8]) -> u64 {
    let mut chunks = b.chunks_exact(8);
    for c in &mut chunks {
        h = mix(h, u64::from_le_bytes(c.try_into().expect("8 bytes")));
    }
    let r = chunks.remainder();
    if !r.is_empty() {
        let mut buf = [0u8; 8];
        buf[..r.len()].copy_from_slice(r);
        h = mix(h, u64::from_le_bytes(buf));
    }
    mix(h, b.len() as u64)
}

/// Stable key of a word feature.
pub fn word_key(w: &str) -> u64 {
    finish(mix_bytes(SEED_WORD, w.as_bytes()))
}

/// Stable key of a lead-word feature ([`FeatureConfig::lead_words`]).
pub fn lead_key(w: &str) -> u64 {
    finish(mix_bytes(SEED_LEAD, w.as_bytes()))
}

/// Stable key of a word-pair feature.
pub fn pair_key(a: &str, b: &str) -> u64 {
    finish(mix_bytes(mix_bytes(SEED_PAIR, a.as_bytes()), b.as_bytes()))
}

/// Stable key of a character n-gram feature.
pub fn chars_key(cs: &[char]) -> u64 {
    let mut h = 0;
    for (j, &c) in cs.iter().enumerate() {
        h = push_char(h, j, c);
    }
    char_gram_key(h, cs.len())
}

/// Calls `emit(key, origin)` for every feature occurrence of an analysed text. `chars` receives
/// the kept words' characters (needed to display character features).
pub fn for_each_feature(
    cfg: &FeatureConfig,
    a: &Analysis,
    chars: &mut Vec<char>,
    mut emit: impl FnMut(u64, FeatureRef),
) {
    let n = a.len();
    if cfg.word_ngram_max >= 1 {
        let mut prev: Option<&str> = None;
        for ((i, w), &key) in a.tokens().enumerate().zip(a.word_keys()) {
            emit(key, FeatureRef::Word(i as u32));
            if cfg.word_ngram_max >= 2 {
                if let Some(p) = prev {
                    emit(pair_key(p, w), FeatureRef::WordPair(i as u32 - 1));
                }
            }
            prev = Some(w);
        }
    }
    for (i, w) in a.tokens().take(cfg.lead_words as usize).enumerate() {
        emit(lead_key(w), FeatureRef::Word(i as u32));
    }
    chars.clear();
    if cfg.char_ngram_min == 0 || cfg.char_ngram_max < cfg.char_ngram_min || n == 0 {
        return;
    }
    for w in a.tokens() {
        chars.extend(w.chars());
    }
    let (lo, hi) = (cfg.char_ngram_min as usize, cfg.char_ngram_max as usize);
    for start in 0..chars.len() {
        let mut h = 0;
        let end = (start + hi).min(chars.len());
        for (j, &c) in chars[start..end].iter().enumerate() {
            h = push_char(h, j, c);
            let len = j + 1;
            if len >= lo {
                emit(
                    char_gram_key(h, len),
                    FeatureRef::Chars {
                        start: start as u32,
                        len: len as u8,
                    },
                );
            }
        }
    }
}

/// Term counts of one text: `(key, block, count)` sorted by key.
pub fn count_features(
    cfg: &FeatureConfig,
    a: &Analysis,
    chars: &mut Vec<char>,
) -> Vec<(u64, u8, u32)> {
    let mut keys: Vec<(u64, u8)> = Vec::with_capacity(a.len() * 8);
    for_each_feature(cfg, a, chars, |k, r| keys.push((k, r.block() as u8)));
    keys.sort_unstable();
    let mut out: Vec<(u64, u8, u32)> = Vec::with_capacity(keys.len());
    for (k, b) in keys {
        match out.last_mut() {
            Some(last) if last.0 == k => last.2 += 1,
            _ => out.push((k, b, 1)),
        }
    }
    out
}

/// Hasher for keys that are already well-mixed 64-bit hashes.
#[derive(Default, Clone, Copy)]
pub struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = mix(self.0, b as u64);
        }
    }
    fn write_u64(&mut self, i: u64) {
        self.0 = i;
    }
}

/// Map from feature key to column.
pub type KeyMap = HashMap<u64, u32, BuildHasherDefault<KeyHasher>>;

/// Feature columns fitted on training texts: key → column, idf and block per column.
#[derive(Debug, Clone, Default)]
pub struct Vocabulary {
    pub(crate) map: KeyMap,
    pub(crate) keys: Vec<u64>,
    pub(crate) idf: Vec<f32>,
    pub(crate) block: Vec<u8>,
}

/// A sparse, L2-normalised row: columns ascending.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SparseVec {
    pub idx: Vec<u32>,
    pub val: Vec<f32>,
}

impl Vocabulary {
    /// Fits columns on the counted training texts (`docs[i]` from [`count_features`]).
    pub fn fit<'a>(cfg: &FeatureConfig, docs: impl Iterator<Item = &'a [(u64, u8, u32)]>) -> Self {
        let mut df: HashMap<u64, (u32, u8), BuildHasherDefault<KeyHasher>> = HashMap::default();
        let mut n_docs = 0u32;
        for d in docs {
            n_docs += 1;
            for &(k, b, _) in d {
                df.entry(k).or_insert((0, b)).0 += 1;
            }
        }
        let mut kept: Vec<(u64, u32, u8)> = df
            .into_iter()
            .filter(|&(_, (c, _))| c >= cfg.min_df.max(1))
            .map(|(k, (c, b))| (k, c, b))
            .collect();
        kept.sort_unstable_by_key(|&(k, _, _)| k); // deterministic column order
        let mut v = Vocabulary::default();
        v.map.reserve(kept.len());
        for (col, (k, c, b)) in kept.into_iter().enumerate() {
            v.map.insert(k, col as u32);
            v.keys.push(k);
            v.idf
                .push((((1.0 + n_docs as f64) / (1.0 + c as f64)).ln() + 1.0) as f32);
            v.block.push(b);
        }
        v
    }

    /// Rebuilds a vocabulary from stored columns.
    pub(crate) fn from_parts(keys: Vec<u64>, idf: Vec<f32>, block: Vec<u8>) -> Self {
        let mut map = KeyMap::default();
        map.reserve(keys.len());
        for (i, &k) in keys.iter().enumerate() {
            map.insert(k, i as u32);
        }
        Vocabulary {
            map,
            keys,
            idf,
            block,
        }
    }

    /// Number of columns.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// True when no column was kept.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Column of a key.
    #[inline]
    pub fn column(&self, key: u64) -> Option<u32> {
        self.map.get(&key).copied()
    }

    /// Weighted, normalised row of counted features (unknown keys ignored).
    pub fn vectorize(&self, cfg: &FeatureConfig, counts: &[(u64, u8, u32)]) -> SparseVec {
        let mut cols: Vec<(u32, u32)> = counts
            .iter()
            .filter_map(|&(k, _, c)| self.column(k).map(|col| (col, c)))
            .collect();
        cols.sort_unstable_by_key(|&(c, _)| c);
        self.weigh(cfg, &cols)
    }

    /// Weights `(column, count)` pairs (ascending columns, no duplicates) into a row.
    pub fn weigh(&self, cfg: &FeatureConfig, cols: &[(u32, u32)]) -> SparseVec {
        let mut idx = Vec::with_capacity(cols.len());
        let mut val = Vec::with_capacity(cols.len());
        let mut sq = [0f64; 2];
        for &(col, c) in cols {
            let tf = if cfg.sublinear_tf {
                1.0 + (c as f32).ln()
            } else {
                c as f32
            };
            let x = tf * self.idf[col as usize];
            sq[self.block[col as usize] as usize] += (x as f64) * (x as f64);
            idx.push(col);
            val.push(x);
        }
        let scale = block_scales(cfg, sq);
        for (i, v) in idx.iter().zip(val.iter_mut()) {
            *v *= scale[self.block[*i as usize] as usize];
        }
        SparseVec { idx, val }
    }
}

/// Factor per block so that block b has squared norm share w_b (re-spread when a block is empty).
pub(crate) fn block_scales(cfg: &FeatureConfig, sq: [f64; 2]) -> [f32; 2] {
    let cw = (cfg.char_weight as f64).clamp(0.0, 1.0);
    let mut share = [1.0 - cw, cw];
    if sq[0] == 0.0 || sq[1] == 0.0 {
        share = [1.0, 1.0];
    }
    let mut s = [0f32; 2];
    for b in 0..2 {
        if sq[b] > 0.0 && share[b] > 0.0 {
            s[b] = (share[b] / sq[b]).sqrt() as f32;
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Analyzer;

    #[test]
    fn keys_are_stable_and_distinct() {
        // Pinned values: a change here would silently break every saved model.
        assert_eq!(word_key("小区"), word_key("小区"));
        assert_ne!(word_key("小区"), chars_key(&['小', '区']));
        assert_ne!(pair_key("ab", "c"), pair_key("a", "bc"));
        assert_ne!(word_key(""), word_key("a"));
        assert_eq!(
            word_key("小区"),
            0x1d71_8b7f_7de5_0a1a,
            "{:#x}",
            word_key("小区")
        );
        assert_eq!(
            chars_key(&['小', '区']),
            0x311b_4b26_bb68_5b1d,
            "{:#x}",
            chars_key(&['小', '区'])
        );
    }

    #[test]
    fn features_of_a_text() {
        let a = Analyzer::new();
        let mut an = Analysis::default();
        a.analyze_into("小区停水 电梯坏了", &mut an);
        let toks: Vec<_> = an.tokens().collect();
        assert_eq!(toks, ["小区", "停水", "电梯", "坏"]);
        let cfg = FeatureConfig {
            word_ngram_max: 2,
            char_ngram_min: 1,
            char_ngram_max: 2,
            lead_words: 0,
            ..FeatureConfig::default()
        };
        let mut chars = Vec::new();
        let mut refs = Vec::new();
        for_each_feature(&cfg, &an, &mut chars, |_, r| refs.push(r));
        let shown: Vec<String> = refs.iter().map(|r| r.display(&an, &chars)).collect();
        let words = [
            "小区",
            "停水",
            "电梯",
            "坏",
            "小区 停水",
            "停水 电梯",
            "电梯 坏",
        ];
        for w in words {
            assert!(shown.contains(&w.to_string()), "{w} missing from {shown:?}");
        }
        // 7 chars → 7 unigrams + 6 bigrams.
        assert_eq!(shown.len(), words.len() + 7 + 6);
        assert!(shown.contains(&"水电".to_string()));
    }

    #[test]
    fn the_first_words_also_count_as_lead_words() {
        let a = Analyzer::new();
        let mut an = Analysis::default();
        a.analyze_into("小区停水 电梯坏了", &mut an);
        let cfg = FeatureConfig {
            char_ngram_min: 0,
            lead_words: 2,
            ..FeatureConfig::default()
        };
        let mut keys = Vec::new();
        for_each_feature(&cfg, &an, &mut Vec::new(), |k, _| keys.push(k));
        assert_eq!(keys.len(), 4 + 2);
        assert!(keys.contains(&lead_key("小区")) && keys.contains(&lead_key("停水")));
        assert!(!keys.contains(&lead_key("电梯")));
        assert_ne!(lead_key("小区"), word_key("小区"));
    }

    #[test]
    fn vectors_are_unit_length_and_idf_favours_rare_terms() {
        let a = Analyzer::new();
        let cfg = FeatureConfig {
            min_df: 1,
            ..FeatureConfig::default()
        };
        let texts = ["小区停水", "小区停电", "学校收费", "小区 停水 严重"];
        let mut chars = Vec::new();
        let docs: Vec<_> = texts
            .iter()
            .map(|t| {
                let mut an = Analysis::default();
                a.analyze_into(t, &mut an);
                count_features(&cfg, &an, &mut chars)
            })
            .collect();
        let v = Vocabulary::fit(&cfg, docs.iter().map(|d| d.as_slice()));
        let common = v.column(word_key("小区")).unwrap() as usize;
        let rare = v.column(word_key("学校")).unwrap() as usize;
        assert!(v.idf[rare] > v.idf[common]);
        for d in &docs {
            let x = v.vectorize(&cfg, d);
            let n: f32 = x.val.iter().map(|v| v * v).sum();
            assert!((n - 1.0).abs() < 1e-4, "norm² {n}");
            assert!(x.idx.windows(2).all(|w| w[0] < w[1]));
        }
        assert!(v.vectorize(&cfg, &[]).idx.is_empty());
    }
}
