//! Command-line API wired into the `jiesu` binary: `jiesu classify eval|cv` and
//! `jiesu bench classify` (see [`crate::bench`]).

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use serde_json::json;

use crate::data::{read_labelled_csv, read_text_columns, split_columns, tipdm_raw_files};
use crate::features::FeatureConfig;
use crate::model::{cross_validate_with, Classifier, CvPlan, TrainOptions};
use crate::rawtext::{message_groups, GapModel};
use crate::svm::SplitMix64;

pub use crate::bench::{run_bench_classify, BenchClassifyArgs};

/// `println!` that ignores a closed stdout (`jiesu classify cv … | head` must not panic).
macro_rules! outln {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($t)*);
    }};
}
pub(crate) use outln;

/// `jiesu classify …`
#[derive(clap::Subcommand, Debug, Clone)]
pub enum ClassifyCmd {
    /// Train on one CSV file and evaluate on another.
    Eval(EvalArgs),
    /// Stratified k-fold cross-validation on one CSV file.
    Cv(CvArgs),
}

/// Model settings shared by the commands.
#[derive(clap::Args, Debug, Clone)]
pub struct ModelArgs {
    /// SVM cost of a margin violation.
    #[arg(long, default_value_t = TrainOptions::default().c)]
    pub c: f64,
    /// Seed of every shuffle and split.
    #[arg(long, default_value_t = TrainOptions::default().seed)]
    pub seed: u64,
    /// Longest word n-gram (0 = no word features).
    #[arg(long, default_value_t = FeatureConfig::default().word_ngram_max)]
    pub word_ngrams: u8,
    /// Character n-gram lengths, "MIN-MAX" ("0" = none).
    #[arg(long, default_value = "2-2")]
    pub char_ngrams: String,
    /// Share of the vector norm given to character n-grams (0..1).
    #[arg(long, default_value_t = FeatureConfig::default().char_weight)]
    pub char_weight: f32,
    /// The first N kept words (a message starts with its title) also count as features of
    /// their own (0 = off).
    #[arg(long, default_value_t = FeatureConfig::default().lead_words)]
    pub lead_words: u8,
    /// Drop features seen in fewer training texts.
    #[arg(long, default_value_t = FeatureConfig::default().min_df)]
    pub min_df: u32,
    /// Do not weight classes by inverse frequency.
    #[arg(long)]
    pub unbalanced: bool,
    /// Use jieba's HMM for unknown words.
    #[arg(long)]
    pub hmm: bool,
    /// Segment with jieba's whole dictionary instead of one restricted to the training texts'
    /// words (slower, same accuracy; see docs/TEXT.md).
    #[arg(long)]
    pub full_dictionary: bool,
    /// Share of the training data held out to fit the confidence temperature (0 = none).
    #[arg(long, default_value_t = TrainOptions::default().calibration_fraction)]
    pub calibration: f64,
    /// Worker threads for training (0 = all cores).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// NB-SVM smoothing α: scale features by their naive-Bayes log-count ratios (0 = off).
    #[arg(long, default_value_t = TrainOptions::default().nb_alpha)]
    pub nb_alpha: f64,
    /// Domain dictionary: a text file with one word per line.
    #[arg(long)]
    pub user_dict: Option<PathBuf>,
}

impl ModelArgs {
    /// Training options from the flags.
    pub fn options(&self) -> Result<TrainOptions> {
        let (lo, hi) = parse_range(&self.char_ngrams)?;
        let user_dict = match &self.user_dict {
            Some(p) => std::fs::read_to_string(p)
                .with_context(|| format!("cannot read the dictionary {}", p.display()))?
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .map(|l| l.split_whitespace().next().unwrap_or(l).to_owned())
                .collect(),
            None => Vec::new(),
        };
        if self.c.is_nan() || self.c <= 0.0 {
            anyhow::bail!("--c must be positive");
        }
        if !(0.0..1.0).contains(&self.calibration) {
            anyhow::bail!("--calibration must be in [0, 1)");
        }
        Ok(TrainOptions {
            features: FeatureConfig {
                word_ngram_max: self.word_ngrams.min(2),
                char_ngram_min: lo,
                char_ngram_max: hi,
                char_weight: self.char_weight.clamp(0.0, 1.0),
                min_df: self.min_df,
                lead_words: self.lead_words,
                ..FeatureConfig::default()
            },
            c: self.c,
            balanced: !self.unbalanced,
            seed: self.seed,
            calibration_fraction: self.calibration,
            user_dict,
            hmm: self.hmm,
            corpus_dictionary: !self.full_dictionary,
            threads: self.threads,
            nb_alpha: self.nb_alpha,
            ..TrainOptions::default()
        })
    }
}

fn parse_range(s: &str) -> Result<(u8, u8)> {
    let s = s.trim();
    if s == "0" || s.is_empty() {
        return Ok((0, 0));
    }
    let (a, b) = s.split_once('-').unwrap_or((s, s));
    let a: u8 = a
        .trim()
        .parse()
        .with_context(|| format!("bad n-gram range {s:?}"))?;
    let b: u8 = b
        .trim()
        .parse()
        .with_context(|| format!("bad n-gram range {s:?}"))?;
    if a == 0 || b < a || b > 8 {
        anyhow::bail!("bad n-gram range {s:?}: want MIN-MAX with 1 <= MIN <= MAX <= 8");
    }
    Ok((a, b))
}

/// `jiesu classify eval`
#[derive(clap::Args, Debug, Clone)]
pub struct EvalArgs {
    /// Training CSV file (with a header row).
    #[arg(long)]
    pub train: PathBuf,
    /// Text columns of the training file, comma-separated (joined with a space).
    #[arg(long)]
    pub train_text: String,
    /// Label column of the training file.
    #[arg(long)]
    pub train_label: String,
    /// Test CSV file.
    #[arg(long)]
    pub test: PathBuf,
    /// Text columns of the test file.
    #[arg(long)]
    pub test_text: String,
    /// Label column of the test file.
    #[arg(long)]
    pub test_label: String,
    /// Also save the trained model to this file.
    #[arg(long)]
    pub save_model: Option<PathBuf>,
    #[command(flatten)]
    pub raw: RawTestArgs,
    #[command(flatten)]
    pub model: ModelArgs,
}

/// `jiesu classify cv`
#[derive(clap::Args, Debug, Clone)]
pub struct CvArgs {
    /// CSV file (with a header row).
    #[arg(long)]
    pub data: PathBuf,
    /// Text columns, comma-separated (joined with a space).
    #[arg(long)]
    pub text: String,
    /// Label column.
    #[arg(long)]
    pub label: String,
    /// Number of folds.
    #[arg(long, default_value_t = 5)]
    pub folds: usize,
    /// Hold out by message: a message posted twice (same detail) never straddles two folds.
    #[arg(long)]
    pub by_message: bool,
    #[command(flatten)]
    pub raw: RawTestArgs,
    #[command(flatten)]
    pub model: ModelArgs,
}

/// Scoring on raw text rebuilt from a segmented file (`crate::rawtext`).
#[derive(clap::Args, Debug, Clone)]
pub struct RawTestArgs {
    /// Also score every model on the raw form of its test texts: the segmented words written
    /// together with punctuation, function words, digits and line breaks put back where raw
    /// messages have them (learnt from --raw-from). The test texts must be space-segmented.
    #[arg(long)]
    pub raw_test: bool,
    /// Raw messages to learn the gaps from, comma-separated CSV files with title and detail
    /// columns (default: the shared TipDM messages_with_votes.csv and messages_with_replies.csv).
    #[arg(long)]
    pub raw_from: Option<String>,
    /// Text columns of the --raw-from files, concatenated as typed.
    #[arg(long, default_value = "title,detail")]
    pub raw_columns: String,
    /// A word absent from the training texts counts as removed by their makers when at least
    /// this many raw messages of each --raw-from file have it.
    #[arg(long, default_value_t = 15)]
    pub raw_min_docs: usize,
}

impl RawTestArgs {
    /// The gap model, learnt from the raw files and the segmented texts `segmented`.
    pub fn gap_model(&self, segmented: &[&str]) -> Result<GapModel> {
        let files: Vec<PathBuf> = match &self.raw_from {
            Some(s) => split_columns(s).into_iter().map(PathBuf::from).collect(),
            None => tipdm_raw_files(),
        };
        let cols = columns(&self.raw_columns, "--raw-columns")?;
        let mut raw = Vec::new();
        for f in &files {
            raw.push(read_text_columns(f, &cols).with_context(|| {
                format!("--raw-test needs raw messages; cannot read {}", f.display())
            })?);
        }
        let corpora: Vec<&[String]> = raw.iter().map(Vec::as_slice).collect();
        Ok(GapModel::learn(&corpora, segmented, self.raw_min_docs))
    }

    /// Raw forms of `segmented`, one per text (seeded). `known` are the segmented texts whose
    /// words count as kept (the training file's, `segmented` included).
    pub fn reconstruct(
        &self,
        segmented: &[&str],
        known: &[&str],
        seed: u64,
    ) -> Result<(GapModel, Vec<String>)> {
        let m = self.gap_model(known)?;
        let mut rng = SplitMix64::new(seed ^ 0x5241_5754);
        let raw = segmented
            .iter()
            .map(|t| m.reconstruct(t, &mut rng))
            .collect();
        Ok((m, raw))
    }
}

fn gap_summary(m: &GapModel) -> String {
    format!(
        "raw test texts rebuilt from {} raw messages: {} words counted as removed by the training file's makers; raw text has {:.2} removed tokens and {:.2} removed characters per kept word",
        m.n_messages,
        m.removed_words(),
        m.removed_tokens as f64 / m.kept_tokens.max(1) as f64,
        m.removed_chars as f64 / m.kept_tokens.max(1) as f64,
    )
}

/// Runs a `jiesu classify` command, printing a report whose last line is one JSON object.
pub fn run_classify(cmd: ClassifyCmd) -> Result<()> {
    let (text, json) = match &cmd {
        ClassifyCmd::Eval(a) => eval_report(a)?,
        ClassifyCmd::Cv(a) => cv_report(a)?,
    };
    outln!("{}{json}", text);
    Ok(())
}

fn columns(spec: &str, flag: &str) -> Result<Vec<String>> {
    let c = split_columns(spec);
    if c.is_empty() {
        anyhow::bail!("{flag} names no column");
    }
    Ok(c)
}

/// Does the work of `classify eval`: the human-readable report and the JSON summary
/// (accuracy, macro_f1, per_class, throughput_msgs_per_s, train_seconds, …).
pub fn eval_report(a: &EvalArgs) -> Result<(String, serde_json::Value)> {
    use std::fmt::Write;
    let opts = a.model.options()?;
    let train = read_labelled_csv(
        &a.train,
        &columns(&a.train_text, "--train-text")?,
        &a.train_label,
    )?;
    let test = read_labelled_csv(
        &a.test,
        &columns(&a.test_text, "--test-text")?,
        &a.test_label,
    )?;
    let mut out = String::new();
    let test = if a.raw.raw_test {
        let segmented: Vec<&str> = test.iter().map(|(t, _)| t.as_str()).collect();
        let known: Vec<&str> = train
            .iter()
            .map(|(t, _)| t.as_str())
            .chain(segmented.iter().copied())
            .collect();
        let (m, raw) = a.raw.reconstruct(&segmented, &known, opts.seed)?;
        writeln!(
            out,
            "{} (test texts scored in their raw form)",
            gap_summary(&m)
        )?;
        raw.into_iter()
            .zip(test)
            .map(|(r, (_, l))| (r, l))
            .collect()
    } else {
        test
    };
    let clf = Classifier::train(&train, &opts).context("training failed")?;
    let info = clf.info();
    writeln!(
        out,
        "trained on {} examples, {} labels, {} features in {:.2} s (temperature {:.3}; solver passes {:?})",
        train.len(),
        clf.labels().len(),
        info.n_features,
        info.train_seconds,
        info.temperature,
        info.solver_epochs
    )?;
    if let Some(p) = &a.save_model {
        clf.save(p)?;
        writeln!(out, "model saved to {}", p.display())?;
    }
    let unknown: std::collections::BTreeSet<&str> = test
        .iter()
        .map(|(_, l)| l.as_str())
        .filter(|l| !clf.labels().iter().any(|k| k == l))
        .collect();
    if !unknown.is_empty() {
        writeln!(
            out,
            "warning: labels of the test file that the training file lacks (always wrong): {}",
            unknown.into_iter().collect::<Vec<_>>().join(", ")
        )?;
    }
    let (metrics, throughput) = clf.evaluate(&test);
    let texts: Vec<&str> = test.iter().map(|(t, _)| t.as_str()).collect();
    let throughput = if texts.len() < 2000 {
        measure_throughput(&clf, &texts, 1.0)
    } else {
        throughput
    };
    out.push_str(&metrics.table());
    writeln!(
        out,
        "throughput: {throughput:.0} messages/s (one thread, segmentation included)"
    )?;
    let json = json!({
        "accuracy": metrics.accuracy,
        "macro_f1": metrics.macro_f1,
        "per_class": metrics.per_class,
        "throughput_msgs_per_s": throughput,
        "train_seconds": info.train_seconds,
        "n_train": train.len(),
        "n_test": test.len(),
        "n_features": info.n_features,
        "temperature": info.temperature,
        "solver_epochs": info.solver_epochs,
    });
    Ok((out, json))
}

/// Messages per second of [`Classifier::predict_label`] on one thread over `texts`, repeated
/// until at least `min_seconds` have passed.
pub fn measure_throughput(clf: &Classifier, texts: &[&str], min_seconds: f64) -> f64 {
    if texts.is_empty() {
        return 0.0;
    }
    let start = Instant::now();
    let mut n = 0usize;
    let mut sink = 0usize;
    loop {
        for t in texts {
            sink = sink.wrapping_add(clf.predict_label(t).len());
        }
        n += texts.len();
        if start.elapsed().as_secs_f64() >= min_seconds {
            break;
        }
    }
    std::hint::black_box(sink);
    n as f64 / start.elapsed().as_secs_f64()
}

/// Does the work of `classify cv`: the report and the JSON summary (macro_f1 mean and per
/// fold, accuracy, train_seconds, …).
pub fn cv_report(a: &CvArgs) -> Result<(String, serde_json::Value)> {
    use std::fmt::Write;
    let opts = a.model.options()?;
    let data = read_labelled_csv(&a.data, &columns(&a.text, "--text")?, &a.label)?;
    let segmented: Vec<&str> = data.iter().map(|(t, _)| t.as_str()).collect();
    let mut out = String::new();
    let mut plan = CvPlan::default();
    if a.by_message {
        let groups = message_groups(&segmented);
        let n_groups = groups
            .iter()
            .collect::<std::collections::BTreeSet<_>>()
            .len();
        writeln!(
            out,
            "held out by message: {} texts in {n_groups} messages",
            data.len()
        )?;
        plan.groups = Some(groups);
    }
    if a.raw.raw_test {
        let (m, raw) = a.raw.reconstruct(&segmented, &segmented, opts.seed)?;
        writeln!(out, "{}", gap_summary(&m))?;
        plan.raw_test_texts = Some(raw);
    }
    let start = Instant::now();
    let r = cross_validate_with(&data, a.folds, &opts, &plan)?;
    let total = start.elapsed().as_secs_f64();
    writeln!(
        out,
        "{}-fold cross-validation on {} examples (segmentation of all texts: {:.2} s)",
        a.folds,
        data.len(),
        r.analysis_seconds
    )?;
    for (i, m) in r.folds.iter().enumerate() {
        writeln!(
            out,
            "fold {}: accuracy {:.4}  macro-F1 {:.4}  (n = {})",
            i + 1,
            m.accuracy,
            m.macro_f1,
            m.n
        )?;
    }
    writeln!(
        out,
        "mean: accuracy {:.4}  macro-F1 {:.4} ± {:.4}; training {:.2} s per fold; total {:.1} s",
        r.accuracy_mean, r.macro_f1_mean, r.macro_f1_std, r.train_seconds_mean, total
    )?;
    for (i, m) in r.raw_folds.iter().enumerate() {
        writeln!(
            out,
            "raw fold {}: accuracy {:.4}  macro-F1 {:.4}",
            i + 1,
            m.accuracy,
            m.macro_f1
        )?;
    }
    if !r.raw_folds.is_empty() {
        writeln!(
            out,
            "raw mean: accuracy {:.4}  macro-F1 {:.4} ± {:.4} (models trained on the segmented texts, scored on the raw forms of their test folds)",
            r.raw_accuracy_mean, r.raw_macro_f1_mean, r.raw_macro_f1_std
        )?;
    }
    let json = json!({
        "folds": a.folds,
        "macro_f1": r.macro_f1_mean,
        "macro_f1_std": r.macro_f1_std,
        "accuracy": r.accuracy_mean,
        "fold_macro_f1": r.folds.iter().map(|m| m.macro_f1).collect::<Vec<_>>(),
        "fold_accuracy": r.folds.iter().map(|m| m.accuracy).collect::<Vec<_>>(),
        "train_seconds": r.train_seconds_mean,
        "analysis_seconds": r.analysis_seconds,
        "n_features": r.n_features_mean,
        "total_seconds": total,
        "n": data.len(),
        "by_message": a.by_message,
        "raw_macro_f1": (!r.raw_folds.is_empty()).then_some(r.raw_macro_f1_mean),
        "raw_macro_f1_std": (!r.raw_folds.is_empty()).then_some(r.raw_macro_f1_std),
        "raw_accuracy": (!r.raw_folds.is_empty()).then_some(r.raw_accuracy_mean),
        "raw_fold_macro_f1": r.raw_folds.iter().map(|m| m.macro_f1).collect::<Vec<_>>(),
    });
    Ok((out, json))
}
