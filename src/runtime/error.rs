//! Errors of the runtime: each names the object or path it concerns.

use std::io;
use std::path::PathBuf;

/// What went wrong while creating, starting or controlling a container.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// The container's program could not be executed. `code` is Docker's exit code for it:
    /// 127 when the file was not found, 126 when it exists but cannot be run.
    #[error("{message}")]
    Exec { code: i32, message: String },
    /// The spec asks for something this runtime does not support or that is malformed.
    #[error("invalid spec: {0}")]
    InvalidSpec(String),
    /// A step of container setup failed inside the container's init.
    #[error("container init: {0}")]
    Init(String),
    /// A system call made by the runtime itself failed.
    #[error("{context}: {source}")]
    Sys {
        context: String,
        #[source]
        source: io::Error,
    },
    /// Reading or writing a runtime file failed.
    #[error("{}: {source}", path.display())]
    File {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// A lifecycle hook failed (see the `hooks` module).
    #[error("{stage} hook {}: {message}", path.display())]
    Hook {
        stage: &'static str,
        path: PathBuf,
        message: String,
    },
    /// The caller's [`super::Prestart`] step failed (its own message).
    #[error("{0}")]
    Prestart(String),
    #[error("container {0} does not exist")]
    NotFound(String),
    #[error("container {0} already exists")]
    AlreadyExists(String),
    /// The host cannot do what the spec asks (a cgroup controller missing), with the fix.
    #[error("{what}")]
    Unavailable { what: String, hint: String },
    /// The container is in a state that does not allow the operation.
    #[error("container {id} is {status}: {hint}")]
    BadState {
        id: String,
        status: String,
        hint: String,
    },
}

impl RuntimeError {
    pub(crate) fn sys(context: impl Into<String>, source: impl Into<io::Error>) -> Self {
        RuntimeError::Sys {
            context: context.into(),
            source: source.into(),
        }
    }

    pub(crate) fn file(path: impl Into<PathBuf>, source: impl Into<io::Error>) -> Self {
        RuntimeError::File {
            path: path.into(),
            source: source.into(),
        }
    }

    /// The exit code a CLI should use for this error: 126/127 for exec failures, else 125.
    pub fn exit_code(&self) -> i32 {
        match self {
            RuntimeError::Exec { code, .. } => *code,
            _ => 125,
        }
    }
}

pub type Result<T, E = RuntimeError> = std::result::Result<T, E>;
