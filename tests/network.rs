//! Networks through the real binary, as root: the `barge0` bridge, published ports, none,
//! host, and cleanup. Traffic stays on loopback and on barge's own bridge.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};

use common::*;

fn setup() -> Option<Barge> {
    if !is_root() {
        eprintln!("skipped: needs root");
        return None;
    }
    let b = Barge::new();
    let img = Img::new("bb:1", vec![busybox_layer()]);
    b.ok(&["import", &b.file("bb.tar", &docker_archive(&[img]))]);
    Some(b)
}

fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A port that is free right now on 127.0.0.1.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

const HTTPD: &str = "mkdir -p /www && echo hello-from-$(hostname) > /www/index.html && exec busybox httpd -f -p 80 -h /www";

fn http_get(addr: &str) -> Option<String> {
    let mut s = TcpStream::connect_timeout(&addr.parse().ok()?, Duration::from_secs(2)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    s.write_all(b"GET / HTTP/1.0\r\n\r\n").ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    out.contains("200 OK").then_some(out)
}

fn ip_of(b: &Barge, name: &str) -> String {
    b.ok(&["inspect", "-f", "{{.NetworkSettings.IPAddress}}", name])
        .trim()
        .to_string()
}

fn ipam(b: &Barge) -> String {
    std::fs::read_to_string(b.root().join("network/ipam.json")).unwrap_or_default()
}

fn link_exists(name: &str) -> bool {
    Path::new("/sys/class/net").join(name).exists()
}

/// Nothing of container `id` is left: veth, namespace file, address, port rules.
fn assert_released(b: &Barge, id: &str, port: Option<u16>) {
    let veth = format!("veth{}", &id[..11]);
    wait_until("the veth to go", || !link_exists(&veth));
    assert!(
        !b.root().join("run/netns").join(id).exists(),
        "netns file left"
    );
    assert!(
        !ipam(b).contains(id),
        "address still allocated: {}",
        ipam(b)
    );
    if let Some(port) = port {
        let out = std::process::Command::new("nft")
            .args(["list", "table", "ip", "barge"])
            .output()
            .unwrap();
        let rules = String::from_utf8_lossy(&out.stdout);
        assert!(!rules.contains(&format!(". {port} :")), "{rules}");
    }
}

#[test]
fn published_port_reachable_from_the_host_then_released() {
    let Some(b) = setup() else { return };
    let port = free_port();
    let publish = format!("127.0.0.1:{port}:80");
    let id = b
        .ok(&[
            "run", "-d", "--name", "web", "-p", &publish, "bb:1", "sh", "-c", HTTPD,
        ])
        .trim()
        .to_string();
    let addr = format!("127.0.0.1:{port}");
    let mut got = None;
    wait_until("httpd through the published port", || {
        got = http_get(&addr);
        got.is_some()
    });
    assert!(got.unwrap().contains("hello-from-"));
    assert_eq!(
        b.ok(&["port", "web"]),
        format!("80/tcp -> 127.0.0.1:{port}\n")
    );
    assert_eq!(b.ok(&["port", "web", "80"]), format!("127.0.0.1:{port}\n"));
    let ps = b.ok(&["ps"]);
    assert!(ps.contains(&format!("127.0.0.1:{port}->80/tcp")), "{ps}");
    // The same host port again: refused, naming the port.
    let err = b.fails(&["run", "--rm", "-p", &format!("{port}:80"), "bb:1", "true"]);
    assert!(err.contains(&port.to_string()), "{err}");
    // A port a host process listens on: refused too.
    let busy = TcpListener::bind("0.0.0.0:0").unwrap();
    let busy_port = busy.local_addr().unwrap().port();
    let err = b.fails(&[
        "run",
        "--rm",
        "-p",
        &format!("{busy_port}:80"),
        "bb:1",
        "true",
    ]);
    assert!(err.contains(&busy_port.to_string()), "{err}");
    assert!(!ipam(&b).is_empty());
    b.ok(&["rm", "-f", "web"]);
    assert_released(&b, &id, Some(port));
    assert!(http_get(&addr).is_none(), "still answered after rm");
}

#[test]
fn containers_reach_each_other_over_the_bridge() {
    let Some(b) = setup() else { return };
    b.ok(&["run", "-d", "--name", "srv", "bb:1", "sh", "-c", HTTPD]);
    let ip = ip_of(&b, "srv");
    assert!(ip.starts_with("10.87."), "{ip}");
    // The container's own /etc/hosts names it by its address.
    let hosts = b.ok(&["exec", "srv", "cat", "/etc/hosts"]);
    assert!(hosts.contains(&ip), "{hosts}");
    let script = format!(
        "i=0; until printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w2 {ip} 80 | grep -q hello-from; do \
           i=$((i+1)); [ $i -gt 50 ] && exit 9; sleep 0.1; done; echo reached; \
           ip route | grep -q 'default via 10.87.0.1' && echo routed"
    );
    let out = b.ok(&["run", "--rm", "bb:1", "sh", "-c", &script]);
    assert_eq!(out, "reached\nrouted\n");
    // The host reaches it over the bridge as well.
    let mut ok = false;
    wait_until("httpd from the host", || {
        ok = http_get(&format!("{ip}:80")).is_some();
        ok
    });
    let id = b
        .ok(&["inspect", "-f", "{{.Id}}", "srv"])
        .trim()
        .to_string();
    b.ok(&["rm", "-f", "srv"]);
    assert_released(&b, &id, None);
}

#[test]
fn none_has_only_lo_and_host_sees_the_host() {
    let Some(b) = setup() else { return };
    let out = b.ok(&[
        "run",
        "--rm",
        "--network",
        "none",
        "bb:1",
        "ls",
        "/sys/class/net",
    ]);
    assert_eq!(out, "lo\n");
    let host: Vec<String> = std::fs::read_to_string("/proc/net/dev")
        .unwrap()
        .lines()
        .skip(2)
        .map(|l| l.split(':').next().unwrap().trim().to_string())
        .collect();
    let out = b.ok(&[
        "run",
        "--rm",
        "--network",
        "host",
        "bb:1",
        "cat",
        "/proc/net/dev",
    ]);
    for i in &host {
        assert!(out.contains(&format!("{i}:")), "{i} missing: {out}");
    }
    // --add-host and --dns end up in the container's files.
    let out = b.ok(&[
        "run",
        "--rm",
        "--add-host",
        "db.example:10.87.9.9",
        "--dns",
        "10.87.0.53",
        "bb:1",
        "cat",
        "/etc/hosts",
        "/etc/resolv.conf",
    ]);
    assert!(out.contains("10.87.9.9\tdb.example"), "{out}");
    assert!(out.contains("nameserver 10.87.0.53"), "{out}");
    assert!(
        ipam(&b).trim() == "{}" || ipam(&b).is_empty(),
        "{}",
        ipam(&b)
    );
}

#[test]
fn killed_barge_leaves_nothing_after_the_next_command() {
    let Some(b) = setup() else { return };
    let port = free_port();
    let mut child = b
        .cmd()
        .args([
            "run",
            "--rm",
            "--name",
            "doomed",
            "-p",
            &format!("127.0.0.1:{port}:80"),
            "bb:1",
            "sleep",
            "60",
        ])
        .spawn()
        .unwrap();
    wait_until("the container to be running", || {
        b.ok(&["ps", "-q"]).lines().count() == 1
    });
    let id = b
        .ok(&["inspect", "-f", "{{.Id}}", "doomed"])
        .trim()
        .to_string();
    assert!(b.root().join("run/netns").join(&id).exists());
    child.kill().unwrap();
    child.wait().unwrap();
    wait_until("the --rm container to be removed", || {
        b.ok(&["ps", "-a", "-q"]).trim().is_empty()
    });
    assert_released(&b, &id, Some(port));
}

#[test]
fn user_network_containers_reach_each_other_by_name() {
    let Some(b) = setup() else { return };
    // A subnet unlikely to be taken by a concurrent test's store.
    let net = format!("t{}", std::process::id());
    b.ok(&["network", "create", "--subnet", "10.86.200.0/24", &net]);
    assert!(b.ok(&["network", "ls"]).contains(&net));
    b.ok(&[
        "run",
        "-d",
        "--name",
        "named-srv",
        "--network",
        &net,
        "bb:1",
        "sh",
        "-c",
        HTTPD,
    ]);
    let ip = ip_of(&b, "named-srv");
    assert!(ip.starts_with("10.86.200."), "{ip}");
    let script = "i=0; until printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w2 named-srv 80 | grep -q hello-from; do \
           i=$((i+1)); [ $i -gt 50 ] && exit 9; sleep 0.1; done; echo reached";
    let out = b.ok(&["run", "--rm", "--network", &net, "bb:1", "sh", "-c", script]);
    assert_eq!(out, "reached\n");
    // In use: refused; then removed with its bridge.
    b.fails(&["network", "rm", &net]);
    // prune keeps a network in use, and needs -f without a terminal.
    b.fails(&["network", "prune"]);
    assert!(!b.ok(&["network", "prune", "-f"]).contains(&net));
    b.ok(&["rm", "-f", "named-srv"]);
    b.ok(&["network", "rm", &net]);
    assert!(!b.ok(&["network", "ls"]).contains(&net));
    // An unused network goes with prune.
    let spare = format!("s{}", std::process::id());
    b.ok(&["network", "create", "--subnet", "10.86.201.0/24", &spare]);
    assert!(b.ok(&["network", "prune", "-f"]).contains(&spare));
    assert!(!b.ok(&["network", "ls"]).contains(&spare));
}
