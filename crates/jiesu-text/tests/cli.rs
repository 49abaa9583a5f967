//! The `classify eval|cv` commands on small CSV files, and their errors.
mod common;

use clap::Parser;
use jiesu_text::cli::{cv_report, eval_report, ClassifyCmd};
use std::path::PathBuf;

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    cmd: ClassifyCmd,
}

fn dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("jiesu-text-cli-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn write_csv(name: &str, rows: &[(String, String)]) -> PathBuf {
    let p = dir().join(name);
    let mut w = csv::Writer::from_path(&p).unwrap();
    w.write_record(["title", "detail", "category"]).unwrap();
    for (t, l) in rows {
        let (a, b) = t.split_at(t.char_indices().nth(2).map_or(t.len(), |(i, _)| i));
        w.write_record([a, b, l.as_str()]).unwrap();
    }
    w.flush().unwrap();
    p
}

fn parse(args: &[&str]) -> ClassifyCmd {
    let mut v = vec!["x"];
    v.extend_from_slice(args);
    Cli::try_parse_from(v).unwrap().cmd
}

#[test]
fn eval_reports_metrics_and_json() {
    let all = common::toy_examples();
    let train: Vec<_> = all.iter().step_by(2).cloned().collect();
    let test: Vec<_> = all.iter().skip(1).step_by(2).cloned().collect();
    let tr = write_csv("train.csv", &train);
    let te = write_csv("test.csv", &test);
    let (tr, te) = (tr.to_str().unwrap(), te.to_str().unwrap());
    let ClassifyCmd::Eval(a) = parse(&[
        "eval",
        "--train",
        tr,
        "--train-text",
        "title,detail",
        "--train-label",
        "category",
        "--test",
        te,
        "--test-text",
        "title, detail",
        "--test-label",
        "category",
    ]) else {
        panic!("not eval")
    };
    let (text, json) = eval_report(&a).unwrap();
    assert!(
        text.contains("macro-F1") && text.contains("throughput"),
        "{text}"
    );
    for key in [
        "accuracy",
        "macro_f1",
        "per_class",
        "throughput_msgs_per_s",
        "train_seconds",
    ] {
        assert!(json.get(key).is_some(), "{key} missing from {json}");
    }
    assert!(json["macro_f1"].as_f64().unwrap() > 0.9, "{json}");
    assert_eq!(json["per_class"].as_array().unwrap().len(), 3);
    assert!(!json.to_string().contains('\n'));
}

#[test]
fn cv_reports_folds() {
    let p = write_csv("cv.csv", &common::toy_examples());
    let ClassifyCmd::Cv(a) = parse(&[
        "cv",
        "--data",
        p.to_str().unwrap(),
        "--text",
        "title,detail",
        "--label",
        "category",
        "--folds",
        "3",
    ]) else {
        panic!("not cv")
    };
    let (text, json) = cv_report(&a).unwrap();
    assert!(text.contains("fold 3"), "{text}");
    assert_eq!(json["fold_macro_f1"].as_array().unwrap().len(), 3);
    assert!(json["macro_f1"].as_f64().unwrap() > 0.9, "{json}");
}

#[test]
fn errors_are_plain_words() {
    let p = write_csv("err.csv", &common::toy_examples());
    let p = p.to_str().unwrap();
    let err = |args: &[&str]| {
        let ClassifyCmd::Cv(a) = parse(args) else {
            panic!()
        };
        format!("{:#}", cv_report(&a).unwrap_err())
    };
    let e = err(&["cv", "--data", p, "--text", "body", "--label", "category"]);
    assert!(
        e.contains("no column named \"body\"") && e.contains("title, detail, category"),
        "{e}"
    );
    let e = err(&[
        "cv",
        "--data",
        p,
        "--text",
        "title",
        "--label",
        "category",
        "--char-ngrams",
        "3-1",
    ]);
    assert!(e.contains("bad n-gram range"), "{e}");
    let e = err(&[
        "cv",
        "--data",
        "/no/such.csv",
        "--text",
        "t",
        "--label",
        "l",
    ]);
    assert!(e.contains("cannot open /no/such.csv"), "{e}");
    let empty = dir().join("empty.csv");
    std::fs::write(&empty, "").unwrap();
    let e = err(&[
        "cv",
        "--data",
        empty.to_str().unwrap(),
        "--text",
        "t",
        "--label",
        "l",
    ]);
    assert!(e.contains("empty"), "{e}");
}

#[test]
fn cv_holds_out_by_message_and_scores_the_raw_forms() {
    // Segmented training texts, and raw messages (title + detail) to learn the gaps from.
    let seg: Vec<(String, String)> = common::toy_examples()
        .into_iter()
        .map(|(t, l)| (jiesu_text::Analyzer::new().tokens(&t).join(" "), l))
        .collect();
    let p = dir().join("seg.csv");
    let mut w = csv::Writer::from_path(&p).unwrap();
    w.write_record(["tokens", "category"]).unwrap();
    for (t, l) in &seg {
        w.write_record([t.as_str(), l.as_str()]).unwrap();
    }
    w.flush().unwrap();
    let raw = write_csv("raw.csv", &common::toy_examples());
    let ClassifyCmd::Cv(a) = parse(&[
        "cv",
        "--data",
        p.to_str().unwrap(),
        "--text",
        "tokens",
        "--label",
        "category",
        "--folds",
        "3",
        "--by-message",
        "--raw-test",
        "--raw-from",
        raw.to_str().unwrap(),
        "--raw-min-docs",
        "2",
    ]) else {
        panic!("not cv")
    };
    let (text, json) = cv_report(&a).unwrap();
    assert!(text.contains("held out by message"), "{text}");
    assert!(text.contains("raw fold 3"), "{text}");
    assert_eq!(json["raw_fold_macro_f1"].as_array().unwrap().len(), 3);
    assert!(json["raw_macro_f1"].as_f64().unwrap() > 0.8, "{json}");
    // Without raw files the option says what it needs.
    let ClassifyCmd::Cv(a) = parse(&[
        "cv",
        "--data",
        p.to_str().unwrap(),
        "--text",
        "tokens",
        "--label",
        "category",
        "--raw-test",
        "--raw-from",
        "/nonexistent/raw.csv",
    ]) else {
        panic!("not cv")
    };
    let e = format!("{:#}", cv_report(&a).unwrap_err());
    assert!(e.contains("--raw-test needs raw messages"), "{e}");
}
