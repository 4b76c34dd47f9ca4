//! `barge pod create|ls|inspect|start|stop|rm|prune`, and the hidden `__pause` (a pod's
//! infra process).

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
    }
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
    let (net, ipc, uts) = pod::namespace_paths(paths, p);
    Ok(json!({
        "Id": p.id,
        "Name": p.name,
        "Created": chrono::DateTime::from_timestamp(p.created, 0).map(|t| t.to_rfc3339()).unwrap_or_default(),
        "State": pod::status(p, &members),
        "Hostname": cfg.hostname,
        "Labels": cfg.labels,
        "SharedNamespaces": ["net", "ipc", "uts"],
        "InfraPid": if pod::infra_running(p) { p.infra_pid.unwrap_or(0) } else { 0 },
        "Namespaces": {"net": net, "ipc": ipc, "uts": uts},
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
    match pod::run_infra(paths, &a.id, &mut report) {
        Ok(()) => Ok(0),
        Err(e) => {
            report(format!("error 125 {}", e.to_string().replace('\n', " ")));
            Err(e)
        }
    }
}
