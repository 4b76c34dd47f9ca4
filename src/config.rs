//! Where barge keeps things (the store root and the runtime state directory) and the
//! settings of the config file.
//!
//! Root: `--root`, else `$BARGE_ROOT`, else `root` of the config file, else `/var/lib/barge`
//! as root and `$XDG_DATA_HOME/barge` (default `~/.local/share/barge`) otherwise.
//! Runtime state: `/run/barge` as root, `$XDG_RUNTIME_DIR/barge` otherwise (without
//! `XDG_RUNTIME_DIR`, `/tmp/barge-$UID`, made 0700 and checked to be the user's own); with a
//! custom root, `<root>/run`, so stores given by `--root` never share state.
//!
//! Rootless means: the user is not root on the host. A rootless barge process works inside
//! the user's own user namespace (see `runtime::userns`), where it *is* uid 0; it carries
//! [`crate::runtime::userns::ENV`] so that it (and the supervisor it re-executes) still knows
//! whose store it works on. Root and user stores never share a file: a rootless barge ignores
//! `root` in the system-wide config file, which is root's to set.
//!
//! Config files (TOML, documented in `man/man5/barge-config.5`): `$BARGE_CONFIG` alone
//! when set; otherwise `/etc/barge/config.toml`, then `$XDG_CONFIG_HOME/barge/config.toml`
//! (default `~/.config/barge/config.toml`), whose keys override the system file's. A missing
//! file is not an error; a malformed one is (a typo silently ignored would be worse).
//!
//! Registry settings live here too (`[registries]` and `[registry."host"]`), so the registry
//! code reads one parsed [`Config`] instead of a file of its own: see [`Config::registry`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Result};

#[derive(Clone, Debug)]
pub struct Paths {
    pub root: PathBuf,
    pub run: PathBuf,
    pub rootless: bool,
    /// The merged config files (defaults when there are none).
    pub config: Config,
}

impl Paths {
    /// Paths from `--root`/`BARGE_ROOT` (clap passes both as `root`) and the config files.
    /// A config file that cannot be parsed is reported as a warning and ignored, so that
    /// `barge` stays usable to inspect and fix things; [`Config::load`] is the strict form.
    pub fn resolve(root: Option<PathBuf>) -> Paths {
        let config = match Config::load_for(is_rootless()) {
            Ok(c) => c,
            Err(e) => {
                crate::ui::warn(&format!("{e} (ignoring the config file)"));
                Config::default()
            }
        };
        Paths::with_config(root, config)
    }

    pub fn with_config(root: Option<PathBuf>, config: Config) -> Paths {
        let rootless = is_rootless();
        let home = || {
            std::env::var_os("HOME")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("/"))
        };
        let (default_root, default_run) = if rootless {
            let data = std::env::var_os("XDG_DATA_HOME")
                .filter(|d| !d.is_empty())
                .map(PathBuf::from)
                .unwrap_or_else(|| home().join(".local/share"));
            (data.join("barge"), user_run_dir())
        } else {
            (PathBuf::from("/var/lib/barge"), PathBuf::from("/run/barge"))
        };
        // Relative to the working directory at the start: the store's paths end up in
        // container specs (which must be absolute) and in re-executed supervisors.
        let root = root
            .or_else(|| config.root.clone())
            .map(|r| std::path::absolute(&r).unwrap_or(r));
        match root {
            // The default store named explicitly (the supervisor is re-executed with
            // `--root`) keeps the default state directory.
            Some(root) if root != default_root => Paths {
                run: root.join("run"),
                root,
                rootless,
                config,
            },
            _ => Paths {
                root: default_root,
                run: default_run,
                rootless,
                config,
            },
        }
    }
}

/// True when barge works for an ordinary user: not root on the host, or inside the user's
/// namespace that barge joined (where it is uid 0 but still works for that user).
pub fn is_rootless() -> bool {
    !rustix::process::geteuid().is_root() || joined_ids().is_some()
}

/// The user's ids on the host when this process is in a rootless barge namespace.
fn joined_ids() -> Option<(u32, u32)> {
    let v = std::env::var(crate::runtime::userns::ENV).ok()?;
    let (u, g) = v.split_once(':')?;
    let ids = (u.parse().ok()?, g.parse().ok()?);
    // The variable alone proves nothing (anyone can set it): the maps must not be the host's.
    crate::runtime::userns::in_user_namespace().then_some(ids)
}

/// The user barge works for, as the host sees it: uid and gid.
pub fn host_ids() -> (u32, u32) {
    joined_ids().unwrap_or_else(|| {
        (
            rustix::process::getuid().as_raw(),
            rustix::process::getgid().as_raw(),
        )
    })
}

/// The name of the user barge works for (`uid` as text when /etc/passwd has none).
pub fn host_user_name() -> String {
    let uid = host_ids().0;
    nix::unistd::User::from_uid(uid.into())
        .ok()
        .flatten()
        .map(|u| u.name)
        .unwrap_or_else(|| uid.to_string())
}

/// The fix for a user without subordinate ids, as a hint line.
pub fn subid_hint() -> String {
    format!(
        "as root: usermod --add-subuids 100000-165535 --add-subgids 100000-165535 {}, then run \
         `barge system migrate` so that the next command maps the ranges",
        host_user_name(),
    )
}

/// The rootless user's runtime directory, whatever the store: `$XDG_RUNTIME_DIR/barge`, or
/// `/tmp/barge-$UID` on a system without one (no login session, `su`, cron).
pub fn user_run_dir() -> PathBuf {
    match std::env::var_os("XDG_RUNTIME_DIR").filter(|d| !d.is_empty()) {
        Some(d) => PathBuf::from(d).join("barge"),
        None => PathBuf::from(format!("/tmp/barge-{}", host_ids().0)),
    }
}

/// The config file's contents. Every key is optional; unknown keys are errors.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    /// Store root (`--root` and `BARGE_ROOT` win over it).
    pub root: Option<PathBuf>,
    /// Network of `run`/`create` without `--network` (`none` or `host`).
    pub default_network: Option<String>,
    /// Platform `import` picks from a multi-platform archive without `--platform`.
    pub default_platform: Option<String>,
    /// Log options of `run`/`create` without `--log-opt`.
    pub log_opts: LogOpts,
    /// How containers' root filesystems are mounted: `overlay` (the kernel's) or
    /// `fuse-overlayfs`. Unset: overlay, and rootless fuse-overlayfs when a trial mount
    /// shows that the kernel refuses overlay in the user namespace.
    pub storage_driver: Option<String>,
    /// Rootless: the program behind the default network, `slirp4netns` (unset) or `pasta`.
    pub rootless_network: Option<String>,
    /// Settings for every registry.
    pub registries: Registries,
    /// Settings for one registry host (`[registry."localhost:5000"]`), merged over
    /// `[registries]` by [`Config::registry`].
    pub registry: BTreeMap<String, RegistryHost>,
    /// The files that were read, in order (not a key: filled in by `load`).
    #[serde(skip)]
    pub files: Vec<PathBuf>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct LogOpts {
    /// Rotate the json-file log at this size (`10m`, `1g`, bytes).
    pub max_size: Option<String>,
    /// Keep this many log files.
    pub max_file: Option<u32>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct Registries {
    /// Mirrors by registry host: `mirrors = { "docker.io" = ["https://mirror.example"] }`.
    pub mirrors: BTreeMap<String, Vec<String>>,
    /// Hosts spoken to over plain HTTP or with unverified TLS: `["localhost:5000"]`.
    pub insecure: Vec<String>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct RegistryHost {
    pub mirrors: Vec<String>,
    pub insecure: Option<bool>,
}

/// What the registry code needs for one host, merged from both forms.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RegistrySettings {
    pub mirrors: Vec<String>,
    pub insecure: bool,
}

impl Config {
    /// The files to read, in order (later ones override earlier ones).
    pub fn files() -> Vec<PathBuf> {
        if let Some(f) = std::env::var_os("BARGE_CONFIG").filter(|f| !f.is_empty()) {
            return vec![PathBuf::from(f)];
        }
        let user_dir = std::env::var_os("XDG_CONFIG_HOME")
            .filter(|d| !d.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")));
        let mut files = vec![PathBuf::from("/etc/barge/config.toml")];
        files.extend(user_dir.map(|d| d.join("barge/config.toml")));
        files
    }

    /// Read and merge the config files; missing files are skipped.
    pub fn load() -> Result<Config> {
        Config::load_for(is_rootless())
    }

    /// As [`Config::load`]; `rootless` ignores the system file's `root`, so that an
    /// ordinary user's barge never opens root's store.
    pub fn load_for(rootless: bool) -> Result<Config> {
        let mut merged = Config::default();
        for f in Config::files() {
            match std::fs::read_to_string(&f) {
                Ok(text) => {
                    let mut c = Config::parse(&text, &f)?;
                    if rootless && f == Path::new("/etc/barge/config.toml") {
                        c.root = None;
                    }
                    merged.merge(c);
                    merged.files.push(f);
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(Error::io(&f, e)),
            }
        }
        Ok(merged)
    }

    /// Parse one file's text; `path` names it in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Config> {
        let c: Config = toml::from_str(text).map_err(|e| {
            Error::Other(format!(
                "config file {}: {}",
                path.display(),
                e.to_string().trim_end().replace('\n', " ")
            ))
        })?;
        // A user network's name is checked when a container is made (networks come and
        // go); `container:` names one container and makes no sense as a default.
        if let Some(n) = &c.default_network
            && !crate::util::is_docker_name(n, 64)
        {
            return Err(Error::Other(format!(
                "config file {}: default-network {n:?}: bridge, none, host or a network's name",
                path.display()
            )));
        }
        if let Some(d) = &c.storage_driver
            && !matches!(d.as_str(), "overlay" | "fuse-overlayfs")
        {
            return Err(Error::Other(format!(
                "config file {}: storage-driver {d:?}: overlay or fuse-overlayfs",
                path.display()
            )));
        }
        if let Some(n) = &c.rootless_network
            && !matches!(n.as_str(), "slirp4netns" | "pasta")
        {
            return Err(Error::Other(format!(
                "config file {}: rootless-network {n:?}: slirp4netns or pasta",
                path.display()
            )));
        }
        Ok(c)
    }

    /// Keys set in `other` win; maps are merged key by key.
    fn merge(&mut self, other: Config) {
        let Config {
            root,
            default_network,
            default_platform,
            log_opts,
            storage_driver,
            rootless_network,
            registries,
            registry,
            files: _,
        } = other;
        self.storage_driver = storage_driver.or(self.storage_driver.take());
        self.rootless_network = rootless_network.or(self.rootless_network.take());
        self.root = root.or(self.root.take());
        self.default_network = default_network.or(self.default_network.take());
        self.default_platform = default_platform.or(self.default_platform.take());
        self.log_opts.max_size = log_opts.max_size.or(self.log_opts.max_size.take());
        self.log_opts.max_file = log_opts.max_file.or(self.log_opts.max_file.take());
        self.registries.mirrors.extend(registries.mirrors);
        if !registries.insecure.is_empty() {
            self.registries.insecure = registries.insecure;
        }
        self.registry.extend(registry);
    }

    /// The settings for registry `host` (`docker.io`, `localhost:5000`): a
    /// `[registry."host"]` table wins over `[registries]`.
    pub fn registry(&self, host: &str) -> RegistrySettings {
        let mut s = RegistrySettings {
            mirrors: self
                .registries
                .mirrors
                .get(host)
                .cloned()
                .unwrap_or_default(),
            insecure: self.registries.insecure.iter().any(|h| h == host),
        };
        if let Some(h) = self.registry.get(host) {
            if !h.mirrors.is_empty() {
                s.mirrors = h.mirrors.clone();
            }
            if let Some(i) = h.insecure {
                s.insecure = i;
            }
        }
        s
    }

    /// `--log-opt` values equivalent to `[log-opts]`, for `run` without `--log-opt`.
    pub fn log_opt_args(&self) -> Vec<String> {
        let mut v = Vec::new();
        if let Some(s) = &self.log_opts.max_size {
            v.push(format!("max-size={s}"));
        }
        if let Some(n) = self.log_opts.max_file {
            v.push(format!("max-file={n}"));
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"
root = "/srv/barge"
default-network = "host"
default-platform = "linux/arm64"
storage-driver = "fuse-overlayfs"
rootless-network = "pasta"

[log-opts]
max-size = "10m"
max-file = 3

[registries]
insecure = ["localhost:5000"]
mirrors = { "docker.io" = ["https://mirror.example"] }

[registry."registry.example:443"]
mirrors = ["https://other.example"]
insecure = false

[registry."localhost:5000"]
insecure = false
"#;

    #[test]
    fn parses_every_key() {
        let c = Config::parse(EXAMPLE, Path::new("x")).unwrap();
        assert_eq!(c.root.as_deref(), Some(Path::new("/srv/barge")));
        assert_eq!(c.default_network.as_deref(), Some("host"));
        assert_eq!(c.storage_driver.as_deref(), Some("fuse-overlayfs"));
        assert_eq!(c.rootless_network.as_deref(), Some("pasta"));
        assert_eq!(c.log_opt_args(), ["max-size=10m", "max-file=3"]);
        assert_eq!(
            c.registry("docker.io"),
            RegistrySettings {
                mirrors: vec!["https://mirror.example".into()],
                insecure: false
            }
        );
        assert_eq!(
            c.registry("registry.example:443").mirrors,
            ["https://other.example"]
        );
        // The per-host table wins over the list.
        assert!(!c.registry("localhost:5000").insecure);
        assert_eq!(c.registry("quay.io"), RegistrySettings::default());
    }

    #[test]
    fn unknown_keys_and_bad_values_are_errors_that_name_the_file() {
        let e = Config::parse("rot = 1", Path::new("/etc/x.toml")).unwrap_err();
        assert!(e.to_string().contains("/etc/x.toml"), "{e}");
        assert!(e.to_string().contains("rot"), "{e}");
        assert!(Config::parse("default-network = \"container:web\"", Path::new("x")).is_err());
        assert!(Config::parse("default-network = \"\"", Path::new("x")).is_err());
        for ok in ["bridge", "none", "host", "backend-net"] {
            let c = Config::parse(&format!("default-network = \"{ok}\""), Path::new("x")).unwrap();
            assert_eq!(c.default_network.as_deref(), Some(ok));
        }
        assert!(Config::parse("storage-driver = \"vfs\"", Path::new("x")).is_err());
        assert!(Config::parse("rootless-network = \"vpnkit\"", Path::new("x")).is_err());
    }

    #[test]
    fn later_files_override_earlier_ones() {
        let mut a = Config::parse(EXAMPLE, Path::new("a")).unwrap();
        a.merge(
            Config::parse(
                "default-network = \"none\"\n[log-opts]\nmax-file = 5",
                Path::new("b"),
            )
            .unwrap(),
        );
        assert_eq!(a.default_network.as_deref(), Some("none"));
        assert_eq!(a.root.as_deref(), Some(Path::new("/srv/barge")));
        assert_eq!(a.log_opt_args(), ["max-size=10m", "max-file=5"]);
    }
}
