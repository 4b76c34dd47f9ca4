//! Rootless networking: slirp4netns.
//!
//! An ordinary user cannot create a bridge, veths or nft rules on the host. The container
//! gets a network namespace of its own (owned by barge's user namespace) with a tap device
//! that slirp4netns, a user-space TCP/IP stack running in the host's network namespace,
//! connects to the outside: the container is 10.0.2.100/24, its gateway 10.0.2.2 and its DNS
//! forwarder 10.0.2.3 (slirp4netns's defaults). Published ports are host sockets that
//! slirp4netns opens and forwards into the namespace, added through its API socket
//! (`add_hostfwd`), so `-p 8080:80` is reachable on the host's 127.0.0.1:8080.
//!
//! The namespace is made and bind-mounted on `<run>/netns/<id>` as the bridge code does it
//! (the bind mount lives in the mount namespace of barge's pause process, which every
//! rootless barge process joins); slirp4netns runs detached in its own process group from
//! `create` to `rm`, its pid and start time kept in the attachment, and `detach` ends it.
//! slirp4netns is the default because its API adds ports one by one to a running instance
//! and Debian packages it beside podman; `rootless-network = "pasta"` picks pasta instead
//! (see `pasta`), which shares this module's addresses, namespace setup and `stop`.

use std::io::{Read, Write};
use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::{Attachment, PortMapping, io_err};
use crate::error::{Error, Result};

pub const ADDRESS: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 100);
pub const GATEWAY: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 2);
pub const DNS: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 3);
const PROGRAM: &str = "slirp4netns";

fn api_socket(netns: &Path) -> PathBuf {
    netns.with_extension("slirp.sock")
}

/// Makes the namespace at `netns`, starts slirp4netns on it and publishes the ports.
/// Returns slirp4netns's pid and start time.
pub fn start(netns: &Path, att: &Attachment) -> Result<(i32, u64)> {
    check_tun()?;
    prepare_netns(netns)?;
    let sock = api_socket(netns);
    let _ = std::fs::remove_file(&sock);
    let (ready_r, ready_w) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)
        .map_err(|e| io_err("pipe")(e.into()))?;
    // The write end must survive the exec: dup it to a descriptor without CLOEXEC.
    let inherit: OwnedFd =
        rustix::io::fcntl_dupfd_cloexec(&ready_w, 3).map_err(|e| io_err("dup")(e.into()))?;
    rustix::io::fcntl_setfd(&inherit, rustix::io::FdFlags::empty())
        .map_err(|e| io_err("fcntl")(e.into()))?;
    drop(ready_w);
    let mut cmd = std::process::Command::new(PROGRAM);
    cmd.args([
        "--configure",
        "--mtu=65520",
        "--disable-host-loopback",
        "--netns-type=path",
    ])
    .arg(format!("--ready-fd={}", inherit.as_raw_fd()))
    // A socket's path must fit in 108 bytes, which `<run>/netns/<64 hex>.slirp.sock` need
    // not (a long XDG_RUNTIME_DIR or --root): slirp4netns binds it relative to its working
    // directory, and barge connects through a descriptor of the directory.
    .arg("--api-socket")
    .arg(sock.file_name().expect("a file name"))
    .current_dir(sock.parent().expect("a directory"))
    .arg(netns)
    .arg("tap0")
    .stdin(std::process::Stdio::null())
    .stdout(std::process::Stdio::null())
    .stderr(std::process::Stdio::piped())
    // Its own process group: a Ctrl-C at the terminal of `barge run` must not take the
    // network of the container down before barge has stopped the container.
    .process_group(0);
    let child = cmd.spawn();
    drop(inherit);
    let mut child = child.map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            Error::Hinted {
                msg: "rootless networking needs slirp4netns, which is not installed".into(),
                hint: "install it (apt-get install slirp4netns), or run with --network none \
                       or --network host"
                    .into(),
            }
        } else {
            io_err(PROGRAM)(e)
        }
    })?;
    let pid = child.id() as i32;
    let mut ready = std::fs::File::from(ready_r);
    let mut b = [0u8; 1];
    if !matches!(ready.read(&mut b), Ok(1)) {
        let _ = child.kill();
        let _ = child.wait();
        let mut err = String::new();
        if let Some(mut e) = child.stderr.take() {
            let _ = e.read_to_string(&mut err);
        }
        let _ = std::fs::remove_file(&sock);
        return Err(Error::Other(format!(
            "network: slirp4netns did not start: {}",
            err.lines().last().unwrap_or("no message")
        )));
    }
    // Its later messages would fill a pipe nobody reads.
    drop(child.stderr.take());
    let started = crate::runtime::process_start_time(pid).unwrap_or(0);
    let stop = || stop(pid, started, netns);
    for p in &att.ports {
        if let Err(e) = add_hostfwd(&sock, p) {
            stop();
            return Err(e);
        }
    }
    Ok((pid, started))
}

/// The helpers open /dev/net/tun inside the namespace, where the user's host ids apply.
pub(super) fn check_tun() -> Result<()> {
    if rustix::fs::access(
        "/dev/net/tun",
        rustix::fs::Access::READ_OK | rustix::fs::Access::WRITE_OK,
    )
    .is_err()
    {
        return Err(Error::Hinted {
            msg: "rootless networking: /dev/net/tun is not readable and writable by this user"
                .into(),
            hint: "as root: chmod 0666 /dev/net/tun (udev's default), or run with --network \
                   none or --network host"
                .into(),
        });
    }
    Ok(())
}

/// The container's network namespace, made and bind-mounted on `path`.
pub(super) fn prepare_netns(path: &Path) -> Result<()> {
    if let Some(d) = path.parent() {
        std::fs::create_dir_all(d).map_err(io_err(d.display()))?;
    }
    std::thread::scope(|s| {
        s.spawn(|| make_netns(path))
            .join()
            .unwrap_or_else(|_| Err(Error::Other("network: setup thread panicked".into())))
    })
}

/// A thread's network namespace, bind-mounted on `path` so it outlives the thread, with
/// `lo` up.
fn make_netns(path: &Path) -> Result<()> {
    std::fs::File::create(path).map_err(io_err(path.display()))?;
    // SAFETY: CLONE_NEWNET changes only this thread's network namespace, which no other
    // thread relies on; the thread ends right after.
    unsafe { rustix::thread::unshare_unsafe(rustix::thread::UnshareFlags::NEWNET) }
        .map_err(|e| io_err("unshare network namespace")(e.into()))?;
    rustix::mount::mount_bind("/proc/thread-self/ns/net", path)
        .map_err(|e| io_err(format!("bind mount {}", path.display()))(e.into()))?;
    let inner = super::netlink::Socket::open().map_err(io_err("netlink socket"))?;
    inner.set_up(1).map_err(io_err("set lo up"))
}

/// One `add_hostfwd` request to slirp4netns's API.
fn add_hostfwd(sock: &Path, p: &PortMapping) -> Result<()> {
    let req = serde_json::json!({
        "execute": "add_hostfwd",
        "arguments": {
            "proto": p.proto,
            "host_addr": p.host_ip.unwrap_or(Ipv4Addr::UNSPECIFIED).to_string(),
            "host_port": p.host_port,
            "guest_port": p.container_port,
        }
    });
    let dir = sock.parent().expect("a directory");
    let dir_fd = rustix::fs::open(
        dir,
        rustix::fs::OFlags::PATH | rustix::fs::OFlags::DIRECTORY | rustix::fs::OFlags::CLOEXEC,
        rustix::fs::Mode::empty(),
    )
    .map_err(|e| io_err(dir.display())(e.into()))?;
    let short = PathBuf::from(format!("/proc/self/fd/{}", dir_fd.as_raw_fd()))
        .join(sock.file_name().expect("a file name"));
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut s = loop {
        match UnixStream::connect(&short) {
            Ok(s) => break s,
            Err(e) if Instant::now() > deadline => return Err(io_err(sock.display())(e)),
            Err(_) => std::thread::sleep(Duration::from_millis(5)),
        }
    };
    s.write_all(req.to_string().as_bytes())
        .map_err(io_err(sock.display()))?;
    let _ = s.shutdown(std::net::Shutdown::Write);
    let mut reply = String::new();
    s.read_to_string(&mut reply)
        .map_err(io_err(sock.display()))?;
    let v: serde_json::Value = serde_json::from_str(&reply).unwrap_or_default();
    if let Some(e) = v.get("error") {
        return Err(Error::Conflict(format!(
            "cannot publish {p}: {}",
            e.get("desc").and_then(|d| d.as_str()).unwrap_or("refused")
        )));
    }
    Ok(())
}

/// Ends slirp4netns or pasta (when the pid still names it) and releases the namespace.
pub fn stop(pid: i32, start_time: u64, netns: &Path) {
    if pid > 0 && crate::runtime::process_start_time(pid) == Some(start_time) {
        // SAFETY: signalling a process whose identity the start time confirmed.
        unsafe { libc::kill(pid, libc::SIGTERM) };
        // Our own child when the container was created by this process: reap it.
        let _ = crate::runtime::wait_status(pid, true);
    }
    let _ = rustix::mount::unmount(netns, rustix::mount::UnmountFlags::DETACH);
    let _ = std::fs::remove_file(netns);
    let _ = std::fs::remove_file(api_socket(netns));
    let _ = std::fs::remove_file(super::pasta::pid_file(netns));
}
