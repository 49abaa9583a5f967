//! Development check: does a model trained on the pre-segmented, stop-word-filtered training
//! file keep its accuracy on text that looks raw? Trains on 80 % (stratified, seed 12345) and
//! evaluates the other 20 % as (a) the file's segmented form, (b) words joined without spaces,
//! (c) joined, with stop words and punctuation put back at random between words (30 % of gaps),
//! as a citizen would write. Reads the shared data; prints one line per variant.
use jiesu_text::{data, eval::stratified_split, svm::SplitMix64, Classifier, TrainOptions};

fn main() -> anyhow::Result<()> {
    let rows = data::read_labelled_csv(&data::tipdm_train_file(), &["tokens".into()], "label_l1")?;
    let mut labels: Vec<&str> = rows.iter().map(|r| r.1.as_str()).collect();
    labels.sort();
    labels.dedup();
    let y: Vec<usize> = rows
        .iter()
        .map(|r| labels.binary_search(&r.1.as_str()).unwrap())
        .collect();
    let (tr, te) = stratified_split(&y, 0.2, 12345);
    let train: Vec<(String, String)> = tr.iter().map(|&i| rows[i].clone()).collect();
    let clf = Classifier::train(&train, &TrainOptions::default())?;
    let fillers = [
        "的", "了", "我", "在", "是", "我们", "和", "不", "有", "都", "也", "没有", "就", "，",
        "。", "！", "？", "、", "“", "”", "（", "）", "吗", "呢", "这个", "因为", "所以", "但是",
        "非常",
    ];
    let mut rng = SplitMix64::new(7);
    let noisy = |t: &str, rng: &mut SplitMix64| {
        let mut s = String::new();
        for w in t.split_whitespace() {
            s.push_str(w);
            if rng.below(10) < 3 {
                s.push_str(fillers[rng.below(fillers.len())]);
            }
        }
        s
    };
    type Variant<'a> = Box<dyn Fn(&str, &mut SplitMix64) -> String + 'a>;
    let variants: [(&str, Variant); 3] = [
        (
            "segmented (as in the file)",
            Box::new(|t: &str, _: &mut SplitMix64| t.to_string()),
        ),
        (
            "joined without spaces",
            Box::new(|t: &str, _: &mut SplitMix64| t.split_whitespace().collect()),
        ),
        ("joined + stop words/punctuation", Box::new(noisy)),
    ];
    for (name, f) in variants.iter() {
        let test: Vec<(String, String)> = te
            .iter()
            .map(|&i| (f(&rows[i].0, &mut rng), rows[i].1.clone()))
            .collect();
        let (m, _) = clf.evaluate(&test);
        println!(
            "{name:<34} macro-F1 {:.4}  accuracy {:.4}",
            m.macro_f1, m.accuracy
        );
    }
    // Calibration of the top-1 confidence on the held-out part (expected calibration error,
    // 10 equal-width bins) and of the top-3 set.
    let mut bins = [(0usize, 0f64, 0f64); 10];
    let (mut top3_conf, mut top3_hit) = (0f64, 0usize);
    for &i in &te {
        let p = clf.predict_top_k(&rows[i].0, 3);
        let c = p[0].confidence as f64;
        let b = ((c * 10.0) as usize).min(9);
        bins[b].0 += 1;
        bins[b].1 += c;
        bins[b].2 += (p[0].label == rows[i].1) as u8 as f64;
        top3_conf += p.iter().map(|x| x.confidence as f64).sum::<f64>();
        top3_hit += p.iter().any(|x| x.label == rows[i].1) as usize;
    }
    let n = te.len() as f64;
    let ece: f64 = bins
        .iter()
        .map(|&(k, c, a)| if k == 0 { 0.0 } else { (c - a).abs() / n })
        .sum();
    println!(
        "temperature {:.3}; top-1 ECE {:.4}",
        clf.info().temperature,
        ece
    );
    for (b, &(k, c, a)) in bins.iter().enumerate() {
        if k > 0 {
            println!(
                "  confidence {:.1}-{:.1}: n {k:>4}  mean confidence {:.3}  accuracy {:.3}",
                b as f64 / 10.0,
                (b + 1) as f64 / 10.0,
                c / k as f64,
                a / k as f64
            );
        }
    }
    println!(
        "top-3: mean summed confidence {:.4}, gold label in top 3: {:.4}",
        top3_conf / n,
        top3_hit as f64 / n
    );
    let p = clf.predict_top_k("小区楼顶水箱长年不清洗，自来水有霉味，请环保部门检测", 3);
    println!("example: {p:?}");
    Ok(())
}
