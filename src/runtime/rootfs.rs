//! The container's filesystem view, built inside its new mount namespace: the optional
//! rootfs mount (overlay), spec.mounts, /dev, then pivot_root and the post-pivot masking.
//!
//! Mount targets are resolved with openat2(RESOLVE_IN_ROOT) and mounted through
//! /proc/self/fd/N, so a symlink planted in an image (e.g. `/proc -> /`) cannot redirect a
//! mount onto the host (the class of CVE-2021-30465).

use std::ffi::CString;
use std::fs;
use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::{Component, Path, PathBuf};

use oci_spec::runtime::{LinuxDevice, LinuxDeviceType, Mount, Spec};
use rustix::fs::{Mode, OFlags, ResolveFlags};

use super::RootfsMount;
use super::cgroups::{self, CgroupVersion};
use super::error::{Result, RuntimeError};
use super::sys::{self, cstr};

fn sys_err(ctx: impl Into<String>) -> impl FnOnce(io::Error) -> RuntimeError {
    let ctx = ctx.into();
    move |e| RuntimeError::sys(ctx, e)
}

/// Mount options: flags to set, flags to clear, propagation, and the data string.
#[derive(Default, Debug)]
struct Opts {
    flags: libc::c_ulong,
    propagation: libc::c_ulong,
    recursive_ro: bool,
    data: Vec<String>,
}

fn parse_options(options: &[String]) -> Opts {
    let mut o = Opts::default();
    for opt in options {
        let (set, flag): (bool, libc::c_ulong) = match opt.as_str() {
            "ro" => (true, libc::MS_RDONLY),
            "rw" => (false, libc::MS_RDONLY),
            "nosuid" => (true, libc::MS_NOSUID),
            "suid" => (false, libc::MS_NOSUID),
            "nodev" => (true, libc::MS_NODEV),
            "dev" => (false, libc::MS_NODEV),
            "noexec" => (true, libc::MS_NOEXEC),
            "exec" => (false, libc::MS_NOEXEC),
            "sync" => (true, libc::MS_SYNCHRONOUS),
            "async" => (false, libc::MS_SYNCHRONOUS),
            "dirsync" => (true, libc::MS_DIRSYNC),
            "remount" => (true, libc::MS_REMOUNT),
            "mand" => (true, libc::MS_MANDLOCK),
            "nomand" => (false, libc::MS_MANDLOCK),
            "atime" => (false, libc::MS_NOATIME),
            "noatime" => (true, libc::MS_NOATIME),
            "diratime" => (false, libc::MS_NODIRATIME),
            "nodiratime" => (true, libc::MS_NODIRATIME),
            "relatime" => (true, libc::MS_RELATIME),
            "norelatime" => (false, libc::MS_RELATIME),
            "strictatime" => (true, libc::MS_STRICTATIME),
            "nostrictatime" => (false, libc::MS_STRICTATIME),
            "bind" => (true, libc::MS_BIND),
            "rbind" => (true, libc::MS_BIND | libc::MS_REC),
            "rro" => {
                o.flags |= libc::MS_RDONLY;
                o.recursive_ro = true;
                continue;
            }
            "private" | "rprivate" | "shared" | "rshared" | "slave" | "rslave" | "unbindable"
            | "runbindable" => {
                o.propagation = propagation_flags(opt).unwrap_or(0);
                continue;
            }
            _ => {
                o.data.push(opt.clone());
                continue;
            }
        };
        if set {
            o.flags |= flag;
        } else {
            o.flags &= !flag;
        }
    }
    o
}

pub(crate) fn propagation_flags(name: &str) -> Option<libc::c_ulong> {
    Some(match name {
        "private" => libc::MS_PRIVATE,
        "rprivate" => libc::MS_PRIVATE | libc::MS_REC,
        "shared" => libc::MS_SHARED,
        "rshared" => libc::MS_SHARED | libc::MS_REC,
        "slave" => libc::MS_SLAVE,
        "rslave" => libc::MS_SLAVE | libc::MS_REC,
        "unbindable" => libc::MS_UNBINDABLE,
        "runbindable" => libc::MS_UNBINDABLE | libc::MS_REC,
        _ => return None,
    })
}

/// A path inside the container, relative to its root.
fn rel(dest: &Path) -> PathBuf {
    dest.components()
        .filter(|c| matches!(c, Component::Normal(_)))
        .collect()
}

fn open_in_root(root: &OwnedFd, rel: &Path) -> io::Result<OwnedFd> {
    let p = if rel.as_os_str().is_empty() {
        Path::new(".")
    } else {
        rel
    };
    loop {
        match rustix::fs::openat2(
            root,
            p,
            OFlags::PATH | OFlags::CLOEXEC,
            Mode::empty(),
            ResolveFlags::IN_ROOT | ResolveFlags::NO_MAGICLINKS,
        ) {
            Err(rustix::io::Errno::AGAIN) | Err(rustix::io::Errno::INTR) => continue,
            r => return r.map_err(io::Error::from),
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Dir,
    File,
}

/// Opens `rel` inside the root, creating it (and its parents) when missing.
fn ensure_in_root(root: &OwnedFd, rel: &Path, kind: Kind) -> io::Result<OwnedFd> {
    match open_in_root(root, rel) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        r => return r,
    }
    let parent = ensure_in_root(root, rel.parent().unwrap_or(Path::new("")), Kind::Dir)?;
    let name = rel
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "empty path"))?;
    let made = match kind {
        Kind::Dir => rustix::fs::mkdirat(&parent, name, Mode::from_raw_mode(0o755)),
        Kind::File => rustix::fs::openat(
            &parent,
            name,
            OFlags::CREATE | OFlags::WRONLY | OFlags::CLOEXEC | OFlags::NOFOLLOW,
            Mode::from_raw_mode(0o644),
        )
        .map(drop),
    };
    match made {
        Ok(()) | Err(rustix::io::Errno::EXIST) => {}
        Err(e) => return Err(e.into()),
    }
    open_in_root(root, rel)
}

fn fd_path(fd: &impl AsRawFd) -> CString {
    CString::new(format!("/proc/self/fd/{}", fd.as_raw_fd())).expect("no NUL in a number")
}

/// Remounts the mount at `fd` (a bind) with `flags`, keeping the flags the kernel locks.
fn remount_bind(fd: &OwnedFd, flags: libc::c_ulong) -> io::Result<()> {
    let target = fd_path(fd);
    let keep = rustix::fs::fstatvfs(fd)
        .map(|s| statvfs_to_ms(s.f_flag))
        .unwrap_or(0);
    sys::mount(
        None,
        &target,
        None,
        libc::MS_REMOUNT | libc::MS_BIND | flags | keep,
        None,
    )
}

fn statvfs_to_ms(f: rustix::fs::StatVfsMountFlags) -> libc::c_ulong {
    use rustix::fs::StatVfsMountFlags as F;
    let mut ms = 0;
    for (sf, m) in [
        (F::NOSUID, libc::MS_NOSUID),
        (F::NODEV, libc::MS_NODEV),
        (F::NOEXEC, libc::MS_NOEXEC),
        (F::NOATIME, libc::MS_NOATIME),
        (F::NODIRATIME, libc::MS_NODIRATIME),
        (F::RELATIME, libc::MS_RELATIME),
        (F::RDONLY, libc::MS_RDONLY),
    ] {
        if f.contains(sf) {
            ms |= m;
        }
    }
    ms
}

/// The `fstype` of a [`RootfsMount`] mounted by the fuse-overlayfs program rather than the
/// kernel's overlay.
pub const FUSE_OVERLAYFS: &str = "fuse-overlayfs";

/// The overlay option that skips syncing the upper layer (Linux 5.10): for containers whose
/// upper directory is removed when they end. Dropped where the kernel does not know it.
pub const OVERLAY_VOLATILE: &str = "volatile";

/// Mounts `m` (an overlay or another filesystem) onto `target`.
pub(crate) fn mount_rootfs(m: &RootfsMount, target: &Path) -> Result<()> {
    let r = mount_rootfs_once(m, target);
    if r.is_err() && m.options.iter().any(|o| o == OVERLAY_VOLATILE) {
        let mut m = m.clone();
        m.options.retain(|o| o != OVERLAY_VOLATILE);
        return mount_rootfs_once(&m, target);
    }
    r
}

fn mount_rootfs_once(m: &RootfsMount, target: &Path) -> Result<()> {
    if m.fstype == FUSE_OVERLAYFS {
        return mount_fuse_overlay(m, target);
    }
    if m.fstype == "overlay" && mount_overlay_fd(m, target).is_ok() {
        return Ok(());
    }
    let mut opts: Vec<String> = Vec::new();
    if !m.lowerdirs.is_empty() {
        let lower: Vec<String> = m
            .lowerdirs
            .iter()
            .map(|p| p.to_string_lossy().replace(',', "\\,").replace(':', "\\:"))
            .collect();
        opts.push(format!("lowerdir={}", lower.join(":")));
    }
    if let Some(u) = &m.upperdir {
        opts.push(format!("upperdir={}", u.display()));
    }
    if let Some(w) = &m.workdir {
        opts.push(format!("workdir={}", w.display()));
    }
    opts.extend(m.options.iter().cloned());
    let data =
        CString::new(opts.join(",")).map_err(|_| RuntimeError::Init("NUL in options".into()))?;
    let fstype = CString::new(m.fstype.as_str()).map_err(|_| RuntimeError::Init("NUL".into()))?;
    let t = cstr(target).map_err(sys_err("rootfs path"))?;
    sys::mount(Some(&fstype), &t, Some(&fstype), 0, Some(&data)).map_err(sys_err(format!(
        "mount {} on {}",
        m.fstype,
        target.display()
    )))
}

/// Mounts `m` with fuse-overlayfs, which daemonizes once the mount is in place: the
/// daemon serves the mount from this process's mount namespace until it is unmounted
/// ([`unmount_rootfs`]). Used where the kernel refuses overlay in a user namespace
/// (before Linux 5.11, or a file system under the store without user xattrs).
///
/// The caller must be single-threaded or know that no other thread forks meanwhile (the
/// child is forked by `std::process::Command`).
pub(crate) fn mount_fuse_overlay(m: &RootfsMount, target: &Path) -> Result<()> {
    use std::io::{Read, Seek};
    use std::os::unix::process::CommandExt;
    // fuse-overlayfs splits lowerdir at ':' and the option string at ',' (version 1.10 has no
    // escapes): refuse such paths rather than mount the wrong directories.
    let all = m
        .lowerdirs
        .iter()
        .chain(m.upperdir.iter())
        .chain(m.workdir.iter());
    for p in all.clone() {
        let s = p.to_string_lossy();
        if s.contains([',', ':']) {
            return Err(RuntimeError::Init(format!(
                "fuse-overlayfs cannot mount {s}: the path holds ',' or ':'"
            )));
        }
    }
    let lower: Vec<String> = m
        .lowerdirs
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    let mut opts = vec![format!("lowerdir={}", lower.join(":"))];
    if let Some(u) = &m.upperdir {
        opts.push(format!("upperdir={}", u.display()));
    }
    if let Some(w) = &m.workdir {
        opts.push(format!("workdir={}", w.display()));
    }
    opts.extend(m.options.iter().cloned());
    // Its messages go to a memory file: a pipe would be held open by the daemon it leaves
    // behind, and a reader waiting for the end of it would wait for the unmount.
    let errors =
        rustix::fs::memfd_create(c"fuse-overlayfs-stderr", rustix::fs::MemfdFlags::CLOEXEC)
            .map_err(|e| RuntimeError::sys("memfd_create", io::Error::from(e)))?;
    let mut errors = fs::File::from(errors);
    let stderr = errors
        .try_clone()
        .map_err(|e| RuntimeError::sys("dup", e))?;
    let mut cmd = std::process::Command::new(FUSE_OVERLAYFS);
    cmd.arg("-o")
        .arg(opts.join(","))
        .arg(target)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(stderr);
    // SAFETY: only an async-signal-safe system call runs between fork and exec. The daemon
    // outlives this process: no descriptor of the caller's (a supervisor's log pipe, a
    // terminal) may stay open in it, and marking them close-on-exec (rather than closing)
    // keeps the one std uses to report a failed exec working.
    unsafe {
        cmd.pre_exec(|| {
            sys::cloexec_from(3);
            Ok(())
        });
    }
    let status = cmd.status().map_err(|e| {
        if e.kind() == io::ErrorKind::NotFound {
            RuntimeError::Init(
                "fuse-overlayfs is not installed (apt-get install fuse-overlayfs)".into(),
            )
        } else {
            RuntimeError::sys("run fuse-overlayfs", e)
        }
    })?;
    if !status.success() {
        let mut msg = String::new();
        let _ = errors.rewind();
        let _ = errors.read_to_string(&mut msg);
        let msg: Vec<&str> = msg
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with("unknown argument ignored"))
            .collect();
        return Err(RuntimeError::Init(format!(
            "fuse-overlayfs could not mount {} ({status}): {}",
            target.display(),
            msg.join("; ")
        )));
    }
    Ok(())
}

/// Unmounts what `mount_fuse_overlay` (or anything else) mounted on `target` in this
/// process's mount namespace; the fuse daemon ends when its mount goes. Nothing mounted
/// there is not an error.
pub fn unmount_rootfs(target: &Path) -> Result<()> {
    match rustix::mount::unmount(target, rustix::mount::UnmountFlags::DETACH) {
        Ok(()) => Ok(()),
        Err(rustix::io::Errno::INVAL | rustix::io::Errno::NOENT) => Ok(()),
        Err(e) => Err(RuntimeError::sys(
            format!("unmount {}", target.display()),
            io::Error::from(e),
        )),
    }
}

/// The new mount API passes each lower layer separately ("lowerdir+", Linux 6.8), so the
/// page-sized limit of mount(2)'s option string does not cap the number of layers.
fn mount_overlay_fd(m: &RootfsMount, target: &Path) -> io::Result<()> {
    use rustix::mount::*;
    let fs = fsopen("overlay", FsOpenFlags::FSOPEN_CLOEXEC)?;
    for l in &m.lowerdirs {
        fsconfig_set_string(&fs, "lowerdir+", l.as_path())?;
    }
    if let Some(u) = &m.upperdir {
        fsconfig_set_string(&fs, "upperdir", u.as_path())?;
    }
    if let Some(w) = &m.workdir {
        fsconfig_set_string(&fs, "workdir", w.as_path())?;
    }
    for o in &m.options {
        match o.split_once('=') {
            Some((k, v)) => fsconfig_set_string(&fs, k, v)?,
            None => fsconfig_set_flag(&fs, o.as_str())?,
        }
    }
    fsconfig_create(&fs)?;
    let mnt = fsmount(&fs, FsMountFlags::FSMOUNT_CLOEXEC, MountAttrFlags::empty())?;
    move_mount(
        &mnt,
        "",
        rustix::fs::CWD,
        target,
        MoveMountFlags::MOVE_MOUNT_F_EMPTY_PATH,
    )?;
    Ok(())
}

/// Steps before pivot_root: propagation, rootfs, spec.mounts, /dev.
pub(crate) fn prepare(
    spec: &Spec,
    rootfs: &Path,
    rootfs_mount: Option<&RootfsMount>,
    cgroup_version: CgroupVersion,
) -> Result<()> {
    let linux = spec.linux().as_ref();
    let prop = linux
        .and_then(|l| l.rootfs_propagation().as_deref())
        .and_then(propagation_flags)
        .filter(|f| f & (libc::MS_PRIVATE | libc::MS_SLAVE) != 0)
        .unwrap_or(libc::MS_SLAVE | libc::MS_REC);
    // Nothing mounted from here on may propagate back to the host.
    sys::mount(None, c"/", None, prop | libc::MS_REC, None).map_err(sys_err("make / private"))?;

    if let Some(m) = rootfs_mount {
        mount_rootfs(m, rootfs)?;
    }
    let root_c = cstr(rootfs).map_err(sys_err("rootfs"))?;
    // pivot_root needs the new root to be a mount point.
    sys::mount(
        Some(&root_c),
        &root_c,
        None,
        libc::MS_BIND | libc::MS_REC,
        None,
    )
    .map_err(sys_err(format!("bind {}", rootfs.display())))?;
    let root = rustix::fs::open(
        rootfs,
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| RuntimeError::file(rootfs, e))?;

    let mut dev_is_tmpfs = false;
    for m in spec.mounts().iter().flatten() {
        let dest = rel(m.destination());
        mount_one(&root, m, &dest, cgroup_version)
            .map_err(sys_err(format!("mount {}", m.destination().display())))?;
        if dest == Path::new("dev") && m.typ().as_deref() == Some("tmpfs") {
            dev_is_tmpfs = true;
        }
    }
    let has_dev_mount = spec
        .mounts()
        .iter()
        .flatten()
        .any(|m| rel(m.destination()) == Path::new("dev"));
    if dev_is_tmpfs || !has_dev_mount {
        // Without a mount for /dev the image's own /dev is used; devices still go into it.
        default_devices(&root, dev_is_tmpfs)?;
    }
    for d in linux
        .and_then(|l| l.devices().as_ref())
        .into_iter()
        .flatten()
    {
        make_device(&root, d).map_err(sys_err(format!("device {}", d.path().display())))?;
    }
    Ok(())
}

fn mount_one(root: &OwnedFd, m: &Mount, dest: &Path, cgv: CgroupVersion) -> io::Result<()> {
    let opts = parse_options(m.options().as_deref().unwrap_or(&[]));
    let typ = m.typ().as_deref().unwrap_or("");
    let is_bind = typ == "bind" || opts.flags & libc::MS_BIND != 0;
    if is_bind {
        let src = m
            .source()
            .as_ref()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "bind without source"))?;
        let meta = fs::metadata(src)?;
        let kind = if meta.is_dir() { Kind::Dir } else { Kind::File };
        let target = ensure_in_root(root, dest, kind)?;
        let src_c = cstr(src)?;
        sys::mount(
            Some(&src_c),
            &fd_path(&target),
            None,
            libc::MS_BIND | (opts.flags & libc::MS_REC),
            None,
        )?;
        drop(target);
        let top = open_in_root(root, dest)?;
        let extra = opts.flags & !(libc::MS_BIND | libc::MS_REC | libc::MS_REMOUNT);
        if extra != 0 {
            remount_bind(&top, extra)?;
        }
        if opts.recursive_ro {
            sys::mount_setattr(top.as_raw_fd(), true, sys::MOUNT_ATTR_RDONLY)?;
        }
        if opts.propagation != 0 {
            sys::mount(None, &fd_path(&top), None, opts.propagation, None)?;
        }
        return Ok(());
    }
    let target = ensure_in_root(root, dest, Kind::Dir)?;
    if typ == "cgroup" || typ == "cgroup2" {
        return match mount_cgroupfs(root, dest, &target, &opts, cgv) {
            // Rootless with the host's network: /sys is the host's, bind-mounted read-only
            // (sysfs belongs to the owner of the network namespace), and its cgroup mounts
            // are locked beneath it. The container keeps that read-only view.
            Err(e)
                if super::userns::in_user_namespace() && e.raw_os_error() == Some(libc::EBUSY) =>
            {
                Ok(())
            }
            r => r,
        };
    }
    let data = CString::new(opts.data.join(",")).map_err(io::Error::other)?;
    let fstype = CString::new(typ).map_err(io::Error::other)?;
    let source = CString::new(
        m.source()
            .as_ref()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| typ.to_owned()),
    )
    .map_err(io::Error::other)?;
    let r = sys::mount(
        Some(&source),
        &fd_path(&target),
        Some(&fstype),
        opts.flags,
        Some(&data),
    );
    // A single-id user namespace (rootless without subordinate ids) maps no `tty` group:
    // devpts refuses gid=5 then, and its terminals belong to the container's root group.
    let r = match r {
        Err(e)
            if typ == "devpts"
                && e.raw_os_error() == Some(libc::EINVAL)
                && super::userns::in_user_namespace() =>
        {
            let data: Vec<&str> = opts
                .data
                .iter()
                .map(String::as_str)
                .filter(|o| !o.starts_with("gid="))
                .collect();
            let data = CString::new(data.join(",")).map_err(io::Error::other)?;
            sys::mount(
                Some(&source),
                &fd_path(&target),
                Some(&fstype),
                opts.flags,
                Some(&data),
            )
        }
        r => r,
    };
    match r {
        // sysfs can only be mounted by the owner of the network namespace: without a net
        // namespace of its own the container gets a read-only view of the host's instead.
        Err(e) if typ == "sysfs" && e.raw_os_error() == Some(libc::EPERM) => {
            sys::mount(
                Some(c"/sys"),
                &fd_path(&target),
                None,
                libc::MS_BIND | libc::MS_REC,
                None,
            )?;
            let top = open_in_root(root, dest)?;
            remount_bind(&top, opts.flags | libc::MS_RDONLY)?;
        }
        r => r?,
    }
    if opts.propagation != 0 {
        let top = open_in_root(root, dest)?;
        sys::mount(None, &fd_path(&top), None, opts.propagation, None)?;
    }
    Ok(())
}

/// /sys/fs/cgroup inside the container. On v2 one cgroup2 mount; on v1 a tmpfs with one
/// mount per host hierarchy. With a cgroup namespace each shows the container's own group
/// as its root.
fn mount_cgroupfs(
    root: &OwnedFd,
    dest: &Path,
    target: &OwnedFd,
    opts: &Opts,
    cgv: CgroupVersion,
) -> io::Result<()> {
    let flags = opts.flags & !libc::MS_RDONLY;
    let ro = opts.flags & libc::MS_RDONLY;
    if cgv == CgroupVersion::V2 {
        return sys::mount(
            Some(c"cgroup2"),
            &fd_path(target),
            Some(c"cgroup2"),
            flags | ro,
            None,
        );
    }
    sys::mount(
        Some(c"tmpfs"),
        &fd_path(target),
        Some(c"tmpfs"),
        flags,
        Some(c"mode=755"),
    )?;
    for h in cgroups::v1_hierarchies() {
        let Some(name) = h.mountpoint.file_name() else {
            continue;
        };
        let sub = ensure_in_root(root, &dest.join(name), Kind::Dir)?;
        let mut data = h.options.join(",");
        if data.starts_with("name=") {
            data = format!("none,{data}");
        }
        let data = CString::new(data).map_err(io::Error::other)?;
        sys::mount(
            Some(c"cgroup"),
            &fd_path(&sub),
            Some(c"cgroup"),
            flags | ro,
            Some(&data),
        )?;
    }
    if Path::new("/sys/fs/cgroup/unified/cgroup.procs").exists() {
        let sub = ensure_in_root(root, &dest.join("unified"), Kind::Dir)?;
        sys::mount(
            Some(c"cgroup2"),
            &fd_path(&sub),
            Some(c"cgroup2"),
            flags | ro,
            None,
        )?;
    }
    if ro != 0 {
        let top = open_in_root(root, dest)?;
        sys::mount(
            None,
            &fd_path(&top),
            None,
            libc::MS_REMOUNT | flags | ro,
            Some(c"mode=755"),
        )?;
    }
    Ok(())
}

const DEFAULT_DEVICES: &[(&str, u32, u32)] = &[
    ("null", 1, 3),
    ("zero", 1, 5),
    ("full", 1, 7),
    ("random", 1, 8),
    ("urandom", 1, 9),
    ("tty", 5, 0),
];

fn default_devices(root: &OwnedFd, fresh: bool) -> Result<()> {
    let dev = ensure_in_root(root, Path::new("dev"), Kind::Dir).map_err(sys_err("/dev"))?;
    // An O_PATH descriptor cannot be used with mknodat; reopen the directory properly.
    let dev = rustix::fs::openat(
        &dev,
        ".",
        OFlags::DIRECTORY | OFlags::RDONLY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| RuntimeError::sys("/dev", e))?;
    for (name, major, minor) in DEFAULT_DEVICES {
        mknod_or_bind(&dev, name, libc::S_IFCHR, 0o666, *major, *minor)
            .map_err(sys_err(format!("/dev/{name}")))?;
    }
    if !fresh {
        return Ok(());
    }
    for (name, target) in [
        ("ptmx", "pts/ptmx"),
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
        ("core", "/proc/kcore"),
    ] {
        match rustix::fs::symlinkat(target, &dev, name) {
            Ok(()) | Err(rustix::io::Errno::EXIST) => {}
            Err(e) => return Err(RuntimeError::sys(format!("/dev/{name}"), e)),
        }
    }
    Ok(())
}

/// Creates a device node; where mknod is not allowed (a user namespace) bind-mounts the
/// host's node instead.
fn mknod_or_bind(
    dir: &impl AsFd,
    name: &str,
    kind: libc::mode_t,
    perm: libc::mode_t,
    major: u32,
    minor: u32,
) -> io::Result<()> {
    let ft = match kind {
        libc::S_IFBLK => rustix::fs::FileType::BlockDevice,
        libc::S_IFIFO => rustix::fs::FileType::Fifo,
        _ => rustix::fs::FileType::CharacterDevice,
    };
    let dev = rustix::fs::makedev(major, minor);
    match rustix::fs::mknodat(dir, name, ft, Mode::from_raw_mode(perm), dev) {
        Ok(()) => Ok(()),
        Err(rustix::io::Errno::EXIST) => {
            // Keep a node that is already right; replace anything else.
            let st = rustix::fs::statat(dir, name, rustix::fs::AtFlags::SYMLINK_NOFOLLOW)?;
            if st.st_rdev == dev && (st.st_mode & libc::S_IFMT) == kind {
                return Ok(());
            }
            rustix::fs::unlinkat(dir, name, rustix::fs::AtFlags::empty())?;
            rustix::fs::mknodat(dir, name, ft, Mode::from_raw_mode(perm), dev)?;
            Ok(())
        }
        Err(rustix::io::Errno::PERM) if kind == libc::S_IFCHR => {
            let f = rustix::fs::openat(
                dir,
                name,
                OFlags::CREATE | OFlags::WRONLY | OFlags::CLOEXEC,
                Mode::from_raw_mode(0o644),
            )?;
            let host = cstr(format!("/dev/{name}"))?;
            sys::mount(Some(&host), &fd_path(&f), None, libc::MS_BIND, None)
        }
        Err(e) => Err(e.into()),
    }
}

fn make_device(root: &OwnedFd, d: &LinuxDevice) -> io::Result<()> {
    let r = rel(d.path());
    let parent = ensure_in_root(root, r.parent().unwrap_or(Path::new("")), Kind::Dir)?;
    let parent = rustix::fs::openat(
        &parent,
        ".",
        OFlags::DIRECTORY | OFlags::RDONLY | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    let name = r
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "bad device path"))?;
    let name = name.to_string_lossy();
    let kind = match d.typ() {
        LinuxDeviceType::B => libc::S_IFBLK,
        LinuxDeviceType::P => libc::S_IFIFO,
        LinuxDeviceType::C | LinuxDeviceType::U => libc::S_IFCHR,
        LinuxDeviceType::A => {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "device type a"));
        }
    };
    let perm = d.file_mode().unwrap_or(0o666) & 0o7777;
    mknod_or_bind(
        &parent,
        &name,
        kind,
        perm,
        d.major() as u32,
        d.minor() as u32,
    )?;
    if d.uid().is_some() || d.gid().is_some() {
        rustix::fs::chownat(
            &parent,
            name.as_ref(),
            d.uid().map(rustix::fs::Uid::from_raw),
            d.gid().map(rustix::fs::Gid::from_raw),
            rustix::fs::AtFlags::SYMLINK_NOFOLLOW,
        )?;
    }
    Ok(())
}

/// Makes `rootfs` the root and detaches the old one. The pivot_root(".", ".") form stacks
/// the old root on top of the new one, so it can be unmounted without a directory for it.
pub(crate) fn pivot(rootfs: &Path, spec: &Spec) -> Result<()> {
    let old = rustix::fs::open(
        "/",
        OFlags::DIRECTORY | OFlags::RDONLY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| RuntimeError::sys("open /", e))?;
    let new = rustix::fs::open(
        rootfs,
        OFlags::DIRECTORY | OFlags::RDONLY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| RuntimeError::file(rootfs, e))?;
    rustix::process::fchdir(&new).map_err(|e| RuntimeError::sys("chdir rootfs", e))?;
    rustix::process::pivot_root(".", ".").map_err(|e| RuntimeError::sys("pivot_root", e))?;
    rustix::process::fchdir(&old).map_err(|e| RuntimeError::sys("chdir old root", e))?;
    // A slave old root cannot propagate the detach below to the host's mounts.
    sys::mount(None, c".", None, libc::MS_SLAVE | libc::MS_REC, None)
        .map_err(sys_err("make old root slave"))?;
    rustix::mount::unmount(".", rustix::mount::UnmountFlags::DETACH)
        .map_err(|e| RuntimeError::sys("detach old root", e))?;
    rustix::process::chdir("/").map_err(|e| RuntimeError::sys("chdir /", e))?;
    drop(old);
    drop(new);
    if let Some(p) = spec
        .linux()
        .as_ref()
        .and_then(|l| l.rootfs_propagation().as_deref())
        .and_then(propagation_flags)
        && p & (libc::MS_SHARED | libc::MS_UNBINDABLE) != 0
    {
        // Before the pivot the host's tree was made private or slave so nothing leaks
        // out; the shared and unbindable modes are the new root's own, set on it now.
        sys::mount(None, c"/", None, p, None).map_err(sys_err("rootfs propagation"))?;
    }
    Ok(())
}

/// After pivot_root: masked paths, read-only paths, read-only root.
pub(crate) fn finish(spec: &Spec) -> Result<()> {
    if let Some(l) = spec.linux() {
        for p in l.masked_paths().iter().flatten() {
            mask(p).map_err(sys_err(format!("mask {p}")))?;
        }
        for p in l.readonly_paths().iter().flatten() {
            readonly(p).map_err(sys_err(format!("read-only {p}")))?;
        }
    }
    if spec.root().as_ref().and_then(|r| r.readonly()) == Some(true) {
        let root = rustix::fs::open("/", OFlags::PATH | OFlags::CLOEXEC, Mode::empty())
            .map_err(|e| RuntimeError::sys("open /", e))?;
        remount_bind(&root, libc::MS_RDONLY).map_err(sys_err("read-only root"))?;
    }
    Ok(())
}

fn mask(p: &str) -> io::Result<()> {
    let meta = match fs::symlink_metadata(p) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        r => r?,
    };
    let target = cstr(p)?;
    if meta.is_dir() {
        sys::mount(
            Some(c"tmpfs"),
            &target,
            Some(c"tmpfs"),
            libc::MS_RDONLY,
            None,
        )
    } else {
        sys::mount(Some(c"/dev/null"), &target, None, libc::MS_BIND, None)
    }
}

fn readonly(p: &str) -> io::Result<()> {
    let target = cstr(p)?;
    match sys::mount(
        Some(&target),
        &target,
        None,
        libc::MS_BIND | libc::MS_REC,
        None,
    ) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        r => r?,
    }
    let fd = rustix::fs::open(p, OFlags::PATH | OFlags::CLOEXEC, Mode::empty())?;
    remount_bind(&fd, libc::MS_RDONLY)
}
