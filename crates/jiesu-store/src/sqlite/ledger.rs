//! Checkpoints and Merkle proofs of the event log in SQLite: the leaves are `events.hash` in
//! `pos` order, complete subtrees of 256 leaves and more are in `log_nodes`, the signed
//! checkpoints in `checkpoints` (see `ledger.rs`).

use super::*;
use crate::ledger::{
    checkpoint_text, load_or_create_signing_key, open_note, read_signing_key, sign_note,
    signing_key_path, Checkpoint, EventProof, LedgerStore, LogKey,
};
use crate::merkle::{self, TreeSource, STORED_LEVEL};

/// The meta key of the log's origin (its name in checkpoints).
const ORIGIN_KEY: &str = "log_origin";
/// The meta key of the public key the checkpoints were signed with (hex), for `jiesu verify`
/// without the signing key file.
const PUBLIC_KEY_KEY: &str = "log_public_key";

/// The log's leaves and stored nodes, read through one connection.
struct Tree<'a>(&'a Connection);

impl TreeSource for Tree<'_> {
    fn leaves(&self, start: u64, end: u64) -> Result<Vec<chain::Hash>> {
        let mut stmt = self.0.prepare_cached(
            "SELECT pos, hash FROM events WHERE pos >= ?1 AND pos < ?2 ORDER BY pos",
        )?;
        let mut out = Vec::with_capacity((end - start) as usize);
        let mut rows = stmt.query(params![start as i64, end as i64])?;
        while let Some(r) = rows.next()? {
            let pos: i64 = r.get(0)?;
            let h: Option<Vec<u8>> = r.get(1)?;
            let expect = start + out.len() as u64;
            if pos as u64 != expect {
                return Err(StoreError::Db(format!(
                    "the event log has no event at position {expect}"
                )));
            }
            out.push(
                h.and_then(|h| h.try_into().ok()).ok_or_else(|| {
                    StoreError::Db(format!("event at position {pos} has no hash"))
                })?,
            );
        }
        if out.len() as u64 != end - start {
            return Err(StoreError::Db(format!(
                "the event log has no event at position {}",
                start + out.len() as u64
            )));
        }
        Ok(out)
    }

    fn node(&self, level: u32, idx: u64) -> Result<Option<chain::Hash>> {
        let h: Option<Vec<u8>> = self
            .0
            .prepare_cached("SELECT hash FROM log_nodes WHERE level=?1 AND idx=?2")?
            .query_row(params![level, idx as i64], |r| r.get(0))
            .optional()?;
        Ok(h.and_then(|h| h.try_into().ok()))
    }
}

fn log_size_in(c: &Connection) -> Result<u64> {
    let n: i64 = c
        .prepare_cached("SELECT COALESCE(MAX(pos) + 1, 0) FROM events")?
        .query_row([], |r| r.get(0))?;
    Ok(n as u64)
}

fn meta_in(c: &Connection, key: &str) -> Result<Option<String>> {
    Ok(
        c.query_row("SELECT value FROM meta WHERE key=?1", [key], |r| r.get(0))
            .optional()?,
    )
}

/// The log's origin, made (`jiesu.city/<random id>`) and stored on first use.
fn origin_in(c: &Connection) -> Result<String> {
    if let Some(o) = meta_in(c, ORIGIN_KEY)? {
        return Ok(o);
    }
    let mut id = [0u8; 8];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut id);
    let o = format!(
        "jiesu.city/{}",
        id.iter().map(|b| format!("{b:02x}")).collect::<String>()
    );
    c.execute(
        "INSERT INTO meta(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO NOTHING",
        params![ORIGIN_KEY, o],
    )?;
    Ok(meta_in(c, ORIGIN_KEY)?.unwrap_or(o))
}

fn checkpoint_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(i64, Vec<u8>, String, String)> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
}

fn to_checkpoint((size, root, at, note): (i64, Vec<u8>, String, String)) -> Result<Checkpoint> {
    Ok(Checkpoint {
        tree_size: size as u64,
        root: root
            .try_into()
            .map_err(|_| StoreError::Db(format!("checkpoint {size}: malformed root")))?,
        at: crate::time::parse(&at)
            .ok_or_else(|| StoreError::Db(format!("checkpoint {size}: malformed time")))?,
        note,
    })
}

fn latest_in(c: &Connection) -> Result<Option<Checkpoint>> {
    c.query_row(
        "SELECT tree_size, root, at, note FROM checkpoints ORDER BY tree_size DESC LIMIT 1",
        [],
        checkpoint_row,
    )
    .optional()?
    .map(to_checkpoint)
    .transpose()
}

/// How many leaves `log_nodes` covers (a multiple of 256).
fn stored_leaves(c: &Connection) -> Result<u64> {
    let n: Option<i64> = c.query_row(
        "SELECT MAX(idx) FROM log_nodes WHERE level=?1",
        [STORED_LEVEL],
        |r| r.get(0),
    )?;
    Ok(n.map_or(0, |i| (i as u64 + 1) << STORED_LEVEL))
}

impl SqliteStore {
    fn signing_key_file(&self) -> PathBuf {
        signing_key_path(&self.path)
    }
}

impl LedgerStore for SqliteStore {
    fn log_size(&self) -> Result<u64> {
        self.read(log_size_in)
    }

    fn log_key(&self) -> Result<LogKey> {
        let key = load_or_create_signing_key(&self.signing_key_file())?;
        let origin = match self.read(|c| meta_in(c, ORIGIN_KEY))? {
            Some(o) => o,
            None => self.write(origin_in)?,
        };
        Ok(LogKey {
            origin,
            public_key: key.verifying_key().to_bytes(),
        })
    }

    fn make_checkpoint(&self, now: DateTime<Utc>) -> Result<(Checkpoint, bool)> {
        let key = load_or_create_signing_key(&self.signing_key_file())?;
        self.write(move |c| {
            let size = log_size_in(c)?;
            if let Some(last) = latest_in(c)? {
                if last.tree_size == size {
                    return Ok((last, false));
                }
            }
            let tree = Tree(c);
            let stored = stored_leaves(c)?;
            let mut ins = c.prepare_cached(
                "INSERT OR REPLACE INTO log_nodes (level, idx, hash) VALUES (?1, ?2, ?3)",
            )?;
            for (level, idx, h) in merkle::new_nodes(&tree, stored, size)? {
                ins.execute(params![level, idx as i64, h.to_vec()])?;
            }
            let root = merkle::root(&tree, size)?;
            let origin = origin_in(c)?;
            let public = chain::hex(&key.verifying_key().to_bytes());
            match meta_in(c, PUBLIC_KEY_KEY)? {
                Some(p) if p != public => {
                    return Err(StoreError::Conflict(format!(
                        "the signing key file is not the key this log's checkpoints were signed with (public key {p})"
                    )))
                }
                Some(_) => {}
                None => {
                    c.execute(
                        "INSERT INTO meta(key, value) VALUES (?1, ?2)",
                        params![PUBLIC_KEY_KEY, public],
                    )?;
                }
            }
            let note = sign_note(&origin, &key, &checkpoint_text(&origin, size, &root, now));
            c.execute(
                "INSERT INTO checkpoints (tree_size, root, at, note) VALUES (?1, ?2, ?3, ?4)",
                params![size as i64, root.to_vec(), fmt(now), note],
            )?;
            Ok((
                Checkpoint {
                    tree_size: size,
                    root,
                    at: crate::time::parse(&fmt(now)).unwrap_or(now),
                    note,
                },
                true,
            ))
        })
    }

    fn latest_checkpoint(&self) -> Result<Option<Checkpoint>> {
        self.read(latest_in)
    }

    fn checkpoint(&self, tree_size: u64) -> Result<Option<Checkpoint>> {
        self.read(|c| {
            c.query_row(
                "SELECT tree_size, root, at, note FROM checkpoints WHERE tree_size=?1",
                [tree_size as i64],
                checkpoint_row,
            )
            .optional()?
            .map(to_checkpoint)
            .transpose()
        })
    }

    fn checkpoints(&self, before: Option<u64>, limit: usize) -> Result<Vec<Checkpoint>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT tree_size, root, at, note FROM checkpoints WHERE tree_size < ?1
                 ORDER BY tree_size DESC LIMIT ?2",
            )?;
            let rows = stmt.query_map(
                params![before.map_or(i64::MAX, |b| b as i64), limit as i64],
                checkpoint_row,
            )?;
            rows.map(|r| to_checkpoint(r?)).collect()
        })
    }

    fn consistency_proof(&self, from: u64, to: u64) -> Result<Vec<chain::Hash>> {
        self.read(|c| {
            if from > to || to > log_size_in(c)? {
                return Err(StoreError::NotFound);
            }
            merkle::consistency_proof(&Tree(c), from, to)
        })
    }

    fn ticket_proofs(&self, ticket: TicketId, tree_size: u64) -> Result<Vec<EventProof>> {
        self.read(|c| {
            let rows: Vec<EventRow> = c
                .prepare_cached(
                    "SELECT seq, kind, pos, hash FROM events WHERE ticket_id=?1 ORDER BY seq",
                )?
                .query_map([ticket], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
                })?
                .collect::<rusqlite::Result<_>>()?;
            let tree = Tree(c);
            let mut out = Vec::with_capacity(rows.len());
            for (seq, kind, pos, hash) in rows {
                let (Some(pos), Some(leaf)) = (pos, hash.and_then(|h| h.try_into().ok())) else {
                    return Err(StoreError::Db(format!(
                        "ticket {ticket} event {seq} has no log position or hash"
                    )));
                };
                let pos = pos as u64;
                let path = if pos < tree_size {
                    Some(merkle::inclusion_proof(&tree, pos, tree_size)?)
                } else {
                    None
                };
                out.push(EventProof {
                    seq,
                    kind,
                    pos,
                    leaf,
                    path,
                });
            }
            Ok(out)
        })
    }
}

/// One event's `seq, kind, pos, hash`.
type EventRow = (u32, String, Option<i64>, Option<Vec<u8>>);

/// What [`verify_checkpoints`] found.
#[derive(Debug, Clone, Default)]
pub struct LedgerReport {
    /// Checkpoints checked.
    pub checkpoints: u64,
    /// Stored subtree hashes checked.
    pub nodes: u64,
    /// Where the public key came from: the signing key file, or (weaker: the database could
    /// have been rewritten with it) the key recorded in the database.
    pub key_source: String,
    pub problems: Vec<String>,
}

impl LedgerReport {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// [`verify_checkpoints`] on the database file at `db`, opened read-only.
pub fn verify_checkpoints_file(db: &Path) -> Result<LedgerReport> {
    let conn = Connection::open_with_flags(
        db,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    verify_checkpoints(&conn, db, None)
}

/// Checks the stored checkpoints and subtree hashes against the event log: every stored node
/// recomputed from the leaves, every checkpoint's root recomputed from the leaves and its note's
/// signature checked with `public_key` — when `None`, the signing key file of the database at
/// `db` (if there is one), else the public key recorded in the database. Reads the whole log.
pub fn verify_checkpoints(
    conn: &Connection,
    db: &Path,
    public_key: Option<[u8; 32]>,
) -> Result<LedgerReport> {
    let mut report = LedgerReport::default();
    let (public, source) = match public_key {
        Some(k) => (Some(k), "given".to_string()),
        None => {
            let file = signing_key_path(db);
            match read_signing_key(&file)? {
                Some(k) => (
                    Some(k.verifying_key().to_bytes()),
                    format!("the signing key file {}", file.display()),
                ),
                None => {
                    let recorded = meta_in(conn, PUBLIC_KEY_KEY)?.and_then(|h| {
                        (0..32)
                            .map(|i| u8::from_str_radix(h.get(2 * i..2 * i + 2)?, 16).ok())
                            .collect::<Option<Vec<u8>>>()
                            .and_then(|v| v.try_into().ok())
                    });
                    (
                        recorded,
                        "the public key recorded in the database".to_string(),
                    )
                }
            }
        }
    };
    report.key_source = source;
    let size = log_size_in(conn)?;
    // all leaves once, then everything from memory
    let leaves = Tree(conn).leaves(0, size)?;
    let mut stmt = conn.prepare("SELECT level, idx, hash FROM log_nodes ORDER BY level, idx")?;
    let nodes: Vec<(u32, i64, Vec<u8>)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (level, idx, h) in nodes {
        report.nodes += 1;
        let (start, end) = ((idx as u64) << level, (idx as u64 + 1) << level);
        if end > size {
            report.problems.push(format!(
                "log node level {level} #{idx} covers positions up to {end}, beyond the log's {size} events"
            ));
            continue;
        }
        if merkle::root_of(&leaves[start as usize..end as usize]).as_slice() != h.as_slice() {
            report.problems.push(format!(
                "log node level {level} #{idx} (positions {start}..{end}) does not match the events"
            ));
        }
    }
    let origin = meta_in(conn, ORIGIN_KEY)?.unwrap_or_default();
    let mut stmt =
        conn.prepare("SELECT tree_size, root, at, note FROM checkpoints ORDER BY tree_size")?;
    let rows: Vec<_> = stmt
        .query_map([], checkpoint_row)?
        .collect::<rusqlite::Result<_>>()?;
    for row in rows {
        report.checkpoints += 1;
        let cp = match to_checkpoint(row) {
            Ok(cp) => cp,
            Err(e) => {
                report.problems.push(e.to_string());
                continue;
            }
        };
        let n = cp.tree_size;
        if n > size {
            report.problems.push(format!(
                "checkpoint {n} is larger than the log ({size} events): events were removed"
            ));
            continue;
        }
        let root = merkle::root_of(&leaves[..n as usize]);
        if root != cp.root {
            report.problems.push(format!(
                "checkpoint {n}: the events no longer give its root (the log before position {n} was changed)"
            ));
        }
        match public {
            None => report.problems.push(format!(
                "checkpoint {n}: no public key to check its signature"
            )),
            Some(pk) => {
                let key = LogKey {
                    origin: origin.clone(),
                    public_key: pk,
                };
                match open_note(&cp.note, &key) {
                    Err(e) => report.problems.push(format!("checkpoint {n}: {e}")),
                    Ok(body) if body.tree_size != n || body.root != cp.root => {
                        report.problems.push(format!(
                            "checkpoint {n}: its signed note says another size or root"
                        ))
                    }
                    Ok(_) => {}
                }
            }
        }
    }
    Ok(report)
}
