//! `cargo run --release -p jiesu-kb --example dup_eval -- [SEED]`: text-similarity distributions
//! and a threshold sweep of duplicate detection on the labelled sample of one seed (the
//! defaults were chosen on seed 1), plus a few false positives to read.
use jiesu_kb::dup::{evaluate, labelled_sample, DupConfig, DupModel, TicketLite};
use std::collections::HashMap;

fn pct(v: &mut [f32], p: f64) -> f32 {
    v.sort_by(|a, b| a.total_cmp(b));
    if v.is_empty() {
        return f32::NAN;
    }
    v[((v.len() - 1) as f64 * p) as usize]
}

fn main() {
    let seed: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let m = DupModel::shipped();
    let sample = labelled_sample(seed, 400);
    println!("seed {seed}: {} tickets", sample.len());
    let (mut pos, mut same_comm, mut other_comm) = (vec![], vec![], vec![]);
    for i in 0..sample.len() {
        for j in 0..i {
            let (x, y) = (&sample[i].ticket, &sample[j].ticket);
            if x.street_code != y.street_code {
                continue;
            }
            let c = m.vector(&x.text).cosine(&m.vector(&y.text));
            if sample[i].incident == sample[j].incident {
                pos.push(c)
            } else if x.community_code == y.community_code {
                same_comm.push(c)
            } else {
                other_comm.push(c)
            }
        }
    }
    println!(
        "text similarity: duplicates p5 {:.2} p50 {:.2} | other incidents same community p50 {:.2} p95 {:.2} | same street other community p50 {:.2} p90 {:.2}",
        pct(&mut pos, 0.05), pct(&mut pos, 0.5), pct(&mut same_comm, 0.5), pct(&mut same_comm, 0.95),
        pct(&mut other_comm, 0.5), pct(&mut other_comm, 0.9)
    );
    for (ms, mt) in [
        (0.55, 0.3),
        (0.6, 0.35),
        (0.62, 0.4),
        (0.65, 0.45),
        (0.7, 0.5),
    ] {
        let cfg = DupConfig {
            min_score: ms,
            min_text: mt,
            ..DupConfig::default()
        };
        let (f, c) = evaluate(m, &sample, &cfg);
        println!(
            "min_score {ms:.2} min_text {mt:.2}: find_duplicates P {:.3} R {:.3} | cluster P {:.3} R {:.3}",
            f.precision, f.recall, c.precision, c.recall
        );
    }
    let cfg = DupConfig::default();
    let tickets: Vec<TicketLite> = sample.iter().map(|t| t.ticket.clone()).collect();
    let inc: HashMap<i64, usize> = sample.iter().map(|t| (t.ticket.id, t.incident)).collect();
    let mut shown = 0;
    for i in 0..tickets.len() {
        for mm in m.find(&tickets[i], &tickets[..i], &cfg) {
            if inc[&mm.id] != inc[&tickets[i].id] && shown < 5 {
                shown += 1;
                let o = tickets.iter().find(|t| t.id == mm.id).expect("candidate");
                println!(
                    "false positive {:.2} {}\n  {}\n  {}",
                    mm.score,
                    mm.reasons_zh(),
                    tickets[i].text,
                    o.text
                );
            }
        }
    }
}
