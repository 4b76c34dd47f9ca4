//! Registries beyond pulling: push an image, log in and out.

use super::Client;
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::image;
use crate::reference::Reference;
use crate::registry::{self, Credentials, LayerEvent, PullObserver};

/// Options of [`Client::push`].
#[derive(Clone, Debug, Default)]
pub struct PushOptions {
    destination: Option<String>,
    tls_verify: Option<bool>,
}

impl PushOptions {
    /// Push the image under the name it is given by, TLS verified (plain HTTP only to
    /// loopback and to registries configured `insecure`).
    pub fn new() -> PushOptions {
        PushOptions::default()
    }

    /// Push it as `name[:tag]` instead (`localhost:5000/app:1`).
    pub fn destination(mut self, name: impl Into<String>) -> Self {
        self.destination = Some(name.into());
        self
    }

    /// `false`: no certificate check, and plain HTTP allowed (`--tls-verify=false`).
    pub fn tls_verify(mut self, verify: bool) -> Self {
        self.tls_verify = Some(verify);
        self
    }
}

/// Progress of a [`Client::push`], given to its callback.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum PushEvent<'a> {
    /// The blobs to push (config and layers) and their sizes.
    Blobs(&'a [(Digest, u64)]),
    /// Something happened to one blob.
    Blob {
        /// The blob's digest.
        digest: &'a Digest,
        /// What happened.
        progress: PushProgress,
    },
}

/// What happened to one blob of a push.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PushProgress {
    /// The registry has it already.
    Exists,
    /// The registry copied it from another repository of its own (`from`).
    Mounted {
        /// That repository.
        from: String,
    },
    /// `done` of `total` bytes uploaded.
    Uploading {
        /// Bytes so far.
        done: u64,
        /// The blob's size.
        total: u64,
    },
    /// Uploaded.
    Done {
        /// The blob's size.
        bytes: u64,
    },
}

/// What a [`Client::push`] did.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Pushed {
    /// Where it went: the full reference, `localhost:5000/app:1`,
    /// `docker.io/library/busybox:latest`.
    pub reference: String,
    /// The tag pushed (`latest`), or the digest when pushed by digest.
    pub tag: String,
    /// The manifest's digest, as the registry now serves it.
    pub digest: Digest,
    /// The manifest's size in bytes.
    pub size: u64,
}

/// A [`PullObserver`] (pushes report through the same trait) for a callback.
struct PushCallback<'a>(&'a (dyn Fn(PushEvent<'_>) + Sync));

impl PullObserver for PushCallback<'_> {
    fn layers(&self, blobs: &[(Digest, u64)]) {
        (self.0)(PushEvent::Blobs(blobs));
    }

    fn layer(&self, digest: &Digest, event: LayerEvent) {
        let progress = match event {
            LayerEvent::Exists => PushProgress::Exists,
            LayerEvent::Mounted { from } => PushProgress::Mounted { from },
            LayerEvent::Progress { done, total } => PushProgress::Uploading { done, total },
            LayerEvent::Done { bytes } => PushProgress::Done { bytes },
        };
        (self.0)(PushEvent::Blob { digest, progress });
    }
}

/// The registry a `login`/`logout` argument names: `host[:port]`, Docker Hub as
/// `docker.io` (also for nothing, `index.docker.io`, `https://registry-1.docker.io/v1/`).
pub(crate) fn registry_host(server: Option<&str>) -> String {
    let s = server.filter(|s| !s.is_empty()).unwrap_or("docker.io");
    let s = s
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap_or(s);
    match s {
        "index.docker.io" | "registry-1.docker.io" => "docker.io".into(),
        s => s.to_string(),
    }
}

impl Client {
    /// Push the image `image` (name, ID or ID prefix) to its registry, under its own
    /// name or [`PushOptions::destination`], calling `progress` as blobs go. Blobs the
    /// registry has are not sent again. Credentials come from Docker's config file (see
    /// [`Client::login`]).
    ///
    /// ```no_run
    /// use barge::client::{Client, PushEvent, PushOptions};
    /// let client = Client::open_default()?;
    /// let opts = PushOptions::new().destination("localhost:5000/tools/busybox:1");
    /// let pushed = client.push("busybox:latest", &opts, &|event| {
    ///     if let PushEvent::Blobs(blobs) = event {
    ///         eprintln!("{} blobs", blobs.len());
    ///     }
    /// })?;
    /// println!("{}@{}", pushed.reference, pushed.digest);
    /// # Ok::<(), barge::Error>(())
    /// ```
    pub fn push(
        &self,
        image: &str,
        opts: &PushOptions,
        progress: &(dyn Fn(PushEvent<'_>) + Sync),
    ) -> Result<Pushed> {
        self.push_observed(image, opts, &PushCallback(progress))
    }

    /// The destination a push of `image` goes to.
    pub(crate) fn push_destination(image: &str, opts: &PushOptions) -> Result<Reference> {
        let dest = opts.destination.as_deref().unwrap_or(image);
        Reference::parse(dest).map_err(|_| {
            Error::InvalidArgument(format!(
                "{dest}: not a repository name to push to: give a DESTINATION like localhost:5000/app:1"
            ))
        })
    }

    /// The CLI's push: its progress display observes the blobs directly.
    pub(crate) fn push_observed(
        &self,
        image: &str,
        opts: &PushOptions,
        observer: &dyn PullObserver,
    ) -> Result<Pushed> {
        let store = self.store()?;
        let img = image::resolve(&store, image)?;
        let dest = Client::push_destination(image, opts)?;
        let ropts = registry::PushOptions {
            tls_verify: opts.tls_verify,
            max_concurrent_uploads: 4,
        };
        let r = registry::push(&store, &img, &dest, &ropts, observer)?;
        let sep = if r.tag.contains(':') { '@' } else { ':' };
        Ok(Pushed {
            reference: format!("{}{sep}{}", dest.full_name(), r.tag),
            tag: r.tag,
            digest: r.digest,
            size: r.size as u64,
        })
    }

    /// Check `username` and `password` against `registry` (`host[:port]`; `docker.io`
    /// for Docker Hub) and, when they work, store them in Docker's config file
    /// (`$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`, or its credential
    /// helper), where pulls and pushes (and Docker, podman, skopeo) find them. They
    /// belong to the user, not to this client's store. `tls_verify`: `Some(false)` skips
    /// the certificate check and allows plain HTTP; `None` is the registry's
    /// configuration.
    pub fn login(
        &self,
        registry: &str,
        username: &str,
        password: &str,
        tls_verify: Option<bool>,
    ) -> Result<()> {
        if username.is_empty() || password.is_empty() {
            return Err(Error::InvalidArgument(
                "user name and password must not be empty".into(),
            ));
        }
        let creds = Credentials {
            username: username.to_string(),
            secret: password.to_string(),
        };
        registry::login(&registry_host(Some(registry)), &creds, tls_verify)
    }

    /// Forget the stored login for `registry`; `false` when there was none.
    pub fn logout(&self, registry: &str) -> Result<bool> {
        registry::logout(&registry_host(Some(registry)))
    }
}
