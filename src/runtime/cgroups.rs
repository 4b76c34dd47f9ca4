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

/// The v1 hierarchies, read from /proc/self/mountinfo.
pub(crate) fn v1_hierarchies() -> Vec<V1Hierarchy> {
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

/// The v1 controllers barge sets limits through. Others are left to the parent's group, which
/// saves a mkdir+rmdir per hierarchy on every run.
const V1_CONTROLLERS: &[&str] = &["memory", "cpu", "pids", "cpuacct", "freezer"];

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
            let name = rel.file_name().map(PathBuf::from).unwrap_or_default();
            let dir = base.join("barge.slice").join(name);
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
                for h in v1_hierarchies() {
                    if !h.options.iter().any(|o| {
                        V1_CONTROLLERS.contains(&o.as_str())
                            || (devices && o == "devices")
                            || (cpuset && o == "cpuset")
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
        if let Some(r) = resources
            && let Err(e) = cg.apply(r)
        {
            cg.remove();
            return Err(e);
        }
        Ok(cg)
    }

    /// The `cgroup.procs` files a process writes "0" into to join this group.
    pub fn procs_files(&self) -> Vec<PathBuf> {
        self.dirs.iter().map(|d| d.join("cgroup.procs")).collect()
    }

    /// Freeze (`pause`) or thaw (`unpause`) every process of the group.
    pub fn freeze(&self, frozen: bool) -> Result<()> {
        match self.version {
            CgroupVersion::V2 => self.set("cgroup.freeze", if frozen { "1" } else { "0" }),
            CgroupVersion::V1 => {
                self.set("freezer.state", if frozen { "FROZEN" } else { "THAWED" })?;
                // The kernel freezes asynchronously: wait until it is done.
                for _ in 0..500 {
                    let now = self
                        .find("freezer.state")
                        .and_then(|p| fs::read_to_string(p).ok())
                        .unwrap_or_default();
                    if now.trim() == if frozen { "FROZEN" } else { "THAWED" } {
                        return Ok(());
                    }
                    std::thread::sleep(std::time::Duration::from_millis(2));
                }
                Err(RuntimeError::Init("the freezer did not settle".into()))
            }
        }
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
        self.dirs.iter().map(|d| d.join(file)).find(|p| p.exists())
    }

    fn set(&self, file: &str, value: &str) -> Result<()> {
        match self.find(file) {
            Some(p) => write(&p, value),
            None => Err(RuntimeError::InvalidSpec(format!(
                "cgroup file {file} is not available on this host"
            ))),
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
        if wanted
            .iter()
            .any(|w| !have.split_whitespace().any(|h| h == *w))
        {
            write_if_exists(&control, &enable)?;
        }
        if i + 1 < comps.len() {
            cur.push(c);
            mkdir(&cur)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
