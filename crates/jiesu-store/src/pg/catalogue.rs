//! Duty catalogue versions in PostgreSQL (the twin of `sqlite/catalogue.rs`).

use super::conn::{Conn, RowExt};
use super::PgStore;
use crate::time::fmt;
use crate::{CatalogueStore, CatalogueVersion, Result, StoreError};
use chrono::{DateTime, Utc};

fn version_row(r: &postgres::Row, with_csv: bool) -> Result<CatalogueVersion> {
    Ok(CatalogueVersion {
        version: r.get_i64(0)?,
        status: r.get_str(1)?,
        created_at: r.get_str(2)?,
        created_by: r.get_str(3)?,
        note: r.get_opt_str(4)?,
        rules: r.get_i64(5)? as usize,
        csv: if with_csv {
            r.get_str(6)?
        } else {
            String::new()
        },
    })
}

impl CatalogueStore for PgStore {
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
        self.write(move |c: &mut Conn| {
            if st == "published" {
                c.exec(
                    "UPDATE catalogues SET status='superseded' WHERE status='published'",
                    &[],
                )?;
            }
            // One draft at a time: a newer draft (an upload or an edit) replaces the previous one.
            if st == "draft" {
                c.exec(
                    "UPDATE catalogues SET status='replaced' WHERE status='draft'",
                    &[],
                )?;
            }
            // `version` is SQLite's rowid there (the largest + 1); here it is given the same way,
            // safely, since every write runs on the one writer connection
            c.query_one(
                "INSERT INTO catalogues (version, status, created_at, created_by, note, rules, csv)
                 VALUES ((SELECT COALESCE(MAX(version), 0) + 1 FROM catalogues), ?1, ?2, ?3, ?4, ?5, ?6)
                 RETURNING version",
                &crate::pv![st, fmt(now), user, note, rules as i64, csv],
            )?
            .get_i64(0)
        })
    }

    fn catalogue(&self, status: &str) -> Result<Option<CatalogueVersion>> {
        let st = status.to_string();
        self.read(move |c| {
            c.query_opt(
                "SELECT version, status, created_at, created_by, note, rules, csv FROM catalogues
                 WHERE status=?1 ORDER BY version DESC LIMIT 1",
                &crate::pv![st],
            )?
            .map(|r| version_row(&r, true))
            .transpose()
        })
    }

    fn catalogue_history(&self) -> Result<Vec<CatalogueVersion>> {
        self.read(|c| {
            c.query(
                "SELECT version, status, created_at, created_by, note, rules FROM catalogues ORDER BY version DESC",
                &[],
            )?
            .iter()
            .map(|r| version_row(r, false))
            .collect()
        })
    }

    fn publish_catalogue(&self, version: i64) -> Result<()> {
        self.write(move |c: &mut Conn| {
            let n = c.exec(
                "UPDATE catalogues SET status='published' WHERE version=?1 AND status='draft'",
                &crate::pv![version],
            )?;
            if n == 0 {
                return Err(StoreError::Invalid {
                    field: "version".into(),
                    message: format!("no draft catalogue version {version}"),
                    message_zh: format!("草稿版本 {version} 不存在"),
                });
            }
            c.exec(
                "UPDATE catalogues SET status='superseded' WHERE status='published' AND version<>?1",
                &crate::pv![version],
            )?;
            Ok(())
        })
    }
}
