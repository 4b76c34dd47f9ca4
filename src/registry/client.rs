//! The HTTP side of the distribution API: endpoints, authentication, retries and redirects.
//!
//! Auth follows Docker: a request goes out with whatever authorization this client already
//! holds for the registry; a 401 carries a `WWW-Authenticate` challenge; `Bearer` means
//! "get a token from `realm` for `service` and `scope`" (anonymously, or with the stored
//! credentials as basic auth), `Basic` means "send the credentials". Tokens are cached per
//! registry and scope for the life of the client.
//!
//! Redirects are followed by hand: blobs are often served from another host (S3, a CDN),
//! and the registry's `Authorization` header must never travel there.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use reqwest::header::{self, HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};

use super::config::RegistriesConfig;
use super::credentials::{self, Credentials};
use crate::error::{Error, Result};

/// Where requests for one registry go.
#[derive(Clone, Debug)]
pub struct Endpoint {
    /// The registry as named in references (`docker.io`, `localhost:5000`): the key for
    /// credentials and messages.
    pub registry: String,
    /// `https://registry-1.docker.io`, `http://127.0.0.1:5000`: where requests go.
    pub base: String,
}

impl Endpoint {
    /// The endpoint of `registry` itself, or of one of its mirrors (`host` given).
    pub fn new(
        registry: &str,
        host: Option<&str>,
        cfg: &RegistriesConfig,
        tls_verify: Option<bool>,
    ) -> Endpoint {
        let raw = host.unwrap_or(registry);
        let base = if raw.starts_with("http://") || raw.starts_with("https://") {
            raw.trim_end_matches('/').to_string()
        } else {
            let h = if raw == "docker.io" {
                "registry-1.docker.io"
            } else {
                raw
            };
            let insecure = cfg.insecure(h) || tls_verify == Some(false);
            format!("{}://{h}", if insecure { "http" } else { "https" })
        };
        let registry = match host {
            Some(h) => h
                .trim_start_matches("http://")
                .trim_start_matches("https://")
                .trim_end_matches('/')
                .to_string(),
            None => registry.to_string(),
        };
        Endpoint { registry, base }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn authority(&self) -> &str {
        authority_of(&self.base)
    }
}

fn authority_of(url: &str) -> &str {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    rest.split(['/', '?']).next().unwrap_or(rest)
}

/// How a registry wants to be authenticated, learned from its 401.
#[derive(Clone, Debug)]
enum Challenge {
    Basic,
    Bearer {
        realm: String,
        service: Option<String>,
    },
}

/// Parse `Bearer realm="...",service="...",scope="..."` (quoted values may hold commas).
fn parse_challenge(h: &str) -> Option<Challenge> {
    let (scheme, rest) = h.trim().split_once(' ').unwrap_or((h.trim(), ""));
    let mut params = HashMap::new();
    let mut s = rest.trim();
    while !s.is_empty() {
        let Some((k, after)) = s.split_once('=') else {
            break;
        };
        let k = k.trim().to_ascii_lowercase();
        let after = after.trim_start();
        let (v, next) = if let Some(q) = after.strip_prefix('"') {
            let end = q.find('"').unwrap_or(q.len());
            (q[..end].to_string(), q.get(end + 1..).unwrap_or(""))
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (after[..end].trim().to_string(), &after[end..])
        };
        params.insert(k, v);
        s = next.trim_start().trim_start_matches(',').trim_start();
    }
    match scheme.to_ascii_lowercase().as_str() {
        "basic" => Some(Challenge::Basic),
        "bearer" => Some(Challenge::Bearer {
            realm: params.get("realm")?.clone(),
            service: params.get("service").cloned(),
        }),
        _ => None,
    }
}

/// Retry policy for one request or blob: attempts and the first backoff.
pub fn max_attempts() -> u32 {
    std::env::var("BARGE_PULL_RETRIES")
        .ok()
        .and_then(|s| s.parse::<u32>().ok())
        .map(|n| n + 1)
        .unwrap_or(5)
}

pub fn backoff(attempt: u32, retry_after: Option<Duration>) -> Duration {
    retry_after
        .unwrap_or_else(|| Duration::from_millis(200 << attempt.min(6)))
        .min(Duration::from_secs(30))
}

/// Is this failure worth another try (a reset connection, a timeout, a 5xx or 429)?
pub fn transient_status(s: StatusCode) -> bool {
    s.is_server_error() || s == StatusCode::TOO_MANY_REQUESTS || s == StatusCode::REQUEST_TIMEOUT
}

pub fn retry_after(h: &HeaderMap) -> Option<Duration> {
    h.get(header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

pub struct Client {
    http: reqwest::Client,
    /// Per registry: the challenge seen and the authorization header to send, per scope.
    auth: Mutex<HashMap<String, AuthState>>,
    /// Credentials given on the command line (`barge login`) win over the stored ones.
    override_creds: Option<Credentials>,
}

#[derive(Default, Clone)]
struct AuthState {
    challenge: Option<Challenge>,
    headers: HashMap<String, String>,
    creds: Option<Option<Credentials>>,
}

/// What a request needs: which repository scope its token must carry.
#[derive(Clone, Debug)]
pub struct Scope(pub String);

impl Scope {
    pub fn pull(repo: &str) -> Scope {
        Scope(format!("repository:{repo}:pull"))
    }
    pub fn push(repo: &str) -> Scope {
        Scope(format!("repository:{repo}:pull,push"))
    }
    /// Push to `repo` and mount from `from`: one token for both.
    pub fn push_mount(repo: &str, from: &str) -> Scope {
        Scope(format!(
            "repository:{repo}:pull,push repository:{from}:pull"
        ))
    }
    pub fn none() -> Scope {
        Scope(String::new())
    }
}

impl Client {
    pub fn new(tls_verify: bool, override_creds: Option<Credentials>) -> Result<Client> {
        // Once per process; an error only means another provider is already installed.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("barge/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(30))
            .read_timeout(Duration::from_secs(60))
            .tls_danger_accept_invalid_certs(!tls_verify)
            .build()
            .map_err(|e| Error::Other(format!("cannot set up the HTTP client: {e}")))?;
        Ok(Client {
            http,
            auth: Mutex::new(HashMap::new()),
            override_creds,
        })
    }

    fn creds(&self, registry: &str) -> Result<Option<Credentials>> {
        if let Some(c) = &self.override_creds {
            return Ok(Some(c.clone()));
        }
        if let Some(c) = self
            .auth
            .lock()
            .expect("auth lock")
            .get(registry)
            .and_then(|s| s.creds.clone())
        {
            return Ok(c);
        }
        let c = credentials::get(registry)?;
        self.auth
            .lock()
            .expect("auth lock")
            .entry(registry.to_string())
            .or_default()
            .creds = Some(c.clone());
        Ok(c)
    }

    fn cached_header(&self, ep: &Endpoint, scope: &Scope) -> Option<String> {
        let a = self.auth.lock().expect("auth lock");
        let st = a.get(&ep.registry)?;
        match st.challenge {
            Some(Challenge::Basic) => st.headers.get("").cloned(),
            _ => st.headers.get(&scope.0).cloned(),
        }
    }

    /// Answer a 401: work out the authorization header for `scope` and cache it.
    async fn authenticate(&self, ep: &Endpoint, scope: &Scope, www: Option<&str>) -> Result<bool> {
        let Some(ch) = www.and_then(parse_challenge) else {
            return Ok(false);
        };
        let creds = self.creds(&ep.registry)?;
        let header = match &ch {
            Challenge::Basic => match &creds {
                Some(c) => c.basic_header(),
                None => return Ok(false),
            },
            Challenge::Bearer { realm, service } => {
                format!(
                    "Bearer {}",
                    self.token(ep, realm, service.as_deref(), scope, creds.as_ref())
                        .await?
                )
            }
        };
        let mut a = self.auth.lock().expect("auth lock");
        let st = a.entry(ep.registry.clone()).or_default();
        let key = if matches!(ch, Challenge::Basic) {
            String::new()
        } else {
            scope.0.clone()
        };
        st.challenge = Some(ch);
        st.headers.insert(key, header);
        Ok(true)
    }

    async fn token(
        &self,
        ep: &Endpoint,
        realm: &str,
        service: Option<&str>,
        scope: &Scope,
        creds: Option<&Credentials>,
    ) -> Result<String> {
        let mut query: Vec<(&str, &str)> = Vec::new();
        if let Some(s) = service {
            query.push(("service", s));
        }
        for s in scope.0.split(' ').filter(|s| !s.is_empty()) {
            query.push(("scope", s));
        }
        let mut url = reqwest::Url::parse(realm)
            .map_err(|_| registry_err(ep, format!("bad token realm {realm:?}")))?;
        {
            let mut qp = url.query_pairs_mut();
            for (k, v) in &query {
                qp.append_pair(k, v);
            }
        }
        let mut attempt = 0;
        loop {
            let mut req = self.http.get(url.clone());
            if let Some(c) = creds {
                req = req.header(header::AUTHORIZATION, c.basic_header());
            }
            let r = req.send().await;
            match r {
                Ok(resp) if resp.status().is_success() => {
                    let body = read_limited(resp, 1 << 20, ep).await?;
                    let v: serde_json::Value = serde_json::from_slice(&body)
                        .map_err(|_| registry_err(ep, "invalid token response".into()))?;
                    let t = v["token"]
                        .as_str()
                        .or_else(|| v["access_token"].as_str())
                        .unwrap_or("");
                    if t.is_empty() {
                        return Err(registry_err(ep, "token response without a token".into()));
                    }
                    return Ok(t.to_string());
                }
                Ok(resp)
                    if resp.status() == StatusCode::UNAUTHORIZED
                        || resp.status() == StatusCode::FORBIDDEN =>
                {
                    return Err(Error::Unauthorized {
                        registry: ep.registry.clone(),
                        msg: if creds.is_some() {
                            "the token service refused the stored credentials".into()
                        } else {
                            "authentication required".into()
                        },
                    });
                }
                Ok(resp) if transient_status(resp.status()) && attempt + 1 < max_attempts() => {
                    tokio::time::sleep(backoff(attempt, retry_after(resp.headers()))).await;
                }
                Ok(resp) => {
                    return Err(registry_err(
                        ep,
                        format!("token service answered {}", resp.status()),
                    ));
                }
                Err(e) if attempt + 1 < max_attempts() => {
                    let _ = e;
                    tokio::time::sleep(backoff(attempt, None)).await;
                }
                Err(e) => return Err(net_err(ep, &e)),
            }
            attempt += 1;
        }
    }

    /// Send a request to `ep`, authenticating for `scope` on a 401, retrying transient
    /// failures with backoff and following redirects (credentials stay on `ep`'s host).
    /// `body` rebuilds the request body for every attempt. Any status is returned; the
    /// caller decides what is an error.
    pub async fn send(
        &self,
        ep: &Endpoint,
        method: Method,
        url: &str,
        scope: &Scope,
        headers: &HeaderMap,
        body: &(dyn Fn() -> Option<reqwest::Body> + Sync),
    ) -> Result<reqwest::Response> {
        let mut attempt = 0u32;
        let mut authed = false;
        let mut url = url.to_string();
        let mut redirects = 0;
        loop {
            let same_host = authority_of(&url) == ep.authority();
            let mut req = self
                .http
                .request(method.clone(), &url)
                .headers(headers.clone());
            if same_host && let Some(h) = self.cached_header(ep, scope) {
                req = req.header(header::AUTHORIZATION, h);
            }
            if let Some(b) = body() {
                req = req.body(b);
            }
            let resp = match req.send().await {
                Ok(r) => r,
                Err(e) => {
                    if attempt + 1 < max_attempts()
                        && (e.is_connect() || e.is_timeout() || e.is_request() || e.is_body())
                    {
                        tokio::time::sleep(backoff(attempt, None)).await;
                        attempt += 1;
                        continue;
                    }
                    return Err(net_err(ep, &e));
                }
            };
            let status = resp.status();
            if status == StatusCode::UNAUTHORIZED && same_host && !authed {
                authed = true;
                let www = resp
                    .headers()
                    .get(header::WWW_AUTHENTICATE)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string);
                if self.authenticate(ep, scope, www.as_deref()).await? {
                    continue;
                }
                return Ok(resp);
            }
            if status.is_redirection()
                && let Some(loc) = resp
                    .headers()
                    .get(header::LOCATION)
                    .and_then(|l| l.to_str().ok())
                && (method == Method::GET || method == Method::HEAD)
            {
                redirects += 1;
                if redirects > 10 {
                    return Err(registry_err(ep, "too many redirects".into()));
                }
                let next = reqwest::Url::parse(&url)
                    .and_then(|u| u.join(loc))
                    .map_err(|_| registry_err(ep, format!("bad redirect to {loc:?}")))?;
                url = next.to_string();
                continue;
            }
            if transient_status(status) && attempt + 1 < max_attempts() {
                tokio::time::sleep(backoff(attempt, retry_after(resp.headers()))).await;
                attempt += 1;
                continue;
            }
            return Ok(resp);
        }
    }

    /// A GET without a body.
    pub async fn get(
        &self,
        ep: &Endpoint,
        url: &str,
        scope: &Scope,
        headers: &HeaderMap,
    ) -> Result<reqwest::Response> {
        self.send(ep, Method::GET, url, scope, headers, &|| None)
            .await
    }

    /// `GET /v2/` and authenticate: true when the registry accepts us. For `login`.
    pub async fn check_login(&self, ep: &Endpoint) -> Result<()> {
        let resp = self
            .get(ep, &ep.url("/v2/"), &Scope::none(), &HeaderMap::new())
            .await?;
        match resp.status() {
            s if s.is_success() => Ok(()),
            StatusCode::UNAUTHORIZED => Err(Error::Unauthorized {
                registry: ep.registry.clone(),
                msg: "login failed: incorrect username or password".into(),
            }),
            s => Err(registry_err(ep, format!("/v2/ answered {s}"))),
        }
    }
}

/// Read a whole (small) body, refusing more than `limit` bytes whatever the headers say.
pub async fn read_limited(
    mut resp: reqwest::Response,
    limit: u64,
    ep: &Endpoint,
) -> Result<Vec<u8>> {
    if resp.content_length().is_some_and(|l| l > limit) {
        return Err(registry_err(
            ep,
            format!("response larger than {limit} bytes"),
        ));
    }
    let mut out = Vec::new();
    while let Some(c) = resp.chunk().await.map_err(|e| net_err(ep, &e))? {
        if out.len() as u64 + c.len() as u64 > limit {
            return Err(registry_err(
                ep,
                format!("response larger than {limit} bytes"),
            ));
        }
        out.extend_from_slice(&c);
    }
    Ok(out)
}

pub fn registry_err(ep: &Endpoint, msg: String) -> Error {
    Error::Registry {
        registry: ep.registry.clone(),
        msg,
    }
}

pub fn net_err(ep: &Endpoint, e: &reqwest::Error) -> Error {
    // reqwest's Display stops at "error sending request for url (...)"; the innermost
    // cause ("Connection refused", "failed to lookup address information") says why.
    let mut inner = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        inner = s.to_string();
        src = s.source();
    }
    let msg = if e.is_connect() {
        format!("cannot connect to {}: {inner}", ep.base)
    } else if e.is_timeout() {
        format!("{}: timed out", ep.base)
    } else {
        format!("{}: {inner}", ep.base)
    };
    registry_err(ep, msg)
}

pub fn header_map(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        if let Ok(v) = HeaderValue::from_str(v) {
            h.append(k.clone(), v);
        }
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges() {
        match parse_challenge(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/a:pull,push""#,
        ) {
            Some(Challenge::Bearer { realm, service }) => {
                assert_eq!(realm, "https://auth.docker.io/token");
                assert_eq!(service.as_deref(), Some("registry.docker.io"));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            parse_challenge(r#"Basic realm="x""#),
            Some(Challenge::Basic)
        ));
        assert!(parse_challenge("Bearer service=x").is_none());
    }

    #[test]
    fn endpoints() {
        let cfg = RegistriesConfig::default();
        assert_eq!(
            Endpoint::new("docker.io", None, &cfg, None).base,
            "https://registry-1.docker.io"
        );
        assert_eq!(
            Endpoint::new("localhost:5000", None, &cfg, None).base,
            "http://localhost:5000"
        );
        assert_eq!(
            Endpoint::new("r.io", None, &cfg, Some(false)).base,
            "http://r.io"
        );
        assert_eq!(authority_of("https://a.b:5/v2/x?y"), "a.b:5");
    }
}
