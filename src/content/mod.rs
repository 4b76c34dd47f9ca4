//! The content store: blobs (manifests, configs, compressed layers) by sha256 digest under
//! `blobs/sha256/<hex>`.
//!
//! Writes go to a temporary file in a scratch directory on the same file system, are hashed
//! while written, and are renamed into place only when complete and verified
//! (ingest -> verify -> commit). A blob under its final name is therefore always complete.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use crate::digest::{Digest, HashWriter, Hasher};
use crate::error::{Error, IoContext, Result};

mod ingest;

#[derive(Clone, Debug)]
pub struct ContentStore {
    dir: PathBuf,
    /// `root/ingest`: downloads in progress (`<hex>.partial`) and their locks.
    ingest: PathBuf,
}

impl ContentStore {
    /// `root` is the store root; blobs live in `root/blobs/sha256`.
    pub fn new(root: &Path) -> Result<ContentStore> {
        let dir = root.join("blobs/sha256");
        fs::create_dir_all(&dir).at(&dir)?;
        let ingest = root.join("ingest");
        fs::create_dir_all(&ingest).at(&ingest)?;
        Ok(ContentStore { dir, ingest })
    }

    pub fn path(&self, d: &Digest) -> PathBuf {
        self.dir.join(d.hex())
    }

    pub fn exists(&self, d: &Digest) -> bool {
        self.path(d).is_file()
    }

    pub fn open(&self, d: &Digest) -> Result<File> {
        let p = self.path(d);
        File::open(&p).at(p)
    }

    /// Size of a stored blob.
    pub fn size(&self, d: &Digest) -> Result<u64> {
        let p = self.path(d);
        Ok(fs::metadata(&p).at(&p)?.len())
    }

    /// Read a small blob (manifest, config) whole, refusing anything larger than `limit`.
    pub fn read(&self, d: &Digest, limit: u64) -> Result<Vec<u8>> {
        let p = self.path(d);
        let f = File::open(&p).at(&p)?;
        let mut out = Vec::new();
        f.take(limit + 1).read_to_end(&mut out).at(&p)?;
        if out.len() as u64 > limit {
            return Err(Error::Store {
                path: p,
                msg: format!("blob larger than {limit} bytes"),
            });
        }
        if Digest::of(&out) != *d {
            return Err(Error::DigestMismatch {
                object: format!("blob {d}"),
                expected: d.to_string(),
                actual: Digest::of(&out).to_string(),
            });
        }
        Ok(out)
    }

    /// Start writing a blob whose temporary file lives in `scratch` (same file system).
    pub fn writer(&self, scratch: &Path) -> Result<BlobWriter> {
        let tmp = scratch.join(format!("blob-{}", crate::util::unique_suffix()));
        let f = File::options()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .at(&tmp)?;
        Ok(BlobWriter {
            w: HashWriter {
                inner: io::BufWriter::with_capacity(256 << 10, f),
                hasher: Hasher::default(),
            },
            tmp,
            dir: self.dir.clone(),
        })
    }

    /// Store bytes (a manifest or config) and return their digest.
    pub fn put(&self, scratch: &Path, data: &[u8]) -> Result<Digest> {
        let d = Digest::of(data);
        if self.exists(&d) {
            return Ok(d);
        }
        let mut w = self.writer(scratch)?;
        w.write_all(data).at(&w.tmp)?;
        w.commit(Some(&d))
    }

    pub fn remove(&self, d: &Digest) -> Result<()> {
        let p = self.path(d);
        match fs::remove_file(&p) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Error::io(p, e)),
        }
    }

    /// Every stored digest (for garbage collection).
    pub fn list(&self) -> Result<Vec<Digest>> {
        let mut out = Vec::new();
        for e in fs::read_dir(&self.dir).at(&self.dir)? {
            let e = e.at(&self.dir)?;
            if let Some(name) = e.file_name().to_str()
                && let Ok(d) = Digest::from_hex(name)
            {
                out.push(d);
            }
        }
        Ok(out)
    }
}

/// A blob being written; `commit` verifies and renames it into place.
pub struct BlobWriter {
    w: HashWriter<io::BufWriter<File>>,
    tmp: PathBuf,
    dir: PathBuf,
}

impl BlobWriter {
    pub fn written(&self) -> u64 {
        self.w.hasher.len()
    }

    pub fn temp_path(&self) -> &Path {
        &self.tmp
    }

    /// Finish: check the digest when one is expected, then move the blob into place.
    /// Returns the digest and size.
    pub fn commit(self, expected: Option<&Digest>) -> Result<Digest> {
        let (digest, _) = self.finish_to(expected)?;
        Ok(digest)
    }

    fn finish_to(self, expected: Option<&Digest>) -> Result<(Digest, u64)> {
        let BlobWriter { w, tmp, dir } = self;
        let HashWriter { inner, hasher } = w;
        inner
            .into_inner()
            .map_err(|e| Error::io(&tmp, e.into_error()))?;
        let size = hasher.len();
        let digest = hasher.finish();
        if let Some(exp) = expected
            && *exp != digest
        {
            let _ = fs::remove_file(&tmp);
            return Err(Error::DigestMismatch {
                object: format!("blob {exp}"),
                expected: exp.to_string(),
                actual: digest.to_string(),
            });
        }
        let dest = dir.join(digest.hex());
        fs::rename(&tmp, &dest).at(&dest)?;
        Ok((digest, size))
    }

    /// Like `commit`, but also return the size.
    pub fn commit_sized(self, expected: Option<&Digest>) -> Result<(Digest, u64)> {
        self.finish_to(expected)
    }

    /// Finish writing but leave the blob in scratch: its digest is known, and
    /// `ContentStore::commit_staged` moves it into place later (if it is still wanted).
    pub fn stage(self) -> Result<StagedBlob> {
        let BlobWriter { w, tmp, .. } = self;
        let HashWriter { inner, hasher } = w;
        inner
            .into_inner()
            .map_err(|e| Error::io(&tmp, e.into_error()))?;
        let size = hasher.len();
        Ok(StagedBlob {
            path: tmp,
            digest: hasher.finish(),
            size,
        })
    }
}

/// A complete, hashed blob still in scratch.
#[derive(Clone, Debug)]
pub struct StagedBlob {
    pub path: PathBuf,
    pub digest: Digest,
    pub size: u64,
}

impl ContentStore {
    /// Move a staged blob into place. A blob already in place is complete by construction,
    /// so it is kept and the staged copy is left for the scratch cleanup.
    pub fn commit_staged(&self, b: &StagedBlob) -> Result<()> {
        let dest = self.path(&b.digest);
        if dest.exists() {
            return Ok(());
        }
        fs::rename(&b.path, &dest).at(&dest)
    }
}

impl Write for BlobWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.w.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.w.flush()
    }
}
