//! Images beyond listing and pulling: their history, `save` to an archive, and pruning
//! (images, and the whole store).

use std::io::Write;

use super::{Client, Removed};
use crate::archive;
use crate::digest::Digest;
use crate::error::Result;
use crate::image;
use crate::reference::Reference;

/// One step of an image's history (a Dockerfile instruction, or a layer), newest first;
/// see [`Client::history`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct HistoryEntry {
    /// The image ID on the newest step; `None` below it (Docker's `<missing>`: barge
    /// keeps no intermediate images).
    pub id: Option<Digest>,
    /// When the step ran (RFC 3339), when the image says.
    pub created: Option<String>,
    /// What made it (`/bin/sh -c #(nop) CMD ["sh"]`); empty when unknown.
    pub created_by: String,
    /// Bytes its layer adds (0 for a step without a layer).
    pub size: u64,
    /// Its comment.
    pub comment: String,
}

/// What a prune removed: [`Client::prune_containers`], [`Client::prune_images`],
/// [`Client::prune_system`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Pruned {
    /// IDs of the containers removed.
    pub containers: Vec<String>,
    /// Names of the volumes removed.
    pub volumes: Vec<String>,
    /// Tags removed and images deleted, in order.
    pub images: Vec<Removed>,
    /// Bytes freed on disk (approximately: containers' and volumes' files, unused
    /// layers and blobs).
    pub reclaimed: u64,
}

/// What [`Client::prune_system`] removes besides stopped containers and dangling images.
#[derive(Clone, Debug, Default)]
pub struct SystemPruneOptions {
    all_images: bool,
    volumes: bool,
}

impl SystemPruneOptions {
    /// Stopped containers, dangling (untagged) images, and the layers and blobs no image
    /// uses.
    pub fn new() -> SystemPruneOptions {
        SystemPruneOptions::default()
    }

    /// Every image no container uses, not only untagged ones (`-a`).
    pub fn all_images(mut self, yes: bool) -> Self {
        self.all_images = yes;
        self
    }

    /// Volumes no container mounts too (`--volumes`).
    pub fn volumes(mut self, yes: bool) -> Self {
        self.volumes = yes;
        self
    }
}

fn removed(r: image::Removed) -> Removed {
    match r {
        image::Removed::Untagged(t) => Removed::Untagged(t),
        image::Removed::Deleted(d) => Removed::Deleted(d),
    }
}

impl Client {
    /// How the image `name` was built, newest step first.
    pub fn history(&self, name: &str) -> Result<Vec<HistoryEntry>> {
        let store = self.store()?;
        let img = image::resolve(&store, name)?;
        Ok(image::history(&store, &img)?
            .into_iter()
            .map(|r| HistoryEntry {
                id: r.id,
                created: r.created,
                created_by: r.created_by,
                size: r.size,
                comment: r.comment,
            })
            .collect())
    }

    /// Write `images` (names or IDs) to `out` as one archive that `docker load`, `podman
    /// load` and [`Client::import`] read (Docker 25's layout: an OCI image layout plus
    /// `manifest.json`). An image given by name keeps that name in the archive; by ID it
    /// has none, as with `docker save`.
    ///
    /// ```no_run
    /// use barge::client::Client;
    /// let client = Client::open_default()?;
    /// let mut file = std::fs::File::create("/tmp/busybox.tar").unwrap();
    /// client.save(&["busybox:latest"], &mut file)?;
    /// # Ok::<(), barge::Error>(())
    /// ```
    pub fn save<S: AsRef<str>>(&self, images: &[S], out: &mut dyn Write) -> Result<()> {
        let store = self.store()?;
        let mut items: Vec<archive::SaveItem> = Vec::new();
        for n in images {
            let n = n.as_ref();
            let img = image::resolve(&store, n)?;
            // Saved by name: record that name; by ID: no names (as docker save does).
            let tag = Reference::parse(n)
                .ok()
                .and_then(|r| r.tagged())
                .filter(|t| img.tags.contains(t));
            match items.iter_mut().find(|i| i.id == img.id) {
                Some(existing) => existing.tags.extend(tag),
                None => items.push(archive::SaveItem {
                    id: img.id.clone(),
                    tags: tag.into_iter().collect(),
                }),
            }
        }
        archive::save(&store, &items, out)
    }

    /// Remove untagged images (with `all`, every image no container uses), then every
    /// layer and blob no image uses, interrupted downloads and what killed barge
    /// processes left behind.
    pub fn prune_images(&self, all: bool) -> Result<Pruned> {
        let report = image::prune(&mut self.store()?, all)?;
        Ok(Pruned {
            images: report.images.into_iter().map(removed).collect(),
            reclaimed: report.reclaimed,
            ..Default::default()
        })
    }

    /// Remove every container that is not running, the volumes no container mounts
    /// (with [`SystemPruneOptions::volumes`]), then prune images as
    /// [`Client::prune_images`] does.
    pub fn prune_system(&self, opts: &SystemPruneOptions) -> Result<Pruned> {
        let mut pruned = self.prune_containers()?;
        let store = self.store()?;
        if opts.volumes {
            let used = crate::volume::in_use(&self.paths.root, &store)?;
            for v in crate::volume::list(&self.paths.root)? {
                if !used.contains(&v) {
                    pruned.reclaimed +=
                        crate::util::dir_size(&self.paths.root.join("volumes").join(&v));
                    crate::volume::remove(&self.paths.root, &v)?;
                    pruned.volumes.push(v);
                }
            }
        }
        drop(store);
        let report = image::prune(&mut self.store()?, opts.all_images)?;
        pruned.images = report.images.into_iter().map(removed).collect();
        pruned.reclaimed += report.reclaimed;
        Ok(pruned)
    }
}
