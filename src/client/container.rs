//! Containers through the client: the spec builder, create/start/stop/wait/remove, and
//! `run` in the foreground. The CLI's `run`, `create`, `start`, `stop`, `restart`, `wait`
//! and `rm` are built on these.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use super::Client;
use crate::container::{self, RunConfig, RunSettings, UserMount};
use crate::digest::Digest;
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
    /// What it wrote to stdout, with [`ContainerSpec::capture_output`] (else empty).
    pub stdout: Vec<u8>,
    /// What it wrote to stderr, with [`ContainerSpec::capture_output`] (else empty).
    pub stderr: Vec<u8>,
}

/// A container as listed by [`Client::containers`].
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ContainerSummary {
    /// The full ID (64 hex digits).
    pub id: String,
    /// Its name (given, or made up like `brave_anchor`).
    pub name: String,
    /// The image name it was created from.
    pub image: String,
    /// The ID of that image.
    pub image_id: Digest,
    /// The command line it runs, as one string.
    pub command: String,
    /// When it was created.
    pub created: SystemTime,
    /// `created`, `running`, `paused` or `exited`.
    pub state: String,
    /// Docker's words for the state: `Up 5 minutes`, `Exited (0) 2 minutes ago`,
    /// `Created`, `Up 1 second (Paused)`.
    pub status: String,
    /// The exit code of its last run, once it has ended.
    pub exit_code: Option<i64>,
    /// The ports it publishes (see [`Client::ports`]).
    pub ports: Vec<Port>,
    /// The networks it is on (`bridge`, a user network), or its network mode (`host`,
    /// `none`, `container:NAME`).
    pub networks: Vec<String>,
    /// Its labels ([`ContainerSpec::label`]).
    pub labels: BTreeMap<String, String>,
    /// The ID of the pod it belongs to, if any.
    pub pod: Option<String>,
}

/// A published port: connections to `host_ip:host_port` on the host reach
/// `container_port` in the container. Displayed as Docker does: `0.0.0.0:8080->80/tcp`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Port {
    /// The port inside the container.
    pub container_port: u16,
    /// `tcp` or `udp`.
    pub protocol: String,
    /// The host address it listens on (`0.0.0.0`: every address).
    pub host_ip: IpAddr,
    /// The port on the host.
    pub host_port: u16,
}

impl std::fmt::Display for Port {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}->{}/{}",
            self.host_ip, self.host_port, self.container_port, self.protocol
        )
    }
}

impl From<crate::network::PortMapping> for Port {
    fn from(m: crate::network::PortMapping) -> Port {
        Port {
            container_port: m.container_port,
            protocol: m.proto,
            host_ip: IpAddr::V4(m.host_ip.unwrap_or(Ipv4Addr::UNSPECIFIED)),
            host_port: m.host_port,
        }
    }
}

/// Which containers [`Client::containers`] lists: all of them by default; every condition
/// added must hold.
///
/// ```
/// use barge::client::ContainerFilter;
/// // The running containers whose name contains "web", made from busybox.
/// let filter = ContainerFilter::new().running().name("web").ancestor("busybox:latest");
/// # let _ = filter;
/// ```
#[derive(Clone, Debug, Default)]
pub struct ContainerFilter {
    running: bool,
    status: Vec<String>,
    names: Vec<String>,
    ids: Vec<String>,
    ancestors: Vec<String>,
    labels: Vec<String>,
    pods: Vec<String>,
    last: Option<usize>,
}

impl ContainerFilter {
    /// Every container, in every state.
    pub fn new() -> ContainerFilter {
        ContainerFilter::default()
    }

    /// Only containers that run (paused ones too): what `barge ps` lists without `-a`.
    pub fn running(mut self) -> Self {
        self.running = true;
        self
    }

    /// Only containers in this state: `created`, `running`, `paused` or `exited`.
    pub fn status(mut self, state: impl Into<String>) -> Self {
        self.status.push(state.into());
        self
    }

    /// Only containers whose name contains `part`.
    pub fn name(mut self, part: impl Into<String>) -> Self {
        self.names.push(part.into());
        self
    }

    /// Only containers whose ID starts with `prefix`.
    pub fn id(mut self, prefix: impl Into<String>) -> Self {
        self.ids.push(prefix.into());
        self
    }

    /// Only containers created from this image: its name as given at create, or (part
    /// of) its ID.
    pub fn ancestor(mut self, image: impl Into<String>) -> Self {
        self.ancestors.push(image.into());
        self
    }

    /// Only containers with this label: `key` (any value) or `key=value`.
    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.labels.push(label.into());
        self
    }

    /// Only containers of this pod: its name, ID or an ID prefix (podman's `pod=`).
    pub fn pod(mut self, pod: impl Into<String>) -> Self {
        self.pods.push(pod.into());
        self
    }

    /// Only the `n` most recently created containers (taken before the other conditions,
    /// as `barge ps -n` does).
    pub fn last(mut self, n: usize) -> Self {
        self.last = Some(n);
        self
    }
}

/// What to run: the image and the common options of `barge run`, as a builder. Nothing
/// is checked until the container is made ([`Client::run`], [`Client::create`]): a bad
/// option is then [`Error::InvalidArgument`] naming it.
///
/// A web server in the background, its port published, restarted when it fails, with
/// limits and labels:
///
/// ```
/// use barge::client::{ContainerSpec, RestartPolicy};
/// let spec = ContainerSpec::new("busybox:latest")
///     .name("web")
///     .cmd(["httpd", "-f", "-p", "8080", "-h", "/www"])
///     .env("MODE", "test")
///     .bind("/srv/www", "/www", true)
///     .publish(8080, 8080) // host port 8080 -> container port 8080, TCP
///     .network("bridge") // the default; or a `barge network create` network
///     .memory(64 << 20)
///     .pids_limit(100)
///     .ulimit("nofile", 1024, 4096)
///     .cap_drop("ALL")
///     .cap_add("NET_BIND_SERVICE")
///     .restart(RestartPolicy::OnFailure { max_retries: 3 })
///     .label("com.example.team", "web")
///     .init(true);
/// # let _ = spec;
/// ```
///
/// A one-off command whose output the program reads:
///
/// ```no_run
/// use barge::client::{Client, ContainerSpec};
/// let client = Client::open_default()?;
/// let spec = ContainerSpec::new("busybox:latest")
///     .cmd(["uname", "-r"])
///     .no_network()
///     .remove(true)
///     .capture_output();
/// let outcome = client.run(&spec)?;
/// println!("kernel {}", String::from_utf8_lossy(&outcome.stdout).trim());
/// # Ok::<(), barge::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct ContainerSpec {
    image: String,
    name: Option<String>,
    config: RunConfig,
    settings: RunSettings,
    sig_proxy: bool,
    /// [`ContainerSpec::network`]'s name, resolved when the container is made.
    network: Option<String>,
    capture: bool,
}

/// What the supervisor of a detached container does when the container's program ends
/// (Docker's `--restart`); see [`ContainerSpec::restart`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum RestartPolicy {
    /// Never start it again.
    #[default]
    No,
    /// Start it again when it exits with a code other than 0, at most `max_retries`
    /// times (0: no limit).
    OnFailure {
        /// How many restarts at most; 0 for no limit.
        max_retries: u32,
    },
    /// Always start it again, unless it was stopped ([`Client::stop`], [`Client::kill`]).
    Always,
    /// As `Always` (barge has no daemon restart to tell them apart).
    UnlessStopped,
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
            network: None,
            capture: false,
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
            network: None,
            capture: false,
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

    /// Join the network `name`: `bridge` (the default), a network made with `barge network
    /// create`, `host` (the host's own), `none` (loopback only), or `container:NAME` (the
    /// network namespace of another container, which must run). Checked when the
    /// container is created.
    pub fn network(mut self, name: impl Into<String>) -> Self {
        self.network = Some(name.into());
        self
    }

    /// Publish the container's TCP port `container_port` on the host's `host_port`, on
    /// every address of the host (`-p HOST:CONTAINER`). `host_port` 0 lets the kernel
    /// choose one ([`Client::ports`] tells which). Only on a bridge network.
    pub fn publish(self, host_port: u16, container_port: u16) -> Self {
        self.publish_port(None, host_port, container_port, "tcp")
    }

    /// [`ContainerSpec::publish`] for a UDP port.
    pub fn publish_udp(self, host_port: u16, container_port: u16) -> Self {
        self.publish_port(None, host_port, container_port, "udp")
    }

    /// [`ContainerSpec::publish`] on one address of the host only
    /// (`-p 127.0.0.1:8080:80`).
    pub fn publish_on(self, host_ip: Ipv4Addr, host_port: u16, container_port: u16) -> Self {
        self.publish_port(
            (!host_ip.is_unspecified()).then_some(host_ip),
            host_port,
            container_port,
            "tcp",
        )
    }

    fn publish_port(
        mut self,
        host_ip: Option<Ipv4Addr>,
        host_port: u16,
        container_port: u16,
        proto: &str,
    ) -> Self {
        self.config.publish.push(crate::network::PortRequest {
            host_ip,
            host_port: (host_port != 0).then_some(host_port),
            container_port,
            proto: proto.into(),
        });
        self
    }

    /// Give the container a capability beyond Docker's default set (`NET_ADMIN` or
    /// `CAP_NET_ADMIN`; `ALL` for every one barge holds).
    pub fn cap_add(mut self, capability: impl Into<String>) -> Self {
        self.config.cap_add.push(capability.into());
        self
    }

    /// Take a capability of the default set away (`ALL`: every one; then
    /// [`ContainerSpec::cap_add`] gives back what is needed).
    pub fn cap_drop(mut self, capability: impl Into<String>) -> Self {
        self.config.cap_drop.push(capability.into());
        self
    }

    /// Make the host's device `path` (`/dev/fuse`) available at the same path, to read,
    /// write and create (`--device`).
    pub fn device(self, path: impl Into<PathBuf>) -> Self {
        let path = path.into();
        let inside = path.display().to_string();
        self.device_as(path, inside, "rwm")
    }

    /// Make the host's device `host` available at `container_path`, with `permissions`
    /// among `r` (read), `w` (write) and `m` (mknod).
    pub fn device_as(
        mut self,
        host: impl Into<PathBuf>,
        container_path: impl Into<String>,
        permissions: &str,
    ) -> Self {
        self.config
            .devices
            .push((host.into(), container_path.into(), permissions.into()));
        self
    }

    /// A resource limit of the container's processes (`--ulimit`): `name` as in
    /// `setrlimit` without `RLIMIT_` (`nofile`, `nproc`, `core`, `memlock`, ...);
    /// `u64::MAX` is unlimited.
    pub fn ulimit(mut self, name: impl Into<String>, soft: u64, hard: u64) -> Self {
        self.config.ulimits.push((name.into(), soft, hard));
        self
    }

    /// What the supervisor of a detached container ([`Client::start`]) does when its
    /// program ends; cannot be combined with [`ContainerSpec::remove`].
    pub fn restart(mut self, policy: RestartPolicy) -> Self {
        let (name, max) = match policy {
            RestartPolicy::No => ("no", 0),
            RestartPolicy::OnFailure { max_retries } => ("on-failure", max_retries),
            RestartPolicy::Always => ("always", 0),
            RestartPolicy::UnlessStopped => ("unless-stopped", 0),
        };
        self.settings.restart = name.into();
        self.settings.restart_max = i64::from(max);
        self
    }

    /// A label (`com.example.team=web`): metadata for programs, shown by
    /// [`Client::inspect_container`] and [`ContainerSummary::labels`], and selected by
    /// [`ContainerFilter::label`].
    pub fn label(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.config.labels.insert(key.into(), value.into());
        self
    }

    /// Run barge's small init as PID 1 (`--init`): it passes signals on to the program
    /// and reaps the zombies it leaves, for programs that do not expect to be PID 1.
    pub fn init(mut self, yes: bool) -> Self {
        self.settings.init = yes;
        self
    }

    /// Give the container a terminal (`-t`): its output is one stream, as a terminal
    /// shows it. [`Client::run`] relays it to this process's stdout; a detached
    /// container's log records it.
    pub fn tty(mut self, yes: bool) -> Self {
        self.config.tty = yes;
        self.settings.tty = yes;
        self
    }

    /// [`Client::run`] collects the container's stdout and stderr into
    /// [`RunOutcome::stdout`] and [`RunOutcome::stderr`] instead of passing this
    /// process's own; its stdin is then empty. Not with [`ContainerSpec::tty`].
    pub fn capture_output(mut self) -> Self {
        self.capture = true;
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
    /// What the builder leaves to be checked when the container is made: the network by
    /// name, devices, limits, combinations.
    fn check(&self, spec: &ContainerSpec) -> Result<RunConfig> {
        let mut rc = spec.config.clone();
        let bad = |m: String| Err(Error::InvalidArgument(m));
        if let Some(n) = &spec.network {
            rc.network_name = None;
            rc.network = Some(match n.as_str() {
                "bridge" | "default" => container::Network::Bridge,
                "none" => container::Network::None,
                "host" => container::Network::Host,
                c if c.starts_with("container:") => {
                    let target = &c["container:".len()..];
                    if target.is_empty() {
                        return bad("network container: needs the container's name or ID".into());
                    }
                    if rc.hostname.is_some() {
                        return bad(format!(
                            "a hostname cannot be set with network {c}: it is {target}'s"
                        ));
                    }
                    container::Network::Container(target.to_string())
                }
                other => match crate::network::lookup(&self.paths.root, other) {
                    Some(def) => {
                        rc.network_name = Some(def.name);
                        container::Network::Bridge
                    }
                    None => {
                        return bad(format!(
                            "network {other:?} not found (bridge, none, host, or `barge network ls`)"
                        ));
                    }
                },
            });
        }
        if !rc.publish.is_empty() && rc.network != Some(container::Network::Bridge) {
            return bad("published ports need a bridge network".into());
        }
        for (host, inside, perms) in &rc.devices {
            if !host.is_absolute()
                || !inside.starts_with('/')
                || perms.is_empty()
                || !perms.chars().all(|c| "rwm".contains(c))
            {
                return bad(format!(
                    "invalid device {}:{inside}:{perms}: absolute paths, and permissions among r, w, m",
                    host.display()
                ));
            }
        }
        for (name, soft, hard) in &rc.ulimits {
            if soft > hard {
                return bad(format!(
                    "ulimit {name}: the soft limit {soft} is above the hard limit {hard}"
                ));
            }
        }
        if spec.settings.auto_remove && spec.settings.restart != "no" {
            return bad("a restart policy and removal at exit cannot be used together".into());
        }
        if spec.capture && rc.tty {
            return bad("a terminal and captured output exclude each other".into());
        }
        Ok(rc)
    }

    fn prepare(
        &self,
        spec: &ContainerSpec,
        store: &mut Store,
        supervisor: Option<(i64, i64)>,
    ) -> Result<(container::Prepared, RunSettings)> {
        let config = self.check(spec)?;
        container::reap_dead(store, &self.paths)?;
        let img = image::resolve(store, &spec.image)?;
        let mut settings = spec.run_settings(store, &img)?;
        let p = container::prepare(
            store,
            &self.paths,
            &img,
            &spec.image,
            spec.name.as_deref(),
            &config,
            settings.auto_remove,
            supervisor,
        )?;
        settings.lowerdirs = p.rootfs_mount.lowerdirs.clone();
        settings.joins = p.joins.clone();
        Ok((p, settings))
    }

    /// Run a container in the foreground with this process's stdio (or its output
    /// captured, with [`ContainerSpec::capture_output`]; a terminal relayed to stdout,
    /// with [`ContainerSpec::tty`]), wait for it, and record how it ended (or remove it,
    /// with [`ContainerSpec::remove`]). A program that
    /// cannot be found or run is [`Error::CommandNotFound`] or
    /// [`Error::CommandNotExecutable`].
    ///
    /// The calling process must be single-threaded (see the module docs).
    pub fn run(&self, spec: &ContainerSpec) -> Result<RunOutcome> {
        let stdio = if spec.config.tty {
            runtime::Stdio::Pty { stdin: false }
        } else {
            runtime::Stdio::Inherit
        };
        self.run_with(spec, stdio)
    }

    /// `run` with the CLI's terminal choice (`-t`, `-i`).
    pub(crate) fn run_with(
        &self,
        spec: &ContainerSpec,
        stdio: runtime::Stdio,
    ) -> Result<RunOutcome> {
        let mut store = self.store()?;
        let (mut p, settings) = self.prepare(spec, &mut store, Some(container::self_identity()))?;
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
        // While init mounts its root: the bridge network is wired (see `network::Pending`:
        // the clone makes the namespace, which the saved spec names by its path for later
        // starts), and what earlier removals left to sweep is removed on a thread of its
        // own (it waits for the disk, not the CPU).
        let mut run_spec = p.spec.clone();
        let network = p.network.take();
        if network.is_some() {
            container::set_netns_path(&mut run_spec, None);
        }
        let root = self.paths.root.clone();
        let sweeper = std::sync::Arc::new(std::sync::Mutex::new(None));
        let started = sweeper.clone();
        let prestart = runtime::Prestart(Box::new(move |pid| {
            let h = std::thread::spawn(move || container::sweep(&root));
            *started.lock().unwrap_or_else(|e| e.into_inner()) = Some(h);
            match network {
                Some(n) => n.wire(pid).map(drop).map_err(|e| e.to_string()),
                None => Ok(()),
            }
        }));
        let opts = runtime::RunOptions {
            id: p.record.id.clone(),
            spec: run_spec,
            rootfs_mount: Some(p.rootfs_mount.clone()),
            stdio,
            state_dir: container::state_root(&self.paths).join(&p.record.id),
            init: settings.init,
            sig_proxy: spec.sig_proxy,
            prestart: Some(prestart),
        };
        let result = if spec.capture {
            supervisor::foreground::run_foreground_captured(opts)
        } else {
            supervisor::foreground::run_foreground(opts).map(|o| (o, Default::default()))
        };
        // Done long since, as a rule; joined so that the process is single-threaded again
        // (a library caller's next run clones it).
        let sweep = sweeper.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(h) = sweep {
            let _ = h.join();
        }
        let (exit_code, oom_killed) = match &result {
            Ok((o, _)) => (if o.oom_killed { 137 } else { o.code() }, o.oom_killed),
            Err(e) => (e.exit_code(), false),
        };
        let mut outcome = RunOutcome {
            id: p.record.id.clone(),
            name: p.record.name.clone(),
            exit_code,
            oom_killed,
            stdout: Vec::new(),
            stderr: Vec::new(),
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
            Ok((_, captured)) => {
                outcome.stdout = captured.stdout;
                outcome.stderr = captured.stderr;
                Ok(outcome)
            }
            Err(e) => Err(Error::runtime(&p.record.name, e)),
        }
    }

    /// Create a container, stopped, ready for [`Client::start`]; returns its ID.
    pub fn create(&self, spec: &ContainerSpec) -> Result<String> {
        let mut store = self.store()?;
        let (mut p, settings) = self.prepare(spec, &mut store, None)?;
        let wired = match p.network.take() {
            Some(n) => n.wire_new(&self.paths.root).map(drop),
            None => Ok(()),
        };
        if let Err(e) = wired.and_then(|()| container::save_bundle(&p.dir, &p.spec, &settings)) {
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
        // After a reboot the namespace (on /run) is gone while the record keeps its
        // networks, and a rootless slirp4netns/pasta network may have been lost with an
        // older user namespace: made again, with the same addresses and ports.
        crate::network::restore(&self.paths.root, &c.id)?;
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

    /// The containers `filter` selects, newest first. What a killed program left behind
    /// (a container whose supervisor died) is brought up to date first.
    ///
    /// ```no_run
    /// use barge::client::{Client, ContainerFilter};
    /// let client = Client::open_default()?;
    /// for c in client.containers(&ContainerFilter::new().running())? {
    ///     println!("{} {} {}", &c.id[..12], c.name, c.status);
    /// }
    /// # Ok::<(), barge::Error>(())
    /// ```
    pub fn containers(&self, filter: &ContainerFilter) -> Result<Vec<ContainerSummary>> {
        let mut store = self.store()?;
        container::reap_dead(&mut store, &self.paths)?;
        let mut rows = store.containers()?;
        if let Some(n) = filter.last {
            rows.truncate(n);
        }
        let mut out = Vec::new();
        // Pod names and ID prefixes, resolved once: the IDs a `pod=` condition admits.
        let pods = store.pods()?;
        let pod_ids: Vec<Vec<&str>> = filter
            .pods
            .iter()
            .map(|want| {
                pods.iter()
                    .filter(|p| p.name == *want || (!want.is_empty() && p.id.starts_with(want)))
                    .map(|p| p.id.as_str())
                    .collect()
            })
            .collect();
        // One read of the network state for all rows.
        let mut sandboxes = crate::network::sandboxes(&self.paths.root);
        for c in rows {
            if !filter.names.iter().all(|n| c.name.contains(n.as_str()))
                || !filter.ids.iter().all(|p| c.id.starts_with(p.as_str()))
                || !filter
                    .ancestors
                    .iter()
                    .all(|a| c.image_name == *a || c.image_id.as_str().contains(a.as_str()))
            {
                continue;
            }
            if filter.running && !container::supervised(&c) {
                continue;
            }
            if !pod_ids
                .iter()
                .all(|ids| c.pod.as_deref().is_some_and(|p| ids.contains(&p)))
            {
                continue;
            }
            let sandbox = sandboxes.remove(&c.id);
            let summary = self.summary(c, sandbox);
            let labelled = |l: &String| match l.split_once('=') {
                Some((k, v)) => summary.labels.get(k).is_some_and(|x| x == v),
                None => summary.labels.contains_key(l),
            };
            if !filter.status.iter().all(|s| *s == summary.state)
                || !filter.labels.iter().all(labelled)
            {
                continue;
            }
            out.push(summary);
        }
        Ok(out)
    }

    /// The container `id` (name, ID or ID prefix).
    pub fn container(&self, id: &str) -> Result<ContainerSummary> {
        let c = container::find(&self.store()?, id)?;
        let sandbox = crate::network::sandbox(&self.paths.root, &c.id);
        Ok(self.summary(c, sandbox))
    }

    fn summary(
        &self,
        c: ContainerRecord,
        sandbox: Option<crate::network::Sandbox>,
    ) -> ContainerSummary {
        // These read /proc and the cgroup: only for what is listed.
        let running = container::supervised(&c);
        let paused = running && frozen(&self.paths, &c.id);
        let state = if paused {
            "paused"
        } else {
            container::effective_state(&c)
        };
        let mut status = container::status_text(&c);
        if paused {
            status.push_str(" (Paused)");
        }
        let config = serde_json::from_str::<serde_json::Value>(&c.config).unwrap_or_default();
        // The networks it is on, else its mode (host, none, container:X, pod).
        let networks = match sandbox {
            Some(sb) => sb.networks.into_iter().map(|a| a.network).collect(),
            None => config["NetworkMode"]
                .as_str()
                .filter(|m| !m.is_empty())
                .map(str::to_string)
                .into_iter()
                .collect(),
        };
        let labels = serde_json::from_value(config["Labels"].clone()).unwrap_or_default();
        ContainerSummary {
            ports: container::ports(&c).into_iter().map(Port::from).collect(),
            created: SystemTime::UNIX_EPOCH
                + Duration::from_secs(u64::try_from(c.created).unwrap_or(0)),
            state: state.to_string(),
            status,
            networks,
            labels,
            pod: c.pod,
            id: c.id,
            name: c.name,
            image: c.image_name,
            image_id: c.image_id,
            command: c.command,
            exit_code: c.exit_code,
        }
    }

    /// The ports the container `id` publishes, as given at create (`-p`).
    pub fn ports(&self, id: &str) -> Result<Vec<Port>> {
        let c = container::find(&self.store()?, id)?;
        Ok(container::ports(&c).into_iter().map(Port::from).collect())
    }

    /// Send `signal` (`KILL`, `SIGTERM`, `9`) to the running container's main process.
    /// After SIGKILL or SIGTERM its restart policy does not start it again. A container
    /// that is not running is [`Error::Conflict`].
    pub fn kill(&self, id: &str, signal: &str) -> Result<()> {
        let sig = container::parse_signal(signal)?;
        let mut store = self.store()?;
        let c = container::find(&store, id)?;
        if !container::supervised(&c) {
            return Err(not_running(&c.name));
        }
        if sig == libc::SIGKILL || sig == libc::SIGTERM {
            store.container_stop_requested(&c.id)?;
        }
        container::signal(&self.paths, &c, sig)
    }

    /// Remove every container that is not running (their anonymous volumes stay).
    pub fn prune_containers(&self) -> Result<super::Pruned> {
        let mut store = self.store()?;
        container::reap_dead(&mut store, &self.paths)?;
        let mut pruned = super::Pruned::default();
        for c in store.containers()? {
            if container::supervised(&c) {
                continue;
            }
            pruned.reclaimed +=
                crate::util::dir_size(&container::container_dir(&store, &c.id).join("upper"));
            container::remove(&mut store, &self.paths, &c, false, false)?;
            pruned.containers.push(c.id);
        }
        Ok(pruned)
    }
}

/// The error of an operation that needs a running container.
pub(crate) fn not_running(name: &str) -> Error {
    Error::Conflict(format!("container {name} is not running"))
}

/// Whether the cgroup freezer holds this container (see [`Client::pause`]); a container
/// without a cgroup (rootless without delegation) is never paused.
pub(crate) fn frozen(paths: &crate::config::Paths, id: &str) -> bool {
    runtime::cgroup(&container::state_root(paths), id).is_ok_and(|cg| cg.exists() && cg.frozen())
}
