//! Profiling aid for the prediction path: trains on the benchmark's 80/20 split and times
//! analysis alone and whole predictions on one thread.
//! `cargo run --release -p jiesu-text --example predict_profile -- [SECONDS] [full]`
//! (`full`: jieba's whole dictionary instead of the corpus dictionary).
use std::time::Instant;

use jiesu_text::data::{read_labelled_csv, tipdm_train_file};
use jiesu_text::eval::stratified_split;
use jiesu_text::{Analysis, Classifier, TrainOptions};

fn rate(mut f: impl FnMut(), n: usize, secs: f64) -> f64 {
    let start = Instant::now();
    let mut m = 0;
    while start.elapsed().as_secs_f64() < secs {
        f();
        m += n;
    }
    m as f64 / start.elapsed().as_secs_f64()
}

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let seconds: f64 = args.next().map_or(Ok(2.0), |s| s.parse())?;
    let full = args.next().as_deref() == Some("full");
    let rows = read_labelled_csv(&tipdm_train_file(), &["tokens".to_string()], "label_l1")?;
    let rows: Vec<(String, String)> = rows
        .into_iter()
        .map(|(t, l)| (t.split_whitespace().collect::<String>(), l))
        .collect();
    let mut labels: Vec<&str> = rows.iter().map(|(_, l)| l.as_str()).collect();
    labels.sort_unstable();
    labels.dedup();
    let y: Vec<usize> = rows
        .iter()
        .map(|(_, l)| labels.binary_search(&l.as_str()).expect("label"))
        .collect();
    let (tr, te) = stratified_split(&y, 0.2, 12345);
    let train: Vec<(String, String)> = tr.iter().map(|&i| rows[i].clone()).collect();
    let test: Vec<(String, String)> = te.iter().map(|&i| rows[i].clone()).collect();
    let opts = TrainOptions {
        corpus_dictionary: !full,
        ..TrainOptions::default()
    };
    let clf = Classifier::train(&train, &opts)?;
    let (m, _) = clf.evaluate(&test);
    let texts: Vec<&str> = test.iter().map(|(t, _)| t.as_str()).collect();
    let analyzer = clf.analyzer().clone();
    let mut a = Analysis::default();
    let analysis = rate(
        || {
            for t in &texts {
                analyzer.analyze_into(t, &mut a);
            }
        },
        texts.len(),
        seconds,
    );
    let mut sink = 0;
    let whole = rate(
        || {
            for t in &texts {
                sink += clf.predict_label(t).len();
            }
        },
        texts.len(),
        seconds,
    );
    std::hint::black_box(sink);
    println!(
        "{}: macro-F1 {:.4} accuracy {:.4}; analysis {:.1} µs; prediction {:.0} msg/s ({:.1} µs)",
        if full {
            "full dictionary"
        } else {
            "corpus dictionary"
        },
        m.macro_f1,
        m.accuracy,
        1e6 / analysis,
        whole,
        1e6 / whole
    );
    Ok(())
}
