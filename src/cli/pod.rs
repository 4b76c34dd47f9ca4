//! `barge pod create|ls|inspect|start|stop|rm|prune|top|stats|logs`, and the hidden
//! `__pause` (a pod's infra process). `top`, `stats` and `logs` are the container
//! commands' code run over the pod's containers, with podman's columns.

use std::io::{self, Write};
use std::time::Duration;

use clap::{Args, Subcommand};
use serde_json::{Value, json};

use super::ExitStatus;
use crate::config::Paths;
use crate::container::{self, pod};
use crate::error::{Error, IoContext, Result};
use crate::store::{PodRecord, Store};
use crate::ui::{self, Format};

#[derive(Subcommand, Debug)]
pub enum PodCommand {
    /// Create a pod: a network namespace (address, published ports) its containers share
    #[command(after_long_help = EXAMPLES_POD)]
    Create(CreateArgs),
    /// List pods
    #[command(visible_aliases = ["list", "ps"])]
    Ls(LsArgs),
    /// Show pods as JSON
    Inspect(InspectArgs),
    /// Start pods: the infra process, then every container of the pod
    Start(NamesArgs),
    /// Stop pods: their containers, then the infra process
    Stop(StopArgs),
    /// Remove pods with their containers
    #[command(visible_alias = "remove")]
    Rm(RmArgs),
    /// Remove every pod that is not running, with its containers
    Prune(PruneArgs),
    /// Show the processes of a pod's running containers
    Top(TopArgs),
    /// Show the resource usage of pods' running containers
    Stats(StatsArgs),
    /// Show the logs of a pod's containers, each line after its container's ID or name
    #[command(after_long_help = EXAMPLES_LOGS)]
    Logs(LogsArgs),
}

const EXAMPLES_LOGS: &str = "Examples:
  barge pod logs web                  every container's lines, oldest first
  barge pod logs -n -f web            follow, lines headed by container names
  barge pod logs -c web-app web       one container of the pod";

#[derive(Args, Debug)]
pub struct TopArgs {
    #[arg(add = crate::cli::complete::pod())]
    pub pod: String,
}

#[derive(Args, Debug)]
pub struct StatsArgs {
    /// Pods (default: every running pod)
    #[arg(add = crate::cli::complete::pod())]
    pub pods: Vec<String>,
    /// Every pod, running or not
    #[arg(short, long)]
    pub all: bool,
    /// Print one sample and exit (barge always does; the flag is accepted for podman's sake)
    #[arg(long)]
    pub no_stream: bool,
    /// Output: table, json or a Go template
    #[arg(long)]
    pub format: Option<String>,
}

#[derive(Args, Debug)]
pub struct LogsArgs {
    #[arg(add = crate::cli::complete::pod())]
    pub pod: String,
    /// Only this container of the pod (name or ID)
    #[arg(short, long, add = crate::cli::complete::container())]
    pub container: Option<String>,
    /// Follow the output until every container of the pod has stopped
    #[arg(short, long)]
    pub follow: bool,
    /// Head lines with container names instead of IDs
    #[arg(short, long)]
    pub names: bool,
    /// Number of lines from the end of each container's log ("all" for everything)
    #[arg(long, default_value = "all")]
    pub tail: String,
    /// Show timestamps
    #[arg(short, long)]
    pub timestamps: bool,
    /// Only lines since a time (RFC 3339) or a duration ago (10m, 1h)
    #[arg(long)]
    pub since: Option<String>,
}

const EXAMPLES_POD: &str = "Examples:
  barge pod create --name web -p 8080:80
  barge run -d --pod web --name app busybox httpd -f -p 80
  barge run --rm --pod web busybox wget -qO- http://localhost/   the pod's containers share localhost
  barge pod stop web && barge pod rm web";

#[derive(Args, Debug)]
pub struct CreateArgs {
    /// Assign a name to the pod
    #[arg(long)]
    pub name: Option<String>,
    /// Publish a port of the pod to the host: [IP:][HOST:]CONTAINER[/tcp|udp]
    #[arg(short, long)]
    pub publish: Vec<String>,
    /// Set a label: KEY=VALUE
    #[arg(short, long)]
    pub label: Vec<String>,
    /// The pod's host name (default: its name)
    #[arg(long)]
    pub hostname: Option<String>,
    /// Network: bridge (the default) or a user network's name
    #[arg(long)]
    pub network: Option<String>,
    /// Namespaces the containers share: a comma list of net, ipc, uts, pid (default
    /// net,ipc,uts), or +pid for the defaults and pid
    #[arg(long)]
    pub share: Option<String>,
}

#[derive(Args, Debug)]
pub struct LsArgs {
    /// Only show pod IDs
    #[arg(short, long)]
    pub quiet: bool,
    /// Don't truncate output
    #[arg(long)]
    pub no_trunc: bool,
    /// Output: table, json or a Go template
    #[arg(long)]
    pub format: Option<String>,
}

#[derive(Args, Debug)]
pub struct NamesArgs {
    #[arg(required = true, add = crate::cli::complete::pod())]
    pub pods: Vec<String>,
}

#[derive(Args, Debug)]
pub struct StopArgs {
    #[arg(required = true, add = crate::cli::complete::pod())]
    pub pods: Vec<String>,
    /// Seconds to wait for each container before killing it
    #[arg(short = 't', long = "time", default_value_t = 10)]
    pub time: u64,
}

#[derive(Args, Debug)]
pub struct RmArgs {
    #[arg(required = true, add = crate::cli::complete::pod())]
    pub pods: Vec<String>,
    /// Stop running pods and their containers first
    #[arg(short, long)]
    pub force: bool,
}

#[derive(Args, Debug)]
pub struct InspectArgs {
    #[arg(required = true, add = crate::cli::complete::pod())]
    pub pods: Vec<String>,
    /// Output: json or a Go template
    #[arg(short, long)]
    pub format: Option<String>,
}

#[derive(Args, Debug)]
pub struct PruneArgs {
    /// Do not ask for confirmation
    #[arg(short, long)]
    pub force: bool,
}

#[derive(Args, Debug)]
pub struct PauseArgs {
    pub id: String,
}

pub fn run(paths: &Paths, c: PodCommand) -> Result<ExitStatus> {
    match c {
        PodCommand::Create(a) => create(paths, a),
        PodCommand::Ls(a) => ls(paths, a),
        PodCommand::Inspect(a) => inspect(paths, a),
        PodCommand::Start(a) => each(paths, &a.pods, |store, p| start(paths, store, p)),
        PodCommand::Stop(a) => each(paths, &a.pods, |store, p| {
            pod::stop(store, paths, p, Duration::from_secs(a.time))
        }),
        PodCommand::Rm(a) => each(paths, &a.pods, |store, p| {
            pod::remove(store, paths, p, a.force)
        }),
        PodCommand::Prune(a) => prune(paths, a),
        PodCommand::Top(a) => top(paths, a),
        PodCommand::Stats(a) => stats(paths, a),
        PodCommand::Logs(a) => logs(paths, a),
    }
}

/// `pod top`: `top`'s table over every running container of the pod.
fn top(paths: &Paths, a: TopArgs) -> Result<ExitStatus> {
    let mut store = Store::open(&paths.root)?;
    container::reap_dead(&mut store, paths)?;
    let p = pod::find(&store, &a.pod)?;
    let running: Vec<_> = pod::members(&store, &p.id)?
        .into_iter()
        .filter(container::supervised)
        .collect();
    if running.is_empty() {
        return Err(Error::Conflict(format!(
            "pod {} has no running container",
            p.name
        )));
    }
    let client = crate::client::Client::from_paths(paths);
    let mut rows = Vec::new();
    for c in &running {
        rows.extend(super::container::processes(&client, &c.id)?);
    }
    ui::write_table(
        &mut io::stdout().lock(),
        &super::container::top_header(),
        &rows,
    )
    .at("stdout")?;
    Ok(0)
}

/// `pod stats`: `stats`' figures for the running containers of pods, in podman's columns.
fn stats(paths: &Paths, a: StatsArgs) -> Result<ExitStatus> {
    let mut store = Store::open(&paths.root)?;
    container::reap_dead(&mut store, paths)?;
    let pods: Vec<PodRecord> = if a.pods.is_empty() {
        let all = store.pods()?;
        if a.all {
            all
        } else {
            all.into_iter().filter(pod::infra_running).collect()
        }
    } else {
        a.pods
            .iter()
            .map(|n| pod::find(&store, n))
            .collect::<Result<_>>()?
    };
    let mut targets = Vec::new();
    let mut pod_of = Vec::new();
    for p in &pods {
        for c in pod::members(&store, &p.id)? {
            if container::supervised(&c) {
                pod_of.push(p.id[..12].to_string());
                targets.push(c.id);
            }
        }
    }
    let client = crate::client::Client::from_paths(paths);
    let rows: Vec<Value> = super::container::stats_rows(&client, &targets)?
        .into_iter()
        .zip(pod_of)
        .map(|(r, p)| {
            json!({
                "Pod": p,
                "CID": r["ID"],
                "Name": r["Name"],
                "CPU": r["CPUPerc"],
                "MemUsage": r["MemUsage"],
                "Mem": r["MemPerc"],
                "NetIO": r["NetIO"],
                "BlockIO": r["BlockIO"],
                "PIDS": r["PIDs"],
            })
        })
        .collect();
    let columns = [
        ("POD", "Pod"),
        ("CID", "CID"),
        ("NAME", "Name"),
        ("CPU %", "CPU"),
        ("MEM USAGE / LIMIT", "MemUsage"),
        ("MEM %", "Mem"),
        ("NET IO", "NetIO"),
        ("BLOCK IO", "BlockIO"),
        ("PIDS", "PIDS"),
    ];
    ui::print_rows(
        &mut io::stdout().lock(),
        &Format::parse(a.format.as_deref()),
        &columns,
        &rows,
    )
    .at("stdout")?;
    Ok(0)
}

/// `pod logs`: every container's log (or one's, with -c), each line headed by the
/// container's short ID or name. Without -f the lines of all containers are merged in
/// time order; with -f each container is read by a thread of its own and lines are
/// printed as they come.
fn logs(paths: &Paths, a: LogsArgs) -> Result<ExitStatus> {
    let store = Store::open(&paths.root)?;
    let p = pod::find(&store, &a.pod)?;
    let mut members = pod::members(&store, &p.id)?;
    if let Some(want) = &a.container {
        let c = container::find(&store, want)?;
        if c.pod.as_deref() != Some(p.id.as_str()) {
            return Err(Error::InvalidArgument(format!(
                "container {} is not in pod {}",
                c.name, p.name
            )));
        }
        members.retain(|m| m.id == c.id);
    }
    drop(store);
    let opts = super::container::log_options(a.follow, &a.tail, a.since.as_deref())?;
    let who = |c: &crate::store::ContainerRecord| {
        if a.names {
            c.name.clone()
        } else {
            c.id[..12].to_string()
        }
    };
    let client = crate::client::Client::from_paths(paths);
    if !a.follow {
        let mut lines = Vec::new();
        for c in &members {
            for l in client.logs(&c.id, &opts)? {
                lines.push((who(c), l?));
            }
        }
        // Stable: a container's own lines keep their order when their times tie.
        lines.sort_by_key(|(_, l)| l.time);
        for (w, l) in &lines {
            super::container::emit_from(Some(w), l, a.timestamps)?;
        }
        return Ok(0);
    }
    let (tx, rx) = std::sync::mpsc::channel();
    // Detached threads, not scoped ones: when stdout goes away (`| head`) this returns at
    // once, while a follower may wait for a line that never comes.
    for c in &members {
        let (tx, opts, w, id) = (tx.clone(), opts.clone(), who(c), c.id.clone());
        let client = crate::client::Client::from_paths(paths);
        std::thread::spawn(move || match client.logs(&id, &opts) {
            Ok(it) => {
                for l in it {
                    if tx.send((w.clone(), l)).is_err() {
                        return;
                    }
                }
            }
            Err(e) => {
                let _ = tx.send((w, Err(e)));
            }
        });
    }
    drop(tx);
    for (w, l) in rx {
        super::container::emit_from(Some(&w), &l?, a.timestamps)?;
    }
    Ok(0)
}

/// Parse `KEY=VALUE` labels.
pub fn labels(items: &[String]) -> Result<std::collections::BTreeMap<String, String>> {
    items
        .iter()
        .map(|l| {
            let (k, v) = l.split_once('=').unwrap_or((l, ""));
            if k.is_empty() {
                return Err(Error::InvalidArgument(format!(
                    "invalid label {l:?}: use KEY=VALUE"
                )));
            }
            Ok((k.to_string(), v.to_string()))
        })
        .collect()
}

fn create(paths: &Paths, a: CreateArgs) -> Result<ExitStatus> {
    let mut publish = Vec::new();
    for p in &a.publish {
        publish.extend(crate::network::parse_publish(p)?);
    }
    let opts = pod::PodOptions {
        name: a.name,
        hostname: a.hostname,
        labels: labels(&a.label)?,
        publish,
        network: a.network,
        empty_dirs: Vec::new(),
        share: a.share.as_deref().map(pod::parse_share).transpose()?,
    };
    let mut store = Store::open(&paths.root)?;
    container::reap_dead(&mut store, paths)?;
    let p = pod::create(&mut store, paths, &opts)?;
    writeln!(io::stdout().lock(), "{}", p.id).at("stdout")?;
    Ok(0)
}

/// `pod start`: the infra, then the containers of the pod that are not running.
pub fn start(paths: &Paths, store: &mut Store, p: &PodRecord) -> Result<()> {
    let client = crate::client::Client::from_paths(paths);
    pod::start(store, paths, p, &client.binary()?, &mut |c| {
        client
            .start(&c.id)
            .map_err(|e| Error::Other(format!("pod {}: {e}", p.name)))
    })
}

/// Run `f` for each pod named; print the name, or an error line; 125 if any failed.
fn each(
    paths: &Paths,
    names: &[String],
    mut f: impl FnMut(&mut Store, &PodRecord) -> Result<()>,
) -> Result<ExitStatus> {
    let mut store = Store::open(&paths.root)?;
    let mut failed = false;
    for n in names {
        match pod::find(&store, n).and_then(|p| f(&mut store, &p)) {
            Ok(()) => writeln!(io::stdout().lock(), "{n}").at("stdout")?,
            Err(e) => {
                ui::error(&e.to_string(), None);
                failed = true;
            }
        }
    }
    Ok(if failed { 125 } else { 0 })
}

fn created(secs: i64) -> String {
    format!(
        "{} ago",
        ui::human_duration(chrono::Utc::now().timestamp() - secs)
    )
}

fn ls(paths: &Paths, a: LsArgs) -> Result<ExitStatus> {
    let mut store = Store::open(&paths.root)?;
    container::reap_dead(&mut store, paths)?;
    let pods = store.pods()?;
    let mut o = io::stdout().lock();
    if a.quiet {
        for p in &pods {
            writeln!(o, "{}", if a.no_trunc { &p.id[..] } else { &p.id[..12] }).at("stdout")?;
        }
        return Ok(0);
    }
    let containers = store.containers()?;
    let rows: Vec<Value> = pods
        .iter()
        .map(|p| {
            let members: Vec<_> = containers
                .iter()
                .filter(|c| c.pod.as_deref() == Some(&p.id))
                .cloned()
                .collect();
            let cfg = pod::config(p);
            json!({
                "Id": if a.no_trunc { p.id.clone() } else { p.id[..12].to_string() },
                "Name": p.name,
                "Status": pod::status(p, &members),
                "Created": created(p.created),
                "CreatedAt": chrono::DateTime::from_timestamp(p.created, 0)
                    .map(|t| t.to_rfc3339())
                    .unwrap_or_default(),
                "NumberOfContainers": members.len().to_string(),
                "Containers": members.iter().map(|c| json!({
                    "Id": c.id, "Names": c.name, "Status": container::effective_state(c),
                })).collect::<Vec<_>>(),
                "Labels": cfg.labels,
                "Networks": [cfg.network],
                "Ports": cfg.ports.iter().map(|p| p.to_string()).collect::<Vec<_>>().join(", "),
            })
        })
        .collect();
    let columns = [
        ("POD ID", "Id"),
        ("NAME", "Name"),
        ("STATUS", "Status"),
        ("CREATED", "Created"),
        ("# OF CONTAINERS", "NumberOfContainers"),
        ("PORTS", "Ports"),
    ];
    ui::print_rows(&mut o, &Format::parse(a.format.as_deref()), &columns, &rows).at("stdout")?;
    Ok(0)
}

fn inspect_doc(paths: &Paths, store: &Store, p: &PodRecord) -> Result<Value> {
    let members = pod::members(store, &p.id)?;
    let cfg = pod::config(p);
    let att = crate::network::attachment(&store.root, &p.id);
    let namespaces: serde_json::Map<String, Value> = pod::namespace_paths(paths, p)
        .into_iter()
        .zip(&cfg.share)
        .map(|((_, path), name)| (name.clone(), json!(path)))
        .collect();
    Ok(json!({
        "Id": p.id,
        "Name": p.name,
        "Created": chrono::DateTime::from_timestamp(p.created, 0).map(|t| t.to_rfc3339()).unwrap_or_default(),
        "State": pod::status(p, &members),
        "Hostname": cfg.hostname,
        "Labels": cfg.labels,
        "SharedNamespaces": cfg.share,
        "InfraPid": if pod::infra_running(p) { p.infra_pid.unwrap_or(0) } else { 0 },
        "Namespaces": namespaces,
        "NumContainers": members.len(),
        "Containers": members.iter().map(|c| json!({
            "Id": c.id, "Name": c.name, "State": container::effective_state(c),
        })).collect::<Vec<_>>(),
        "NetworkSettings": {
            "Network": cfg.network,
            "IPAddress": att.as_ref().map(|a| a.ip.to_string()).unwrap_or_default(),
            "Ports": cfg.ports,
        },
    }))
}

fn inspect(paths: &Paths, a: InspectArgs) -> Result<ExitStatus> {
    let store = Store::open(&paths.root)?;
    let mut docs = Vec::new();
    let mut failed = false;
    for n in &a.pods {
        match pod::find(&store, n).and_then(|p| inspect_doc(paths, &store, &p)) {
            Ok(d) => docs.push(d),
            Err(e) => {
                ui::error(&e.to_string(), None);
                failed = true;
            }
        }
    }
    super::image::print_docs(&docs, a.format.as_deref())?;
    Ok(if failed { 125 } else { 0 })
}

fn prune(paths: &Paths, a: PruneArgs) -> Result<ExitStatus> {
    if !a.force {
        match ui::confirm("This will remove all stopped pods and their containers. Continue?") {
            Some(true) => {}
            Some(false) => return Ok(0),
            None => return Err(Error::NeedsConfirmation("pod prune".into())),
        }
    }
    let mut store = Store::open(&paths.root)?;
    container::reap_dead(&mut store, paths)?;
    let mut o = io::stdout().lock();
    for p in store.pods()? {
        let members = pod::members(&store, &p.id)?;
        if pod::infra_running(&p) || members.iter().any(container::supervised) {
            continue;
        }
        pod::remove(&mut store, paths, &p, false)?;
        writeln!(o, "{}", p.id).at("stdout")?;
    }
    Ok(0)
}

/// The infra process of a pod: its first stdout line tells the launcher how it went.
pub fn pause(paths: &Paths, a: PauseArgs) -> Result<ExitStatus> {
    let mut report = crate::supervisor::status_reporter();
    match pod::run_infra(paths, &a.id, &mut report) {
        Ok(()) => Ok(0),
        Err(e) => {
            report(format!("error 125 {}", e.to_string().replace('\n', " ")));
            Err(e)
        }
    }
}
