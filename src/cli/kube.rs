//! `barge kube generate|play|down`: Kubernetes manifests out of containers and pods, and
//! pods and containers out of manifests (see `crate::kube` for the mapping).

use std::io::{self, Read, Write};
use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::ExitStatus;
use super::run::RunArgs;
use crate::config::Paths;
use crate::container::{self, pod};
use crate::error::{Error, IoContext, Result};
use crate::kube::{self, Kind, PodPlan};
use crate::store::Store;
use crate::ui;

#[derive(Subcommand, Debug)]
pub enum KubeCommand {
    /// Write a Kubernetes manifest (YAML) for containers or pods
    #[command(after_long_help = EXAMPLES_KUBE)]
    Generate(GenerateArgs),
    /// Create and start pods from a Kubernetes manifest (Pods and Deployments)
    Play(PlayArgs),
    /// Remove the pods (and their containers and emptyDir volumes) a manifest made
    Down(FileArgs),
}

const EXAMPLES_KUBE: &str = "Examples:
  barge kube generate web > web.yaml             a Pod for the container (or pod) web
  barge kube generate --type deployment web      a Deployment instead
  barge kube play web.yaml                       run it here again
  barge kube play --replace web.yaml             again, after changing it
  barge kube down web.yaml                       and remove what it made";

#[derive(Args, Debug)]
pub struct GenerateArgs {
    /// Containers or pods (names or IDs)
    #[arg(required = true, add = crate::cli::complete::workload())]
    pub names: Vec<String>,
    /// The kind of manifest: pod or deployment
    #[arg(short = 't', long = "type", default_value = "pod", value_parser = ["pod", "deployment"])]
    pub kind: String,
    /// Write to this file instead of stdout
    #[arg(short, long)]
    pub filename: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct PlayArgs {
    /// The manifest (YAML, several documents allowed); - for stdin
    pub file: PathBuf,
    /// Remove the pods of the manifest that exist (as `kube down` does) before playing it
    #[arg(long)]
    pub replace: bool,
}

#[derive(Args, Debug)]
pub struct FileArgs {
    /// The manifest (YAML, several documents allowed); - for stdin
    pub file: PathBuf,
}

pub fn run(paths: &Paths, c: KubeCommand) -> Result<ExitStatus> {
    match c {
        KubeCommand::Generate(a) => generate(paths, a),
        KubeCommand::Play(a) => play(paths, a),
        KubeCommand::Down(a) => down(paths, a),
    }
}

fn generate(paths: &Paths, a: GenerateArgs) -> Result<ExitStatus> {
    let store = Store::open(&paths.root)?;
    let kind = if a.kind == "deployment" {
        Kind::Deployment
    } else {
        Kind::Pod
    };
    let yaml = kube::generate(&store, paths, &a.names, kind)?;
    match &a.filename {
        Some(f) => crate::util::write_atomic(f, yaml.as_bytes())?,
        None => io::stdout()
            .lock()
            .write_all(yaml.as_bytes())
            .at("stdout")?,
    }
    Ok(0)
}

fn read_manifest(file: &PathBuf) -> Result<String> {
    if file.as_os_str() == "-" {
        let mut s = String::new();
        io::stdin().read_to_string(&mut s).at("stdin")?;
        Ok(s)
    } else {
        std::fs::read_to_string(file).at(file)
    }
}

/// The flags `run` would get for one container of a plan.
fn run_args(p: &PodPlan, c: &kube::ContainerPlan, pod_id: &str) -> RunArgs {
    let mut security_opt = Vec::new();
    if c.no_new_privileges {
        security_opt.push("no-new-privileges".to_string());
    }
    RunArgs {
        image: c.image.clone(),
        name: Some(c.name.clone()),
        pod: Some(pod_id.to_string()),
        env: c.env.clone(),
        workdir: c.workdir.clone(),
        user: c.user.clone(),
        volume: c.volumes.clone(),
        tmpfs: c.tmpfs.clone(),
        memory: c.memory.clone(),
        cpus: c.cpus,
        cap_add: c.cap_add.clone(),
        cap_drop: c.cap_drop.clone(),
        privileged: c.privileged,
        read_only: c.read_only,
        security_opt,
        tty: c.tty,
        interactive: c.stdin,
        restart: p.restart.clone(),
        pull: c.pull.clone(),
        sig_proxy: true,
        ..Default::default()
    }
}

/// What can be known wrong before anything is made: a pod that exists, a pod named twice,
/// a host port published by two pods of the manifest.
fn check_plans(store: &Store, plans: &[PodPlan]) -> Result<()> {
    let mut names = std::collections::HashSet::new();
    let mut ports: Vec<(&str, crate::network::PortRequest)> = Vec::new();
    for p in plans {
        if let Ok(existing) = pod::find(store, &p.name) {
            return Err(Error::Conflict(format!(
                "pod {} already exists (play with --replace, or remove it with `barge kube down` or `barge pod rm -f {}`)",
                existing.name, existing.name
            )));
        }
        if !names.insert(&p.name) {
            return Err(Error::InvalidArgument(format!(
                "kube play: the manifest makes two pods named {}",
                p.name
            )));
        }
        for s in &p.publish {
            for r in crate::network::parse_publish(s)? {
                let clash = ports.iter().find(|(_, q)| {
                    q.host_port.is_some()
                        && q.host_port == r.host_port
                        && q.proto == r.proto
                        && (q.host_ip.is_none() || r.host_ip.is_none() || q.host_ip == r.host_ip)
                });
                if let Some((other, _)) = clash {
                    return Err(Error::Conflict(format!(
                        "kube play: pods {other} and {} both publish host port {}/{}",
                        p.name,
                        r.host_port.unwrap_or(0),
                        r.proto
                    )));
                }
                ports.push((&p.name, r));
            }
        }
    }
    Ok(())
}

/// Create one pod of a plan with its containers, then start it. On failure nothing of
/// the pod is left.
fn play_pod(paths: &Paths, store: &mut Store, p: &PodPlan) -> Result<(String, Vec<String>)> {
    let mut publish = Vec::new();
    for s in &p.publish {
        publish.extend(crate::network::parse_publish(s)?);
    }
    let rec = pod::create(
        store,
        paths,
        &pod::PodOptions {
            name: Some(p.name.clone()),
            hostname: p.hostname.clone(),
            labels: p.labels.clone(),
            publish,
            network: None,
            empty_dirs: p.empty_dirs.clone(),
            share: p.share_pid.then(|| {
                let mut s = pod::default_share();
                s.push("pid".into());
                s
            }),
        },
    )?;
    let made = (|| -> Result<Vec<String>> {
        for v in &p.empty_dirs {
            crate::volume::ensure(&paths.root, v)?;
        }
        let mut ids = Vec::new();
        for c in &p.containers {
            let a = run_args(p, c, &rec.id);
            let mut rc = super::run::run_config(paths, &a)?;
            // Kubernetes' command replaces the ENTRYPOINT, which may be several words
            // (`--entrypoint` takes one).
            if let Some(cmd) = &c.command {
                rc.entrypoint = Some(cmd.clone());
            }
            rc.cmd = c.args.clone().unwrap_or_default();
            ids.push(super::run::create_with(paths, &a, rc)?);
        }
        super::pod::start(paths, store, &rec)?;
        Ok(ids)
    })();
    match made {
        Ok(ids) => Ok((rec.id, ids)),
        Err(e) => {
            let _ = pod::remove(store, paths, &rec, true);
            for v in &p.empty_dirs {
                let _ = crate::volume::remove(&paths.root, v);
            }
            Err(e)
        }
    }
}

fn play(paths: &Paths, a: PlayArgs) -> Result<ExitStatus> {
    let text = read_manifest(&a.file)?;
    let plans = kube::plan(&text, &mut |w| ui::warn(&format!("kube play: {w}")))?;
    if plans.is_empty() {
        return Err(Error::InvalidArgument(format!(
            "kube play: {} has no Pod or Deployment",
            a.file.display()
        )));
    }
    let mut store = Store::open(&paths.root)?;
    container::reap_dead(&mut store, paths)?;
    if a.replace {
        // podman's --replace: what an earlier play of this file made goes first. The
        // manifest has been read and checked by now, so a file that does not parse
        // removes nothing.
        remove_plans(paths, &mut store, &plans)?;
    }
    check_plans(&store, &plans)?;
    // All or nothing: a pod that fails (a port taken outside barge, an image missing)
    // takes the pods made before it in this play with it.
    let mut made: Vec<(String, Vec<String>)> = Vec::new();
    for p in &plans {
        match play_pod(paths, &mut store, p) {
            Ok(m) => made.push(m),
            Err(e) => {
                for (id, _) in made.iter().rev() {
                    if let Ok(rec) = pod::find(&store, id) {
                        let _ = pod::remove(&mut store, paths, &rec, true);
                    }
                }
                return Err(e);
            }
        }
    }
    let mut o = io::stdout().lock();
    for (pod_id, ids) in made {
        writeln!(o, "Pod:\n{pod_id}\nContainers:").at("stdout")?;
        for id in ids {
            writeln!(o, "{id}").at("stdout")?;
        }
        writeln!(o).at("stdout")?;
    }
    Ok(0)
}

fn down(paths: &Paths, a: FileArgs) -> Result<ExitStatus> {
    let text = read_manifest(&a.file)?;
    // Warnings were given by `play`; `down` needs only the names.
    let plans = kube::plan(&text, &mut |_| {})?;
    let mut store = Store::open(&paths.root)?;
    let removed = remove_plans(paths, &mut store, &plans)?;
    let mut o = io::stdout().lock();
    if !removed.is_empty() {
        writeln!(o, "Pods removed:").at("stdout")?;
        for id in removed {
            writeln!(o, "{id}").at("stdout")?;
        }
    }
    Ok(0)
}

/// Remove the pods of `plans` that exist, with their containers and emptyDir volumes;
/// returns the IDs of the pods removed.
fn remove_plans(paths: &Paths, store: &mut Store, plans: &[PodPlan]) -> Result<Vec<String>> {
    let mut removed = Vec::new();
    for p in plans {
        match pod::find(store, &p.name) {
            Ok(rec) => {
                pod::remove(store, paths, &rec, true)?;
                removed.push(rec.id);
            }
            Err(Error::NoSuchPod(_)) => {}
            Err(e) => return Err(e),
        }
        for v in &p.empty_dirs {
            if crate::volume::exists(&paths.root, v) {
                crate::volume::remove(&paths.root, v)?;
            }
        }
    }
    Ok(removed)
}
