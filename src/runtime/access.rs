//! Reach a container's root filesystem from the host, for `cp` and `export`.
//!
//! A running container's root is reached through `/proc/<init>/root` (its mounts as the
//! container sees them). A stopped container's overlay is mounted in a private mount
//! namespace of a forked child, which runs the work and exits: the mount never appears on
//! the host and cannot leak. Either way the work gets a directory fd of the root, and must
//! resolve every path below it with `openat2(RESOLVE_IN_ROOT)` so that symlinks inside the
//! container cannot lead outside it.

use std::io::{Read, Write};
use std::os::fd::{BorrowedFd, OwnedFd};
use std::path::Path;

use rustix::fs::{Mode, OFlags};

use super::RootfsMount;
use super::error::{Result, RuntimeError};
use super::state::Status;

/// Run `work` with a directory fd of the container's root. `running`: the runtime state
/// root and id of the container when it runs; otherwise `mount` is mounted on
/// `mountpoint` in a private mount namespace first. Must be called from a single-threaded
/// process (it may fork).
pub fn with_rootfs(
    running: Option<(&Path, &str)>,
    mount: &RootfsMount,
    mountpoint: &Path,
    work: &mut dyn FnMut(BorrowedFd<'_>) -> std::result::Result<(), String>,
) -> Result<()> {
    run(running, mount, mountpoint, &mut |root, _| work(root), None)
}

/// [`with_rootfs`] for work that writes a stream (a tar): what it writes reaches `sink`
/// in this process. In the forked child a writer of the caller's would be a copy that the
/// caller never sees (a `Vec`, a buffer), so the child writes into a pipe that this
/// process copies to `sink` while the child runs.
pub fn with_rootfs_writing(
    running: Option<(&Path, &str)>,
    mount: &RootfsMount,
    mountpoint: &Path,
    work: &mut dyn FnMut(BorrowedFd<'_>, &mut dyn Write) -> std::result::Result<(), String>,
    sink: &mut dyn Write,
) -> Result<()> {
    run(running, mount, mountpoint, work, Some(sink))
}

fn run(
    running: Option<(&Path, &str)>,
    mount: &RootfsMount,
    mountpoint: &Path,
    work: &mut dyn FnMut(BorrowedFd<'_>, &mut dyn Write) -> std::result::Result<(), String>,
    mut sink: Option<&mut dyn Write>,
) -> Result<()> {
    if let Some((root, id)) = running
        && let Ok((dir, rec)) = super::container::load(root, id)
        && rec.status(&dir) != Status::Stopped
    {
        let proc_root = format!("/proc/{}/root", rec.pid);
        let fd = rustix::fs::open(
            &proc_root,
            OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| RuntimeError::sys(format!("open {proc_root}"), e))?;
        let mut none = std::io::sink();
        let out: &mut dyn Write = match sink {
            Some(s) => s,
            None => &mut none,
        };
        return work(std::os::fd::AsFd::as_fd(&fd), out).map_err(RuntimeError::Init);
    }
    let (mut rd, wr) = std::io::pipe().map_err(|e| RuntimeError::sys("pipe", e))?;
    let data = match sink {
        Some(_) => Some(std::io::pipe().map_err(|e| RuntimeError::sys("pipe", e))?),
        None => None,
    };
    // SAFETY: the caller guarantees a single-threaded process, so the child may run
    // arbitrary code after fork.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(RuntimeError::sys("fork", std::io::Error::last_os_error()));
    }
    if pid == 0 {
        drop(rd);
        let mut wr = wr;
        let msg = match data {
            Some((data_rd, data_wr)) => {
                drop(data_rd);
                let mut out = std::io::BufWriter::with_capacity(1 << 16, data_wr);
                let r = in_private_mount(mount, mountpoint, &mut |root| {
                    work(root, &mut out)?;
                    out.flush().map_err(|e| e.to_string())
                });
                drop(out);
                r
            }
            None => in_private_mount(mount, mountpoint, &mut |root| {
                work(root, &mut std::io::sink())
            }),
        };
        let msg = match msg {
            Ok(()) => String::new(),
            Err(e) => e,
        };
        let _ = wr.write_all(msg.as_bytes());
        drop(wr);
        // SAFETY: leave the forked child without running the parent's destructors.
        unsafe { libc::_exit(if msg.is_empty() { 0 } else { 1 }) };
    }
    drop(wr);
    // The child writes its message only after the data's end, so reading the data first
    // cannot block it.
    let mut copied = Ok(());
    if let (Some((data_rd, data_wr)), Some(sink)) = (data, sink.as_mut()) {
        drop(data_wr);
        let mut data_rd = data_rd;
        copied = std::io::copy(&mut data_rd, sink).and_then(|_| sink.flush());
        // A failed sink: the child's next write gets EPIPE and it stops.
        drop(data_rd);
    }
    let mut msg = String::new();
    let _ = rd.read_to_string(&mut msg);
    let status =
        super::container::wait_status(pid, false).map_err(|e| RuntimeError::sys("waitpid", e))?;
    if let Err(e) = copied {
        return Err(RuntimeError::Init(e.to_string()));
    }
    match status {
        Some(super::ExitStatus::Code(0)) if msg.is_empty() => Ok(()),
        _ if !msg.is_empty() => Err(RuntimeError::Init(msg)),
        other => Err(RuntimeError::Init(format!(
            "the helper process ended with {other:?}"
        ))),
    }
}

fn in_private_mount(
    mount: &RootfsMount,
    mountpoint: &Path,
    work: &mut dyn FnMut(BorrowedFd<'_>) -> std::result::Result<(), String>,
) -> std::result::Result<(), String> {
    // SAFETY: this forked child is single-threaded, so unsharing the mount namespace
    // affects no other thread.
    unsafe { rustix::thread::unshare_unsafe(rustix::thread::UnshareFlags::NEWNS) }
        .map_err(|e| format!("unshare: {e}"))?;
    // Keep our mount from propagating back to the host.
    rustix::mount::mount_change(
        "/",
        rustix::mount::MountPropagationFlags::DOWNSTREAM
            | rustix::mount::MountPropagationFlags::REC,
    )
    .map_err(|e| format!("make / rslave: {e}"))?;
    super::rootfs::mount_rootfs(mount, mountpoint).map_err(|e| e.to_string())?;
    let fd: OwnedFd = rustix::fs::open(
        mountpoint,
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| format!("open {}: {e}", mountpoint.display()))?;
    let done = work(std::os::fd::AsFd::as_fd(&fd));
    drop(fd);
    if mount.fstype == super::rootfs::FUSE_OVERLAYFS {
        // Its daemon is in this mount namespace and would keep it (and itself) alive after
        // this process: the unmount ends both.
        let _ = super::rootfs::unmount_rootfs(mountpoint);
    }
    done
}
