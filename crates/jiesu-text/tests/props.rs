//! Property tests: prediction and analysis never panic, whatever the input.
mod common;

use jiesu_text::analyzer::normalize;
use proptest::prelude::*;

/// Strings mixing Chinese, full-width forms, emoji, other scripts, controls and whitespace.
fn messy() -> impl Strategy<Value = String> {
    let pieces = prop_oneof![
        "[\\u{4E00}-\\u{9FFF}]{0,8}",
        "[\\u{FF01}-\\u{FF5E}\\u{3000}-\\u{303F}]{0,4}",
        "[\\u{1F300}-\\u{1FAFF}\\u{200B}-\\u{200D}\\u{FE0F}]{0,3}",
        "[a-zA-Z0-9 ]{0,6}",
        "[\\u{0400}-\\u{04FF}\\u{0600}-\\u{06FF}\\u{0E00}-\\u{0E7F}]{0,4}",
        "[\\t\\n\\r \\u{0}-\\u{1F}]{0,3}",
        any::<String>(),
        Just("小区停水".to_string()),
        Just("学校收费".to_string()),
    ];
    prop::collection::vec(pieces, 0..8).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn prediction_never_panics_and_confidences_are_a_distribution(text in messy(), k in 0usize..6) {
        let m = common::toy_model();
        let top = m.predict_top_k(&text, k);
        prop_assert_eq!(top.len(), k.min(m.labels().len()));
        let sum: f32 = top.iter().map(|p| p.confidence).sum();
        prop_assert!(sum <= 1.0 + 1e-4, "sum {}", sum);
        for w in top.windows(2) {
            prop_assert!(w[0].confidence >= w[1].confidence);
        }
        for p in &top {
            prop_assert!(p.confidence.is_finite() && (0.0..=1.0 + 1e-6).contains(&p.confidence));
            prop_assert!(p.drivers.iter().all(|(w, c)| !w.is_empty() && *c > 0.0));
        }
        let all: f32 = m.confidences(&text).iter().sum();
        prop_assert!((all - 1.0).abs() < 1e-4, "all {}", all);
        prop_assert!(m.labels().iter().any(|l| l == m.predict_label(&text)));
    }

    #[test]
    fn normalisation_is_idempotent(text in messy()) {
        let once = normalize(&text);
        prop_assert_eq!(normalize(&once), once.clone());
        prop_assert!(!once.chars().any(|c| c.is_whitespace() && c != ' '));
    }
}

#[test]
fn huge_and_empty_inputs_are_graceful() {
    let m = common::toy_model();
    for text in ["", " ", "\u{0}", "😀😀😀", "！？。", "ＡＢＣ　ｄｅｆ"] {
        let top = m.predict_top_k(text, 3);
        assert_eq!(top.len(), 3);
        assert!(
            top.iter().all(|p| p.drivers.is_empty()),
            "{text:?}: {top:?}"
        );
    }
    let huge = "小区停水问题严重，".repeat(200_000); // ~5.4 MB, clipped to MAX_TEXT_BYTES
    let top = m.predict_top_k(&huge, 1);
    assert_eq!(top[0].label, "城乡建设");
    assert_eq!(m.predict_top_k("停水", 100).len(), 3);
}
