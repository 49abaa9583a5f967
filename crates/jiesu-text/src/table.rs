//! The prediction-time layout of a trained model, built for speed.
//!
//! Prediction is memory-bound: a message has ~1,000 feature occurrences, each a lookup in a table
//! of ~200,000 columns that does not fit in cache. The training [`Vocabulary`] (a `HashMap` plus
//! separate idf/block/weight arrays) costs four or five cache misses per feature; this layout
//! costs about two:
//!
//! * a small per-message counter (fits in L1) first merges repeated features, so each distinct
//!   feature is looked up once;
//! * `slots`: open addressing with linear probing, one `u64` per slot holding a 32-bit
//!   fingerprint of the key and the column, at most half full;
//! * `rows`: per column, `[±idf, w_class0, …]` contiguous (the sign of idf tells the block), so
//!   one cache line gives everything the score needs.
//!
//! Scores are accumulated per block in one pass and the block norms applied at the end, which is
//! algebraically the same as normalising the vector first.

use crate::features::{block_scales, FeatureConfig, Vocabulary};
use crate::svm::LinearModel;

/// Lanes per accumulation step: rows are padded to a multiple of this so the inner loop is a
/// fixed-width, vectorisable multiply-add.
const LANES: usize = 8;

/// Prediction tables (see the module documentation).
#[derive(Debug, Clone, Default)]
pub(crate) struct ScoringTable {
    k: usize,
    /// Row length: `k` weights, padding, and ±idf in the last lane; a multiple of [`LANES`].
    stride: usize,
    mask: usize,
    slots: Vec<u64>,
    rows: Vec<f32>,
    bias: Vec<f32>,
}

#[inline]
fn fingerprint(key: u64) -> u64 {
    (key >> 32).max(1) << 32
}

impl ScoringTable {
    pub fn build(vocab: &Vocabulary, model: &LinearModel) -> Self {
        let k = model.n_classes;
        let stride = (k + 1).div_ceil(LANES) * LANES;
        let n = vocab.len();
        let cap = (2 * n.max(1)).next_power_of_two().max(16);
        let mask = cap - 1;
        let mut slots = vec![0u64; cap];
        let mut rows = vec![0f32; n * stride];
        for col in 0..n {
            let key = vocab.keys[col];
            let mut i = key as usize & mask;
            while slots[i] != 0 {
                i = (i + 1) & mask;
            }
            slots[i] = fingerprint(key) | (col as u64 + 1);
            let row = &mut rows[col * stride..(col + 1) * stride];
            row[..k].copy_from_slice(&model.weights[col * k..(col + 1) * k]);
            let idf = vocab.idf[col];
            row[stride - 1] = if vocab.block[col] == 1 { -idf } else { idf };
        }
        ScoringTable {
            k,
            stride,
            mask,
            slots,
            rows,
            bias: model.bias.clone(),
        }
    }

    /// Column of `key`, if the model knows it.
    #[inline]
    pub fn column(&self, key: u64) -> Option<usize> {
        let fp = fingerprint(key);
        let mut i = key as usize & self.mask;
        loop {
            let s = self.slots[i];
            if s == 0 {
                return None;
            }
            if s & 0xFFFF_FFFF_0000_0000 == fp {
                return Some((s & 0xFFFF_FFFF) as usize - 1);
            }
            i = (i + 1) & self.mask;
        }
    }

    /// The class weights of a column.
    #[inline]
    pub fn weights(&self, col: usize) -> &[f32] {
        &self.rows[col * self.stride..col * self.stride + self.k]
    }

    /// idf and block (0 words, 1 characters) of a column.
    #[inline]
    pub fn idf(&self, col: usize) -> (f32, usize) {
        let v = self.rows[col * self.stride + self.stride - 1];
        (v.abs(), (v < 0.0) as usize)
    }

    /// Class scores of a counted text into `out`; `partial` and `cols` are scratch space.
    ///
    /// Software-pipelined: the slot of feature `i + D` is prefetched while feature `i` is looked
    /// up, and each row is prefetched as soon as its column is known and read in a second pass,
    /// so that many cache misses overlap instead of being waited for one at a time.
    pub fn score(
        &self,
        cfg: &FeatureConfig,
        counts: &FeatureCounter,
        partial: &mut Vec<f32>,
        cols: &mut Vec<(u32, u32)>,
        out: &mut Vec<f32>,
    ) {
        const D: usize = 16;
        let (k, stride) = (self.k, self.stride);
        let keys = counts.distinct_keys();
        for &key in keys.iter().take(D) {
            prefetch(&self.slots[key as usize & self.mask]);
        }
        cols.clear();
        for (i, &key) in keys.iter().enumerate() {
            if let Some(&next) = keys.get(i + D) {
                prefetch(&self.slots[next as usize & self.mask]);
            }
            if let Some(col) = self.column(key) {
                prefetch(&self.rows[col * stride]);
                cols.push((col as u32, counts.count_at(i)));
            }
        }
        let mut sq = [0f64; 2];
        if stride == LANES {
            // Up to seven classes: both accumulators live in registers.
            let mut acc = [[0f32; LANES]; 2];
            let mut sq32 = [0f32; 2];
            for &(col, count) in cols.iter() {
                let row: &[f32; LANES] = self.rows[col as usize * LANES..][..LANES]
                    .try_into()
                    .expect("row width");
                let signed_idf = row[LANES - 1];
                let b = (signed_idf < 0.0) as usize;
                let x = tf(cfg, count) * signed_idf.abs();
                sq32[b] += x * x;
                let a = &mut acc[b];
                for l in 0..LANES {
                    a[l] += x * row[l];
                }
            }
            partial.clear();
            partial.extend_from_slice(&acc[0]);
            partial.extend_from_slice(&acc[1]);
            sq = [sq32[0] as f64, sq32[1] as f64];
        } else {
            partial.clear();
            partial.resize(2 * stride, 0.0);
            for &(col, count) in cols.iter() {
                let row = &self.rows[col as usize * stride..(col as usize + 1) * stride];
                let signed_idf = row[stride - 1];
                let b = (signed_idf < 0.0) as usize;
                let x = tf(cfg, count) * signed_idf.abs();
                sq[b] += (x as f64) * (x as f64);
                let acc = &mut partial[b * stride..(b + 1) * stride];
                for (a, w) in acc.iter_mut().zip(row) {
                    *a += x * w;
                }
            }
        }
        let (acc_words, acc_chars) = partial.split_at(stride);
        let scale = block_scales(cfg, sq);
        out.clear();
        out.extend(
            (0..k).map(|c| self.bias[c] + scale[0] * acc_words[c] + scale[1] * acc_chars[c]),
        );
    }
}

/// Hints the CPU to fetch the cache line holding `r`. A no-op off x86-64.
#[inline(always)]
fn prefetch<T>(r: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch hint never faults and does not change memory; SSE is part of the
    // x86-64 baseline, and `r` is a valid reference.
    #[allow(unused_unsafe)]
    unsafe {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        _mm_prefetch::<_MM_HINT_T0>((r as *const T).cast::<i8>());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = r;
}

#[inline]
pub(crate) fn tf(cfg: &FeatureConfig, count: u32) -> f32 {
    if !cfg.sublinear_tf {
        count as f32
    } else if count == 1 {
        1.0
    } else {
        1.0 + (count as f32).ln()
    }
}

/// Counts feature keys of one text in a small open-addressing table that stays in cache.
#[derive(Debug, Default, Clone)]
pub(crate) struct FeatureCounter {
    keys: Vec<u64>,
    counts: Vec<u32>,
    used: Vec<u32>,
    order: Vec<u64>,
    mask: usize,
}

impl FeatureCounter {
    /// Empties the counter, sized for about `expected` distinct keys.
    pub fn reset(&mut self, expected: usize) {
        let cap = (2 * expected.max(8)).next_power_of_two();
        if self.keys.len() < cap || self.keys.len() > 4 * cap.max(4096) {
            self.keys = vec![0; cap];
            self.counts = vec![0; cap];
        } else {
            for &i in &self.used {
                self.keys[i as usize] = 0;
            }
        }
        self.used.clear();
        self.order.clear();
        self.mask = self.keys.len() - 1;
    }

    /// Adds one occurrence of `key` (key 0 is folded to 1; keys are hashes).
    #[inline]
    pub fn add(&mut self, key: u64) {
        let key = key.max(1);
        if self.used.len() * 2 >= self.keys.len() {
            self.grow();
        }
        let mut i = (key ^ (key >> 29)) as usize & self.mask;
        loop {
            let k = self.keys[i];
            if k == key {
                self.counts[i] += 1;
                return;
            }
            if k == 0 {
                self.keys[i] = key;
                self.counts[i] = 1;
                self.used.push(i as u32);
                self.order.push(key);
                return;
            }
            i = (i + 1) & self.mask;
        }
    }

    fn grow(&mut self) {
        let old: Vec<(u64, u32)> = self.iter().collect();
        let cap = self.keys.len() * 2;
        self.keys = vec![0; cap];
        self.counts = vec![0; cap];
        self.used.clear();
        self.order.clear();
        self.mask = cap - 1;
        for (key, c) in old {
            self.add(key);
            let i = *self.used.last().expect("just added") as usize;
            self.counts[i] = c;
        }
    }

    /// Distinct keys in first-seen order.
    pub fn distinct_keys(&self) -> &[u64] {
        &self.order
    }

    /// Count of the `i`-th distinct key.
    #[inline]
    pub fn count_at(&self, i: usize) -> u32 {
        self.counts[self.used[i] as usize]
    }

    /// Distinct keys with their counts, in first-seen order.
    pub fn iter(&self) -> impl Iterator<Item = (u64, u32)> + '_ {
        self.used
            .iter()
            .map(move |&i| (self.keys[i as usize], self.counts[i as usize]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counter_counts_and_grows() {
        let mut c = FeatureCounter::default();
        c.reset(2);
        for i in 0..1000u64 {
            for _ in 0..(i % 3 + 1) {
                c.add(i.wrapping_mul(0x9E37_79B9_7F4A_7C15));
            }
        }
        let v: Vec<_> = c.iter().collect();
        assert_eq!(v.len(), 1000);
        for (n, (k, cnt)) in v.into_iter().enumerate() {
            assert_eq!(k, (n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15).max(1));
            assert_eq!(cnt as u64, n as u64 % 3 + 1);
        }
        c.reset(10);
        assert_eq!(c.iter().count(), 0);
        c.add(5);
        c.add(5);
        assert_eq!(c.iter().collect::<Vec<_>>(), vec![(5, 2)]);
    }
}
