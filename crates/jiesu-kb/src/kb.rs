//! [`KnowledgeBase`]: the article repository plus a search index over its published versions.
//!
//! Every published version is indexed; validity dates are checked at query time (so an article
//! that becomes valid at midnight needs no rebuild). Any change to the published set rebuilds
//! the index from the articles (tens of milliseconds for the demo city's few hundred articles;
//! for bulk loads use [`KnowledgeBase::from_articles`], which builds once).

use std::sync::Arc;

use chrono::NaiveDate;
use jiesu_text::Analyzer;
use serde::Serialize;

use crate::agent::{AgentQuery, AgentThresholds, Judgement};
use crate::article::{Article, ArticleRepo, KbError};
use crate::highlight::{highlight, snippet};
use crate::index::{places_in, DocText, PreparedQuery, RankParams, SearchIndex};
use crate::text::{shared_analyzer, unit_place, Gazetteer, PlaceRef};

/// Options of one search.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchOptions {
    /// Number of hits wanted (top-k).
    pub limit: usize,
    /// The city's day validity is checked against (the server passes its today in the city's
    /// zone); `None` = validity dates are not checked (offline evaluations), only the status.
    pub on: Option<NaiveDate>,
    /// Only articles with a category code starting with this (e.g. `17` for 供暖).
    pub category: Option<String>,
    /// Only articles owned by this unit.
    pub owner_unit: Option<String>,
    /// Length of the answer snippet, in characters.
    pub snippet_chars: usize,
}

impl Default for SearchOptions {
    fn default() -> Self {
        SearchOptions {
            limit: 5,
            on: None,
            category: None,
            owner_unit: None,
            snippet_chars: 80,
        }
    }
}

impl SearchOptions {
    /// Top `k`, other options default.
    pub fn top(k: usize) -> Self {
        SearchOptions {
            limit: k,
            ..Self::default()
        }
    }
    /// Validity checked on `day`.
    pub fn on(mut self, day: NaiveDate) -> Self {
        self.on = Some(day);
        self
    }
}

/// One search result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hit {
    pub id: String,
    pub version: u32,
    /// BM25F score (comparable within one query only).
    pub score: f32,
    /// Score relative to the best any article could get for this query, in [0, 1]. The virtual
    /// agent answers only above a threshold.
    pub confidence: f32,
    /// The question, HTML-escaped, with `<mark>` around matched terms.
    pub question_html: String,
    /// A window of the answer, HTML-escaped, with `<mark>` around matched terms.
    pub snippet_html: String,
    pub owner_unit: String,
    pub categories: Vec<String>,
    /// Whether the article belongs to a place named in the query.
    pub place_match: bool,
}

/// What the virtual agent (智能问答) replies.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgentReply {
    /// The answer, when one is good enough.
    pub answer: Option<AgentAnswer>,
    /// Other candidates (top 3 after the answer, or the best ones when there is no answer).
    pub suggestions: Vec<Hit>,
    /// When no answer is good enough: a ticket draft to hand over to (pre-filled).
    pub handover: Option<TicketDraft>,
    /// Why the agent hands over (only with `handover`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handover_reason: Option<HandoverReason>,
}

/// Why the virtual agent does not answer (它不知道).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HandoverReason {
    /// No article shares the question's words (or the question has no content words).
    NoMatch,
    /// Articles share some words, but none covers the question (or is covered by it) enough.
    NotCovered,
    /// Two different articles fit about equally well.
    Ambiguous,
    /// The question is about another city's matters.
    OutOfTown,
}

impl HandoverReason {
    /// Stable code.
    pub fn as_str(self) -> &'static str {
        match self {
            HandoverReason::NoMatch => "no_match",
            HandoverReason::NotCovered => "not_covered",
            HandoverReason::Ambiguous => "ambiguous",
            HandoverReason::OutOfTown => "out_of_town",
        }
    }
}

/// An answer given by the virtual agent, with its source.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgentAnswer {
    pub article_id: String,
    pub version: u32,
    pub question: String,
    pub answer: String,
    pub policy_basis: String,
    pub owner_unit: String,
    pub confidence: f32,
    /// Share of the question the article covers (see [`crate::agent`]).
    pub query_coverage: f32,
    /// Share of the article's question the citizen asked about.
    pub article_coverage: f32,
}

/// A pre-filled new ticket for a hand-over from the virtual agent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TicketDraft {
    pub text: String,
    /// The best candidate article's first category, as a suggestion.
    pub category_code: Option<String>,
    pub district_code: Option<String>,
    pub street_code: Option<String>,
}

/// Default confidence above which the virtual agent answers (see `docs/KB.md`).
pub const DEFAULT_ANSWER_CONFIDENCE: f32 = 0.30;

/// Per indexed document.
#[derive(Debug, Clone)]
struct DocRef {
    id: String,
    version: u32,
    places: Vec<PlaceRef>,
}

/// Articles with their versions and a search index over the published ones.
pub struct KnowledgeBase {
    analyzer: Arc<Analyzer>,
    params: RankParams,
    repo: ArticleRepo,
    index: SearchIndex,
    docs: Vec<DocRef>,
    threads: usize,
}

impl std::fmt::Debug for KnowledgeBase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KnowledgeBase")
            .field("articles", &self.repo.len())
            .field("indexed", &self.docs.len())
            .finish()
    }
}

/// The places of an article: its owner unit's, and any district/street named in its tags.
pub fn article_places(analyzer: &Analyzer, a: &Article) -> Vec<PlaceRef> {
    let mut v = Vec::new();
    if let Some(p) = unit_place(&a.owner_unit) {
        v.push(p);
    }
    let gaz = Gazetteer::shipped();
    for t in &a.tags {
        places_in(analyzer, gaz, t, &mut v);
    }
    v
}

fn owner_name(code: &str) -> &str {
    jiesu_refdata::org()
        .get(code)
        .map(|u| u.name.as_str())
        .unwrap_or("")
}

impl KnowledgeBase {
    /// An empty knowledge base using the shared analyser.
    pub fn new() -> Self {
        Self::with_analyzer(shared_analyzer(), RankParams::default())
    }

    /// An empty knowledge base with a given analyser and ranking parameters.
    pub fn with_analyzer(analyzer: Arc<Analyzer>, params: RankParams) -> Self {
        KnowledgeBase {
            analyzer,
            params,
            repo: ArticleRepo::new(),
            index: SearchIndex::default(),
            docs: Vec::new(),
            threads: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
        }
    }

    /// A knowledge base holding `articles` (versions and statuses as given), indexed once.
    pub fn from_articles(articles: impl IntoIterator<Item = Article>) -> Result<Self, KbError> {
        let mut kb = Self::new();
        kb.repo = ArticleRepo::load(articles)?;
        kb.reindex();
        Ok(kb)
    }

    /// As [`KnowledgeBase::from_articles`] with a given analyser and parameters.
    pub fn from_articles_with(
        articles: impl IntoIterator<Item = Article>,
        analyzer: Arc<Analyzer>,
        params: RankParams,
    ) -> Result<Self, KbError> {
        let mut kb = Self::with_analyzer(analyzer, params);
        kb.repo = ArticleRepo::load(articles)?;
        kb.reindex();
        Ok(kb)
    }

    /// The demo city's shipped articles.
    pub fn demo() -> Self {
        Self::from_articles(crate::demo::demo_articles()).expect("shipped articles are valid")
    }

    /// The analyser in use.
    pub fn analyzer(&self) -> &Arc<Analyzer> {
        &self.analyzer
    }

    /// The articles and their history.
    pub fn repo(&self) -> &ArticleRepo {
        &self.repo
    }

    /// The index (for statistics).
    pub fn index(&self) -> &SearchIndex {
        &self.index
    }

    /// Number of indexed (published) articles.
    pub fn indexed_len(&self) -> usize {
        self.docs.len()
    }

    /// The published version of an article.
    pub fn get(&self, id: &str) -> Option<&Article> {
        self.repo.published(id)
    }

    /// Rebuilds the index over the published versions.
    pub fn reindex(&mut self) {
        let published: Vec<&Article> = self.repo.all_published().collect();
        let tags: Vec<String> = published
            .iter()
            .map(|a| {
                let mut t = a.tags.join(" ");
                let name = owner_name(&a.owner_unit);
                if !name.is_empty() {
                    t.push(' ');
                    t.push_str(name);
                }
                t
            })
            .collect();
        let places: Vec<Vec<PlaceRef>> = published
            .iter()
            .map(|a| article_places(&self.analyzer, a))
            .collect();
        let texts: Vec<DocText<'_>> = published
            .iter()
            .zip(&tags)
            .zip(&places)
            .map(|((a, t), p)| DocText {
                question: &a.question,
                tags: t,
                answer: &a.answer,
                basis: &a.policy_basis,
                places: p.clone(),
            })
            .collect();
        self.index = SearchIndex::build(&self.analyzer, self.params.clone(), &texts, self.threads);
        self.docs = published
            .iter()
            .zip(places)
            .map(|(a, places)| DocRef {
                id: a.id.clone(),
                version: a.version,
                places,
            })
            .collect();
    }

    /// Saves a draft (see [`ArticleRepo::save_draft`]); search is unaffected until approval.
    pub fn save_draft(&mut self, a: Article) -> Result<Article, KbError> {
        self.repo.save_draft(a).cloned()
    }

    /// Draft → in review.
    pub fn submit(&mut self, id: &str) -> Result<Article, KbError> {
        self.repo.submit(id).cloned()
    }

    /// In review → draft.
    pub fn reject(&mut self, id: &str) -> Result<Article, KbError> {
        self.repo.reject(id).cloned()
    }

    /// In review → published (the previous version retired); the index is rebuilt.
    pub fn approve(&mut self, id: &str, reviewer: &str) -> Result<Article, KbError> {
        let a = self.repo.approve(id, reviewer)?.clone();
        self.reindex();
        Ok(a)
    }

    /// Published → retired; the index is rebuilt.
    pub fn retire(&mut self, id: &str) -> Result<Article, KbError> {
        let a = self.repo.retire(id)?.clone();
        self.reindex();
        Ok(a)
    }

    /// Analyses a query against the index.
    pub fn prepare(&self, query: &str) -> PreparedQuery {
        self.index.prepare(&self.analyzer, query)
    }

    /// The best `opts.limit` published articles valid on `opts.on` for `query`, as
    /// `(article, score, confidence)` without highlighting.
    pub fn search_articles(&self, query: &str, opts: &SearchOptions) -> Vec<(&Article, f32, f32)> {
        let q = self.prepare(query);
        self.ranked(&q, opts)
            .into_iter()
            .map(|(_, a, s)| (a, s, confidence(s, &q)))
            .collect()
    }

    fn ranked(&self, q: &PreparedQuery, opts: &SearchOptions) -> Vec<(u32, &Article, f32)> {
        let top = self.index.top_k(q, opts.limit, |d| {
            let r = &self.docs[d as usize];
            let Some(a) = self.repo.version(&r.id, r.version) else {
                return false;
            };
            opts.on.map_or(
                a.status == crate::article::ArticleStatus::Published,
                |day| a.searchable_on(day),
            ) && opts
                .category
                .as_deref()
                .is_none_or(|c| a.categories.iter().any(|x| x.starts_with(c)))
                && opts.owner_unit.as_deref().is_none_or(|u| a.owner_unit == u)
        });
        top.into_iter()
            .filter_map(|(d, s)| {
                let r = &self.docs[d as usize];
                self.repo.version(&r.id, r.version).map(|a| (d, a, s))
            })
            .collect()
    }

    /// Ranked search with highlighting: the best `opts.limit` published articles valid on
    /// `opts.on`.
    pub fn search(&self, query: &str, opts: &SearchOptions) -> Vec<Hit> {
        let q = self.prepare(query);
        self.ranked(&q, opts)
            .into_iter()
            .map(|(d, a, score)| self.hit(d, a, score, &q, opts))
            .collect()
    }

    fn hit(&self, d: u32, a: &Article, score: f32, q: &PreparedQuery, opts: &SearchOptions) -> Hit {
        let place_match = !q.places.is_empty() && {
            let mine = &self.docs[d as usize].places;
            q.places.iter().any(|qp| {
                mine.iter().any(|p| {
                    p.district == qp.district
                        && (qp.street.is_none() || p.street.is_none() || p.street == qp.street)
                })
            })
        };
        Hit {
            id: a.id.clone(),
            version: a.version,
            score,
            confidence: confidence(score, q),
            question_html: highlight(&a.question, &q.needles),
            snippet_html: snippet(&a.answer, &q.needles, opts.snippet_chars),
            owner_unit: a.owner_unit.clone(),
            categories: a.categories.clone(),
            place_match,
        }
    }

    /// 0.7 for a place-specific article (a district's or street's) when the question names no
    /// place, else 1.
    fn place_factor(&self, d: u32, q: &PreparedQuery) -> f32 {
        if q.places.is_empty() && !self.docs[d as usize].places.is_empty() {
            0.7
        } else {
            1.0
        }
    }

    /// The virtual agent's candidates for `question` with their figures, best first (for
    /// diagnostics and tuning).
    pub fn agent_candidates(
        &self,
        question: &str,
        on: Option<NaiveDate>,
    ) -> Vec<(String, Judgement)> {
        let opts = SearchOptions {
            limit: 8,
            on,
            ..SearchOptions::default()
        };
        let q = self.prepare(question);
        let aq = AgentQuery::new(&self.analyzer, question);
        let mut v: Vec<(String, Judgement)> = self
            .ranked(&q, &opts)
            .iter()
            .map(|(d, a, s)| {
                let mut j = aq.judge(
                    &self.analyzer,
                    &self.index,
                    &a.question,
                    &a.tags.join(" "),
                    &a.answer,
                    confidence(*s, &q),
                );
                j.score *= self.place_factor(*d, &q);
                (a.id.clone(), j)
            })
            .collect();
        v.sort_by(|x, y| y.1.score.total_cmp(&x.1.score));
        v
    }

    /// The virtual agent with the default thresholds except `min_confidence` (e.g.
    /// [`DEFAULT_ANSWER_CONFIDENCE`]); see [`KnowledgeBase::answer_with`].
    pub fn answer(&self, question: &str, min_confidence: f32, on: Option<NaiveDate>) -> AgentReply {
        let th = AgentThresholds {
            min_confidence,
            ..AgentThresholds::default()
        };
        self.answer_with(question, &th, on)
    }

    /// The virtual agent: answers from an article only when it covers the question (see
    /// [`crate::agent`]: BM25 confidence, query and article coverage, scope), otherwise hands
    /// over to a new ticket pre-filled with the question, the likely category and the place
    /// named, and says why (`handover_reason`).
    pub fn answer_with(
        &self,
        question: &str,
        th: &AgentThresholds,
        on: Option<NaiveDate>,
    ) -> AgentReply {
        let opts = SearchOptions {
            limit: 8,
            on,
            ..SearchOptions::default()
        };
        let q = self.prepare(question);
        let ranked = self.ranked(&q, &opts);
        let aq = AgentQuery::new(&self.analyzer, question);
        // re-rank the candidates by how well each covers the question (and is covered by it)
        let mut judged: Vec<(usize, Judgement)> = ranked
            .iter()
            .enumerate()
            .map(|(i, (d, a, s))| {
                let tags = a.tags.join(" ");
                let mut j = aq.judge(
                    &self.analyzer,
                    &self.index,
                    &a.question,
                    &tags,
                    &a.answer,
                    confidence(*s, &q),
                );
                j.score *= self.place_factor(*d, &q);
                (i, j)
            })
            .collect();
        judged.sort_by(|x, y| y.1.score.total_cmp(&x.1.score).then(x.0.cmp(&y.0)));
        // related articles: only those that cover a fair part of the question (the heating
        // article is not "related" to a question about the weather)
        let hits: Vec<Hit> = judged
            .iter()
            .filter(|(_, j)| j.query_coverage >= 0.5 * th.min_query_coverage)
            .take(4)
            .map(|&(i, _)| {
                let (d, a, s) = &ranked[i];
                self.hit(*d, a, *s, &q, &opts)
            })
            .collect();
        let reason = match judged.first() {
            _ if aq.out_of_town() => Some(HandoverReason::OutOfTown),
            _ if aq.is_empty() => Some(HandoverReason::NoMatch),
            None => Some(HandoverReason::NoMatch),
            Some((_, j)) => {
                let second = judged.get(1).map(|(_, j)| j.score).unwrap_or(0.0);
                if j.confidence < th.min_confidence
                    || j.query_coverage < th.min_query_coverage
                    || j.article_coverage < th.min_article_coverage
                {
                    Some(HandoverReason::NotCovered)
                } else if (second > 0.0 && j.score < th.min_margin * second)
                    || (j.article_coverage < th.clear_article_coverage
                        && judged
                            .iter()
                            .skip(1)
                            .any(|(_, o)| o.query_coverage >= j.query_coverage - 0.05))
                {
                    Some(HandoverReason::Ambiguous)
                } else {
                    None
                }
            }
        };
        match (reason, judged.first()) {
            (None, Some((i, j))) => {
                let (_, a, _) = &ranked[*i];
                AgentReply {
                    answer: Some(AgentAnswer {
                        article_id: a.id.clone(),
                        version: a.version,
                        question: a.question.clone(),
                        answer: a.answer.clone(),
                        policy_basis: a.policy_basis.clone(),
                        owner_unit: a.owner_unit.clone(),
                        confidence: j.confidence,
                        query_coverage: j.query_coverage,
                        article_coverage: j.article_coverage,
                    }),
                    suggestions: hits.into_iter().skip(1).take(3).collect(),
                    handover: None,
                    handover_reason: None,
                }
            }
            (reason, _) => {
                let place = q
                    .places
                    .iter()
                    .find(|p| p.street.is_some())
                    .or(q.places.first());
                let out_of_town = reason == Some(HandoverReason::OutOfTown);
                AgentReply {
                    answer: None,
                    handover: Some(TicketDraft {
                        text: question.trim().to_string(),
                        // the category of the best related article (none when nothing is
                        // related: a weather question gets no heating category)
                        category_code: hits
                            .first()
                            .filter(|_| !out_of_town)
                            .and_then(|h| h.categories.first().cloned()),
                        district_code: place.map(|p| p.district.clone()),
                        street_code: place.and_then(|p| p.street.clone()),
                    }),
                    // related articles only when the question is about this city at all
                    suggestions: if out_of_town || aq.is_empty() {
                        Vec::new()
                    } else {
                        hits.into_iter().take(3).collect()
                    },
                    handover_reason: reason.or(Some(HandoverReason::NoMatch)),
                }
            }
        }
    }
}

impl Default for KnowledgeBase {
    fn default() -> Self {
        Self::new()
    }
}

fn confidence(score: f32, q: &PreparedQuery) -> f32 {
    if q.max_score > 0.0 {
        (score / q.max_score).clamp(0.0, 1.0)
    } else {
        0.0
    }
}
