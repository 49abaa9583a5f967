//! Online backup and restore of a PostgreSQL city with the server's own tools: `pg_dump` of one
//! exported snapshot (the server keeps serving; nothing committed before the backup started is
//! missing) in its custom format, and `pg_restore` into an empty database. The fingerprint —
//! every table's row count and a digest of its rows, and a digest of every ticket's event chain —
//! is computed inside the same snapshot and written beside the dump (`FILE.manifest.json`); a
//! restore recomputes it on the restored database and refuses a difference. The key file is
//! copied beside the dump (`FILE.keys`) and put in the restored city's data directory.
//!
//! `pg_dump` and `pg_restore` (Debian: postgresql-client) must be on the `PATH`, of the server's
//! major version or newer.

use super::conn::{Conn, RowExt};
use super::*;
use crate::attachment_files::{
    attachments_dir, copy_attachments, AttachmentFile, CopiedAttachments,
};
use crate::sqlite::backup::{BackupReport, Fingerprint, TableFigure};
use std::process::Command;

fn tables(c: &mut Conn) -> Result<Vec<String>> {
    c.query(
        "SELECT c.relname::TEXT FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND NOT c.relispartition
         ORDER BY c.relname COLLATE \"C\"",
        &[],
    )?
    .iter()
    .map(|r| r.get_str(0))
    .collect()
}

/// The fingerprint of the database as `c`'s transaction sees it.
fn fingerprint(c: &mut Conn) -> Result<Fingerprint> {
    let mut out = Fingerprint::default();
    for t in tables(c)? {
        let r = c.query_one(
            &format!(
                "SELECT COUNT(*), md5(COALESCE(string_agg(x::TEXT, E'\\n' ORDER BY x::TEXT COLLATE \"C\"), '')) FROM {t} x"
            ),
            &[],
        )?;
        out.tables.push(TableFigure {
            name: t,
            rows: r.get_i64(0)?.max(0) as u64,
            sha256: r.get_str(1)?,
        });
    }
    let mut current: Option<(i64, sha2::Sha256)> = None;
    let finish = |cur: Option<(i64, sha2::Sha256)>, out: &mut Fingerprint| {
        if let Some((id, h)) = cur {
            use sha2::Digest;
            out.tickets.push((id, h.finalize().into()));
        }
    };
    let rows = c.query(
        "SELECT ticket_id, seq, hash FROM events ORDER BY ticket_id, seq",
        &[],
    )?;
    for r in &rows {
        use sha2::Digest;
        let id = r.get_i64(0)?;
        if current.as_ref().map(|c| c.0) != Some(id) {
            finish(current.take(), &mut out);
            current = Some((id, sha2::Sha256::new()));
        }
        if let Some((_, h)) = current.as_mut() {
            h.update(r.get_i64(1)?.to_le_bytes());
            h.update(r.get_opt_blob(2)?.unwrap_or_default());
        }
    }
    finish(current.take(), &mut out);
    Ok(out)
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Manifest {
    tables: Vec<(String, u64, String)>,
    tickets: Vec<(i64, String)>,
}

impl Manifest {
    fn of(f: &Fingerprint) -> Manifest {
        Manifest {
            tables: f
                .tables
                .iter()
                .map(|t| (t.name.clone(), t.rows, t.sha256.clone()))
                .collect(),
            tickets: f.tickets.iter().map(|(i, h)| (*i, hex_of(h))).collect(),
        }
    }

    fn fingerprint(&self) -> Fingerprint {
        Fingerprint {
            tables: self
                .tables
                .iter()
                .map(|(n, r, s)| TableFigure {
                    name: n.clone(),
                    rows: *r,
                    sha256: s.clone(),
                })
                .collect(),
            tickets: self
                .tickets
                .iter()
                .map(|(i, h)| {
                    let mut b = [0u8; 32];
                    for (k, byte) in b.iter_mut().enumerate() {
                        *byte = h
                            .get(2 * k..2 * k + 2)
                            .and_then(|x| u8::from_str_radix(x, 16).ok())
                            .unwrap_or(0);
                    }
                    (*i, b)
                })
                .collect(),
        }
    }
}

fn with_suffix(p: &Path, suffix: &str) -> PathBuf {
    let mut s = p.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

fn tool(name: &str) -> Result<Command> {
    let ok = Command::new(name)
        .arg("--version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !ok {
        return Err(StoreError::Invalid {
            field: name.into(),
            message: format!("{name} is not on the PATH: install the PostgreSQL client (Debian: postgresql-client)"),
            message_zh: format!("找不到 {name}：请安装 PostgreSQL 客户端（Debian：postgresql-client）"),
        });
    }
    Ok(Command::new(name))
}

fn run(mut cmd: Command, what: &str) -> Result<()> {
    let out = cmd
        .output()
        .map_err(|e| StoreError::Db(format!("{what}: {e}")))?;
    if !out.status.success() {
        return Err(StoreError::Db(format!(
            "{what} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(())
}

/// An online backup of the PostgreSQL city at `url` into the new file `out` (see the module
/// docs). `force` replaces an existing `out`.
pub fn backup_postgres(url: &str, out: &Path, force: bool) -> Result<BackupReport> {
    off_runtime(|| {
        if out.exists() && !force {
            return Err(StoreError::Invalid {
                field: "out".into(),
                message: format!(
                    "{} already exists; use --force to replace it",
                    out.display()
                ),
                message_zh: format!("{} 已存在；如要覆盖请加 --force", out.display()),
            });
        }
        let dump = tool("pg_dump")?;
        let config: postgres::Config = url
            .parse()
            .map_err(|e| StoreError::Db(format!("{}: {e}", shown(url))))?;
        let store_path = PgStore::open(url)?.path().to_path_buf();
        let mut c = connect(&config)?;
        // one snapshot for the fingerprint and the dump
        c.batch("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")?;
        let snapshot = c
            .query_one("SELECT pg_export_snapshot()", &[])?
            .get_str(0)?;
        let fp = fingerprint(&mut c)?;
        let files = attachment_rows(&mut c)?;
        let tmp = with_suffix(out, ".tmp");
        let mut cmd = dump;
        cmd.args(["--format=custom", "--no-owner", "--snapshot"])
            .arg(&snapshot)
            .arg("--file")
            .arg(&tmp)
            .arg("--dbname")
            .arg(url);
        let r = run(cmd, "pg_dump");
        let _ = c.batch("COMMIT");
        r?;
        std::fs::rename(&tmp, out)
            .map_err(|e| StoreError::Db(format!("cannot write {}: {e}", out.display())))?;
        std::fs::write(
            with_suffix(out, ".manifest.json"),
            serde_json::to_vec_pretty(&Manifest::of(&fp))?,
        )
        .map_err(|e| StoreError::Db(format!("cannot write the manifest: {e}")))?;
        let mut report = BackupReport {
            written: out.to_path_buf(),
            fingerprint: fp,
            attachments: fresh_copy(&files, &attachments_dir(&store_path), &attachments_dir(out))?,
            ..Default::default()
        };
        match KeySource::Env.path_for(&store_path) {
            Some(k) if k.exists() => {
                let to = with_suffix(out, ".keys");
                std::fs::copy(&k, &to)
                    .map_err(|e| StoreError::Db(format!("cannot copy {}: {e}", k.display())))?;
                report.copied.push((k, to));
            }
            Some(k) => report.notes.push(format!(
                "no key file at {}: keep the key file this city was opened with beside the backup as {}",
                k.display(),
                with_suffix(out, ".keys").display()
            )),
            None => report.notes.push(
                "the personal-data keys come from the environment variable JIESU_KEYS: store that value with the backup".into(),
            ),
        }
        Ok(report)
    })
}

/// Restores the backup `from` into the PostgreSQL database at `url` (which must hold no city
/// unless `force`), checks it against the backup's manifest and puts the key file in the city's
/// data directory.
pub fn restore_postgres(from: &Path, url: &str, force: bool) -> Result<BackupReport> {
    off_runtime(|| {
        if !from.exists() {
            return Err(StoreError::Invalid {
                field: "from".into(),
                message: format!("{} does not exist", from.display()),
                message_zh: format!("{} 不存在", from.display()),
            });
        }
        let manifest: Manifest = serde_json::from_slice(
            &std::fs::read(with_suffix(from, ".manifest.json")).map_err(|e| StoreError::Invalid {
                field: "from".into(),
                message: format!("{}.manifest.json cannot be read ({e}): is this a jiesu backup of a PostgreSQL city?", from.display()),
                message_zh: format!("无法读取 {}.manifest.json（{e}）：这是 PostgreSQL 城市的 jiesu 备份吗？", from.display()),
            })?,
        )?;
        if holds_a_city(url)? && !force {
            return Err(StoreError::Invalid {
                field: "db".into(),
                message: format!(
                    "{} already holds a city; restore into an empty database or use --force",
                    shown(url)
                ),
                message_zh: format!(
                    "{} 中已有城市数据；请恢复到空数据库，或加 --force",
                    shown(url)
                ),
            });
        }
        let mut cmd = tool("pg_restore")?;
        cmd.args([
            "--no-owner",
            "--clean",
            "--if-exists",
            "--single-transaction",
            "--dbname",
        ])
        .arg(url)
        .arg(from);
        run(cmd, "pg_restore")?;
        let config: postgres::Config = url
            .parse()
            .map_err(|e| StoreError::Db(format!("{}: {e}", shown(url))))?;
        let mut c = connect(&config)?;
        c.batch("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")?;
        let fp = fingerprint(&mut c)?;
        let files = attachment_rows(&mut c)?;
        let _ = c.batch("COMMIT");
        let expected = manifest.fingerprint();
        let diff = expected.differences(&fp);
        if !diff.is_empty() {
            return Err(StoreError::Conflict(format!(
                "the restored city differs from the backup: {}",
                diff.join("; ")
            )));
        }
        let mut report = BackupReport {
            written: PathBuf::from(shown(url)),
            fingerprint: fp,
            attachments: fresh_copy(
                &files,
                &attachments_dir(from),
                &attachments_dir(&super::local_path(&config)),
            )?,
            ..Default::default()
        };
        let keys = with_suffix(from, ".keys");
        if keys.exists() {
            let store = PgStore::open_with(
                url,
                StoreOptions {
                    durable: true,
                    keys: KeySource::File(keys.clone()),
                },
            )?;
            if let Some(to) = KeySource::Env.path_for(store.path()) {
                if !to.exists() {
                    std::fs::copy(&keys, &to).map_err(|e| {
                        StoreError::Db(format!("cannot copy {}: {e}", keys.display()))
                    })?;
                    report.copied.push((keys, to));
                }
            }
        } else {
            report.notes.push(format!(
                "no key file beside the backup ({}): the city's sealed personal data needs the key file it was written with",
                keys.display()
            ));
        }
        Ok(report)
    })
}

/// The attachment rows of the city, for copying their files (inside the backup's snapshot).
fn attachment_rows(c: &mut Conn) -> Result<Vec<AttachmentFile>> {
    c.query(
        "SELECT ticket_id, id, size, stored_path FROM attachments ORDER BY ticket_id, id",
        &[],
    )?
    .iter()
    .map(|r| {
        Ok(AttachmentFile {
            ticket_id: r.get_i64(0)?,
            id: r.get_str(1)?,
            size: r.get_i64(2)? as u64,
            stored_path: r.get_str(3)?,
        })
    })
    .collect()
}

/// Copies the rows' files into `to`, replacing a folder left from an earlier copy.
fn fresh_copy(rows: &[AttachmentFile], from: &Path, to: &Path) -> Result<CopiedAttachments> {
    if to.exists() {
        std::fs::remove_dir_all(to)
            .map_err(|e| StoreError::Db(format!("cannot replace {}: {e}", to.display())))?;
    }
    copy_attachments(rows, from, to)
}
