//! Errors of this crate, in plain words.

use std::path::PathBuf;

/// Everything that can go wrong when training, loading, saving or reading data.
#[derive(Debug, thiserror::Error)]
pub enum TextError {
    #[error("cannot {action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not a Jiesu text model file")]
    NotAModel { path: PathBuf },
    #[error(
        "{path} is a text model of format version {found}, but this build of Jiesu reads version \
         {expected}; retrain the model (the model in use is unchanged)"
    )]
    ModelVersion {
        path: PathBuf,
        found: u32,
        expected: u32,
    },
    #[error("{path} is damaged: {reason}")]
    CorruptModel { path: PathBuf, reason: String },
    #[error("cannot train: {0}")]
    Training(String),
    #[error("{path}: {message}")]
    Data { path: PathBuf, message: String },
}

/// Result with [`TextError`].
pub type Result<T, E = TextError> = std::result::Result<T, E>;
