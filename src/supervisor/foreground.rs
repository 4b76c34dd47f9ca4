//! Foreground supervision for `barge run` without `-d`: spawn the container, relay signals
//! (sig-proxy) or the terminal, reap init, and report how it ended.
//!
//! Signals are blocked before the clone and read from a signalfd, so none sent between the
//! clone and the loop is lost; init unblocks them for itself before exec.

use std::io::{self, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::{SigSet, SigmaskHow, Signal, sigprocmask};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::termios::{self, SetArg, Termios};

use crate::runtime::{
    Console, Container, ExitOutcome, ExitStatus, RunOptions, RuntimeError, SpawnOptions, Stdio,
    wait_status,
};

/// Signals relayed to the container's init. SIGCHLD is ours; SIGWINCH resizes the pty;
/// SIGPIPE and the job-control stops stay with barge.
const FORWARDED: &[Signal] = &[
    Signal::SIGHUP,
    Signal::SIGINT,
    Signal::SIGQUIT,
    Signal::SIGTERM,
    Signal::SIGUSR1,
    Signal::SIGUSR2,
    Signal::SIGALRM,
    Signal::SIGCONT,
];

/// Runs a container to completion in the foreground. Must be called from a
/// single-threaded process. Returns the exit outcome, or the error that kept the program
/// from starting (an [`RuntimeError::Exec`] carries exit code 126/127).
pub fn run_foreground(opts: RunOptions) -> Result<ExitOutcome, RuntimeError> {
    run_foreground_output(opts).map(|(o, _)| o)
}

/// What a container wrote with [`Stdio::Piped`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Captured {
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

/// [`run_foreground`] with the container's stdout and stderr collected (its stdin is
/// /dev/null). Both pipes are read as data comes, whichever has it, so a container that
/// writes more than a pipe holds to either one never blocks.
pub fn run_foreground_captured(
    mut opts: RunOptions,
) -> Result<(ExitOutcome, Captured), RuntimeError> {
    opts.stdio = Stdio::Piped;
    run_foreground_output(opts).map(|(o, c)| (o, c.unwrap_or_default()))
}

fn run_foreground_output(
    opts: RunOptions,
) -> Result<(ExitOutcome, Option<Captured>), RuntimeError> {
    let mut mask = SigSet::empty();
    for s in FORWARDED {
        mask.add(*s);
    }
    mask.add(Signal::SIGCHLD);
    mask.add(Signal::SIGWINCH);
    let mut old = SigSet::empty();
    sigprocmask(SigmaskHow::SIG_BLOCK, Some(&mask), Some(&mut old))
        .map_err(|e| RuntimeError::sys("sigprocmask", e))?;
    let r = supervise(opts, &mask);
    let _ = sigprocmask(SigmaskHow::SIG_SETMASK, Some(&old), None);
    r
}

/// What the relay loops need of a process: its pid (a container's init, or an exec'd
/// process), which must be a child of this process.
trait Pid {
    fn pid(&self) -> i32;
}

impl Pid for Container {
    fn pid(&self) -> i32 {
        Container::pid(self)
    }
}

struct Child(i32);

impl Pid for Child {
    fn pid(&self) -> i32 {
        self.0
    }
}

/// Relay a terminal between barge's own and `master` for the child `pid` (an exec'd
/// process) until it exits, forwarding signals; restores the terminal. Returns its status.
pub fn relay_terminal(
    pid: i32,
    master: OwnedFd,
    attach_stdin: bool,
) -> Result<ExitStatus, RuntimeError> {
    let mut mask = SigSet::empty();
    for s in FORWARDED {
        mask.add(*s);
    }
    mask.add(Signal::SIGCHLD);
    mask.add(Signal::SIGWINCH);
    let mut old = SigSet::empty();
    sigprocmask(SigmaskHow::SIG_BLOCK, Some(&mask), Some(&mut old))
        .map_err(|e| RuntimeError::sys("sigprocmask", e))?;
    let r = SignalFd::with_flags(&mask, SfdFlags::SFD_CLOEXEC | SfdFlags::SFD_NONBLOCK)
        .map_err(|e| RuntimeError::sys("signalfd", e))
        .and_then(|sfd| relay_pty(&Child(pid), &sfd, master, attach_stdin, true));
    let _ = sigprocmask(SigmaskHow::SIG_SETMASK, Some(&old), None);
    r
}

fn pipe() -> Result<(OwnedFd, OwnedFd), RuntimeError> {
    rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)
        .map_err(|e| RuntimeError::sys("pipe", e))
}

fn supervise(
    opts: RunOptions,
    mask: &SigSet,
) -> Result<(ExitOutcome, Option<Captured>), RuntimeError> {
    let sfd = SignalFd::with_flags(mask, SfdFlags::SFD_CLOEXEC | SfdFlags::SFD_NONBLOCK)
        .map_err(|e| RuntimeError::sys("signalfd", e))?;
    let console = match opts.stdio {
        Stdio::Inherit | Stdio::Piped => Console::Inherit,
        Stdio::Pty { .. } => Console::Parent,
    };
    let mut readers = None;
    let stdio = if opts.stdio == Stdio::Piped {
        let null =
            std::fs::File::open("/dev/null").map_err(|e| RuntimeError::file("/dev/null", e))?;
        let (out_r, out_w) = pipe()?;
        let (err_r, err_w) = pipe()?;
        readers = Some((out_r, err_r));
        Some([OwnedFd::from(null), out_w, err_w])
    } else {
        None
    };
    let mut c = Container::spawn(SpawnOptions {
        id: opts.id,
        bundle: opts
            .spec
            .root()
            .as_ref()
            .map(|r| r.path().clone())
            .unwrap_or_default(),
        spec: opts.spec,
        rootfs_mount: opts.rootfs_mount,
        console,
        state_dir: opts.state_dir,
        wait_for_start: false,
        die_with_parent: true,
        init: opts.init,
        stdio,
        prestart: opts.prestart,
    })?;
    let proxy = opts.sig_proxy;
    let mut captured = None;
    let status = match (opts.stdio, c.take_pty(), readers) {
        (Stdio::Pty { stdin }, Some(master), _) => relay_pty(&c, &sfd, master, stdin, proxy),
        (_, _, Some((out, err))) => {
            let mut cap = Captured::default();
            let s = capture(&c, &sfd, proxy, [out, err], &mut cap);
            captured = Some(cap);
            s
        }
        _ => forward_signals(&c, &sfd, proxy),
    };
    match status {
        Ok(s) => Ok((c.finish(s), captured)),
        Err(e) => {
            // SAFETY: signalling our own child.
            unsafe { libc::kill(c.pid(), libc::SIGKILL) };
            let s = wait_status(c.pid(), false)
                .ok()
                .flatten()
                .unwrap_or(ExitStatus::Signal(libc::SIGKILL));
            let _ = c.finish(s);
            Err(e)
        }
    }
}

/// Handles pending signals; returns init's status once it has exited.
///
/// Without `proxy`, signals are not passed on. The terminating ones still end barge, as
/// they would any program that does not handle them; since a foreground container cannot
/// outlive barge, it is killed first and the status reported is that of barge's signal.
fn drain_signals(
    c: &dyn Pid,
    sfd: &SignalFd,
    proxy: bool,
) -> Result<Option<ExitStatus>, RuntimeError> {
    let mut exited = None;
    while let Some(info) = sfd
        .read_signal()
        .map_err(|e| RuntimeError::sys("signalfd", e))?
    {
        let sig = info.ssi_signo as i32;
        if sig == libc::SIGCHLD {
            if let Some(s) =
                wait_status(c.pid(), true).map_err(|e| RuntimeError::sys("waitpid", e))?
            {
                exited = Some(s);
            }
        } else if sig == libc::SIGWINCH {
            // Resizing is the pty relay's business, never the container's signal.
        } else if proxy {
            // SAFETY: kill has no memory-safety requirements.
            unsafe { libc::kill(c.pid(), sig) };
        } else if [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT].contains(&sig) {
            // SAFETY: signalling our own child.
            unsafe { libc::kill(c.pid(), libc::SIGKILL) };
            wait_status(c.pid(), false).map_err(|e| RuntimeError::sys("waitpid", e))?;
            return Ok(Some(ExitStatus::Signal(sig)));
        }
    }
    Ok(exited)
}

/// A pidfd becomes readable when init exits. Unlike SIGCHLD it cannot be consumed by
/// another thread of this process, which a signalfd would miss.
fn exit_fd(c: &dyn Pid) -> Result<OwnedFd, RuntimeError> {
    let pid = rustix::process::Pid::from_raw(c.pid())
        .ok_or_else(|| RuntimeError::Init("bad pid".into()))?;
    rustix::process::pidfd_open(pid, rustix::process::PidfdFlags::empty())
        .map_err(|e| RuntimeError::sys("pidfd_open", e))
}

fn reap_if_exited(c: &dyn Pid) -> Result<Option<ExitStatus>, RuntimeError> {
    wait_status(c.pid(), true).map_err(|e| RuntimeError::sys("waitpid", e))
}

fn forward_signals(c: &dyn Pid, sfd: &SignalFd, proxy: bool) -> Result<ExitStatus, RuntimeError> {
    let pidfd = exit_fd(c)?;
    loop {
        if let Some(s) = reap_if_exited(c)? {
            return Ok(s);
        }
        let mut fds = [
            PollFd::new(sfd.as_fd(), PollFlags::POLLIN),
            PollFd::new(pidfd.as_fd(), PollFlags::POLLIN),
        ];
        match poll(&mut fds, PollTimeout::NONE) {
            Err(nix::errno::Errno::EINTR) => continue,
            r => r.map_err(|e| RuntimeError::sys("poll", e))?,
        };
        if let Some(s) = drain_signals(c, sfd, proxy)? {
            return Ok(s);
        }
    }
}

/// [`forward_signals`] while reading the container's stdout and stderr pipes into `cap`.
/// Done when init has exited and both pipes are at their end; a process that outlived
/// init while holding a pipe (a container sharing the host's pid namespace) gets two
/// seconds of silence, then is no longer waited for.
fn capture(
    c: &dyn Pid,
    sfd: &SignalFd,
    proxy: bool,
    pipes: [OwnedFd; 2],
    cap: &mut Captured,
) -> Result<ExitStatus, RuntimeError> {
    let pidfd = exit_fd(c)?;
    let mut open = [true, true];
    let mut buf = vec![0u8; 32 << 10];
    let mut exited = reap_if_exited(c)?;
    while exited.is_none() || open.iter().any(|o| *o) {
        // Once init is reaped, only the pipes: its pidfd stays readable, and a pending
        // SIGCHLD would keep the signalfd readable.
        let watching = exited.is_none();
        let mut fds = Vec::new();
        if watching {
            fds.push(PollFd::new(sfd.as_fd(), PollFlags::POLLIN));
            fds.push(PollFd::new(pidfd.as_fd(), PollFlags::POLLIN));
        }
        let first_pipe = fds.len();
        let which: Vec<usize> = (0..2).filter(|i| open[*i]).collect();
        for i in &which {
            fds.push(PollFd::new(pipes[*i].as_fd(), PollFlags::POLLIN));
        }
        let timeout = if watching {
            PollTimeout::NONE
        } else {
            PollTimeout::from(2000u16)
        };
        let n = match poll(&mut fds, timeout) {
            Err(nix::errno::Errno::EINTR) => continue,
            r => r.map_err(|e| RuntimeError::sys("poll", e))?,
        };
        if n == 0 {
            break;
        }
        let ready: Vec<bool> = fds
            .iter()
            .map(|f| f.revents().is_some_and(|r| !r.is_empty()))
            .collect();
        drop(fds);
        for (k, i) in which.iter().enumerate() {
            if !ready[first_pipe + k] {
                continue;
            }
            match read_fd(pipes[*i].as_fd(), &mut buf) {
                Ok(0) | Err(_) => open[*i] = false,
                Ok(n) if *i == 0 => cap.stdout.extend_from_slice(&buf[..n]),
                Ok(n) => cap.stderr.extend_from_slice(&buf[..n]),
            }
        }
        if watching {
            if ready[0] {
                exited = drain_signals(c, sfd, proxy)?;
            }
            if exited.is_none() && ready[1] {
                exited = reap_if_exited(c)?;
            }
        }
    }
    Ok(exited.unwrap_or(ExitStatus::Code(0)))
}

/// Puts the host terminal in raw mode for as long as it lives; restores it on drop, so
/// every return path (errors included) gives the user their terminal back.
struct RawMode {
    fd: BorrowedFd<'static>,
    saved: Termios,
}

impl RawMode {
    fn enter(fd: BorrowedFd<'static>) -> Option<RawMode> {
        let saved = termios::tcgetattr(fd).ok()?;
        let mut raw = saved.clone();
        termios::cfmakeraw(&mut raw);
        termios::tcsetattr(fd, SetArg::TCSANOW, &raw).ok()?;
        Some(RawMode { fd, saved })
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        let _ = termios::tcsetattr(self.fd, SetArg::TCSAFLUSH, &self.saved);
    }
}

fn copy_winsize(from: BorrowedFd<'_>, to: BorrowedFd<'_>) {
    // SAFETY: winsize is plain data; both ioctls read or write exactly one winsize.
    unsafe {
        let mut ws: libc::winsize = std::mem::zeroed();
        if libc::ioctl(from.as_raw_fd(), libc::TIOCGWINSZ, &mut ws) == 0 {
            libc::ioctl(to.as_raw_fd(), libc::TIOCSWINSZ, &ws);
        }
    }
}

fn read_fd(fd: BorrowedFd<'_>, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match nix::unistd::read(fd, buf) {
            Err(nix::errno::Errno::EINTR) => continue,
            r => return r.map_err(io::Error::from),
        }
    }
}

fn write_all(fd: BorrowedFd<'_>, mut buf: &[u8]) -> io::Result<()> {
    while !buf.is_empty() {
        match nix::unistd::write(fd, buf) {
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(e.into()),
            Ok(n) => buf = &buf[n..],
        }
    }
    Ok(())
}

fn relay_pty(
    c: &dyn Pid,
    sfd: &SignalFd,
    master: OwnedFd,
    attach_stdin: bool,
    proxy: bool,
) -> Result<ExitStatus, RuntimeError> {
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    // SAFETY: fds 0 and 1 stay open for the life of the process.
    let (in_fd, out_fd) = unsafe {
        (
            BorrowedFd::borrow_raw(stdin.as_raw_fd()),
            BorrowedFd::borrow_raw(stdout.as_raw_fd()),
        )
    };
    let tty_in = nix::unistd::isatty(in_fd).unwrap_or(false);
    let size_src = if tty_in { in_fd } else { out_fd };
    copy_winsize(size_src, master.as_fd());
    let _raw = if attach_stdin && tty_in {
        RawMode::enter(in_fd)
    } else {
        None
    };
    let mut stdin_open = attach_stdin;
    let mut master_open = true;
    let mut buf = vec![0u8; 32 * 1024];
    let pidfd = exit_fd(c)?;
    let mut exited = reap_if_exited(c)?;
    while exited.is_none() {
        let mut fds = vec![
            PollFd::new(sfd.as_fd(), PollFlags::POLLIN),
            PollFd::new(pidfd.as_fd(), PollFlags::POLLIN),
        ];
        if master_open {
            fds.push(PollFd::new(master.as_fd(), PollFlags::POLLIN));
        }
        if stdin_open {
            fds.push(PollFd::new(in_fd, PollFlags::POLLIN));
        }
        match poll(&mut fds, PollTimeout::NONE) {
            Err(nix::errno::Errno::EINTR) => continue,
            r => r.map_err(|e| RuntimeError::sys("poll", e))?,
        };
        let ready: Vec<bool> = fds
            .iter()
            .map(|f| f.revents().is_some_and(|r| !r.is_empty()))
            .collect();
        let mut i = 2;
        if master_open {
            if ready[i] {
                match read_fd(master.as_fd(), &mut buf) {
                    Ok(0) | Err(_) => master_open = false,
                    Ok(n) => {
                        let _ = write_all(out_fd, &buf[..n]);
                    }
                }
            }
            i += 1;
        }
        if stdin_open && ready[i] {
            match read_fd(in_fd, &mut buf) {
                Ok(0) | Err(_) => {
                    stdin_open = false;
                    // End of input becomes end-of-file for the program reading the pty.
                    let _ = write_all(master.as_fd(), &[4]);
                }
                Ok(n) => {
                    let _ = write_all(master.as_fd(), &buf[..n]);
                }
            }
        }
        if ready[0] {
            // Any signal may be SIGWINCH; re-reading the size is cheap.
            copy_winsize(size_src, master.as_fd());
            exited = drain_signals(c, sfd, proxy)?;
        }
        if exited.is_none() && ready[1] {
            exited = reap_if_exited(c)?;
        }
    }
    // Output the program wrote just before exiting is still in the pty.
    if master_open {
        let _ = nix::fcntl::fcntl(
            master.as_fd(),
            nix::fcntl::FcntlArg::F_SETFL(nix::fcntl::OFlag::O_NONBLOCK),
        );
        while let Ok(n) = read_fd(master.as_fd(), &mut buf) {
            if n == 0 {
                break;
            }
            let _ = write_all(out_fd, &buf[..n]);
        }
    }
    let _ = io::stdout().flush();
    Ok(exited.unwrap_or(ExitStatus::Code(0)))
}
