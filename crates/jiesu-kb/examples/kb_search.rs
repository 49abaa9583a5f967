use jiesu_kb::{KnowledgeBase, SearchOptions};
fn main() {
    let kb = KnowledgeBase::demo();
    for q in std::env::args().skip(1) {
        println!("Q {q}: tokens {:?}", kb.analyzer().tokens(&q));
        let p = kb.prepare(&q);
        println!("  places {:?} needles {:?}", p.places, p.needles);
        for h in kb.search(&q, &SearchOptions::top(5)) {
            println!(
                "  {} {:.2} {:.2} {} | {}",
                h.id, h.score, h.confidence, h.question_html, h.snippet_html
            );
        }
    }
}
