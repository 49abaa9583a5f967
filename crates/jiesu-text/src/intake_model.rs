//! 受理分类模型 — the intake models: the request type, the category and the kind of lead unit,
//! trained from a city's own labelled history, and their files (`<db>.models/`).
//!
//! The caller reads the examples (labelled tickets and the corrections people made) from its
//! store and hands them over as [`Example`]s; this module knows nothing about databases, units or
//! HTTP. The lead unit arrives already turned into its place-independent label (see
//! `jiesu_routing::unit_labels`).

use crate::model::{Classifier, TrainOptions};
use chrono::{DateTime, Utc};
use std::path::{Path, PathBuf};

/// How many recent tickets train the models.
pub const TRAIN_LIMIT: u32 = 30_000;

/// Fewer examples than this and nothing is trained.
pub const MIN_EXAMPLES: usize = 50;

/// A corrected example counts this many times in training: a person looked at the text and said
/// what it is, after the machine (or the first agent) got it wrong, so it is worth more than an
/// ordinary intake label, and the model should stop repeating the mistake.
pub const CORRECTION_WEIGHT: usize = 3;

/// Suggestions below this confidence are not shown (建议置信度下限). Chosen on the demo city:
/// models trained on `generate --months 3 --scale 0.002 --seed 5` (7,794 tickets), asked about
/// 300 held-out tickets of another city (`--seed 77`): of the 900 category suggestions (top 3),
/// 299 had ≥ 5 % and 99.0 % of those were right; of the 601 below 5 %, one (0.17 %) was right.
/// Below the floor a suggestion is noise that an agent may click.
pub const CATEGORY_FLOOR: f32 = 0.05;

/// The unit model's floor, measured the same way: of its 119 unit suggestions, those at ≥ 5 %
/// named the ticket's real lead 21.6 % of the time (51), those below 7.4 % (68), and below 3 %
/// never (0 of 48) — e.g. a utility at 3 % for a heating complaint. Rule-based suggestions (the
/// duty catalogue) have no confidence and are always kept.
pub const UNIT_FLOOR: f32 = 0.05;

/// 训练样本 — one labelled ticket, as the caller read it from its store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Example {
    pub title: String,
    pub text: String,
    /// The ticket's current category (after 改类).
    pub category_code: String,
    /// The ticket's current request type (wire name).
    pub request_type: String,
    /// A person corrected the machine (改类, or overrode the intake suggestion): weighs
    /// [`CORRECTION_WEIGHT`] times.
    pub corrected: bool,
    /// The place-independent label of the unit leading it, if dispatched (the unit model's
    /// target).
    pub unit_label: Option<String>,
}

/// The classifiers in use.
pub struct Models {
    pub category: Classifier,
    pub request_type: Classifier,
    /// Text + category → the kind of lead unit; `None` when history has too few dispatched
    /// tickets.
    pub unit: Option<Classifier>,
    /// Tickets the models were trained on.
    pub trained_on: usize,
    /// The model version (模型版本): the UTC time of training, `YYYYMMDDTHHMMSSZ`.
    pub version: String,
    /// RFC 3339 time of training.
    pub trained_at: String,
    /// Training examples that were corrections (改类 or an overridden intake suggestion).
    pub corrections: usize,
}

/// Where a database keeps its models: `<db>.models/`.
pub fn model_dir(db: &Path) -> PathBuf {
    db.with_extension("models")
}

/// The training pairs of labelled examples: `(text, label)` per example, corrections repeated
/// [`CORRECTION_WEIGHT`] times.
pub fn training_pairs(
    examples: &[Example],
    label: impl Fn(&Example) -> String,
) -> Vec<(String, String)> {
    let mut out = Vec::with_capacity(examples.len());
    for e in examples {
        let pair = (format!("{} {}", e.title, e.text), label(e));
        let times = if e.corrected { CORRECTION_WEIGHT } else { 1 };
        for _ in 1..times {
            out.push(pair.clone());
        }
        out.push(pair);
    }
    out
}

/// The unit model's input: the category code as a word, then the text.
pub fn unit_text(category_code: &str, title: &str, text: &str) -> String {
    format!("{category_code} {title} {text}")
}

/// Trains the category and type models from the examples (newest first, with their current
/// labels; corrections weighted [`CORRECTION_WEIGHT`]) and the unit model from their lead units'
/// labels; `now` is the time of training (the model version).
pub fn train(examples: &[Example], now: DateTime<Utc>) -> anyhow::Result<Models> {
    if examples.len() < MIN_EXAMPLES {
        anyhow::bail!(
            "only {} tickets in the database: at least {MIN_EXAMPLES} are needed to train",
            examples.len()
        );
    }
    let cat = training_pairs(examples, |e| e.category_code.clone());
    let typ = training_pairs(examples, |e| e.request_type.clone());
    let opts = TrainOptions::default();
    let category = Classifier::train(&cat, &opts)?;
    let request_type = Classifier::train(&typ, &opts)?;
    let units: Vec<(String, String)> = examples
        .iter()
        .filter_map(|e| {
            let label = e.unit_label.clone()?;
            Some((unit_text(&e.category_code, &e.title, &e.text), label))
        })
        .collect();
    let distinct: std::collections::HashSet<&str> = units.iter().map(|(_, l)| l.as_str()).collect();
    let unit = if units.len() >= MIN_EXAMPLES && distinct.len() >= 2 {
        Some(Classifier::train(&units, &opts)?)
    } else {
        None
    };
    Ok(Models {
        category,
        request_type,
        unit,
        trained_on: examples.len(),
        version: now.format("%Y%m%dT%H%M%SZ").to_string(),
        trained_at: now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        corrections: examples.iter().filter(|e| e.corrected).count(),
    })
}

/// Saves the models (each file carries its format version; a mismatched file is refused on load).
/// `VERSION` holds the version, the number of examples, the time of training and the number of
/// corrections, one per line.
pub fn save(m: &Models, dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    m.category.save(dir.join("category.model"))?;
    m.request_type.save(dir.join("type.model"))?;
    match &m.unit {
        Some(u) => u.save(dir.join("unit.model"))?,
        None => {
            let _ = std::fs::remove_file(dir.join("unit.model"));
        }
    }
    std::fs::write(
        dir.join("VERSION"),
        format!(
            "{}\n{}\n{}\n{}\n",
            m.version, m.trained_on, m.trained_at, m.corrections
        ),
    )?;
    Ok(())
}

/// Loads saved models, if any.
pub fn load(dir: &Path) -> anyhow::Result<Option<Models>> {
    if !dir.join("category.model").exists() {
        return Ok(None);
    }
    let meta = std::fs::read_to_string(dir.join("VERSION")).unwrap_or_default();
    let mut lines = meta.lines();
    Ok(Some(Models {
        category: Classifier::load(dir.join("category.model"))?,
        request_type: Classifier::load(dir.join("type.model"))?,
        unit: match dir.join("unit.model") {
            p if p.exists() => Some(Classifier::load(p)?),
            _ => None,
        },
        version: lines.next().unwrap_or("unknown").to_string(),
        trained_on: lines.next().and_then(|l| l.parse().ok()).unwrap_or(0),
        trained_at: lines.next().unwrap_or("").to_string(),
        corrections: lines.next().and_then(|l| l.parse().ok()).unwrap_or(0),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn ex(id: i64, cat: &str, corrected: bool) -> Example {
        Example {
            title: format!("标题{id}"),
            text: "正文".into(),
            category_code: cat.into(),
            request_type: "complaint".into(),
            corrected,
            unit_label: None,
        }
    }

    #[test]
    fn corrections_weigh_more_in_training() {
        let examples = [ex(1, "A", false), ex(2, "B", true), ex(3, "C", true)];
        let pairs = training_pairs(&examples, |e| e.category_code.clone());
        let count = |l: &str| pairs.iter().filter(|(_, x)| x == l).count();
        assert_eq!(
            (count("A"), count("B"), count("C")),
            (1, CORRECTION_WEIGHT, CORRECTION_WEIGHT)
        );
        assert!(pairs.iter().any(|(t, l)| l == "B" && t == "标题2 正文"));
    }

    #[test]
    fn too_few_examples_train_nothing() {
        let examples: Vec<Example> = (0..10).map(|i| ex(i, "A", false)).collect();
        let now = Utc.with_ymd_and_hms(2026, 3, 2, 1, 0, 0).unwrap();
        let err = train(&examples, now).err().expect("refused");
        assert!(err.to_string().contains("at least 50"), "{err}");
    }

    #[test]
    fn models_are_versioned_by_the_given_time_and_round_trip_through_their_files() {
        let words = ["噪音扰民 施工", "路灯不亮 维修", "供暖不热 温度"];
        let cats = ["A", "B", "C"];
        let examples: Vec<Example> = (0..60)
            .map(|i| Example {
                title: words[i % 3].into(),
                text: format!("{} 第{i}次", words[i % 3]),
                category_code: cats[i % 3].into(),
                request_type: if i % 2 == 0 { "complaint" } else { "help" }.into(),
                corrected: i == 0,
                unit_label: Some(if i % 3 == 0 { "street" } else { "unit:X" }.into()),
            })
            .collect();
        let now = Utc.with_ymd_and_hms(2026, 3, 2, 1, 2, 3).unwrap();
        let m = train(&examples, now).unwrap();
        assert_eq!(m.version, "20260302T010203Z");
        assert_eq!(m.trained_at, "2026-03-02T01:02:03Z");
        assert_eq!((m.trained_on, m.corrections), (60, 1));
        assert!(m.unit.is_some());
        let dir = std::env::temp_dir().join(format!("jiesu-intake-model-{}", std::process::id()));
        save(&m, &dir).unwrap();
        let back = load(&dir).unwrap().expect("saved models");
        std::fs::remove_dir_all(&dir).ok();
        assert_eq!(
            (back.version.as_str(), back.trained_on, back.corrections),
            ("20260302T010203Z", 60, 1)
        );
        assert_eq!(back.category.labels(), m.category.labels());
        assert!(back.unit.is_some());
        assert!(load(&dir).unwrap().is_none());
    }
}
