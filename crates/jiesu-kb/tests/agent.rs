//! The virtual agent says "I don't know" rather than a confident wrong answer: on the question
//! set `data/agent_questions.tsv` (out of scope, near misses, in-scope paraphrases), floors on
//! the reporting half (thresholds were chosen on the tuning half).

use chrono::NaiveDate;
use jiesu_kb::agent_eval::{evaluate, parse_questions, QuestionKind, AGENT_QUESTIONS};
use jiesu_kb::{AgentThresholds, HandoverReason, KnowledgeBase};

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 6, 1).unwrap()
}

#[test]
fn the_question_set_has_at_least_100_labelled_questions_of_every_kind() {
    let kb = KnowledgeBase::demo();
    let qs = parse_questions(AGENT_QUESTIONS).unwrap();
    assert!(qs.len() >= 100, "{}", qs.len());
    for k in [QuestionKind::Out, QuestionKind::Near, QuestionKind::In] {
        let n = qs.iter().filter(|q| q.kind == k).count();
        assert!(n >= 20, "{k:?}: {n}");
        let tune = qs.iter().filter(|q| q.kind == k && q.tune).count();
        assert!(tune * 2 >= n - 1 && tune * 2 <= n + 1, "{k:?} halves");
    }
    for q in &qs {
        for id in &q.expected {
            assert!(kb.get(id).is_some(), "{}: no article {id}", q.question);
        }
        if q.kind == QuestionKind::In {
            assert_eq!(q.expected.len(), 1, "{}", q.question);
        }
    }
}

#[test]
fn no_confident_wrong_answer_out_of_scope_and_precision_at_least_0_9_in_scope() {
    let kb = KnowledgeBase::demo();
    let qs = parse_questions(AGENT_QUESTIONS).unwrap();
    let report: Vec<_> = qs.iter().filter(|q| !q.tune).cloned().collect();
    let e = evaluate(&kb, &report, day(), &AgentThresholds::default());
    println!("{e}");
    for m in &e.mistakes {
        println!("  {m}");
    }
    assert_eq!(e.out.wrong, 0, "confident wrong answers out of scope");
    assert!(e.inside.precision() >= 0.9, "in-scope precision");
    // answering is still the point: most in-scope questions are answered
    assert!(e.inside.handover_rate() <= 0.30, "in-scope hand-over rate");
    assert!(e.near.wrong <= 2, "near misses answered wrongly");
    // the whole set, too
    let all = evaluate(&kb, &qs, day(), &AgentThresholds::default());
    assert_eq!(all.out.wrong, 0);
    assert!(all.inside.precision() >= 0.9);
}

#[test]
fn weather_gets_no_heating_article_and_residence_permit_no_lost_card_article() {
    let kb = KnowledgeBase::demo();
    let r = kb.answer_with("今天天气怎么样", &AgentThresholds::default(), Some(day()));
    assert!(r.answer.is_none(), "{:?}", r.answer);
    assert!(r.handover.is_some());
    let r = kb.answer_with("居住证怎么办", &AgentThresholds::default(), Some(day()));
    assert!(
        r.answer.as_ref().is_none_or(|a| a.article_id != "KB0058"),
        "{:?}",
        r.answer
    );
    // the residence-permit articles are offered as suggestions
    assert!(
        r.suggestions.iter().any(|h| h.id == "KB0056"),
        "{:?}",
        r.suggestions
    );
}

#[test]
fn another_citys_matter_is_handed_over_but_moving_it_here_is_answered() {
    let kb = KnowledgeBase::demo();
    let th = AgentThresholds::default();
    let r = kb.answer_with("上海的居住证怎么办理", &th, Some(day()));
    assert!(r.answer.is_none());
    assert_eq!(r.handover_reason, Some(HandoverReason::OutOfTown));
    assert!(r.suggestions.is_empty());
    let r = kb.answer_with("在上海交的公积金能转到北京吗", &th, Some(day()));
    assert_eq!(
        r.answer.as_ref().map(|a| a.article_id.as_str()),
        Some("KB0054"),
        "{:?}",
        r.handover_reason
    );
}

#[test]
fn chit_chat_and_punctuation_are_handed_over_without_suggestions() {
    let kb = KnowledgeBase::demo();
    for q in ["你好", "？？？", "谢谢"] {
        let r = kb.answer_with(q, &AgentThresholds::default(), Some(day()));
        assert!(r.answer.is_none(), "{q}");
        assert!(r.handover.is_some(), "{q}");
        assert!(r.suggestions.is_empty(), "{q}: {:?}", r.suggestions);
    }
}

#[test]
fn an_articles_own_question_is_answered_with_that_article() {
    let kb = KnowledgeBase::demo();
    let th = AgentThresholds::default();
    let (mut n, mut right, mut wrong) = (0, 0, Vec::new());
    for a in kb.repo().all_published() {
        if !a.searchable_on(day()) {
            continue;
        }
        n += 1;
        let r = kb.answer_with(&a.question, &th, Some(day()));
        match r.answer {
            Some(x) if x.article_id == a.id => right += 1,
            Some(x) => wrong.push(format!("{} {} → {}", a.id, a.question, x.article_id)),
            None => {}
        }
    }
    println!("own question answered {right}/{n}; wrong {}", wrong.len());
    for w in &wrong {
        println!("  {w}");
    }
    assert!(right * 100 >= n * 95, "{right}/{n}");
    assert!(wrong.len() * 100 <= n, "{wrong:?}");
}

#[test]
fn a_question_about_the_weather_gets_no_related_heating_article() {
    let kb = KnowledgeBase::demo();
    let r = kb.answer_with("今天天气怎么样", &AgentThresholds::default(), Some(day()));
    assert!(
        r.suggestions.iter().all(|h| h.id != "KB0001"),
        "{:?}",
        r.suggestions
    );
}
