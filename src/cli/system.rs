//! `barge system ...`, `barge info`, `barge version`: disk usage, pruning, the store's
//! consistency check, and what this host and build offer.

use std::collections::{HashMap, HashSet};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use clap::Args;
use serde_json::{Value, json};

use super::ExitStatus;
use crate::config::Paths;
use crate::container;
use crate::digest::Digest;
use crate::error::{Error, IoContext, Result};
use crate::reference::{familiar_repo, split_tag};
use crate::store::Store;
use crate::ui::{self, Format};

#[derive(Args, Debug)]
pub struct MigrateArgs {
    /// Stop running containers and pods first, and end every other process left in the
    /// namespace
    #[arg(short, long)]
    pub force: bool,
}

#[derive(Args, Debug)]
pub struct DfArgs {
    /// Output: table, json or a Go template
    #[arg(long)]
    pub format: Option<String>,
    /// Show a row per image, container and volume
    #[arg(short, long)]
    pub verbose: bool,
}

#[derive(Args, Debug)]
pub struct PruneArgs {
    /// Remove all unused images, not only dangling ones
    #[arg(short, long)]
    pub all: bool,
    /// Also remove volumes no container uses
    #[arg(long)]
    pub volumes: bool,
    /// Do not ask for confirmation
    #[arg(short, long)]
    pub force: bool,
}

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// Fix what was found (remove garbage, mark dead containers exited)
    #[arg(long)]
    pub repair: bool,
}

#[derive(Args, Debug)]
pub struct InfoArgs {
    /// Output: json or a Go template ({{.Driver}})
    #[arg(short, long)]
    pub format: Option<String>,
}

fn out() -> io::StdoutLock<'static> {
    io::stdout().lock()
}

pub fn df(paths: &Paths, a: DfArgs) -> Result<ExitStatus> {
    let mut store = Store::open(&paths.root)?;
    container::reap_dead(&mut store, paths)?;
    let u = crate::image::disk_usage(&store)?;
    let pct = |part: u64, whole: u64| (part * 100).checked_div(whole).unwrap_or(0);
    let containers = store.containers()?;
    let container_rows: Vec<(Value, u64, bool)> = containers
        .iter()
        .map(|c| {
            let size = crate::util::dir_size(&container::container_dir(&store, &c.id).join("upper"));
            let running = container::supervised(c);
            let row = json!({
                "ContainerID": &c.id[..12.min(c.id.len())],
                "Image": c.image_name,
                "Command": format!("\"{}\"", c.command),
                "LocalVolumes": "0",
                "Size": ui::human_size(size),
                "CreatedAt": ui::since(chrono::DateTime::from_timestamp(c.created, 0).map(|t| t.to_rfc3339()).as_deref()),
                "Status": container::status_text(c),
                "Names": c.name,
            });
            (row, size, running)
        })
        .collect();
    let used_volumes = crate::volume::in_use(&paths.root, &store)?;
    let volume_rows: Vec<(Value, u64, bool)> = crate::volume::list(&paths.root)?
        .into_iter()
        .map(|v| {
            let size = crate::util::dir_size(&paths.root.join("volumes").join(&v));
            let used = used_volumes.contains(&v);
            let row = json!({
                "Name": v,
                "Links": if used { "1" } else { "0" },
                "Size": ui::human_size(size),
            });
            (row, size, used)
        })
        .collect();
    let summary = |kind: &str, rows: &[(Value, u64, bool)]| {
        let size: u64 = rows.iter().map(|r| r.1).sum();
        let reclaim: u64 = rows.iter().filter(|r| !r.2).map(|r| r.1).sum();
        json!({
            "Type": kind,
            "TotalCount": rows.len().to_string(),
            "Active": rows.iter().filter(|r| r.2).count().to_string(),
            "Size": ui::human_size(size),
            "Reclaimable": format!("{} ({}%)", ui::human_size(reclaim), pct(reclaim, size)),
        })
    };
    let rows = vec![
        json!({
            "Type": "Images",
            "TotalCount": u.images.to_string(),
            "Active": u.active.to_string(),
            "Size": ui::human_size(u.size),
            "Reclaimable": format!("{} ({}%)", ui::human_size(u.reclaimable), pct(u.reclaimable, u.size)),
        }),
        summary("Containers", &container_rows),
        summary("Local Volumes", &volume_rows),
        json!({"Type": "Build Cache", "TotalCount": "0", "Active": "0", "Size": "0B", "Reclaimable": "0B"}),
    ];
    let format = Format::parse(a.format.as_deref());
    let mut out = out();
    if !a.verbose {
        let columns = [
            ("TYPE", "Type"),
            ("TOTAL", "TotalCount"),
            ("ACTIVE", "Active"),
            ("SIZE", "Size"),
            ("RECLAIMABLE", "Reclaimable"),
        ];
        ui::print_rows(&mut out, &format, &columns, &rows).at("stdout")?;
        out.flush().at("stdout")?;
        return Ok(0);
    }
    let image_rows = image_usage_rows(&store)?;
    let c_rows: Vec<Value> = container_rows.into_iter().map(|r| r.0).collect();
    let v_rows: Vec<Value> = volume_rows.into_iter().map(|r| r.0).collect();
    if let Format::Json = format {
        // Docker's `system df -v --format json`: one object with a list per kind.
        let doc = json!({"Images": image_rows, "Containers": c_rows, "Volumes": v_rows, "BuildCache": []});
        writeln!(out, "{doc}").at("stdout")?;
        return Ok(0);
    }
    writeln!(out, "Images space usage:\n").at("stdout")?;
    ui::print_rows(
        &mut out,
        &Format::Table,
        &[
            ("REPOSITORY", "Repository"),
            ("TAG", "Tag"),
            ("IMAGE ID", "ID"),
            ("CREATED", "CreatedSince"),
            ("SIZE", "Size"),
            ("SHARED SIZE", "SharedSize"),
            ("UNIQUE SIZE", "UniqueSize"),
            ("CONTAINERS", "Containers"),
        ],
        &image_rows,
    )
    .at("stdout")?;
    writeln!(out, "\nContainers space usage:\n").at("stdout")?;
    ui::print_rows(
        &mut out,
        &Format::Table,
        &[
            ("CONTAINER ID", "ContainerID"),
            ("IMAGE", "Image"),
            ("COMMAND", "Command"),
            ("LOCAL VOLUMES", "LocalVolumes"),
            ("SIZE", "Size"),
            ("CREATED", "CreatedAt"),
            ("STATUS", "Status"),
            ("NAMES", "Names"),
        ],
        &c_rows,
    )
    .at("stdout")?;
    writeln!(out, "\nLocal Volumes space usage:\n").at("stdout")?;
    ui::print_rows(
        &mut out,
        &Format::Table,
        &[
            ("VOLUME NAME", "Name"),
            ("LINKS", "Links"),
            ("SIZE", "Size"),
        ],
        &v_rows,
    )
    .at("stdout")?;
    writeln!(out, "\nBuild cache usage: 0B").at("stdout")?;
    out.flush().at("stdout")?;
    Ok(0)
}

/// Per-image rows of `system df -v`, from the layer sizes recorded at unpack time: a layer
/// that more than one image uses counts as shared.
fn image_usage_rows(store: &Store) -> Result<Vec<Value>> {
    let images = store.images()?;
    let mut layers_of: HashMap<String, Vec<(String, u64)>> = HashMap::new();
    let mut users: HashMap<String, usize> = HashMap::new();
    for i in &images {
        let layers: Vec<(String, u64)> = store
            .image_layers(&i.id)?
            .into_iter()
            .map(|l| (l.chain_id.as_str().to_string(), l.size))
            .collect();
        for (c, _) in &layers {
            *users.entry(c.clone()).or_default() += 1;
        }
        layers_of.insert(i.id.as_str().to_string(), layers);
    }
    let mut rows = Vec::new();
    for i in &images {
        let layers = &layers_of[i.id.as_str()];
        let size: u64 = layers.iter().map(|l| l.1).sum();
        let shared: u64 = layers
            .iter()
            .filter(|l| users.get(&l.0).copied().unwrap_or(0) > 1)
            .map(|l| l.1)
            .sum();
        let names: Vec<(String, String)> = if i.tags.is_empty() {
            vec![("<none>".into(), "<none>".into())]
        } else {
            i.tags
                .iter()
                .map(|t| {
                    let (r, tag) = split_tag(t);
                    (familiar_repo(r), tag.to_string())
                })
                .collect()
        };
        let containers = store.containers_using(&i.id)?;
        for (repo, tag) in names {
            rows.push(json!({
                "Repository": repo,
                "Tag": tag,
                "ID": i.id.short(),
                "CreatedSince": ui::since(i.created.as_deref()),
                "Size": ui::human_size(size),
                "SharedSize": ui::human_size(shared),
                "UniqueSize": ui::human_size(size - shared),
                "Containers": containers.to_string(),
            }));
        }
    }
    Ok(rows)
}

pub fn prune(paths: &Paths, a: PruneArgs) -> Result<ExitStatus> {
    if !a.force {
        let mut what = vec!["all stopped containers"];
        if a.volumes {
            what.push("all volumes not used by at least one container");
        }
        what.push(if a.all {
            "all images without at least one container associated to them"
        } else {
            "all dangling images"
        });
        what.push("all layers and blobs no image refers to");
        let prompt = format!(
            "WARNING! This will remove:\n  - {}\nAre you sure you want to continue?",
            what.join("\n  - ")
        );
        match ui::confirm(&prompt) {
            Some(true) => {}
            Some(false) => return Ok(0),
            None => return Err(Error::NeedsConfirmation("system prune".into())),
        }
    }
    let pruned = crate::client::Client::from_paths(paths).prune_system(
        &crate::client::SystemPruneOptions::new()
            .all_images(a.all)
            .volumes(a.volumes),
    )?;
    let mut o = out();
    if !pruned.containers.is_empty() {
        writeln!(o, "Deleted Containers:\n{}\n", pruned.containers.join("\n")).at("stdout")?;
    }
    if !pruned.volumes.is_empty() {
        writeln!(o, "Deleted Volumes:\n{}\n", pruned.volumes.join("\n")).at("stdout")?;
    }
    super::image::print_pruned_images(&mut o, &pruned.images).at("stdout")?;
    writeln!(
        o,
        "Total reclaimed space: {}",
        ui::human_size(pruned.reclaimed)
    )
    .at("stdout")?;
    Ok(0)
}

/// One problem `system check` found, and how `--repair` fixes it.
struct Finding {
    what: String,
    fix: Fix,
}

enum Fix {
    RemoveDir(PathBuf),
    RemoveFile(PathBuf),
    RemoveBlob(Digest),
    /// The images that need a missing layer are unusable: delete them (and the row).
    DropImagesOf(Digest),
    ReapContainers,
    RemoveCgroup(PathBuf),
}

/// The `barge` cgroup directories of the host's hierarchies (v2, and every v1 one).
fn cgroup_parents() -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(info) = std::fs::read_to_string("/proc/self/mountinfo") else {
        return out;
    };
    for line in info.lines() {
        let Some((pre, post)) = line.split_once(" - ") else {
            continue;
        };
        let fstype = post.split(' ').next().unwrap_or("");
        if fstype != "cgroup" && fstype != "cgroup2" {
            continue;
        }
        if let Some(mp) = pre.split(' ').nth(4) {
            let p = Path::new(mp).join("barge");
            if p.is_dir() && !out.contains(&p) {
                out.push(p);
            }
        }
    }
    out
}

/// True when no process is in the group or any group below it.
fn cgroup_is_empty(dir: &Path) -> bool {
    let procs = std::fs::read_to_string(dir.join("cgroup.procs")).unwrap_or_default();
    if !procs.trim().is_empty() {
        return false;
    }
    std::fs::read_dir(dir).is_ok_and(|rd| {
        rd.flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .all(|e| cgroup_is_empty(&e.path()))
    })
}

/// Remove a cgroup directory and its children, deepest first (cgroups are removed with
/// rmdir; a group that still has processes stays, and the error says so).
fn remove_cgroup(dir: &Path) -> std::io::Result<()> {
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                remove_cgroup(&e.path())?;
            }
        }
    }
    std::fs::remove_dir(dir)
}

fn find_problems(store: &Store, stale_scratch: Vec<PathBuf>) -> Result<Vec<Finding>> {
    let mut found: Vec<Finding> = stale_scratch
        .into_iter()
        .map(|p| Finding {
            what: format!("scratch of a dead process: {}", p.display()),
            fix: Fix::RemoveDir(p),
        })
        .collect();
    let layers = store.all_layers()?;
    let known: HashSet<String> = layers
        .iter()
        .map(|l| l.chain_id.hex().to_string())
        .collect();
    let layers_dir = store.root.join("layers");
    if let Ok(rd) = std::fs::read_dir(&layers_dir) {
        let mut names: Vec<_> = rd.flatten().map(|e| e.file_name()).collect();
        names.sort();
        for n in names {
            if !known.contains(n.to_string_lossy().as_ref()) {
                let p = layers_dir.join(&n);
                found.push(Finding {
                    what: format!("layer directory without a record: {}", p.display()),
                    fix: Fix::RemoveDir(p),
                });
            }
        }
    }
    for l in &layers {
        let dir = store.layer_dir(&l.chain_id);
        if !dir.join("diff").is_dir() {
            found.push(Finding {
                what: format!(
                    "layer {} is recorded but its directory {} is missing",
                    l.chain_id,
                    dir.display()
                ),
                fix: Fix::DropImagesOf(l.chain_id.clone()),
            });
        }
    }
    let referenced = store.referenced_blobs()?;
    for d in store.content.list()? {
        if !referenced.contains(d.as_str()) {
            found.push(Finding {
                what: format!(
                    "blob without a reference: {}",
                    store.content.path(&d).display()
                ),
                fix: Fix::RemoveBlob(d),
            });
        }
    }
    // Partial downloads: kept while their writer lives (they are resumed), garbage after.
    if let Ok(rd) = std::fs::read_dir(store.root.join("ingest")) {
        for e in rd.flatten() {
            let p = e.path();
            let lock = p.with_extension("lock");
            let held = std::fs::File::open(&lock)
                .map(|f| f.try_lock_shared().is_err())
                .unwrap_or(false);
            if p.extension().is_some_and(|x| x == "partial") && !held {
                found.push(Finding {
                    what: format!("half-written download of a dead process: {}", p.display()),
                    fix: Fix::RemoveFile(p),
                });
            }
        }
    }
    let containers = store.containers()?;
    for c in &containers {
        if c.state == "running" && !container::supervised(c) {
            found.push(Finding {
                what: format!(
                    "container {} is marked running but its supervisor (pid {}) is gone",
                    c.name,
                    c.pid.unwrap_or(0)
                ),
                fix: Fix::ReapContainers,
            });
        }
    }
    // The /barge cgroups are shared by every store on the host (and by `barge oci`), so a
    // group is only garbage when nothing runs in it; the age test leaves alone a group that
    // a starting container has just made and not yet joined.
    let mut live: HashSet<String> = containers
        .iter()
        .filter(|c| container::supervised(c))
        .map(|c| c.id.clone())
        .collect();
    // A pod's group (its infra's and members' groups below it) is `pod stop`'s and `pod
    // rm`'s to remove while the pod exists.
    live.extend(store.pods()?.into_iter().map(|p| format!("pod-{}", p.id)));
    for parent in cgroup_parents() {
        let Ok(rd) = std::fs::read_dir(&parent) else {
            continue;
        };
        let mut groups: Vec<_> = rd
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .map(|e| e.path())
            .collect();
        groups.sort();
        for g in groups {
            let name = g
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            let old = std::fs::metadata(&g)
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age.as_secs() >= 60);
            if !live.contains(name.as_str()) && old && cgroup_is_empty(&g) {
                found.push(Finding {
                    what: format!(
                        "empty cgroup of a container that no longer runs: {}",
                        g.display()
                    ),
                    fix: Fix::RemoveCgroup(g),
                });
            }
        }
    }
    Ok(found)
}

/// Scratch directories under `<root>/tmp` whose owner is dead (their lock is free). Looked
/// for before `Store::open`, which would silently remove them.
fn stale_scratch(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(root.join("tmp")) else {
        return out;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.extension().is_some_and(|x| x == "lock") {
            let free = std::fs::File::options()
                .write(true)
                .open(&p)
                .is_ok_and(|f| f.try_lock().is_ok());
            let dir = p.with_extension("");
            if free && dir.exists() {
                out.push(dir);
            }
        }
    }
    out.sort();
    out
}

pub fn check(paths: &Paths, a: CheckArgs) -> Result<ExitStatus> {
    let scratch = stale_scratch(&paths.root);
    let mut store = Store::open(&paths.root)?;
    // Hold the gc lock for the whole check so an import cannot be mid-way through adopting
    // a layer directory or blob that would look like garbage.
    let lock = store.try_lock_exclusive()?;
    if lock.is_none() {
        return Err(Error::Conflict(
            "an import or prune is running: run `barge system check` when it is done".into(),
        ));
    }
    let mut found = find_problems(&store, scratch)?;
    let clean = found.is_empty();
    let mut o = out();
    let mut unrepaired = 0;
    let mut reaped = false;
    // Dropping an image whose layer is missing leaves its other layers and blobs without
    // references: a repair takes a second look for what it made into garbage.
    for pass in 0..2 {
        let mut dropped_images = false;
        let mut failed: HashSet<String> = HashSet::new();
        for f in &found {
            if !a.repair {
                writeln!(o, "{}", f.what).at("stdout")?;
                unrepaired += 1;
                continue;
            }
            let r: Result<()> = match &f.fix {
                Fix::RemoveDir(p) => std::fs::remove_dir_all(p).at(p),
                Fix::RemoveFile(p) => std::fs::remove_file(p).at(p),
                Fix::RemoveBlob(d) => store.content.remove(d),
                Fix::DropImagesOf(chain) => {
                    dropped_images = true;
                    drop_images_of(&mut store, chain)
                }
                Fix::ReapContainers if reaped => Ok(()),
                Fix::ReapContainers => {
                    reaped = true;
                    container::reap_dead(&mut store, paths)
                }
                Fix::RemoveCgroup(p) => remove_cgroup(p).at(p),
            };
            match r {
                Ok(()) => writeln!(o, "repaired: {}", f.what).at("stdout")?,
                Err(e) => {
                    writeln!(o, "not repaired: {}: {e}", f.what).at("stdout")?;
                    failed.insert(f.what.clone());
                    unrepaired += 1;
                }
            }
        }
        if !a.repair || !dropped_images || pass == 1 {
            break;
        }
        // Only what is new: a finding that could not be repaired is not tried twice.
        found = find_problems(&store, Vec::new())?
            .into_iter()
            .filter(|f| !failed.contains(&f.what))
            .collect();
    }
    drop(lock);
    if clean {
        ui::info("the store is consistent");
    }
    Ok(if unrepaired > 0 { 1 } else { 0 })
}

fn drop_images_of(store: &mut Store, chain: &Digest) -> Result<()> {
    for i in store.images()? {
        if store
            .image_layers(&i.id)?
            .iter()
            .any(|l| &l.chain_id == chain)
        {
            for t in i.tags.iter().chain(&i.repo_digests) {
                store.untag(t)?;
            }
            store.delete_image(&i.id)?;
        }
    }
    store.delete_unused_layer_rows()?;
    Ok(())
}

/// What `barge info` reports, with Docker's field names where Docker has the field.
fn info_doc(paths: &Paths) -> Result<Value> {
    let uname = rustix::system::uname();
    let text = |b: &std::ffi::CStr| b.to_string_lossy().into_owned();
    let (images, containers) = match Store::open(&paths.root) {
        Ok(mut s) => {
            let _ = container::reap_dead(&mut s, paths);
            (s.images()?, s.containers()?)
        }
        Err(e) => return Err(e),
    };
    let running = containers
        .iter()
        .filter(|c| container::supervised(c))
        .count();
    let cgroup = match crate::runtime::cgroup_version() {
        crate::runtime::CgroupVersion::V1 => "1",
        crate::runtime::CgroupVersion::V2 => "2",
    };
    let driver = container::storage_driver(paths);
    let filesystems = std::fs::read_to_string("/proc/filesystems").unwrap_or_default();
    let overlay = filesystems
        .lines()
        .any(|l| l.split_whitespace().last() == Some("overlay"));
    let seccomp_kernel = std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .any(|l| l.starts_with("Seccomp:"));
    let libseccomp = libseccomp::ScmpVersion::current()
        .map(|v| format!("{}.{}.{}", v.major, v.minor, v.micro))
        .unwrap_or_default();
    let userns_max = std::fs::read_to_string("/proc/sys/user/max_user_namespaces")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .unwrap_or(0);
    let programs: serde_json::Map<String, Value> = [
        "newuidmap",
        "newgidmap",
        "fuse-overlayfs",
        "pasta",
        "slirp4netns",
        "iptables",
        "ip",
    ]
    .iter()
    .map(|p| {
        let found = container::which(p).map(|p| p.display().to_string());
        (
            p.to_string(),
            found.map(Value::String).unwrap_or(Value::Null),
        )
    })
    .collect();
    let (networks, default_network) = networks(paths);
    let mut security = Vec::new();
    if seccomp_kernel {
        security.push("name=seccomp,profile=builtin".to_string());
    }
    if paths.rootless {
        security.push("name=rootless".into());
    }
    security.push("name=cgroupns".into());
    Ok(json!({
        "ID": "",
        "Containers": containers.len(),
        "ContainersRunning": running,
        "ContainersPaused": 0,
        "ContainersStopped": containers.len() - running,
        "Images": images.len(),
        "Driver": driver.name,
        "DriverStatus": [
            ["Native Overlay Diff", (driver.name == "overlay").to_string()],
            ["Overlay in kernel", overlay.to_string()],
            ["Mount options", driver.options.join(",")],
            ["Why", driver.why],
        ],
        "DockerRootDir": paths.root.display().to_string(),
        "RunRoot": paths.run.display().to_string(),
        "ConfigFiles": paths.config.files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>(),
        "CgroupDriver": "cgroupfs",
        "CgroupVersion": cgroup,
        "KernelVersion": text(uname.release()),
        "OperatingSystem": os_name(),
        "OSType": "linux",
        "Architecture": text(uname.machine()),
        "NCPU": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        "Name": text(uname.nodename()),
        "ServerVersion": env!("CARGO_PKG_VERSION"),
        "DefaultRuntime": "barge",
        "Runtimes": {"barge": {"path": "(built in)"}},
        "SecurityOptions": security,
        "Rootless": paths.rootless,
        "Features": {
            "Overlay": overlay,
            "Seccomp": seccomp_kernel,
            "Libseccomp": libseccomp,
            "UserNamespaces": userns_max > 0,
            "Networks": networks,
        },
        "DefaultNetwork": default_network,
        "Programs": programs,
    }))
}

/// What `--network` can name here, and the default. As root: the bridge (and user
/// networks, `network ls`), none and host. Rootless there is no bridge: the default network
/// is the user-mode one of slirp4netns (or pasta, `rootless-network`); none and host too.
fn networks(paths: &Paths) -> (Vec<String>, String) {
    let default = paths
        .config
        .default_network
        .clone()
        .unwrap_or_else(|| "bridge".into());
    if paths.rootless {
        // `rootless-network` picks the program behind it.
        let helper = crate::network::Helper::from_config(&paths.config)
            .program()
            .to_string();
        let default = if default == "bridge" {
            helper.clone()
        } else {
            default
        };
        (vec![helper, "none".into(), "host".into()], default)
    } else {
        (vec!["bridge".into(), "none".into(), "host".into()], default)
    }
}

fn os_name() -> String {
    std::fs::read_to_string("/etc/os-release")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("PRETTY_NAME="))
        .map(|v| v.trim_matches('"').to_string())
        .unwrap_or_else(|| "Linux".into())
}

/// Print a document as one JSON line, through a template, or with `human`.
fn print_doc(
    doc: &Value,
    format: Option<&str>,
    human: impl FnOnce(&mut dyn io::Write, &Value) -> io::Result<()>,
) -> Result<()> {
    let mut o = out();
    match Format::parse(format) {
        Format::Json => writeln!(o, "{doc}").at("stdout")?,
        Format::Template { text, .. } => {
            let tpl = ui::template::Template::parse(&text).map_err(Error::InvalidArgument)?;
            writeln!(o, "{}", tpl.render(doc)).at("stdout")?;
        }
        Format::Table => human(&mut o, doc).at("stdout")?,
    }
    o.flush().at("stdout")
}

pub fn info(paths: &Paths, a: InfoArgs) -> Result<ExitStatus> {
    let doc = info_doc(paths)?;
    print_doc(&doc, a.format.as_deref(), |o, d| {
        let s = |k: &str| ui::template::text(&d[k]);
        let yes = |b: &Value| {
            if b.as_bool() == Some(true) {
                "yes"
            } else {
                "no"
            }
        };
        writeln!(o, "Client: barge {} (daemonless)", s("ServerVersion"))?;
        writeln!(o, " Containers: {}", s("Containers"))?;
        writeln!(o, "  Running: {}", s("ContainersRunning"))?;
        writeln!(o, "  Stopped: {}", s("ContainersStopped"))?;
        writeln!(o, " Images: {}", s("Images"))?;
        writeln!(o, " Storage Driver: {}", s("Driver"))?;
        let status = d["DriverStatus"].as_array().cloned().unwrap_or_default();
        for pair in status.iter().skip(2) {
            let k = pair[0].as_str().unwrap_or("");
            let v = pair[1].as_str().unwrap_or("");
            if !v.is_empty() {
                writeln!(o, "  {k}: {v}")?;
            }
        }
        writeln!(o, "  Overlay in kernel: {}", yes(&d["Features"]["Overlay"]))?;
        writeln!(o, " Root Dir: {}", s("DockerRootDir"))?;
        writeln!(o, " Run Dir: {}", s("RunRoot"))?;
        let files = d["ConfigFiles"].as_array().cloned().unwrap_or_default();
        let files: Vec<String> = files.iter().map(ui::template::text).collect();
        let files = if files.is_empty() {
            "(none)".to_string()
        } else {
            files.join(", ")
        };
        writeln!(o, " Config Files: {files}")?;
        writeln!(o, " Cgroup Driver: cgroupfs")?;
        writeln!(o, " Cgroup Version: {}", s("CgroupVersion"))?;
        writeln!(o, " Runtime: barge (built in; no runc, no conmon)")?;
        writeln!(o, " Rootless: {}", yes(&d["Rootless"]))?;
        writeln!(
            o,
            " Seccomp: {} (libseccomp {})",
            yes(&d["Features"]["Seccomp"]),
            d["Features"]["Libseccomp"].as_str().unwrap_or("?")
        )?;
        writeln!(
            o,
            " User Namespaces: {}",
            yes(&d["Features"]["UserNamespaces"])
        )?;
        let default = d["DefaultNetwork"].as_str().unwrap_or("");
        let list: Vec<String> = d["Features"]["Networks"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|n| {
                let n = n.as_str().unwrap_or("");
                let missing = d["Programs"]
                    .get(n)
                    .is_some_and(|p| p.is_null())
                    .then_some("not installed");
                let notes: Vec<&str> = [(n == default).then_some("default"), missing]
                    .into_iter()
                    .flatten()
                    .collect();
                if notes.is_empty() {
                    n.to_string()
                } else {
                    format!("{n} ({})", notes.join(", "))
                }
            })
            .collect();
        writeln!(o, " Networks: {}", list.join(", "))?;
        writeln!(o, " Kernel Version: {}", s("KernelVersion"))?;
        writeln!(o, " Operating System: {}", s("OperatingSystem"))?;
        writeln!(o, " Architecture: {}", s("Architecture"))?;
        writeln!(o, " CPUs: {}", s("NCPU"))?;
        writeln!(o, " Name: {}", s("Name"))?;
        writeln!(o, " Programs:")?;
        if let Some(m) = d["Programs"].as_object() {
            for (k, v) in m {
                let v = v.as_str().unwrap_or("not found");
                writeln!(o, "  {k}: {v}")?;
            }
        }
        Ok(())
    })?;
    Ok(0)
}

/// The version document: Docker's `version --format json` shape, client only (there is no
/// server).
pub fn version_doc() -> Value {
    json!({
        "Client": {
            "Platform": {"Name": "barge"},
            "Version": env!("CARGO_PKG_VERSION"),
            "GitCommit": option_env!("BARGE_GIT_COMMIT").unwrap_or(""),
            "RustVersion": option_env!("BARGE_RUSTC_VERSION").unwrap_or(""),
            "Os": std::env::consts::OS,
            "Arch": std::env::consts::ARCH,
        }
    })
}

pub fn version(a: InfoArgs) -> Result<ExitStatus> {
    print_doc(&version_doc(), a.format.as_deref(), |o, d| {
        let c = &d["Client"];
        let s = |k: &str| c[k].as_str().unwrap_or("").to_string();
        writeln!(o, "Client: barge")?;
        writeln!(o, " Version:      {}", s("Version"))?;
        let commit = s("GitCommit");
        writeln!(
            o,
            " Git commit:   {}",
            if commit.is_empty() {
                "unknown"
            } else {
                &commit
            }
        )?;
        writeln!(o, " Rust version: {}", s("RustVersion"))?;
        writeln!(o, " OS/Arch:      {}/{}", s("Os"), s("Arch"))?;
        writeln!(o, " Daemon:       none (barge is daemonless)")
    })?;
    Ok(0)
}

/// `system migrate`: end the rootless pause (see `runtime::userns::end_pause`) so that the
/// next command maps the user's current subordinate ranges. Whatever runs in the namespace
/// would be stranded in the old one, unreachable by the new: running containers and pods
/// refuse it (or are stopped with `--force`), the slirp4netns of stopped containers is
/// ended (their next start connects them again), and any other process of the namespace
/// (a container of another store, a command still running) refuses it or, with
/// `--force`, is killed.
pub fn migrate(paths: &Paths, a: MigrateArgs) -> Result<ExitStatus> {
    use crate::runtime::userns;
    if !paths.rootless {
        ui::info(
            "barge: nothing to migrate: root's containers run in no user namespace of barge's",
        );
        return Ok(0);
    }
    let mut store = Store::open(&paths.root)?;
    container::reap_dead(&mut store, paths)?;
    let running: Vec<_> = store
        .containers()?
        .into_iter()
        .filter(container::supervised)
        .collect();
    let pods: Vec<_> = store
        .pods()?
        .into_iter()
        .filter(container::pod::infra_running)
        .collect();
    if !a.force && (!running.is_empty() || !pods.is_empty()) {
        let names: Vec<String> = running
            .iter()
            .map(|c| c.name.clone())
            .chain(pods.iter().map(|p| format!("pod {}", p.name)))
            .collect();
        return Err(Error::Hinted {
            msg: format!(
                "cannot renew the user namespace while containers run in it: {}",
                names.join(", ")
            ),
            hint: "stop them first, or use `barge system migrate --force` to stop them".into(),
        });
    }
    for p in &pods {
        container::pod::stop(&mut store, paths, p, std::time::Duration::from_secs(10))?;
    }
    for c in &running {
        let timeout = container::load_bundle(&container::container_dir(&store, &c.id))
            .ok()
            .and_then(|(_, s)| s.stop_timeout)
            .unwrap_or(10);
        container::stop(
            &mut store,
            paths,
            c,
            std::time::Duration::from_secs(timeout),
        )?;
    }
    for id in crate::network::attached(&store.root) {
        crate::network::stop_helper(&store.root, &id)?;
    }
    drop(store);
    let dir = crate::config::user_run_dir();
    let (uid, _) = crate::config::host_ids();
    let others = userns::namespace_members(&dir, uid);
    if !others.is_empty() {
        let list: Vec<String> = others.iter().map(|(p, n)| format!("{p} ({n})")).collect();
        if !a.force {
            return Err(Error::Hinted {
                msg: format!(
                    "cannot renew the user namespace: other processes still run in it: {}",
                    list.join(", ")
                ),
                hint: "they belong to another store's containers or to barge commands still \
                       running; end them, or use `barge system migrate --force` to kill them"
                    .into(),
            });
        }
        for (pid, _) in &others {
            // SAFETY: kill has no memory-safety requirements; the user's own process, in
            // the namespace being ended.
            unsafe { libc::kill(*pid, libc::SIGKILL) };
        }
    }
    userns::end_pause(&dir).map_err(|e| Error::Other(format!("rootless: {e}")))?;
    ui::info(
        "barge: the next command makes a new user namespace with the ranges of /etc/subuid and \
         /etc/subgid",
    );
    Ok(0)
}
