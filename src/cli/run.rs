//! `barge run`: create + start a container in the foreground, with Docker's flags.

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::Args;

use super::ExitStatus;
use crate::client::{Client, ContainerSpec, PullOptions};
use crate::config::Paths;
use crate::container::{self, Network, RunConfig, Seccomp, UserMount};
use crate::error::{Error, Result};
use crate::image::model::Platform;
use crate::runtime::Stdio;
use crate::ui;

#[derive(Args, Debug, Default)]
#[command(disable_help_flag = true)]
pub struct RunArgs {
    /// Print help
    #[arg(long, action = clap::ArgAction::Help)]
    pub help: Option<bool>,
    /// Image to run (name[:tag], name@digest or ID)
    #[arg(add = crate::cli::complete::image())]
    pub image: String,
    /// Command and arguments (replace the image's CMD)
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
    /// Run in the background and print the container ID
    #[arg(short, long)]
    pub detach: bool,
    /// Assign a name to the container
    #[arg(long)]
    pub name: Option<String>,
    /// Restart policy: no, on-failure[:max-retries], always, unless-stopped
    #[arg(long, default_value = "no")]
    pub restart: String,
    /// Log options: max-size=10m, max-file=3
    #[arg(long)]
    pub log_opt: Vec<String>,
    /// Signal to stop the container (default SIGTERM or the image's STOPSIGNAL)
    #[arg(long)]
    pub stop_signal: Option<String>,
    /// Seconds to wait for the stop signal before killing (default 10)
    #[arg(long)]
    pub stop_timeout: Option<u64>,
    /// Remove the container when it exits
    #[arg(long)]
    pub rm: bool,
    /// Keep STDIN open
    #[arg(short, long)]
    pub interactive: bool,
    /// Allocate a pseudo-TTY
    #[arg(short, long)]
    pub tty: bool,
    /// Set environment variables (KEY=VALUE, or KEY to take it from barge's environment)
    #[arg(short, long = "env", value_name = "KEY[=VALUE]")]
    pub env: Vec<String>,
    /// Read environment variables from a file (KEY=VALUE lines)
    #[arg(long, value_name = "FILE")]
    pub env_file: Vec<PathBuf>,
    /// Set metadata on the container (KEY=VALUE, or KEY for an empty value); `ps --filter
    /// label=` selects by it
    #[arg(short = 'l', long = "label", value_name = "KEY[=VALUE]")]
    pub label: Vec<String>,
    /// Read labels from a file (KEY=VALUE lines, # comments)
    #[arg(long, value_name = "FILE")]
    pub label_file: Vec<PathBuf>,
    /// Working directory inside the container
    #[arg(short, long)]
    pub workdir: Option<String>,
    /// Username or UID (format: name|uid[:group|gid])
    #[arg(short, long)]
    pub user: Option<String>,
    /// Add additional groups to join
    #[arg(long)]
    pub group_add: Vec<String>,
    /// User namespace (rootless): `keep-id` runs as your own uid and gid inside, so files
    /// written to bind mounts are yours
    #[arg(long, value_name = "MODE", value_parser = ["host", "keep-id"])]
    pub userns: Option<String>,
    /// Overwrite the default ENTRYPOINT of the image ("" clears it)
    #[arg(long)]
    pub entrypoint: Option<String>,
    /// Container host name
    #[arg(short = 'h', long)]
    pub hostname: Option<String>,
    /// Mount the container's root filesystem as read only
    #[arg(long)]
    pub read_only: bool,
    /// Bind mount a volume: HOST-PATH:CONTAINER-PATH[:ro|rw] or NAME:CONTAINER-PATH[:ro]
    #[arg(short, long = "volume", value_name = "SRC:DST[:OPTS]")]
    pub volume: Vec<String>,
    /// Attach a mount: type=bind|volume|tmpfs,source=...,target=...[,readonly]
    #[arg(long)]
    pub mount: Vec<String>,
    /// Mount a tmpfs directory: PATH[:OPTIONS]
    #[arg(long)]
    pub tmpfs: Vec<String>,
    /// Give extended privileges to this container
    #[arg(long)]
    pub privileged: bool,
    /// Add Linux capabilities
    #[arg(long)]
    pub cap_add: Vec<String>,
    /// Drop Linux capabilities
    #[arg(long)]
    pub cap_drop: Vec<String>,
    /// Security options: no-new-privileges, seccomp=unconfined, seccomp=FILE.json
    #[arg(long)]
    pub security_opt: Vec<String>,
    /// Ulimit options: NAME=SOFT[:HARD]
    #[arg(long)]
    pub ulimit: Vec<String>,
    /// Memory limit (e.g. 64m, 1g)
    #[arg(short, long)]
    pub memory: Option<String>,
    /// Memory + swap limit (-1: unlimited swap; default: twice --memory)
    #[arg(long, allow_hyphen_values = true)]
    pub memory_swap: Option<String>,
    /// Number of CPUs
    #[arg(long)]
    pub cpus: Option<f64>,
    /// Tune the container's pids limit (-1 for unlimited)
    #[arg(long, allow_negative_numbers = true)]
    pub pids_limit: Option<i64>,
    /// Add a host device: HOST[:CONTAINER[:PERMISSIONS]]
    #[arg(long)]
    pub device: Vec<String>,
    /// Network mode: bridge (the default), none, host, container:NAME|ID or a network's name
    #[arg(long, alias = "net")]
    pub network: Option<String>,
    /// IPC namespace: private (the default), host or container:NAME|ID
    #[arg(long)]
    pub ipc: Option<String>,
    /// PID namespace: private (the default), host or container:NAME|ID
    #[arg(long)]
    pub pid: Option<String>,
    /// Run in a pod (name or ID): share its network, IPC and UTS namespaces
    #[arg(long, add = crate::cli::complete::pod())]
    pub pod: Option<String>,
    /// IPv4 address on the network (user networks only)
    #[arg(long)]
    pub ip: Option<String>,
    /// Another name the container's peers know it by (user networks only)
    #[arg(long)]
    pub network_alias: Vec<String>,
    /// Publish a container's port to the host: [IP:][HOST:]CONTAINER[/tcp|udp], ranges allowed
    #[arg(short, long)]
    pub publish: Vec<String>,
    /// Publish all the image's exposed ports to random host ports
    #[arg(short = 'P', long)]
    pub publish_all: bool,
    /// Add a line to /etc/hosts: NAME:IP
    #[arg(long)]
    pub add_host: Vec<String>,
    /// DNS server for /etc/resolv.conf (replaces the host's)
    #[arg(long)]
    pub dns: Vec<String>,
    /// Platform the image must have, os/arch[/variant]
    #[arg(long)]
    pub platform: Option<String>,
    /// When to pull the image: missing (default), never, always
    #[arg(long, default_value = "missing")]
    pub pull: String,
    /// Proxy received signals to the process
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pub sig_proxy: bool,
    /// Run an init inside the container that forwards signals and reaps processes
    #[arg(long)]
    pub init: bool,
}

/// Docker's RAMInBytes: a number with an optional b/k/m/g/t suffix (binary multiples).
pub fn parse_bytes(s: &str) -> Result<i64> {
    let t = s.trim().to_lowercase();
    let t = match t.strip_suffix('b') {
        Some(x) if x.ends_with(['k', 'm', 'g', 't']) => x.to_string(),
        _ => t.clone(),
    };
    let (num, mult) = match t.chars().last() {
        Some('k') => (&t[..t.len() - 1], 1i64 << 10),
        Some('m') => (&t[..t.len() - 1], 1 << 20),
        Some('g') => (&t[..t.len() - 1], 1 << 30),
        Some('t') => (&t[..t.len() - 1], 1 << 40),
        Some('b') => (&t[..t.len() - 1], 1),
        _ => (t.as_str(), 1),
    };
    let n: f64 = num.trim().parse().map_err(|_| {
        Error::InvalidArgument(format!(
            "invalid size {s:?}: use a number with b, k, m or g"
        ))
    })?;
    Ok((n * mult as f64) as i64)
}

fn parse_env_file(path: &PathBuf) -> Result<Vec<String>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let mut out = Vec::new();
    for line in text.lines() {
        let l = line.trim_start();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        out.push(l.to_string());
    }
    Ok(out)
}

/// `-e KEY` takes the value from barge's environment, or is dropped when unset.
fn resolve_env(items: Vec<String>) -> Vec<String> {
    items
        .into_iter()
        .filter_map(|kv| {
            if kv.contains('=') {
                Some(kv)
            } else {
                std::env::var(&kv).ok().map(|v| format!("{kv}={v}"))
            }
        })
        .collect()
}

fn volume_source(paths: &Paths, name: &str) -> Result<PathBuf> {
    crate::volume::ensure(&paths.root, name)
}

fn parse_volume(paths: &Paths, spec: &str, anon: &mut Vec<String>) -> Result<UserMount> {
    let parts: Vec<&str> = spec.split(':').collect();
    let (src, dst, opts) = match parts.as_slice() {
        [dst] => {
            // An anonymous volume: named at random, removed with the container by `rm -v`
            // (and by `--rm`).
            let name = container::new_id();
            anon.push(name.clone());
            return Ok(UserMount::Bind {
                source: volume_source(paths, &name)?,
                target: dst.to_string(),
                readonly: false,
            });
        }
        [s, d] => (*s, *d, ""),
        [s, d, o] => (*s, *d, *o),
        _ => {
            return Err(Error::InvalidArgument(format!(
                "invalid volume specification {spec:?}"
            )));
        }
    };
    if !dst.starts_with('/') {
        return Err(Error::InvalidArgument(format!(
            "invalid volume specification {spec:?}: the container path must be absolute"
        )));
    }
    let mut readonly = false;
    for o in opts.split(',').filter(|o| !o.is_empty()) {
        match o {
            "ro" => readonly = true,
            "rw" => readonly = false,
            "z" | "Z" | "private" | "rprivate" | "delegated" | "cached" | "consistent" => {}
            other => {
                return Err(Error::InvalidArgument(format!(
                    "invalid volume option {other:?} in {spec:?}"
                )));
            }
        }
    }
    let source = if src.starts_with('/') {
        container::ensure_bind_source(std::path::Path::new(src), true)?
    } else if src.starts_with('.') || src.contains('/') {
        return Err(Error::InvalidArgument(format!(
            "invalid volume specification {spec:?}: a host path must be absolute"
        )));
    } else {
        volume_source(paths, src)?
    };
    Ok(UserMount::Bind {
        source,
        target: dst.to_string(),
        readonly,
    })
}

fn parse_mount(paths: &Paths, spec: &str) -> Result<UserMount> {
    let mut kind = "volume".to_string();
    let (mut source, mut target, mut readonly) = (None, None, false);
    let mut tmpfs_opts = Vec::new();
    for field in spec.split(',') {
        let (k, v) = field.split_once('=').unwrap_or((field, "true"));
        match k {
            "type" => kind = v.to_string(),
            "source" | "src" => source = Some(v.to_string()),
            "target" | "destination" | "dst" => target = Some(v.to_string()),
            "readonly" | "ro" => readonly = v != "false" && v != "0",
            "tmpfs-size" => tmpfs_opts.push(format!("size={}", parse_bytes(v)?)),
            "tmpfs-mode" => tmpfs_opts.push(format!("mode={v}")),
            "bind-propagation" | "consistency" | "volume-nocopy" => {}
            other => {
                return Err(Error::InvalidArgument(format!(
                    "unknown --mount option {other:?} in {spec:?}"
                )));
            }
        }
    }
    let target = target
        .ok_or_else(|| Error::InvalidArgument(format!("--mount {spec:?}: target is required")))?;
    if !target.starts_with('/') {
        return Err(Error::InvalidArgument(format!(
            "--mount {spec:?}: target must be absolute"
        )));
    }
    match kind.as_str() {
        "bind" => {
            let s = source.ok_or_else(|| {
                Error::InvalidArgument(format!("--mount {spec:?}: source is required"))
            })?;
            Ok(UserMount::Bind {
                source: container::ensure_bind_source(std::path::Path::new(&s), false)?,
                target,
                readonly,
            })
        }
        "volume" => {
            let name = source.unwrap_or_else(container::new_id);
            Ok(UserMount::Bind {
                source: volume_source(paths, &name)?,
                target,
                readonly,
            })
        }
        "tmpfs" => {
            if readonly {
                tmpfs_opts.push("ro".into());
            }
            Ok(UserMount::Tmpfs {
                target,
                options: tmpfs_opts,
            })
        }
        other => Err(Error::InvalidArgument(format!(
            "--mount type {other:?} is not supported (bind, volume, tmpfs)"
        ))),
    }
}

fn parse_tmpfs(spec: &str) -> Result<UserMount> {
    let (target, opts) = spec.split_once(':').unwrap_or((spec, ""));
    if !target.starts_with('/') {
        return Err(Error::InvalidArgument(format!(
            "--tmpfs {spec:?}: the path must be absolute"
        )));
    }
    Ok(UserMount::Tmpfs {
        target: target.to_string(),
        options: opts
            .split(',')
            .filter(|o| !o.is_empty())
            .map(str::to_string)
            .collect(),
    })
}

fn parse_ulimit(s: &str) -> Result<(String, u64, u64)> {
    let bad = || Error::InvalidArgument(format!("invalid ulimit {s:?}: use NAME=SOFT[:HARD]"));
    let (name, vals) = s.split_once('=').ok_or_else(bad)?;
    let num = |v: &str| -> Result<u64> {
        if v == "-1" || v == "unlimited" {
            Ok(u64::MAX)
        } else {
            v.parse().map_err(|_| bad())
        }
    };
    let (soft, hard) = match vals.split_once(':') {
        Some((a, b)) => (num(a)?, num(b)?),
        None => (num(vals)?, num(vals)?),
    };
    if soft > hard {
        return Err(Error::InvalidArgument(format!(
            "ulimit {s:?}: soft limit is above the hard limit"
        )));
    }
    Ok((name.to_string(), soft, hard))
}

fn parse_device(s: &str) -> Result<(PathBuf, String, String)> {
    let parts: Vec<&str> = s.split(':').collect();
    let (host, ctr, perms) = match parts.as_slice() {
        [h] => (*h, *h, "rwm"),
        [h, c] if c.chars().all(|x| "rwm".contains(x)) && !c.starts_with('/') => (*h, *h, *c),
        [h, c] => (*h, *c, "rwm"),
        [h, c, p] => (*h, *c, *p),
        _ => return Err(Error::InvalidArgument(format!("invalid device {s:?}"))),
    };
    if !host.starts_with('/')
        || !ctr.starts_with('/')
        || perms.is_empty()
        || !perms.chars().all(|x| "rwm".contains(x))
    {
        return Err(Error::InvalidArgument(format!(
            "invalid device {s:?}: use /dev/HOST[:/dev/CONTAINER[:rwm]]"
        )));
    }
    Ok((PathBuf::from(host), ctr.to_string(), perms.to_string()))
}

/// Docker's `--label`: `KEY=VALUE`, or `KEY` alone for an empty value; files first, then
/// the flags, a later one replacing an earlier one of the same key.
fn labels(a: &RunArgs) -> Result<std::collections::BTreeMap<String, String>> {
    let mut items = Vec::new();
    for f in &a.label_file {
        items.extend(parse_env_file(f)?);
    }
    items.extend(a.label.iter().cloned());
    let mut out = std::collections::BTreeMap::new();
    for item in items {
        let (k, v) = item.split_once('=').unwrap_or((item.as_str(), ""));
        if k.trim().is_empty() {
            return Err(Error::InvalidArgument(format!(
                "invalid label {item:?}: KEY=VALUE or KEY"
            )));
        }
        out.insert(k.to_string(), v.to_string());
    }
    Ok(out)
}

/// Turn flags into a `RunConfig`.
pub fn run_config(paths: &Paths, a: &RunArgs) -> Result<RunConfig> {
    let mut env = Vec::new();
    for f in &a.env_file {
        env.extend(parse_env_file(f)?);
    }
    env.extend(a.env.iter().cloned());
    let mut rc = RunConfig {
        entrypoint: a.entrypoint.as_ref().map(|e| {
            if e.is_empty() {
                vec![]
            } else {
                vec![e.clone()]
            }
        }),
        cmd: a.command.clone(),
        env: resolve_env(env),
        workdir: a.workdir.clone(),
        user: a.user.clone(),
        keep_id: a.userns.as_deref() == Some("keep-id"),
        group_add: a.group_add.clone(),
        hostname: a.hostname.clone(),
        tty: a.tty,
        read_only: a.read_only,
        privileged: a.privileged,
        cap_add: a.cap_add.clone(),
        cap_drop: a.cap_drop.clone(),
        cpus: a.cpus,
        pids_limit: a.pids_limit.map(|p| if p <= 0 { -1 } else { p }),
        labels: labels(a)?,
        ..Default::default()
    };
    for o in &a.security_opt {
        let (k, v) = o.split_once(['=', ':']).unwrap_or((o.as_str(), ""));
        match (k, v) {
            ("no-new-privileges", "" | "true") => rc.no_new_privileges = true,
            ("no-new-privileges", "false") => rc.no_new_privileges = false,
            ("seccomp", "unconfined") => rc.seccomp = Some(Seccomp::Unconfined),
            ("seccomp", "builtin" | "default") => rc.seccomp = Some(Seccomp::Default),
            ("seccomp", f) if !f.is_empty() => rc.seccomp = Some(Seccomp::File(PathBuf::from(f))),
            ("apparmor" | "label", _) => ui::warn(&format!(
                "--security-opt {o}: barge does not use AppArmor or SELinux labels; ignored"
            )),
            _ => {
                return Err(Error::InvalidArgument(format!(
                    "invalid --security-opt {o:?}"
                )));
            }
        }
    }
    for u in &a.ulimit {
        rc.ulimits.push(parse_ulimit(u)?);
    }
    if let Some(m) = &a.memory {
        let v = parse_bytes(m)?;
        if v < 6 << 20 {
            return Err(Error::InvalidArgument(format!(
                "--memory {m}: the minimum is 6MB"
            )));
        }
        rc.memory = Some(v);
    }
    if let Some(s) = &a.memory_swap {
        rc.memory_swap = Some(if s == "-1" { -1 } else { parse_bytes(s)? });
    }
    rc.memory_swap = memory_swap(rc.memory, rc.memory_swap)?;
    if let Some(c) = a.cpus
        && !(c > 0.0 && c <= 1024.0)
    {
        return Err(Error::InvalidArgument(format!(
            "--cpus {c}: must be a positive number"
        )));
    }
    for d in &a.device {
        rc.devices.push(parse_device(d)?);
    }
    let network = a
        .network
        .as_deref()
        .or(paths.config.default_network.as_deref());
    if a.pod.is_some() {
        // A pod's members live in its network namespace: what concerns the network is
        // the pod's to say.
        for (given, flag) in [
            (a.network.is_some(), "--network"),
            (!a.publish.is_empty() || a.publish_all, "--publish"),
            (a.hostname.is_some(), "--hostname"),
            (a.ipc.is_some(), "--ipc"),
            (a.pid.is_some(), "--pid"),
        ] {
            if given {
                return Err(Error::InvalidArgument(format!(
                    "{flag} cannot be used with --pod: the pod's namespaces are shared (give it to `barge pod create`)"
                )));
            }
        }
        rc.pod = a.pod.clone();
    }
    match a.pid.as_deref() {
        None | Some("private") => {}
        Some("host") => rc.pid = Some("host".into()),
        Some(i) if i.strip_prefix("container:").is_some_and(|c| !c.is_empty()) => {
            rc.pid = Some(i.to_string())
        }
        Some(other) => {
            return Err(Error::InvalidArgument(format!(
                "invalid --pid {other:?}: private, host or container:NAME"
            )));
        }
    }
    match a.ipc.as_deref() {
        None | Some("private" | "shareable") => {}
        Some("host") => rc.ipc = Some("host".into()),
        Some(i) if i.strip_prefix("container:").is_some_and(|c| !c.is_empty()) => {
            rc.ipc = Some(i.to_string())
        }
        Some(other) => {
            return Err(Error::InvalidArgument(format!(
                "invalid --ipc {other:?}: private, host or container:NAME"
            )));
        }
    }
    if let Some(Some(target)) = a.network.as_deref().map(|n| n.strip_prefix("container:")) {
        if target.is_empty() {
            return Err(Error::InvalidArgument(
                "invalid --network container: give the container's name or ID".into(),
            ));
        }
        // Docker refuses these too: they describe the network namespace, which is the
        // other container's.
        for (given, flag) in [
            (!a.publish.is_empty() || a.publish_all, "--publish"),
            (a.hostname.is_some(), "--hostname"),
            (!a.dns.is_empty(), "--dns"),
            (!a.add_host.is_empty(), "--add-host"),
        ] {
            if given {
                return Err(Error::InvalidArgument(format!(
                    "conflicting options: {flag} and --network container:{target} (set it on {target})"
                )));
            }
        }
    }
    rc.network = match network {
        _ if a.pod.is_some() => None,
        Some(n) if n.starts_with("container:") => {
            Some(Network::Container(n["container:".len()..].to_string()))
        }
        None | Some("bridge" | "default") => Some(Network::Bridge),
        Some("none") => Some(Network::None),
        Some("host") => Some(Network::Host),
        Some(other) => match crate::network::lookup(&paths.root, other) {
            Some(n) => {
                rc.network_name = Some(n.name);
                Some(Network::Bridge)
            }
            None => {
                return Err(Error::InvalidArgument(format!(
                    "network {other:?} not found (bridge, none, host, or `barge network ls`)"
                )));
            }
        },
    };
    if let Some(ip) = &a.ip {
        let ip: std::net::Ipv4Addr = ip.parse().map_err(|_| {
            Error::InvalidArgument(format!("invalid --ip {ip:?}: not an IPv4 address"))
        })?;
        if rc.network_name.is_none() {
            return Err(container::user_networks_only(true));
        }
        rc.ip = Some(ip);
    }
    if !a.network_alias.is_empty() && rc.network_name.is_none() {
        return Err(container::user_networks_only(false));
    }
    for alias in &a.network_alias {
        if !crate::util::is_docker_name(alias, 253) {
            return Err(Error::InvalidArgument(format!(
                "invalid --network-alias {alias:?}: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"
            )));
        }
        rc.network_aliases.push(alias.clone());
    }
    // Docker does the same: ports mean nothing outside a bridge network.
    if rc.pod.is_some() {
    } else if rc.network != Some(Network::Bridge) && (!a.publish.is_empty() || a.publish_all) {
        ui::warn("published ports are discarded outside the bridge network");
    } else {
        for p in &a.publish {
            rc.publish.extend(crate::network::parse_publish(p)?);
        }
        rc.publish_all = a.publish_all;
    }
    for h in &a.add_host {
        let Some((name, ip)) = h.split_once(':').filter(|(n, i)| {
            !n.is_empty() && (i.parse::<std::net::IpAddr>().is_ok() || *i == "host-gateway")
        }) else {
            return Err(Error::InvalidArgument(format!(
                "invalid --add-host {h:?}: expected NAME:IP"
            )));
        };
        let ip = if ip == "host-gateway" && paths.rootless {
            crate::network::slirp::GATEWAY.to_string()
        } else if ip == "host-gateway" {
            crate::network::GATEWAY.to_string()
        } else {
            ip.to_string()
        };
        rc.add_hosts.push((name.to_string(), ip));
    }
    for d in &a.dns {
        if d.parse::<std::net::IpAddr>().is_err() {
            return Err(Error::InvalidArgument(format!(
                "invalid --dns {d:?}: not an IP address"
            )));
        }
        rc.dns.push(d.clone());
    }
    for v in &a.volume {
        rc.mounts
            .push(parse_volume(paths, v, &mut rc.anonymous_volumes)?);
    }
    for m in &a.mount {
        rc.mounts.push(parse_mount(paths, m)?);
    }
    for t in &a.tmpfs {
        rc.mounts.push(parse_tmpfs(t)?);
    }
    if rc.keep_id && !paths.rootless {
        return Err(Error::InvalidArgument(
            "--userns=keep-id is for rootless barge: as root, use --user".into(),
        ));
    }
    if paths.rootless {
        rootless_limits(&mut rc, &crate::runtime::rootless_cgroup_controllers());
    }
    Ok(rc)
}

/// Rootless: a limit whose cgroup controller the user was not delegated cannot apply.
/// Say so (only when one was asked for) and run without it, as podman does.
fn rootless_limits(rc: &mut RunConfig, have: &[String]) {
    let missing = |c: &str| !have.iter().any(|h| h == c);
    let why = if crate::runtime::cgroup_version() == crate::runtime::CgroupVersion::V2 {
        "no cgroup v2 subtree is delegated to this user (systemd user session)"
    } else {
        "rootless containers need cgroup v2 with a delegated subtree; this host uses cgroup v1"
    };
    let warn = |flag: &str, controller: &str| {
        crate::ui::warn(&format!(
            "{flag} ignored: the {controller} controller is not available to rootless \
             containers ({why})"
        ));
    };
    if (rc.memory.is_some() || rc.memory_swap.is_some()) && missing("memory") {
        warn("--memory", "memory");
        rc.memory = None;
        rc.memory_swap = None;
    }
    if rc.cpus.is_some() && missing("cpu") {
        warn("--cpus", "cpu");
        rc.cpus = None;
    }
    if rc.pids_limit.is_some() && missing("pids") {
        warn("--pids-limit", "pids");
        rc.pids_limit = None;
    }
}

/// The settings kept beside the spec for `start`, restarts and the supervisor (the client
/// adds the image's stop signal, the layers and the anonymous volumes).
fn run_settings(paths: &Paths, a: &RunArgs) -> Result<container::RunSettings> {
    let (restart, restart_max) = match a.restart.split_once(':') {
        Some(("on-failure", n)) => (
            "on-failure".to_string(),
            n.parse().map_err(|_| {
                Error::InvalidArgument(format!("invalid restart policy {:?}", a.restart))
            })?,
        ),
        None if matches!(
            a.restart.as_str(),
            "no" | "on-failure" | "always" | "unless-stopped"
        ) =>
        {
            (a.restart.clone(), 0)
        }
        _ => {
            return Err(Error::InvalidArgument(format!(
                "invalid restart policy {:?}: no, on-failure[:N], always or unless-stopped",
                a.restart
            )));
        }
    };
    if a.rm && restart != "no" {
        return Err(Error::InvalidArgument(
            "--restart and --rm cannot be used together".into(),
        ));
    }
    let mut log_max_size = None;
    let mut log_max_files = 1;
    // `[log-opts]` of the config file stand in for a missing `--log-opt`, as Docker's
    // daemon.json does.
    let config_opts = paths.config.log_opt_args();
    let log_opts = if a.log_opt.is_empty() {
        &config_opts
    } else {
        &a.log_opt
    };
    for o in log_opts {
        match o.split_once('=') {
            Some(("max-size", v)) => log_max_size = Some(parse_bytes(v)? as u64),
            Some(("max-file", v)) => {
                log_max_files = v
                    .parse()
                    .map_err(|_| Error::InvalidArgument(format!("invalid --log-opt {o:?}")))?
            }
            _ => {
                return Err(Error::InvalidArgument(format!(
                    "unsupported --log-opt {o:?} (max-size, max-file)"
                )));
            }
        }
    }
    if let Some(s) = &a.stop_signal {
        container::parse_signal(s)?;
    }
    Ok(container::RunSettings {
        tty: a.tty,
        stdin_open: a.interactive,
        auto_remove: a.rm,
        restart,
        restart_max,
        log_max_size,
        log_max_files,
        lowerdirs: Vec::new(),
        stop_signal: a.stop_signal.clone(),
        stop_timeout: a.stop_timeout,
        anonymous_volumes: Vec::new(),
        init: a.init,
        joins: Vec::new(),
    })
}

/// Flags -> the API's container spec.
pub fn container_spec(paths: &Paths, a: &RunArgs) -> Result<ContainerSpec> {
    let rc = run_config(paths, a)?;
    let settings = run_settings(paths, a)?;
    Ok(ContainerSpec::from_parts(
        a.image.clone(),
        a.name.clone(),
        rc,
        settings,
        a.sig_proxy,
    ))
}

/// Resolve the image as `run`/`create` do: `--pull missing|always|never`, `--platform`.
pub fn image_for_run(client: &Client, a: &RunArgs) -> Result<()> {
    let pull_now = || -> Result<()> {
        // The pull's runtime and threads are gone when it returns: a later fork is safe.
        super::registry::pull_image(
            client,
            &a.image,
            a.platform.as_deref(),
            false,
            PullOptions::new(),
        )
        .map(|_| ())
    };
    let resolve = || client.resolve_image(&a.image);
    let img = match a.pull.as_str() {
        "always" => {
            pull_now()?;
            resolve()?
        }
        "missing" => match resolve() {
            Ok(i) => i,
            Err(Error::NoSuchImage(_)) => {
                eprintln!("Unable to find image '{}' locally", a.image);
                pull_now()?;
                resolve()?
            }
            Err(e) => return Err(e),
        },
        "never" => match resolve() {
            Err(Error::NoSuchImage(n)) => {
                return Err(Error::NoSuchImage(format!(
                    "{n} (and --pull never was given)"
                )));
            }
            r => r?,
        },
        other => {
            return Err(Error::InvalidArgument(format!(
                "invalid --pull {other:?}: missing, never or always"
            )));
        }
    };
    if let Some(p) = &a.platform {
        let want = Platform::parse(p)?;
        let have = Platform {
            architecture: img.architecture.clone(),
            os: img.os.clone(),
            variant: img.variant.clone(),
        };
        if !want.matches(&have) {
            return Err(Error::InvalidArgument(format!(
                "image {} is {have}, not the requested {want}",
                a.image
            )));
        }
    }
    Ok(())
}

/// `create` (and `run -d`): the container exists, stopped, ready for `start`; its ID.
pub fn create(paths: &Paths, a: &RunArgs) -> Result<String> {
    create_with(paths, a, run_config(paths, a)?)
}

/// `create` with a `RunConfig` already made from the flags (and maybe adjusted: `kube
/// play` gives Kubernetes' multi-word command as the entrypoint).
pub fn create_with(paths: &Paths, a: &RunArgs, rc: RunConfig) -> Result<String> {
    let spec = ContainerSpec::from_parts(
        a.image.clone(),
        a.name.clone(),
        rc,
        run_settings(paths, a)?,
        a.sig_proxy,
    );
    let client = Client::from_paths(paths);
    image_for_run(&client, a)?;
    client.create(&spec)
}

pub fn run(paths: &Paths, a: RunArgs) -> Result<ExitStatus> {
    // Detached, the terminal is the supervisor's (Docker accepts `run -dit` from a script).
    if a.tty && a.interactive && !a.detach && !std::io::stdin().is_terminal() {
        return Err(Error::InvalidArgument(
            "the input device is not a TTY: drop -t, or run from a terminal".into(),
        ));
    }
    let client = Client::from_paths(paths);
    if a.detach {
        let id = create(paths, &a)?;
        client.start(&id)?;
        println!("{id}");
        return Ok(0);
    }
    let spec = container_spec(paths, &a)?;
    let stdio = if a.tty {
        Stdio::Pty {
            stdin: a.interactive,
        }
    } else {
        Stdio::Inherit
    };
    // The usual case, a local image and `--pull missing`, goes straight to the run, which
    // resolves the image itself: resolving it here first would open the store twice.
    let outcome = if a.pull == "missing" && a.platform.is_none() {
        match client.run_with(&spec, stdio) {
            Err(Error::NoSuchImage(_)) => {
                image_for_run(&client, &a)?;
                client.run_with(&spec, stdio)?
            }
            r => r?,
        }
    } else {
        image_for_run(&client, &a)?;
        client.run_with(&spec, stdio)?
    };
    if outcome.oom_killed {
        ui::error(
            &format!(
                "container {} was OOM-killed: it went over its memory limit ({})",
                outcome.name,
                a.memory.as_deref().unwrap_or("none set")
            ),
            Some("raise --memory"),
        );
    }
    Ok(outcome.exit_code)
}

/// Docker's rules for `--memory-swap` (memory + swap): it needs `--memory` and may not be
/// below it; when only `--memory` is given the container gets as much swap as memory.
/// Without that default a host with swap (a desktop's zram) lets a container run far past
/// its memory limit instead of being OOM-killed.
fn memory_swap(memory: Option<i64>, swap: Option<i64>) -> Result<Option<i64>> {
    match (memory, swap) {
        (None, Some(_)) => Err(Error::InvalidArgument(
            "--memory-swap needs --memory: set the memory limit too".into(),
        )),
        (Some(m), Some(s)) if s != -1 && s < m => Err(Error::InvalidArgument(format!(
            "--memory-swap {s} is below --memory {m}: it limits memory and swap together"
        ))),
        (Some(m), None) => Ok(Some(m.saturating_mul(2))),
        (_, s) => Ok(s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn swap_defaults_to_as_much_as_memory() {
        assert_eq!(memory_swap(Some(32 << 20), None).unwrap(), Some(64 << 20));
        assert_eq!(
            memory_swap(Some(32 << 20), Some(48 << 20)).unwrap(),
            Some(48 << 20)
        );
        assert_eq!(memory_swap(Some(32 << 20), Some(-1)).unwrap(), Some(-1));
        assert_eq!(memory_swap(None, None).unwrap(), None);
        assert!(memory_swap(None, Some(-1)).is_err());
        assert!(memory_swap(Some(32 << 20), Some(16 << 20)).is_err());
    }

    /// `-1` is a value of these flags, not an unknown short option.
    #[test]
    fn negative_limits_parse() {
        use clap::Parser;
        let cli = crate::cli::Cli::try_parse_from([
            "barge",
            "run",
            "--memory",
            "32m",
            "--memory-swap",
            "-1",
            "--pids-limit",
            "-1",
            "busybox",
        ])
        .unwrap();
        let crate::cli::Command::Run(a) = cli.command else {
            panic!("not run: {cli:?}");
        };
        assert_eq!(a.memory_swap.as_deref(), Some("-1"));
        assert_eq!(a.pids_limit, Some(-1));
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_bytes("64m").unwrap(), 64 << 20);
        assert_eq!(parse_bytes("1g").unwrap(), 1 << 30);
        assert_eq!(parse_bytes("1024").unwrap(), 1024);
        assert_eq!(parse_bytes("10kb").unwrap(), 10 << 10);
        assert!(parse_bytes("lots").is_err());
    }

    #[test]
    fn ulimits_and_devices() {
        assert_eq!(
            parse_ulimit("nofile=100:200").unwrap(),
            ("nofile".into(), 100, 200)
        );
        assert!(parse_ulimit("nofile=300:200").is_err());
        assert_eq!(parse_device("/dev/fuse").unwrap().1, "/dev/fuse");
        assert_eq!(parse_device("/dev/fuse:r").unwrap().2, "r");
        assert_eq!(parse_device("/dev/a:/dev/b:rw").unwrap().1, "/dev/b");
    }
}
