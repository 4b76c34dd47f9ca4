//! `--init`: a minimal init as the container's PID 1, built into barge.
//!
//! A program that is not written to be PID 1 misbehaves there: the kernel drops signals
//! PID 1 has no handler for (so `sleep` ignores SIGTERM), and orphaned processes are
//! re-parented to it and stay zombies unless it reaps them. With `--init`, the container's
//! init process does not exec the program: it forks, the child execs it, and PID 1
//! forwards every catchable signal to that child, reaps every process that ends, and exits
//! with the child's status (128+N when the child was killed by signal N).
//!
//! # Why PID 1 runs barge's own code and stays safe (CVE-2019-5736)
//!
//! PID 1 never execs, so for the whole life of the container it is a process running
//! barge's binary inside the container's pid namespace, where every container process
//! can see it. CVE-2019-5736 was exactly this situation with runc: a container process
//! opened the runtime's /proc/PID/exe and wrote through it into the host binary. PID 1
//! here is non-dumpable (set before anything else, and set again after the switch to the
//! container's user, which resets the flag): the kernel then refuses every container
//! process ptrace-style access to it, which /proc/1/exe, /proc/1/mem, /proc/1/fd/* and
//! /proc/1/environ require, unless the opener holds CAP_SYS_PTRACE (not granted by
//! default; a container given it or `--privileged` can reach the host in other ways too).
//! PID 1 also holds no host descriptor (only 0-2 remain; the sync socket is closed
//! right after the fork) and its cwd and root are the container's. Its command line, which
//! /proc/1/cmdline shows without any access check, is overwritten so barge's host
//! arguments (e.g. `-e SECRET=...`) are not shown to the container.

use std::ffi::CStr;
use std::os::fd::RawFd;
use std::path::Path;

use super::ExitStatus;
use super::process::{self, Failure};
use super::sys;

const NAME: &CStr = c"barge-init";

/// Forks the program's process and acts as PID 1 until it exits. Returns only when the
/// fork fails, or, in the child, when exec fails (the caller reports that and exits).
pub(crate) fn run(sync: RawFd, prog: &Path, args: &[String], env: &[String]) -> Failure {
    // Every signal is blocked before the fork, so none sent in between is lost: it stays
    // pending until the loop below takes it (the child unblocks them before exec).
    // SAFETY: sigset_t is plain data, initialised by sigfillset before use.
    let mut all: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: valid pointers to local sets.
    unsafe {
        libc::sigfillset(&mut all);
        libc::sigprocmask(libc::SIG_SETMASK, &all, std::ptr::null_mut());
    }
    // Before the fork: the program may read /proc/1/cmdline as soon as it runs.
    hide_cmdline(NAME);
    // SAFETY: this process is single-threaded (it is the container's init); the child
    // only makes system calls and execs, or reports a failure and exits.
    let child = match unsafe { sys::clone_fork(0) } {
        Ok(p) => p,
        Err(e) => return Failure::runtime(format!("fork the container's process: {e}")),
    };
    if child == 0 {
        // Its own process group, in the terminal's foreground if it has one: keys like
        // ^C reach it (and its children) without going through PID 1 twice.
        // SAFETY: integer arguments only; still all signals blocked, so tcsetpgrp from a
        // background group raises no SIGTTOU.
        unsafe {
            libc::setpgid(0, 0);
            if libc::isatty(0) == 1 {
                libc::tcsetpgrp(0, libc::getpid());
            }
        }
        sys::reset_signals();
        return process::exec(prog, args, env);
    }
    // The parent (barge) learns that exec worked from the sync socket's end of stream;
    // only the child may keep it open, until its exec closes it.
    // SAFETY: closing our own copy of the descriptor; nothing else uses it here.
    unsafe { libc::close(sync) };
    let code = match supervise(child, &all) {
        ExitStatus::Code(c) => c,
        ExitStatus::Signal(s) => 128 + s,
    };
    sys::exit_now(code)
}

/// Forwards every signal in `set` (which the caller has blocked) except SIGCHLD to
/// `child`, and reaps every child that ends, until `child` has exited; returns its status.
pub(crate) fn supervise(child: libc::pid_t, set: &libc::sigset_t) -> ExitStatus {
    loop {
        // SAFETY: siginfo_t is plain data the kernel fills in.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: `all` and `info` are valid for the call.
        let sig = unsafe { libc::sigwaitinfo(set, &mut info) };
        if sig < 0 {
            continue;
        }
        if sig != libc::SIGCHLD {
            // SAFETY: kill has no memory-safety requirements.
            unsafe { libc::kill(child, sig) };
            continue;
        }
        // SIGCHLD does not queue: one may stand for several exits, so reap all there are.
        loop {
            let mut st = 0;
            // SAFETY: `st` is valid for writes.
            let pid = unsafe { libc::waitpid(-1, &mut st, libc::WNOHANG) };
            if pid <= 0 {
                break;
            }
            if pid == child {
                if libc::WIFEXITED(st) {
                    return ExitStatus::Code(libc::WEXITSTATUS(st));
                }
                if libc::WIFSIGNALED(st) {
                    return ExitStatus::Signal(libc::WTERMSIG(st));
                }
            }
        }
    }
}

/// Replaces the command line the kernel shows as /proc/PID/cmdline (the argv strings at the
/// bottom of the stack: barge's own host arguments) and the thread name with `name`.
pub(crate) fn hide_cmdline(name: &CStr) {
    let _ = sys::prctl(libc::PR_SET_NAME, name.as_ptr() as libc::c_ulong);
    let Some((start, end)) = arg_area() else {
        return;
    };
    if end <= start || end - start < name.to_bytes_with_nul().len() {
        return;
    }
    // The area is filled with spaces after the name's NUL: when its last byte is not a
    // NUL, the kernel shows it only up to the first NUL (the setproctitle convention), so
    // the container sees the name and nothing of what was there.
    // SAFETY: [start, end) is this process's argv area on its own stack, mapped and
    // writable (the kernel put the strings there at exec). Nothing in this process reads
    // argv any more: PID 1 only waits and forwards signals until it exits.
    unsafe {
        std::ptr::write_bytes(start as *mut u8, b' ', end - start);
        *((start + name.to_bytes().len()) as *mut u8) = 0;
        std::ptr::copy_nonoverlapping(
            name.as_ptr().cast::<u8>(),
            start as *mut u8,
            name.to_bytes().len(),
        );
    }
}

/// arg_start and arg_end from /proc/self/stat (fields 48 and 49).
fn arg_area() -> Option<(usize, usize)> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let rest = &stat[stat.rfind(')')? + 2..];
    // `rest` starts at field 3.
    let mut f = rest.split(' ').skip(48 - 3);
    let start = f.next()?.parse().ok()?;
    let end = f.next()?.parse().ok()?;
    Some((start, end))
}
