//! The crate's error type.
//!
//! Every error names the object it is about (an image, a container, a file, a layer entry)
//! and renders as one lowercase line. [`Error::exit_code`] is the CLI's exit code for it:
//! 125 when barge itself failed, 126 and 127 when the container's program could not be run
//! or found. A container's own exit code is an outcome, not an error (see
//! [`crate::client::RunOutcome`]).

use std::path::PathBuf;

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong. Match on the variants to tell the kinds apart; new kinds may be added
/// in minor releases, so keep a catch-all arm (or use [`Error::exit_code`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No image has this name, ID or ID prefix.
    #[error("no such image: {0}")]
    NoSuchImage(String),
    /// No container has this name, ID or ID prefix.
    #[error("no such container: {0}")]
    NoSuchContainer(String),
    /// No pod has this name, ID or ID prefix.
    #[error("no such pod: {0}")]
    NoSuchPod(String),
    /// No network has this name or ID.
    #[error("network {0} not found")]
    NoSuchNetwork(String),
    /// An argument is malformed or out of range (a bad name, size, option).
    #[error("{0}")]
    InvalidArgument(String),
    /// The operation clashes with the state of things (a name taken, a container running).
    #[error("conflict: {0}")]
    Conflict(String),
    /// A file operation failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory (or `stdout`, `stdin`).
        path: PathBuf,
        /// The system's error.
        #[source]
        source: std::io::Error,
    },
    /// An archive being imported is malformed or unreadable.
    #[error("{file}: {msg}")]
    Archive {
        /// The archive's path, or `stdin`.
        file: String,
        /// What is wrong with it.
        msg: String,
    },
    /// A layer cannot be unpacked (a hostile entry, a broken tar).
    #[error("layer {layer}: {msg}")]
    Layer {
        /// The layer's digest or name.
        layer: String,
        /// What is wrong with it.
        msg: String,
    },
    /// Content does not match the digest it was announced with.
    #[error("{object}: digest mismatch: expected {expected}, got {actual}")]
    DigestMismatch {
        /// What was checked (a blob, a manifest, a layer's diff ID).
        object: String,
        /// The digest it should have.
        expected: String,
        /// The digest it has.
        actual: String,
    },
    /// The store's database failed.
    #[error("store database {path}: {source}")]
    Db {
        /// The database file.
        path: PathBuf,
        /// The database's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
    /// The store is inconsistent or cannot be used.
    #[error("store {path}: {msg}")]
    Store {
        /// The store's root or the file concerned.
        path: PathBuf,
        /// What is wrong.
        msg: String,
    },
    /// A command that asks before deleting things, run with no terminal and no `--force`.
    #[error("{0} asks for confirmation, and stdin is not a terminal")]
    NeedsConfirmation(String),
    /// A registry failed or refused a request (network, protocol, bad content).
    #[error("registry {registry}: {msg}")]
    Registry {
        /// The registry's host (and port).
        registry: String,
        /// What happened.
        msg: String,
    },
    /// A registry wants credentials, or refused the ones given.
    #[error("registry {registry}: {msg}")]
    Unauthorized {
        /// The registry's host (and port): what to log in to.
        registry: String,
        /// What the registry said.
        msg: String,
    },
    /// The registry has no such tag or digest (Docker's "manifest unknown").
    #[error("{0}: manifest unknown")]
    ManifestUnknown(String),
    /// The container's program was not found (exit code 127).
    #[error("{message}")]
    CommandNotFound {
        /// The container's name.
        container: String,
        /// What the runtime said, e.g. `exec: "x": executable file not found in $PATH`.
        message: String,
    },
    /// The container's program exists but cannot be run: permission denied, not an
    /// executable (exit code 126).
    #[error("{message}")]
    CommandNotExecutable {
        /// The container's name.
        container: String,
        /// What the runtime said.
        message: String,
    },
    /// A failure with an obvious fix that only the code raising it knows (the `hint:`
    /// line): the host not set up for rootless use, an overlapping subnet, ...
    #[error("{msg}")]
    Hinted {
        /// What went wrong.
        msg: String,
        /// How to fix it.
        hint: String,
    },
    /// Anything else, described in one line.
    #[error("{0}")]
    Other(String),
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// Docker's exit code for this error: 127 when the container's program was not found,
    /// 126 when it cannot be run, 125 for every failure of barge itself (bad argument, no
    /// such image or container, registry, store).
    pub fn exit_code(&self) -> i32 {
        // Exhaustive on purpose: a new variant forces a decision here.
        match self {
            Error::CommandNotFound { .. } => 127,
            Error::CommandNotExecutable { .. } => 126,
            Error::NoSuchImage(_)
            | Error::NoSuchContainer(_)
            | Error::NoSuchPod(_)
            | Error::Hinted { .. }
            | Error::NoSuchNetwork(_)
            | Error::InvalidArgument(_)
            | Error::Conflict(_)
            | Error::NeedsConfirmation(_)
            | Error::Io { .. }
            | Error::Archive { .. }
            | Error::Layer { .. }
            | Error::DigestMismatch { .. }
            | Error::Db { .. }
            | Error::Store { .. }
            | Error::Registry { .. }
            | Error::Unauthorized { .. }
            | Error::ManifestUnknown(_)
            | Error::Other(_) => 125,
        }
    }

    /// True when the root cause is a full disk (or quota), so callers can say so plainly.
    pub fn is_no_space(&self) -> bool {
        match self {
            Error::Io { source, .. } => source.raw_os_error() == Some(libc::ENOSPC),
            _ => false,
        }
    }

    /// A runtime failure of container `name`: 126/127 become their own kinds.
    pub(crate) fn runtime(name: &str, e: crate::runtime::RuntimeError) -> Error {
        match e {
            crate::runtime::RuntimeError::Exec { code: 127, message } => Error::CommandNotFound {
                container: name.to_string(),
                message,
            },
            crate::runtime::RuntimeError::Exec { message, .. } => Error::CommandNotExecutable {
                container: name.to_string(),
                message,
            },
            crate::runtime::RuntimeError::Unavailable { what, hint } => Error::Hinted {
                msg: format!("container {name}: {what}"),
                hint,
            },
            crate::runtime::RuntimeError::BadState { status, hint, .. } => {
                Error::Conflict(format!("container {name} is {status}: {hint}"))
            }
            e => Error::Other(format!("container {name}: {e}")),
        }
    }

    /// A start that the supervisor reported as failed with `code` and `msg`.
    pub(crate) fn start_failed(name: &str, code: i32, msg: String) -> Error {
        match code {
            127 => Error::CommandNotFound {
                container: name.to_string(),
                message: format!("container {name}: {msg}"),
            },
            126 => Error::CommandNotExecutable {
                container: name.to_string(),
                message: format!("container {name}: {msg}"),
            },
            _ => Error::Other(format!("container {name}: {msg}")),
        }
    }
}

/// Attach a path to an `io::Result`.
pub(crate) trait IoContext<T> {
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
