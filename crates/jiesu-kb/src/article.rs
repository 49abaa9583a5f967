//! Knowledge-base articles (知识库条目) and their review workflow with versions.
//!
//! An article is identified by `id`; each edit that follows a published version makes a new
//! `version`. The life of one version: `draft` → `in_review` → `published` → `retired`. When a
//! version is published, the previously published version of the same id is retired
//! (superseded); every version is kept as history.

use std::collections::BTreeMap;
use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// The review state of one article version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum ArticleStatus {
    /// 草稿 — being written.
    Draft,
    /// 待审核 — submitted for review.
    InReview,
    /// 已发布 — in use (searchable while valid).
    Published,
    /// 已停用 — withdrawn or superseded by a newer version.
    Retired,
}

impl ArticleStatus {
    pub const ALL: [ArticleStatus; 4] = [
        ArticleStatus::Draft,
        ArticleStatus::InReview,
        ArticleStatus::Published,
        ArticleStatus::Retired,
    ];
    /// Wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            ArticleStatus::Draft => "draft",
            ArticleStatus::InReview => "in_review",
            ArticleStatus::Published => "published",
            ArticleStatus::Retired => "retired",
        }
    }
    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
    /// Chinese label.
    pub fn label_zh(self) -> &'static str {
        match self {
            ArticleStatus::Draft => "草稿",
            ArticleStatus::InReview => "待审核",
            ArticleStatus::Published => "已发布",
            ArticleStatus::Retired => "已停用",
        }
    }
}

impl fmt::Display for ArticleStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One version of a knowledge-base article.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Article {
    /// Stable id across versions, e.g. `KB0001`.
    pub id: String,
    /// 1, 2, … — a new version supersedes the previous published one.
    pub version: u32,
    /// The question as a citizen would ask it (标准问).
    pub question: String,
    /// 答复口径 — the script the agent reads (or the virtual agent shows).
    pub answer: String,
    /// 政策依据 — the regulation or notice the answer rests on (may be empty).
    pub policy_basis: String,
    /// The unit that owns and maintains the article (a code of `jiesu_refdata::org()`).
    pub owner_unit: String,
    /// Category codes of `jiesu_refdata::categories()` (usually leaves).
    pub categories: Vec<String>,
    /// Free keywords: alternative phrasings, place names, programme names.
    pub tags: Vec<String>,
    /// First day the answer applies.
    pub valid_from: NaiveDate,
    /// Last day the answer applies (inclusive); `None` = until further notice.
    pub valid_to: Option<NaiveDate>,
    pub status: ArticleStatus,
    /// Who approved the version (set when published).
    pub reviewed_by: Option<String>,
}

impl Article {
    /// Whether the answer applies on `day`.
    pub fn valid_on(&self, day: NaiveDate) -> bool {
        self.valid_from <= day && self.valid_to.is_none_or(|t| day <= t)
    }

    /// Published and valid on `day`: what search shows.
    pub fn searchable_on(&self, day: NaiveDate) -> bool {
        self.status == ArticleStatus::Published && self.valid_on(day)
    }

    /// Checks the fields a reviewer cannot approve without.
    pub fn validate(&self) -> Result<(), KbError> {
        let bad = |m: &str| Err(KbError::Invalid(format!("article {}: {m}", self.id)));
        if self.id.trim().is_empty() {
            return Err(KbError::Invalid("article id is empty".into()));
        }
        if self.question.trim().is_empty() {
            return bad("question is empty");
        }
        if self.answer.trim().is_empty() {
            return bad("answer is empty");
        }
        if self.question.chars().count() > MAX_QUESTION_CHARS {
            return bad("question is too long");
        }
        if self.answer.chars().count() > MAX_ANSWER_CHARS {
            return bad("answer is too long");
        }
        if let Some(t) = self.valid_to {
            if t < self.valid_from {
                return bad("valid_to is before valid_from");
            }
        }
        Ok(())
    }
}

/// Longest question accepted, in characters.
pub const MAX_QUESTION_CHARS: usize = 200;
/// Longest answer accepted, in characters.
pub const MAX_ANSWER_CHARS: usize = 20_000;

/// What can go wrong in the article workflow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KbError {
    /// No article with this id.
    NotFound(String),
    /// The operation is not allowed in the article's current state.
    State(String),
    /// A field is missing or malformed.
    Invalid(String),
}

impl fmt::Display for KbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KbError::NotFound(id) => write!(f, "no article {id}"),
            KbError::State(m) | KbError::Invalid(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for KbError {}

/// Every version of every article, oldest first per id. Pure data, no index.
#[derive(Debug, Clone, Default)]
pub struct ArticleRepo {
    versions: BTreeMap<String, Vec<Article>>,
}

impl ArticleRepo {
    pub fn new() -> Self {
        Self::default()
    }

    /// Loads articles as they are (e.g. shipped or from a database), keeping their version and
    /// status. A later duplicate (same id and version) replaces an earlier one. At most one
    /// version per id stays published: the highest published version wins, older published ones
    /// are retired.
    pub fn load(articles: impl IntoIterator<Item = Article>) -> Result<Self, KbError> {
        let mut r = ArticleRepo::new();
        for a in articles {
            a.validate()?;
            let v = r.versions.entry(a.id.clone()).or_default();
            match v.iter_mut().find(|x| x.version == a.version) {
                Some(x) => *x = a,
                None => v.push(a),
            }
        }
        for v in r.versions.values_mut() {
            v.sort_by_key(|a| a.version);
            let top = v.iter().rposition(|a| a.status == ArticleStatus::Published);
            if let Some(top) = top {
                for (i, a) in v.iter_mut().enumerate() {
                    if i != top && a.status == ArticleStatus::Published {
                        a.status = ArticleStatus::Retired;
                    }
                }
            }
        }
        Ok(r)
    }

    /// Number of article ids.
    pub fn len(&self) -> usize {
        self.versions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.versions.is_empty()
    }

    /// All versions of an article, oldest first.
    pub fn history(&self, id: &str) -> &[Article] {
        self.versions.get(id).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The newest version (whatever its state).
    pub fn latest(&self, id: &str) -> Option<&Article> {
        self.versions.get(id).and_then(|v| v.last())
    }

    /// The published version, if any.
    pub fn published(&self, id: &str) -> Option<&Article> {
        self.versions
            .get(id)?
            .iter()
            .rev()
            .find(|a| a.status == ArticleStatus::Published)
    }

    /// One specific version.
    pub fn version(&self, id: &str, version: u32) -> Option<&Article> {
        self.versions.get(id)?.iter().find(|a| a.version == version)
    }

    /// Every published version (one per id), in id order.
    pub fn all_published(&self) -> impl Iterator<Item = &Article> {
        self.versions.values().filter_map(|v| {
            v.iter()
                .rev()
                .find(|a| a.status == ArticleStatus::Published)
        })
    }

    /// The newest version of every id, in id order.
    pub fn all_latest(&self) -> impl Iterator<Item = &Article> {
        self.versions.values().filter_map(|v| v.last())
    }

    /// Saves a draft. A new id starts at version 1. If the newest version is a draft (or was sent
    /// back from review) it is replaced; if it is in review, that is an error; otherwise
    /// (published or retired) a new version is opened. Status and reviewer are set by the
    /// workflow, not by the caller. Returns the stored draft.
    pub fn save_draft(&mut self, mut a: Article) -> Result<&Article, KbError> {
        a.status = ArticleStatus::Draft;
        a.reviewed_by = None;
        a.validate()?;
        let v = self.versions.entry(a.id.clone()).or_default();
        match v.last().map(|l| (l.status, l.version)) {
            None => {
                a.version = 1;
                v.push(a);
            }
            Some((ArticleStatus::Draft, ver)) => {
                a.version = ver;
                *v.last_mut().expect("non-empty") = a;
            }
            Some((ArticleStatus::InReview, ver)) => {
                return Err(KbError::State(format!(
                    "article {} version {ver} is in review; approve or reject it first",
                    a.id
                )));
            }
            Some((_, ver)) => {
                a.version = ver + 1;
                v.push(a);
            }
        }
        Ok(v.last().expect("just pushed"))
    }

    fn newest_mut(&mut self, id: &str) -> Result<&mut Article, KbError> {
        self.versions
            .get_mut(id)
            .and_then(|v| v.last_mut())
            .ok_or_else(|| KbError::NotFound(id.to_string()))
    }

    /// Draft → in review.
    pub fn submit(&mut self, id: &str) -> Result<&Article, KbError> {
        let a = self.newest_mut(id)?;
        if a.status != ArticleStatus::Draft {
            return Err(KbError::State(format!(
                "article {id} version {} is {}, only a draft can be submitted",
                a.version, a.status
            )));
        }
        a.status = ArticleStatus::InReview;
        Ok(a)
    }

    /// In review → draft (sent back to the author).
    pub fn reject(&mut self, id: &str) -> Result<&Article, KbError> {
        let a = self.newest_mut(id)?;
        if a.status != ArticleStatus::InReview {
            return Err(KbError::State(format!(
                "article {id} version {} is {}, not in review",
                a.version, a.status
            )));
        }
        a.status = ArticleStatus::Draft;
        Ok(a)
    }

    /// In review → published by `reviewer`; the previously published version is retired.
    pub fn approve(&mut self, id: &str, reviewer: &str) -> Result<&Article, KbError> {
        if reviewer.trim().is_empty() {
            return Err(KbError::Invalid("a reviewer is required".into()));
        }
        let v = self
            .versions
            .get_mut(id)
            .ok_or_else(|| KbError::NotFound(id.to_string()))?;
        let last = v.len() - 1;
        if v[last].status != ArticleStatus::InReview {
            return Err(KbError::State(format!(
                "article {id} version {} is {}, not in review",
                v[last].version, v[last].status
            )));
        }
        for a in &mut v[..last] {
            if a.status == ArticleStatus::Published {
                a.status = ArticleStatus::Retired;
            }
        }
        v[last].status = ArticleStatus::Published;
        v[last].reviewed_by = Some(reviewer.to_string());
        Ok(&v[last])
    }

    /// Published → retired (withdrawn; nothing is published for the id afterwards).
    pub fn retire(&mut self, id: &str) -> Result<&Article, KbError> {
        let v = self
            .versions
            .get_mut(id)
            .ok_or_else(|| KbError::NotFound(id.to_string()))?;
        let a = v
            .iter_mut()
            .rev()
            .find(|a| a.status == ArticleStatus::Published)
            .ok_or_else(|| KbError::State(format!("article {id} has no published version")))?;
        a.status = ArticleStatus::Retired;
        Ok(a)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    pub(crate) fn sample(id: &str, q: &str) -> Article {
        Article {
            id: id.into(),
            version: 0,
            question: q.into(),
            answer: "答复口径".into(),
            policy_basis: String::new(),
            owner_unit: "CD008".into(),
            categories: vec!["170301".into()],
            tags: vec![],
            valid_from: day("2020-01-01"),
            valid_to: None,
            status: ArticleStatus::Draft,
            reviewed_by: None,
        }
    }

    #[test]
    fn versions_supersede_and_history_is_kept() {
        let mut r = ArticleRepo::new();
        r.save_draft(sample("K1", "供暖什么时候开始")).unwrap();
        assert!(
            r.approve("K1", "审核员").is_err(),
            "a draft cannot be approved"
        );
        r.submit("K1").unwrap();
        assert!(r.save_draft(sample("K1", "x")).is_err(), "in review");
        let a = r.approve("K1", "审核员").unwrap();
        assert_eq!((a.version, a.status), (1, ArticleStatus::Published));
        // A new edit opens version 2; version 1 stays published meanwhile.
        let d = r.save_draft(sample("K1", "供暖季从哪天开始")).unwrap();
        assert_eq!(d.version, 2);
        assert_eq!(r.published("K1").unwrap().version, 1);
        r.submit("K1").unwrap();
        r.reject("K1").unwrap();
        r.submit("K1").unwrap();
        r.approve("K1", "审核员乙").unwrap();
        let h = r.history("K1");
        assert_eq!(h.len(), 2);
        assert_eq!(h[0].status, ArticleStatus::Retired);
        assert_eq!(h[1].status, ArticleStatus::Published);
        assert_eq!(h[1].reviewed_by.as_deref(), Some("审核员乙"));
        r.retire("K1").unwrap();
        assert!(r.published("K1").is_none());
        assert!(r.retire("K1").is_err());
        assert!(matches!(r.submit("nope"), Err(KbError::NotFound(_))));
    }

    #[test]
    fn validity_and_validation() {
        let mut a = sample("K2", "问题");
        a.valid_to = Some(day("2020-12-31"));
        assert!(a.valid_on(day("2020-06-01")));
        assert!(!a.valid_on(day("2021-01-01")));
        assert!(!a.valid_on(day("2019-12-31")));
        a.valid_to = Some(day("2019-01-01"));
        assert!(a.validate().is_err());
        let mut b = sample("K3", " ");
        assert!(b.validate().is_err());
        b.question = "问".repeat(MAX_QUESTION_CHARS + 1);
        assert!(b.validate().is_err());
    }

    #[test]
    fn load_keeps_one_published_version() {
        let mut a1 = sample("K", "q");
        a1.version = 1;
        a1.status = ArticleStatus::Published;
        let mut a2 = a1.clone();
        a2.version = 2;
        let r = ArticleRepo::load([a2, a1]).unwrap();
        assert_eq!(r.published("K").unwrap().version, 2);
        assert_eq!(r.version("K", 1).unwrap().status, ArticleStatus::Retired);
        assert_eq!(r.all_published().count(), 1);
    }
}
