//! Knowledge-base article versions in SQLite.

use super::SqliteStore;
use crate::time::fmt;
use crate::{KbStore, KbVersionRow, Result};
use chrono::{DateTime, Utc};
use rusqlite::params;

const COLS: &str = "id, version, status, article, author, created_at, updated_at, reviewed_by, reviewed_at, review_note";

fn row(r: &rusqlite::Row) -> rusqlite::Result<KbVersionRow> {
    Ok(KbVersionRow {
        id: r.get(0)?,
        version: r.get(1)?,
        status: r.get(2)?,
        article: r.get(3)?,
        author: r.get(4)?,
        created_at: r.get(5)?,
        updated_at: r.get(6)?,
        reviewed_by: r.get(7)?,
        reviewed_at: r.get(8)?,
        review_note: r.get(9)?,
    })
}

impl KbStore for SqliteStore {
    /// How many article versions are stored.
    fn kb_version_count(&self) -> Result<u64> {
        self.read(|c| {
            let n: i64 = c.query_row("SELECT COUNT(*) FROM kb_articles", [], |r| r.get(0))?;
            Ok(n as u64)
        })
    }

    /// Writes versions in one transaction (insert, or replace the row of the same id and version).
    fn kb_put_versions(&self, rows: Vec<KbVersionRow>) -> Result<()> {
        self.write(move |c| {
            let mut s = c.prepare_cached(
                "INSERT INTO kb_articles (id, version, status, article, author, created_at, updated_at,
                   reviewed_by, reviewed_at, review_note)
                 VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)
                 ON CONFLICT (id, version) DO UPDATE SET status=excluded.status,
                   article=excluded.article, author=excluded.author, updated_at=excluded.updated_at,
                   reviewed_by=excluded.reviewed_by, reviewed_at=excluded.reviewed_at,
                   review_note=excluded.review_note",
            )?;
            for r in &rows {
                s.execute(params![
                    r.id,
                    r.version,
                    r.status,
                    r.article,
                    r.author,
                    r.created_at,
                    r.updated_at,
                    r.reviewed_by,
                    r.reviewed_at,
                    r.review_note
                ])?;
            }
            Ok(())
        })
    }

    /// Every stored version, by id then version.
    fn kb_all_versions(&self) -> Result<Vec<KbVersionRow>> {
        self.read(|c| {
            let mut s = c.prepare(&format!(
                "SELECT {COLS} FROM kb_articles ORDER BY id, version"
            ))?;
            let rows = s.query_map([], row)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    /// The versions of one article, oldest first.
    fn kb_versions(&self, id: &str) -> Result<Vec<KbVersionRow>> {
        let id = id.to_string();
        self.read(move |c| {
            let mut s = c.prepare(&format!(
                "SELECT {COLS} FROM kb_articles WHERE id=?1 ORDER BY version"
            ))?;
            let rows = s.query_map([id], row)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    /// Knowledge-base use in `[from, to)`: (tickets taken in, answered directly, per-article counts).
    #[allow(clippy::type_complexity)]
    fn kb_usage(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<(i64, i64, Vec<(String, i64)>)> {
        self.read(move |c| {
            let (f, t) = (fmt(from), fmt(to));
            let created: i64 = c.query_row(
                "SELECT COUNT(*) FROM events WHERE kind='created' AND at >= ?1 AND at < ?2",
                params![f, t],
                |r| r.get(0),
            )?;
            let answered: i64 = c.query_row(
                "SELECT COUNT(*) FROM events WHERE kind='answered_directly' AND at >= ?1 AND at < ?2",
                params![f, t],
                |r| r.get(0),
            )?;
            let mut s = c.prepare(
                "SELECT json_extract(payload, '$.article_id') a, COUNT(*) FROM events
                 WHERE kind='answered_directly' AND at >= ?1 AND at < ?2 AND a IS NOT NULL
                 GROUP BY a ORDER BY 2 DESC, a",
            )?;
            let rows = s.query_map(params![f, t], |r| Ok((r.get(0)?, r.get(1)?)))?;
            Ok((created, answered, rows.collect::<rusqlite::Result<_>>()?))
        })
    }
}
