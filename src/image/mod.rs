//! Image operations on the store: resolve a name, list, inspect, tag, remove, history,
//! prune and disk usage. Nothing here prints; the CLI renders what these return.

pub mod commit;
pub mod model;

use std::collections::HashSet;

use serde_json::{Value, json};

use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::reference::{Reference, familiar_repo, matches_pattern, split_tag};
use crate::store::{ImageRecord, Store};
use model::ImageConfig;

/// Find an image by tag, `name@digest`, full ID or unique ID prefix, as Docker does.
pub fn resolve(store: &Store, name: &str) -> Result<ImageRecord> {
    let by_id = |id: &Digest| store.image(id);
    if let Some(hex) = name.strip_prefix("sha256:") {
        return match Digest::from_hex(hex) {
            Ok(d) => by_id(&d)?.ok_or_else(|| Error::NoSuchImage(name.to_string())),
            Err(_) => by_prefix(store, hex, name),
        };
    }
    if let Ok(r) = Reference::parse(name) {
        if let Some(d) = &r.digest {
            if let Some(id) = store.image_by_repo_digest(&format!("{}@{d}", r.full_name()))? {
                return by_id(&id)?.ok_or_else(|| Error::NoSuchImage(name.to_string()));
            }
            // An image whose manifest has this digest (imported archives carry no repo digests).
            if let Some(img) = store
                .images()?
                .into_iter()
                .find(|i| i.manifest.as_ref() == Some(d))
            {
                return Ok(img);
            }
        } else if let Some(tagged) = r.tagged()
            && let Some(id) = store.image_by_tag(&tagged)?
        {
            return by_id(&id)?.ok_or_else(|| Error::NoSuchImage(name.to_string()));
        }
    }
    if !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    {
        return by_prefix(store, name, name);
    }
    Err(Error::NoSuchImage(name.to_string()))
}

fn by_prefix(store: &Store, hex: &str, name: &str) -> Result<ImageRecord> {
    let found = store.images_by_prefix(hex)?;
    match found.as_slice() {
        [one] => store
            .image(one)?
            .ok_or_else(|| Error::NoSuchImage(name.to_string())),
        [] => Err(Error::NoSuchImage(name.to_string())),
        _ => Err(Error::InvalidArgument(format!(
            "image ID prefix {name:?} is ambiguous: {} images match",
            found.len()
        ))),
    }
}

/// The image's config document, parsed, and its raw bytes.
pub fn config(store: &Store, image: &ImageRecord) -> Result<(ImageConfig, Vec<u8>)> {
    let bytes = store.content.read(&image.id, model::MAX_JSON)?;
    let c = ImageConfig::parse(&bytes, &format!("image {}", image.id.short()))?;
    Ok((c, bytes))
}

/// One row of `barge images`: one per tag, or one `<none>` row for an untagged image.
#[derive(Clone, Debug)]
pub struct Row {
    pub repository: String,
    pub tag: String,
    pub digest: Option<String>,
    pub image: ImageRecord,
}

/// The rows of `barge images`, filtered by an optional reference pattern.
pub fn list(store: &Store, pattern: Option<&str>, all: bool) -> Result<Vec<Row>> {
    let _ = all; // barge keeps no intermediate images; -a shows the same list.
    let mut rows = Vec::new();
    for image in store.images()? {
        let digest_for = |repo: &str| {
            image
                .repo_digests
                .iter()
                .find(|d| d.split('@').next() == Some(repo))
                .and_then(|d| d.split('@').nth(1))
                .map(str::to_string)
        };
        if image.tags.is_empty() {
            if pattern.is_some() {
                continue;
            }
            rows.push(Row {
                repository: "<none>".into(),
                tag: "<none>".into(),
                digest: image
                    .repo_digests
                    .first()
                    .and_then(|d| d.split('@').nth(1))
                    .map(str::to_string),
                image: image.clone(),
            });
            continue;
        }
        for t in &image.tags {
            let (repo, tag) = split_tag(t);
            if let Some(p) = pattern
                && !matches_pattern(p, repo, tag)
            {
                continue;
            }
            rows.push(Row {
                repository: familiar_repo(repo),
                tag: tag.to_string(),
                digest: digest_for(repo),
                image: image.clone(),
            });
        }
    }
    Ok(rows)
}

/// Docker's `image inspect` document for one image.
pub fn inspect(store: &Store, image: &ImageRecord) -> Result<Value> {
    let (config, _) = config(store, image)?;
    let layers = store.image_layers(&image.id)?;
    let dirs: Vec<String> = layers
        .iter()
        .rev()
        .map(|l| {
            store
                .layer_dir(&l.chain_id)
                .join("diff")
                .display()
                .to_string()
        })
        .collect();
    let repo_tags: Vec<String> = image
        .tags
        .iter()
        .map(|t| {
            let (r, tag) = split_tag(t);
            format!("{}:{tag}", familiar_repo(r))
        })
        .collect();
    let repo_digests: Vec<String> = image
        .repo_digests
        .iter()
        .map(|d| match d.split_once('@') {
            Some((r, dg)) => format!("{}@{dg}", familiar_repo(r)),
            None => d.clone(),
        })
        .collect();
    let mut v = json!({
        "Id": image.id.to_string(),
        "RepoTags": repo_tags,
        "RepoDigests": repo_digests,
        "Parent": "",
        "Comment": config.history.last().and_then(|h| h.comment.clone()).unwrap_or_default(),
        "Created": config.created.clone().unwrap_or_default(),
        "DockerVersion": "",
        "Author": config.author.clone().unwrap_or_default(),
        "Config": config.config.clone().unwrap_or(Value::Null),
        "Architecture": config.architecture,
        "Os": config.os,
        "Size": image.size,
        "GraphDriver": {
            "Name": "overlay",
            "Data": { "LowerDir": dirs.join(":") }
        },
        "RootFS": {
            "Type": "layers",
            "Layers": config.rootfs.diff_ids,
        },
        "Metadata": {
            "LastTagTime": chrono::DateTime::from_timestamp(image.added, 0)
                .map(|t| t.to_rfc3339())
                .unwrap_or_default()
        }
    });
    if let Some(variant) = &config.variant {
        v["Variant"] = json!(variant);
    }
    if let Some(m) = &image.manifest {
        v["Descriptor"] = json!({
            "mediaType": image.manifest_type.clone().unwrap_or_default(),
            "digest": m.to_string(),
            "size": store.content.size(m).unwrap_or(0),
        });
    }
    Ok(v)
}

/// One row of `barge history`, newest first.
#[derive(Clone, Debug)]
pub struct HistoryRow {
    /// The image ID for the top row, None (`<missing>`) below, as Docker shows it.
    pub id: Option<Digest>,
    pub created: Option<String>,
    pub created_by: String,
    pub size: u64,
    pub comment: String,
}

pub fn history(store: &Store, image: &ImageRecord) -> Result<Vec<HistoryRow>> {
    let (config, _) = config(store, image)?;
    let layers = store.image_layers(&image.id)?;
    let mut sizes = layers.iter().map(|l| l.size);
    let mut rows = Vec::new();
    if config.history.is_empty() {
        for l in &layers {
            rows.push(HistoryRow {
                id: None,
                created: None,
                created_by: String::new(),
                size: l.size,
                comment: String::new(),
            });
        }
    }
    for h in &config.history {
        let size = if h.empty_layer {
            0
        } else {
            sizes.next().unwrap_or(0)
        };
        rows.push(HistoryRow {
            id: None,
            created: h.created.clone(),
            created_by: h.created_by.clone().unwrap_or_default(),
            size,
            comment: h.comment.clone().unwrap_or_default(),
        });
    }
    rows.reverse();
    if let Some(first) = rows.first_mut() {
        first.id = Some(image.id.clone());
    }
    Ok(rows)
}

/// Point a new tag at an image.
pub fn tag(store: &mut Store, source: &str, target: &str) -> Result<()> {
    let image = resolve(store, source)?;
    let r = Reference::parse(target)?;
    if r.digest.is_some() {
        return Err(Error::InvalidArgument(format!(
            "refusing to create a tag with a digest reference: {target}"
        )));
    }
    store.tag(&r.tagged().expect("tag defaults to latest"), &image.id)
}

/// What `rmi` did, in order, for the CLI to print as Docker does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Removed {
    Untagged(String),
    Deleted(Digest),
}

/// `rmi NAME`: untag; delete the image when no tag is left. `rmi ID` of an image with
/// several tags is a conflict unless `force`, which removes every tag.
pub fn remove(store: &mut Store, name: &str, force: bool) -> Result<Vec<Removed>> {
    let image = resolve(store, name)?;
    let mut out = Vec::new();
    let by_tag = Reference::parse(name)
        .ok()
        .and_then(|r| r.tagged())
        .filter(|t| image.tags.contains(t));
    if let Some(t) = &by_tag {
        if image.tags.len() > 1 {
            store.untag(t)?;
            let (repo, tag) = split_tag(t);
            out.push(Removed::Untagged(format!("{}:{tag}", familiar_repo(repo))));
            return Ok(out);
        }
    } else if image.tags.len() > 1 && !force {
        return Err(Error::Conflict(format!(
            "unable to delete {} (must be forced) - image is referenced in multiple repositories",
            image.id.short()
        )));
    }
    let users = store.containers_using(&image.id)?;
    if users > 0 {
        return Err(Error::Conflict(format!(
            "unable to delete {} - image is being used by {users} container(s); remove them first",
            image.id.short()
        )));
    }
    for t in &image.tags {
        store.untag(t)?;
        let (repo, tag) = split_tag(t);
        out.push(Removed::Untagged(format!("{}:{tag}", familiar_repo(repo))));
    }
    for d in &image.repo_digests {
        store.untag(d)?;
        match d.split_once('@') {
            Some((r, dg)) => out.push(Removed::Untagged(format!("{}@{dg}", familiar_repo(r)))),
            None => out.push(Removed::Untagged(d.clone())),
        }
    }
    delete(store, &image.id)?;
    out.push(Removed::Deleted(image.id.clone()));
    Ok(out)
}

/// Delete an image record, then the files nobody uses any more.
fn delete(store: &mut Store, id: &Digest) -> Result<()> {
    let (layers, blobs) = store.delete_image(id)?;
    // Without the exclusive lock an import may be adopting one of these directories; leave
    // them for `image prune`, which waits for the lock.
    if let Some(_lock) = store.try_lock_exclusive()? {
        for chain in layers {
            store.remove_layer_dir(&chain)?;
        }
        for b in blobs {
            store.content.remove(&b)?;
        }
    }
    Ok(())
}

/// What `image prune` removed.
#[derive(Default, Debug)]
pub struct PruneReport {
    pub images: Vec<Removed>,
    pub reclaimed: u64,
}

/// Remove dangling images (all unused images with `all`), then every layer directory, layer
/// row and blob no image refers to, interrupted downloads, and leftovers of killed processes.
pub fn prune(store: &mut Store, all: bool) -> Result<PruneReport> {
    let mut report = PruneReport::default();
    let sizes: std::collections::HashMap<String, u64> = store
        .all_layers()?
        .into_iter()
        .map(|l| (l.chain_id.hex().to_string(), l.size))
        .collect();
    for image in store.images()? {
        if (all || image.tags.is_empty()) && store.containers_using(&image.id)? == 0 {
            for t in image.tags.iter().chain(&image.repo_digests) {
                store.untag(t)?;
                let (repo, tag) = split_tag(t);
                report
                    .images
                    .push(Removed::Untagged(format!("{}:{tag}", familiar_repo(repo))));
            }
            store.delete_image(&image.id)?;
            report.images.push(Removed::Deleted(image.id.clone()));
        }
    }
    let _lock = store.lock_exclusive()?;
    crate::util::Scratch::sweep(&store.root)?;
    store.delete_unused_layer_rows()?;
    let known: HashSet<String> = store
        .all_layers()?
        .into_iter()
        .map(|l| l.chain_id.hex().to_string())
        .collect();
    let layers_dir = store.root.join("layers");
    if let Ok(rd) = std::fs::read_dir(&layers_dir) {
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if !known.contains(&name) {
                report.reclaimed += sizes.get(&name).copied().unwrap_or(0);
                let p = e.path();
                std::fs::remove_dir_all(&p).map_err(|e| Error::io(&p, e))?;
            }
        }
    }
    // Interrupted downloads: no pull runs while the exclusive lock is held.
    report.reclaimed += store.content.clear_ingest()?;
    let referenced = store.referenced_blobs()?;
    for d in store.content.list()? {
        if !referenced.contains(d.as_str()) {
            report.reclaimed += store.content.size(&d).unwrap_or(0);
            store.content.remove(&d)?;
        }
    }
    Ok(report)
}

/// `system df` numbers for images, from sizes recorded at unpack time.
#[derive(Debug, Default)]
pub struct DiskUsage {
    pub images: usize,
    pub active: usize,
    /// Unpacked size of all layers, shared layers counted once.
    pub size: u64,
    pub reclaimable: u64,
    pub blobs: u64,
}

pub fn disk_usage(store: &Store) -> Result<DiskUsage> {
    let images = store.images()?;
    let layers = store.all_layers()?;
    let size: u64 = layers.iter().map(|l| l.size).sum();
    let blobs: u64 = layers.iter().filter_map(|l| l.blob_size).sum();
    let dangling: u64 = images
        .iter()
        .filter(|i| i.tags.is_empty())
        .map(|i| i.size)
        .sum();
    let mut active = 0;
    for i in &images {
        if store.containers_using(&i.id)? > 0 {
            active += 1;
        }
    }
    Ok(DiskUsage {
        images: images.len(),
        active,
        size,
        reclaimable: dangling.min(size),
        blobs,
    })
}
