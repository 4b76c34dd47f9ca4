//! Build a container's OCI runtime spec from its image config and `run` flags, with
//! Docker's meaning for every flag (ENTRYPOINT/CMD, env, user, mounts, limits, security).

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use oci_spec::runtime::{
    Capability, LinuxBuilder, LinuxCpuBuilder, LinuxDeviceBuilder, LinuxDeviceCgroupBuilder,
    LinuxDeviceType, LinuxIdMapping, LinuxIdMappingBuilder, LinuxMemoryBuilder,
    LinuxNamespaceBuilder, LinuxNamespaceType, LinuxPidsBuilder, LinuxResourcesBuilder,
    LinuxSeccomp, Mount, MountBuilder, PosixRlimitBuilder, PosixRlimitType, Spec, UserBuilder,
};
use serde_json::Value;

use super::defaults;
use crate::error::{Error, Result};

/// `--network`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Network {
    /// A network namespace of its own with only loopback (Docker's `none`).
    None,
    /// The host's network namespace.
    Host,
    /// A namespace of its own on the `barge0` bridge (Docker's default).
    Bridge,
    /// The network namespace of another container (`container:NAME|ID`, as given).
    Container(String),
}

/// `--security-opt seccomp=...`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seccomp {
    Default,
    Unconfined,
    File(PathBuf),
}

/// A mount asked for with `-v`, `--mount` or `--tmpfs`, resolved to host paths.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UserMount {
    Bind {
        source: PathBuf,
        target: String,
        readonly: bool,
    },
    Tmpfs {
        target: String,
        options: Vec<String>,
    },
}

/// Everything `run`/`create` flags say about a container, after parsing.
#[derive(Clone, Debug, Default)]
pub struct RunConfig {
    /// `--entrypoint`: Some(vec![]) clears the image's entrypoint.
    pub entrypoint: Option<Vec<String>>,
    /// Arguments after the image name.
    pub cmd: Vec<String>,
    /// `KEY=VALUE` from -e / --env-file, in order.
    pub env: Vec<String>,
    pub workdir: Option<String>,
    pub user: Option<String>,
    /// `--userns=keep-id` (rootless): a user namespace of the container's own in which the
    /// user's host uid and gid are themselves.
    pub keep_id: bool,
    pub group_add: Vec<String>,
    pub hostname: Option<String>,
    pub tty: bool,
    pub read_only: bool,
    pub privileged: bool,
    pub cap_add: Vec<String>,
    pub cap_drop: Vec<String>,
    pub no_new_privileges: bool,
    pub seccomp: Option<Seccomp>,
    /// (resource, soft, hard)
    pub ulimits: Vec<(String, u64, u64)>,
    pub memory: Option<i64>,
    pub memory_swap: Option<i64>,
    pub cpus: Option<f64>,
    pub pids_limit: Option<i64>,
    /// (host path, container path, permissions)
    pub devices: Vec<(PathBuf, String, String)>,
    pub network: Option<Network>,
    /// With `Network::Bridge`: a user network's name (None: the default `bridge`).
    pub network_name: Option<String>,
    /// `--ip`: the address on that network.
    pub ip: Option<std::net::Ipv4Addr>,
    /// `--network-alias`: more names its peers know it by.
    pub network_aliases: Vec<String>,
    /// `-p` (and `-P`'s exposed ports are added at create time).
    pub publish: Vec<crate::network::PortRequest>,
    pub publish_all: bool,
    /// `--add-host NAME:IP`, as (name, ip).
    pub add_hosts: Vec<(String, String)>,
    /// `--dns`: replaces the host's name servers.
    pub dns: Vec<String>,
    pub mounts: Vec<UserMount>,
    /// Volumes made for this container alone (`-v /path`).
    pub anonymous_volumes: Vec<String>,
    /// `--ipc`: None (a namespace of its own), `host`, or `container:NAME`.
    pub ipc: Option<String>,
    /// `--pid`: None (a namespace of its own), `host`, or `container:NAME`.
    pub pid: Option<String>,
    /// `--pod`: the pod (name or id, as given) whose namespaces the container joins.
    pub pod: Option<String>,
    /// Labels (`com.example.team=web`): metadata, recorded with the container.
    pub labels: std::collections::BTreeMap<String, String>,
}

/// What the spec builder needs from the image and the container's directory.
pub struct SpecInput<'a> {
    pub id: &'a str,
    /// The image config's `config` object (Env, Cmd, Entrypoint, WorkingDir, User).
    pub image: &'a Value,
    /// The image's layer directories, topmost first, to read /etc/passwd and /etc/group.
    pub layers: &'a [PathBuf],
    /// The container's rootfs mount point.
    pub rootfs: &'a Path,
    /// Files barge provides: (/etc/hostname, /etc/hosts, /etc/resolv.conf) on the host.
    pub etc_files: [&'a Path; 3],
}

fn strings(v: Option<&Value>) -> Option<Vec<String>> {
    match v {
        Some(Value::Array(a)) => Some(
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect(),
        ),
        Some(Value::String(s)) => Some(vec!["/bin/sh".into(), "-c".into(), s.clone()]),
        _ => None,
    }
}

/// ENTRYPOINT + CMD as Docker combines them.
pub fn command_line(image: &Value, rc: &RunConfig) -> Result<Vec<String>> {
    let (entrypoint, cmd) = match &rc.entrypoint {
        // An explicit entrypoint drops the image's CMD too.
        Some(ep) => (ep.clone(), rc.cmd.clone()),
        None => {
            let ep = strings(image.get("Entrypoint")).unwrap_or_default();
            let cmd = if rc.cmd.is_empty() {
                strings(image.get("Cmd")).unwrap_or_default()
            } else {
                rc.cmd.clone()
            };
            (ep, cmd)
        }
    };
    let mut args = entrypoint;
    args.extend(cmd);
    if args.is_empty() {
        return Err(Error::InvalidArgument(
            "no command specified: the image has no ENTRYPOINT or CMD; give one after the image name".into(),
        ));
    }
    Ok(args)
}

fn env_key(kv: &str) -> &str {
    kv.split_once('=').map(|(k, _)| k).unwrap_or(kv)
}

/// Image Env, then the user's, later keys replacing earlier ones in place.
pub fn environment(image: &Value, rc: &RunConfig, hostname: &str) -> Vec<String> {
    fn set(env: &mut Vec<String>, kv: String) {
        let key = env_key(&kv).to_string();
        match env.iter_mut().find(|e| env_key(e) == key) {
            Some(e) => *e = kv,
            None => env.push(kv),
        }
    }
    let mut env: Vec<String> = Vec::new();
    if let Some(Value::Array(a)) = image.get("Env") {
        for v in a.iter().filter_map(|v| v.as_str()) {
            set(&mut env, v.to_string());
        }
    }
    if !env.iter().any(|e| env_key(e) == "PATH") {
        set(&mut env, format!("PATH={}", defaults::DEFAULT_PATH));
    }
    set(&mut env, format!("HOSTNAME={hostname}"));
    if rc.tty {
        set(&mut env, "TERM=xterm".into());
    }
    for kv in &rc.env {
        set(&mut env, kv.clone());
    }
    env
}

/// Find a file of the image by reading its layers top-down; a whiteout hides it.
fn image_file(layers: &[PathBuf], rel: &str) -> Option<String> {
    use std::os::unix::fs::FileTypeExt;
    for l in layers {
        let p = l.join(rel);
        match std::fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_char_device() => return None,
            Ok(m) if m.is_file() => return std::fs::read_to_string(&p).ok(),
            Ok(_) => return None,
            Err(_) => continue,
        }
    }
    None
}

/// Resolve `user[:group]` (names or numbers) against the image's passwd and group files:
/// (uid, gid, additional gids).
pub fn resolve_user(
    layers: &[PathBuf],
    user: &str,
    group_add: &[String],
) -> Result<(u32, u32, Vec<u32>)> {
    let passwd = image_file(layers, "etc/passwd").unwrap_or_default();
    let groups = image_file(layers, "etc/group").unwrap_or_default();
    let (u, g) = match user.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (user, None),
    };
    let entries: Vec<Vec<&str>> = passwd
        .lines()
        .map(|l| l.split(':').collect())
        .filter(|f: &Vec<&str>| f.len() >= 4)
        .collect();
    let group_entries: Vec<Vec<&str>> = groups
        .lines()
        .map(|l| l.split(':').collect())
        .filter(|f: &Vec<&str>| f.len() >= 3)
        .collect();
    let (uid, mut gid, name) = if u.is_empty() {
        (0, 0, Some("root".to_string()))
    } else if let Ok(n) = u.parse::<u32>() {
        match entries.iter().find(|f| f[2] == u) {
            Some(f) => (n, f[3].parse().unwrap_or(0), Some(f[0].to_string())),
            None => (n, 0, None),
        }
    } else {
        let f = entries.iter().find(|f| f[0] == u).ok_or_else(|| {
            Error::InvalidArgument(format!(
                "unable to find user {u}: no matching entries in passwd file"
            ))
        })?;
        (
            f[2].parse().map_err(|_| {
                Error::InvalidArgument(format!("bad uid for user {u} in /etc/passwd"))
            })?,
            f[3].parse().unwrap_or(0),
            Some(u.to_string()),
        )
    };
    let find_group = |g: &str| -> Result<u32> {
        if let Ok(n) = g.parse::<u32>() {
            return Ok(n);
        }
        group_entries
            .iter()
            .find(|f| f[0] == g)
            .and_then(|f| f[2].parse().ok())
            .ok_or_else(|| {
                Error::InvalidArgument(format!(
                    "unable to find group {g}: no matching entries in group file"
                ))
            })
    };
    if let Some(g) = g {
        gid = find_group(g)?;
    }
    // Docker lists the primary group among the supplementary ones too (`id` shows it).
    let mut extra: Vec<u32> = vec![gid];
    if let Some(name) = &name {
        for f in &group_entries {
            if f.len() >= 4
                && f[3].split(',').any(|m| m == name)
                && let Ok(n) = f[2].parse::<u32>()
                && n != gid
                && !extra.contains(&n)
            {
                extra.push(n);
            }
        }
    }
    for g in group_add {
        let n = find_group(g)?;
        if !extra.contains(&n) {
            extra.push(n);
        }
    }
    Ok((uid, gid, extra))
}

fn parse_cap(name: &str) -> Result<Capability> {
    let n = name.trim().to_uppercase();
    let n = if n.starts_with("CAP_") {
        n
    } else {
        format!("CAP_{n}")
    };
    serde_json::from_value(Value::String(n.clone()))
        .map_err(|_| Error::InvalidArgument(format!("unknown capability {name:?}")))
}

/// Docker's capability arithmetic: defaults, minus drops, plus adds; "ALL" in either.
pub fn capabilities(rc: &RunConfig) -> Result<Vec<Capability>> {
    let all = || all_capabilities();
    let mut caps: Vec<Capability> = if rc.privileged {
        all()
    } else {
        defaults::default_capabilities()
    };
    if rc.cap_drop.iter().any(|c| c.eq_ignore_ascii_case("all")) {
        caps.clear();
    } else {
        let drop: HashSet<Capability> = rc
            .cap_drop
            .iter()
            .map(|c| parse_cap(c))
            .collect::<Result<_>>()?;
        caps.retain(|c| !drop.contains(c));
    }
    if rc.cap_add.iter().any(|c| c.eq_ignore_ascii_case("all")) {
        caps = all();
    } else {
        for c in &rc.cap_add {
            let c = parse_cap(c)?;
            if !caps.contains(&c) {
                caps.push(c);
            }
        }
    }
    Ok(caps)
}

/// Every capability barge itself holds (its bounding set): what `--privileged` can give.
fn all_capabilities() -> Vec<Capability> {
    let held = caps::read(None, caps::CapSet::Bounding).unwrap_or_default();
    let mut out: Vec<Capability> = held
        .into_iter()
        .filter_map(|c| serde_json::from_value(Value::String(c.to_string())).ok())
        .collect();
    out.sort_by_key(|c| format!("{c:?}"));
    out
}

fn bind(source: &Path, target: &str, readonly: bool) -> Mount {
    let mut opts = vec!["rbind".to_string(), "rprivate".to_string()];
    if readonly {
        opts.push("ro".into());
    }
    MountBuilder::default()
        .destination(target)
        .typ("bind")
        .source(source)
        .options(opts)
        .build()
        .expect("valid mount")
}

/// Docker's default device allow list for the devices cgroup: deny all, then the standard
/// nodes and any pty.
fn default_device_rules() -> Vec<oci_spec::runtime::LinuxDeviceCgroup> {
    let rule = |allow: bool,
                typ: Option<LinuxDeviceType>,
                major: Option<i64>,
                minor: Option<i64>,
                access: &str| {
        let mut b = LinuxDeviceCgroupBuilder::default()
            .allow(allow)
            .access(access);
        if let Some(t) = typ {
            b = b.typ(t);
        }
        if let Some(m) = major {
            b = b.major(m);
        }
        if let Some(m) = minor {
            b = b.minor(m);
        }
        b.build().expect("device rule")
    };
    use LinuxDeviceType::C;
    vec![
        rule(false, None, None, None, "rwm"),
        rule(true, Some(C), None, None, "m"),
        rule(true, Some(LinuxDeviceType::B), None, None, "m"),
        rule(true, Some(C), Some(1), Some(3), "rwm"), // null
        rule(true, Some(C), Some(1), Some(5), "rwm"), // zero
        rule(true, Some(C), Some(1), Some(7), "rwm"), // full
        rule(true, Some(C), Some(1), Some(8), "rwm"), // random
        rule(true, Some(C), Some(1), Some(9), "rwm"), // urandom
        rule(true, Some(C), Some(5), Some(0), "rwm"), // tty
        rule(true, Some(C), Some(5), Some(1), "rwm"), // console
        rule(true, Some(C), Some(5), Some(2), "rwm"), // ptmx
        rule(true, Some(C), Some(136), None, "rwm"),  // pts
        rule(true, Some(C), Some(10), Some(200), "rwm"), // tun
    ]
}

/// Build the spec.
pub fn build(input: &SpecInput<'_>, rc: &RunConfig) -> Result<Spec> {
    let mut spec = defaults::default_spec();
    let hostname = match (&rc.hostname, &rc.network) {
        (Some(h), _) => h.clone(),
        (None, Some(Network::Host)) => rustix::system::uname()
            .nodename()
            .to_string_lossy()
            .into_owned(),
        (None, _) => input.id[..12].to_string(),
    };
    spec.set_hostname(Some(hostname.clone()));
    let mut root = spec.root().clone().expect("default spec has a root");
    root.set_path(input.rootfs.to_path_buf());
    root.set_readonly(Some(rc.read_only));
    spec.set_root(Some(root));

    let args = command_line(input.image, rc)?;
    let env = environment(input.image, rc, &hostname);
    let keep_id = if rc.keep_id {
        Some(keep_id_maps()?)
    } else {
        None
    };
    let own_ids = keep_id.as_ref().map(|k| format!("{}:{}", k.uid, k.gid));
    let user_spec = rc.user.clone().or(own_ids).or_else(|| {
        input
            .image
            .get("User")
            .and_then(|u| u.as_str())
            .filter(|u| !u.is_empty())
            .map(str::to_string)
    });
    let (uid, gid, extra) = match &user_spec {
        Some(u) => resolve_user(input.layers, u, &rc.group_add)?,
        None => resolve_user(input.layers, "0", &rc.group_add)?,
    };
    let cwd = rc
        .workdir
        .clone()
        .or_else(|| {
            input
                .image
                .get("WorkingDir")
                .and_then(|w| w.as_str())
                .filter(|w| !w.is_empty())
                .map(str::to_string)
        })
        .unwrap_or_else(|| "/".into());
    if !cwd.starts_with('/') {
        return Err(Error::InvalidArgument(format!(
            "the working directory {cwd:?} is not an absolute path"
        )));
    }
    let caps = capabilities(rc)?;
    let mut process = spec.process().clone().expect("default spec has a process");
    process.set_args(Some(args));
    process.set_env(Some(env));
    process.set_cwd(PathBuf::from(cwd));
    process.set_terminal(Some(rc.tty));
    process.set_user(
        UserBuilder::default()
            .uid(uid)
            .gid(gid)
            .additional_gids(extra)
            .build()
            .map_err(|e| Error::Other(e.to_string()))?,
    );
    process.set_capabilities(Some(defaults::linux_capabilities(&caps)));
    // Docker leaves no_new_privs off unless asked, so setuid programs keep working.
    process.set_no_new_privileges(Some(rc.no_new_privileges));
    let mut rlimits = Vec::new();
    for (name, soft, hard) in &rc.ulimits {
        let typ: PosixRlimitType =
            serde_json::from_value(Value::String(format!("RLIMIT_{}", name.to_uppercase())))
                .map_err(|_| Error::InvalidArgument(format!("unknown ulimit {name:?}")))?;
        rlimits.push(
            PosixRlimitBuilder::default()
                .typ(typ)
                .soft(*soft)
                .hard(*hard)
                .build()
                .map_err(|e| Error::Other(e.to_string()))?,
        );
    }
    process.set_rlimits(if rlimits.is_empty() {
        None
    } else {
        Some(rlimits)
    });
    spec.set_process(Some(process));

    // Mounts: defaults, barge's /etc files, then the user's (later ones win on a path).
    let mut mounts = defaults::default_mounts();
    if rc.privileged {
        for m in &mut mounts {
            if m.destination() == Path::new("/sys")
                && let Some(o) = m.options().clone()
            {
                m.set_options(Some(o.into_iter().filter(|x| x != "ro").collect()));
            }
        }
    }
    for (src, dst) in
        input
            .etc_files
            .iter()
            .zip(["/etc/hostname", "/etc/hosts", "/etc/resolv.conf"])
    {
        mounts.push(bind(src, dst, false));
    }
    for m in &rc.mounts {
        let mount = match m {
            UserMount::Bind {
                source,
                target,
                readonly,
            } => bind(source, target, *readonly),
            UserMount::Tmpfs { target, options } => {
                let mut opts = vec![
                    "nosuid".to_string(),
                    "nodev".to_string(),
                    "noexec".to_string(),
                ];
                opts.extend(options.iter().cloned());
                MountBuilder::default()
                    .destination(target)
                    .typ("tmpfs")
                    .source("tmpfs")
                    .options(opts)
                    .build()
                    .expect("valid mount")
            }
        };
        mounts.retain(|x| x.destination() != mount.destination());
        mounts.push(mount);
    }
    spec.set_mounts(Some(mounts));

    let mut linux = spec
        .linux()
        .clone()
        .unwrap_or_else(|| LinuxBuilder::default().build().expect("linux"));
    let host_net = rc.network == Some(Network::Host);
    let host_ipc = rc.ipc.as_deref() == Some("host");
    let host_pid = rc.pid.as_deref() == Some("host");
    if (host_net || host_ipc || host_pid)
        && let Some(ns) = linux.namespaces().clone()
    {
        linux.set_namespaces(Some(
            ns.into_iter()
                .filter(|n| {
                    !(host_net && n.typ() == LinuxNamespaceType::Network
                        || host_ipc && n.typ() == LinuxNamespaceType::Ipc
                        || host_pid && n.typ() == LinuxNamespaceType::Pid)
                })
                .collect(),
        ));
    }
    if let Some(k) = keep_id {
        let mut ns = linux.namespaces().clone().unwrap_or_default();
        ns.push(
            LinuxNamespaceBuilder::default()
                .typ(LinuxNamespaceType::User)
                .build()
                .map_err(|e| Error::Other(e.to_string()))?,
        );
        linux.set_namespaces(Some(ns));
        let conv = |v: &[crate::runtime::userns::IdRange]| -> Result<Vec<LinuxIdMapping>> {
            v.iter()
                .map(|r| {
                    LinuxIdMappingBuilder::default()
                        .container_id(r.inside)
                        .host_id(r.outside)
                        .size(r.count)
                        .build()
                        .map_err(|e| Error::Other(e.to_string()))
                })
                .collect()
        };
        linux.set_uid_mappings(Some(conv(&k.uids)?));
        linux.set_gid_mappings(Some(conv(&k.gids)?));
    }
    if rc.privileged {
        linux.set_masked_paths(None);
        linux.set_readonly_paths(None);
    }
    let seccomp: Option<LinuxSeccomp> = match (&rc.seccomp, rc.privileged) {
        (Some(Seccomp::Unconfined), _) | (None, true) => None,
        (Some(Seccomp::File(p)), _) => {
            let text = std::fs::read_to_string(p).map_err(|e| Error::io(p, e))?;
            Some(serde_json::from_str(&text).map_err(|e| {
                Error::InvalidArgument(format!("seccomp profile {}: {e}", p.display()))
            })?)
        }
        (Some(Seccomp::Default), _) | (None, false) => Some(defaults::default_seccomp(&caps)),
    };
    linux.set_seccomp(seccomp);

    let mut devices = Vec::new();
    let mut device_rules = if rc.privileged {
        vec![
            LinuxDeviceCgroupBuilder::default()
                .allow(true)
                .access("rwm")
                .build()
                .expect("rule"),
        ]
    } else {
        default_device_rules()
    };
    for (host, target, perms) in &rc.devices {
        use std::os::unix::fs::{FileTypeExt, MetadataExt};
        let m = std::fs::metadata(host).map_err(|e| Error::io(host, e))?;
        let typ = if m.file_type().is_char_device() {
            LinuxDeviceType::C
        } else if m.file_type().is_block_device() {
            LinuxDeviceType::B
        } else {
            return Err(Error::InvalidArgument(format!(
                "{} is not a device",
                host.display()
            )));
        };
        let (major, minor) = (
            rustix::fs::major(m.rdev()) as i64,
            rustix::fs::minor(m.rdev()) as i64,
        );
        devices.push(
            LinuxDeviceBuilder::default()
                .path(PathBuf::from(target))
                .typ(typ)
                .major(major)
                .minor(minor)
                .file_mode(m.mode() & 0o777)
                .uid(m.uid())
                .gid(m.gid())
                .build()
                .map_err(|e| Error::Other(e.to_string()))?,
        );
        device_rules.push(
            LinuxDeviceCgroupBuilder::default()
                .allow(true)
                .typ(typ)
                .major(major)
                .minor(minor)
                .access(perms.as_str())
                .build()
                .map_err(|e| Error::Other(e.to_string()))?,
        );
    }
    if !devices.is_empty() {
        linux.set_devices(Some(devices));
    }
    let mut resources = LinuxResourcesBuilder::default().devices(device_rules);
    if rc.memory.is_some() || rc.memory_swap.is_some() {
        let mut m = LinuxMemoryBuilder::default();
        if let Some(l) = rc.memory {
            m = m.limit(l);
        }
        if let Some(s) = rc.memory_swap {
            m = m.swap(s);
        }
        resources = resources.memory(m.build().map_err(|e| Error::Other(e.to_string()))?);
    }
    if let Some(c) = rc.cpus {
        let period = 100_000u64;
        resources = resources.cpu(
            LinuxCpuBuilder::default()
                .period(period)
                .quota((c * period as f64) as i64)
                .build()
                .map_err(|e| Error::Other(e.to_string()))?,
        );
    }
    if let Some(p) = rc.pids_limit {
        resources = resources.pids(
            LinuxPidsBuilder::default()
                .limit(p)
                .build()
                .map_err(|e| Error::Other(e.to_string()))?,
        );
    }
    linux.set_resources(Some(
        resources.build().map_err(|e| Error::Other(e.to_string()))?,
    ));
    spec.set_linux(Some(linux));
    Ok(spec)
}

struct KeepId {
    uid: u32,
    gid: u32,
    uids: Vec<crate::runtime::userns::IdRange>,
    gids: Vec<crate::runtime::userns::IdRange>,
}

/// The maps of a keep-id container, relative to barge's rootless namespace (where the user
/// is 0 and the subordinate ids follow): see `userns::keep_id_map`.
fn keep_id_maps() -> Result<KeepId> {
    use crate::runtime::userns;
    let (uid, gid) = crate::config::host_ids();
    let cur = userns::current_mapping()
        .ok_or_else(|| Error::Other("cannot read this process's id maps".into()))?;
    let total = |v: &[userns::IdRange]| v.iter().map(|r| r.count).sum::<u32>();
    Ok(KeepId {
        uid,
        gid,
        uids: userns::keep_id_map(uid, total(&cur.uids)),
        gids: userns::keep_id_map(gid, total(&cur.gids)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn entrypoint_and_cmd_combine_like_docker() {
        let img = json!({"Entrypoint": ["/ep"], "Cmd": ["a", "b"]});
        let rc = RunConfig::default();
        assert_eq!(command_line(&img, &rc).unwrap(), ["/ep", "a", "b"]);
        let rc = RunConfig {
            cmd: vec!["x".into()],
            ..Default::default()
        };
        assert_eq!(command_line(&img, &rc).unwrap(), ["/ep", "x"]);
        let rc = RunConfig {
            entrypoint: Some(vec!["/other".into()]),
            ..Default::default()
        };
        assert_eq!(command_line(&img, &rc).unwrap(), ["/other"]);
        let rc = RunConfig {
            entrypoint: Some(vec![]),
            ..Default::default()
        };
        assert!(command_line(&json!({"Cmd": null}), &rc).is_err());
        assert_eq!(
            command_line(&json!({"Cmd": "echo hi"}), &RunConfig::default()).unwrap(),
            ["/bin/sh", "-c", "echo hi"]
        );
    }

    #[test]
    fn env_overrides_in_place() {
        let img = json!({"Env": ["PATH=/x", "A=1"]});
        let rc = RunConfig {
            env: vec!["A=2".into(), "B=3".into()],
            ..Default::default()
        };
        assert_eq!(
            environment(&img, &rc, "h"),
            ["PATH=/x", "A=2", "HOSTNAME=h", "B=3"]
        );
    }

    #[test]
    fn users_resolve_from_image_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("etc")).unwrap();
        std::fs::write(
            dir.path().join("etc/passwd"),
            "root:x:0:0::/root:/bin/sh\nbob:x:1000:1000::/home/bob:/bin/sh\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("etc/group"),
            "root:x:0:\nbob:x:1000:\nwheel:x:10:bob\nstaff:x:50:\n",
        )
        .unwrap();
        let layers = vec![dir.path().to_path_buf()];
        assert_eq!(
            resolve_user(&layers, "bob", &[]).unwrap(),
            (1000, 1000, vec![1000, 10])
        );
        assert_eq!(
            resolve_user(&layers, "bob:staff", &["root".into()]).unwrap(),
            (1000, 50, vec![50, 10, 0])
        );
        assert_eq!(
            resolve_user(&layers, "4242", &[]).unwrap(),
            (4242, 0, vec![0])
        );
        assert_eq!(
            resolve_user(&layers, "1000:10", &[]).unwrap(),
            (1000, 10, vec![10])
        );
        assert!(resolve_user(&layers, "nobody", &[]).is_err());
        assert!(resolve_user(&layers, "bob:nogroup", &[]).is_err());
    }

    #[test]
    fn capability_arithmetic() {
        let rc = RunConfig {
            cap_drop: vec!["all".into()],
            cap_add: vec!["net_admin".into()],
            ..Default::default()
        };
        assert_eq!(capabilities(&rc).unwrap(), vec![Capability::NetAdmin]);
        let rc = RunConfig {
            cap_drop: vec!["CAP_CHOWN".into()],
            ..Default::default()
        };
        assert!(!capabilities(&rc).unwrap().contains(&Capability::Chown));
        assert!(
            capabilities(&RunConfig {
                cap_add: vec!["bogus".into()],
                ..Default::default()
            })
            .is_err()
        );
    }
}
