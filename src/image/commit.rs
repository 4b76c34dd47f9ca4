//! The last steps shared by every way an image enters the store (`import`, `pull`): work
//! out each layer (reuse a recorded one or check a fresh unpack against the config's diff
//! IDs), then publish in the order crash safety needs (see `publish`).
//!
//! Callers write everything into their scratch directory first: blobs (hashed while written,
//! or already committed to the content store by a verified ingest) and unpacked layer
//! directories. Nothing is visible to other barge processes before `publish` renames the
//! layers into place and one SQLite transaction records the image.

use std::collections::HashMap;
use std::io::Read;
use std::path::PathBuf;

use crate::content::StagedBlob;
use crate::digest::{Digest, chain_ids};
use crate::error::{Error, Result};
use crate::image::model::{self, Descriptor, ImageConfig, Manifest};
use crate::layer::{Applied, Compression};
use crate::store::{ImageRecord, LayerRecord, Store};
use crate::util::Scratch;

pub fn unix_now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// A layer ready to be recorded, and where its unpacked directory waits (if it is new).
pub struct PendingLayer {
    pub record: LayerRecord,
    pub staged_dir: Option<PathBuf>,
}

/// Work out each layer of an image: reuse a recorded (or already pending) one, or take an
/// unpack of its blob from `unpack` and check its diff ID against the config.
pub fn resolve_layers(
    store: &Store,
    unpack: &mut dyn FnMut(&StagedBlob) -> Result<(PathBuf, Applied)>,
    pending: &mut HashMap<Digest, PendingLayer>,
    diff_ids: &[Digest],
    layers: &[(StagedBlob, Option<String>)],
    what: &str,
) -> Result<Vec<LayerRecord>> {
    let chains = chain_ids(diff_ids);
    let mut out = Vec::new();
    for (i, (blob, media_type)) in layers.iter().enumerate() {
        let chain = &chains[i];
        let media_type = media_type
            .clone()
            .unwrap_or_else(|| blob_compression(&blob.path).layer_media_type().to_string());
        let with_blob = |r: &LayerRecord| LayerRecord {
            blob: Some(blob.digest.clone()),
            media_type: Some(media_type.clone()),
            blob_size: Some(blob.size),
            ..r.clone()
        };
        if let Some(p) = pending.get(chain) {
            out.push(with_blob(&p.record));
            continue;
        }
        if let Some(existing) = store.layer(chain)? {
            out.push(with_blob(&existing));
            continue;
        }
        let (dir, applied) = unpack(blob)?;
        if applied.diff_id != diff_ids[i] {
            return Err(Error::DigestMismatch {
                object: format!("{what}: layer {}", i + 1),
                expected: diff_ids[i].to_string(),
                actual: applied.diff_id.to_string(),
            });
        }
        let record = LayerRecord {
            chain_id: chain.clone(),
            diff_id: diff_ids[i].clone(),
            parent: i.checked_sub(1).map(|p| chains[p].clone()),
            blob: Some(blob.digest.clone()),
            media_type: Some(media_type),
            blob_size: Some(blob.size),
            size: applied.size,
        };
        pending.insert(
            chain.clone(),
            PendingLayer {
                record: record.clone(),
                staged_dir: Some(dir),
            },
        );
        out.push(record);
    }
    Ok(out)
}

pub fn blob_compression(path: &std::path::Path) -> Compression {
    let mut head = [0u8; 8];
    let n = std::fs::File::open(path)
        .and_then(|mut f| f.read(&mut head))
        .unwrap_or(0);
    Compression::detect(&head[..n])
}

/// One image ready to be recorded.
pub struct Ready {
    pub record: ImageRecord,
    pub layers: Vec<LayerRecord>,
    /// Layer blobs staged in scratch.
    pub blobs: Vec<StagedBlob>,
    /// Config and manifest bytes.
    pub docs: Vec<Vec<u8>>,
    /// The tags as users see them (`alpine:latest`).
    pub familiar: Vec<String>,
}

impl Ready {
    pub fn new(
        config_bytes: &[u8],
        config: &ImageConfig,
        manifest: Option<(Vec<u8>, String)>,
        layers: Vec<LayerRecord>,
        blobs: Vec<StagedBlob>,
        tags: Vec<(String, String)>,
    ) -> Ready {
        let id = Digest::of(config_bytes);
        let (manifest_bytes, manifest_type) = manifest.unwrap_or_else(|| {
            (
                generate_manifest(&id, config_bytes.len(), &layers),
                model::OCI_MANIFEST.to_string(),
            )
        });
        let record = ImageRecord {
            id,
            manifest: Some(Digest::of(&manifest_bytes)),
            manifest_type: Some(manifest_type),
            created: config.created.clone(),
            architecture: config.architecture.clone(),
            os: config.os.clone(),
            variant: config.variant.clone(),
            size: layers.iter().map(|l| l.size).sum(),
            added: unix_now(),
            tags: tags.iter().map(|(s, _)| s.clone()).collect(),
            repo_digests: Vec::new(),
        };
        Ready {
            record,
            layers,
            blobs,
            docs: vec![config_bytes.to_vec(), manifest_bytes],
            familiar: tags.into_iter().map(|(_, f)| f).collect(),
        }
    }
}

/// The last steps of every import, in the order crash safety needs: one sync of what was
/// written in scratch, blobs and layer directories renamed into place, one more sync, then
/// the database commit. A kill before the commit leaves complete but unrecorded files,
/// which are reused by the next import or removed by `image prune`.
pub fn publish(
    store: &mut Store,
    scratch: &Scratch,
    pending: HashMap<Digest, PendingLayer>,
    ready: &[Ready],
) -> Result<()> {
    let sync = crate::util::sync_enabled();
    if sync {
        crate::util::sync_fs(&scratch.dir)?;
    }
    let mut digests_per_image = Vec::new();
    for r in ready {
        let mut digests = Vec::new();
        for b in &r.blobs {
            store.content.commit_staged(b)?;
            digests.push(b.digest.clone());
        }
        for bytes in &r.docs {
            digests.push(store.content.put(&scratch.dir, bytes)?);
        }
        digests_per_image.push(digests);
    }
    for (chain, p) in pending {
        let Some(dir) = p.staged_dir else { continue };
        let dest = store.layer_dir(&chain);
        match std::fs::rename(&dir, &dest) {
            Ok(()) => {}
            // Another import put the same layer in place first; layers are only ever renamed
            // into place complete, so theirs is as good as ours.
            Err(e)
                if dest.is_dir()
                    && matches!(e.raw_os_error(), Some(libc::EEXIST) | Some(libc::ENOTEMPTY)) => {}
            Err(e) => return Err(Error::io(dest, e)),
        }
    }
    if sync {
        crate::util::sync_fs(&store.root.join("layers"))?;
    }
    for (r, d) in ready.iter().zip(digests_per_image) {
        store.commit_image(&r.record, &r.layers, &d)?;
    }
    Ok(())
}

/// An OCI manifest for an image that came without one (classic docker save, rootfs import).
pub fn generate_manifest(config: &Digest, config_size: usize, layers: &[LayerRecord]) -> Vec<u8> {
    let m = Manifest {
        schema_version: 2,
        media_type: Some(model::OCI_MANIFEST.into()),
        config: Some(Descriptor {
            media_type: model::OCI_CONFIG.into(),
            digest: config.to_string(),
            size: config_size as i64,
            ..Default::default()
        }),
        layers: Some(
            layers
                .iter()
                .map(|l| Descriptor {
                    media_type: l
                        .media_type
                        .clone()
                        .unwrap_or_else(|| Compression::None.layer_media_type().into()),
                    digest: l.blob.as_ref().map(|b| b.to_string()).unwrap_or_default(),
                    size: l.blob_size.unwrap_or(0) as i64,
                    ..Default::default()
                })
                .collect(),
        ),
        manifests: None,
        annotations: None,
    };
    serde_json::to_vec(&m).expect("manifest serializes")
}
