//! Interval estimates.

use serde::{Deserialize, Serialize};

/// z for a two-sided 95 % interval.
pub const Z95: f64 = 1.959_963_984_540_054;

/// A closed interval `[low, high]` within `[0, 1]`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    pub low: f64,
    pub high: f64,
}

/// The Wilson score interval of a proportion `p` observed on `n` trials (`n` may be an effective
/// sample size, not an integer). `None` when `n` is 0.
///
/// centre = (p + z²/2n) / (1 + z²/n), half-width = z/(1 + z²/n) · √(p(1−p)/n + z²/4n²).
pub fn wilson(p: f64, n: f64, z: f64) -> Option<Interval> {
    if n.is_nan() || n <= 0.0 || !p.is_finite() {
        return None;
    }
    let p = p.clamp(0.0, 1.0);
    let z2 = z * z;
    let denom = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denom;
    let half = z / denom * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    Some(Interval {
        low: (centre - half).max(0.0),
        high: (centre + half).min(1.0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilson_matches_hand_computation() {
        // p = 8/10: centre = (0.8 + 0.19207)/1.38415 = 0.71678, half = 0.24138
        let i = wilson(0.8, 10.0, Z95).unwrap();
        assert!((i.low - 0.4902).abs() < 1e-4, "{i:?}");
        assert!((i.high - 0.9433).abs() < 1e-4, "{i:?}");
        // all successes: upper bound 1, lower bound n/(n+z²)
        let i = wilson(1.0, 20.0, Z95).unwrap();
        assert!((i.high - 1.0).abs() < 1e-12);
        assert!((i.low - 20.0 / (20.0 + Z95 * Z95)).abs() < 1e-12);
        assert!(wilson(0.5, 0.0, Z95).is_none());
    }
}
