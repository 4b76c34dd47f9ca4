//! Containers: records in the store, their directories, and the OCI spec built from image
//! config + flags. The runtime (runtime/) gets only the spec and the rootfs mount.
//!
//! A container lives in `<root>/containers/<id>/` (upper/ and work/ of its overlay, rootfs/
//! as the mount point, hostname, hosts, resolv.conf) and has a row in the store. Runtime
//! state (the init's pid, cgroup) lives in `<run>/containers/<id>/`, owned by runtime/.

pub mod defaults;
pub mod spec;

use std::path::{Path, PathBuf};

use crate::config::Paths;
use crate::digest::Digest;
use crate::error::{Error, IoContext, Result};
use crate::image;
use crate::runtime::RootfsMount;
use crate::store::{ContainerRecord, ImageRecord, Store};
pub use spec::{Network, RunConfig, Seccomp, UserMount};

/// A container ready to start: its record, its spec and the overlay to mount.
pub struct Prepared {
    pub record: ContainerRecord,
    pub dir: PathBuf,
    pub spec: oci_spec::runtime::Spec,
    pub rootfs_mount: RootfsMount,
}

/// 64 random hex digits, like Docker's container IDs.
pub fn new_id() -> String {
    let mut buf = [0u8; 32];
    let mut filled = 0;
    while filled < buf.len() {
        match rustix::rand::getrandom(&mut buf[filled..], rustix::rand::GetRandomFlags::empty()) {
            Ok(n) => filled += n,
            Err(rustix::io::Errno::INTR) => continue,
            Err(_) => {
                // getrandom cannot fail on Linux ≥ 3.17 except EINTR; mix the clock in as a
                // last resort so IDs stay distinct.
                let t = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_nanos())
                    .unwrap_or(0);
                let d = Digest::of(format!("{t}-{}", std::process::id()).as_bytes());
                return d.hex().to_string();
            }
        }
    }
    hex::encode(buf)
}

const ADJECTIVES: &[&str] = &[
    "brave", "calm", "clever", "eager", "fancy", "gentle", "happy", "jolly", "keen", "lucid",
    "merry", "nifty", "proud", "quiet", "rapid", "sharp", "swift", "tender", "vivid", "witty",
    "zealous", "bold", "crisp", "dapper",
];
const NOUNS: &[&str] = &[
    "anchor", "ballast", "bollard", "bow", "cargo", "deck", "dock", "ferry", "galley", "harbor",
    "hull", "jetty", "keel", "lock", "mast", "mooring", "pier", "quay", "rudder", "sail", "stern",
    "tug", "wharf", "tiller",
];

/// A readable random name (`swift_keel`), as Docker gives unnamed containers.
pub fn random_name(id: &str) -> String {
    let n = u64::from_str_radix(&id[..12], 16).unwrap_or(0);
    let a = ADJECTIVES[(n % ADJECTIVES.len() as u64) as usize];
    let b = NOUNS[((n / 97) % NOUNS.len() as u64) as usize];
    format!("{a}_{b}_{}", &id[..4])
}

/// Docker's rule for names: `[a-zA-Z0-9][a-zA-Z0-9_.-]*`.
pub fn validate_name(name: &str) -> Result<()> {
    let ok = name.len() <= 253
        && name
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidArgument(format!(
            "invalid container name {name:?}: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"
        )))
    }
}

fn containers_dir(store: &Store) -> PathBuf {
    store.root.join("containers")
}

/// The runtime state root for barge's own containers.
pub fn state_root(paths: &Paths) -> PathBuf {
    paths.run.join("containers")
}

fn resolv_conf() -> String {
    // With systemd-resolved the host file points at 127.0.0.53, which a container cannot
    // reach; the upstream list sits beside it.
    for p in ["/etc/resolv.conf", "/run/systemd/resolve/resolv.conf"] {
        if let Ok(text) = std::fs::read_to_string(p) {
            let usable = !text
                .lines()
                .any(|l| l.trim_start().starts_with("nameserver 127."));
            if usable || p.ends_with("resolve/resolv.conf") {
                return text;
            }
        }
    }
    String::new()
}

/// Create the container: its directories, its /etc files, its spec and its record.
/// `supervisor` is the pid (and start time) of the process that will watch it.
pub fn prepare(
    store: &mut Store,
    image: &ImageRecord,
    image_name: &str,
    name: Option<&str>,
    rc: &RunConfig,
    auto_remove: bool,
    supervisor: (i64, i64),
) -> Result<Prepared> {
    let id = new_id();
    let name = match name {
        Some(n) => {
            validate_name(n)?;
            n.to_string()
        }
        None => random_name(&id),
    };
    let (config, _) = image::config(store, image)?;
    let layers = store.image_layers(&image.id)?;
    if layers.is_empty() {
        return Err(Error::Other(format!(
            "image {} has no layers to run",
            image.id.short()
        )));
    }
    let lowerdirs: Vec<PathBuf> = layers
        .iter()
        .rev()
        .map(|l| store.layer_dir(&l.chain_id).join("diff"))
        .collect();
    let dir = containers_dir(store).join(&id);
    for sub in ["upper", "work", "rootfs"] {
        let p = dir.join(sub);
        std::fs::create_dir_all(&p).at(&p)?;
    }
    let hostname_file = dir.join("hostname");
    let hosts_file = dir.join("hosts");
    let resolv_file = dir.join("resolv.conf");
    let image_config = config.config.clone().unwrap_or(serde_json::Value::Null);
    let input = spec::SpecInput {
        id: &id,
        image: &image_config,
        layers: &lowerdirs,
        rootfs: &dir.join("rootfs"),
        etc_files: [&hostname_file, &hosts_file, &resolv_file],
    };
    let spec = match spec::build(&input, rc) {
        Ok(s) => s,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&dir);
            return Err(e);
        }
    };
    let hostname = spec.hostname().clone().unwrap_or_default();
    let hosts = if rc.network == Some(Network::Host) {
        std::fs::read_to_string("/etc/hosts").unwrap_or_default()
    } else {
        format!(
            "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\t{hostname}\n"
        )
    };
    for (p, text) in [
        (&hostname_file, format!("{hostname}\n")),
        (&hosts_file, hosts),
        (&resolv_file, resolv_conf()),
    ] {
        std::fs::write(p, text).at(p)?;
    }
    let command = spec
        .process()
        .as_ref()
        .and_then(|p| p.args().clone())
        .unwrap_or_default()
        .join(" ");
    let record = ContainerRecord {
        id: id.clone(),
        name,
        image_id: image.id.clone(),
        image_name: image_name.to_string(),
        command,
        created: chrono::Utc::now().timestamp(),
        state: "running".into(),
        pid: Some(supervisor.0),
        pid_start: Some(supervisor.1),
        exit_code: None,
        auto_remove,
        config: serde_json::to_string(&spec).unwrap_or_default(),
    };
    if let Err(e) = store.insert_container(&record) {
        let _ = std::fs::remove_dir_all(&dir);
        return Err(e);
    }
    let rootfs_mount = RootfsMount {
        fstype: "overlay".into(),
        lowerdirs,
        upperdir: Some(dir.join("upper")),
        workdir: Some(dir.join("work")),
        options: vec!["index=off".into()],
    };
    Ok(Prepared {
        record,
        dir,
        spec,
        rootfs_mount,
    })
}

/// Record how a container ended; with `--rm`, remove it entirely.
pub fn finish(
    store: &mut Store,
    paths: &Paths,
    p: &Prepared,
    exit_code: Option<i64>,
) -> Result<()> {
    if p.record.auto_remove {
        remove_files(store, paths, &p.record.id)?;
        store.delete_container(&p.record.id)
    } else {
        store.set_container_state(&p.record.id, "exited", None, None, exit_code)
    }
}

/// Remove a container's directories and its runtime leftovers (cgroup, state).
pub fn remove_files(store: &Store, paths: &Paths, id: &str) -> Result<()> {
    let _ = crate::runtime::delete(&state_root(paths), id, true);
    let dir = containers_dir(store).join(id);
    match std::fs::remove_dir_all(&dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io(dir, e)),
    }
}

/// Start time (clock ticks since boot) of a process, from /proc/PID/stat.
pub fn process_start_time(pid: i64) -> Option<i64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command may contain spaces and parentheses: fields start after the last ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    rest.split_whitespace().nth(19)?.parse().ok()
}

/// This process's (pid, start time), recorded as a container's supervisor.
pub fn self_identity() -> (i64, i64) {
    let pid = std::process::id() as i64;
    (pid, process_start_time(pid).unwrap_or(0))
}

fn alive(pid: Option<i64>, start: Option<i64>) -> bool {
    match (pid, start) {
        (Some(p), Some(s)) => process_start_time(p) == Some(s),
        _ => false,
    }
}

/// Find containers whose supervising barge died (kill -9, power loss) and clean up after
/// them: `--rm` ones are removed, others are marked exited. Cheap when nothing is running.
pub fn reap_dead(store: &mut Store, paths: &Paths) -> Result<()> {
    for c in store.containers()? {
        if c.state != "running" || alive(c.pid, c.pid_start) {
            continue;
        }
        remove_files_runtime_only(paths, &c.id);
        if c.auto_remove {
            remove_files(store, paths, &c.id)?;
            store.delete_container(&c.id)?;
        } else {
            store.set_container_state(&c.id, "exited", None, None, Some(137))?;
        }
    }
    Ok(())
}

fn remove_files_runtime_only(paths: &Paths, id: &str) {
    let _ = crate::runtime::delete(&state_root(paths), id, true);
}

/// The image a container uses keeps it alive: used by `rmi`.
pub fn image_in_use(store: &Store, image: &Digest) -> Result<bool> {
    Ok(store.containers_using(image)? > 0)
}

/// Make sure a path given for a bind mount exists on the host, as Docker's `-v` does for
/// directories (it creates a missing source directory); `--mount type=bind` does not.
pub fn ensure_bind_source(path: &Path, create: bool) -> Result<PathBuf> {
    if !path.is_absolute() {
        return Err(Error::InvalidArgument(format!(
            "bind mount source {:?} is not an absolute path",
            path.display().to_string()
        )));
    }
    if !path.exists() {
        if create {
            std::fs::create_dir_all(path).at(path)?;
        } else {
            return Err(Error::InvalidArgument(format!(
                "bind source path does not exist: {}",
                path.display()
            )));
        }
    }
    Ok(path.to_path_buf())
}
