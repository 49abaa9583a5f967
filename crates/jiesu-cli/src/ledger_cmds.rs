//! `jiesu checkpoint`: a signed checkpoint of the event log, made now.

use anyhow::Result;
use std::path::Path;

/// Makes (and prints) a checkpoint of the log as it stands; when the log has not grown since the
/// latest checkpoint, prints that one and says so.
pub fn checkpoint(db: &Path, now: chrono::DateTime<chrono::Utc>) -> Result<()> {
    let store = crate::open_existing(db)?;
    let (cp, made) = store.make_checkpoint(now)?;
    if made {
        eprintln!(
            "checkpoint of {} events signed with {}",
            cp.tree_size,
            jiesu_store::ledger::signing_key_path(db).display()
        );
    } else {
        eprintln!(
            "the log has not grown since the checkpoint of {} events: nothing new",
            cp.tree_size
        );
    }
    print!("{}", cp.note);
    Ok(())
}
