//! What the runtime records about a container on disk, in its state directory:
//! `state.json` (written once at create, by temp file + rename), `spec.json` (the spec it
//! was created from, for `exec`) and `exec.fifo` (exists while init waits for `start`).

use std::collections::HashMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::cgroups::Cgroup;
use super::error::{Result, RuntimeError};
use super::sys;

pub(crate) const STATE_FILE: &str = "state.json";
pub(crate) const FIFO: &str = "exec.fifo";
/// The container's spec, for `exec`.
pub(crate) const SPEC_FILE: &str = "spec.json";

/// Where removed state directories wait, emptied, to serve the next containers (in the state
/// root; [`list`](super::list) skips it: it holds no state.json). See `spare`.
const SPARES: &str = ".spare";

/// Make the state directory `dir`: a spare renamed into place when there is one.
pub(crate) fn make_dir(dir: &Path) -> std::io::Result<()> {
    match dir.parent() {
        Some(root) if super::spare::take(&root.join(SPARES), dir) => Ok(()),
        _ => fs::create_dir_all(dir),
    }
}

/// Remove the state directory `dir`: emptied and kept as a spare when a slot is free.
pub(crate) fn remove_dir(dir: &Path) -> std::io::Result<()> {
    super::spare::remove_unless_parked(dir, retire(dir))
}

fn retire(dir: &Path) -> std::io::Result<bool> {
    let Some(slot) = dir
        .parent()
        .and_then(|root| super::spare::free_slot(&root.join(SPARES)))
    else {
        return Ok(false);
    };
    for e in fs::read_dir(dir)? {
        let e = e?;
        // Files only (state, spec, fifo): anything else, and the directory goes whole.
        if e.file_type()?.is_dir() {
            return Ok(false);
        }
        fs::remove_file(e.path())?;
    }
    super::spare::park(dir, &slot)
}

/// A container's lifecycle status, as the OCI runtime spec names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Created,
    Running,
    Stopped,
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Status::Created => "created",
            Status::Running => "running",
            Status::Stopped => "stopped",
        })
    }
}

/// The record in `state.json`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Record {
    pub id: String,
    pub pid: i32,
    /// Start time of `pid` (clock ticks since boot): tells our init from a reused pid.
    pub start_time: u64,
    pub bundle: PathBuf,
    pub rootfs: PathBuf,
    pub created: String,
    pub owner: String,
    #[serde(default)]
    pub annotations: HashMap<String, String>,
    pub cgroup: Cgroup,
}

/// The JSON `state` prints, in runc's shape.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct State {
    pub oci_version: String,
    pub id: String,
    pub pid: i32,
    pub status: Status,
    pub bundle: PathBuf,
    pub rootfs: PathBuf,
    pub created: String,
    pub owner: String,
    #[serde(skip_serializing_if = "HashMap::is_empty", default)]
    pub annotations: HashMap<String, String>,
}

impl Record {
    pub(crate) fn save(&self, dir: &Path) -> Result<()> {
        let tmp = dir.join(".state.json.tmp");
        let data = serde_json::to_vec(self).map_err(|e| RuntimeError::file(&tmp, e))?;
        let mut f = fs::File::create(&tmp).map_err(|e| RuntimeError::file(&tmp, e))?;
        f.write_all(&data)
            .map_err(|e| RuntimeError::file(&tmp, e))?;
        let dst = dir.join(STATE_FILE);
        fs::rename(&tmp, &dst).map_err(|e| RuntimeError::file(&dst, e))
    }

    pub(crate) fn load(dir: &Path, id: &str) -> Result<Record> {
        let p = dir.join(STATE_FILE);
        let data = fs::read(&p).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                RuntimeError::NotFound(id.to_owned())
            } else {
                RuntimeError::file(&p, e)
            }
        })?;
        serde_json::from_slice(&data).map_err(|e| RuntimeError::file(&p, e))
    }

    /// Whether our init still runs (and is not a zombie).
    pub fn alive(&self) -> bool {
        self.pid > 0 && sys::process_start_time(self.pid) == Some(self.start_time)
    }

    pub(crate) fn status(&self, dir: &Path) -> Status {
        if !self.alive() {
            Status::Stopped
        } else if dir.join(FIFO).exists() {
            Status::Created
        } else {
            Status::Running
        }
    }

    pub(crate) fn to_state(&self, dir: &Path) -> State {
        let status = self.status(dir);
        State {
            oci_version: "1.2.0".into(),
            id: self.id.clone(),
            pid: if status == Status::Stopped {
                0
            } else {
                self.pid
            },
            status,
            bundle: self.bundle.clone(),
            rootfs: self.rootfs.clone(),
            created: self.created.clone(),
            owner: self.owner.clone(),
            annotations: self.annotations.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_directories_are_emptied_and_used_again() {
        let root = tempfile::tempdir().unwrap();
        let a = root.path().join("a");
        make_dir(&a).unwrap();
        fs::write(a.join(STATE_FILE), "{}").unwrap();
        remove_dir(&a).unwrap();
        assert!(!a.exists());
        let b = root.path().join("b");
        make_dir(&b).unwrap();
        assert_eq!(fs::read_dir(&b).unwrap().count(), 0);
        assert_eq!(fs::read_dir(root.path().join(SPARES)).unwrap().count(), 0);
        // A directory inside: not a state directory to keep.
        fs::create_dir(b.join("x")).unwrap();
        remove_dir(&b).unwrap();
        assert!(!b.exists());
        assert_eq!(fs::read_dir(root.path().join(SPARES)).unwrap().count(), 0);
    }
}
