//! The knowledge base's behaviour: shipped data integrity, search features (synonyms, places,
//! highlighting, filters, validity), versioning through the index, the virtual agent, and odd
//! input.

use chrono::NaiveDate;
use jiesu_kb::{
    demo_articles, Article, ArticleStatus, KnowledgeBase, SearchOptions, DEFAULT_ANSWER_CONFIDENCE,
};
use std::sync::OnceLock;

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn demo() -> &'static KnowledgeBase {
    static KB: OnceLock<KnowledgeBase> = OnceLock::new();
    KB.get_or_init(KnowledgeBase::demo)
}

fn top(q: &str, k: usize) -> Vec<jiesu_kb::Hit> {
    demo().search(q, &SearchOptions::top(k).on(day(2024, 6, 1)))
}

#[test]
fn shipped_articles_are_complete_and_linked() {
    let arts = demo_articles();
    assert!((150..=300).contains(&arts.len()), "{} articles", arts.len());
    let cats = jiesu_refdata::categories();
    let org = jiesu_refdata::org();
    let mut ids = std::collections::HashSet::new();
    for a in &arts {
        assert!(ids.insert(a.id.clone()), "duplicate id {}", a.id);
        a.validate().unwrap();
        assert_eq!(a.status, ArticleStatus::Published);
        assert!(!a.categories.is_empty(), "{} has no category", a.id);
        for c in &a.categories {
            assert!(cats.get(c).is_some(), "{}: unknown category {c}", a.id);
        }
        assert!(
            org.get(&a.owner_unit).is_some(),
            "{}: unknown unit {}",
            a.id,
            a.owner_unit
        );
        assert!(!a.policy_basis.is_empty(), "{} has no policy basis", a.id);
    }
    // Most level-1 categories are covered.
    let tops: std::collections::HashSet<&str> = arts
        .iter()
        .flat_map(|a| a.categories.iter().map(|c| &c[..2]))
        .collect();
    assert!(
        tops.len() >= 25,
        "{} level-1 categories covered",
        tops.len()
    );
}

#[test]
fn synonyms_match_and_are_highlighted() {
    let hits = top("采暖费多少钱一平米", 3);
    assert_eq!(hits[0].id, "KB0004", "{hits:?}");
    // The article says 供暖费; the query said 采暖费: the synonym is marked.
    assert!(
        hits[0].question_html.contains("<mark>供暖费</mark>"),
        "{}",
        hits[0].question_html
    );
    assert!(hits[0].confidence > 0.0 && hits[0].confidence <= 1.0);
    assert!(hits.windows(2).all(|w| w[0].score >= w[1].score));
}

#[test]
fn place_names_find_that_places_articles() {
    let hits = top("朝阳区暖气不热", 3);
    assert_eq!(hits[0].id, "KB0013", "{hits:?}");
    assert!(hits[0].place_match);
    // A street's short name, with the article not using the word in its question text.
    let hits = top("望京 居住证", 3);
    assert_eq!(hits[0].id, "KB0063", "{hits:?}");
    // Without the place, the city-wide article comes first.
    let hits = top("暖气不热", 1);
    assert_eq!(hits[0].id, "KB0002", "{hits:?}");
    assert!(!hits[0].place_match);
}

#[test]
fn html_is_escaped() {
    let hits = top("<script>供暖</script>", 1);
    assert!(!hits.is_empty());
    assert!(!hits[0].question_html.contains("<script>"));
    assert!(!hits[0].snippet_html.contains("<script>"));
}

#[test]
fn filters_and_validity() {
    let kb = demo();
    let cat = SearchOptions {
        category: Some("17".into()),
        ..SearchOptions::top(5).on(day(2024, 6, 1))
    };
    let hits = kb.search("怎么投诉", &cat);
    assert!(!hits.is_empty());
    assert!(hits
        .iter()
        .all(|h| h.categories.iter().any(|c| c.starts_with("17"))));
    let unit = SearchOptions {
        owner_unit: Some("CD019".into()),
        ..SearchOptions::top(5).on(day(2024, 6, 1))
    };
    assert!(kb
        .search("报销", &unit)
        .iter()
        .all(|h| h.owner_unit == "CD019"));
    // The 2021 vaccination article is valid until 2022-12-31 only.
    let q = "新冠疫苗接种预约";
    let during = kb.search(q, &SearchOptions::top(3).on(day(2021, 6, 1)));
    assert_eq!(during[0].id, "KB0177");
    let after = kb.search(q, &SearchOptions::top(10).on(day(2024, 6, 1)));
    assert!(after.iter().all(|h| h.id != "KB0177"));
}

#[test]
fn a_new_version_replaces_the_old_in_search() {
    let mut kb = KnowledgeBase::from_articles(demo_articles().into_iter().take(30)).unwrap();
    let opts = SearchOptions::top(3).on(day(2024, 6, 1));
    let mut v2: Article = kb.get("KB0001").unwrap().clone();
    v2.question = "本市供暖季起止时间（含提前供暖安排）".into();
    v2.answer = "您好，本市供暖季为每年11月15日至次年3月15日，遇极端天气可提前或延长。".into();
    let d = kb.save_draft(v2).unwrap();
    assert_eq!((d.version, d.status), (2, ArticleStatus::Draft));
    // Drafts are not searchable: version 1 still answers.
    let h = kb.search("提前供暖安排", &opts);
    assert_eq!((h[0].id.as_str(), h[0].version), ("KB0001", 1));
    kb.submit("KB0001").unwrap();
    kb.approve("KB0001", "审核员").unwrap();
    let h = kb.search("提前供暖安排", &opts);
    assert_eq!((h[0].id.as_str(), h[0].version), ("KB0001", 2));
    assert_eq!(kb.repo().history("KB0001").len(), 2);
    kb.retire("KB0001").unwrap();
    assert!(kb
        .search("提前供暖安排", &opts)
        .iter()
        .all(|h| h.id != "KB0001"));
}

#[test]
fn virtual_agent_answers_or_hands_over() {
    let kb = demo();
    let on = Some(day(2024, 6, 1));
    let r = kb.answer("居住证怎么办理", DEFAULT_ANSWER_CONFIDENCE, on);
    let a = r.answer.expect("answered");
    assert_eq!(a.article_id, "KB0056");
    assert!(!a.answer.is_empty() && !a.policy_basis.is_empty());
    assert!(r.handover.is_none());
    // Something the knowledge base cannot answer: hand over with a pre-filled ticket.
    let r = kb.answer(
        "海淀区中关村街道我家楼下的大树被风刮倒了压住了汽车",
        0.9,
        on,
    );
    assert!(r.answer.is_none());
    let t = r.handover.expect("handover");
    assert!(t.text.contains("大树"));
    assert_eq!(t.district_code.as_deref(), Some("110108"));
    assert_eq!(t.street_code.as_deref(), Some("110108011"));
}

#[test]
fn odd_queries_are_harmless() {
    for q in ["", "   ", "！？。，", "😀😀", "ＡＢＣ", "a", "的了吗"] {
        let _ = top(q, 3);
    }
    assert!(top("", 3).is_empty());
    let huge = "停水".repeat(50_000);
    let h = top(&huge, 3);
    assert!(!h.is_empty());
    let zero = demo().search("供暖", &SearchOptions::top(0));
    assert!(zero.is_empty());
}
