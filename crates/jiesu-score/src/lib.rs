//! # jiesu-score
//!
//! Scoring (考核评价) of the units that handle 12345 requests: the monthly 三率 (响应率, 解决率,
//! 满意率), a composite score and a rank for every street/town, district, city department and
//! state-owned enterprise, each figure traceable to the assignments and the policy behind it.
//!
//! - [`policy`] — the scoring policy as data (TOML), versioned by month, validated.
//! - [`facts`] — the columnar [`FactTable`] built from the store's assignment facts, and its
//!   compact file kept beside the database.
//! - [`score()`] / [`score_levels`] — the scorecard: counts, rates, composite, rank with ties, 95 %
//!   Wilson intervals, case-mix adjusted rates, 万人诉求比 / 基数诉求比, 行业三率.
//! - [`drill()`] — the assignments behind one figure of a unit's line (下钻), chosen by the same
//!   per-row verdict as the score, so their number is the figure.
//! - [`output`] — the scorecard as CSV or JSON, the export of assignment facts as CSV.
//! - [`service`] — scorecards straight from a database (the entry point for CLI and HTTP).
//! - [`cli`] — clap types and run functions for `jiesu score`, `jiesu export tickets|facts`,
//!   `jiesu policy check|default` and `jiesu bench score`.
//!
//! docs/SCORING.md describes the rules; the tests pin the shipped default policy.

pub mod bench;
pub mod cli;
pub mod drill;
pub mod facts;
pub mod month;
pub mod output;
pub mod policy;
pub mod score;
pub mod service;
pub mod stats;

pub use drill::{drill, Drill, DrillError, DrillRow, Measure, Scope};
pub use facts::{load_facts, CacheMode, Columns, FactTable, FactTableBuilder};
pub use month::Month;
pub use policy::{Policy, PolicyError, PolicySet};
pub use score::{
    score, score_levels, score_with, Level, ScoreError, ScoreOptions, Scorecard, UnitScore,
};
