//! Duty catalogue versions in SQLite.

use super::*;

impl CatalogueStore for SqliteStore {
    fn save_catalogue(
        &self,
        status: &str,
        csv: &str,
        rules: usize,
        user: &str,
        note: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<i64> {
        let (st, csv, user, note) = (
            status.to_string(),
            csv.to_string(),
            user.to_string(),
            note.map(str::to_string),
        );
        self.write(move |c| {
            if st == "published" {
                c.execute("UPDATE catalogues SET status='superseded' WHERE status='published'", [])?;
            }
            // One draft at a time: a newer draft (an upload or an edit) replaces the previous one.
            if st == "draft" {
                c.execute("UPDATE catalogues SET status='replaced' WHERE status='draft'", [])?;
            }
            c.execute(
                "INSERT INTO catalogues (status, created_at, created_by, note, rules, csv) VALUES (?1,?2,?3,?4,?5,?6)",
                params![st, fmt(now), user, note, rules as i64, csv],
            )?;
            Ok(c.last_insert_rowid())
        })
    }

    fn catalogue(&self, status: &str) -> Result<Option<CatalogueVersion>> {
        let st = status.to_string();
        self.read(move |c| {
            Ok(c.query_row(
                "SELECT version, status, created_at, created_by, note, rules, csv FROM catalogues
                 WHERE status=?1 ORDER BY version DESC LIMIT 1",
                [st],
                |r| {
                    Ok(CatalogueVersion {
                        version: r.get(0)?,
                        status: r.get(1)?,
                        created_at: r.get(2)?,
                        created_by: r.get(3)?,
                        note: r.get(4)?,
                        rules: r.get::<_, i64>(5)? as usize,
                        csv: r.get(6)?,
                    })
                },
            )
            .optional()?)
        })
    }

    fn catalogue_history(&self) -> Result<Vec<CatalogueVersion>> {
        self.read(|c| {
            let mut s = c.prepare(
                "SELECT version, status, created_at, created_by, note, rules FROM catalogues ORDER BY version DESC",
            )?;
            let rows = s.query_map([], |r| {
                Ok(CatalogueVersion {
                    version: r.get(0)?,
                    status: r.get(1)?,
                    created_at: r.get(2)?,
                    created_by: r.get(3)?,
                    note: r.get(4)?,
                    rules: r.get::<_, i64>(5)? as usize,
                    csv: String::new(),
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    fn publish_catalogue(&self, version: i64) -> Result<()> {
        self.write(move |c| {
            let n = c.execute("UPDATE catalogues SET status='published' WHERE version=?1 AND status='draft'", [version])?;
            if n == 0 {
                return Err(StoreError::Invalid {
                    field: "version".into(),
                    message: format!("no draft catalogue version {version}"),
                    message_zh: format!("草稿版本 {version} 不存在"),
                });
            }
            c.execute("UPDATE catalogues SET status='superseded' WHERE status='published' AND version<>?1", [version])?;
            Ok(())
        })
    }
}
