//! `push`: blobs first, manifest last, so a registry never holds a manifest whose blobs
//! are missing. A blob the registry already has (HEAD) is skipped; one that another
//! repository of the same registry holds (the image was pulled from or pushed to it) is
//! mounted across repositories instead of uploaded. Uploads are monolithic (POST for a
//! session, then one streamed PUT with the digest), retried on transient errors.

use std::io::Read;

use futures_util::{StreamExt, TryStreamExt};
use reqwest::header::{self, HeaderMap};
use reqwest::{Method, StatusCode};

use super::client::{Client, Endpoint, Scope, header_map, read_limited, registry_err};
use super::config::RegistriesConfig;
use super::pull::{LayerEvent, PullObserver, check_status, endpoints, runtime};
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::image::model::{self, Manifest};
use crate::reference::Reference;
use crate::store::{ImageRecord, Store};

#[derive(Clone, Debug, Default)]
pub struct PushOptions {
    pub tls_verify: Option<bool>,
    pub max_concurrent_uploads: usize,
}

#[derive(Clone, Debug)]
pub struct PushReport {
    /// The tag or digest pushed (`latest`).
    pub tag: String,
    pub digest: Digest,
    pub size: usize,
}

/// Push `image` to `dest` (a tag or digest reference).
pub fn push(
    store: &Store,
    image: &ImageRecord,
    dest: &Reference,
    opts: &PushOptions,
    observer: &dyn PullObserver,
) -> Result<PushReport> {
    let cfg = RegistriesConfig::load()?;
    let manifest_digest = image.manifest.clone().ok_or_else(|| {
        Error::Other(format!(
            "image {} has no manifest to push",
            image.id.short()
        ))
    })?;
    let manifest_bytes = store.content.read(&manifest_digest, model::MAX_JSON)?;
    let manifest_type = image
        .manifest_type
        .clone()
        .unwrap_or_else(|| model::OCI_MANIFEST.into());
    let m = Manifest::parse(&manifest_bytes, &format!("image {}", image.id.short()))?;
    let mut blobs: Vec<(Digest, u64)> = Vec::new();
    for d in m.config.iter().chain(m.layers.iter().flatten()) {
        let digest = d.digest("manifest")?;
        if !store.content.exists(&digest) {
            return Err(Error::Other(format!(
                "image {}: blob {digest} is not in the store, so the image cannot be pushed \
                 (pull or import it again)",
                image.id.short()
            )));
        }
        if !blobs.iter().any(|(b, _)| *b == digest) {
            blobs.push((digest.clone(), store.content.size(&digest)?));
        }
    }
    // A repository of the same registry that holds this image: the mount source.
    let mount_from = image
        .tags
        .iter()
        .chain(&image.repo_digests)
        .filter_map(|t| Reference::parse(t).ok())
        .find(|r| r.registry == dest.registry && r.repository != dest.repository)
        .map(|r| r.repository);
    let client = Client::new(opts.tls_verify != Some(false), None)?;
    let ep = endpoints(&dest.registry, &cfg, opts.tls_verify)
        .pop()
        .expect("the registry itself");
    let repo = dest.repository.clone();
    observer.layers(&blobs);
    let rt = runtime()?;
    let content = &store.content;
    let result = rt.block_on(async {
        futures_util::stream::iter(blobs.iter().map(|(d, size)| {
            let (client, ep, repo, from) = (&client, &ep, &repo, mount_from.as_deref());
            async move { push_blob(client, ep, repo, from, d, *size, content, observer).await }
        }))
        .buffer_unordered(opts.max_concurrent_uploads.max(1))
        .try_collect::<Vec<()>>()
        .await?;
        let reference = match (&dest.tag, &dest.digest) {
            (Some(t), _) => t.clone(),
            (None, Some(d)) => d.to_string(),
            (None, None) => "latest".into(),
        };
        let url = ep.url(&format!("/v2/{repo}/manifests/{reference}"));
        let bytes = bytes::Bytes::from(manifest_bytes.clone());
        let headers = header_map(&[(header::CONTENT_TYPE, &manifest_type)]);
        let resp = client
            .send(
                &ep,
                Method::PUT,
                &url,
                &Scope::push(&repo),
                &headers,
                &|| Some(reqwest::Body::from(bytes.clone())),
            )
            .await?;
        if !resp.status().is_success() {
            return Err(upload_error(&ep, resp, &format!("manifest {manifest_digest}")).await);
        }
        Ok(reference)
    });
    drop(rt);
    let tag = result?;
    Ok(PushReport {
        tag,
        digest: manifest_digest,
        size: manifest_bytes.len(),
    })
}

#[allow(clippy::too_many_arguments)]
async fn push_blob(
    client: &Client,
    ep: &Endpoint,
    repo: &str,
    mount_from: Option<&str>,
    digest: &Digest,
    size: u64,
    content: &crate::content::ContentStore,
    observer: &dyn PullObserver,
) -> Result<()> {
    let scope = match mount_from {
        Some(f) => Scope::push_mount(repo, f),
        None => Scope::push(repo),
    };
    let head = client
        .send(
            ep,
            Method::HEAD,
            &ep.url(&format!("/v2/{repo}/blobs/{digest}")),
            &scope,
            &HeaderMap::new(),
            &|| None,
        )
        .await?;
    if head.status().is_success() {
        observer.layer(digest, LayerEvent::Exists);
        return Ok(());
    }
    if head.status() == StatusCode::UNAUTHORIZED || head.status() == StatusCode::FORBIDDEN {
        check_status(ep, &head, &format!("{repo}: blob {digest}"))?;
    }
    let start = match mount_from {
        Some(f) => ep.url(&format!(
            "/v2/{repo}/blobs/uploads/?mount={digest}&from={f}"
        )),
        None => ep.url(&format!("/v2/{repo}/blobs/uploads/")),
    };
    let resp = client
        .send(ep, Method::POST, &start, &scope, &HeaderMap::new(), &|| {
            Some(reqwest::Body::from(""))
        })
        .await?;
    if resp.status() == StatusCode::CREATED {
        // Mounted from the other repository: nothing to upload.
        observer.layer(
            digest,
            LayerEvent::Mounted {
                from: mount_from.unwrap_or_default().to_string(),
            },
        );
        return Ok(());
    }
    if resp.status() != StatusCode::ACCEPTED {
        return Err(upload_error(ep, resp, &format!("blob {digest}")).await);
    }
    let location = resp
        .headers()
        .get(header::LOCATION)
        .and_then(|l| l.to_str().ok())
        .ok_or_else(|| registry_err(ep, "upload session without a Location".into()))?;
    let mut url = reqwest::Url::parse(&ep.url("/"))
        .and_then(|b| b.join(location))
        .map_err(|_| registry_err(ep, format!("bad upload location {location:?}")))?;
    url.query_pairs_mut().append_pair("digest", digest.as_str());
    let path = content.path(digest);
    let headers = header_map(&[
        (header::CONTENT_TYPE, "application/octet-stream"),
        (header::CONTENT_LENGTH, &size.to_string()),
    ]);
    let d = digest.clone();
    let body = move || -> Option<reqwest::Body> {
        let f = std::fs::File::open(&path).ok()?;
        let d = d.clone();
        // Read in 1 MiB chunks from the local file: a disk read is short enough to do on
        // the I/O thread, and the whole layer never sits in memory.
        let stream = futures_util::stream::unfold((f, 0u64), move |(mut f, sent)| {
            let _ = &d;
            async move {
                let mut buf = vec![0u8; 1 << 20];
                match f.read(&mut buf) {
                    Ok(0) => None,
                    Ok(n) => {
                        buf.truncate(n);
                        Some((
                            Ok::<_, std::io::Error>(bytes::Bytes::from(buf)),
                            (f, sent + n as u64),
                        ))
                    }
                    Err(e) => Some((Err(e), (f, sent))),
                }
            }
        });
        Some(reqwest::Body::wrap_stream(stream))
    };
    let resp = client
        .send(ep, Method::PUT, url.as_str(), &scope, &headers, &body)
        .await?;
    if !resp.status().is_success() {
        return Err(upload_error(ep, resp, &format!("blob {digest}")).await);
    }
    observer.layer(digest, LayerEvent::Done { bytes: size });
    Ok(())
}

/// The registry's own error message (`{"errors":[{"code":..,"message":..}]}`) when there is one.
async fn upload_error(ep: &Endpoint, resp: reqwest::Response, what: &str) -> Error {
    let status = resp.status();
    if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
        return Error::Unauthorized {
            registry: ep.registry.clone(),
            msg: format!("{what}: push refused ({status}): log in, or check the repository name"),
        };
    }
    let body = read_limited(resp, 64 << 10, ep).await.unwrap_or_default();
    let detail = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| {
            let e = &v["errors"][0];
            Some(format!(
                "{}: {}",
                e["code"].as_str()?.to_lowercase().replace('_', " "),
                e["message"].as_str().unwrap_or("")
            ))
        })
        .unwrap_or_else(|| status.to_string());
    registry_err(ep, format!("{what}: {detail}"))
}
