//! The crate's error type.
//!
//! Every error names the object it is about (an image, a file, a layer entry) and renders as
//! one lowercase line. `main` maps every error to Docker's exit code 125; the container's own
//! exit codes (126/127/128+N) are outcomes, not errors.

use std::path::PathBuf;

/// Convenience alias used across the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("no such image: {0}")]
    NoSuchImage(String),
    #[error("no such container: {0}")]
    NoSuchContainer(String),
    #[error("network {0} not found")]
    NoSuchNetwork(String),
    #[error("{0}")]
    InvalidArgument(String),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{file}: {msg}")]
    Archive { file: String, msg: String },
    #[error("layer {layer}: {msg}")]
    Layer { layer: String, msg: String },
    #[error("{object}: digest mismatch: expected {expected}, got {actual}")]
    DigestMismatch {
        object: String,
        expected: String,
        actual: String,
    },
    #[error("store database {path}: {source}")]
    Db {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("store {path}: {msg}")]
    Store { path: PathBuf, msg: String },
    /// A command that asks before deleting things, run with no terminal and no `--force`.
    #[error("{0} asks for confirmation, and stdin is not a terminal")]
    NeedsConfirmation(String),
    /// A registry failed or refused a request (network, protocol, bad content).
    #[error("registry {registry}: {msg}")]
    Registry { registry: String, msg: String },
    /// A registry wants credentials, or refused the ones given.
    #[error("registry {registry}: {msg}")]
    Unauthorized { registry: String, msg: String },
    /// The registry has no such tag or digest (Docker's "manifest unknown").
    #[error("{0}: manifest unknown")]
    ManifestUnknown(String),
    #[error("{0}")]
    Other(String),
    /// A failure with an obvious fix that only the code raising it knows (the `hint:`).
    #[error("{msg}")]
    Hinted { msg: String, hint: String },
}

impl Error {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// Docker's exit code for this error: every failure of barge itself is 125 (the
    /// container's own codes, 126 and 127 are outcomes, not errors).
    pub fn exit_code(&self) -> i32 {
        125
    }

    /// True when the root cause is a full disk (or quota), so callers can say so plainly.
    pub fn is_no_space(&self) -> bool {
        match self {
            Error::Io { source, .. } => source.raw_os_error() == Some(libc::ENOSPC),
            _ => false,
        }
    }
}

/// Attach a path to an `io::Result`.
pub trait IoContext<T> {
    fn at(self, path: impl Into<PathBuf>) -> Result<T>;
}

impl<T> IoContext<T> for std::io::Result<T> {
    fn at(self, path: impl Into<PathBuf>) -> Result<T> {
        self.map_err(|e| Error::io(path, e))
    }
}

impl<T> IoContext<T> for std::result::Result<T, rustix::io::Errno> {
    fn at(self, path: impl Into<PathBuf>) -> Result<T> {
        self.map_err(|e| Error::io(path, e.into()))
    }
}
