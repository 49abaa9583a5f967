//! Duplicate detection measured on a labelled sample of the demo city's kind of text (see
//! `jiesu_kb::dup::labelled_sample`). The thresholds were chosen on seed 1; this test reports
//! and asserts on seed 2 (held out) and seed 3.

use jiesu_kb::dup::{evaluate, labelled_sample, DupConfig, DupModel};

#[test]
fn precision_and_recall_on_held_out_samples() {
    let model = DupModel::shipped();
    let cfg = DupConfig::default();
    for seed in [2u64, 3] {
        let sample = labelled_sample(seed, 400);
        assert!(sample.len() > 600, "sample too small: {}", sample.len());
        let (find, clusters) = evaluate(model, &sample, &cfg);
        println!(
            "seed {seed}: {} tickets, {} true pairs | find_duplicates P {:.3} R {:.3} F1 {:.3} | cluster P {:.3} R {:.3} F1 {:.3}",
            sample.len(),
            find.true_pairs,
            find.precision,
            find.recall,
            find.f1(),
            clusters.precision,
            clusters.recall,
            clusters.f1()
        );
        assert!(
            find.precision >= 0.90,
            "find precision {:.3}",
            find.precision
        );
        assert!(find.recall >= 0.90, "find recall {:.3}", find.recall);
        assert!(
            clusters.precision >= 0.90,
            "cluster precision {:.3}",
            clusters.precision
        );
        assert!(
            clusters.recall >= 0.90,
            "cluster recall {:.3}",
            clusters.recall
        );
    }
}

#[test]
fn sample_is_deterministic_and_has_near_misses() {
    let a = labelled_sample(5, 50);
    let b = labelled_sample(5, 50);
    assert_eq!(a.len(), b.len());
    assert!(a
        .iter()
        .zip(&b)
        .all(|(x, y)| x.ticket == y.ticket && x.incident == y.incident));
    // Some incidents share a street but not a community (near misses).
    let mut near = 0;
    for i in 0..a.len() {
        for j in 0..i {
            let (x, y) = (&a[i].ticket, &a[j].ticket);
            if a[i].incident != a[j].incident && x.street_code == y.street_code {
                near += 1;
            }
        }
    }
    assert!(near > 10, "too few near misses: {near}");
}
