//! Containers through the client: the spec builder, create/start/stop/wait/remove, and
//! `run` in the foreground. The CLI's `run`, `create`, `start`, `stop`, `restart`, `wait`
//! and `rm` are built on these.

use std::path::PathBuf;
use std::time::Duration;

use super::Client;
use crate::container::{self, RunConfig, RunSettings, UserMount};
use crate::error::{Error, Result};
use crate::image;
use crate::runtime;
use crate::store::{ContainerRecord, Store};
use crate::supervisor::{self, Launched};

/// How a foreground container ended.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RunOutcome {
    /// The container's ID (gone already with [`ContainerSpec::remove`]).
    pub id: String,
    /// The container's name.
    pub name: String,
    /// The container's exit code; 128+N when killed by signal N (137 when the OOM killer
    /// struck).
    pub exit_code: i32,
    /// The kernel's OOM killer killed a process of the container: it went over its memory
    /// limit.
    pub oom_killed: bool,
}

/// A container as listed.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ContainerSummary {
    /// The full ID (64 hex digits).
    pub id: String,
    /// Its name (given, or made up like `brave_anchor`).
    pub name: String,
    /// The image name it was created from.
    pub image: String,
    /// `created`, `running` or `exited`.
    pub state: String,
    /// The exit code of its last run, once it has ended.
    pub exit_code: Option<i64>,
}

/// What to run: the image and the common options of `barge run`, as a builder.
///
/// ```
/// use barge::client::ContainerSpec;
/// let spec = ContainerSpec::new("busybox:latest")
///     .name("web")
///     .cmd(["httpd", "-f", "-p", "8080"])
///     .env("MODE", "test")
///     .bind("/srv/www", "/www", true)
///     .memory(64 << 20)
///     .pids_limit(100);
/// # let _ = spec;
/// ```
#[derive(Clone, Debug)]
pub struct ContainerSpec {
    image: String,
    name: Option<String>,
    config: RunConfig,
    settings: RunSettings,
    sig_proxy: bool,
}

impl ContainerSpec {
    /// A container of `image` (name, `name:tag`, `name@digest`, ID or ID prefix), with
    /// the image's command, environment and user, on the default bridge network.
    pub fn new(image: impl Into<String>) -> ContainerSpec {
        ContainerSpec {
            image: image.into(),
            name: None,
            config: RunConfig {
                network: Some(container::Network::Bridge),
                ..Default::default()
            },
            settings: RunSettings {
                restart: "no".into(),
                log_max_files: 1,
                ..Default::default()
            },
            sig_proxy: true,
        }
    }

    /// What the CLI's flags describe: `run_config` and the settings `start` needs later.
    pub(crate) fn from_parts(
        image: String,
        name: Option<String>,
        config: RunConfig,
        settings: RunSettings,
        sig_proxy: bool,
    ) -> ContainerSpec {
        ContainerSpec {
            image,
            name,
            config,
            settings,
            sig_proxy,
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

    /// Replace the image's ENTRYPOINT (an empty list clears it); the image's CMD is then
    /// dropped too, as Docker does.
    pub fn entrypoint<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.config.entrypoint = Some(args.into_iter().map(Into::into).collect());
        self
    }

    /// Set an environment variable (over the image's).
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.config.env.push(format!("{key}={value}"));
        self
    }

    /// The container's name (default: made up, like `brave_anchor`).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Remove the container when it exits (`--rm`).
    pub fn remove(mut self, yes: bool) -> Self {
        self.settings.auto_remove = yes;
        self
    }

    /// The working directory inside the container.
    pub fn workdir(mut self, dir: impl Into<String>) -> Self {
        self.config.workdir = Some(dir.into());
        self
    }

    /// The user to run as: `name`, `uid`, `name:group` or `uid:gid`.
    pub fn user(mut self, user: impl Into<String>) -> Self {
        self.config.user = Some(user.into());
        self
    }

    /// The container's host name.
    pub fn hostname(mut self, name: impl Into<String>) -> Self {
        self.config.hostname = Some(name.into());
        self
    }

    /// Bind-mount a host path at `target` (`-v HOST:CTR[:ro]`). The host path must exist.
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

    /// Mount a fresh tmpfs at `target`.
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

    /// CPU limit, in CPUs (0.5 is half of one).
    pub fn cpus(mut self, cpus: f64) -> Self {
        self.config.cpus = Some(cpus);
        self
    }

    /// The most processes (and threads) the container may have.
    pub fn pids_limit(mut self, n: i64) -> Self {
        self.config.pids_limit = Some(n);
        self
    }

    /// Mount the container's root filesystem read-only.
    pub fn read_only(mut self, yes: bool) -> Self {
        self.config.read_only = yes;
        self
    }

    /// The host's network instead of a namespace of its own.
    pub fn host_network(mut self) -> Self {
        self.config.network = Some(container::Network::Host);
        self
    }

    /// A network namespace with only loopback (`--network none`).
    pub fn no_network(mut self) -> Self {
        self.config.network = Some(container::Network::None);
        self
    }

    /// The image this spec runs, as given.
    pub fn image(&self) -> &str {
        &self.image
    }

    fn run_settings(&self, store: &Store, img: &crate::store::ImageRecord) -> Result<RunSettings> {
        let mut settings = self.settings.clone();
        if settings.stop_signal.is_none() {
            let (config, _) = image::config(store, img)?;
            settings.stop_signal = config
                .config
                .as_ref()
                .and_then(|c| c.get("StopSignal"))
                .and_then(|s| s.as_str())
                .map(str::to_string);
        }
        settings.anonymous_volumes = self.config.anonymous_volumes.clone();
        Ok(settings)
    }
}

impl Client {
    fn prepare(
        &self,
        spec: &ContainerSpec,
        store: &mut Store,
        supervisor: Option<(i64, i64)>,
    ) -> Result<(container::Prepared, RunSettings)> {
        container::reap_dead(store, &self.paths)?;
        let img = image::resolve(store, &spec.image)?;
        let mut settings = spec.run_settings(store, &img)?;
        let p = container::prepare(
            store,
            &self.paths,
            &img,
            &spec.image,
            spec.name.as_deref(),
            &spec.config,
            settings.auto_remove,
            supervisor,
        )?;
        settings.lowerdirs = p.rootfs_mount.lowerdirs.clone();
        settings.joins = p.joins.clone();
        Ok((p, settings))
    }

    /// Run a container in the foreground with this process's stdio, wait for it, and
    /// record how it ended (or remove it, with [`ContainerSpec::remove`]). A program that
    /// cannot be found or run is [`Error::CommandNotFound`] or
    /// [`Error::CommandNotExecutable`].
    ///
    /// The calling process must be single-threaded (see the module docs).
    pub fn run(&self, spec: &ContainerSpec) -> Result<RunOutcome> {
        self.run_with(spec, runtime::Stdio::Inherit)
    }

    /// `run` with the CLI's terminal choice (`-t`, `-i`).
    pub(crate) fn run_with(
        &self,
        spec: &ContainerSpec,
        stdio: runtime::Stdio,
    ) -> Result<RunOutcome> {
        let mut store = self.store()?;
        let (p, settings) = self.prepare(spec, &mut store, Some(container::self_identity()))?;
        if !settings.auto_remove {
            // Kept so that `start` can run it again.
            if let Err(e) = container::save_bundle(&p.dir, &p.spec, &settings) {
                let _ = container::remove(&mut store, &self.paths, &p.record, true, true);
                return Err(e);
            }
        }
        if let Some(pod) = &p.record.pod {
            // The pod's infra holds the namespaces the container joins.
            let started = container::pod::find(&store, pod).and_then(|pod| {
                container::pod::ensure_running(&store, &self.paths, &pod, &self.binary()?)
            });
            if let Err(e) = started {
                if settings.auto_remove {
                    let _ = container::remove(&mut store, &self.paths, &p.record, true, true);
                }
                return Err(e);
            }
        }
        let opts = runtime::RunOptions {
            id: p.record.id.clone(),
            spec: p.spec.clone(),
            rootfs_mount: Some(p.rootfs_mount.clone()),
            stdio,
            state_dir: container::state_root(&self.paths).join(&p.record.id),
            init: settings.init,
            sig_proxy: spec.sig_proxy,
        };
        let result = supervisor::foreground::run_foreground(opts);
        let (exit_code, oom_killed) = match &result {
            Ok(o) => (if o.oom_killed { 137 } else { o.code() }, o.oom_killed),
            Err(e) => (e.exit_code(), false),
        };
        let outcome = RunOutcome {
            id: p.record.id.clone(),
            name: p.record.name.clone(),
            exit_code,
            oom_killed,
        };
        if settings.auto_remove {
            container::remove_files(&store, &self.paths, &p.record.id)?;
            store.delete_container(&p.record.id)?;
            for v in &settings.anonymous_volumes {
                let _ = crate::volume::remove(&self.paths.root, v);
            }
        } else {
            store.container_exited(&p.record.id, outcome.exit_code as i64, outcome.oom_killed)?;
        }
        match result {
            Ok(_) => Ok(outcome),
            Err(e) => Err(Error::runtime(&p.record.name, e)),
        }
    }

    /// Create a container, stopped, ready for [`Client::start`]; returns its ID.
    pub fn create(&self, spec: &ContainerSpec) -> Result<String> {
        let mut store = self.store()?;
        let (p, settings) = self.prepare(spec, &mut store, None)?;
        if let Err(e) = container::save_bundle(&p.dir, &p.spec, &settings) {
            let _ = container::remove(&mut store, &self.paths, &p.record, true, true);
            return Err(e);
        }
        Ok(p.record.id)
    }

    /// Start a created (or exited) container in the background, watched by a `barge`
    /// supervisor process; returns once its program runs. Starting a running container
    /// does nothing. A program that cannot be found or run is
    /// [`Error::CommandNotFound`] or [`Error::CommandNotExecutable`].
    pub fn start(&self, id: &str) -> Result<()> {
        let mut store = self.store()?;
        container::reap_dead(&mut store, &self.paths)?;
        let c = container::find(&store, id)?;
        if container::supervised(&c) {
            return Ok(());
        }
        self.launch(&store, &c)
    }

    fn launch(&self, store: &Store, c: &ContainerRecord) -> Result<()> {
        let dir = container::container_dir(store, &c.id);
        crate::network::reconnect(&store.root, &c.id)?;
        if let Some(pod) = &c.pod {
            // The pod's infra holds the namespaces the container joins.
            let p = container::pod::find(store, pod)?;
            container::pod::ensure_running(store, &self.paths, &p, &self.binary()?)?;
        }
        let args: Vec<std::ffi::OsString> = vec![
            "--root".into(),
            self.paths.root.clone().into(),
            "__supervise".into(),
            c.id.clone().into(),
        ];
        match supervisor::launch(&self.binary()?, &args, &dir.join("supervisor.log"))
            .map_err(|e| Error::io(&dir, e))?
        {
            Launched::Started(_) => Ok(()),
            Launched::Failed(code, msg) => Err(Error::start_failed(&c.name, code, msg)),
        }
    }

    /// Stop a running container: its stop signal (the image's STOPSIGNAL, else SIGTERM),
    /// then SIGKILL after `timeout` (default: the container's stop timeout, else 10 s).
    /// Stopping a container that is not running does nothing.
    pub fn stop(&self, id: &str, timeout: Option<Duration>) -> Result<()> {
        self.stop_with(id, None, timeout)
    }

    /// `stop` with a first signal of the caller's choice (`stop -s`).
    pub(crate) fn stop_with(
        &self,
        id: &str,
        signal: Option<&str>,
        timeout: Option<Duration>,
    ) -> Result<()> {
        let mut store = self.store()?;
        let c = container::find(&store, id)?;
        let timeout = timeout.unwrap_or_else(|| {
            let dir = container::container_dir(&store, &c.id);
            let settings = container::load_bundle(&dir)
                .map(|(_, s)| s)
                .unwrap_or_default();
            Duration::from_secs(settings.stop_timeout.unwrap_or(10))
        });
        if let Some(sig) = signal {
            let sig = container::parse_signal(sig)?;
            if container::supervised(&c) {
                store.container_stop_requested(&c.id)?;
                let _ = container::signal(&self.paths, &c, sig);
            }
        }
        container::stop(&mut store, &self.paths, &c, timeout)
    }

    /// Wait until the container has stopped; its exit code (0 for one never started).
    pub fn wait(&self, id: &str) -> Result<i32> {
        let store = self.store()?;
        let c = container::find(&store, id)?;
        container::wait_stopped(&store, &c.id, Duration::from_secs(u64::MAX / 4))?;
        Ok(container::find(&store, &c.id)
            .ok()
            .and_then(|c| c.exit_code)
            .unwrap_or(0) as i32)
    }

    /// Remove a container: its files, record and network attachment. A running one needs
    /// `force` (it is killed first). Its anonymous volumes stay (as Docker's `rm`).
    pub fn remove(&self, id: &str, force: bool) -> Result<()> {
        self.remove_with(id, force, false)
    }

    /// `rm -v` removes the container's anonymous volumes too.
    pub(crate) fn remove_with(&self, id: &str, force: bool, volumes: bool) -> Result<()> {
        let mut store = self.store()?;
        let c = container::find(&store, id)?;
        container::remove(&mut store, &self.paths, &c, force, volumes)
    }

    /// Every container, newest first.
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
}
