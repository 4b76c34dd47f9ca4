//! Thin wrappers over the few system calls that neither rustix nor nix cover the way the
//! runtime needs them. Each wrapper keeps its `unsafe` to one call.

use std::ffi::{CStr, CString};
use std::io;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

pub(crate) fn cstr(p: impl AsRef<Path>) -> io::Result<CString> {
    CString::new(p.as_ref().as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "path contains a NUL byte"))
}

fn check(ret: libc::c_long) -> io::Result<libc::c_long> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// mount(2) with optional source, type and data.
pub(crate) fn mount(
    source: Option<&CStr>,
    target: &CStr,
    fstype: Option<&CStr>,
    flags: libc::c_ulong,
    data: Option<&CStr>,
) -> io::Result<()> {
    let p = |c: Option<&CStr>| c.map_or(std::ptr::null(), |c| c.as_ptr());
    // SAFETY: every pointer is either null or a NUL-terminated string that outlives the call.
    let ret = unsafe { libc::mount(p(source), target.as_ptr(), p(fstype), flags, p(data).cast()) };
    check(ret as libc::c_long).map(drop)
}

pub(crate) const MOUNT_ATTR_RDONLY: u64 = 0x1;

#[repr(C)]
struct MountAttr {
    attr_set: u64,
    attr_clr: u64,
    propagation: u64,
    userns_fd: u64,
}

/// mount_setattr(2) on the mount `fd` refers to (and, with `recursive`, every mount below it).
pub(crate) fn mount_setattr(fd: RawFd, recursive: bool, set: u64) -> io::Result<()> {
    let attr = MountAttr {
        attr_set: set,
        attr_clr: 0,
        propagation: 0,
        userns_fd: 0,
    };
    let mut flags = libc::AT_EMPTY_PATH as libc::c_uint;
    if recursive {
        flags |= libc::AT_RECURSIVE as libc::c_uint;
    }
    // SAFETY: the path is an empty C string, `attr` is a valid mount_attr whose size is passed.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            fd,
            c"".as_ptr(),
            flags,
            &attr as *const MountAttr,
            std::mem::size_of::<MountAttr>(),
        )
    };
    check(ret).map(drop)
}

/// Closes every descriptor from `first` up, except those in `keep`.
pub(crate) fn close_fds_except(first: RawFd, keep: &[RawFd]) {
    let mut keep: Vec<RawFd> = keep.iter().copied().filter(|&f| f >= first).collect();
    keep.sort_unstable();
    let mut lo = first as libc::c_uint;
    for k in keep {
        let k = k as libc::c_uint;
        if k > lo {
            close_range(lo, k - 1, 0);
        }
        lo = k + 1;
    }
    close_range(lo, libc::c_uint::MAX, 0);
}

/// Marks every descriptor from `first` up close-on-exec.
pub(crate) fn cloexec_from(first: RawFd) {
    close_range(
        first as libc::c_uint,
        libc::c_uint::MAX,
        libc::CLOSE_RANGE_CLOEXEC,
    );
}

fn close_range(lo: libc::c_uint, hi: libc::c_uint, flags: libc::c_uint) {
    // SAFETY: close_range only affects this process's descriptor table; the caller keeps
    // no Rust owner of the descriptors being closed alive across this call.
    let ret = unsafe { libc::syscall(libc::SYS_close_range, lo, hi, flags) };
    if ret < 0 {
        // Kernels before 5.9 lack close_range: fall back to closing or flagging one by one.
        let hi = hi.min(4096);
        for fd in lo..=hi {
            // SAFETY: as above, for one descriptor.
            unsafe {
                if flags & libc::CLOSE_RANGE_CLOEXEC != 0 {
                    libc::fcntl(fd as RawFd, libc::F_SETFD, libc::FD_CLOEXEC);
                } else {
                    libc::close(fd as RawFd);
                }
            }
        }
    }
}

/// clone(2) without a new stack: like fork(2), but into the namespaces in `flags`.
///
/// # Safety
/// The caller must be single-threaded: the child starts with a copy of this thread only,
/// and any lock another thread held stays locked forever in the child.
pub(crate) unsafe fn clone_fork(flags: libc::c_ulong) -> io::Result<libc::pid_t> {
    let flags = flags | libc::SIGCHLD as libc::c_ulong;
    // SAFETY: a null stack makes clone behave like fork (the child continues on a copy of
    // this stack); the other pointers are null because no TID/TLS bookkeeping is requested.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_clone,
            flags,
            std::ptr::null_mut::<libc::c_void>(),
            std::ptr::null_mut::<libc::c_void>(),
            std::ptr::null_mut::<libc::c_void>(),
            0usize,
        )
    };
    check(ret).map(|p| p as libc::pid_t)
}

/// [`clone_fork`] with the child born in the cgroup v2 directory `cgroup`
/// (`clone3(CLONE_INTO_CGROUP)`, Linux 5.7): no migration afterwards, so none of the
/// kernel's locks for moving processes. Fails on older kernels (ENOSYS, E2BIG, EINVAL) and
/// where the caller may not move processes into that group.
///
/// # Safety
/// As [`clone_fork`].
unsafe fn clone_into_cgroup(
    flags: u64,
    cgroup: std::os::fd::BorrowedFd<'_>,
) -> io::Result<libc::pid_t> {
    /// `struct clone_args` up to `cgroup` (CLONE_ARGS_SIZE_VER2).
    #[repr(C)]
    #[derive(Default)]
    struct CloneArgs {
        flags: u64,
        pidfd: u64,
        child_tid: u64,
        parent_tid: u64,
        exit_signal: u64,
        stack: u64,
        stack_size: u64,
        tls: u64,
        set_tid: u64,
        set_tid_size: u64,
        cgroup: u64,
    }
    const CLONE_INTO_CGROUP: u64 = 0x200000000;
    let args = CloneArgs {
        flags: flags | CLONE_INTO_CGROUP,
        exit_signal: libc::SIGCHLD as u64,
        cgroup: std::os::fd::AsRawFd::as_raw_fd(&cgroup) as u64,
        ..Default::default()
    };
    // SAFETY: `args` is a valid clone_args of the size passed; no stack (the child goes on
    // with a copy of this one, as with fork) and no pointers for the kernel to write.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_clone3,
            &args as *const CloneArgs,
            std::mem::size_of::<CloneArgs>(),
        )
    };
    check(ret).map(|p| p as libc::pid_t)
}

/// [`clone_fork`], into the cgroup v2 directory `cgroup` when one is given and the kernel
/// can ([`clone_into_cgroup`]). Returns the pid (0 in the child) and whether the child was
/// born in that group; if not, it must move itself there.
///
/// # Safety
/// As [`clone_fork`].
pub(crate) unsafe fn clone_fork_into(
    flags: u64,
    cgroup: Option<std::os::fd::BorrowedFd<'_>>,
) -> (io::Result<libc::pid_t>, bool) {
    if let Some(fd) = cgroup {
        // SAFETY: the caller's guarantee, passed on.
        if let Ok(pid) = unsafe { clone_into_cgroup(flags, fd) } {
            return (Ok(pid), true);
        }
    }
    // SAFETY: the caller's guarantee, passed on.
    (unsafe { clone_fork(flags as libc::c_ulong) }, false)
}

pub(crate) fn prctl(option: libc::c_int, arg2: libc::c_ulong) -> io::Result<()> {
    // SAFETY: the prctl options used by the runtime take integer arguments only.
    let ret = unsafe { libc::prctl(option, arg2, 0 as libc::c_ulong, 0 as libc::c_ulong, 0) };
    check(ret as libc::c_long).map(drop)
}

pub(crate) fn prctl3(
    option: libc::c_int,
    arg2: libc::c_ulong,
    arg3: libc::c_ulong,
) -> io::Result<()> {
    // SAFETY: as in `prctl`: integer arguments only.
    let ret = unsafe { libc::prctl(option, arg2, arg3, 0 as libc::c_ulong, 0) };
    check(ret as libc::c_long).map(drop)
}

/// Sets every signal disposition back to the default and unblocks all signals, so the
/// container's program does not inherit barge's choices (Rust ignores SIGPIPE, the
/// supervisor blocks the signals it forwards).
pub(crate) fn reset_signals() {
    for sig in 1..libc::SIGRTMAX() {
        if sig == libc::SIGKILL || sig == libc::SIGSTOP {
            continue;
        }
        // SAFETY: installing SIG_DFL is always sound.
        unsafe { libc::signal(sig, libc::SIG_DFL) };
    }
    // SAFETY: an empty set is valid; the old mask is not wanted.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigprocmask(libc::SIG_SETMASK, &set, std::ptr::null_mut());
    }
}

/// Exits the calling process at once, without running Rust or libc exit handlers: the
/// forked init shares none of the parent's state worth flushing.
pub(crate) fn exit_now(code: i32) -> ! {
    // SAFETY: _exit never returns and touches no user-space state.
    unsafe { libc::_exit(code) }
}

/// Sends `fd` and a short payload over a unix socket (SCM_RIGHTS).
pub(crate) fn send_fd(sock: RawFd, payload: &[u8], fd: RawFd) -> io::Result<()> {
    use nix::sys::socket::{ControlMessage, MsgFlags, sendmsg};
    let iov = [io::IoSlice::new(payload)];
    let fds = [fd];
    let cmsg = [ControlMessage::ScmRights(&fds)];
    sendmsg::<()>(sock, &iov, &cmsg, MsgFlags::MSG_NOSIGNAL, None)?;
    Ok(())
}

/// Receives one message and at most one descriptor from a unix socket.
/// Returns the payload length (0 at end of stream) and the descriptor, if any.
pub(crate) fn recv_with_fd(sock: RawFd, buf: &mut [u8]) -> io::Result<(usize, Option<OwnedFd>)> {
    use nix::sys::socket::{ControlMessageOwned, MsgFlags, recvmsg};
    let mut cmsg_buf = nix::cmsg_space!([RawFd; 1]);
    let mut iov = [io::IoSliceMut::new(buf)];
    let msg = loop {
        match recvmsg::<()>(
            sock,
            &mut iov,
            Some(&mut cmsg_buf),
            MsgFlags::MSG_CMSG_CLOEXEC,
        ) {
            Err(nix::errno::Errno::EINTR) => continue,
            r => break r?,
        }
    };
    let mut fd = None;
    for c in msg.cmsgs()? {
        if let ControlMessageOwned::ScmRights(fds) = c {
            for f in fds {
                // SAFETY: the kernel just installed this descriptor for us; nothing else owns it.
                let owned = unsafe { OwnedFd::from_raw_fd(f) };
                if fd.is_none() {
                    fd = Some(owned);
                }
            }
        }
    }
    Ok((msg.bytes, fd))
}

/// Writes all of `buf`, retrying on EINTR, without raising SIGPIPE.
pub(crate) fn send_all(sock: RawFd, buf: &[u8]) -> io::Result<()> {
    loop {
        // SAFETY: `buf` is valid for reads of its length.
        let n = unsafe { libc::send(sock, buf.as_ptr().cast(), buf.len(), libc::MSG_NOSIGNAL) };
        if n >= 0 {
            return Ok(());
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// The start time of process `pid` in clock ticks since boot (field 22 of /proc/PID/stat):
/// with the pid it identifies a process even after its pid is reused.
pub(crate) fn process_start_time(pid: i32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 2..];
    // `rest` starts at field 3 (state).
    let mut fields = rest.split(' ');
    let state = fields.next()?;
    if state == "Z" || state == "X" {
        return None;
    }
    fields.nth(18)?.parse().ok()
}

/// struct ifreq with the flags member of its union (SIOCGIFFLAGS / SIOCSIFFLAGS).
#[repr(C)]
struct IfreqFlags {
    name: [u8; libc::IFNAMSIZ],
    flags: libc::c_short,
    _pad: [u8; 22],
}

/// Sets the loopback interface of the current network namespace up, as Docker's `none`
/// network has it: a new namespace starts with `lo` down, and programs that talk to
/// 127.0.0.1 (databases, test servers) would fail with ENETUNREACH.
pub(crate) fn loopback_up() -> io::Result<()> {
    // SAFETY: socket(2) with constant arguments; the descriptor is owned at once.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` is a new descriptor that nothing else owns.
    let sock = unsafe { OwnedFd::from_raw_fd(fd) };
    let mut req = IfreqFlags {
        name: [0; libc::IFNAMSIZ],
        flags: 0,
        _pad: [0; 22],
    };
    req.name[..2].copy_from_slice(b"lo");
    // SAFETY: `req` is a valid, NUL-terminated ifreq the kernel reads and writes in place.
    if unsafe { libc::ioctl(fd_of(&sock), libc::SIOCGIFFLAGS, &mut req) } < 0 {
        return Err(io::Error::last_os_error());
    }
    req.flags |= libc::IFF_UP as libc::c_short;
    // SAFETY: as above.
    if unsafe { libc::ioctl(fd_of(&sock), libc::SIOCSIFFLAGS, &req) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

fn fd_of(fd: &OwnedFd) -> RawFd {
    use std::os::fd::AsRawFd;
    fd.as_raw_fd()
}
