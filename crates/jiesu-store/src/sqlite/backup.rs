//! Online backup and restore of an SQLite city (`jiesu backup`, `jiesu restore`).
//!
//! **Backup** opens the live database beside a running server (WAL: readers never block the
//! writer), starts one read transaction, fingerprints the database inside it and copies the same
//! snapshot page by page with SQLite's online backup API into `<out>.tmp` (one step, so the copy is
//! exactly that snapshot), switches the copy to a self-contained rollback-journal file, fingerprints
//! the copy and renames it to `<out>` only when both fingerprints agree. Page copies keep every row
//! id, so the event log's positions (the notification cursor's) are the same.
//!
//! **Restore** copies a backup into a new database file the same way and checks the same; with
//! the backup's key file put beside it, it opens one sealed ticket to prove the key file fits.
//!
//! The **fingerprint** is each table's row count and SHA-256 over its rows (in row-id order, every
//! column with its type), and one SHA-256 per ticket over its events (the hash-chained rows).
//!
//! **Key files** are never inside the database: the personal-data key file (`KeySource::Env`: the
//! file named by `JIESU_KEY_FILE`, else `<db>.keys`) is copied to `<out>.keys`, the ledger's
//! signing key (`JIESU_SIGNING_KEY_FILE`, else `<db>.signing-key`) to `<out>.signing-key`;
//! restore puts them beside the restored database. Keys handed over in `JIESU_KEYS` cannot be
//! copied: the report says so. Attachments (`<db>.attachments/`) are files, not rows: the files
//! the backed-up rows name are copied to `<out>.attachments/` and back on restore, each checked
//! against its row's size (`crate::attachment_files`).

use super::*;
use rusqlite::types::ValueRef;
use rusqlite::OpenFlags;
use sha2::{Digest, Sha256};

/// One table of a fingerprint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableFigure {
    pub name: String,
    pub rows: u64,
    /// SHA-256 over the table's rows, lower-case hex.
    pub sha256: String,
}

/// What a backup and its restore must agree on.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Fingerprint {
    /// Every table, by name.
    pub tables: Vec<TableFigure>,
    /// (ticket id, SHA-256 over its events), by ticket id.
    pub tickets: Vec<(i64, [u8; 32])>,
}

impl Fingerprint {
    /// The rows of `table` (0 if there is no such table).
    pub fn rows(&self, table: &str) -> u64 {
        self.tables
            .iter()
            .find(|t| t.name == table)
            .map_or(0, |t| t.rows)
    }

    /// What differs from `other`, in plain words (empty when they agree).
    pub fn differences(&self, other: &Fingerprint) -> Vec<String> {
        let mut out = Vec::new();
        for t in &self.tables {
            match other.tables.iter().find(|o| o.name == t.name) {
                None => out.push(format!("table {} is missing", t.name)),
                Some(o) if o.rows != t.rows => out.push(format!(
                    "table {}: {} rows, expected {}",
                    t.name, o.rows, t.rows
                )),
                Some(o) if o.sha256 != t.sha256 => {
                    out.push(format!("table {}: same row count, different rows", t.name))
                }
                _ => {}
            }
        }
        for o in &other.tables {
            if !self.tables.iter().any(|t| t.name == o.name) {
                out.push(format!("table {} is unexpected", o.name));
            }
        }
        if self.tickets.len() != other.tickets.len() {
            out.push(format!(
                "{} tickets with events, expected {}",
                other.tickets.len(),
                self.tickets.len()
            ));
        }
        let differ: Vec<i64> = self
            .tickets
            .iter()
            .zip(&other.tickets)
            .filter(|(a, b)| a != b)
            .map(|(a, _)| a.0)
            .take(5)
            .collect();
        if !differ.is_empty() {
            out.push(format!("the events of tickets {differ:?} differ"));
        }
        out
    }
}

/// What a backup or a restore did.
#[derive(Debug, Clone, Default)]
pub struct BackupReport {
    /// The database written.
    pub written: PathBuf,
    /// Its fingerprint (equal to the source's).
    pub fingerprint: Fingerprint,
    /// Key files copied beside it (from, to).
    pub copied: Vec<(PathBuf, PathBuf)>,
    /// What the operator must know (keys that could not be copied and the like).
    pub notes: Vec<String>,
    /// The attachment files copied beside it (`<out>.attachments/`).
    pub attachments: crate::attachment_files::CopiedAttachments,
}

/// The attachment rows of a database, for copying their files.
fn attachment_rows(c: &Connection) -> Result<Vec<crate::attachment_files::AttachmentFile>> {
    let mut s = c.prepare(
        "SELECT ticket_id, id, size, stored_path FROM attachments ORDER BY ticket_id, id",
    )?;
    let rows = s
        .query_map([], |r| {
            Ok(crate::attachment_files::AttachmentFile {
                ticket_id: r.get(0)?,
                id: r.get(1)?,
                size: r.get::<_, i64>(2)? as u64,
                stored_path: r.get(3)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Copies the attachment files the database `copy` names from beside `from_db` to beside it
/// (a folder left from an earlier copy is replaced).
fn copy_attachment_files(
    copy: &Path,
    from_db: &Path,
) -> Result<crate::attachment_files::CopiedAttachments> {
    use crate::attachment_files::{attachments_dir, copy_attachments};
    let rows = {
        let c = Connection::open_with_flags(copy, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        attachment_rows(&c)?
    };
    let to = attachments_dir(copy);
    if to.exists() {
        std::fs::remove_dir_all(&to)
            .map_err(|e| StoreError::Db(format!("cannot replace {}: {e}", to.display())))?;
    }
    copy_attachments(&rows, &attachments_dir(from_db), &to)
}

fn invalid(field: &str, en: String, zh: String) -> StoreError {
    StoreError::Invalid {
        field: field.into(),
        message: en,
        message_zh: zh,
    }
}

fn with_suffix(p: &Path, suffix: &str) -> PathBuf {
    let mut s = p.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// Opens an existing Jiesu database without creating anything; a missing, empty or foreign file
/// is refused in plain words.
fn open_source(path: &Path, field: &str) -> Result<Connection> {
    let meta = std::fs::metadata(path).map_err(|e| {
        invalid(
            field,
            format!("cannot read {}: {e}", path.display()),
            format!("无法读取 {}：{e}", path.display()),
        )
    })?;
    if !meta.is_file() || meta.len() == 0 {
        return Err(invalid(
            field,
            format!(
                "{} is not a database file (empty or a directory)",
                path.display()
            ),
            format!("{} 不是数据库文件（为空或是目录）", path.display()),
        ));
    }
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(std::time::Duration::from_secs(30))?;
    let version: Option<String> = conn
        .query_row(
            "SELECT value FROM meta WHERE key='schema_version'",
            [],
            |r| r.get(0),
        )
        .optional()
        .unwrap_or(None);
    if version.is_none() {
        return Err(invalid(
            field,
            format!(
                "{} is not a Jiesu database (no schema version)",
                path.display()
            ),
            format!("{} 不是接诉数据库（没有结构版本）", path.display()),
        ));
    }
    Ok(conn)
}

/// The tables of the database: (name, whether it has row ids).
fn tables(c: &Connection) -> Result<Vec<(String, bool)>> {
    let rows = c
        .prepare(
            "SELECT name, sql FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
        )?
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows
        .into_iter()
        .filter(|(_, sql)| {
            !sql.as_deref()
                .unwrap_or("")
                .to_ascii_uppercase()
                .starts_with("CREATE VIRTUAL")
        })
        .map(|(n, sql)| {
            let without = sql
                .unwrap_or_default()
                .to_ascii_uppercase()
                .contains("WITHOUT ROWID");
            (n, !without)
        })
        .collect())
}

fn hash_value(h: &mut Sha256, v: ValueRef<'_>) {
    match v {
        ValueRef::Null => h.update([0u8]),
        ValueRef::Integer(i) => {
            h.update([1u8]);
            h.update(i.to_le_bytes());
        }
        ValueRef::Real(f) => {
            h.update([2u8]);
            h.update(f.to_bits().to_le_bytes());
        }
        ValueRef::Text(t) => {
            h.update([3u8]);
            h.update((t.len() as u64).to_le_bytes());
            h.update(t);
        }
        ValueRef::Blob(b) => {
            h.update([4u8]);
            h.update((b.len() as u64).to_le_bytes());
            h.update(b);
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The fingerprint of the database `c` reads (inside its current transaction, if any).
fn fingerprint(c: &Connection) -> Result<Fingerprint> {
    let mut fp = Fingerprint::default();
    for (name, rowid) in tables(c)? {
        let q = name.replace('"', "\"\"");
        let ncols = c
            .prepare(&format!("SELECT * FROM \"{q}\" LIMIT 0"))?
            .column_count();
        let order = if rowid {
            "rowid".to_string()
        } else {
            (1..=ncols)
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join(",")
        };
        let mut s = c.prepare(&format!("SELECT * FROM \"{q}\" ORDER BY {order}"))?;
        let mut rows = s.query([])?;
        let mut h = Sha256::new();
        let mut n = 0u64;
        while let Some(r) = rows.next()? {
            for i in 0..ncols {
                hash_value(&mut h, r.get_ref(i)?);
            }
            n += 1;
        }
        fp.tables.push(TableFigure {
            name,
            rows: n,
            sha256: hex(&h.finalize()),
        });
    }
    let mut s = c.prepare(
        "SELECT ticket_id, seq, at, kind, actor, role, unit_code, payload, sealed, hash, pos FROM events ORDER BY ticket_id, seq",
    )?;
    let mut rows = s.query([])?;
    let mut cur: Option<(i64, Sha256)> = None;
    while let Some(r) = rows.next()? {
        let id: i64 = r.get(0)?;
        if cur.as_ref().map(|(t, _)| *t) != Some(id) {
            if let Some((t, h)) = cur.take() {
                fp.tickets.push((t, h.finalize().into()));
            }
            cur = Some((id, Sha256::new()));
        }
        let h = &mut cur.as_mut().expect("set above").1;
        for i in 1..11 {
            hash_value(h, r.get_ref(i)?);
        }
    }
    if let Some((t, h)) = cur {
        fp.tickets.push((t, h.finalize().into()));
    }
    Ok(fp)
}

/// The fingerprint of the database file at `path` (read-only).
pub fn fingerprint_sqlite(path: &Path) -> Result<Fingerprint> {
    let c = open_source(path, "database")?;
    c.execute_batch("BEGIN")?;
    let fp = fingerprint(&c);
    let _ = c.execute_batch("COMMIT");
    fp
}

/// Refuses to write over `path` if it holds anything, unless `force` (then removes it and its
/// WAL files).
fn clear_target(path: &Path, force: bool, field: &str) -> Result<()> {
    let used = std::fs::metadata(path)
        .map(|m| m.len() > 0)
        .unwrap_or(false);
    if used && !force {
        return Err(invalid(
            field,
            format!(
                "{} already exists and is not empty; choose a new path, or add --force to replace it",
                path.display()
            ),
            format!(
                "{} 已存在且不为空：请换一个路径，或加 --force 覆盖",
                path.display()
            ),
        ));
    }
    for p in [
        path.to_path_buf(),
        with_suffix(path, "-wal"),
        with_suffix(path, "-shm"),
    ] {
        if p.exists() {
            std::fs::remove_file(&p)
                .map_err(|e| StoreError::Db(format!("cannot remove {}: {e}", p.display())))?;
        }
    }
    Ok(())
}

/// Copies the snapshot `src` reads into a new file at `out` (through `<out>.tmp`), checks its
/// fingerprint against `expected` and renames it into place.
fn copy_snapshot(src: &Connection, out: &Path, expected: &Fingerprint) -> Result<Fingerprint> {
    if let Some(dir) = out.parent() {
        if !dir.as_os_str().is_empty() && !dir.is_dir() {
            return Err(invalid(
                "out",
                format!("the folder {} does not exist", dir.display()),
                format!("目录 {} 不存在", dir.display()),
            ));
        }
    }
    let tmp = with_suffix(out, ".tmp");
    clear_target(&tmp, true, "out")?;
    let result = (|| -> Result<Fingerprint> {
        {
            let mut dst = Connection::open(&tmp)?;
            {
                let b = rusqlite::backup::Backup::new(src, &mut dst)?;
                // one step: the whole snapshot of the source's read transaction at once
                loop {
                    match b.step(-1)? {
                        rusqlite::backup::StepResult::Done => break,
                        rusqlite::backup::StepResult::More => continue,
                        _ => std::thread::sleep(std::time::Duration::from_millis(50)),
                    }
                }
            }
            // one self-contained file: no WAL beside it
            dst.query_row("PRAGMA journal_mode=DELETE", [], |_| Ok(()))?;
            dst.execute_batch("PRAGMA synchronous=FULL")?;
        }
        let got = fingerprint_sqlite(&tmp)?;
        let diff = expected.differences(&got);
        if !diff.is_empty() {
            return Err(StoreError::Db(format!(
                "the copy does not match its source: {}",
                diff.join("; ")
            )));
        }
        std::fs::File::open(&tmp)
            .and_then(|f| f.sync_all())
            .map_err(|e| StoreError::Db(format!("cannot sync {}: {e}", tmp.display())))?;
        std::fs::rename(&tmp, out).map_err(|e| {
            StoreError::Db(format!(
                "cannot move {} to {}: {e}",
                tmp.display(),
                out.display()
            ))
        })?;
        Ok(got)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Copies a key file if it exists (keeping it readable by its owner only).
fn copy_key(from: &Path, to: &Path, report: &mut BackupReport) -> Result<bool> {
    if !from.is_file() {
        return Ok(false);
    }
    std::fs::copy(from, to).map_err(|e| {
        StoreError::Db(format!(
            "cannot copy the key file {} to {}: {e}",
            from.display(),
            to.display()
        ))
    })?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(to, std::fs::Permissions::from_mode(0o600));
    }
    report.copied.push((from.to_path_buf(), to.to_path_buf()));
    Ok(true)
}

/// An online backup of the database at `db` into the new file `out` (see the module docs); its
/// key files are copied to `<out>.keys` and `<out>.signing-key`. `force` replaces an existing
/// `out`.
pub fn backup_sqlite(db: &Path, out: &Path, force: bool) -> Result<BackupReport> {
    if db == out {
        return Err(invalid(
            "out",
            "--out must be another file than --db".into(),
            "--out 不能与 --db 相同".into(),
        ));
    }
    let src = open_source(db, "db")?;
    clear_target(out, force, "out")?;
    // one read transaction: the fingerprint and the copy see the same snapshot
    src.execute_batch("BEGIN")?;
    let result = fingerprint(&src).and_then(|fp| copy_snapshot(&src, out, &fp));
    let _ = src.execute_batch("COMMIT");
    let fingerprint = result?;
    let mut report = BackupReport {
        written: out.to_path_buf(),
        fingerprint,
        attachments: copy_attachment_files(out, db)?,
        ..Default::default()
    };
    match KeySource::Env.path_for(db) {
        Some(k) => {
            if !copy_key(&k, &with_suffix(out, ".keys"), &mut report)? {
                let sealed = report.fingerprint.rows("personal_keys");
                if sealed > 0 {
                    report.notes.push(format!(
                        "no key file at {}, yet {sealed} tickets have sealed personal data: keep the key file this database was opened with beside the backup as {}",
                        k.display(),
                        with_suffix(out, ".keys").display()
                    ));
                }
            }
        }
        None => report.notes.push(
            "the personal-data keys come from the environment variable JIESU_KEYS: store that value with the backup, the backup cannot be read without it".into(),
        ),
    }
    copy_key(
        &crate::ledger::signing_key_path(db),
        &with_suffix(out, ".signing-key"),
        &mut report,
    )?;
    Ok(report)
}

/// Restores the backup `from` into the new database `db` (refused if `db` exists and is not empty,
/// unless `force`), checks it row for row and puts the backup's key files beside it.
pub fn restore_sqlite(from: &Path, db: &Path, force: bool) -> Result<BackupReport> {
    if from == db {
        return Err(invalid(
            "db",
            "--db must be another file than --from".into(),
            "--db 不能与 --from 相同".into(),
        ));
    }
    let src = open_source(from, "from")?;
    clear_target(db, force, "db")?;
    src.execute_batch("BEGIN")?;
    let result = fingerprint(&src).and_then(|fp| copy_snapshot(&src, db, &fp));
    let _ = src.execute_batch("COMMIT");
    let fingerprint = result?;
    let mut report = BackupReport {
        written: db.to_path_buf(),
        fingerprint,
        attachments: copy_attachment_files(db, from)?,
        ..Default::default()
    };
    let keys = with_suffix(from, ".keys");
    if !copy_key(&keys, &with_suffix(db, ".keys"), &mut report)?
        && report.fingerprint.rows("personal_keys") > 0
    {
        report.notes.push(format!(
            "no key file {} beside the backup: the restored city's personal data opens only with the key file it was sealed with (put it at {} or set JIESU_KEY_FILE)",
            keys.display(),
            with_suffix(db, ".keys").display()
        ));
    }
    copy_key(
        &with_suffix(from, ".signing-key"),
        &with_suffix(db, ".signing-key"),
        &mut report,
    )?;
    check_keys(db, &report)?;
    Ok(report)
}

/// When a key file was put beside the restored database and it holds sealed data: opens the
/// first sealed ticket with it, so a key file that does not fit is found now, not by the server.
fn check_keys(db: &Path, report: &BackupReport) -> Result<()> {
    let keys = with_suffix(db, ".keys");
    if report.fingerprint.rows("personal_keys") == 0 || !report.copied.iter().any(|c| c.1 == keys) {
        return Ok(());
    }
    let store = SqliteStore::open_with(
        db,
        StoreOptions {
            durable: true,
            keys: KeySource::File(keys.clone()),
        },
    )?;
    let first: Option<i64> = store
        .read(|c| Ok(c.query_row("SELECT MIN(ticket_id) FROM personal_keys", [], |r| r.get(0))?))?;
    if let Some(id) = first {
        if let Err(e) = store.load_ticket(id) {
            return Err(invalid(
                "keys",
                format!(
                    "the database was restored to {}, but the key file {} does not open its personal data ({e}): put the key file it was sealed with there",
                    db.display(),
                    keys.display()
                ),
                format!(
                    "数据库已恢复到 {}，但密钥文件 {} 无法解开其中的个人信息：请放入加密时使用的密钥文件",
                    db.display(),
                    keys.display()
                ),
            ));
        }
    }
    Ok(())
}
