//! The event log's hash chain (防篡改): every event row carries the hash of its stored content
//! and of the previous event of its ticket, so an edited payload, an edited kind, a deleted or an
//! inserted event breaks the chain at that event.
//!
//! The hash is computed over the row exactly as stored (the sealed personal data as ciphertext),
//! so the chain is checked without the key file, and neither a key rotation nor the erasure of
//! personal data (both touch only `personal_keys`) changes it. It has the form of an RFC 6962 /
//! RFC 9162 leaf hash, `SHA-256(0x00 ‖ leaf)`, so the same values are the leaves of the log's
//! Merkle tree (checkpoints and inclusion proofs).

use sha2::{Digest, Sha256};

/// A SHA-256 digest.
pub type Hash = [u8; 32];

/// The chain's start: the "previous hash" of a ticket's first event.
pub const GENESIS: Hash = [0u8; 32];

/// One event row's stored columns, as hashed.
#[derive(Debug, Clone, Copy)]
pub struct StoredEvent<'a> {
    pub ticket: i64,
    pub seq: u32,
    pub at: &'a str,
    pub kind: &'a str,
    pub actor: &'a str,
    pub role: &'a str,
    pub unit: Option<&'a str>,
    pub payload: &'a str,
    pub sealed: Option<&'a [u8]>,
}

fn put(h: &mut Sha256, bytes: &[u8]) {
    h.update((bytes.len() as u32).to_le_bytes());
    h.update(bytes);
}

fn put_opt(h: &mut Sha256, bytes: Option<&[u8]>) {
    match bytes {
        None => h.update([0u8]),
        Some(b) => {
            h.update([1u8]);
            put(h, b);
        }
    }
}

/// The event's link: `SHA-256(0x00 ‖ "jiesu-event-v1" ‖ prev ‖ fields)`, every variable-length
/// field prefixed by its length so no two rows encode alike.
pub fn event_hash(prev: &Hash, e: &StoredEvent<'_>) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(b"jiesu-event-v1");
    h.update(prev);
    h.update(e.ticket.to_le_bytes());
    h.update(e.seq.to_le_bytes());
    put(&mut h, e.at.as_bytes());
    put(&mut h, e.kind.as_bytes());
    put(&mut h, e.actor.as_bytes());
    put(&mut h, e.role.as_bytes());
    put_opt(&mut h, e.unit.map(str::as_bytes));
    put(&mut h, e.payload.as_bytes());
    put_opt(&mut h, e.sealed);
    h.finalize().into()
}

/// Lower-case hex of a hash (how hashes are shown and served).
pub fn hex(h: &Hash) -> String {
    h.iter().map(|b| format!("{b:02x}")).collect()
}

/// Where a ticket's stored chain first fails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainBreak {
    pub ticket: i64,
    pub seq: u32,
    pub reason: String,
}

impl std::fmt::Display for ChainBreak {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "ticket {} event {}: {}",
            self.ticket, self.seq, self.reason
        )
    }
}

/// Checks one ticket's events (in `seq` order, each with its stored hash): sequence numbers
/// 1, 2, 3, … and every hash the link of its row and the previous hash.
pub fn check_ticket<'a>(
    ticket: i64,
    rows: impl IntoIterator<Item = (StoredEvent<'a>, Option<&'a [u8]>)>,
) -> Result<Hash, ChainBreak> {
    let mut prev = GENESIS;
    for (expect_seq, (e, stored)) in (1u32..).zip(rows) {
        let brk = |reason: String| ChainBreak {
            ticket,
            seq: e.seq,
            reason,
        };
        if e.seq != expect_seq {
            return Err(ChainBreak {
                ticket,
                seq: expect_seq,
                reason: format!(
                    "event {expect_seq} is missing (the next stored is {})",
                    e.seq
                ),
            });
        }
        let h = event_hash(&prev, &e);
        match stored {
            None => return Err(brk("the event has no hash".into())),
            Some(s) if s != h.as_slice() => {
                return Err(brk(
                    "its content does not match its hash (edited, inserted or moved)".into(),
                ))
            }
            Some(_) => {}
        }
        prev = h;
    }
    Ok(prev)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(seq: u32, payload: &str) -> StoredEvent<'_> {
        StoredEvent {
            ticket: 1,
            seq,
            at: "2026-12-01T08:00:00Z",
            kind: "signed",
            actor: "u",
            role: "unit_handler",
            unit: Some("110105001"),
            payload,
            sealed: None,
        }
    }

    #[test]
    fn an_edited_payload_breaks_the_chain_at_that_event() {
        let a = ev(1, "{\"a\":1}");
        let b = ev(2, "{\"b\":2}");
        let ha = event_hash(&GENESIS, &a);
        let hb = event_hash(&ha, &b);
        assert!(check_ticket(1, [(a, Some(&ha[..])), (b, Some(&hb[..]))]).is_ok());
        let b2 = ev(2, "{\"b\":3}");
        let err = check_ticket(1, [(a, Some(&ha[..])), (b2, Some(&hb[..]))]).unwrap_err();
        assert_eq!(err.seq, 2);
        let err = check_ticket(1, [(b, Some(&hb[..]))]).unwrap_err();
        assert!(err.reason.contains("missing"), "{err}");
    }

    #[test]
    fn fields_are_length_prefixed_so_shifting_text_between_them_changes_the_hash() {
        let mut a = ev(1, "x");
        a.actor = "ab";
        a.role = "c";
        let mut b = a;
        b.actor = "a";
        b.role = "bc";
        assert_ne!(event_hash(&GENESIS, &a), event_hash(&GENESIS, &b));
        let mut c = a;
        c.unit = None;
        let mut d = a;
        d.unit = Some("");
        assert_ne!(event_hash(&GENESIS, &c), event_hash(&GENESIS, &d));
    }
}
