//! Registries for tests: Debian's docker-registry (CNCF distribution) on a free loopback
//! port, a tiny client speaking its API to put fixtures in, and a fake registry whose
//! answers a test controls (cut connections, wrong bytes, endless bodies, counters).

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::{Img, sha256};

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// docker-registry serving a temp dir; killed on drop.
pub struct Registry {
    pub port: u16,
    pub dir: tempfile::TempDir,
    child: Child,
}

impl Registry {
    pub fn start(auth: Option<(&str, &str)>) -> Registry {
        let dir = tempfile::Builder::new()
            .prefix("barge-reg-")
            .tempdir()
            .unwrap();
        let port = free_port();
        let mut cfg = format!(
            "version: 0.1\nlog: {{level: error, accesslog: {{disabled: true}}}}\n\
             storage: {{filesystem: {{rootdirectory: {}/data}}, delete: {{enabled: true}}}}\n\
             http: {{addr: 127.0.0.1:{port}}}\n",
            dir.path().display()
        );
        if let Some((u, p)) = auth {
            let out = Command::new("htpasswd")
                .args(["-Bbn", u, p])
                .output()
                .expect(
                    "htpasswd is needed for the registry tests (apt-get install apache2-utils)",
                );
            let hp = dir.path().join("htpasswd");
            std::fs::write(&hp, &out.stdout).unwrap();
            cfg.push_str(&format!(
                "auth: {{htpasswd: {{realm: barge-test, path: {}}}}}\n",
                hp.display()
            ));
        }
        let cfg_path = dir.path().join("config.yml");
        std::fs::write(&cfg_path, cfg).unwrap();
        let mut child = Command::new("docker-registry")
            .arg("serve")
            .arg(&cfg_path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("docker-registry is needed for the registry tests");
        for _ in 0..200 {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Registry { port, dir, child };
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("docker-registry did not start on port {port}");
    }

    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub struct Resp {
    pub status: u16,
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

/// One plain-HTTP request (Connection: close).
pub fn http(port: u16, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Resp {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut r = BufReader::new(s);
    let mut line = String::new();
    r.read_line(&mut line).unwrap();
    let status: u16 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    let mut headers = HashMap::new();
    loop {
        let mut l = String::new();
        r.read_line(&mut l).unwrap();
        let l = l.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    let mut body = Vec::new();
    let _ = r.read_to_end(&mut body);
    Resp {
        status,
        headers,
        body,
    }
}

/// Upload a blob with the distribution API (monolithic).
pub fn put_blob(port: u16, repo: &str, data: &[u8]) -> String {
    let d = sha256(data);
    let r = http(
        port,
        "POST",
        &format!("/v2/{repo}/blobs/uploads/"),
        &[],
        b"",
    );
    assert_eq!(
        r.status,
        202,
        "start upload: {}",
        String::from_utf8_lossy(&r.body)
    );
    let loc = r.headers["location"].clone();
    let path = match loc.find("/v2/") {
        Some(i) => loc[i..].to_string(),
        None => loc,
    };
    let sep = if path.contains('?') { '&' } else { '?' };
    let r = http(
        port,
        "PUT",
        &format!("{path}{sep}digest={d}"),
        &[("Content-Type", "application/octet-stream")],
        data,
    );
    assert_eq!(
        r.status,
        201,
        "put blob: {}",
        String::from_utf8_lossy(&r.body)
    );
    d
}

pub fn put_manifest(
    port: u16,
    repo: &str,
    reference: &str,
    media_type: &str,
    data: &[u8],
) -> String {
    let r = http(
        port,
        "PUT",
        &format!("/v2/{repo}/manifests/{reference}"),
        &[("Content-Type", media_type)],
        data,
    );
    assert_eq!(
        r.status,
        201,
        "put manifest: {}",
        String::from_utf8_lossy(&r.body)
    );
    sha256(data)
}

/// Put an image (its blobs and OCI manifest) under `repo:tag`; returns the manifest digest.
pub fn push_img(port: u16, repo: &str, tag: &str, img: &Img) -> String {
    for (b, _) in &img.layers {
        put_blob(port, repo, b);
    }
    put_blob(port, repo, &img.config());
    put_manifest(
        port,
        repo,
        tag,
        "application/vnd.oci.image.manifest.v1+json",
        &img.manifest(),
    )
}

/// How the fake registry answers one path.
#[derive(Clone)]
pub enum Behavior {
    /// Serve the bytes (Range supported).
    Ok,
    /// Send this many bytes, then close the connection, the first `n` times.
    CutAt(usize, usize),
    /// Stream bytes forever without a length.
    Endless,
    /// Serve slowly (so concurrent requests overlap).
    Slow,
    /// Answer with this status (and `Retry-After: 0`) the first `n` times.
    Fail(u16, usize),
    /// Redirect (307) to this URL.
    Redirect(String),
}

#[derive(Clone, Default)]
pub struct FakeState {
    pub routes: HashMap<String, (String, Vec<u8>, Option<Behavior>)>,
    /// (method, path, Range header) of every request.
    pub log: Vec<(String, String, Option<String>)>,
    /// (path, Authorization header) of every request.
    pub auth_log: Vec<(String, Option<String>)>,
    /// When set, every request must carry exactly this Authorization header (else 401
    /// with a Basic challenge).
    pub require_auth: Option<String>,
    /// The `WWW-Authenticate` sent with a 401 (default `Basic realm="fake"`).
    pub challenge: Option<String>,
}

/// A fake registry on a free port; every request is answered from `state`.
pub struct Fake {
    pub port: u16,
    pub state: Arc<Mutex<FakeState>>,
}

impl Fake {
    pub fn start() -> Fake {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let state: Arc<Mutex<FakeState>> = Arc::default();
        let st = state.clone();
        std::thread::spawn(move || {
            for conn in l.incoming() {
                let Ok(conn) = conn else { continue };
                let st = st.clone();
                std::thread::spawn(move || serve(conn, st));
            }
        });
        Fake { port, state }
    }

    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn route(&self, path: &str, content_type: &str, body: Vec<u8>, b: Option<Behavior>) {
        self.state
            .lock()
            .unwrap()
            .routes
            .insert(path.to_string(), (content_type.to_string(), body, b));
    }

    /// Serve `img` as `repo:tag` (and by digest); returns the manifest digest.
    pub fn image(&self, repo: &str, tag: &str, img: &Img) -> String {
        let m = img.manifest();
        let d = sha256(&m);
        let mt = "application/vnd.oci.image.manifest.v1+json";
        self.route(&format!("/v2/{repo}/manifests/{tag}"), mt, m.clone(), None);
        self.route(&format!("/v2/{repo}/manifests/{d}"), mt, m, None);
        self.route(
            &format!("/v2/{repo}/blobs/{}", sha256(&img.config())),
            "application/octet-stream",
            img.config(),
            None,
        );
        for (b, _) in &img.layers {
            self.route(
                &format!("/v2/{repo}/blobs/{}", sha256(b)),
                "application/octet-stream",
                b.clone(),
                None,
            );
        }
        d
    }

    pub fn requests(&self, path: &str) -> Vec<Option<String>> {
        self.state
            .lock()
            .unwrap()
            .log
            .iter()
            .filter(|(m, p, _)| m == "GET" && p == path)
            .map(|(_, _, r)| r.clone())
            .collect()
    }
}

fn serve(conn: TcpStream, st: Arc<Mutex<FakeState>>) {
    let mut r = BufReader::new(conn.try_clone().unwrap());
    let mut w = conn;
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut parts = line.split_whitespace();
        let method = parts.next().unwrap_or("").to_string();
        let path = parts.next().unwrap_or("").to_string();
        let mut range = None;
        let mut auth = None;
        loop {
            let mut l = String::new();
            if r.read_line(&mut l).unwrap_or(0) == 0 {
                return;
            }
            let l = l.trim_end();
            if l.is_empty() {
                break;
            }
            if let Some((k, v)) = l.split_once(':')
                && k.eq_ignore_ascii_case("range")
            {
                range = Some(v.trim().to_string());
            }
            if let Some((k, v)) = l.split_once(':')
                && k.eq_ignore_ascii_case("authorization")
            {
                auth = Some(v.trim().to_string());
            }
        }
        let (route, denied) = {
            let mut s = st.lock().unwrap();
            s.log.push((method.clone(), path.clone(), range.clone()));
            s.auth_log.push((path.clone(), auth.clone()));
            let denied =
                s.require_auth.is_some() && s.require_auth != auth && !path.starts_with("/token");
            let challenge = s
                .challenge
                .clone()
                .unwrap_or_else(|| "Basic realm=\"fake\"".into());
            let route = s.routes.get(path.split('?').next().unwrap_or("")).cloned();
            // Count down a cut: it happens only the first n times.
            if let Some((ct, body, Some(Behavior::CutAt(at, n)))) = &route
                && *n > 0
            {
                let next = if *n > 1 {
                    Some(Behavior::CutAt(*at, n - 1))
                } else {
                    None
                };
                s.routes
                    .insert(path.clone(), (ct.clone(), body.clone(), next));
            }
            if let Some((ct, body, Some(Behavior::Fail(code, n)))) = &route
                && *n > 0
            {
                let next = if *n > 1 {
                    Some(Behavior::Fail(*code, n - 1))
                } else {
                    None
                };
                s.routes
                    .insert(path.clone(), (ct.clone(), body.clone(), next));
            }
            (route, denied.then_some(challenge))
        };
        if let Some(challenge) = denied {
            let _ = write!(
                w,
                "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: {challenge}\r\nContent-Length: 0\r\n\r\n"
            );
            continue;
        }
        if path == "/v2/" {
            let _ = w.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}");
            continue;
        }
        let Some((ct, body, behavior)) = route else {
            let msg = br#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}"#;
            let _ = write!(
                w,
                "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                msg.len()
            );
            let _ = w.write_all(msg);
            continue;
        };
        if let Some(Behavior::Fail(code, n)) = behavior
            && n > 0
        {
            let _ = write!(
                w,
                "HTTP/1.1 {code} Oops\r\nRetry-After: 0\r\nContent-Length: 0\r\n\r\n"
            );
            continue;
        }
        if let Some(Behavior::Redirect(to)) = &behavior {
            let _ = write!(
                w,
                "HTTP/1.1 307 Temporary Redirect\r\nLocation: {to}\r\nContent-Length: 0\r\n\r\n"
            );
            continue;
        }
        if method == "HEAD" {
            let _ = write!(
                w,
                "HTTP/1.1 200 OK\r\nContent-Type: {ct}\r\nContent-Length: {}\r\n\r\n",
                body.len()
            );
            continue;
        }
        if let Some(Behavior::Endless) = behavior {
            let _ = write!(
                w,
                "HTTP/1.1 200 OK\r\nContent-Type: {ct}\r\nConnection: close\r\n\r\n"
            );
            let chunk = vec![0u8; 64 << 10];
            while w.write_all(&chunk).is_ok() {}
            return;
        }
        let start = range
            .as_deref()
            .and_then(|r| r.strip_prefix("bytes="))
            .and_then(|r| r.trim_end_matches('-').parse::<usize>().ok())
            .unwrap_or(0)
            .min(body.len());
        let part = &body[start..];
        if start > 0 {
            let _ = write!(
                w,
                "HTTP/1.1 206 Partial Content\r\nContent-Type: {ct}\r\nContent-Length: {}\r\nContent-Range: bytes {start}-{}/{}\r\n\r\n",
                part.len(),
                body.len() - 1,
                body.len()
            );
        } else {
            let _ = write!(
                w,
                "HTTP/1.1 200 OK\r\nContent-Type: {ct}\r\nContent-Length: {}\r\n\r\n",
                part.len()
            );
        }
        match behavior {
            Some(Behavior::CutAt(at, n)) if n > 0 => {
                let _ = w.write_all(&part[..at.min(part.len())]);
                let _ = w.flush();
                let _ = w.shutdown(std::net::Shutdown::Both);
                return;
            }
            Some(Behavior::Slow) => {
                for c in part.chunks(part.len() / 20 + 1) {
                    if w.write_all(c).is_err() {
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
            _ => {
                let _ = w.write_all(part);
            }
        }
    }
}

pub fn tmp_path(dir: &tempfile::TempDir, name: &str) -> PathBuf {
    dir.path().join(name)
}
