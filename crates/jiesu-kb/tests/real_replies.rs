//! Search quality on real text: the official replies of the TipDM 2020 message board (附件4,
//! 2,816 messages) become articles (question = message title, answer = reply), and each
//! message's detail text is the query. Measures recall@3 (the message's own reply in the top 3).
//!
//! Needs the shared data (`$JIESU_SHARED_DATA`, default `<workspace>/../shared/data`); skips on one
//! visible line when it is absent, fails where `JIESU_REQUIRE_SHARED_DATA` is set (CI). Never copies
//! the data into the repository.

use jiesu_kb::realdata::{load_replies, replies_path};
use jiesu_kb::{bench::real_articles, KnowledgeBase, SearchOptions};

#[test]
fn real_replies_recall_at_3() {
    let Some(path) = jiesu_text::data::shared_test_file(replies_path()) else {
        return;
    };
    let msgs = load_replies(&path).unwrap_or_else(|e| panic!("{e:#}"));
    assert!(
        msgs.len() > 2000,
        "expected the full 附件4, got {}",
        msgs.len()
    );
    let kb = KnowledgeBase::from_articles(real_articles(&msgs)).unwrap();
    let day = chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
    let (mut hit1, mut hit3) = (0usize, 0usize);
    for (i, m) in msgs.iter().enumerate() {
        let want = format!("M{i:05}");
        let res = kb.search_articles(&m.detail, &SearchOptions::top(3).on(day));
        if res.first().is_some_and(|(a, _, _)| a.id == want) {
            hit1 += 1;
        }
        if res.iter().any(|(a, _, _)| a.id == want) {
            hit3 += 1;
        }
    }
    let n = msgs.len() as f64;
    let (r1, r3) = (hit1 as f64 / n, hit3 as f64 / n);
    println!(
        "real replies: {} queries, recall@1 {r1:.3}, recall@3 {r3:.3}",
        msgs.len()
    );
    assert!(r3 >= 0.75, "recall@3 {r3:.3} below the 0.75 floor");
}
