//! Slots of spare directories: a directory that would be removed is emptied by its owner
//! and parked in a free slot instead, and the next one that would be made is taken from a
//! slot. On ext4 every directory takes a block, and on a disk mounted with `discard` freeing
//! it is a synchronous discard request (0.1-0.5 ms, far more under load); without a journal
//! each new inode is also searched for past the recently deleted ones. The runtime keeps
//! its state directories this way (`state.rs`), and barge its container directories
//! (`container/spare.rs`).

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// Slots per kind: enough for containers started in parallel.
const SLOTS: usize = 4;

fn slots(spares: &Path) -> impl Iterator<Item = PathBuf> + '_ {
    (0..SLOTS).map(|n| spares.join(n.to_string()))
}

/// Rename a parked directory from `spares` to `dir`; false when none is left (a slot that
/// another process emptied first is skipped).
pub(crate) fn take(spares: &Path, dir: &Path) -> bool {
    slots(spares).any(|s| fs::rename(s, dir).is_ok())
}

/// A free slot in `spares`, to check for before emptying a directory in vain.
pub(crate) fn free_slot(spares: &Path) -> Option<PathBuf> {
    slots(spares).find(|p| fs::symlink_metadata(p).is_err())
}

/// Remove `dir` unless `parked` says it went to a slot (failing to park it, too). A
/// directory already gone is no error.
pub(crate) fn remove_unless_parked(dir: &Path, parked: io::Result<bool>) -> io::Result<()> {
    match parked {
        Ok(true) => Ok(()),
        _ => match fs::remove_dir_all(dir) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            r => r,
        },
    }
}

/// Park the emptied `dir` in `slot`; false when another process filled it meanwhile.
pub(crate) fn park(dir: &Path, slot: &Path) -> io::Result<bool> {
    if let Some(spares) = slot.parent() {
        fs::create_dir_all(spares)?;
    }
    // Not over a filled slot: a rename onto an empty directory replaces (removes) it.
    match rustix::fs::renameat_with(
        rustix::fs::CWD,
        dir,
        rustix::fs::CWD,
        slot,
        rustix::fs::RenameFlags::NOREPLACE,
    ) {
        Ok(()) => Ok(true),
        Err(rustix::io::Errno::EXIST) => Ok(false),
        Err(e) => Err(e.into()),
    }
}
