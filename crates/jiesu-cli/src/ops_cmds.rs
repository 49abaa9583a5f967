//! `jiesu backup` and `jiesu restore`: the command-line side of the store's online backup
//! (`jiesu_store::backup_sqlite`, `restore_sqlite`; for a `postgres://` URL `backup_postgres`,
//! `restore_postgres`, which run `pg_dump` / `pg_restore` on one snapshot and check the
//! restored city against the backup's manifest).

use anyhow::{bail, Result};
use jiesu_store::BackupReport;
use std::path::{Path, PathBuf};

/// Where a database is: `--db`'s value.
#[derive(Debug, PartialEq)]
pub enum DbLocation {
    /// An SQLite file.
    File(PathBuf),
    /// A PostgreSQL connection URL.
    Postgres(String),
}

impl DbLocation {
    /// Reads `--db`: a `postgres://` / `postgresql://` URL, another `scheme://` (refused), or a
    /// file path.
    pub fn parse(s: &str, flag: &str) -> Result<DbLocation> {
        let t = s.trim();
        if t.is_empty() {
            bail!("{flag} is empty: give a database file path\n{flag} 为空：请给出数据库文件路径");
        }
        let lower = t.to_ascii_lowercase();
        if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
            return Ok(DbLocation::Postgres(t.to_string()));
        }
        if let Some((scheme, _)) = t.split_once("://") {
            if !scheme.is_empty()
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '+')
            {
                bail!(
                    "{flag} {t:?}: unknown database kind {scheme:?}; give an SQLite file path or a postgres:// URL\n\
                     {flag}：不支持的数据库类型 {scheme:?}，请给出 SQLite 文件路径或 postgres:// 地址"
                );
            }
        }
        Ok(DbLocation::File(PathBuf::from(t)))
    }
}

fn print_report(verb: &str, r: &BackupReport) {
    let fp = &r.fingerprint;
    let events: u64 = fp.rows("events");
    println!(
        "{verb} {}: {} tables, {} tickets, {} events; every table's rows and every ticket's events match the source",
        r.written.display(),
        fp.tables.len(),
        fp.rows("tickets"),
        events
    );
    for t in &fp.tables {
        println!(
            "  {:<22} {:>10} rows  sha256 {}",
            t.name,
            t.rows,
            t.sha256.get(..16).unwrap_or(&t.sha256)
        );
    }
    for (from, to) in &r.copied {
        println!("key file {} → {}", from.display(), to.display());
    }
    let a = &r.attachments;
    if a.files > 0 || !a.missing.is_empty() {
        println!(
            "attachments: {} files, {} bytes copied to {}",
            a.files,
            a.bytes,
            a.to.display()
        );
    }
    for m in &a.missing {
        println!("NOTE: {m} (附件文件缺失或大小不符)");
    }
    for n in &r.notes {
        println!("NOTE: {n}");
    }
}

/// `jiesu backup --db DB --out FILE [--force]`.
pub fn backup(db: &str, out: &Path, force: bool) -> Result<()> {
    match DbLocation::parse(db, "--db")? {
        DbLocation::Postgres(url) => {
            let r = jiesu_store::backup_postgres(&url, out, force)?;
            print_report("backup written to", &r);
            Ok(())
        }
        DbLocation::File(p) => {
            if let DbLocation::Postgres(_) = DbLocation::parse(&out.to_string_lossy(), "--out")? {
                bail!("--out is a file path, not a URL\n--out 应为文件路径");
            }
            let r = jiesu_store::backup_sqlite(&p, out, force)?;
            print_report("backup written to", &r);
            Ok(())
        }
    }
}

/// `jiesu restore --from FILE --db NEW [--force]`.
pub fn restore(from: &Path, db: &str, force: bool) -> Result<()> {
    match DbLocation::parse(db, "--db")? {
        DbLocation::Postgres(url) => {
            let r = jiesu_store::restore_postgres(from, &url, force)?;
            print_report("restored into", &r);
            Ok(())
        }
        DbLocation::File(p) => {
            let r = jiesu_store::restore_sqlite(from, &p, force)?;
            print_report("restored into", &r);
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_are_files_or_postgres_urls() {
        assert_eq!(
            DbLocation::parse("city.db", "--db").unwrap(),
            DbLocation::File("city.db".into())
        );
        assert!(matches!(
            DbLocation::parse("postgres://u@h/city", "--db").unwrap(),
            DbLocation::Postgres(_)
        ));
        assert!(DbLocation::parse("mysql://h/city", "--db").is_err());
        assert!(DbLocation::parse(" ", "--db").is_err());
    }
}
