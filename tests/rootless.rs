//! Rootless: the real barge binary run as an ordinary user (`tester`, with subordinate ids,
//! and `tester-nosub`, without), through setpriv with a clean environment. The tests run as
//! root only to create those users and to look at the files from outside.
//!
//! Each test has a home of its own (so a store of its own, ~/.local/share/barge); the
//! user's runtime directory is the /tmp/barge-$UID fallback (no XDG_RUNTIME_DIR), shared by
//! the tests as it would be by one user's shells, and so is the barge-pause process.

mod common;

use std::io::{Read, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common::*;

const USER: &str = "tester";
const NOSUB: &str = "tester-nosub";
/// Gets subordinate ids added and removed by the migrate test (not tester-nosub: other test
/// binaries running at the same time count on that one having none).
const MIGRATE: &str = "tester-migrate";
const MIGRATE_RANGE: &str = "300000-365535";
const SUB_START: u32 = 100000;

struct Host {
    /// A copy of the binary that the users can execute (target/ may be closed to them).
    bin: PathBuf,
    _dir: tempfile::TempDir,
}

fn run_quiet(cmd: &mut Command) -> bool {
    cmd.stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn uid_of(user: &str) -> u32 {
    let out = Command::new("id").args(["-u", user]).output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

/// The users and the host settings the tests need (as .ci/run makes them), once per run.
fn host() -> Option<&'static Host> {
    static HOST: OnceLock<Option<Host>> = OnceLock::new();
    HOST.get_or_init(|| {
        if !is_root() {
            eprintln!("skipped: needs root (to create the test users)");
            return None;
        }
        for tool in ["setpriv", "newuidmap", "slirp4netns"] {
            if !run_quiet(Command::new("sh").args(["-c", &format!("command -v {tool}")])) {
                panic!("{tool} is needed for the rootless tests (apt-get install uidmap slirp4netns util-linux)");
            }
        }
        // Other test binaries may do the same at once: useradd takes its own lock, and a
        // second useradd of the same name just fails.
        if !run_quiet(Command::new("id").arg(USER)) {
            run_quiet(Command::new("useradd").args(["-m", "-s", "/bin/sh", USER]));
        }
        for user in [NOSUB, MIGRATE] {
            if !run_quiet(Command::new("id").arg(user)) {
                // -K ..._COUNT=0: no automatic subordinate ranges for these.
                run_quiet(Command::new("useradd").args([
                    "-m",
                    "-s",
                    "/bin/sh",
                    "-K",
                    "SUB_UID_COUNT=0",
                    "-K",
                    "SUB_GID_COUNT=0",
                    user,
                ]));
            }
        }
        for (file, flag) in [("/etc/subuid", "--add-subuids"), ("/etc/subgid", "--add-subgids")] {
            let text = std::fs::read_to_string(file).unwrap_or_default();
            if !text.lines().any(|l| l.starts_with(&format!("{USER}:"))) {
                let range = format!("{SUB_START}-{}", SUB_START + 65535);
                assert!(
                    run_quiet(Command::new("usermod").args([flag, &range, USER])),
                    "usermod {flag} {range} {USER}"
                );
            }
            assert!(
                !text.lines().any(|l| l.starts_with(&format!("{NOSUB}:"))),
                "{NOSUB} must have no entry in {file}"
            );
        }
        // Debian's udev makes these 0666; a bare devtmpfs leaves them 0600.
        for dev in ["/dev/net/tun", "/dev/fuse"] {
            let _ = Command::new("chmod").args(["0666", dev]).status();
        }
        let dir = tempfile::Builder::new()
            .prefix("barge-rootless-bin-")
            .tempdir()
            .unwrap();
        chmod(dir.path(), 0o755);
        let bin = dir.path().join("barge");
        std::fs::copy(env!("CARGO_BIN_EXE_barge"), &bin).unwrap();
        chmod(&bin, 0o755);
        Some(Host { bin, _dir: dir })
    })
    .as_ref()
}

fn chmod(p: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// One user's home for one test, and barge run as that user.
struct User {
    name: &'static str,
    home: tempfile::TempDir,
    bin: PathBuf,
    /// A runtime directory of its own (XDG_RUNTIME_DIR), so a pause of its own: for tests
    /// that end the pause, which must not pull the shared one from under other tests.
    run: Option<PathBuf>,
}

impl Drop for User {
    fn drop(&mut self) {
        // Running containers hold slirp4netns and namespaces: end them with the test.
        if let Ok(o) = self.cmd().args(["ps", "-a", "-q"]).output() {
            let ids: Vec<String> = String::from_utf8_lossy(&o.stdout)
                .split_whitespace()
                .map(str::to_string)
                .collect();
            if !ids.is_empty() {
                let _ = self.cmd().args(["rm", "-f"]).args(&ids).output();
            }
        }
        // Files of the container's users belong to subordinate ids: root removes them.
        if self.run.is_some()
            && let Some(pid) = self.pause_pid()
        {
            // SAFETY: kill has no memory-safety requirements; the pid is the one barge wrote.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
    }
}

impl User {
    fn new(name: &'static str) -> Option<User> {
        let h = host()?;
        let home = tempfile::Builder::new()
            .prefix("barge-rootless-home-")
            .tempdir()
            .unwrap();
        let uid = uid_of(name);
        std::os::unix::fs::chown(home.path(), Some(uid), Some(uid)).unwrap();
        chmod(home.path(), 0o755);
        Some(User {
            name,
            home,
            bin: h.bin.clone(),
            run: None,
        })
    }

    /// A user whose barge has a runtime directory (and so a pause process) of its own.
    fn isolated(name: &'static str) -> Option<User> {
        let mut u = User::new(name)?;
        let run = u.home.path().join("xdg-run");
        std::fs::create_dir(&run).unwrap();
        std::os::unix::fs::chown(&run, Some(u.uid()), Some(u.uid())).unwrap();
        chmod(&run, 0o700);
        u.run = Some(run);
        Some(u)
    }

    /// The pid in pause.pid (an isolated user's, or the shared one's).
    fn pause_pid(&self) -> Option<i32> {
        let dir = match &self.run {
            Some(r) => r.join("barge"),
            None => PathBuf::from(format!("/tmp/barge-{}", self.uid())),
        };
        std::fs::read_to_string(dir.join("pause.pid"))
            .ok()?
            .split_whitespace()
            .next()?
            .parse()
            .ok()
    }

    fn uid(&self) -> u32 {
        uid_of(self.name)
    }

    fn store(&self) -> PathBuf {
        self.home.path().join(".local/share/barge")
    }

    fn cmd(&self) -> Command {
        let mut c = Command::new("setpriv");
        c.args([
            &format!("--reuid={}", self.name),
            &format!("--regid={}", self.name),
            "--init-groups",
            "--",
        ])
        .arg(&self.bin)
        .env_clear()
        .env("HOME", self.home.path())
        .env("PATH", "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin")
        .env("BARGE_NO_SYNC", "1")
        .current_dir(self.home.path())
        .stdin(Stdio::null());
        if let Some(r) = &self.run {
            c.env("XDG_RUNTIME_DIR", r);
        }
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.cmd().args(args).output().unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let o = self.run(args);
        assert!(
            o.status.success(),
            "barge {args:?} as {} failed ({:?}):\nstdout: {}\nstderr: {}",
            self.name,
            o.status,
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8(o.stdout).unwrap()
    }

    /// A file in the home the user can read.
    fn file(&self, name: &str, data: &[u8]) -> String {
        let p = self.home.path().join(name);
        std::fs::write(&p, data).unwrap();
        chmod(&p, 0o644);
        p.to_string_lossy().into_owned()
    }

    /// The user's config file (~/.config/barge/config.toml).
    fn config(&self, text: &str) {
        let dir = self.home.path().join(".config/barge");
        std::fs::create_dir_all(&dir).unwrap();
        for d in [dir.parent().unwrap(), &dir] {
            std::os::unix::fs::chown(d, Some(self.uid()), Some(self.uid())).unwrap();
        }
        let f = dir.join("config.toml");
        std::fs::write(&f, text).unwrap();
        chmod(&f, 0o644);
    }

    fn import(&self, img: &Img) {
        let f = self.file("img.tar", &docker_archive(std::slice::from_ref(img)));
        self.ok(&["import", &f]);
    }
}

/// Pids of the host's processes whose command line holds `needle`.
fn pids_with(needle: &str) -> Vec<i32> {
    let mut v = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|p| p.parse::<i32>().ok()) else {
            continue;
        };
        if let Ok(cmd) = std::fs::read(e.path().join("cmdline"))
            && String::from_utf8_lossy(&cmd)
                .replace('\0', " ")
                .contains(needle)
        {
            v.push(pid);
        }
    }
    v
}

/// Waits up to 10 s for `cond`.
fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting: {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// busybox, plus a user 1000 with a home of its own, httpd, and a file the second layer
/// deletes (whiteout) under a directory it replaces (opaque).
fn image(tag: &str) -> Img {
    let extra = layer(&[
        E::DirMode("home/app", 0o700, 1000, 1000),
        E::FileMode("home/app/notes", b"mine\n", 0o600, 1000, 1000),
        E::File(
            "etc/passwd",
            b"root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n",
        ),
        E::Symlink("bin/httpd", "busybox"),
        E::Dir("srv"),
        E::File("srv/old", b"old\n"),
        E::Dir("gone"),
        E::File("gone/a", b"a\n"),
        E::File("doomed", b"x\n"),
    ]);
    let top = layer(&[
        E::File(".wh.doomed", b""),
        E::Dir("gone"),
        E::File("gone/.wh..wh..opq", b""),
        E::File("gone/b", b"b\n"),
    ]);
    Img::new(tag, vec![busybox_layer(), extra, top])
}

/// Only root's files: what a user without subordinate ids can still use.
fn root_only_image(tag: &str) -> Img {
    Img::new(tag, vec![busybox_layer()])
}

#[test]
fn import_shifts_owners_into_the_users_range_and_keeps_stores_apart() {
    let Some(u) = User::new(USER) else { return };
    u.import(&image("app:1"));
    assert!(u.ok(&["images"]).contains("app"));
    // The layer files are on the user's store, owned by the mapped ids: the image's root is
    // the user, its uid 1000 is subordinate id 100000 + 999.
    let mut found = None;
    for e in std::fs::read_dir(u.store().join("layers"))
        .unwrap()
        .flatten()
    {
        let p = e.path().join("diff/home/app/notes");
        if let Ok(md) = std::fs::symlink_metadata(&p) {
            found = Some(md);
        }
    }
    let md = found.expect("home/app/notes in a layer of the user's store");
    assert_eq!((md.uid(), md.gid()), (SUB_START + 999, SUB_START + 999));
    let root_md = std::fs::metadata(u.store().join("barge.db")).unwrap();
    assert_eq!(root_md.uid(), u.uid());
    // Root's default store is not the user's.
    assert!(!u.store().starts_with("/var/lib/barge"));
    let info = u.ok(&["info"]);
    assert!(info.contains(&u.store().display().to_string()), "{info}");
    // No XDG_RUNTIME_DIR: the private fallback in /tmp.
    assert!(
        info.contains(&format!("Run Dir: /tmp/barge-{}", u.uid())),
        "{info}"
    );
    assert!(info.contains("Rootless: yes"), "{info}");
    assert!(info.contains("userxattr"), "info names the driver: {info}");
    assert!(
        info.contains("Networks: slirp4netns (default), none, host\n"),
        "what a rootless user can use: {info}"
    );
    // Whiteouts and opaque directories work in the user's overlay.
    let out = u.ok(&[
        "run",
        "--rm",
        "--network",
        "none",
        "app:1",
        "sh",
        "-c",
        "ls /gone; test -e /doomed && echo doomed-visible; cat /home/app/notes; id -u",
    ]);
    assert_eq!(out, "b\nmine\n0\n");
}

#[test]
fn xdg_directories_are_honoured() {
    let Some(u) = User::new(USER) else { return };
    let data = u.home.path().join("xdg-data");
    let run = u.home.path().join("xdg-run");
    std::fs::create_dir(&run).unwrap();
    std::os::unix::fs::chown(&run, Some(u.uid()), Some(u.uid())).unwrap();
    chmod(&run, 0o700);
    let o = u
        .cmd()
        .env("XDG_DATA_HOME", &data)
        .env("XDG_RUNTIME_DIR", &run)
        .arg("info")
        .output()
        .unwrap();
    let info = String::from_utf8_lossy(&o.stdout);
    // This runtime dir has a pause process of its own: end it with the test.
    if let Ok(p) = std::fs::read_to_string(run.join("barge/pause.pid"))
        && let Some(pid) = p
            .split_whitespace()
            .next()
            .and_then(|p| p.parse::<i32>().ok())
    {
        // SAFETY: kill has no memory-safety requirements; the pid is the one barge wrote.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        info.contains(&format!("Root Dir: {}", data.join("barge").display())),
        "{info}"
    );
    assert!(
        info.contains(&format!("Run Dir: {}", run.join("barge").display())),
        "{info}"
    );
    assert!(data.join("barge/barge.db").exists());
}

#[test]
fn a_file_made_inside_belongs_to_the_mapped_uid_outside() {
    let Some(u) = User::new(USER) else { return };
    u.import(&image("app:1"));
    let id = u
        .ok(&[
            "run",
            "--network",
            "none",
            "-u",
            "1000",
            "app:1",
            "sh",
            "-c",
            "id -u; touch /home/app/made",
        ])
        .trim()
        .to_string();
    assert_eq!(id, "1000");
    let cid = u.ok(&["ps", "-a", "-q", "--no-trunc"]).trim().to_string();
    let made = u
        .store()
        .join("containers")
        .join(&cid)
        .join("upper/home/app/made");
    let md = std::fs::symlink_metadata(&made).unwrap();
    assert_eq!(md.uid(), SUB_START + 999);
    // rm removes files of subordinate ids, which the user alone could not.
    u.ok(&["rm", &cid]);
    assert!(!u.store().join("containers").join(&cid).exists());
    u.ok(&["rmi", "app:1"]);
    let layers: Vec<_> = std::fs::read_dir(u.store().join("layers"))
        .unwrap()
        .flatten()
        .collect();
    assert!(layers.is_empty(), "rmi removed the layers");
}

#[test]
fn detached_container_logs_exec_stop_rm() {
    let Some(u) = User::new(USER) else { return };
    u.import(&image("app:1"));
    u.ok(&[
        "run",
        "-d",
        "--name",
        "bg",
        "--network",
        "none",
        "app:1",
        "sh",
        "-c",
        "echo started; exec sleep 1001",
    ]);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !u.ok(&["logs", "bg"]).contains("started") {
        assert!(Instant::now() < deadline, "no log line");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(u.ok(&["ps"]).contains("bg"));
    assert_eq!(u.ok(&["exec", "bg", "id", "-u"]), "0\n");
    assert_eq!(u.ok(&["exec", "-u", "1000", "bg", "id", "-u"]), "1000\n");
    // A limit cannot apply without a delegated cgroup: said once, and the run goes on.
    let o = u.run(&[
        "run",
        "--rm",
        "--network",
        "none",
        "-m",
        "64m",
        "app:1",
        "true",
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(err.contains("memory controller"), "{err}");
    u.ok(&["stop", "-t", "1", "bg"]);
    assert!(u.ok(&["ps", "-a"]).contains("Exited"));
    assert!(u.ok(&["system", "df"]).contains("Containers"));
    u.ok(&["rm", "bg"]);
    assert_eq!(u.ok(&["ps", "-a", "-q"]), "");
}

#[test]
fn interactive_tty_run() {
    let Some(u) = User::new(USER) else { return };
    u.import(&image("app:1"));
    let mut cmd = u.cmd();
    cmd.env("TERM", "xterm")
        .args(["run", "--rm", "-it", "--network", "none", "app:1", "sh"]);
    let (mut child, mut master) = spawn_in_pty(&mut cmd);
    let (status, text) = pty_session(
        &mut child,
        &mut master,
        b"tty; id -u; exit 3\n",
        Duration::from_secs(30),
    );
    assert_eq!(status.code(), Some(3), "{text}");
    assert!(text.contains("/dev/pts/0"), "its own terminal: {text}");
}

#[test]
fn pull_from_the_local_registry() {
    let Some(u) = User::new(USER) else { return };
    let reg = registry::Registry::start(None);
    let img = image("x:1");
    registry::push_img(reg.port, "rootless/app", "1", &img);
    let reference = format!("{}/rootless/app:1", reg.host());
    u.ok(&["pull", "-q", &reference]);
    let out = u.ok(&[
        "run",
        "--rm",
        "--network",
        "none",
        "-u",
        "1000",
        &reference,
        "cat",
        "/home/app/notes",
    ]);
    assert_eq!(out, "mine\n");
}

#[test]
fn published_port_is_reachable_on_the_host_loopback() {
    let Some(u) = User::new(USER) else { return };
    u.import(&image("app:1"));
    let port = registry::free_port();
    u.ok(&[
        "run",
        "-d",
        "--name",
        "web",
        "-p",
        &format!("{port}:80"),
        "app:1",
        "sh",
        "-c",
        "mkdir -p /www && echo hello-rootless > /www/index.html && exec httpd -f -p 80 -h /www",
    ]);
    assert!(u.ok(&["port", "web"]).contains(&port.to_string()));
    let deadline = Instant::now() + Duration::from_secs(15);
    let body = loop {
        let got = std::net::TcpStream::connect(("127.0.0.1", port)).and_then(|mut s| {
            s.set_read_timeout(Some(Duration::from_secs(3)))?;
            s.write_all(b"GET / HTTP/1.0\r\n\r\n")?;
            let mut r = String::new();
            s.read_to_string(&mut r)?;
            Ok(r)
        });
        match got {
            Ok(r) if r.contains("hello-rootless") => break r,
            _ if Instant::now() > deadline => panic!("no answer on 127.0.0.1:{port}: {got:?}"),
            _ => std::thread::sleep(Duration::from_millis(100)),
        }
    };
    assert!(body.starts_with("HTTP/1."), "{body}");
    u.ok(&["rm", "-f", "web"]);
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "the forward ends with the container"
    );
}

#[test]
fn host_network() {
    let Some(u) = User::new(USER) else { return };
    u.import(&image("app:1"));
    let host_name = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    let out = u.ok(&["run", "--rm", "--network", "host", "app:1", "hostname"]);
    assert_eq!(out.trim(), host_name.trim());
}

#[test]
fn without_subordinate_ids_root_only_images_run_and_others_fail_clearly() {
    let Some(u) = User::new(NOSUB) else { return };
    u.import(&root_only_image("plain:1"));
    assert_eq!(
        u.ok(&["run", "--rm", "--network", "none", "plain:1", "id", "-u"]),
        "0\n"
    );
    let f = u.file("owned.tar", &docker_archive(&[image("app:1")]));
    let o = u.run(&["import", &f]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(125), "{err}");
    let lines: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with("barge: error: "))
        .collect();
    assert_eq!(lines.len(), 1, "{err}");
    assert!(lines[0].contains("/etc/subuid"), "{err}");
    assert!(lines[0].contains("home/app"), "names the file: {err}");
    assert!(
        err.contains(&format!(
            "hint: as root: usermod --add-subuids 100000-165535 --add-subgids 100000-165535 {NOSUB}"
        )),
        "{err}"
    );
}

#[test]
fn keep_id_writes_bind_mounted_files_as_the_user() {
    let Some(u) = User::new(USER) else { return };
    u.import(&root_only_image("plain:1"));
    let data = u.home.path().join("data");
    std::fs::create_dir(&data).unwrap();
    std::os::unix::fs::chown(&data, Some(u.uid()), Some(u.uid())).unwrap();
    let out = u.ok(&[
        "run",
        "--rm",
        "--network",
        "none",
        "--userns=keep-id",
        "-v",
        &format!("{}:/data", data.display()),
        "plain:1",
        "sh",
        "-c",
        "id -u; touch /data/f",
    ]);
    assert_eq!(out, format!("{}\n", u.uid()));
    let md = std::fs::metadata(data.join("f")).unwrap();
    assert_eq!((md.uid(), md.gid()), (u.uid(), u.uid()));
}

#[test]
fn fuse_overlayfs_when_configured() {
    let Some(u) = User::new(USER) else { return };
    u.config("storage-driver = \"fuse-overlayfs\"\n");
    u.import(&image("app:1"));
    let info = u.ok(&["info"]);
    assert!(info.contains("Storage Driver: fuse-overlayfs"), "{info}");
    assert!(
        info.contains("Why: storage-driver = \"fuse-overlayfs\""),
        "{info}"
    );
    // Whiteouts and opaque directories of the layers, as the kernel's overlay shows them, to
    // a user other than root (the mount allows others).
    let out = u.ok(&[
        "run",
        "--rm",
        "--network",
        "none",
        "-u",
        "1000",
        "app:1",
        "sh",
        "-c",
        "ls /gone; test -e /doomed && echo doomed-visible; cat /home/app/notes; grep ' / ' /proc/mounts",
    ]);
    assert!(out.starts_with("b\nmine\n"), "{out}");
    assert!(out.contains("fuse.fuse-overlayfs"), "{out}");

    u.ok(&[
        "run",
        "-d",
        "--name",
        "f",
        "--network",
        "none",
        "app:1",
        "sleep",
        "1002",
    ]);
    let id = u.ok(&["ps", "-q", "--no-trunc"]).trim().to_string();
    // The daemon runs outside the container: its processes are the container's alone.
    let daemons = pids_with(&format!("{id}/upper"));
    assert_eq!(daemons.len(), 1, "one fuse-overlayfs for the container");
    let ps = u.ok(&["exec", "f", "ps"]);
    assert!(!ps.contains("fuse"), "{ps}");
    u.ok(&["exec", "-u", "1000", "f", "touch", "/home/app/made"]);
    let made = u
        .store()
        .join("containers")
        .join(&id)
        .join("upper/home/app/made");
    assert_eq!(
        std::fs::symlink_metadata(&made).unwrap().uid(),
        SUB_START + 999
    );
    // Its supervisor killed: the next command finds the container exited, and rm unmounts
    // the rootfs (ending the daemon) before it removes the directory.
    let sup = pids_with(&format!("__supervise {id}"));
    assert_eq!(sup.len(), 1, "{sup:?}");
    // SAFETY: kill has no memory-safety requirements; the pid is the supervisor's.
    unsafe { libc::kill(sup[0], libc::SIGKILL) };
    eventually("the container ends", || {
        u.ok(&["ps", "-a"]).contains("Exited")
    });
    u.ok(&["rm", "f"]);
    assert!(!u.store().join("containers").join(&id).exists());
    eventually("the fuse-overlayfs daemon ends", || {
        pids_with(&format!("{id}/upper")).is_empty()
    });

    // cp out of a stopped container mounts it for the copy alone.
    u.ok(&[
        "run",
        "--name",
        "s",
        "--network",
        "none",
        "app:1",
        "sh",
        "-c",
        "echo kept > /kept",
    ]);
    let id = u.ok(&["ps", "-a", "-q", "--no-trunc"]).trim().to_string();
    eventually("the stopped container's daemon ends", || {
        pids_with(&format!("{id}/upper")).is_empty()
    });
    let dest = u.home.path().join("kept");
    u.ok(&["cp", "s:/kept", dest.to_str().unwrap()]);
    assert_eq!(std::fs::read_to_string(&dest).unwrap(), "kept\n");
    eventually("cp's daemon ends", || {
        pids_with(&format!("{id}/upper")).is_empty()
    });
    u.ok(&["rm", "s"]);
}

/// SIGKILL, then wait until the process is gone or a zombie (init may reap it late).
fn kill_and_wait(pid: i32) {
    // SAFETY: kill has no memory-safety requirements; the pid is one barge recorded.
    unsafe { libc::kill(pid, libc::SIGKILL) };
    eventually("the process dies", || {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|s| {
                s.rsplit_once(')')
                    .is_some_and(|(_, r)| r.trim_start().starts_with('Z'))
            })
            .unwrap_or(true)
    });
}

fn user_namespace_of(pid: i32) -> PathBuf {
    std::fs::read_link(format!("/proc/{pid}/ns/user")).unwrap()
}

#[test]
fn a_killed_pause_is_replaced_in_the_namespace_of_running_containers() {
    let Some(u) = User::isolated(USER) else {
        return;
    };
    u.import(&image("app:1"));
    u.ok(&[
        "run",
        "-d",
        "--name",
        "bg",
        "--network",
        "none",
        "app:1",
        "sleep",
        "1003",
    ]);
    let old = u.pause_pid().expect("a pause");
    let ns = user_namespace_of(old);
    kill_and_wait(old);
    // The container lives on (nothing ties it to the pause), and the next commands manage
    // it: they joined its namespace through its supervisor.
    assert!(u.ok(&["ps"]).contains("bg"));
    assert_eq!(u.ok(&["exec", "bg", "id", "-u"]), "0\n");
    let new = u.pause_pid().expect("a new pause");
    assert_ne!(new, old);
    assert_eq!(
        user_namespace_of(new),
        ns,
        "the new pause holds the old namespace"
    );
    u.ok(&["stop", "-t", "1", "bg"]);
    assert!(u.ok(&["ps", "-a"]).contains("Exited"));
    u.ok(&["rm", "bg"]);
    assert_eq!(u.ok(&["ps", "-a", "-q"]), "");
    // With nothing left running, a killed pause is simply made again.
    kill_and_wait(new);
    u.ok(&["images"]);
    let third = u.pause_pid().expect("a third pause");
    assert_ne!(third, new);
}

/// Subordinate ranges given to a user for one test, taken away again when it ends (also
/// when it fails).
struct SubidsAdded(&'static str);

impl SubidsAdded {
    fn add(user: &'static str) -> SubidsAdded {
        // Adding a range the user has already is a no-op for usermod.
        let guard = SubidsAdded(user);
        assert!(run_quiet(Command::new("usermod").args([
            "--add-subuids",
            MIGRATE_RANGE,
            "--add-subgids",
            MIGRATE_RANGE,
            user
        ])));
        guard
    }

    /// usermod refuses to take ranges from a user who has processes: this user is the
    /// test's alone, so whatever still runs as it (a pause, a container) is ended first.
    fn remove(&self) {
        let del = || {
            run_quiet(Command::new("usermod").args([
                "--del-subuids",
                MIGRATE_RANGE,
                "--del-subgids",
                MIGRATE_RANGE,
                self.0,
            ]))
        };
        if del() {
            return;
        }
        let uid = uid_of(self.0);
        for _ in 0..50 {
            let mut left = 0;
            for e in std::fs::read_dir("/proc").unwrap().flatten() {
                let Some(pid) = e.file_name().to_str().and_then(|p| p.parse::<i32>().ok()) else {
                    continue;
                };
                if std::fs::metadata(e.path()).is_ok_and(|m| m.uid() == uid) {
                    left += 1;
                    // SAFETY: kill has no memory-safety requirements; a process of the
                    // test's own user.
                    unsafe { libc::kill(pid, libc::SIGKILL) };
                }
            }
            if left == 0 && del() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        del();
    }
}

impl Drop for SubidsAdded {
    fn drop(&mut self) {
        self.remove();
        if std::thread::panicking() {
            return;
        }
        for f in ["/etc/subuid", "/etc/subgid"] {
            let text = std::fs::read_to_string(f).unwrap_or_default();
            assert!(
                !text.lines().any(|l| l.starts_with(&format!("{}:", self.0))),
                "{f} still has {}'s range",
                self.0
            );
        }
    }
}

/// Lines of uid_map seen by a container: 1 with a single mapping, 2 with the user's range.
fn uid_map_lines(u: &User) -> usize {
    u.ok(&[
        "run",
        "--rm",
        "--network",
        "none",
        "plain:1",
        "cat",
        "/proc/self/uid_map",
    ])
    .lines()
    .count()
}

#[test]
fn system_migrate_renews_the_namespace_after_subuid_changes() {
    let Some(u) = User::isolated(MIGRATE) else {
        return;
    };
    // An interrupted earlier run may have left a range (and processes) behind.
    SubidsAdded(MIGRATE).remove();
    u.import(&root_only_image("plain:1"));
    assert_eq!(uid_map_lines(&u), 1);
    let port = registry::free_port();
    u.ok(&[
        "run",
        "-d",
        "--name",
        "web",
        "-p",
        &format!("{port}:80"),
        "plain:1",
        "sh",
        "-c",
        "mkdir -p /www && echo kept > /www/index.html && exec busybox httpd -f -p 80 -h /www",
    ]);
    let get = || {
        std::net::TcpStream::connect(("127.0.0.1", port)).and_then(|mut s| {
            s.set_read_timeout(Some(Duration::from_secs(3)))?;
            s.write_all(b"GET / HTTP/1.0\r\n\r\n")?;
            let mut r = String::new();
            s.read_to_string(&mut r)?;
            Ok(r)
        })
    };
    eventually("the server answers", || {
        get().is_ok_and(|r| r.contains("kept"))
    });

    let ranges = SubidsAdded::add(MIGRATE);
    // The pause keeps the maps it was made with.
    assert_eq!(uid_map_lines(&u), 1);
    let o = u.run(&["system", "migrate"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(125), "{err}");
    assert!(
        err.starts_with(
            "barge: error: cannot renew the user namespace while containers run in it: web\n"
        ),
        "{err}"
    );
    assert!(err.contains("hint: ") && err.contains("--force"), "{err}");
    assert!(u.ok(&["ps"]).contains("web"), "refused: nothing stopped");

    u.ok(&["system", "migrate", "--force"]);
    assert!(u.ok(&["ps", "-a"]).contains("Exited"));
    assert_eq!(uid_map_lines(&u), 2, "the new namespace maps the new range");
    u.import(&image("app:1"));
    assert_eq!(
        u.ok(&[
            "run",
            "--rm",
            "--network",
            "none",
            "-u",
            "1000",
            "app:1",
            "cat",
            "/home/app/notes"
        ]),
        "mine\n"
    );
    // The stopped container starts in the new namespace, its published port with it.
    u.ok(&["start", "web"]);
    eventually("the server answers again", || {
        get().is_ok_and(|r| r.contains("kept"))
    });
    assert_eq!(u.ok(&["exec", "web", "id", "-u"]), "0\n");
    u.ok(&["stop", "-t", "1", "web"]);

    // Ranges taken away (usermod wants no process of the user alive: the namespace is
    // ended first), then back to a single mapping, root's files still usable.
    u.ok(&["system", "migrate"]);
    drop(ranges);
    let o = u.run(&[
        "run",
        "--rm",
        "--network",
        "none",
        "plain:1",
        "cat",
        "/proc/self/uid_map",
    ]);
    assert!(o.status.success());
    assert_eq!(String::from_utf8_lossy(&o.stdout).lines().count(), 1);
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("single id mapping"),
        "warned again"
    );
    u.ok(&["rm", "web"]);
}

#[test]
fn top_stats_and_pause_without_a_cgroup() {
    let Some(u) = User::new(USER) else { return };
    u.import(&root_only_image("plain:1"));
    u.ok(&[
        "run",
        "-d",
        "--name",
        "busy",
        "--network",
        "none",
        "plain:1",
        "sh",
        "-c",
        "sleep 1004 & exec yes > /dev/null",
    ]);
    let top = u.ok(&["top", "busy"]);
    let lines: Vec<&str> = top.lines().collect();
    assert_eq!(lines.len(), 3, "{top}");
    assert!(lines[0].starts_with("UID"), "{top}");
    assert!(top.contains("sleep 1004") && top.contains("yes"), "{top}");
    // Without a cgroup of its own (no delegation here), the figures come from /proc.
    let stats = u.ok(&[
        "stats",
        "--no-stream",
        "--format",
        "{{.Name}}|{{.PIDs}}|{{.MemUsage}}|{{.CPUPerc}}",
        "busy",
    ]);
    let f: Vec<&str> = stats.trim().split('|').collect();
    assert_eq!(f[..2], ["busy", "2"], "{stats}");
    assert!(!f[2].starts_with("0B"), "memory counted: {stats}");
    let cpu: f64 = f[3].trim_end_matches('%').parse().unwrap();
    assert!(cpu > 5.0, "a busy loop uses CPU: {stats}");
    let o = u.run(&["pause", "busy"]);
    if o.status.success() {
        // A host with a delegated cgroup v2 subtree: the freezer works.
        assert!(u.ok(&["ps"]).contains("Paused"));
        u.ok(&["unpause", "busy"]);
    } else {
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(125), "{err}");
        assert!(
            err.starts_with("barge: error: container busy: pause needs cgroup v2 delegation"),
            "{err}"
        );
        assert!(err.contains("\nhint: "), "{err}");
        let o = u.run(&["unpause", "busy"]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("unpause needs cgroup v2 delegation"), "{err}");
    }
    assert!(u.ok(&["ps"]).contains("Up"));
    u.ok(&["rm", "-f", "busy"]);
}

#[test]
fn pasta_when_configured() {
    let Some(u) = User::new(USER) else { return };
    if !run_quiet(Command::new("sh").args(["-c", "command -v pasta"])) {
        panic!("pasta is needed for this test (apt-get install passt)");
    }
    u.config("rootless-network = \"pasta\"\n");
    u.import(&root_only_image("plain:1"));
    let info = u.ok(&["info"]);
    assert!(
        info.contains("Networks: pasta (default), none, host\n"),
        "{info}"
    );
    let port = registry::free_port();
    u.ok(&[
        "run",
        "-d",
        "--name",
        "web",
        "-p",
        &format!("127.0.0.1:{port}:80"),
        "plain:1",
        "sh",
        "-c",
        "mkdir -p /www && echo via-pasta > /www/index.html && exec busybox httpd -f -p 80 -h /www",
    ]);
    let id = u.ok(&["ps", "-q", "--no-trunc"]).trim().to_string();
    let helpers = pids_with(&format!("netns/{id}"));
    assert_eq!(helpers.len(), 1, "one pasta for the container");
    // pasta (it may re-execute itself as passt.avx2), not slirp4netns.
    let cmdline = std::fs::read(format!("/proc/{}/cmdline", helpers[0])).unwrap();
    let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
    assert!(
        cmdline.contains("--config-net") && cmdline.contains(&format!("127.0.0.1/{port}:80")),
        "{cmdline}"
    );
    // The same addresses as with slirp4netns: 10.0.2.100/24, gateway 10.0.2.2, DNS 10.0.2.3.
    let route = u.ok(&["exec", "web", "cat", "/proc/net/route"]);
    assert!(
        route
            .lines()
            .any(|l| l.split_whitespace().nth(2) == Some("0202000A")),
        "default route via 10.0.2.2: {route}"
    );
    assert_eq!(
        u.ok(&["exec", "web", "cat", "/etc/resolv.conf"]),
        "nameserver 10.0.2.3\n"
    );
    let get = || {
        std::net::TcpStream::connect(("127.0.0.1", port)).and_then(|mut s| {
            s.set_read_timeout(Some(Duration::from_secs(3)))?;
            s.write_all(b"GET / HTTP/1.0\r\n\r\n")?;
            let mut r = String::new();
            s.read_to_string(&mut r)?;
            Ok(r)
        })
    };
    eventually("the published port answers", || {
        get().is_ok_and(|r| r.contains("via-pasta"))
    });
    u.ok(&["rm", "-f", "web"]);
    eventually("pasta ends with the container", || {
        pids_with(&format!("netns/{id}")).is_empty()
            && std::net::TcpStream::connect(("127.0.0.1", port)).is_err()
    });
}
