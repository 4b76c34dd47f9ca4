//! The front door for programs that use barge as a library: open a store, work with
//! images, and run containers, without a daemon to connect to.
//!
//! ```no_run
//! use barge::client::{Client, ContainerSpec};
//!
//! let client = Client::open_default()?;
//! for image in client.images()? {
//!     println!("{} {}", image.names.join(", "), image.size);
//! }
//! let outcome = client.run(&ContainerSpec::new("busybox").cmd(["echo", "hello"]).remove(true))?;
//! println!("exit code {}", outcome.exit_code);
//! # Ok::<(), barge::Error>(())
//! ```
//!
//! Nothing here prints or prompts. Errors are [`crate::Error`]; [`crate::Error::exit_code`]
//! maps them to the CLI's exit codes.
//!
//! Threads: [`Client::run`] and [`Client::exec`] fork the calling process, which must be
//! single-threaded at that moment (no live tokio runtime or other threads). Detached
//! containers ([`Client::start`]) are watched by a `barge __supervise` process, so they
//! need the `barge` binary: next to the current executable, on `PATH`, or given with
//! [`Client::with_binary`].

mod attach;
mod container;
mod exec;
mod files;
mod images;
mod inspect;
mod logs;
mod process;
mod push;

use std::io::Read;
use std::path::{Path, PathBuf};

pub use attach::{Attached, OutputChunk};
pub use container::{
    ContainerFilter, ContainerSpec, ContainerSummary, Port, RestartPolicy, RunOutcome,
};
pub use exec::{ExecOutput, ExecSpec};
pub use images::{HistoryEntry, Pruned, SystemPruneOptions};
pub use logs::{LogLine, LogOptions, LogStream, Logs};
pub use process::{ContainerStats, ProcessInfo};
pub(crate) use push::registry_host;
pub use push::{PushEvent, PushOptions, PushProgress, Pushed};

use crate::archive::{self, ImportObserver};
use crate::config::Paths;
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::image::{self, model::Platform};
use crate::reference::Reference;
use crate::registry::{self, LayerEvent, PullObserver};
use crate::store::Store;

/// A handle on one store (images, containers, volumes). Cheap to clone; every call opens
/// the store's database for its own duration, so several clients (and barge commands) can
/// work on one store at once.
#[derive(Clone, Debug)]
pub struct Client {
    paths: Paths,
    binary: Option<PathBuf>,
}

/// An image as listed.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ImageSummary {
    /// The image ID: the digest of its config.
    pub id: Digest,
    /// Familiar names (`alpine:latest`); empty for an untagged image.
    pub names: Vec<String>,
    /// Unpacked size in bytes.
    pub size: u64,
    /// When the image was built (RFC 3339), when its config says.
    pub created: Option<String>,
    /// CPU architecture (`amd64`, `arm64`).
    pub architecture: String,
    /// Operating system (`linux`).
    pub os: String,
}

/// What [`Client::remove_image`] did, in order: tags removed, then the image deleted once
/// no tag was left.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Removed {
    /// This name no longer refers to the image.
    Untagged(String),
    /// The image (and the layers no other image uses) is gone.
    Deleted(Digest),
}

/// Options of [`Client::import`]: all optional.
#[derive(Clone, Debug, Default)]
pub struct ImportOptions {
    platform: Option<String>,
    tags: Vec<String>,
    message: Option<String>,
}

impl ImportOptions {
    /// No options: the host's platform, the archive's own names.
    pub fn new() -> ImportOptions {
        ImportOptions::default()
    }

    /// Which image of a multi-platform archive to take, `os/arch[/variant]`.
    pub fn platform(mut self, platform: impl Into<String>) -> Self {
        self.platform = Some(platform.into());
        self
    }

    /// Tag the imported image with `name[:tag]` too (needed to name a root filesystem
    /// tarball's image).
    pub fn tag(mut self, name: impl Into<String>) -> Self {
        self.tags.push(name.into());
        self
    }

    /// The history comment of a root filesystem tarball's image.
    pub fn message(mut self, message: impl Into<String>) -> Self {
        self.message = Some(message.into());
        self
    }

    fn resolve(&self, default_platform: Option<&str>) -> Result<archive::ImportOptions> {
        let mut tags = Vec::new();
        for t in &self.tags {
            let r = Reference::parse(t)?;
            if r.digest.is_some() {
                return Err(Error::InvalidArgument(format!(
                    "{t}: a tag cannot carry a digest"
                )));
            }
            tags.push(r);
        }
        Ok(archive::ImportOptions {
            platform: self
                .platform
                .as_deref()
                .or(default_platform)
                .map(Platform::parse)
                .transpose()?,
            tags,
            message: self.message.clone(),
        })
    }
}

/// What [`Client::import`] brought in.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Imported {
    /// What the archive was, in words (`docker save archive`, `root filesystem tarball`).
    pub format: String,
    /// The images, in the archive's order.
    pub images: Vec<ImportedImage>,
}

/// One image of an [`Imported`] archive.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ImportedImage {
    /// Its ID.
    pub id: Digest,
    /// The names it got (`alpine:latest`).
    pub names: Vec<String>,
}

/// Options of [`Client::pull`].
#[derive(Clone, Debug, Default)]
pub struct PullOptions {
    platform: Option<String>,
    tls_verify: Option<bool>,
    max_concurrent_downloads: Option<usize>,
}

impl PullOptions {
    /// The defaults: the host's platform, TLS verified (plain HTTP only to loopback and to
    /// registries configured `insecure`), 4 layers at once.
    pub fn new() -> PullOptions {
        PullOptions::default()
    }

    /// The platform to pick from a multi-platform image, `os/arch[/variant]`.
    pub fn platform(mut self, platform: impl Into<String>) -> Self {
        self.platform = Some(platform.into());
        self
    }

    /// `false`: no certificate check, and plain HTTP allowed (`--tls-verify=false`).
    pub fn tls_verify(mut self, verify: bool) -> Self {
        self.tls_verify = Some(verify);
        self
    }

    /// How many layers to download at once (at least 1).
    pub fn max_concurrent_downloads(mut self, n: usize) -> Self {
        self.max_concurrent_downloads = Some(n.max(1));
        self
    }
}

/// Progress of a [`Client::pull`], given to its callback.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub enum PullEvent<'a> {
    /// The manifest is resolved: these are the image's layer blobs and their sizes.
    Layers(&'a [(Digest, u64)]),
    /// Something happened to one layer.
    Layer {
        /// The layer blob's digest.
        digest: &'a Digest,
        /// What happened.
        progress: LayerProgress,
    },
}

/// What happened to one layer of a pull.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LayerProgress {
    /// Already in the store: nothing to fetch.
    Exists,
    /// `done` of `total` bytes downloaded (a resumed download starts above zero).
    Downloading {
        /// Bytes so far.
        done: u64,
        /// The layer's size.
        total: u64,
    },
    /// Downloaded, verified and unpacked.
    Done {
        /// The layer's size.
        bytes: u64,
    },
}

/// What a [`Client::pull`] did.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Pulled {
    /// The image ID.
    pub id: Digest,
    /// The digest the reference resolved to (of the index or the manifest).
    pub digest: Digest,
    /// The full reference, `docker.io/library/alpine:latest`.
    pub reference: String,
    /// The familiar name, `alpine:latest`.
    pub name: String,
    /// The image was already here under this name: nothing new was fetched.
    pub up_to_date: bool,
}

/// A [`PullObserver`] that hands events to a callback.
struct Callback<'a>(&'a (dyn Fn(PullEvent<'_>) + Sync));

impl PullObserver for Callback<'_> {
    fn layers(&self, layers: &[(Digest, u64)]) {
        (self.0)(PullEvent::Layers(layers));
    }

    fn layer(&self, digest: &Digest, event: LayerEvent) {
        let progress = match event {
            LayerEvent::Exists => LayerProgress::Exists,
            LayerEvent::Progress { done, total } => LayerProgress::Downloading { done, total },
            LayerEvent::Done { bytes } => LayerProgress::Done { bytes },
            // Only pushes mount blobs.
            LayerEvent::Mounted { .. } => return,
        };
        (self.0)(PullEvent::Layer { digest, progress });
    }
}

impl Client {
    /// The default store: `/var/lib/barge` as root, `~/.local/share/barge` otherwise
    /// (`BARGE_ROOT` overrides, as for the CLI).
    pub fn open_default() -> Result<Client> {
        Ok(Client {
            paths: Paths::resolve(std::env::var_os("BARGE_ROOT").map(PathBuf::from)),
            binary: None,
        })
    }

    /// The store at `root` (created on first use).
    pub fn open(root: impl Into<PathBuf>) -> Result<Client> {
        Ok(Client {
            paths: Paths::resolve(Some(root.into())),
            binary: None,
        })
    }

    /// The CLI's client: the running executable is barge itself.
    pub(crate) fn from_paths(paths: &Paths) -> Client {
        Client {
            paths: paths.clone(),
            binary: std::env::current_exe().ok(),
        }
    }

    /// Use this `barge` binary to supervise detached containers.
    pub fn with_binary(mut self, path: impl Into<PathBuf>) -> Client {
        self.binary = Some(path.into());
        self
    }

    /// The store's root directory.
    pub fn root(&self) -> &Path {
        &self.paths.root
    }

    pub(crate) fn store(&self) -> Result<Store> {
        Store::open(&self.paths.root)
    }

    /// Every image, newest first.
    pub fn images(&self) -> Result<Vec<ImageSummary>> {
        let store = self.store()?;
        Ok(store
            .images()?
            .into_iter()
            .map(|i| ImageSummary {
                names: i
                    .tags
                    .iter()
                    .map(|t| {
                        let (repo, tag) = crate::reference::split_tag(t);
                        format!("{}:{tag}", crate::reference::familiar_repo(repo))
                    })
                    .collect(),
                id: i.id,
                size: i.size,
                created: i.created,
                architecture: i.architecture,
                os: i.os,
            })
            .collect())
    }

    /// `barge images`' rows: one per tag, filtered by a repository pattern.
    pub(crate) fn image_rows(&self, pattern: Option<&str>, all: bool) -> Result<Vec<image::Row>> {
        image::list(&self.store()?, pattern, all)
    }

    /// The image record `name` resolves to (cheaper than an inspect document).
    pub(crate) fn resolve_image(&self, name: &str) -> Result<crate::store::ImageRecord> {
        image::resolve(&self.store()?, name)
    }

    /// Docker's `image inspect` document of the image `name` (name, ID or ID prefix).
    pub fn inspect_image(&self, name: &str) -> Result<serde_json::Value> {
        let store = self.store()?;
        let img = image::resolve(&store, name)?;
        image::inspect(&store, &img)
    }

    /// Import an archive file: `docker save` output, an OCI layout archive, or a root
    /// filesystem tarball (plain, gzip or zstd).
    pub fn import(&self, path: &Path, opts: &ImportOptions) -> Result<Imported> {
        let f = std::fs::File::open(path).map_err(|e| Error::Archive {
            file: path.display().to_string(),
            msg: e.to_string().to_lowercase(),
        })?;
        let total = f.metadata().ok().map(|m| m.len());
        let opts = opts.resolve(self.paths.config.default_platform.as_deref())?;
        let report = self.import_reader(
            Box::new(f),
            &path.display().to_string(),
            total,
            &opts,
            &archive::Silent,
        )?;
        Ok(Imported {
            format: report.format.to_string(),
            images: report
                .images
                .into_iter()
                .map(|i| ImportedImage {
                    id: i.id,
                    names: i.tags,
                })
                .collect(),
        })
    }

    /// The CLI's import: any reader (stdin too), with progress.
    pub(crate) fn import_reader(
        &self,
        input: Box<dyn Read + Send>,
        name: &str,
        total: Option<u64>,
        opts: &archive::ImportOptions,
        observer: &dyn ImportObserver,
    ) -> Result<archive::ImportReport> {
        let mut store = self.store()?;
        archive::import(&mut store, input, name, total, opts, observer)
    }

    /// Pull `reference` (`alpine`, `alpine:3`, `host:5000/app@sha256:...`) from its
    /// registry, calling `progress` as layers arrive. Credentials come from Docker's config
    /// file (`~/.docker/config.json`), registry settings from barge's config files.
    ///
    /// ```no_run
    /// use barge::client::{Client, PullEvent, PullOptions};
    /// let client = Client::open_default()?;
    /// let pulled = client.pull("alpine:3", &PullOptions::new(), &|event| {
    ///     if let PullEvent::Layers(layers) = event {
    ///         eprintln!("{} layers", layers.len());
    ///     }
    /// })?;
    /// println!("{} is {}", pulled.name, pulled.id);
    /// # Ok::<(), barge::Error>(())
    /// ```
    pub fn pull(
        &self,
        reference: &str,
        opts: &PullOptions,
        progress: &(dyn Fn(PullEvent<'_>) + Sync),
    ) -> Result<Pulled> {
        self.pull_observed(reference, opts, &Callback(progress))
    }

    /// The CLI's pull: its progress display observes the layers directly.
    pub(crate) fn pull_observed(
        &self,
        reference: &str,
        opts: &PullOptions,
        observer: &dyn PullObserver,
    ) -> Result<Pulled> {
        let parsed = Reference::parse(reference)?;
        let mut ropts = registry::PullOptions {
            // The config file's default-platform stands in for a missing --platform, as
            // DOCKER_DEFAULT_PLATFORM does.
            platform: opts
                .platform
                .as_deref()
                .or(self.paths.config.default_platform.as_deref())
                .map(Platform::parse)
                .transpose()?,
            tls_verify: opts.tls_verify,
            ..Default::default()
        };
        if let Some(n) = opts.max_concurrent_downloads {
            ropts.max_concurrent_downloads = n;
        }
        let mut store = self.store()?;
        let r = registry::pull(&mut store, &parsed, &ropts, observer)?;
        Ok(Pulled {
            id: r.id,
            digest: r.digest,
            reference: r.reference,
            name: r.familiar,
            up_to_date: r.up_to_date,
        })
    }

    /// Give the image `source` (name, ID or ID prefix) the name `target` (`name[:tag]`).
    pub fn tag(&self, source: &str, target: &str) -> Result<()> {
        image::tag(&mut self.store()?, source, target)
    }

    /// Docker's `rmi`: by name, untag it, and delete the image when no tag is left; by
    /// ID, delete the image (with several tags, only when `force`: then every tag goes).
    /// An image that a container uses is not deleted.
    pub fn remove_image(&self, name: &str, force: bool) -> Result<Vec<Removed>> {
        Ok(image::remove(&mut self.store()?, name, force)?
            .into_iter()
            .map(|r| match r {
                image::Removed::Untagged(t) => Removed::Untagged(t),
                image::Removed::Deleted(d) => Removed::Deleted(d),
            })
            .collect())
    }

    /// The `barge` binary that supervises detached containers.
    pub(crate) fn binary(&self) -> Result<PathBuf> {
        if let Some(b) = &self.binary {
            return Ok(b.clone());
        }
        if let Ok(exe) = std::env::current_exe() {
            if exe.file_name().is_some_and(|n| n == "barge") {
                return Ok(exe);
            }
            // Beside it, or one up (cargo puts examples in target/debug/examples/).
            let dir = exe.parent();
            if let Some(b) = dir
                .into_iter()
                .chain(dir.and_then(Path::parent))
                .map(|d| d.join("barge"))
                .find(|b| b.is_file())
            {
                return Ok(b);
            }
        }
        crate::container::which("barge").ok_or_else(|| {
            Error::Other(
                "the barge binary is needed to supervise detached containers: not found \
                     beside this program or on PATH (see Client::with_binary)"
                    .into(),
            )
        })
    }
}
