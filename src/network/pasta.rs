//! Rootless networking through pasta (package passt), the alternative to slirp4netns that
//! `rootless-network = "pasta"` picks.
//!
//! The container sees the same network as with slirp4netns (see `slirp`): 10.0.2.100/24,
//! gateway 10.0.2.2, DNS forwarder 10.0.2.3, so resolv.conf, /etc/hosts and host-gateway do
//! not depend on the helper. pasta has no API to add ports to a running instance: the
//! published ports are given on its command line (`-t`/`-u`), which is enough because they
//! are fixed at create. It daemonizes once the namespace is configured; its pid comes from
//! its pid file, and it quits by itself when the namespace file goes (`stop`).

use std::io::{Read, Seek};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};

use super::{Attachment, PortMapping, io_err, slirp};
use crate::error::{Error, Result};

const PROGRAM: &str = "pasta";

pub fn pid_file(netns: &Path) -> PathBuf {
    netns.with_extension("pasta.pid")
}

/// pasta's port specification for one mapping: `[ADDR/]HOST:CONTAINER`.
fn port_spec(p: &PortMapping) -> String {
    match p.host_ip {
        Some(ip) => format!("{ip}/{}:{}", p.host_port, p.container_port),
        None => format!("{}:{}", p.host_port, p.container_port),
    }
}

/// The arguments of pasta for `att`: no automatic forwarding either way, only the
/// published ports; the gateway is not the host's loopback (as slirp4netns's
/// `--disable-host-loopback`); IPv4 only, as slirp4netns.
fn args(att: &Attachment, netns: &Path, pid_file: &Path) -> Vec<String> {
    let mut a: Vec<String> = [
        "--quiet",
        "--ipv4-only",
        "--config-net",
        "--no-map-gw",
        "--runas",
        "0:0",
        "--address",
        &slirp::ADDRESS.to_string(),
        "--netmask",
        "24",
        "--gateway",
        &slirp::GATEWAY.to_string(),
        "--dns-forward",
        &slirp::DNS.to_string(),
        "--tcp-ns",
        "none",
        "--udp-ns",
        "none",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for (flag, proto) in [("--tcp-ports", "tcp"), ("--udp-ports", "udp")] {
        let specs: Vec<String> = att
            .ports
            .iter()
            .filter(|p| p.proto == proto)
            .map(port_spec)
            .collect();
        a.push(flag.into());
        a.push(if specs.is_empty() {
            "none".into()
        } else {
            specs.join(",")
        });
    }
    a.push("--pid".into());
    a.push(pid_file.display().to_string());
    a.push("--netns".into());
    a.push(netns.display().to_string());
    a
}

/// Makes the namespace at `netns` and starts pasta on it with the published ports.
/// Returns pasta's pid and start time.
pub fn start(netns: &Path, att: &Attachment) -> Result<(i32, u64)> {
    slirp::check_tun()?;
    slirp::prepare_netns(netns)?;
    let pid_path = pid_file(netns);
    let _ = std::fs::remove_file(&pid_path);
    // Its messages go to a memory file: the daemon it leaves behind would hold a pipe.
    let errors = rustix::fs::memfd_create(c"pasta-stderr", rustix::fs::MemfdFlags::CLOEXEC)
        .map_err(|e| io_err("memfd_create")(e.into()))?;
    let mut errors = std::fs::File::from(errors);
    let stderr = errors.try_clone().map_err(io_err("dup"))?;
    let mut cmd = std::process::Command::new(PROGRAM);
    cmd.args(args(att, netns, &pid_path))
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(stderr)
        .process_group(0);
    // SAFETY: one async-signal-safe system call between fork and exec: the daemon
    // outlives this process, so no descriptor of the caller's may stay open in it (marked
    // close-on-exec rather than closed: std reports a failed exec through one).
    unsafe {
        cmd.pre_exec(|| {
            libc::syscall(
                libc::SYS_close_range,
                3u32,
                u32::MAX,
                libc::CLOSE_RANGE_CLOEXEC,
            );
            Ok(())
        });
    }
    let status = cmd.status().map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            Error::Hinted {
                msg: "rootless networking: rootless-network = \"pasta\", but pasta is not \
                      installed"
                    .into(),
                hint: "install it (apt-get install passt), or set rootless-network = \
                       \"slirp4netns\" in ~/.config/barge/config.toml"
                    .into(),
            }
        } else {
            io_err(PROGRAM)(e)
        }
    });
    let fail = |msg: String| {
        slirp::stop(0, 0, netns);
        let _ = std::fs::remove_file(&pid_path);
        Err(Error::Other(format!("network: pasta did not start: {msg}")))
    };
    let status = match status {
        Ok(s) => s,
        Err(e) => {
            slirp::stop(0, 0, netns);
            return Err(e);
        }
    };
    if !status.success() {
        let mut text = String::new();
        let _ = errors.rewind();
        let _ = errors.read_to_string(&mut text);
        // It also complains when there is no syslog to write to.
        let msg = text
            .lines()
            .rfind(|l| !l.trim().is_empty() && !l.contains("to syslog"))
            .unwrap_or("no message")
            .to_string();
        return fail(format!("{msg} ({status})"));
    }
    let pid = std::fs::read_to_string(&pid_path)
        .ok()
        .and_then(|t| t.trim().parse::<i32>().ok());
    let Some(pid) = pid else {
        return fail(format!("no pid in {}", pid_path.display()));
    };
    Ok((pid, crate::runtime::process_start_time(pid).unwrap_or(0)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    #[test]
    fn only_the_published_ports_are_forwarded() {
        let ports = vec![
            PortMapping {
                host_ip: Some(Ipv4Addr::LOCALHOST),
                host_port: 8080,
                container_port: 80,
                proto: "tcp".into(),
            },
            PortMapping {
                host_ip: None,
                host_port: 5353,
                container_port: 53,
                proto: "udp".into(),
            },
        ];
        let att = Attachment {
            ports,
            helper: super::super::Helper::Pasta,
            ..crate::network::tests::attachment_for_tests()
        };
        let netns = Path::new("/run/x/netns/abc");
        let a = args(&att, netns, Path::new("/run/x/netns/abc.pasta.pid")).join(" ");
        assert!(a.contains("--tcp-ports 127.0.0.1/8080:80 "), "{a}");
        assert!(a.contains("--udp-ports 5353:53 "), "{a}");
        assert!(a.contains("--tcp-ns none --udp-ns none"), "{a}");
        assert!(a.ends_with("--netns /run/x/netns/abc"), "{a}");
        let mut none = att.clone();
        none.ports.clear();
        let a = args(&none, netns, Path::new("p")).join(" ");
        assert!(a.contains("--tcp-ports none --udp-ports none"), "{a}");
    }
}
