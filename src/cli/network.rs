//! `barge network create|ls|rm|inspect|prune|connect|disconnect`: user-defined bridge
//! networks.

use std::io::{self, Write};

use clap::{Args, Subcommand};
use serde_json::{Value, json};

use super::ExitStatus;
use crate::config::Paths;
use crate::container;
use crate::error::{Error, IoContext, Result};
use crate::network::{self, NetworkDef};
use crate::store::Store;
use crate::ui::{self, Format};

#[derive(Subcommand, Debug)]
pub enum NetworkCommand {
    /// Create a bridge network; its containers reach each other by name
    Create(CreateArgs),
    /// List networks
    #[command(visible_alias = "list")]
    Ls(LsArgs),
    /// Remove one or more networks
    #[command(visible_alias = "remove")]
    Rm(NamesArgs),
    /// Show networks as JSON
    Inspect(InspectArgs),
    /// Remove every user network that no container uses
    Prune(PruneArgs),
    /// Connect a container to a network (one more interface, running or not)
    Connect(ConnectArgs),
    /// Disconnect a container from a network
    Disconnect(DisconnectArgs),
}

#[derive(Args, Debug)]
pub struct ConnectArgs {
    /// IPv4 address on the network (user networks only)
    #[arg(long)]
    pub ip: Option<String>,
    /// Another name the container's peers know it by on this network
    #[arg(long)]
    pub alias: Vec<String>,
    pub network: String,
    pub container: String,
}

#[derive(Args, Debug)]
pub struct DisconnectArgs {
    /// Go on past an interface that is already gone
    #[arg(short, long)]
    pub force: bool,
    pub network: String,
    pub container: String,
}

#[derive(Args, Debug)]
pub struct PruneArgs {
    /// Do not ask for confirmation
    #[arg(short, long)]
    pub force: bool,
}

#[derive(Args, Debug)]
pub struct CreateArgs {
    pub name: String,
    /// Subnet in CIDR form (default: the first free 10.86.N.0/24); refused when it
    /// overlaps another network or a route of the host. Once more for an IPv6 one
    #[arg(long)]
    pub subnet: Vec<String>,
    /// The bridge's address, the containers' gateway (default: the subnet's first)
    #[arg(long)]
    pub gateway: Vec<String>,
    /// Give containers IPv6 addresses too (default subnet: a unique local /64)
    #[arg(long)]
    pub ipv6: bool,
    /// No way out: containers reach each other and the host's bridge address only
    #[arg(long)]
    pub internal: bool,
    /// Driver: only bridge
    #[arg(short, long, default_value = "bridge")]
    pub driver: String,
}

#[derive(Args, Debug)]
pub struct LsArgs {
    /// Only show network IDs
    #[arg(short, long)]
    pub quiet: bool,
    /// Output: table, json or a Go template
    #[arg(long)]
    pub format: Option<String>,
}

#[derive(Args, Debug)]
pub struct NamesArgs {
    #[arg(required = true)]
    pub names: Vec<String>,
}

#[derive(Args, Debug)]
pub struct InspectArgs {
    #[arg(required = true)]
    pub names: Vec<String>,
    /// Output: json or a Go template
    #[arg(short, long)]
    pub format: Option<String>,
}

fn doc(paths: &Paths, n: &NetworkDef) -> Value {
    let mut ipam = vec![json!({"Subnet": n.cidr(), "Gateway": n.gateway.to_string()})];
    if let (Some(c6), Some(g6)) = (n.cidr6(), n.gateway6) {
        ipam.push(json!({"Subnet": c6, "Gateway": g6.to_string()}));
    }
    let mut containers = serde_json::Map::new();
    for (id, a) in network::attachments_on(&paths.root, &n.name) {
        containers.insert(
            id.clone(),
            json!({
                "Name": a.name,
                "EndpointID": crate::network::endpoint_id(&id, &n.name),
                "MacAddress": a.mac_string(),
                "IPv4Address": format!("{}/{}", a.ip, a.prefix),
                "IPv6Address": a.ip6.map(|ip| format!("{ip}/{}", a.prefix6)).unwrap_or_default(),
            }),
        );
    }
    json!({
        "Name": n.name,
        "Id": n.id,
        "Created": chrono::DateTime::from_timestamp(n.created, 0).map(|t| t.to_rfc3339()).unwrap_or_default(),
        "Scope": "local",
        "Driver": "bridge",
        "EnableIPv6": n.subnet6.is_some(),
        "IPAM": {"Driver": "default", "Config": ipam},
        "Internal": n.internal,
        "Options": {"com.docker.network.bridge.name": n.bridge},
        "Containers": containers,
    })
}

pub fn run(paths: &Paths, c: NetworkCommand) -> Result<ExitStatus> {
    let mut out = io::stdout().lock();
    match c {
        NetworkCommand::Create(a) => {
            if a.driver != "bridge" {
                return Err(Error::InvalidArgument(format!(
                    "driver {:?} is not supported (bridge)",
                    a.driver
                )));
            }
            let opts = network::CreateOptions {
                subnets: a.subnet,
                gateways: a.gateway,
                internal: a.internal,
                ipv6: a.ipv6,
            };
            let n = network::create(&paths.root, &a.name, &opts)?;
            let forwards = std::fs::read_to_string("/proc/sys/net/ipv6/conf/all/forwarding")
                .is_ok_and(|v| v.trim() == "1");
            if n.subnet6.is_some() && !n.internal && !forwards {
                // Flipping the host-wide switch would also stop the host's own router
                // advertisements on interfaces with accept_ra=1: the admin's call.
                ui::warn(&format!(
                    "IPv6 traffic stays inside network {}: the host does not forward IPv6 (sysctl net.ipv6.conf.all.forwarding=1)",
                    n.name
                ));
            }
            writeln!(out, "{}", n.id).at("stdout")?;
        }
        NetworkCommand::Ls(a) => {
            let nets = network::networks(&paths.root);
            if a.quiet {
                for n in &nets {
                    writeln!(out, "{}", &n.id[..12]).at("stdout")?;
                }
            } else {
                let mut rows: Vec<Value> = nets
                    .iter()
                    .map(|n| json!({"ID": &n.id[..12], "Name": n.name, "Driver": "bridge", "Scope": "local", "Subnet": n.cidr()}))
                    .collect();
                for (name, driver) in [("host", "host"), ("none", "null")] {
                    rows.push(json!({"ID": "", "Name": name, "Driver": driver, "Scope": "local", "Subnet": ""}));
                }
                ui::print_rows(
                    &mut out,
                    &Format::parse(a.format.as_deref()),
                    &[
                        ("NETWORK ID", "ID"),
                        ("NAME", "Name"),
                        ("DRIVER", "Driver"),
                        ("SCOPE", "Scope"),
                    ],
                    &rows,
                )
                .at("stdout")?;
            }
        }
        NetworkCommand::Rm(a) => {
            let mut failed = false;
            for n in &a.names {
                match network::remove(&paths.root, n) {
                    Ok(name) => writeln!(out, "{name}").at("stdout")?,
                    Err(e) => {
                        ui::error(&e.to_string(), None);
                        failed = true;
                    }
                }
            }
            return Ok(if failed { 125 } else { 0 });
        }
        NetworkCommand::Prune(a) => {
            if !a.force {
                match ui::confirm(
                    "This will remove all custom networks not used by at least one container. Are you sure you want to continue?",
                ) {
                    Some(true) => {}
                    Some(false) => return Ok(0),
                    None => return Err(Error::NeedsConfirmation("network prune".into())),
                }
            }
            let mut removed = Vec::new();
            for n in network::networks(&paths.root) {
                if n.builtin() || !network::attachments_on(&paths.root, &n.name).is_empty() {
                    continue;
                }
                removed.push(network::remove(&paths.root, &n.name)?);
            }
            if !removed.is_empty() {
                writeln!(out, "Deleted Networks:").at("stdout")?;
                for n in removed {
                    writeln!(out, "{n}").at("stdout")?;
                }
            }
        }
        NetworkCommand::Connect(a) => {
            let ip = match &a.ip {
                None => None,
                Some(ip) => Some(ip.parse().map_err(|_| {
                    Error::InvalidArgument(format!("invalid --ip {ip:?}: not an IPv4 address"))
                })?),
            };
            for alias in &a.alias {
                if !crate::util::is_docker_name(alias, 253) {
                    return Err(Error::InvalidArgument(format!(
                        "invalid --alias {alias:?}: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"
                    )));
                }
            }
            let store = Store::open(&paths.root)?;
            let c = container::find(&store, &a.container)?;
            let ep = network::Endpoint {
                ip,
                aliases: a.alias,
                ports: Vec::new(),
            };
            container::connect(&store, &c, &a.network, ep)?;
        }
        NetworkCommand::Disconnect(a) => {
            let store = Store::open(&paths.root)?;
            let c = container::find(&store, &a.container)?;
            container::disconnect(&store, &c, &a.network, a.force)?;
        }
        NetworkCommand::Inspect(a) => {
            let mut docs = Vec::new();
            for n in &a.names {
                let def = network::lookup(&paths.root, n)
                    .ok_or_else(|| Error::NoSuchNetwork(n.clone()))?;
                docs.push(doc(paths, &def));
            }
            // Docker's inspect output: 4-space indent, or a template per document.
            super::image::print_docs(&docs, a.format.as_deref())?;
        }
    }
    Ok(0)
}
