//! barge's registry configuration file: insecure (plain HTTP) registries and mirrors.
//!
//! Path: `$BARGE_REGISTRIES_CONF` when set; otherwise `/etc/barge/registries.toml` as root
//! and `$XDG_CONFIG_HOME/barge/registries.toml` (default `~/.config/...`) rootless. A
//! missing file is an empty configuration.
//!
//! ```toml
//! [registries."docker.io"]
//! mirrors = ["mirror.internal:5000", "https://mirror.example.com"]
//!
//! [registries."build.internal:5000"]
//! insecure = true        # plain HTTP (and no certificate check when it is HTTPS)
//! ```
//!
//! `localhost`, `127.0.0.0/8` and `::1` are always insecure, as in Docker.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

use crate::error::{Error, Result};

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistriesConfig {
    #[serde(default)]
    pub registries: BTreeMap<String, RegistryEntry>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistryEntry {
    /// Plain HTTP, and no certificate verification when the registry does speak TLS.
    #[serde(default)]
    pub insecure: bool,
    /// Hosts (`host[:port]`, optionally with `http://` or `https://`) tried in order before
    /// the registry itself when pulling.
    #[serde(default)]
    pub mirrors: Vec<String>,
}

impl RegistriesConfig {
    /// Where the file is looked for.
    pub fn path() -> PathBuf {
        if let Some(p) = std::env::var_os("BARGE_REGISTRIES_CONF") {
            return PathBuf::from(p);
        }
        if rustix::process::geteuid().is_root() {
            return PathBuf::from("/etc/barge/registries.toml");
        }
        let base = std::env::var_os("XDG_CONFIG_HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(std::env::var_os("HOME").unwrap_or_else(|| "/".into()))
                    .join(".config")
            });
        base.join("barge/registries.toml")
    }

    /// This file, plus the registry settings of barge's main config file
    /// (`config.toml`: `[registries]` and `[registry."host"]`, see barge-config(5)). Where
    /// both name a host, this file's mirrors come first and either may mark it insecure.
    pub fn load() -> Result<RegistriesConfig> {
        let path = Self::path();
        let mut cfg = match std::fs::read_to_string(&path) {
            Ok(s) => {
                Self::parse(&s).map_err(|msg| Error::Other(format!("{}: {msg}", path.display())))?
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Self::default(),
            Err(e) => return Err(Error::io(path, e)),
        };
        // A broken config.toml is reported by every command already; do not fail a pull.
        if let Ok(main) = crate::config::Config::load() {
            cfg.absorb(&main);
        }
        Ok(cfg)
    }

    /// Add the registry settings of barge's main config file.
    pub fn absorb(&mut self, main: &crate::config::Config) {
        let hosts: std::collections::BTreeSet<&String> = main
            .registries
            .mirrors
            .keys()
            .chain(&main.registries.insecure)
            .chain(main.registry.keys())
            .collect();
        for host in hosts {
            let s = main.registry(host);
            let e = self.registries.entry(host.clone()).or_default();
            for m in s.mirrors {
                if !e.mirrors.contains(&m) {
                    e.mirrors.push(m);
                }
            }
            e.insecure |= s.insecure;
        }
    }

    pub fn parse(s: &str) -> std::result::Result<RegistriesConfig, String> {
        toml::from_str(s).map_err(|e| e.to_string().trim().replace('\n', " "))
    }

    /// Is plain HTTP allowed for this registry (`host[:port]`)?
    pub fn insecure(&self, registry: &str) -> bool {
        is_loopback(registry) || self.registries.get(registry).is_some_and(|e| e.insecure)
    }

    pub fn mirrors(&self, registry: &str) -> Vec<String> {
        self.registries
            .get(registry)
            .map(|e| e.mirrors.clone())
            .unwrap_or_default()
    }
}

/// localhost, 127.0.0.0/8 and ::1, with or without a port.
pub fn is_loopback(registry: &str) -> bool {
    let host = if let Some(rest) = registry.strip_prefix('[') {
        rest.split(']').next().unwrap_or("")
    } else {
        registry.split(':').next().unwrap_or("")
    };
    host == "localhost"
        || host == "::1"
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|a| a.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_answers() {
        let c = RegistriesConfig::parse(
            "[registries.\"docker.io\"]\nmirrors = [\"m:5000\"]\n[registries.\"r.local:5000\"]\ninsecure = true\n",
        )
        .unwrap();
        assert!(c.insecure("r.local:5000"));
        assert!(!c.insecure("docker.io"));
        assert!(c.insecure("127.0.0.1:5000"));
        assert!(c.insecure("localhost"));
        assert!(c.insecure("[::1]:5000"));
        assert_eq!(c.mirrors("docker.io"), vec!["m:5000".to_string()]);
        assert!(RegistriesConfig::parse("bogus = 1").is_err());
    }

    #[test]
    fn settings_of_the_main_config_file_count_too() {
        let main = crate::config::Config::parse(
            "[registries]\ninsecure = [\"build.internal:5000\"]\n\n[registry.\"docker.io\"]\nmirrors = [\"mirror.internal:5000\"]\n",
            std::path::Path::new("config.toml"),
        )
        .unwrap();
        let mut c =
            RegistriesConfig::parse("[registries.\"docker.io\"]\nmirrors = [\"first.internal\"]\n")
                .unwrap();
        c.absorb(&main);
        assert_eq!(
            c.mirrors("docker.io"),
            ["first.internal", "mirror.internal:5000"]
        );
        assert!(c.insecure("build.internal:5000"));
        assert!(!c.insecure("quay.io"));
    }
}
