//! Metrics (accuracy, per-class precision/recall/F1, macro-F1) and stratified splits.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::svm::SplitMix64;

/// Figures of one class.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ClassMetrics {
    pub label: String,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    /// Gold examples of this class.
    pub support: usize,
    /// Examples predicted as this class.
    pub predicted: usize,
}

/// Figures of a whole evaluation.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Metrics {
    pub n: usize,
    pub accuracy: f64,
    /// Unweighted mean of the per-class F1 over classes with gold examples.
    pub macro_f1: f64,
    pub per_class: Vec<ClassMetrics>,
}

impl Metrics {
    /// Compares gold and predicted labels (same length). Classes are those seen in either list.
    pub fn from_labels<S: AsRef<str>, T: AsRef<str>>(gold: &[S], pred: &[T]) -> Metrics {
        assert_eq!(gold.len(), pred.len(), "gold and predicted lengths differ");
        let mut counts: BTreeMap<&str, (usize, usize, usize)> = BTreeMap::new(); // tp, support, predicted
        let mut correct = 0;
        for (g, p) in gold.iter().zip(pred) {
            let (g, p) = (g.as_ref(), p.as_ref());
            counts.entry(g).or_default().1 += 1;
            counts.entry(p).or_default().2 += 1;
            if g == p {
                counts.entry(g).or_default().0 += 1;
                correct += 1;
            }
        }
        let per_class: Vec<ClassMetrics> = counts
            .into_iter()
            .map(|(label, (tp, support, predicted))| {
                let precision = ratio(tp, predicted);
                let recall = ratio(tp, support);
                let f1 = if precision + recall > 0.0 {
                    2.0 * precision * recall / (precision + recall)
                } else {
                    0.0
                };
                ClassMetrics {
                    label: label.to_owned(),
                    precision,
                    recall,
                    f1,
                    support,
                    predicted,
                }
            })
            .collect();
        let with_gold: Vec<&ClassMetrics> = per_class.iter().filter(|c| c.support > 0).collect();
        let macro_f1 = if with_gold.is_empty() {
            0.0
        } else {
            with_gold.iter().map(|c| c.f1).sum::<f64>() / with_gold.len() as f64
        };
        Metrics {
            n: gold.len(),
            accuracy: ratio(correct, gold.len()),
            macro_f1,
            per_class,
        }
    }

    /// A fixed-width table, one line per class.
    pub fn table(&self) -> String {
        let width = self
            .per_class
            .iter()
            .map(|c| display_width(&c.label))
            .max()
            .unwrap_or(5)
            .max(5);
        let mut s = format!(
            "{:<width$}  {:>9}  {:>6}  {:>6}  {:>7}  {:>9}\n",
            "class", "precision", "recall", "f1", "support", "predicted"
        );
        for c in &self.per_class {
            // `{:<n$}` pads by characters; CJK characters take two terminal columns.
            let pad = width - display_width(&c.label) + c.label.chars().count();
            s.push_str(&format!(
                "{:<pad$}  {:>9.4}  {:>6.4}  {:>6.4}  {:>7}  {:>9}\n",
                c.label, c.precision, c.recall, c.f1, c.support, c.predicted
            ));
        }
        s.push_str(&format!(
            "accuracy {:.4}  macro-F1 {:.4}  (n = {})\n",
            self.accuracy, self.macro_f1, self.n
        ));
        s
    }
}

/// Terminal columns of `s`: East Asian wide characters count two.
fn display_width(s: &str) -> usize {
    s.chars()
        .map(|c| match c as u32 {
            0x1100..=0x115F
            | 0x2E80..=0xA4CF
            | 0xAC00..=0xD7A3
            | 0xF900..=0xFAFF
            | 0xFE30..=0xFE4F
            | 0xFF00..=0xFF60
            | 0xFFE0..=0xFFE6
            | 0x20000..=0x3FFFD => 2,
            _ => 1,
        })
        .sum()
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

/// Assigns each example a fold in `0..k`, keeping class proportions: the examples of each class
/// are shuffled (seeded) and dealt round-robin, continuing the deal across classes.
pub fn stratified_folds(y: &[usize], k: usize, seed: u64) -> Vec<usize> {
    let k = k.max(1);
    let mut by_class: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (i, &c) in y.iter().enumerate() {
        by_class.entry(c).or_default().push(i);
    }
    let mut rng = SplitMix64::new(seed);
    let mut fold = vec![0; y.len()];
    let mut next = 0;
    for (_, mut idx) in by_class {
        rng.shuffle(&mut idx);
        for i in idx {
            fold[i] = next % k;
            next += 1;
        }
    }
    fold
}

/// As [`stratified_folds`], but examples of the same group (the same message posted twice, see
/// [`crate::rawtext::message_groups`]) always share a fold. A group is dealt by the class of its
/// first example.
pub fn grouped_stratified_folds(y: &[usize], groups: &[usize], k: usize, seed: u64) -> Vec<usize> {
    let k = k.max(1);
    let mut first: BTreeMap<usize, usize> = BTreeMap::new();
    for (i, &g) in groups.iter().enumerate() {
        first.entry(g).or_insert(i);
    }
    let mut by_class: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (&g, &i) in &first {
        by_class.entry(y[i]).or_default().push(g);
    }
    let mut rng = SplitMix64::new(seed);
    let mut group_fold: BTreeMap<usize, usize> = BTreeMap::new();
    let mut next = 0;
    for (_, mut gs) in by_class {
        rng.shuffle(&mut gs);
        for g in gs {
            group_fold.insert(g, next % k);
            next += 1;
        }
    }
    groups
        .iter()
        .map(|g| group_fold.get(g).copied().unwrap_or(0))
        .collect()
}

/// Splits example indices into (train, test) with about `test_fraction` of every class in test
/// (at least one example of each class with two or more examples).
pub fn stratified_split(y: &[usize], test_fraction: f64, seed: u64) -> (Vec<usize>, Vec<usize>) {
    let mut by_class: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (i, &c) in y.iter().enumerate() {
        by_class.entry(c).or_default().push(i);
    }
    let mut rng = SplitMix64::new(seed);
    let (mut train, mut test) = (Vec::new(), Vec::new());
    for (_, mut idx) in by_class {
        rng.shuffle(&mut idx);
        let mut n_test = (idx.len() as f64 * test_fraction).round() as usize;
        if idx.len() >= 2 {
            n_test = n_test.clamp(1, idx.len() - 1);
        } else {
            n_test = 0;
        }
        test.extend_from_slice(&idx[..n_test]);
        train.extend_from_slice(&idx[n_test..]);
    }
    train.sort_unstable();
    test.sort_unstable();
    (train, test)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_by_hand() {
        let gold = ["a", "a", "a", "b", "b", "c"];
        let pred = ["a", "a", "b", "b", "c", "c"];
        let m = Metrics::from_labels(&gold, &pred);
        assert_eq!(m.n, 6);
        assert!((m.accuracy - 4.0 / 6.0).abs() < 1e-12);
        let a = &m.per_class[0];
        assert_eq!((a.label.as_str(), a.support, a.predicted), ("a", 3, 2));
        assert!((a.precision - 1.0).abs() < 1e-12 && (a.recall - 2.0 / 3.0).abs() < 1e-12);
        // F1: a = 0.8, b = 0.5, c = 2/3.
        assert!((m.macro_f1 - (0.8 + 0.5 + 2.0 / 3.0) / 3.0).abs() < 1e-12);
        assert!(m.table().contains("macro-F1"));
    }

    #[test]
    fn unknown_predicted_class_does_not_count_in_macro() {
        let m = Metrics::from_labels(&["a", "a"], &["a", "z"]);
        assert_eq!(m.per_class.len(), 2);
        assert!((m.macro_f1 - m.per_class[0].f1).abs() < 1e-12);
    }

    #[test]
    fn folds_are_stratified() {
        let y: Vec<usize> = (0..100).map(|i| if i < 80 { 0 } else { 1 }).collect();
        let f = stratified_folds(&y, 5, 1);
        for k in 0..5 {
            let n0 = (0..100).filter(|&i| f[i] == k && y[i] == 0).count();
            let n1 = (0..100).filter(|&i| f[i] == k && y[i] == 1).count();
            assert_eq!((n0, n1), (16, 4));
        }
        let groups: Vec<usize> = (0..100).map(|i| i / 2).collect();
        let g = grouped_stratified_folds(&y, &groups, 5, 1);
        assert!((0..100).step_by(2).all(|i| g[i] == g[i + 1]));
        let (tr, te) = stratified_split(&y, 0.25, 1);
        assert_eq!(te.len(), 25);
        assert_eq!(tr.len() + te.len(), 100);
    }
}
