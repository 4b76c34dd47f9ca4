//! The parent's side: clone the init, follow it to exec (or to "ready" in create mode),
//! record the container, and the runc-style lifecycle on top of that record.

use std::fs;
use std::io::{self, Read};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use oci_spec::runtime::{LinuxNamespaceType, Spec};

use super::cgroups::{self, Cgroup};
use super::error::{Result, RuntimeError};
use super::hooks::{self, Stage};
use super::init::{self, InitArgs, MSG_ERROR, MSG_GO, MSG_MAPPED, MSG_PTY, MSG_READY};
use super::state::{self, FIFO, Record, State, Status};
use super::{ExitOutcome, ExitStatus, RootfsMount, devices, seccomp, sys};

/// Where the container's terminal master goes, if it gets a terminal.
#[derive(Debug, Default)]
pub enum Console {
    /// No terminal: the container inherits the caller's fds 0-2.
    #[default]
    Inherit,
    /// Send the master over this connected unix socket, as runc's --console-socket does.
    Socket(OwnedFd),
    /// Hand the master back to the caller ([`Container::take_pty`]).
    Parent,
}

/// Everything [`Container::spawn`] needs.
#[derive(Debug)]
pub struct SpawnOptions {
    pub id: String,
    pub spec: Spec,
    pub rootfs_mount: Option<RootfsMount>,
    pub console: Console,
    /// The container's runtime directory (state.json, exec.fifo); created if missing.
    pub state_dir: PathBuf,
    /// Recorded in the state (runc's `bundle` field).
    pub bundle: PathBuf,
    /// Create mode: init stops before exec until [`start`].
    pub wait_for_start: bool,
    /// Kill the container if the spawning process dies (foreground runs).
    pub die_with_parent: bool,
    /// Run barge's own minimal init as PID 1, with the program as its child (`--init`).
    pub init: bool,
    /// Put these on init's fds 0-2 instead of the caller's own (not with a console).
    pub stdio: Option<[OwnedFd; 3]>,
    pub prestart: Option<super::Prestart>,
}

/// A spawned container whose init is (or was) a child of this process.
#[derive(Debug)]
pub struct Container {
    id: String,
    pid: i32,
    cgroup: Cgroup,
    state_dir: PathBuf,
    pty: Option<OwnedFd>,
    /// The rootfs fuse-overlayfs serves, unmounted by [`Container::finish`].
    fuse_root: Option<PathBuf>,
}

fn ns_flag(t: LinuxNamespaceType) -> Result<libc::c_int> {
    Ok(match t {
        LinuxNamespaceType::Pid => libc::CLONE_NEWPID,
        LinuxNamespaceType::Network => libc::CLONE_NEWNET,
        LinuxNamespaceType::Ipc => libc::CLONE_NEWIPC,
        LinuxNamespaceType::Uts => libc::CLONE_NEWUTS,
        LinuxNamespaceType::Mount => libc::CLONE_NEWNS,
        // Created by init after it has joined its cgroup.
        LinuxNamespaceType::Cgroup => 0,
        LinuxNamespaceType::User => libc::CLONE_NEWUSER,
        LinuxNamespaceType::Time => {
            return Err(RuntimeError::InvalidSpec(
                "time namespaces are not supported".into(),
            ));
        }
    })
}

impl Container {
    /// Creates the cgroup, clones the init into its namespaces and waits until it has
    /// exec'd the container's program (or, with `wait_for_start`, until it is ready and
    /// blocked before exec).
    ///
    /// Must be called from a single-threaded process.
    pub fn spawn(opts: SpawnOptions) -> Result<Container> {
        let spec = &opts.spec;
        let rootfs = spec
            .root()
            .as_ref()
            .map(|r| r.path().clone())
            .ok_or_else(|| RuntimeError::InvalidSpec("no root".into()))?;
        if !rootfs.is_absolute() {
            return Err(RuntimeError::InvalidSpec(format!(
                "root.path {} is not absolute",
                rootfs.display()
            )));
        }
        let process = spec
            .process()
            .as_ref()
            .ok_or_else(|| RuntimeError::InvalidSpec("no process".into()))?;
        if process.args().as_ref().is_none_or(|a| a.is_empty()) {
            return Err(RuntimeError::InvalidSpec("process.args is empty".into()));
        }
        let linux = spec.linux().as_ref();
        let mut flags = libc::CLONE_NEWNS;
        let mut join_pid = None;
        for ns in linux
            .and_then(|l| l.namespaces().as_ref())
            .into_iter()
            .flatten()
        {
            match (ns.typ(), ns.path()) {
                (t, None) => flags |= ns_flag(t)?,
                (LinuxNamespaceType::Pid, Some(p)) => join_pid = Some(p.clone()),
                (LinuxNamespaceType::User, Some(_)) => {
                    return Err(RuntimeError::InvalidSpec(
                        "joining an existing user namespace is not supported".into(),
                    ));
                }
                _ => {}
            }
        }
        // Opened before anything is made: a namespace that is gone fails the spawn cleanly.
        let join_pid = join_pid
            .map(|p| {
                fs::File::open(&p)
                    .map(|f| (p.clone(), f))
                    .map_err(|e| RuntimeError::file(&p, e))
            })
            .transpose()?;
        let cache = opts.state_dir.parent().map(|p| p.join(".seccomp-cache"));
        let seccomp = linux
            .and_then(|l| l.seccomp().as_ref())
            .map(|s| seccomp::compile(s, cache.as_deref()))
            .transpose()?;

        state::make_dir(&opts.state_dir).map_err(|e| RuntimeError::file(&opts.state_dir, e))?;
        let rel = cgroups::relative_path(linux.and_then(|l| l.cgroups_path().as_deref()), &opts.id);
        let mut resources = linux.and_then(|l| l.resources().clone());
        if let Some(r) = resources.as_mut()
            && let Some(rules) = r.devices().as_ref().filter(|d| !d.is_empty())
        {
            r.set_devices(Some(devices::with_runtime_devices(rules)));
        }
        let cgroup = Cgroup::create(&rel, resources.as_ref())?;
        // fuse-overlayfs mounts in this process's mount namespace (the rootless user's
        // shared one), before the clone: its daemon is then no process of the container's
        // pid namespace (where init's end would kill it, and `ps` would show it), and the
        // container's copy of the mount table has the mount at `rootfs` already.
        let fuse_root = match &opts.rootfs_mount {
            Some(m) if m.fstype == super::rootfs::FUSE_OVERLAYFS => {
                // Left over from a container whose supervisor was killed: mount afresh.
                let _ = super::rootfs::unmount_rootfs(&rootfs);
                if let Err(e) = super::rootfs::mount_fuse_overlay(m, &rootfs) {
                    cgroup.remove();
                    return Err(e);
                }
                Some(rootfs.clone())
            }
            _ => None,
        };
        let fail = |e: RuntimeError| {
            if let Some(r) = &fuse_root {
                let _ = super::rootfs::unmount_rootfs(r);
            }
            cgroup.remove();
            let _ = state::remove_dir(&opts.state_dir);
            e
        };

        let (parent_sock, child_sock) = nix::sys::socket::socketpair(
            nix::sys::socket::AddressFamily::Unix,
            nix::sys::socket::SockType::SeqPacket,
            None,
            nix::sys::socket::SockFlag::SOCK_CLOEXEC,
        )
        .map_err(|e| fail(RuntimeError::sys("socketpair", e)))?;
        let fifo = opts.state_dir.join(FIFO);
        if opts.wait_for_start {
            let _ = fs::remove_file(&fifo);
            nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600))
                .map_err(|e| fail(RuntimeError::file(&fifo, e)))?;
            // In a user namespace init reopens the fifo as the namespace's root.
            if flags & libc::CLONE_NEWUSER != 0 {
                let host = |maps: Option<&Vec<oci_spec::runtime::LinuxIdMapping>>| {
                    maps.into_iter().flatten().find_map(|m| {
                        (m.container_id() == 0 && m.size() > 0).then_some(m.host_id())
                    })
                };
                let uid = host(linux.and_then(|l| l.uid_mappings().as_ref()));
                let gid = host(linux.and_then(|l| l.gid_mappings().as_ref()));
                std::os::unix::fs::chown(&fifo, uid, gid)
                    .map_err(|e| fail(RuntimeError::file(&fifo, e)))?;
            }
        }
        let console = match &opts.console {
            Console::Inherit => None,
            Console::Socket(s) => Some(s.as_raw_fd()),
            Console::Parent => Some(child_sock.as_raw_fd()),
        };
        let join_files = cgroup.self_join_files();
        let mut args = InitArgs {
            spec,
            rootfs: &rootfs,
            rootfs_mount: opts.rootfs_mount.as_ref().filter(|_| fuse_root.is_none()),
            sync: child_sock.as_raw_fd(),
            console,
            fifo: opts.wait_for_start.then_some(fifo.as_path()),
            cgroup_join: &join_files,
            cgroup_version: cgroup.version,
            die_with_parent: opts.die_with_parent,
            seccomp: seccomp.as_ref(),
            init: opts.init,
            userns: flags & libc::CLONE_NEWUSER != 0,
            gate: opts.prestart.is_some(),
            stdio: opts
                .stdio
                .as_ref()
                .map(|fds| fds.each_ref().map(|f| f.as_raw_fd())),
        };
        // A pid namespace cannot be entered by the process itself, only by its children:
        // setns(CLONE_NEWPID) sets where this process's *next* child is born. So this
        // process enters it for the length of the clone, and init is born inside as its
        // child (so it is reaped here, as any init), then goes back to its own (always
        // allowed: it is still the namespace this process runs in). runc and crun get the
        // same effect with a second fork in the child (CLONE_PARENT, or the pid passed
        // back), which barge's single clone does not need.
        let own_pidns = match &join_pid {
            Some((path, target)) => {
                let own = fs::File::open("/proc/self/ns/pid")
                    .map_err(|e| fail(RuntimeError::file("/proc/self/ns/pid", e)))?;
                // SAFETY: setns on a descriptor we own; it changes only where this
                // single-threaded process's children are born.
                if unsafe { libc::setns(target.as_raw_fd(), libc::CLONE_NEWPID) } != 0 {
                    let e = io::Error::last_os_error();
                    return Err(fail(RuntimeError::sys(
                        format!("join the pid namespace {}", path.display()),
                        e,
                    )));
                }
                Some(own)
            }
            None => None,
        };
        // On v2 init is born in its group; elsewhere, or when the kernel cannot do that, it
        // moves itself there first thing.
        let target = cgroup.clone_target();
        // SAFETY: the caller guarantees a single-threaded process (module contract), and the
        // child never returns from `init::run`.
        let (cloned, inside) =
            unsafe { sys::clone_fork_into(flags as u64, target.as_ref().map(|t| t.as_fd())) };
        if let Ok(0) = cloned {
            if inside {
                args.cgroup_join = &[];
            }
            init::run(&args);
        }
        if let Some(own) = own_pidns {
            // SAFETY: as above; back to the namespace this process itself runs in.
            if unsafe { libc::setns(own.as_raw_fd(), libc::CLONE_NEWPID) } != 0 {
                let e = io::Error::last_os_error();
                if let Ok(pid) = cloned {
                    // SAFETY: signalling (and then reaping) our own child.
                    unsafe { libc::kill(pid, libc::SIGKILL) };
                    let _ = wait_status(pid, false);
                }
                return Err(fail(RuntimeError::sys(
                    "return to barge's own pid namespace",
                    e,
                )));
            }
        }
        let pid = cloned.map_err(|e| match &join_pid {
            // The kernel's answer for a namespace whose init has exited.
            Some((path, _)) if e.raw_os_error() == Some(libc::ENOMEM) => {
                fail(RuntimeError::InvalidSpec(format!(
                    "the pid namespace {} is gone (its init has exited)",
                    path.display()
                )))
            }
            _ => fail(RuntimeError::sys("clone", e)),
        })?;
        drop(child_sock);
        drop(opts.console);
        // Only init may hold the write ends: the reader sees their end when it exits.
        drop(opts.stdio);

        let abort = |e: RuntimeError| {
            // SAFETY: signalling our own child.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            let _ = wait_status(pid, false);
            fail(e)
        };
        if flags & libc::CLONE_NEWUSER != 0 {
            // Init waits for this before it does anything that depends on its ids.
            write_id_maps(pid, linux)
                .and_then(|_| {
                    sys::send_all(parent_sock.as_raw_fd(), &[MSG_MAPPED])
                        .map_err(|e| RuntimeError::sys("tell init its ids are mapped", e))
                })
                .map_err(abort)?;
        }
        if let Some(prestart) = opts.prestart {
            if let Err(e) = (prestart.0)(pid) {
                // Init may have failed first (a program not found), taking its namespaces
                // with it: then its report is the cause, and its exit code the one to use.
                let e = reported_now(parent_sock.as_fd()).unwrap_or(RuntimeError::Prestart(e));
                return Err(abort(e));
            }
            // Init may have failed meanwhile: then this send fails and its report is read
            // below.
            let _ = sys::send_all(parent_sock.as_raw_fd(), &[MSG_GO]);
        }
        let mut pty = None;
        let mut ready = false;
        let mut buf = [0u8; 4096];
        loop {
            let (n, fd) = sys::recv_with_fd(parent_sock.as_raw_fd(), &mut buf)
                .map_err(|e| abort(RuntimeError::sys("read from init", e)))?;
            if n == 0 {
                break;
            }
            match buf[0] {
                MSG_PTY => pty = fd,
                MSG_READY => {
                    ready = true;
                    break;
                }
                MSG_ERROR if n >= 2 => return Err(abort(init::reported_error(&buf[1..n]))),
                _ => {
                    // The pty master arrives tagged with its name (runc's console protocol).
                    if fd.is_some() {
                        pty = fd;
                    }
                }
            }
        }
        if opts.wait_for_start && !ready {
            return Err(abort(RuntimeError::Init(
                "init exited before it was ready".into(),
            )));
        }
        let record = Record {
            id: opts.id.clone(),
            pid,
            start_time: sys::process_start_time(pid).unwrap_or(0),
            bundle: opts.bundle.clone(),
            rootfs: rootfs.clone(),
            created: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true),
            owner: String::new(),
            annotations: spec.annotations().clone().unwrap_or_default(),
            cgroup: cgroup.clone(),
        };
        if let Err(e) = record
            .save(&opts.state_dir)
            .and_then(|_| save_spec(&opts.state_dir, spec))
        {
            return Err(abort(e));
        }
        Ok(Container {
            id: opts.id,
            pid,
            cgroup,
            state_dir: opts.state_dir,
            pty,
            fuse_root,
        })
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// The init's pid, as seen from barge's pid namespace.
    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// The terminal master, when spawned with [`Console::Parent`].
    pub fn take_pty(&mut self) -> Option<OwnedFd> {
        self.pty.take()
    }

    /// Blocks until init exits, then cleans up ([`Container::finish`]).
    pub fn wait(self) -> Result<ExitOutcome> {
        let status = wait_status(self.pid, false)
            .map_err(|e| RuntimeError::sys("waitpid", e))?
            .unwrap_or(ExitStatus::Code(0));
        Ok(self.finish(status))
    }

    /// After init has been reaped: reads the OOM flag, removes the cgroup and the state
    /// directory. The mounts went away with the mount namespace, but for a fuse-overlayfs
    /// rootfs, which was mounted outside it.
    pub fn finish(self, status: ExitStatus) -> ExitOutcome {
        if let Some(r) = &self.fuse_root {
            let _ = super::rootfs::unmount_rootfs(r);
        }
        let oom_killed = self.cgroup.oom_killed();
        self.cgroup.remove();
        let _ = state::remove_dir(&self.state_dir);
        ExitOutcome { status, oom_killed }
    }
}

/// An error init has already reported on `sync`, without waiting for one.
fn reported_now(sync: BorrowedFd<'_>) -> Option<RuntimeError> {
    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    let mut buf = [0u8; 4096];
    loop {
        if poll(
            &mut [PollFd::new(sync, PollFlags::POLLIN)],
            PollTimeout::ZERO,
        ) != Ok(1)
        {
            return None;
        }
        match sys::recv_with_fd(sync.as_raw_fd(), &mut buf) {
            Ok((n, _)) if n >= 2 && buf[0] == MSG_ERROR => {
                return Some(init::reported_error(&buf[1..n]));
            }
            Ok((n, _)) if n > 0 => continue,
            _ => return None,
        }
    }
}

/// Writes the user namespace's uid_map and gid_map for `pid`. As root the files are written
/// directly; otherwise the setuid helpers newuidmap/newgidmap (shadow-utils) write them,
/// checking the ranges against /etc/subuid and /etc/subgid.
fn write_id_maps(pid: i32, linux: Option<&oci_spec::runtime::Linux>) -> Result<()> {
    let uid = linux.and_then(|l| l.uid_mappings().as_ref());
    let gid = linux.and_then(|l| l.gid_mappings().as_ref());
    let (Some(uid), Some(gid)) = (uid, gid) else {
        return Err(RuntimeError::InvalidSpec(
            "a user namespace needs uidMappings and gidMappings".into(),
        ));
    };
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    for (file, helper, maps) in [("uid_map", "newuidmap", uid), ("gid_map", "newgidmap", gid)] {
        if maps.is_empty() {
            return Err(RuntimeError::InvalidSpec(format!("empty {file}")));
        }
        if root {
            let text: String = maps
                .iter()
                .map(|m| format!("{} {} {}\n", m.container_id(), m.host_id(), m.size()))
                .collect();
            let path = format!("/proc/{pid}/{file}");
            // The kernel takes the whole map in one write.
            fs::write(&path, text).map_err(|e| RuntimeError::file(&path, e))?;
        } else {
            let mut cmd = std::process::Command::new(helper);
            cmd.arg(pid.to_string());
            for m in maps {
                cmd.args([
                    m.container_id().to_string(),
                    m.host_id().to_string(),
                    m.size().to_string(),
                ]);
            }
            let out = cmd
                .stdin(std::process::Stdio::null())
                .output()
                .map_err(|e| RuntimeError::sys(format!("run {helper}"), e))?;
            if !out.status.success() {
                return Err(RuntimeError::Init(format!(
                    "{helper} failed: {}",
                    String::from_utf8_lossy(&out.stderr).trim()
                )));
            }
        }
    }
    Ok(())
}

/// The container's spec, kept beside state.json for `exec` (which applies the same
/// security settings): the bundle's config.json may change or go away meanwhile.
fn save_spec(dir: &Path, spec: &Spec) -> Result<()> {
    let tmp = dir.join(".spec.json.tmp");
    let data = serde_json::to_vec(spec).map_err(|e| RuntimeError::file(&tmp, e))?;
    fs::write(&tmp, data).map_err(|e| RuntimeError::file(&tmp, e))?;
    let dst = dir.join(super::state::SPEC_FILE);
    fs::rename(&tmp, &dst).map_err(|e| RuntimeError::file(&dst, e))
}

/// waitpid for one child; `None` with `nohang` when it is still running.
pub fn wait_status(pid: i32, nohang: bool) -> io::Result<Option<ExitStatus>> {
    let mut st = 0;
    loop {
        // SAFETY: `st` is valid for writes.
        let r = unsafe { libc::waitpid(pid, &mut st, if nohang { libc::WNOHANG } else { 0 }) };
        if r == 0 {
            return Ok(None);
        }
        if r < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        if libc::WIFEXITED(st) {
            return Ok(Some(ExitStatus::Code(libc::WEXITSTATUS(st))));
        }
        if libc::WIFSIGNALED(st) {
            return Ok(Some(ExitStatus::Signal(libc::WTERMSIG(st))));
        }
    }
}

fn check_id(id: &str) -> Result<()> {
    // A leading dot is the runtime's own (`.seccomp-cache`, `.spare`), and `.`/`..`.
    let ok = !id.is_empty()
        && !id.starts_with('.')
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.-+".contains(c));
    if ok {
        Ok(())
    } else {
        Err(RuntimeError::InvalidSpec(format!(
            "invalid container id {id:?}"
        )))
    }
}

/// `create`: spawns the container with init blocked before exec. Writes `pid_file` (digits
/// only) when given and returns init's pid.
pub fn create(
    root: &Path,
    id: &str,
    bundle: &Path,
    spec: Spec,
    console: Console,
    pid_file: Option<&Path>,
) -> Result<i32> {
    check_id(id)?;
    let dir = root.join(id);
    if dir.join(super::state::STATE_FILE).exists() {
        return Err(RuntimeError::AlreadyExists(id.to_owned()));
    }
    hooks::check(&spec)?;
    let hook_spec = spec.hooks().is_some().then(|| spec.clone());
    let c = Container::spawn(SpawnOptions {
        id: id.to_owned(),
        spec,
        rootfs_mount: None,
        console,
        state_dir: dir.clone(),
        bundle: bundle.to_owned(),
        wait_for_start: true,
        die_with_parent: false,
        init: false,
        stdio: None,
        prestart: None,
    });
    let c = match c {
        Ok(c) => c,
        Err(e) => {
            let _ = fs::remove_dir_all(&dir);
            return Err(e);
        }
    };
    if let Some(spec) = &hook_spec {
        // Init is set up and blocked before exec; a failing hook destroys the container.
        let r = load(root, id).and_then(|(_, rec)| {
            let state = rec.to_state(&dir);
            hooks::run(spec, Stage::Prestart, &state)
                .and_then(|_| hooks::run(spec, Stage::CreateRuntime, &state))
        });
        if let Err(e) = r {
            let _ = delete(root, id, true);
            return Err(e);
        }
    }
    if let Some(p) = pid_file {
        let tmp = p.with_extension("barge-tmp");
        fs::write(&tmp, c.pid.to_string())
            .and_then(|_| fs::rename(&tmp, p))
            .map_err(|e| RuntimeError::file(p, e))?;
    }
    Ok(c.pid)
}

pub(crate) fn load(root: &Path, id: &str) -> Result<(PathBuf, Record)> {
    check_id(id)?;
    let dir = root.join(id);
    let r = Record::load(&dir, id)?;
    Ok((dir, r))
}

/// `start`: lets a created container's init exec its program.
pub fn start(root: &Path, id: &str) -> Result<()> {
    let (dir, rec) = load(root, id)?;
    let status = rec.status(&dir);
    if status != Status::Created {
        return Err(RuntimeError::BadState {
            id: id.to_owned(),
            status: status.to_string(),
            hint: "only a created container can be started".into(),
        });
    }
    let fifo_path = dir.join(FIFO);
    // Non-blocking open: a dead init must not leave `start` hanging on the fifo.
    let mut fifo = fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(&fifo_path)
        .map_err(|e| RuntimeError::file(&fifo_path, e))?;
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut b = [0u8; 1];
    loop {
        match fifo.read(&mut b) {
            Ok(1..) => break,
            // No writer yet (or any more): fine while init lives.
            Ok(0) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(RuntimeError::file(&fifo_path, e)),
        }
        if !rec.alive() || Instant::now() > deadline {
            return Err(RuntimeError::Init(format!(
                "container {id}'s init exited before it could be started"
            )));
        }
        std::thread::sleep(Duration::from_micros(500));
    }
    let _ = fs::remove_file(&fifo_path);
    if let Some(spec) = hooks::saved_spec(&dir) {
        // The state as of the moment start released the program, even if a short-lived
        // one has already exited by now.
        let mut state = rec.to_state(&dir);
        state.status = Status::Running;
        state.pid = rec.pid;
        hooks::run_warn(&spec, Stage::Poststart, &state);
    }
    Ok(())
}

/// `state`: runc's view of the container.
/// The cgroup of a running container (for pause, unpause and stats).
pub fn cgroup(root: &Path, id: &str) -> Result<Cgroup> {
    let (dir, rec) = load(root, id)?;
    if rec.status(&dir) == Status::Stopped {
        return Err(RuntimeError::BadState {
            id: id.to_owned(),
            status: "stopped".into(),
            hint: "start it first".into(),
        });
    }
    Ok(rec.cgroup)
}

pub fn state(root: &Path, id: &str) -> Result<State> {
    let (dir, rec) = load(root, id)?;
    Ok(rec.to_state(&dir))
}

/// `kill`: sends `signal` to init, or with `all` to every process in its cgroup.
pub fn kill(root: &Path, id: &str, signal: i32, all: bool) -> Result<()> {
    let (dir, rec) = load(root, id)?;
    if rec.status(&dir) == Status::Stopped {
        return Err(RuntimeError::BadState {
            id: id.to_owned(),
            status: "stopped".into(),
            hint: "it has no process to signal".into(),
        });
    }
    let pids = if all {
        rec.cgroup.pids()
    } else {
        vec![rec.pid]
    };
    for pid in pids {
        // SAFETY: kill has no memory-safety requirements.
        if unsafe { libc::kill(pid, signal) } != 0 && pid == rec.pid {
            return Err(RuntimeError::sys(
                format!("kill {pid}"),
                io::Error::last_os_error(),
            ));
        }
    }
    Ok(())
}

/// `delete`: removes a stopped container; `force` kills a created or running one first.
pub fn delete(root: &Path, id: &str, force: bool) -> Result<()> {
    let (dir, rec) = match load(root, id) {
        Ok(x) => x,
        Err(RuntimeError::NotFound(_)) if force => {
            let _ = fs::remove_dir_all(root.join(id));
            return Ok(());
        }
        Err(e) => return Err(e),
    };
    let status = rec.status(&dir);
    if status != Status::Stopped {
        if !force {
            return Err(RuntimeError::BadState {
                id: id.to_owned(),
                status: status.to_string(),
                hint: "stop it first or use --force".into(),
            });
        }
        for pid in std::iter::once(rec.pid).chain(rec.cgroup.pids()) {
            // SAFETY: kill has no memory-safety requirements.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while rec.alive() && Instant::now() < deadline {
            // Our own child (e.g. in tests) turns into a zombie that we must reap.
            let _ = wait_status(rec.pid, true);
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    let spec = hooks::saved_spec(&dir);
    let state = rec.to_state(&dir);
    rec.cgroup.remove();
    state::remove_dir(&dir).map_err(|e| RuntimeError::file(&dir, e))?;
    if let Some(spec) = spec {
        hooks::run_warn(&spec, Stage::Poststop, &state);
    }
    Ok(())
}

/// `list`: the state of every container under `root`.
pub fn list(root: &Path) -> Result<Vec<State>> {
    let mut out = Vec::new();
    let Ok(entries) = fs::read_dir(root) else {
        return Ok(out);
    };
    for e in entries.flatten() {
        let id = e.file_name().to_string_lossy().into_owned();
        if let Ok(s) = state(root, &id) {
            out.push(s);
        }
    }
    out.sort_by(|a, b| a.created.cmp(&b.created));
    Ok(out)
}
