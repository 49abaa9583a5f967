//! Robustness on *real* raw messages (no labels needed): a model trained on the segmented TipDM
//! file labels each unlabelled raw message of `tipdm2020_gov_messages_votes_replies` (title +
//! detail as typed) and the same message put in the training file's form (cut by jieba with HMM,
//! removed tokens dropped, `GapModel::segment_like_training`). The share of messages that get the
//! same label bounds how much raw text costs; the same is measured for the rebuilt raw form
//! (`GapModel::reconstruct` of the segmented form), to check that the rebuilt raw split is as hard
//! as real raw text. `cargo run --release -p jiesu-text --example raw_agreement`
use jiesu_text::{data, rawtext::GapModel, svm::SplitMix64, Classifier, TrainOptions};

fn main() -> anyhow::Result<()> {
    let rows = data::read_labelled_csv(&data::tipdm_train_file(), &["tokens".into()], "label_l1")?;
    let seg: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    let mut raw = Vec::new();
    for f in data::tipdm_raw_files() {
        raw.push(data::read_text_columns(
            &f,
            &["title".into(), "detail".into()],
        )?);
    }
    let corpora: Vec<&[String]> = raw.iter().map(Vec::as_slice).collect();
    let m = GapModel::learn(&corpora, &seg, 15);
    let clf = Classifier::train(&rows, &TrainOptions::default())?;
    let jieba = jieba_rs::Jieba::new();
    let raw: Vec<&str> = raw.iter().flatten().map(String::as_str).collect();
    let as_seg: Vec<String> = raw
        .iter()
        .map(|t| m.segment_like_training(&jieba, t))
        .collect();
    let mut rng = SplitMix64::new(11);
    let rebuilt: Vec<String> = as_seg.iter().map(|t| m.reconstruct(t, &mut rng)).collect();
    let p_raw = clf.predict_labels(&raw, 0);
    let p_seg = clf.predict_labels(&as_seg, 0);
    let p_rebuilt = clf.predict_labels(&rebuilt, 0);
    let agree = |a: &[String], b: &[String]| {
        a.iter().zip(b).filter(|(x, y)| x == y).count() as f64 / a.len() as f64
    };
    println!("{} real raw messages", raw.len());
    println!(
        "same label, real raw vs segmented form:    {:.4}",
        agree(&p_raw, &p_seg)
    );
    println!(
        "same label, rebuilt raw vs segmented form: {:.4}",
        agree(&p_rebuilt, &p_seg)
    );
    println!(
        "same label, real raw vs rebuilt raw:       {:.4}",
        agree(&p_raw, &p_rebuilt)
    );
    Ok(())
}
