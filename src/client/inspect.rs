//! Docker's `container inspect` document of a container.

use serde_json::{Value, json};

use super::Client;
use crate::config::Paths;
use crate::container::{self, RunSettings};
use crate::error::Result;
use crate::store::{ContainerRecord, Store};

impl Client {
    /// Docker's `container inspect` document of the container `id` (name, ID or ID
    /// prefix): its state, configuration, mounts, network settings and storage.
    pub fn inspect_container(&self, id: &str) -> Result<Value> {
        let store = self.store()?;
        let c = container::find(&store, id)?;
        Ok(inspect_doc(&self.paths, &store, &c))
    }
}

/// Docker's `NetworkSettings`: one entry per network under `Networks`; the top-level
/// address fields are those of the first network (Docker fills them for the default bridge
/// only; podman and barge's users read them for any network).
fn network_settings(store: &Store, c: &ContainerRecord) -> Value {
    let empty = json!({"IPAddress": "", "Gateway": "", "IPPrefixLen": 0, "MacAddress": "", "GlobalIPv6Address": "", "GlobalIPv6PrefixLen": 0, "IPv6Gateway": "", "Ports": {}, "SandboxKey": "", "Networks": {}});
    let Some(sb) = crate::network::sandbox(&store.root, &c.id) else {
        return empty;
    };
    let mut ports = serde_json::Map::new();
    for p in sb.networks.iter().flat_map(|a| &a.ports) {
        let e = ports
            .entry(format!("{}/{}", p.container_port, p.proto))
            .or_insert_with(|| json!([]));
        if let Some(a) = e.as_array_mut() {
            a.push(json!({
                "HostIp": p.host_ip.unwrap_or(std::net::Ipv4Addr::UNSPECIFIED).to_string(),
                "HostPort": p.host_port.to_string(),
            }));
        }
    }
    let mut networks = serde_json::Map::new();
    for a in &sb.networks {
        let user = a.network != "bridge";
        let mut names = vec![a.name.clone(), c.id[..12].to_string()];
        names.extend(a.aliases.iter().cloned());
        networks.insert(
            a.network.clone(),
            json!({
                "IPAMConfig": if a.static_ip { json!({"IPv4Address": a.ip.to_string()}) } else { Value::Null },
                "Links": null,
                "Aliases": if a.aliases.is_empty() { Value::Null } else { json!(a.aliases) },
                "MacAddress": a.mac_string(),
                "NetworkID": crate::network::lookup(&store.root, &a.network).map(|n| n.id).unwrap_or_default(),
                "EndpointID": crate::network::endpoint_id(&c.id, &a.network),
                "Gateway": a.gateway.to_string(),
                "IPAddress": a.ip.to_string(),
                "IPPrefixLen": a.prefix,
                "IPv6Gateway": a.gateway6.map(|g| g.to_string()).unwrap_or_default(),
                "GlobalIPv6Address": a.ip6.map(|ip| ip.to_string()).unwrap_or_default(),
                "GlobalIPv6PrefixLen": a.prefix6,
                "DriverOpts": null,
                "DNSNames": if user { json!(names) } else { Value::Null },
            }),
        );
    }
    let mut doc = empty;
    if let Some(a) = sb.networks.first() {
        doc["IPAddress"] = json!(a.ip.to_string());
        doc["Gateway"] = json!(a.gateway.to_string());
        doc["IPPrefixLen"] = json!(a.prefix);
        doc["MacAddress"] = json!(a.mac_string());
        doc["GlobalIPv6Address"] = json!(a.ip6.map(|ip| ip.to_string()).unwrap_or_default());
        doc["GlobalIPv6PrefixLen"] = json!(a.prefix6);
        doc["IPv6Gateway"] = json!(a.gateway6.map(|g| g.to_string()).unwrap_or_default());
    }
    doc["Ports"] = Value::Object(ports);
    doc["SandboxKey"] = json!(sb.netns.display().to_string());
    doc["Networks"] = Value::Object(networks);
    doc
}

/// Docker's `container inspect` document.
fn inspect_doc(paths: &Paths, store: &Store, c: &ContainerRecord) -> Value {
    let dir = container::container_dir(store, &c.id);
    let settings: RunSettings = container::load_bundle(&dir)
        .map(|(_, s)| s)
        .unwrap_or_default();
    let config: Value = serde_json::from_str(&c.config).unwrap_or(Value::Null);
    let state = container::effective_state(c);
    let pid = if state == "running" {
        crate::runtime::state(&container::state_root(paths), &c.id)
            .map(|s| s.pid)
            .unwrap_or(0)
    } else {
        0
    };
    // Docker's view of a paused container: still running, and paused.
    let paused = state == "running" && super::container::frozen(paths, &c.id);
    json!({
        "Id": c.id,
        "Created": chrono::DateTime::from_timestamp(c.created, 0).map(|t| t.to_rfc3339()).unwrap_or_default(),
        "Path": config["Cmd"].get(0).cloned().unwrap_or(Value::Null),
        "Args": config["Cmd"].as_array().map(|a| a[1.min(a.len())..].to_vec()).unwrap_or_default(),
        "State": {
            "Status": if paused { "paused" } else { state },
            "Running": state == "running",
            "Paused": paused,
            "Restarting": false,
            "OOMKilled": c.oom_killed,
            "Dead": false,
            "Pid": pid,
            "ExitCode": if c.state == "running" && state == "exited" { 137 } else { c.exit_code.unwrap_or(0) },
            "StartedAt": c.started_at.clone().unwrap_or_else(|| "0001-01-01T00:00:00Z".into()),
            "FinishedAt": c.finished_at.clone().unwrap_or_else(|| "0001-01-01T00:00:00Z".into()),
        },
        "Image": c.image_id.to_string(),
        "Name": format!("/{}", c.name),
        "RestartCount": c.restart_count,
        "Driver": "overlay",
        "LogPath": container::log_path(store, &c.id).display().to_string(),
        "HostConfig": {
            "AutoRemove": c.auto_remove,
            "RestartPolicy": {"Name": settings.restart, "MaximumRetryCount": settings.restart_max},
            "NetworkMode": config["NetworkMode"],
            "Privileged": config["Privileged"],
            "ReadonlyRootfs": config["ReadonlyRootfs"],
            "LogConfig": {"Type": "json-file", "Config": {}},
        },
        "Mounts": config["Mounts"],
        "NetworkSettings": network_settings(store, c),
        "Config": {
            "Hostname": config["Hostname"],
            "User": config["User"],
            "Tty": config["Tty"],
            "Env": config["Env"],
            "Cmd": config["Cmd"],
            "Image": c.image_name,
            "WorkingDir": config["WorkingDir"],
            "StopSignal": settings.stop_signal,
            "Labels": config.get("Labels").cloned().unwrap_or_else(|| json!({})),
        },
        "GraphDriver": {
            "Name": "overlay",
            "Data": {
                "UpperDir": dir.join("upper").display().to_string(),
                "WorkDir": dir.join("work").display().to_string(),
                "LowerDir": settings.lowerdirs.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(":"),
            }
        },
    })
}
