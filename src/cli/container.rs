//! Container lifecycle commands: create, start, stop, kill, restart, rm, ps, logs, wait,
//! rename, top, container prune, container inspect, and the hidden `__supervise` that
//! watches a detached container.

use std::io::{self, Write};
use std::time::Duration;

use clap::{Args, Subcommand};
use serde_json::{Value, json};

use super::ExitStatus;
use crate::client::{Client, ExecSpec, LogLine, LogOptions, LogStream};
use crate::config::Paths;
use crate::container::{self, RunSettings};
use crate::error::{Error, IoContext, Result};
use crate::store::{ContainerRecord, Store};
use crate::supervisor;
use crate::ui::{self, Format};

#[derive(Subcommand, Debug)]
pub enum ContainerCommand {
    /// List containers
    #[command(visible_alias = "list")]
    Ls(PsArgs),
    /// Remove all stopped containers
    Prune(PruneArgs),
    /// Show low-level information on containers, as JSON
    Inspect(InspectArgs),
}

#[derive(Args, Debug)]
pub struct StartArgs {
    #[arg(required = true, add = crate::cli::complete::container())]
    pub containers: Vec<String>,
    /// Attach: print the container's output and wait for it to end (exit with its code)
    #[arg(short, long)]
    pub attach: bool,
    /// Attach the container's STDIN (it must have been created with -i)
    #[arg(short, long)]
    pub interactive: bool,
}

#[derive(Args, Debug)]
pub struct StopArgs {
    #[arg(required = true, add = crate::cli::complete::container())]
    pub containers: Vec<String>,
    /// Seconds to wait before killing the container
    #[arg(short = 't', long = "time")]
    pub time: Option<u64>,
    /// Signal to send first (default: the container's stop signal)
    #[arg(short, long)]
    pub signal: Option<String>,
}

#[derive(Args, Debug)]
pub struct KillArgs {
    #[arg(required = true, add = crate::cli::complete::container())]
    pub containers: Vec<String>,
    /// Signal to send
    #[arg(short, long, default_value = "KILL")]
    pub signal: String,
}

#[derive(Args, Debug)]
pub struct RmArgs {
    #[arg(required = true, add = crate::cli::complete::container())]
    pub containers: Vec<String>,
    /// Kill and remove a running container
    #[arg(short, long)]
    pub force: bool,
    /// Remove the container's anonymous volumes too
    #[arg(short, long)]
    pub volumes: bool,
}

#[derive(Args, Debug)]
pub struct PsArgs {
    /// Show all containers (default: running only)
    #[arg(short, long)]
    pub all: bool,
    /// Only show IDs
    #[arg(short, long)]
    pub quiet: bool,
    /// Show the N last created containers
    #[arg(short = 'n', long)]
    pub last: Option<usize>,
    /// Show the last created container
    #[arg(short, long)]
    pub latest: bool,
    /// Don't truncate output
    #[arg(long)]
    pub no_trunc: bool,
    /// Filter: status=, name=, id=, ancestor=
    #[arg(short, long)]
    pub filter: Vec<String>,
    /// Output: table, json or a Go template
    #[arg(long)]
    pub format: Option<String>,
}

#[derive(Args, Debug)]
pub struct LogsArgs {
    #[arg(add = crate::cli::complete::container())]
    pub container: String,
    /// Follow the output
    #[arg(short, long)]
    pub follow: bool,
    /// Number of lines from the end ("all" for everything)
    #[arg(short = 'n', long, default_value = "all")]
    pub tail: String,
    /// Show timestamps
    #[arg(short, long)]
    pub timestamps: bool,
    /// Only lines since a time (RFC 3339) or a duration ago (10m, 1h)
    #[arg(long)]
    pub since: Option<String>,
}

#[derive(Args, Debug)]
pub struct WaitArgs {
    #[arg(required = true, add = crate::cli::complete::container())]
    pub containers: Vec<String>,
}

#[derive(Args, Debug)]
pub struct RenameArgs {
    #[arg(add = crate::cli::complete::container())]
    pub container: String,
    pub new_name: String,
}

#[derive(Args, Debug)]
pub struct PortArgs {
    pub container: String,
    /// PRIVATE_PORT[/PROTO]: show only where this container port is published
    pub port: Option<String>,
}

#[derive(Args, Debug)]
pub struct TopArgs {
    #[arg(add = crate::cli::complete::container())]
    pub container: String,
}

#[derive(Args, Debug)]
pub struct PruneArgs {
    /// Do not ask for confirmation
    #[arg(short, long)]
    pub force: bool,
}

#[derive(Args, Debug)]
pub struct InspectArgs {
    #[arg(required = true, add = crate::cli::complete::container())]
    pub containers: Vec<String>,
    /// Go template applied to each object
    #[arg(short, long)]
    pub format: Option<String>,
}

#[derive(Args, Debug)]
pub struct SuperviseArgs {
    pub id: String,
}

fn out() -> io::StdoutLock<'static> {
    io::stdout().lock()
}

/// Run `f` for each name; print the name when it worked, else the error, one line each;
/// 125 if any failed.
fn each(names: &[String], mut f: impl FnMut(&str) -> Result<()>) -> Result<ExitStatus> {
    let mut failed = false;
    for n in names {
        match f(n) {
            Ok(()) => writeln!(out(), "{n}").at("stdout")?,
            Err(e) => {
                ui::error(&e.to_string(), None);
                failed = true;
            }
        }
    }
    Ok(if failed { 125 } else { 0 })
}

pub fn start(paths: &Paths, a: StartArgs) -> Result<ExitStatus> {
    let client = Client::from_paths(paths);
    let mut failed = 0;
    for n in &a.containers {
        if let Err(e) = client.start(n) {
            ui::error(&e.to_string(), None);
            failed = e.exit_code();
            continue;
        }
        if a.interactive {
            return attach(
                paths,
                AttachArgs {
                    container: n.clone(),
                    no_stdin: false,
                    detach_keys: "ctrl-p,ctrl-q".into(),
                },
            );
        }
        if a.attach {
            for line in client.logs(n, &LogOptions::new().follow(true))? {
                emit(&line?, false)?;
            }
            return client.wait(n);
        }
        writeln!(out(), "{n}").at("stdout")?;
    }
    Ok(failed)
}

pub fn stop(paths: &Paths, a: StopArgs) -> Result<ExitStatus> {
    let client = Client::from_paths(paths);
    each(&a.containers, |n| {
        client.stop_with(n, a.signal.as_deref(), a.time.map(Duration::from_secs))
    })
}

pub fn kill(paths: &Paths, a: KillArgs) -> Result<ExitStatus> {
    let sig = container::parse_signal(&a.signal)?;
    let mut store = Store::open(&paths.root)?;
    each(&a.containers, |n| {
        let c = &container::find(&store, n)?;
        if !container::supervised(c) {
            return Err(Error::Conflict(format!(
                "container {} is not running",
                c.name
            )));
        }
        if sig == libc::SIGKILL || sig == libc::SIGTERM {
            store.container_stop_requested(&c.id)?;
        }
        container::signal(paths, c, sig)
    })
}

pub fn restart(paths: &Paths, a: StopArgs) -> Result<ExitStatus> {
    let client = Client::from_paths(paths);
    each(&a.containers, |n| {
        client.stop(n, Some(Duration::from_secs(a.time.unwrap_or(10))))?;
        client.start(n)
    })
}

pub fn rm(paths: &Paths, a: RmArgs) -> Result<ExitStatus> {
    let client = Client::from_paths(paths);
    each(&a.containers, |n| client.remove_with(n, a.force, a.volumes))
}

fn short_command(cmd: &str, no_trunc: bool) -> String {
    let q = format!("\"{cmd}\"");
    if no_trunc || cmd.chars().count() <= 20 {
        q
    } else {
        format!("\"{}…\"", cmd.chars().take(19).collect::<String>())
    }
}

fn created_since(secs: i64) -> String {
    format!(
        "{} ago",
        ui::human_duration(chrono::Utc::now().timestamp() - secs)
    )
}

pub fn ps(paths: &Paths, a: PsArgs) -> Result<ExitStatus> {
    let mut store = Store::open(&paths.root)?;
    // What a killed barge left (a `--rm` container, its network) goes before it is listed.
    container::reap_dead(&mut store, paths)?;
    let mut rows = store.containers()?;
    let mut all = a.all;
    if a.latest {
        rows.truncate(1);
        all = true;
    }
    if let Some(n) = a.last {
        rows.truncate(n);
        all = true;
    }
    for f in &a.filter {
        let (k, v) = f.split_once('=').ok_or_else(|| {
            Error::InvalidArgument(format!("invalid filter {f:?}: use key=value"))
        })?;
        match k {
            "status" => {
                all = true;
                rows.retain(|c| container::effective_state(c) == v)
            }
            "name" => rows.retain(|c| c.name.contains(v)),
            "id" => rows.retain(|c| c.id.starts_with(v)),
            "ancestor" => rows.retain(|c| c.image_name == v || c.image_id.as_str().contains(v)),
            other => {
                return Err(Error::InvalidArgument(format!(
                    "unsupported filter {other:?} (status, name, id, ancestor)"
                )));
            }
        }
    }
    if !all {
        rows.retain(container::supervised);
    }
    let mut o = out();
    if a.quiet {
        for c in &rows {
            writeln!(o, "{}", if a.no_trunc { &c.id[..] } else { &c.id[..12] }).at("stdout")?;
        }
        return Ok(0);
    }
    // Docker's NETWORKS column lists every network a container is on.
    let sandboxes = crate::network::sandboxes(&paths.root);
    let values: Vec<Value> = rows
        .iter()
        .map(|c| {
            let networks = match sandboxes.get(&c.id) {
                Some(sb) => sb
                    .networks
                    .iter()
                    .map(|a| a.network.as_str())
                    .collect::<Vec<_>>()
                    .join(","),
                None => serde_json::from_str::<Value>(&c.config)
                    .ok()
                    .and_then(|v| v["NetworkMode"].as_str().map(str::to_string))
                    .unwrap_or_default(),
            };
            // Each of these reads /proc or the cgroup: once per row.
            let running = container::supervised(c);
            let paused = running && is_frozen(paths, c);
            json!({
                "Command": short_command(&c.command, a.no_trunc),
                "CreatedAt": chrono::DateTime::from_timestamp(c.created, 0)
                    .map(|t| t.format("%Y-%m-%d %H:%M:%S +0000 UTC").to_string())
                    .unwrap_or_default(),
                "ID": if a.no_trunc { c.id.clone() } else { c.id[..12].to_string() },
                "Image": c.image_name,
                "Labels": "",
                "LocalVolumes": "0",
                "Mounts": "",
                "Names": c.name,
                "Networks": networks,
                "Ports": if running {
                    container::ports(c).iter().map(|p| p.to_string()).collect::<Vec<_>>().join(", ")
                } else {
                    String::new()
                },
                "RunningFor": created_since(c.created),
                "Size": "N/A",
                "State": if paused { "paused" } else { container::effective_state(c) },
                "Status": if paused {
                    format!("{} (Paused)", container::status_text(c))
                } else {
                    container::status_text(c)
                },
            })
        })
        .collect();
    let columns = [
        ("CONTAINER ID", "ID"),
        ("IMAGE", "Image"),
        ("COMMAND", "Command"),
        ("CREATED", "RunningFor"),
        ("STATUS", "Status"),
        ("PORTS", "Ports"),
        ("NAMES", "Names"),
    ];
    ui::print_rows(
        &mut o,
        &Format::parse(a.format.as_deref()),
        &columns,
        &values,
    )
    .at("stdout")?;
    Ok(0)
}

fn log_path(store: &Store, id: &str) -> std::path::PathBuf {
    container::container_dir(store, id).join(format!("{id}-json.log"))
}

fn parse_since(s: &str) -> Result<chrono::DateTime<chrono::Utc>> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&chrono::Utc));
    }
    if let Ok(secs) = s.parse::<i64>() {
        return chrono::DateTime::from_timestamp(secs, 0)
            .ok_or_else(|| Error::InvalidArgument(format!("invalid --since {s:?}")));
    }
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: i64 = num
        .parse()
        .map_err(|_| Error::InvalidArgument(format!("invalid --since {s:?}")))?;
    let secs = match unit {
        "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        _ => {
            return Err(Error::InvalidArgument(format!(
                "invalid --since {s:?}: use RFC 3339 or 10s/5m/2h"
            )));
        }
    };
    Ok(chrono::Utc::now() - chrono::Duration::seconds(secs))
}

/// Print one log line to stdout or stderr as its stream says.
fn emit(line: &LogLine, timestamps: bool) -> Result<()> {
    let prefix = if timestamps {
        // As the supervisor wrote it (json-file's format).
        let t: chrono::DateTime<chrono::Utc> = line.time.into();
        format!("{} ", t.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true))
    } else {
        String::new()
    };
    if line.stream == LogStream::Stderr {
        let mut e = io::stderr().lock();
        write!(e, "{prefix}{}", line.text).at("stderr")?;
    } else {
        let mut o = out();
        write!(o, "{prefix}{}", line.text).at("stdout")?;
        o.flush().at("stdout")?;
    }
    Ok(())
}

pub fn logs(paths: &Paths, a: LogsArgs) -> Result<ExitStatus> {
    let mut opts = LogOptions::new().follow(a.follow);
    if a.tail != "all" {
        opts = opts.tail(
            a.tail
                .parse()
                .map_err(|_| Error::InvalidArgument(format!("invalid --tail {:?}", a.tail)))?,
        );
    }
    if let Some(s) = a.since.as_deref() {
        opts = opts.since(parse_since(s)?.into());
    }
    for line in Client::from_paths(paths).logs(&a.container, &opts)? {
        emit(&line?, a.timestamps)?;
    }
    Ok(0)
}

pub fn wait(paths: &Paths, a: WaitArgs) -> Result<ExitStatus> {
    let client = Client::from_paths(paths);
    let mut failed = false;
    for n in &a.containers {
        match client.wait(n) {
            Ok(code) => writeln!(out(), "{code}").at("stdout")?,
            Err(e) => {
                ui::error(&e.to_string(), None);
                failed = true;
            }
        }
    }
    Ok(if failed { 125 } else { 0 })
}

pub fn rename(paths: &Paths, a: RenameArgs) -> Result<ExitStatus> {
    container::validate_name(&a.new_name)?;
    let mut store = Store::open(&paths.root)?;
    let c = container::find(&store, &a.container)?;
    store.rename_container(&c.id, &a.new_name)?;
    container::renamed(&store, &c.id, &a.new_name)?;
    Ok(0)
}

pub fn port(paths: &Paths, a: PortArgs) -> Result<ExitStatus> {
    let store = Store::open(&paths.root)?;
    let c = container::find(&store, &a.container)?;
    let ports = container::ports(&c);
    let want = match &a.port {
        None => None,
        Some(p) => {
            let (n, proto) = p.split_once('/').unwrap_or((p, "tcp"));
            let n: u16 = n
                .parse()
                .map_err(|_| Error::InvalidArgument(format!("invalid port {p:?}")))?;
            Some((n, proto.to_string()))
        }
    };
    let mut o = out();
    let mut found = false;
    for m in &ports {
        match &want {
            None => writeln!(
                o,
                "{}/{} -> {}:{}",
                m.container_port,
                m.proto,
                m.host_ip.unwrap_or(std::net::Ipv4Addr::UNSPECIFIED),
                m.host_port
            ),
            Some((n, proto)) if *n == m.container_port && *proto == m.proto => writeln!(
                o,
                "{}:{}",
                m.host_ip.unwrap_or(std::net::Ipv4Addr::UNSPECIFIED),
                m.host_port
            ),
            Some(_) => continue,
        }
        .at("stdout")?;
        found = true;
    }
    if let (Some(p), false) = (&a.port, found) {
        return Err(Error::Other(format!(
            "no public port '{p}' published for {}",
            c.name
        )));
    }
    Ok(0)
}

pub fn top(paths: &Paths, a: TopArgs) -> Result<ExitStatus> {
    let store = Store::open(&paths.root)?;
    let c = container::find(&store, &a.container)?;
    if !container::supervised(&c) {
        return Err(Error::Conflict(format!(
            "container {} is not running",
            c.name
        )));
    }
    let st = crate::runtime::state(&container::state_root(paths), &c.id)
        .map_err(|e| Error::Other(format!("container {}: {e}", c.name)))?;
    // Every process whose pid namespace is the init's.
    let ns = std::fs::read_link(format!("/proc/{}/ns/pid", st.pid)).ok();
    let mut rows = Vec::new();
    for e in std::fs::read_dir("/proc").at("/proc")?.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|p| p.parse::<i64>().ok()) else {
            continue;
        };
        if std::fs::read_link(format!("/proc/{pid}/ns/pid")).ok() != ns {
            continue;
        }
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let field = |k: &str| {
            status
                .lines()
                .find(|l| l.starts_with(k))
                .and_then(|l| l.split_whitespace().nth(1))
                .unwrap_or("")
                .to_string()
        };
        let cmd = std::fs::read(format!("/proc/{pid}/cmdline"))
            .map(|b| {
                String::from_utf8_lossy(&b)
                    .replace('\0', " ")
                    .trim()
                    .to_string()
            })
            .unwrap_or_default();
        rows.push(vec![field("Uid:"), pid.to_string(), field("PPid:"), cmd]);
    }
    rows.sort_by_key(|r| r[1].parse::<i64>().unwrap_or(0));
    ui::write_table(
        &mut out(),
        &["UID".into(), "PID".into(), "PPID".into(), "CMD".into()],
        &rows,
    )
    .at("stdout")?;
    Ok(0)
}

pub fn prune(paths: &Paths, a: PruneArgs) -> Result<ExitStatus> {
    if !a.force {
        match ui::confirm(
            "This will remove all stopped containers. Are you sure you want to continue?",
        ) {
            Some(true) => {}
            Some(false) => return Ok(0),
            None => {
                return Err(Error::NeedsConfirmation("container prune".into()));
            }
        }
    }
    let mut store = Store::open(&paths.root)?;
    let mut o = out();
    let mut any = false;
    for c in store.containers()? {
        if container::supervised(&c) {
            continue;
        }
        container::remove(&mut store, paths, &c, false, false)?;
        if !any {
            writeln!(o, "Deleted Containers:").at("stdout")?;
            any = true;
        }
        writeln!(o, "{}", c.id).at("stdout")?;
    }
    if any {
        writeln!(o).at("stdout")?;
    }
    writeln!(o, "Total reclaimed space: 0B").at("stdout")?;
    Ok(0)
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
                "EndpointID": super::network::endpoint_id(&c.id, &a.network),
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
pub fn inspect_doc(paths: &Paths, store: &Store, c: &ContainerRecord) -> Value {
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
    let paused = state == "running" && is_frozen(paths, c);
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
        "LogPath": log_path(store, &c.id).display().to_string(),
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

pub fn inspect(paths: &Paths, a: InspectArgs) -> Result<ExitStatus> {
    let store = Store::open(&paths.root)?;
    let mut docs = Vec::new();
    let mut failed = false;
    for n in &a.containers {
        match container::find(&store, n) {
            Ok(c) => docs.push(inspect_doc(paths, &store, &c)),
            Err(e) => {
                ui::error(&e.to_string(), None);
                failed = true;
            }
        }
    }
    super::image::print_docs(&docs, a.format.as_deref())?;
    Ok(if failed { 125 } else { 0 })
}

/// The detached supervisor: run the container, record its start and end, apply the
/// restart policy and `--rm`. Its first stdout line tells the launching barge how the
/// start went; then stdout is /dev/null.
pub fn supervise(paths: &Paths, a: SuperviseArgs) -> Result<ExitStatus> {
    use std::os::fd::{AsRawFd, FromRawFd};
    // SAFETY: dup of our stdout; the new fd is owned by `status` alone.
    let mut status: Option<std::fs::File> = {
        let fd = unsafe { libc::fcntl(io::stdout().as_raw_fd(), libc::F_DUPFD_CLOEXEC, 3) };
        (fd >= 0).then(|| unsafe { std::fs::File::from_raw_fd(fd) })
    };
    let mut report = |line: String| {
        if let Some(mut s) = status.take() {
            let _ = writeln!(s, "{line}");
        }
    };
    let mut store = Store::open(&paths.root)?;
    let c = container::find(&store, &a.id)?;
    let dir = container::container_dir(&store, &c.id);
    let log = log_path(&store, &c.id);
    let mut restarts = 0i64;
    let mut backoff = Duration::from_millis(100);
    loop {
        let (mut spec, settings) = container::load_bundle(&dir)?;
        if let Err(e) = container::resolve_joins(&store, paths, &mut spec, &settings.joins) {
            report(format!("error 125 {}", e.to_string().replace('\n', " ")));
            return Ok(125);
        }
        let opts = supervisor::detached::DetachedOptions {
            id: c.id.clone(),
            rootfs_mount: Some(settings.rootfs_mount(&dir)),
            spec,
            state_dir: container::state_root(paths).join(&c.id),
            tty: settings.tty,
            stdin_open: settings.stdin_open,
            log_path: log.clone(),
            log_max_size: settings.log_max_size,
            log_max_files: settings.log_max_files,
            init: settings.init,
            attach_dir: Some(dir.clone()),
        };
        let me = container::self_identity();
        let mut start_err = None;
        // The store is closed while the container runs (its connection and page cache
        // would be most of the supervisor's memory) and opened again when it ends.
        let mut held = Some(store);
        let result = supervisor::detached::supervise(opts, &mut |ev| match ev {
            supervisor::detached::Event::Started { pid } => {
                if let Some(mut s) = held.take()
                    && let Err(e) = s.container_started(&c.id, me, restarts > 0)
                {
                    start_err = Some(e);
                }
                report(format!("started {pid}"));
            }
        });
        store = match held {
            Some(s) => s,
            None => Store::open(&paths.root)?,
        };
        if let Some(e) = start_err {
            eprintln!("barge supervisor: recording the start: {e}");
        }
        let (code, oom) = match &result {
            Ok(o) => (if o.oom_killed { 137 } else { o.code() }, o.oom_killed),
            Err(e) => {
                report(format!(
                    "error {} {}",
                    e.exit_code(),
                    e.to_string().replace('\n', " ")
                ));
                (e.exit_code(), false)
            }
        };
        store.container_exited(&c.id, code as i64, oom)?;
        if settings.auto_remove {
            container::remove_files(&store, paths, &c.id)?;
            store.delete_container(&c.id)?;
            for v in &settings.anonymous_volumes {
                let _ = crate::volume::remove(&paths.root, v);
            }
            return Ok(0);
        }
        let now = container::find(&store, &c.id)?;
        let again = result.is_ok()
            && !now.stop_requested
            && match settings.restart.as_str() {
                "always" | "unless-stopped" => true,
                "on-failure" => {
                    code != 0 && (settings.restart_max == 0 || restarts < settings.restart_max)
                }
                _ => false,
            };
        if !again {
            return Ok(0);
        }
        restarts += 1;
        std::thread::sleep(backoff);
        backoff = (backoff * 2).min(Duration::from_secs(10));
    }
}

#[derive(Args, Debug)]
pub struct ExecArgs {
    #[arg(add = crate::cli::complete::container())]
    pub container: String,
    /// Command and arguments
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
    /// Detached: start the command and return
    #[arg(short, long)]
    pub detach: bool,
    /// Keep STDIN open
    #[arg(short, long)]
    pub interactive: bool,
    /// Allocate a pseudo-TTY
    #[arg(short, long)]
    pub tty: bool,
    /// Set environment variables
    #[arg(short, long = "env")]
    pub env: Vec<String>,
    /// Username or UID (format: name|uid[:group|gid])
    #[arg(short, long)]
    pub user: Option<String>,
    /// Working directory inside the container
    #[arg(short, long)]
    pub workdir: Option<String>,
}

/// `exec`: run a command in a running container, with the container's namespaces,
/// cgroup, capabilities, seccomp and limits; exit with its code.
pub fn exec(paths: &Paths, a: ExecArgs) -> Result<ExitStatus> {
    if a.tty && a.interactive && !a.detach && !std::io::IsTerminal::is_terminal(&io::stdin()) {
        return Err(Error::InvalidArgument(
            "the input device is not a TTY: drop -t, or run from a terminal".into(),
        ));
    }
    let mut spec = ExecSpec::new(a.command).terminal(a.tty, a.interactive, a.detach);
    for kv in &a.env {
        // `-e KEY` takes the value from barge's environment, or is dropped when unset.
        match kv.split_once('=') {
            Some((k, v)) => spec = spec.env(k, v),
            None => {
                if let Ok(v) = std::env::var(kv) {
                    spec = spec.env(kv, &v);
                }
            }
        }
    }
    if let Some(u) = a.user {
        spec = spec.user(u);
    }
    if let Some(w) = a.workdir {
        spec = spec.workdir(w);
    }
    Ok(Client::from_paths(paths)
        .exec(&a.container, &spec)?
        .exit_code)
}

#[derive(Args, Debug)]
pub struct CpArgs {
    /// CONTAINER:SRC_PATH or a host path
    pub src: String,
    /// CONTAINER:DEST_PATH or a host path ("-" writes a tar to stdout)
    pub dest: String,
}

#[derive(Args, Debug)]
pub struct ExportArgs {
    pub container: String,
    /// Write to FILE instead of standard output
    #[arg(short, long)]
    pub output: Option<String>,
}

fn split_container_path(s: &str) -> Option<(&str, &str)> {
    // `name:/path`; a host path with a colon must start with / or . (as Docker requires).
    if s.starts_with('/') || s.starts_with('.') {
        return None;
    }
    s.split_once(':')
}

/// Run `work` on the container's root filesystem (see runtime::with_rootfs).
fn with_container_root(
    paths: &Paths,
    key: &str,
    work: &mut dyn FnMut(std::os::fd::BorrowedFd<'_>) -> std::result::Result<(), String>,
) -> Result<()> {
    let store = Store::open(&paths.root)?;
    let c = container::find(&store, key)?;
    let dir = container::container_dir(&store, &c.id);
    let (_, settings) = container::load_bundle(&dir)?;
    let running = container::supervised(&c);
    drop(store);
    let state_root = container::state_root(paths);
    crate::runtime::with_rootfs(
        running.then_some((state_root.as_path(), c.id.as_str())),
        &settings.rootfs_mount(&dir),
        &dir.join("rootfs"),
        work,
    )
    .map_err(|e| Error::Other(format!("container {}: {e}", c.name)))
}

pub fn cp(paths: &Paths, a: CpArgs) -> Result<ExitStatus> {
    match (split_container_path(&a.src), split_container_path(&a.dest)) {
        (Some((ctr, src)), None) => {
            let src = std::path::PathBuf::from(src);
            if a.dest == "-" {
                let mut out = io::BufWriter::new(io::stdout().lock());
                with_container_root(paths, ctr, &mut |root| {
                    crate::container::fs::tar_out(root, &src, &mut out).map_err(|e| format!("{}: {e}", src.display()))
                })?;
                out.flush().at("stdout")?;
            } else {
                let dest = std::path::PathBuf::from(&a.dest);
                with_container_root(paths, ctr, &mut |root| {
                    crate::container::fs::copy_out(root, &src, &dest).map_err(|e| format!("{}: {e}", src.display()))
                })?;
            }
            Ok(0)
        }
        (None, Some((ctr, dest))) => {
            let src = std::path::PathBuf::from(&a.src);
            let dest = std::path::PathBuf::from(dest);
            if !src.exists() {
                return Err(Error::InvalidArgument(format!("no such file or directory: {}", src.display())));
            }
            with_container_root(paths, ctr, &mut |root| crate::container::fs::copy_in(root, &src, &dest))?;
            Ok(0)
        }
        _ => Err(Error::InvalidArgument(
            "cp needs exactly one side as CONTAINER:PATH (copying between containers is not supported)".into(),
        )),
    }
}

pub fn export(paths: &Paths, a: ExportArgs) -> Result<ExitStatus> {
    let write = |out: &mut dyn Write| -> Result<()> {
        with_container_root(paths, &a.container, &mut |root| {
            crate::container::fs::tar_out(root, std::path::Path::new("/"), out)
                .map_err(|e| e.to_string())
        })
    };
    match a.output.as_deref() {
        None | Some("-") => {
            if std::io::IsTerminal::is_terminal(&io::stdout()) {
                return Err(Error::InvalidArgument(
                    "refusing to write an archive to a terminal: use -o FILE or redirect".into(),
                ));
            }
            let mut out = io::BufWriter::new(io::stdout().lock());
            write(&mut out)?;
            out.flush().at("stdout")?;
        }
        Some(path) => {
            let tmp = format!("{path}.barge-tmp-{}", std::process::id());
            let mut f = io::BufWriter::new(std::fs::File::create(&tmp).at(&tmp)?);
            let r = write(&mut f).and_then(|_| f.flush().at(&tmp));
            if r.is_err() {
                let _ = std::fs::remove_file(&tmp);
            }
            r?;
            std::fs::rename(&tmp, path).at(path)?;
        }
    }
    Ok(0)
}

#[derive(Args, Debug)]
pub struct PauseArgs {
    #[arg(required = true)]
    pub containers: Vec<String>,
}

#[derive(Args, Debug)]
pub struct StatsArgs {
    /// Containers (default: all running)
    pub containers: Vec<String>,
    /// Print one sample and exit (barge always does; the flag is accepted for Docker's sake)
    #[arg(long)]
    pub no_stream: bool,
    /// Output: table, json or a Go template
    #[arg(long)]
    pub format: Option<String>,
}

fn set_frozen(paths: &Paths, a: PauseArgs, frozen: bool) -> Result<ExitStatus> {
    let store = Store::open(&paths.root)?;
    each(&a.containers, |n| {
        let c = &container::find(&store, n)?;
        if !container::supervised(c) {
            return Err(Error::Conflict(format!(
                "container {} is not running",
                c.name
            )));
        }
        let cg = crate::runtime::cgroup(&container::state_root(paths), &c.id)
            .map_err(|e| Error::Other(format!("container {}: {e}", c.name)))?;
        if cg.frozen() == frozen {
            return Err(Error::Conflict(format!(
                "container {} is {}paused",
                c.name,
                if frozen { "already " } else { "not " }
            )));
        }
        cg.freeze(frozen)
            .map_err(|e| Error::Other(format!("container {}: {e}", c.name)))
    })
}

pub fn pause(paths: &Paths, a: PauseArgs) -> Result<ExitStatus> {
    set_frozen(paths, a, true)
}

pub fn unpause(paths: &Paths, a: PauseArgs) -> Result<ExitStatus> {
    set_frozen(paths, a, false)
}

/// Whether a container known to run is frozen by `pause`.
fn is_frozen(paths: &Paths, c: &ContainerRecord) -> bool {
    crate::runtime::cgroup(&container::state_root(paths), &c.id).is_ok_and(|cg| cg.frozen())
}

pub fn stats(paths: &Paths, a: StatsArgs) -> Result<ExitStatus> {
    let store = Store::open(&paths.root)?;
    let targets: Vec<ContainerRecord> = if a.containers.is_empty() {
        store
            .containers()?
            .into_iter()
            .filter(container::supervised)
            .collect()
    } else {
        a.containers
            .iter()
            .map(|n| container::find(&store, n))
            .collect::<Result<_>>()?
    };
    let root = container::state_root(paths);
    let sample = |c: &ContainerRecord| {
        crate::runtime::cgroup(&root, &c.id)
            .ok()
            .map(|cg| cg.usage())
    };
    let first: Vec<_> = targets.iter().map(sample).collect();
    let t0 = std::time::Instant::now();
    std::thread::sleep(Duration::from_millis(200));
    let dt = t0.elapsed().as_nanos() as f64;
    let ncpu = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1) as f64;
    let total_mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .next()
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok())
        })
        .map(|kb| kb * 1024)
        .unwrap_or(0);
    let mut rows = Vec::new();
    for (c, before) in targets.iter().zip(first) {
        let (mem, limit, cpu, pids) = sample(c).unwrap_or((0, None, 0, 0));
        let cpu_pct = match before {
            Some((_, _, cpu0, _)) if cpu >= cpu0 => (cpu - cpu0) as f64 / dt * 100.0,
            _ => 0.0,
        };
        let limit = limit.unwrap_or(total_mem);
        let mem_pct = if limit > 0 {
            mem as f64 / limit as f64 * 100.0
        } else {
            0.0
        };
        let _ = ncpu;
        rows.push(json!({
            "BlockIO": "--",
            "CPUPerc": format!("{cpu_pct:.2}%"),
            "Container": &c.id[..12],
            "ID": &c.id[..12],
            "MemPerc": format!("{mem_pct:.2}%"),
            "MemUsage": format!("{} / {}", ui::human_size_binary(mem), ui::human_size_binary(limit)),
            "Name": c.name,
            "NetIO": "--",
            "PIDs": pids.to_string(),
        }));
    }
    let columns = [
        ("CONTAINER ID", "ID"),
        ("NAME", "Name"),
        ("CPU %", "CPUPerc"),
        ("MEM USAGE / LIMIT", "MemUsage"),
        ("MEM %", "MemPerc"),
        ("NET I/O", "NetIO"),
        ("BLOCK I/O", "BlockIO"),
        ("PIDS", "PIDs"),
    ];
    ui::print_rows(
        &mut out(),
        &Format::parse(a.format.as_deref()),
        &columns,
        &rows,
    )
    .at("stdout")?;
    Ok(0)
}

#[derive(Args, Debug)]
pub struct AttachArgs {
    pub container: String,
    /// Do not attach STDIN
    #[arg(long)]
    pub no_stdin: bool,
    /// Key sequence that detaches (only the default ctrl-p,ctrl-q is supported)
    #[arg(long, default_value = "ctrl-p,ctrl-q")]
    pub detach_keys: String,
}

/// Send our terminal's size to a container's supervisor (see `control_socket`).
fn send_winsize(ctl: &std::os::unix::net::UnixDatagram) {
    use std::os::fd::AsRawFd;
    for fd in [io::stdout().as_raw_fd(), io::stdin().as_raw_fd()] {
        // SAFETY: TIOCGWINSZ writes one winsize into a valid, owned struct.
        let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
        if unsafe { libc::ioctl(fd, libc::TIOCGWINSZ, &mut ws) } == 0 && ws.ws_row > 0 {
            let mut msg = [supervisor::detached::CONTROL_RESIZE, 0, 0, 0, 0];
            msg[1..3].copy_from_slice(&ws.ws_row.to_be_bytes());
            msg[3..5].copy_from_slice(&ws.ws_col.to_be_bytes());
            let _ = ctl.send(&msg);
            return;
        }
    }
}

/// `attach`: the container's live output here, our input to its stdin (when it was run
/// with -i); ctrl-p ctrl-q detaches. Exits with the container's code when it ends.
pub fn attach(paths: &Paths, a: AttachArgs) -> Result<ExitStatus> {
    use std::io::Read;
    use std::os::fd::AsFd;
    use supervisor::detached::{ATTACH_STDERR, attach_socket};
    if a.detach_keys != "ctrl-p,ctrl-q" {
        return Err(Error::InvalidArgument(
            "only --detach-keys ctrl-p,ctrl-q is supported".into(),
        ));
    }
    let store = Store::open(&paths.root)?;
    let c = container::find(&store, &a.container)?;
    if !container::supervised(&c) {
        return Err(Error::Conflict(format!(
            "you cannot attach to a stopped container {}; start it first",
            c.name
        )));
    }
    let dir = container::container_dir(&store, &c.id);
    let (_, settings) = container::load_bundle(&dir)?;
    let dirf = std::fs::File::open(&dir).at(&dir)?;
    let mut sock = std::os::unix::net::UnixStream::connect(attach_socket(&dirf))
        .map_err(|e| Error::Other(format!("container {}: cannot attach: {e}", c.name)))?;
    let mut stdin_open = settings.stdin_open && !a.no_stdin;
    let _raw = if settings.tty && stdin_open {
        ui::RawMode::enter()
    } else {
        None
    };
    // A terminal's size follows ours: now, and on every SIGWINCH.
    let resize = settings
        .tty
        .then(|| {
            let ctl = std::os::unix::net::UnixDatagram::unbound().ok()?;
            ctl.connect(supervisor::detached::control_socket(&dirf))
                .ok()?;
            let mut winch = nix::sys::signal::SigSet::empty();
            winch.add(nix::sys::signal::Signal::SIGWINCH);
            winch.thread_block().ok()?;
            let sfd = nix::sys::signalfd::SignalFd::with_flags(
                &winch,
                nix::sys::signalfd::SfdFlags::SFD_NONBLOCK
                    | nix::sys::signalfd::SfdFlags::SFD_CLOEXEC,
            )
            .ok()?;
            send_winsize(&ctl);
            Some((ctl, sfd))
        })
        .flatten();
    let stdin = io::stdin();
    let stdin_fd = stdin.as_fd();
    let mut frame: Vec<u8> = Vec::new();
    let mut buf = vec![0u8; 32 << 10];
    let mut prev_ctrl_p = false;
    loop {
        let mut fds = vec![rustix::event::PollFd::new(
            &sock,
            rustix::event::PollFlags::IN,
        )];
        if stdin_open {
            fds.push(rustix::event::PollFd::new(
                &stdin_fd,
                rustix::event::PollFlags::IN,
            ));
        }
        let winch_slot = fds.len();
        if let Some((_, sfd)) = &resize {
            fds.push(rustix::event::PollFd::new(
                sfd,
                rustix::event::PollFlags::IN,
            ));
        }
        match rustix::event::poll(&mut fds, None) {
            Ok(_) => {}
            Err(rustix::io::Errno::INTR) => continue,
            Err(e) => return Err(Error::Other(format!("poll: {e}"))),
        }
        let sock_ready = !fds[0].revents().is_empty();
        let stdin_ready = stdin_open && !fds[1].revents().is_empty();
        let winch_ready = fds.get(winch_slot).is_some_and(|f| !f.revents().is_empty());
        drop(fds);
        if winch_ready && let Some((ctl, sfd)) = &resize {
            while let Ok(Some(_)) = sfd.read_signal() {}
            send_winsize(ctl);
        }
        if sock_ready {
            let n = sock.read(&mut buf).unwrap_or(0);
            if n == 0 {
                break;
            }
            frame.extend_from_slice(&buf[..n]);
            while frame.len() >= 5 {
                let len = u32::from_be_bytes([frame[1], frame[2], frame[3], frame[4]]) as usize;
                if frame.len() < 5 + len {
                    break;
                }
                let data = frame[5..5 + len].to_vec();
                if frame[0] == ATTACH_STDERR {
                    io::stderr().write_all(&data).at("stderr")?;
                } else {
                    let mut o = out();
                    o.write_all(&data).at("stdout")?;
                    o.flush().at("stdout")?;
                }
                frame.drain(..5 + len);
            }
        }
        if stdin_ready {
            let n = rustix::io::read(stdin_fd, &mut buf).unwrap_or(0);
            if n == 0 {
                stdin_open = false;
                continue;
            }
            // ctrl-p ctrl-q detaches; a lone ctrl-p is passed on with what follows it.
            let mut sendable = Vec::with_capacity(n + 1);
            for &b in &buf[..n] {
                if prev_ctrl_p {
                    prev_ctrl_p = false;
                    if b == 0x11 {
                        return Ok(0);
                    }
                    sendable.push(0x10);
                }
                if b == 0x10 {
                    prev_ctrl_p = true;
                } else {
                    sendable.push(b);
                }
            }
            if sock.write_all(&sendable).is_err() {
                break;
            }
        }
    }
    drop(_raw);
    container::wait_stopped(&store, &c.id, Duration::from_secs(30))?;
    Ok(container::find(&store, &c.id)
        .ok()
        .and_then(|c| c.exit_code)
        .unwrap_or(0) as i32)
}
