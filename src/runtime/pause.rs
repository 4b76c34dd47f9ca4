//! A pod's infra process (`barge __pause POD`): the holder of the namespaces its
//! containers share, as Kubernetes' pause container is.
//!
//! It is not a container: no image, no root filesystem, no mount namespace. It moves into
//! its own group below the pod's cgroup (`/barge/pod-<id>/infra`; the members' groups are
//! its siblings, so on v2 the pod's group holds no process itself, as the "no internal
//! processes" rule wants), joins the pod's network namespace (a file made by `network::attach`, so the pod's
//! address and published ports outlive restarts of the infra), unshares an IPC and a UTS
//! namespace, names the UTS namespace after the pod, and bind-mounts both namespaces on
//! `<pins>/ipc` and `<pins>/uts`. Containers of the pod name those files in their specs
//! (stable paths, whatever the infra's pid) and the runtime joins them with setns. Then it
//! sleeps in sigwaitinfo, reaping any child, until SIGTERM/SIGINT/SIGHUP, and unmounts
//! the pins as it leaves.
//!
//! Why not a container with a pause image (podman builds one from catatonit): that needs a
//! static binary inside a rootfs, and barge's own executable must never be visible inside
//! a container (CVE-2019-5736). The infra runs no untrusted code and touches no file of
//! the containers; it shares with them only namespaces in which it listens on nothing.

use std::io;
use std::os::fd::AsRawFd;
use std::path::Path;

use super::RuntimeError;

/// The namespaces a pod's containers may share through the infra's pins.
pub const SHARED: [&str; 3] = ["ipc", "uts", "pid"];

/// Remove the pins (a killed infra leaves them mounted). Idempotent.
pub fn unpin(pins: &Path) {
    for ns in SHARED {
        let p = pins.join(ns);
        let _ = rustix::mount::unmount(&p, rustix::mount::UnmountFlags::DETACH);
        let _ = std::fs::remove_file(&p);
    }
    let _ = std::fs::remove_dir(pins);
}

/// Join the cgroup `cgroup` (relative to the hierarchies' roots, made if missing), enter
/// and pin the pod's namespaces (a pid namespace too with `share_pid`), call `ready` with
/// the infra's pid (as the host sees it), then wait for a stop signal.
/// Must be called from a single-threaded process, which it turns into the infra.
///
/// With `share_pid` the infra is the pid namespace's init, as Kubernetes' pause is when a
/// pod shares its process namespace: a new pid namespace takes only children, so this
/// process forks, the child (PID 1 there) carries on as the infra, and the parent exits
/// at once (the launcher reads the child's report on the stdout they share). As PID 1 it
/// reaps the members' orphans; when it exits the kernel ends every process of the pod.
pub fn pause(
    cgroup: &Path,
    netns: Option<&Path>,
    hostname: &str,
    pins: &Path,
    share_pid: bool,
    ready: impl FnOnce(u32),
) -> Result<(), RuntimeError> {
    let fail = |what: String| move |e: io::Error| RuntimeError::sys(what, e);
    let rel = super::cgroups::relative_path(Some(cgroup), "");
    super::Cgroup::create(&rel, None)?.join()?;
    if share_pid {
        // Members will see this process: its /proc/PID/exe, mem and fd entries, which lead
        // to barge's own binary, are closed to them (CVE-2019-5736).
        super::sys::prctl(libc::PR_SET_DUMPABLE, 0).map_err(fail("set non-dumpable".into()))?;
    }
    if let Some(ns) = netns {
        let f = std::fs::File::open(ns).map_err(fail(format!("open {}", ns.display())))?;
        // SAFETY: setns on a descriptor we own; the type is checked by the kernel.
        if unsafe { libc::setns(f.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
            return Err(fail(format!("join {}", ns.display()))(
                io::Error::last_os_error(),
            ));
        }
    }
    let pid_flag = if share_pid { libc::CLONE_NEWPID } else { 0 };
    // SAFETY: unshare affects only this (single-threaded) process.
    if unsafe { libc::unshare(libc::CLONE_NEWIPC | libc::CLONE_NEWUTS | pid_flag) } != 0 {
        return Err(fail("unshare the pod's namespaces".into())(
            io::Error::last_os_error(),
        ));
    }
    if share_pid {
        // SAFETY: single-threaded (the caller's contract); the parent only exits.
        match unsafe { super::sys::clone_fork(0) } {
            Ok(0) => {}
            Ok(_) => super::sys::exit_now(0),
            Err(e) => return Err(fail("fork the pid namespace's init".into())(e)),
        }
        // What the members would read as /proc/1/cmdline: not barge's host arguments.
        super::pid1::hide_cmdline(c"barge-pause");
    }
    // The host's pid: /proc is the host's here (no mount namespace of its own), where
    // getpid() would say 1 in a pid namespace of the pod's.
    let host_pid: u32 = std::fs::read_link("/proc/self")
        .ok()
        .and_then(|p| p.to_str().and_then(|s| s.parse().ok()))
        .unwrap_or_else(std::process::id);
    rustix::system::sethostname(hostname.as_bytes())
        .map_err(|e| fail("sethostname".into())(e.into()))?;
    unpin(pins);
    std::fs::create_dir_all(pins).map_err(fail(pins.display().to_string()))?;
    for ns in SHARED.into_iter().filter(|ns| *ns != "pid" || share_pid) {
        let p = pins.join(ns);
        std::fs::File::create(&p).map_err(fail(p.display().to_string()))?;
        rustix::mount::mount_bind(format!("/proc/self/ns/{ns}"), &p).map_err(|e| {
            unpin(pins);
            fail(format!("bind mount {}", p.display()))(e.into())
        })?;
    }
    let mut set = nix::sys::signal::SigSet::empty();
    for s in [
        nix::sys::signal::SIGTERM,
        nix::sys::signal::SIGINT,
        nix::sys::signal::SIGHUP,
        nix::sys::signal::SIGCHLD,
    ] {
        set.add(s);
    }
    set.thread_block()
        .map_err(|e| fail("block signals".into())(e.into()))?;
    ready(host_pid);
    loop {
        match set.wait() {
            Ok(nix::sys::signal::SIGCHLD) => {
                while let Ok(s) = nix::sys::wait::waitpid(
                    None::<nix::unistd::Pid>,
                    Some(nix::sys::wait::WaitPidFlag::WNOHANG),
                ) {
                    if s == nix::sys::wait::WaitStatus::StillAlive {
                        break;
                    }
                }
            }
            Ok(_) => break,
            Err(_) => continue,
        }
    }
    unpin(pins);
    Ok(())
}
