//! `jiesu bench classify`: our throughput and macro-F1 against the Python scikit-learn pipeline
//! (jieba + TfidfVectorizer + LinearSVC) on the same split of the same data, in the same run.
//!
//! The Python side is installed for the benchmark only, into a virtual environment under the
//! cache directory (`pip install --user` as a fallback); it is never a product dependency.

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use serde::Deserialize;

use crate::cli::{measure_throughput, outln, ModelArgs};
use crate::data::{read_labelled_csv, split_columns, tipdm_train_file};
use crate::eval::stratified_split;
use crate::model::Classifier;

const SKLEARN_SCRIPT: &str = include_str!("../bench/sklearn_bench.py");

/// `jiesu bench classify`
#[derive(clap::Args, Debug, Clone)]
pub struct BenchClassifyArgs {
    /// Labelled CSV (default: tipdm2020_gov_messages_labelled/train_tokenized.csv under
    /// $JIESU_SHARED_DATA, else <workspace>/../shared/data).
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Text columns, comma-separated. Tokens are joined without spaces to make raw-like text.
    #[arg(long, default_value = "tokens")]
    pub text: String,
    /// Label column.
    #[arg(long, default_value = "label_l1")]
    pub label: String,
    /// Share of each class held out for testing.
    #[arg(long, default_value_t = 0.2)]
    pub test_fraction: f64,
    /// Where the Python environment and temporary files live (default: $JIESU_CACHE_DIR, else
    /// $XDG_CACHE_HOME/jiesu, else ~/.cache/jiesu).
    #[arg(long)]
    pub cache_dir: Option<PathBuf>,
    /// Python interpreter used to create the environment.
    #[arg(long, default_value = "python3")]
    pub python: String,
    /// Time our predictions for at least this many seconds.
    #[arg(long, default_value_t = 2.0)]
    pub min_seconds: f64,
    #[command(flatten)]
    pub model: ModelArgs,
}

#[derive(Debug, Deserialize)]
struct PyReport {
    macro_f1: f64,
    accuracy: f64,
    throughput_msgs_per_s: f64,
    train_seconds: f64,
    #[serde(default)]
    sklearn: String,
    #[serde(default)]
    jieba: String,
}

/// Runs the benchmark; the last line printed is `ratio R` (our throughput / scikit-learn's).
pub fn run_bench_classify(args: BenchClassifyArgs) -> Result<()> {
    let opts = args.model.options()?;
    let data_path = args.data.clone().unwrap_or_else(tipdm_train_file);
    if !data_path.exists() {
        bail!(
            "benchmark data {} not found; set JIESU_SHARED_DATA or pass --data",
            data_path.display()
        );
    }
    if !(0.0..1.0).contains(&args.test_fraction) || args.test_fraction == 0.0 {
        bail!("--test-fraction must be between 0 and 1");
    }
    let rows = read_labelled_csv(&data_path, &split_columns(&args.text), &args.label)?;
    // Raw-like text: the words written together, as a citizen would type them.
    let rows: Vec<(String, String)> = rows
        .into_iter()
        .map(|(t, l)| (t.split_whitespace().collect::<String>(), l))
        .collect();
    let mut labels: Vec<&str> = rows.iter().map(|(_, l)| l.as_str()).collect();
    labels.sort_unstable();
    labels.dedup();
    let y: Vec<usize> = rows
        .iter()
        .map(|(_, l)| labels.binary_search(&l.as_str()).expect("label present"))
        .collect();
    let (train_i, test_i) = stratified_split(&y, args.test_fraction, args.seed());
    let train: Vec<(String, String)> = train_i.iter().map(|&i| rows[i].clone()).collect();
    let test: Vec<(String, String)> = test_i.iter().map(|&i| rows[i].clone()).collect();
    outln!(
        "data: {} ({} messages, {} labels); train {} / test {}; text = tokens joined without spaces",
        data_path.display(),
        rows.len(),
        labels.len(),
        train.len(),
        test.len()
    );

    // Ours.
    let t0 = Instant::now();
    let clf = Classifier::train(&train, &opts).context("training failed")?;
    let our_train = t0.elapsed().as_secs_f64();
    let (metrics, _) = clf.evaluate(&test);
    let texts: Vec<&str> = test.iter().map(|(t, _)| t.as_str()).collect();
    // Timed before and after the Python run and averaged, so that a passing load on a shared
    // machine weighs on both sides alike.
    let ours_before = measure_throughput(&clf, &texts, args.min_seconds / 2.0);

    // scikit-learn.
    let cache = args
        .cache_dir
        .clone()
        .unwrap_or_else(jiesu_pybaseline::cache_dir);
    std::fs::create_dir_all(&cache)
        .with_context(|| format!("cannot create the cache directory {}", cache.display()))?;
    let python = jiesu_pybaseline::python_with(
        &cache,
        &args.python,
        "bench-venv",
        &["jieba", "sklearn"],
        &["jieba", "scikit-learn"],
    )?;
    let script = cache.join("sklearn_bench.py");
    std::fs::write(&script, SKLEARN_SCRIPT)
        .with_context(|| format!("cannot write {}", script.display()))?;
    let input = cache.join(format!("bench-classify-{}.json", std::process::id()));
    let payload = serde_json::json!({ "train": train, "test": test });
    std::fs::write(&input, serde_json::to_vec(&payload)?)
        .with_context(|| format!("cannot write {}", input.display()))?;
    let out = Command::new(&python).arg(&script).arg(&input).output();
    let _ = std::fs::remove_file(&input); // the data is licensed for testing only: leave no copy
    let out = out.with_context(|| format!("cannot run {}", python.display()))?;
    if !out.status.success() {
        bail!(
            "the scikit-learn baseline failed ({}):\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let last = stdout
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    let py: PyReport = serde_json::from_str(last)
        .with_context(|| format!("cannot read the baseline's report line {last:?}"))?;
    outln!(
        "sklearn    : macro-F1 {:.4}  accuracy {:.4}  throughput {:>9.0} messages/s  (train {:.2} s; jieba {} + TfidfVectorizer(1-2 grams) + LinearSVC, scikit-learn {})",
        py.macro_f1, py.accuracy, py.throughput_msgs_per_s, py.train_seconds, py.jieba, py.sklearn
    );
    let ours_after = measure_throughput(&clf, &texts, args.min_seconds / 2.0);
    let ours = (ours_before + ours_after) / 2.0;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let ours_all = measure_batch_throughput(&clf, &texts, cores, args.min_seconds / 2.0);
    outln!(
        "jiesu-text : macro-F1 {:.4}  accuracy {:.4}  throughput {:>9.0} messages/s  (train {:.2} s; one thread, segmentation included)",
        metrics.macro_f1, metrics.accuracy, ours, our_train
    );
    outln!(
        "jiesu-text : throughput {ours_all:.0} messages/s on all {cores} cores (batch API; for information, not in the ratio)"
    );
    let ratio = ours / py.throughput_msgs_per_s.max(1e-9);
    let verdict = if metrics.macro_f1 >= py.macro_f1 {
        "equal or better"
    } else {
        "WORSE"
    };
    outln!(
        "macro-F1: jiesu-text {:.4} vs sklearn {:.4} ({verdict})",
        metrics.macro_f1,
        py.macro_f1
    );
    outln!(
        "ratio (one thread each) = jiesu-text / sklearn = {ours:.0} / {:.0}",
        py.throughput_msgs_per_s
    );
    outln!("ratio {ratio:.1}");
    Ok(())
}

/// Messages per second of [`Classifier::predict_labels`] on `threads` threads.
fn measure_batch_throughput(
    clf: &Classifier,
    texts: &[&str],
    threads: usize,
    min_seconds: f64,
) -> f64 {
    let start = Instant::now();
    let mut n = 0usize;
    while n == 0 || start.elapsed().as_secs_f64() < min_seconds {
        n += clf.predict_labels(texts, threads).len();
    }
    n as f64 / start.elapsed().as_secs_f64()
}

impl BenchClassifyArgs {
    fn seed(&self) -> u64 {
        self.model.seed
    }
}
