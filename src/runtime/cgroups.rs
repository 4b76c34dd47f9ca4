//! Control groups, v1 and v2, with just what barge uses: create a group, set memory, cpu and
//! pids limits, device rules (see `devices`), let the init join it, read whether the OOM killer struck, remove it.
//!
//! The version is chosen per host: a pure v2 host has `/sys/fs/cgroup/cgroup.controllers`;
//! otherwise (v1 or hybrid) the v1 controller hierarchies listed in /proc/self/mountinfo are
//! used. On a hybrid host the v2 tree at /sys/fs/cgroup/unified carries no controllers, so it
//! would not enforce any limit.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use oci_spec::runtime::LinuxResources;
use serde::{Deserialize, Serialize};

use super::devices;
use super::error::{Result, RuntimeError};

const ROOT: &str = "/sys/fs/cgroup";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CgroupVersion {
    V1,
    V2,
}

/// Which cgroup version this host uses for resource control.
pub fn host_version() -> CgroupVersion {
    if Path::new(ROOT).join("cgroup.controllers").exists() {
        CgroupVersion::V2
    } else {
        CgroupVersion::V1
    }
}

/// A v1 hierarchy mounted on the host: where, and which controllers (or `name=`) it carries.
#[derive(Clone, Debug)]
pub(crate) struct V1Hierarchy {
    pub mountpoint: PathBuf,
    pub options: Vec<String>,
}

/// The v1 hierarchies, read from /proc/self/mountinfo once per process: a run needs them
/// for its groups and again, in init (a fork, which inherits the list), for the cgroupfs
/// mounts.
pub(crate) fn v1_hierarchies() -> &'static [V1Hierarchy] {
    static CACHE: std::sync::OnceLock<Vec<V1Hierarchy>> = std::sync::OnceLock::new();
    CACHE.get_or_init(read_v1_hierarchies)
}

fn read_v1_hierarchies() -> Vec<V1Hierarchy> {
    let Ok(info) = fs::read_to_string("/proc/self/mountinfo") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for line in info.lines() {
        let Some((pre, post)) = line.split_once(" - ") else {
            continue;
        };
        let mut post = post.split(' ');
        if post.next() != Some("cgroup") {
            continue;
        }
        let super_opts = post.nth(1).unwrap_or("");
        let Some(mp) = pre.split(' ').nth(4) else {
            continue;
        };
        let options = super_opts
            .split(',')
            .filter(|o| *o != "rw" && *o != "ro")
            .map(str::to_owned)
            .collect();
        out.push(V1Hierarchy {
            mountpoint: PathBuf::from(unescape_mountinfo(mp)),
            options,
        });
    }
    out
}

fn unescape_mountinfo(s: &str) -> String {
    s.replace("\\040", " ")
        .replace("\\011", "\t")
        .replace("\\134", "\\")
}

/// A container's cgroup: one directory on v2, one per used controller hierarchy on v1.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Cgroup {
    pub version: CgroupVersion,
    pub dirs: Vec<PathBuf>,
}

/// The v1 controllers barge sets limits through or reads counters from. Others are left to
/// the parent's group, which saves a mkdir+rmdir per hierarchy on every run. `cpu` (shares and
/// quota) joins them only when the spec limits the CPU, unless it shares a hierarchy with
/// `cpuacct` (then the group is made anyway).
const V1_CONTROLLERS: &[&str] = &["memory", "pids", "cpuacct", "freezer"];

/// Turns spec.linux.cgroupsPath (or `/barge/<id>`) into a path relative to a hierarchy root.
/// A systemd-style `slice:prefix:name` is mapped to `slice/prefix-name.scope`: barge does
/// not talk to systemd, but keeps such containers apart the way systemd would name them.
pub fn relative_path(cgroups_path: Option<&Path>, id: &str) -> PathBuf {
    let raw = match cgroups_path {
        Some(p) if !p.as_os_str().is_empty() => p.to_string_lossy().into_owned(),
        _ => format!("/barge/{id}"),
    };
    let parts: Vec<&str> = raw.split(':').collect();
    let rel = if parts.len() == 3 && !raw.starts_with('/') {
        let slice = if parts[0].is_empty() {
            "system.slice"
        } else {
            parts[0]
        };
        format!("{slice}/{}-{}.scope", parts[1], parts[2])
    } else {
        raw
    };
    let rel = rel.trim_start_matches('/');
    // Never let `..` climb out of the hierarchy.
    PathBuf::from(rel)
        .components()
        .filter(|c| matches!(c, std::path::Component::Normal(_)))
        .collect()
}

fn write(path: &Path, value: &str) -> Result<()> {
    let mut f = fs::OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(|e| RuntimeError::file(path, e))?;
    f.write_all(value.as_bytes())
        .map_err(|e| RuntimeError::file(path, e))
}

fn write_if_exists(path: &Path, value: &str) -> Result<()> {
    match write(path, value) {
        Err(RuntimeError::File { source, .. }) if source.kind() == io::ErrorKind::NotFound => {
            Ok(())
        }
        r => r,
    }
}

impl Cgroup {
    /// Creates the group (parents included) and applies `resources`.
    pub fn create(rel: &Path, resources: Option<&LinuxResources>) -> Result<Cgroup> {
        let version = host_version();
        if super::userns::rootless() {
            // An ordinary user may only create groups in a subtree delegated to it; without
            // one the container runs in barge's own group, with no limits (the container
            // side warns when limits were asked for).
            let Some(base) = delegated_base() else {
                return Ok(Cgroup {
                    version,
                    dirs: Vec::new(),
                });
            };
            let dir = base.join("barge.slice").join(rootless_rel(rel));
            enable_v2_controllers_below(&base, &dir)?;
            mkdir(&dir)?;
            let cg = Cgroup {
                version,
                dirs: vec![dir],
            };
            // Device rules need a BPF program, which only the host's root may attach; in
            // a user namespace the container cannot create device nodes anyway.
            let mut r = resources.cloned().unwrap_or_default();
            r.set_devices(None);
            if let Err(e) = cg.apply(&r) {
                cg.remove();
                return Err(e);
            }
            return Ok(cg);
        }
        let dirs = match version {
            CgroupVersion::V2 => {
                let dir = Path::new(ROOT).join(rel);
                enable_v2_controllers(&dir)?;
                mkdir(&dir)?;
                vec![dir]
            }
            CgroupVersion::V1 => {
                let mut dirs = Vec::new();
                // The devices and cpuset hierarchies only when there are settings for them.
                let devices = resources
                    .and_then(|r| r.devices().as_ref())
                    .is_some_and(|d| !d.is_empty());
                let cpuset = resources.is_some_and(wants_cpuset);
                let cpu = resources.is_some_and(wants_cpu);
                for h in v1_hierarchies() {
                    if !h.options.iter().any(|o| {
                        V1_CONTROLLERS.contains(&o.as_str())
                            || (devices && o == "devices")
                            || (cpuset && o == "cpuset")
                            || (cpu && o == "cpu")
                    }) {
                        continue;
                    }
                    let dir = h.mountpoint.join(rel);
                    mkdir(&dir)?;
                    if h.options.iter().any(|o| o == "cpuset") {
                        init_v1_cpuset(&h.mountpoint, rel)?;
                    }
                    dirs.push(dir);
                }
                dirs
            }
        };
        let cg = Cgroup { version, dirs };
        // A group of the same name can be left over, frozen, by a paused container whose
        // supervisor was killed: the new init would freeze as soon as it joined.
        if cg.frozen()
            && let Err(e) = cg.freeze(false)
        {
            cg.remove();
            return Err(e);
        }
        if let Some(r) = resources
            && let Err(e) = cg.apply(r)
        {
            cg.remove();
            return Err(e);
        }
        Ok(cg)
    }

    /// Whether the container has a group of its own (a rootless one without delegation has
    /// none: it runs in barge's, with no limits, freezer or counters).
    pub fn exists(&self) -> bool {
        !self.dirs.is_empty()
    }

    /// The files a *single-threaded* process writes "0" into to join this group: v1's
    /// `tasks` rather than `cgroup.procs`. Moving a whole thread group takes the kernel's
    /// global threadgroup rwsem for writing, which first waits for an RCU grace period
    /// (4-13 ms measured here, most of a container start); moving only the calling thread
    /// skips that lock (Linux 6.x), and for a process of one thread it is the same move.
    /// v2 has no such file: there init is cloned straight into the group
    /// ([`Cgroup::clone_target`]), and this is the fallback.
    pub fn self_join_files(&self) -> Vec<PathBuf> {
        let file = match self.version {
            CgroupVersion::V1 => "tasks",
            CgroupVersion::V2 => "cgroup.procs",
        };
        self.dirs.iter().map(|d| d.join(file)).collect()
    }

    /// On v2, the group's directory opened for `clone3(CLONE_INTO_CGROUP)`: the child is
    /// born in the group, with no migration at all.
    pub fn clone_target(&self) -> Option<std::os::fd::OwnedFd> {
        if self.version != CgroupVersion::V2 || self.dirs.len() != 1 {
            return None;
        }
        rustix::fs::open(
            &self.dirs[0],
            rustix::fs::OFlags::RDONLY
                | rustix::fs::OFlags::DIRECTORY
                | rustix::fs::OFlags::CLOEXEC,
            rustix::fs::Mode::empty(),
        )
        .ok()
    }

    /// Move the calling process, which must be single-threaded, into the group.
    pub fn join(&self) -> Result<()> {
        for f in self.self_join_files() {
            write(&f, "0")?;
        }
        Ok(())
    }

    /// Freeze (`pause`) or thaw (`unpause`) every process of the group, and wait until the
    /// kernel has done it: it freezes asynchronously on both versions, and `pause` returning
    /// while a process still runs would break its promise.
    pub fn freeze(&self, frozen: bool) -> Result<()> {
        let (file, value, state) = match self.version {
            CgroupVersion::V2 => (
                "cgroup.freeze",
                if frozen { "1" } else { "0" },
                "cgroup.events",
            ),
            CgroupVersion::V1 => (
                "freezer.state",
                if frozen { "FROZEN" } else { "THAWED" },
                "freezer.state",
            ),
        };
        self.set(file, value)?;
        let settled = |text: &str| match self.version {
            CgroupVersion::V2 => v2_events_frozen(text) == Some(frozen),
            CgroupVersion::V1 => text.trim() == value,
        };
        for _ in 0..500 {
            let now = self
                .find(state)
                .and_then(|p| fs::read_to_string(p).ok())
                .unwrap_or_default();
            if settled(&now) {
                return Ok(());
            }
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        Err(RuntimeError::Init("the freezer did not settle".into()))
    }

    /// Whether the group is frozen.
    pub fn frozen(&self) -> bool {
        match self.version {
            CgroupVersion::V2 => self
                .find("cgroup.freeze")
                .and_then(|p| fs::read_to_string(p).ok())
                .is_some_and(|t| t.trim() == "1"),
            CgroupVersion::V1 => self
                .find("freezer.state")
                .and_then(|p| fs::read_to_string(p).ok())
                .is_some_and(|t| t.trim() == "FROZEN"),
        }
    }

    /// Usage figures for `stats`: (memory bytes, memory limit, cpu nanoseconds, pids).
    pub fn usage(&self) -> (u64, Option<u64>, u64, u64) {
        let read = |f: &str| {
            self.find(f)
                .and_then(|p| fs::read_to_string(p).ok())
                .unwrap_or_default()
        };
        let num = |t: String| t.trim().parse::<u64>().ok();
        match self.version {
            CgroupVersion::V2 => {
                let cpu = read("cpu.stat")
                    .lines()
                    .find_map(|l| {
                        l.strip_prefix("usage_usec ")
                            .and_then(|v| v.trim().parse::<u64>().ok())
                    })
                    .unwrap_or(0)
                    * 1000;
                (
                    num(read("memory.current")).unwrap_or(0),
                    num(read("memory.max")),
                    cpu,
                    num(read("pids.current")).unwrap_or(0),
                )
            }
            CgroupVersion::V1 => {
                let limit = num(read("memory.limit_in_bytes")).filter(|l| *l < (1 << 62));
                (
                    num(read("memory.usage_in_bytes")).unwrap_or(0),
                    limit,
                    num(read("cpuacct.usage")).unwrap_or(0),
                    num(read("pids.current")).unwrap_or(0),
                )
            }
        }
    }

    fn find(&self, file: &str) -> Option<PathBuf> {
        // On v1 a file lives in the hierarchy of the controller that names it
        // (`memory.limit_in_bytes` in .../memory or .../cpu,memory): look there first, as a
        // run sets some 30 files (device rules among them) and each miss is a path walk.
        let controller = file.split('.').next().unwrap_or("");
        let named = |d: &&PathBuf| {
            d.components().any(|c| {
                c.as_os_str()
                    .to_str()
                    .is_some_and(|n| n.split(',').any(|n| n == controller))
            })
        };
        let likely = self.dirs.iter().filter(named);
        let rest = self.dirs.iter().filter(|d| !named(d));
        likely
            .chain(rest)
            .map(|d| d.join(file))
            .find(|p| p.exists())
    }

    fn set(&self, file: &str, value: &str) -> Result<()> {
        match self.find(file) {
            Some(p) => write(&p, value),
            None => Err(match (self.version, self.dirs.first()) {
                (CgroupVersion::V2, Some(dir)) => {
                    let root = delegated_base()
                        .filter(|b| dir.starts_with(b))
                        .unwrap_or_else(|| PathBuf::from(ROOT));
                    v2_missing(&root, dir, file)
                }
                _ => RuntimeError::InvalidSpec(format!(
                    "cgroup file {file} is not available on this host"
                )),
            }),
        }
    }

    fn apply(&self, r: &LinuxResources) -> Result<()> {
        refuse_unsupported(r)?;
        let v2 = self.version == CgroupVersion::V2;
        if let Some(c) = r.cpu() {
            // cpuset.cpus and cpuset.mems have the same names on v1 and v2.
            if let Some(cpus) = c.cpus().as_deref().filter(|s| !s.is_empty()) {
                self.set("cpuset.cpus", cpus)?;
            }
            if let Some(mems) = c.mems().as_deref().filter(|s| !s.is_empty()) {
                self.set("cpuset.mems", mems)?;
            }
        }
        if let Some(m) = r.memory() {
            let limit = m.limit();
            if v2 {
                if let Some(l) = limit {
                    self.set("memory.max", &v2_max(l))?;
                }
                if let Some(l) = m.reservation() {
                    self.set("memory.low", &v2_max(l))?;
                }
                if let Some(s) = m.swap() {
                    // OCI's swap is memory+swap; v2 limits swap alone.
                    let swap = match (s, limit) {
                        (-1, _) => "max".to_owned(),
                        (s, Some(l)) if l > 0 => (s - l).max(0).to_string(),
                        (s, _) => s.to_string(),
                    };
                    if let Some(p) = self.find("memory.swap.max") {
                        write(&p, &swap)?;
                    }
                }
            } else {
                if let Some(l) = limit {
                    self.set("memory.limit_in_bytes", &l.to_string())?;
                }
                if let Some(l) = m.reservation() {
                    self.set("memory.soft_limit_in_bytes", &l.to_string())?;
                }
                if let Some(s) = m.swap() {
                    // Absent when the kernel runs without swap accounting; nothing to limit then.
                    if let Some(p) = self.find("memory.memsw.limit_in_bytes") {
                        write(&p, &s.to_string())?;
                    }
                }
                if let Some(sw) = m.swappiness()
                    && sw <= 100
                {
                    self.set("memory.swappiness", &sw.to_string())?;
                }
                if m.disable_oom_killer() == Some(true) {
                    self.set("memory.oom_control", "1")?;
                }
            }
        }
        if let Some(c) = r.cpu() {
            if v2 {
                if let Some(s) = c.shares()
                    && s > 0
                {
                    let weight = 1 + ((s.clamp(2, 262144) - 2) * 9999) / 262142;
                    self.set("cpu.weight", &weight.to_string())?;
                }
                if c.quota().is_some() || c.period().is_some() {
                    let quota = match c.quota() {
                        Some(q) if q > 0 => q.to_string(),
                        _ => "max".to_owned(),
                    };
                    let period = c.period().unwrap_or(100_000);
                    self.set("cpu.max", &format!("{quota} {period}"))?;
                }
            } else {
                if let Some(s) = c.shares()
                    && s > 0
                {
                    self.set("cpu.shares", &s.to_string())?;
                }
                if let Some(p) = c.period()
                    && p > 0
                {
                    self.set("cpu.cfs_period_us", &p.to_string())?;
                }
                if let Some(q) = c.quota()
                    && q != 0
                {
                    self.set("cpu.cfs_quota_us", &q.to_string())?;
                }
            }
        }
        if let Some(p) = r.pids() {
            let v = if p.limit() > 0 {
                p.limit().to_string()
            } else {
                "max".to_owned()
            };
            self.set("pids.max", &v)?;
        }
        if let Some(rules) = r.devices().as_ref().filter(|d| !d.is_empty()) {
            if v2 {
                let dir = self.dirs.first().ok_or_else(|| {
                    RuntimeError::InvalidSpec("no cgroup for device rules".into())
                })?;
                devices::apply_v2(dir, rules)?;
            } else {
                // The kernel applies the rules in order itself.
                for (file, line) in devices::v1_writes(rules) {
                    self.set(file, &line)?;
                }
            }
        }
        if v2 && let Some(u) = r.unified() {
            for (k, v) in u {
                if k.contains('/') {
                    return Err(RuntimeError::InvalidSpec(format!("bad unified key {k}")));
                }
                self.set(k, v)?;
            }
        }
        Ok(())
    }

    /// Whether the kernel's OOM killer killed a process of this group.
    pub fn oom_killed(&self) -> bool {
        let (file, key) = match self.version {
            CgroupVersion::V2 => ("memory.events", "oom_kill"),
            CgroupVersion::V1 => ("memory.oom_control", "oom_kill"),
        };
        let Some(p) = self.find(file) else {
            return false;
        };
        let Ok(text) = fs::read_to_string(p) else {
            return false;
        };
        text.lines().any(|l| {
            let mut it = l.split_whitespace();
            it.next() == Some(key) && it.next().and_then(|n| n.parse::<u64>().ok()) > Some(0)
        })
    }

    /// Pids of the processes in the group.
    pub fn pids(&self) -> Vec<i32> {
        let Some(d) = self.dirs.first() else {
            return Vec::new();
        };
        fs::read_to_string(d.join("cgroup.procs"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.trim().parse().ok())
            .collect()
    }

    /// Removes the group's directories. Processes that are still exiting keep a group busy
    /// for a moment (EBUSY), so this retries briefly. Errors are not fatal: a leftover empty
    /// directory is harmless and is reused by the next container with the same id.
    pub fn remove(&self) {
        for d in &self.dirs {
            for i in 0..200 {
                match fs::remove_dir(d) {
                    Ok(()) => break,
                    Err(e) if e.kind() == io::ErrorKind::NotFound => break,
                    Err(e) if e.raw_os_error() == Some(libc::EBUSY) => {
                        if i > 20 {
                            for pid in self.pids() {
                                // SAFETY: sending a signal has no memory-safety requirements.
                                unsafe { libc::kill(pid, libc::SIGKILL) };
                            }
                        }
                        std::thread::sleep(std::time::Duration::from_millis(5));
                    }
                    Err(_) => break,
                }
            }
        }
    }
}

/// Under a delegated subtree (rootless) groups go below `barge.slice`: `/barge/a/b` keeps
/// its nesting there as `a/b`; any other path keeps only its last component.
fn rootless_rel(rel: &Path) -> PathBuf {
    match rel.strip_prefix("barge") {
        Ok(below) if !below.as_os_str().is_empty() => below.to_path_buf(),
        _ => rel.file_name().map(PathBuf::from).unwrap_or_default(),
    }
}

/// Remove the group `cgroups_path` (as a spec names it) and every group below it (deepest first) in each hierarchy that
/// has it: for a group that only holds other groups, such as a pod's. A group that still
/// holds processes is left, and so are its ancestors; nothing is killed.
pub fn remove_tree(cgroups_path: &Path) {
    let rel = &relative_path(Some(cgroups_path), "");
    let dirs: Vec<PathBuf> = if super::userns::rootless() {
        delegated_base()
            .map(|b| b.join("barge.slice").join(rootless_rel(rel)))
            .into_iter()
            .collect()
    } else {
        match host_version() {
            CgroupVersion::V2 => vec![Path::new(ROOT).join(rel)],
            CgroupVersion::V1 => v1_hierarchies()
                .iter()
                .map(|h| h.mountpoint.join(rel))
                .collect(),
        }
    };
    for d in dirs.iter().filter(|d| d.is_dir()) {
        remove_dir_tree(d);
    }
}

fn remove_dir_tree(dir: &Path) {
    if let Ok(rd) = fs::read_dir(dir) {
        for e in rd.flatten() {
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                remove_dir_tree(&e.path());
            }
        }
    }
    // A process that has just exited may keep its group busy for a moment.
    for _ in 0..200 {
        match fs::remove_dir(dir) {
            Err(e) if e.raw_os_error() == Some(libc::EBUSY) => {
                let procs = fs::read_to_string(dir.join("cgroup.procs")).unwrap_or_default();
                let children = fs::read_dir(dir).is_ok_and(|rd| {
                    rd.flatten()
                        .any(|e| e.file_type().is_ok_and(|t| t.is_dir()))
                });
                if !procs.trim().is_empty() || children {
                    return;
                }
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            _ => return,
        }
    }
}

/// The `frozen` key of a v2 `cgroup.events` file: whether the kernel has finished freezing
/// the group (`cgroup.freeze` only says what was asked for).
fn v2_events_frozen(events: &str) -> Option<bool> {
    events.lines().find_map(|l| match l.split_once(' ') {
        Some(("frozen", v)) => Some(v.trim() == "1"),
        _ => None,
    })
}

fn wants_cpu(r: &LinuxResources) -> bool {
    r.cpu().as_ref().is_some_and(|c| {
        c.shares().is_some()
            || c.quota().is_some()
            || c.period().is_some()
            || c.realtime_runtime().is_some()
            || c.realtime_period().is_some()
            || c.idle().is_some()
    })
}

fn wants_cpuset(r: &LinuxResources) -> bool {
    r.cpu().as_ref().is_some_and(|c| {
        c.cpus().as_deref().is_some_and(|s| !s.is_empty())
            || c.mems().as_deref().is_some_and(|s| !s.is_empty())
    })
}

/// A new v1 cpuset group starts with empty cpuset.cpus and cpuset.mems, and no process can
/// join it until both are set: fill every level of `rel` from its parent, top down.
fn init_v1_cpuset(mountpoint: &Path, rel: &Path) -> Result<()> {
    let mut parent = mountpoint.to_path_buf();
    for c in rel.components() {
        let dir = parent.join(c);
        for file in ["cpuset.cpus", "cpuset.mems"] {
            let cur = fs::read_to_string(dir.join(file)).unwrap_or_default();
            if cur.trim().is_empty() {
                let from = fs::read_to_string(parent.join(file))
                    .map_err(|e| RuntimeError::file(parent.join(file), e))?;
                write(&dir.join(file), from.trim())?;
            }
        }
        parent = dir;
    }
    Ok(())
}

/// Resources barge does not apply: refused, so a limit asked for is never silently
/// missing (runc fails on them too where the host lacks the controller).
fn refuse_unsupported(r: &LinuxResources) -> Result<()> {
    let mut what = Vec::new();
    if let Some(b) = r.block_io() {
        let any = b.weight().is_some()
            || b.leaf_weight().is_some()
            || b.weight_device().as_ref().is_some_and(|v| !v.is_empty())
            || b.throttle_read_bps_device()
                .as_ref()
                .is_some_and(|v| !v.is_empty())
            || b.throttle_write_bps_device()
                .as_ref()
                .is_some_and(|v| !v.is_empty())
            || b.throttle_read_iops_device()
                .as_ref()
                .is_some_and(|v| !v.is_empty())
            || b.throttle_write_iops_device()
                .as_ref()
                .is_some_and(|v| !v.is_empty());
        if any {
            what.push("blockIO");
        }
    }
    if r.hugepage_limits().as_ref().is_some_and(|v| !v.is_empty()) {
        what.push("hugepageLimits");
    }
    if let Some(n) = r.network()
        && (n.class_id().is_some() || n.priorities().as_ref().is_some_and(|v| !v.is_empty()))
    {
        what.push("network");
    }
    if r.rdma().as_ref().is_some_and(|v| !v.is_empty()) {
        what.push("rdma");
    }
    if let Some(c) = r.cpu()
        && (c.realtime_runtime().is_some() || c.realtime_period().is_some())
    {
        what.push("cpu.realtimeRuntime/realtimePeriod");
    }
    if what.is_empty() {
        return Ok(());
    }
    Err(RuntimeError::InvalidSpec(format!(
        "linux.resources {} not supported by barge",
        what.join(", ")
    )))
}

fn v2_max(v: i64) -> String {
    if v < 0 {
        "max".to_owned()
    } else {
        v.to_string()
    }
}

fn mkdir(dir: &Path) -> Result<()> {
    fs::create_dir_all(dir).map_err(|e| RuntimeError::file(dir, e))
}

/// Rootless on cgroup v2: the subtree systemd delegates to the user's manager
/// (`.../user@UID.service`, found among the ancestors of this process's own group) when
/// barge may write it. None on v1 and hybrid hosts, and without a user session.
pub fn delegated_base() -> Option<PathBuf> {
    if host_version() != CgroupVersion::V2 {
        return None;
    }
    let own = fs::read_to_string("/proc/self/cgroup").ok()?;
    let path = own.lines().find_map(|l| l.strip_prefix("0::"))?;
    delegated_in(Path::new(ROOT), path)
}

/// The `user@*.service` ancestor of `own` (a path under `root`) whose subtree_control is
/// writable.
fn delegated_in(root: &Path, own: &str) -> Option<PathBuf> {
    let mut dir = root.to_path_buf();
    for c in own.trim_start_matches('/').split('/') {
        dir.push(c);
        if c.starts_with("user@") && c.ends_with(".service") {
            let ok = rustix::fs::access(
                dir.join("cgroup.subtree_control"),
                rustix::fs::Access::WRITE_OK,
            )
            .is_ok();
            return ok.then_some(dir);
        }
    }
    None
}

/// The controllers a rootless container's group gets: those of the delegated subtree, or
/// none without one.
pub fn rootless_controllers() -> Vec<String> {
    delegated_base()
        .and_then(|b| fs::read_to_string(b.join("cgroup.controllers")).ok())
        .map(|c| c.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_default()
}

/// On v2 a controller's files appear in a group only when every ancestor lists it in
/// `cgroup.subtree_control`.
fn enable_v2_controllers(dir: &Path) -> Result<()> {
    enable_v2_controllers_below(Path::new(ROOT), dir)
}

fn enable_v2_controllers_below(root: &Path, dir: &Path) -> Result<()> {
    let available = fs::read_to_string(root.join("cgroup.controllers")).unwrap_or_default();
    let wanted: Vec<&str> = available
        .split_whitespace()
        .filter(|c| ["memory", "cpu", "pids", "cpuset", "io"].contains(c))
        .collect();
    if wanted.is_empty() {
        return Ok(());
    }
    let enable = wanted
        .iter()
        .map(|c| format!("+{c}"))
        .collect::<Vec<_>>()
        .join(" ");
    let mut cur = root.to_path_buf();
    let rel = dir.strip_prefix(root).unwrap_or(dir);
    let comps: Vec<_> = rel.components().collect();
    for (i, c) in comps.iter().enumerate() {
        let control = cur.join("cgroup.subtree_control");
        let have = fs::read_to_string(&control).unwrap_or_default();
        let missing: Vec<&&str> = wanted
            .iter()
            .filter(|w| !have.split_whitespace().any(|h| h == **w))
            .collect();
        // A group holding processes (the root of another container's cgroup namespace,
        // where barge itself runs) must be left alone: the kernel refuses domain
        // controllers there (EBUSY) but takes the threaded ones (cpu, pids), which makes
        // the group a thread root and every group below it invalid for processes
        // (EOPNOTSUPP when init joins). Then no limit applies, a limit asked for fails
        // with the reason (`v2_missing`), and a run without limits still works.
        if !missing.is_empty()
            && !holds_processes(&cur)
            && write_if_exists(&control, &enable).is_err()
        {
            // The kernel takes all or nothing; one can be refused alone (cpu while a
            // realtime process runs outside the root group). Enable what can be.
            for w in missing {
                let _ = write_if_exists(&control, &format!("+{w}"));
            }
        }
        if i + 1 < comps.len() {
            cur.push(c);
            mkdir(&cur)?;
        }
    }
    Ok(())
}

/// Whether processes live in the v2 group `dir` itself. The root group is exempt from the
/// rule that keeps controllers and processes apart, and it is the one group without a
/// `cgroup.type` file.
fn holds_processes(dir: &Path) -> bool {
    dir.join("cgroup.type").exists()
        && !fs::read_to_string(dir.join("cgroup.procs"))
            .unwrap_or_default()
            .trim()
            .is_empty()
}

/// Why `file` (a controller's, like memory.max) is missing from the v2 group `dir`: the first
/// ancestor from `root` down that does not hand the controller to its children, and why
/// it does not.
fn v2_missing(root: &Path, dir: &Path, file: &str) -> RuntimeError {
    let controller = file.split('.').next().unwrap_or(file);
    let words = |p: PathBuf| fs::read_to_string(p).unwrap_or_default();
    let has = |text: String| text.split_whitespace().any(|c| c == controller);
    let rel = dir.strip_prefix(root).unwrap_or(dir);
    let mut cur = root.to_path_buf();
    for c in rel.components() {
        if !has(words(cur.join("cgroup.subtree_control"))) {
            let (what, hint) = if !has(words(cur.join("cgroup.controllers"))) {
                (
                    format!(
                        "the {controller} controller is not available in {}",
                        cur.display()
                    ),
                    format!(
                        "enable it in the parent group's cgroup.subtree_control (systemd: \
                         Delegate=), or run without the {controller} limit"
                    ),
                )
            } else if holds_processes(&cur) {
                (
                    format!(
                        "the {controller} controller cannot be enabled below {}: that group \
                         holds processes, and cgroup v2 gives controllers only to groups \
                         without any (is barge running inside another container?)",
                        cur.display()
                    ),
                    format!(
                        "move those processes into a child group first (Docker-in-Docker's \
                         entrypoint does: mkdir {0}/init and write each pid of \
                         {0}/cgroup.procs to {0}/init/cgroup.procs), or run without the \
                         {controller} limit",
                        cur.display()
                    ),
                )
            } else {
                (
                    format!(
                        "the {controller} controller is not enabled in {}/cgroup.subtree_control",
                        cur.display()
                    ),
                    format!(
                        "echo +{controller} > {}/cgroup.subtree_control",
                        cur.display()
                    ),
                )
            };
            return RuntimeError::Unavailable { what, hint };
        }
        cur.push(c);
    }
    RuntimeError::InvalidSpec(format!(
        "cgroup file {file} is not available in {}",
        dir.display()
    ))
}

/// The first cgroup2 mount point, if any (pure v2: /sys/fs/cgroup; hybrid: .../unified).
#[cfg(test)]
pub(crate) fn cgroup2_mount() -> Option<PathBuf> {
    let info = fs::read_to_string("/proc/self/mountinfo").ok()?;
    info.lines().find_map(|l| {
        let (pre, post) = l.split_once(" - ")?;
        post.starts_with("cgroup2 ")
            .then(|| pre.split(' ').nth(4).map(PathBuf::from))
            .flatten()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `clone_fork_into` puts the child straight into a v2 group (the unified hierarchy
    /// on hybrid hosts), and the child knows it. The child makes raw system calls only:
    /// the test harness is multi-threaded.
    #[test]
    fn the_child_is_born_in_the_v2_group() {
        use std::os::fd::AsFd;
        if !rustix::process::geteuid().is_root() {
            eprintln!("skipped: needs root");
            return;
        }
        let Some(mnt) = cgroup2_mount() else {
            eprintln!("skipped: no cgroup2 mount");
            return;
        };
        let name = format!("barge-clonetest-{}", std::process::id());
        let dir = mnt.join(&name);
        fs::create_dir_all(&dir).unwrap();
        let cg = Cgroup {
            version: CgroupVersion::V2,
            dirs: vec![dir.clone()],
        };
        let target = cg.clone_target().unwrap();
        let want = format!("0::/{name}\n");
        // SAFETY: the child only reads a file into a stack buffer and exits.
        let (pid, inside) = unsafe { super::super::sys::clone_fork_into(0, Some(target.as_fd())) };
        let pid = pid.unwrap();
        if pid == 0 {
            let mut buf = [0u8; 4096];
            // SAFETY: raw calls on a NUL-terminated path and a stack buffer.
            let n = unsafe {
                let fd = libc::open(c"/proc/self/cgroup".as_ptr(), libc::O_RDONLY);
                libc::read(fd, buf.as_mut_ptr().cast(), buf.len())
            };
            let found = n > 0
                && buf[..n as usize]
                    .windows(want.len())
                    .any(|w| w == want.as_bytes());
            // SAFETY: _exit ends the child without running the harness's code.
            unsafe { libc::_exit(if found && inside { 0 } else { 1 }) };
        }
        let mut status = 0;
        // SAFETY: reaping our own child.
        unsafe { libc::waitpid(pid, &mut status, 0) };
        let _ = fs::remove_dir(&dir);
        assert!(inside, "clone3(CLONE_INTO_CGROUP) failed");
        assert!(
            libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
            "the child was not in {name}"
        );
    }

    /// The three reasons a controller's file can be missing, told apart (a temp tree of
    /// plain files stands in for the cgroupfs).
    #[test]
    fn a_missing_controller_is_explained() {
        let root = std::env::temp_dir().join(format!("barge-cg-missing-{}", std::process::id()));
        let dir = root.join("barge/abc");
        fs::create_dir_all(&dir).unwrap();
        let put = |p: &str, t: &str| fs::write(root.join(p), t).unwrap();
        let said = |file: &str| match v2_missing(&root, &dir, file) {
            RuntimeError::Unavailable { what, hint } => format!("{what} / {hint}"),
            e => panic!("{e}"),
        };
        put("cgroup.controllers", "cpu memory pids");
        put("cgroup.subtree_control", "cpu memory pids");
        put("barge/cgroup.controllers", "cpu memory");
        put("barge/cgroup.subtree_control", "cpu");
        // Not offered to /barge at all.
        let m = said("pids.max");
        assert!(m.contains("pids controller is not available in"), "{m}");
        // Offered but not enabled, and nothing stands in the way.
        let m = said("memory.max");
        assert!(m.contains("echo +memory >"), "{m}");
        // The group holds processes: the nested-container case.
        put("barge/cgroup.procs", "42\n");
        put("barge/cgroup.type", "domain\n");
        let m = said("memory.max");
        assert!(m.contains("holds processes") && m.contains("/init"), "{m}");
        let _ = fs::remove_dir_all(&root);
    }

    /// Controllers are handed down through the root group even though it holds processes,
    /// but never through another group holding processes (a cgroup namespace's root).
    #[test]
    fn controllers_skip_groups_that_hold_processes() {
        let root = std::env::temp_dir().join(format!("barge-cg-enable-{}", std::process::id()));
        let ns = root.join("docker/ctr");
        fs::create_dir_all(&ns).unwrap();
        let put = |p: &Path, t: &str| fs::write(p, t).unwrap();
        put(&root.join("cgroup.controllers"), "cpu memory pids");
        put(&root.join("cgroup.subtree_control"), "");
        put(&root.join("cgroup.procs"), "1\n");
        for d in [root.join("docker"), ns.clone()] {
            put(&d.join("cgroup.subtree_control"), "");
            put(&d.join("cgroup.type"), "domain\n");
        }
        put(&ns.join("cgroup.procs"), "7\n");
        enable_v2_controllers_below(&root, &ns.join("barge/abc")).unwrap();
        let control = |d: &Path| fs::read_to_string(d.join("cgroup.subtree_control")).unwrap();
        assert_eq!(control(&root), "+cpu +memory +pids");
        assert_eq!(control(&root.join("docker")), "+cpu +memory +pids");
        assert_eq!(control(&ns), "", "a group with processes is left alone");
        assert!(ns.join("barge").is_dir());
        let _ = fs::remove_dir_all(&root);
    }

    #[test]
    fn v2_frozen_is_read_from_cgroup_events() {
        assert_eq!(v2_events_frozen("populated 1\nfrozen 1\n"), Some(true));
        assert_eq!(v2_events_frozen("populated 1\nfrozen 0\n"), Some(false));
        // Kernels before 5.2 have no freezer on v2.
        assert_eq!(v2_events_frozen("populated 0\n"), None);
    }

    /// A group left frozen is thawed before a new container uses it (a temp dir stands in
    /// for the cgroupfs: the files are plain files there).
    #[test]
    fn a_frozen_group_is_thawed_by_freeze_false() {
        let dir = std::env::temp_dir().join(format!("barge-cg-freeze-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("cgroup.freeze"), "1\n").unwrap();
        fs::write(dir.join("cgroup.events"), "populated 0\nfrozen 0\n").unwrap();
        let cg = Cgroup {
            version: CgroupVersion::V2,
            dirs: vec![dir.clone()],
        };
        assert!(cg.frozen());
        cg.freeze(false).unwrap();
        assert!(!cg.frozen());
        assert_eq!(
            fs::read_to_string(dir.join("cgroup.freeze"))
                .unwrap()
                .trim(),
            "0"
        );
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_delegated_subtree_is_the_users_manager() {
        let root = std::env::temp_dir().join(format!("barge-cg-{}", std::process::id()));
        let svc = root.join("user.slice/user-1000.slice/user@1000.service");
        fs::create_dir_all(svc.join("app.slice/x.scope")).unwrap();
        fs::write(svc.join("cgroup.subtree_control"), "").unwrap();
        let own = "/user.slice/user-1000.slice/user@1000.service/app.slice/x.scope";
        assert_eq!(delegated_in(&root, own), Some(svc));
        // No user manager among the ancestors (a login shell's session scope): none.
        assert_eq!(
            delegated_in(&root, "/user.slice/user-1000.slice/session-3.scope"),
            None
        );
        let _ = fs::remove_dir_all(&root);
    }

    #[test]
    fn rootless_groups_keep_their_nesting_below_barge() {
        assert_eq!(
            rootless_rel(Path::new("barge/pod-1/infra")),
            Path::new("pod-1/infra")
        );
        assert_eq!(rootless_rel(Path::new("barge/abc")), Path::new("abc"));
        assert_eq!(
            rootless_rel(Path::new("system.slice/x.scope")),
            Path::new("x.scope")
        );
    }
}
