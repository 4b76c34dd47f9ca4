//! Pods: containers that share the network, IPC and UTS namespaces of a small infra
//! process, as a Kubernetes pod's containers share its sandbox.
//!
//! A pod is a row in the store (`pods`, schema 4), a network attachment keyed by the
//! pod's id (address, veth, published ports: `network::attach`, exactly as a bridge
//! container has), and while it runs an infra process, `barge __pause ID`
//! (`runtime::pause`), which holds the IPC and UTS namespaces and pins them on
//! `<run>/pods/<id>/{ipc,uts}`. A member container's spec names the pod's netns file and
//! those pins, so the runtime joins them with setns; the paths do not change when the
//! infra restarts. Members keep their own mount and pid namespaces, as in Kubernetes
//! (where sharing the pid namespace is opt-in).
//!
//! Lifetime: the network lives as long as the row (`pod create` .. `pod rm`); the pins as
//! long as the infra (`pod start` .. `pod stop`). A member that starts while its pod's
//! infra is down starts the infra first (podman does the same).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::config::Paths;
use crate::error::{Error, Result};
use crate::network::{PortMapping, PortRequest};
use crate::store::{ContainerRecord, PodRecord, Store};

/// What `pod create` was given, kept as the record's `config`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PodConfig {
    pub hostname: String,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Published ports, resolved at create (they belong to the pod's network namespace).
    #[serde(default)]
    pub ports: Vec<PortMapping>,
    /// The network the pod is on: `bridge` or a user network's name.
    #[serde(default)]
    pub network: String,
    /// Volumes made for the pod's emptyDirs by `kube play`: removed with the pod.
    #[serde(default)]
    pub empty_dirs: Vec<String>,
    /// The namespaces the members share (`pod create --share`); pods made before the
    /// option shared net, ipc and uts.
    #[serde(default = "default_share")]
    pub share: Vec<String>,
}

impl Default for PodConfig {
    fn default() -> PodConfig {
        PodConfig {
            hostname: String::new(),
            labels: BTreeMap::new(),
            ports: Vec::new(),
            network: String::new(),
            empty_dirs: Vec::new(),
            share: default_share(),
        }
    }
}

/// podman's default: net, ipc and uts (Kubernetes' too; sharing pids is opt-in there).
pub fn default_share() -> Vec<String> {
    ["net", "ipc", "uts"].map(String::from).to_vec()
}

/// `--share` as podman takes it: a comma list of namespaces (net, ipc, uts, pid), or
/// `+LIST` for the defaults and more. A pod always shares its network namespace: it holds
/// the pod's address and ports.
pub fn parse_share(s: &str) -> Result<Vec<String>> {
    let (mut out, list) = match s.strip_prefix('+') {
        Some(rest) => (default_share(), rest),
        None => (Vec::new(), s),
    };
    for ns in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        if !["net", "ipc", "uts", "pid"].contains(&ns) {
            return Err(Error::InvalidArgument(format!(
                "invalid --share {s:?}: {ns} is not a namespace barge's pods share (net, ipc, uts, pid)"
            )));
        }
        if !out.iter().any(|o| o == ns) {
            out.push(ns.to_string());
        }
    }
    if !out.iter().any(|o| o == "net") {
        return Err(Error::InvalidArgument(format!(
            "invalid --share {s:?}: a pod always shares its network namespace (add net)"
        )));
    }
    Ok(out)
}

/// `pod create` options.
#[derive(Clone, Debug, Default)]
pub struct PodOptions {
    pub name: Option<String>,
    pub hostname: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub publish: Vec<PortRequest>,
    /// None: the default bridge.
    pub network: Option<String>,
    pub empty_dirs: Vec<String>,
    /// None: [`default_share`].
    pub share: Option<Vec<String>>,
}

pub fn config(p: &PodRecord) -> PodConfig {
    serde_json::from_str(&p.config).unwrap_or_default()
}

/// The pod's cgroup (relative to the hierarchies' roots): the infra's group and the
/// members' groups are below it.
pub fn cgroup(id: &str) -> PathBuf {
    PathBuf::from(format!("/barge/pod-{id}"))
}

/// A member's cgroup, as its spec names it.
pub fn member_cgroup(pod_id: &str, container_id: &str) -> PathBuf {
    cgroup(pod_id).join(container_id)
}

/// Where the infra pins the namespaces it shares.
pub fn pins_dir(paths: &Paths, id: &str) -> PathBuf {
    paths.run.join("pods").join(id)
}

fn pod_dir(store: &Store, id: &str) -> PathBuf {
    store.root.join("pods").join(id)
}

/// A pod by full ID, name, or unique ID prefix.
pub fn find(store: &Store, key: &str) -> Result<PodRecord> {
    let all = store.pods()?;
    if let Some(p) = all.iter().find(|p| p.id == key || p.name == key) {
        return Ok(p.clone());
    }
    let matches: Vec<&PodRecord> = if !key.is_empty() && key.bytes().all(|b| b.is_ascii_hexdigit())
    {
        all.iter().filter(|p| p.id.starts_with(key)).collect()
    } else {
        Vec::new()
    };
    match matches.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(Error::NoSuchPod(key.to_string())),
        _ => Err(Error::InvalidArgument(format!(
            "pod ID prefix {key:?} is ambiguous: {} pods match",
            matches.len()
        ))),
    }
}

/// The containers of a pod.
pub fn members(store: &Store, pod_id: &str) -> Result<Vec<ContainerRecord>> {
    Ok(store
        .containers()?
        .into_iter()
        .filter(|c| c.pod.as_deref() == Some(pod_id))
        .collect())
}

/// Is the pod's infra process alive?
pub fn infra_running(p: &PodRecord) -> bool {
    match (p.infra_pid, p.infra_start) {
        (Some(pid), Some(start)) => super::process_start_time(pid) == Some(start),
        _ => false,
    }
}

/// podman's pod states: Created, Running, Degraded (infra up, some member not), Exited.
pub fn status(p: &PodRecord, members: &[ContainerRecord]) -> &'static str {
    let running = members.iter().filter(|c| super::supervised(c)).count();
    if infra_running(p) {
        if running == members.len() {
            "Running"
        } else {
            "Degraded"
        }
    } else if members.iter().any(|c| c.state != "created") || p.infra_pid.is_some() {
        "Exited"
    } else {
        "Created"
    }
}

/// `pod create`: the record, then the network namespace with the pod's address and ports.
pub fn create(store: &mut Store, paths: &Paths, o: &PodOptions) -> Result<PodRecord> {
    let id = super::new_id();
    let name = match &o.name {
        Some(n) => {
            crate::util::is_docker_name(n, 253)
                .then_some(())
                .ok_or_else(|| {
                    Error::InvalidArgument(format!(
                        "invalid pod name {n:?}: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"
                    ))
                })?;
            n.clone()
        }
        None => super::random_name(&id),
    };
    let key = o.network.as_deref().unwrap_or("bridge");
    let net = crate::network::lookup(&store.root, key).ok_or_else(|| {
        Error::InvalidArgument(format!(
            "network {key:?} not found (bridge or `barge network ls`)"
        ))
    })?;
    let ports = crate::network::resolve_ports(&o.publish)?;
    let cfg = PodConfig {
        hostname: o.hostname.clone().unwrap_or_else(|| name.clone()),
        labels: o.labels.clone(),
        ports: ports.clone(),
        network: net.name.clone(),
        empty_dirs: o.empty_dirs.clone(),
        share: o.share.clone().unwrap_or_else(default_share),
    };
    let rec = PodRecord {
        id: id.clone(),
        name: name.clone(),
        created: chrono::Utc::now().timestamp(),
        infra_pid: None,
        infra_start: None,
        config: serde_json::to_string(&cfg).expect("serializable"),
    };
    store.insert_pod(&rec)?;
    // After the row, as for containers: a crash from here leaves a pod that rm cleans up.
    let ep = crate::network::Endpoint {
        ports,
        ..Default::default()
    };
    if let Err(e) = crate::network::attach(
        &store.root,
        &paths.run,
        &id,
        &name,
        &net,
        ep,
        crate::network::Helper::from_config(&paths.config),
    ) {
        let _ = store.delete_pod(&id);
        return Err(e);
    }
    super::refresh_network_hosts(&store.root, &net.name, &[]);
    Ok(rec)
}

/// The address the pod has on its network.
pub fn address(store: &Store, p: &PodRecord) -> Option<std::net::Ipv4Addr> {
    crate::network::attachment(&store.root, &p.id).map(|a| a.ip)
}

/// Start the infra process unless it runs. It records itself in the store before it
/// reports that it started.
/// `binary` is the barge executable that runs the infra (`barge __pause`).
pub fn ensure_running(
    store: &Store,
    paths: &Paths,
    p: &PodRecord,
    binary: &std::path::Path,
) -> Result<()> {
    if infra_running(p) {
        return Ok(());
    }
    let dir = pod_dir(store, &p.id);
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    crate::network::reconnect(&store.root, &p.id)?;
    let args: Vec<std::ffi::OsString> = vec![
        "--root".into(),
        paths.root.clone().into(),
        "__pause".into(),
        p.id.clone().into(),
    ];
    let log = dir.join("infra.log");
    match crate::supervisor::launch(binary, &args, &log).map_err(|e| Error::io(&dir, e))? {
        crate::supervisor::Launched::Started(_) => Ok(()),
        crate::supervisor::Launched::Failed(_, msg) => {
            Err(Error::Other(format!("pod {}: infra: {msg}", p.name)))
        }
    }
}

/// The infra itself (`barge __pause ID`): record, pin, report, wait.
pub fn run_infra(paths: &Paths, id: &str, report: &mut dyn FnMut(String)) -> Result<()> {
    let mut store = Store::open(&paths.root)?;
    let p = find(&store, id)?;
    let cfg = config(&p);
    let netns = crate::network::sandbox(&store.root, &p.id).map(|sb| sb.netns);
    let pins = pins_dir(paths, &p.id);
    let mut failed = None;
    let cg = cgroup(&p.id).join("infra");
    let share_pid = cfg.share.iter().any(|s| s == "pid");
    let ready = |pid: u32| {
        let pid = pid as i64;
        let identity = (pid, super::process_start_time(pid).unwrap_or(0));
        match store.set_pod_infra(&p.id, Some(identity)) {
            Ok(()) => {
                report(format!("started {pid}"));
                crate::supervisor::detached::shed_memory();
            }
            Err(e) => failed = Some(e),
        }
    };
    let r = crate::runtime::pause::pause(
        &cg,
        netns.as_deref(),
        &cfg.hostname,
        &pins,
        share_pid,
        ready,
    );
    if let Some(e) = failed {
        crate::runtime::pause::unpin(&pins);
        return Err(e);
    }
    let _ = store.set_pod_infra(&p.id, None);
    r.map_err(|e| Error::Other(format!("pod {}: {e}", p.name)))
}

/// `pod start`: the infra, then every member that is not running.
pub fn start(
    store: &mut Store,
    paths: &Paths,
    p: &PodRecord,
    binary: &std::path::Path,
    start_container: &mut dyn FnMut(&ContainerRecord) -> Result<()>,
) -> Result<()> {
    super::reap_dead(store, paths)?;
    ensure_running(store, paths, p, binary)?;
    for c in members(store, &p.id)? {
        if !super::supervised(&c) {
            start_container(&c)?;
        }
    }
    Ok(())
}

fn stop_infra(store: &mut Store, paths: &Paths, p: &PodRecord) -> Result<()> {
    if infra_running(p)
        && let Some(pid) = p.infra_pid
    {
        let signal = |sig| {
            // SAFETY: kill(2) on the pid recorded with its start time, checked just before.
            unsafe { libc::kill(pid as i32, sig) };
        };
        signal(libc::SIGTERM);
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while infra_running(p) && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        if infra_running(p) {
            signal(libc::SIGKILL);
        }
    }
    crate::runtime::pause::unpin(&pins_dir(paths, &p.id));
    // The infra's group, and the pod's when no member has a group in it any more.
    crate::runtime::remove_cgroup_tree(&cgroup(&p.id));
    store.set_pod_infra(&p.id, None)
}

/// `pod stop`: the members (stop signal, then SIGKILL after `timeout`), then the infra.
pub fn stop(store: &mut Store, paths: &Paths, p: &PodRecord, timeout: Duration) -> Result<()> {
    for c in members(store, &p.id)? {
        super::stop(store, paths, &c, timeout)?;
    }
    stop_infra(store, paths, p)
}

/// `pod rm`: the members, the infra, the network, the record. A running pod needs `force`.
pub fn remove(store: &mut Store, paths: &Paths, p: &PodRecord, force: bool) -> Result<()> {
    let members = members(store, &p.id)?;
    if !force && (infra_running(p) || members.iter().any(super::supervised)) {
        return Err(Error::Conflict(format!(
            "pod {} is running; stop it first or use -f",
            p.name
        )));
    }
    for c in &members {
        super::remove(store, paths, c, true, false)?;
    }
    stop_infra(store, paths, p)?;
    let network = crate::network::detach(&store.root, &p.id)?;
    let dir = pod_dir(store, &p.id);
    let _ = std::fs::remove_dir_all(&dir);
    store.delete_pod(&p.id)?;
    for v in config(p).empty_dirs {
        if crate::volume::exists(&store.root, &v) {
            crate::volume::remove(&store.root, &v)?;
        }
    }
    for n in network {
        super::refresh_network_hosts(&store.root, &n, &[]);
    }
    Ok(())
}

/// The namespace files a member's spec joins, for each namespace the pod shares.
pub fn namespace_paths(
    paths: &Paths,
    p: &PodRecord,
) -> Vec<(oci_spec::runtime::LinuxNamespaceType, PathBuf)> {
    use oci_spec::runtime::LinuxNamespaceType as T;
    let pins = pins_dir(paths, &p.id);
    config(p)
        .share
        .iter()
        .filter_map(|ns| {
            Some(match ns.as_str() {
                "net" => (T::Network, crate::network::netns_path(&paths.run, &p.id)),
                "ipc" => (T::Ipc, pins.join("ipc")),
                "uts" => (T::Uts, pins.join("uts")),
                "pid" => (T::Pid, pins.join("pid")),
                _ => return None,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn share_takes_podmans_forms() {
        assert_eq!(parse_share("+pid").unwrap(), ["net", "ipc", "uts", "pid"]);
        assert_eq!(parse_share("net,pid").unwrap(), ["net", "pid"]);
        assert_eq!(parse_share("net, ipc,net").unwrap(), ["net", "ipc"]);
        assert!(parse_share("ipc").is_err());
        assert!(parse_share("+cgroup").is_err());
        // A pod recorded before --share existed shares what pods shared then.
        let old: PodConfig = serde_json::from_str(r#"{"hostname":"h"}"#).unwrap();
        assert_eq!(old.share, default_share());
    }
}
