//! Checkpoints and Merkle proofs of the event log in PostgreSQL: the leaves are `events.hash` in
//! `pos` order, complete subtrees of 256 leaves and more are in `log_nodes`, the signed
//! checkpoints in `checkpoints` (see `ledger.rs`; the SQLite twin is `sqlite/ledger.rs`).

use super::*;
use crate::ledger::{
    checkpoint_text, load_or_create_signing_key, sign_note, signing_key_path, Checkpoint,
    EventProof, LedgerStore, LogKey,
};
use crate::merkle::{self, TreeSource, STORED_LEVEL};
use chrono::{DateTime, Utc};
use std::cell::RefCell;

/// The meta key of the log's origin (its name in checkpoints).
const ORIGIN_KEY: &str = "log_origin";
/// The meta key of the public key the checkpoints were signed with (hex), for `jiesu verify`
/// without the signing key file.
const PUBLIC_KEY_KEY: &str = "log_public_key";

/// The log's leaves and stored nodes, read through one connection (the trait reads through
/// `&self`, the connection needs `&mut`).
struct Tree<'a>(RefCell<&'a mut Conn>);

impl TreeSource for Tree<'_> {
    fn leaves(&self, start: u64, end: u64) -> Result<Vec<chain::Hash>> {
        let mut c = self.0.borrow_mut();
        let mut out: Vec<chain::Hash> = Vec::with_capacity((end - start) as usize);
        c.for_each(
            "SELECT pos, hash FROM events WHERE pos >= ?1 AND pos < ?2 ORDER BY pos",
            &crate::pv![start as i64, end as i64],
            &mut |r| {
                let pos = r.get_i64(0)?;
                let h = r.get_opt_blob(1)?;
                let expect = start + out.len() as u64;
                if pos as u64 != expect {
                    return Err(StoreError::Db(format!(
                        "the event log has no event at position {expect}"
                    )));
                }
                out.push(h.and_then(|h| h.try_into().ok()).ok_or_else(|| {
                    StoreError::Db(format!("event at position {pos} has no hash"))
                })?);
                Ok(())
            },
        )?;
        if out.len() as u64 != end - start {
            return Err(StoreError::Db(format!(
                "the event log has no event at position {}",
                start + out.len() as u64
            )));
        }
        Ok(out)
    }

    fn node(&self, level: u32, idx: u64) -> Result<Option<chain::Hash>> {
        let h = self
            .0
            .borrow_mut()
            .query_opt(
                "SELECT hash FROM log_nodes WHERE level=?1 AND idx=?2",
                &crate::pv![level, idx as i64],
            )?
            .map(|r| r.get_blob(0))
            .transpose()?;
        Ok(h.and_then(|h| h.try_into().ok()))
    }
}

fn log_size_in(c: &mut Conn) -> Result<u64> {
    let n = c
        .query_one("SELECT COALESCE(MAX(pos) + 1, 0) FROM events", &[])?
        .get_i64(0)?;
    Ok(n as u64)
}

fn meta_in(c: &mut Conn, key: &str) -> Result<Option<String>> {
    c.query_opt("SELECT value FROM meta WHERE key=?1", &crate::pv![key])?
        .map(|r| r.get_str(0))
        .transpose()
}

/// The log's origin, made (`jiesu.city/<random id>`) and stored on first use.
fn origin_in(c: &mut Conn) -> Result<String> {
    if let Some(o) = meta_in(c, ORIGIN_KEY)? {
        return Ok(o);
    }
    let mut id = [0u8; 8];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut id);
    let o = format!(
        "jiesu.city/{}",
        id.iter().map(|b| format!("{b:02x}")).collect::<String>()
    );
    c.exec(
        "INSERT INTO meta(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO NOTHING",
        &crate::pv![ORIGIN_KEY, &o],
    )?;
    Ok(meta_in(c, ORIGIN_KEY)?.unwrap_or(o))
}

const CHECKPOINT_COLS: &str = "tree_size, root, at, note";

fn to_checkpoint(r: &postgres::Row) -> Result<Checkpoint> {
    let size = r.get_i64(0)?;
    let root = r.get_blob(1)?;
    let at = r.get_str(2)?;
    Ok(Checkpoint {
        tree_size: size as u64,
        root: root
            .try_into()
            .map_err(|_| StoreError::Db(format!("checkpoint {size}: malformed root")))?,
        at: crate::time::parse(&at)
            .ok_or_else(|| StoreError::Db(format!("checkpoint {size}: malformed time")))?,
        note: r.get_str(3)?,
    })
}

fn latest_in(c: &mut Conn) -> Result<Option<Checkpoint>> {
    c.query_opt(
        &format!("SELECT {CHECKPOINT_COLS} FROM checkpoints ORDER BY tree_size DESC LIMIT 1"),
        &[],
    )?
    .map(|r| to_checkpoint(&r))
    .transpose()
}

/// How many leaves `log_nodes` covers (a multiple of 256).
fn stored_leaves(c: &mut Conn) -> Result<u64> {
    let n = c
        .query_one(
            "SELECT MAX(idx) FROM log_nodes WHERE level=?1",
            &crate::pv![STORED_LEVEL],
        )?
        .get_opt_i64(0)?;
    Ok(n.map_or(0, |i| (i as u64 + 1) << STORED_LEVEL))
}

impl PgStore {
    fn signing_key_file(&self) -> PathBuf {
        signing_key_path(&self.path)
    }
}

impl LedgerStore for PgStore {
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
        self.write(move |c: &mut Conn| {
            let size = log_size_in(c)?;
            if let Some(last) = latest_in(c)? {
                if last.tree_size == size {
                    return Ok((last, false));
                }
            }
            let stored = stored_leaves(c)?;
            let nodes = merkle::new_nodes(&Tree(RefCell::new(&mut *c)), stored, size)?;
            for (level, idx, h) in nodes {
                c.exec(
                    "INSERT INTO log_nodes (level, idx, hash) VALUES (?1, ?2, ?3)
                     ON CONFLICT (level, idx) DO UPDATE SET hash = excluded.hash",
                    &crate::pv![level, idx as i64, h.to_vec()],
                )?;
            }
            // the root after the new nodes are stored (it reads them, as in SQLite)
            let root = merkle::root(&Tree(RefCell::new(&mut *c)), size)?;
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
                    c.exec(
                        "INSERT INTO meta(key, value) VALUES (?1, ?2)",
                        &crate::pv![PUBLIC_KEY_KEY, &public],
                    )?;
                }
            }
            let note = sign_note(&origin, &key, &checkpoint_text(&origin, size, &root, now));
            c.exec(
                "INSERT INTO checkpoints (tree_size, root, at, note) VALUES (?1, ?2, ?3, ?4)",
                &crate::pv![size as i64, root.to_vec(), fmt(now), &note],
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
            c.query_opt(
                &format!("SELECT {CHECKPOINT_COLS} FROM checkpoints WHERE tree_size=?1"),
                &crate::pv![tree_size as i64],
            )?
            .map(|r| to_checkpoint(&r))
            .transpose()
        })
    }

    fn checkpoints(&self, before: Option<u64>, limit: usize) -> Result<Vec<Checkpoint>> {
        self.read(|c| {
            c.query(
                &format!(
                    "SELECT {CHECKPOINT_COLS} FROM checkpoints WHERE tree_size < ?1
                     ORDER BY tree_size DESC LIMIT ?2"
                ),
                // a limit past i64::MAX is no limit, as in SQLite
                &crate::pv![
                    before.map_or(i64::MAX, |b| b as i64),
                    i64::try_from(limit).unwrap_or(i64::MAX)
                ],
            )?
            .iter()
            .map(to_checkpoint)
            .collect()
        })
    }

    fn consistency_proof(&self, from: u64, to: u64) -> Result<Vec<chain::Hash>> {
        self.read(|c| {
            if from > to || to > log_size_in(c)? {
                return Err(StoreError::NotFound);
            }
            merkle::consistency_proof(&Tree(RefCell::new(c)), from, to)
        })
    }

    fn ticket_proofs(&self, ticket: TicketId, tree_size: u64) -> Result<Vec<EventProof>> {
        self.read(|c| {
            let rows: Vec<EventRow> = c
                .query(
                    "SELECT seq, kind, pos, hash FROM events WHERE ticket_id=?1 ORDER BY seq",
                    &crate::pv![ticket],
                )?
                .iter()
                .map(|r| {
                    Ok((
                        r.get_u32(0)?,
                        r.get_str(1)?,
                        r.get_opt_i64(2)?,
                        r.get_opt_blob(3)?,
                    ))
                })
                .collect::<Result<_>>()?;
            let tree = Tree(RefCell::new(c));
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
