//! Bridge networking (Docker's default `bridge` network) and published ports.
//!
//! Layout, as podman/netavark do it, but in-process:
//! - one host bridge `barge0` with 10.87.0.1/16, created on first use (not podman's
//!   10.88.0.0/16: podman's own bridge holds that subnet on many hosts, this one included,
//!   and two bridges routing one subnet break both);
//! - per container a network namespace made *before* the container is spawned: a short-lived
//!   thread unshares CLONE_NEWNET and bind-mounts its `/proc/thread-self/ns/net` onto
//!   `<run>/netns/<id>`; the spec's network namespace gets that `path` and the runtime joins
//!   it with setns. A thread (not a fork) is enough because unshare(CLONE_NEWNET) changes only
//!   the calling thread, and it is cheaper than a process.
//! - a veth pair (`veth<id[..11]>` on the bridge, `eth0` in the namespace) created in one
//!   netlink request, an address from the IPAM, a default route via 10.87.0.1;
//! - nftables (`nft`, one table `ip barge`) for outbound masquerade and for published ports.
//!
//! Published ports are DNAT entries in two nft maps (`ports`: any host address,
//! `ports_ip`: one host address), so adding or dropping a container's ports is one
//! `nft` command adding or deleting map elements, with no rule handles to track. The DNAT
//! chain is hooked at prerouting (traffic arriving from outside or from other containers)
//! and at output (traffic originated on the host). Connections to 127.0.0.1 are routed to
//! the bridge thanks to `route_localnet=1` on `barge0` and masqueraded to the bridge
//! address so that the container's reply comes back through the bridge: no userland proxy
//! process has to stay alive next to the container.
//!
//! The `nft` program runs only when the bridge is created and when a container publishes
//! ports, so a plain `run` costs a handful of netlink messages and no process spawn.
//!
//! IPAM: `<root>/network/ipam.json` (container id -> attachment), changed under an flock
//! of `<root>/network/lock`. Addresses are picked at random in the /16 rather than in order
//! because several stores (`--root`) may share the host's one bridge and none knows the
//! others' allocations; random picks make collisions across stores improbable (and avoid
//! reusing a just-freed address that peers may still have in their ARP caches).
//!
//! Lifetime: the namespace and address live as long as the container record (created by
//! `create`/`run`, released by `rm`, by the end of a `--rm` run, or by the next barge
//! command's `reap_dead` after a kill -9), so `start` of a stopped container rejoins the
//! same namespace.

pub mod netlink;
pub mod pasta;
pub mod slirp;

use std::collections::BTreeMap;
use std::io::Write;
use std::net::{Ipv4Addr, TcpListener, UdpSocket};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

pub const BRIDGE: &str = "barge0";
pub const GATEWAY: Ipv4Addr = Ipv4Addr::new(10, 87, 0, 1);
pub const PREFIX: u8 = 16;
const SUBNET: &str = "10.87.0.0/16";

/// `-p` as given: the host port may be left to the kernel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortRequest {
    pub host_ip: Option<Ipv4Addr>,
    pub host_port: Option<u16>,
    pub container_port: u16,
    pub proto: String,
}

/// A published port, resolved.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortMapping {
    pub host_ip: Option<Ipv4Addr>,
    pub host_port: u16,
    pub container_port: u16,
    pub proto: String,
}

impl PortMapping {
    fn host(&self) -> String {
        format!(
            "{}:{}",
            self.host_ip.unwrap_or(Ipv4Addr::UNSPECIFIED),
            self.host_port
        )
    }
}

impl std::fmt::Display for PortMapping {
    /// Docker's PORTS column: `0.0.0.0:8080->80/tcp`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}->{}/{}", self.host(), self.container_port, self.proto)
    }
}

/// A container's place on the bridge.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Attachment {
    /// The network's name (`bridge` for the default one).
    #[serde(default = "default_network")]
    pub network: String,
    /// The container's name, for the peers' /etc/hosts on user networks.
    #[serde(default)]
    pub name: String,
    pub ip: Ipv4Addr,
    pub gateway: Ipv4Addr,
    pub prefix: u8,
    pub veth: String,
    pub netns: PathBuf,
    pub ports: Vec<PortMapping>,
    /// Rootless: the slirp4netns or pasta process (pid, start time) that connects the
    /// namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slirp: Option<(i32, u64)>,
    /// Rootless: which of the two that is.
    #[serde(default, skip_serializing_if = "Helper::is_default")]
    pub helper: Helper,
}

/// The user-mode network program of rootless containers (config `rootless-network`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Helper {
    #[default]
    Slirp4netns,
    Pasta,
}

impl Helper {
    fn is_default(&self) -> bool {
        *self == Helper::Slirp4netns
    }

    /// The helper `rootless-network` names (slirp4netns when unset).
    pub fn from_config(c: &crate::config::Config) -> Helper {
        match c.rootless_network.as_deref() {
            Some("pasta") => Helper::Pasta,
            _ => Helper::Slirp4netns,
        }
    }

    pub fn program(&self) -> &'static str {
        match self {
            Helper::Slirp4netns => "slirp4netns",
            Helper::Pasta => "pasta",
        }
    }

    fn start(&self, att: &Attachment) -> Result<(i32, u64)> {
        match self {
            Helper::Slirp4netns => slirp::start(att),
            Helper::Pasta => pasta::start(att),
        }
    }
}

fn default_network() -> String {
    "bridge".into()
}

/// A network: the default `bridge` (barge0) or one made by `network create`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct NetworkDef {
    pub name: String,
    pub id: String,
    pub bridge: String,
    pub subnet: Ipv4Addr,
    pub prefix: u8,
    pub gateway: Ipv4Addr,
    pub created: i64,
}

impl NetworkDef {
    pub fn cidr(&self) -> String {
        format!("{}/{}", self.subnet, self.prefix)
    }

    pub fn builtin(&self) -> bool {
        self.name == "bridge"
    }
}

/// The default network.
pub fn default_bridge() -> NetworkDef {
    NetworkDef {
        name: "bridge".into(),
        id: crate::digest::Digest::of(b"barge bridge").hex().to_string(),
        bridge: BRIDGE.into(),
        subnet: Ipv4Addr::new(10, 87, 0, 0),
        prefix: PREFIX,
        gateway: GATEWAY,
        created: 0,
    }
}

fn defs_path(root: &Path) -> PathBuf {
    root.join("network/networks.json")
}

fn user_networks(root: &Path) -> BTreeMap<String, NetworkDef> {
    std::fs::read(defs_path(root))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

/// Every network of this store, the default one first.
pub fn networks(root: &Path) -> Vec<NetworkDef> {
    let mut v = vec![default_bridge()];
    v.extend(user_networks(root).into_values());
    v
}

/// A network by name, ID or ID prefix.
pub fn lookup(root: &Path, key: &str) -> Option<NetworkDef> {
    networks(root)
        .into_iter()
        .find(|n| n.name == key || (key.len() >= 3 && n.id.starts_with(key)))
}

fn parse_cidr(s: &str) -> Result<(Ipv4Addr, u8)> {
    let bad = || {
        Error::InvalidArgument(format!(
            "invalid subnet {s:?}: expected an IPv4 CIDR like 10.86.1.0/24"
        ))
    };
    let (a, p) = s.split_once('/').ok_or_else(bad)?;
    let a: Ipv4Addr = a.parse().map_err(|_| bad())?;
    let p: u8 = p.parse().map_err(|_| bad())?;
    if !(8..=30).contains(&p) {
        return Err(bad());
    }
    let mask = u32::MAX << (32 - p);
    Ok((Ipv4Addr::from(u32::from(a) & mask), p))
}

fn overlaps(a: (Ipv4Addr, u8), b: (Ipv4Addr, u8)) -> bool {
    let p = a.1.min(b.1);
    let mask = u32::MAX << (32 - p);
    u32::from(a.0) & mask == u32::from(b.0) & mask
}

/// `network create`: a bridge of its own (made at the first container), a subnet given or
/// the first free 10.86.N.0/24.
pub fn create(root: &Path, name: &str, subnet: Option<&str>) -> Result<NetworkDef> {
    crate::container::validate_name(name)?;
    if matches!(name, "bridge" | "host" | "none" | "default") {
        return Err(Error::Conflict(format!(
            "network name {name:?} is reserved"
        )));
    }
    let _lock = Lock::take(&root.join("network/lock"))?;
    let mut defs = user_networks(root);
    if defs.contains_key(name) {
        return Err(Error::Conflict(format!(
            "network with name {name} already exists"
        )));
    }
    let taken: Vec<(Ipv4Addr, u8)> = networks(root)
        .iter()
        .map(|n| (n.subnet, n.prefix))
        .collect();
    let (subnet, prefix) = match subnet {
        Some(s) => {
            let c = parse_cidr(s)?;
            if taken.iter().any(|t| overlaps(*t, c)) {
                return Err(Error::Conflict(format!(
                    "subnet {s} overlaps another barge network"
                )));
            }
            c
        }
        None => (0..=255u8)
            .map(|n| (Ipv4Addr::new(10, 86, n, 0), 24))
            .find(|c| !taken.iter().any(|t| overlaps(*t, *c)))
            .ok_or_else(|| Error::Other("no free subnet in 10.86.0.0/16: give --subnet".into()))?,
    };
    let id = crate::container::new_id();
    let def = NetworkDef {
        name: name.into(),
        bridge: format!("barge-{}", &id[..9]),
        id,
        subnet,
        prefix,
        gateway: Ipv4Addr::from(u32::from(subnet) + 1),
        created: chrono::Utc::now().timestamp(),
    };
    defs.insert(name.into(), def.clone());
    write_defs(root, &defs)?;
    Ok(def)
}

fn write_defs(root: &Path, defs: &BTreeMap<String, NetworkDef>) -> Result<()> {
    let p = defs_path(root);
    let tmp = p.with_extension("tmp");
    std::fs::write(&tmp, serde_json::to_vec(defs).expect("serializable"))
        .map_err(io_err(tmp.display()))?;
    std::fs::rename(&tmp, &p).map_err(io_err(p.display()))
}

/// `network rm`: refused while containers use it; removes its bridge and NAT entry.
pub fn remove(root: &Path, key: &str) -> Result<String> {
    let def = lookup(root, key).ok_or_else(|| Error::Other(format!("network {key} not found")))?;
    if def.builtin() {
        return Err(Error::Conflict(format!(
            "{} is a pre-defined network and cannot be removed",
            def.name
        )));
    }
    let ipam = Ipam::open(root)?;
    if ipam.map.values().any(|a| a.network == def.name) {
        return Err(Error::Conflict(format!(
            "network {} has active endpoints",
            def.name
        )));
    }
    let mut defs = user_networks(root);
    defs.remove(&def.name);
    write_defs(root, &defs)?;
    if netlink::index(&def.bridge).is_ok() {
        let host = netlink::Socket::open().map_err(io_err("netlink socket"))?;
        let _ = host.del_link(&def.bridge);
        let _ = nft(&format!(
            "delete element ip barge masq {{ {} }}\n",
            def.cidr()
        ));
    }
    Ok(def.name)
}

/// The attachments on one network (for `network inspect` and the peers' /etc/hosts).
pub fn attachments_on(root: &Path, network: &str) -> Vec<(String, Attachment)> {
    std::fs::read(root.join("network/ipam.json"))
        .ok()
        .and_then(|b| serde_json::from_slice::<BTreeMap<String, Attachment>>(&b).ok())
        .map(|m| {
            m.into_iter()
                .filter(|(_, a)| a.network == network)
                .collect()
        })
        .unwrap_or_default()
}

fn port_range(s: &str) -> Result<(u16, u16)> {
    let bad = || Error::InvalidArgument(format!("invalid port {s:?}"));
    let (a, b) = match s.split_once('-') {
        Some((a, b)) => (a, b),
        None => (s, s),
    };
    let a: u16 = a.parse().map_err(|_| bad())?;
    let b: u16 = b.parse().map_err(|_| bad())?;
    if a == 0 || b < a {
        return Err(bad());
    }
    Ok((a, b))
}

/// Parse `-p [IP:][HOST[-HOST]:]CTR[-CTR][/tcp|udp]`.
pub fn parse_publish(s: &str) -> Result<Vec<PortRequest>> {
    let bad = |why: &str| Error::InvalidArgument(format!("invalid -p {s:?}: {why}"));
    let (spec, proto) = match s.rsplit_once('/') {
        Some((a, p @ ("tcp" | "udp"))) => (a, p),
        Some((_, p)) => return Err(bad(&format!("unknown protocol {p:?} (tcp, udp)"))),
        None => (s, "tcp"),
    };
    let parts: Vec<&str> = spec.split(':').collect();
    let (ip, host, ctr) = match parts.as_slice() {
        [c] => (None, None, *c),
        [h, c] => (None, Some(*h), *c),
        [ip, h, c] => (Some(*ip), Some(*h).filter(|h| !h.is_empty()), *c),
        _ => {
            return Err(bad(
                "expected [IP:][HOST:]CONTAINER[/PROTO] (IPv6 is not supported)",
            ));
        }
    };
    let host_ip = match ip {
        None | Some("") => None,
        Some(ip) => {
            let ip: Ipv4Addr = ip
                .parse()
                .map_err(|_| bad(&format!("{ip:?} is not an IPv4 address")))?;
            (!ip.is_unspecified()).then_some(ip)
        }
    };
    let (c0, c1) = port_range(ctr)?;
    let hosts = match host {
        None => None,
        Some(h) => {
            let (h0, h1) = port_range(h)?;
            if h1 - h0 != c1 - c0 {
                return Err(bad("the host and container ranges differ in length"));
            }
            Some(h0)
        }
    };
    Ok((c0..=c1)
        .map(|c| PortRequest {
            host_ip,
            host_port: hosts.map(|h0| h0 + (c - c0)),
            container_port: c,
            proto: proto.to_string(),
        })
        .collect())
}

/// Image config `ExposedPorts` (`{"80/tcp": {}}`) as requests for random host ports (`-P`).
pub fn exposed(image_config: &serde_json::Value) -> Vec<PortRequest> {
    let mut out = Vec::new();
    if let Some(m) = image_config.get("ExposedPorts").and_then(|v| v.as_object()) {
        for k in m.keys() {
            let (p, proto) = k.split_once('/').unwrap_or((k, "tcp"));
            if let (Ok(p), "tcp" | "udp") = (p.parse::<u16>(), proto) {
                out.push(PortRequest {
                    host_ip: None,
                    host_port: None,
                    container_port: p,
                    proto: proto.into(),
                });
            }
        }
    }
    out
}

/// Check that every host port is free by binding it, and let the kernel pick the ones left
/// open. The sockets are closed again: the ports are served by DNAT, not by a listener.
pub fn resolve_ports(requests: &[PortRequest]) -> Result<Vec<PortMapping>> {
    let mut out: Vec<PortMapping> = Vec::new();
    for r in requests {
        let ip = r.host_ip.unwrap_or(Ipv4Addr::UNSPECIFIED);
        let want = r.host_port.unwrap_or(0);
        let taken = |port: u16| {
            Error::Conflict(format!(
                "Bind for {ip}:{port}/{} failed: port is already allocated",
                r.proto
            ))
        };
        let port = if r.proto == "udp" {
            UdpSocket::bind((ip, want))
                .and_then(|s| s.local_addr())
                .map_err(|_| taken(want))?
                .port()
        } else {
            TcpListener::bind((ip, want))
                .and_then(|s| s.local_addr())
                .map_err(|_| taken(want))?
                .port()
        };
        let m = PortMapping {
            host_ip: r.host_ip,
            host_port: port,
            container_port: r.container_port,
            proto: r.proto.clone(),
        };
        if out
            .iter()
            .any(|o| o.host_port == m.host_port && o.proto == m.proto)
        {
            return Err(taken(port));
        }
        out.push(m);
    }
    Ok(out)
}

pub fn netns_path(run: &Path, id: &str) -> PathBuf {
    run.join("netns").join(id)
}

fn veth_name(id: &str) -> String {
    // IFNAMSIZ is 16 with the NUL: "veth" + 11 hex digits.
    format!("veth{}", &id[..11.min(id.len())])
}

fn io_err(what: impl std::fmt::Display) -> impl FnOnce(std::io::Error) -> Error {
    move |e| Error::Other(format!("network: {what}: {e}"))
}

/// An exclusive flock on a file, released on drop.
/// The file is kept open only to hold the lock.
struct Lock(#[allow(dead_code)] std::fs::File);

impl Lock {
    fn take(path: &Path) -> Result<Lock> {
        if let Some(d) = path.parent() {
            std::fs::create_dir_all(d).map_err(io_err(d.display()))?;
        }
        let f = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .map_err(io_err(path.display()))?;
        rustix::fs::flock(&f, rustix::fs::FlockOperation::LockExclusive)
            .map_err(|e| io_err(path.display())(e.into()))?;
        Ok(Lock(f))
    }
}

struct Ipam {
    path: PathBuf,
    map: BTreeMap<String, Attachment>,
    _lock: Lock,
}

impl Ipam {
    fn open(root: &Path) -> Result<Ipam> {
        let dir = root.join("network");
        let lock = Lock::take(&dir.join("lock"))?;
        let path = dir.join("ipam.json");
        let map = match std::fs::read(&path) {
            Ok(b) => serde_json::from_slice(&b).unwrap_or_default(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => return Err(io_err(path.display())(e)),
        };
        Ok(Ipam {
            path,
            map,
            _lock: lock,
        })
    }

    fn save(&self) -> Result<()> {
        // temp + rename: a reader (or a crash) never sees half a file.
        let tmp = self.path.with_extension("tmp");
        let text = serde_json::to_vec(&self.map).expect("serializable");
        std::fs::write(&tmp, text).map_err(io_err(tmp.display()))?;
        std::fs::rename(&tmp, &self.path).map_err(io_err(self.path.display()))
    }

    fn pick(&self, net: &NetworkDef) -> Result<Ipv4Addr> {
        let used: std::collections::HashSet<Ipv4Addr> = self.map.values().map(|a| a.ip).collect();
        let base = u32::from(net.subnet);
        let size = 1u32 << (32 - net.prefix);
        for _ in 0..1000 {
            let mut b = [0u8; 4];
            let _ = rustix::rand::getrandom(&mut b, rustix::rand::GetRandomFlags::empty());
            let host = u32::from_ne_bytes(b) % size;
            // Not the network, the gateway (.0.1) or the broadcast address.
            if host <= 1 || host == size - 1 {
                continue;
            }
            let ip = Ipv4Addr::from(base + host);
            if !used.contains(&ip) {
                return Ok(ip);
            }
        }
        Err(Error::Other(format!(
            "network: no free address in {}",
            net.cidr()
        )))
    }
}

fn nft(script: &str) -> std::result::Result<(), String> {
    let mut child = std::process::Command::new("nft")
        .args(["-f", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run nft (install the nftables package): {e}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(script.as_bytes());
    }
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
    }
}

fn ruleset() -> String {
    // Declaring the table empty and deleting it first makes the script idempotent.
    format!(
        "table ip barge {{}}
delete table ip barge
table ip barge {{
  set masq {{ type ipv4_addr; flags interval; elements = {{ {SUBNET} }}; }}
  map ports {{ type inet_proto . inet_service : ipv4_addr . inet_service; }}
  map ports_ip {{ type ipv4_addr . inet_proto . inet_service : ipv4_addr . inet_service; }}
  chain publish {{
    dnat ip to ip daddr . meta l4proto . th dport map @ports_ip
    dnat ip to meta l4proto . th dport map @ports
  }}
  chain prerouting {{
    type nat hook prerouting priority dstnat; policy accept;
    fib daddr type local jump publish
  }}
  chain output {{
    type nat hook output priority -100; policy accept;
    fib daddr type local jump publish
  }}
  chain postrouting {{
    type nat hook postrouting priority srcnat; policy accept;
    ip saddr @masq ip daddr != @masq masquerade
    ip saddr 127.0.0.0/8 oifname \"barge*\" masquerade
  }}
}}
"
    )
}

fn sysctl(key: &str, value: &str) -> Result<()> {
    let p = format!("/proc/sys/{}", key.replace('.', "/"));
    match std::fs::read_to_string(&p) {
        Ok(v) if v.trim() == value => Ok(()),
        _ => std::fs::write(&p, value).map_err(io_err(&p)),
    }
}

/// The bridge's index; creates the bridge, its address, the nft table and the sysctls the
/// first time. Checking that the bridge exists is the fast path (one ioctl).
fn ensure_bridge(host: &netlink::Socket, net: &NetworkDef) -> Result<u32> {
    let br = net.bridge.as_str();
    if let Ok(i) = netlink::index(br) {
        return Ok(i);
    }
    if !net.builtin() {
        // The nft table exists when barge0 does: make both first (before the lock below,
        // which is not re-entrant).
        ensure_bridge(host, &default_bridge())?;
    }
    // The bridge is the host's, shared by every store: the lock is host-wide too.
    let _lock = Lock::take(Path::new("/run/barge-network.lock"))?;
    if let Ok(i) = netlink::index(br) {
        return Ok(i);
    }
    let nft_err = |e| Error::Other(format!("network: nft: {e}"));
    if net.builtin() {
        nft(&ruleset()).map_err(nft_err)?;
    } else {
        let add = format!("add element ip barge masq {{ {} }}\n", net.cidr());
        nft(&add).map_err(nft_err)?;
    }
    match host.add_bridge(br) {
        Ok(()) => {}
        Err(e) if e.raw_os_error() == Some(libc::EEXIST) => {}
        Err(e) => return Err(io_err(format!("create bridge {br}"))(e)),
    }
    let i = netlink::index(br).map_err(io_err(br))?;
    match host.add_addr(i, net.gateway, net.prefix) {
        Ok(()) => {}
        Err(e) if e.raw_os_error() == Some(libc::EEXIST) => {}
        Err(e) => return Err(io_err(format!("address of {br}"))(e)),
    }
    sysctl("net.ipv4.ip_forward", "1")?;
    // 127.0.0.1:PORT -> container: packets from 127/8 may then be routed to the bridge.
    sysctl(&format!("net.ipv4.conf.{br}.route_localnet"), "1")?;
    host.set_up(i).map_err(io_err(format!("set {br} up")))?;
    Ok(i)
}

fn nft_elements(ports: &[PortMapping], ip: Ipv4Addr, with_values: bool) -> String {
    let mut any = Vec::new();
    let mut by_ip = Vec::new();
    for p in ports {
        let value = if with_values {
            format!(" : {ip} . {}", p.container_port)
        } else {
            String::new()
        };
        match p.host_ip {
            Some(h) => by_ip.push(format!("{h} . {} . {}{value}", p.proto, p.host_port)),
            None => any.push(format!("{} . {}{value}", p.proto, p.host_port)),
        }
    }
    let verb = if with_values { "create" } else { "delete" };
    let mut s = String::new();
    if !any.is_empty() {
        s += &format!("{verb} element ip barge ports {{ {} }}\n", any.join(", "));
    }
    if !by_ip.is_empty() {
        s += &format!(
            "{verb} element ip barge ports_ip {{ {} }}\n",
            by_ip.join(", ")
        );
    }
    s
}

/// Make the container's network namespace, wire it to the bridge and publish its ports.
pub fn attach(
    root: &Path,
    run: &Path,
    id: &str,
    name: &str,
    net: &NetworkDef,
    ports: Vec<PortMapping>,
    helper: Helper,
) -> Result<Attachment> {
    if crate::config::is_rootless() {
        return attach_rootless(root, run, id, name, net, ports, helper);
    }
    let host = netlink::Socket::open().map_err(io_err("netlink socket"))?;
    let bridge = ensure_bridge(&host, net)?;
    let mut ipam = Ipam::open(root)?;
    // A port published through DNAT is not bound on the host, so resolve_ports' bind check
    // cannot see the other containers' ports: they are compared here, under the lock.
    for p in &ports {
        let clash = ipam.map.values().flat_map(|a| &a.ports).any(|q| {
            q.host_port == p.host_port
                && q.proto == p.proto
                && (q.host_ip.is_none() || p.host_ip.is_none() || q.host_ip == p.host_ip)
        });
        if clash {
            return Err(Error::Conflict(format!(
                "Bind for {}/{} failed: port is already allocated",
                p.host(),
                p.proto
            )));
        }
    }
    let ip = ipam.pick(net)?;
    let att = Attachment {
        network: net.name.clone(),
        name: name.into(),
        ip,
        gateway: net.gateway,
        prefix: net.prefix,
        veth: veth_name(id),
        netns: netns_path(run, id),
        ports,
        slirp: None,
        helper: Helper::default(),
    };
    // Recorded first: whatever a crash leaves half-made is found and undone by `detach`.
    ipam.map.insert(id.to_string(), att.clone());
    ipam.save()?;
    let made = std::thread::scope(|s| {
        s.spawn(|| configure(&host, bridge, &att))
            .join()
            .unwrap_or_else(|_| Err(Error::Other("network: setup thread panicked".into())))
    });
    let made = made.and_then(|()| {
        if att.ports.is_empty() {
            return Ok(());
        }
        nft(&nft_elements(&att.ports, ip, true)).map_err(|e| {
            let ports: Vec<String> = att.ports.iter().map(|p| p.host()).collect();
            Error::Conflict(format!(
                "cannot publish {}: already published by another container? ({e})",
                ports.join(", ")
            ))
        })
    });
    if let Err(e) = made {
        undo(&host, &att, false);
        ipam.map.remove(id);
        let _ = ipam.save();
        return Err(e);
    }
    Ok(att)
}

/// Rootless: the default network is slirp4netns (see `slirp`); user networks need a
/// bridge, which only root can make.
fn attach_rootless(
    root: &Path,
    run: &Path,
    id: &str,
    name: &str,
    net: &NetworkDef,
    ports: Vec<PortMapping>,
    helper: Helper,
) -> Result<Attachment> {
    if !net.builtin() {
        return Err(Error::Setup {
            msg: format!(
                "network {}: user networks need root (a host bridge)",
                net.name
            ),
            hint: "rootless containers use the default network (slirp4netns), none or host".into(),
        });
    }
    let mut ipam = Ipam::open(root)?;
    for p in &ports {
        let clash = ipam.map.values().flat_map(|a| &a.ports).any(|q| {
            q.host_port == p.host_port
                && q.proto == p.proto
                && (q.host_ip.is_none() || p.host_ip.is_none() || q.host_ip == p.host_ip)
        });
        if clash {
            return Err(Error::Conflict(format!(
                "Bind for {}/{} failed: port is already allocated",
                p.host(),
                p.proto
            )));
        }
    }
    let mut att = Attachment {
        network: net.name.clone(),
        name: name.into(),
        ip: slirp::ADDRESS,
        gateway: slirp::GATEWAY,
        prefix: 24,
        veth: "tap0".into(),
        netns: netns_path(run, id),
        ports,
        // Recorded before it runs, so that `detach` after a crash releases the namespace.
        slirp: Some((0, 0)),
        helper,
    };
    ipam.map.insert(id.to_string(), att.clone());
    ipam.save()?;
    match helper.start(&att) {
        Ok(p) => {
            att.slirp = Some(p);
            ipam.map.insert(id.to_string(), att.clone());
            ipam.save()?;
            Ok(att)
        }
        Err(e) => {
            slirp::stop(0, 0, &att.netns);
            ipam.map.remove(id);
            let _ = ipam.save();
            Err(e)
        }
    }
}

/// Runs on a thread of its own: it enters the new namespace and dies with it.
fn configure(host: &netlink::Socket, bridge: u32, att: &Attachment) -> Result<()> {
    if let Some(d) = att.netns.parent() {
        std::fs::create_dir_all(d).map_err(io_err(d.display()))?;
    }
    std::fs::File::create(&att.netns).map_err(io_err(att.netns.display()))?;
    // SAFETY: CLONE_NEWNET changes only this thread's network namespace, which no other
    // thread relies on; the thread ends right after configuring the namespace.
    unsafe { rustix::thread::unshare_unsafe(rustix::thread::UnshareFlags::NEWNET) }
        .map_err(|e| io_err("unshare network namespace")(e.into()))?;
    rustix::mount::mount_bind("/proc/thread-self/ns/net", &att.netns)
        .map_err(|e| io_err(format!("bind mount {}", att.netns.display()))(e.into()))?;
    let ns = std::fs::File::open(&att.netns).map_err(io_err(att.netns.display()))?;
    host.add_veth(&att.veth, bridge, "eth0", ns.as_raw_fd())
        .map_err(io_err(format!("create veth {}", att.veth)))?;
    // From here on this thread is inside the container's namespace.
    let inner = netlink::Socket::open().map_err(io_err("netlink socket"))?;
    inner.set_up(1).map_err(io_err("set lo up"))?;
    let eth0 = netlink::index("eth0").map_err(io_err("eth0"))?;
    inner.set_up(eth0).map_err(io_err("set eth0 up"))?;
    inner
        .add_addr(eth0, att.ip, att.prefix)
        .map_err(io_err(format!("address {}", att.ip)))?;
    inner
        .add_default_route(att.gateway, eth0)
        .map_err(io_err("default route"))?;
    Ok(())
}

/// Undo an attachment, ignoring what is already gone.
fn undo(host: &netlink::Socket, att: &Attachment, ports: bool) {
    // No RTM_DELLINK: deleting a veth waits for an RCU grace period (about 20 ms here,
    // more than the whole rest of `run --rm`). Unmounting the namespace drops its last
    // reference once the container is gone, and the kernel's cleanup worker destroys it and
    // both veth ends in the background, a few milliseconds later. Without a mounted
    // namespace (a crash before the mount) the deletion is tried anyway, as a cheap ENODEV.
    if rustix::mount::unmount(&att.netns, rustix::mount::UnmountFlags::DETACH).is_err() {
        let _ = host.del_link(&att.veth);
    }
    if ports && !att.ports.is_empty() {
        let _ = nft(&nft_elements(&att.ports, att.ip, false));
    }
    let _ = std::fs::remove_file(&att.netns);
}

/// Release a container's network (idempotent; cheap when it had none). Returns the
/// network it was on.
pub fn detach(root: &Path, id: &str) -> Result<Option<String>> {
    if !root.join("network/ipam.json").exists() {
        return Ok(None);
    }
    let mut ipam = Ipam::open(root)?;
    let Some(att) = ipam.map.get(id).cloned() else {
        return Ok(None);
    };
    if let Some((pid, start)) = att.slirp {
        slirp::stop(pid, start, &att.netns);
    } else {
        let host = netlink::Socket::open().map_err(io_err("netlink socket"))?;
        undo(&host, &att, true);
    }
    ipam.map.remove(id);
    ipam.save()?;
    Ok(Some(att.network))
}

/// Rootless: before a stopped container (or pod) starts, make its slirp4netns (or pasta)
/// network whole again when it is not: after its user namespace was renewed (`system
/// migrate`) or lost with the pause, the namespace file is no longer a mount here and the
/// helper is gone or serves the old namespace. The address and published ports stay those of the create.
pub fn reconnect(root: &Path, id: &str) -> Result<()> {
    let Some(att) = attachment(root, id) else {
        return Ok(());
    };
    let Some((pid, start)) = att.slirp else {
        return Ok(());
    };
    let running = pid > 0 && crate::runtime::process_start_time(pid) == Some(start);
    if running && is_namespace(&att.netns) {
        return Ok(());
    }
    let mut ipam = Ipam::open(root)?;
    slirp::stop(pid, start, &att.netns);
    let mut att = att;
    att.slirp = Some((0, 0));
    ipam.map.insert(id.to_string(), att.clone());
    ipam.save()?;
    let started = att.helper.start(&att)?;
    att.slirp = Some(started);
    ipam.map.insert(id.to_string(), att);
    ipam.save()
}

/// Rootless: end the slirp4netns of a container (or pod) that does not run and release its
/// namespace, keeping the attachment, which [`reconnect`] makes whole at the next start.
/// Used before the user namespace is renewed, which would leave them behind in the old one.
pub fn disconnect(root: &Path, id: &str) -> Result<()> {
    let mut ipam = Ipam::open(root)?;
    let Some(att) = ipam.map.get_mut(id) else {
        return Ok(());
    };
    let Some((pid, start)) = att.slirp else {
        return Ok(());
    };
    slirp::stop(pid, start, &att.netns);
    att.slirp = Some((0, 0));
    ipam.save()
}

/// Whether `path` is a network namespace file (a bind mount of one) in this mount namespace.
fn is_namespace(path: &Path) -> bool {
    const NSFS_MAGIC: u64 = 0x6e73_6673;
    rustix::fs::statfs(path).is_ok_and(|s| s.f_type as u64 == NSFS_MAGIC)
}

/// Containers with an attachment (to find leftovers of containers whose row is gone).
pub fn attached(root: &Path) -> Vec<String> {
    std::fs::read(root.join("network/ipam.json"))
        .ok()
        .and_then(|b| serde_json::from_slice::<BTreeMap<String, Attachment>>(&b).ok())
        .map(|m| m.into_keys().collect())
        .unwrap_or_default()
}

/// A container's attachment, if it has one (for inspect and `port`).
pub fn attachment(root: &Path, id: &str) -> Option<Attachment> {
    let b = std::fs::read(root.join("network/ipam.json")).ok()?;
    let mut m: BTreeMap<String, Attachment> = serde_json::from_slice(&b).ok()?;
    m.remove(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn publish_forms() {
        let p = parse_publish("8080:80").unwrap();
        assert_eq!(p[0].host_port, Some(8080));
        assert_eq!(p[0].container_port, 80);
        assert_eq!(p[0].proto, "tcp");
        let p = parse_publish("127.0.0.1:9000-9001:90-91/udp").unwrap();
        assert_eq!(p.len(), 2);
        assert_eq!(p[1].host_ip, Some(Ipv4Addr::LOCALHOST));
        assert_eq!(p[1].host_port, Some(9001));
        assert_eq!(p[1].container_port, 91);
        assert_eq!(p[1].proto, "udp");
        let p = parse_publish("127.0.0.1::80").unwrap();
        assert_eq!(p[0].host_port, None);
        assert_eq!(parse_publish("80").unwrap()[0].host_port, None);
        assert!(parse_publish("80/sctp").is_err());
        assert!(parse_publish("1-3:1-2").is_err());
        assert!(parse_publish("a:b:c:d").is_err());
        let m = PortMapping {
            host_ip: None,
            host_port: 8080,
            container_port: 80,
            proto: "tcp".into(),
        };
        assert_eq!(m.to_string(), "0.0.0.0:8080->80/tcp");
    }

    #[test]
    fn exposed_ports() {
        let cfg = serde_json::json!({"ExposedPorts": {"80/tcp": {}, "53/udp": {}}});
        let e = exposed(&cfg);
        assert_eq!(e.len(), 2);
    }
}
