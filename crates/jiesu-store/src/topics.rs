//! 每月一题 — adopted topics of the month. A topic is stored as versions: adopting writes version
//! 1, every edit appends the next version of the whole record (theme, problems and their ticket
//! rules, plan, lists) with who changed it, when and why; nothing is overwritten, so every change
//! and every rule that measured the outcome stays readable. The record itself is JSON that
//! `jiesu_governance::monthly::Topic` defines; the store keeps the columns it lists by.

use crate::Result;
use chrono::{DateTime, Utc};
use serde::Serialize;

/// One version of a topic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TopicVersion {
    pub topic_id: i64,
    /// 1 when adopted, +1 per change.
    pub version: i64,
    /// YYYY-MM.
    pub month: String,
    pub theme: String,
    /// The lead city department's unit code.
    pub lead_unit: String,
    /// The whole record as JSON.
    pub body: String,
    /// Who wrote this version.
    pub actor: String,
    /// Why (empty for the adoption).
    pub note: String,
    pub created_at: String,
}

/// What a new version holds.
#[derive(Debug, Clone)]
pub struct NewTopicVersion {
    pub month: String,
    pub theme: String,
    pub lead_unit: String,
    pub body: String,
    pub actor: String,
    pub note: String,
    pub now: DateTime<Utc>,
}

/// Adopted topics (每月一题) and all their versions.
pub trait TopicStore: Send + Sync {
    /// Adopts a new topic: its version 1.
    fn adopt_topic(&self, v: NewTopicVersion) -> Result<TopicVersion>;
    /// Appends the next version of topic `id` if its current version is `expected` (else
    /// `Conflict`: someone changed it meanwhile); `NotFound` when there is no such topic.
    fn revise_topic(&self, id: i64, expected: i64, v: NewTopicVersion) -> Result<TopicVersion>;
    /// The current version of every topic, newest month first (then newest topic).
    fn topics(&self) -> Result<Vec<TopicVersion>>;
    /// Every version of one topic, oldest first (empty when there is none).
    fn topic_versions(&self, id: i64) -> Result<Vec<TopicVersion>>;
}
