//! Development aid: prints the words the gap model counts as removed and a few reconstructed
//! raw texts next to their segmented form (to the terminal only; the data stays in ../shared).
use jiesu_text::{data, rawtext::GapModel, svm::SplitMix64};

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
    let min_docs: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(15);
    let m = GapModel::learn(&corpora, &seg, min_docs);
    println!("{}", m.removed_list().join(" "));
    let mut rng = SplitMix64::new(3);
    for t in seg.iter().step_by(1500) {
        println!("SEG {}\nRAW {}\n", t, m.reconstruct(t, &mut rng));
    }
    Ok(())
}
