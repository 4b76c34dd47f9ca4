//! Registries: resolve a reference to a manifest (through indexes, picking the platform),
//! authenticate, fetch and push blobs, retry, use mirrors.
//!
//! Why reqwest directly and not oci-client: oci-client's `pull()` holds whole layers in
//! memory, its platform resolver ignores variants, its Range pulls are not verified, plain
//! HTTP is an exact host list, and it has no way to keep credentials off a redirect to
//! blob storage that we control. What barge needs from the distribution API is small (a
//! dozen endpoints) and the parts that matter (streaming each chunk into the ingest file,
//! the hasher and the unpacker at once; resuming with Range from `ingest/`; backoff on
//! 429/5xx/resets) sit exactly where oci-client's abstraction is. So: reqwest with rustls
//! on the ring provider, redirects followed by hand (see `client`).
//!
//! tokio exists only inside `pull`/`push`/`login`: each builds a current-thread runtime and
//! drops it (joining its blocking pool) before returning, and unpack threads are joined
//! too, because `run` forks right after a pull and must be single-threaded then.

pub mod client;
pub mod config;
pub mod credentials;
pub mod pull;
pub mod push;

pub use config::RegistriesConfig;
pub use credentials::Credentials;
pub use pull::{LayerEvent, PullObserver, PullOptions, pull};
pub use push::{PushOptions, push};

use crate::error::Result;

/// Check `creds` against `registry` (`GET /v2/` with the challenge answered) and, when
/// they work, store them in Docker's config file.
pub fn login(registry: &str, creds: &Credentials, tls_verify: Option<bool>) -> Result<()> {
    let cfg = RegistriesConfig::load()?;
    let ep = pull::endpoints(registry, &cfg, tls_verify)
        .pop()
        .expect("the registry itself");
    let client = client::Client::new(tls_verify != Some(false), Some(creds.clone()))?;
    let rt = pull::runtime()?;
    let r = rt.block_on(client.check_login(&ep));
    drop(rt);
    r?;
    credentials::store(registry, creds)
}

/// Forget the stored login for `registry`; false when there was none.
pub fn logout(registry: &str) -> Result<bool> {
    credentials::erase(registry)
}
