//! Signed checkpoints (签名检查点) of the event log and Merkle proofs over it (`merkle.rs`).
//!
//! A checkpoint is the log's Merkle root at a size, in the C2SP tlog-checkpoint form
//! (c2sp.org/tlog-checkpoint) — `<origin>\n<size>\n<base64 root>\ntime <RFC 3339>\n` — signed as a
//! C2SP signed note (c2sp.org/signed-note) with the city's Ed25519 signing key (签名密钥). The
//! signing key is a file never in the database: `<database>.signing-key` beside it by default,
//! `JIESU_SIGNING_KEY_FILE` to put it elsewhere; it is created (mode 0600) on first use.

use crate::chain::Hash;
use crate::{Result, StoreError};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use chrono::{DateTime, Utc};
use ed25519_dalek::{Signer, SigningKey, Verifier, VerifyingKey};
use jiesu_domain::TicketId;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// The C2SP signature type byte of Ed25519.
const ED25519: u8 = 0x01;

/// One stored checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub tree_size: u64,
    pub root: Hash,
    pub at: DateTime<Utc>,
    /// The signed note (text, blank line, signature line).
    pub note: String,
}

/// One event of a ticket with its place in the log and, when a checkpoint covers it, its
/// inclusion proof (audit path) in that checkpoint's tree.
#[derive(Debug, Clone)]
pub struct EventProof {
    pub seq: u32,
    pub kind: String,
    pub pos: u64,
    pub leaf: Hash,
    /// `None`: newer than the checkpoint (not yet in a checkpoint).
    pub path: Option<Vec<Hash>>,
}

/// The log's public identity: the origin (the key name) and the public key.
#[derive(Debug, Clone)]
pub struct LogKey {
    pub origin: String,
    pub public_key: [u8; 32],
}

impl LogKey {
    /// The signed-note key ID: `SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)[:4]`.
    pub fn key_id(&self) -> [u8; 4] {
        key_id(&self.origin, &self.public_key)
    }

    /// The C2SP verifier key string `<name>+<hex key ID>+<base64(0x01 ‖ public key)>`.
    pub fn verifier_key(&self) -> String {
        let mut k = vec![ED25519];
        k.extend_from_slice(&self.public_key);
        format!(
            "{}+{}+{}",
            self.origin,
            self.key_id()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>(),
            B64.encode(k)
        )
    }
}

fn key_id(name: &str, public: &[u8; 32]) -> [u8; 4] {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([0x0A, ED25519]);
    h.update(public);
    let d = h.finalize();
    [d[0], d[1], d[2], d[3]]
}

/// The checkpoint's note text (what is signed).
pub fn checkpoint_text(origin: &str, size: u64, root: &Hash, at: DateTime<Utc>) -> String {
    format!(
        "{origin}\n{size}\n{}\ntime {}\n",
        B64.encode(root),
        crate::time::fmt(at)
    )
}

/// Signs a note text: the text, a blank line and `— <name> base64(key ID ‖ signature)`.
pub fn sign_note(origin: &str, key: &SigningKey, text: &str) -> String {
    let sig = key.sign(text.as_bytes());
    let mut blob = key_id(origin, key.verifying_key().as_bytes()).to_vec();
    blob.extend_from_slice(&sig.to_bytes());
    format!("{text}\n\u{2014} {origin} {}\n", B64.encode(blob))
}

/// A checkpoint read back from its signed note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteCheckpoint {
    pub origin: String,
    pub tree_size: u64,
    pub root: Hash,
}

/// Verifies a signed note with `key` and parses its checkpoint text. Errors say what failed.
pub fn open_note(note: &str, key: &LogKey) -> std::result::Result<NoteCheckpoint, String> {
    let Some((text, sigs)) = note.rsplit_once("\n\n") else {
        return Err("not a signed note (no blank line before the signatures)".into());
    };
    let text = format!("{text}\n");
    let vk = VerifyingKey::from_bytes(&key.public_key).map_err(|e| format!("public key: {e}"))?;
    let want_id = key.key_id();
    let mut verified = false;
    for line in sigs.lines() {
        let Some(rest) = line.strip_prefix("\u{2014} ") else {
            return Err(format!("malformed signature line {line:?}"));
        };
        let Some((name, b64)) = rest.split_once(' ') else {
            return Err(format!("malformed signature line {line:?}"));
        };
        let blob = B64
            .decode(b64)
            .map_err(|e| format!("signature base64: {e}"))?;
        if name != key.origin || blob.len() != 68 || blob[..4] != want_id {
            continue; // an unknown key's signature is ignored
        }
        let sig = ed25519_dalek::Signature::from_slice(&blob[4..])
            .map_err(|e| format!("signature: {e}"))?;
        vk.verify(text.as_bytes(), &sig)
            .map_err(|_| "the signature does not verify".to_string())?;
        verified = true;
    }
    if !verified {
        return Err("no signature by the log's key".into());
    }
    let mut lines = text.lines();
    let origin = lines.next().unwrap_or_default().to_string();
    let tree_size = lines
        .next()
        .and_then(|s| s.parse().ok())
        .ok_or("tree size")?;
    let root: Hash = lines
        .next()
        .and_then(|s| B64.decode(s).ok())
        .and_then(|b| b.try_into().ok())
        .ok_or("root hash")?;
    if origin != key.origin {
        return Err(format!(
            "origin {origin:?} is not the log's {:?}",
            key.origin
        ));
    }
    Ok(NoteCheckpoint {
        origin,
        tree_size,
        root,
    })
}

/// Where the signing key file of the database at `db` is: `JIESU_SIGNING_KEY_FILE`, else
/// `<db>.signing-key`.
pub fn signing_key_path(db: &Path) -> PathBuf {
    if let Some(p) = std::env::var_os("JIESU_SIGNING_KEY_FILE") {
        return PathBuf::from(p);
    }
    let mut p = db.as_os_str().to_owned();
    p.push(".signing-key");
    PathBuf::from(p)
}

const KEY_FILE_HEADER: &str = "jiesu-signing-key-v1 ed25519";

/// Reads the signing key file, if there is one.
pub fn read_signing_key(path: &Path) -> Result<Option<SigningKey>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(StoreError::Db(format!(
                "cannot read the signing key {}: {e}",
                path.display()
            )))
        }
    };
    let bad = || StoreError::Invalid {
        field: "signing key".into(),
        message: format!("{} is not a jiesu signing key file", path.display()),
        message_zh: format!("{} 不是签名密钥文件", path.display()),
    };
    let mut lines = text.lines();
    if lines.next() != Some(KEY_FILE_HEADER) {
        return Err(bad());
    }
    let seed: [u8; 32] = lines
        .next()
        .and_then(|l| B64.decode(l.trim()).ok())
        .and_then(|b| b.try_into().ok())
        .ok_or_else(bad)?;
    Ok(Some(SigningKey::from_bytes(&seed)))
}

/// Reads the signing key file, creating it (mode 0600, a fresh key) when there is none.
pub fn load_or_create_signing_key(path: &Path) -> Result<SigningKey> {
    if let Some(k) = read_signing_key(path)? {
        return Ok(k);
    }
    let mut seed = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut seed);
    let key = SigningKey::from_bytes(&seed);
    let io = |e: std::io::Error| {
        StoreError::Db(format!(
            "cannot create the signing key {}: {e}",
            path.display()
        ))
    };
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    match opts.open(path) {
        Ok(mut f) => {
            use std::io::Write;
            writeln!(f, "{KEY_FILE_HEADER}\n{}", B64.encode(seed)).map_err(io)?;
            f.sync_all().map_err(io)?;
            tracing::info!(path = %path.display(), "created a new checkpoint signing key");
            Ok(key)
        }
        // another process created it first: use that one
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            read_signing_key(path)?.ok_or_else(|| io(e))
        }
        Err(e) => Err(io(e)),
    }
}

/// The event log's checkpoints and proofs.
pub trait LedgerStore: Send + Sync {
    /// The number of events in the log.
    fn log_size(&self) -> Result<u64>;
    /// The log's origin and public key (creating the signing key file on first use).
    fn log_key(&self) -> Result<LogKey>;
    /// Signs and stores a checkpoint of the whole log as it stands, extending the stored
    /// subtree hashes. When the log has not grown since the latest checkpoint, that one is
    /// returned and nothing is stored (`false`).
    fn make_checkpoint(&self, now: DateTime<Utc>) -> Result<(Checkpoint, bool)>;
    /// The newest checkpoint.
    fn latest_checkpoint(&self) -> Result<Option<Checkpoint>>;
    /// The checkpoint of exactly this size.
    fn checkpoint(&self, tree_size: u64) -> Result<Option<Checkpoint>>;
    /// Checkpoints newest first, those smaller than `before` (all when `None`), at most `limit`.
    fn checkpoints(&self, before: Option<u64>, limit: usize) -> Result<Vec<Checkpoint>>;
    /// The consistency proof between the trees of sizes `from ≤ to` (both at most the log size).
    fn consistency_proof(&self, from: u64, to: u64) -> Result<Vec<Hash>>;
    /// A ticket's events with their inclusion proofs in the tree of `tree_size` (events at
    /// positions ≥ `tree_size` without one).
    fn ticket_proofs(&self, ticket: TicketId, tree_size: u64) -> Result<Vec<EventProof>>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_note_verifies_and_an_edited_one_does_not() {
        let sk = SigningKey::from_bytes(&[7u8; 32]);
        let key = LogKey {
            origin: "jiesu.example/city".into(),
            public_key: sk.verifying_key().to_bytes(),
        };
        let at = "2026-12-03T00:00:00Z".parse().unwrap();
        let text = checkpoint_text(&key.origin, 5, &[9u8; 32], at);
        let note = sign_note(&key.origin, &sk, &text);
        assert!(note.contains("\n\n\u{2014} jiesu.example/city "), "{note}");
        let cp = open_note(&note, &key).unwrap();
        assert_eq!((cp.tree_size, cp.root), (5, [9u8; 32]));
        let edited = note.replacen("\n5\n", "\n6\n", 1);
        assert!(open_note(&edited, &key).is_err());
        let other = LogKey {
            public_key: SigningKey::from_bytes(&[8u8; 32])
                .verifying_key()
                .to_bytes(),
            ..key.clone()
        };
        assert!(open_note(&note, &other).is_err());
        let vk = key.verifier_key();
        assert!(vk.starts_with("jiesu.example/city+"), "{vk}");
        assert_eq!(vk.split('+').nth(1).unwrap().len(), 8);
    }
}
