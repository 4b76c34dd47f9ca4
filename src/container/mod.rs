//! Containers: records in the store, their directories, and the OCI spec built from image
//! config + flags. The runtime (runtime/) gets only the spec and the rootfs mount.
//!
//! A container lives in `<root>/containers/<id>/` (upper/ and work/ of its overlay, rootfs/
//! as the mount point, hostname, hosts, resolv.conf) and has a row in the store. Runtime
//! state (the init's pid, cgroup) lives in `<run>/containers/<id>/`, owned by runtime/.

pub mod defaults;
pub mod fs;
pub mod pod;
mod spare;
pub mod spec;

use std::path::{Path, PathBuf};

use crate::config::Paths;
use crate::digest::Digest;
use crate::error::{Error, IoContext, Result};
use crate::image;
use crate::runtime::RootfsMount;
use crate::store::{ContainerRecord, ImageRecord, Store};
use oci_spec::runtime::LinuxNamespaceType;
pub use spec::{Network, RunConfig, Seccomp, UserMount};

/// A container ready to start: its record, its spec and the overlay to mount.
pub struct Prepared {
    pub record: ContainerRecord,
    pub dir: PathBuf,
    pub spec: oci_spec::runtime::Spec,
    pub rootfs_mount: RootfsMount,
    /// Namespaces taken from other containers, found again at every start (`RunSettings`).
    pub joins: Vec<(String, String)>,
    /// The bridge network, reserved but not yet made: the caller wires it, either into a
    /// namespace of its own (`create`) or into the one the container's clone makes (`run`).
    /// The spec names the namespace's path either way.
    pub network: Option<crate::network::Pending>,
}

/// 64 random hex digits, like Docker's container IDs.
pub fn new_id() -> String {
    let mut buf = [0u8; 32];
    let mut filled = 0;
    while filled < buf.len() {
        match rustix::rand::getrandom(&mut buf[filled..], rustix::rand::GetRandomFlags::empty()) {
            Ok(n) => filled += n,
            Err(rustix::io::Errno::INTR) => continue,
            Err(_) => {
                // getrandom cannot fail on Linux ≥ 3.17 except EINTR; mix the clock in as a
                // last resort so IDs stay distinct.
                let t = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_nanos())
                    .unwrap_or(0);
                let d = Digest::of(format!("{t}-{}", std::process::id()).as_bytes());
                return d.hex().to_string();
            }
        }
    }
    hex::encode(buf)
}

const ADJECTIVES: &[&str] = &[
    "brave", "calm", "clever", "eager", "fancy", "gentle", "happy", "jolly", "keen", "lucid",
    "merry", "nifty", "proud", "quiet", "rapid", "sharp", "swift", "tender", "vivid", "witty",
    "zealous", "bold", "crisp", "dapper",
];
const NOUNS: &[&str] = &[
    "anchor", "ballast", "bollard", "bow", "cargo", "deck", "dock", "ferry", "galley", "harbor",
    "hull", "jetty", "keel", "lock", "mast", "mooring", "pier", "quay", "rudder", "sail", "stern",
    "tug", "wharf", "tiller",
];

/// A readable random name (`swift_keel`), as Docker gives unnamed containers.
pub fn random_name(id: &str) -> String {
    let n = u64::from_str_radix(&id[..12], 16).unwrap_or(0);
    let a = ADJECTIVES[(n % ADJECTIVES.len() as u64) as usize];
    let b = NOUNS[((n / 97) % NOUNS.len() as u64) as usize];
    format!("{a}_{b}_{}", &id[..4])
}

/// Docker's rule for names: `[a-zA-Z0-9][a-zA-Z0-9_.-]*`.
pub fn validate_name(name: &str) -> Result<()> {
    if crate::util::is_docker_name(name, 253) {
        Ok(())
    } else {
        Err(Error::InvalidArgument(format!(
            "invalid container name {name:?}: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"
        )))
    }
}

fn containers_dir(store: &Store) -> PathBuf {
    store.root.join("containers")
}

/// Remove what removed containers left for later (see `spare`): the overlay's work
/// directories, whose removal waits for the disk.
pub fn sweep(root: &Path) {
    spare::sweep(&root.join("containers"));
}

/// The runtime state root for barge's own containers.
pub fn state_root(paths: &Paths) -> PathBuf {
    paths.run.join("containers")
}

fn resolv_conf() -> String {
    // With systemd-resolved the host file points at 127.0.0.53, which a container cannot
    // reach; the upstream list sits beside it.
    for p in ["/etc/resolv.conf", "/run/systemd/resolve/resolv.conf"] {
        if let Ok(text) = std::fs::read_to_string(p) {
            let usable = !text
                .lines()
                .any(|l| l.trim_start().starts_with("nameserver 127."));
            if usable || p.ends_with("resolve/resolv.conf") {
                return text;
            }
        }
    }
    String::new()
}

/// The user-visible configuration kept in the record (what `inspect` and `ps` show, and
/// the mount sources `volume rm` checks); the full spec stays in the bundle on disk.
fn summary(
    spec: &oci_spec::runtime::Spec,
    rc: &RunConfig,
    ports: &[crate::network::PortMapping],
) -> String {
    let process = spec.process().as_ref();
    let mounts: Vec<serde_json::Value> = spec
        .mounts()
        .as_ref()
        .map(|m| {
            m.iter()
                .filter(|m| m.typ().as_deref() == Some("bind") || m.typ().as_deref() == Some("tmpfs"))
                .filter(|m| !matches!(m.destination().to_str(), Some("/etc/hostname" | "/etc/hosts" | "/etc/resolv.conf")))
                .map(|m| {
                    serde_json::json!({
                        "Type": m.typ().clone().unwrap_or_default(),
                        "Source": m.source().as_ref().map(|s| s.display().to_string()).unwrap_or_default(),
                        "Destination": m.destination().display().to_string(),
                        "RW": !m.options().as_ref().is_some_and(|o| o.iter().any(|x| x == "ro")),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    serde_json::json!({
        "Hostname": spec.hostname().clone().unwrap_or_default(),
        "User": rc.user.clone().unwrap_or_default(),
        "Env": process.and_then(|p| p.env().clone()).unwrap_or_default(),
        "Cmd": process.and_then(|p| p.args().clone()).unwrap_or_default(),
        // `--entrypoint` as given (null: the image's), so `kube generate` can split the
        // command line as Kubernetes does.
        "Entrypoint": rc.entrypoint,
        "WorkingDir": process.map(|p| p.cwd().display().to_string()).unwrap_or_default(),
        "Tty": rc.tty,
        "Mounts": mounts,
        // Docker's: the user network's name, or bridge, host, none, container:X.
        "NetworkMode": match (&rc.network, &rc.pod) {
            (_, Some(_)) => "pod".to_string(),
            (Some(Network::Host), _) => "host".to_string(),
            (Some(Network::Bridge), _) => rc.network_name.clone().unwrap_or_else(|| "bridge".into()),
            (Some(Network::Container(c)), _) => format!("container:{c}"),
            _ => "none".to_string(),
        },
        "IpcMode": rc.ipc.clone().unwrap_or_default(),
        "PidMode": rc.pid.clone().unwrap_or_default(),
        "Ports": ports,
        "Privileged": rc.privileged,
        "ReadonlyRootfs": rc.read_only,
        "Labels": rc.labels,
    })
    .to_string()
}

/// Create the container: its directories, its /etc files, its spec and its record.
/// `supervisor` is the pid (and start time) of the process that watches it right away (a
/// foreground run); None records a created container.
#[allow(clippy::too_many_arguments)]
pub fn prepare(
    store: &mut Store,
    paths: &Paths,
    image: &ImageRecord,
    image_name: &str,
    name: Option<&str>,
    rc: &RunConfig,
    auto_remove: bool,
    supervisor: Option<(i64, i64)>,
) -> Result<Prepared> {
    let id = new_id();
    let name = match name {
        Some(n) => {
            validate_name(n)?;
            n.to_string()
        }
        None => random_name(&id),
    };
    let (config, _) = image::config(store, image)?;
    let layers = store.image_layers(&image.id)?;
    if layers.is_empty() {
        return Err(Error::Other(format!(
            "image {} has no layers to run",
            image.id.short()
        )));
    }
    let lowerdirs: Vec<PathBuf> = std::iter::once(init_layer(store)?)
        .chain(
            layers
                .iter()
                .rev()
                .map(|l| store.layer_dir(&l.chain_id).join("diff")),
        )
        .collect();
    // A pod member or a `--network container:X` takes its network (and /etc files, or
    // hostname) from elsewhere; both are resolved here, before anything is written.
    let pod = rc.pod.as_deref().map(|p| pod::find(store, p)).transpose()?;
    let net_from = match &rc.network {
        Some(Network::Container(t)) => Some(find(store, t)?),
        _ => None,
    };
    let ipc_from = match rc.ipc.as_deref().and_then(|i| i.strip_prefix("container:")) {
        Some(t) => Some(find(store, t)?),
        None => None,
    };
    let pid_from = match rc.pid.as_deref().and_then(|i| i.strip_prefix("container:")) {
        Some(t) => Some(find(store, t)?),
        None => None,
    };
    let mut rc = rc.clone();
    if let Some(p) = &pod {
        rc.hostname = Some(pod::config(p).hostname);
    }
    if let Some(t) = &net_from {
        // Docker gives the container the hostname of the one whose network it joins.
        rc.hostname = serde_json::from_str::<serde_json::Value>(&t.config)
            .ok()
            .and_then(|v| v["Hostname"].as_str().map(str::to_string));
        rc.network = Some(Network::Container(t.id.clone()));
    }
    if let Some(t) = &ipc_from {
        rc.ipc = Some(format!("container:{}", t.id));
    }
    if let Some(t) = &pid_from {
        rc.pid = Some(format!("container:{}", t.id));
    }
    let rc = &rc;
    let mut joins = Vec::new();
    if let Some(t) = &net_from {
        joins.push(("net".to_string(), t.id.clone()));
    }
    if let Some(t) = &ipc_from {
        joins.push(("ipc".to_string(), t.id.clone()));
    }
    if let Some(t) = &pid_from {
        joins.push(("pid".to_string(), t.id.clone()));
    }
    let dir = containers_dir(store).join(&id);
    // Before anything is written: a host where nothing can mount it gets no container.
    let mut rootfs_mount = rootfs_mount(paths, lowerdirs.clone(), &dir)?;
    if auto_remove && rootfs_mount.fstype == "overlay" {
        // The upper directory is removed when the container ends, so nothing in it needs
        // to reach the disk. Without `volatile`, the overlay's unmount at the container's
        // exit syncs the whole file system under the store, waiting for every process's
        // dirty data (measured: 1-3 ms on every `run --rm`, far more while something else
        // writes). Podman does the same for --rm.
        rootfs_mount
            .options
            .push(crate::runtime::OVERLAY_VOLATILE.into());
    }
    spare::make(&containers_dir(store), &dir).at(&dir)?;
    // `--network container:X` shares X's /etc/hosts, resolv.conf and hostname files, as
    // Docker does: they describe the network namespace, which is X's.
    let etc_dir = net_from
        .as_ref()
        .map_or_else(|| dir.clone(), |t| containers_dir(store).join(&t.id));
    let hostname_file = etc_dir.join("hostname");
    let hosts_file = etc_dir.join("hosts");
    let resolv_file = etc_dir.join("resolv.conf");
    let image_config = config.config.clone().unwrap_or(serde_json::Value::Null);
    let input = spec::SpecInput {
        id: &id,
        image: &image_config,
        layers: &lowerdirs,
        rootfs: &dir.join("rootfs"),
        etc_files: [&hostname_file, &hosts_file, &resolv_file],
    };
    let bridge = rc.network == Some(Network::Bridge) && pod.is_none();
    let built = spec::build(&input, rc).and_then(|mut spec| {
        if let Some(p) = &pod {
            let shared = pod::namespace_paths(paths, p);
            if shared.iter().any(|(t, _)| *t == LinuxNamespaceType::Uts) {
                // The pod's UTS namespace already has its hostname (set by the infra).
                spec.set_hostname(None);
            }
            for (typ, path) in shared {
                set_namespace(&mut spec, typ, Some(path));
            }
            if let Some(linux) = spec.linux_mut() {
                linux.set_cgroups_path(Some(pod::member_cgroup(&p.id, &id)));
            }
        }
        resolve_joins(store, paths, &mut spec, &joins)?;
        if !bridge {
            return Ok((spec, Vec::new()));
        }
        // Ports are checked (bound) before anything is committed: a taken one fails here.
        let mut requests = rc.publish.clone();
        if rc.publish_all {
            for r in crate::network::exposed(&image_config) {
                if !requests
                    .iter()
                    .any(|q| q.container_port == r.container_port && q.proto == r.proto)
                {
                    requests.push(r);
                }
            }
        }
        let ports = crate::network::resolve_ports(&requests)?;
        // The runtime joins the namespace that network::attach makes at this path.
        set_netns_path(&mut spec, Some(crate::network::netns_path(&paths.run, &id)));
        Ok((spec, ports))
    });
    let (spec, ports) = match built {
        Ok(s) => s,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&dir);
            return Err(e);
        }
    };
    let hostname = rc.hostname.clone().unwrap_or_default();
    let hostname = spec.hostname().clone().unwrap_or(hostname);
    let hosts = |own: Option<std::net::Ipv4Addr>| {
        let mut h = if rc.network == Some(Network::Host) {
            std::fs::read_to_string("/etc/hosts").unwrap_or_default()
        } else {
            let own = own.map_or("127.0.1.1".to_string(), |ip| ip.to_string());
            format!(
                "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n{own}\t{hostname}\n"
            )
        };
        for (name, ip) in &rc.add_hosts {
            h.push_str(&format!("{ip}\t{name}\n"));
        }
        h
    };
    let resolv = if rc.dns.is_empty() && bridge && paths.rootless {
        // slirp4netns's forwarder to the host's resolvers (which may be on the host's
        // loopback, out of the container's reach).
        format!("nameserver {}\n", crate::network::slirp::DNS)
    } else if rc.dns.is_empty() {
        resolv_conf()
    } else {
        rc.dns.iter().map(|d| format!("nameserver {d}\n")).collect()
    };
    let command = spec
        .process()
        .as_ref()
        .and_then(|p| p.args().clone())
        .unwrap_or_default()
        .join(" ");
    let record = ContainerRecord {
        id: id.clone(),
        name,
        image_id: image.id.clone(),
        image_name: image_name.to_string(),
        command,
        created: chrono::Utc::now().timestamp(),
        state: if supervisor.is_some() {
            "running"
        } else {
            "created"
        }
        .into(),
        pid: supervisor.map(|s| s.0),
        pid_start: supervisor.map(|s| s.1),
        exit_code: None,
        auto_remove,
        config: summary(&spec, rc, &ports),
        started_at: supervisor
            .map(|_| chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)),
        finished_at: None,
        oom_killed: false,
        restart_count: 0,
        stop_requested: false,
        pod: pod.as_ref().map(|p| p.id.clone()),
    };
    if let Err(e) = store.insert_container(&record) {
        let _ = std::fs::remove_dir_all(&dir);
        return Err(e);
    }
    // After the row: a crash from here on leaves a container that rm/reap_dead clean up.
    let undo = |store: &mut Store, e: Error| {
        let _ = crate::network::detach(&store.root, &id);
        let _ = std::fs::remove_dir_all(&dir);
        let _ = store.delete_container(&id);
        e
    };
    let mut reserved = None;
    if bridge {
        let key = rc.network_name.as_deref().unwrap_or("bridge");
        let ep = crate::network::Endpoint {
            ip: rc.ip,
            aliases: rc.network_aliases.clone(),
            ports,
        };
        let r = crate::network::lookup(&store.root, key)
            .ok_or_else(|| Error::NoSuchNetwork(key.into()))
            .and_then(|net| {
                crate::network::reserve(
                    &store.root,
                    &paths.run,
                    &id,
                    &record.name,
                    &net,
                    ep,
                    crate::network::Helper::from_config(&paths.config),
                )
            });
        reserved = Some(r.map_err(|e| undo(store, e))?);
    }
    // Written once, with the address (a rewrite would cost this file system a block
    // discard when the container is removed).
    let own_ip = match &reserved {
        Some(r) => Some(r.attachment().ip),
        None => pod.as_ref().and_then(|p| pod::address(store, p)),
    };
    if net_from.is_none() {
        for (p, text) in [
            (&hostname_file, format!("{hostname}\n")),
            (&hosts_file, hosts(own_ip)),
            (&resolv_file, resolv),
        ] {
            if let Err(e) = std::fs::write(p, text).at(p) {
                return Err(undo(store, e));
            }
        }
    }
    let network = reserved.and_then(|r| {
        refresh_network_hosts(&store.root, &r.attachment().network, &[]);
        match r {
            crate::network::Reserved::Pending(p) => Some(p),
            crate::network::Reserved::Wired(_) => None,
        }
    });
    Ok(Prepared {
        record,
        dir,
        spec,
        rootfs_mount,
        joins,
        network,
    })
}

/// Point the spec's network namespace at `path`, or (None) have the clone make a new one.
pub fn set_netns_path(spec: &mut oci_spec::runtime::Spec, path: Option<PathBuf>) {
    if let Some(linux) = spec.linux_mut()
        && let Some(nss) = linux.namespaces_mut()
    {
        for ns in nss.iter_mut() {
            if ns.typ() == LinuxNamespaceType::Network {
                ns.set_path(path.clone());
            }
        }
    }
}

fn set_namespace(
    spec: &mut oci_spec::runtime::Spec,
    typ: LinuxNamespaceType,
    path: Option<PathBuf>,
) {
    let Some(linux) = spec.linux_mut() else {
        return;
    };
    let mut nss = linux.namespaces().clone().unwrap_or_default();
    nss.retain(|n| n.typ() != typ);
    if let Some(path) = path {
        let mut ns = oci_spec::runtime::LinuxNamespace::default();
        ns.set_typ(typ);
        ns.set_path(Some(path));
        nss.push(ns);
    }
    linux.set_namespaces(Some(nss));
}

/// Point the spec at the namespaces it takes from other containers (`--network
/// container:X`, `--ipc container:X`, `--pid container:X`). Called at create and again before every start, as
/// Docker does: X may have restarted (a new init pid) or changed since.
pub fn resolve_joins(
    store: &Store,
    paths: &Paths,
    spec: &mut oci_spec::runtime::Spec,
    joins: &[(String, String)],
) -> Result<()> {
    for (kind, target) in joins {
        let typ = match kind.as_str() {
            "net" => LinuxNamespaceType::Network,
            "ipc" => LinuxNamespaceType::Ipc,
            "pid" => LinuxNamespaceType::Pid,
            _ => continue,
        };
        let c = find(store, target)?;
        let path = namespace_of(store, paths, &c, typ)?;
        set_namespace(spec, typ, path);
    }
    Ok(())
}

/// The file to join for container `c`'s namespace of type `typ`; None for the host's.
fn namespace_of(
    store: &Store,
    paths: &Paths,
    c: &ContainerRecord,
    typ: LinuxNamespaceType,
) -> Result<Option<PathBuf>> {
    // A bridge container's network namespace is a file that lives as long as its record.
    if typ == LinuxNamespaceType::Network
        && let Some(sb) = crate::network::sandbox(&store.root, &c.id)
    {
        return Ok(Some(sb.netns));
    }
    // Else what its spec joins (a pod, another container), or the host's.
    if let Ok((spec, _)) = load_bundle(&container_dir(store, &c.id)) {
        let ns = spec
            .linux()
            .as_ref()
            .and_then(|l| l.namespaces().clone())
            .unwrap_or_default()
            .into_iter()
            .find(|n| n.typ() == typ);
        match ns {
            None => return Ok(None),
            Some(n) if n.path().is_some() => return Ok(n.path().clone()),
            Some(_) => {}
        }
    }
    // A namespace of its own, held by its init: only while it runs.
    let pid = supervised(c)
        .then(|| crate::runtime::state(&state_root(paths), &c.id).ok())
        .flatten()
        .map(|s| s.pid)
        .ok_or_else(|| {
            Error::Conflict(format!(
                "cannot join the namespaces of container {}: it is not running",
                c.name
            ))
        })?;
    let file = match typ {
        LinuxNamespaceType::Network => "net",
        LinuxNamespaceType::Pid => "pid",
        _ => "ipc",
    };
    Ok(Some(PathBuf::from(format!("/proc/{pid}/ns/{file}"))))
}

/// Record how a container ended; with `--rm`, remove it entirely.
pub fn finish(
    store: &mut Store,
    paths: &Paths,
    p: &Prepared,
    exit_code: Option<i64>,
) -> Result<()> {
    if p.record.auto_remove {
        remove_files(store, paths, &p.record.id)?;
        store.delete_container(&p.record.id)
    } else {
        store.set_container_state(&p.record.id, "exited", None, None, exit_code)
    }
}

/// Remove a container's directories and its runtime leftovers (cgroup, state).
pub fn remove_files(store: &Store, paths: &Paths, id: &str) -> Result<()> {
    let _ = crate::runtime::delete(&state_root(paths), id, true);
    let networks = crate::network::detach(&store.root, id)?;
    let dir = containers_dir(store).join(id);
    // A fuse-overlayfs rootfs of a container whose supervisor was killed is still mounted
    // (in the rootless user's mount namespace): removing through it would delete nothing
    // of the container's own and leave its daemon running.
    let _ = crate::runtime::unmount_rootfs(&dir.join("rootfs"));
    let removed = spare::remove(&containers_dir(store), &dir).map_err(|e| Error::io(dir, e));
    for n in networks {
        refresh_network_hosts(&store.root, &n, &[]);
    }
    removed
}

/// `network connect`: `c` joins `network` (see `network::connect`), and every container
/// on it learns its name.
pub fn connect(
    store: &Store,
    c: &ContainerRecord,
    network: &str,
    ep: crate::network::Endpoint,
) -> Result<crate::network::Attachment> {
    let net = crate::network::lookup(&store.root, network)
        .ok_or_else(|| Error::NoSuchNetwork(network.into()))?;
    if net.builtin() && (ep.ip.is_some() || !ep.aliases.is_empty()) {
        return Err(user_networks_only(ep.ip.is_some()));
    }
    if crate::network::sandbox(&store.root, &c.id).is_none() {
        // none, host or container:NAME: no namespace of its own that barge wires.
        let mode = serde_json::from_str::<serde_json::Value>(&c.config)
            .ok()
            .and_then(|v| v["NetworkMode"].as_str().map(str::to_string))
            .unwrap_or_default();
        return Err(Error::Hinted {
            msg: format!(
                "container {} uses network mode {mode:?}: it cannot join network {}",
                c.name, net.name
            ),
            hint: format!("create it with `--network {}` instead", net.name),
        });
    }
    let att = crate::network::connect(&store.root, &c.id, &c.name, &net, ep)?;
    refresh_network_hosts(&store.root, &net.name, &[]);
    Ok(att)
}

/// Docker's rule: a fixed address or an alias only on networks made with `network create`.
pub fn user_networks_only(ip: bool) -> Error {
    let what = if ip {
        "a user-specified IP address (--ip)"
    } else {
        "a network-scoped alias"
    };
    Error::Hinted {
        msg: format!("{what} is supported on user-defined networks only"),
        hint: "create one with `barge network create NAME` and use --network NAME".into(),
    }
}

/// `network disconnect`: `c` leaves `network`; its peers forget it and it forgets them.
pub fn disconnect(store: &Store, c: &ContainerRecord, network: &str, force: bool) -> Result<()> {
    let net = crate::network::lookup(&store.root, network)
        .ok_or_else(|| Error::NoSuchNetwork(network.into()))?;
    crate::network::disconnect(&store.root, &c.id, &c.name, &net.name, force)?;
    refresh_network_hosts(&store.root, &net.name, std::slice::from_ref(&c.id));
    Ok(())
}

/// After `rename`: the peers know the container by its new name.
pub fn renamed(store: &Store, id: &str, name: &str) -> Result<()> {
    for n in crate::network::rename(&store.root, id, name)? {
        refresh_network_hosts(&store.root, &n, &[]);
    }
    Ok(())
}

const PEERS_MARK: &str = "# barge network peers\n";

/// On user networks every container's /etc/hosts names its peers: container name, short
/// ID and aliases, for every user network it is on (Docker answers these names from its
/// embedded DNS server; a hosts file needs no process beside the containers, and an
/// address lives as long as the container record, so the entries stay right across
/// stop/start). Called whenever a container joins or leaves `network`: the containers on
/// it, and `also` (one that just left), get their block rewritten from the IPAM.
pub fn refresh_network_hosts(root: &Path, network: &str, also: &[String]) {
    if network == "bridge" && also.is_empty() {
        return;
    }
    // Serialised, and the IPAM read under the lock: the last rewrite sees the last change.
    let _lock = crate::network::hosts_lock(root);
    let all = crate::network::sandboxes(root);
    // The default bridge resolves no names (as Docker's): its members need no rewrite.
    let on = |sb: &crate::network::Sandbox| network != "bridge" && sb.on(network).is_some();
    for (id, sb) in &all {
        if !on(sb) && !also.contains(id) {
            continue;
        }
        let mut block = String::new();
        for mine in sb.networks.iter().filter(|a| a.network != "bridge") {
            // Itself too: Docker's DNS answers a container's own name.
            for (other, sb2) in &all {
                if let Some(a) = sb2.on(&mine.network) {
                    let mut names = format!("{} {}", a.name, &other[..12]);
                    for alias in &a.aliases {
                        names.push(' ');
                        names.push_str(alias);
                    }
                    let mut ips = vec![a.ip.to_string()];
                    ips.extend(a.ip6.map(|ip| ip.to_string()));
                    for ip in ips {
                        let line = format!("{ip}\t{names}\n");
                        if !block.contains(&line) {
                            block.push_str(&line);
                        }
                    }
                }
            }
        }
        let p = root.join("containers").join(id).join("hosts");
        let Ok(text) = std::fs::read_to_string(&p) else {
            continue;
        };
        let mut out = text.split(PEERS_MARK).next().unwrap_or("").to_string();
        out.push_str(PEERS_MARK);
        out.push_str(&block);
        let _ = rewrite_in_place(&p, &out, text.len());
    }
}

/// Rewrite a file that is bind-mounted into a container: a rename would leave the
/// container with the old inode, so the bytes are overwritten. The file never shrinks (a
/// shorter text is padded with newlines, blank lines in a hosts file): a process reading
/// it meanwhile sees the old or the new entries, never an empty file between a truncate
/// and a write.
fn rewrite_in_place(p: &Path, text: &str, old_len: usize) -> std::io::Result<()> {
    use std::io::Write;
    let mut buf = text.trim_end_matches('\n').as_bytes().to_vec();
    buf.push(b'\n');
    if buf.len() < old_len {
        buf.resize(old_len, b'\n');
    }
    let mut f = std::fs::OpenOptions::new().write(true).open(p)?;
    f.write_all(&buf)
}

/// Start time (clock ticks since boot) of a process, from /proc/PID/stat.
pub fn process_start_time(pid: i64) -> Option<i64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command may contain spaces and parentheses: fields start after the last ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    rest.split_whitespace().nth(19)?.parse().ok()
}

/// This process's (pid, start time), recorded as a container's supervisor.
pub fn self_identity() -> (i64, i64) {
    let pid = std::process::id() as i64;
    (pid, process_start_time(pid).unwrap_or(0))
}

fn alive(pid: Option<i64>, start: Option<i64>) -> bool {
    match (pid, start) {
        (Some(p), Some(s)) => process_start_time(p) == Some(s),
        _ => false,
    }
}

/// Find containers whose supervising barge died (kill -9, power loss) and clean up after
/// them: `--rm` ones are removed, others are marked exited. Cheap when nothing is running.
pub fn reap_dead(store: &mut Store, paths: &Paths) -> Result<()> {
    // Network attachments whose container row is gone (a crash between the two steps of
    // a removal): release them. Read before the rows: a row is inserted before its
    // attachment, so an attachment seen here whose row is missing below is really orphaned.
    let attached = crate::network::attached(&store.root);
    let all = store.containers()?;
    let pods = store.pods()?;
    for id in attached {
        if !all.iter().any(|c| c.id == id) && !pods.iter().any(|p| p.id == id) {
            for n in crate::network::detach(&store.root, &id)? {
                refresh_network_hosts(&store.root, &n, &[]);
            }
        }
    }
    for c in all {
        if c.state != "running" || alive(c.pid, c.pid_start) {
            continue;
        }
        remove_files_runtime_only(paths, &c.id);
        let _ = crate::runtime::unmount_rootfs(&container_dir(store, &c.id).join("rootfs"));
        if c.auto_remove {
            remove_files(store, paths, &c.id)?;
            store.delete_container(&c.id)?;
        } else {
            store.set_container_state(&c.id, "exited", None, None, Some(137))?;
        }
    }
    Ok(())
}

fn remove_files_runtime_only(paths: &Paths, id: &str) {
    let _ = crate::runtime::delete(&state_root(paths), id, true);
}

/// The container's log (json-file, written by its supervisor; rotated files beside it).
pub fn log_path(store: &Store, id: &str) -> PathBuf {
    container_dir(store, id).join(format!("{id}-json.log"))
}

/// A container's published ports, as recorded at create.
pub fn ports(c: &ContainerRecord) -> Vec<crate::network::PortMapping> {
    serde_json::from_str::<serde_json::Value>(&c.config)
        .ok()
        .and_then(|v| serde_json::from_value(v["Ports"].clone()).ok())
        .unwrap_or_default()
}

/// The image a container uses keeps it alive: used by `rmi`.
pub fn image_in_use(store: &Store, image: &Digest) -> Result<bool> {
    Ok(store.containers_using(image)? > 0)
}

/// Make sure a path given for a bind mount exists on the host, as Docker's `-v` does for
/// directories (it creates a missing source directory); `--mount type=bind` does not.
pub fn ensure_bind_source(path: &Path, create: bool) -> Result<PathBuf> {
    if !path.is_absolute() {
        return Err(Error::InvalidArgument(format!(
            "bind mount source {:?} is not an absolute path",
            path.display().to_string()
        )));
    }
    if !path.exists() {
        if create {
            std::fs::create_dir_all(path).at(path)?;
        } else {
            return Err(Error::InvalidArgument(format!(
                "bind source path does not exist: {}",
                path.display()
            )));
        }
    }
    Ok(path.to_path_buf())
}

/// How a container is run, beyond its OCI spec: kept beside it in the container directory
/// (`barge.json`) so `start`, restarts and the supervisor can run it again.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct RunSettings {
    pub tty: bool,
    pub stdin_open: bool,
    pub auto_remove: bool,
    /// `no`, `on-failure`, `always`, `unless-stopped`.
    pub restart: String,
    /// For `on-failure:N`; 0 means no limit.
    pub restart_max: i64,
    pub log_max_size: Option<u64>,
    pub log_max_files: u32,
    pub lowerdirs: Vec<PathBuf>,
    pub stop_signal: Option<String>,
    pub stop_timeout: Option<u64>,
    /// Volumes created for this container alone (`-v /path`), removed by `rm -v`.
    pub anonymous_volumes: Vec<String>,
    /// barge's built-in init as PID 1 (`--init`).
    #[serde(default)]
    pub init: bool,
    /// Namespaces taken from other containers: ("net"|"ipc"|"pid", container id).
    #[serde(default)]
    pub joins: Vec<(String, String)>,
}

pub fn container_dir(store: &Store, id: &str) -> PathBuf {
    containers_dir(store).join(id)
}

/// Write the bundle (`config.json` = the spec, `barge.json` = the settings).
pub fn save_bundle(
    dir: &Path,
    spec: &oci_spec::runtime::Spec,
    settings: &RunSettings,
) -> Result<()> {
    let cfg = dir.join("config.json");
    let text = serde_json::to_vec(spec).map_err(|e| Error::Other(e.to_string()))?;
    crate::util::write_atomic(&cfg, &text)?;
    let st = dir.join("barge.json");
    crate::util::write_atomic(
        &st,
        &serde_json::to_vec(settings).map_err(|e| Error::Other(e.to_string()))?,
    )
}

pub fn load_bundle(dir: &Path) -> Result<(oci_spec::runtime::Spec, RunSettings)> {
    let cfg = dir.join("config.json");
    let spec: oci_spec::runtime::Spec = serde_json::from_slice(&std::fs::read(&cfg).at(&cfg)?)
        .map_err(|e| Error::Other(format!("{}: {e}", cfg.display())))?;
    let st = dir.join("barge.json");
    let settings: RunSettings = serde_json::from_slice(&std::fs::read(&st).at(&st)?)
        .map_err(|e| Error::Other(format!("{}: {e}", st.display())))?;
    Ok((spec, settings))
}

/// The files barge bind-mounts over in every container (see `spec::SpecInput::etc_files`).
const MOUNT_POINTS: [&str; 3] = ["etc/hostname", "etc/hosts", "etc/resolv.conf"];

/// A lower layer shared by every container, above the image's layers, holding the empty
/// files barge bind-mounts over. Without it the mounts create them in the container's upper
/// directory, which copies /etc up first: a directory and three inodes written per run and
/// removed with the container (on a disk that discards freed blocks synchronously, each
/// removed directory costs 0.1-0.2 ms). Docker has the same files in a per-container "-init" layer;
/// they are the same for every container, so one layer serves all. As with Docker's, its
/// /etc lends the merged /etc its mode (0755) and owner (root).
fn init_layer(store: &Store) -> Result<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let dir = store.root.join("init-layer");
    if MOUNT_POINTS.iter().all(|f| dir.join(f).is_file()) {
        return Ok(dir);
    }
    // Built aside and renamed into place, so no container ever sees half of it.
    let scratch = crate::util::Scratch::new(&store.root)?;
    let tmp = scratch.dir.join("init-layer");
    let etc = tmp.join("etc");
    std::fs::create_dir_all(&etc).at(&etc)?;
    for d in [&tmp, &etc] {
        std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755)).at(d)?;
    }
    for f in MOUNT_POINTS {
        let p = tmp.join(f);
        std::fs::File::create(&p).at(&p)?;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).at(&p)?;
    }
    match std::fs::rename(&tmp, &dir) {
        Ok(()) => Ok(dir),
        // Another barge made it first (a non-empty directory is not replaced).
        Err(_) if MOUNT_POINTS.iter().all(|f| dir.join(f).is_file()) => Ok(dir),
        Err(e) => Err(Error::io(&dir, e)),
    }
}

impl RunSettings {
    /// The container's root filesystem as the storage driver in use mounts it.
    pub fn rootfs_mount(&self, paths: &Paths, dir: &Path) -> Result<RootfsMount> {
        rootfs_mount(paths, self.lowerdirs.clone(), dir)
    }
}

/// The mount of a container's root filesystem (directory `dir`, image layers `lowerdirs`,
/// topmost first) with the storage driver in use ([`storage_driver`]).
pub fn rootfs_mount(paths: &Paths, lowerdirs: Vec<PathBuf>, dir: &Path) -> Result<RootfsMount> {
    let driver = storage_driver_cached(paths, false);
    if driver.name == "none" {
        return Err(Error::Hinted {
            msg: format!(
                "no storage driver can mount a container here: {}",
                driver.why
            ),
            hint: "install fuse-overlayfs (apt-get install fuse-overlayfs); `barge info` shows \
                   the storage driver and why"
                .into(),
        });
    }
    Ok(RootfsMount {
        fstype: driver.name.into(),
        lowerdirs,
        upperdir: Some(dir.join("upper")),
        workdir: Some(dir.join("work")),
        options: driver.options,
    })
}

/// Mount options of a container's kernel overlay. Rootless, `userxattr`: overlay in a user
/// namespace may not use trusted.* xattrs, so it reads (and the layer applier writes)
/// user.overlay.* instead (Linux 5.11).
pub fn overlay_options() -> Vec<String> {
    let mut o = vec!["index=off".to_string()];
    if crate::config::is_rootless() {
        o.push("userxattr".into());
    }
    o
}

/// How containers' root filesystems are mounted here, and why (`barge info`).
pub struct StorageDriver {
    /// `overlay`, `fuse-overlayfs`, or `none` (nothing can mount a container).
    pub name: &'static str,
    pub options: Vec<String>,
    pub why: String,
}

/// The storage driver, deciding afresh (`barge info`): the rootless trial mount is made
/// again and its result cached for the commands that follow.
pub fn storage_driver(paths: &Paths) -> StorageDriver {
    storage_driver_cached(paths, true)
}

/// `storage-driver` of the config file when set. Otherwise, as root, native overlay;
/// rootless, native overlay in barge's user namespace when a trial mount with `userxattr`
/// works, else fuse-overlayfs when installed, else none (never a silent copy of layers).
/// The trial's outcome is cached in the run directory until the next boot (or `barge
/// info`): the kernel and the file system under the store decide it, and a trial per
/// container would cost a mount.
fn storage_driver_cached(paths: &Paths, fresh: bool) -> StorageDriver {
    let fuse = || StorageDriver {
        name: crate::runtime::FUSE_OVERLAYFS,
        options: Vec::new(),
        why: String::new(),
    };
    let native = || StorageDriver {
        name: "overlay",
        options: overlay_options(),
        why: String::new(),
    };
    match paths.config.storage_driver.as_deref() {
        Some("fuse-overlayfs") => {
            let mut d = fuse();
            d.why = "storage-driver = \"fuse-overlayfs\" in the config file".into();
            if which(crate::runtime::FUSE_OVERLAYFS).is_none() {
                d.why.push_str(", but fuse-overlayfs is not installed");
            }
            return d;
        }
        Some(_) => {
            let mut d = native();
            d.why = "storage-driver = \"overlay\" in the config file".into();
            return d;
        }
        None => {}
    }
    if !paths.rootless {
        return native();
    }
    match probe_overlay_cached(paths, fresh) {
        Ok(()) => {
            let mut d = native();
            d.why = "rootless: native overlay in barge's user namespace, overlay xattrs in \
                     user.overlay.* (userxattr, Linux 5.11 and later)"
                .into();
            d
        }
        Err(e) if which(crate::runtime::FUSE_OVERLAYFS).is_some() => {
            let mut d = fuse();
            d.why = format!(
                "rootless: the kernel refuses native overlay in barge's user namespace ({e}), \
                 so fuse-overlayfs mounts containers (slower than native overlay)"
            );
            d
        }
        Err(e) => StorageDriver {
            name: "none",
            options: Vec::new(),
            why: format!(
                "rootless: the kernel refuses native overlay in barge's user namespace ({e}) \
                 and fuse-overlayfs is not installed; barge does not fall back to copying \
                 layers"
            ),
        },
    }
}

/// The trial overlay mount's outcome, from `<run>/overlay-probe` when it was made since
/// the last boot (and `fresh` is false), else made now and written there.
fn probe_overlay_cached(paths: &Paths, fresh: bool) -> std::result::Result<(), String> {
    let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .unwrap_or_default()
        .trim()
        .to_string();
    let cache = paths.run.join("overlay-probe");
    if !fresh && let Ok(text) = std::fs::read_to_string(&cache) {
        let mut lines = text.lines();
        if lines.next() == Some(boot.as_str()) {
            match lines.next() {
                Some("ok") => return Ok(()),
                Some("refused") => return Err(lines.next().unwrap_or("").to_string()),
                _ => {}
            }
        }
    }
    let options = overlay_options();
    let opts: Vec<&str> = options.iter().map(String::as_str).collect();
    let outcome = crate::util::Scratch::new(&paths.root)
        .map_err(|e| e.to_string())
        .and_then(|s| crate::runtime::userns::probe_overlay(&s.dir, &opts));
    let text = match &outcome {
        Ok(()) => format!("{boot}\nok\n"),
        Err(e) => format!("{boot}\nrefused\n{}\n", e.replace('\n', " ")),
    };
    let _ = std::fs::create_dir_all(&paths.run);
    let _ = crate::util::write_atomic(&cache, text.as_bytes());
    outcome
}

/// A program's path on PATH.
pub fn which(prog: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(prog))
        .find(|p| p.is_file())
}

/// Find a container by full ID, name, or unique ID prefix (as Docker does).
pub fn find(store: &Store, key: &str) -> Result<ContainerRecord> {
    let all = store.containers_matching(key)?;
    if let Some(c) = all
        .iter()
        .find(|c| c.id == key || c.name == key || c.name == key.trim_start_matches('/'))
    {
        return Ok(c.clone());
    }
    let matches: Vec<&ContainerRecord> =
        if !key.is_empty() && key.bytes().all(|b| b.is_ascii_hexdigit()) {
            all.iter().filter(|c| c.id.starts_with(key)).collect()
        } else {
            Vec::new()
        };
    match matches.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(Error::NoSuchContainer(key.to_string())),
        _ => Err(Error::InvalidArgument(format!(
            "container ID prefix {key:?} is ambiguous: {} containers match",
            matches.len()
        ))),
    }
}

/// Is the process that watches this container still there?
pub fn supervised(c: &ContainerRecord) -> bool {
    c.state == "running" && alive(c.pid, c.pid_start)
}

/// The state as it really is: a "running" record whose supervisor died is exited.
pub fn effective_state(c: &ContainerRecord) -> &'static str {
    match c.state.as_str() {
        "running" if alive(c.pid, c.pid_start) => "running",
        "running" => "exited",
        "created" => "created",
        _ => "exited",
    }
}

fn parse_time(t: Option<&str>) -> Option<chrono::DateTime<chrono::Utc>> {
    t.and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&chrono::Utc))
}

/// Docker's STATUS column: "Up 5 minutes", "Exited (0) 2 minutes ago", "Created".
pub fn status_text(c: &ContainerRecord) -> String {
    let now = chrono::Utc::now();
    match effective_state(c) {
        "running" => {
            let since = parse_time(c.started_at.as_deref())
                .map(|t| (now - t).num_seconds())
                .unwrap_or(0);
            format!("Up {}", crate::ui::human_duration(since))
        }
        "created" => "Created".into(),
        _ => {
            let code = if c.state == "running" {
                137
            } else {
                c.exit_code.unwrap_or(0)
            };
            match parse_time(c.finished_at.as_deref()) {
                Some(t) => format!(
                    "Exited ({code}) {} ago",
                    crate::ui::human_duration((now - t).num_seconds())
                ),
                None => format!("Exited ({code})"),
            }
        }
    }
}

/// Signal a running container's init through the runtime.
pub fn signal(paths: &Paths, c: &ContainerRecord, sig: i32) -> Result<()> {
    crate::runtime::kill(&state_root(paths), &c.id, sig, false)
        .map_err(|e| Error::Other(format!("container {}: {e}", c.name)))
}

/// Parse a signal given by name (`TERM`, `SIGTERM`) or number.
pub fn parse_signal(s: &str) -> Result<i32> {
    if let Ok(n) = s.parse::<i32>() {
        if (1..=64).contains(&n) {
            return Ok(n);
        }
    } else {
        let name = s.to_uppercase();
        let name = if name.starts_with("SIG") {
            name
        } else {
            format!("SIG{name}")
        };
        if let Ok(sig) = name.parse::<nix::sys::signal::Signal>() {
            return Ok(sig as i32);
        }
    }
    Err(Error::InvalidArgument(format!("invalid signal {s:?}")))
}

/// Wait until the container's supervisor is gone (it records the exit first), up to
/// `timeout`. True when it stopped.
pub fn wait_stopped(store: &Store, id: &str, timeout: std::time::Duration) -> Result<bool> {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        let c = store
            .containers_matching(id)?
            .into_iter()
            .find(|c| c.id == id);
        match c {
            None => return Ok(true),
            Some(c) if !supervised(&c) => return Ok(true),
            _ => {}
        }
        if std::time::Instant::now() >= deadline {
            return Ok(false);
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// `stop`: the stop signal, then SIGKILL after `timeout`.
pub fn stop(
    store: &mut Store,
    paths: &Paths,
    c: &ContainerRecord,
    timeout: std::time::Duration,
) -> Result<()> {
    if !supervised(c) {
        return Ok(());
    }
    store.container_stop_requested(&c.id)?;
    let dir = container_dir(store, &c.id);
    let sig = load_bundle(&dir)
        .ok()
        .and_then(|(_, s)| s.stop_signal)
        .map(|s| parse_signal(&s))
        .transpose()?
        .unwrap_or(libc::SIGTERM);
    let _ = signal(paths, c, sig);
    if !wait_stopped(store, &c.id, timeout)? {
        let _ = signal(paths, c, libc::SIGKILL);
        wait_stopped(store, &c.id, std::time::Duration::from_secs(10))?;
    }
    Ok(())
}

/// `rm`: a running container needs `force` (then it is killed first).
pub fn remove(
    store: &mut Store,
    paths: &Paths,
    c: &ContainerRecord,
    force: bool,
    volumes: bool,
) -> Result<()> {
    if supervised(c) {
        if !force {
            return Err(Error::Conflict(format!(
                "you cannot remove a running container {}; stop the container before removing it or use -f",
                &c.id[..12]
            )));
        }
        store.container_stop_requested(&c.id)?;
        let _ = signal(paths, c, libc::SIGKILL);
        wait_stopped(store, &c.id, std::time::Duration::from_secs(10))?;
    }
    let anon = load_bundle(&container_dir(store, &c.id))
        .map(|(_, s)| s.anonymous_volumes)
        .unwrap_or_default();
    remove_files(store, paths, &c.id)?;
    spare::sweep(&containers_dir(store));
    store.delete_container(&c.id)?;
    if volumes {
        for v in anon {
            let _ = crate::volume::remove(&store.root, &v);
        }
    }
    Ok(())
}
