//! Test helpers: build layers and image archives in memory with the tar crate (from the
//! machine's busybox-static where a runnable image is needed), and run the real `barge`
//! binary against a throwaway store.
#![allow(dead_code, unused_imports)]

mod bundle;
pub mod registry;
pub use bundle::*;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

pub fn sha256(data: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(data)))
}

pub fn hexof(digest: &str) -> &str {
    digest.strip_prefix("sha256:").unwrap()
}

/// One entry of a layer tar, described by a test.
#[derive(Clone, Debug)]
pub enum E {
    Dir(&'static str),
    DirMode(&'static str, u32, u64, u64),
    File(&'static str, &'static [u8]),
    FileOwned(String, Vec<u8>),
    FileMode(&'static str, &'static [u8], u32, u64, u64),
    Symlink(&'static str, &'static str),
    Hardlink(&'static str, &'static str),
    Fifo(&'static str),
    CharDev(&'static str, u32, u32),
    /// A name written raw into the header (for `..` and absolute names the tar crate's
    /// safe setters refuse).
    RawFile(&'static [u8], &'static [u8]),
    RawSymlink(&'static [u8], &'static [u8]),
    RawHardlink(&'static [u8], &'static [u8]),
    Xattr(&'static str, &'static str, &'static [u8]),
}

fn header(kind: tar::EntryType, size: u64, mode: u32) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(kind);
    h.set_size(size);
    h.set_mode(mode);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(1_700_000_000);
    h
}

fn raw_name(h: &mut tar::Header, name: &[u8]) {
    let gnu = h.as_gnu_mut().unwrap();
    gnu.name = [0; 100];
    gnu.name[..name.len()].copy_from_slice(name);
}

fn raw_link(h: &mut tar::Header, name: &[u8]) {
    let gnu = h.as_gnu_mut().unwrap();
    gnu.linkname = [0; 100];
    gnu.linkname[..name.len()].copy_from_slice(name);
}

/// A layer tar from entries.
pub fn layer(entries: &[E]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for e in entries {
        match e {
            E::Dir(p) => {
                let mut h = header(tar::EntryType::Directory, 0, 0o755);
                b.append_data(&mut h, p, std::io::empty()).unwrap();
            }
            E::DirMode(p, mode, uid, gid) => {
                let mut h = header(tar::EntryType::Directory, 0, *mode);
                h.set_uid(*uid);
                h.set_gid(*gid);
                b.append_data(&mut h, p, std::io::empty()).unwrap();
            }
            E::File(p, data) => {
                let mut h = header(tar::EntryType::Regular, data.len() as u64, 0o644);
                b.append_data(&mut h, p, *data).unwrap();
            }
            E::FileOwned(p, data) => {
                let mut h = header(tar::EntryType::Regular, data.len() as u64, 0o644);
                b.append_data(&mut h, p, data.as_slice()).unwrap();
            }
            E::FileMode(p, data, mode, uid, gid) => {
                let mut h = header(tar::EntryType::Regular, data.len() as u64, *mode);
                h.set_uid(*uid);
                h.set_gid(*gid);
                b.append_data(&mut h, p, *data).unwrap();
            }
            E::Symlink(p, t) => {
                let mut h = header(tar::EntryType::Symlink, 0, 0o777);
                b.append_link(&mut h, p, t).unwrap();
            }
            E::Hardlink(p, t) => {
                let mut h = header(tar::EntryType::Link, 0, 0o644);
                b.append_link(&mut h, p, t).unwrap();
            }
            E::Fifo(p) => {
                let mut h = header(tar::EntryType::Fifo, 0, 0o644);
                b.append_data(&mut h, p, std::io::empty()).unwrap();
            }
            E::CharDev(p, maj, min) => {
                let mut h = header(tar::EntryType::Char, 0, 0o666);
                h.set_device_major(*maj).unwrap();
                h.set_device_minor(*min).unwrap();
                b.append_data(&mut h, p, std::io::empty()).unwrap();
            }
            E::RawFile(name, data) => {
                let mut h = header(tar::EntryType::Regular, data.len() as u64, 0o644);
                raw_name(&mut h, name);
                h.set_cksum();
                b.append(&h, *data).unwrap();
            }
            E::RawSymlink(name, target) => {
                let mut h = header(tar::EntryType::Symlink, 0, 0o777);
                raw_name(&mut h, name);
                raw_link(&mut h, target);
                h.set_cksum();
                b.append(&h, std::io::empty()).unwrap();
            }
            E::RawHardlink(name, target) => {
                let mut h = header(tar::EntryType::Link, 0, 0o644);
                raw_name(&mut h, name);
                raw_link(&mut h, target);
                h.set_cksum();
                b.append(&h, std::io::empty()).unwrap();
            }
            E::Xattr(p, key, value) => {
                let mut pax = Vec::new();
                let rec = |k: &str, v: &[u8]| {
                    let body_len = k.len() + v.len() + 3;
                    let mut len = body_len + 1;
                    while format!("{len}").len() + body_len != len {
                        len += 1;
                    }
                    let mut r = format!("{len} {k}=").into_bytes();
                    r.extend_from_slice(v);
                    r.push(b'\n');
                    r
                };
                pax.extend(rec(&format!("SCHILY.xattr.{key}"), value));
                let mut ph = header(tar::EntryType::XHeader, pax.len() as u64, 0o644);
                b.append_data(&mut ph, "PaxHeaders/x", pax.as_slice())
                    .unwrap();
                let mut h = header(tar::EntryType::Regular, 1, 0o644);
                b.append_data(&mut h, p, &b"x"[..]).unwrap();
            }
        }
    }
    b.into_inner().unwrap()
}

/// A runnable layer: the machine's busybox-static with a few applets, passwd and group.
pub fn busybox_layer() -> Vec<u8> {
    let bb = busybox_path();
    let data = std::fs::read(&bb).unwrap();
    let mut b = tar::Builder::new(Vec::new());
    for d in [
        "bin", "etc", "proc", "sys", "dev", "tmp", "root", "home", "usr", "usr/bin", "var",
        "var/tmp",
    ] {
        let mut h = header(
            tar::EntryType::Directory,
            0,
            if d.ends_with("tmp") { 0o1777 } else { 0o755 },
        );
        b.append_data(&mut h, d, std::io::empty()).unwrap();
    }
    let mut h = header(tar::EntryType::Regular, data.len() as u64, 0o755);
    b.append_data(&mut h, "bin/busybox", data.as_slice())
        .unwrap();
    for app in [
        "sh", "echo", "cat", "ls", "id", "true", "false", "sleep", "hostname", "mount", "ps",
        "grep", "wc", "env", "pwd", "touch", "mkdir", "rm", "stat", "head", "readlink", "kill",
        "test", "yes", "dd", "chmod", "whoami",
    ] {
        let mut h = header(tar::EntryType::Symlink, 0, 0o777);
        b.append_link(&mut h, format!("bin/{app}"), "busybox")
            .unwrap();
    }
    let passwd = b"root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1:daemon:/usr/sbin:/bin/false\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n";
    let group = b"root:x:0:\ndaemon:x:1:\nwheel:x:10:root,daemon\nnogroup:x:65534:\n";
    for (p, d) in [("etc/passwd", &passwd[..]), ("etc/group", &group[..])] {
        let mut h = header(tar::EntryType::Regular, d.len() as u64, 0o644);
        b.append_data(&mut h, p, d).unwrap();
    }
    b.into_inner().unwrap()
}

pub fn busybox_path() -> PathBuf {
    for p in ["/bin/busybox", "/usr/bin/busybox"] {
        if Path::new(p).exists() {
            return p.into();
        }
    }
    panic!("busybox-static is needed for the tests (apt-get install busybox-static)");
}

pub fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

pub fn zstd(data: &[u8]) -> Vec<u8> {
    zstd::encode_all(data, 3).unwrap()
}

/// An image to put in an archive: its layers (blobs as stored: plain, gzip or zstd) and
/// the uncompressed tars for diff IDs.
#[derive(Clone)]
pub struct Img {
    pub tags: Vec<String>,
    pub layers: Vec<(Vec<u8>, Vec<u8>)>, // (blob, uncompressed)
    pub arch: String,
    pub cmd: Vec<String>,
}

impl Img {
    pub fn new(tag: &str, uncompressed_layers: Vec<Vec<u8>>) -> Img {
        Img {
            tags: if tag.is_empty() {
                vec![]
            } else {
                vec![tag.to_string()]
            },
            layers: uncompressed_layers
                .into_iter()
                .map(|l| (l.clone(), l))
                .collect(),
            arch: host_arch().into(),
            cmd: vec!["sh".into()],
        }
    }

    pub fn compressed(mut self, f: fn(&[u8]) -> Vec<u8>) -> Img {
        for l in &mut self.layers {
            l.0 = f(&l.1);
        }
        self
    }

    pub fn config(&self) -> Vec<u8> {
        let diff_ids: Vec<String> = self.layers.iter().map(|(_, u)| sha256(u)).collect();
        let history: Vec<Value> = self
            .layers
            .iter()
            .enumerate()
            .map(|(i, _)| json!({"created": "2024-01-01T00:00:00Z", "created_by": format!("layer {i}")}))
            .collect();
        serde_json::to_vec(&json!({
            "architecture": self.arch,
            "os": "linux",
            "created": "2024-01-01T00:00:00Z",
            "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], "Cmd": self.cmd},
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
            "history": history,
        }))
        .unwrap()
    }

    pub fn id(&self) -> String {
        sha256(&self.config())
    }

    pub fn manifest(&self) -> Vec<u8> {
        let cfg = self.config();
        let layers: Vec<Value> = self
            .layers
            .iter()
            .map(|(b, u)| {
                let mt = if b == u {
                    "application/vnd.oci.image.layer.v1.tar"
                } else if b.starts_with(&[0x1f, 0x8b]) {
                    "application/vnd.oci.image.layer.v1.tar+gzip"
                } else {
                    "application/vnd.oci.image.layer.v1.tar+zstd"
                };
                json!({"mediaType": mt, "digest": sha256(b), "size": b.len()})
            })
            .collect();
        serde_json::to_vec(&json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha256(&cfg), "size": cfg.len()},
            "layers": layers,
        }))
        .unwrap()
    }
}

pub fn host_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        a => a,
    }
}

/// Append a regular file to an archive builder.
pub fn add(b: &mut tar::Builder<Vec<u8>>, name: &str, data: &[u8]) {
    let mut h = header(tar::EntryType::Regular, data.len() as u64, 0o644);
    b.append_data(&mut h, name, data).unwrap();
}

/// A classic `docker save` archive (`<id>/layer.tar`, `<config>.json`, manifest.json last).
pub fn docker_archive(images: &[Img]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let mut manifest = Vec::new();
    for img in images {
        let mut layer_paths = Vec::new();
        for (blob, _) in &img.layers {
            let dir = hexof(&sha256(blob)).to_string();
            add(&mut b, &format!("{dir}/layer.tar"), blob);
            add(&mut b, &format!("{dir}/VERSION"), b"1.0");
            layer_paths.push(format!("{dir}/layer.tar"));
        }
        let cfg = img.config();
        let cfg_name = format!("{}.json", hexof(&sha256(&cfg)));
        add(&mut b, &cfg_name, &cfg);
        manifest.push(json!({"Config": cfg_name, "RepoTags": img.tags, "Layers": layer_paths}));
    }
    add(
        &mut b,
        "manifest.json",
        &serde_json::to_vec(&manifest).unwrap(),
    );
    b.into_inner().unwrap()
}

/// The layout Docker 25+ writes: an OCI layout with manifest.json beside it.
pub fn docker25_archive(images: &[Img]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let mut manifest = Vec::new();
    let mut index = Vec::new();
    for img in images {
        let mut layer_paths = Vec::new();
        for (blob, _) in &img.layers {
            let p = format!("blobs/sha256/{}", hexof(&sha256(blob)));
            add(&mut b, &p, blob);
            layer_paths.push(p);
        }
        let cfg = img.config();
        let cfg_path = format!("blobs/sha256/{}", hexof(&sha256(&cfg)));
        add(&mut b, &cfg_path, &cfg);
        let m = img.manifest();
        add(&mut b, &format!("blobs/sha256/{}", hexof(&sha256(&m))), &m);
        manifest.push(json!({"Config": cfg_path, "RepoTags": img.tags, "Layers": layer_paths}));
        index.push(json!({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": sha256(&m), "size": m.len(),
            "annotations": {"io.containerd.image.name": img.tags.first().map(|t| format!("docker.io/library/{t}")).unwrap_or_default()}}));
    }
    add(
        &mut b,
        "index.json",
        &serde_json::to_vec(&json!({"schemaVersion": 2, "manifests": index})).unwrap(),
    );
    add(
        &mut b,
        "manifest.json",
        &serde_json::to_vec(&manifest).unwrap(),
    );
    add(&mut b, "oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#);
    b.into_inner().unwrap()
}

/// An OCI layout archive whose index.json holds one multi-platform index of `images`
/// (each with its own architecture), named `name`.
pub fn oci_archive(name: &str, images: &[Img]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    add(&mut b, "oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#);
    let mut entries = Vec::new();
    for img in images {
        for (blob, _) in &img.layers {
            add(
                &mut b,
                &format!("blobs/sha256/{}", hexof(&sha256(blob))),
                blob,
            );
        }
        let cfg = img.config();
        add(
            &mut b,
            &format!("blobs/sha256/{}", hexof(&sha256(&cfg))),
            &cfg,
        );
        let m = img.manifest();
        add(&mut b, &format!("blobs/sha256/{}", hexof(&sha256(&m))), &m);
        entries.push(json!({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": sha256(&m), "size": m.len(),
            "platform": {"architecture": img.arch, "os": "linux"}}));
    }
    let idx = serde_json::to_vec(&json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": entries})).unwrap();
    add(
        &mut b,
        &format!("blobs/sha256/{}", hexof(&sha256(&idx))),
        &idx,
    );
    add(
        &mut b,
        "index.json",
        &serde_json::to_vec(&json!({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.index.v1+json",
            "digest": sha256(&idx), "size": idx.len(), "annotations": {"org.opencontainers.image.ref.name": name}}]}))
        .unwrap(),
    );
    b.into_inner().unwrap()
}

/// A throwaway store and the real binary.
pub struct Barge {
    pub dir: tempfile::TempDir,
}

/// Containers a test leaves behind are removed with the store: a bridge container holds a
/// network namespace mount and a veth on the host, which deleting the directory cannot free.
impl Drop for Barge {
    fn drop(&mut self) {
        if !self.root().join("network").exists() {
            return;
        }
        if let Ok(o) = self.cmd().args(["ps", "-a", "-q", "--no-trunc"]).output() {
            let ids: Vec<String> = String::from_utf8_lossy(&o.stdout)
                .split_whitespace()
                .map(str::to_string)
                .collect();
            if !ids.is_empty() {
                let _ = self.cmd().args(["rm", "-f"]).args(&ids).output();
            }
        }
        // Pods hold a network namespace and an infra process.
        if let Ok(o) = self.cmd().args(["pod", "ls", "-q", "--no-trunc"]).output() {
            let ids: Vec<String> = String::from_utf8_lossy(&o.stdout)
                .split_whitespace()
                .map(str::to_string)
                .collect();
            if !ids.is_empty() {
                let _ = self.cmd().args(["pod", "rm", "-f"]).args(&ids).output();
            }
        }
        // User networks' bridges and their routes live on the host too.
        let _ = self.cmd().args(["network", "prune", "-f"]).output();
    }
}

impl Barge {
    /// The IDs of the containers (and pods) holding a network sandbox: an address, a
    /// namespace (one file each under `network/sandboxes`).
    pub fn sandbox_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = std::fs::read_dir(self.root().join("network/sandboxes"))
            .map(|d| {
                d.flatten()
                    .filter_map(|e| {
                        let n = e.file_name().to_string_lossy().into_owned();
                        n.strip_suffix(".json").map(str::to_string)
                    })
                    .collect()
            })
            .unwrap_or_default();
        ids.sort();
        ids
    }

    pub fn new() -> Barge {
        Barge {
            dir: tempfile::Builder::new()
                .prefix("barge-test-")
                .tempdir()
                .unwrap(),
        }
    }

    pub fn root(&self) -> PathBuf {
        self.dir.path().join("store")
    }

    pub fn cmd(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_barge"));
        c.arg("--root").arg(self.root());
        c.env("BARGE_NO_SYNC", "1");
        // The host's /etc/barge and ~/.config/barge must not change what tests see.
        c.env("BARGE_CONFIG", self.dir.path().join("config.toml"));
        c.stdin(Stdio::null());
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd().args(args).output().unwrap()
    }

    /// Run, expect success, return stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let o = self.run(args);
        assert!(
            o.status.success(),
            "barge {args:?} failed ({:?}):\nstdout: {}\nstderr: {}",
            o.status,
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8(o.stdout).unwrap()
    }

    /// Run, expect exit 125 and a one-line error; return stderr.
    pub fn fails(&self, args: &[&str]) -> String {
        let o = self.run(args);
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        assert_eq!(
            o.status.code(),
            Some(125),
            "barge {args:?}: expected 125, stderr: {err}"
        );
        let errors: Vec<&str> = err
            .lines()
            .filter(|l| l.starts_with("barge: error: "))
            .collect();
        assert_eq!(errors.len(), 1, "exactly one error line: {err}");
        let last = err
            .lines()
            .rfind(|l| !l.starts_with("hint: "))
            .unwrap_or("");
        assert!(
            last.starts_with("barge: error: "),
            "the error comes last: {err}"
        );
        err
    }

    /// Write bytes to a file in the test dir and return its path.
    pub fn file(&self, name: &str, data: &[u8]) -> String {
        let p = self.dir.path().join(name);
        std::fs::write(&p, data).unwrap();
        p.to_string_lossy().into_owned()
    }

    /// Import bytes through stdin.
    pub fn import_stdin(&self, data: &[u8], extra: &[&str]) -> Output {
        use std::io::Write;
        let mut c = self.cmd();
        c.arg("import")
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = c.spawn().unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let data = data.to_vec();
        let t = std::thread::spawn(move || {
            let _ = stdin.write_all(&data);
        });
        let out = child.wait_with_output().unwrap();
        t.join().unwrap();
        out
    }

    /// Everything under the store, as relative paths (to prove nothing was left behind).
    pub fn store_files(&self) -> Vec<String> {
        let mut out = Vec::new();
        walk(&self.root(), &self.root(), &mut out);
        out.retain(|p| !p.starts_with("barge.db") && !p.starts_with("locks"));
        out.sort();
        out
    }
}

fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        let rel = p.strip_prefix(base).unwrap().to_string_lossy().into_owned();
        if e.file_type().unwrap().is_dir() {
            walk(base, &p, out);
        } else {
            out.push(rel);
        }
    }
}

pub fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// Spawn `cmd` as the session leader of a new pseudo-terminal, as a shell in a terminal
/// window runs a program: its stdio is the terminal, which is its controlling terminal.
/// Returns the child and the master side (the "keyboard and screen"), non-blocking.
pub fn spawn_in_pty(cmd: &mut Command) -> (std::process::Child, std::fs::File) {
    let pty =
        rustix::pty::openpt(rustix::pty::OpenptFlags::RDWR | rustix::pty::OpenptFlags::NOCTTY)
            .unwrap();
    rustix::pty::grantpt(&pty).unwrap();
    rustix::pty::unlockpt(&pty).unwrap();
    let name = rustix::pty::ptsname(&pty, Vec::new()).unwrap();
    let slave = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(name.to_str().unwrap())
        .unwrap();
    cmd.stdin(slave.try_clone().unwrap())
        .stdout(slave.try_clone().unwrap())
        .stderr(slave);
    // SAFETY: setsid and TIOCSCTTY in the child before exec only touch the child's own
    // session and terminal.
    unsafe {
        use std::os::unix::process::CommandExt;
        cmd.pre_exec(|| {
            rustix::process::setsid().map_err(std::io::Error::from)?;
            rustix::process::ioctl_tiocsctty(rustix::stdio::stdin())
                .map_err(std::io::Error::from)?;
            Ok(())
        });
    }
    let child = cmd.spawn().unwrap();
    let master = std::fs::File::from(pty);
    rustix::fs::fcntl_setfl(&master, rustix::fs::OFlags::NONBLOCK).unwrap();
    (child, master)
}

/// Type `input` on a terminal made by [`spawn_in_pty`], wait (up to `timeout`) for the
/// program to end, and return how it ended with everything the terminal showed.
pub fn pty_session(
    child: &mut std::process::Child,
    master: &mut std::fs::File,
    input: &[u8],
    timeout: std::time::Duration,
) -> (std::process::ExitStatus, String) {
    use std::io::{Read, Write};
    master.write_all(input).unwrap();
    let deadline = std::time::Instant::now() + timeout;
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "timeout: {}",
            String::from_utf8_lossy(&seen)
        );
        if let Ok(n) = master.read(&mut buf) {
            seen.extend_from_slice(&buf[..n]);
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    while let Ok(n) = master.read(&mut buf) {
        if n == 0 {
            break;
        }
        seen.extend_from_slice(&buf[..n]);
    }
    (status, String::from_utf8_lossy(&seen).into_owned())
}

/// A store with the busybox image loaded as `bb:1`; None (the test is skipped) when not root.
pub fn bb_store() -> Option<Barge> {
    if !is_root() {
        eprintln!("skipped: needs root");
        return None;
    }
    let b = Barge::new();
    let img = Img::new("bb:1", vec![busybox_layer()]);
    b.ok(&["import", &b.file("bb.tar", &docker_archive(&[img]))]);
    Some(b)
}

/// Poll `f` every 50 ms until it holds; fail the test after 20 s, naming `what`.
pub fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !f() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}
