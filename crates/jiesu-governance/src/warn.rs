//! 未诉先办 预警 — early warning of spikes of requests in one cell (place × category) against a
//! seasonal baseline, and the reference detectors it is measured against (CDC EARS C1/C2/C3).
//!
//! # Our detector
//! For every cell and city day `t`:
//! 1. **Day factors** `f(kind)`: how busy a kind of day is (Monday … Sunday on an ordinary week, a
//!    public holiday, a 调休 working weekend) relative to an ordinary day. They are pooled over the
//!    whole city (a sparse cell cannot estimate its own weekly shape) and estimated once from the
//!    history before the days scored ([`DayFactors::estimate`]).
//! 2. **Level** `λ`: the cell's requests per ordinary day over a long baseline (`baseline_days`,
//!    112 by default) that ends `guard_days` + the longest scan window before `t`, so a growing
//!    outbreak does not raise its own baseline. The level is uncertain when the baseline saw few
//!    requests: its posterior is Gamma(count + ½, Σ factors) (Jeffreys prior), so a cell with no
//!    request in its baseline still has a finite expectation.
//! 3. **Scan**: for each window `w` in `windows` (1, 2, 3 days ending on `t`), the observed
//!    count `O_w` against its predictive distribution — negative binomial, the Poisson count of
//!    the window mixed over the level's posterior; the statistic is the upper tail `P(X ≥ O_w)`
//!    as `−log10`, the largest over the windows. The exact tail (not a normal approximation)
//!    and the level's uncertainty are what keep sparse cells — most street × sub-category cells
//!    see less than one request a day — from drowning staff in false alarms; the 2- and 3-day
//!    windows catch outbreaks that rise over several days. (Longer windows, 5 and 7 days, found
//!    a few more slow outbreaks but later, and the larger maximum raised the threshold: fewer
//!    detected overall on the demo city.)
//!
//! One number per cell-day ([`Detector::scores`]), alarm when it is at or above a threshold; the
//! evaluation ([`crate::warn_eval`]) sets each method's threshold so that all raise the same share
//! of alarms on outbreak-free cell-days.
//!
//! # EARS
//! As the R package `surveillance` defines `earsC` (Fricker, Hegler & Dunfee 2008): C1 compares
//! day `t` with the mean and standard deviation of the 7 days before it, C2 with the 7 days ending
//! 3 days before it, C3 sums `max(0, C2 − 1)` over `t`, `t − 1` and `t − 2`. A zero standard
//! deviation is raised to `min_sigma` (the package's `minSigma`; without it a cell whose last week
//! was all zeros gives an infinite statistic on its first request).

use chrono::{Datelike, NaiveDate, Weekday};
use jiesu_routing::calendar::Calendar;
use serde::{Deserialize, Serialize};

/// The kind of a city day for the baseline (how busy such a day usually is).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DayKind {
    /// An ordinary day: its weekday, 0 = Monday … 6 = Sunday.
    Weekday(u8),
    /// 法定节假日 — a public holiday falling on a weekday.
    Holiday,
    /// 调休上班 — a weekend day that is a working day.
    MakeupWorkday,
}

impl DayKind {
    /// Number of kinds (the length of a [`DayFactors`] table).
    pub const COUNT: usize = 9;

    /// The kind of `date` under a working calendar (its holidays and make-up working days).
    pub fn of(cal: &Calendar, date: NaiveDate) -> DayKind {
        let wd = date.weekday();
        let weekend = matches!(wd, Weekday::Sat | Weekday::Sun);
        if cal.holidays.contains(&date) && !weekend {
            DayKind::Holiday
        } else if cal.makeup_workdays.contains(&date) {
            DayKind::MakeupWorkday
        } else {
            DayKind::Weekday(wd.num_days_from_monday() as u8)
        }
    }

    /// Ordinary weekdays only (for series from a city whose calendar is unknown).
    pub fn plain(date: NaiveDate) -> DayKind {
        DayKind::Weekday(date.weekday().num_days_from_monday() as u8)
    }

    /// Index into a factor table.
    pub fn index(self) -> usize {
        match self {
            DayKind::Weekday(d) => usize::from(d.min(6)),
            DayKind::Holiday => 7,
            DayKind::MakeupWorkday => 8,
        }
    }
}

/// How busy each [`DayKind`] is relative to an ordinary day (mean 1 over the days estimated from).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DayFactors(pub [f64; DayKind::COUNT]);

impl Default for DayFactors {
    fn default() -> Self {
        DayFactors([1.0; DayKind::COUNT])
    }
}

impl DayFactors {
    /// Estimates the factors from a city-wide daily total over `range` of the days: each day's
    /// total divided by its centred 4-week moving average (which removes the trend and the
    /// season), averaged per kind. A kind seen fewer than 2 times keeps factor 1 (holidays: the
    /// mean of the weekend factors).
    pub fn estimate(
        totals: &[f64],
        kinds: &[DayKind],
        range: std::ops::Range<usize>,
    ) -> DayFactors {
        const HALF: usize = 14;
        let mut sum = [0.0; DayKind::COUNT];
        let mut n = [0usize; DayKind::COUNT];
        let end = range.end.min(totals.len()).min(kinds.len());
        for t in range.start..end {
            let lo = t.saturating_sub(HALF);
            let hi = (t + HALF + 1).min(end);
            let avg = totals[lo..hi].iter().sum::<f64>() / (hi - lo) as f64;
            if avg > 0.0 {
                sum[kinds[t].index()] += totals[t] / avg;
                n[kinds[t].index()] += 1;
            }
        }
        let mut f = [1.0; DayKind::COUNT];
        for k in 0..DayKind::COUNT {
            if n[k] >= 2 {
                f[k] = sum[k] / n[k] as f64;
            }
        }
        if n[7] < 2 {
            f[7] = (f[5] + f[6]) / 2.0;
        }
        for v in &mut f {
            *v = v.clamp(0.05, 20.0);
        }
        DayFactors(f)
    }

    /// The factor of a day.
    pub fn of(&self, k: DayKind) -> f64 {
        self.0[k.index()]
    }
}

/// The parameters of [`Detector`] (defaults: docs/GOVERNANCE.md).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DetectorParams {
    /// Days in the baseline.
    pub baseline_days: usize,
    /// Days between the end of the baseline and the start of the longest scan window.
    pub guard_days: usize,
    /// Scan windows (days ending on the day scored).
    pub windows: Vec<usize>,
    /// Requests assumed over a baseline that saw none.
    pub empty_baseline_count: f64,
}

impl Default for DetectorParams {
    fn default() -> Self {
        DetectorParams {
            baseline_days: 112,
            guard_days: 1,
            windows: vec![1, 2, 3],
            empty_baseline_count: 0.5,
        }
    }
}

/// Our early-warning detector (see the module docs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Detector {
    /// Parameters.
    pub params: DetectorParams,
    /// The city's day factors.
    pub factors: DayFactors,
}

impl Detector {
    /// Days of history needed before the first scored day.
    pub fn warmup(&self) -> usize {
        self.params.baseline_days
            + self.params.guard_days
            + self.params.windows.iter().copied().max().unwrap_or(1)
    }

    /// The statistic of every day of one cell's series (`−log10` of the Poisson upper tail,
    /// largest over the scan windows); 0 for days without a full baseline.
    pub fn scores(&self, counts: &[u32], kinds: &[DayKind]) -> Vec<f64> {
        let n = counts.len().min(kinds.len());
        let p = &self.params;
        let wmax = p.windows.iter().copied().max().unwrap_or(1);
        let mut out = vec![0.0; n];
        // prefix sums of counts and factors
        let mut cx = vec![0.0f64; n + 1];
        let mut cf = vec![0.0f64; n + 1];
        for t in 0..n {
            cx[t + 1] = cx[t] + f64::from(counts[t]);
            cf[t + 1] = cf[t] + self.factors.of(kinds[t]);
        }
        for (t, slot) in out
            .iter_mut()
            .enumerate()
            .skip(self.warmup().saturating_sub(1))
        {
            // baseline ends before the longest window and the guard
            let b_end = t + 1 - wmax - p.guard_days;
            let b_start = b_end - p.baseline_days;
            let bx = cx[b_end] - cx[b_start];
            let bf = cf[b_end] - cf[b_start];
            if bf <= 0.0 {
                continue;
            }
            // the level's posterior is Gamma(shape = count + prior, rate = Σ factors); a window's
            // count is then negative binomial (Poisson–gamma), wider than Poisson when the
            // baseline saw few requests
            let shape = bx + p.empty_baseline_count;
            let mut best = 0.0f64;
            for &w in &p.windows {
                let o = cx[t + 1] - cx[t + 1 - w];
                let fw = cf[t + 1] - cf[t + 1 - w];
                best = best.max(neg_log10_negbin_tail(o as u64, shape, bf / (bf + fw)));
            }
            *slot = best;
        }
        out
    }
}

/// Why a day scored as it did: the window that gave the largest statistic, with its count and
/// the count expected.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Explained {
    /// The statistic.
    pub score: f64,
    /// Days in the window (ending on the day).
    pub window_days: usize,
    /// Requests in the window.
    pub observed: u32,
    /// Requests expected in the window.
    pub expected: f64,
}

impl Detector {
    /// The statistic of day `t` with the window behind it (`None` without a full baseline).
    pub fn explain(&self, counts: &[u32], kinds: &[DayKind], t: usize) -> Option<Explained> {
        let p = &self.params;
        let wmax = p.windows.iter().copied().max().unwrap_or(1);
        if t + 1 < self.warmup() || t >= counts.len().min(kinds.len()) {
            return None;
        }
        let b_end = t + 1 - wmax - p.guard_days;
        let b_start = b_end - p.baseline_days;
        let bx: f64 = counts[b_start..b_end].iter().map(|&c| f64::from(c)).sum();
        let bf: f64 = kinds[b_start..b_end]
            .iter()
            .map(|&k| self.factors.of(k))
            .sum();
        if bf <= 0.0 {
            return None;
        }
        let shape = bx + p.empty_baseline_count;
        let mut best: Option<Explained> = None;
        for &w in &p.windows {
            let o: u32 = counts[t + 1 - w..=t].iter().sum();
            let fw: f64 = kinds[t + 1 - w..=t]
                .iter()
                .map(|&k| self.factors.of(k))
                .sum();
            let score = neg_log10_negbin_tail(u64::from(o), shape, bf / (bf + fw));
            if best.is_none_or(|b| score > b.score) {
                best = Some(Explained {
                    score,
                    window_days: w,
                    observed: o,
                    expected: shape / bf * fw,
                });
            }
        }
        best
    }
}

/// `−log10 P(X ≥ k)` for `X ~ Poisson(mean)` (0 when `k` is 0).
pub fn neg_log10_poisson_tail(k: u64, mean: f64) -> f64 {
    if k == 0 {
        return 0.0;
    }
    if mean <= 0.0 {
        return 300.0;
    }
    // P(X ≥ k) = P(k, mean), the regularised lower incomplete gamma function.
    let p = lower_regularized_gamma(k as f64, mean);
    if p > 0.0 {
        -p.log10()
    } else {
        // underflow: the log of the first term of the series dominates
        -(k as f64 * mean.ln() - mean - ln_gamma(k as f64 + 1.0)) / std::f64::consts::LN_10
    }
}

/// `−log10 P(X ≥ k)` for `X ~ NegBin(r, p)` (failures before the `r`-th success of probability
/// `p`; mean `r(1−p)/p`), summed from the exact log-probability of `k` upward (or as one minus the
/// lower sum when `k` is below the mode), so far tails keep their precision.
pub fn neg_log10_negbin_tail(k: u64, r: f64, p: f64) -> f64 {
    if k == 0 {
        return 0.0;
    }
    let q = 1.0 - p;
    if q <= 0.0 {
        return 300.0;
    }
    let ln_pmf =
        |i: f64| ln_gamma(i + r) - ln_gamma(r) - ln_gamma(i + 1.0) + r * p.ln() + i * q.ln();
    let mean = r * q / p;
    let kf = k as f64;
    if kf <= mean {
        // the lower sum is small: P(X ≥ k) = 1 − Σ_{i<k}
        let mut term = ln_pmf(0.0).exp();
        let mut lower = 0.0;
        for i in 0..k {
            lower += term;
            let i = i as f64;
            term *= (r + i) / (i + 1.0) * q;
        }
        return -(1.0 - lower).max(1e-300).log10();
    }
    let first = ln_pmf(kf);
    let mut sum = 1.0;
    let mut ratio = 1.0;
    let mut i = kf;
    for _ in 0..100_000 {
        ratio *= (r + i) / (i + 1.0) * q;
        sum += ratio;
        i += 1.0;
        if ratio < 1e-14 * sum {
            break;
        }
    }
    -(first + sum.ln()) / std::f64::consts::LN_10
}

// Hand-written because the crates that offer the incomplete gamma function (statrs) pull in a
// linear-algebra stack; these are the classic series and continued fraction (Numerical Recipes
// §6.2), accurate to ~1e-14 for the arguments a day's counts give.
fn lower_regularized_gamma(a: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    let gln = ln_gamma(a);
    if x < a + 1.0 {
        let mut ap = a;
        let mut sum = 1.0 / a;
        let mut del = sum;
        for _ in 0..1000 {
            ap += 1.0;
            del *= x / ap;
            sum += del;
            if del.abs() < sum.abs() * 1e-15 {
                break;
            }
        }
        sum * (-x + a * x.ln() - gln).exp()
    } else {
        // upper via Lentz's continued fraction, then 1 − Q
        let tiny = 1e-300;
        let mut b = x + 1.0 - a;
        let mut c = 1.0 / tiny;
        let mut d = 1.0 / b;
        let mut h = d;
        for i in 1..1000 {
            let an = -(i as f64) * (i as f64 - a);
            b += 2.0;
            d = an * d + b;
            if d.abs() < tiny {
                d = tiny;
            }
            c = b + an / c;
            if c.abs() < tiny {
                c = tiny;
            }
            d = 1.0 / d;
            let del = d * c;
            h *= del;
            if (del - 1.0).abs() < 1e-15 {
                break;
            }
        }
        1.0 - (-x + a * x.ln() - gln).exp() * h
    }
}

/// `ln Γ(x)` (Lanczos, g = 7).
fn ln_gamma(x: f64) -> f64 {
    const G: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = G[0];
    let t = x + 7.5;
    for (i, g) in G.iter().enumerate().skip(1) {
        a += g / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// Which EARS method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Ears {
    /// C1: the 7 days before.
    C1,
    /// C2: the 7 days ending 3 days before.
    C2,
    /// C3: `Σ max(0, C2 − 1)` over the day and the 2 before.
    C3,
}

/// The EARS statistic of every day of a series (0 without a full baseline).
pub fn ears_scores(method: Ears, counts: &[u32], min_sigma: f64) -> Vec<f64> {
    let n = counts.len();
    let stat = |t: usize, lag: usize| -> Option<f64> {
        // baseline: the 7 days t − lag − 6 … t − lag
        let end = (t + 1).checked_sub(lag)?;
        let start = end.checked_sub(7)?;
        let base = &counts[start..end];
        let mean = base.iter().map(|&c| f64::from(c)).sum::<f64>() / 7.0;
        let var = base
            .iter()
            .map(|&c| (f64::from(c) - mean).powi(2))
            .sum::<f64>()
            / 6.0;
        let sd = var.sqrt().max(min_sigma);
        let diff = f64::from(counts[t]) - mean;
        // with `minSigma` 0 (the package's default) a flat week gives ±∞, or 0 for no change
        Some(if sd > 0.0 {
            diff / sd
        } else if diff == 0.0 {
            0.0
        } else {
            diff.signum() * f64::INFINITY
        })
    };
    match method {
        Ears::C1 => (0..n).map(|t| stat(t, 1).unwrap_or(0.0)).collect(),
        Ears::C2 => (0..n).map(|t| stat(t, 3).unwrap_or(0.0)).collect(),
        Ears::C3 => {
            let c2: Vec<Option<f64>> = (0..n).map(|t| stat(t, 3)).collect();
            (0..n)
                .map(|t| {
                    if t < 2 || c2[t - 2].is_none() {
                        return 0.0;
                    }
                    (0..3)
                        .map(|j| (c2[t - j].unwrap_or(0.0) - 1.0).max(0.0))
                        .sum()
                })
                .collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn poisson_tail_direct(k: u64, m: f64) -> f64 {
        // 1 − Σ_{i<k} e^-m m^i / i!
        let mut term = (-m).exp();
        let mut cdf = 0.0;
        for i in 0..k {
            cdf += term;
            term *= m / (i as f64 + 1.0);
        }
        1.0 - cdf
    }

    #[test]
    fn poisson_tail_matches_the_direct_sum() {
        for &(k, m) in &[
            (1u64, 0.1),
            (2, 0.1),
            (3, 0.5),
            (5, 2.0),
            (10, 4.0),
            (30, 20.0),
        ] {
            let want = -poisson_tail_direct(k, m).log10();
            let got = neg_log10_poisson_tail(k, m);
            assert!(
                (want - got).abs() < 1e-6 * want.max(1.0),
                "k {k} m {m}: {want} vs {got}"
            );
        }
        assert_eq!(neg_log10_poisson_tail(0, 3.0), 0.0);
        // far tail stays finite and monotone
        let a = neg_log10_poisson_tail(200, 1.0);
        let b = neg_log10_poisson_tail(201, 1.0);
        assert!(a.is_finite() && b > a);
    }

    #[test]
    fn negbin_tail_matches_the_direct_sum_and_tends_to_poisson() {
        let direct = |k: u64, r: f64, p: f64| {
            let mut term = p.powf(r);
            let mut cdf = 0.0;
            for i in 0..k {
                cdf += term;
                term *= (r + i as f64) / (i as f64 + 1.0) * (1.0 - p);
            }
            -(1.0 - cdf).log10()
        };
        for &(k, r, p) in &[
            (1u64, 0.5, 0.9),
            (3, 2.5, 0.8),
            (10, 40.0, 0.9),
            (2, 1.0, 0.5),
        ] {
            let (a, b) = (direct(k, r, p), neg_log10_negbin_tail(k, r, p));
            assert!(
                (a - b).abs() < 1e-6 * a.max(1.0),
                "k {k} r {r} p {p}: {a} vs {b}"
            );
        }
        // a huge shape with the same mean is Poisson
        let (r, mean) = (1e7, 2.0);
        let nb = neg_log10_negbin_tail(8, r, r / (r + mean));
        assert!((nb - neg_log10_poisson_tail(8, mean)).abs() < 1e-3);
    }

    #[test]
    fn ears_c1_is_the_z_score_against_the_week_before() {
        let counts = [1, 2, 1, 2, 1, 2, 1, 9];
        let s = ears_scores(Ears::C1, &counts, 0.0);
        let base = [1.0, 2.0, 1.0, 2.0, 1.0, 2.0, 1.0];
        let mean: f64 = base.iter().sum::<f64>() / 7.0;
        let sd = (base.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 6.0).sqrt();
        assert!((s[7] - (9.0 - mean) / sd).abs() < 1e-12);
        assert_eq!(s[6], 0.0, "no full week before day 6");
    }

    #[test]
    fn ears_c3_sums_the_last_three_c2_excesses() {
        let counts: Vec<u32> = (0..20)
            .map(|i| if i >= 17 { 6 } else { (i % 3) as u32 })
            .collect();
        let c2 = ears_scores(Ears::C2, &counts, 0.2);
        let c3 = ears_scores(Ears::C3, &counts, 0.2);
        let want: f64 = (17..20).map(|t| (c2[t] - 1.0).max(0.0)).sum();
        assert!((c3[19] - want).abs() < 1e-12);
    }

    #[test]
    fn a_spike_in_a_sparse_cell_scores_higher_than_ordinary_days() {
        let kinds: Vec<DayKind> = (0..120).map(|i| DayKind::Weekday((i % 7) as u8)).collect();
        let mut counts = vec![0u32; 120];
        for t in (0..110).step_by(9) {
            counts[t] = 1;
        }
        counts[115] = 4;
        let d = Detector {
            params: DetectorParams::default(),
            factors: DayFactors::default(),
        };
        let s = d.scores(&counts, &kinds);
        let ordinary = s[..110].iter().cloned().fold(0.0, f64::max);
        assert!(
            s[115] > ordinary + 2.0,
            "spike {} vs ordinary max {}",
            s[115],
            ordinary
        );
        assert!(s[..d.warmup() - 1].iter().all(|&x| x == 0.0));
    }

    #[test]
    fn explain_agrees_with_scores() {
        let kinds: Vec<DayKind> = (0..150).map(|i| DayKind::Weekday((i % 7) as u8)).collect();
        let counts: Vec<u32> = (0..150)
            .map(|i| ((i * 7919) % 5) as u32 / 2 + u32::from(i > 140) * 4)
            .collect();
        let d = Detector {
            params: DetectorParams::default(),
            factors: DayFactors::default(),
        };
        let s = d.scores(&counts, &kinds);
        for (t, want) in s.iter().enumerate().skip(d.warmup() - 1) {
            let e = d.explain(&counts, &kinds, t).expect("full baseline");
            assert!((e.score - want).abs() < 1e-9, "day {t}");
        }
        assert!(d.explain(&counts, &kinds, d.warmup() - 2).is_none());
        let e = d.explain(&counts, &kinds, 145).unwrap();
        assert!(e.observed as f64 > e.expected);
    }

    #[test]
    fn day_factors_find_quiet_weekends() {
        let kinds: Vec<DayKind> = (0..140).map(|i| DayKind::Weekday((i % 7) as u8)).collect();
        let totals: Vec<f64> = kinds
            .iter()
            .map(|k| if k.index() >= 5 { 50.0 } else { 100.0 })
            .collect();
        let f = DayFactors::estimate(&totals, &kinds, 0..140);
        assert!(f.0[5] < 0.65 && f.0[0] > 1.1, "{:?}", f.0);
    }
}
