//! The real message-board set with official replies (TipDM 2020, 附件4) used to measure search
//! quality on real text. The data lives in the project's shared data folder and is never
//! copied into the repository: `$JIESU_SHARED_DATA` (default `<workspace>/../shared/data`)
//! `/tipdm2020_gov_messages_votes_replies/messages_with_replies.csv`.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::Deserialize;

/// One real message with its official reply.
#[derive(Debug, Clone, Deserialize)]
pub struct RealMessage {
    pub message_id: String,
    pub title: String,
    pub created_at: String,
    pub detail: String,
    pub reply: String,
}

/// The default location of `messages_with_replies.csv`.
pub fn replies_path() -> PathBuf {
    jiesu_text::data::shared_data_dir()
        .join("tipdm2020_gov_messages_votes_replies")
        .join("messages_with_replies.csv")
}

/// Loads the messages with a non-empty title, detail and reply. Fails with a clear message
/// when the file is absent.
pub fn load_replies(path: &Path) -> Result<Vec<RealMessage>> {
    if !path.exists() {
        bail!(
            "real message/reply data {} not found; set JIESU_SHARED_DATA to the shared data \
             folder (it holds tipdm2020_gov_messages_votes_replies/messages_with_replies.csv)",
            path.display()
        );
    }
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_path(path)
        .with_context(|| format!("opening {}", path.display()))?;
    let mut out = Vec::new();
    for (i, rec) in rdr.deserialize::<RealMessage>().enumerate() {
        let m = rec.with_context(|| format!("{}: record {}", path.display(), i + 1))?;
        if m.title.trim().is_empty() || m.detail.trim().is_empty() || m.reply.trim().is_empty() {
            continue;
        }
        out.push(m);
    }
    if out.is_empty() {
        bail!("{} holds no usable message", path.display());
    }
    Ok(out)
}
