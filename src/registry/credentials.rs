//! Registry credentials in Docker's `config.json` (`$DOCKER_CONFIG/config.json`, default
//! `~/.docker/config.json`), read and written the way the docker CLI does, so `docker login`
//! and `barge login` share logins: `auths` (base64 `user:password`, or an `identitytoken`),
//! `credsStore` (one `docker-credential-<name>` helper for everything) and `credHelpers`
//! (a helper per registry). Helpers speak Docker's protocol: `get`/`store`/`erase` with the
//! request on stdin and JSON on stdout.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use base64::Engine as _;
use serde_json::{Map, Value, json};

use crate::error::{Error, IoContext, Result};

/// A user name and a secret (password or token) for one registry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub secret: String,
}

impl Credentials {
    pub fn basic_header(&self) -> String {
        let raw = format!("{}:{}", self.username, self.secret);
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(raw)
        )
    }
}

/// The key Docker uses for a registry in `auths`: Docker Hub has its historical URL.
pub fn server_key(registry: &str) -> String {
    if registry == "docker.io"
        || registry == "index.docker.io"
        || registry == "registry-1.docker.io"
    {
        "https://index.docker.io/v1/".into()
    } else {
        registry.to_string()
    }
}

/// Docker's `ConvertToHostname`: `https://host:5000/v1/` -> `host:5000`.
fn hostname_of(key: &str) -> &str {
    let k = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    k.split('/').next().unwrap_or(k)
}

fn same_registry(key: &str, registry: &str) -> bool {
    let want = hostname_of(&server_key(registry)).to_string();
    let h = hostname_of(key);
    h == want || (want == "index.docker.io" && (h == "docker.io" || h == "registry-1.docker.io"))
}

pub fn config_path() -> PathBuf {
    match std::env::var_os("DOCKER_CONFIG") {
        Some(d) => PathBuf::from(d).join("config.json"),
        None => PathBuf::from(std::env::var_os("HOME").unwrap_or_else(|| "/".into()))
            .join(".docker/config.json"),
    }
}

fn read_config() -> Result<Map<String, Value>> {
    let path = config_path();
    match std::fs::read(&path) {
        Ok(b) if b.iter().all(u8::is_ascii_whitespace) => Ok(Map::new()),
        Ok(b) => match serde_json::from_slice::<Value>(&b) {
            Ok(Value::Object(m)) => Ok(m),
            _ => Err(Error::Other(format!(
                "{}: not a valid docker config file",
                path.display()
            ))),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Map::new()),
        Err(e) => Err(Error::io(path, e)),
    }
}

fn write_config(cfg: &Map<String, Value>) -> Result<()> {
    let path = config_path();
    let dir = path.parent().unwrap_or(std::path::Path::new("/"));
    std::fs::create_dir_all(dir).at(dir)?;
    let tmp = dir.join(format!(".config.json.{}", crate::util::unique_suffix()));
    let mut data = serde_json::to_vec_pretty(&Value::Object(cfg.clone())).expect("json");
    data.push(b'\n');
    {
        use std::os::unix::fs::OpenOptionsExt;
        // Passwords live here: readable by the owner only, as docker writes it.
        let mut f = std::fs::File::options()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)
            .at(&tmp)?;
        f.write_all(&data).at(&tmp)?;
        f.sync_all().at(&tmp)?;
    }
    std::fs::rename(&tmp, &path).at(&path)
}

/// The helper that holds `registry`'s credentials, if one is configured.
fn helper_for(cfg: &Map<String, Value>, registry: &str) -> Option<String> {
    if let Some(Value::Object(h)) = cfg.get("credHelpers") {
        for (k, v) in h {
            if same_registry(k, registry)
                && let Some(s) = v.as_str()
            {
                return Some(s.to_string());
            }
        }
    }
    cfg.get("credsStore")
        .and_then(|v| v.as_str())
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

fn run_helper(helper: &str, action: &str, input: &str) -> Result<String> {
    let prog = format!("docker-credential-{helper}");
    let mut child = Command::new(&prog)
        .arg(action)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Error::Other(format!("credential helper {prog}: {e}")))?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(input.as_bytes());
    }
    let out = child
        .wait_with_output()
        .map_err(|e| Error::Other(format!("credential helper {prog}: {e}")))?;
    let stdout = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if !out.status.success() {
        let msg = if stdout.is_empty() {
            String::from_utf8_lossy(&out.stderr).trim().to_string()
        } else {
            stdout
        };
        return Err(Error::Other(format!(
            "credential helper {prog} {action}: {msg}"
        )));
    }
    Ok(stdout)
}

/// The credentials stored for `registry` (`host[:port]`, `docker.io` for Docker Hub).
pub fn get(registry: &str) -> Result<Option<Credentials>> {
    let cfg = read_config()?;
    if let Some(helper) = helper_for(&cfg, registry) {
        return match run_helper(&helper, "get", &server_key(registry)) {
            Ok(out) => {
                let v: Value = serde_json::from_str(&out).unwrap_or(Value::Null);
                let user = v["Username"].as_str().unwrap_or("").to_string();
                let secret = v["Secret"].as_str().unwrap_or("").to_string();
                Ok((!secret.is_empty()).then_some(Credentials {
                    username: user,
                    secret,
                }))
            }
            // "credentials not found in native keychain" is not an error: go anonymous.
            Err(Error::Other(m)) if m.contains("not found") => Ok(None),
            Err(e) => Err(e),
        };
    }
    let Some(Value::Object(auths)) = cfg.get("auths") else {
        return Ok(None);
    };
    for (k, v) in auths {
        if !same_registry(k, registry) {
            continue;
        }
        if let Some(tok) = v.get("identitytoken").and_then(|t| t.as_str())
            && !tok.is_empty()
        {
            return Ok(Some(Credentials {
                username: "<token>".into(),
                secret: tok.into(),
            }));
        }
        if let Some(a) = v.get("auth").and_then(|a| a.as_str()) {
            let raw = base64::engine::general_purpose::STANDARD
                .decode(a.trim())
                .map_err(|_| {
                    Error::Other(format!("{}: bad auth for {k}", config_path().display()))
                })?;
            let raw = String::from_utf8_lossy(&raw).into_owned();
            if let Some((u, p)) = raw.split_once(':') {
                return Ok(Some(Credentials {
                    username: u.into(),
                    secret: p.into(),
                }));
            }
        }
        if let (Some(u), Some(p)) = (
            v.get("username").and_then(|x| x.as_str()),
            v.get("password").and_then(|x| x.as_str()),
        ) {
            return Ok(Some(Credentials {
                username: u.into(),
                secret: p.into(),
            }));
        }
    }
    Ok(None)
}

/// Save a login (`barge login`): through the configured helper, else in `auths`.
pub fn store(registry: &str, creds: &Credentials) -> Result<()> {
    let mut cfg = read_config()?;
    let key = server_key(registry);
    if let Some(helper) = helper_for(&cfg, registry) {
        let req = json!({"ServerURL": key, "Username": creds.username, "Secret": creds.secret});
        run_helper(&helper, "store", &req.to_string())?;
        // Docker leaves an empty entry in auths so `docker info` lists the login.
        let auths = cfg
            .entry("auths")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(a) = auths {
            a.insert(key, json!({}));
        }
        return write_config(&cfg);
    }
    let auth = base64::engine::general_purpose::STANDARD
        .encode(format!("{}:{}", creds.username, creds.secret));
    let auths = cfg
        .entry("auths")
        .or_insert_with(|| Value::Object(Map::new()));
    if !auths.is_object() {
        *auths = Value::Object(Map::new());
    }
    if let Value::Object(a) = auths {
        a.retain(|k, _| !same_registry(k, registry));
        a.insert(key, json!({ "auth": auth }));
    }
    write_config(&cfg)
}

/// Forget a login (`barge logout`). Returns false when there was none.
pub fn erase(registry: &str) -> Result<bool> {
    let mut cfg = read_config()?;
    let mut found = false;
    if let Some(helper) = helper_for(&cfg, registry) {
        found = run_helper(&helper, "erase", &server_key(registry)).is_ok();
    }
    if let Some(Value::Object(a)) = cfg.get_mut("auths") {
        let before = a.len();
        a.retain(|k, _| !same_registry(k, registry));
        found |= a.len() != before;
    }
    if found {
        write_config(&cfg)?;
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_like_docker() {
        assert_eq!(server_key("docker.io"), "https://index.docker.io/v1/");
        assert!(same_registry("https://index.docker.io/v1/", "docker.io"));
        assert!(same_registry("http://localhost:5000", "localhost:5000"));
        assert!(!same_registry("localhost:5001", "localhost:5000"));
    }
}
