//! Model files: round trip, refusal of other format versions, damaged files.
mod common;

use jiesu_text::{Classifier, TextError, MODEL_FORMAT_VERSION};
use std::path::PathBuf;

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("jiesu-text-model-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

#[test]
fn toy_model_predicts_its_topics() {
    let m = common::toy_model();
    assert_eq!(m.labels(), ["卫生计生", "城乡建设", "教育文体"]);
    assert_eq!(m.predict_label("我们小区已经停水三天了"), "城乡建设");
    assert_eq!(m.predict_label("孩子的学校乱收费"), "教育文体");
    let top = m.predict_top_k("医院挂号太难，医生态度差", 3);
    assert_eq!(top.len(), 3);
    assert_eq!(top[0].label, "卫生计生");
    assert!(top[0].confidence > top[1].confidence);
    assert!(!top[0].drivers.is_empty());
    assert!(
        top[0]
            .drivers
            .iter()
            .any(|(w, _)| w == "医院" || w == "挂号" || w == "医生"),
        "{:?}",
        top[0].drivers
    );
}

#[test]
fn save_and_load_give_the_same_predictions() {
    let m = common::toy_model();
    let p = tmp("roundtrip.model");
    m.save(&p).unwrap();
    let l = Classifier::load(&p).unwrap();
    assert_eq!(l.labels(), m.labels());
    assert_eq!(l.info(), m.info());
    for (text, _) in common::toy_examples().iter().step_by(7) {
        assert_eq!(l.confidences(text), m.confidences(text));
        assert_eq!(l.predict_top_k(text, 2), m.predict_top_k(text, 2));
    }
}

#[test]
fn a_model_file_of_another_version_is_refused() {
    let p = tmp("version.model");
    common::toy_model().save(&p).unwrap();
    let mut bytes = std::fs::read(&p).unwrap();
    // The format version follows the 8-byte magic.
    bytes[8..12].copy_from_slice(&(MODEL_FORMAT_VERSION + 1).to_le_bytes());
    std::fs::write(&p, &bytes).unwrap();
    match Classifier::load(&p) {
        Err(
            e @ TextError::ModelVersion {
                found, expected, ..
            },
        ) => {
            assert_eq!(
                (found, expected),
                (MODEL_FORMAT_VERSION + 1, MODEL_FORMAT_VERSION)
            );
            let msg = e.to_string();
            assert!(
                msg.contains("format version") && msg.contains("retrain"),
                "{msg}"
            );
        }
        other => panic!("expected a version error, got {other:?}"),
    }
}

#[test]
fn damaged_or_foreign_files_are_refused() {
    let p = tmp("damaged.model");
    common::toy_model().save(&p).unwrap();
    let good = std::fs::read(&p).unwrap();

    let mut flipped = good.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0x55;
    std::fs::write(&p, &flipped).unwrap();
    assert!(matches!(
        Classifier::load(&p),
        Err(TextError::CorruptModel { .. })
    ));

    std::fs::write(&p, &good[..good.len() - 100]).unwrap();
    assert!(matches!(
        Classifier::load(&p),
        Err(TextError::CorruptModel { .. })
    ));

    std::fs::write(&p, b"row,tokens,label\n1,a,b\n").unwrap();
    let e = Classifier::load(&p).unwrap_err();
    assert!(matches!(e, TextError::NotAModel { .. }), "{e}");
    assert!(e.to_string().contains("not a Jiesu text model"));

    std::fs::write(&p, b"").unwrap();
    assert!(matches!(
        Classifier::load(&p),
        Err(TextError::NotAModel { .. })
    ));

    let e = Classifier::load(tmp("missing.model")).unwrap_err();
    assert!(e.to_string().contains("cannot read"), "{e}");
}

#[test]
fn training_refuses_bad_input_in_plain_words() {
    let opts = jiesu_text::TrainOptions::default();
    let e = Classifier::train(&[], &opts).unwrap_err().to_string();
    assert!(e.contains("no training examples"), "{e}");
    let one = vec![("停水".to_string(), "城乡建设".to_string()); 5];
    let e = Classifier::train(&one, &opts).unwrap_err().to_string();
    assert!(e.contains("at least two labels"), "{e}");
    let mut blank = common::toy_examples();
    blank[3].1 = "  ".into();
    let e = Classifier::train(&blank, &opts).unwrap_err().to_string();
    assert!(e.contains("example 4") && e.contains("empty label"), "{e}");
}

#[test]
fn classifier_and_analyzer_can_be_shared_between_threads() {
    fn shareable<T: Send + Sync>() {}
    shareable::<Classifier>();
    shareable::<jiesu_text::Analyzer>();
}

#[test]
fn texts_without_any_feature_still_train_and_predict() {
    let ex: Vec<(String, String)> = (0..30)
        .map(|i| {
            (
                if i % 3 == 0 { "！！" } else { "" }.to_string(),
                format!("L{}", i % 2),
            )
        })
        .collect();
    let m = Classifier::train(&ex, &Default::default()).unwrap();
    assert_eq!(m.info().n_features, 0);
    let top = m.predict_top_k("停水", 2);
    assert_eq!(top.len(), 2);
    assert!((top[0].confidence + top[1].confidence - 1.0).abs() < 1e-5);
}

#[test]
fn training_is_deterministic() {
    let a = Classifier::train(&common::toy_examples(), &Default::default()).unwrap();
    let b = Classifier::train(
        &common::toy_examples(),
        &jiesu_text::TrainOptions {
            threads: 1,
            ..Default::default()
        },
    )
    .unwrap();
    let text = "小区物业维修问题严重";
    assert_eq!(a.confidences(text), b.confidences(text));
    assert_eq!(a.info().temperature, b.info().temperature);
}

/// The file checksum (FNV-1a over 8-byte words), as the model writer computes it.
fn fnv(b: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for chunk in b.chunks(8) {
        let mut buf = [0u8; 8];
        buf[..chunk.len()].copy_from_slice(chunk);
        h ^= u64::from_le_bytes(buf);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

#[test]
fn a_format_2_file_without_lead_words_still_loads_and_predicts_alike() {
    let opts = jiesu_text::TrainOptions {
        features: jiesu_text::FeatureConfig {
            lead_words: 0,
            ..Default::default()
        },
        ..Default::default()
    };
    let m = Classifier::train(&common::toy_examples(), &opts).unwrap();
    let p = tmp("v3.model");
    m.save(&p).unwrap();
    let bytes = std::fs::read(&p).unwrap();
    // Rewrite it as a format-2 writer did: version 2, no `lead_words` in the header.
    let json_len = u64::from_le_bytes(bytes[12..20].try_into().unwrap()) as usize;
    let json = std::str::from_utf8(&bytes[20..20 + json_len]).unwrap();
    assert!(json.contains(",\"lead_words\":0"), "{json}");
    let json = json
        .replace(",\"lead_words\":0", "")
        .replace("\"format_version\":3", "\"format_version\":2");
    let mut old = Vec::new();
    old.extend_from_slice(&bytes[..8]);
    old.extend_from_slice(&2u32.to_le_bytes());
    old.extend_from_slice(&(json.len() as u64).to_le_bytes());
    old.extend_from_slice(json.as_bytes());
    old.extend_from_slice(&bytes[20 + json_len..bytes.len() - 8]);
    let sum = fnv(&old);
    old.extend_from_slice(&sum.to_le_bytes());
    let p2 = tmp("v2.model");
    std::fs::write(&p2, &old).unwrap();
    let l = Classifier::load(&p2).unwrap();
    assert_eq!(l.info().options.features.lead_words, 0);
    for (text, _) in common::toy_examples().iter().step_by(5) {
        assert_eq!(l.predict_top_k(text, 2), m.predict_top_k(text, 2));
    }
}
