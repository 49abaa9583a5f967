//! One-vs-rest linear SVM (L2-regularised, squared hinge loss) trained by dual coordinate
//! descent, the algorithm of LIBLINEAR (Hsieh, Chang, Lin, Keerthi, Sundararajan, ICML 2008).
//!
//! Written here rather than taken from a crate: the Rust options are `linfa-svm` / `smartcore`
//! (kernel SMO solvers on dense matrices: far too slow and memory-hungry for ~10⁵–10⁶ sparse
//! TF-IDF columns) and `liblinear` bindings (build the C library, little maintained). The solver
//! itself is ~100 lines; keeping it here also keeps it deterministic (own seeded shuffle) and
//! free of native code.

use crate::features::SparseVec;

/// Deterministic PRNG (SplitMix64) for shuffles: the same seed gives the same model on every
/// platform and build.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        ((self.next_u64() as u128 * n as u128) >> 64) as usize
    }
    pub fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.below(i + 1);
            v.swap(i, j);
        }
    }
}

/// Solver settings.
#[derive(Debug, Clone)]
pub struct SvmParams {
    /// Cost of a margin violation.
    pub c: f64,
    /// Per-class multiplier of `c` (empty = 1 for all).
    pub class_weight: Vec<f64>,
    /// Value of the constant bias feature (0 = no bias).
    pub bias: f64,
    /// Stop when the projected-gradient spread falls below this.
    pub tolerance: f64,
    /// Upper bound on passes over the data.
    pub max_epochs: u32,
    /// Shuffle seed.
    pub seed: u64,
    /// Threads (classes are trained independently; results do not depend on this).
    pub threads: usize,
    /// NB-SVM (Wang & Manning 2012): each class's problem sees every feature scaled by its
    /// naive-Bayes log-count ratio for that class, smoothed by this (0 = plain SVM). The ratio is
    /// folded into the weights afterwards, so prediction costs the same.
    pub nb_alpha: f64,
}

/// Per-class NB log-count ratios `r[c][f] = ln(p_f/|p|) − ln(q_f/|q|)` over binarized features,
/// with `p = α + documents of class c containing f`, `q = α + the other documents containing f`.
fn nb_ratios(
    rows: &[SparseVec],
    y: &[usize],
    n_classes: usize,
    n_features: usize,
    alpha: f64,
) -> Vec<Vec<f32>> {
    let mut df = vec![vec![0f64; n_features]; n_classes];
    let mut all = vec![0f64; n_features];
    for (r, &c) in rows.iter().zip(y) {
        for &f in &r.idx {
            df[c][f as usize] += 1.0;
            all[f as usize] += 1.0;
        }
    }
    (0..n_classes)
        .map(|c| {
            let p: Vec<f64> = df[c].iter().map(|&x| x + alpha).collect();
            let q: Vec<f64> = all
                .iter()
                .zip(&df[c])
                .map(|(&a, &x)| a - x + alpha)
                .collect();
            let (sp, sq): (f64, f64) = (p.iter().sum(), q.iter().sum());
            p.iter()
                .zip(&q)
                .map(|(&pf, &qf)| ((pf / sp).ln() - (qf / sq).ln()) as f32)
                .collect()
        })
        .collect()
}

/// Weights of a one-vs-rest model, column-major by feature: `w[f * n_classes + c]`.
#[derive(Debug, Clone)]
pub struct LinearModel {
    pub n_classes: usize,
    pub weights: Vec<f32>,
    pub bias: Vec<f32>,
    /// Solver passes each class took (equal to `max_epochs` if it did not converge).
    pub epochs: Vec<u32>,
}

impl LinearModel {
    /// Scores of every class for a row.
    #[inline]
    pub fn scores_into(&self, x: &SparseVec, out: &mut [f32]) {
        let k = self.n_classes;
        out.copy_from_slice(&self.bias);
        for (&i, &v) in x.idx.iter().zip(&x.val) {
            let w = &self.weights[i as usize * k..i as usize * k + k];
            for (o, wc) in out.iter_mut().zip(w) {
                *o += wc * v;
            }
        }
    }
}

/// Trains one binary problem per class. `y[i]` is the class index of row `i`.
pub fn train_ovr(
    rows: &[SparseVec],
    y: &[usize],
    n_classes: usize,
    n_features: usize,
    p: &SvmParams,
) -> LinearModel {
    let ratios = (p.nb_alpha > 0.0).then(|| nb_ratios(rows, y, n_classes, n_features, p.nb_alpha));
    let classes: Vec<usize> = (0..n_classes).collect();
    let threads = p.threads.clamp(1, n_classes.max(1));
    let mut per_class: Vec<(Vec<f64>, f64, u32)> = vec![(Vec::new(), 0.0, 0); n_classes];
    std::thread::scope(|s| {
        let chunks: Vec<&[usize]> = classes.chunks(n_classes.div_ceil(threads).max(1)).collect();
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|cs| {
                let ratios = &ratios;
                s.spawn(move || {
                    cs.iter()
                        .map(|&c| {
                            let scale = ratios.as_ref().map(|r| r[c].as_slice());
                            (c, train_binary(rows, y, c, n_features, scale, p))
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for h in handles {
            for (c, wb) in h.join().expect("solver thread panicked") {
                per_class[c] = wb;
            }
        }
    });
    let mut weights = vec![0f32; n_features * n_classes];
    let mut bias = vec![0f32; n_classes];
    let mut epochs = vec![0u32; n_classes];
    for (c, (w, b, e)) in per_class.into_iter().enumerate() {
        epochs[c] = e;
        for (f, v) in w.into_iter().enumerate() {
            // NB-SVM: the class saw x·r, so its weight on x is w·r.
            let r = ratios.as_ref().map_or(1.0, |r| r[c][f] as f64);
            weights[f * n_classes + c] = (v * r) as f32;
        }
        bias[c] = b as f32;
    }
    LinearModel {
        n_classes,
        weights,
        bias,
        epochs,
    }
}

/// Dual coordinate descent for min_w ½‖w‖² + Σ C_i max(0, 1 − y_i w·x_i)², returning
/// (w, b, passes).
fn train_binary(
    rows: &[SparseVec],
    y: &[usize],
    class: usize,
    n_features: usize,
    scale: Option<&[f32]>,
    p: &SvmParams,
) -> (Vec<f64>, f64, u32) {
    let n = rows.len();
    let sc = |f: u32| scale.map_or(1.0, |s| s[f as usize] as f64);
    let sq_norms: Vec<f64> = rows
        .iter()
        .map(|r| {
            r.idx
                .iter()
                .zip(&r.val)
                .map(|(&f, &v)| {
                    let x = v as f64 * sc(f);
                    x * x
                })
                .sum::<f64>()
                + p.bias * p.bias
        })
        .collect();
    let mut w = vec![0f64; n_features];
    let mut wb = 0f64; // weight of the bias feature
    if n == 0 {
        return (w, 0.0, 0);
    }
    let weight = |pos: bool| -> f64 {
        let cw = if pos {
            p.class_weight.get(class).copied().unwrap_or(1.0)
        } else {
            1.0
        };
        p.c * cw
    };
    let sign: Vec<f64> = y
        .iter()
        .map(|&c| if c == class { 1.0 } else { -1.0 })
        .collect();
    let diag: Vec<f64> = sign.iter().map(|&s| 0.5 / weight(s > 0.0)).collect();
    let qii: Vec<f64> = (0..n).map(|i| sq_norms[i] + diag[i]).collect();
    let mut alpha = vec![0f64; n];
    let mut order: Vec<usize> = (0..n).collect();
    let mut rng = SplitMix64::new(p.seed ^ (class as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let mut passes = 0;
    for _ in 0..p.max_epochs.max(1) {
        passes += 1;
        rng.shuffle(&mut order);
        let mut pg_max = f64::NEG_INFINITY;
        let mut pg_min = f64::INFINITY;
        for &i in &order {
            let r = &rows[i];
            let yi = sign[i];
            let mut dot = wb * p.bias;
            for (&f, &v) in r.idx.iter().zip(&r.val) {
                dot += w[f as usize] * v as f64 * sc(f);
            }
            let g = yi * dot - 1.0 + diag[i] * alpha[i];
            let pg = if alpha[i] == 0.0 { g.min(0.0) } else { g };
            pg_max = pg_max.max(pg);
            pg_min = pg_min.min(pg);
            if pg.abs() > 1e-12 {
                let old = alpha[i];
                alpha[i] = (old - g / qii[i]).max(0.0);
                let d = (alpha[i] - old) * yi;
                if d != 0.0 {
                    for (&f, &v) in r.idx.iter().zip(&r.val) {
                        w[f as usize] += d * v as f64 * sc(f);
                    }
                    wb += d * p.bias;
                }
            }
        }
        if pg_max - pg_min <= p.tolerance {
            break;
        }
    }
    (w, wb * p.bias, passes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separates_a_toy_problem_deterministically() {
        // class 0 uses feature 0, class 1 feature 1, class 2 feature 2; feature 3 is noise.
        let mut rows = Vec::new();
        let mut y = Vec::new();
        let mut rng = SplitMix64::new(7);
        for i in 0..60 {
            let c = i % 3;
            let noise = (rng.below(100) as f32) / 200.0;
            let norm = (1.0 + noise * noise).sqrt();
            rows.push(SparseVec {
                idx: vec![c as u32, 3],
                val: vec![1.0 / norm, noise / norm],
            });
            y.push(c);
        }
        let p = SvmParams {
            c: 1.0,
            class_weight: vec![],
            bias: 1.0,
            tolerance: 0.01,
            max_epochs: 200,
            seed: 1,
            threads: 2,
            nb_alpha: 0.0,
        };
        let m = train_ovr(&rows, &y, 3, 4, &p);
        let mut s = [0f32; 3];
        for (r, &c) in rows.iter().zip(&y) {
            m.scores_into(r, &mut s);
            let best = (0..3).max_by(|&a, &b| s[a].total_cmp(&s[b])).unwrap();
            assert_eq!(best, c);
        }
        let m2 = train_ovr(&rows, &y, 3, 4, &SvmParams { threads: 1, ..p });
        assert_eq!(m.weights, m2.weights);
        assert_eq!(m.bias, m2.bias);
    }

    #[test]
    fn shuffle_is_a_permutation() {
        let mut v: Vec<usize> = (0..100).collect();
        SplitMix64::new(3).shuffle(&mut v);
        let mut s = v.clone();
        s.sort();
        assert_eq!(s, (0..100).collect::<Vec<_>>());
        assert_ne!(v, s);
    }
}
