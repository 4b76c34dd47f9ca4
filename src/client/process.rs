//! What runs in a container: pause and unpause (the cgroup freezer), its processes
//! (`top`) and its resource usage (`stats`).

use std::time::SystemTime;

use super::Client;
use super::container::not_running;
use crate::container;
use crate::error::{Error, Result};
use crate::runtime;

/// One process of a container, as [`Client::top`] lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProcessInfo {
    /// Its pid as the host sees it.
    pub pid: i32,
    /// Its parent's pid, as the host sees it.
    pub ppid: i32,
    /// Its real user ID (host view).
    pub uid: u32,
    /// Its command line, arguments separated by spaces (empty for a kernel thread or a
    /// zombie).
    pub command: String,
}

/// One sample of a container's resource usage, from its cgroup (see [`Client::stats`]).
/// CPU use is cumulative: take two samples and divide the difference by the time between
/// them for a rate.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ContainerStats {
    /// The container's full ID.
    pub id: String,
    /// Its name.
    pub name: String,
    /// When the sample was taken.
    pub time: SystemTime,
    /// Memory in use, in bytes.
    pub memory_usage: u64,
    /// Its memory limit in bytes; the host's memory when it has none.
    pub memory_limit: u64,
    /// CPU time used since it started, in nanoseconds.
    pub cpu_nanos: u64,
    /// How many processes (and threads) it has.
    pub pids: u64,
}

/// The host's memory in bytes (`MemTotal`), 0 when /proc says nothing.
fn host_memory() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .next()
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok())
        })
        .map(|kb| kb * 1024)
        .unwrap_or(0)
}

impl Client {
    /// Freeze every process of the running container `id` (the cgroup freezer): they
    /// stay in memory and get no CPU until [`Client::unpause`]. A container that is not
    /// running, or already paused, is [`Error::Conflict`].
    pub fn pause(&self, id: &str) -> Result<()> {
        self.set_frozen(id, true)
    }

    /// Thaw a container [`Client::pause`] froze. One that is not paused is
    /// [`Error::Conflict`].
    pub fn unpause(&self, id: &str) -> Result<()> {
        self.set_frozen(id, false)
    }

    fn set_frozen(&self, id: &str, frozen: bool) -> Result<()> {
        let c = container::find(&self.store()?, id)?;
        if !container::supervised(&c) {
            return Err(not_running(&c.name));
        }
        let cg = runtime::cgroup(&container::state_root(&self.paths), &c.id)
            .map_err(|e| Error::Other(format!("container {}: {e}", c.name)))?;
        if !cg.exists() {
            // As podman: the freezer is a cgroup's, and this container has none.
            return Err(Error::Hinted {
                msg: format!(
                    "container {}: {} needs cgroup v2 delegation (a rootless container has a \
                     cgroup, and so a freezer, only in a subtree systemd delegates to the user)",
                    c.name,
                    if frozen { "pause" } else { "unpause" }
                ),
                hint: "on a cgroup v2 host, run barge in a systemd user session (loginctl \
                       enable-linger USER) so that user@UID.service delegates a subtree"
                    .into(),
            });
        }
        if cg.frozen() == frozen {
            return Err(Error::Conflict(format!(
                "container {} is {}paused",
                c.name,
                if frozen { "already " } else { "not " }
            )));
        }
        cg.freeze(frozen)
            .map_err(|e| Error::Other(format!("container {}: {e}", c.name)))
    }

    /// The processes of the running container `id` (every process in its pid
    /// namespace), by pid. A container that is not running is [`Error::Conflict`].
    pub fn top(&self, id: &str) -> Result<Vec<ProcessInfo>> {
        let c = container::find(&self.store()?, id)?;
        if !container::supervised(&c) {
            return Err(not_running(&c.name));
        }
        let st = runtime::state(&container::state_root(&self.paths), &c.id)
            .map_err(|e| Error::Other(format!("container {}: {e}", c.name)))?;
        let ns = std::fs::read_link(format!("/proc/{}/ns/pid", st.pid)).ok();
        let mut procs = Vec::new();
        for e in std::fs::read_dir("/proc")
            .map_err(|e| Error::io("/proc", e))?
            .flatten()
        {
            let Some(pid) = e.file_name().to_str().and_then(|p| p.parse::<i32>().ok()) else {
                continue;
            };
            if std::fs::read_link(format!("/proc/{pid}/ns/pid")).ok() != ns {
                continue;
            }
            // A process that ended since the directory was read is not listed.
            let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else {
                continue;
            };
            let field = |k: &str| {
                status
                    .lines()
                    .find(|l| l.starts_with(k))
                    .and_then(|l| l.split_whitespace().nth(1))
                    .and_then(|v| v.parse::<i64>().ok())
            };
            let (Some(uid), Some(ppid)) = (field("Uid:"), field("PPid:")) else {
                continue;
            };
            let command = std::fs::read(format!("/proc/{pid}/cmdline"))
                .map(|b| {
                    String::from_utf8_lossy(&b)
                        .replace('\0', " ")
                        .trim()
                        .to_string()
                })
                .unwrap_or_default();
            procs.push(ProcessInfo {
                pid,
                ppid: ppid as i32,
                uid: uid as u32,
                command,
            });
        }
        procs.sort_by_key(|p| p.pid);
        Ok(procs)
    }

    /// A sample of the container's resource usage. A container that is not running uses
    /// nothing: its sample is zeros (and the host's memory as limit).
    pub fn stats(&self, id: &str) -> Result<ContainerStats> {
        let c = container::find(&self.store()?, id)?;
        let time = SystemTime::now();
        let root = container::state_root(&self.paths);
        // From the cgroup's counters, or, for a rootless container without one, from /proc
        // (its pid namespace's processes added up).
        let sample = || {
            let cg = runtime::cgroup(&root, &c.id).ok()?;
            if cg.exists() {
                return Some(cg.usage());
            }
            if !container::supervised(&c) {
                return None;
            }
            let init = runtime::state(&root, &c.id).ok()?.pid;
            let u = runtime::procfs::usage(init);
            Some((u.rss, None, u.cpu_ns, u.pids))
        };
        let (memory_usage, limit, cpu_nanos, pids) = sample().unwrap_or((0, None, 0, 0));
        Ok(ContainerStats {
            id: c.id,
            name: c.name,
            time,
            memory_usage,
            memory_limit: limit.unwrap_or_else(host_memory),
            cpu_nanos,
            pids,
        })
    }
}
