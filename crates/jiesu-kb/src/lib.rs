//! # jiesu-kb
//!
//! The knowledge base (知识库) of a 12345 hotline and the duplicate finder (合并):
//!
//! - [`article`] — articles with answer scripts (口径), policy basis, owner unit, categories,
//!   tags, validity dates, versions and review (`draft → in_review → published → retired`).
//! - [`KnowledgeBase`] — the articles plus a ranked search over the published ones: BM25F over
//!   the shared jieba [`Analyzer`](jiesu_text::Analyzer)'s words and character bigrams, field
//!   boosts (question > tags > answer), a shipped synonym table, place awareness (a query naming
//!   a district or street finds that place's articles) and `<mark>` highlighting; the virtual
//!   agent's answer-or-hand-over.
//! - [`demo_articles`] — the demo city's articles, written for this project.
//! - [`dup`] — "possibly the same as #…": text similarity + place + category + time window, with
//!   reasons; batch clustering.
//! - [`mod@bench`] — `jiesu bench kb`: latency and recall@3 against a reference engine (SQLite
//!   FTS5 trigram, in the benchmark-only `jiesu-kb-bench` crate).
//! - [`realdata`] — loader for the real message/reply set used to measure quality.
//!
//! See `docs/KB.md`.

pub mod agent;
pub mod agent_eval;
pub mod article;
pub mod bench;
pub mod demo;
pub mod dup;
pub mod highlight;
pub mod index;
pub mod kb;
pub mod realdata;
pub mod rng;
pub mod synth;
pub mod text;

pub use agent::AgentThresholds;
pub use article::{Article, ArticleRepo, ArticleStatus, KbError};
pub use bench::{run_bench_kb, BenchKbArgs};
pub use demo::demo_articles;
pub use dup::{cluster, find_duplicates, DupConfig, Match, Reason, TicketLite};
pub use index::{RankParams, SearchIndex};
pub use kb::{
    AgentAnswer, AgentReply, HandoverReason, Hit, KnowledgeBase, SearchOptions, TicketDraft,
    DEFAULT_ANSWER_CONFIDENCE,
};
