//! The evaluation of early warning (`jiesu warn eval`): outbreaks of several shapes, lengths and
//! sizes are injected into real cell series (the demo city's, or any city's), every method's
//! threshold is set so that it raises the same share `F` of alarms on the outbreak-free series,
//! and each method's probability of detection (POD) and median delay are counted.
//!
//! The design follows the evaluation of EARS by Fricker, Hegler & Dunfee (2008, "Comparing
//! syndromic surveillance detection methods: EARS' versus a CUSUM-based methodology", Statistics
//! in Medicine 27): an outbreak's daily excess is expressed in units of the cell's own daily
//! standard deviation σ, with a peak of `k`σ, `k` drawn from [`EvalConfig::size_multipliers`];
//! it lasts 3–14 days, either at its peak from the first day (sudden) or rising linearly to it
//! (ramp); each day's extra requests are a Poisson draw of that day's excess. Outbreaks are generated from the
//! seed, independently of any method; no parameter of a method is fitted to them.
//!
//! An outbreak counts as detected when the method alarms on one of its days; the delay is the
//! first such day minus the outbreak's first day with a case (its onset in the data: a ramp's
//! first days often draw none, and a day without a case carries no signal for any method); the
//! delay from the outbreak's first day is reported beside it. Thresholds are calibrated on the cell-days of
//! the evaluation period of the series as they are (the demo city has no outbreaks); ties at the
//! threshold alarm for a deterministic pseudo-random share of the tied cell-days, so that every
//! method reaches `F` exactly even when its statistic takes few distinct values (EARS on sparse
//! cells).

use crate::warn::{ears_scores, DayFactors, DayKind, Detector, DetectorParams, Ears};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// One cell's daily series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CellSeries {
    /// The cell's name, e.g. `street:110105001/category:06`.
    pub name: String,
    /// Its level, e.g. `street×category`.
    pub level: String,
    /// The place's code (a district, street or community; empty for the whole city).
    pub place: String,
    /// The category's code (a first- or second-level category).
    pub category: String,
    /// Requests per city day (aligned with [`EvalInput::kinds`]).
    pub counts: Vec<u32>,
}

/// What the evaluation reads.
#[derive(Debug, Clone, PartialEq)]
pub struct EvalInput {
    /// Every cell.
    pub cells: Vec<CellSeries>,
    /// The kind of every day.
    pub kinds: Vec<DayKind>,
    /// The city-wide total per day (for the day factors).
    pub totals: Vec<f64>,
}

/// The evaluation's settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalConfig {
    /// The false-alarm rate every method is held to.
    pub false_alarm_rate: f64,
    /// Outbreaks injected.
    pub outbreaks: usize,
    /// Seed of the injected set.
    pub seed: u64,
    /// Days at the start used only to estimate the day factors and fill baselines (never scored).
    pub training_days: usize,
    /// Cells averaging fewer requests a day over the evaluation period are left out.
    pub min_cell_mean: f64,
    /// Outbreak size: the peak daily excess is `k` × the cell's daily standard deviation.
    pub size_multipliers: Vec<f64>,
    /// EARS's floor of the standard deviation (`minSigma`).
    pub ears_min_sigma: f64,
}

impl Default for EvalConfig {
    fn default() -> Self {
        EvalConfig {
            false_alarm_rate: 0.005,
            outbreaks: 2000,
            seed: 1,
            training_days: 120,
            min_cell_mean: 0.03,
            size_multipliers: vec![2.0, 3.0, 5.0, 8.0],
            ears_min_sigma: 0.5,
        }
    }
}

/// An outbreak's shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Shape {
    /// The same excess every day.
    Sudden,
    /// An excess rising linearly to its last day.
    Ramp,
}

/// One injected outbreak.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outbreak {
    /// Index of its cell.
    pub cell: usize,
    /// First day (index).
    pub start: usize,
    /// Days.
    pub days: usize,
    /// Shape.
    pub shape: Shape,
    /// Size multiplier `k`.
    pub k: f64,
    /// Extra requests per day.
    pub extra: Vec<u32>,
}

/// One method's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MethodResult {
    /// Share of outbreaks detected.
    pub pod: f64,
    /// Median days from an outbreak's first case to its first alarm (detected outbreaks).
    pub median_delay_days: Option<f64>,
    /// Median days from an outbreak's first day (a ramp's first days may have no case yet).
    pub median_delay_from_start_days: Option<f64>,
    /// The statistic's threshold at the common false-alarm rate.
    pub threshold: f64,
    /// The false-alarm rate reached on the outbreak-free cell-days.
    pub false_alarm_rate: f64,
    /// POD by shape, size multiplier and cell level.
    pub pod_by: Vec<(String, f64)>,
    /// Median delay by shape and size multiplier.
    pub median_delay_by: Vec<(String, f64)>,
}

/// The evaluation's answer (the last line of `jiesu warn eval`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalReport {
    /// The common false-alarm rate.
    pub false_alarm_rate: f64,
    /// Outbreaks injected.
    pub outbreaks: usize,
    /// Cells evaluated, by level.
    pub cells: Vec<(String, usize)>,
    /// Outbreak-free cell-days the thresholds were set on.
    pub cell_days: usize,
    /// Our detector.
    pub ours: MethodResult,
    /// EARS C1.
    pub ears_c1: MethodResult,
    /// EARS C2.
    pub ears_c2: MethodResult,
    /// EARS C3.
    pub ears_c3: MethodResult,
}

/// A method under evaluation.
#[derive(Debug, Clone)]
pub enum Method {
    /// Ours.
    Ours(Detector),
    /// An EARS variant with its `minSigma`.
    Ears(Ears, f64),
}

impl Method {
    /// The statistic of every day.
    pub fn scores(&self, counts: &[u32], kinds: &[DayKind]) -> Vec<f64> {
        match self {
            Method::Ours(d) => d.scores(counts, kinds),
            Method::Ears(e, s) => ears_scores(*e, counts, *s),
        }
    }
}

/// A threshold with its tie share: alarm when `score > value`, or `score == value` and the
/// cell-day's tie draw is below `tie_share`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Threshold {
    /// The value.
    pub value: f64,
    /// Share of the tied cell-days that alarm.
    pub tie_share: f64,
}

impl Threshold {
    /// Does this cell-day alarm?
    pub fn alarms(&self, score: f64, cell: usize, day: usize) -> bool {
        score > self.value || (score == self.value && tie_draw(cell, day) < self.tie_share)
    }

    /// The threshold giving exactly `rate` alarms among `scores` (with the tie share).
    pub fn at_rate(scores: &[f64], rate: f64) -> Threshold {
        if scores.is_empty() {
            return Threshold {
                value: f64::INFINITY,
                tie_share: 0.0,
            };
        }
        let mut s = scores.to_vec();
        s.sort_by(|a, b| b.total_cmp(a));
        let want = (rate * s.len() as f64).max(0.0);
        let m = (want.floor() as usize).min(s.len() - 1);
        let value = s[m];
        let above = s.iter().take_while(|&&x| x > value).count();
        let tied = s.iter().filter(|&&x| x == value).count();
        let tie_share = ((want - above as f64) / tied as f64).clamp(0.0, 1.0);
        Threshold { value, tie_share }
    }
}

/// A deterministic uniform draw in [0, 1) per cell-day (SplitMix64 of the pair).
fn tie_draw(cell: usize, day: usize) -> f64 {
    let mut z = (cell as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ (day as u64).wrapping_add(0x632B_E59B_D9B4_E019);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

fn poisson(rng: &mut ChaCha8Rng, mean: f64) -> u32 {
    // Knuth's product method in chunks (means here stay below a few hundred)
    let mut left = mean;
    let mut n = 0u32;
    while left > 0.0 {
        let step = left.min(30.0);
        left -= step;
        let l = (-step).exp();
        let mut p = 1.0;
        loop {
            p *= rng.gen::<f64>();
            if p <= l {
                break;
            }
            n += 1;
        }
    }
    n
}

/// Generates the injected outbreaks (depends only on the cells, the config and its seed).
pub fn outbreaks(
    input: &EvalInput,
    cfg: &EvalConfig,
    eligible: &[usize],
    start: usize,
) -> Vec<Outbreak> {
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
    let n = input.kinds.len();
    let mut out = Vec::with_capacity(cfg.outbreaks);
    if eligible.is_empty() || n < start + 14 || cfg.size_multipliers.is_empty() {
        return out;
    }
    for _ in 0..cfg.outbreaks {
        let cell = eligible[rng.gen_range(0..eligible.len())];
        let days = rng.gen_range(3..=14usize);
        let first = rng.gen_range(start..=n - days);
        let shape = if rng.gen_bool(0.5) {
            Shape::Sudden
        } else {
            Shape::Ramp
        };
        let k = cfg.size_multipliers[rng.gen_range(0..cfg.size_multipliers.len())];
        let c = &input.cells[cell].counts[start..];
        let mean = c.iter().map(|&x| f64::from(x)).sum::<f64>() / c.len() as f64;
        let var = c
            .iter()
            .map(|&x| (f64::from(x) - mean).powi(2))
            .sum::<f64>()
            / c.len() as f64;
        let sd = var.sqrt();
        // the excess expected on each day: k·σ every day (sudden), or rising linearly to k·σ on
        // the last day (ramp); the cases of a day are a Poisson draw of it
        let mut extra: Vec<u32> = (0..days)
            .map(|i| {
                let w = match shape {
                    Shape::Sudden => 1.0,
                    Shape::Ramp => (i + 1) as f64 / days as f64,
                };
                poisson(&mut rng, k * sd * w)
            })
            .collect();
        if extra.iter().all(|&x| x == 0) {
            extra[days - 1] = 1;
        }
        out.push(Outbreak {
            cell,
            start: first,
            days,
            shape,
            k,
            extra,
        });
    }
    out
}

/// Runs the evaluation.
pub fn evaluate(input: &EvalInput, cfg: &EvalConfig) -> EvalReport {
    let n = input.kinds.len();
    let start = cfg.training_days.min(n);
    let factors = DayFactors::estimate(&input.totals, &input.kinds, 0..start);
    let ours = Detector {
        params: DetectorParams::default(),
        factors,
    };
    let methods = [
        Method::Ours(ours),
        Method::Ears(Ears::C1, cfg.ears_min_sigma),
        Method::Ears(Ears::C2, cfg.ears_min_sigma),
        Method::Ears(Ears::C3, cfg.ears_min_sigma),
    ];
    let eligible: Vec<usize> = input
        .cells
        .iter()
        .enumerate()
        .filter(|(_, c)| {
            let tail = &c.counts[start.min(c.counts.len())..];
            !tail.is_empty()
                && tail.iter().map(|&x| f64::from(x)).sum::<f64>() / tail.len() as f64
                    >= cfg.min_cell_mean
        })
        .map(|(i, _)| i)
        .collect();
    let mut levels: Vec<(String, usize)> = Vec::new();
    for &i in &eligible {
        let l = &input.cells[i].level;
        match levels.iter_mut().find(|x| &x.0 == l) {
            Some(x) => x.1 += 1,
            None => levels.push((l.clone(), 1)),
        }
    }
    let obs = outbreaks(input, cfg, &eligible, start);
    let results: Vec<MethodResult> = methods
        .iter()
        .map(|m| {
            let clean: Vec<Vec<f64>> = eligible
                .iter()
                .map(|&i| m.scores(&input.cells[i].counts, &input.kinds))
                .collect();
            let null: Vec<f64> = clean
                .iter()
                .flat_map(|s| s[start..].iter().copied())
                .collect();
            let thr = Threshold::at_rate(&null, cfg.false_alarm_rate);
            // the rate reached, counting ties as the draw decides
            let alarms: usize = eligible
                .iter()
                .zip(&clean)
                .map(|(&i, s)| (start..n).filter(|&t| thr.alarms(s[t], i, t)).count())
                .sum();
            let reached = alarms as f64 / null.len().max(1) as f64;
            let mut delays = Vec::new();
            let mut from_start = Vec::new();
            let mut by: std::collections::BTreeMap<String, (usize, usize)> = Default::default();
            let mut delay_by: std::collections::BTreeMap<String, Vec<f64>> = Default::default();
            for o in &obs {
                let mut counts = input.cells[o.cell].counts.clone();
                for (d, &x) in o.extra.iter().enumerate() {
                    counts[o.start + d] += x;
                }
                let s = m.scores(&counts, &input.kinds);
                let hit = (o.start..o.start + o.days).find(|&t| thr.alarms(s[t], o.cell, t));
                // the delay counts from the outbreak's first case (a day without one carries no
                // signal for any method)
                let onset = o.start + o.extra.iter().position(|&x| x > 0).unwrap_or(0);
                if let Some(t) = hit {
                    from_start.push((t - o.start) as f64);
                    delays.push(t.saturating_sub(onset) as f64);
                }
                let shape = format!(
                    "shape={}",
                    if o.shape == Shape::Sudden {
                        "sudden"
                    } else {
                        "ramp"
                    }
                );
                if let Some(t) = hit {
                    for key in [shape.clone(), format!("k={}", o.k)] {
                        delay_by
                            .entry(key)
                            .or_default()
                            .push(t.saturating_sub(onset) as f64);
                    }
                }
                for key in [
                    shape,
                    format!("k={}", o.k),
                    format!("level={}", input.cells[o.cell].level),
                ] {
                    let e = by.entry(key).or_default();
                    e.0 += usize::from(hit.is_some());
                    e.1 += 1;
                }
            }
            let pod = delays.len() as f64 / obs.len().max(1) as f64;
            MethodResult {
                pod,
                median_delay_days: median(&mut delays),
                median_delay_from_start_days: median(&mut from_start),
                threshold: thr.value,
                false_alarm_rate: reached,
                pod_by: by
                    .into_iter()
                    .map(|(k, (h, t))| (k, h as f64 / t.max(1) as f64))
                    .collect(),
                median_delay_by: delay_by
                    .into_iter()
                    .filter_map(|(k, mut v)| median(&mut v).map(|m| (k, m)))
                    .collect(),
            }
        })
        .collect();
    let mut it = results.into_iter();
    EvalReport {
        false_alarm_rate: cfg.false_alarm_rate,
        outbreaks: obs.len(),
        cells: levels,
        cell_days: eligible.len() * (n - start),
        ours: it.next().expect("four methods"),
        ears_c1: it.next().expect("four methods"),
        ears_c2: it.next().expect("four methods"),
        ears_c3: it.next().expect("four methods"),
    }
}

fn median(v: &mut [f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let m = v.len() / 2;
    Some(if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threshold_at_rate_reaches_the_rate_exactly_with_ties() {
        // 1,000 scores, 900 zeros and 100 ones: a 5 % rate alarms on half the ones
        let mut s = vec![0.0; 900];
        s.extend(vec![1.0; 100]);
        let t = Threshold::at_rate(&s, 0.05);
        assert_eq!(t.value, 1.0);
        assert!((t.tie_share - 0.5).abs() < 1e-12);
        let alarms = s
            .iter()
            .enumerate()
            .filter(|(i, &x)| t.alarms(x, *i, 7))
            .count();
        assert!((35..=65).contains(&alarms), "{alarms}");
    }

    fn synthetic(cells: usize, days: usize, mean: f64, seed: u64) -> EvalInput {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let kinds: Vec<DayKind> = (0..days).map(|i| DayKind::Weekday((i % 7) as u8)).collect();
        let cells: Vec<CellSeries> = (0..cells)
            .map(|c| CellSeries {
                name: format!("c{c}"),
                level: "test".into(),
                place: String::new(),
                category: format!("{c:02}"),
                counts: (0..days).map(|_| poisson(&mut rng, mean)).collect(),
            })
            .collect();
        let totals = (0..days)
            .map(|t| cells.iter().map(|c| f64::from(c.counts[t])).sum())
            .collect();
        EvalInput {
            cells,
            kinds,
            totals,
        }
    }

    #[test]
    fn every_method_is_held_to_the_same_false_alarm_rate() {
        let input = synthetic(60, 300, 0.8, 3);
        let cfg = EvalConfig {
            outbreaks: 200,
            ..EvalConfig::default()
        };
        let r = evaluate(&input, &cfg);
        for m in [&r.ours, &r.ears_c1, &r.ears_c2, &r.ears_c3] {
            assert!((m.false_alarm_rate - 0.005).abs() < 0.002, "{m:?}");
        }
        assert_eq!(r.outbreaks, 200);
    }

    #[test]
    fn larger_outbreaks_are_detected_more_often() {
        let input = synthetic(60, 300, 1.5, 4);
        let small = evaluate(
            &input,
            &EvalConfig {
                outbreaks: 300,
                size_multipliers: vec![1.0],
                ..EvalConfig::default()
            },
        );
        let large = evaluate(
            &input,
            &EvalConfig {
                outbreaks: 300,
                size_multipliers: vec![8.0],
                ..EvalConfig::default()
            },
        );
        assert!(
            large.ours.pod > small.ours.pod + 0.2,
            "{} vs {}",
            large.ours.pod,
            small.ours.pod
        );
        assert!(large.ears_c3.pod > small.ears_c3.pod);
    }

    #[test]
    fn the_injected_set_depends_only_on_the_seed() {
        let input = synthetic(10, 200, 1.0, 5);
        let cfg = EvalConfig::default();
        let eligible: Vec<usize> = (0..10).collect();
        assert_eq!(
            outbreaks(&input, &cfg, &eligible, 120),
            outbreaks(&input, &cfg, &eligible, 120)
        );
        let other = EvalConfig {
            seed: 2,
            ..cfg.clone()
        };
        assert_ne!(
            outbreaks(&input, &cfg, &eligible, 120),
            outbreaks(&input, &other, &eligible, 120)
        );
    }
}
