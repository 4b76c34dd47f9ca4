//! Rootless: the user namespace every barge process of an ordinary user works in.
//!
//! An unprivileged user cannot chown files to other ids, mount filesystems or create the
//! namespaces a container needs in the host's user namespace. So before a rootless command
//! does anything else, barge joins a user namespace in which it is root, with the user's
//! own id mapped to 0 and the ranges of `/etc/subuid` and `/etc/subgid` mapped to 1... (the
//! setuid helpers `newuidmap`/`newgidmap` of the uidmap package write those maps after
//! checking the files). There the layer unpacker chowns to the image's ids as root does
//! (they land on the user's subordinate ids on disk), the runtime mounts overlay with
//! `userxattr`, and containers run in that namespace without one of their own.
//!
//! Every barge process of the user must be in the *same* namespace: a process in a sibling
//! namespace has no capability over another one's containers (it could not signal a
//! container process running as uid 1000, nor setns into it for `exec`). As podman does, a
//! small "pause" process holds the namespace (and a mount namespace, where rootless network
//! namespaces are bind-mounted) open; its pid is in `<user run dir>/pause.pid`. The first
//! barge command creates it; every later one joins it with setns(2), which is cheap (two
//! opens and two system calls) and needs a single-threaded caller, so it happens first
//! thing in the command. barge being a single-threaded process at that point, it forks the
//! pause itself rather than re-executing anything.
//!
//! The namespace outlives its pause as long as anything runs in it. When the pause dies
//! while detached containers run, the next command joins the namespace through one of their
//! supervisors (found by the namespaces' inodes, which pause.pid records) and forks a new
//! pause there: a fresh namespace would have no power over those containers.
//!
//! Without entries in /etc/subuid (or /etc/subgid) the namespace maps the user's id alone
//! ("single mapping"): images whose files all belong to root still work; a file owned by
//! another id cannot be unpacked, and the error says which file and how to add the entries.

use std::fs;
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};

use super::error::{Result, RuntimeError};
use super::sys;

/// The environment variable a joined barge process carries (inherited by the supervisor
/// it re-executes): the user's uid and gid outside, `UID:GID`.
pub const ENV: &str = "_BARGE_ROOTLESS_IDS";

/// One line of a uid_map or gid_map: `count` ids from `inside` map to `outside` on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IdRange {
    pub inside: u32,
    pub outside: u32,
    pub count: u32,
}

/// The maps of the namespace barge creates for a user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mapping {
    pub uids: Vec<IdRange>,
    pub gids: Vec<IdRange>,
}

impl Mapping {
    /// Only the user's own id is mapped (no subordinate ids).
    pub fn single(&self) -> bool {
        self.uids.len() == 1 || self.gids.len() == 1
    }
}

/// `start:count` ranges of `user` (by name or by numeric id, as shadow-utils accepts both)
/// in the text of /etc/subuid or /etc/subgid.
pub fn parse_subids(text: &str, name: &str, id: u32) -> Vec<(u32, u32)> {
    let id = id.to_string();
    text.lines()
        .filter_map(|l| {
            let l = l.trim();
            if l.starts_with('#') {
                return None;
            }
            let mut f = l.split(':');
            let (who, start, count) = (f.next()?, f.next()?, f.next()?);
            if who != name && who != id {
                return None;
            }
            let (start, count) = (start.trim().parse().ok()?, count.trim().parse().ok()?);
            (count > 0).then_some((start, count))
        })
        .collect()
}

/// The user's own id at 0, then every subordinate range in file order from 1.
pub fn build_map(own: u32, subids: &[(u32, u32)]) -> Vec<IdRange> {
    let mut v = vec![IdRange {
        inside: 0,
        outside: own,
        count: 1,
    }];
    let mut next = 1u32;
    for &(start, count) in subids {
        // A range that holds the user's own id would map it twice: the kernel refuses.
        if (start..start.saturating_add(count)).contains(&own) {
            continue;
        }
        v.push(IdRange {
            inside: next,
            outside: start,
            count,
        });
        next = next.saturating_add(count);
    }
    v
}

/// `--userns=keep-id`: the map of a container's user namespace nested in barge's (whose
/// ids run 0..total): the user's own id `own` is barge's 0 (the user on the host), the ids
/// below it are barge's 1..=own and those above it themselves, as far as barge's namespace
/// reaches. So image files of root show as the user's, and those of `own` as root's.
pub fn keep_id_map(own: u32, total: u32) -> Vec<IdRange> {
    let mut v = Vec::new();
    if total == 0 {
        return v;
    }
    let below = own.min(total - 1);
    if below > 0 {
        v.push(IdRange {
            inside: 0,
            outside: 1,
            count: below,
        });
    }
    v.push(IdRange {
        inside: own,
        outside: 0,
        count: 1,
    });
    if total > own + 1 {
        v.push(IdRange {
            inside: own + 1,
            outside: own + 1,
            count: total - own - 1,
        });
    }
    v
}

/// The mapping for user `name` (`uid`, `gid`) from /etc/subuid and /etc/subgid.
pub fn mapping_for(name: &str, uid: u32, gid: u32) -> Mapping {
    let read = |f: &str| fs::read_to_string(f).unwrap_or_default();
    Mapping {
        uids: build_map(uid, &parse_subids(&read("/etc/subuid"), name, uid)),
        gids: build_map(gid, &parse_subids(&read("/etc/subgid"), name, uid)),
    }
}

/// The maps of the namespace this process is in, as the kernel reports them.
pub fn current_mapping() -> Option<Mapping> {
    let parse = |f: &str| -> Option<Vec<IdRange>> {
        let text = fs::read_to_string(f).ok()?;
        text.lines()
            .map(|l| {
                let mut it = l.split_whitespace().map(|n| n.parse::<u32>());
                Some(IdRange {
                    inside: it.next()?.ok()?,
                    outside: it.next()?.ok()?,
                    count: it.next()?.ok()?,
                })
            })
            .collect()
    };
    Some(Mapping {
        uids: parse("/proc/self/uid_map")?,
        gids: parse("/proc/self/gid_map")?,
    })
}

/// True in a user namespace other than the host's (whose map is the identity of all ids).
pub fn in_user_namespace() -> bool {
    fs::read_to_string("/proc/self/uid_map")
        .map(|m| m.split_whitespace().collect::<Vec<_>>() != ["0", "0", "4294967295"])
        .unwrap_or(false)
}

/// True when this process cannot act as the host's root: an ordinary user, or root of a
/// user namespace (barge's rootless one), which owns no cgroup, device or host network.
pub fn rootless() -> bool {
    !rustix::process::geteuid().is_root() || in_user_namespace()
}

/// What joining found or did.
#[derive(Debug)]
pub struct Joined {
    /// The pause process was created by this call (its maps are new).
    pub created: bool,
    pub mapping: Mapping,
}

/// Joins the user's namespace, creating the pause process that holds it when there is none.
/// `dir` is the user's runtime directory (pause.pid, pause.lock). `name`, `uid`, `gid`:
/// the user. Must be called while the process is single-threaded.
pub fn join(dir: &Path, name: &str, uid: u32, gid: u32) -> Result<Joined> {
    let pid_file = dir.join("pause.pid");
    let mut created = false;
    let mut entered = false;
    let pid = match PauseRecord::read(&pid_file).filter(PauseRecord::alive) {
        Some(r) => r.pid,
        None => {
            let _lock = lock(dir)?;
            // Another barge may have created it while this one waited for the lock.
            let record = PauseRecord::read(&pid_file);
            match record.as_ref().filter(|r| r.alive()) {
                Some(r) => r.pid,
                None => {
                    // The pause died (kill, OOM) while processes of its namespace still run
                    // (supervisors, a foreground run): join theirs, so their containers stay
                    // manageable (a new namespace would have no power over them), and hold
                    // it again.
                    let holder = record.and_then(|r| r.members(uid, &[]).first().map(|m| m.0));
                    let pid = match holder {
                        Some(holder) => {
                            enter(holder)?;
                            entered = true;
                            spawn_pause_here()?
                        }
                        None => {
                            let mapping = mapping_for(name, uid, gid);
                            created = true;
                            create_pause(&mapping, uid, gid)?
                        }
                    };
                    PauseRecord::of(pid).write(&pid_file)?;
                    pid
                }
            }
        }
    };
    if !entered {
        enter(pid)?;
    }
    let mapping = current_mapping()
        .ok_or_else(|| RuntimeError::Init("cannot read /proc/self/uid_map".into()))?;
    Ok(Joined { created, mapping })
}

fn lock(dir: &Path) -> Result<fs::File> {
    let lock_path = dir.join("pause.lock");
    let lock = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| RuntimeError::file(&lock_path, e))?;
    rustix::fs::flock(&lock, rustix::fs::FlockOperation::LockExclusive)
        .map_err(|e| RuntimeError::file(&lock_path, io::Error::from(e)))?;
    Ok(lock)
}

/// What `pause.pid` says: `PID START USERNS MNTNS`, the pause process (pid and start
/// time) and the inodes of the user and mount namespaces it holds, by which the processes
/// still in them are found after it died.
#[derive(Clone, Debug, PartialEq, Eq)]
struct PauseRecord {
    pid: i32,
    start: u64,
    userns: u64,
    mntns: u64,
}

fn ns_inode(pid: i32, ns: &str) -> Option<u64> {
    use std::os::unix::fs::MetadataExt;
    fs::metadata(format!("/proc/{pid}/ns/{ns}"))
        .ok()
        .map(|m| m.ino())
}

impl PauseRecord {
    fn of(pid: i32) -> PauseRecord {
        PauseRecord {
            pid,
            start: sys::process_start_time(pid).unwrap_or(0),
            userns: ns_inode(pid, "user").unwrap_or(0),
            mntns: ns_inode(pid, "mnt").unwrap_or(0),
        }
    }

    fn read(pid_file: &Path) -> Option<PauseRecord> {
        let text = fs::read_to_string(pid_file).ok()?;
        let mut it = text.split_whitespace().map(str::parse::<u64>);
        let pid = i32::try_from(it.next()?.ok()?).ok()?;
        let start = it.next()?.ok()?;
        // Written by an older barge: no inodes, so no namespace to find again.
        let userns = it.next().and_then(|v| v.ok()).unwrap_or(0);
        let mntns = it.next().and_then(|v| v.ok()).unwrap_or(0);
        Some(PauseRecord {
            pid,
            start,
            userns,
            mntns,
        })
    }

    fn write(&self, pid_file: &Path) -> Result<()> {
        let tmp = pid_file.with_extension("pid.tmp");
        let text = format!(
            "{} {} {} {}\n",
            self.pid, self.start, self.userns, self.mntns
        );
        fs::write(&tmp, text)
            .and_then(|_| fs::rename(&tmp, pid_file))
            .map_err(|e| RuntimeError::file(pid_file, e))
    }

    /// The pause still runs (pid and start time match; a killed pause not yet reaped, a
    /// zombie, has its start time but no namespaces).
    fn alive(&self) -> bool {
        let zombie = fs::read_to_string(format!("/proc/{}/stat", self.pid))
            .ok()
            .and_then(|s| {
                s.rsplit_once(')')
                    .map(|(_, r)| r.trim_start().starts_with('Z'))
            })
            .unwrap_or(true);
        !zombie && sys::process_start_time(self.pid) == Some(self.start)
    }

    /// The processes of user `uid` in the namespaces the pause held (its user namespace
    /// *and* its mount namespace: barge's own processes, slirp4netns, fuse-overlayfs, but
    /// no container, which has a mount namespace of its own), but for the pause and
    /// `except`, oldest first, with their names.
    fn members(&self, uid: u32, except: &[i32]) -> Vec<(i32, String)> {
        use std::os::unix::fs::MetadataExt;
        if self.userns == 0 || self.mntns == 0 {
            return Vec::new();
        }
        let Ok(rd) = fs::read_dir("/proc") else {
            return Vec::new();
        };
        let mut found = Vec::new();
        for e in rd.flatten() {
            let Some(pid) = e.file_name().to_str().and_then(|p| p.parse::<i32>().ok()) else {
                continue;
            };
            if pid == self.pid || except.contains(&pid) {
                continue;
            }
            if fs::metadata(e.path()).ok().map(|m| m.uid()) != Some(uid)
                || ns_inode(pid, "user") != Some(self.userns)
                || ns_inode(pid, "mnt") != Some(self.mntns)
            {
                continue;
            }
            let name = fs::read_to_string(e.path().join("comm")).unwrap_or_default();
            let start = sys::process_start_time(pid).unwrap_or(u64::MAX);
            found.push((start, pid, name.trim().to_string()));
        }
        found.sort();
        found.into_iter().map(|(_, p, n)| (p, n)).collect()
    }
}

/// The processes other than the pause and this one in the user's namespace (run directory
/// `dir`) as pause.pid records it: pid and name. `uid`: the user's id on the host.
pub fn namespace_members(dir: &Path, uid: u32) -> Vec<(i32, String)> {
    PauseRecord::read(&dir.join("pause.pid"))
        .map(|r| r.members(uid, &[std::process::id() as i32]))
        .unwrap_or_default()
}

/// Ends the pause and removes pause.pid, so that the next barge command makes a new
/// namespace with the maps /etc/subuid and /etc/subgid give then (`system migrate`). The
/// namespace itself goes when the last process in it ends.
pub fn end_pause(dir: &Path) -> Result<()> {
    let _lock = lock(dir)?;
    let pid_file = dir.join("pause.pid");
    if let Some(r) = PauseRecord::read(&pid_file)
        && r.alive()
    {
        // SAFETY: kill has no memory-safety requirements; pid and start time matched.
        unsafe { libc::kill(r.pid, libc::SIGKILL) };
    }
    match fs::remove_file(&pid_file) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(RuntimeError::file(&pid_file, e)),
    }
}

/// Forks a new pause in the namespaces this process is in (joined from an orphaned
/// supervisor) and returns its pid. Detached as [`create_pause`]'s is.
fn spawn_pause_here() -> Result<i32> {
    let (up_r, up_w) = pipe()?;
    // SAFETY: the caller is single-threaded (module contract); the children only make
    // system calls and exit with _exit.
    let mid = unsafe { sys::clone_fork(0) }.map_err(|e| RuntimeError::sys("fork", e))?;
    if mid == 0 {
        drop(up_r);
        // SAFETY: as above.
        match unsafe { sys::clone_fork(0) } {
            Ok(0) => {
                let _ = rustix::process::setsid();
                let mut up = fs::File::from(up_w);
                if up.write_all(&std::process::id().to_le_bytes()).is_err() {
                    sys::exit_now(1);
                }
                drop(up);
                pause_forever()
            }
            _ => sys::exit_now(0),
        }
    }
    drop(up_w);
    let _ = super::container::wait_status(mid, false);
    let mut buf = [0u8; 4];
    fs::File::from(up_r).read_exact(&mut buf).map_err(|_| {
        RuntimeError::Init("the rootless pause process died before it started".into())
    })?;
    Ok(i32::from_le_bytes(buf))
}

/// setns into the pause's user and mount namespaces, keeping the working directory (setns
/// into a mount namespace moves it to the namespace's root).
fn enter(pid: i32) -> Result<()> {
    let cwd = std::env::current_dir().ok();
    for (ns, flag) in [("user", libc::CLONE_NEWUSER), ("mnt", libc::CLONE_NEWNS)] {
        let path = format!("/proc/{pid}/ns/{ns}");
        let f = fs::File::open(&path).map_err(|e| RuntimeError::file(&path, e))?;
        // SAFETY: setns on a namespace descriptor we own; the process is single-threaded
        // (the caller's contract), which joining a user namespace requires.
        if unsafe { libc::setns(f.as_raw_fd(), flag) } != 0 {
            return Err(RuntimeError::sys(
                format!("join the rootless {ns} namespace of pid {pid}"),
                io::Error::last_os_error(),
            ));
        }
    }
    if let Some(cwd) = cwd {
        let _ = std::env::set_current_dir(cwd);
    }
    Ok(())
}

fn pipe() -> Result<(OwnedFd, OwnedFd)> {
    rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)
        .map_err(|e| RuntimeError::sys("pipe", io::Error::from(e)))
}

/// Forks the pause process (detached: the intermediate child exits at once, so the pause
/// is nobody's child here and no caller's wait or output pipe ever sees it), lets it
/// unshare its user and mount namespaces, writes its maps, and returns its pid.
fn create_pause(mapping: &Mapping, uid: u32, gid: u32) -> Result<i32> {
    let (up_r, up_w) = pipe()?;
    let (go_r, go_w) = pipe()?;
    // SAFETY: the caller is single-threaded (module contract); the children only make
    // system calls and exit with _exit.
    let mid = unsafe { sys::clone_fork(0) }.map_err(|e| RuntimeError::sys("fork", e))?;
    if mid == 0 {
        drop(up_r);
        drop(go_w);
        // SAFETY: as above.
        match unsafe { sys::clone_fork(0) } {
            Ok(0) => pause_main(up_w, go_r),
            _ => sys::exit_now(0),
        }
    }
    drop(up_w);
    drop(go_r);
    let _ = super::container::wait_status(mid, false);
    let mut up = fs::File::from(up_r);
    let mut buf = [0u8; 8];
    up.read_exact(&mut buf).map_err(|_| {
        RuntimeError::Init("the rootless pause process died before it started".into())
    })?;
    let pid = i32::from_le_bytes(buf[..4].try_into().expect("4 bytes"));
    let errno = i32::from_le_bytes(buf[4..].try_into().expect("4 bytes"));
    let kill = || {
        // SAFETY: signalling the process we just forked.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    };
    if errno != 0 {
        kill();
        return Err(RuntimeError::sys(
            "create a user namespace (is user.max_user_namespaces 0?)",
            io::Error::from_raw_os_error(errno),
        ));
    }
    if let Err(e) = write_maps(pid, mapping, uid, gid) {
        kill();
        return Err(e);
    }
    let mut go = fs::File::from(go_w);
    go.write_all(b"g")
        .map_err(|e| RuntimeError::sys("start the pause process", e))?;
    // Its reply: it is the namespace's root now (or it failed to become it).
    let mut ok = [0u8; 1];
    if up.read_exact(&mut ok).is_err() || ok[0] != b'k' {
        kill();
        return Err(RuntimeError::Init(
            "the rootless pause process could not become root in its namespace".into(),
        ));
    }
    Ok(pid)
}

/// The pause process: unshare, report, wait for the maps, become root, sleep forever.
fn pause_main(up: OwnedFd, go: OwnedFd) -> ! {
    let _ = rustix::process::setsid();
    // SAFETY: unshare in a single-threaded child.
    let errno = if unsafe { libc::unshare(libc::CLONE_NEWUSER | libc::CLONE_NEWNS) } == 0 {
        0
    } else {
        io::Error::last_os_error()
            .raw_os_error()
            .unwrap_or(libc::EPERM)
    };
    let mut msg = [0u8; 8];
    msg[..4].copy_from_slice(&std::process::id().to_le_bytes());
    msg[4..].copy_from_slice(&errno.to_le_bytes());
    let mut up = fs::File::from(up);
    if up.write_all(&msg).is_err() || errno != 0 {
        sys::exit_now(1);
    }
    let mut b = [0u8; 1];
    if fs::File::from(go).read_exact(&mut b).is_err() {
        sys::exit_now(1);
    }
    // Raw system calls: glibc's wrappers would synchronise with threads of the parent
    // that this forked child does not have.
    // SAFETY: integer arguments only.
    let ok = unsafe { libc::syscall(libc::SYS_setresgid, 0, 0, 0) } == 0
        // SAFETY: as above.
        && unsafe { libc::syscall(libc::SYS_setresuid, 0, 0, 0) } == 0;
    let _ = up.write_all(if ok { b"k" } else { b"e" });
    drop(up);
    if !ok {
        sys::exit_now(1);
    }
    pause_forever()
}

/// The rest of a pause's life: named, holding nothing of its creator's, asleep.
fn pause_forever() -> ! {
    let name = c"barge-pause";
    let _ = sys::prctl(libc::PR_SET_NAME, name.as_ptr() as libc::c_ulong);
    // Nothing of the creating command's stays open: a caller reading barge's output to
    // its end must not wait for the pause.
    sys::close_fds_except(0, &[]);
    if let Ok(null) = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")
    {
        let fd = null.as_raw_fd();
        for target in 0..3 {
            // SAFETY: dup2 onto the standard descriptors, which are closed.
            unsafe { libc::dup2(fd, target) };
        }
    }
    let _ = std::env::set_current_dir("/");
    loop {
        // SAFETY: pause has no preconditions; it returns only when a handled signal came.
        unsafe { libc::pause() };
    }
}

/// Writes `pid`'s uid_map and gid_map. With subordinate ids through newuidmap/newgidmap
/// (setuid root; they check the ranges against /etc/subuid and /etc/subgid); a single
/// mapping the user may write itself, after denying setgroups (the kernel's condition for
/// an unprivileged gid_map).
fn write_maps(pid: i32, m: &Mapping, uid: u32, gid: u32) -> Result<()> {
    if m.uids.len() == 1 {
        let f = format!("/proc/{pid}/uid_map");
        fs::write(&f, format!("0 {uid} 1\n")).map_err(|e| RuntimeError::file(&f, e))?;
    } else {
        run_helper("newuidmap", "/etc/subuid", pid, &m.uids)?;
    }
    if m.gids.len() == 1 {
        let f = format!("/proc/{pid}/setgroups");
        fs::write(&f, "deny").map_err(|e| RuntimeError::file(&f, e))?;
        let f = format!("/proc/{pid}/gid_map");
        fs::write(&f, format!("0 {gid} 1\n")).map_err(|e| RuntimeError::file(&f, e))?;
    } else {
        run_helper("newgidmap", "/etc/subgid", pid, &m.gids)?;
    }
    Ok(())
}

fn run_helper(helper: &str, file: &str, pid: i32, ranges: &[IdRange]) -> Result<()> {
    let mut cmd = std::process::Command::new(helper);
    cmd.arg(pid.to_string());
    for r in ranges {
        cmd.args([
            r.inside.to_string(),
            r.outside.to_string(),
            r.count.to_string(),
        ]);
    }
    let out = cmd
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| {
            if e.kind() == io::ErrorKind::NotFound {
                RuntimeError::Init(format!(
                    "{helper} is not installed: rootless barge needs it to map the ids of {file} \
                     (install the uidmap package)"
                ))
            } else {
                RuntimeError::sys(format!("run {helper}"), e)
            }
        })?;
    if !out.status.success() {
        return Err(RuntimeError::Init(format!(
            "{helper} refused the ranges of {file}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(())
}

/// Whether overlay mounts here with `options` (rootless: `userxattr`): a trial mount of an
/// empty overlay under `dir` in a mount namespace of a short-lived thread, so nothing shows
/// anywhere else. The error when it does not mount (an old kernel, a file system without
/// user xattrs under the store).
pub fn probe_overlay(dir: &Path, options: &[&str]) -> std::result::Result<(), String> {
    for d in ["lower", "upper", "work", "merged"] {
        fs::create_dir_all(dir.join(d)).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let m = super::RootfsMount {
        fstype: "overlay".into(),
        lowerdirs: vec![dir.join("lower")],
        upperdir: Some(dir.join("upper")),
        workdir: Some(dir.join("work")),
        options: options.iter().map(|o| o.to_string()).collect(),
    };
    let target = dir.join("merged");
    std::thread::scope(|s| {
        s.spawn(|| {
            // SAFETY: CLONE_NEWNS (with the CLONE_FS it implies) changes only this thread,
            // which ends right after the trial.
            unsafe { rustix::thread::unshare_unsafe(rustix::thread::UnshareFlags::NEWNS) }
                .map_err(|e| format!("unshare a mount namespace: {e}"))?;
            rustix::mount::mount_change(
                "/",
                rustix::mount::MountPropagationFlags::PRIVATE
                    | rustix::mount::MountPropagationFlags::REC,
            )
            .map_err(|e| format!("make / private: {e}"))?;
            super::rootfs::mount_rootfs(&m, &target).map_err(|e| e.to_string())?;
            let _ = rustix::mount::unmount(&target, rustix::mount::UnmountFlags::DETACH);
            Ok(())
        })
        .join()
        .unwrap_or_else(|_| Err("the probe thread panicked".into()))
    })
}

/// The user's runtime directory when it has to be made in /tmp: created 0700, and refused
/// unless it is a directory the user owns that nobody else can enter (another user could
/// otherwise prepare it to catch barge's sockets and pid files).
pub fn private_dir(path: &Path, uid: u32) -> Result<PathBuf> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt};
    match fs::DirBuilder::new().mode(0o700).create(path) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(RuntimeError::file(path, e)),
    }
    let md = fs::symlink_metadata(path).map_err(|e| RuntimeError::file(path, e))?;
    if !md.is_dir() || md.uid() != uid || md.mode() & 0o077 != 0 {
        return Err(RuntimeError::Init(format!(
            "{} is not a private directory of uid {uid} (owner {}, mode {:o}): remove it or set \
             XDG_RUNTIME_DIR",
            path.display(),
            md.uid(),
            md.mode() & 0o7777
        )));
    }
    Ok(path.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subids_by_name_or_id_in_file_order() {
        let text = "# comment\nalice:100000:65536\nbob:200000:65536\n1000:300000:10\nalice:x:1\n";
        assert_eq!(
            parse_subids(text, "alice", 1000),
            [(100000, 65536), (300000, 10)]
        );
        assert!(parse_subids(text, "carol", 1001).is_empty());
    }

    #[test]
    fn map_puts_the_user_at_zero_and_ranges_after_it() {
        let m = build_map(1000, &[(100000, 65536), (300000, 10)]);
        assert_eq!(
            m,
            [
                IdRange {
                    inside: 0,
                    outside: 1000,
                    count: 1
                },
                IdRange {
                    inside: 1,
                    outside: 100000,
                    count: 65536
                },
                IdRange {
                    inside: 65537,
                    outside: 300000,
                    count: 10
                },
            ]
        );
        // A range holding the user's own id is skipped, not mapped twice.
        assert_eq!(build_map(1000, &[(900, 200)]).len(), 1);
    }

    #[test]
    fn the_fallback_run_dir_must_be_private_and_the_users() {
        use std::os::unix::fs::PermissionsExt;
        let base = std::env::temp_dir().join(format!("barge-priv-{}", std::process::id()));
        let me = rustix::process::geteuid().as_raw();
        let d = base.join("mine");
        fs::create_dir_all(&base).unwrap();
        assert!(private_dir(&d, me).is_ok());
        assert_eq!(
            fs::metadata(&d).unwrap().permissions().mode() & 0o777,
            0o700
        );
        // Someone else's, or open to others: refused, not used.
        assert!(private_dir(&d, me + 1).is_err());
        fs::set_permissions(&d, fs::Permissions::from_mode(0o755)).unwrap();
        assert!(private_dir(&d, me).is_err());
        let _ = fs::remove_dir_all(&base);
    }

    #[test]
    fn keep_id_puts_the_user_at_its_own_id() {
        let r = |inside, outside, count| IdRange {
            inside,
            outside,
            count,
        };
        assert_eq!(
            keep_id_map(1000, 65537),
            [r(0, 1, 1000), r(1000, 0, 1), r(1001, 1001, 64536)]
        );
        // A single mapping: the user alone.
        assert_eq!(keep_id_map(1000, 1), [r(1000, 0, 1)]);
    }
}
