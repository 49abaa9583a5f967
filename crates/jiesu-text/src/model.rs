//! The classifier: analysis → features → TF-IDF → one-vs-rest linear SVM → temperature-scaled
//! softmax, with the features that drove each suggestion.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::analyzer::{parse_stopwords, Analysis, Analyzer, DEFAULT_STOPWORDS};
use crate::error::{Result, TextError};
use crate::eval::{grouped_stratified_folds, stratified_folds, stratified_split, Metrics};
use crate::features::{
    count_features, for_each_feature, FeatureConfig, FeatureRef, SparseVec, Vocabulary,
};
use crate::svm::{train_ovr, LinearModel, SvmParams};
use crate::table::{FeatureCounter, ScoringTable};

/// Texts longer than this many bytes are cut (at a character boundary) before analysis. No
/// citizen message comes near it; it bounds time and memory on hostile input.
pub const MAX_TEXT_BYTES: usize = 64 * 1024;

/// Version of the model file layout. Bump on any change of the layout or of what a stored field
/// means (features, hashing, weighting); older files are then refused unless they are at least
/// [`OLDEST_READABLE_FORMAT`]. Version 2 added the restricted segmentation dictionary; a
/// version-1 file (no dictionary) still loads and segments with jieba's default dictionary.
/// Version 3 added lead-word features ([`FeatureConfig::lead_words`]): a build that reads only
/// version 2 would ignore them and mispredict, so it must refuse the file; version 1 and 2 files
/// load as before (no lead words).
pub const MODEL_FORMAT_VERSION: u32 = 3;

/// The oldest model file layout this build still reads.
pub const OLDEST_READABLE_FORMAT: u32 = 1;

const MAGIC: &[u8; 8] = b"JSTXTMDL";

/// How to train.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainOptions {
    pub features: FeatureConfig,
    /// SVM cost of a margin violation.
    pub c: f64,
    /// Weight each class's violations by n / (k · n_class) so small classes count as much.
    pub balanced: bool,
    /// Seed of every shuffle and split: same data + same seed = same model.
    pub seed: u64,
    /// Solver stops when the projected-gradient spread is below this.
    pub tolerance: f64,
    /// Upper bound on solver passes.
    pub max_epochs: u32,
    /// Share of the training data held out to fit the confidence temperature (0 disables
    /// calibration: temperature 1). The final model is trained on all of the data.
    pub calibration_fraction: f64,
    /// Domain words for the segmenter (used by [`Classifier::train`]).
    pub user_dict: Vec<String>,
    /// Whether jieba's HMM guesses unknown words.
    pub hmm: bool,
    /// Segment with a dictionary cut down to the words the training texts use
    /// ([`Analyzer::restricted_to`]): same accuracy, about 1.3× faster prediction.
    #[serde(default)]
    pub corpus_dictionary: bool,
    /// Worker threads (0 = all cores). Results do not depend on it.
    pub threads: usize,
    /// NB-SVM smoothing α (0 = plain SVM); see [`crate::svm::SvmParams::nb_alpha`]. Default 1
    /// (Laplace): +0.004 CV macro-F1 on the labelled messages, better in 4 of 5 folds, and
    /// +0.005–0.009 on raw-like held-out text, at no cost in prediction (docs/TEXT.md). Model
    /// files written before it have no such field and load as 0, matching their weights.
    #[serde(default)]
    pub nb_alpha: f64,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            features: FeatureConfig::default(),
            c: 1.0,
            balanced: true,
            seed: 12345,
            tolerance: 0.05,
            max_epochs: 1000,
            calibration_fraction: 0.2,
            user_dict: Vec::new(),
            hmm: false,
            corpus_dictionary: true,
            threads: 0,
            nb_alpha: 1.0,
        }
    }
}

impl TrainOptions {
    fn thread_count(&self) -> usize {
        if self.threads > 0 {
            self.threads
        } else {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        }
    }
}

/// One suggestion.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Prediction {
    pub label: String,
    /// Calibrated probability-like confidence; the confidences of all labels sum to 1.
    pub confidence: f32,
    /// The words that pushed most towards this label, with their net contribution to its score
    /// (word features plus the character n-grams inside them), largest first.
    pub drivers: Vec<(String, f32)>,
}

/// Facts about a trained model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelInfo {
    pub n_train: usize,
    pub n_features: usize,
    pub temperature: f32,
    pub train_seconds: f64,
    /// Solver passes per label (`options.max_epochs` means it stopped before converging).
    pub solver_epochs: Vec<u32>,
    /// Crate version that trained the model.
    pub trained_by: String,
    pub options: TrainOptions,
}

/// A trained text classifier.
pub struct Classifier {
    analyzer: Arc<Analyzer>,
    labels: Vec<String>,
    vocab: Vocabulary,
    model: LinearModel,
    table: ScoringTable,
    info: ModelInfo,
}

impl std::fmt::Debug for Classifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Classifier")
            .field("labels", &self.labels)
            .field("info", &self.info)
            .finish()
    }
}

/// Scratch buffers for prediction, reused per thread.
#[derive(Default)]
struct Scratch {
    analysis: Analysis,
    chars: Vec<char>,
    counter: FeatureCounter,
    partial: Vec<f32>,
    cols: Vec<(u32, u32)>,
    scores: Vec<f32>,
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::new(Scratch::default());
}

/// Cuts `text` to at most [`MAX_TEXT_BYTES`] at a character boundary.
pub fn clip_text(text: &str) -> &str {
    if text.len() <= MAX_TEXT_BYTES {
        return text;
    }
    let mut end = MAX_TEXT_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Training texts analysed once, shareable between folds.
pub(crate) struct Prepared {
    pub docs: Vec<Vec<(u64, u8, u32)>>,
    pub y: Vec<usize>,
    pub labels: Vec<String>,
}

pub(crate) fn prepare(
    analyzer: &Analyzer,
    examples: &[(String, String)],
    opts: &TrainOptions,
) -> Result<Prepared> {
    if examples.is_empty() {
        return Err(TextError::Training("no training examples".into()));
    }
    if let Some(i) = examples.iter().position(|(_, l)| l.trim().is_empty()) {
        return Err(TextError::Training(format!(
            "example {} has an empty label",
            i + 1
        )));
    }
    let mut labels: Vec<String> = examples.iter().map(|(_, l)| l.trim().to_owned()).collect();
    labels.sort();
    labels.dedup();
    if labels.len() < 2 {
        return Err(TextError::Training(format!(
            "need examples of at least two labels, got only {:?}",
            labels.first().map(String::as_str).unwrap_or("")
        )));
    }
    let index: HashMap<&str, usize> = labels
        .iter()
        .enumerate()
        .map(|(i, l)| (l.as_str(), i))
        .collect();
    let y: Vec<usize> = examples.iter().map(|(_, l)| index[l.trim()]).collect();
    let texts: Vec<&str> = examples.iter().map(|(t, _)| t.as_str()).collect();
    let docs = count_all(analyzer, &opts.features, &texts, opts.thread_count());
    Ok(Prepared { docs, y, labels })
}

/// Analyses and counts the features of many texts on `threads` threads (order kept).
pub(crate) fn count_all(
    analyzer: &Analyzer,
    cfg: &FeatureConfig,
    texts: &[&str],
    threads: usize,
) -> Vec<Vec<(u64, u8, u32)>> {
    let chunk = texts.len().div_ceil(threads.max(1)).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> = texts
            .chunks(chunk)
            .map(|part| {
                s.spawn(move || {
                    let mut a = Analysis::default();
                    let mut chars = Vec::new();
                    part.iter()
                        .map(|t| {
                            analyzer.analyze_into(clip_text(t), &mut a);
                            count_features(cfg, &a, &mut chars)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("analysis thread panicked"))
            .collect()
    })
}

fn svm_params(opts: &TrainOptions, y: &[usize], n_classes: usize) -> SvmParams {
    let class_weight = if opts.balanced {
        let mut n = vec![0usize; n_classes];
        for &c in y {
            n[c] += 1;
        }
        n.iter()
            .map(|&nc| {
                if nc == 0 {
                    1.0
                } else {
                    y.len() as f64 / (n_classes as f64 * nc as f64)
                }
            })
            .collect()
    } else {
        Vec::new()
    };
    SvmParams {
        c: opts.c,
        class_weight,
        bias: 1.0,
        tolerance: opts.tolerance,
        max_epochs: opts.max_epochs,
        seed: opts.seed,
        threads: opts.thread_count(),
        nb_alpha: opts.nb_alpha,
    }
}

/// Fits vocabulary and weights on the documents `subset` of `p`.
fn fit_subset(p: &Prepared, subset: &[usize], opts: &TrainOptions) -> (Vocabulary, LinearModel) {
    let cfg = &opts.features;
    let vocab = Vocabulary::fit(cfg, subset.iter().map(|&i| p.docs[i].as_slice()));
    let rows: Vec<SparseVec> = subset
        .iter()
        .map(|&i| vocab.vectorize(cfg, &p.docs[i]))
        .collect();
    let y: Vec<usize> = subset.iter().map(|&i| p.y[i]).collect();
    let params = svm_params(opts, &y, p.labels.len());
    let model = train_ovr(&rows, &y, p.labels.len(), vocab.len(), &params);
    (vocab, model)
}

/// Softmax of `scores / t` in place.
fn softmax(scores: &mut [f32], t: f32) {
    let max = scores.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0f32;
    for s in scores.iter_mut() {
        *s = ((*s - max) / t).exp();
        sum += *s;
    }
    for s in scores.iter_mut() {
        *s /= sum;
    }
}

/// Temperature minimising the negative log-likelihood of the held-out gold labels.
/// NLL is convex in 1/t, so a golden-section search over log t finds the optimum.
fn fit_temperature(scores: &[Vec<f32>], gold: &[usize]) -> f32 {
    if scores.is_empty() {
        return 1.0;
    }
    let nll = |log_t: f64| -> f64 {
        let t = log_t.exp();
        let mut total = 0.0;
        for (s, &g) in scores.iter().zip(gold) {
            let max = s.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
            let lse: f64 = s
                .iter()
                .map(|&v| ((v as f64 - max) / t).exp())
                .sum::<f64>()
                .ln();
            total += lse - (s[g] as f64 - max) / t;
        }
        total / scores.len() as f64
    };
    let (mut a, mut b) = ((1e-3f64).ln(), (1e2f64).ln());
    let r = (5f64.sqrt() - 1.0) / 2.0;
    let mut c = b - r * (b - a);
    let mut d = a + r * (b - a);
    let (mut fc, mut fd) = (nll(c), nll(d));
    for _ in 0..60 {
        if fc < fd {
            b = d;
            d = c;
            fd = fc;
            c = b - r * (b - a);
            fc = nll(c);
        } else {
            a = c;
            c = d;
            fc = fd;
            d = a + r * (b - a);
            fd = nll(d);
        }
    }
    (((a + b) / 2.0).exp()) as f32
}

impl Classifier {
    /// Trains on `(text, label)` pairs. Text may be raw or space-segmented.
    pub fn train(examples: &[(String, String)], opts: &TrainOptions) -> Result<Classifier> {
        let analyzer = Arc::new(Analyzer::from_parts(
            parse_stopwords(DEFAULT_STOPWORDS),
            opts.user_dict.clone(),
            opts.hmm,
        ));
        Self::train_with_analyzer(analyzer, examples, opts)
    }

    /// Trains with an existing analyser (shared with search and duplicates); `opts.user_dict`
    /// and `opts.hmm` are then ignored in favour of the analyser's own. With
    /// `opts.corpus_dictionary` the model segments with a copy of it restricted to the training
    /// texts' words.
    pub fn train_with_analyzer(
        analyzer: Arc<Analyzer>,
        examples: &[(String, String)],
        opts: &TrainOptions,
    ) -> Result<Classifier> {
        let start = Instant::now();
        let analyzer = if opts.corpus_dictionary && !examples.is_empty() {
            let texts: Vec<&str> = examples.iter().map(|(t, _)| t.as_str()).collect();
            Arc::new(analyzer.restricted_to(&texts, opts.thread_count()))
        } else {
            analyzer
        };
        let p = prepare(&analyzer, examples, opts)?;
        let mut c = Self::train_prepared(analyzer, &p, &(0..p.y.len()).collect::<Vec<_>>(), opts);
        c.info.train_seconds = start.elapsed().as_secs_f64();
        Ok(c)
    }

    /// Trains on the documents `subset` of prepared data, calibrating on a held-out part.
    pub(crate) fn train_prepared(
        analyzer: Arc<Analyzer>,
        p: &Prepared,
        subset: &[usize],
        opts: &TrainOptions,
    ) -> Classifier {
        let start = Instant::now();
        let n_classes = p.labels.len();
        let mut temperature = 1.0f32;
        if opts.calibration_fraction > 0.0 && subset.len() >= 20 {
            let sub_y: Vec<usize> = subset.iter().map(|&i| p.y[i]).collect();
            let (fit_i, held_i) =
                stratified_split(&sub_y, opts.calibration_fraction, opts.seed ^ 0xCA11);
            if !held_i.is_empty() {
                let fit: Vec<usize> = fit_i.iter().map(|&j| subset[j]).collect();
                let held: Vec<usize> = held_i.iter().map(|&j| subset[j]).collect();
                let (vocab, model) = fit_subset(p, &fit, opts);
                let mut scores = Vec::with_capacity(held.len());
                for &i in &held {
                    let x = vocab.vectorize(&opts.features, &p.docs[i]);
                    let mut s = vec![0f32; n_classes];
                    model.scores_into(&x, &mut s);
                    scores.push(s);
                }
                let gold: Vec<usize> = held.iter().map(|&i| p.y[i]).collect();
                temperature = fit_temperature(&scores, &gold);
            }
        }
        let (vocab, model) = fit_subset(p, subset, opts);
        let table = ScoringTable::build(&vocab, &model);
        let info = ModelInfo {
            n_train: subset.len(),
            n_features: vocab.len(),
            temperature,
            train_seconds: start.elapsed().as_secs_f64(),
            solver_epochs: model.epochs.clone(),
            trained_by: concat!("jiesu-text ", env!("CARGO_PKG_VERSION")).to_owned(),
            options: opts.clone(),
        };
        Classifier {
            analyzer,
            labels: p.labels.clone(),
            vocab,
            model,
            table,
            info,
        }
    }

    /// The labels the model knows, sorted.
    pub fn labels(&self) -> &[String] {
        &self.labels
    }

    /// Facts about the model (size, temperature, options, training time).
    pub fn info(&self) -> &ModelInfo {
        &self.info
    }

    /// The analyser the model segments with (reuse it for search and duplicates).
    pub fn analyzer(&self) -> &Arc<Analyzer> {
        &self.analyzer
    }

    /// Raw scores of every label (one per entry of [`Classifier::labels`]) in `out`; returns the
    /// index of the best. Uses the per-thread scratch buffers.
    fn score(&self, text: &str, out: &mut Vec<f32>) -> usize {
        SCRATCH.with(|s| {
            let mut s = s.borrow_mut();
            let Scratch {
                analysis,
                chars,
                counter,
                partial,
                cols,
                ..
            } = &mut *s;
            self.analyzer.analyze_into(clip_text(text), analysis);
            let cfg = &self.info.options.features;
            counter.reset(analysis.normalized().len());
            for_each_feature(cfg, analysis, chars, |k, _| counter.add(k));
            self.table.score(cfg, counter, partial, cols, out);
        });
        argmax(out)
    }

    /// The most likely label, without confidences or drivers (the fast path).
    pub fn predict_label(&self, text: &str) -> &str {
        let best = SCRATCH.with(|s| {
            let mut scores = std::mem::take(&mut s.borrow_mut().scores);
            let best = self.score(text, &mut scores);
            s.borrow_mut().scores = scores;
            best
        });
        &self.labels[best]
    }

    /// Calibrated confidences of every label (same order as [`Classifier::labels`]).
    pub fn confidences(&self, text: &str) -> Vec<f32> {
        let mut scores = Vec::new();
        self.score(text, &mut scores);
        softmax(&mut scores, self.info.temperature);
        scores
    }

    /// The `k` most likely labels, best first, each with its confidence and up to five drivers.
    pub fn predict_top_k(&self, text: &str, k: usize) -> Vec<Prediction> {
        self.predict_top_k_with(text, k, 5)
    }

    /// As [`Classifier::predict_top_k`] with `n_drivers` drivers per label.
    pub fn predict_top_k_with(&self, text: &str, k: usize, n_drivers: usize) -> Vec<Prediction> {
        let k = k.min(self.labels.len());
        if k == 0 {
            return Vec::new();
        }
        let cfg = &self.info.options.features;
        let mut analysis = Analysis::default();
        self.analyzer.analyze_into(clip_text(text), &mut analysis);
        // Distinct known features: column, count and where each first occurs (to name it).
        let mut chars = Vec::new();
        let mut seen: HashMap<usize, (u32, FeatureRef)> = HashMap::new();
        for_each_feature(cfg, &analysis, &mut chars, |key, r| {
            if let Some(col) = self.table.column(key) {
                seen.entry(col).or_insert((0, r)).0 += 1;
            }
        });
        let mut sq = [0f64; 2];
        let mut x: Vec<(usize, usize, f32)> = Vec::with_capacity(seen.len()); // col, block, value
        for (&col, &(count, _)) in &seen {
            let (idf, b) = self.table.idf(col);
            let v = crate::table::tf(cfg, count) * idf;
            sq[b] += (v as f64) * (v as f64);
            x.push((col, b, v));
        }
        let scale = crate::features::block_scales(cfg, sq);
        for e in &mut x {
            e.2 *= scale[e.1];
        }
        x.sort_unstable_by_key(|e| e.0);
        let n_classes = self.labels.len();
        let mut scores = self.model.bias.clone();
        for &(col, _, v) in &x {
            for (s, w) in scores.iter_mut().zip(self.table.weights(col)) {
                *s += w * v;
            }
        }
        let mut conf = scores.clone();
        softmax(&mut conf, self.info.temperature);
        // Character offset where each kept word starts in the joined text.
        let mut starts: Vec<u32> = Vec::with_capacity(analysis.len() + 1);
        let mut offset = 0u32;
        for w in analysis.tokens() {
            starts.push(offset);
            offset += w.chars().count() as u32;
        }
        let token_of = |pos: u32| starts.partition_point(|&s| s <= pos).saturating_sub(1);
        let mut order: Vec<usize> = (0..n_classes).collect();
        order.sort_by(|&a, &b| conf[b].total_cmp(&conf[a]).then(a.cmp(&b)));
        order
            .into_iter()
            .take(k)
            .map(|c| {
                // Each feature's contribution goes to the word(s) it comes from (a character
                // n-gram across a word boundary is shared), so drivers read as words.
                let mut by_word: HashMap<&str, f32> = HashMap::new();
                for &(col, _, v) in &x {
                    let contrib = self.table.weights(col)[c] * v;
                    let (a, b) = match seen[&col].1 {
                        FeatureRef::Word(i) => (i as usize, i as usize),
                        FeatureRef::WordPair(i) => (i as usize, i as usize + 1),
                        FeatureRef::Chars { start, len } => {
                            (token_of(start), token_of(start + len as u32 - 1))
                        }
                    };
                    let share = contrib / (b - a + 1) as f32;
                    for t in a..=b {
                        *by_word.entry(analysis.token(t)).or_default() += share;
                    }
                }
                let mut drivers: Vec<(String, f32)> = by_word
                    .into_iter()
                    .filter(|&(_, v)| v > 0.0)
                    .map(|(w, v)| (w.to_owned(), v))
                    .collect();
                drivers.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
                drivers.truncate(n_drivers);
                Prediction {
                    label: self.labels[c].clone(),
                    confidence: conf[c],
                    drivers,
                }
            })
            .collect()
    }

    /// Best label of each text, on `threads` threads (0 = all cores).
    pub fn predict_labels<S: AsRef<str> + Sync>(&self, texts: &[S], threads: usize) -> Vec<String> {
        let threads = if threads == 0 {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        } else {
            threads
        };
        if threads <= 1 || texts.len() < 64 {
            return texts
                .iter()
                .map(|t| self.predict_label(t.as_ref()).to_owned())
                .collect();
        }
        let chunk = texts.len().div_ceil(threads);
        std::thread::scope(|s| {
            let hs: Vec<_> = texts
                .chunks(chunk)
                .map(|part| {
                    s.spawn(move || {
                        part.iter()
                            .map(|t| self.predict_label(t.as_ref()).to_owned())
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            hs.into_iter()
                .flat_map(|h| h.join().expect("prediction thread panicked"))
                .collect()
        })
    }

    // ---- files ------------------------------------------------------------------------------

    /// Writes the model to `path` (atomically: a temporary file is renamed over it).
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let bytes = self.to_bytes();
        let tmp = path.with_extension("tmp-write");
        let io = |action, source| TextError::Io {
            action,
            path: path.to_owned(),
            source,
        };
        let mut f = std::fs::File::create(&tmp).map_err(|e| io("create", e))?;
        f.write_all(&bytes).map_err(|e| io("write", e))?;
        f.sync_all().map_err(|e| io("write", e))?;
        drop(f);
        std::fs::rename(&tmp, path).map_err(|e| io("replace", e))
    }

    /// Reads a model written by [`Classifier::save`]. A file of another format version is refused
    /// with [`TextError::ModelVersion`].
    pub fn load(path: impl AsRef<Path>) -> Result<Classifier> {
        let path = path.as_ref();
        let mut bytes = Vec::new();
        std::fs::File::open(path)
            .and_then(|mut f| f.read_to_end(&mut bytes))
            .map_err(|source| TextError::Io {
                action: "read",
                path: path.to_owned(),
                source,
            })?;
        Self::from_bytes(&bytes, path)
    }

    fn to_bytes(&self) -> Vec<u8> {
        let header = FileHeader {
            format_version: MODEL_FORMAT_VERSION,
            labels: self.labels.clone(),
            info: self.info.clone(),
            stopwords: self.analyzer.stopwords().to_vec(),
            user_words: self.analyzer.user_words().to_vec(),
            hmm: self.analyzer.hmm(),
            n_features: self.vocab.len(),
            dictionary: self.analyzer.dictionary().map(<[_]>::to_vec),
        };
        let json = serde_json::to_vec(&header).expect("model header serialises");
        let n = self.vocab.len();
        let k = self.labels.len();
        let mut out = Vec::with_capacity(32 + json.len() + n * (8 + 4 + 1 + 4 * k));
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&MODEL_FORMAT_VERSION.to_le_bytes());
        out.extend_from_slice(&(json.len() as u64).to_le_bytes());
        out.extend_from_slice(&json);
        for &key in &self.vocab.keys {
            out.extend_from_slice(&key.to_le_bytes());
        }
        for &v in &self.vocab.idf {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend_from_slice(&self.vocab.block);
        for &v in self.model.weights.iter().chain(&self.model.bias) {
            out.extend_from_slice(&v.to_le_bytes());
        }
        let sum = checksum(&out);
        out.extend_from_slice(&sum.to_le_bytes());
        out
    }

    fn from_bytes(bytes: &[u8], path: &Path) -> Result<Classifier> {
        let corrupt = |reason: &str| TextError::CorruptModel {
            path: path.to_owned(),
            reason: reason.to_owned(),
        };
        if bytes.len() < 12 || &bytes[..8] != MAGIC {
            return Err(TextError::NotAModel {
                path: path.to_owned(),
            });
        }
        let version = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
        if !(OLDEST_READABLE_FORMAT..=MODEL_FORMAT_VERSION).contains(&version) {
            return Err(TextError::ModelVersion {
                path: path.to_owned(),
                found: version,
                expected: MODEL_FORMAT_VERSION,
            });
        }
        if bytes.len() < 28 {
            return Err(corrupt("the file is truncated"));
        }
        let (body, tail) = bytes.split_at(bytes.len() - 8);
        if checksum(body).to_le_bytes() != tail {
            return Err(corrupt("checksum mismatch (truncated or modified file)"));
        }
        let json_len = u64::from_le_bytes(body[12..20].try_into().expect("8 bytes")) as usize;
        let json = body
            .get(20..20usize.saturating_add(json_len))
            .ok_or_else(|| corrupt("header length out of range"))?;
        let header: FileHeader = serde_json::from_slice(json)
            .map_err(|e| corrupt(&format!("unreadable header: {e}")))?;
        if header.format_version != version {
            return Err(TextError::ModelVersion {
                path: path.to_owned(),
                found: header.format_version,
                expected: MODEL_FORMAT_VERSION,
            });
        }
        let n = header.n_features;
        let k = header.labels.len();
        if k < 2 {
            return Err(corrupt("fewer than two labels"));
        }
        let mut rest = &body[20 + json_len..];
        let expected = n
            .checked_mul(8 + 4 + 1 + 4 * k)
            .and_then(|v| v.checked_add(4 * k))
            .ok_or_else(|| corrupt("sizes out of range"))?;
        if rest.len() != expected {
            return Err(corrupt("data size does not match the header"));
        }
        let mut take = |len: usize| {
            let (a, b) = rest.split_at(len);
            rest = b;
            a
        };
        let keys: Vec<u64> = take(8 * n)
            .chunks_exact(8)
            .map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes")))
            .collect();
        let idf = f32s(take(4 * n));
        let block = take(n).to_vec();
        if block.iter().any(|&b| b > 1) {
            return Err(corrupt("bad feature block"));
        }
        let weights = f32s(take(4 * n * k));
        let bias = f32s(take(4 * k));
        let analyzer = Arc::new(match header.dictionary {
            Some(entries) => {
                Analyzer::with_dictionary(header.stopwords, header.user_words, header.hmm, entries)
            }
            None => Analyzer::from_parts(header.stopwords, header.user_words, header.hmm),
        });
        let vocab = Vocabulary::from_parts(keys, idf, block);
        let model = LinearModel {
            n_classes: k,
            weights,
            bias,
            epochs: header.info.solver_epochs.clone(),
        };
        let table = ScoringTable::build(&vocab, &model);
        Ok(Classifier {
            analyzer,
            labels: header.labels,
            vocab,
            model,
            table,
            info: header.info,
        })
    }

    /// Evaluates on `(text, label)` pairs: metrics and prediction throughput (messages/s on one
    /// thread, segmentation included).
    pub fn evaluate(&self, examples: &[(String, String)]) -> (Metrics, f64) {
        let start = Instant::now();
        let pred: Vec<&str> = examples
            .iter()
            .map(|(t, _)| self.predict_label(t))
            .collect();
        let secs = start.elapsed().as_secs_f64().max(1e-9);
        let gold: Vec<&str> = examples.iter().map(|(_, l)| l.trim()).collect();
        (
            Metrics::from_labels(&gold, &pred),
            examples.len() as f64 / secs,
        )
    }
}

/// Results of a k-fold cross-validation.
#[derive(Debug, Clone, Serialize)]
pub struct CvReport {
    pub folds: Vec<Metrics>,
    pub macro_f1_mean: f64,
    pub macro_f1_std: f64,
    pub accuracy_mean: f64,
    /// Mean seconds to train one fold's model (calibration included, analysis excluded).
    pub train_seconds_mean: f64,
    /// Seconds to segment and count features of the whole file once.
    pub analysis_seconds: f64,
    /// Mean number of feature columns of the fold models.
    pub n_features_mean: f64,
    /// With [`CvPlan::raw_test_texts`]: each fold's model scored, through the whole prediction
    /// path ([`Classifier::predict_labels`]), on the raw form of its test fold (empty otherwise).
    pub raw_folds: Vec<Metrics>,
    pub raw_macro_f1_mean: f64,
    pub raw_macro_f1_std: f64,
    pub raw_accuracy_mean: f64,
}

/// How [`cross_validate_with`] splits and what else it tests on.
#[derive(Debug, Clone, Default)]
pub struct CvPlan {
    /// A group id per example ([`crate::rawtext::message_groups`]): a group never straddles two
    /// folds, so a message posted twice is held out as one message.
    pub groups: Option<Vec<usize>>,
    /// A raw form of every example's text (原始留言, e.g. [`crate::rawtext::GapModel::reconstruct`]):
    /// the models, trained on the examples' own texts, are also scored on these.
    pub raw_test_texts: Option<Vec<String>>,
}

/// Stratified k-fold cross-validation: every fold's model is trained (and calibrated) on the
/// other folds only. Texts are analysed once and shared by the folds, except with
/// `opts.corpus_dictionary`: then each fold builds its dictionary from its own training texts
/// and analyses the texts again with it (no word of a test fold leaks into its dictionary).
pub fn cross_validate(
    examples: &[(String, String)],
    k: usize,
    opts: &TrainOptions,
) -> Result<CvReport> {
    cross_validate_with(examples, k, opts, &CvPlan::default())
}

/// [`cross_validate`], holding out by message group and scoring raw forms as `plan` says.
pub fn cross_validate_with(
    examples: &[(String, String)],
    k: usize,
    opts: &TrainOptions,
    plan: &CvPlan,
) -> Result<CvReport> {
    for (what, n) in [
        ("groups", plan.groups.as_ref().map(Vec::len)),
        ("raw test texts", plan.raw_test_texts.as_ref().map(Vec::len)),
    ] {
        if let Some(n) = n.filter(|&n| n != examples.len()) {
            return Err(TextError::Training(format!(
                "{n} {what} for {} examples",
                examples.len()
            )));
        }
    }
    if k < 2 {
        return Err(TextError::Training(
            "cross-validation needs at least 2 folds".into(),
        ));
    }
    let analyzer = Arc::new(Analyzer::from_parts(
        parse_stopwords(DEFAULT_STOPWORDS),
        opts.user_dict.clone(),
        opts.hmm,
    ));
    let t0 = Instant::now();
    let p = prepare(&analyzer, examples, opts)?;
    let analysis_seconds = t0.elapsed().as_secs_f64();
    if p.y.len() < k {
        return Err(TextError::Training(format!(
            "{} examples are too few for {k} folds",
            p.y.len()
        )));
    }
    let fold = match &plan.groups {
        Some(g) => grouped_stratified_folds(&p.y, g, k, opts.seed),
        None => stratified_folds(&p.y, k, opts.seed),
    };
    let mut folds = Vec::new();
    let mut raw_folds = Vec::new();
    let mut train_secs = 0.0;
    let mut n_features = 0usize;
    for f in 0..k {
        let train: Vec<usize> = (0..p.y.len()).filter(|&i| fold[i] != f).collect();
        let test: Vec<usize> = (0..p.y.len()).filter(|&i| fold[i] == f).collect();
        let fold_data;
        let (analyzer, p) = if opts.corpus_dictionary {
            let texts: Vec<&str> = train.iter().map(|&i| examples[i].0.as_str()).collect();
            let a = Arc::new(analyzer.restricted_to(&texts, opts.thread_count()));
            fold_data = prepare(&a, examples, opts)?;
            (a, &fold_data)
        } else {
            (analyzer.clone(), &p)
        };
        let c = Classifier::train_prepared(analyzer, p, &train, opts);
        train_secs += c.info.train_seconds;
        n_features += c.info.n_features;
        let mut gold = Vec::new();
        let mut pred = Vec::new();
        let mut s = vec![0f32; p.labels.len()];
        for &i in &test {
            let x = c.vocab.vectorize(&opts.features, &p.docs[i]);
            c.model.scores_into(&x, &mut s);
            gold.push(p.labels[p.y[i]].as_str());
            pred.push(p.labels[argmax(&s)].as_str());
        }
        folds.push(Metrics::from_labels(&gold, &pred));
        if let Some(raw) = &plan.raw_test_texts {
            let texts: Vec<&str> = test.iter().map(|&i| raw[i].as_str()).collect();
            let raw_pred = c.predict_labels(&texts, opts.threads);
            let raw_pred: Vec<&str> = raw_pred.iter().map(String::as_str).collect();
            raw_folds.push(Metrics::from_labels(&gold, &raw_pred));
        }
    }
    let mean_sd = |folds: &[Metrics]| -> (f64, f64, f64) {
        if folds.is_empty() {
            return (0.0, 0.0, 0.0);
        }
        let n = folds.len() as f64;
        let m = folds.iter().map(|x| x.macro_f1).sum::<f64>() / n;
        let var = folds.iter().map(|x| (x.macro_f1 - m).powi(2)).sum::<f64>() / n;
        let acc = folds.iter().map(|x| x.accuracy).sum::<f64>() / n;
        (m, var.sqrt(), acc)
    };
    let (raw_m, raw_sd, raw_acc) = mean_sd(&raw_folds);
    let mean = |f: &dyn Fn(&Metrics) -> f64| folds.iter().map(f).sum::<f64>() / k as f64;
    let m = mean(&|m| m.macro_f1);
    let var = mean(&|x| (x.macro_f1 - m).powi(2));
    Ok(CvReport {
        raw_folds,
        raw_macro_f1_mean: raw_m,
        raw_macro_f1_std: raw_sd,
        raw_accuracy_mean: raw_acc,
        macro_f1_mean: m,
        macro_f1_std: var.sqrt(),
        accuracy_mean: mean(&|m| m.accuracy),
        train_seconds_mean: train_secs / k as f64,
        analysis_seconds,
        n_features_mean: n_features as f64 / k as f64,
        folds,
    })
}

fn argmax(s: &[f32]) -> usize {
    let mut best = 0;
    for (i, &v) in s.iter().enumerate() {
        if v > s[best] {
            best = i;
        }
    }
    best
}

fn f32s(b: &[u8]) -> Vec<f32> {
    b.chunks_exact(4)
        .map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes")))
        .collect()
}

/// FNV-1a over the file body, to catch truncated or altered files.
fn checksum(b: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for chunk in b.chunks(8) {
        let mut buf = [0u8; 8];
        buf[..chunk.len()].copy_from_slice(chunk);
        h ^= u64::from_le_bytes(buf);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

#[derive(Serialize, Deserialize)]
struct FileHeader {
    format_version: u32,
    labels: Vec<String>,
    info: ModelInfo,
    stopwords: Vec<String>,
    user_words: Vec<String>,
    hmm: bool,
    n_features: usize,
    /// The restricted segmentation dictionary (format 2); absent: jieba's default.
    #[serde(default)]
    dictionary: Option<Vec<(String, u64)>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temperature_fit_recovers_a_known_scale() {
        // Scores drawn so that softmax(s / 0.25) is the true distribution.
        let mut rng = crate::svm::SplitMix64::new(5);
        let mut scores = Vec::new();
        let mut gold = Vec::new();
        for _ in 0..4000 {
            let s: Vec<f32> = (0..3).map(|_| (rng.below(1000) as f32) / 1000.0).collect();
            let mut p = s.clone();
            softmax(&mut p, 0.25);
            let u = rng.below(1_000_000) as f32 / 1e6;
            let g = if u < p[0] {
                0
            } else if u < p[0] + p[1] {
                1
            } else {
                2
            };
            scores.push(s);
            gold.push(g);
        }
        let t = fit_temperature(&scores, &gold);
        assert!((t - 0.25).abs() < 0.04, "t = {t}");
    }

    #[test]
    fn clip_keeps_char_boundaries() {
        let s = "停".repeat(MAX_TEXT_BYTES);
        let c = clip_text(&s);
        assert!(c.len() <= MAX_TEXT_BYTES && c.len() % 3 == 0);
    }
}
