//! 每月一题 topics and their versions in PostgreSQL (the twin of `sqlite/topics.rs`).

use super::conn::{Conn, RowExt};
use super::PgStore;
use crate::time::fmt;
use crate::{NewTopicVersion, Result, StoreError, TopicStore, TopicVersion};

const COLS: &str = "topic_id, version, month, theme, lead_unit, body, actor, note, created_at";

fn topic_row(r: &postgres::Row) -> Result<TopicVersion> {
    Ok(TopicVersion {
        topic_id: r.get_i64(0)?,
        version: r.get_i64(1)?,
        month: r.get_str(2)?,
        theme: r.get_str(3)?,
        lead_unit: r.get_str(4)?,
        body: r.get_str(5)?,
        actor: r.get_str(6)?,
        note: r.get_str(7)?,
        created_at: r.get_str(8)?,
    })
}

fn insert(c: &mut Conn, id: i64, version: i64, v: NewTopicVersion) -> Result<TopicVersion> {
    let row = TopicVersion {
        topic_id: id,
        version,
        month: v.month,
        theme: v.theme,
        lead_unit: v.lead_unit,
        body: v.body,
        actor: v.actor,
        note: v.note,
        created_at: fmt(v.now),
    };
    c.exec(
        &format!("INSERT INTO monthly_topics ({COLS}) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9)"),
        &crate::pv![
            row.topic_id,
            row.version,
            &row.month,
            &row.theme,
            &row.lead_unit,
            &row.body,
            &row.actor,
            &row.note,
            &row.created_at
        ],
    )?;
    Ok(row)
}

impl TopicStore for PgStore {
    fn adopt_topic(&self, v: NewTopicVersion) -> Result<TopicVersion> {
        self.write(move |c: &mut Conn| {
            let id = c
                .query_opt(
                    "SELECT COALESCE(MAX(topic_id), 0) + 1 FROM monthly_topics",
                    &crate::pv![],
                )?
                .ok_or_else(|| StoreError::Db("no topic id".into()))?
                .get_i64(0)?;
            insert(c, id, 1, v)
        })
    }

    fn revise_topic(&self, id: i64, expected: i64, v: NewTopicVersion) -> Result<TopicVersion> {
        self.write(move |c: &mut Conn| {
            let current = c
                .query_opt(
                    "SELECT version FROM monthly_topics WHERE topic_id=?1 ORDER BY version DESC LIMIT 1",
                    &crate::pv![id],
                )?
                .map(|r| r.get_i64(0))
                .transpose()?;
            let Some(current) = current else {
                return Err(StoreError::NotFound);
            };
            if current != expected {
                return Err(StoreError::Conflict(format!(
                    "topic {id} is at version {current}, not {expected}"
                )));
            }
            insert(c, id, current + 1, v)
        })
    }

    fn topics(&self) -> Result<Vec<TopicVersion>> {
        self.read(move |c| {
            c.query(
                &format!(
                    "SELECT {COLS} FROM monthly_topics t WHERE version =
                       (SELECT MAX(version) FROM monthly_topics u WHERE u.topic_id = t.topic_id)
                     ORDER BY month DESC, topic_id DESC"
                ),
                &crate::pv![],
            )?
            .iter()
            .map(topic_row)
            .collect()
        })
    }

    fn topic_versions(&self, id: i64) -> Result<Vec<TopicVersion>> {
        self.read(move |c| {
            c.query(
                &format!("SELECT {COLS} FROM monthly_topics WHERE topic_id=?1 ORDER BY version"),
                &crate::pv![id],
            )?
            .iter()
            .map(topic_row)
            .collect()
        })
    }
}
