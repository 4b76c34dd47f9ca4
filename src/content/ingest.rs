//! Resumable ingest: a blob whose digest and size are known in advance (from a manifest) is
//! written to `ingest/<hex>.partial`, which survives the process, so an interrupted download
//! resumes where it stopped (HTTP Range). The whole file is hashed again on resume, so bytes
//! from an earlier run are verified like new ones; `commit` checks size and digest, fsyncs
//! and renames into `blobs/sha256/<hex>`.
//!
//! `ingest/<hex>.lock` (flock) gives one process at a time the right to write a partial:
//! a second pull of the same blob waits for the first and then finds the blob committed,
//! so it is fetched once. The holder unlinks the lock file before unlocking; a waiter that
//! wakes up on an unlinked lock file starts over (the classic lock-then-verify-inode dance).

use std::fs::{self, File};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;

use super::{ContentStore, StagedBlob};
use crate::digest::{Digest, Hasher};
use crate::error::{Error, IoContext, Result};

/// A blob being downloaded, with the ingest lock held.
pub struct Ingest {
    digest: Digest,
    size: u64,
    partial: PathBuf,
    file: File,
    hasher: Hasher,
    dest: PathBuf,
    lock_path: PathBuf,
    lock: Option<File>,
    /// Bytes already in the partial file when the ingest began (resumed).
    resumed: u64,
}

impl ContentStore {
    /// Start (or resume) ingesting `digest` of `size` bytes. Blocks while another process
    /// ingests the same blob. Returns None when the blob is already in the store.
    pub fn begin_ingest(&self, digest: &Digest, size: u64) -> Result<Option<Ingest>> {
        let lock_path = self.ingest.join(format!("{}.lock", digest.hex()));
        let lock = loop {
            let f = File::options()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&lock_path)
                .at(&lock_path)?;
            f.lock().at(&lock_path)?;
            // The previous holder unlinks the file before unlocking: make sure ours is
            // still the one in the directory, or take the new one.
            let ours = f.metadata().at(&lock_path)?.ino();
            match fs::metadata(&lock_path) {
                Ok(m) if m.ino() == ours => break f,
                _ => continue,
            }
        };
        if self.exists(digest) {
            let _ = fs::remove_file(&lock_path);
            drop(lock);
            return Ok(None);
        }
        let partial = self.ingest.join(format!("{}.partial", digest.hex()));
        let mut file = File::options()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&partial)
            .at(&partial)?;
        let mut len = file.metadata().at(&partial)?.len();
        if len > size {
            file.set_len(0).at(&partial)?;
            len = 0;
        }
        file.seek(SeekFrom::Start(0)).at(&partial)?;
        Ok(Some(Ingest {
            digest: digest.clone(),
            size,
            partial,
            file,
            hasher: Hasher::default(),
            dest: self.path(digest),
            lock_path,
            lock: Some(lock),
            resumed: len,
        }))
    }
}

impl ContentStore {
    /// Remove interrupted downloads (`ingest/*.partial`) that no process is writing, for
    /// `image prune`. Returns the bytes freed.
    pub fn clear_ingest(&self) -> Result<u64> {
        let mut freed = 0;
        let Ok(rd) = fs::read_dir(&self.ingest) else {
            return Ok(0);
        };
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let Some(hex) = name.strip_suffix(".partial") else {
                continue;
            };
            let lock_path = self.ingest.join(format!("{hex}.lock"));
            let lock = File::options()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&lock_path)
                .at(&lock_path)?;
            // A download holds the lock: leave its file alone.
            if lock.try_lock().is_err() {
                continue;
            }
            freed += e.metadata().map(|m| m.len()).unwrap_or(0);
            let p = e.path();
            fs::remove_file(&p).at(&p)?;
            let _ = fs::remove_file(&lock_path);
        }
        Ok(freed)
    }
}

impl Ingest {
    /// Bytes written so far (after `replay`, where the download continues).
    pub fn offset(&self) -> u64 {
        self.hasher.len()
    }

    /// Bytes an earlier, interrupted download left.
    pub fn resumed(&self) -> u64 {
        self.resumed
    }

    pub fn expected_size(&self) -> u64 {
        self.size
    }

    /// Hash the bytes an earlier run left (and hand them to `sink`, which unpacks the
    /// layer from its first byte); afterwards `offset()` is where the download continues.
    pub fn replay(&mut self, sink: &mut dyn FnMut(&[u8])) -> Result<()> {
        let mut left = self.resumed;
        let mut buf = vec![0u8; 256 << 10];
        while left > 0 {
            let want = buf.len().min(left as usize);
            let n = self.file.read(&mut buf[..want]).at(&self.partial)?;
            if n == 0 {
                break;
            }
            self.hasher.update(&buf[..n]);
            sink(&buf[..n]);
            left -= n as u64;
        }
        let at = self.hasher.len();
        self.file.set_len(at).at(&self.partial)?;
        self.file.seek(SeekFrom::Start(at)).at(&self.partial)?;
        Ok(())
    }

    /// Append downloaded bytes. More bytes than the descriptor's size is an error: a
    /// registry that sends an endless body is cut off here.
    pub fn write(&mut self, data: &[u8]) -> Result<()> {
        if self.hasher.len() + data.len() as u64 > self.size {
            return Err(Error::DigestMismatch {
                object: format!("blob {}", self.digest),
                expected: format!("{} bytes", self.size),
                actual: "more".into(),
            });
        }
        self.file.write_all(data).at(&self.partial)?;
        self.hasher.update(data);
        Ok(())
    }

    /// Throw the partial away (a registry that sent bytes which do not verify).
    pub fn discard(mut self) {
        let _ = fs::remove_file(&self.partial);
        self.release();
    }

    /// Verify size and digest, make the file durable and move it into the store.
    pub fn commit(mut self) -> Result<StagedBlob> {
        let len = self.hasher.len();
        let actual = std::mem::take(&mut self.hasher).finish();
        if len != self.size || actual != self.digest {
            let _ = fs::remove_file(&self.partial);
            self.release();
            return Err(Error::DigestMismatch {
                object: format!("blob {}", self.digest),
                expected: format!("{} ({} bytes)", self.digest, self.size),
                actual: format!("{actual} ({len} bytes)"),
            });
        }
        if crate::util::sync_enabled() {
            self.file.sync_all().at(&self.partial)?;
        }
        fs::rename(&self.partial, &self.dest).at(&self.dest)?;
        self.release();
        Ok(StagedBlob {
            path: self.dest.clone(),
            digest: self.digest.clone(),
            size: self.size,
        })
    }

    fn release(&mut self) {
        if let Some(l) = self.lock.take() {
            let _ = fs::remove_file(&self.lock_path);
            drop(l);
        }
    }
}

impl Drop for Ingest {
    fn drop(&mut self) {
        // An interrupted download keeps its partial file (the next pull resumes it).
        self.release();
    }
}
