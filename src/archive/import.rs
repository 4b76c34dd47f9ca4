//! `barge import`: docker save archives (classic and Docker 25+), OCI image layout archives
//! and plain root-filesystem tarballs, from a file or a pipe, in one streaming pass.
//!
//! The pass copies every file of the archive into scratch (hashing it) and starts unpacking
//! anything that looks like a layer on worker threads at once, so unpacking overlaps reading
//! and layers unpack in parallel. When the stream ends, the index (manifest.json or
//! index.json) says which blobs make which image; each layer's diff ID is checked against
//! the config, the file system is synced once, finished layers and wanted blobs are renamed
//! into the store, and one SQLite transaction records the images. Nothing is visible before
//! that commit, and a process killed earlier leaves only a scratch directory that the next
//! barge removes.

use std::collections::HashMap;
use std::io::{self, BufReader, Read, Write};
use std::path::PathBuf;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use serde::Deserialize;

use crate::content::StagedBlob;
use crate::digest::Digest;
use crate::error::{Error, IoContext, Result};
use crate::image::commit::{PendingLayer, Ready, publish, resolve_layers};
use crate::image::model::{self, Descriptor, ImageConfig, Manifest, Platform};
use crate::layer::{self, Applied, ApplyOptions, Compression};
use crate::reference::Reference;
use crate::store::{LayerRecord, Store};
use crate::util::Scratch;

/// What an archive turned out to be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Format {
    /// `docker save` output; `oci` is set for the Docker 25+ layout (an OCI layout inside).
    DockerArchive {
        oci: bool,
    },
    OciLayout,
    /// A root file system tarball (`docker import`).
    Rootfs(Compression),
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Format::DockerArchive { oci: false } => write!(f, "docker save archive"),
            Format::DockerArchive { oci: true } => {
                write!(f, "docker save archive (Docker 25+ OCI layout)")
            }
            Format::OciLayout => write!(f, "OCI image layout archive"),
            Format::Rootfs(Compression::None) => write!(f, "root filesystem tarball"),
            Format::Rootfs(c) => write!(
                f,
                "root filesystem tarball ({})",
                format!("{c:?}").to_lowercase()
            ),
        }
    }
}

/// Receives progress while an import runs; the library never draws anything itself.
pub trait ImportObserver: Sync {
    fn format(&self, _format: &Format) {}
    /// Bytes of input read so far, and the total when known.
    fn bytes(&self, _read: u64, _total: Option<u64>) {}
}

/// An observer that ignores everything.
pub struct Silent;
impl ImportObserver for Silent {}

#[derive(Default)]
pub struct ImportOptions {
    /// Which image of a multi-platform index to take; the host's by default.
    pub platform: Option<Platform>,
    /// Extra tags (`--tag`, and the positional `REPO[:TAG]` of a rootfs import).
    pub tags: Vec<Reference>,
    /// History comment for a rootfs import (`--message`).
    pub message: Option<String>,
}

#[derive(Clone, Debug)]
pub struct ImportedImage {
    pub id: Digest,
    /// Familiar names (`alpine:latest`).
    pub tags: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct ImportReport {
    pub format: Format,
    pub images: Vec<ImportedImage>,
}

/// Metadata files are read into memory; anything bigger than this is refused.
const MAX_META_TOTAL: u64 = 64 << 20;

/// Import an archive read from `input`; `name` names it in messages (a path or `-`).
pub fn import(
    store: &mut Store,
    input: Box<dyn Read + Send>,
    name: &str,
    total: Option<u64>,
    opts: &ImportOptions,
    observer: &dyn ImportObserver,
) -> Result<ImportReport> {
    let aerr = |msg: String| Error::Archive {
        file: name.to_string(),
        msg,
    };
    let _shared = store.lock_shared()?;
    let scratch = Scratch::new(&store.root)?;
    let counting = Counting {
        inner: input,
        read: 0,
        total,
        observer,
        reported: 0,
    };
    let buffered = BufReader::with_capacity(1 << 20, counting);
    let (outer_compression, decoded) =
        layer::decompress(buffered).map_err(|e| aerr(read_msg(&e)))?;
    let mut peek = Peek::new(decoded);
    let head = peek.fill(1024).map_err(|e| aerr(read_msg(&e)))?;
    if head.is_empty() {
        return Err(aerr("empty file, not an archive".into()));
    }
    if !layer::looks_like_tar(head) {
        return Err(aerr(
            "not a tar archive (nor a gzip or zstd compressed one)".into(),
        ));
    }
    if is_image_archive(head) {
        let mut staged = stream_archive(store, &scratch, &mut peek, name)?;
        let format = if staged.meta.contains_key("manifest.json") {
            Format::DockerArchive {
                oci: staged.meta.contains_key("index.json"),
            }
        } else if staged.meta.contains_key("index.json") {
            Format::OciLayout
        } else {
            return Err(aerr(
                "no manifest.json or index.json: not a docker save or OCI archive".into(),
            ));
        };
        observer.format(&format);
        let plans = match format {
            Format::DockerArchive { .. } => plan_docker(&staged, name)?,
            _ => plan_oci(store, &staged, name, opts.platform.as_ref())?,
        };
        if plans.is_empty() {
            return Err(aerr("the archive holds no image".into()));
        }
        if !opts.tags.is_empty() && plans.len() > 1 {
            return Err(Error::InvalidArgument(format!(
                "{name}: --tag needs an archive with one image, this one has {}",
                plans.len()
            )));
        }
        let images = commit_plans(store, &scratch, &mut staged, plans, opts, name)?;
        Ok(ImportReport { format, images })
    } else {
        let format = Format::Rootfs(outer_compression);
        observer.format(&format);
        let images = import_rootfs(store, &scratch, &mut peek, name, opts)?;
        Ok(ImportReport { format, images })
    }
}

/// Error text for a failed read of the input: say "truncated" for an early end.
fn read_msg(e: &io::Error) -> String {
    if e.kind() == io::ErrorKind::UnexpectedEof {
        "truncated archive (unexpected end of data)".into()
    } else {
        e.to_string()
    }
}

/// Is the first tar header of an image archive, or of a root file system?
fn is_image_archive(head: &[u8]) -> bool {
    let field = |r: std::ops::Range<usize>| {
        let b = &head[r];
        let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
        String::from_utf8_lossy(&b[..end]).into_owned()
    };
    let mut name = field(0..100);
    let prefix = field(345..500);
    if &head[257..263] == b"ustar\0" && !prefix.is_empty() {
        name = format!("{prefix}/{name}");
    }
    let name = name.trim_start_matches("./");
    // PAX header names: "PaxHeaders.123/NAME" or "./PaxHeaders/NAME".
    let name = match name.split_once('/') {
        Some((first, rest)) if first.starts_with("PaxHeaders") => rest,
        _ => name,
    };
    let first = name.split('/').next().unwrap_or("");
    matches!(
        first,
        "manifest.json" | "index.json" | "oci-layout" | "repositories" | "blobs"
    ) || (first.len() >= 64 && first[..64].bytes().all(|b| b.is_ascii_hexdigit()))
        // Hand-made docker save archives: any directory holding the classic files.
        || name.ends_with("/layer.tar")
        || name.ends_with("/VERSION")
        || name.ends_with("/json")
}

/// Everything the outer pass found.
struct StagedArchive {
    /// Small metadata files, by cleaned archive path.
    meta: HashMap<String, Vec<u8>>,
    /// Other files, copied into scratch and hashed.
    files: HashMap<String, StagedBlob>,
    /// Symlinks and hardlinks between archive files (classic docker save dedups layers so).
    links: HashMap<String, String>,
    /// Unpacks started or finished, by blob digest.
    unpacks: Unpacks,
}

impl StagedArchive {
    fn resolve(&self, path: &str) -> String {
        let mut p = clean_name(path);
        for _ in 0..16 {
            match self.links.get(&p) {
                Some(t) => p = t.clone(),
                None => break,
            }
        }
        p
    }

    fn file(&self, path: &str, archive: &str) -> Result<&StagedBlob> {
        let p = self.resolve(path);
        self.files.get(&p).ok_or_else(|| Error::Archive {
            file: archive.into(),
            msg: format!("refers to {path:?}, which is not in the archive"),
        })
    }

    /// A blob of an OCI layout by digest (`blobs/sha256/<hex>`).
    fn blob(&self, d: &Digest, archive: &str) -> Result<&StagedBlob> {
        self.file(&format!("blobs/sha256/{}", d.hex()), archive)
    }
}

/// Archive names are only map keys, never opened on the host; this just makes the
/// spellings of one name agree (`./a//b` = `a/b`, `a/../b` = `b`).
fn clean_name(p: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for c in p.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            c => out.push(c),
        }
    }
    out.join("/")
}

fn is_meta_name(n: &str) -> bool {
    matches!(
        n,
        "manifest.json" | "index.json" | "oci-layout" | "repositories"
    ) || n.ends_with(".json")
        || n.ends_with("/json")
        || n.ends_with("/VERSION")
}

fn stream_archive(
    store: &Store,
    scratch: &Scratch,
    input: &mut dyn Read,
    name: &str,
) -> Result<StagedArchive> {
    let aerr = |msg: String| Error::Archive {
        file: name.to_string(),
        msg,
    };
    let unpacks = Unpacks::new(scratch.dir.clone());
    let mut staged = StagedArchive {
        meta: HashMap::new(),
        files: HashMap::new(),
        links: HashMap::new(),
        unpacks,
    };
    let (mut guard, budget) = layer::BudgetReader::new(input);
    let mut archive = tar::Archive::new(&mut guard);
    let mut meta_total = 0u64;
    let mut buf = vec![0u8; 256 << 10];
    let entries = archive.entries().map_err(|e| aerr(read_msg(&e)))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| aerr(read_msg(&e)))?;
        budget.unlimited();
        let path = clean_name(&String::from_utf8_lossy(&entry.path_bytes()));
        let kind = entry.header().entry_type();
        if kind.is_symlink() || kind.is_hard_link() {
            if let Some(target) = entry.link_name_bytes() {
                let target = String::from_utf8_lossy(&target).into_owned();
                let resolved = if kind.is_symlink() && !target.starts_with('/') {
                    let dir = path.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
                    clean_name(&format!("{dir}/{target}"))
                } else {
                    clean_name(&target)
                };
                staged.links.insert(path, resolved);
            }
        } else if kind.is_file() {
            let size = entry.size();
            if is_meta_name(&path) && size <= model::MAX_JSON && meta_total + size <= MAX_META_TOTAL
            {
                let mut data = Vec::with_capacity(size as usize);
                entry
                    .read_to_end(&mut data)
                    .map_err(|e| aerr(read_msg(&e)))?;
                if data.len() as u64 != size {
                    return Err(aerr(format!("{path}: truncated archive")));
                }
                meta_total += size;
                staged.meta.insert(path, data);
            } else {
                let mut w = store.content.writer(&scratch.dir)?;
                let mut head: Vec<u8> = Vec::new();
                loop {
                    let n = entry.read(&mut buf).map_err(|e| aerr(read_msg(&e)))?;
                    if n == 0 {
                        break;
                    }
                    if head.len() < 1024 {
                        let take = (1024 - head.len()).min(n);
                        head.extend_from_slice(&buf[..take]);
                    }
                    w.write_all(&buf[..n])
                        .map_err(|e| Error::io(w.temp_path().to_path_buf(), e))?;
                }
                if w.written() != size {
                    return Err(aerr(format!("{path}: truncated archive")));
                }
                let blob = w.stage()?;
                if let Some(hex) = path.strip_prefix("blobs/sha256/")
                    && hex != blob.digest.hex()
                {
                    return Err(Error::DigestMismatch {
                        object: format!("{name}: {path}"),
                        expected: format!("sha256:{hex}"),
                        actual: blob.digest.to_string(),
                    });
                }
                if looks_like_layer(&head) && store.diff_id_of_blob(&blob.digest)?.is_none() {
                    staged.unpacks.start(&blob, &path);
                }
                staged.files.insert(path, blob);
            }
        }
        budget.headers();
    }
    let _ = archive;
    // Consume the rest (tar padding); an early end here is harmless.
    budget.unlimited();
    let _ = io::copy(&mut guard, &mut io::sink());
    Ok(staged)
}

fn looks_like_layer(head: &[u8]) -> bool {
    match Compression::detect(head) {
        Compression::Gzip | Compression::Zstd => true,
        Compression::None => layer::looks_like_tar(head),
        _ => false,
    }
}

/// One image to record: its config, manifest and layer blobs.
struct Plan {
    config: Vec<u8>,
    config_digest: Digest,
    /// The manifest bytes as found in the archive, or None to generate one.
    manifest: Option<(Vec<u8>, String)>,
    /// (archive blob, media type from the manifest, when there is one) per layer.
    layers: Vec<(StagedBlob, Option<String>)>,
    tags: Vec<String>,
}

#[derive(Deserialize)]
struct DockerManifestEntry {
    #[serde(rename = "Config")]
    config: String,
    #[serde(rename = "RepoTags", default)]
    repo_tags: Option<Vec<String>>,
    #[serde(rename = "Layers", default)]
    layers: Vec<String>,
}

fn plan_docker(staged: &StagedArchive, name: &str) -> Result<Vec<Plan>> {
    let aerr = |msg: String| Error::Archive {
        file: name.to_string(),
        msg,
    };
    let entries: Vec<DockerManifestEntry> =
        serde_json::from_slice(&staged.meta["manifest.json"])
            .map_err(|e| aerr(format!("invalid manifest.json: {e}")))?;
    // Docker 25+ also writes an OCI index; it names the manifest blob of each image.
    let mut manifests_by_config: HashMap<String, (Vec<u8>, String)> = HashMap::new();
    if let Some(index) = staged.meta.get("index.json")
        && let Ok(index) = Manifest::parse(index, "index.json")
    {
        for d in index.manifests.unwrap_or_default() {
            let Ok(digest) = d.digest("index.json") else {
                continue;
            };
            let Ok(blob) = staged.blob(&digest, name) else {
                continue;
            };
            let Ok(bytes) = std::fs::read(&blob.path) else {
                continue;
            };
            if let Ok(m) = Manifest::parse(&bytes, "manifest")
                && !m.is_index()
                && let Some(c) = &m.config
            {
                let mt = m
                    .media_type
                    .clone()
                    .unwrap_or_else(|| model::OCI_MANIFEST.into());
                manifests_by_config.insert(c.digest.clone(), (bytes, mt));
            }
        }
    }
    let mut plans = Vec::new();
    for e in entries {
        let config = staged.read_small(&e.config, name)?;
        let config_digest = Digest::of(&config);
        if let Some(hex) = e.config.strip_prefix("blobs/sha256/")
            && hex != config_digest.hex()
        {
            return Err(Error::DigestMismatch {
                object: format!("{name}: {}", e.config),
                expected: format!("sha256:{hex}"),
                actual: config_digest.to_string(),
            });
        }
        let mut layers = Vec::new();
        for l in &e.layers {
            layers.push((staged.file(l, name)?.clone(), None));
        }
        let manifest = manifests_by_config.remove(config_digest.as_str());
        // Take the layer media types from the manifest when it agrees with manifest.json.
        if let Some((bytes, _)) = &manifest
            && let Ok(m) = Manifest::parse(bytes, "manifest")
            && let Some(ml) = m.layers
            && ml.len() == layers.len()
        {
            for (i, d) in ml.iter().enumerate() {
                if d.digest == layers[i].0.digest.as_str() {
                    layers[i].1 = Some(d.media_type.clone());
                }
            }
        }
        let manifest = manifest.filter(|(bytes, _)| manifest_matches(bytes, &layers));
        plans.push(Plan {
            config,
            config_digest,
            manifest,
            layers,
            tags: e.repo_tags.unwrap_or_default(),
        });
    }
    Ok(plans)
}

/// Keep an archive's manifest only when its layers are exactly the blobs being imported.
fn manifest_matches(bytes: &[u8], layers: &[(StagedBlob, Option<String>)]) -> bool {
    match Manifest::parse(bytes, "manifest") {
        Ok(m) => {
            let ml = m.layers.unwrap_or_default();
            ml.len() == layers.len()
                && ml
                    .iter()
                    .zip(layers)
                    .all(|(d, (b, _))| d.digest == b.digest.as_str())
        }
        Err(_) => false,
    }
}

impl StagedArchive {
    /// A metadata file (config, manifest) by archive path, whole.
    fn read_small(&self, path: &str, archive: &str) -> Result<Vec<u8>> {
        let p = self.resolve(path);
        if let Some(b) = self.meta.get(&p) {
            return Ok(b.clone());
        }
        if let Some(f) = self.files.get(&p) {
            if f.size > model::MAX_JSON {
                return Err(Error::Archive {
                    file: archive.into(),
                    msg: format!("{path}: too large for a manifest or config"),
                });
            }
            return std::fs::read(&f.path).at(&f.path);
        }
        Err(Error::Archive {
            file: archive.into(),
            msg: format!("refers to {path:?}, which is not in the archive"),
        })
    }
}

fn plan_oci(
    store: &Store,
    staged: &StagedArchive,
    name: &str,
    platform: Option<&Platform>,
) -> Result<Vec<Plan>> {
    let _ = store;
    let aerr = |msg: String| Error::Archive {
        file: name.to_string(),
        msg,
    };
    let index = Manifest::parse(&staged.meta["index.json"], &format!("{name}: index.json"))?;
    let want = platform.cloned().unwrap_or_else(Platform::host);
    let mut plans = Vec::new();
    for top in index.manifests.clone().unwrap_or_default() {
        let mut tags = Vec::new();
        if let Some(a) = &top.annotations {
            if let Some(n) = a.get("io.containerd.image.name") {
                tags.push(n.clone());
            } else if let Some(n) = a.get("org.opencontainers.image.ref.name")
                && (n.contains('/') || n.contains(':'))
            {
                tags.push(n.clone());
            }
        }
        let Some((bytes, mt, _)) = select_manifest(staged, &top, &want, name, 0)? else {
            continue;
        };
        let m = Manifest::parse(&bytes, &format!("{name}: manifest"))?;
        let config_desc = m
            .config
            .clone()
            .ok_or_else(|| aerr("manifest without a config".into()))?;
        let config_digest = config_desc.digest(name)?;
        let config = std::fs::read(&staged.blob(&config_digest, name)?.path)
            .map_err(|e| aerr(e.to_string()))?;
        let mut layers = Vec::new();
        for l in m.layers.clone().unwrap_or_default() {
            let d = l.digest(name)?;
            layers.push((staged.blob(&d, name)?.clone(), Some(l.media_type.clone())));
        }
        plans.push(Plan {
            config,
            config_digest,
            manifest: Some((bytes, mt)),
            layers,
            tags,
        });
    }
    if plans.is_empty() && index.manifests.as_ref().is_some_and(|m| !m.is_empty()) {
        return Err(aerr(format!(
            "no image for platform {want} in the archive (use --platform)"
        )));
    }
    Ok(plans)
}

/// Follow an index entry down to an image manifest for `want`. Returns the manifest bytes,
/// its media type and its digest.
fn select_manifest(
    staged: &StagedArchive,
    desc: &Descriptor,
    want: &Platform,
    name: &str,
    depth: u32,
) -> Result<Option<(Vec<u8>, String, Digest)>> {
    if depth > 4 {
        return Err(Error::Archive {
            file: name.into(),
            msg: "indexes nested too deeply".into(),
        });
    }
    if let Some(p) = &desc.platform
        && !want.matches(p)
    {
        return Ok(None);
    }
    let d = desc.digest(name)?;
    let blob = staged.blob(&d, name)?;
    if blob.size > model::MAX_JSON {
        return Err(Error::Archive {
            file: name.into(),
            msg: format!("manifest {d} is too large"),
        });
    }
    let bytes = std::fs::read(&blob.path).at(&blob.path)?;
    let m = Manifest::parse(&bytes, &format!("{name}: {d}"))?;
    if m.is_index() || model::is_index_type(&desc.media_type) {
        let mut candidates = m.manifests.unwrap_or_default();
        // Prefer exact matches (variant included), then the first compatible one.
        candidates.sort_by_key(|c| c.platform.as_ref().is_some_and(|p| p != want));
        for c in candidates {
            if c.platform.is_none() {
                // Attestations and other non-image entries carry no platform.
                continue;
            }
            if let Some(found) = select_manifest(staged, &c, want, name, depth + 1)? {
                return Ok(Some(found));
            }
        }
        return Ok(None);
    }
    let mt = m.media_type.clone().unwrap_or_else(|| {
        if desc.media_type.is_empty() {
            model::OCI_MANIFEST.into()
        } else {
            desc.media_type.clone()
        }
    });
    // A manifest without a platform in the index: check its config.
    if desc.platform.is_none()
        && let Some(c) = &m.config
        && let Ok(cd) = c.digest(name)
        && let Ok(cb) = staged.blob(&cd, name)
        && let Ok(bytes) = std::fs::read(&cb.path)
        && let Ok(cfg) = ImageConfig::parse(&bytes, name)
        && !cfg.os.is_empty()
        && !want.matches(&Platform {
            architecture: cfg.architecture.clone(),
            os: cfg.os.clone(),
            variant: cfg.variant.clone(),
        })
    {
        // Single-image layouts are taken whatever their platform, as docker load does;
        // running them is what fails, with a clear message then.
        if depth > 0 {
            return Ok(None);
        }
    }
    Ok(Some((bytes, mt, d)))
}

fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
}

/// Turn the archive's tag strings and the user's into stored names.
fn stored_tags(found: &[String], extra: &[Reference], archive: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for t in found {
        match Reference::parse(t) {
            Ok(r) if r.tag.is_some() => out.push((r.tagged().unwrap_or_default(), r.to_string())),
            _ => eprintln!("barge: warning: {archive}: ignoring invalid tag {t:?}"),
        }
    }
    for r in extra {
        if let Some(t) = r.tagged() {
            out.push((t, r.to_string()));
        }
    }
    out.sort();
    out.dedup();
    out
}

fn commit_plans(
    store: &mut Store,
    scratch: &Scratch,
    staged: &mut StagedArchive,
    plans: Vec<Plan>,
    opts: &ImportOptions,
    name: &str,
) -> Result<Vec<ImportedImage>> {
    let mut pending = HashMap::new();
    let mut ready = Vec::new();
    for plan in plans {
        let what = format!("{name}: image {}", plan.config_digest.short());
        let config = ImageConfig::parse(&plan.config, &what)?;
        let diff_ids = config.diff_ids(&what)?;
        if diff_ids.len() != plan.layers.len() {
            return Err(Error::Archive {
                file: name.into(),
                msg: format!(
                    "image {} lists {} layers but its config has {} diff IDs",
                    plan.config_digest.short(),
                    plan.layers.len(),
                    diff_ids.len()
                ),
            });
        }
        let unpacks = &mut staged.unpacks;
        let layers = resolve_layers(
            store,
            &mut |b: &StagedBlob| unpacks.take(b, &ApplyOptions::default()),
            &mut pending,
            &diff_ids,
            &plan.layers,
            &what,
        )?;
        let tags = stored_tags(&plan.tags, &opts.tags, name);
        let blobs = plan.layers.iter().map(|(b, _)| b.clone()).collect();
        ready.push(Ready::new(
            &plan.config,
            &config,
            plan.manifest,
            layers,
            blobs,
            tags,
        ));
    }
    publish_images(store, scratch, pending, ready)
}

/// `docker import`: one layer from a root file system tarball. The blob kept is the
/// uncompressed tar, so its digest is the diff ID.
fn import_rootfs(
    store: &mut Store,
    scratch: &Scratch,
    input: &mut (dyn Read + Send),
    name: &str,
    opts: &ImportOptions,
) -> Result<Vec<ImportedImage>> {
    let dir = scratch.dir.join("rootfs");
    let diff = dir.join("diff");
    std::fs::create_dir_all(&diff).at(&diff)?;
    let writer = store.content.writer(&scratch.dir)?;
    let mut tee = Tee {
        inner: input,
        out: writer,
    };
    let applied =
        layer::apply(&mut tee, &diff, name, &ApplyOptions::default()).map_err(|e| match e {
            Error::Layer { msg, .. } => Error::Archive {
                file: name.to_string(),
                msg,
            },
            e => e,
        })?;
    let blob = tee.out.stage()?;
    let platform = opts.platform.clone().unwrap_or_else(Platform::host);
    let created = now_rfc3339();
    let config = ImageConfig {
        architecture: platform.architecture.clone(),
        os: platform.os.clone(),
        variant: platform.variant.clone(),
        created: Some(created.clone()),
        author: None,
        config: Some(serde_json::json!({})),
        rootfs: model::RootFs {
            kind: "layers".into(),
            diff_ids: vec![applied.diff_id.to_string()],
        },
        history: vec![model::History {
            created: Some(created),
            created_by: Some("barge import".into()),
            comment: Some(
                opts.message
                    .clone()
                    .unwrap_or_else(|| format!("Imported from {name}")),
            ),
            ..Default::default()
        }],
    };
    let config_bytes = serde_json::to_vec(&config).expect("config serializes");
    let mut pending = HashMap::new();
    let chain = applied.diff_id.clone();
    let record = match store.layer(&chain)? {
        Some(existing) => existing,
        None => {
            let r = LayerRecord {
                chain_id: chain.clone(),
                diff_id: applied.diff_id.clone(),
                parent: None,
                blob: Some(blob.digest.clone()),
                media_type: Some(Compression::None.layer_media_type().into()),
                blob_size: Some(blob.size),
                size: applied.size,
            };
            pending.insert(
                chain,
                PendingLayer {
                    record: r.clone(),
                    staged_dir: Some(dir),
                },
            );
            r
        }
    };
    let tags = stored_tags(&[], &opts.tags, name);
    let ready = vec![Ready::new(
        &config_bytes,
        &config,
        None,
        vec![record],
        vec![blob],
        tags,
    )];
    publish_images(store, scratch, pending, ready)
}

/// Put the images in the store and say what was imported.
fn publish_images(
    store: &mut Store,
    scratch: &Scratch,
    pending: HashMap<Digest, PendingLayer>,
    ready: Vec<Ready>,
) -> Result<Vec<ImportedImage>> {
    publish(store, scratch, pending, &ready)?;
    Ok(ready
        .into_iter()
        .map(|r| ImportedImage {
            id: r.record.id,
            tags: r.familiar,
        })
        .collect())
}

/// Copies everything read into a blob writer.
struct Tee<'a> {
    inner: &'a mut (dyn Read + Send),
    out: crate::content::BlobWriter,
}

impl Read for Tee<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.out.write_all(&buf[..n])?;
        Ok(n)
    }
}

// ---------------------------------------------------------------------------------------

/// Unpack jobs running on worker threads, keyed by blob digest.
struct Unpacks {
    scratch: PathBuf,
    tx: Option<mpsc::Sender<Job>>,
    results: Arc<Mutex<HashMap<Digest, JobResult>>>,
    started: HashMap<Digest, ()>,
    done: mpsc::Receiver<Digest>,
    workers: Vec<std::thread::JoinHandle<()>>,
    counter: usize,
}

struct Job {
    blob: StagedBlob,
    dir: PathBuf,
    label: String,
}

type JobResult = std::result::Result<(PathBuf, Applied), JobError>;

/// A worker's failure: as text (named after the layer by `take`), or whole when the error
/// carries a hint of its own.
enum JobError {
    Text(String),
    Whole(Error),
}

impl Unpacks {
    fn new(scratch: PathBuf) -> Unpacks {
        let (tx, rx) = mpsc::channel::<Job>();
        let (done_tx, done) = mpsc::channel::<Digest>();
        let rx = Arc::new(Mutex::new(rx));
        let results: Arc<Mutex<HashMap<Digest, JobResult>>> = Arc::default();
        let n = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
            .clamp(1, 8);
        let opts = ApplyOptions::default();
        let workers = (0..n)
            .map(|_| {
                let rx = rx.clone();
                let results = results.clone();
                let done_tx = done_tx.clone();
                let opts = opts.clone();
                std::thread::Builder::new()
                    .name("unpack".into())
                    .stack_size(8 << 20)
                    .spawn(move || {
                        loop {
                            let job = match rx.lock().map(|r| r.recv()) {
                                Ok(Ok(j)) => j,
                                _ => return,
                            };
                            let r = run_job(&job, &opts).map_err(|e| match e {
                                // Kept whole: it carries its fix.
                                e @ Error::Hinted { .. } => JobError::Whole(e),
                                e => JobError::Text(e.to_string()),
                            });
                            let d = job.blob.digest.clone();
                            results.lock().expect("results lock").insert(d.clone(), r);
                            let _ = done_tx.send(d);
                        }
                    })
                    .expect("spawn unpack worker")
            })
            .collect();
        Unpacks {
            scratch,
            tx: Some(tx),
            results,
            started: HashMap::new(),
            done,
            workers,
            counter: 0,
        }
    }

    fn next_dir(&mut self) -> PathBuf {
        self.counter += 1;
        self.scratch.join(format!("layer-{}", self.counter))
    }

    fn start(&mut self, blob: &StagedBlob, label: &str) {
        if self.started.contains_key(&blob.digest) {
            return;
        }
        self.started.insert(blob.digest.clone(), ());
        let dir = self.next_dir();
        if let Some(tx) = &self.tx {
            let _ = tx.send(Job {
                blob: blob.clone(),
                dir,
                label: label.to_string(),
            });
        }
    }

    /// The unpacked directory of `blob`: the speculative job's result, or a fresh unpack
    /// when none was started or its result was already used for another chain.
    fn take(&mut self, blob: &StagedBlob, opts: &ApplyOptions) -> Result<(PathBuf, Applied)> {
        if self.started.contains_key(&blob.digest) {
            loop {
                if let Some(r) = self
                    .results
                    .lock()
                    .expect("results lock")
                    .remove(&blob.digest)
                {
                    self.started.remove(&blob.digest);
                    return match r {
                        Ok(r) => Ok(r),
                        Err(JobError::Whole(e)) => Err(e),
                        Err(JobError::Text(msg)) => Err(Error::Layer {
                            layer: blob.digest.to_string(),
                            msg,
                        }),
                    };
                }
                if self.done.recv().is_err() {
                    break;
                }
            }
        }
        let dir = self.next_dir();
        let job = Job {
            blob: blob.clone(),
            dir,
            label: blob.digest.to_string(),
        };
        run_job(&job, opts)
    }
}

impl Drop for Unpacks {
    fn drop(&mut self) {
        self.tx = None;
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }
}

fn run_job(job: &Job, opts: &ApplyOptions) -> Result<(PathBuf, Applied)> {
    let diff = job.dir.join("diff");
    std::fs::create_dir_all(&diff).at(&diff)?;
    let f = std::fs::File::open(&job.blob.path).at(&job.blob.path)?;
    let applied = layer::apply(f, &diff, &job.label, opts)?;
    Ok((job.dir.clone(), applied))
}

// ---------------------------------------------------------------------------------------

/// Counts bytes read for the progress observer.
struct Counting<'a> {
    inner: Box<dyn Read + Send>,
    read: u64,
    total: Option<u64>,
    observer: &'a dyn ImportObserver,
    reported: u64,
}

impl Read for Counting<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        if self.read - self.reported >= (1 << 20) || n == 0 {
            self.reported = self.read;
            self.observer.bytes(self.read, self.total);
        }
        Ok(n)
    }
}

/// A reader that can look at its first bytes and then replay them.
struct Peek<R> {
    inner: R,
    head: Vec<u8>,
    pos: usize,
}

impl<R: Read> Peek<R> {
    fn new(inner: R) -> Self {
        Peek {
            inner,
            head: Vec::new(),
            pos: 0,
        }
    }

    fn fill(&mut self, n: usize) -> io::Result<&[u8]> {
        while self.head.len() < n {
            let mut buf = vec![0u8; n - self.head.len()];
            let got = self.inner.read(&mut buf)?;
            if got == 0 {
                break;
            }
            self.head.extend_from_slice(&buf[..got]);
        }
        Ok(&self.head)
    }
}

impl<R: Read> Read for Peek<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos < self.head.len() {
            let n = (self.head.len() - self.pos).min(buf.len());
            buf[..n].copy_from_slice(&self.head[self.pos..self.pos + n]);
            self.pos += n;
            return Ok(n);
        }
        self.inner.read(buf)
    }
}
