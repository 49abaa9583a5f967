//! Personal data at rest (个人信息加密存储): envelope encryption with a key file that is never in
//! the database.
//!
//! Each ticket gets its own random data key (数据密钥); the requester's name, phone and address
//! are sealed with it (ChaCha20-Poly1305, the ticket id bound in as associated data), and the data
//! key is stored wrapped (encrypted) by the key file's current master key. So:
//! - a copy of the database alone reveals no personal data;
//! - rotating the master key re-wraps the small data keys (`jiesu keys rotate`) and never touches
//!   the event log, whose hash chain therefore stays valid;
//! - erasing a ticket's personal data deletes its data key (crypto-shredding), again without
//!   editing an event.
//!
//! Staff search by phone through a keyed hash (HMAC-SHA256 with the key file's index key), never by
//! plaintext. Everything here is RustCrypto; only the key file's small text format is ours.

use crate::{Result, StoreError};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use std::path::Path;

const WRAP_AAD: &[u8] = b"jiesu/data-key/v1/";
const SEAL_AAD: &[u8] = b"jiesu/personal/v1/";
const NONCE_LEN: usize = 12;

/// A master key of the key file (主密钥), named by a short id stored beside what it wrapped.
#[derive(Clone)]
struct MasterKey {
    id: String,
    key: [u8; 32],
}

/// The key file's content: master keys (the first wraps new data keys, the others only unwrap,
/// for rotation) and the phone-index key.
#[derive(Clone)]
pub struct Keyring {
    keys: Vec<MasterKey>,
    index: [u8; 32],
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // never print key material
        f.debug_struct("Keyring")
            .field("keys", &self.key_ids())
            .finish_non_exhaustive()
    }
}

/// A ticket's data key, unwrapped.
pub struct DataKey([u8; 32]);

// Data keys and nonces come from the thread's CSPRNG (ChaCha12 seeded from the operating
// system and reseeded by it), not one `getrandom` call each: a ticket takes several, and at
// thousands of tickets a second those system calls were a visible share of intake.
fn random32() -> [u8; 32] {
    let mut k = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut k);
    k
}

fn aad(prefix: &[u8], ticket: i64) -> Vec<u8> {
    let mut v = prefix.to_vec();
    v.extend_from_slice(&ticket.to_le_bytes());
    v
}

fn seal_with(key: &[u8; 32], aad: &[u8], plain: &[u8]) -> Vec<u8> {
    let cipher = ChaCha20Poly1305::new(Key::from_slice(key));
    let mut nonce = [0u8; NONCE_LEN];
    rand::thread_rng().fill_bytes(&mut nonce);
    let ct = cipher
        .encrypt(Nonce::from_slice(&nonce), Payload { msg: plain, aad })
        .expect("ChaCha20-Poly1305 encryption of a short message cannot fail");
    let mut out = Vec::with_capacity(NONCE_LEN + ct.len());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&ct);
    out
}

fn open_with(key: &[u8; 32], aad: &[u8], blob: &[u8]) -> Option<Vec<u8>> {
    if blob.len() < NONCE_LEN {
        return None;
    }
    let (nonce, ct) = blob.split_at(NONCE_LEN);
    ChaCha20Poly1305::new(Key::from_slice(key))
        .decrypt(Nonce::from_slice(nonce), Payload { msg: ct, aad })
        .ok()
}

fn key_error(message: String, message_zh: String) -> StoreError {
    StoreError::Invalid {
        field: "key file".into(),
        message,
        message_zh,
    }
}

impl Keyring {
    /// A new key file's content: one master key and an index key, from the OS's random source.
    pub fn generate() -> Keyring {
        Keyring {
            keys: vec![Self::new_master()],
            index: random32(),
        }
    }

    fn new_master() -> MasterKey {
        let mut id = [0u8; 4];
        rand::rngs::OsRng.fill_bytes(&mut id);
        MasterKey {
            id: format!(
                "k{}",
                id.iter().map(|b| format!("{b:02x}")).collect::<String>()
            ),
            key: random32(),
        }
    }

    /// The same keyring with a new current master key in front (the old ones still unwrap):
    /// the first step of a rotation.
    pub fn with_new_master(&self) -> Keyring {
        let mut keys = vec![Self::new_master()];
        keys.extend(self.keys.iter().cloned());
        Keyring {
            keys,
            index: self.index,
        }
    }

    /// The same keyring without the master keys after the current one: the last step of a
    /// rotation, once nothing is wrapped by them any more.
    pub fn current_only(&self) -> Keyring {
        Keyring {
            keys: self.keys[..1].to_vec(),
            index: self.index,
        }
    }

    /// The master keys' ids, the current one first.
    pub fn key_ids(&self) -> Vec<String> {
        self.keys.iter().map(|k| k.id.clone()).collect()
    }

    /// The id of the master key that wraps new data keys.
    pub fn current_id(&self) -> &str {
        &self.keys[0].id
    }

    /// Parses a key file: `index <base64>` once and `key <id> <base64>` lines (the first is
    /// current); `#` starts a comment.
    pub fn parse(text: &str) -> Result<Keyring> {
        let mut keys = Vec::new();
        let mut index = None;
        let decode = |s: &str, what: &str| -> Result<[u8; 32]> {
            let v = B64.decode(s.trim()).map_err(|_| {
                key_error(
                    format!("the {what} in the key file is not base64"),
                    format!("密钥文件中的{what}不是 base64 编码"),
                )
            })?;
            v.try_into().map_err(|_| {
                key_error(
                    format!("the {what} in the key file is not 32 bytes long"),
                    format!("密钥文件中的{what}长度不是 32 字节"),
                )
            })
        };
        for line in text.lines() {
            let line = line.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let parts: Vec<&str> = line.split_whitespace().collect();
            match parts.as_slice() {
                ["index", k] => index = Some(decode(k, "index key")?),
                ["key", id, k] => keys.push(MasterKey {
                    id: id.to_string(),
                    key: decode(k, "master key")?,
                }),
                _ => {
                    return Err(key_error(
                        format!("the key file has a line that is neither `index <base64>` nor `key <id> <base64>`: {:?}", parts.first().unwrap_or(&"")),
                        "密钥文件中有无法识别的行（应为 `index <base64>` 或 `key <编号> <base64>`）".into(),
                    ))
                }
            }
        }
        match (keys.is_empty(), index) {
            (false, Some(index)) => Ok(Keyring { keys, index }),
            _ => Err(key_error(
                "the key file needs an `index` line and at least one `key` line".into(),
                "密钥文件须有一行 `index` 和至少一行 `key`".into(),
            )),
        }
    }

    /// The key file's text.
    pub fn to_text(&self) -> String {
        let mut s = String::from(
            "# Jiesu key file: the master keys of personal data (the first seals new data) and the\n\
             # phone-index key. Keep it outside the database's directory and its backups: without it\n\
             # the personal data cannot be read, and with the database it reveals it.\n",
        );
        s.push_str(&format!("index {}\n", B64.encode(self.index)));
        for k in &self.keys {
            s.push_str(&format!("key {} {}\n", k.id, B64.encode(k.key)));
        }
        s
    }

    /// Reads a key file.
    pub fn load(path: &Path) -> Result<Keyring> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            key_error(
                format!("cannot read the key file {}: {e}", path.display()),
                format!("无法读取密钥文件 {}：{e}", path.display()),
            )
        })?;
        Self::parse(&text)
    }

    /// Writes the keyring to `path` readable by its owner only, replacing the file atomically
    /// (write beside it, then rename).
    pub fn save(&self, path: &Path) -> Result<()> {
        let tmp = path.with_extension("keys-new");
        let io = |e: std::io::Error| {
            key_error(
                format!("cannot write the key file {}: {e}", path.display()),
                format!("无法写入密钥文件 {}：{e}", path.display()),
            )
        };
        {
            use std::io::Write;
            let mut opts = std::fs::OpenOptions::new();
            opts.write(true).create(true).truncate(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                opts.mode(0o600);
            }
            let mut f = opts.open(&tmp).map_err(io)?;
            f.write_all(self.to_text().as_bytes()).map_err(io)?;
            f.sync_all().map_err(io)?;
        }
        std::fs::rename(&tmp, path).map_err(io)
    }

    /// A new data key for a ticket, and its wrapped form under the current master key.
    pub fn new_data_key(&self, ticket: i64) -> (DataKey, String, Vec<u8>) {
        let dek = random32();
        let cur = &self.keys[0];
        let wrapped = seal_with(&cur.key, &aad(WRAP_AAD, ticket), &dek);
        (DataKey(dek), cur.id.clone(), wrapped)
    }

    /// Unwraps a ticket's data key.
    pub fn unwrap(&self, ticket: i64, key_id: &str, wrapped: &[u8]) -> Result<DataKey> {
        let mk = self.keys.iter().find(|k| k.id == key_id).ok_or_else(|| {
            key_error(
                format!(
                    "ticket {ticket}'s personal data is sealed with master key {key_id}, which is not in the key file (it has {})",
                    self.key_ids().join(", ")
                ),
                format!("工单 {ticket} 的个人信息由主密钥 {key_id} 加密，但密钥文件中没有该密钥"),
            )
        })?;
        let dek = open_with(&mk.key, &aad(WRAP_AAD, ticket), wrapped).ok_or_else(|| {
            key_error(
                format!("ticket {ticket}'s data key does not open with master key {key_id}: the key file or the row was altered"),
                format!("工单 {ticket} 的数据密钥无法用主密钥 {key_id} 解开：密钥文件或数据已被改动"),
            )
        })?;
        Ok(DataKey(dek.try_into().map_err(|_| {
            StoreError::Db(format!("ticket {ticket}'s data key has a wrong length"))
        })?))
    }

    /// The data key re-wrapped under the current master key, or `None` if it already is.
    pub fn rewrap(&self, ticket: i64, key_id: &str, wrapped: &[u8]) -> Result<Option<Vec<u8>>> {
        if key_id == self.current_id() {
            return Ok(None);
        }
        let dek = self.unwrap(ticket, key_id, wrapped)?;
        Ok(Some(seal_with(
            &self.keys[0].key,
            &aad(WRAP_AAD, ticket),
            &dek.0,
        )))
    }

    /// The keyed hash of a phone number (digits only), for the search index.
    pub fn phone_index(&self, phone: &str) -> Option<Vec<u8>> {
        let digits: String = phone.chars().filter(|c| c.is_ascii_digit()).collect();
        if digits.is_empty() {
            return None;
        }
        Some(self.keyed(b"phone", digits.as_bytes()))
    }

    /// HMAC-SHA256 of `data` under the index key, domain-separated by `label`: for values that
    /// must be comparable but not reversible by someone holding only the database (the phone
    /// index, the idempotency request hashes).
    pub fn keyed(&self, label: &[u8], data: &[u8]) -> Vec<u8> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.index)
            .expect("HMAC takes a key of any length");
        mac.update(label);
        mac.update(&[0]);
        mac.update(data);
        mac.finalize().into_bytes().to_vec()
    }
}

impl DataKey {
    /// Seals a ticket's personal data.
    pub fn seal(&self, ticket: i64, plain: &[u8]) -> Vec<u8> {
        seal_with(&self.0, &aad(SEAL_AAD, ticket), plain)
    }

    /// Opens what [`seal`](Self::seal) sealed for the same ticket.
    pub fn open(&self, ticket: i64, blob: &[u8]) -> Result<Vec<u8>> {
        open_with(&self.0, &aad(SEAL_AAD, ticket), blob).ok_or_else(|| {
            StoreError::Db(format!(
                "ticket {ticket}'s sealed personal data does not open with its data key: the row was altered"
            ))
        })
    }
}

/// How often a store looks whether its key file changed (a rotation in progress).
const RELOAD_EVERY: std::time::Duration = std::time::Duration::from_secs(2);

/// The keyring a store uses. Read from its key file, and read again when the file changes, so a
/// running server follows a rotation (`jiesu keys rotate`) without a restart: new data keys are
/// wrapped by the new current master key within [`RELOAD_EVERY`], and a data key wrapped by a
/// master key it does not know yet makes it re-read the file at once.
pub struct Keys {
    path: Option<std::path::PathBuf>,
    state: std::sync::RwLock<KeysState>,
}

struct KeysState {
    ring: std::sync::Arc<Keyring>,
    modified: Option<std::time::SystemTime>,
    checked: std::time::Instant,
}

fn modified(path: &Path) -> Option<std::time::SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

impl Keys {
    /// Keys that never change (loaded from an environment variable, or a test's).
    pub fn fixed(ring: Keyring) -> Keys {
        Keys {
            path: None,
            state: std::sync::RwLock::new(KeysState {
                ring: std::sync::Arc::new(ring),
                modified: None,
                checked: std::time::Instant::now(),
            }),
        }
    }

    /// Keys read from `path` (already loaded as `ring`), followed as the file changes.
    pub fn from_file(path: &Path, ring: Keyring) -> Keys {
        Keys {
            path: Some(path.to_path_buf()),
            state: std::sync::RwLock::new(KeysState {
                ring: std::sync::Arc::new(ring),
                modified: modified(path),
                checked: std::time::Instant::now(),
            }),
        }
    }

    /// The key file followed, if any.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    fn reload(&self, force: bool) {
        let Some(path) = &self.path else { return };
        let due = self
            .state
            .read()
            .map(|s| force || s.checked.elapsed() >= RELOAD_EVERY)
            .unwrap_or(false);
        if !due {
            return;
        }
        let Ok(mut st) = self.state.write() else {
            return;
        };
        st.checked = std::time::Instant::now();
        let m = modified(path);
        if !force && m == st.modified {
            return;
        }
        match Keyring::load(path) {
            Ok(ring) => {
                if ring.key_ids() != st.ring.key_ids() {
                    tracing::info!(keys = ?ring.key_ids(), "re-read the personal-data key file");
                }
                st.ring = std::sync::Arc::new(ring);
                st.modified = m;
            }
            // a half-written or broken file: keep the keys in memory, say so
            Err(e) => tracing::warn!("cannot re-read the key file {}: {e}", path.display()),
        }
    }

    /// The keyring now.
    pub fn ring(&self) -> std::sync::Arc<Keyring> {
        self.reload(false);
        self.state
            .read()
            .map(|s| s.ring.clone())
            .expect("the key state lock is never poisoned: no code panics while holding it")
    }

    /// Unwraps a ticket's data key, re-reading the key file once if it is wrapped by an
    /// unknown master key.
    pub fn unwrap(&self, ticket: i64, key_id: &str, wrapped: &[u8]) -> Result<DataKey> {
        let ring = self.ring();
        if !ring.key_ids().iter().any(|k| k == key_id) && self.path.is_some() {
            self.reload(true);
            return self.ring().unwrap(ticket, key_id, wrapped);
        }
        ring.unwrap(ticket, key_id, wrapped)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_data_opens_only_for_its_own_ticket() {
        let ring = Keyring::generate();
        let (dek, id, wrapped) = ring.new_data_key(7);
        let blob = dek.seal(7, b"13912345678");
        assert!(!blob.windows(11).any(|w| w == b"13912345678"));
        let dek2 = ring.unwrap(7, &id, &wrapped).unwrap();
        assert_eq!(dek2.open(7, &blob).unwrap(), b"13912345678");
        assert!(
            dek2.open(8, &blob).is_err(),
            "a blob moved to another ticket must not open"
        );
        assert!(
            ring.unwrap(8, &id, &wrapped).is_err(),
            "a data key moved to another ticket must not unwrap"
        );
    }

    #[test]
    fn rotation_rewraps_under_the_new_key_and_old_key_can_then_go() {
        let old = Keyring::generate();
        let (dek, id, wrapped) = old.new_data_key(3);
        let blob = dek.seal(3, b"secret");
        let rotated = old.with_new_master();
        let rewrapped = rotated.rewrap(3, &id, &wrapped).unwrap().unwrap();
        let only_new = rotated.current_only();
        let dek = only_new
            .unwrap(3, only_new.current_id(), &rewrapped)
            .unwrap();
        assert_eq!(dek.open(3, &blob).unwrap(), b"secret");
        assert!(only_new.unwrap(3, &id, &wrapped).is_err());
        assert_eq!(
            rotated.phone_index("139-1234-5678"),
            old.phone_index("13912345678"),
            "the phone index survives a master-key rotation"
        );
    }

    #[test]
    fn key_file_round_trips_and_bad_files_are_refused_in_plain_words() {
        let ring = Keyring::generate().with_new_master();
        let back = Keyring::parse(&ring.to_text()).unwrap();
        assert_eq!(back.key_ids(), ring.key_ids());
        assert_eq!(back.phone_index("1"), ring.phone_index("1"));
        let e = Keyring::parse("key k1 abc\n").unwrap_err().to_string();
        assert!(e.contains("base64") || e.contains("index"), "{e}");
        assert!(Keyring::parse("").is_err());
        assert!(!format!("{ring:?}").contains(&B64.encode(ring.index)));
    }
}
