//! Knowledge-base article versions in PostgreSQL (the twin of `sqlite/kb.rs`).

use super::conn::{Conn, RowExt};
use super::PgStore;
use crate::time::fmt;
use crate::{KbStore, KbVersionRow, Result};
use chrono::{DateTime, Utc};

const COLS: &str = "id, version, status, article, author, created_at, updated_at, reviewed_by, reviewed_at, review_note";

fn row(r: &postgres::Row) -> Result<KbVersionRow> {
    Ok(KbVersionRow {
        id: r.get_str(0)?,
        version: r.get_u32(1)?,
        status: r.get_str(2)?,
        article: r.get_str(3)?,
        author: r.get_str(4)?,
        created_at: r.get_str(5)?,
        updated_at: r.get_str(6)?,
        reviewed_by: r.get_opt_str(7)?,
        reviewed_at: r.get_opt_str(8)?,
        review_note: r.get_opt_str(9)?,
    })
}

impl KbStore for PgStore {
    /// How many article versions are stored.
    fn kb_version_count(&self) -> Result<u64> {
        self.read(|c| {
            let n = c
                .query_one("SELECT COUNT(*) FROM kb_articles", &[])?
                .get_i64(0)?;
            Ok(n as u64)
        })
    }

    /// Writes versions in one transaction (insert, or replace the row of the same id and version).
    fn kb_put_versions(&self, rows: Vec<KbVersionRow>) -> Result<()> {
        self.write(move |c: &mut Conn| {
            for r in &rows {
                c.exec(
                    "INSERT INTO kb_articles (id, version, status, article, author, created_at, updated_at,
                       reviewed_by, reviewed_at, review_note)
                     VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)
                     ON CONFLICT (id, version) DO UPDATE SET status=excluded.status,
                       article=excluded.article, author=excluded.author, updated_at=excluded.updated_at,
                       reviewed_by=excluded.reviewed_by, reviewed_at=excluded.reviewed_at,
                       review_note=excluded.review_note",
                    &crate::pv![
                        &r.id,
                        r.version,
                        &r.status,
                        &r.article,
                        &r.author,
                        &r.created_at,
                        &r.updated_at,
                        &r.reviewed_by,
                        &r.reviewed_at,
                        &r.review_note
                    ],
                )?;
            }
            Ok(())
        })
    }

    /// Every stored version, by id then version (ids in code-point order, as in SQLite).
    fn kb_all_versions(&self) -> Result<Vec<KbVersionRow>> {
        self.read(|c| {
            c.query(
                &format!("SELECT {COLS} FROM kb_articles ORDER BY id COLLATE \"C\", version"),
                &[],
            )?
            .iter()
            .map(row)
            .collect()
        })
    }

    /// The versions of one article, oldest first.
    fn kb_versions(&self, id: &str) -> Result<Vec<KbVersionRow>> {
        let id = id.to_string();
        self.read(move |c| {
            c.query(
                &format!("SELECT {COLS} FROM kb_articles WHERE id=?1 ORDER BY version"),
                &crate::pv![id],
            )?
            .iter()
            .map(row)
            .collect()
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
            let created = c
                .query_one(
                    "SELECT COUNT(*) FROM events WHERE kind='created' AND at >= ?1 AND at < ?2",
                    &crate::pv![&f, &t],
                )?
                .get_i64(0)?;
            let answered = c
                .query_one(
                    "SELECT COUNT(*) FROM events WHERE kind='answered_directly' AND at >= ?1 AND at < ?2",
                    &crate::pv![&f, &t],
                )?
                .get_i64(0)?;
            // PostgreSQL cannot name a select-list alias in WHERE: the article id is taken out in
            // a subquery (`json_extract(payload, '$.article_id')` in SQLite)
            let per_article = c
                .query(
                    "SELECT a, COUNT(*) FROM (
                       SELECT payload::json ->> 'article_id' AS a FROM events
                       WHERE kind='answered_directly' AND at >= ?1 AND at < ?2) x
                     WHERE a IS NOT NULL GROUP BY a ORDER BY 2 DESC, a COLLATE \"C\"",
                    &crate::pv![f, t],
                )?
                .iter()
                .map(|r| Ok((r.get_str(0)?, r.get_i64(1)?)))
                .collect::<Result<_>>()?;
            Ok((created, answered, per_article))
        })
    }
}
