//! Asks the virtual agent: prints the answer or the hand-over, and the candidates' figures.
//!
//! `cargo run -p jiesu-kb --example kb_ask -- "居住证怎么办" "今天天气怎么样"`

use jiesu_kb::{AgentThresholds, KnowledgeBase};

fn main() {
    let kb = KnowledgeBase::demo();
    for q in std::env::args().skip(1) {
        let r = kb.answer_with(&q, &AgentThresholds::default(), None);
        match &r.answer {
            Some(a) => println!("{q} → {} {}", a.article_id, a.question),
            None => println!("{q} → hand-over ({:?})", r.handover_reason),
        }
        for (id, j) in kb.agent_candidates(&q, None).into_iter().take(3) {
            println!(
                "    {id} conf {:.2} qcov {:.2} acov {:.2} score {:.2}",
                j.confidence, j.query_coverage, j.article_coverage, j.score
            );
        }
    }
}
