//! 数据平台 — the data platform: ticket facts in columns, one partition per city month
//! ([`facts`]), and what is computed from them. No IO and no clock: the store fills the partitions
//! (`jiesu_store::AnalyticsStore`), the HTTP layer and the CLI ask the questions.
#![warn(missing_docs)]

pub mod bulletin;
pub mod column;
pub mod dept_export;
pub mod export;
pub mod facts;
pub mod query;
pub mod render;
pub mod report;
pub mod synth;

pub use column::{Column, ColumnBytes};
pub use facts::{Dict, FactError, FactPartition, LocalMonth, TicketFact, TicketFacts};
pub use query::{Dim, Engine, Filter, Grouped, Measures, QueryError, Scope};
