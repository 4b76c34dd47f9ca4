//! Spare container directories: a removed container's directory, emptied, is parked in a
//! slot of `<root>/spare` (outside `containers/`, which holds containers only) and renamed
//! into place for the next container instead of made anew (see `runtime::spare` for why).
//! A container directory is four directories (itself, `upper`, `work`, `rootfs`): a `run
//! --rm` made and removed them all on every run; with a spare it renames one twice.
//!
//! What the overlay makes in `work` at each mount (`work/work` and, for a volatile mount,
//! `work/work/incompat/volatile`, which the next mount refuses to find) goes to
//! `<root>/spare/trash` rather than being removed there and then: removing three
//! directories is three discards, which [`sweep`] (on a thread of the next foreground
//! `run`, while its container's init mounts its root, or `rm`) waits for instead of the end
//! of this container's run.
//!
//! A spare is only kept when it is as good as new: `rootfs` an empty directory (nothing
//! mounted on it), `work` emptied, and `upper` empty with the owner, mode and no extended
//! attributes of a new directory (it is the container's `/`: a container that changed
//! them gets a new one), but for the overlay's identity, which is removed. Its times are
//! reset, so a container cannot learn when another last changed its root.

use std::fs;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::runtime::spare;

/// What a container directory holds that a spare keeps.
const SUBDIRS: [&str; 3] = ["upper", "work", "rootfs"];

/// Next to `containers`, on the same file system (spares are renamed in and out).
fn spares(containers: &Path) -> PathBuf {
    containers.with_file_name("spare")
}

fn trash(containers: &Path) -> PathBuf {
    spares(containers).join("trash")
}

/// Remove what retired spares left in the trash. Errors are left for the next sweep (two
/// sweeps may race over the same entries).
pub fn sweep(containers: &Path) {
    let Ok(entries) = fs::read_dir(trash(containers)) else {
        return;
    };
    for e in entries.flatten() {
        let _ = remove_entry(&e.path());
    }
}

/// Make the container directory `dir` (in `containers`) with its `upper`, `work` and
/// `rootfs`: a spare when there is one.
pub fn make(containers: &Path, dir: &Path) -> io::Result<()> {
    if spare::take(&spares(containers), dir) {
        return Ok(());
    }
    for sub in SUBDIRS {
        fs::create_dir_all(dir.join(sub))?;
    }
    Ok(())
}

/// Remove the container directory `dir`, keeping it as a spare when it can be made as
/// good as new and a slot is free.
pub fn remove(containers: &Path, dir: &Path) -> io::Result<()> {
    spare::remove_unless_parked(dir, retire(containers, dir))
}

/// Empty `dir` into a spare and move it to a free slot. False (or an error) when it is not
/// fit or no slot is free: the caller removes it.
fn retire(containers: &Path, dir: &Path) -> io::Result<bool> {
    let rootfs = dir.join("rootfs");
    let upper = dir.join("upper");
    let work = dir.join("work");
    let new = fs::symlink_metadata(&rootfs)?;
    if !new.is_dir() || !is_empty(&rootfs)? {
        return Ok(false);
    }
    let up = fs::symlink_metadata(&upper)?;
    if !up.is_dir() || !fs::symlink_metadata(&work)?.is_dir() {
        return Ok(false);
    }
    // The free slot first: with none, nothing is emptied in vain.
    let Some(slot) = spare::free_slot(&spares(containers)) else {
        return Ok(false);
    };
    for e in fs::read_dir(dir)? {
        let e = e?;
        if SUBDIRS.iter().any(|s| e.file_name() == *s) {
            continue;
        }
        remove_entry(&e.path())?;
    }
    let trash = trash(containers);
    let tag = dir.file_name().unwrap_or_default().to_string_lossy();
    for e in fs::read_dir(&work)? {
        let e = e?;
        let to = trash.join(format!("{tag}-{}", e.file_name().to_string_lossy()));
        let moved = fs::rename(e.path(), &to).or_else(|_| {
            fs::create_dir_all(&trash)?;
            fs::rename(e.path(), &to)
        });
        if moved.is_err() {
            remove_entry(&e.path())?;
        }
    }
    let pristine = (up.uid(), up.gid(), up.mode()) == (new.uid(), new.gid(), new.mode())
        && is_empty(&upper)?
        && no_xattrs(&upper);
    if !pristine {
        fs::remove_dir_all(&upper)?;
        fs::create_dir(&upper)?;
    }
    rustix::fs::utimensat(
        rustix::fs::CWD,
        &upper,
        &rustix::fs::Timestamps {
            last_access: now(),
            last_modification: now(),
        },
        rustix::fs::AtFlags::SYMLINK_NOFOLLOW,
    )?;
    spare::park(dir, &slot)
}

/// The overlay's identity, which the kernel records on its upper directory at the first
/// mount (`uuid=on`; `user.` with `userxattr`, as rootless mounts it): dropped, so that the
/// next container's overlay gets one of its own.
const OVERLAY_UUID: [&str; 2] = ["trusted.overlay.uuid", "user.overlay.uuid"];

/// True when `dir` has no extended attributes once the overlay's own is removed.
fn no_xattrs(dir: &Path) -> bool {
    let mut buf = [0u8; 256];
    let Ok(n) = rustix::fs::llistxattr(dir, &mut buf) else {
        return false;
    };
    let names: Vec<&[u8]> = buf[..n]
        .split(|b| *b == 0)
        .filter(|s| !s.is_empty())
        .collect();
    match names.as_slice() {
        [] => true,
        [one] => OVERLAY_UUID
            .iter()
            .find(|u| u.as_bytes() == *one)
            .is_some_and(|u| rustix::fs::lremovexattr(dir, *u).is_ok()),
        _ => false,
    }
}

fn now() -> rustix::fs::Timespec {
    rustix::fs::Timespec {
        tv_sec: 0,
        tv_nsec: rustix::fs::UTIME_NOW,
    }
}

fn is_empty(dir: &Path) -> io::Result<bool> {
    Ok(fs::read_dir(dir)?.next().is_none())
}

fn remove_entry(p: &Path) -> io::Result<()> {
    if fs::symlink_metadata(p)?.is_dir() {
        fs::remove_dir_all(p)
    } else {
        fs::remove_file(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_removed_directory_is_emptied_and_used_again() {
        let root = tempfile::tempdir().unwrap();
        let containers = &root.path().join("containers");
        let a = containers.join("a");
        make(containers, &a).unwrap();
        fs::write(a.join("hosts"), "x").unwrap();
        fs::create_dir_all(a.join("work/work/incompat/volatile")).unwrap();
        let ino = fs::metadata(a.join("upper")).unwrap().ino();
        remove(containers, &a).unwrap();
        assert!(!a.exists());
        let b = containers.join("b");
        make(containers, &b).unwrap();
        assert_eq!(fs::metadata(b.join("upper")).unwrap().ino(), ino);
        let mut names: Vec<_> = fs::read_dir(&b)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, ["rootfs", "upper", "work"]);
        assert!(is_empty(&b.join("work")).unwrap());
        // No extended attribute reaches the next container: not the overlay's identity,
        // nor one a container set on its root.
        for names in [
            &["user.overlay.uuid"][..],
            &["user.overlay.uuid", "user.mine"],
        ] {
            let upper = b.join("upper");
            for n in names {
                rustix::fs::lsetxattr(&upper, *n, b"x", rustix::fs::XattrFlags::empty()).unwrap();
            }
            remove(containers, &b).unwrap();
            make(containers, &b).unwrap();
            assert_eq!(rustix::fs::llistxattr(&upper, &mut [0u8; 64]).unwrap(), 0);
        }
        // The overlay's leftovers wait in the trash for the next sweep.
        assert!(trash(containers).join("a-work/incompat/volatile").is_dir());
        sweep(containers);
        assert!(is_empty(&trash(containers)).unwrap());
    }

    #[test]
    fn a_changed_root_is_made_anew_and_a_busy_rootfs_is_not_kept() {
        use std::os::unix::fs::PermissionsExt;
        let root = tempfile::tempdir().unwrap();
        let containers = &root.path().join("containers");
        let a = containers.join("a");
        make(containers, &a).unwrap();
        fs::write(a.join("upper/secret"), "x").unwrap();
        fs::set_permissions(a.join("upper"), fs::Permissions::from_mode(0o700)).unwrap();
        remove(containers, &a).unwrap();
        let b = containers.join("b");
        make(containers, &b).unwrap();
        let up = fs::metadata(b.join("upper")).unwrap();
        assert_eq!(up.mode(), fs::metadata(b.join("rootfs")).unwrap().mode());
        assert!(is_empty(&b.join("upper")).unwrap());
        // Something in rootfs (a mount not undone): removed whole, not kept.
        fs::write(b.join("rootfs/x"), "").unwrap();
        remove(containers, &b).unwrap();
        assert!(!b.exists());
        assert!(!spares(containers).join("0").exists());
    }

    #[test]
    fn no_more_than_the_slots_are_kept() {
        let root = tempfile::tempdir().unwrap();
        let containers = &root.path().join("containers");
        let dirs: Vec<_> = (0..6).map(|n| containers.join(format!("c{n}"))).collect();
        for d in &dirs {
            fs::create_dir_all(d).unwrap();
            for s in SUBDIRS {
                fs::create_dir(d.join(s)).unwrap();
            }
        }
        for d in &dirs {
            remove(containers, d).unwrap();
            assert!(!d.exists());
        }
        // Four slots (and no trash: nothing was mounted).
        assert_eq!(fs::read_dir(spares(containers)).unwrap().count(), 4);
    }
}
