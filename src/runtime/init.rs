//! The container's init between clone and exec. It runs in the forked copy of barge, so it
//! must never return into the caller's code: every path ends in execve or `_exit`.
//!
//! Order matters and is chosen so that each step still has what it needs:
//! join the cgroup (before anything can fork) -> namespaces -> mounts -> pivot_root ->
//! hostname, sysctl (needs writable /proc/sys) -> masking -> console -> rlimits -> cwd ->
//! find the program -> [wait for the parent's prestart] -> [wait for `start`] -> drop
//! privileges -> seccomp -> exec.

use std::fs;
use std::io::Write;
use std::os::fd::{AsRawFd, RawFd};
use std::path::{Path, PathBuf};

use oci_spec::runtime::{LinuxNamespaceType, Spec};

use super::RootfsMount;
use super::cgroups::CgroupVersion;
use super::error::RuntimeError;
use super::process::{self, Failure};
use super::rootfs;
use super::sys;

/// Everything init needs, prepared by the parent before clone.
pub(crate) struct InitArgs<'a> {
    pub spec: &'a Spec,
    pub rootfs: &'a Path,
    pub rootfs_mount: Option<&'a RootfsMount>,
    pub sync: RawFd,
    /// Where to send the pty master, when the container gets a terminal.
    pub console: Option<RawFd>,
    /// The exec fifo: init blocks on it until `start`.
    pub fifo: Option<&'a Path>,
    /// The files init writes "0" into to join its cgroup (none when cloned into it).
    pub cgroup_join: &'a [PathBuf],
    pub cgroup_version: CgroupVersion,
    pub die_with_parent: bool,
    pub seccomp: Option<&'a super::seccomp::Compiled>,
    /// Stay as PID 1 (barge's own code) and run the program as its child (`--init`).
    pub init: bool,
    /// Cloned into a new user namespace: wait for the parent to write its id maps.
    pub userns: bool,
    /// The parent runs a [`super::Prestart`]: wait for its MSG_GO before the program runs.
    pub gate: bool,
    /// Put on fds 0-2 before anything else is closed (captured output).
    pub stdio: Option<[RawFd; 3]>,
}

/// Message tags on the sync socket (child -> parent).
pub(crate) const MSG_PTY: u8 = b'P';
pub(crate) const MSG_READY: u8 = b'R';
pub(crate) const MSG_ERROR: u8 = b'E';
/// Parent -> child: the user namespace's uid and gid maps are written.
pub(crate) const MSG_MAPPED: u8 = b'M';
/// Parent -> child: its prestart work is done; the program may run.
pub(crate) const MSG_GO: u8 = b'G';

pub(crate) fn run(args: &InitArgs<'_>) -> ! {
    run_reporting(args.sync, || setup_and_exec(args))
}

/// Runs `f` (which returns only on failure) in a forked child and reports its failure on
/// the sync socket with the exit code the CLI should use, then exits. Never returns.
pub(crate) fn run_reporting(sync: RawFd, f: impl FnOnce() -> Failure) -> ! {
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    let failure = match r {
        Ok(f) => f,
        Err(_) => Failure::runtime("init panicked"),
    };
    let mut msg = vec![MSG_ERROR, failure.code as u8];
    msg.extend_from_slice(failure.message.as_bytes());
    // The parent may be gone (after `create`); then stderr is all that is left.
    if sys::send_all(sync, &msg).is_err() {
        let _ = writeln!(std::io::stderr(), "barge: {}", failure.message);
    }
    sys::exit_now(failure.code)
}

/// The failure a child reported with [`run_reporting`]: `report` is the message after its
/// MSG_ERROR tag (the exit code byte, then the text).
pub(crate) fn reported_error(report: &[u8]) -> RuntimeError {
    let code = report[0] as i32;
    let message = String::from_utf8_lossy(&report[1..]).into_owned();
    if code == 125 {
        RuntimeError::Init(message)
    } else {
        RuntimeError::Exec { code, message }
    }
}

pub(crate) fn io_fail(what: impl std::fmt::Display) -> impl FnOnce(std::io::Error) -> Failure {
    move |e| Failure::runtime(format!("{what}: {e}"))
}

/// Make `fds` this process's 0, 1 and 2. They are moved above 2 first, so that a source
/// that is itself 0-2 is not overwritten before it is copied; the copies are closed with
/// the rest of barge's descriptors.
pub(crate) fn redirect_stdio(fds: [RawFd; 3]) -> Result<(), Failure> {
    let mut high = [0; 3];
    for (h, fd) in high.iter_mut().zip(fds) {
        // SAFETY: duplicating a descriptor this process holds open.
        *h = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 3) };
        if *h < 0 {
            return Err(io_fail("duplicate stdio")(std::io::Error::last_os_error()));
        }
    }
    for (target, h) in high.into_iter().enumerate() {
        // SAFETY: dup2 onto 0-2 of this forked process (init or exec's intermediate), which
        // owns no Rust objects on them.
        if unsafe { libc::dup2(h, target as RawFd) } < 0 {
            return Err(io_fail("redirect stdio")(std::io::Error::last_os_error()));
        }
    }
    Ok(())
}

/// Returns only on failure.
fn setup_and_exec(a: &InitArgs<'_>) -> Failure {
    match setup(a) {
        Ok(f) | Err(f) => f,
    }
}

fn setup(a: &InitArgs<'_>) -> Result<Failure, Failure> {
    let spec = a.spec;
    if let Some(fds) = a.stdio {
        redirect_stdio(fds)?;
    }
    // CVE-2024-21626: no descriptor of barge's may reach the container. Close them now,
    // not only at exec, so none can be used as a cwd or mount source on the way.
    let mut keep = vec![a.sync];
    keep.extend(a.console);
    sys::close_fds_except(3, &keep);
    sys::reset_signals();
    // CVE-2019-5736: until execve this process runs barge's own binary. Non-dumpable, its
    // /proc/PID/exe (and mem, fd, ...) cannot be opened by processes in the container, so the
    // host binary cannot be reopened for writing through it. execve of the container's
    // program resets the flag (and /proc/PID/exe then names that program). A fresh pid
    // namespace holds no other process at that point; entering a running container
    // (`exec`) must additionally run from a sealed copy of the binary.
    // With a user namespace the parent must still open this process's uid_map and gid_map,
    // which a non-dumpable process's /proc entries would deny a caller that is not the
    // host's root (rootless barge writes them itself for `--userns=keep-id`): the flag is set
    // after the maps, by `after_credential_change`, before anything of the container runs.
    if !a.userns {
        sys::prctl(libc::PR_SET_DUMPABLE, 0).map_err(io_fail("set non-dumpable"))?;
    }
    if a.die_with_parent {
        sys::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong)
            .map_err(io_fail("set parent-death signal"))?;
    }
    // SAFETY: umask has no memory-safety requirements.
    unsafe { libc::umask(0) };
    // `tasks` on v1 (see `Cgroup::self_join_files`); nothing when cloned into the group.
    for p in a.cgroup_join {
        fs::write(p, "0").map_err(io_fail(format!("join cgroup {}", p.display())))?;
    }
    // Opened (O_PATH) while the caller's ids still apply: the state directory may not be
    // searchable by the user namespace's root.
    let fifo = match a.fifo {
        Some(p) => Some(
            rustix::fs::open(
                p,
                rustix::fs::OFlags::PATH | rustix::fs::OFlags::CLOEXEC,
                rustix::fs::Mode::empty(),
            )
            .map_err(|e| Failure::runtime(format!("open {}: {e}", p.display())))?,
        ),
        None => None,
    };
    if a.userns {
        // Until the maps are written this process has no uid or gid in its namespace
        // (it shows as the overflow ids) and cannot change to any.
        wait_for(
            a.sync,
            MSG_MAPPED,
            "the parent did not map the user namespace",
            "wait for the id maps",
        )?;
        // Become the namespace's root (after joining the cgroup, which needed the caller's
        // own ids for the host's cgroupfs), so that setup runs with full capabilities in it
        // whatever uid the process had before (a rootless caller's own uid).
        // SAFETY: integer arguments only.
        if unsafe { libc::syscall(libc::SYS_setresgid, 0, 0, 0) } != 0
            // SAFETY: integer arguments only.
            || unsafe { libc::syscall(libc::SYS_setresuid, 0, 0, 0) } != 0
        {
            return Err(io_fail("become root in the user namespace")(
                std::io::Error::last_os_error(),
            ));
        }
        after_credential_change(a.die_with_parent)?;
    }

    let nss = spec
        .linux()
        .as_ref()
        .and_then(|l| l.namespaces().clone())
        .unwrap_or_default();
    for ns in &nss {
        // A pid namespace was entered at birth (the parent cloned this process into it).
        if ns.typ() == LinuxNamespaceType::Pid {
            continue;
        }
        if let Some(path) = ns.path() {
            let f = fs::File::open(path).map_err(io_fail(format!("open {}", path.display())))?;
            // SAFETY: setns on a descriptor we own; 0 lets the kernel check the type.
            if unsafe { libc::setns(f.as_raw_fd(), 0) } != 0 {
                let e = std::io::Error::last_os_error();
                return Err(Failure::runtime(format!("join {}: {e}", path.display())));
            }
        }
    }
    // The cgroup namespace is created after joining the cgroup, so that the container's
    // group is the namespace's root.
    if nss
        .iter()
        .any(|n| n.typ() == LinuxNamespaceType::Cgroup && n.path().is_none())
    {
        // SAFETY: unshare affects only this single-threaded process.
        if unsafe { libc::unshare(libc::CLONE_NEWCGROUP) } != 0 {
            return Err(io_fail("unshare cgroup namespace")(
                std::io::Error::last_os_error(),
            ));
        }
    }
    // A new network namespace starts with `lo` down; Docker's `none` network has it up.
    // With a prestart step, once it is done: the step may be making a veth, holding the
    // kernel's network configuration lock (rtnl) that setting `lo` up takes too (waits of
    // 0.3-0.6 ms measured), and it is cheap once the lock is free.
    let new_netns = nss
        .iter()
        .any(|n| n.typ() == LinuxNamespaceType::Network && n.path().is_none());
    let lo_up = || sys::loopback_up().map_err(io_fail("set the loopback interface up"));
    if new_netns && !a.gate {
        lo_up()?;
    }
    let pass_gate = || -> Result<(), Failure> {
        wait_for(
            a.sync,
            MSG_GO,
            "the parent did not let the container start",
            "wait for the parent",
        )?;
        if new_netns {
            lo_up()?;
        }
        Ok(())
    };
    // A session of its own: terminal signals of barge's session do not reach the container
    // directly (the supervisor forwards them), and a pty can become its controlling terminal.
    // SAFETY: setsid has no memory-safety requirements.
    unsafe { libc::setsid() };

    rootfs::prepare(spec, a.rootfs, a.rootfs_mount, a.cgroup_version)?;
    rootfs::pivot(a.rootfs, spec)?;

    let has_ns = |t| nss.iter().any(|n| n.typ() == t);
    if has_ns(LinuxNamespaceType::Uts) {
        if let Some(h) = spec.hostname() {
            rustix::system::sethostname(h.as_bytes())
                .map_err(|e| Failure::runtime(format!("sethostname: {e}")))?;
        }
        if let Some(d) = spec.domainname() {
            rustix::system::setdomainname(d.as_bytes())
                .map_err(|e| Failure::runtime(format!("setdomainname: {e}")))?;
        }
    }
    // The parent's prestart work (the bridge network's veth) runs while this process mounts
    // its root; the program must not run before it is done, nor a sysctl of the network
    // namespace's interfaces (`net.ipv4.conf.eth0.*`) be written before they exist.
    let mut gate = a.gate;
    let sysctl = spec.linux().as_ref().and_then(|l| l.sysctl().as_ref());
    if gate && sysctl.is_some_and(|s| s.keys().any(|k| k.starts_with("net."))) {
        pass_gate()?;
        gate = false;
    }
    if let Some(sysctl) = sysctl {
        for (k, v) in sysctl {
            if k.contains("..") {
                return Err(Failure::runtime(format!("bad sysctl {k}")));
            }
            let p = format!("/proc/sys/{}", k.replace('.', "/"));
            fs::write(&p, v).map_err(io_fail(format!("sysctl {k}")))?;
        }
    }
    rootfs::finish(spec)?;

    let proc_ = spec
        .process()
        .as_ref()
        .ok_or_else(|| Failure::runtime("spec has no process"))?;
    if let Some(sock) = a.console {
        setup_console(sock, proc_.user().uid())?;
    }
    if let Some(adj) = proc_.oom_score_adj() {
        fs::write("/proc/self/oom_score_adj", adj.to_string()).map_err(io_fail("oom_score_adj"))?;
    }
    if let Some(r) = proc_.rlimits() {
        process::set_rlimits(r)?;
    }
    let cwd = proc_.cwd();
    if rustix::process::chdir(cwd).is_err() {
        fs::create_dir_all(cwd).map_err(io_fail(format!("create cwd {}", cwd.display())))?;
        rustix::process::chdir(cwd)
            .map_err(|e| Failure::runtime(format!("chdir {}: {e}", cwd.display())))?;
    }
    // A cwd reached through a leaked descriptor would lie outside the root; getcwd then
    // fails or reports an unreachable path.
    match rustix::process::getcwd(Vec::new()) {
        Ok(c) if c.to_bytes().starts_with(b"/") => {}
        _ => return Err(Failure::runtime("cwd is outside the container's root")),
    }

    let args = proc_.args().clone().unwrap_or_default();
    let env = proc_.env().clone().unwrap_or_default();
    let prog = process::find_program(args.first().map(String::as_str).unwrap_or(""), &env)?;

    if gate {
        pass_gate()?;
    }
    if let Some(fifo) = fifo {
        sys::send_all(a.sync, &[MSG_READY]).map_err(io_fail("report ready"))?;
        let path = format!("/proc/self/fd/{}", fifo.as_raw_fd());
        // Blocks until `start` opens the fifo for reading.
        let mut w = fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .map_err(io_fail("wait for start"))?;
        w.write_all(b"0").map_err(io_fail("wait for start"))?;
        drop(w);
        drop(fifo);
    }

    drop_privileges(proc_, a.seccomp, a.die_with_parent)?;
    if a.init {
        return Ok(super::pid1::run(a.sync, &prog, &args, &env));
    }
    Ok(process::exec(&prog, &args, &env))
}

/// Block until the parent sends `tag` on `sync`; anything else (its end closed) is
/// `refused`, a failed read `what` failed.
fn wait_for(sync: RawFd, tag: u8, refused: &str, what: &str) -> Result<(), Failure> {
    let mut b = [0u8; 16];
    match sys::recv_with_fd(sync, &mut b) {
        Ok((n, _)) if n >= 1 && b[0] == tag => Ok(()),
        Ok(_) => Err(Failure::runtime(refused)),
        Err(e) => Err(io_fail(what)(e)),
    }
}

/// The last steps before exec, shared with `exec`: seccomp, user and capabilities,
/// no_new_privs, umask, and every descriptor above 2 marked close-on-exec.
pub(crate) fn drop_privileges(
    proc_: &oci_spec::runtime::Process,
    seccomp: Option<&super::seccomp::Compiled>,
    die_with_parent: bool,
) -> Result<(), Failure> {
    let nnp = proc_.no_new_privileges() == Some(true);
    // Loading a filter needs no_new_privs or CAP_SYS_ADMIN. Without no_new_privs the filter
    // goes in while CAP_SYS_ADMIN is still held, and must then allow the calls that follow.
    if !nnp && let Some(f) = seccomp {
        super::seccomp::load(f)?;
    }
    process::switch_user_and_caps(proc_.user(), proc_.capabilities().as_ref())?;
    after_credential_change(die_with_parent)?;
    if nnp {
        sys::prctl(libc::PR_SET_NO_NEW_PRIVS, 1).map_err(io_fail("no_new_privs"))?;
        if let Some(f) = seccomp {
            super::seccomp::load(f)?;
        }
    }
    let umask = proc_.user().umask().unwrap_or(0o022);
    // SAFETY: umask has no memory-safety requirements.
    unsafe { libc::umask(umask as libc::mode_t) };
    // The sync socket is close-on-exec: its end of stream tells the parent that exec worked.
    sys::cloexec_from(3);
    Ok(())
}

/// A change of uid or gid resets two per-process flags that init relies on until exec:
/// the dumpable flag (to /proc/sys/fs/suid_dumpable, which may be 1) and the parent-death
/// signal (to none). Both are set again.
pub(crate) fn after_credential_change(die_with_parent: bool) -> Result<(), Failure> {
    sys::prctl(libc::PR_SET_DUMPABLE, 0).map_err(io_fail("set non-dumpable"))?;
    if die_with_parent {
        sys::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong)
            .map_err(io_fail("set parent-death signal"))?;
    }
    Ok(())
}

/// Creates the container's terminal in its own devpts, hands the master to whoever listens
/// on `sock`, and makes the slave init's controlling terminal and stdio.
pub(crate) fn setup_console(sock: RawFd, uid: u32) -> Result<(), Failure> {
    use rustix::pty::{OpenptFlags, openpt, ptsname, unlockpt};
    let master = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC)
        .map_err(|e| Failure::runtime(format!("open /dev/ptmx: {e}")))?;
    unlockpt(&master).map_err(|e| Failure::runtime(format!("unlockpt: {e}")))?;
    let name =
        ptsname(&master, Vec::new()).map_err(|e| Failure::runtime(format!("ptsname: {e}")))?;
    let slave = rustix::fs::open(
        name.as_c_str(),
        rustix::fs::OFlags::RDWR | rustix::fs::OFlags::NOCTTY | rustix::fs::OFlags::CLOEXEC,
        rustix::fs::Mode::empty(),
    )
    .map_err(|e| Failure::runtime(format!("open {name:?}: {e}")))?;
    let _ = rustix::fs::fchown(&slave, Some(rustix::fs::Uid::from_raw(uid)), None);
    sys::send_fd(sock, name.to_bytes(), master.as_raw_fd())
        .map_err(io_fail("send the terminal master"))?;
    drop(master);
    rustix::process::ioctl_tiocsctty(&slave)
        .map_err(|e| Failure::runtime(format!("TIOCSCTTY: {e}")))?;
    for target in 0..3 {
        // SAFETY: dup2 onto the standard descriptors, which init owns.
        if unsafe { libc::dup2(slave.as_raw_fd(), target) } < 0 {
            return Err(io_fail("dup2 terminal")(std::io::Error::last_os_error()));
        }
    }
    Ok(())
}
