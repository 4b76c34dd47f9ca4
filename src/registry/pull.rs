//! `pull`: resolve a reference to one image manifest, then fetch its layers in parallel,
//! each streamed through the digest check, decompression and unpack while it arrives.
//!
//! Per layer: the ingest lock is taken (a concurrent pull of the same blob waits, then finds
//! it committed); bytes an interrupted run left in `ingest/<hex>.partial` are replayed into
//! the hasher and the unpacker, and the download continues with `Range`; every chunk is
//! appended to the partial file, hashed, and sent over a bounded channel to an unpack
//! thread that gunzips/unzstds and applies the tar into a staging directory in scratch.
//! A dropped connection, a 5xx or a 429 resumes from the current offset after a backoff.
//! The blob is committed to the content store only when size and digest match; the staged
//! layer is then checked against the config's diff ID and published like an import
//! (`image::commit`): sync, rename into `layers/`, sync, one transaction.

use std::collections::HashMap;
use std::io::Read;
use std::path::PathBuf;
use std::sync::Mutex;
use std::thread::JoinHandle;

use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt};
use reqwest::StatusCode;
use reqwest::header::{self, HeaderMap};

use super::client::{self, Client, Endpoint, Scope, header_map, read_limited, registry_err};
use super::config::RegistriesConfig;
use crate::content::{ContentStore, StagedBlob};
use crate::digest::{Digest, chain_ids};
use crate::error::{Error, IoContext, Result};
use crate::image::commit::{PendingLayer, Ready, publish, resolve_layers};
use crate::image::model::{self, Descriptor, ImageConfig, Manifest, Platform};
use crate::layer::{self, Applied, ApplyOptions};
use crate::reference::Reference;
use crate::store::Store;
use crate::util::Scratch;

/// Largest manifest or index barge accepts from a registry (Docker's limit too).
pub const MAX_MANIFEST: u64 = 4 << 20;

const ACCEPT: &str = "application/vnd.oci.image.index.v1+json, \
application/vnd.docker.distribution.manifest.list.v2+json, \
application/vnd.oci.image.manifest.v1+json, \
application/vnd.docker.distribution.manifest.v2+json, \
application/vnd.docker.distribution.manifest.v1+prettyjws;q=0.1";

#[derive(Clone, Debug)]
pub struct PullOptions {
    /// The platform to pick from an index; the host's by default.
    pub platform: Option<Platform>,
    /// Layers downloaded at once.
    pub max_concurrent_downloads: usize,
    /// `--tls-verify=false`: plain HTTP (and no certificate check) for this registry.
    pub tls_verify: Option<bool>,
}

impl Default for PullOptions {
    fn default() -> Self {
        PullOptions {
            platform: None,
            max_concurrent_downloads: 4,
            tls_verify: None,
        }
    }
}

/// What happens to one layer (or blob, for push), for progress displays.
#[derive(Clone, Debug)]
pub enum LayerEvent {
    /// Already in the store: nothing to fetch (or, pushing: already in the registry).
    Exists,
    /// Bytes so far of `total` (a resumed download starts above zero).
    Progress { done: u64, total: u64 },
    /// Fetched, verified and unpacked (pushing: uploaded).
    Done { bytes: u64 },
    /// Pushing: mounted from another repository of the same registry.
    Mounted { from: String },
}

/// Receives progress while a pull or push runs; the library never draws anything itself.
pub trait PullObserver: Sync {
    /// The blobs of the image, in order, with their sizes.
    fn layers(&self, _layers: &[(Digest, u64)]) {}
    fn layer(&self, _digest: &Digest, _event: LayerEvent) {}
}

#[derive(Clone, Debug)]
pub struct PullReport {
    pub id: Digest,
    /// The digest the reference resolved to (index or manifest): Docker's `Digest:` line.
    pub digest: Digest,
    /// `docker.io/library/alpine:latest`, as Docker prints it after a pull.
    pub reference: String,
    /// `alpine:latest`, for the `Status:` line.
    pub familiar: String,
    /// The image was already here under this name: nothing new.
    pub up_to_date: bool,
}

/// One runtime per command, shut down (threads joined) before returning: `run` forks right
/// after a pull, and forking is only safe from a single-threaded process.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Other(format!("cannot start the I/O runtime: {e}")))
}

/// The endpoints to try for `registry`: its mirrors in order, then itself.
pub(crate) fn endpoints(
    registry: &str,
    cfg: &RegistriesConfig,
    tls_verify: Option<bool>,
) -> Vec<Endpoint> {
    let mut eps: Vec<Endpoint> = cfg
        .mirrors(registry)
        .iter()
        .map(|m| Endpoint::new(registry, Some(m), cfg, tls_verify))
        .collect();
    eps.push(Endpoint::new(registry, None, cfg, tls_verify));
    eps
}

/// Pull `reference` into the store.
pub fn pull(
    store: &mut Store,
    reference: &Reference,
    opts: &PullOptions,
    observer: &dyn PullObserver,
) -> Result<PullReport> {
    let cfg = RegistriesConfig::load()?;
    let want = opts.platform.clone().unwrap_or_else(Platform::host);
    let _shared = store.lock_shared()?;
    let scratch = Scratch::new(&store.root)?;
    let client = Client::new(opts.tls_verify != Some(false), None)?;
    let eps = endpoints(&reference.registry, &cfg, opts.tls_verify);
    let rt = runtime()?;

    let resolved = rt.block_on(resolve_any(&client, &eps, reference, &want))?;
    let Resolved {
        ep,
        top_digest,
        manifest,
        manifest_bytes,
        manifest_type,
        config_bytes,
    } = resolved;
    let what = reference.to_string();
    let config = ImageConfig::parse(&config_bytes, &what)?;
    let diff_ids = config.diff_ids(&what)?;
    let descs = manifest.layers.clone().unwrap_or_default();
    if descs.len() != diff_ids.len() {
        return Err(registry_err(
            &ep,
            format!(
                "{what}: the manifest lists {} layers but the config has {} diff IDs",
                descs.len(),
                diff_ids.len()
            ),
        ));
    }
    let mut layers = Vec::new();
    let chains = chain_ids(&diff_ids);
    for (i, d) in descs.iter().enumerate() {
        let digest = d.digest(&what)?;
        if d.size < 0 {
            return Err(registry_err(
                &ep,
                format!("{what}: layer {digest} has a negative size"),
            ));
        }
        let have_layer = store.layer(&chains[i])?.is_some();
        layers.push(Job {
            digest,
            size: d.size as u64,
            unpack: !have_layer,
        });
    }
    observer.layers(
        &layers
            .iter()
            .map(|l| (l.digest.clone(), l.size))
            .collect::<Vec<_>>(),
    );
    // The same blob twice in one image is fetched once.
    let mut unique: Vec<Job> = Vec::new();
    for l in &layers {
        match unique.iter_mut().find(|u| u.digest == l.digest) {
            Some(u) => u.unpack |= l.unpack,
            None => unique.push(l.clone()),
        }
    }

    let unpacks: Mutex<HashMap<Digest, Unpack>> = Mutex::default();
    let ctx = Ctx {
        client: &client,
        ep: &ep,
        repo: &reference.repository,
        content: &store.content,
        scratch: &scratch.dir,
        observer,
        unpacks: &unpacks,
    };
    // Write-behind: flush what the unpackers wrote while the download goes on, so the
    // sync before publishing (crash safety) finds little left to write.
    let stop = std::sync::atomic::AtomicBool::new(false);
    let flusher = crate::util::sync_enabled().then(|| {
        let dir = scratch.dir.clone();
        let stop = &stop;
        move || {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                std::thread::sleep(std::time::Duration::from_millis(250));
                let _ = crate::util::sync_fs(&dir);
            }
        }
    });
    let result = std::thread::scope(|sc| {
        let h = flusher.map(|f| sc.spawn(f));
        let r = rt.block_on(async {
            futures_util::stream::iter(
                unique
                    .iter()
                    .enumerate()
                    .map(|(i, j)| ctx.fetch_layer(i, j)),
            )
            .buffer_unordered(opts.max_concurrent_downloads.max(1))
            .try_collect::<Vec<StagedBlob>>()
            .await
        });
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(h) = h {
            let _ = h.join();
        }
        r
    });
    drop(rt);
    // Join every unpack thread, whatever happened (no thread may outlive the command).
    let mut unpacked: HashMap<Digest, Result<(PathBuf, Applied)>> = HashMap::new();
    for (d, u) in unpacks.into_inner().expect("unpacks lock") {
        let r = match u.handle.join() {
            Ok(r) => r.map(|a| (u.dir, a)),
            Err(_) => Err(Error::Other(format!("layer {d}: unpack thread panicked"))),
        };
        unpacked.insert(d, r);
    }
    let blobs: HashMap<Digest, StagedBlob> =
        result?.into_iter().map(|b| (b.digest.clone(), b)).collect();

    let staged: Vec<(StagedBlob, Option<String>)> = descs
        .iter()
        .zip(&layers)
        .map(|(d, l)| (blobs[&l.digest].clone(), Some(d.media_type.clone())))
        .collect();
    let mut pending: HashMap<Digest, PendingLayer> = HashMap::new();
    let mut n = 0;
    let records = resolve_layers(
        store,
        &mut |b: &StagedBlob| match unpacked.remove(&b.digest) {
            Some(r) => r,
            None => {
                // Needed twice (the same blob under two chains) or not started: unpack the
                // committed blob.
                n += 1;
                let dir = scratch.dir.join(format!("layer-again-{n}"));
                let diff = dir.join("diff");
                std::fs::create_dir_all(&diff).at(&diff)?;
                let f = std::fs::File::open(&b.path).at(&b.path)?;
                let a = layer::apply(f, &diff, b.digest.as_str(), &ApplyOptions::default())?;
                Ok((dir, a))
            }
        },
        &mut pending,
        &diff_ids,
        &staged,
        &what,
    )?;
    let (tags, familiar, full) = match reference.tagged() {
        Some(t) => (
            vec![(t.clone(), reference.to_string())],
            reference.to_string(),
            t,
        ),
        None => {
            let s = format!("{}@{top_digest}", reference.full_name());
            (Vec::new(), reference.to_string(), s)
        }
    };
    let blob_list = staged.iter().map(|(b, _)| b.clone()).collect();
    let mut ready = Ready::new(
        &config_bytes,
        &config,
        Some((manifest_bytes, manifest_type)),
        records,
        blob_list,
        tags,
    );
    ready
        .record
        .repo_digests
        .push(format!("{}@{top_digest}", reference.full_name()));
    let id = ready.record.id.clone();
    let up_to_date = match reference.tagged() {
        Some(t) => store.image_by_tag(&t)? == Some(id.clone()),
        None => store.image(&id)?.is_some(),
    } && store
        .image_by_repo_digest(&format!("{}@{top_digest}", reference.full_name()))?
        == Some(id.clone());
    publish(store, &scratch, pending, &[ready])?;
    Ok(PullReport {
        id,
        digest: top_digest,
        reference: full,
        familiar,
        up_to_date,
    })
}

#[derive(Clone, Debug)]
struct Job {
    digest: Digest,
    size: u64,
    unpack: bool,
}

struct Unpack {
    dir: PathBuf,
    handle: JoinHandle<Result<Applied>>,
}

struct Resolved {
    ep: Endpoint,
    top_digest: Digest,
    manifest: Manifest,
    manifest_bytes: Vec<u8>,
    manifest_type: String,
    config_bytes: Vec<u8>,
}

/// Try the mirrors, then the registry; the registry's own error is the one reported.
async fn resolve_any(
    client: &Client,
    eps: &[Endpoint],
    r: &Reference,
    want: &Platform,
) -> Result<Resolved> {
    let mut last = None;
    for ep in eps {
        match resolve(client, ep, r, want).await {
            Ok(x) => return Ok(x),
            Err(e) => last = Some(e),
        }
    }
    Err(last.expect("at least one endpoint"))
}

async fn resolve(
    client: &Client,
    ep: &Endpoint,
    r: &Reference,
    want: &Platform,
) -> Result<Resolved> {
    let repo = &r.repository;
    let scope = Scope::pull(repo);
    let (bytes, mt, top_digest) = fetch_manifest(client, ep, r, repo, &scope, None).await?;
    let mut manifest = Manifest::parse(&bytes, &r.to_string())?;
    let (mut bytes, mut mt) = (bytes, mt);
    if manifest.is_index() || model::is_index_type(&mt) {
        let candidates = manifest.manifests.clone().unwrap_or_default();
        let pick = pick_platform(&candidates, want).ok_or_else(|| {
            let have: Vec<String> = candidates
                .iter()
                .filter_map(|c| c.platform.as_ref().map(|p| p.to_string()))
                .collect();
            Error::Other(format!(
                "{r}: no image for platform {want} (the registry has {})",
                if have.is_empty() {
                    "none".into()
                } else {
                    have.join(", ")
                }
            ))
        })?;
        let d = pick.digest(&r.to_string())?;
        let (b, m, _) = fetch_manifest(client, ep, r, repo, &scope, Some((&d, pick.size))).await?;
        manifest = Manifest::parse(&b, &format!("{r}: manifest {d}"))?;
        if manifest.is_index() {
            return Err(registry_err(
                ep,
                format!("{r}: nested indexes are not supported"),
            ));
        }
        bytes = b;
        mt = if m.is_empty() {
            pick.media_type.clone()
        } else {
            m
        };
    }
    if mt.is_empty() {
        mt = manifest
            .media_type
            .clone()
            .unwrap_or_else(|| model::OCI_MANIFEST.into());
    }
    let config = manifest
        .config
        .clone()
        .ok_or_else(|| registry_err(ep, format!("{r}: manifest without a config")))?;
    let cd = config.digest(&r.to_string())?;
    let url = ep.url(&format!("/v2/{repo}/blobs/{cd}"));
    let resp = client.get(ep, &url, &scope, &HeaderMap::new()).await?;
    check_status(ep, &resp, &format!("{r}: config {cd}"))?;
    let config_bytes = read_limited(resp, model::MAX_JSON, ep).await?;
    let actual = Digest::of(&config_bytes);
    if actual != cd {
        return Err(Error::DigestMismatch {
            object: format!("{r}: config"),
            expected: cd.to_string(),
            actual: actual.to_string(),
        });
    }
    Ok(Resolved {
        ep: ep.clone(),
        top_digest,
        manifest,
        manifest_bytes: bytes,
        manifest_type: mt,
        config_bytes,
    })
}

/// The best entry of an index for `want`: an exact match (variant included) first, then
/// any compatible one. Entries without a platform (attestations) are skipped.
pub fn pick_platform<'a>(candidates: &'a [Descriptor], want: &Platform) -> Option<&'a Descriptor> {
    let ok: Vec<&Descriptor> = candidates
        .iter()
        .filter(|c| c.platform.as_ref().is_some_and(|p| want.matches(p)))
        .collect();
    ok.iter()
        .find(|c| c.platform.as_ref() == Some(want))
        .or_else(|| ok.first())
        .copied()
}

/// GET a manifest by tag or digest. Checks: size limit, schema 1 refused, the digest is
/// the one asked for (by digest) or the one the registry announced (by tag).
async fn fetch_manifest(
    client: &Client,
    ep: &Endpoint,
    r: &Reference,
    repo: &str,
    scope: &Scope,
    by: Option<(&Digest, i64)>,
) -> Result<(Vec<u8>, String, Digest)> {
    let wanted = by.map(|(d, _)| d.clone()).or_else(|| r.digest.clone());
    let rf = match (&wanted, &r.tag) {
        (Some(d), _) => d.to_string(),
        (None, Some(t)) => t.clone(),
        (None, None) => "latest".into(),
    };
    let url = ep.url(&format!("/v2/{repo}/manifests/{rf}"));
    let resp = client
        .get(ep, &url, scope, &header_map(&[(header::ACCEPT, ACCEPT)]))
        .await?;
    check_status(ep, &resp, &r.to_string())?;
    let ct = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.split(';').next().unwrap_or("").trim().to_string())
        .unwrap_or_default();
    let announced = resp
        .headers()
        .get("docker-content-digest")
        .and_then(|v| v.to_str().ok())
        .and_then(|s| Digest::parse(s).ok());
    let bytes = read_limited(resp, MAX_MANIFEST, ep)
        .await
        .map_err(|e| match e {
            Error::Registry { registry, msg } => Error::Registry {
                registry,
                msg: format!("{r}: manifest: {msg}"),
            },
            e => e,
        })?;
    let actual = Digest::of(&bytes);
    if let Some(w) = wanted.as_ref().or(announced.as_ref())
        && *w != actual
    {
        return Err(Error::DigestMismatch {
            object: format!("{r}: manifest"),
            expected: w.to_string(),
            actual: actual.to_string(),
        });
    }
    if let Some((_, size)) = by
        && size > 0
        && size as usize != bytes.len()
    {
        return Err(registry_err(
            ep,
            format!("{r}: manifest {actual} is not the size its index says"),
        ));
    }
    let schema1 = ct.starts_with("application/vnd.docker.distribution.manifest.v1")
        || serde_json::from_slice::<serde_json::Value>(&bytes)
            .ok()
            .is_some_and(|v| v["schemaVersion"] == 1);
    if schema1 {
        return Err(Error::Other(format!(
            "{r}: the registry only has a schema 1 manifest, which barge does not support \
             (Docker dropped it too): push the image again with a current client"
        )));
    }
    Ok((bytes, ct, actual))
}

/// Turn a non-success status into the error users should see.
pub(crate) fn check_status(ep: &Endpoint, resp: &reqwest::Response, what: &str) -> Result<()> {
    let s = resp.status();
    if s.is_success() {
        return Ok(());
    }
    Err(match s {
        StatusCode::NOT_FOUND => Error::ManifestUnknown(what.to_string()),
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => Error::Unauthorized {
            registry: ep.registry.clone(),
            msg: format!("{what}: access denied ({s}): the image does not exist or needs a login"),
        },
        s => registry_err(ep, format!("{what}: {s}")),
    })
}

struct Ctx<'a> {
    client: &'a Client,
    ep: &'a Endpoint,
    repo: &'a str,
    content: &'a ContentStore,
    scratch: &'a std::path::Path,
    observer: &'a dyn PullObserver,
    unpacks: &'a Mutex<HashMap<Digest, Unpack>>,
}

impl Ctx<'_> {
    fn start_unpack(&self, i: usize, digest: &Digest, source: Source) -> Result<()> {
        let dir = self.scratch.join(format!("layer-{i}"));
        let diff = dir.join("diff");
        std::fs::create_dir_all(&diff).at(&diff)?;
        let label = digest.to_string();
        let handle = std::thread::Builder::new()
            .name("unpack".into())
            .stack_size(8 << 20)
            .spawn(move || {
                let opts = ApplyOptions::default();
                match source {
                    Source::File(p) => {
                        let f = std::fs::File::open(&p).at(&p)?;
                        layer::apply(
                            std::io::BufReader::with_capacity(1 << 20, f),
                            &diff,
                            &label,
                            &opts,
                        )
                    }
                    Source::Channel(rx) => {
                        let mut r = ChannelReader {
                            rx,
                            cur: Bytes::new(),
                        };
                        let a = layer::apply(&mut r, &diff, &label, &opts);
                        // Take whatever follows the tar's end so the downloader never waits.
                        if a.is_ok() {
                            let _ = std::io::copy(&mut r, &mut std::io::sink());
                        }
                        a
                    }
                }
            })
            .map_err(|e| Error::Other(format!("cannot start an unpack thread: {e}")))?;
        self.unpacks
            .lock()
            .expect("unpacks lock")
            .insert(digest.clone(), Unpack { dir, handle });
        Ok(())
    }

    async fn fetch_layer(&self, i: usize, job: &Job) -> Result<StagedBlob> {
        let obs = self.observer;
        let staged = |size| StagedBlob {
            path: self.content.path(&job.digest),
            digest: job.digest.clone(),
            size,
        };
        if self.content.exists(&job.digest) {
            let size = self.content.size(&job.digest)?;
            if job.unpack {
                self.start_unpack(i, &job.digest, Source::File(self.content.path(&job.digest)))?;
            }
            obs.layer(&job.digest, LayerEvent::Exists);
            return Ok(staged(size));
        }
        let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(64);
        let content = self.content.clone();
        let (d, size, unpack) = (job.digest.clone(), job.size, job.unpack);
        // The lock may wait for another process, and the replay reads from disk: off the
        // async thread.
        let task = tokio::task::spawn_blocking(move || -> Result<_> {
            let ing = content.begin_ingest(&d, size)?;
            let Some(mut ing) = ing else {
                return Ok((None, tx));
            };
            if unpack {
                ing.replay(&mut |b| {
                    let _ = tx.blocking_send(Bytes::copy_from_slice(b));
                })?;
            } else {
                ing.replay(&mut |_| {})?;
            }
            Ok((Some(ing), tx))
        });
        let (ingest, tx) = task
            .await
            .map_err(|e| Error::Other(format!("ingest task: {e}")))??;
        let Some(mut ing) = ingest else {
            // Another process committed it while we waited for the lock.
            drop(tx);
            drop(rx);
            if job.unpack {
                self.start_unpack(i, &job.digest, Source::File(self.content.path(&job.digest)))?;
            }
            obs.layer(&job.digest, LayerEvent::Done { bytes: job.size });
            return Ok(staged(job.size));
        };
        if job.unpack {
            self.start_unpack(i, &job.digest, Source::Channel(rx))?;
        } else {
            drop(rx);
        }
        let mut tx = if job.unpack { Some(tx) } else { None };
        obs.layer(
            &job.digest,
            LayerEvent::Progress {
                done: ing.offset(),
                total: job.size,
            },
        );
        let url = self
            .ep
            .url(&format!("/v2/{}/blobs/{}", self.repo, job.digest));
        let scope = Scope::pull(self.repo);
        let mut attempt = 0u32;
        let mut last_report = ing.offset();
        while ing.offset() < job.size {
            let offset = ing.offset();
            let headers = if offset > 0 {
                header_map(&[(header::RANGE, &format!("bytes={offset}-"))])
            } else {
                HeaderMap::new()
            };
            let failure: Error;
            match self.client.get(self.ep, &url, &scope, &headers).await {
                Ok(mut resp) => {
                    let mut skip = match resp.status() {
                        StatusCode::PARTIAL_CONTENT => {
                            let ok = resp
                                .headers()
                                .get(header::CONTENT_RANGE)
                                .and_then(|v| v.to_str().ok())
                                .is_some_and(|v| v.starts_with(&format!("bytes {offset}-")));
                            if !ok {
                                ing.discard();
                                return Err(registry_err(
                                    self.ep,
                                    format!("blob {}: bad Content-Range", job.digest),
                                ));
                            }
                            0
                        }
                        // The registry ignored Range: drop what we already have.
                        StatusCode::OK => offset,
                        _ => {
                            check_status(self.ep, &resp, &format!("blob {}", job.digest))?;
                            0
                        }
                    };
                    loop {
                        match resp.chunk().await {
                            Ok(Some(mut c)) => {
                                if skip > 0 {
                                    let n = (skip as usize).min(c.len());
                                    skip -= n as u64;
                                    c = c.slice(n..);
                                    if c.is_empty() {
                                        continue;
                                    }
                                }
                                if let Err(e) = ing.write(&c) {
                                    ing.discard();
                                    return Err(e);
                                }
                                if let Some(t) = &tx
                                    && t.send(c).await.is_err()
                                {
                                    // The unpacker stopped (its error is reported later);
                                    // the blob is still fetched and verified.
                                    tx = None;
                                }
                                if ing.offset() - last_report >= (256 << 10) {
                                    last_report = ing.offset();
                                    obs.layer(
                                        &job.digest,
                                        LayerEvent::Progress {
                                            done: ing.offset(),
                                            total: job.size,
                                        },
                                    );
                                }
                            }
                            Ok(None) => break,
                            Err(e) => {
                                // Reset, timeout: resume from the current offset.
                                let _ = &e;
                                break;
                            }
                        }
                    }
                    if ing.offset() >= job.size {
                        break;
                    }
                    if ing.offset() > offset {
                        // Progress was made: the next cut gets a fresh set of attempts.
                        attempt = 0;
                    }
                    failure = registry_err(
                        self.ep,
                        format!(
                            "blob {}: connection lost after {} of {} bytes",
                            job.digest,
                            ing.offset(),
                            job.size
                        ),
                    );
                }
                Err(e) => failure = e,
            }
            attempt += 1;
            if attempt >= client::max_attempts() {
                return Err(failure);
            }
            tokio::time::sleep(client::backoff(attempt - 1, None)).await;
        }
        drop(tx);
        let blob = tokio::task::spawn_blocking(move || ing.commit())
            .await
            .map_err(|e| Error::Other(format!("ingest task: {e}")))??;
        obs.layer(&job.digest, LayerEvent::Done { bytes: job.size });
        Ok(blob)
    }
}

enum Source {
    File(PathBuf),
    Channel(tokio::sync::mpsc::Receiver<Bytes>),
}

/// The unpack thread's view of the download: chunks from the channel as a byte stream.
struct ChannelReader {
    rx: tokio::sync::mpsc::Receiver<Bytes>,
    cur: Bytes,
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.cur.is_empty() {
            match self.rx.blocking_recv() {
                Some(b) => self.cur = b,
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.cur.len());
        buf[..n].copy_from_slice(&self.cur[..n]);
        let _ = self.cur.split_to(n);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn desc(os: &str, arch: &str, variant: Option<&str>) -> Descriptor {
        Descriptor {
            media_type: model::OCI_MANIFEST.into(),
            digest: Digest::of(format!("{os}{arch}{variant:?}").as_bytes()).to_string(),
            size: 1,
            platform: Some(Platform {
                os: os.into(),
                architecture: arch.into(),
                variant: variant.map(Into::into),
            }),
            annotations: None,
        }
    }

    #[test]
    fn picks_variants() {
        let c = vec![
            desc("linux", "amd64", None),
            desc("linux", "arm", Some("v6")),
            desc("linux", "arm", Some("v7")),
            desc("linux", "arm64", Some("v8")),
        ];
        let p = |s: &str| {
            pick_platform(&c, &Platform::parse(s).unwrap())
                .map(|d| d.platform.clone().unwrap().to_string())
        };
        assert_eq!(p("linux/arm/v7").as_deref(), Some("linux/arm/v7"));
        assert_eq!(p("linux/arm/v6").as_deref(), Some("linux/arm/v6"));
        assert_eq!(p("linux/arm64").as_deref(), Some("linux/arm64/v8"));
        assert_eq!(p("linux/amd64").as_deref(), Some("linux/amd64"));
        assert_eq!(p("linux/s390x"), None);
    }
}
