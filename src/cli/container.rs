//! Container lifecycle commands: create, start, stop, kill, restart, rm, ps, logs, wait,
//! rename, top, container prune, container inspect, and the hidden `__supervise` that
//! watches a detached container.

use std::io::{self, Write};
use std::time::Duration;

use clap::{Args, Subcommand};
use serde_json::{Value, json};

use super::ExitStatus;
use crate::client::{Client, ContainerFilter, ExecSpec, LogLine, LogOptions, LogStream};
use crate::config::Paths;
use crate::container;
use crate::error::{Error, IoContext, Result};
use crate::store::Store;
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
    /// Filter: status=, name=, id=, ancestor=, label=, pod= (a pod's name or ID)
    #[arg(short, long)]
    pub filter: Vec<String>,
    /// Show the ID and name of each container's pod
    #[arg(short, long)]
    pub pod: bool,
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
                let hint = match &e {
                    Error::Hinted { hint, .. } => Some(hint.as_str()),
                    _ => None,
                };
                ui::error(&e.to_string(), hint);
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
    // A bad signal is one error, not one per container.
    container::parse_signal(&a.signal)?;
    let client = Client::from_paths(paths);
    each(&a.containers, |n| client.kill(n, &a.signal))
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
    let mut filter = ContainerFilter::new();
    let mut all = a.all;
    if a.latest {
        filter = filter.last(1);
        all = true;
    }
    if let Some(n) = a.last {
        filter = filter.last(n);
        all = true;
    }
    for f in &a.filter {
        let (k, v) = f.split_once('=').ok_or_else(|| {
            Error::InvalidArgument(format!("invalid filter {f:?}: use key=value"))
        })?;
        filter = match k {
            "status" => {
                all = true;
                filter.status(v)
            }
            "name" => filter.name(v),
            "id" => filter.id(v),
            "ancestor" => filter.ancestor(v),
            "label" => filter.label(v),
            "pod" => filter.pod(v),
            other => {
                return Err(Error::InvalidArgument(format!(
                    "unsupported filter {other:?} (status, name, id, ancestor, label, pod)"
                )));
            }
        };
    }
    let pod_names: std::collections::HashMap<String, String> = Store::open(&paths.root)?
        .pods()?
        .into_iter()
        .map(|p| (p.id, p.name))
        .collect();
    // podman's Pod and PodName fields; left out where there are no pods, so the JSON of a
    // Docker user's containers keeps Docker's fields.
    let pod_fields = a.pod || !pod_names.is_empty();
    if !all {
        filter = filter.running();
    }
    // Listing brings up to date what a killed barge left (a `--rm` container, its
    // network).
    let rows = Client::from_paths(paths).containers(&filter)?;
    let mut o = out();
    if a.quiet {
        for c in &rows {
            writeln!(o, "{}", if a.no_trunc { &c.id[..] } else { &c.id[..12] }).at("stdout")?;
        }
        return Ok(0);
    }
    // Docker's NETWORKS column lists every network a container is on.
    let values: Vec<Value> = rows
        .iter()
        .map(|c| {
            let created = c
                .created
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0);
            let running = c.state == "running" || c.state == "paused";
            let mut row = json!({
                "Command": short_command(&c.command, a.no_trunc),
                "CreatedAt": chrono::DateTime::from_timestamp(created, 0)
                    .map(|t| t.format("%Y-%m-%d %H:%M:%S +0000 UTC").to_string())
                    .unwrap_or_default(),
                "ID": if a.no_trunc { c.id.clone() } else { c.id[..12].to_string() },
                "Image": c.image,
                "Labels": c.labels.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(","),
                "LocalVolumes": "0",
                "Mounts": "",
                "Names": c.name,
                "Networks": c.networks.join(","),
                "Pod": match &c.pod {
                    Some(p) if !a.no_trunc => p[..12.min(p.len())].to_string(),
                    p => p.clone().unwrap_or_default(),
                },
                "PodName": c.pod.as_ref().and_then(|p| pod_names.get(p)).cloned().unwrap_or_default(),
                "Ports": if running {
                    c.ports.iter().map(|p| p.to_string()).collect::<Vec<_>>().join(", ")
                } else {
                    String::new()
                },
                "RunningFor": created_since(created),
                "Size": "N/A",
                "State": c.state,
                "Status": c.status,
            });
            if !pod_fields && let Some(o) = row.as_object_mut() {
                o.shift_remove("Pod");
                o.shift_remove("PodName");
            }
            row
        })
        .collect();
    let mut columns = vec![
        ("CONTAINER ID", "ID"),
        ("IMAGE", "Image"),
        ("COMMAND", "Command"),
        ("CREATED", "RunningFor"),
        ("STATUS", "Status"),
        ("PORTS", "Ports"),
        ("NAMES", "Names"),
    ];
    if a.pod {
        columns.extend([("POD ID", "Pod"), ("PODNAME", "PodName")]);
    }
    ui::print_rows(
        &mut o,
        &Format::parse(a.format.as_deref()),
        &columns,
        &values,
    )
    .at("stdout")?;
    Ok(0)
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
    emit_from(None, line, timestamps)
}

/// A log line on stdout or stderr, as it was written; `who` (the container's ID or name,
/// for `pod logs`) goes first.
pub(crate) fn emit_from(who: Option<&str>, line: &LogLine, timestamps: bool) -> Result<()> {
    let mut prefix = who.map(|w| format!("{w} ")).unwrap_or_default();
    if timestamps {
        // As the supervisor wrote it (json-file's format).
        let t: chrono::DateTime<chrono::Utc> = line.time.into();
        prefix += &format!("{} ", t.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true));
    }
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

/// `logs`' (and `pod logs`') options.
pub(crate) fn log_options(follow: bool, tail: &str, since: Option<&str>) -> Result<LogOptions> {
    let mut opts = LogOptions::new().follow(follow);
    if tail != "all" && tail != "-1" {
        opts = opts.tail(
            tail.parse()
                .map_err(|_| Error::InvalidArgument(format!("invalid --tail {tail:?}")))?,
        );
    }
    if let Some(s) = since {
        opts = opts.since(parse_since(s)?.into());
    }
    Ok(opts)
}

pub fn logs(paths: &Paths, a: LogsArgs) -> Result<ExitStatus> {
    let opts = log_options(a.follow, &a.tail, a.since.as_deref())?;
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
    let c = Client::from_paths(paths).container(&a.container)?;
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
    for m in &c.ports {
        match &want {
            None => writeln!(
                o,
                "{}/{} -> {}:{}",
                m.container_port, m.protocol, m.host_ip, m.host_port
            ),
            Some((n, proto)) if *n == m.container_port && *proto == m.protocol => {
                writeln!(o, "{}:{}", m.host_ip, m.host_port)
            }
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
    let rows = processes(&Client::from_paths(paths), &a.container)?;
    ui::write_table(&mut out(), &top_header(), &rows).at("stdout")?;
    Ok(0)
}

/// `top`'s columns (`pod top` has the same).
pub(crate) fn top_header() -> Vec<String> {
    ["UID", "PID", "PPID", "CMD"].map(String::from).to_vec()
}

/// `top`'s rows for a running container: every process of its pid namespace, by pid.
pub(crate) fn processes(client: &Client, id: &str) -> Result<Vec<Vec<String>>> {
    Ok(client
        .top(id)?
        .into_iter()
        .map(|p| {
            vec![
                p.uid.to_string(),
                p.pid.to_string(),
                p.ppid.to_string(),
                p.command,
            ]
        })
        .collect())
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
    let pruned = Client::from_paths(paths).prune_containers()?;
    let mut o = out();
    if !pruned.containers.is_empty() {
        writeln!(o, "Deleted Containers:").at("stdout")?;
        for id in &pruned.containers {
            writeln!(o, "{id}").at("stdout")?;
        }
        writeln!(o).at("stdout")?;
    }
    writeln!(
        o,
        "Total reclaimed space: {}",
        ui::human_size(pruned.reclaimed)
    )
    .at("stdout")?;
    Ok(0)
}

pub fn inspect(paths: &Paths, a: InspectArgs) -> Result<ExitStatus> {
    let client = Client::from_paths(paths);
    let mut docs = Vec::new();
    let mut failed = false;
    for n in &a.containers {
        match client.inspect_container(n) {
            Ok(doc) => docs.push(doc),
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
    let mut report = crate::supervisor::status_reporter();
    let mut store = Store::open(&paths.root)?;
    let c = container::find(&store, &a.id)?;
    let dir = container::container_dir(&store, &c.id);
    let log = container::log_path(&store, &c.id);
    let mut restarts = 0i64;
    let mut backoff = Duration::from_millis(100);
    loop {
        let (mut spec, settings) = container::load_bundle(&dir)?;
        let mount = container::resolve_joins(&store, paths, &mut spec, &settings.joins)
            .and_then(|_| settings.rootfs_mount(paths, &dir));
        let rootfs_mount = match mount {
            Ok(m) => m,
            Err(e) => {
                report(format!("error 125 {}", e.to_string().replace('\n', " ")));
                return Ok(125);
            }
        };
        let opts = supervisor::detached::DetachedOptions {
            id: c.id.clone(),
            rootfs_mount: Some(rootfs_mount),
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

pub fn cp(paths: &Paths, a: CpArgs) -> Result<ExitStatus> {
    let client = Client::from_paths(paths);
    match (split_container_path(&a.src), split_container_path(&a.dest)) {
        (Some((ctr, src)), None) => {
            if a.dest == "-" {
                let mut out = io::BufWriter::new(io::stdout().lock());
                client.copy_from_tar(ctr, src, &mut out)?;
                out.flush().at("stdout")?;
            } else {
                client.copy_from(ctr, src, std::path::Path::new(&a.dest))?;
            }
            Ok(0)
        }
        (None, Some((ctr, dest))) => {
            client.copy_to(ctr, std::path::Path::new(&a.src), dest)?;
            Ok(0)
        }
        _ => Err(Error::InvalidArgument(
            "cp needs exactly one side as CONTAINER:PATH (copying between containers is not supported)".into(),
        )),
    }
}

pub fn export(paths: &Paths, a: ExportArgs) -> Result<ExitStatus> {
    let client = Client::from_paths(paths);
    match a.output.as_deref() {
        None | Some("-") => {
            if std::io::IsTerminal::is_terminal(&io::stdout()) {
                return Err(Error::InvalidArgument(
                    "refusing to write an archive to a terminal: use -o FILE or redirect".into(),
                ));
            }
            let mut out = io::BufWriter::new(io::stdout().lock());
            client.export(&a.container, &mut out)?;
            out.flush().at("stdout")?;
        }
        Some(path) => {
            let tmp = format!("{path}.barge-tmp-{}", std::process::id());
            let mut f = io::BufWriter::new(std::fs::File::create(&tmp).at(&tmp)?);
            let r = client
                .export(&a.container, &mut f)
                .and_then(|_| f.flush().at(&tmp));
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

pub fn pause(paths: &Paths, a: PauseArgs) -> Result<ExitStatus> {
    let client = Client::from_paths(paths);
    each(&a.containers, |n| client.pause(n))
}

pub fn unpause(paths: &Paths, a: PauseArgs) -> Result<ExitStatus> {
    let client = Client::from_paths(paths);
    each(&a.containers, |n| client.unpause(n))
}

pub fn stats(paths: &Paths, a: StatsArgs) -> Result<ExitStatus> {
    let client = Client::from_paths(paths);
    let targets: Vec<String> = if a.containers.is_empty() {
        client
            .containers(&ContainerFilter::new().running())?
            .into_iter()
            .map(|c| c.id)
            .collect()
    } else {
        a.containers.clone()
    };
    let rows = stats_rows(&client, &targets)?;
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

/// One `stats` row (Docker's fields) per container, from two samples of their cgroups
/// 200 ms apart (`pod stats` shows the same figures).
pub(crate) fn stats_rows(client: &Client, targets: &[String]) -> Result<Vec<Value>> {
    let first = targets
        .iter()
        .map(|n| client.stats(n))
        .collect::<Result<Vec<_>>>()?;
    std::thread::sleep(Duration::from_millis(200));
    let mut rows = Vec::new();
    for before in first {
        // Gone since the first sample: it used nothing more.
        let now = client.stats(&before.id).unwrap_or_else(|_| before.clone());
        let dt = now
            .time
            .duration_since(before.time)
            .unwrap_or_default()
            .as_nanos() as f64;
        let cpu_pct = if now.cpu_nanos >= before.cpu_nanos && dt > 0.0 {
            (now.cpu_nanos - before.cpu_nanos) as f64 / dt * 100.0
        } else {
            0.0
        };
        let mem_pct = if now.memory_limit > 0 {
            now.memory_usage as f64 / now.memory_limit as f64 * 100.0
        } else {
            0.0
        };
        rows.push(json!({
            "BlockIO": "--",
            "CPUPerc": format!("{cpu_pct:.2}%"),
            "Container": &now.id[..12],
            "ID": &now.id[..12],
            "MemPerc": format!("{mem_pct:.2}%"),
            "MemUsage": format!("{} / {}", ui::human_size_binary(now.memory_usage), ui::human_size_binary(now.memory_limit)),
            "Name": now.name,
            "NetIO": "--",
            "PIDs": now.pids.to_string(),
        }));
    }
    Ok(rows)
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

/// Give an attached container's terminal the size of ours.
fn send_winsize(att: &crate::client::Attached) {
    use std::os::fd::AsRawFd;
    for fd in [io::stdout().as_raw_fd(), io::stdin().as_raw_fd()] {
        // SAFETY: TIOCGWINSZ writes one winsize into a valid, owned struct.
        let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
        if unsafe { libc::ioctl(fd, libc::TIOCGWINSZ, &mut ws) } == 0 && ws.ws_row > 0 {
            let _ = att.resize(ws.ws_row, ws.ws_col);
            return;
        }
    }
}

/// `attach`: the container's live output here, our input to its stdin (when it was run
/// with -i); ctrl-p ctrl-q detaches. Exits with the container's code when it ends.
pub fn attach(paths: &Paths, a: AttachArgs) -> Result<ExitStatus> {
    use std::os::fd::AsFd;
    if a.detach_keys != "ctrl-p,ctrl-q" {
        return Err(Error::InvalidArgument(
            "only --detach-keys ctrl-p,ctrl-q is supported".into(),
        ));
    }
    let mut att = Client::from_paths(paths).attach(&a.container)?;
    let mut stdin_open = att.stdin_open() && !a.no_stdin;
    let _raw = if att.tty() && stdin_open {
        ui::RawMode::enter()
    } else {
        None
    };
    // A terminal's size follows ours: now, and on every SIGWINCH.
    let winch = att
        .tty()
        .then(|| {
            let mut set = nix::sys::signal::SigSet::empty();
            set.add(nix::sys::signal::Signal::SIGWINCH);
            set.thread_block().ok()?;
            nix::sys::signalfd::SignalFd::with_flags(
                &set,
                nix::sys::signalfd::SfdFlags::SFD_NONBLOCK
                    | nix::sys::signalfd::SfdFlags::SFD_CLOEXEC,
            )
            .ok()
        })
        .flatten();
    send_winsize(&att);
    let stdin = io::stdin();
    let stdin_fd = stdin.as_fd();
    let mut buf = vec![0u8; 32 << 10];
    let mut prev_ctrl_p = false;
    loop {
        let (att_ready, stdin_ready, winch_ready) = {
            let mut fds = vec![rustix::event::PollFd::new(
                &att,
                rustix::event::PollFlags::IN,
            )];
            if stdin_open {
                fds.push(rustix::event::PollFd::new(
                    &stdin_fd,
                    rustix::event::PollFlags::IN,
                ));
            }
            let winch_slot = fds.len();
            if let Some(sfd) = &winch {
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
            (
                !fds[0].revents().is_empty(),
                stdin_open && !fds[1].revents().is_empty(),
                fds.get(winch_slot).is_some_and(|f| !f.revents().is_empty()),
            )
        };
        if winch_ready && let Some(sfd) = &winch {
            while let Ok(Some(_)) = sfd.read_signal() {}
            send_winsize(&att);
        }
        if att_ready {
            let Ok(Some(chunks)) = att.receive() else {
                break;
            };
            for chunk in chunks {
                if chunk.stream == LogStream::Stderr {
                    io::stderr().write_all(&chunk.data).at("stderr")?;
                } else {
                    let mut o = out();
                    o.write_all(&chunk.data).at("stdout")?;
                    o.flush().at("stdout")?;
                }
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
            if att.send(&sendable).is_err() {
                break;
            }
        }
    }
    drop(_raw);
    att.wait()
}
