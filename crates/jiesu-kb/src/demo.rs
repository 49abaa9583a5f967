//! The demo city's knowledge base: articles written for this project (`data/articles.csv`),
//! in the phrasing of an official answer script, each linked to category codes of
//! `jiesu_refdata::categories()` and an owner unit of `jiesu_refdata::org()`.
//!
//! CSV columns: `id, question, answer, policy_basis, owner_unit, categories, tags, valid_from,
//! valid_to` — `categories` and `tags` are `;`-separated, dates `YYYY-MM-DD` (`valid_to` may be
//! empty). Every shipped article is version 1, published, reviewed by the centre's knowledge
//! team.

use chrono::NaiveDate;
use serde::Deserialize;

use crate::article::{Article, ArticleStatus};

/// The shipped articles file.
pub const ARTICLES_CSV: &str = include_str!("../data/articles.csv");

/// Reviewer recorded on the shipped articles.
pub const DEMO_REVIEWER: &str = "市民热线服务中心知识库组";

#[derive(Deserialize)]
struct Row {
    id: String,
    question: String,
    answer: String,
    policy_basis: String,
    owner_unit: String,
    categories: String,
    tags: String,
    valid_from: String,
    valid_to: String,
}

fn split_list(s: &str) -> Vec<String> {
    s.split([';', '；'])
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(str::to_string)
        .collect()
}

fn date(s: &str, line: usize) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|e| format!("line {line}: bad date {s:?}: {e}"))
}

/// Parses articles in the shipped CSV format (published version 1). Errors name the line.
pub fn parse_articles_csv(text: &str) -> Result<Vec<Article>, String> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(text.as_bytes());
    let mut out = Vec::new();
    for (i, rec) in rdr.deserialize::<Row>().enumerate() {
        let line = i + 2;
        let r = rec.map_err(|e| format!("line {line}: {e}"))?;
        let valid_to = if r.valid_to.trim().is_empty() {
            None
        } else {
            Some(date(&r.valid_to, line)?)
        };
        out.push(Article {
            id: r.id.trim().to_string(),
            version: 1,
            question: r.question.trim().to_string(),
            answer: r.answer.trim().to_string(),
            policy_basis: r.policy_basis.trim().to_string(),
            owner_unit: r.owner_unit.trim().to_string(),
            categories: split_list(&r.categories),
            tags: split_list(&r.tags),
            valid_from: date(&r.valid_from, line)?,
            valid_to,
            status: ArticleStatus::Published,
            reviewed_by: Some(DEMO_REVIEWER.to_string()),
        });
    }
    Ok(out)
}

/// The demo city's articles (parsed on each call; cheap).
pub fn demo_articles() -> Vec<Article> {
    parse_articles_csv(ARTICLES_CSV)
        .unwrap_or_else(|e| panic!("corrupt shipped data/articles.csv: {e}"))
}
