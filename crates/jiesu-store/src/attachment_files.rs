//! Attachments in a backup. An attachment's bytes are a file (`<db>.attachments/<ticket>/<id>`,
//! written and synced before its row commits), not a row, so `jiesu backup` copies the files the
//! backed-up rows name to `<out>.attachments/` and `jiesu restore` copies them beside the restored
//! city; both check every row's file is there with its size, and name each that is not (the
//! backup is still written: the rows and the other files are worth keeping). A file written after
//! the backup's snapshot belongs to no row of it and is left out.

use crate::{Result, StoreError};
use std::path::{Path, PathBuf};

/// An attachment row as a backup needs it: the ticket, the attachment's id and its size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentFile {
    pub ticket_id: i64,
    pub id: String,
    pub size: u64,
    /// Where the row says the file was stored when it was written.
    pub stored_path: String,
}

/// The attachments folder of a city whose database (or, on PostgreSQL, local data path) is
/// `db`: `<db>.attachments`.
pub fn attachments_dir(db: &Path) -> PathBuf {
    db.with_extension("attachments")
}

/// Where an attachment lives under a city's attachments folder.
pub fn attachment_path(dir: &Path, ticket_id: i64, id: &str) -> PathBuf {
    dir.join(ticket_id.to_string()).join(id)
}

/// What copying the attachments did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CopiedAttachments {
    /// Files copied.
    pub files: u64,
    /// Their bytes.
    pub bytes: u64,
    /// The rows whose file was missing or had another size, said in plain words.
    pub missing: Vec<String>,
    /// The folder they were copied to.
    pub to: PathBuf,
}

/// Copies the files of `rows` from the folder `from` (or, when a file is not there, from the
/// path its row recorded) into the folder `to`, and checks each copy's size against its row. A
/// missing or truncated file is named in `missing`; failing to write is an error.
pub fn copy_attachments(
    rows: &[AttachmentFile],
    from: &Path,
    to: &Path,
) -> Result<CopiedAttachments> {
    let mut done = CopiedAttachments {
        to: to.to_path_buf(),
        ..Default::default()
    };
    for r in rows {
        // ids are tokens the server made; a row naming another path is not followed
        if r.id.is_empty()
            || !r
                .id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(StoreError::Db(format!(
                "attachment id {:?} is not a file name",
                r.id
            )));
        }
        let mut src = attachment_path(from, r.ticket_id, &r.id);
        if !src.is_file() && !r.stored_path.is_empty() {
            src = PathBuf::from(&r.stored_path);
        }
        let dst = attachment_path(to, r.ticket_id, &r.id);
        let failed =
            |e: std::io::Error| StoreError::Db(format!("cannot write {}: {e}", dst.display()));
        if !src.is_file() {
            done.missing.push(format!(
                "attachment {} of ticket {}: no file at {}",
                r.id,
                r.ticket_id,
                src.display()
            ));
            continue;
        }
        if let Some(dir) = dst.parent() {
            std::fs::create_dir_all(dir).map_err(failed)?;
        }
        let n = std::fs::copy(&src, &dst).map_err(failed)?;
        std::fs::File::open(&dst)
            .and_then(|f| f.sync_all())
            .map_err(failed)?;
        if n != r.size {
            done.missing.push(format!(
                "attachment {} of ticket {} has {n} bytes, its row says {}",
                r.id, r.ticket_id, r.size
            ));
            continue;
        }
        done.files += 1;
        done.bytes += n;
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_of_the_rows_are_copied_and_a_missing_one_is_named() {
        let d = tempfile::tempdir().unwrap();
        let (from, to) = (
            d.path().join("a.attachments"),
            d.path().join("b.attachments"),
        );
        std::fs::create_dir_all(from.join("7")).unwrap();
        std::fs::write(from.join("7").join("abc"), b"photo").unwrap();
        std::fs::write(from.join("7").join("later"), b"not in the snapshot").unwrap();
        let row = |id: &str, size| AttachmentFile {
            ticket_id: 7,
            id: id.into(),
            size,
            stored_path: String::new(),
        };
        let c = copy_attachments(&[row("abc", 5)], &from, &to).unwrap();
        assert_eq!((c.files, c.bytes, c.missing.len()), (1, 5, 0));
        assert_eq!(std::fs::read(to.join("7").join("abc")).unwrap(), b"photo");
        assert!(!to.join("7").join("later").exists(), "only the rows' files");
        let c = copy_attachments(&[row("gone", 5), row("abc", 9)], &from, &to).unwrap();
        assert_eq!(c.files, 0);
        assert!(c.missing[0].contains("gone"), "{:?}", c.missing);
        assert!(c.missing[1].contains("row says 9"), "{:?}", c.missing);
        let e = copy_attachments(&[row("../x", 1)], &from, &to).unwrap_err();
        assert!(e.to_string().contains("not a file name"), "{e}");
    }
}
