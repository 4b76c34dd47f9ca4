//! Small helpers shared by the store modules.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{Error, IoContext, Result};

/// A name unique to this process and call: pid, a counter and the clock.
pub fn unique_suffix() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{}-{n}-{t:x}", std::process::id())
}

/// A scratch directory under `<root>/tmp`, owned by one process for its lifetime.
///
/// Its lock file is held (flock) while the process lives, so `Scratch::sweep` can tell the
/// leftovers of a killed process (lock free) from the work of a live one (lock held) and
/// remove only the former. Dropping a `Scratch` removes it.
pub struct Scratch {
    pub dir: PathBuf,
    lock_path: PathBuf,
    _lock: File,
}

impl Scratch {
    pub fn new(root: &Path) -> Result<Scratch> {
        let base = root.join("tmp");
        std::fs::create_dir_all(&base).at(&base)?;
        let name = unique_suffix();
        let lock_path = base.join(format!("{name}.lock"));
        let lock = File::create(&lock_path).at(&lock_path)?;
        lock.lock().at(&lock_path)?;
        let dir = base.join(&name);
        std::fs::create_dir(&dir).at(&dir)?;
        Ok(Scratch {
            dir,
            lock_path,
            _lock: lock,
        })
    }

    /// Remove the scratch directories of processes that died. Returns bytes freed (approx.).
    pub fn sweep(root: &Path) -> Result<()> {
        let base = root.join("tmp");
        let Ok(rd) = std::fs::read_dir(&base) else {
            return Ok(());
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.extension().is_some_and(|x| x == "lock") {
                let Ok(f) = File::options().write(true).open(&p) else {
                    continue;
                };
                if f.try_lock().is_ok() {
                    let dir = p.with_extension("");
                    if dir.exists() {
                        std::fs::remove_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
                    }
                    let _ = std::fs::remove_file(&p);
                }
            }
        }
        Ok(())
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
        let _ = std::fs::remove_file(&self.lock_path);
    }
}

/// Flush everything written to the file system holding `path` (one `syncfs` instead of an
/// fsync per file): called before results are renamed into place and recorded.
pub fn sync_fs(path: &Path) -> Result<()> {
    let f = File::open(path).at(path)?;
    rustix::fs::syncfs(&f).at(path)
}

/// Set to skip `sync_fs` (tests and benchmarks on throwaway stores): `BARGE_NO_SYNC=1`.
pub fn sync_enabled() -> bool {
    std::env::var_os("BARGE_NO_SYNC").is_none_or(|v| v.is_empty() || v == "0")
}

/// Write a small file atomically: temp file beside it, then rename.
pub fn write_atomic(path: &Path, data: &[u8]) -> Result<()> {
    let tmp = path.with_extension(format!("tmp-{}", unique_suffix()));
    std::fs::write(&tmp, data).at(&tmp)?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::io(path, e)
    })
}

/// Docker's rule for container, volume and network names: `[a-zA-Z0-9][a-zA-Z0-9_.-]*`,
/// at most `max_len` bytes.
pub fn is_docker_name(name: &str, max_len: usize) -> bool {
    name.len() <= max_len
        && name
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'-')
}

/// Bytes of the regular files under `dir` (not following symlinks; hard links counted once
/// per name, as `du --count-links` would).
pub fn dir_size(dir: &Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            match e.file_type() {
                Ok(t) if t.is_dir() => stack.push(e.path()),
                Ok(t) if t.is_file() => total += e.metadata().map(|m| m.len()).unwrap_or(0),
                _ => {}
            }
        }
    }
    total
}
