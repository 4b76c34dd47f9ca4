//! Running another process in a running container (`barge exec`, `barge oci exec`).
//!
//! Three processes take part. The caller (P, single-threaded) forks an intermediate (I),
//! which closes every descriptor but the few it needs, becomes non-dumpable, joins the
//! container's cgroup (through the host's cgroupfs, so before anything else) and then all
//! of its namespaces at once, with setns(2) on a pidfd of the container's init. A pid
//! namespace applies to children only, so I clones the process that will exec (G) with
//! CLONE_PARENT, making G a child of P, reports G's pid and exits. G, now inside every
//! namespace, sets up what the container's spec says (terminal, cwd, rlimits, seccomp,
//! user, capabilities, no_new_privs) and execs.
//!
//! What keeps the host safe while barge's own code runs inside the container:
//! - CVE-2019-5736: I and G are non-dumpable from before the first setns until exec (and
//!   again after the change of user, which resets the flag), so no container process can
//!   open their /proc/PID/exe, mem or fds and reach barge's binary through them.
//! - CVE-2024-21626: I closes every descriptor except stdio, the sync socket, the pidfd and
//!   the console socket before joining anything; G marks all but 0-2 close-on-exec.
//!   Joining the mount namespace moves root and cwd to the container's root, the cwd is
//!   then set from the spec, and a cwd that is not below the root is refused.

use std::fs;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};

use oci_spec::runtime::{LinuxNamespaceType, Process, Spec, User};

use super::container::{Console, load, wait_status};
use super::error::{Result, RuntimeError};
use super::init::{self, MSG_ERROR, io_fail as fail};
use super::process::{self, Failure};
use super::state::{SPEC_FILE, Status};
use super::{ExitOutcome, pid1, seccomp, sys};

/// Message from I: G's pid (4 bytes, native endian).
const MSG_PID: u8 = b'I';

/// What to run in a container, and how. Everything not set here is the container's own
/// (its spec's process): capabilities, no_new_privs, seccomp, rlimits, oom_score_adj,
/// umask; and unset fields take the container's values too.
#[derive(Debug, Default)]
pub struct ExecOptions {
    pub args: Vec<String>,
    /// KEY=VALUE entries added to (or replacing those of) the container's environment.
    pub env: Vec<String>,
    /// Working directory inside the container; default: the container's.
    pub cwd: Option<PathBuf>,
    /// User and groups; default: the container's.
    pub user: Option<User>,
    /// Give the process a terminal of its own; its master goes where `console` says
    /// ([`Console::Socket`] or [`Console::Parent`]).
    pub tty: bool,
    pub console: Console,
    /// Kill the process if the calling process dies.
    pub die_with_parent: bool,
    /// The process's stdin, stdout and stderr (pipes, to capture its output); default:
    /// the caller's fds 0-2. Without a terminal only.
    pub stdio: Option<[OwnedFd; 3]>,
}

/// A process started in a container; a child of the caller.
#[derive(Debug)]
pub struct ExecProcess {
    pid: i32,
    pty: Option<OwnedFd>,
}

impl ExecProcess {
    /// Its pid, as seen from the caller's pid namespace.
    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// The terminal master, with `tty` and [`Console::Parent`].
    pub fn take_pty(&mut self) -> Option<OwnedFd> {
        self.pty.take()
    }

    /// Blocks until the process ends, forwarding every signal the caller receives
    /// meanwhile (the caller's signal mask is restored afterwards).
    pub fn wait(self) -> Result<ExitOutcome> {
        // SAFETY: sigset_t is plain data, initialised by sigfillset before use.
        let mut all: libc::sigset_t = unsafe { std::mem::zeroed() };
        // SAFETY: as above.
        let mut old: libc::sigset_t = unsafe { std::mem::zeroed() };
        // SAFETY: valid pointers to local sets.
        unsafe {
            libc::sigfillset(&mut all);
            libc::sigprocmask(libc::SIG_SETMASK, &all, &mut old);
        }
        // It may have ended before the signals were blocked, its SIGCHLD long gone.
        let status = match wait_status(self.pid, true) {
            Ok(Some(s)) => s,
            _ => pid1::supervise(self.pid, &all),
        };
        // SAFETY: restores the caller's own mask.
        unsafe { libc::sigprocmask(libc::SIG_SETMASK, &old, std::ptr::null_mut()) };
        Ok(ExitOutcome {
            status,
            oom_killed: false,
        })
    }
}

/// Runs a process in the running container `id` (state under `root`) and waits for it.
/// The exit code passes through; a program that cannot be found or run is
/// [`RuntimeError::Exec`] with 127 or 126. Must be called from a single-threaded process.
pub fn exec(root: &Path, id: &str, opts: ExecOptions) -> Result<ExitOutcome> {
    exec_spawn(root, id, opts)?.wait()
}

/// The container's spec, with `opts` applied to its process.
fn exec_process(spec: &Spec, opts: &ExecOptions) -> Result<Process> {
    let mut p = spec
        .process()
        .clone()
        .ok_or_else(|| RuntimeError::InvalidSpec("the container has no process".into()))?;
    if opts.args.is_empty() {
        return Err(RuntimeError::InvalidSpec("no command to exec".into()));
    }
    p.set_args(Some(opts.args.clone()));
    let mut env = p.env().clone().unwrap_or_default();
    for e in &opts.env {
        let key = e.split_once('=').map_or(e.as_str(), |(k, _)| k);
        env.retain(|x| x.split_once('=').map_or(x.as_str(), |(k, _)| k) != key);
        env.push(e.clone());
    }
    p.set_env(Some(env));
    if let Some(c) = &opts.cwd {
        if !c.is_absolute() {
            return Err(RuntimeError::InvalidSpec(format!(
                "cwd {} is not absolute",
                c.display()
            )));
        }
        p.set_cwd(c.clone());
    }
    if let Some(u) = &opts.user {
        p.set_user(u.clone());
    }
    p.set_terminal(Some(opts.tty));
    Ok(p)
}

/// Starts the process and returns once it has exec'd (or failed to).
pub fn exec_spawn(root: &Path, id: &str, opts: ExecOptions) -> Result<ExecProcess> {
    let (dir, rec) = load(root, id)?;
    if rec.status(&dir) == Status::Stopped {
        return Err(RuntimeError::BadState {
            id: id.to_owned(),
            status: "stopped".into(),
            hint: "start it first".into(),
        });
    }
    let spec_path = dir.join(SPEC_FILE);
    let spec = Spec::load(&spec_path)
        .map_err(|e| RuntimeError::file(&spec_path, std::io::Error::other(e.to_string())))?;
    let proc_ = exec_process(&spec, &opts)?;
    let linux = spec.linux().as_ref();
    let seccomp = linux
        .and_then(|l| l.seccomp().as_ref())
        .map(|s| seccomp::compile(s, Some(&root.join(".seccomp-cache"))))
        .transpose()?;
    // The container's namespaces: the spec's list (joined ones included, since init is in
    // them too); init always has a mount namespace of its own.
    let mut ns_flags = libc::CLONE_NEWNS;
    for ns in linux
        .and_then(|l| l.namespaces().as_ref())
        .into_iter()
        .flatten()
    {
        ns_flags |= match ns.typ() {
            LinuxNamespaceType::Pid => libc::CLONE_NEWPID,
            LinuxNamespaceType::Network => libc::CLONE_NEWNET,
            LinuxNamespaceType::Ipc => libc::CLONE_NEWIPC,
            LinuxNamespaceType::Uts => libc::CLONE_NEWUTS,
            LinuxNamespaceType::Mount => libc::CLONE_NEWNS,
            LinuxNamespaceType::Cgroup => libc::CLONE_NEWCGROUP,
            // Joined first by the kernel, so the others are joined with the capabilities
            // the process has there; G then changes to the spec's user inside it.
            LinuxNamespaceType::User => libc::CLONE_NEWUSER,
            LinuxNamespaceType::Time => {
                return Err(RuntimeError::InvalidSpec(format!(
                    "exec into a {} namespace is not supported",
                    ns.typ()
                )));
            }
        };
    }
    // The pidfd pins init: checked against the recorded start time after opening, it
    // cannot be a reused pid.
    let pid = rustix::process::Pid::from_raw(rec.pid)
        .ok_or_else(|| RuntimeError::NotFound(id.to_owned()))?;
    let pidfd = rustix::process::pidfd_open(pid, rustix::process::PidfdFlags::empty())
        .map_err(|e| RuntimeError::sys(format!("pidfd_open {}", rec.pid), e))?;
    if !rec.alive() {
        return Err(RuntimeError::BadState {
            id: id.to_owned(),
            status: "stopped".into(),
            hint: "its init has exited".into(),
        });
    }
    // A process that joins a frozen group freezes at once, and exec would wait for it
    // forever (runc and Docker refuse too).
    if rec.cgroup.frozen() {
        return Err(RuntimeError::BadState {
            id: id.to_owned(),
            status: "paused".into(),
            hint: "unpause it before exec".into(),
        });
    }
    let join_files = rec.cgroup.self_join_files();

    let (parent_sock, child_sock) = nix::sys::socket::socketpair(
        nix::sys::socket::AddressFamily::Unix,
        nix::sys::socket::SockType::SeqPacket,
        None,
        nix::sys::socket::SockFlag::SOCK_CLOEXEC,
    )
    .map_err(|e| RuntimeError::sys("socketpair", e))?;
    let console = match (&opts.tty, &opts.console) {
        (false, _) | (true, Console::Inherit) => None,
        (true, Console::Socket(s)) => Some(s.as_raw_fd()),
        (true, Console::Parent) => Some(child_sock.as_raw_fd()),
    };
    if opts.tty && console.is_none() {
        return Err(RuntimeError::InvalidSpec(
            "a terminal needs somewhere to send its master".into(),
        ));
    }
    if opts.tty && opts.stdio.is_some() {
        return Err(RuntimeError::InvalidSpec(
            "a terminal and redirected stdio exclude each other".into(),
        ));
    }
    let mut args = Intermediate {
        stdio: opts
            .stdio
            .as_ref()
            .map(|s| [s[0].as_raw_fd(), s[1].as_raw_fd(), s[2].as_raw_fd()]),
        sync: child_sock.as_raw_fd(),
        pidfd: pidfd.as_raw_fd(),
        console,
        ns_flags,
        cgroup_join: &join_files,
        process: &proc_,
        seccomp: seccomp.as_ref(),
        die_with_parent: opts.die_with_parent,
    };
    // On v2 the intermediate is born in the container's group (see Container::spawn).
    let target = rec.cgroup.clone_target();
    // SAFETY: the caller guarantees a single-threaded process; the child never returns.
    let (forked, inside) =
        unsafe { sys::clone_fork_into(0, target.as_ref().map(std::os::fd::AsFd::as_fd)) };
    let ipid = forked.map_err(|e| RuntimeError::sys("fork", e))?;
    if ipid == 0 {
        if inside {
            args.cgroup_join = &[];
        }
        init::run_reporting(args.sync, || intermediate(&args));
    }
    drop(child_sock);
    drop(opts.console);
    // Our copies of the pipes' far ends: the reader sees EOF when the process ends.
    drop(opts.stdio);
    drop(pidfd);

    let mut gpid = None;
    let mut pty = None;
    let mut failure = None;
    let mut buf = [0u8; 4096];
    loop {
        let (n, fd) = match sys::recv_with_fd(parent_sock.as_raw_fd(), &mut buf) {
            Ok(x) => x,
            Err(e) => {
                failure = Some(RuntimeError::sys("read from exec", e));
                break;
            }
        };
        if n == 0 {
            break;
        }
        match buf[0] {
            MSG_PID if n == 5 => {
                gpid = Some(i32::from_ne_bytes([buf[1], buf[2], buf[3], buf[4]]));
            }
            MSG_ERROR if n >= 2 => {
                failure = Some(init::reported_error(&buf[1..n]));
                break;
            }
            _ => {
                if fd.is_some() {
                    pty = fd;
                }
            }
        }
    }
    let _ = wait_status(ipid, false);
    match (failure, gpid) {
        (None, Some(pid)) => Ok(ExecProcess { pid, pty }),
        (failure, gpid) => {
            if let Some(pid) = gpid {
                // SAFETY: signalling our own child (CLONE_PARENT made it ours).
                unsafe { libc::kill(pid, libc::SIGKILL) };
                let _ = wait_status(pid, false);
            }
            Err(failure.unwrap_or_else(|| {
                RuntimeError::Init("the exec process ended before it started".into())
            }))
        }
    }
}

/// What the forked processes need, prepared before the fork.
struct Intermediate<'a> {
    /// Put on fds 0-2 before anything else is closed.
    stdio: Option<[RawFd; 3]>,
    sync: RawFd,
    pidfd: RawFd,
    console: Option<RawFd>,
    ns_flags: libc::c_int,
    cgroup_join: &'a [PathBuf],
    process: &'a Process,
    seccomp: Option<&'a seccomp::Compiled>,
    die_with_parent: bool,
}

/// I: joins the container, clones G into it. Returns only on failure.
fn intermediate(a: &Intermediate<'_>) -> Failure {
    match enter(a) {
        Ok(f) | Err(f) => f,
    }
}

fn enter(a: &Intermediate<'_>) -> Result<Failure, Failure> {
    if let Some(fds) = a.stdio {
        init::redirect_stdio(fds)?;
    }
    let mut keep = vec![a.sync, a.pidfd];
    keep.extend(a.console);
    sys::close_fds_except(3, &keep);
    sys::prctl(libc::PR_SET_DUMPABLE, 0).map_err(fail("set non-dumpable"))?;
    for p in a.cgroup_join {
        fs::write(p, "0").map_err(fail(format!("join cgroup {}", p.display())))?;
    }
    // SAFETY: setns on a pidfd we hold, with namespace flags only.
    if unsafe { libc::setns(a.pidfd, a.ns_flags) } != 0 {
        return Err(fail("join the container's namespaces")(
            std::io::Error::last_os_error(),
        ));
    }
    // SAFETY: closing a descriptor this process no longer needs; nothing else owns it here.
    unsafe { libc::close(a.pidfd) };
    // SAFETY: single-threaded (a fork of a single-threaded caller); the child never returns.
    let g = unsafe { sys::clone_fork(libc::CLONE_PARENT as libc::c_ulong) }
        .map_err(fail("fork into the container"))?;
    if g == 0 {
        init::run_reporting(a.sync, || match setup_and_exec(a) {
            Ok(f) | Err(f) => f,
        });
    }
    let mut msg = vec![MSG_PID];
    msg.extend_from_slice(&g.to_ne_bytes());
    sys::send_all(a.sync, &msg).map_err(fail("report the pid"))?;
    sys::exit_now(0)
}

/// G: inside every namespace of the container.
fn setup_and_exec(a: &Intermediate<'_>) -> Result<Failure, Failure> {
    if a.die_with_parent {
        sys::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong)
            .map_err(fail("set parent-death signal"))?;
    }
    sys::reset_signals();
    // A session of its own: the caller's terminal signals reach it only through the caller.
    // SAFETY: setsid has no memory-safety requirements.
    unsafe { libc::setsid() };
    let p = a.process;
    if let Some(sock) = a.console {
        init::setup_console(sock, p.user().uid())?;
    }
    if let Some(adj) = p.oom_score_adj() {
        fs::write("/proc/self/oom_score_adj", adj.to_string()).map_err(fail("oom_score_adj"))?;
    }
    if let Some(r) = p.rlimits() {
        process::set_rlimits(r)?;
    }
    let cwd = p.cwd();
    rustix::process::chdir(cwd)
        .map_err(|e| Failure::runtime(format!("chdir {}: {e}", cwd.display())))?;
    match rustix::process::getcwd(Vec::new()) {
        Ok(c) if c.to_bytes().starts_with(b"/") => {}
        _ => return Err(Failure::runtime("cwd is outside the container's root")),
    }
    let args = p.args().clone().unwrap_or_default();
    let env = p.env().clone().unwrap_or_default();
    let prog = process::find_program(args.first().map(String::as_str).unwrap_or(""), &env)?;
    init::drop_privileges(p, a.seccomp, a.die_with_parent)?;
    Ok(process::exec(&prog, &args, &env))
}
