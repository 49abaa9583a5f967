//! Knowledge-base articles (知识库), durably: every version of every article with its review
//! state and who did what. The article itself is stored as JSON (its fields belong to
//! `jiesu-kb`, which the store does not depend on); the columns the workflow asks about — id,
//! version, status, author, reviewer — are columns. Rows are upserted by (id, version): a draft
//! is edited in place, a review changes its status; versions are never deleted.

use crate::{Result, SqliteStore};
use rusqlite::params;
use serde::Serialize;

/// One stored article version.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KbVersionRow {
    pub id: String,
    pub version: u32,
    /// `draft`, `in_review`, `published` or `retired`.
    pub status: String,
    /// The article (all fields) as JSON.
    pub article: String,
    /// Who wrote (last edited) this version.
    pub author: String,
    pub created_at: String,
    pub updated_at: String,
    pub reviewed_by: Option<String>,
    pub reviewed_at: Option<String>,
    /// The reviewer's note (why it was sent back, or remarks on approval).
    pub review_note: Option<String>,
}

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

impl SqliteStore {
    /// How many article versions are stored.
    pub fn kb_version_count(&self) -> Result<u64> {
        self.read(|c| {
            let n: i64 = c.query_row("SELECT COUNT(*) FROM kb_articles", [], |r| r.get(0))?;
            Ok(n as u64)
        })
    }

    /// Writes versions in one transaction (insert, or replace the row of the same id and version).
    pub fn kb_put_versions(&self, rows: Vec<KbVersionRow>) -> Result<()> {
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
    pub fn kb_all_versions(&self) -> Result<Vec<KbVersionRow>> {
        self.read(|c| {
            let mut s = c.prepare(&format!(
                "SELECT {COLS} FROM kb_articles ORDER BY id, version"
            ))?;
            let rows = s.query_map([], row)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    /// The versions of one article, oldest first.
    pub fn kb_versions(&self, id: &str) -> Result<Vec<KbVersionRow>> {
        let id = id.to_string();
        self.read(move |c| {
            let mut s = c.prepare(&format!(
                "SELECT {COLS} FROM kb_articles WHERE id=?1 ORDER BY version"
            ))?;
            let rows = s.query_map([id], row)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }
}

impl SqliteStore {
    /// How many tickets were created per category in `[from, to)` (UTC instants), most used
    /// first — the use counts of category search (`GET /api/v1/categories/search`).
    pub fn category_use_counts(
        &self,
        from: chrono::DateTime<chrono::Utc>,
        to: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<(String, i64)>> {
        self.read(move |c| {
            let mut s = c.prepare(
                "SELECT category_code, COUNT(*) FROM tickets WHERE created_at >= ?1 AND created_at < ?2
                 GROUP BY category_code ORDER BY 2 DESC, 1",
            )?;
            let rows = s.query_map(params![crate::time::fmt(from), crate::time::fmt(to)], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }
}
