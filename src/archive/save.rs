//! `barge save`: write images as a `docker save` archive in the layout Docker 25+ writes:
//! an OCI image layout (`oci-layout`, `index.json`, `blobs/sha256/...`) with the classic
//! `manifest.json` beside it, so docker, podman and barge itself can load it.
//!
//! Blobs are written exactly as stored, so configs (and thus image IDs) and manifests keep
//! their digests through a save/import round trip.

use std::collections::{BTreeMap, HashSet};
use std::io::Write;

use serde::Serialize;

use crate::digest::Digest;
use crate::error::{Error, IoContext, Result};
use crate::image::model::{self, Descriptor, Manifest};
use crate::reference::{familiar_repo, split_tag};
use crate::store::Store;

/// One image to save and the stored tag names to record for it (none: untagged).
pub struct SaveItem {
    pub id: Digest,
    pub tags: Vec<String>,
}

#[derive(Serialize)]
struct ManifestEntry {
    #[serde(rename = "Config")]
    config: String,
    #[serde(rename = "RepoTags")]
    repo_tags: Option<Vec<String>>,
    #[serde(rename = "Layers")]
    layers: Vec<String>,
}

/// Write `items` as one archive to `out`.
pub fn save(store: &Store, items: &[SaveItem], out: &mut dyn Write) -> Result<()> {
    let mut builder = tar::Builder::new(out);
    builder.mode(tar::HeaderMode::Deterministic);
    let mut written: HashSet<Digest> = HashSet::new();
    let mut entries = Vec::new();
    let mut index = Vec::new();
    let ioerr = |e: std::io::Error| Error::Other(format!("writing the archive: {e}"));
    dir(&mut builder, "blobs/").map_err(ioerr)?;
    dir(&mut builder, "blobs/sha256/").map_err(ioerr)?;
    for SaveItem { id, tags } in items {
        let image = store
            .image(id)?
            .ok_or_else(|| Error::NoSuchImage(id.to_string()))?;
        let manifest_digest = image
            .manifest
            .clone()
            .ok_or_else(|| Error::Other(format!("image {}: no manifest recorded", id.short())))?;
        let manifest_bytes = store.content.read(&manifest_digest, model::MAX_JSON)?;
        let manifest = Manifest::parse(&manifest_bytes, &format!("manifest of {}", id.short()))?;
        let mut layer_paths = Vec::new();
        blob(store, &mut builder, &mut written, id)?;
        for l in manifest.layers.clone().unwrap_or_default() {
            let d = l.digest("manifest")?;
            blob(store, &mut builder, &mut written, &d)?;
            layer_paths.push(format!("blobs/sha256/{}", d.hex()));
        }
        blob(store, &mut builder, &mut written, &manifest_digest)?;
        let familiar: Vec<String> = tags
            .iter()
            .map(|t| {
                let (repo, tag) = split_tag(t);
                format!("{}:{tag}", familiar_repo(repo))
            })
            .collect();
        entries.push(ManifestEntry {
            config: format!("blobs/sha256/{}", id.hex()),
            repo_tags: if familiar.is_empty() {
                None
            } else {
                Some(familiar.clone())
            },
            layers: layer_paths,
        });
        let media_type = image
            .manifest_type
            .clone()
            .unwrap_or_else(|| model::OCI_MANIFEST.into());
        if tags.is_empty() {
            index.push(Descriptor {
                media_type: media_type.clone(),
                digest: manifest_digest.to_string(),
                size: manifest_bytes.len() as i64,
                ..Default::default()
            });
        }
        for t in tags {
            let (_, tag) = split_tag(t);
            let mut ann = BTreeMap::new();
            ann.insert("io.containerd.image.name".to_string(), t.clone());
            ann.insert(
                "org.opencontainers.image.ref.name".to_string(),
                tag.to_string(),
            );
            index.push(Descriptor {
                media_type: media_type.clone(),
                digest: manifest_digest.to_string(),
                size: manifest_bytes.len() as i64,
                annotations: Some(ann),
                ..Default::default()
            });
        }
    }
    let index = Manifest {
        schema_version: 2,
        media_type: Some(model::OCI_INDEX.into()),
        manifests: Some(index),
        ..Default::default()
    };
    file(
        &mut builder,
        "index.json",
        &serde_json::to_vec(&index).expect("index serializes"),
    )
    .map_err(ioerr)?;
    file(
        &mut builder,
        "manifest.json",
        &serde_json::to_vec(&entries).expect("manifest serializes"),
    )
    .map_err(ioerr)?;
    file(
        &mut builder,
        "oci-layout",
        br#"{"imageLayoutVersion":"1.0.0"}"#,
    )
    .map_err(ioerr)?;
    builder
        .into_inner()
        .map_err(ioerr)?
        .flush()
        .map_err(ioerr)?;
    Ok(())
}

fn blob(
    store: &Store,
    b: &mut tar::Builder<&mut dyn Write>,
    written: &mut HashSet<Digest>,
    d: &Digest,
) -> Result<()> {
    if !written.insert(d.clone()) {
        return Ok(());
    }
    let path = store.content.path(d);
    let mut f = std::fs::File::open(&path).map_err(|e| {
        Error::Other(format!(
            "blob {d} is missing from the store ({e}); re-import or pull the image"
        ))
    })?;
    let size = f.metadata().at(&path)?.len();
    let mut h = tar::Header::new_ustar();
    h.set_size(size);
    h.set_mode(0o644);
    h.set_mtime(0);
    h.set_entry_type(tar::EntryType::Regular);
    b.append_data(&mut h, format!("blobs/sha256/{}", d.hex()), &mut f)
        .map_err(|e| Error::Other(format!("writing blob {d}: {e}")))
}

fn file(b: &mut tar::Builder<&mut dyn Write>, name: &str, data: &[u8]) -> std::io::Result<()> {
    let mut h = tar::Header::new_ustar();
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    h.set_mtime(0);
    h.set_entry_type(tar::EntryType::Regular);
    b.append_data(&mut h, name, data)
}

fn dir(b: &mut tar::Builder<&mut dyn Write>, name: &str) -> std::io::Result<()> {
    let mut h = tar::Header::new_ustar();
    h.set_size(0);
    h.set_mode(0o755);
    h.set_mtime(0);
    h.set_entry_type(tar::EntryType::Directory);
    b.append_data(&mut h, name, std::io::empty())
}
