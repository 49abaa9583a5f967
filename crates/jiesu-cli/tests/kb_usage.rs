//! The knowledge-base page's "direct answers in the last 30 days" per article: the demo city's
//! direct answers cite shipped articles, so the per-article counts add up to the direct answers.
//! (Before, the generator recorded made-up ids such as `KB-170301-03` and every row showed 0.)

mod common;
use common::*;
use serde_json::Value;
use std::collections::HashMap;

#[test]
fn generated_direct_answers_are_counted_on_the_articles_of_the_kb_list() {
    let s = server_with(
        |db| {
            let d = db.to_str().unwrap();
            ok(&[
                "generate",
                "--no-train",
                "--db",
                d,
                "--months",
                "1",
                "--scale",
                "0.001",
                "--seed",
                "5",
            ]);
        },
        &[("sup1", "supervisor", None)],
    );
    let sup = login(&s, "sup1");
    // the whole history (no clock read in the test)
    let (st, _, u) = call(
        &s,
        "GET",
        "/api/v1/kb/usage?from=2000-01-01&to=2100-01-01",
        Some(&sup),
        None,
    );
    assert_eq!(st, 200, "{u}");
    let answered = u["answered_directly"].as_i64().unwrap();
    assert!(answered > 50, "the demo city answers directly: {u}");
    let per_article: HashMap<String, i64> = u["articles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["article_id"].as_str().unwrap().to_string(),
                a["answered"].as_i64().unwrap(),
            )
        })
        .collect();
    // the list the page joins the counts onto
    let (st, _, list) = call(
        &s,
        "GET",
        "/api/v1/kb/articles?page_size=500",
        Some(&sup),
        None,
    );
    assert_eq!(st, 200, "{list}");
    let ids: Vec<String> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a: &Value| a["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        ids.len() as u64,
        list["total"].as_u64().unwrap(),
        "one page holds every article"
    );
    for id in per_article.keys() {
        assert!(
            ids.contains(id),
            "usage names {id}, which is not an article of the list"
        );
    }
    let on_rows: i64 = ids.iter().filter_map(|id| per_article.get(id)).sum();
    let rows_used = ids
        .iter()
        .filter(|id| per_article.contains_key(*id))
        .count();
    assert!(
        on_rows * 10 >= answered * 9,
        "only {on_rows} of {answered} direct answers land on a row of the list"
    );
    assert!(
        rows_used > 20,
        "direct answers spread over {rows_used} articles"
    );
    // every used article is reported (no cut-off below the number of articles)
    assert_eq!(per_article.len(), rows_used);
}
