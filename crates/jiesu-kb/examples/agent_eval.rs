//! Prints the virtual agent's figures on `data/agent_questions.tsv`: per kind (out of scope,
//! near miss, in scope) and per half (tune, report), with every mistake; `--sweep` prints the
//! tuning half's figures over a grid of thresholds (how the defaults were chosen).
//!
//! `cargo run -p jiesu-kb --example agent_eval [-- --sweep]`

use chrono::NaiveDate;
use jiesu_kb::agent_eval::{evaluate, parse_questions, AGENT_QUESTIONS};
use jiesu_kb::{AgentThresholds, KnowledgeBase};

fn main() -> Result<(), String> {
    let kb = KnowledgeBase::demo();
    let day = NaiveDate::from_ymd_opt(2024, 6, 1).ok_or("date")?;
    let qs = parse_questions(AGENT_QUESTIONS)?;
    let tune: Vec<_> = qs.iter().filter(|q| q.tune).cloned().collect();
    if std::env::args().any(|a| a == "--sweep") {
        println!("conf qcov acov margin | out_wrong near_wrong in_prec in_handover");
        for c in [0.2f32, 0.3, 0.4] {
            for qc in [0.5f32, 0.55, 0.6, 0.65, 0.7, 0.75] {
                for ac in [0.2f32, 0.3, 0.34, 0.4, 0.5] {
                    for m in [1.0f32, 1.1, 1.2] {
                        let th = AgentThresholds {
                            min_confidence: c,
                            min_query_coverage: qc,
                            min_article_coverage: ac,
                            min_margin: m,
                            ..AgentThresholds::default()
                        };
                        let e = evaluate(&kb, &tune, day, &th);
                        println!(
                            "{c:.2} {qc:.2} {ac:.2} {m:.1} | {} {} {:.3} {:.3}",
                            e.out.wrong,
                            e.near.wrong,
                            e.inside.precision(),
                            e.inside.handover_rate()
                        );
                    }
                }
            }
        }
        return Ok(());
    }
    let th = AgentThresholds::default();
    println!("thresholds {th:?}");
    for (name, part) in [("tune", true), ("report", false)] {
        let sel: Vec<_> = qs.iter().filter(|q| q.tune == part).cloned().collect();
        let e = evaluate(&kb, &sel, day, &th);
        println!("== {name} half ({} questions)", sel.len());
        print!("{e}");
        for m in &e.mistakes {
            println!("  {m}");
        }
    }
    let e = evaluate(&kb, &qs, day, &th);
    println!("== all {} questions", qs.len());
    print!("{e}");
    Ok(())
}
