//! 事实列落盘 — a month of analytics facts moved out of the server's own memory: its columns are
//! written once to an unnamed file (no name on disk, gone when the last mapping goes, nothing left
//! behind by a crash) and read in place through a read-only shared mapping. Between queries the
//! server lets the mapped pages go ([`jiesu_analytics::FactPartition::release`]); the kernel's
//! page cache keeps them while memory allows, so the next query finds them without reading the
//! disk, and under pressure the kernel can drop them instead of the server being killed.
//!
//! Why by hand: no crate keeps typed columns in a mapped file beside ones still being built; the
//! mapping itself is `memmap2`'s, the unnamed file `tempfile`'s.

use jiesu_analytics::{ColumnBytes, FactPartition};
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

/// A partition's columns in a mapped unnamed file.
struct Mapped(memmap2::Mmap);

impl ColumnBytes for Mapped {
    fn bytes(&self) -> &[u8] {
        &self.0
    }

    fn release(&self) {
        // SAFETY: a read-only shared mapping of a file nobody writes after it was mapped (it has
        // no name and this module drops its handle once mapped): MADV_DONTNEED only takes the
        // pages out of this process, and the next read brings back the same bytes from the file
        // (the page cache). Borrowed slices stay valid: the mapping itself is not changed.
        let _ = unsafe { self.0.unchecked_advise(memmap2::UncheckedAdvice::DontNeed) };
    }
}

/// Where a city's fact columns go: the directory of its database file (for PostgreSQL, of its
/// local data path: the disk the city gave it), else the system's temporary directory.
pub fn dir_for(db_path: &Path) -> std::path::PathBuf {
    db_path
        .parent()
        .filter(|d| !d.as_os_str().is_empty() && d.is_dir())
        .map(Path::to_path_buf)
        .unwrap_or_else(std::env::temp_dir)
}

/// Moves `p`'s columns into an unnamed file in `dir` and reads them from there. An empty
/// partition stays as it is. On an error the partition is unchanged (still in memory).
pub fn spill(p: &mut FactPartition, dir: &Path) -> std::io::Result<()> {
    if p.is_empty() {
        return Ok(());
    }
    let mut file = tempfile::tempfile_in(dir)?;
    {
        let mut w = std::io::BufWriter::with_capacity(1 << 20, &mut file);
        let mut at = 0;
        for (offset, bytes) in p.layout() {
            w.write_all(&[0u8; 8][..offset - at])?; // columns start at multiples of 8
            w.write_all(bytes)?;
            at = offset + bytes.len();
        }
        w.flush()?;
    }
    // SAFETY: the file has no name (nobody else can open it) and is not written again; see
    // `Mapped::release`.
    let map = unsafe { memmap2::Mmap::map(&file)? };
    drop(file);
    p.share(Arc::new(Mapped(map)))
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string()))?;
    // the check read every page: they leave the process until a query reads them
    p.release();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiesu_analytics::LocalMonth;

    fn partition(n: usize) -> FactPartition {
        let mut p = FactPartition {
            month: LocalMonth::parse("2026-11"),
            ..FactPartition::default()
        };
        for i in 0..n {
            p.ticket_id.push(1_000 + i as i64);
            p.day.push((i % 30) as u8 + 1);
            p.hour.push((i % 24) as u8);
            p.channel.push(1);
            p.request_type.push(2);
            p.category.push(i as u16);
            p.street.push(7);
            p.district.push(3);
            p.community.push(0);
            p.lead_unit.push(5);
            p.tier.push(1);
            p.status.push(4);
            p.flags.push(0b101);
            p.callback.push(9);
            p.secs_to_sign.push(60 * i as u32);
            p.secs_to_respond.push(u32::MAX);
            p.secs_to_finish.push(3_600 + i as u32);
            p.requester.push(i as u32 % 17);
        }
        p
    }

    #[test]
    fn a_spilled_partition_reads_the_same_values_from_its_file_and_after_its_pages_are_let_go() {
        let dir = tempfile::tempdir().unwrap();
        let before = partition(10_001);
        let mut p = before.clone();
        spill(&mut p, dir.path()).unwrap();
        assert_eq!(p, before, "every column reads back the same values");
        assert_eq!(p.heap_bytes(), 0, "the columns left the heap");
        assert!(before.heap_bytes() > 0);
        p.release();
        assert_eq!(p, before, "the same values after the pages were let go");
        assert_eq!(p.secs_to_finish[10_000], 13_600);
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            0,
            "the file has no name in the directory"
        );
        // a month read in place can still grow: the column is copied out first
        p.ticket_id.push(99);
        assert_eq!(p.ticket_id.len(), 10_002);
        assert_eq!(p.ticket_id[10_001], 99);
        assert_eq!(p.day.len(), 10_001, "the other columns stay in place");
    }

    #[test]
    fn an_empty_partition_or_an_unwritable_directory_leaves_the_columns_in_memory() {
        let mut empty = FactPartition::default();
        spill(&mut empty, Path::new("/nonexistent/dir")).unwrap();
        let mut p = partition(10);
        assert!(spill(&mut p, Path::new("/nonexistent/dir")).is_err());
        assert_eq!(p, partition(10));
        assert!(p.heap_bytes() > 0);
    }
}
