//! Apply one layer tar stream into a directory, in overlay format.
//!
//! Safety rules, whatever the archive says:
//! - every parent path is resolved by `openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS |
//!   RESOLVE_NO_XDEV)` below the layer directory: an absolute symlink or `..` inside a
//!   symlink target lands inside the layer directory, never outside;
//! - the last component is created with `O_EXCL | O_NOFOLLOW` / `*at` calls that do not
//!   follow symlinks, so an existing symlink is replaced, never written through;
//! - names with a `..` component are refused; a leading `/` is dropped (as tar does);
//! - hardlink targets are resolved the same way, so they can only name files inside;
//! - device nodes are created only when running privileged; overlay's own xattrs
//!   (`trusted.overlay.*`, `user.overlay.*`) in an archive are dropped, since they could
//!   redirect lookups to other layers;
//! - memory stays bounded: the tar reader may read at most `HEADER_BUDGET` bytes of headers,
//!   long names and PAX records per entry, and deferred directory times are capped.
//!
//! Whiteouts: `.wh.NAME` becomes a 0:0 character device `NAME`; `.wh..wh..opq` sets the
//! opaque xattr on its directory; other `.wh..wh.*` (aufs bookkeeping) are skipped.

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::{self, BufReader, Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

use rustix::fs::{
    self as rfs, AtFlags, FileType, Mode, OFlags, ResolveFlags, Timespec, Timestamps,
};
use rustix::io::Errno;

use crate::digest::{Digest, HashReader};
use crate::error::{Error, Result};

/// Directory times are set at the end (creating children changes them); past this many
/// directories they are set at once instead, so memory stays bounded.
const MAX_DEFERRED_DIRS: usize = 1 << 16;

#[derive(Clone, Debug)]
pub struct ApplyOptions {
    /// Create whiteouts and chown to the archive's owners: true for root, and for rootless
    /// barge in its user namespace (where it is root over the user's subordinate ids; the
    /// kernel lets anyone create the 0:0 character device of a whiteout).
    pub privileged: bool,
    /// Create device nodes (root on the host only: a user namespace may not).
    pub devices: bool,
    /// The xattr overlay reads for opaque directories (`trusted.overlay.opaque`, or
    /// `user.overlay.opaque` with the `userxattr` mount option).
    pub opaque_xattr: &'static str,
    /// Start writing each file to disk as soon as it is complete, so the `syncfs` that
    /// makes an import durable finds little left to do (it overlaps the unpacking).
    pub early_writeback: bool,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        let privileged = rustix::process::geteuid().is_root();
        // trusted.* xattrs need the host's root; overlay mounted with `userxattr` (as
        // rootless barge mounts it) reads user.overlay.* instead.
        let host_root = privileged && !crate::config::is_rootless();
        ApplyOptions {
            privileged,
            devices: host_root,
            opaque_xattr: if host_root {
                "trusted.overlay.opaque"
            } else {
                "user.overlay.opaque"
            },
            early_writeback: crate::util::sync_enabled(),
        }
    }
}

/// chown says EINVAL for an id the user namespace does not map: rootless barge without
/// (enough) subordinate ids. Marked so that `apply` can say how to fix it.
fn unmapped(e: Errno, uid: u32, gid: u32) -> io::Error {
    if e == Errno::INVAL {
        io::Error::other(Unmapped { uid, gid })
    } else {
        e.into()
    }
}

#[derive(Debug)]
struct Unmapped {
    uid: u32,
    gid: u32,
}

impl std::fmt::Display for Unmapped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "owned by {}:{}, an id that barge's user namespace does not map",
            self.uid, self.gid
        )
    }
}

impl std::error::Error for Unmapped {}

/// What an apply found: the diff ID (sha256 of the uncompressed tar) and the bytes of file
/// content written.
#[derive(Clone, Debug)]
pub struct Applied {
    pub diff_id: Digest,
    pub size: u64,
    pub compression: super::Compression,
}

/// Apply the layer stream `input` (plain, gzip or zstd) into the existing directory `dest`.
/// `label` names the layer in errors.
pub fn apply(
    input: impl Read + Send,
    dest: &Path,
    label: &str,
    opts: &ApplyOptions,
) -> Result<Applied> {
    let err = |msg: String| Error::Layer {
        layer: label.to_string(),
        msg,
    };
    let root = rfs::open(
        dest,
        OFlags::DIRECTORY | OFlags::RDONLY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| Error::io(dest, e.into()))?;
    let buffered = BufReader::with_capacity(256 << 10, input);
    let (compression, decoded) = super::decompress(buffered).map_err(|e| err(e.to_string()))?;
    let (guarded, budget) = super::BudgetReader::new(decoded);
    let mut hashed = HashReader::new(guarded);
    let mut applier = Applier {
        root: root.as_fd(),
        opts,
        cached: None,
        deferred: Vec::new(),
        size: 0,
        buf: vec![0u8; 256 << 10],
        warned_devices: false,
    };
    {
        let mut archive = tar::Archive::new(&mut hashed);
        let entries = archive
            .entries()
            .map_err(|e| err(format!("not a tar stream: {e}")))?;
        for entry in entries {
            let mut entry = entry.map_err(|e| err(format!("bad tar stream: {e}")))?;
            // Entry data is read outside the header budget.
            budget.unlimited();
            let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            applier.entry(&mut entry).map_err(|e| {
                if e.get_ref().is_some_and(|i| i.is::<Unmapped>()) {
                    return Error::Hinted {
                        msg: format!(
                            "layer {label}: {name:?} is {e}: {} has no subordinate ids in \
                             /etc/subuid and /etc/subgid (or too few)",
                            crate::config::host_user_name()
                        ),
                        hint: crate::config::subid_hint(),
                    };
                }
                err(format!("entry {name:?}: {e}"))
            })?;
            io::copy(&mut entry, &mut io::sink())
                .map_err(|e| err(format!("entry {name:?}: {e}")))?;
            budget.headers();
        }
    }
    budget.unlimited();
    applier.finish().map_err(|e| err(e.to_string()))?;
    let (diff_id, _) = hashed
        .finish()
        .map_err(|e| err(format!("reading the stream: {e}")))?;
    Ok(Applied {
        diff_id,
        size: applier.size,
        compression,
    })
}

struct Applier<'a> {
    root: BorrowedFd<'a>,
    opts: &'a ApplyOptions,
    /// The last parent directory opened, reused by the entries that follow in it.
    cached: Option<(PathBuf, OwnedFd)>,
    deferred: Vec<(PathBuf, Timestamps)>,
    size: u64,
    buf: Vec<u8>,
    warned_devices: bool,
}

/// Split an archive name into (parent, last component), refusing `..`.
fn clean(raw: &[u8]) -> io::Result<Option<(PathBuf, OsString)>> {
    let mut parts: Vec<&[u8]> = Vec::new();
    for c in raw.split(|&b| b == b'/') {
        match c {
            b"" | b"." => {}
            b".." => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "name contains \"..\"",
                ));
            }
            c => parts.push(c),
        }
    }
    let Some(last) = parts.pop() else {
        return Ok(None);
    };
    let mut parent = PathBuf::new();
    for p in parts {
        parent.push(OsStr::from_bytes(p));
    }
    Ok(Some((parent, OsString::from_vec(last.to_vec()))))
}

fn bad(msg: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.to_string())
}

fn pax_number(entry: &mut tar::Entry<'_, impl Read>, key: &str) -> Option<(i64, u32)> {
    let exts = entry.pax_extensions().ok()??;
    for ext in exts.flatten() {
        if ext.key() == Ok(key) {
            let v = ext.value().ok()?;
            let (secs, frac) = v.split_once('.').unwrap_or((v, ""));
            let secs: i64 = secs.parse().ok()?;
            let mut nanos = 0u32;
            if !frac.is_empty() {
                let digits: String = frac.chars().take(9).collect();
                nanos = format!("{digits:0<9}").parse().ok()?;
            }
            return Some((secs, nanos));
        }
    }
    None
}

impl Applier<'_> {
    fn entry(&mut self, entry: &mut tar::Entry<'_, impl Read>) -> io::Result<()> {
        let kind = entry.header().entry_type();
        if kind.is_pax_global_extensions() {
            return Ok(());
        }
        let Some((parent, name)) = clean(&entry.path_bytes())? else {
            // The root directory itself: nothing to create.
            return Ok(());
        };
        let name_bytes = name.as_bytes();

        if let Some(rest) = name_bytes.strip_prefix(b".wh.") {
            let dir = self.open_parent(&parent)?;
            if rest == b".wh..opq" {
                return xattr_fd(&dir, self.opts.opaque_xattr, b"y");
            }
            if rest.starts_with(b".wh.") {
                return Ok(());
            }
            if rest.is_empty() || rest == b"." || rest == b".." {
                return Err(bad("invalid whiteout"));
            }
            if !self.opts.privileged {
                return Err(bad(
                    "whiteouts need barge's user namespace (rootless) or root",
                ));
            }
            let target = OsStr::from_bytes(rest);
            let full = parent.join(target);
            self.invalidate(&full);
            remove_existing(&dir, target)?;
            rfs::mknodat(
                &dir,
                target,
                FileType::CharacterDevice,
                Mode::empty(),
                rfs::makedev(0, 0),
            )?;
            return Ok(());
        }

        let header = entry.header();
        let mode = Mode::from_raw_mode(header.mode()? & 0o7777);
        let uid = header.uid()? as u32;
        let gid = header.gid()? as u32;
        let mtime =
            pax_number(entry, "mtime").unwrap_or((entry.header().mtime().unwrap_or(0) as i64, 0));
        let times = Timestamps {
            last_access: Timespec {
                tv_sec: mtime.0,
                tv_nsec: mtime.1 as _,
            },
            last_modification: Timespec {
                tv_sec: mtime.0,
                tv_nsec: mtime.1 as _,
            },
        };
        let xattrs = collect_xattrs(entry);
        let full = parent.join(&name);
        let dir = self.open_parent(&parent)?;

        match kind {
            tar::EntryType::Regular | tar::EntryType::Continuous | tar::EntryType::GNUSparse => {
                let flags = OFlags::WRONLY
                    | OFlags::CREATE
                    | OFlags::EXCL
                    | OFlags::NOFOLLOW
                    | OFlags::CLOEXEC;
                let fd = match rfs::openat(&dir, &name, flags, Mode::from_raw_mode(0o600)) {
                    Err(Errno::EXIST) => {
                        self.invalidate(&full);
                        remove_existing(&dir, &name)?;
                        rfs::openat(&dir, &name, flags, Mode::from_raw_mode(0o600))?
                    }
                    r => r?,
                };
                let mut file = File::from(fd);
                loop {
                    let n = entry.read(&mut self.buf)?;
                    if n == 0 {
                        break;
                    }
                    file.write_all(&self.buf[..n])?;
                    self.size += n as u64;
                }
                self.owner_fd(&file, uid, gid)?;
                rfs::fchmod(&file, mode)?;
                for (k, v) in &xattrs {
                    xattr_fd(&file, k, v)?;
                }
                rfs::futimens(&file, &times)?;
                if self.opts.early_writeback {
                    start_writeback(&file);
                }
            }
            tar::EntryType::Directory => {
                match rfs::mkdirat(&dir, &name, Mode::from_raw_mode(0o700)) {
                    Ok(()) => {}
                    Err(Errno::EXIST) => {
                        let st = rfs::statat(&dir, &name, AtFlags::SYMLINK_NOFOLLOW)?;
                        if FileType::from_raw_mode(st.st_mode) != FileType::Directory {
                            self.invalidate(&full);
                            remove_existing(&dir, &name)?;
                            rfs::mkdirat(&dir, &name, Mode::from_raw_mode(0o700))?;
                        }
                    }
                    Err(e) => return Err(e.into()),
                }
                let fd = rfs::openat(
                    &dir,
                    &name,
                    OFlags::DIRECTORY | OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                    Mode::empty(),
                )?;
                self.owner_fd(&fd, uid, gid)?;
                rfs::fchmod(&fd, mode)?;
                for (k, v) in &xattrs {
                    xattr_fd(&fd, k, v)?;
                }
                if self.deferred.len() < MAX_DEFERRED_DIRS {
                    self.deferred.push((full, times));
                } else {
                    rfs::futimens(&fd, &times)?;
                }
            }
            tar::EntryType::Symlink => {
                let target = entry
                    .link_name_bytes()
                    .ok_or_else(|| bad("symlink without a target"))?
                    .into_owned();
                if target.is_empty() {
                    return Err(bad("symlink without a target"));
                }
                self.invalidate(&full);
                let target = OsString::from_vec(target);
                match rfs::symlinkat(&target, &dir, &name) {
                    Err(Errno::EXIST) => {
                        remove_existing(&dir, &name)?;
                        rfs::symlinkat(&target, &dir, &name)?;
                    }
                    r => r?,
                }
                self.owner_at(&dir, &name, uid, gid)?;
                for (k, v) in &xattrs {
                    xattr_at(&dir, &name, k, v)?;
                }
                rfs::utimensat(&dir, &name, &times, AtFlags::SYMLINK_NOFOLLOW)?;
            }
            tar::EntryType::Link => {
                let target = entry
                    .link_name_bytes()
                    .ok_or_else(|| bad("hardlink without a target"))?
                    .into_owned();
                let Some((tparent, tname)) = clean(&target)? else {
                    return Err(bad("hardlink to the layer root"));
                };
                let tdir = self.open_dir(&tparent, false)?;
                self.invalidate(&full);
                match rfs::linkat(&tdir, &tname, &dir, &name, AtFlags::empty()) {
                    Err(Errno::EXIST) => {
                        // A link to itself (seen in real archives) is a no-op.
                        let a = rfs::statat(&tdir, &tname, AtFlags::SYMLINK_NOFOLLOW)?;
                        let b = rfs::statat(&dir, &name, AtFlags::SYMLINK_NOFOLLOW)?;
                        if (a.st_dev, a.st_ino) != (b.st_dev, b.st_ino) {
                            remove_existing(&dir, &name)?;
                            rfs::linkat(&tdir, &tname, &dir, &name, AtFlags::empty())?;
                        }
                    }
                    Err(Errno::NOENT) => {
                        return Err(bad(&format!(
                            "hardlink target {:?} is not in this layer",
                            String::from_utf8_lossy(&target)
                        )));
                    }
                    r => r?,
                }
            }
            tar::EntryType::Char | tar::EntryType::Block | tar::EntryType::Fifo => {
                let ft = match kind {
                    tar::EntryType::Char => FileType::CharacterDevice,
                    tar::EntryType::Block => FileType::BlockDevice,
                    _ => FileType::Fifo,
                };
                if ft != FileType::Fifo && !self.opts.devices {
                    if !self.warned_devices {
                        eprintln!(
                            "barge: warning: skipping device nodes: creating them needs root \
                             on the host"
                        );
                        self.warned_devices = true;
                    }
                    return Ok(());
                }
                // Writers leave these blank for FIFOs; a blank number means 0.
                let dev = rfs::makedev(
                    entry.header().device_major().ok().flatten().unwrap_or(0),
                    entry.header().device_minor().ok().flatten().unwrap_or(0),
                );
                self.invalidate(&full);
                match rfs::mknodat(&dir, &name, ft, mode, dev) {
                    Err(Errno::EXIST) => {
                        remove_existing(&dir, &name)?;
                        rfs::mknodat(&dir, &name, ft, mode, dev)?;
                    }
                    r => r?,
                }
                self.owner_at(&dir, &name, uid, gid)?;
                rfs::chmodat(&dir, &name, mode, AtFlags::empty())?;
                for (k, v) in &xattrs {
                    xattr_at(&dir, &name, k, v)?;
                }
                rfs::utimensat(&dir, &name, &times, AtFlags::SYMLINK_NOFOLLOW)?;
            }
            other => {
                return Err(bad(&format!(
                    "unsupported tar entry type {:?}",
                    other.as_byte() as char
                )));
            }
        }
        Ok(())
    }

    fn owner_fd(&self, fd: impl AsFd, uid: u32, gid: u32) -> io::Result<()> {
        // Files are created by root as 0:0 already; skip the syscall in the common case.
        if self.opts.privileged && (uid != 0 || gid != 0) {
            rfs::fchown(
                fd,
                Some(rfs::Uid::from_raw(uid)),
                Some(rfs::Gid::from_raw(gid)),
            )
            .map_err(|e| unmapped(e, uid, gid))?;
        }
        Ok(())
    }

    fn owner_at(&self, dir: impl AsFd, name: &OsStr, uid: u32, gid: u32) -> io::Result<()> {
        if self.opts.privileged && (uid != 0 || gid != 0) {
            rfs::chownat(
                dir,
                name,
                Some(rfs::Uid::from_raw(uid)),
                Some(rfs::Gid::from_raw(gid)),
                AtFlags::SYMLINK_NOFOLLOW,
            )
            .map_err(|e| unmapped(e, uid, gid))?;
        }
        Ok(())
    }

    /// Forget the cached parent when `path` is it or one of its ancestors: replacing that
    /// path could change what the cached path resolves to.
    fn invalidate(&mut self, path: &Path) {
        if let Some((cached, _)) = &self.cached
            && cached.starts_with(path)
        {
            self.cached = None;
        }
    }

    fn open_parent(&mut self, parent: &Path) -> io::Result<OwnedFd> {
        if let Some((p, fd)) = &self.cached
            && p == parent
        {
            return fd.try_clone();
        }
        let fd = self.open_dir(parent, true)?;
        self.cached = Some((parent.to_path_buf(), fd.try_clone()?));
        Ok(fd)
    }

    /// Open `rel` below the root, resolving symlinks inside the root only; create missing
    /// directories (0755, root-owned) when `create` is set.
    fn open_dir(&self, rel: &Path, create: bool) -> io::Result<OwnedFd> {
        let how = ResolveFlags::IN_ROOT | ResolveFlags::NO_MAGICLINKS | ResolveFlags::NO_XDEV;
        let flags = OFlags::DIRECTORY | OFlags::RDONLY | OFlags::CLOEXEC;
        let target: &Path = if rel.as_os_str().is_empty() {
            Path::new(".")
        } else {
            rel
        };
        match rfs::openat2(self.root, target, flags, Mode::empty(), how) {
            Ok(fd) => Ok(fd),
            Err(Errno::NOENT) if create && !rel.as_os_str().is_empty() => self.create_dirs(rel),
            Err(e) => Err(e.into()),
        }
    }

    /// The slow path of `open_dir`: make the missing directories of `rel`. Symlinks on
    /// the way are expanded inside the root first (a dangling `evil -> /x` makes `x`
    /// inside the layer), then each component is opened with `O_NOFOLLOW`, so nothing is
    /// ever created through a link.
    fn create_dirs(&self, rel: &Path) -> io::Result<OwnedFd> {
        let canonical = self.canonical(rel)?;
        let flags = OFlags::DIRECTORY | OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let mut cur = self.root.try_clone_to_owned()?;
        for c in &canonical {
            cur = match rfs::openat(&cur, c, flags, Mode::empty()) {
                Ok(fd) => fd,
                Err(Errno::NOENT) => {
                    match rfs::mkdirat(&cur, c, Mode::from_raw_mode(0o755)) {
                        Ok(()) | Err(Errno::EXIST) => {}
                        Err(e) => return Err(e.into()),
                    }
                    rfs::openat(&cur, c, flags, Mode::empty())?
                }
                Err(e) => return Err(e.into()),
            };
        }
        Ok(cur)
    }

    /// `rel` with every symlink expanded as if the layer directory were `/`.
    fn canonical(&self, rel: &Path) -> io::Result<Vec<OsString>> {
        let mut queue: std::collections::VecDeque<OsString> =
            rel.iter().map(|c| c.to_os_string()).collect();
        let mut stack: Vec<OsString> = Vec::new();
        let mut links = 0;
        while let Some(c) = queue.pop_front() {
            match c.as_bytes() {
                b"" | b"." | b"/" => continue,
                b".." => {
                    stack.pop();
                    continue;
                }
                _ => {}
            }
            let mut candidate: PathBuf = stack.iter().collect();
            candidate.push(&c);
            match rfs::readlinkat(self.root, &candidate, Vec::new()) {
                Ok(target) => {
                    links += 1;
                    if links > 40 {
                        return Err(Errno::LOOP.into());
                    }
                    let target = PathBuf::from(OsString::from_vec(target.into_bytes()));
                    if target.is_absolute() {
                        stack.clear();
                    }
                    for t in target.iter().rev() {
                        queue.push_front(t.to_os_string());
                    }
                }
                Err(Errno::NOENT) | Err(Errno::INVAL) => stack.push(c),
                Err(e) => return Err(e.into()),
            }
        }
        Ok(stack)
    }

    fn finish(&mut self) -> io::Result<()> {
        self.cached = None;
        // Deepest first is not needed: setting a directory's times does not touch its parent.
        for (path, times) in std::mem::take(&mut self.deferred) {
            let Some(name) = path.file_name() else {
                continue;
            };
            let parent = path.parent().unwrap_or(Path::new(""));
            let dir = match self.open_dir(parent, false) {
                Ok(d) => d,
                Err(_) => continue, // replaced or removed by a later entry
            };
            match rfs::utimensat(&dir, name, &times, AtFlags::SYMLINK_NOFOLLOW) {
                Ok(()) | Err(Errno::NOENT) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }
}

/// Ask the kernel to start writeback of a file without waiting for it.
fn start_writeback(file: &File) {
    // SAFETY: sync_file_range only reads the fd and flags; errors are harmless (the final
    // syncfs still makes the data durable).
    unsafe {
        libc::sync_file_range(file.as_raw_fd(), 0, 0, libc::SYNC_FILE_RANGE_WRITE);
    }
}

/// Remove whatever is at `dir/name` (a later entry replaces an earlier one).
fn remove_existing(dir: &OwnedFd, name: &OsStr) -> io::Result<()> {
    match rfs::unlinkat(dir, name, AtFlags::empty()) {
        Ok(()) | Err(Errno::NOENT) => Ok(()),
        Err(Errno::ISDIR) | Err(Errno::PERM) => {
            // std's remove_dir_all works with openat/unlinkat below the given path and does
            // not follow symlinks (CVE-2022-21658 fix); the /proc/self/fd prefix pins it to
            // our directory fd.
            let path = PathBuf::from(format!("/proc/self/fd/{}", dir.as_raw_fd())).join(name);
            std::fs::remove_dir_all(path)
        }
        Err(e) => Err(e.into()),
    }
}

fn allowed_xattr(name: &str) -> bool {
    if name.starts_with("trusted.overlay.") || name.starts_with("user.overlay.") {
        return false;
    }
    name.starts_with("user.")
        || name.starts_with("trusted.")
        || name == "security.capability"
        || name.starts_with("system.posix_acl_")
}

fn collect_xattrs(entry: &mut tar::Entry<'_, impl Read>) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    if let Ok(Some(exts)) = entry.pax_extensions() {
        for ext in exts.flatten() {
            if let Ok(key) = ext.key()
                && let Some(name) = key.strip_prefix("SCHILY.xattr.")
                && allowed_xattr(name)
            {
                out.push((name.to_string(), ext.value_bytes().to_vec()));
            }
        }
    }
    out
}

fn xattr_fd(fd: impl AsFd, name: &str, value: &[u8]) -> io::Result<()> {
    match rfs::fsetxattr(fd, name, value, rfs::XattrFlags::empty()) {
        Ok(()) => Ok(()),
        // A file system without xattrs, or a namespace we may not write: the data is still
        // right, only the attribute is lost; overlay's own opaque marker is not optional.
        Err(Errno::NOTSUP) | Err(Errno::PERM) if !name.ends_with("overlay.opaque") => Ok(()),
        Err(e) => Err(e.into()),
    }
}

fn xattr_at(dir: &OwnedFd, name: &OsStr, key: &str, value: &[u8]) -> io::Result<()> {
    let path = PathBuf::from(format!("/proc/self/fd/{}", dir.as_raw_fd())).join(name);
    match rfs::lsetxattr(&path, key, value, rfs::XattrFlags::empty()) {
        Ok(()) | Err(Errno::NOTSUP) | Err(Errno::PERM) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_refuses_dotdot_and_strips_root() {
        assert!(clean(b"../x").is_err());
        assert!(clean(b"a/../../x").is_err());
        let (p, n) = clean(b"/etc/passwd").unwrap().unwrap();
        assert_eq!(p, Path::new("etc"));
        assert_eq!(n, "passwd");
        assert!(clean(b"./").unwrap().is_none());
        let (p, n) = clean(b"./a//b/./c").unwrap().unwrap();
        assert_eq!(p, Path::new("a/b"));
        assert_eq!(n, "c");
    }

    #[test]
    fn overlay_xattrs_are_dropped() {
        assert!(!allowed_xattr("trusted.overlay.redirect"));
        assert!(!allowed_xattr("user.overlay.origin"));
        assert!(allowed_xattr("security.capability"));
        assert!(!allowed_xattr("security.selinux"));
    }
}
