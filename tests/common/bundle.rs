//! Helpers shared by the runtime and `barge oci` tests: a busybox root filesystem built from
//! the machine's /bin/busybox (no network), and bundles with Docker's default spec.

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::Command;

use barge::container::defaults::default_spec;
use oci_spec::runtime::Spec;

use super::is_root;

/// Skips the calling test (returns true) when not run as root.
pub fn skip() -> bool {
    if !is_root() || !Path::new("/bin/busybox").exists() {
        eprintln!("skipped: needs root and /bin/busybox");
        return true;
    }
    false
}

pub fn busybox_rootfs(dir: &Path) {
    for d in ["bin", "etc", "proc", "sys", "dev", "tmp", "root"] {
        fs::create_dir_all(dir.join(d)).unwrap();
    }
    fs::copy("/bin/busybox", dir.join("bin/busybox")).unwrap();
    let list = Command::new("/bin/busybox").arg("--list").output().unwrap();
    for app in String::from_utf8_lossy(&list.stdout).lines() {
        if app != "busybox" {
            let _ = symlink("busybox", dir.join("bin").join(app));
        }
    }
    fs::write(
        dir.join("etc/passwd"),
        "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n",
    )
    .unwrap();
    fs::write(dir.join("etc/group"), "root:x:0:\nnogroup:x:65534:\n").unwrap();
    fs::write(dir.join("etc/notexec"), "#!/bin/sh\necho no\n").unwrap();
}

/// A bundle: `dir/rootfs` with busybox and a default spec running `args`.
pub struct Bundle {
    pub dir: tempfile::TempDir,
    pub spec: Spec,
}

impl Bundle {
    pub fn new(args: &[&str]) -> Bundle {
        let dir = tempfile::tempdir().unwrap();
        busybox_rootfs(&dir.path().join("rootfs"));
        let mut spec = default_spec();
        let p = spec.process_mut().as_mut().unwrap();
        p.set_args(Some(args.iter().map(|s| s.to_string()).collect()));
        Bundle { dir, spec }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn rootfs(&self) -> PathBuf {
        self.dir.path().join("rootfs")
    }

    /// Writes config.json (root.path relative, as a bundle has it).
    pub fn write(&self) {
        self.spec.save(self.dir.path().join("config.json")).unwrap();
    }

    /// The spec with an absolute root path, as barge's own `run` passes it.
    pub fn absolute_spec(&self) -> Spec {
        let mut s = self.spec.clone();
        let mut root = s.root().clone().unwrap();
        root.set_path(self.rootfs());
        s.set_root(Some(root));
        s
    }

    pub fn remove_namespace(&mut self, t: oci_spec::runtime::LinuxNamespaceType) {
        let l = self.spec.linux_mut().as_mut().unwrap();
        let ns: Vec<_> = l
            .namespaces()
            .clone()
            .unwrap()
            .into_iter()
            .filter(|n| n.typ() != t)
            .collect();
        l.set_namespaces(Some(ns));
    }

    pub fn set_resources(&mut self, r: oci_spec::runtime::LinuxResources) {
        self.spec
            .linux_mut()
            .as_mut()
            .unwrap()
            .set_resources(Some(r));
    }
}

/// Whether anything mounted on the host mentions `path`.
pub fn host_mounts_under(path: &Path) -> Vec<String> {
    let p = path.to_string_lossy().into_owned();
    fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .filter(|l| l.contains(&p))
        .map(str::to_owned)
        .collect()
}

/// Whether a cgroup directory for `id` (default path /barge/<id>) is left on the host.
pub fn cgroup_left(id: &str) -> Vec<PathBuf> {
    let mut left = Vec::new();
    for base in [
        "/sys/fs/cgroup",
        "/sys/fs/cgroup/memory",
        "/sys/fs/cgroup/pids",
        "/sys/fs/cgroup/cpu",
        "/sys/fs/cgroup/devices",
    ] {
        let p = Path::new(base).join("barge").join(id);
        if p.exists() {
            left.push(p);
        }
    }
    left
}

pub fn unique_id(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}
