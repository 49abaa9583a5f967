//! 每月一题 topics and their versions in SQLite.

use super::*;

const COLS: &str = "topic_id, version, month, theme, lead_unit, body, actor, note, created_at";

fn topic_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<TopicVersion> {
    Ok(TopicVersion {
        topic_id: r.get(0)?,
        version: r.get(1)?,
        month: r.get(2)?,
        theme: r.get(3)?,
        lead_unit: r.get(4)?,
        body: r.get(5)?,
        actor: r.get(6)?,
        note: r.get(7)?,
        created_at: r.get(8)?,
    })
}

fn insert(
    c: &rusqlite::Connection,
    id: i64,
    version: i64,
    v: NewTopicVersion,
) -> Result<TopicVersion> {
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
    c.execute(
        &format!("INSERT INTO monthly_topics ({COLS}) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9)"),
        params![
            row.topic_id,
            row.version,
            row.month,
            row.theme,
            row.lead_unit,
            row.body,
            row.actor,
            row.note,
            row.created_at
        ],
    )?;
    Ok(row)
}

impl TopicStore for SqliteStore {
    fn adopt_topic(&self, v: NewTopicVersion) -> Result<TopicVersion> {
        self.write(move |c| {
            let id: i64 = c.query_row(
                "SELECT COALESCE(MAX(topic_id), 0) + 1 FROM monthly_topics",
                [],
                |r| r.get(0),
            )?;
            insert(c, id, 1, v)
        })
    }

    fn revise_topic(&self, id: i64, expected: i64, v: NewTopicVersion) -> Result<TopicVersion> {
        self.write(move |c| {
            let current: Option<i64> = c.query_row(
                "SELECT MAX(version) FROM monthly_topics WHERE topic_id=?1",
                params![id],
                |r| r.get(0),
            )?;
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
            let mut s = c.prepare(&format!(
                "SELECT {COLS} FROM monthly_topics t WHERE version =
                   (SELECT MAX(version) FROM monthly_topics u WHERE u.topic_id = t.topic_id)
                 ORDER BY month DESC, topic_id DESC"
            ))?;
            let rows = s.query_map([], topic_row)?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    fn topic_versions(&self, id: i64) -> Result<Vec<TopicVersion>> {
        self.read(move |c| {
            let mut s = c.prepare(&format!(
                "SELECT {COLS} FROM monthly_topics WHERE topic_id=?1 ORDER BY version"
            ))?;
            let rows = s.query_map(params![id], topic_row)?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }
}
