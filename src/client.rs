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

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::config::Paths;
use crate::container::{self, RunConfig, UserMount};
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::image;
use crate::store::Store;

/// A handle on one store (images, containers, volumes).
#[derive(Clone, Debug)]
pub struct Client {
    paths: Paths,
    binary: Option<PathBuf>,
}

/// An image as listed.
#[derive(Clone, Debug)]
pub struct ImageSummary {
    pub id: Digest,
    /// Familiar names (`alpine:latest`); empty for an untagged image.
    pub names: Vec<String>,
    /// Unpacked size in bytes.
    pub size: u64,
    pub created: Option<String>,
    pub architecture: String,
    pub os: String,
}

/// A container as listed.
#[derive(Clone, Debug)]
pub struct ContainerSummary {
    pub id: String,
    pub name: String,
    pub image: String,
    /// `created`, `running` or `exited`.
    pub state: String,
    pub exit_code: Option<i64>,
}

/// How a foreground container ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunOutcome {
    /// The container's exit code; 128+N when killed by signal N; 126/127 when the command
    /// could not be run or found.
    pub exit_code: i32,
    pub oom_killed: bool,
}

/// What to run: a builder for the common options of `barge run`.
#[derive(Clone, Debug, Default)]
pub struct ContainerSpec {
    image: String,
    name: Option<String>,
    remove: bool,
    config: RunConfig,
}

impl ContainerSpec {
    pub fn new(image: impl Into<String>) -> ContainerSpec {
        ContainerSpec {
            image: image.into(),
            ..Default::default()
        }
    }

    /// The command and its arguments (replace the image's CMD).
    pub fn cmd<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.config.cmd = args.into_iter().map(Into::into).collect();
        self
    }

    pub fn entrypoint<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.config.entrypoint = Some(args.into_iter().map(Into::into).collect());
        self
    }

    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.config.env.push(format!("{key}={value}"));
        self
    }

    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Remove the container when it exits (`--rm`).
    pub fn remove(mut self, yes: bool) -> Self {
        self.remove = yes;
        self
    }

    pub fn workdir(mut self, dir: impl Into<String>) -> Self {
        self.config.workdir = Some(dir.into());
        self
    }

    pub fn user(mut self, user: impl Into<String>) -> Self {
        self.config.user = Some(user.into());
        self
    }

    /// Bind-mount a host directory (`-v HOST:CTR[:ro]`).
    pub fn bind(
        mut self,
        host: impl Into<PathBuf>,
        target: impl Into<String>,
        readonly: bool,
    ) -> Self {
        self.config.mounts.push(UserMount::Bind {
            source: host.into(),
            target: target.into(),
            readonly,
        });
        self
    }

    pub fn tmpfs(mut self, target: impl Into<String>) -> Self {
        self.config.mounts.push(UserMount::Tmpfs {
            target: target.into(),
            options: Vec::new(),
        });
        self
    }

    /// Memory limit in bytes.
    pub fn memory(mut self, bytes: i64) -> Self {
        self.config.memory = Some(bytes);
        self
    }

    pub fn cpus(mut self, cpus: f64) -> Self {
        self.config.cpus = Some(cpus);
        self
    }

    pub fn pids_limit(mut self, n: i64) -> Self {
        self.config.pids_limit = Some(n);
        self
    }

    pub fn read_only(mut self, yes: bool) -> Self {
        self.config.read_only = yes;
        self
    }

    /// The host's network instead of a private namespace.
    pub fn host_network(mut self) -> Self {
        self.config.network = Some(container::Network::Host);
        self
    }
}

impl Client {
    /// The default store: `/var/lib/barge` as root, `~/.local/share/barge` otherwise
    /// (`BARGE_ROOT` overrides).
    pub fn open_default() -> Result<Client> {
        Ok(Client {
            paths: Paths::resolve(std::env::var_os("BARGE_ROOT").map(PathBuf::from)),
            binary: None,
        })
    }

    /// A store at `root`.
    pub fn open(root: impl Into<PathBuf>) -> Result<Client> {
        Ok(Client {
            paths: Paths::resolve(Some(root.into())),
            binary: None,
        })
    }

    /// The `barge` binary that supervises detached containers.
    pub fn with_binary(mut self, path: impl Into<PathBuf>) -> Client {
        self.binary = Some(path.into());
        self
    }

    pub fn paths(&self) -> &Paths {
        &self.paths
    }

    fn store(&self) -> Result<Store> {
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

    /// Docker's `image inspect` document.
    pub fn inspect_image(&self, name: &str) -> Result<serde_json::Value> {
        let store = self.store()?;
        let img = image::resolve(&store, name)?;
        image::inspect(&store, &img)
    }

    /// Import an archive file (docker save, OCI layout, or a root filesystem tarball).
    pub fn import_file(
        &self,
        path: &Path,
        opts: &crate::archive::ImportOptions,
    ) -> Result<crate::archive::ImportReport> {
        let f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        let total = f.metadata().ok().map(|m| m.len());
        let mut store = self.store()?;
        crate::archive::import(
            &mut store,
            Box::new(f),
            &path.display().to_string(),
            total,
            opts,
            &crate::archive::Silent,
        )
    }

    pub fn tag(&self, source: &str, target: &str) -> Result<()> {
        image::tag(&mut self.store()?, source, target)
    }

    /// `rmi`: untag, and delete when no tag is left.
    pub fn remove_image(&self, name: &str, force: bool) -> Result<Vec<image::Removed>> {
        image::remove(&mut self.store()?, name, force)
    }

    fn prepare(
        &self,
        spec: &ContainerSpec,
        store: &mut Store,
        supervisor: Option<(i64, i64)>,
    ) -> Result<container::Prepared> {
        container::reap_dead(store, &self.paths)?;
        let img = image::resolve(store, &spec.image)?;
        container::prepare(
            store,
            &self.paths,
            &img,
            &spec.image,
            spec.name.as_deref(),
            &spec.config,
            spec.remove,
            supervisor,
        )
    }

    /// Run a container in the foreground with this process's stdio, and wait for it.
    /// The calling process must be single-threaded (see the module docs).
    pub fn run(&self, spec: &ContainerSpec) -> Result<RunOutcome> {
        let mut store = self.store()?;
        let p = self.prepare(spec, &mut store, Some(container::self_identity()))?;
        let opts = crate::runtime::RunOptions {
            id: p.record.id.clone(),
            spec: p.spec.clone(),
            rootfs_mount: Some(p.rootfs_mount.clone()),
            stdio: crate::runtime::Stdio::Inherit,
            state_dir: container::state_root(&self.paths).join(&p.record.id),
            init: false,
            sig_proxy: true,
        };
        let result = crate::supervisor::foreground::run_foreground(opts);
        let outcome = match &result {
            Ok(o) => RunOutcome {
                exit_code: if o.oom_killed { 137 } else { o.code() },
                oom_killed: o.oom_killed,
            },
            Err(e) => RunOutcome {
                exit_code: e.exit_code(),
                oom_killed: false,
            },
        };
        if spec.remove {
            container::remove_files(&store, &self.paths, &p.record.id)?;
            store.delete_container(&p.record.id)?;
        } else {
            store.container_exited(&p.record.id, outcome.exit_code as i64, outcome.oom_killed)?;
        }
        match result {
            Ok(_) | Err(crate::runtime::RuntimeError::Exec { .. }) => Ok(outcome),
            Err(e) => Err(Error::Other(format!("container {}: {e}", p.record.name))),
        }
    }

    /// Create a container (stopped); returns its ID.
    pub fn create(&self, spec: &ContainerSpec) -> Result<String> {
        let mut store = self.store()?;
        let p = self.prepare(spec, &mut store, None)?;
        let settings = container::RunSettings {
            auto_remove: spec.remove,
            restart: "no".into(),
            log_max_files: 1,
            lowerdirs: p.rootfs_mount.lowerdirs.clone(),
            ..Default::default()
        };
        container::save_bundle(&p.dir, &p.spec, &settings)?;
        Ok(p.record.id)
    }

    fn binary(&self) -> Result<PathBuf> {
        if let Some(b) = &self.binary {
            return Ok(b.clone());
        }
        if let Ok(exe) = std::env::current_exe() {
            if exe.file_name().is_some_and(|n| n == "barge") {
                return Ok(exe);
            }
            if let Some(b) = exe
                .parent()
                .map(|d| d.join("barge"))
                .filter(|b| b.is_file())
            {
                return Ok(b);
            }
        }
        std::env::var_os("PATH")
            .and_then(|p| {
                std::env::split_paths(&p)
                    .map(|d| d.join("barge"))
                    .find(|b| b.is_file())
            })
            .ok_or_else(|| {
                Error::Other(
                    "the barge binary is needed to supervise detached containers: not found".into(),
                )
            })
    }

    /// Start a created (or exited) container in the background.
    pub fn start(&self, id: &str) -> Result<()> {
        let store = self.store()?;
        let c = container::find(&store, id)?;
        let dir = container::container_dir(&store, &c.id);
        drop(store);
        let status = std::process::Command::new(self.binary()?)
            .arg("--root")
            .arg(&self.paths.root)
            .args(["start", &c.id])
            .stdout(std::process::Stdio::null())
            .output()
            .map_err(|e| Error::io(&dir, e))?;
        if status.status.success() {
            Ok(())
        } else {
            Err(Error::Other(
                String::from_utf8_lossy(&status.stderr).trim().to_string(),
            ))
        }
    }

    /// Stop a running container: its stop signal, then SIGKILL after `timeout`.
    pub fn stop(&self, id: &str, timeout: Duration) -> Result<()> {
        let mut store = self.store()?;
        let c = container::find(&store, id)?;
        container::stop(&mut store, &self.paths, &c, timeout)
    }

    /// Wait until the container has stopped; its exit code.
    pub fn wait(&self, id: &str) -> Result<i64> {
        let store = self.store()?;
        let c = container::find(&store, id)?;
        container::wait_stopped(&store, &c.id, Duration::from_secs(u64::MAX / 4))?;
        Ok(container::find(&store, &c.id)
            .ok()
            .and_then(|c| c.exit_code)
            .unwrap_or(0))
    }

    /// Remove a container (`force` kills a running one first).
    pub fn remove(&self, id: &str, force: bool) -> Result<()> {
        let mut store = self.store()?;
        let c = container::find(&store, id)?;
        container::remove(&mut store, &self.paths, &c, force, false)
    }

    /// Every container.
    pub fn containers(&self) -> Result<Vec<ContainerSummary>> {
        let store = self.store()?;
        Ok(store
            .containers()?
            .into_iter()
            .map(|c| ContainerSummary {
                state: container::effective_state(&c).to_string(),
                id: c.id,
                name: c.name,
                image: c.image_name,
                exit_code: c.exit_code,
            })
            .collect())
    }

    /// The container's output so far: (stream, text) pairs from its json-file log.
    pub fn logs(&self, id: &str) -> Result<Vec<(String, String)>> {
        let store = self.store()?;
        let c = container::find(&store, id)?;
        let path = container::container_dir(&store, &c.id).join(format!("{}-json.log", c.id));
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(Error::io(path, e)),
        };
        Ok(text
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .map(|v| {
                (
                    v["stream"].as_str().unwrap_or("stdout").to_string(),
                    v["log"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect())
    }

    /// Run a command in a running container with this process's stdio; its exit code.
    pub fn exec(&self, id: &str, args: &[&str]) -> Result<i32> {
        let store = self.store()?;
        let c = container::find(&store, id)?;
        drop(store);
        let opts = crate::runtime::ExecOptions {
            args: args.iter().map(|s| s.to_string()).collect(),
            env: Vec::new(),
            cwd: None,
            user: None,
            tty: false,
            console: crate::runtime::Console::Inherit,
            die_with_parent: true,
            stdio: None,
        };
        match crate::runtime::exec(&container::state_root(&self.paths), &c.id, opts) {
            Ok(o) => Ok(o.code()),
            Err(e @ crate::runtime::RuntimeError::Exec { .. }) => Ok(e.exit_code()),
            Err(e) => Err(Error::Other(format!("container {}: {e}", c.name))),
        }
    }
}
