//! The event log's Merkle tree (默克尔树) in the manner of RFC 6962 / RFC 9162 §2.1: the leaves
//! are the events' stored hashes in log-position order (each already `SHA-256(0x00 ‖ …)`, see
//! `chain.rs`), an interior node is `SHA-256(0x01 ‖ left ‖ right)`, and the root of the empty
//! tree is the SHA-256 of nothing.
//!
//! Pure: the leaves and the stored subtree hashes come through [`TreeSource`]. Complete aligned
//! subtrees of [`STORED_LEVEL`] (256 leaves) and above are stored when a checkpoint is made
//! ([`new_nodes`]), so a root or a proof reads O(log n) stored nodes and fewer than 256 leaves
//! per level — never the whole log.

use crate::chain::Hash;
use crate::Result;
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// The lowest level of stored subtree hashes: a node at level `l` covers `2^l` leaves.
pub const STORED_LEVEL: u32 = 8;

/// Where the tree's leaves and stored subtree hashes come from.
pub trait TreeSource {
    /// The leaf hashes at positions `start..end` (all of them, in order).
    fn leaves(&self, start: u64, end: u64) -> Result<Vec<Hash>>;
    /// The stored hash of the complete subtree at `level` covering leaves
    /// `idx·2^level .. (idx+1)·2^level`, if stored (only levels ≥ [`STORED_LEVEL`] are).
    fn node(&self, level: u32, idx: u64) -> Result<Option<Hash>>;
}

/// Leaves held in memory (tests, small trees).
impl TreeSource for [Hash] {
    fn leaves(&self, start: u64, end: u64) -> Result<Vec<Hash>> {
        Ok(self[start as usize..end as usize].to_vec())
    }
    fn node(&self, _level: u32, _idx: u64) -> Result<Option<Hash>> {
        Ok(None)
    }
}

/// The root of the empty tree: SHA-256 of the empty string.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// An interior node: `SHA-256(0x01 ‖ left ‖ right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The largest power of two smaller than `n` (`n ≥ 2`).
fn split(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1u64 << (63 - (n - 1).leading_zeros())
}

/// MTH of leaves held in memory.
pub fn root_of(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => empty_root(),
        1 => leaves[0],
        n => {
            let k = split(n as u64) as usize;
            node_hash(&root_of(&leaves[..k]), &root_of(&leaves[k..]))
        }
    }
}

/// MTH(D[start:end]): the root of the leaves `start..end`, from stored subtrees where it can.
pub fn range_root(src: &(impl TreeSource + ?Sized), start: u64, end: u64) -> Result<Hash> {
    let n = end - start;
    if n == 0 {
        return Ok(empty_root());
    }
    if n < (1 << STORED_LEVEL) {
        return Ok(root_of(&src.leaves(start, end)?));
    }
    if n.is_power_of_two() && start.is_multiple_of(n) {
        if let Some(h) = src.node(n.trailing_zeros(), start / n)? {
            return Ok(h);
        }
    }
    let k = split(n);
    Ok(node_hash(
        &range_root(src, start, start + k)?,
        &range_root(src, start + k, end)?,
    ))
}

/// The root of the first `size` leaves.
pub fn root(src: &(impl TreeSource + ?Sized), size: u64) -> Result<Hash> {
    range_root(src, 0, size)
}

/// The inclusion proof (audit path, RFC 9162 §2.1.3.1 `PATH(m, D[n])`) of leaf `index` in the
/// tree of the first `size` leaves, nearest sibling first.
pub fn inclusion_proof(
    src: &(impl TreeSource + ?Sized),
    index: u64,
    size: u64,
) -> Result<Vec<Hash>> {
    assert!(index < size, "leaf {index} is not in a tree of {size}");
    let mut out = Vec::new();
    path(src, index, 0, size, &mut out)?;
    Ok(out)
}

fn path(
    src: &(impl TreeSource + ?Sized),
    m: u64,
    start: u64,
    end: u64,
    out: &mut Vec<Hash>,
) -> Result<()> {
    let n = end - start;
    if n <= 1 {
        return Ok(());
    }
    let k = split(n);
    if m < k {
        path(src, m, start, start + k, out)?;
        out.push(range_root(src, start + k, end)?);
    } else {
        path(src, m - k, start + k, end, out)?;
        out.push(range_root(src, start, start + k)?);
    }
    Ok(())
}

/// The consistency proof (RFC 9162 §2.1.4.1 `PROOF(m, D[n])`) that the tree of the first `m`
/// leaves is a prefix of the tree of the first `n`. Empty when `m == n` or `m == 0`.
pub fn consistency_proof(src: &(impl TreeSource + ?Sized), m: u64, n: u64) -> Result<Vec<Hash>> {
    assert!(m <= n, "a tree of {m} is not a prefix of one of {n}");
    let mut out = Vec::new();
    if m > 0 && m < n {
        subproof(src, m, 0, n, true, &mut out)?;
    }
    Ok(out)
}

fn subproof(
    src: &(impl TreeSource + ?Sized),
    m: u64,
    start: u64,
    end: u64,
    whole: bool,
    out: &mut Vec<Hash>,
) -> Result<()> {
    let n = end - start;
    if m == n {
        if !whole {
            out.push(range_root(src, start, end)?);
        }
        return Ok(());
    }
    let k = split(n);
    if m <= k {
        subproof(src, m, start, start + k, whole, out)?;
        out.push(range_root(src, start + k, end)?);
    } else {
        subproof(src, m - k, start + k, end, false, out)?;
        out.push(range_root(src, start, start + k)?);
    }
    Ok(())
}

/// Verifies an inclusion proof (RFC 9162 §2.1.3.2).
pub fn verify_inclusion(index: u64, size: u64, leaf: &Hash, proof: &[Hash], root: &Hash) -> bool {
    if index >= size {
        return false;
    }
    let (mut f, mut s) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if s == 0 {
            return false;
        }
        if f & 1 == 1 || f == s {
            r = node_hash(p, &r);
            if f & 1 == 0 {
                while f & 1 == 0 && f != 0 {
                    f >>= 1;
                    s >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    s == 0 && r == *root
}

/// Verifies a consistency proof between the tree of `m` leaves with root `first` and the tree
/// of `n` leaves with root `second` (RFC 9162 §2.1.4.2; `m == n` needs an empty proof and equal
/// roots, `m == 0` an empty proof and the empty tree's root).
pub fn verify_consistency(m: u64, n: u64, first: &Hash, second: &Hash, proof: &[Hash]) -> bool {
    if m > n {
        return false;
    }
    if m == n {
        return proof.is_empty() && first == second;
    }
    if m == 0 {
        return proof.is_empty() && *first == empty_root();
    }
    if proof.is_empty() {
        return false;
    }
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if m.is_power_of_two() {
        path.push(*first);
    }
    path.extend_from_slice(proof);
    let (mut f, mut s) = (m - 1, n - 1);
    while f & 1 == 1 {
        f >>= 1;
        s >>= 1;
    }
    let (mut fr, mut sr) = (path[0], path[0]);
    for c in &path[1..] {
        if s == 0 {
            return false;
        }
        if f & 1 == 1 || f == s {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if f & 1 == 0 {
                while f & 1 == 0 && f != 0 {
                    f >>= 1;
                    s >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        f >>= 1;
        s >>= 1;
    }
    fr == *first && sr == *second && s == 0
}

/// The complete aligned subtrees at levels ≥ [`STORED_LEVEL`] that a tree of `size` leaves has
/// and a tree of `stored` leaves (what is stored already, a multiple of 256) has not, lowest
/// level first, as `(level, idx, hash)`. Reads the leaves `stored..size` once.
pub fn new_nodes(
    src: &(impl TreeSource + ?Sized),
    stored: u64,
    size: u64,
) -> Result<Vec<(u32, u64, Hash)>> {
    let block = 1u64 << STORED_LEVEL;
    let mut out = Vec::new();
    let mut fresh: HashMap<(u32, u64), Hash> = HashMap::new();
    let first = stored / block;
    for idx in first..size / block {
        let h = root_of(&src.leaves(idx * block, (idx + 1) * block)?);
        fresh.insert((STORED_LEVEL, idx), h);
        out.push((STORED_LEVEL, idx, h));
    }
    let mut level = STORED_LEVEL + 1;
    while (1u64 << level) <= size {
        let width = 1u64 << level;
        for idx in stored / width..size / width {
            let child = |i: u64| -> Result<Hash> {
                match fresh.get(&(level - 1, i)) {
                    Some(h) => Ok(*h),
                    None => match src.node(level - 1, i)? {
                        Some(h) => Ok(h),
                        None => range_root(src, i << (level - 1), (i + 1) << (level - 1)),
                    },
                }
            };
            let h = node_hash(&child(2 * idx)?, &child(2 * idx + 1)?);
            fresh.insert((level, idx), h);
            out.push((level, idx, h));
        }
        level += 1;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn leaves(n: usize, salt: u8) -> Vec<Hash> {
        (0..n)
            .map(|i| {
                let mut h = Sha256::new();
                h.update([0u8, salt]);
                h.update((i as u64).to_le_bytes());
                h.finalize().into()
            })
            .collect()
    }

    /// Leaves with the stored nodes made by [`new_nodes`], counting leaf reads.
    struct Stored {
        leaves: Vec<Hash>,
        nodes: HashMap<(u32, u64), Hash>,
        read: std::cell::Cell<u64>,
    }

    impl TreeSource for Stored {
        fn leaves(&self, start: u64, end: u64) -> Result<Vec<Hash>> {
            self.read.set(self.read.get() + (end - start));
            Ok(self.leaves[start as usize..end as usize].to_vec())
        }
        fn node(&self, level: u32, idx: u64) -> Result<Option<Hash>> {
            Ok(self.nodes.get(&(level, idx)).copied())
        }
    }

    #[test]
    fn the_rfc_shapes_of_small_trees() {
        let l = leaves(3, 0);
        assert_eq!(root_of(&[]), empty_root());
        assert_eq!(root_of(&l[..1]), l[0]);
        assert_eq!(root_of(&l), node_hash(&node_hash(&l[0], &l[1]), &l[2]));
        assert_eq!(
            hex(&empty_root()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    fn hex(h: &Hash) -> String {
        crate::chain::hex(h)
    }

    #[test]
    fn stored_nodes_give_the_same_roots_and_proofs_without_reading_the_log() {
        let all = leaves(3000, 7);
        let mut s = Stored {
            leaves: all.clone(),
            nodes: HashMap::new(),
            read: Default::default(),
        };
        // two checkpoints: the nodes extended twice
        for (from, to) in [(0, 1100), (1024, 3000)] {
            for (l, i, h) in new_nodes(&s, from, to).unwrap() {
                assert_eq!(h, root_of(&all[(i << l) as usize..((i + 1) << l) as usize]));
                s.nodes.insert((l, i), h);
            }
        }
        assert!(s.nodes.contains_key(&(11, 0)));
        s.read.set(0);
        assert_eq!(root(&s, 3000).unwrap(), root_of(&all));
        assert!(s.read.get() < 256, "read {} leaves", s.read.get());
        s.read.set(0);
        let p = inclusion_proof(&s, 1500, 3000).unwrap();
        assert_eq!(p, inclusion_proof(&all[..], 1500, 3000).unwrap());
        assert!(s.read.get() < 256 * 12, "read {} leaves", s.read.get());
        assert!(verify_inclusion(1500, 3000, &all[1500], &p, &root_of(&all)));
        let c = consistency_proof(&s, 1100, 3000).unwrap();
        assert_eq!(c, consistency_proof(&all[..], 1100, 3000).unwrap());
        assert!(verify_consistency(
            1100,
            3000,
            &root_of(&all[..1100]),
            &root_of(&all),
            &c
        ));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        #[test]
        fn every_inclusion_proof_verifies_and_a_changed_leaf_or_sibling_fails(
            n in 1usize..140, pick in any::<prop::sample::Index>(), flip in any::<prop::sample::Index>()
        ) {
            let l = leaves(n, 1);
            let r = root_of(&l);
            for i in 0..n as u64 {
                let p = inclusion_proof(&l[..], i, n as u64).unwrap();
                prop_assert!(verify_inclusion(i, n as u64, &l[i as usize], &p, &r));
            }
            let i = pick.index(n) as u64;
            let p = inclusion_proof(&l[..], i, n as u64).unwrap();
            let mut bad = l[i as usize];
            bad[0] ^= 1;
            prop_assert!(!verify_inclusion(i, n as u64, &bad, &p, &r));
            if !p.is_empty() {
                let mut q = p.clone();
                q[flip.index(p.len())][31] ^= 0x80;
                prop_assert!(!verify_inclusion(i, n as u64, &l[i as usize], &q, &r));
                // the proof of one leaf does not prove another position
                let other = (i + 1) % n as u64;
                prop_assert!(!verify_inclusion(other, n as u64, &l[i as usize], &p, &r));
            }
            prop_assert!(!verify_inclusion(n as u64, n as u64, &l[0], &p, &r));
        }

        #[test]
        fn consistency_proofs_verify_for_every_prefix_and_fail_for_a_rewritten_one(
            n in 1usize..100, at in any::<prop::sample::Index>()
        ) {
            let l = leaves(n, 2);
            let second = root_of(&l);
            for m in 0..=n {
                let p = consistency_proof(&l[..], m as u64, n as u64).unwrap();
                let first = root_of(&l[..m]);
                prop_assert!(verify_consistency(m as u64, n as u64, &first, &second, &p));
                if m > 0 {
                    // the same proof for a prefix whose history was rewritten
                    let mut forged = l.clone();
                    forged[at.index(m)][5] ^= 1;
                    let forged_first = root_of(&forged[..m]);
                    prop_assert!(!verify_consistency(m as u64, n as u64, &forged_first, &second, &p));
                    let forged_second = root_of(&forged);
                    let fp = consistency_proof(&forged[..], m as u64, n as u64).unwrap();
                    prop_assert!(!verify_consistency(m as u64, n as u64, &first, &forged_second, &fp));
                }
            }
        }
    }
}
