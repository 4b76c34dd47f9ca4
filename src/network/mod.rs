//! Bridge networking (Docker's default `bridge` network) and published ports.
//!
//! Layout, as podman/netavark do it, but in-process:
//! - one host bridge `barge0` with 10.87.0.1/16, created on first use (not podman's
//!   10.88.0.0/16: podman's own bridge holds that subnet on many hosts, this one included,
//!   and two bridges routing one subnet break both);
//! - per container a network namespace bind-mounted on `<run>/netns/<id>`, the `path` of the
//!   spec's network namespace. `create` makes it before the container is spawned: a
//!   short-lived thread unshares CLONE_NEWNET and bind-mounts its
//!   `/proc/thread-self/ns/net`, and the runtime joins it with setns. A foreground `run`
//!   lets the container's clone make it and wires it while the container's init mounts its
//!   root ([`Pending::wire`], a runtime `Prestart`), so the veth's kernel work overlaps
//!   the init's instead of preceding the clone.
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
//! IPAM: `<root>/network/sandboxes/<id>.json` (a container's namespace and one attachment
//! per network it is on, eth0, eth1...), changed under an flock of `<root>/network/lock`. Addresses are picked at random in the /16 rather than in order
//! because several stores (`--root`) may share the host's one bridge and none knows the
//! others' allocations; random picks make collisions across stores improbable (and avoid
//! reusing a just-freed address that peers may still have in their ARP caches).
//!
//! Lifetime: the namespace and address live as long as the container record (created by
//! `create`/`run`, released by `rm`, by the end of a `--rm` run, or by the next barge
//! command's `reap_dead` after a kill -9), so `start` of a stopped container rejoins the
//! same namespace, and `connect`/`disconnect` work on a container in any state.

pub mod netlink;
pub mod pasta;
pub mod slirp;

use std::collections::BTreeMap;
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, TcpListener, UdpSocket};
use std::os::fd::{AsFd, AsRawFd};
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

/// A container's place on one network (an endpoint, in Docker's words).
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
    /// The host end of the veth pair.
    pub veth: String,
    /// The container end: `eth0` for the network it was created on, `eth1`... for the
    /// ones joined with `network connect`.
    #[serde(default = "eth0")]
    pub ifname: String,
    pub ports: Vec<PortMapping>,
    /// More names the peers know it by (`--network-alias`, `network connect --alias`).
    #[serde(default)]
    pub aliases: Vec<String>,
    /// The address was asked for (`--ip`), not picked.
    #[serde(default)]
    pub static_ip: bool,
    /// The network is `--internal`: no default route through it.
    #[serde(default)]
    pub internal: bool,
    /// On a network made with `--ipv6`: the container's IPv6 address and gateway.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip6: Option<Ipv6Addr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway6: Option<Ipv6Addr>,
    #[serde(default)]
    pub prefix6: u8,
    /// Rootless: the slirp4netns process (pid, start time) that connects the namespace.
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

    fn start(&self, netns: &Path, att: &Attachment) -> Result<(i32, u64)> {
        match self {
            Helper::Slirp4netns => slirp::start(netns, att),
            Helper::Pasta => pasta::start(netns, att),
        }
    }
}

impl Attachment {
    /// The container end's hardware address, derived from the IP address as Docker did
    /// (02:42 + the four bytes): an address handed to a new container comes with the same
    /// MAC, so entries the peers still have in their ARP caches stay right.
    pub fn mac(&self) -> [u8; 6] {
        let o = self.ip.octets();
        [0x02, 0x42, o[0], o[1], o[2], o[3]]
    }

    pub fn mac_string(&self) -> String {
        let m = self.mac();
        format!(
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            m[0], m[1], m[2], m[3], m[4], m[5]
        )
    }
}

fn default_network() -> String {
    "bridge".into()
}

fn eth0() -> String {
    "eth0".into()
}

/// A container's network namespace and its attachments in the order they were made. The
/// namespace lives as long as the container record, attached to no network or to several;
/// the first attachment that is not internal carries the default route.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Sandbox {
    pub netns: PathBuf,
    pub networks: Vec<Attachment>,
}

impl Sandbox {
    pub fn on(&self, network: &str) -> Option<&Attachment> {
        self.networks.iter().find(|a| a.network == network)
    }

    /// The attachment whose gateway is the default route.
    fn router(&self) -> Option<&Attachment> {
        self.networks.iter().find(|a| !a.internal)
    }
}

/// What a container asks of a network it joins.
#[derive(Clone, Debug, Default)]
pub struct Endpoint {
    /// `--ip`: this address rather than a free one.
    pub ip: Option<Ipv4Addr>,
    /// `--network-alias`.
    pub aliases: Vec<String>,
    /// Published ports (only where the container is created).
    pub ports: Vec<PortMapping>,
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
    /// `network create --internal`: no masquerade and no default route, so its
    /// containers reach each other and the host's address on the bridge, nothing else.
    #[serde(default)]
    pub internal: bool,
    /// `network create --ipv6`: an IPv6 subnet beside the IPv4 one (default: a /64 of a
    /// unique local fdXX:XXXX:XXXX::/48 made from the network's ID, as RFC 4193 asks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subnet6: Option<Ipv6Addr>,
    #[serde(default)]
    pub prefix6: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway6: Option<Ipv6Addr>,
}

impl NetworkDef {
    pub fn cidr(&self) -> String {
        format!("{}/{}", self.subnet, self.prefix)
    }

    pub fn cidr6(&self) -> Option<String> {
        self.subnet6.map(|s| format!("{s}/{}", self.prefix6))
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
        internal: false,
        subnet6: None,
        prefix6: 0,
        gateway6: None,
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

fn mask6(p: u8) -> u128 {
    if p == 0 {
        0
    } else {
        u128::MAX << (128 - u32::from(p))
    }
}

fn overlaps6(a: (Ipv6Addr, u8), b: (Ipv6Addr, u8)) -> bool {
    let m = mask6(a.1.min(b.1));
    u128::from(a.0) & m == u128::from(b.0) & m
}

fn parse_cidr6(s: &str) -> Result<(Ipv6Addr, u8)> {
    let bad = || {
        Error::InvalidArgument(format!(
            "invalid subnet {s:?}: expected an IPv6 CIDR like fd86:1:2:3::/64"
        ))
    };
    let (a, p) = s.split_once('/').ok_or_else(bad)?;
    let a: Ipv6Addr = a.parse().map_err(|_| bad())?;
    let p: u8 = p.parse().map_err(|_| bad())?;
    if !(48..=124).contains(&p) {
        return Err(bad());
    }
    Ok((Ipv6Addr::from(u128::from(a) & mask6(p)), p))
}

/// What `network create` was asked for.
#[derive(Clone, Debug, Default)]
pub struct CreateOptions {
    /// `--subnet`: one IPv4 and, with `ipv6`, one IPv6 CIDR.
    pub subnets: Vec<String>,
    /// `--gateway`: one per family at most.
    pub gateways: Vec<String>,
    pub internal: bool,
    pub ipv6: bool,
}

/// A route of the host that overlaps `c`, as `ip route` shows it. Routes through this
/// store's own bridges are left out (the check against its networks names those better);
/// another store's barge bridge counts, since two bridges routing one range break both.
fn host_route_overlap(root: &Path, c: (IpAddr, u8)) -> Option<String> {
    let sock = netlink::Socket::open().ok()?;
    let own: Vec<String> = networks(root).into_iter().map(|n| n.bridge).collect();
    let hit = |r: &netlink::Route| match (r.dst, c.0) {
        (IpAddr::V4(d), IpAddr::V4(n)) => overlaps((d, r.prefix), (n, c.1)),
        (IpAddr::V6(d), IpAddr::V6(n)) => overlaps6((d, r.prefix), (n, c.1)),
        _ => false,
    };
    sock.routes(c.0.is_ipv6()).ok()?.into_iter().find_map(|r| {
        if !hit(&r) {
            return None;
        }
        let dev = netlink::name(r.oif).unwrap_or_default();
        if own.contains(&dev) {
            return None;
        }
        Some(if dev.is_empty() {
            format!("{}/{}", r.dst, r.prefix)
        } else {
            format!("{}/{} dev {dev}", r.dst, r.prefix)
        })
    })
}

/// `network create`: a bridge of its own (made at the first container), a subnet given or
/// the first free 10.86.N.0/24. A subnet that overlaps another barge network or a route
/// the host already has is refused, as Docker does: the bridge would steal or lose that
/// traffic.
pub fn create(root: &Path, name: &str, opts: &CreateOptions) -> Result<NetworkDef> {
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
    let taken: Vec<NetworkDef> = networks(root);
    let (v6s, v4s): (Vec<&String>, Vec<&String>) =
        opts.subnets.iter().partition(|s| s.contains(':'));
    let (g6s, g4s): (Vec<&String>, Vec<&String>) =
        opts.gateways.iter().partition(|s| s.contains(':'));
    if v4s.len() > 1 || v6s.len() > 1 || g4s.len() > 1 || g6s.len() > 1 {
        return Err(Error::InvalidArgument(
            "at most one IPv4 and one IPv6 --subnet (and --gateway)".into(),
        ));
    }
    if (!v6s.is_empty() || !g6s.is_empty()) && !opts.ipv6 {
        return Err(Error::InvalidArgument(
            "an IPv6 --subnet or --gateway needs --ipv6".into(),
        ));
    }
    let (subnet, prefix) = match v4s.first() {
        Some(s) => {
            let c = parse_cidr(s)?;
            if let Some(t) = taken.iter().find(|t| overlaps((t.subnet, t.prefix), c)) {
                return Err(Error::Hinted {
                    msg: format!(
                        "subnet {s} overlaps network {} ({})",
                        t.name,
                        t.cidr()
                    ),
                    hint: "choose another --subnet (`barge network ls --format '{{.Name}} {{.Subnet}}'` lists the ones taken)".into(),
                });
            }
            if let Some(r) = host_route_overlap(root, (IpAddr::V4(c.0), c.1)) {
                return Err(Error::Hinted {
                    msg: format!("subnet {s} overlaps the host's route {r}"),
                    hint: "choose another --subnet (`ip route` lists the host's routes)".into(),
                });
            }
            c
        }
        None => {
            if !g4s.is_empty() {
                return Err(Error::InvalidArgument("--gateway needs --subnet".into()));
            }
            (0..=255u8)
                .map(|n| (Ipv4Addr::new(10, 86, n, 0), 24))
                .filter(|c| !taken.iter().any(|t| overlaps((t.subnet, t.prefix), *c)))
                .find(|c| host_route_overlap(root, (IpAddr::V4(c.0), c.1)).is_none())
                .ok_or_else(|| Error::Hinted {
                    msg: "no free subnet in 10.86.0.0/16".into(),
                    hint: "give one with --subnet".into(),
                })?
        }
    };
    let size = 1u32 << (32 - prefix);
    let gateway = match g4s.first() {
        None => Ipv4Addr::from(u32::from(subnet) + 1),
        Some(g) => {
            let ip: Ipv4Addr = g.parse().map_err(|_| {
                Error::InvalidArgument(format!("invalid --gateway {g:?}: not an IPv4 address"))
            })?;
            let host = u32::from(ip).wrapping_sub(u32::from(subnet));
            if host == 0 || host >= size - 1 {
                return Err(Error::InvalidArgument(format!(
                    "--gateway {ip} is not a host address of subnet {subnet}/{prefix}"
                )));
            }
            ip
        }
    };
    let id = crate::container::new_id();
    let (subnet6, prefix6, gateway6) = if opts.ipv6 {
        let (s6, p6) = match v6s.first() {
            Some(s) => parse_cidr6(s)?,
            None => {
                // RFC 4193: fd + a 40-bit global ID (here from the random network ID),
                // subnet 0.
                let mut b = [0u8; 16];
                b[0] = 0xfd;
                hex::decode_to_slice(&id[..10], &mut b[1..6]).expect("hex id");
                (Ipv6Addr::from(b), 64)
            }
        };
        let shown = format!("{s6}/{p6}");
        if let Some(t) = taken.iter().find(|t| {
            t.subnet6
                .is_some_and(|o| overlaps6((o, t.prefix6), (s6, p6)))
        }) {
            return Err(Error::Hinted {
                msg: format!("subnet {shown} overlaps network {}", t.name),
                hint: "choose another IPv6 --subnet".into(),
            });
        }
        if let Some(r) = host_route_overlap(root, (IpAddr::V6(s6), p6)) {
            return Err(Error::Hinted {
                msg: format!("subnet {shown} overlaps the host's route {r}"),
                hint: "choose another IPv6 --subnet (`ip -6 route` lists the host's routes)".into(),
            });
        }
        let g6 = match g6s.first() {
            None => Ipv6Addr::from(u128::from(s6) + 1),
            Some(g) => {
                let ip: Ipv6Addr = g.parse().map_err(|_| {
                    Error::InvalidArgument(format!("invalid --gateway {g:?}: not an IP address"))
                })?;
                if u128::from(ip) & mask6(p6) != u128::from(s6) || ip == s6 {
                    return Err(Error::InvalidArgument(format!(
                        "--gateway {ip} is not a host address of subnet {shown}"
                    )));
                }
                ip
            }
        };
        (Some(s6), p6, Some(g6))
    } else {
        (None, 0, None)
    };
    let def = NetworkDef {
        name: name.into(),
        bridge: format!("barge-{}", &id[..9]),
        id,
        subnet,
        prefix,
        gateway,
        created: chrono::Utc::now().timestamp(),
        internal: opts.internal,
        subnet6,
        prefix6,
        gateway6,
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
    let def = lookup(root, key).ok_or_else(|| Error::NoSuchNetwork(key.into()))?;
    if def.builtin() {
        return Err(Error::Conflict(format!(
            "{} is a pre-defined network and cannot be removed",
            def.name
        )));
    }
    let ipam = Ipam::open(root)?;
    if ipam.map.values().any(|sb| sb.on(&def.name).is_some()) {
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
            "delete element ip barge isolated {{ \"{0}\" }}\ndelete element ip barge same {{ \"{0}\" . \"{0}\" }}\n",
            def.bridge
        ));
        if !def.internal {
            let _ = nft(&format!(
                "delete element ip barge masq {{ {} }}\n",
                def.cidr()
            ));
            if let Some(c6) = def.cidr6() {
                let _ = nft(&format!("delete element ip6 barge masq6 {{ {c6} }}\n"));
            }
        }
    }
    Ok(def.name)
}

/// Where a store keeps its sandboxes, under `<root>/network`.
const SANDBOXES: &str = "sandboxes";

/// Every container's sandbox, read without the lock (each file is replaced whole).
pub fn sandboxes(root: &Path) -> BTreeMap<String, Sandbox> {
    let net = root.join("network");
    let mut map = read_sandboxes(&net.join(SANDBOXES));
    // A store not yet opened by this version: its sandboxes are all in ipam.json.
    merge_legacy(&net, &mut map);
    map
}

/// Adds the sandboxes of `net`'s ipam.json (where sandboxes were before they had a file
/// each) that `map` lacks; true when there is such a file.
fn merge_legacy(net: &Path, map: &mut BTreeMap<String, Sandbox>) -> bool {
    let Ok(b) = std::fs::read(net.join("ipam.json")) else {
        return false;
    };
    for (id, sb) in parse_ipam(&b) {
        map.entry(id).or_insert(sb);
    }
    true
}

fn read_sandboxes(dir: &Path) -> BTreeMap<String, Sandbox> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return BTreeMap::new();
    };
    entries
        .flatten()
        .filter_map(|e| {
            let name = e.file_name();
            let id = name.to_str()?.strip_suffix(".json")?.to_string();
            let sb = serde_json::from_slice(&std::fs::read(e.path()).ok()?).ok()?;
            Some((id, sb))
        })
        .collect()
}

/// ipam.json: container id -> sandbox. Before containers could join several networks an
/// entry was one attachment with the namespace in it; such entries are read as a sandbox
/// with one network.
fn parse_ipam(b: &[u8]) -> BTreeMap<String, Sandbox> {
    let raw: BTreeMap<String, serde_json::Value> = serde_json::from_slice(b).unwrap_or_default();
    raw.into_iter()
        .filter_map(|(id, v)| {
            if v.get("networks").is_some() {
                return serde_json::from_value(v).ok().map(|sb| (id, sb));
            }
            let netns = serde_json::from_value(v.get("netns")?.clone()).ok()?;
            let att: Attachment = serde_json::from_value(v).ok()?;
            Some((
                id,
                Sandbox {
                    netns,
                    networks: vec![att],
                },
            ))
        })
        .collect()
}

/// The attachments on one network (for `network inspect` and the peers' /etc/hosts).
pub fn attachments_on(root: &Path, network: &str) -> Vec<(String, Attachment)> {
    sandboxes(root)
        .into_iter()
        .filter_map(|(id, sb)| sb.on(network).cloned().map(|a| (id, a)))
        .collect()
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

/// The host end of a container's `n`th interface (eth`n`).
fn veth_name(id: &str, n: u32) -> String {
    // IFNAMSIZ is 16 with the NUL: "veth" + 11 hex digits for eth0, "veth" + 8 + "-N" for
    // the others ('-' is not a hex digit, so the two forms never collide).
    if n == 0 {
        format!("veth{}", &id[..11.min(id.len())])
    } else {
        format!("veth{}-{n}", &id[..8.min(id.len())])
    }
}

fn io_err(what: impl std::fmt::Display) -> impl FnOnce(std::io::Error) -> Error {
    move |e| Error::Other(format!("network: {what}: {e}"))
}

/// An exclusive flock on a file, released on drop.
/// The file is kept open only to hold the lock.
pub struct Lock(#[allow(dead_code)] std::fs::File);

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

/// The sandboxes of a store, one file each (`<root>/network/sandboxes/<id>.json`), read
/// whole and changed under the lock. One file per container rather than one for all: a run
/// then writes a new file and deletes it, where rewriting a shared file replaces it (ext4
/// allocates the replaced file's block at once, `auto_da_alloc`, and freeing it costs a
/// discard on a disk mounted with `discard`: two per run).
struct Ipam {
    dir: PathBuf,
    map: BTreeMap<String, Sandbox>,
    /// What the files held when read (or last saved): `save` writes only the changes.
    saved: BTreeMap<String, Vec<u8>>,
    _lock: Lock,
}

impl Ipam {
    fn open(root: &Path) -> Result<Ipam> {
        let net = root.join("network");
        let lock = Lock::take(&net.join("lock"))?;
        let dir = net.join(SANDBOXES);
        let mut ipam = Ipam {
            map: read_sandboxes(&dir),
            saved: BTreeMap::new(),
            dir,
            _lock: lock,
        };
        ipam.saved = ipam.serialized();
        // Before sandboxes had a file each they shared ipam.json: moved over once.
        if merge_legacy(&net, &mut ipam.map) {
            ipam.save()?;
            let legacy = net.join("ipam.json");
            std::fs::remove_file(&legacy).map_err(io_err(legacy.display()))?;
        }
        Ok(ipam)
    }

    fn serialized(&self) -> BTreeMap<String, Vec<u8>> {
        self.map
            .iter()
            .map(|(id, sb)| (id.clone(), serde_json::to_vec(sb).expect("serializable")))
            .collect()
    }

    fn save(&mut self) -> Result<()> {
        let now = self.serialized();
        std::fs::create_dir_all(&self.dir).map_err(io_err(self.dir.display()))?;
        for (id, text) in &now {
            if self.saved.get(id) == Some(text) {
                continue;
            }
            // temp + rename: a reader (or a crash) never sees half a file.
            let tmp = self.dir.join(format!("{id}.tmp"));
            let path = self.dir.join(format!("{id}.json"));
            std::fs::write(&tmp, text).map_err(io_err(tmp.display()))?;
            std::fs::rename(&tmp, &path).map_err(io_err(path.display()))?;
        }
        for id in self.saved.keys().filter(|id| !now.contains_key(*id)) {
            let path = self.dir.join(format!("{id}.json"));
            match std::fs::remove_file(&path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(io_err(path.display())(e));
                }
                _ => {}
            }
        }
        self.saved = now;
        Ok(())
    }

    fn attachments(&self) -> impl Iterator<Item = &Attachment> {
        self.map.values().flat_map(|sb| &sb.networks)
    }

    /// An address on `net`: the one asked for, checked, or a free one picked at random.
    fn take(&self, net: &NetworkDef, want: Option<Ipv4Addr>) -> Result<Ipv4Addr> {
        let used: std::collections::HashSet<Ipv4Addr> = self
            .attachments()
            .filter(|a| a.network == net.name)
            .map(|a| a.ip)
            .collect();
        let base = u32::from(net.subnet);
        let size = 1u32 << (32 - net.prefix);
        if let Some(ip) = want {
            let host = u32::from(ip).wrapping_sub(base);
            if host >= size {
                return Err(Error::Hinted {
                    msg: format!(
                        "address {ip} is not in network {}'s subnet {}",
                        net.name,
                        net.cidr()
                    ),
                    hint: format!("give an --ip in {}", net.cidr()),
                });
            }
            if host == 0 || host == size - 1 {
                return Err(Error::InvalidArgument(format!(
                    "address {ip} is the network or broadcast address of {}",
                    net.cidr()
                )));
            }
            if ip == net.gateway {
                return Err(Error::Conflict(format!(
                    "address {ip} is network {}'s gateway",
                    net.name
                )));
            }
            if used.contains(&ip) {
                return Err(Error::Conflict(format!(
                    "address {ip} is already in use on network {}",
                    net.name
                )));
            }
            return Ok(ip);
        }
        for _ in 0..1000 {
            let mut b = [0u8; 4];
            let _ = rustix::rand::getrandom(&mut b, rustix::rand::GetRandomFlags::empty());
            let host = u32::from_ne_bytes(b) % size;
            // Not the network or the broadcast address, nor the gateway.
            if host == 0 || host == size - 1 {
                continue;
            }
            let ip = Ipv4Addr::from(base + host);
            if ip != net.gateway && !used.contains(&ip) {
                return Ok(ip);
            }
        }
        Err(Error::Other(format!(
            "network: no free address in {}",
            net.cidr()
        )))
    }

    /// An IPv6 address on `net`, when it has an IPv6 subnet: a random free one.
    fn take6(&self, net: &NetworkDef) -> Result<Option<Ipv6Addr>> {
        let (Some(s6), Some(g6)) = (net.subnet6, net.gateway6) else {
            return Ok(None);
        };
        let used: std::collections::HashSet<Ipv6Addr> = self
            .attachments()
            .filter(|a| a.network == net.name)
            .filter_map(|a| a.ip6)
            .collect();
        let host_bits = !mask6(net.prefix6);
        for _ in 0..1000 {
            let mut b = [0u8; 16];
            let _ = rustix::rand::getrandom(&mut b, rustix::rand::GetRandomFlags::empty());
            let host = u128::from_ne_bytes(b) & host_bits;
            // Not the subnet-router anycast address (host part 0).
            if host == 0 {
                continue;
            }
            let ip = Ipv6Addr::from(u128::from(s6) | host);
            if ip != g6 && !used.contains(&ip) {
                return Ok(Some(ip));
            }
        }
        Err(Error::Other(format!(
            "network: no free IPv6 address in {}",
            net.cidr6().unwrap_or_default()
        )))
    }

    /// Refuse ports that another container publishes already.
    fn check_ports(&self, ports: &[PortMapping]) -> Result<()> {
        // A port published through DNAT is not bound on the host, so resolve_ports' bind
        // check cannot see the other containers' ports: they are compared here, under the
        // lock.
        for p in ports {
            let clash = self.attachments().flat_map(|a| &a.ports).any(|q| {
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
        Ok(())
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

/// Networks are isolated from each other, as Docker's DOCKER-ISOLATION chains do it: the
/// host does not route between two barge bridges (a container on two networks reaches
/// both through its own interfaces). The chain is declared apart from `ruleset()`, and its
/// one rule replaced (flush + add) whenever a bridge is made, so tables made by an older
/// barge get it too. Published ports stay reachable from every network (connections that
/// were DNATed pass: Docker drops them, moby#38784, which users report as a bug). Only
/// bridges listed in `isolated` are matched, each paired with
/// itself in `same`: with br_netfilter loaded, traffic inside one bridge passes the
/// forward hook too and must stay allowed, and a bridge that an older barge made (listed
/// nowhere) is left alone rather than cut off.
fn isolate(bridge: &str) -> String {
    format!(
        "table ip barge {{
  set isolated {{ type ifname; }}
  set same {{ type ifname . ifname; }}
  chain forward {{ type filter hook forward priority filter; policy accept; }}
}}
flush chain ip barge forward
add rule ip barge forward ct status dnat accept
add rule ip barge forward iifname @isolated oifname @isolated iifname . oifname != @same drop
add element ip barge isolated {{ \"{bridge}\", \"{BRIDGE}\" }}
add element ip barge same {{ \"{bridge}\" . \"{bridge}\", \"{BRIDGE}\" . \"{BRIDGE}\" }}
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
        nft(&(ruleset() + &isolate(br))).map_err(nft_err)?;
    } else if net.internal {
        nft(&isolate(br)).map_err(nft_err)?;
    } else {
        let mut add = format!("add element ip barge masq {{ {} }}\n", net.cidr());
        add += &isolate(br);
        if let Some(c6) = net.cidr6() {
            // The ip6 table, made (or its rule replaced: flush + add is idempotent) by the
            // first IPv6 network, in the same transaction as the element.
            add += &format!(
                "table ip6 barge {{
  set masq6 {{ type ipv6_addr; flags interval; }}
  chain postrouting {{ type nat hook postrouting priority srcnat; policy accept; }}
}}
flush chain ip6 barge postrouting
add rule ip6 barge postrouting ip6 saddr @masq6 ip6 daddr != @masq6 masquerade
add element ip6 barge masq6 {{ {c6} }}
"
            );
        }
        nft(&add).map_err(nft_err)?;
    }
    match host.add_bridge(br) {
        Ok(()) => {}
        Err(e) if e.raw_os_error() == Some(libc::EEXIST) => {}
        Err(e) => return Err(io_err(format!("create bridge {br}"))(e)),
    }
    let i = netlink::index(br).map_err(io_err(br))?;
    let mut addrs = vec![(IpAddr::V4(net.gateway), net.prefix)];
    if let Some(g6) = net.gateway6 {
        addrs.push((IpAddr::V6(g6), net.prefix6));
    }
    for (a, p) in addrs {
        match host.add_addr(i, a, p) {
            Ok(()) => {}
            Err(e) if e.raw_os_error() == Some(libc::EEXIST) => {}
            Err(e) => return Err(io_err(format!("address {a} of {br}"))(e)),
        }
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

fn publish(att: &Attachment) -> Result<()> {
    if att.ports.is_empty() {
        return Ok(());
    }
    nft(&nft_elements(&att.ports, att.ip, true)).map_err(|e| {
        let ports: Vec<String> = att.ports.iter().map(|p| p.host()).collect();
        Error::Conflict(format!(
            "cannot publish {}: already published by another container? ({e})",
            ports.join(", ")
        ))
    })
}

fn new_attachment(
    id: &str,
    name: &str,
    net: &NetworkDef,
    n: u32,
    ip: Ipv4Addr,
    ip6: Option<Ipv6Addr>,
    ep: Endpoint,
) -> Attachment {
    Attachment {
        network: net.name.clone(),
        name: name.into(),
        ip,
        gateway: net.gateway,
        prefix: net.prefix,
        veth: veth_name(id, n),
        ifname: format!("eth{n}"),
        ports: ep.ports,
        aliases: ep.aliases,
        static_ip: ep.ip.is_some(),
        internal: net.internal,
        ip6,
        gateway6: net.gateway6,
        prefix6: net.prefix6,
        slirp: None,
        helper: Helper::default(),
    }
}

/// Make the container's network namespace, wire it to `net` (eth0) and publish its ports.
pub fn attach(
    root: &Path,
    run: &Path,
    id: &str,
    name: &str,
    net: &NetworkDef,
    ep: Endpoint,
    helper: Helper,
) -> Result<Attachment> {
    match reserve(root, run, id, name, net, ep, helper)? {
        Reserved::Wired(att) => Ok(att),
        Reserved::Pending(p) => p.wire_new(root),
    }
}

/// An attachment reserved by [`reserve`].
pub enum Reserved {
    /// Whole: rootless slirp4netns/pasta networks are connected at once.
    Wired(Attachment),
    /// Address, veth name and namespace path recorded, nothing made yet: see [`Pending`].
    Pending(Pending),
}

impl Reserved {
    pub fn attachment(&self) -> &Attachment {
        match self {
            Reserved::Wired(a) => a,
            Reserved::Pending(p) => &p.att,
        }
    }
}

/// A bridge attachment with its address taken and recorded in the IPAM (with the
/// namespace path, so whatever a crash leaves half-made is found and undone by `detach`),
/// but no namespace or veth yet. `create` wires it into a namespace of its own
/// ([`Pending::wire_new`]); a foreground `run` wires it into the namespace its container's
/// clone made ([`Pending::wire`]), while the container's init prepares its root: the 2-3 ms
/// of kernel work for the veth and its addresses then overlap the init's mounts instead of
/// preceding the clone.
pub struct Pending {
    id: String,
    bridge: u32,
    netns: PathBuf,
    att: Attachment,
}

/// Reserve `id`'s place on `net`: the bridge made if missing, ports checked, an address
/// taken and recorded. Rootless networks are wired at once.
pub fn reserve(
    root: &Path,
    run: &Path,
    id: &str,
    name: &str,
    net: &NetworkDef,
    ep: Endpoint,
    helper: Helper,
) -> Result<Reserved> {
    if crate::config::is_rootless() {
        return attach_rootless(root, run, id, name, net, ep, helper).map(Reserved::Wired);
    }
    let host = netlink::Socket::open().map_err(io_err("netlink socket"))?;
    let bridge = ensure_bridge(&host, net)?;
    let mut ipam = Ipam::open(root)?;
    ipam.check_ports(&ep.ports)?;
    let ip = ipam.take(net, ep.ip)?;
    let ip6 = ipam.take6(net)?;
    let att = new_attachment(id, name, net, 0, ip, ip6, ep);
    let netns = netns_path(run, id);
    let sb = Sandbox {
        netns: netns.clone(),
        networks: vec![att.clone()],
    };
    ipam.map.insert(id.to_string(), sb);
    ipam.save()?;
    Ok(Reserved::Pending(Pending {
        id: id.to_string(),
        bridge,
        netns,
        att,
    }))
}

impl Pending {
    pub fn attachment(&self) -> &Attachment {
        &self.att
    }

    /// Make the namespace (on a short-lived thread that unshares it and bind-mounts it at
    /// the recorded path) and wire it. On failure the reservation is released.
    pub fn wire_new(self, root: &Path) -> Result<Attachment> {
        let made = std::thread::scope(|s| {
            s.spawn(|| enter_new_netns(&self.netns).map(drop))
                .join()
                .unwrap_or_else(|_| Err(Error::Other("network: setup thread panicked".into())))
        });
        if let Err(e) = made.and_then(|()| self.connect()) {
            self.undo();
            let mut ipam = Ipam::open(root)?;
            ipam.map.remove(&self.id);
            let _ = ipam.save();
            return Err(e);
        }
        Ok(self.att)
    }

    /// Wire the new network namespace of process `pid` (a container's init, just cloned
    /// with it; root only): bind-mount it at the recorded path, then veth, addresses, route
    /// and ports. `lo` is the init's to bring up. On failure what was made is undone but the
    /// address stays reserved: the container keeps its record, and its next start makes
    /// the namespace again (`restore`).
    pub fn wire(self, pid: i32) -> Result<Attachment> {
        let source = format!("/proc/{pid}/ns/net");
        let made = make_netns_file(&self.netns).and_then(|()| {
            rustix::mount::mount_bind(source.as_str(), &self.netns)
                .map_err(|e| io_err(format!("bind mount {}", self.netns.display()))(e.into()))
        });
        if let Err(e) = made.and_then(|()| self.connect()) {
            self.undo();
            return Err(e);
        }
        Ok(self.att)
    }

    /// The namespace is mounted at `netns`: the veth pair into it, the address and route
    /// inside, the published ports.
    fn connect(&self) -> Result<()> {
        let host = netlink::Socket::open().map_err(io_err("netlink socket"))?;
        let a = &self.att;
        let ns = std::fs::File::open(&self.netns).map_err(io_err(self.netns.display()))?;
        host.add_veth(&a.veth, self.bridge, &a.ifname, a.mac(), ns.as_raw_fd())
            .map_err(io_err(format!("create veth {}", a.veth)))?;
        // On this thread, not on one of its own as `in_netns` does: `run` calls this while
        // the container's init runs on the other CPU, and a new thread is placed on the CPU
        // that is busy (measured: the init then waits 0.3 ms and the setup takes twice as
        // long).
        let own = std::fs::File::open("/proc/thread-self/ns/net")
            .map_err(io_err("/proc/thread-self/ns/net"))?;
        let join = |f: &std::fs::File| {
            rustix::thread::move_into_link_name_space(
                f.as_fd(),
                Some(rustix::thread::LinkNameSpaceType::Network),
            )
        };
        join(&ns).map_err(|e| io_err(format!("join {}", self.netns.display()))(e.into()))?;
        let r = netlink::Socket::open()
            .map_err(io_err("netlink socket"))
            .and_then(|inner| address(&inner, a, !a.internal));
        // Back to the host's namespace before anything else runs (nft below, the caller's
        // own work); failing that, barge cannot go on.
        join(&own).map_err(|e| io_err("return to barge's network namespace")(e.into()))?;
        r?;
        publish(a)
    }

    fn undo(&self) {
        if let Ok(host) = netlink::Socket::open() {
            let sb = Sandbox {
                netns: self.netns.clone(),
                networks: vec![self.att.clone()],
            };
            undo(&host, &sb, false);
        }
    }
}

/// Make a new network namespace, bind-mounted at `netns`, with `lo` up, and move the
/// calling thread into it (a short-lived thread of its own: setns and unshare of a network
/// namespace change only the calling thread). Returns a netlink socket inside.
fn enter_new_netns(netns: &Path) -> Result<netlink::Socket> {
    make_netns_file(netns)?;
    // SAFETY: CLONE_NEWNET changes only this thread's network namespace, which no other
    // thread relies on; the caller's thread ends once the namespace is configured.
    unsafe { rustix::thread::unshare_unsafe(rustix::thread::UnshareFlags::NEWNET) }
        .map_err(|e| io_err("unshare network namespace")(e.into()))?;
    rustix::mount::mount_bind("/proc/thread-self/ns/net", netns)
        .map_err(|e| io_err(format!("bind mount {}", netns.display()))(e.into()))?;
    let inner = netlink::Socket::open().map_err(io_err("netlink socket"))?;
    inner.set_up(1).map_err(io_err("set lo up"))?;
    Ok(inner)
}

/// The empty file a network namespace is bind-mounted on.
fn make_netns_file(netns: &Path) -> Result<()> {
    if let Some(d) = netns.parent() {
        std::fs::create_dir_all(d).map_err(io_err(d.display()))?;
    }
    std::fs::File::create(netns).map_err(io_err(netns.display()))?;
    Ok(())
}

/// Rootless: the default network is slirp4netns (see `slirp`); user networks need a
/// bridge, which only root can make.
fn attach_rootless(
    root: &Path,
    run: &Path,
    id: &str,
    name: &str,
    net: &NetworkDef,
    ep: Endpoint,
    helper: Helper,
) -> Result<Attachment> {
    if !net.builtin() {
        return Err(Error::Hinted {
            msg: format!(
                "network {}: user networks need root (a host bridge)",
                net.name
            ),
            hint: "rootless containers use the default network (slirp4netns), none or host".into(),
        });
    }
    if ep.ip.is_some() || !ep.aliases.is_empty() {
        return Err(Error::InvalidArgument(
            "--ip and --network-alias need a user network, which rootless barge cannot make".into(),
        ));
    }
    let mut ipam = Ipam::open(root)?;
    ipam.check_ports(&ep.ports)?;
    let mut att = new_attachment(id, name, net, 0, slirp::ADDRESS, None, ep);
    att.gateway = slirp::GATEWAY;
    att.prefix = 24;
    att.veth = "tap0".into();
    att.ifname = "tap0".into();
    // Recorded before it runs, so that `detach` after a crash releases the namespace.
    att.slirp = Some((0, 0));
    att.helper = helper;
    let mut sb = Sandbox {
        netns: netns_path(run, id),
        networks: vec![att.clone()],
    };
    ipam.map.insert(id.to_string(), sb.clone());
    ipam.save()?;
    match helper.start(&sb.netns, &att) {
        Ok(p) => {
            att.slirp = Some(p);
            sb.networks = vec![att.clone()];
            ipam.map.insert(id.to_string(), sb);
            ipam.save()?;
            Ok(att)
        }
        Err(e) => {
            slirp::stop(0, 0, &sb.netns);
            ipam.map.remove(id);
            let _ = ipam.save();
            Err(e)
        }
    }
}

/// Inside the container's namespace: bring the interface up with its address, and the
/// default route through its gateway when it is the one that routes.
fn address(inner: &netlink::Socket, att: &Attachment, route: bool) -> Result<()> {
    let i = netlink::index(&att.ifname).map_err(io_err(&att.ifname))?;
    if att.ip6.is_none() {
        // Docker's way on an IPv4-only network: no IPv6 on the interface (lo keeps ::1).
        // It also spares every start the kernel's work for a link-local address: its
        // duplicate-address detection, multicast joins and router solicitations.
        let p = format!("/proc/sys/net/ipv6/conf/{}/disable_ipv6", att.ifname);
        match std::fs::write(&p, "1") {
            // A kernel without IPv6.
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io_err(&p)(e)),
            _ => {}
        }
    }
    inner
        .set_up(i)
        .map_err(io_err(format!("set {} up", att.ifname)))?;
    inner
        .add_addr(i, IpAddr::V4(att.ip), att.prefix)
        .map_err(io_err(format!("address {}", att.ip)))?;
    if let Some(ip6) = att.ip6 {
        inner
            .add_addr(i, IpAddr::V6(ip6), att.prefix6)
            .map_err(io_err(format!("address {ip6}")))?;
    }
    if route {
        default_route(inner, att)?;
    }
    Ok(())
}

fn default_route(inner: &netlink::Socket, att: &Attachment) -> Result<()> {
    let i = netlink::index(&att.ifname).map_err(io_err(&att.ifname))?;
    let mut gateways = vec![IpAddr::V4(att.gateway)];
    gateways.extend(att.gateway6.map(IpAddr::V6));
    for g in gateways {
        inner
            .add_default_route(g, i)
            .map_err(io_err(format!("default route via {g}")))?;
    }
    Ok(())
}

/// Run `f` on a short-lived thread that has joined the namespace `netns`, with a netlink
/// socket opened there. setns(CLONE_NEWNET) changes only the calling thread, so barge's own
/// threads keep the host's namespace.
fn in_netns<T: Send>(
    netns: &Path,
    f: impl FnOnce(&netlink::Socket) -> Result<T> + Send,
) -> Result<T> {
    let ns = std::fs::File::open(netns).map_err(io_err(netns.display()))?;
    std::thread::scope(|s| {
        s.spawn(|| {
            rustix::thread::move_into_link_name_space(
                ns.as_fd(),
                Some(rustix::thread::LinkNameSpaceType::Network),
            )
            .map_err(|e| io_err(format!("join {}", netns.display()))(e.into()))?;
            let inner = netlink::Socket::open().map_err(io_err("netlink socket"))?;
            f(&inner)
        })
        .join()
        .unwrap_or_else(|_| Err(Error::Other("network: setup thread panicked".into())))
    })
}

/// True when `p` is a mounted network namespace (not a missing or plain file: /run is a
/// tmpfs, so a reboot leaves the IPAM with namespaces that are gone).
fn is_netns(p: &Path) -> bool {
    const NSFS_MAGIC: i64 = 0x6e73_6673;
    std::fs::File::open(p)
        .ok()
        .and_then(|f| rustix::fs::fstatfs(&f).ok())
        // f_type is i64 here, a narrower integer on some other architectures.
        .is_some_and(|st| {
            #[allow(clippy::unnecessary_cast)]
            let t = st.f_type as i64;
            t == NSFS_MAGIC
        })
}

/// Before a container starts: when its namespace is gone (a reboot emptied /run), make it
/// again with the same interfaces, addresses, routes and published ports, so a stopped
/// container starts after a reboot as it did before. A no-op (one statfs) otherwise. A
/// rootless sandbox is connected by slirp4netns/pasta rather than veths: [`reconnect`]'s
/// work.
pub fn restore(root: &Path, id: &str) -> Result<()> {
    let Some(sb) = sandbox(root, id) else {
        return Ok(());
    };
    if sb.networks.first().is_some_and(|a| a.slirp.is_some()) {
        return reconnect_sandbox(root, id, sb);
    }
    if is_netns(&sb.netns) {
        return Ok(());
    }
    let host = netlink::Socket::open().map_err(io_err("netlink socket"))?;
    let mut bridges = Vec::new();
    for a in &sb.networks {
        let net =
            lookup(root, &a.network).ok_or_else(|| Error::NoSuchNetwork(a.network.clone()))?;
        bridges.push(ensure_bridge(&host, &net)?);
    }
    let _ipam = Ipam::open(root)?;
    if is_netns(&sb.netns) {
        // Another start made it meanwhile.
        return Ok(());
    }
    let _ = rustix::mount::unmount(&sb.netns, rustix::mount::UnmountFlags::DETACH);
    for a in &sb.networks {
        let _ = host.del_link(&a.veth);
    }
    let router = sb.router().map(|a| a.network.clone());
    std::thread::scope(|s| {
        s.spawn(|| {
            let inner = enter_new_netns(&sb.netns)?;
            let ns = std::fs::File::open(&sb.netns).map_err(io_err(sb.netns.display()))?;
            for (a, bridge) in sb.networks.iter().zip(&bridges) {
                host.add_veth(&a.veth, *bridge, &a.ifname, a.mac(), ns.as_raw_fd())
                    .map_err(io_err(format!("create veth {}", a.veth)))?;
                address(&inner, a, router.as_deref() == Some(a.network.as_str()))?;
            }
            Ok::<(), Error>(())
        })
        .join()
        .unwrap_or_else(|_| Err(Error::Other("network: setup thread panicked".into())))
    })?;
    for a in &sb.networks {
        if !a.ports.is_empty() {
            // The elements may still be there (only the namespace went): replace them.
            let _ = nft(&nft_elements(&a.ports, a.ip, false));
            publish(a)?;
        }
    }
    Ok(())
}

/// `network connect`: join one more network, as the container's next interface (eth1,
/// eth2...). Works in any state, since the namespace lives as long as the container: a
/// created or stopped container finds the interface there when it starts.
pub fn connect(
    root: &Path,
    id: &str,
    name: &str,
    net: &NetworkDef,
    ep: Endpoint,
) -> Result<Attachment> {
    let host = netlink::Socket::open().map_err(io_err("netlink socket"))?;
    let bridge = ensure_bridge(&host, net)?;
    let mut ipam = Ipam::open(root)?;
    let Some(sb) = ipam.map.get(id).cloned() else {
        return Err(Error::Conflict(format!(
            "container {name} has no network namespace of its own (network mode none, host or container:): it cannot join networks"
        )));
    };
    if sb.on(&net.name).is_some() {
        return Err(Error::Conflict(format!(
            "container {name} is already connected to network {}",
            net.name
        )));
    }
    let n = (0..)
        .find(|n| !sb.networks.iter().any(|a| a.ifname == format!("eth{n}")))
        .unwrap_or(0);
    let ip = ipam.take(net, ep.ip)?;
    let ip6 = ipam.take6(net)?;
    let att = new_attachment(id, name, net, n, ip, ip6, ep);
    // Only a network with a way out routes, and only when no other one does already.
    let route = !att.internal && sb.router().is_none();
    let mut recorded = sb.clone();
    recorded.networks.push(att.clone());
    ipam.map.insert(id.to_string(), recorded);
    ipam.save()?;
    let made = std::fs::File::open(&sb.netns)
        .map_err(io_err(sb.netns.display()))
        .and_then(|ns| {
            host.add_veth(&att.veth, bridge, &att.ifname, att.mac(), ns.as_raw_fd())
                .map_err(io_err(format!("create veth {}", att.veth)))
        })
        .and_then(|()| in_netns(&sb.netns, |inner| address(inner, &att, route)));
    if let Err(e) = made {
        let _ = host.del_link(&att.veth);
        ipam.map.insert(id.to_string(), sb);
        let _ = ipam.save();
        return Err(e);
    }
    Ok(att)
}

/// `network disconnect`: leave one network. Its interface goes (with its published ports);
/// when it carried the default route, the next network with a way out takes it over.
/// `force` goes on past links that are already gone.
pub fn disconnect(root: &Path, id: &str, name: &str, network: &str, force: bool) -> Result<()> {
    let mut ipam = Ipam::open(root)?;
    let Some(mut sb) = ipam.map.get(id).cloned() else {
        return Err(Error::Conflict(format!(
            "container {name} is not connected to network {network}"
        )));
    };
    let Some(pos) = sb.networks.iter().position(|a| a.network == network) else {
        return Err(Error::Conflict(format!(
            "container {name} is not connected to network {network}"
        )));
    };
    let was_router = sb.router().map(|a| a.network.as_str()) == Some(network);
    let att = sb.networks.remove(pos);
    let host = netlink::Socket::open().map_err(io_err("netlink socket"))?;
    // Synchronous (unlike the end of a container, see `undo`): the name eth<N> must be free
    // for the next connect.
    match host.del_link(&att.veth) {
        Ok(()) => {}
        Err(e) if e.raw_os_error() == Some(libc::ENODEV) || force => {}
        Err(e) => return Err(io_err(format!("delete {}", att.veth))(e)),
    }
    if !att.ports.is_empty() {
        let _ = nft(&nft_elements(&att.ports, att.ip, false));
    }
    ipam.map.insert(id.to_string(), sb.clone());
    ipam.save()?;
    if was_router && let Some(next) = sb.router().cloned() {
        let routed = in_netns(&sb.netns, |inner| default_route(inner, &next));
        if !force {
            routed?;
        }
    }
    Ok(())
}

/// The name peers know a container by changed (`rename`): the networks it is on.
pub fn rename(root: &Path, id: &str, name: &str) -> Result<Vec<String>> {
    let mut ipam = Ipam::open(root)?;
    let Some(sb) = ipam.map.get_mut(id) else {
        return Ok(Vec::new());
    };
    for a in &mut sb.networks {
        a.name = name.into();
    }
    let nets = sb.networks.iter().map(|a| a.network.clone()).collect();
    ipam.save()?;
    Ok(nets)
}

/// Undo a sandbox, ignoring what is already gone.
fn undo(host: &netlink::Socket, sb: &Sandbox, ports: bool) {
    // No RTM_DELLINK: deleting a veth waits for an RCU grace period (about 20 ms here,
    // more than the whole rest of `run --rm`). Unmounting the namespace drops its last
    // reference once the container is gone, and the kernel's cleanup worker destroys it and
    // the veth pairs in the background, a few milliseconds later. Without a mounted
    // namespace (a crash before the mount) the deletion is tried anyway, as a cheap ENODEV.
    if rustix::mount::unmount(&sb.netns, rustix::mount::UnmountFlags::DETACH).is_err() {
        for a in &sb.networks {
            let _ = host.del_link(&a.veth);
        }
    }
    if ports {
        for a in sb.networks.iter().filter(|a| !a.ports.is_empty()) {
            let _ = nft(&nft_elements(&a.ports, a.ip, false));
        }
    }
    let _ = std::fs::remove_file(&sb.netns);
}

/// Release a container's network namespace and every attachment (idempotent; cheap when it
/// had none). Returns the networks it was on.
pub fn detach(root: &Path, id: &str) -> Result<Vec<String>> {
    let net = root.join("network");
    if !net.join(SANDBOXES).join(format!("{id}.json")).exists() && !net.join("ipam.json").exists() {
        return Ok(Vec::new());
    }
    let mut ipam = Ipam::open(root)?;
    let Some(sb) = ipam.map.get(id).cloned() else {
        return Ok(Vec::new());
    };
    if let Some((pid, start)) = sb.networks.first().and_then(|a| a.slirp) {
        slirp::stop(pid, start, &sb.netns);
    } else {
        let host = netlink::Socket::open().map_err(io_err("netlink socket"))?;
        undo(&host, &sb, true);
    }
    ipam.map.remove(id);
    ipam.save()?;
    Ok(sb.networks.into_iter().map(|a| a.network).collect())
}

/// Rootless: before a stopped container (or pod) starts, make its slirp4netns (or pasta)
/// network whole again when it is not: after its user namespace was renewed (`system
/// migrate`) or lost with the pause, the namespace file is no longer a mount here and the
/// helper is gone or serves the old namespace. The address and published ports stay those
/// of the create.
pub fn reconnect(root: &Path, id: &str) -> Result<()> {
    match sandbox(root, id) {
        Some(sb) => reconnect_sandbox(root, id, sb),
        None => Ok(()),
    }
}

fn reconnect_sandbox(root: &Path, id: &str, mut sb: Sandbox) -> Result<()> {
    let Some(mut att) = sb.networks.first().cloned() else {
        return Ok(());
    };
    let Some((pid, start)) = att.slirp else {
        return Ok(());
    };
    let running = pid > 0 && crate::runtime::process_start_time(pid) == Some(start);
    if running && is_netns(&sb.netns) {
        return Ok(());
    }
    let mut ipam = Ipam::open(root)?;
    slirp::stop(pid, start, &sb.netns);
    att.slirp = Some((0, 0));
    sb.networks = vec![att.clone()];
    ipam.map.insert(id.to_string(), sb.clone());
    ipam.save()?;
    att.slirp = Some(att.helper.start(&sb.netns, &att)?);
    sb.networks = vec![att];
    ipam.map.insert(id.to_string(), sb);
    ipam.save()
}

/// Rootless: end the slirp4netns (or pasta) of a container or pod that does not run and
/// release its namespace, keeping the attachment, which [`reconnect`] makes whole at the
/// next start. Used before the user namespace is renewed, which would leave them behind
/// in the old one.
pub fn stop_helper(root: &Path, id: &str) -> Result<()> {
    let mut ipam = Ipam::open(root)?;
    let Some(sb) = ipam.map.get_mut(id) else {
        return Ok(());
    };
    let netns = sb.netns.clone();
    let Some(att) = sb.networks.first_mut() else {
        return Ok(());
    };
    let Some((pid, start)) = att.slirp else {
        return Ok(());
    };
    slirp::stop(pid, start, &netns);
    att.slirp = Some((0, 0));
    ipam.save()
}

/// Containers with a sandbox (to find leftovers of containers whose row is gone).
pub fn attached(root: &Path) -> Vec<String> {
    sandboxes(root).into_keys().collect()
}

/// Docker's endpoint ID: one per (container, network); derived, so nothing more to store.
pub fn endpoint_id(container: &str, network: &str) -> String {
    crate::digest::Digest::of(format!("{container}/{network}").as_bytes())
        .hex()
        .to_string()
}

/// A container's sandbox, if it has one (for inspect, `port`, `connect`).
pub fn sandbox(root: &Path, id: &str) -> Option<Sandbox> {
    sandboxes(root).remove(id)
}

/// A container's first attachment, the one it was created with unless it left it.
pub fn attachment(root: &Path, id: &str) -> Option<Attachment> {
    sandbox(root, id).and_then(|sb| sb.networks.into_iter().next())
}

/// Serialises rewrites of the containers' /etc/hosts (container/ owns the files; the lock
/// sits with the network state they are made from).
pub fn hosts_lock(root: &Path) -> Result<Lock> {
    Lock::take(&root.join("network/hosts.lock"))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// An attachment with every field set, for tests to adjust.
    pub(crate) fn attachment_for_tests() -> Attachment {
        Attachment {
            network: "bridge".into(),
            name: "web".into(),
            ip: slirp::ADDRESS,
            gateway: slirp::GATEWAY,
            prefix: 24,
            veth: "tap0".into(),
            ifname: "tap0".into(),
            ports: Vec::new(),
            aliases: Vec::new(),
            static_ip: false,
            internal: false,
            ip6: None,
            gateway6: None,
            prefix6: 0,
            slirp: None,
            helper: Helper::default(),
        }
    }

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
    fn ipam_entries_of_one_network_are_read_as_sandboxes() {
        let legacy = br#"{"abc": {"network": "n1", "name": "web", "ip": "10.86.1.5",
            "gateway": "10.86.1.1", "prefix": 24, "veth": "vethabc", "netns": "/run/x/abc",
            "ports": []}}"#;
        let m = parse_ipam(legacy);
        let sb = &m["abc"];
        assert_eq!(sb.netns, Path::new("/run/x/abc"));
        assert_eq!(sb.networks.len(), 1);
        assert_eq!(sb.networks[0].ifname, "eth0");
        assert_eq!(sb.on("n1").unwrap().name, "web");
        let again = parse_ipam(&serde_json::to_vec(&m).unwrap());
        assert_eq!(again["abc"].networks[0].ip, Ipv4Addr::new(10, 86, 1, 5));
    }

    #[test]
    fn sandboxes_have_a_file_each_and_the_old_ipam_json_is_moved_over() {
        let dir = tempfile::tempdir().unwrap();
        let net = dir.path().join("network");
        std::fs::create_dir_all(&net).unwrap();
        let legacy = br#"{"abc": {"netns": "/run/x/abc", "networks": [{"network": "bridge",
            "ip": "10.87.1.5", "gateway": "10.87.0.1", "prefix": 16, "veth": "vethabc",
            "ports": []}]}}"#;
        std::fs::write(net.join("ipam.json"), legacy).unwrap();
        // Read before any change, as `inspect` does.
        assert_eq!(sandboxes(dir.path())["abc"].netns, Path::new("/run/x/abc"));
        let mut ipam = Ipam::open(dir.path()).unwrap();
        assert!(!net.join("ipam.json").exists());
        assert!(net.join("sandboxes/abc.json").exists());
        let sb = ipam.map["abc"].clone();
        ipam.map.insert("def".into(), sb);
        ipam.map.remove("abc");
        ipam.save().unwrap();
        drop(ipam);
        assert!(!net.join("sandboxes/abc.json").exists());
        let all = sandboxes(dir.path());
        assert_eq!(all.keys().collect::<Vec<_>>(), ["def"]);
        assert_eq!(all["def"].networks[0].ip, Ipv4Addr::new(10, 87, 1, 5));
        // A temporary file left by a crash is no sandbox.
        std::fs::write(net.join("sandboxes/ghi.tmp"), "{").unwrap();
        assert_eq!(Ipam::open(dir.path()).unwrap().map.len(), 1);
    }

    #[test]
    fn fixed_addresses_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let mut ipam = Ipam::open(dir.path()).unwrap();
        let net = NetworkDef {
            name: "n".into(),
            id: "x".into(),
            bridge: "barge-x".into(),
            subnet: Ipv4Addr::new(10, 86, 7, 0),
            prefix: 24,
            gateway: Ipv4Addr::new(10, 86, 7, 254),
            created: 0,
            internal: false,
            subnet6: None,
            prefix6: 0,
            gateway6: None,
        };
        let ip = |s: &str| Some(s.parse::<Ipv4Addr>().unwrap());
        assert!(ipam.take(&net, ip("10.86.7.1")).is_ok());
        for bad in ["10.86.7.254", "10.86.7.0", "10.86.7.255", "10.86.8.1"] {
            let e = ipam.take(&net, ip(bad)).unwrap_err().to_string();
            assert!(e.contains(bad), "{e}");
        }
        let a = new_attachment(
            "0123456789abcdef",
            "c",
            &net,
            0,
            ip("10.86.7.9").unwrap(),
            None,
            Endpoint::default(),
        );
        ipam.map.insert(
            "0123456789abcdef".into(),
            Sandbox {
                netns: "/x".into(),
                networks: vec![a],
            },
        );
        assert!(
            ipam.take(&net, ip("10.86.7.9"))
                .unwrap_err()
                .to_string()
                .contains("in use")
        );
        for _ in 0..200 {
            let got = ipam.take(&net, None).unwrap();
            assert!(got != net.gateway && got != Ipv4Addr::new(10, 86, 7, 9));
        }
    }

    #[test]
    fn names_fit_ifnamsiz() {
        let id = "0123456789abcdef0123";
        assert_eq!(veth_name(id, 0), "veth0123456789a");
        assert_eq!(veth_name(id, 1), "veth01234567-1");
        assert!(veth_name(id, 99).len() <= 15);
    }

    #[test]
    fn subnets_overlap() {
        let c = |s| parse_cidr(s).unwrap();
        assert!(overlaps(c("10.86.0.0/16"), c("10.86.5.0/24")));
        assert!(!overlaps(c("10.86.4.0/24"), c("10.86.5.0/24")));
        assert_eq!(c("10.86.5.77/24").0, Ipv4Addr::new(10, 86, 5, 0));
        assert!(parse_cidr("10.86.5.0/31").is_err());
        let c6 = |s| parse_cidr6(s).unwrap();
        assert_eq!(
            c6("fd86:1::5/64").0,
            "fd86:1::".parse::<Ipv6Addr>().unwrap()
        );
        assert!(overlaps6(c6("fd86:1::/48"), c6("fd86:1:0:7::/64")));
        assert!(!overlaps6(c6("fd86:1::/64"), c6("fd86:1:0:1::/64")));
        assert!(parse_cidr6("fd86::/32").is_err() && parse_cidr6("10.0.0.0/8").is_err());
    }

    #[test]
    fn exposed_ports() {
        let cfg = serde_json::json!({"ExposedPorts": {"80/tcp": {}, "53/udp": {}}});
        let e = exposed(&cfg);
        assert_eq!(e.len(), 2);
    }
}
