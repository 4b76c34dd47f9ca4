//! barge's own OCI runtime (Linux only).
//!
//! The contract is an [`oci_spec::runtime::Spec`] plus a few barge options; this module
//! knows nothing of images, registries or terminals' user interface. Every privileged
//! system call of barge's container side lives here.
//!
//! # Processes
//!
//! barge does not exec a helper: [`Container::spawn`] clones the (single-threaded) calling
//! process straight into the new namespaces, and the clone becomes the container's init.
//! Init sets up the filesystem, credentials and seccomp, then execs the container's
//! program. A SOCK_SEQPACKET socket pair connects the two ("sync socket"): init sends the
//! pty master, "ready" (create mode), or an error with its exit code; the socket is
//! close-on-exec, so its end of stream means the exec succeeded.
//!
//! User namespaces: with a `user` namespace in the spec, init is cloned with
//! CLONE_NEWUSER and waits on the sync socket (after joining its cgroup with the caller's
//! ids) until the parent has written uid_map/gid_map from the spec's mappings (directly as
//! root, through newuidmap/newgidmap otherwise); it then becomes the namespace's root and
//! continues as without one. The root filesystem and bind-mount sources must be reachable
//! by the mapped root's host ids.
//!
//! # API
//!
//! - Foreground (barge `run`): [`crate::supervisor::foreground::run_foreground`] takes
//!   [`RunOptions`] and returns an [`ExitOutcome`]; it builds on [`Container::spawn`] and
//!   forwards signals / relays the pty.
//! - runc-style lifecycle (`barge oci`): [`create`], [`start`], [`state()`], [`kill`],
//!   [`delete`], [`list`], all keyed by a state root directory and the container id.
//! - Another process in a running container: [`exec()`] (or [`exec_spawn`] to wait
//!   yourself), with [`ExecOptions`]; see the `exec` module for how it enters safely.
//! - `--init` ([`RunOptions::init`]): barge's own PID 1, see the `pid1` module.
//!
//! Exit codes follow Docker: the container's own code, 128+N when killed by signal N,
//! 126/127 (as [`RuntimeError::Exec`]) when the program cannot be executed or found.

mod access;
mod cgroups;
mod container;
mod devices;
mod error;
mod exec;
mod hooks;
mod init;
pub mod pause;
mod pid1;
mod process;
pub mod procfs;
mod rootfs;
mod seccomp;
pub(crate) mod spare;
mod state;
mod sys;
pub mod userns;

use std::path::PathBuf;

pub use access::{with_rootfs, with_rootfs_writing};
pub use cgroups::{
    Cgroup, CgroupVersion, host_version as cgroup_version, remove_tree as remove_cgroup_tree,
    rootless_controllers as rootless_cgroup_controllers,
};
pub use container::{
    Console, Container, SpawnOptions, cgroup, create, delete, kill, list, start, state, wait_status,
};
pub use error::RuntimeError;
pub use exec::{ExecOptions, ExecProcess, exec, exec_spawn};
pub use rootfs::{FUSE_OVERLAYFS, OVERLAY_VOLATILE, unmount_rootfs};
pub use state::{State, Status};

/// The start time of process `pid` (clock ticks since boot): with the pid, it names one
/// process even after the pid is reused.
pub fn process_start_time(pid: i32) -> Option<u64> {
    sys::process_start_time(pid)
}

/// A filesystem to mount onto the spec's root path inside the container's mount namespace
/// (so it disappears with the namespace and never shows on the host), e.g. an overlay.
#[derive(Clone, Debug, Default)]
pub struct RootfsMount {
    /// Filesystem type, e.g. "overlay"; [`FUSE_OVERLAYFS`] runs that program, which mounts
    /// in the caller's mount namespace (see [`Container::spawn`]).
    pub fstype: String,
    /// Lower layers, topmost first (overlay order).
    pub lowerdirs: Vec<PathBuf>,
    pub upperdir: Option<PathBuf>,
    pub workdir: Option<PathBuf>,
    /// Further options, e.g. "index=off", "userxattr".
    pub options: Vec<String>,
}

/// How the container's standard streams are wired.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stdio {
    /// The container uses barge's own fds 0, 1 and 2.
    Inherit,
    /// The container gets a terminal of its own (created in its devpts); barge relays it to
    /// its own terminal. `stdin`: whether barge's stdin is copied to it (`-i`).
    Pty { stdin: bool },
    /// stdin is /dev/null; stdout and stderr are pipes that barge reads while the
    /// container runs ([`crate::supervisor::foreground::run_foreground_captured`]).
    Piped,
}

/// Work of the caller's that must be done before the container's program starts and that
/// needs the container's namespaces: called with init's pid right after the clone, while
/// init mounts its root, so the two overlap; init execs only once it has returned `Ok`
/// (OCI's createRuntime hooks, in-process). An `Err` kills the container and is the
/// spawn's error. `run` wires the bridge network this way.
pub struct Prestart(pub Box<dyn FnOnce(i32) -> Result<(), String>>);

impl std::fmt::Debug for Prestart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Prestart")
    }
}

/// What barge's own `run` passes to run a container in the foreground.
#[derive(Debug)]
pub struct RunOptions {
    pub id: String,
    /// `root.path` must be an absolute directory.
    pub spec: oci_spec::runtime::Spec,
    pub rootfs_mount: Option<RootfsMount>,
    pub stdio: Stdio,
    /// Directory for the container's runtime files (state.json); created if missing and
    /// removed when the container has exited.
    pub state_dir: PathBuf,
    /// barge's own init as PID 1 (`--init`): it reaps zombies and forwards signals.
    pub init: bool,
    /// Forward the signals barge receives to the container (`--sig-proxy`, default true).
    /// When false they are not forwarded; SIGINT, SIGTERM, SIGHUP and SIGQUIT still end
    /// barge, which cannot leave a foreground container behind: it kills the container
    /// and reports 128+N for the signal N it received. Other signals are ignored.
    pub sig_proxy: bool,
    pub prestart: Option<Prestart>,
}

/// How the container's init ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    Code(i32),
    Signal(i32),
}

/// The end of a container: its status, and whether the kernel's OOM killer struck in its
/// cgroup (then the CLI says "container was OOM-killed").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExitOutcome {
    pub status: ExitStatus,
    pub oom_killed: bool,
}

impl ExitOutcome {
    /// The shell-style exit code: the container's code, or 128+N for signal N.
    pub fn code(&self) -> i32 {
        match self.status {
            ExitStatus::Code(c) => c,
            ExitStatus::Signal(s) => 128 + s,
        }
    }
}
