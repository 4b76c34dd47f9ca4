//! The store: metadata in SQLite (WAL) beside the blob and layer directories.
//!
//! ```text
//! <root>/barge.db              images, tags, layers, which blobs each image holds
//! <root>/blobs/sha256/<hex>    content store (see content/)
//! <root>/layers/<chain-hex>/   one unpacked layer: diff/ in overlay format
//! <root>/tmp/<name>[.lock]     scratch of a running (or killed) process
//! <root>/locks/gc.lock         shared by writers that add layers, exclusive for deletion
//! ```
//!
//! Invariants: a row refers only to complete files (files are renamed into place and synced
//! before their rows are committed); files without rows are garbage that only a holder of
//! the exclusive gc lock may delete, because a concurrent import may be about to adopt a
//! complete layer directory that it found already in place.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, params};

use crate::content::ContentStore;
use crate::digest::Digest;
use crate::error::{Error, IoContext, Result};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS layers (
    chain_id   TEXT PRIMARY KEY,
    diff_id    TEXT NOT NULL,
    parent     TEXT,
    blob       TEXT,
    media_type TEXT,
    blob_size  INTEGER,
    size       INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS layers_blob ON layers(blob);
CREATE TABLE IF NOT EXISTS images (
    id            TEXT PRIMARY KEY,
    manifest      TEXT,
    manifest_type TEXT,
    created       TEXT,
    architecture  TEXT,
    os            TEXT,
    variant       TEXT,
    size          INTEGER NOT NULL,
    added         INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS image_layers (
    image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    idx      INTEGER NOT NULL,
    chain_id TEXT NOT NULL REFERENCES layers(chain_id),
    PRIMARY KEY (image_id, idx)
);
CREATE INDEX IF NOT EXISTS image_layers_chain ON image_layers(chain_id);
CREATE TABLE IF NOT EXISTS image_blobs (
    image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    digest   TEXT NOT NULL,
    PRIMARY KEY (image_id, digest)
);
CREATE INDEX IF NOT EXISTS image_blobs_digest ON image_blobs(digest);
CREATE TABLE IF NOT EXISTS tags (
    name     TEXT PRIMARY KEY,
    image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS tags_image ON tags(image_id);
CREATE TABLE IF NOT EXISTS repo_digests (
    name     TEXT PRIMARY KEY,
    image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE
);
";

/// Containers (version 2). `state` is created|running|exited; `pid`/`pid_start` identify
/// the process that owns a running container (its init, or the barge process supervising it)
/// so a later barge can tell a live container from one whose barge was killed.
const SCHEMA_V2: &str = "
CREATE TABLE IF NOT EXISTS containers (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    image_id    TEXT NOT NULL,
    image_name  TEXT NOT NULL,
    command     TEXT NOT NULL,
    created     INTEGER NOT NULL,
    state       TEXT NOT NULL,
    pid         INTEGER,
    pid_start   INTEGER,
    exit_code   INTEGER,
    auto_remove INTEGER NOT NULL DEFAULT 0,
    config      TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS containers_image ON containers(image_id);
";

/// Version 3: what `ps`, `inspect` and restart policies need.
const SCHEMA_V3: &str = "
ALTER TABLE containers ADD COLUMN started_at TEXT;
ALTER TABLE containers ADD COLUMN finished_at TEXT;
ALTER TABLE containers ADD COLUMN oom_killed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE containers ADD COLUMN restart_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE containers ADD COLUMN stop_requested INTEGER NOT NULL DEFAULT 0;
";

/// Version 4: pods. A pod's network namespace is a bridge attachment keyed by the pod's
/// id (like a container's); `infra_pid`/`infra_start` identify its `barge __pause` process
/// while it runs. `containers.pod` names the pod a container belongs to.
const SCHEMA_V4: &str = "
CREATE TABLE IF NOT EXISTS pods (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    created     INTEGER NOT NULL,
    infra_pid   INTEGER,
    infra_start INTEGER,
    config      TEXT NOT NULL DEFAULT '{}'
);
ALTER TABLE containers ADD COLUMN pod TEXT;
CREATE INDEX IF NOT EXISTS containers_pod ON containers(pod);
";

/// A run writes the container's row twice (made, then removed), and each write rewrites a
/// page of every index of the table. These two served lookups of a table that holds a few
/// rows (by image for `rmi`, by pod): scans do. Without them a run writes 6 pages to the
/// WAL instead of 10, so checkpoints (two fsyncs each) come less often.
const SCHEMA_V5: &str = "
DROP INDEX IF EXISTS containers_image;
DROP INDEX IF EXISTS containers_pod;
";

/// One pod's record.
#[derive(Clone, Debug)]
pub struct PodRecord {
    pub id: String,
    pub name: String,
    pub created: i64,
    /// The infra process (pid, start time) while it runs.
    pub infra_pid: Option<i64>,
    pub infra_start: Option<i64>,
    /// Hostname, labels, published ports, network (JSON, see `container::pod`).
    pub config: String,
}

/// One container's record.
#[derive(Clone, Debug)]
pub struct ContainerRecord {
    pub id: String,
    pub name: String,
    pub image_id: Digest,
    pub image_name: String,
    pub command: String,
    pub created: i64,
    pub state: String,
    pub pid: Option<i64>,
    pub pid_start: Option<i64>,
    pub exit_code: Option<i64>,
    pub auto_remove: bool,
    pub config: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub oom_killed: bool,
    pub restart_count: i64,
    pub stop_requested: bool,
    /// The pod it belongs to (its id).
    pub pod: Option<String>,
}

/// One unpacked layer.
#[derive(Clone, Debug)]
pub struct LayerRecord {
    pub chain_id: Digest,
    pub diff_id: Digest,
    pub parent: Option<Digest>,
    /// The blob it was unpacked from, when the store keeps it.
    pub blob: Option<Digest>,
    pub media_type: Option<String>,
    pub blob_size: Option<u64>,
    /// Bytes of file content, recorded at unpack time.
    pub size: u64,
}

/// One image (its ID is the digest of its config).
#[derive(Clone, Debug)]
pub struct ImageRecord {
    pub id: Digest,
    pub manifest: Option<Digest>,
    pub manifest_type: Option<String>,
    pub created: Option<String>,
    pub architecture: String,
    pub os: String,
    pub variant: Option<String>,
    pub size: u64,
    pub added: i64,
    /// Stored tag names (`docker.io/library/alpine:latest`).
    pub tags: Vec<String>,
    /// `name@sha256:...` from registries.
    pub repo_digests: Vec<String>,
}

pub struct Store {
    pub root: PathBuf,
    pub content: ContentStore,
    db: Connection,
    db_path: PathBuf,
}

/// A held file lock; released on drop.
pub struct LockGuard(#[allow(dead_code)] File);

/// What [`Store::completion_names`] finds.
#[derive(Debug, Default)]
pub struct CompletionNames {
    pub images: Vec<String>,
    pub containers: Vec<String>,
    pub pods: Vec<String>,
}

impl Store {
    /// Open (creating when needed) the store at `root`.
    pub fn open(root: &Path) -> Result<Store> {
        for sub in ["layers", "tmp", "locks"] {
            let p = root.join(sub);
            fs::create_dir_all(&p).at(&p)?;
        }
        let content = ContentStore::new(root)?;
        let db_path = root.join("barge.db");
        let dberr = |e: rusqlite::Error| Error::Db {
            path: db_path.clone(),
            source: Box::new(e),
        };
        let mut db = Connection::open(&db_path).map_err(dberr)?;
        db.busy_timeout(Duration::from_secs(60)).map_err(dberr)?;
        // WAL lets readers run while a writer commits; NORMAL sync is durable at checkpoints
        // and never corrupts, which is the trade SQLite recommends for WAL.
        //
        // Switching a new database to WAL takes a lock that SQLite does not wait for (the
        // busy handler is not called), so two barge processes creating the same store at
        // once (two pulls into a fresh root) would see "database is locked": retry.
        let mut tries = 0;
        loop {
            match db.execute_batch(
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;
                 PRAGMA wal_autocheckpoint=64; PRAGMA journal_size_limit=1048576;",
            ) {
                Ok(()) => break,
                Err(rusqlite::Error::SqliteFailure(e, _))
                    if e.code == rusqlite::ErrorCode::DatabaseBusy && tries < 500 =>
                {
                    tries += 1;
                    std::thread::sleep(Duration::from_millis(10));
                }
                Err(e) => return Err(dberr(e)),
            }
        }
        // Closing the last connection would checkpoint the WAL and fsync: a cost on every
        // short command. Instead the commit that takes the WAL past 64 pages (the
        // wal_autocheckpoint above: 256 KiB; a long WAL costs every later command a
        // recovery pass that reads it whole) checkpoints, without truncating: the next
        // writer starts over at the front of the file, whose blocks stay allocated. Truncating freed them (a discard on some disks, measured at
        // 0.5-5 ms) only for the next commands to allocate them again.
        db.set_db_config(
            rusqlite::config::DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE,
            true,
        )
        .map_err(dberr)?;
        let version: i64 = db
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(dberr)?;
        if version < 5 {
            migrate(&mut db).map_err(dberr)?;
        }
        crate::util::Scratch::sweep(root)?;
        Ok(Store {
            root: root.to_path_buf(),
            content,
            db,
            db_path,
        })
    }

    /// Names for shell completion: image tags, container names and pod names, read without
    /// creating, migrating or locking anything. Completion runs on every TAB, so it must
    /// never block or write: read-only, a 100 ms busy timeout, and nothing at all when there
    /// is no store.
    pub fn completion_names(root: &Path) -> CompletionNames {
        let db_path = root.join("barge.db");
        if !db_path.is_file() {
            return CompletionNames::default();
        }
        let read = || -> rusqlite::Result<CompletionNames> {
            let db = Connection::open_with_flags(
                &db_path,
                rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY
                    | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )?;
            db.busy_timeout(Duration::from_millis(100))?;
            let column = |sql: &str| -> rusqlite::Result<Vec<String>> {
                let mut stmt = db.prepare(sql)?;
                let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
                // A table missing (an old schema) just gives no names.
                Ok(rows.filter_map(|r| r.ok()).collect())
            };
            Ok(CompletionNames {
                images: column("SELECT name FROM tags ORDER BY name").unwrap_or_default(),
                containers: column("SELECT name FROM containers ORDER BY name").unwrap_or_default(),
                pods: column("SELECT name FROM pods ORDER BY name").unwrap_or_default(),
            })
        };
        read().unwrap_or_default()
    }

    fn dberr(&self, e: rusqlite::Error) -> Error {
        Error::Db {
            path: self.db_path.clone(),
            source: Box::new(e),
        }
    }

    pub fn layer_dir(&self, chain: &Digest) -> PathBuf {
        self.root.join("layers").join(chain.hex())
    }

    fn lock(&self, exclusive: bool, wait: bool) -> Result<Option<LockGuard>> {
        let p = self.root.join("locks/gc.lock");
        let f = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&p)
            .at(&p)?;
        if exclusive && !wait {
            return match f.try_lock() {
                Ok(()) => Ok(Some(LockGuard(f))),
                Err(_) => Ok(None),
            };
        }
        if exclusive { f.lock() } else { f.lock_shared() }.at(&p)?;
        Ok(Some(LockGuard(f)))
    }

    /// Held by every process that adds layers, for its whole run.
    pub fn lock_shared(&self) -> Result<LockGuard> {
        Ok(self.lock(false, true)?.expect("blocking lock"))
    }

    /// Held to delete unreferenced layer directories and blobs.
    pub fn lock_exclusive(&self) -> Result<LockGuard> {
        Ok(self.lock(true, true)?.expect("blocking lock"))
    }

    /// Like `lock_exclusive`, but gives up at once when an import is running.
    pub fn try_lock_exclusive(&self) -> Result<Option<LockGuard>> {
        self.lock(true, false)
    }

    pub fn layer(&self, chain: &Digest) -> Result<Option<LayerRecord>> {
        self.db
            .query_row(
                "SELECT chain_id, diff_id, parent, blob, media_type, blob_size, size FROM layers WHERE chain_id=?1",
                [chain.as_str()],
                layer_row,
            )
            .optional()
            .map_err(|e| self.dberr(e))
    }

    /// The diff ID a blob was found to have when it was last unpacked.
    pub fn diff_id_of_blob(&self, blob: &Digest) -> Result<Option<Digest>> {
        let s: Option<String> = self
            .db
            .query_row(
                "SELECT diff_id FROM layers WHERE blob=?1 LIMIT 1",
                [blob.as_str()],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.dberr(e))?;
        Ok(s.and_then(|s| Digest::parse(&s).ok()))
    }

    /// Record an image with its layers, blobs and tags in one transaction. Tags that pointed
    /// to other images move to this one.
    pub fn commit_image(
        &mut self,
        image: &ImageRecord,
        layers: &[LayerRecord],
        blobs: &[Digest],
    ) -> Result<()> {
        let path = self.db_path.clone();
        let dberr = |e: rusqlite::Error| Error::Db {
            path: path.clone(),
            source: Box::new(e),
        };
        let tx = self
            .db
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(dberr)?;
        for l in layers {
            tx.execute(
                "INSERT OR IGNORE INTO layers (chain_id, diff_id, parent, blob, media_type, blob_size, size)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    l.chain_id.as_str(),
                    l.diff_id.as_str(),
                    l.parent.as_ref().map(|d| d.as_str()),
                    l.blob.as_ref().map(|d| d.as_str()),
                    l.media_type,
                    l.blob_size.map(|s| s as i64),
                    l.size as i64
                ],
            )
            .map_err(dberr)?;
            // A layer first recorded without its blob gains it now.
            if let Some(b) = &l.blob {
                tx.execute(
                    "UPDATE layers SET blob=?2, media_type=?3, blob_size=?4 WHERE chain_id=?1 AND blob IS NULL",
                    params![l.chain_id.as_str(), b.as_str(), l.media_type, l.blob_size.map(|s| s as i64)],
                )
                .map_err(dberr)?;
            }
        }
        tx.execute(
            "INSERT INTO images (id, manifest, manifest_type, created, architecture, os, variant, size, added)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
             ON CONFLICT(id) DO UPDATE SET manifest=COALESCE(excluded.manifest, manifest),
               manifest_type=COALESCE(excluded.manifest_type, manifest_type)",
            params![
                image.id.as_str(),
                image.manifest.as_ref().map(|d| d.as_str()),
                image.manifest_type,
                image.created,
                image.architecture,
                image.os,
                image.variant,
                image.size as i64,
                image.added
            ],
        )
        .map_err(dberr)?;
        tx.execute(
            "DELETE FROM image_layers WHERE image_id=?1",
            [image.id.as_str()],
        )
        .map_err(dberr)?;
        for (i, l) in layers.iter().enumerate() {
            tx.execute(
                "INSERT INTO image_layers (image_id, idx, chain_id) VALUES (?1, ?2, ?3)",
                params![image.id.as_str(), i as i64, l.chain_id.as_str()],
            )
            .map_err(dberr)?;
        }
        for b in blobs {
            tx.execute(
                "INSERT OR IGNORE INTO image_blobs (image_id, digest) VALUES (?1, ?2)",
                params![image.id.as_str(), b.as_str()],
            )
            .map_err(dberr)?;
        }
        for t in &image.tags {
            tx.execute(
                "INSERT INTO tags (name, image_id) VALUES (?1, ?2)
                 ON CONFLICT(name) DO UPDATE SET image_id=excluded.image_id",
                params![t, image.id.as_str()],
            )
            .map_err(dberr)?;
        }
        for t in &image.repo_digests {
            tx.execute(
                "INSERT INTO repo_digests (name, image_id) VALUES (?1, ?2)
                 ON CONFLICT(name) DO UPDATE SET image_id=excluded.image_id",
                params![t, image.id.as_str()],
            )
            .map_err(dberr)?;
        }
        tx.commit().map_err(dberr)
    }

    /// All images with their tags, newest first.
    pub fn images(&self) -> Result<Vec<ImageRecord>> {
        let mut stmt = self
            .db
            .prepare_cached(
                "SELECT id, manifest, manifest_type, created, architecture, os, variant, size, added,
                   (SELECT group_concat(name, char(10)) FROM tags WHERE image_id=images.id),
                   (SELECT group_concat(name, char(10)) FROM repo_digests WHERE image_id=images.id)
                 FROM images ORDER BY created DESC, added DESC",
            )
            .map_err(|e| self.dberr(e))?;
        let rows = stmt.query_map([], image_row).map_err(|e| self.dberr(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>()
            .map_err(|e| self.dberr(e))
    }

    pub fn image(&self, id: &Digest) -> Result<Option<ImageRecord>> {
        self.db
            .query_row(
                "SELECT id, manifest, manifest_type, created, architecture, os, variant, size, added,
                   (SELECT group_concat(name, char(10)) FROM tags WHERE image_id=images.id),
                   (SELECT group_concat(name, char(10)) FROM repo_digests WHERE image_id=images.id)
                 FROM images WHERE id=?1",
                [id.as_str()],
                image_row,
            )
            .optional()
            .map_err(|e| self.dberr(e))
    }

    pub fn image_by_tag(&self, name: &str) -> Result<Option<Digest>> {
        self.query_digest("SELECT image_id FROM tags WHERE name=?1", name)
    }

    pub fn image_by_repo_digest(&self, name: &str) -> Result<Option<Digest>> {
        self.query_digest("SELECT image_id FROM repo_digests WHERE name=?1", name)
    }

    /// Image IDs whose hex starts with `prefix`.
    pub fn images_by_prefix(&self, prefix: &str) -> Result<Vec<Digest>> {
        let mut stmt = self
            .db
            .prepare_cached("SELECT id FROM images WHERE id >= ?1 AND id < ?2")
            .map_err(|e| self.dberr(e))?;
        let lo = format!("sha256:{prefix}");
        let hi = format!("sha256:{prefix}\u{7f}");
        let rows = stmt
            .query_map([lo, hi], |r| r.get::<_, String>(0))
            .map_err(|e| self.dberr(e))?;
        let mut out = Vec::new();
        for r in rows {
            if let Ok(d) = Digest::parse(&r.map_err(|e| self.dberr(e))?) {
                out.push(d);
            }
        }
        Ok(out)
    }

    fn query_digest(&self, sql: &str, arg: &str) -> Result<Option<Digest>> {
        let s: Option<String> = self
            .db
            .query_row(sql, [arg], |r| r.get(0))
            .optional()
            .map_err(|e| self.dberr(e))?;
        Ok(s.and_then(|s| Digest::parse(&s).ok()))
    }

    /// The layers of an image, bottom first.
    pub fn image_layers(&self, id: &Digest) -> Result<Vec<LayerRecord>> {
        let mut stmt = self
            .db
            .prepare_cached(
                "SELECT l.chain_id, l.diff_id, l.parent, l.blob, l.media_type, l.blob_size, l.size
                 FROM image_layers il JOIN layers l ON l.chain_id = il.chain_id
                 WHERE il.image_id=?1 ORDER BY il.idx",
            )
            .map_err(|e| self.dberr(e))?;
        let rows = stmt
            .query_map([id.as_str()], layer_row)
            .map_err(|e| self.dberr(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>()
            .map_err(|e| self.dberr(e))
    }

    /// Point `name` (stored form) at `id`.
    pub fn tag(&mut self, name: &str, id: &Digest) -> Result<()> {
        self.db
            .execute(
                "INSERT INTO tags (name, image_id) VALUES (?1, ?2)
                 ON CONFLICT(name) DO UPDATE SET image_id=excluded.image_id",
                params![name, id.as_str()],
            )
            .map(|_| ())
            .map_err(|e| self.dberr(e))
    }

    /// Remove a tag; true when it existed.
    pub fn untag(&mut self, name: &str) -> Result<bool> {
        let n = self
            .db
            .execute("DELETE FROM tags WHERE name=?1", [name])
            .map_err(|e| self.dberr(e))?;
        self.db
            .execute("DELETE FROM repo_digests WHERE name=?1", [name])
            .map_err(|e| self.dberr(e))?;
        Ok(n > 0)
    }

    /// Delete an image record and the layer rows no other image uses. Returns the chain
    /// IDs and blobs that became unreferenced, for the caller to delete from disk.
    pub fn delete_image(&mut self, id: &Digest) -> Result<(Vec<Digest>, Vec<Digest>)> {
        let path = self.db_path.clone();
        let dberr = |e: rusqlite::Error| Error::Db {
            path: path.clone(),
            source: Box::new(e),
        };
        let tx = self
            .db
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(dberr)?;
        let chains: Vec<String> = {
            let mut s = tx
                .prepare("SELECT chain_id FROM image_layers WHERE image_id=?1")
                .map_err(dberr)?;
            s.query_map([id.as_str()], |r| r.get(0))
                .map_err(dberr)?
                .collect::<rusqlite::Result<_>>()
                .map_err(dberr)?
        };
        let blobs: Vec<String> = {
            let mut s = tx
                .prepare("SELECT digest FROM image_blobs WHERE image_id=?1")
                .map_err(dberr)?;
            s.query_map([id.as_str()], |r| r.get(0))
                .map_err(dberr)?
                .collect::<rusqlite::Result<_>>()
                .map_err(dberr)?
        };
        tx.execute("DELETE FROM images WHERE id=?1", [id.as_str()])
            .map_err(dberr)?;
        let mut freed_layers = Vec::new();
        for c in chains {
            let used: i64 = tx
                .query_row(
                    "SELECT count(*) FROM image_layers WHERE chain_id=?1",
                    [&c],
                    |r| r.get(0),
                )
                .map_err(dberr)?;
            if used == 0 {
                tx.execute("DELETE FROM layers WHERE chain_id=?1", [&c])
                    .map_err(dberr)?;
                if let Ok(d) = Digest::parse(&c) {
                    freed_layers.push(d);
                }
            }
        }
        let mut freed_blobs = Vec::new();
        for b in blobs {
            let used: i64 = tx
                .query_row(
                    "SELECT count(*) FROM image_blobs WHERE digest=?1",
                    [&b],
                    |r| r.get(0),
                )
                .map_err(dberr)?;
            if used == 0
                && let Ok(d) = Digest::parse(&b)
            {
                freed_blobs.push(d);
            }
        }
        tx.commit().map_err(dberr)?;
        Ok((freed_layers, freed_blobs))
    }

    /// Every chain ID with a row.
    pub fn all_layers(&self) -> Result<Vec<LayerRecord>> {
        let mut stmt = self
            .db
            .prepare_cached(
                "SELECT chain_id, diff_id, parent, blob, media_type, blob_size, size FROM layers",
            )
            .map_err(|e| self.dberr(e))?;
        let rows = stmt.query_map([], layer_row).map_err(|e| self.dberr(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>()
            .map_err(|e| self.dberr(e))
    }

    /// Every blob digest some image holds.
    pub fn referenced_blobs(&self) -> Result<std::collections::HashSet<String>> {
        let mut stmt = self
            .db
            .prepare_cached("SELECT DISTINCT digest FROM image_blobs")
            .map_err(|e| self.dberr(e))?;
        let rows = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .map_err(|e| self.dberr(e))?;
        rows.collect::<rusqlite::Result<_>>()
            .map_err(|e| self.dberr(e))
    }

    /// Delete layer rows no image uses (left by a crash between steps). Returns them.
    pub fn delete_unused_layer_rows(&mut self) -> Result<Vec<Digest>> {
        let mut stmt = self
            .db
            .prepare("SELECT chain_id FROM layers WHERE chain_id NOT IN (SELECT chain_id FROM image_layers)")
            .map_err(|e| self.dberr(e))?;
        let ids: Vec<String> = stmt
            .query_map([], |r| r.get(0))
            .map_err(|e| self.dberr(e))?
            .collect::<rusqlite::Result<_>>()
            .map_err(|e| self.dberr(e))?;
        drop(stmt);
        for c in &ids {
            self.db
                .execute("DELETE FROM layers WHERE chain_id=?1", [c])
                .map_err(|e| self.dberr(e))?;
        }
        Ok(ids.iter().filter_map(|c| Digest::parse(c).ok()).collect())
    }

    /// Record a new container; fails with a conflict when the name is taken.
    pub fn insert_container(&mut self, c: &ContainerRecord) -> Result<()> {
        let r = self.db.execute(
            "INSERT INTO containers (id, name, image_id, image_name, command, created, state, pid,
               pid_start, exit_code, auto_remove, config, pod)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            params![
                c.id,
                c.name,
                c.image_id.as_str(),
                c.image_name,
                c.command,
                c.created,
                c.state,
                c.pid,
                c.pid_start,
                c.exit_code,
                c.auto_remove,
                c.config,
                c.pod
            ],
        );
        match r {
            Ok(_) => Ok(()),
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                Err(Error::Conflict(format!(
                    "the container name \"{}\" is already in use; remove that container or choose another name",
                    c.name
                )))
            }
            Err(e) => Err(self.dberr(e)),
        }
    }

    pub fn set_container_state(
        &mut self,
        id: &str,
        state: &str,
        pid: Option<i64>,
        pid_start: Option<i64>,
        exit_code: Option<i64>,
    ) -> Result<()> {
        self.db
            .execute(
                "UPDATE containers SET state=?2, pid=?3, pid_start=?4, exit_code=?5 WHERE id=?1",
                params![id, state, pid, pid_start, exit_code],
            )
            .map(|_| ())
            .map_err(|e| self.dberr(e))
    }

    /// The container started: its supervisor's identity and the time.
    pub fn container_started(
        &mut self,
        id: &str,
        supervisor: (i64, i64),
        restart: bool,
    ) -> Result<()> {
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true);
        self.db
            .execute(
                "UPDATE containers SET state='running', pid=?2, pid_start=?3, started_at=?4, exit_code=NULL,
                   oom_killed=0, restart_count=restart_count+?5, stop_requested=CASE WHEN ?5 THEN stop_requested ELSE 0 END
                 WHERE id=?1",
                params![id, supervisor.0, supervisor.1, now, restart as i64],
            )
            .map(|_| ())
            .map_err(|e| self.dberr(e))
    }

    /// The container ended.
    pub fn container_exited(&mut self, id: &str, exit_code: i64, oom: bool) -> Result<()> {
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true);
        self.db
            .execute(
                "UPDATE containers SET state='exited', pid=NULL, pid_start=NULL, exit_code=?2, finished_at=?3,
                   oom_killed=?4 WHERE id=?1",
                params![id, exit_code, now, oom],
            )
            .map(|_| ())
            .map_err(|e| self.dberr(e))
    }

    /// `stop`/`kill` were asked for: restart policies must not bring the container back.
    pub fn container_stop_requested(&mut self, id: &str) -> Result<()> {
        self.db
            .execute("UPDATE containers SET stop_requested=1 WHERE id=?1", [id])
            .map(|_| ())
            .map_err(|e| self.dberr(e))
    }

    pub fn rename_container(&mut self, id: &str, name: &str) -> Result<()> {
        match self
            .db
            .execute("UPDATE containers SET name=?2 WHERE id=?1", [id, name])
        {
            Ok(_) => Ok(()),
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                Err(Error::Conflict(format!(
                    "the container name \"{name}\" is already in use"
                )))
            }
            Err(e) => Err(self.dberr(e)),
        }
    }

    pub fn delete_container(&mut self, id: &str) -> Result<()> {
        self.db
            .execute("DELETE FROM containers WHERE id=?1", [id])
            .map(|_| ())
            .map_err(|e| self.dberr(e))
    }

    pub fn containers(&self) -> Result<Vec<ContainerRecord>> {
        self.containers_where("1", [])
    }

    /// The containers a name, ID or ID prefix (hex, as given) can mean: one query on the
    /// indexed columns rather than every row (`find` runs on each poll of `wait`).
    pub fn containers_matching(&self, key: &str) -> Result<Vec<ContainerRecord>> {
        let name = key.trim_start_matches('/');
        let prefix = if !key.is_empty() && key.bytes().all(|b| b.is_ascii_hexdigit()) {
            key
        } else {
            // Matches no ID: IDs are hex.
            "-"
        };
        self.containers_where(
            // The prefix as a range, so that the primary key's index serves it ('g'
            // sorts after every hex digit).
            "id = ?1 OR name = ?2 OR (id >= ?3 AND id < ?3 || 'g')",
            [key, name, prefix],
        )
    }

    fn containers_where<const N: usize>(
        &self,
        clause: &str,
        params: [&str; N],
    ) -> Result<Vec<ContainerRecord>> {
        let mut stmt = self
            .db
            .prepare_cached(&format!(
                "SELECT id, name, image_id, image_name, command, created, state, pid, pid_start,
                   exit_code, auto_remove, config, started_at, finished_at, oom_killed, restart_count,
                   stop_requested, pod FROM containers WHERE {clause}
                   ORDER BY created DESC, rowid DESC"
            ))
            .map_err(|e| self.dberr(e))?;
        let rows = stmt
            .query_map(rusqlite::params_from_iter(params), |r| {
                Ok(ContainerRecord {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    image_id: req_digest(r.get(2)?)?,
                    image_name: r.get(3)?,
                    command: r.get(4)?,
                    created: r.get(5)?,
                    state: r.get(6)?,
                    pid: r.get(7)?,
                    pid_start: r.get(8)?,
                    exit_code: r.get(9)?,
                    auto_remove: r.get(10)?,
                    config: r.get(11)?,
                    started_at: r.get(12)?,
                    finished_at: r.get(13)?,
                    oom_killed: r.get(14)?,
                    restart_count: r.get(15)?,
                    stop_requested: r.get(16)?,
                    pod: r.get(17)?,
                })
            })
            .map_err(|e| self.dberr(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>()
            .map_err(|e| self.dberr(e))
    }

    /// Record a new pod; fails with a conflict when the name is taken.
    pub fn insert_pod(&mut self, p: &PodRecord) -> Result<()> {
        let r = self.db.execute(
            "INSERT INTO pods (id, name, created, infra_pid, infra_start, config)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                p.id,
                p.name,
                p.created,
                p.infra_pid,
                p.infra_start,
                p.config
            ],
        );
        match r {
            Ok(_) => Ok(()),
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                Err(Error::Conflict(format!(
                    "the pod name \"{}\" is already in use; remove that pod or choose another name",
                    p.name
                )))
            }
            Err(e) => Err(self.dberr(e)),
        }
    }

    /// Every pod, newest first.
    pub fn pods(&self) -> Result<Vec<PodRecord>> {
        let mut stmt = self
            .db
            .prepare_cached(
                "SELECT id, name, created, infra_pid, infra_start, config FROM pods
                 ORDER BY created DESC, rowid DESC",
            )
            .map_err(|e| self.dberr(e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok(PodRecord {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    created: r.get(2)?,
                    infra_pid: r.get(3)?,
                    infra_start: r.get(4)?,
                    config: r.get(5)?,
                })
            })
            .map_err(|e| self.dberr(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>()
            .map_err(|e| self.dberr(e))
    }

    /// The pod's infra process started (Some) or is gone (None).
    pub fn set_pod_infra(&mut self, id: &str, infra: Option<(i64, i64)>) -> Result<()> {
        self.db
            .execute(
                "UPDATE pods SET infra_pid=?2, infra_start=?3 WHERE id=?1",
                params![id, infra.map(|i| i.0), infra.map(|i| i.1)],
            )
            .map(|_| ())
            .map_err(|e| self.dberr(e))
    }

    pub fn delete_pod(&mut self, id: &str) -> Result<()> {
        self.db
            .execute("DELETE FROM pods WHERE id=?1", [id])
            .map(|_| ())
            .map_err(|e| self.dberr(e))
    }

    /// How many containers use an image (they keep it from being removed).
    pub fn containers_using(&self, image: &Digest) -> Result<i64> {
        self.db
            .query_row(
                "SELECT count(*) FROM containers WHERE image_id=?1",
                [image.as_str()],
                |r| r.get(0),
            )
            .map_err(|e| self.dberr(e))
    }

    /// Remove a layer directory (caller holds the exclusive gc lock).
    pub fn remove_layer_dir(&self, chain: &Digest) -> Result<()> {
        let p = self.layer_dir(chain);
        match fs::remove_dir_all(&p) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Error::io(p, e)),
        }
    }
}

/// Bring the schema up to date. The version is read again inside the write transaction:
/// another barge may have migrated while this one waited for the lock.
fn migrate(db: &mut Connection) -> rusqlite::Result<()> {
    let tx = db.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version < 2 {
        tx.execute_batch(SCHEMA)?;
        tx.execute_batch(SCHEMA_V2)?;
    }
    if version < 3 {
        tx.execute_batch(SCHEMA_V3)?;
    }
    if version < 4 {
        tx.execute_batch(SCHEMA_V4)?;
    }
    if version < 5 {
        tx.execute_batch(SCHEMA_V5)?;
    }
    tx.execute_batch("PRAGMA user_version=5")?;
    tx.commit()
}

fn opt_digest(s: Option<String>) -> Option<Digest> {
    s.and_then(|s| Digest::parse(&s).ok())
}

fn req_digest(s: String) -> rusqlite::Result<Digest> {
    Digest::parse(&s).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, e.into())
    })
}

fn layer_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<LayerRecord> {
    Ok(LayerRecord {
        chain_id: req_digest(r.get(0)?)?,
        diff_id: req_digest(r.get(1)?)?,
        parent: opt_digest(r.get(2)?),
        blob: opt_digest(r.get(3)?),
        media_type: r.get(4)?,
        blob_size: r.get::<_, Option<i64>>(5)?.map(|s| s as u64),
        size: r.get::<_, i64>(6)? as u64,
    })
}

fn image_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ImageRecord> {
    let split = |s: Option<String>| -> Vec<String> {
        let mut v: Vec<String> = s
            .map(|s| s.split('\n').map(str::to_string).collect())
            .unwrap_or_default();
        v.sort();
        v
    };
    Ok(ImageRecord {
        id: req_digest(r.get(0)?)?,
        manifest: opt_digest(r.get(1)?),
        manifest_type: r.get(2)?,
        created: r.get(3)?,
        architecture: r.get::<_, Option<String>>(4)?.unwrap_or_default(),
        os: r.get::<_, Option<String>>(5)?.unwrap_or_default(),
        variant: r.get(6)?,
        size: r.get::<_, i64>(7)? as u64,
        added: r.get(8)?,
        tags: split(r.get(9)?),
        repo_digests: split(r.get(10)?),
    })
}
