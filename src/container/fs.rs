//! `cp` and `export`: copy files between the host and a container's root filesystem, and
//! write it as a tar. Every path inside the container is resolved below its root with
//! `openat2(RESOLVE_IN_ROOT)`, and nothing is followed while walking, so a symlink in the
//! container (`/data -> /etc`, `/x -> ../../..`) can never reach the host's files.

use std::ffi::OsStr;
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use rustix::fs::{AtFlags, Mode, OFlags, ResolveFlags};

fn in_root(root: BorrowedFd<'_>, path: &Path, flags: OFlags) -> io::Result<OwnedFd> {
    let rel = path.strip_prefix("/").unwrap_or(path);
    let rel = if rel.as_os_str().is_empty() {
        Path::new(".")
    } else {
        rel
    };
    rustix::fs::openat2(
        root,
        rel,
        flags | OFlags::CLOEXEC,
        Mode::empty(),
        ResolveFlags::IN_ROOT | ResolveFlags::NO_MAGICLINKS | ResolveFlags::NO_XDEV,
    )
    .map_err(Into::into)
}

/// Append the tree at `fd` (named `name` in the archive) to `tar`, without following
/// symlinks. With `device`, a directory of another filesystem (a mount point: /proc,
/// /sys, /dev, a volume of a running container) is recorded but not entered.
fn append_tree(
    tar: &mut tar::Builder<&mut dyn Write>,
    dir: BorrowedFd<'_>,
    name: &Path,
    leaf: &OsStr,
    device: Option<u64>,
) -> io::Result<()> {
    let st = rustix::fs::statat(dir, leaf, AtFlags::SYMLINK_NOFOLLOW)?;
    let mut h = tar::Header::new_gnu();
    h.set_mode(st.st_mode & 0o7777);
    h.set_uid(u64::from(st.st_uid));
    h.set_gid(u64::from(st.st_gid));
    h.set_mtime(st.st_mtime.max(0) as u64);
    let ft = rustix::fs::FileType::from_raw_mode(st.st_mode);
    match ft {
        rustix::fs::FileType::RegularFile => {
            let fd = rustix::fs::openat(
                dir,
                leaf,
                OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::empty(),
            )?;
            let f = File::from(fd);
            h.set_entry_type(tar::EntryType::Regular);
            h.set_size(st.st_size as u64);
            tar.append_data(&mut h, name, f.take(st.st_size as u64))?;
        }
        rustix::fs::FileType::Directory => {
            h.set_entry_type(tar::EntryType::Directory);
            h.set_size(0);
            if !name.as_os_str().is_empty() && name != Path::new(".") {
                tar.append_data(&mut h, name, io::empty())?;
            }
            if device.is_some_and(|d| d != st.st_dev as u64) {
                return Ok(());
            }
            let fd = rustix::fs::openat(
                dir,
                leaf,
                OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::empty(),
            )?;
            let mut entries: Vec<std::ffi::OsString> = Vec::new();
            for e in rustix::fs::Dir::read_from(&fd)? {
                let e = e?;
                let n = OsStr::from_bytes(e.file_name().to_bytes());
                if n != "." && n != ".." {
                    entries.push(n.to_os_string());
                }
            }
            entries.sort();
            for n in entries {
                append_tree(tar, fd.as_fd(), &name.join(&n), &n, device)?;
            }
        }
        rustix::fs::FileType::Symlink => {
            let target = rustix::fs::readlinkat(dir, leaf, Vec::new())?;
            h.set_entry_type(tar::EntryType::Symlink);
            h.set_size(0);
            tar.append_link(&mut h, name, OsStr::from_bytes(target.as_bytes()))?;
        }
        rustix::fs::FileType::Fifo => {
            h.set_entry_type(tar::EntryType::Fifo);
            h.set_size(0);
            tar.append_data(&mut h, name, io::empty())?;
        }
        rustix::fs::FileType::CharacterDevice | rustix::fs::FileType::BlockDevice => {
            h.set_entry_type(if ft == rustix::fs::FileType::CharacterDevice {
                tar::EntryType::Char
            } else {
                tar::EntryType::Block
            });
            h.set_size(0);
            h.set_device_major(rustix::fs::major(st.st_rdev))?;
            h.set_device_minor(rustix::fs::minor(st.st_rdev))?;
            tar.append_data(&mut h, name, io::empty())?;
        }
        _ => {}
    }
    Ok(())
}

/// Write the tree at `path` inside the container as a tar (`cp CONTAINER:PATH -`).
pub fn tar_out(root: BorrowedFd<'_>, path: &Path, out: &mut dyn Write) -> io::Result<()> {
    tar_tree(root, path, out, false)
}

/// The container's root filesystem as a tar (`export`): what is mounted on it in a
/// running container (/proc, /sys, /dev, volumes) stays out, as with Docker.
pub fn tar_rootfs(root: BorrowedFd<'_>, out: &mut dyn Write) -> io::Result<()> {
    tar_tree(root, Path::new("/"), out, true)
}

fn tar_tree(
    root: BorrowedFd<'_>,
    path: &Path,
    out: &mut dyn Write,
    one_filesystem: bool,
) -> io::Result<()> {
    let parent = path.parent().unwrap_or(Path::new("/"));
    let leaf = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_else(|| ".".into());
    let dir = in_root(root, parent, OFlags::PATH | OFlags::DIRECTORY)?;
    let name = if leaf == "." {
        PathBuf::new()
    } else {
        PathBuf::from(&leaf)
    };
    let device = if one_filesystem {
        Some(rustix::fs::statat(dir.as_fd(), &leaf, AtFlags::SYMLINK_NOFOLLOW)?.st_dev as u64)
    } else {
        None
    };
    let mut tar = tar::Builder::new(out);
    tar.follow_symlinks(false);
    append_tree(&mut tar, dir.as_fd(), &name, &leaf, device)?;
    tar.into_inner()?.flush()
}

/// Copy `src` from the container to the host path `dest` (Docker's rules: into `dest/`
/// when it is a directory, else as `dest`).
pub fn copy_out(root: BorrowedFd<'_>, src: &Path, dest: &Path) -> io::Result<()> {
    let mut buf: Vec<u8> = Vec::new();
    tar_out(root, src, &mut buf)?;
    let base = src.file_name().map(Path::new).unwrap_or(Path::new("."));
    let (target_dir, rename_to) = if dest.is_dir() {
        (dest.to_path_buf(), None)
    } else {
        (
            dest.parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."))
                .to_path_buf(),
            dest.file_name().map(|n| n.to_os_string()),
        )
    };
    let mut archive = tar::Archive::new(buf.as_slice());
    for entry in archive.entries()? {
        let mut entry = entry?;
        let rel = entry.path()?.into_owned();
        let rel = match (&rename_to, rel.strip_prefix(base)) {
            (Some(new), Ok(rest)) if rest.as_os_str().is_empty() => PathBuf::from(new),
            (Some(new), Ok(rest)) => Path::new(new).join(rest),
            _ => rel,
        };
        // Names come from readdir (no '/' or '..' possible) but check anyway.
        if rel
            .components()
            .any(|c| !matches!(c, std::path::Component::Normal(_)))
        {
            continue;
        }
        let target = target_dir.join(&rel);
        match entry.header().entry_type() {
            tar::EntryType::Directory => {
                std::fs::create_dir_all(&target)?;
                let mode = entry.header().mode().unwrap_or(0o755);
                std::fs::set_permissions(&target, std::fs::Permissions::from_mode(mode & 0o7777))?;
            }
            tar::EntryType::Symlink => {
                let t = entry
                    .link_name()?
                    .map(|t| t.into_owned())
                    .unwrap_or_default();
                let _ = std::fs::remove_file(&target);
                std::os::unix::fs::symlink(t, &target)?;
            }
            tar::EntryType::Regular => {
                // Replace, never write through: a symlink already at the target is removed.
                if std::fs::symlink_metadata(&target).is_ok_and(|m| !m.is_dir()) {
                    std::fs::remove_file(&target)?;
                }
                let mut f = File::options().write(true).create_new(true).open(&target)?;
                io::copy(&mut entry, &mut f)?;
                let mode = entry.header().mode().unwrap_or(0o644);
                f.set_permissions(std::fs::Permissions::from_mode(mode & 0o7777))?;
            }
            _ => {}
        }
    }
    Ok(())
}

/// Copy the host path `src` into the container at `dest` (a directory, or a new name).
pub fn copy_in(root: BorrowedFd<'_>, src: &Path, dest: &Path) -> std::result::Result<(), String> {
    let meta = std::fs::symlink_metadata(src).map_err(|e| format!("{}: {e}", src.display()))?;
    // Where in the container, and under which name.
    let wants_dir = dest.as_os_str().as_bytes().ends_with(b"/");
    let (dir_path, name) = match in_root(root, dest, OFlags::PATH | OFlags::DIRECTORY) {
        Ok(_) => (
            dest.to_path_buf(),
            src.file_name()
                .map(|n| n.to_os_string())
                .unwrap_or_default(),
        ),
        Err(e) if wants_dir => {
            return Err(format!(
                "{}: not a directory in the container ({e})",
                dest.display()
            ));
        }
        Err(_) => (
            dest.parent().unwrap_or(Path::new("/")).to_path_buf(),
            dest.file_name()
                .map(|n| n.to_os_string())
                .ok_or("bad destination")?,
        ),
    };
    let dir = in_root(root, &dir_path, OFlags::RDONLY | OFlags::DIRECTORY)
        .map_err(|e| format!("{}: {e}", dir_path.display()))?;
    let mut tar = tar::Builder::new(Vec::new());
    tar.follow_symlinks(false);
    if meta.is_dir() {
        tar.append_dir_all(&name, src).map_err(|e| e.to_string())?;
    } else {
        tar.append_path_with_name(src, &name)
            .map_err(|e| e.to_string())?;
    }
    let data = tar.into_inner().map_err(|e| e.to_string())?;
    // The layer applier writes below a directory fd with the same in-root rules.
    let target = PathBuf::from(format!(
        "/proc/self/fd/{}",
        std::os::fd::AsRawFd::as_raw_fd(&dir)
    ));
    let opts = crate::layer::ApplyOptions {
        early_writeback: false,
        ..Default::default()
    };
    crate::layer::apply(data.as_slice(), &target, "cp", &opts).map_err(|e| e.to_string())?;
    let _ = meta.uid();
    Ok(())
}
