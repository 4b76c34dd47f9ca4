//! Networks through the real binary, as root: the `barge0` bridge, published ports, none,
//! host, and cleanup. Traffic stays on loopback and on barge's own bridge.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::time::Duration;

use common::*;

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

/// The IDs holding an address, one per line.
fn ipam(b: &Barge) -> String {
    b.sandbox_ids().join("\n")
}

fn link_exists(name: &str) -> bool {
    Path::new("/sys/class/net").join(name).exists()
}

/// Nothing of container `id` is left: veths (eth0's and a connected network's eth1),
/// namespace file, addresses, port rules.
fn assert_released(b: &Barge, id: &str, port: Option<u16>) {
    let veth = format!("veth{}", &id[..11]);
    wait_until("the veth to go", || !link_exists(&veth));
    let veth1 = format!("veth{}-1", &id[..8]);
    wait_until("the second veth to go", || !link_exists(&veth1));
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
    let Some(b) = bb_store() else { return };
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
    let Some(b) = bb_store() else { return };
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
    let Some(b) = bb_store() else { return };
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
    let host = || -> Vec<String> {
        std::fs::read_to_string("/proc/net/dev")
            .unwrap()
            .lines()
            .skip(2)
            .map(|l| l.split(':').next().unwrap().trim().to_string())
            .collect()
    };
    let before = host();
    let out = b.ok(&[
        "run",
        "--rm",
        "--network",
        "host",
        "bb:1",
        "cat",
        "/proc/net/dev",
    ]);
    // Other tests' veths and bridges come and go meanwhile: the interfaces there before
    // and after are the ones the container must have seen.
    let after = host();
    for i in before.iter().filter(|i| after.contains(i)) {
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
    assert!(ipam(&b).is_empty(), "{}", ipam(&b));
}

#[test]
fn killed_barge_leaves_nothing_after_the_next_command() {
    let Some(b) = bb_store() else { return };
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
    // Made once init is cloned, a moment after the record.
    wait_until("the network namespace to be mounted", || {
        b.root().join("run/netns").join(&id).exists()
    });
    child.kill().unwrap();
    child.wait().unwrap();
    wait_until("the --rm container to be removed", || {
        b.ok(&["ps", "-a", "-q"]).trim().is_empty()
    });
    assert_released(&b, &id, Some(port));
}

#[test]
fn user_network_containers_reach_each_other_by_name() {
    let Some(b) = bb_store() else { return };
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

/// A user network whose name is unique to this test process.
fn user_net(b: &Barge, tag: &str, subnet: &str) -> String {
    let net = format!("{tag}{}", std::process::id());
    b.ok(&["network", "create", "--subnet", subnet, &net]);
    net
}

fn id_of(b: &Barge, name: &str) -> String {
    b.ok(&["inspect", "-f", "{{.Id}}", name]).trim().to_string()
}

/// Fetch `target`'s page by name from inside container `from`, retrying while it starts.
fn reach_by_name(b: &Barge, from: &str, target: &str) -> String {
    let script = format!(
        "i=0; until printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w2 {target} 80 | grep -q hello-from; do \
           i=$((i+1)); [ $i -gt 50 ] && exit 9; sleep 0.1; done; echo reached"
    );
    b.ok(&["exec", from, "sh", "-c", &script])
}

#[test]
fn connect_and_disconnect_a_running_container() {
    let Some(b) = bb_store() else { return };
    let front = user_net(&b, "front", "10.86.202.0/24");
    let back = user_net(&b, "back", "10.86.203.0/24");
    b.ok(&[
        "run",
        "-d",
        "--name",
        "srv",
        "--network",
        &front,
        "bb:1",
        "sh",
        "-c",
        HTTPD,
    ]);
    b.ok(&[
        "run",
        "-d",
        "--name",
        "cli",
        "--network",
        &back,
        "bb:1",
        "sleep",
        "3600",
    ]);
    // Not on the same network: cli does not know srv.
    let hosts = b.ok(&["exec", "cli", "cat", "/etc/hosts"]);
    assert!(!hosts.contains("srv"), "{hosts}");
    // srv joins cli's network while it runs: a second interface, and cli reaches it there
    // by name and by alias.
    b.ok(&["network", "connect", "--alias", "web", &back, "srv"]);
    let ifaces = b.ok(&["exec", "srv", "ls", "/sys/class/net"]);
    assert_eq!(ifaces, "eth0\neth1\nlo\n");
    let nets = b.ok(&["inspect", "-f", "{{json .NetworkSettings.Networks}}", "srv"]);
    let nets: serde_json::Value = serde_json::from_str(&nets).unwrap();
    let ip_back = nets[&back]["IPAddress"].as_str().unwrap().to_string();
    assert!(ip_back.starts_with("10.86.203."), "{ip_back}");
    let addr = b.ok(&["exec", "srv", "busybox", "ip", "-4", "addr", "show", "eth1"]);
    assert!(addr.contains(&format!("{ip_back}/24")), "{addr}");
    assert_eq!(reach_by_name(&b, "cli", "srv"), "reached\n");
    assert_eq!(reach_by_name(&b, "cli", "web"), "reached\n");
    let nets = b.ok(&["inspect", "-f", "{{json .NetworkSettings.Networks}}", "srv"]);
    let nets: serde_json::Value = serde_json::from_str(&nets).unwrap();
    assert_eq!(nets.as_object().unwrap().len(), 2, "{nets}");
    assert_eq!(nets[&back]["Aliases"], serde_json::json!(["web"]));
    assert_eq!(nets[&back]["IPAddress"], ip_back);
    assert!(
        nets[&front]["IPAddress"]
            .as_str()
            .unwrap()
            .starts_with("10.86.202.")
    );
    assert_ne!(nets[&front]["EndpointID"], nets[&back]["EndpointID"]);
    let ps = b.ok(&["ps", "--filter", "name=srv", "--format", "{{.Networks}}"]);
    assert_eq!(ps.trim().split(',').count(), 2, "{ps}");
    // Twice: refused.
    let err = b.fails(&["network", "connect", &back, "srv"]);
    assert!(err.contains("already connected"), "{err}");
    // A stop/start keeps the namespace, so the address and the peers' entries stay right.
    b.ok(&["stop", "-t", "0", "srv"]);
    b.ok(&["start", "srv"]);
    assert_eq!(reach_by_name(&b, "cli", "srv"), "reached\n");
    // A rename reaches the peers too.
    b.ok(&["rename", "srv", "srv2"]);
    assert_eq!(reach_by_name(&b, "cli", "srv2"), "reached\n");
    // Disconnected: the interface goes, the peers forget the name, it forgets them.
    b.ok(&["network", "disconnect", &back, "srv2"]);
    assert_eq!(
        b.ok(&["exec", "srv2", "ls", "/sys/class/net"]),
        "eth0\nlo\n"
    );
    let hosts = b.ok(&["exec", "cli", "cat", "/etc/hosts"]);
    assert!(!hosts.contains("srv2") && !hosts.contains("web"), "{hosts}");
    assert!(!hosts.contains(&ip_back), "{hosts}");
    let hosts = b.ok(&["exec", "srv2", "cat", "/etc/hosts"]);
    assert!(!hosts.contains("cli"), "{hosts}");
    let err = b.fails(&["network", "disconnect", &back, "srv2"]);
    assert!(err.contains("not connected"), "{err}");
    let err = b.fails(&["network", "connect", "no-such-net", "srv2"]);
    assert!(err.contains("no-such-net"), "{err}");
    // No namespace of its own to wire: refused.
    b.ok(&[
        "create",
        "--name",
        "loner",
        "--network",
        "none",
        "bb:1",
        "true",
    ]);
    let err = b.fails(&["network", "connect", &back, "loner"]);
    assert!(err.contains("none"), "{err}");
    b.ok(&["rm", "loner"]);
    // Leaving the network that routes: the next one takes the default route over.
    b.ok(&["network", "connect", &front, "cli"]);
    b.ok(&["network", "disconnect", &back, "cli"]);
    let routes = b.ok(&["exec", "cli", "busybox", "ip", "route"]);
    assert!(
        routes.contains("default via 10.86.202.1 dev eth1"),
        "{routes}"
    );
    assert_eq!(reach_by_name(&b, "cli", "srv2"), "reached\n");
    // A created container joins too: the interface is there when it starts.
    b.ok(&[
        "create",
        "--name",
        "late",
        "--network",
        &back,
        "bb:1",
        "sleep",
        "3600",
    ]);
    b.ok(&["network", "connect", &front, "late"]);
    b.ok(&["start", "late"]);
    assert_eq!(
        b.ok(&["exec", "late", "ls", "/sys/class/net"]),
        "eth0\neth1\nlo\n"
    );
    assert_eq!(reach_by_name(&b, "late", "srv2"), "reached\n");
    let ids: Vec<String> = ["srv2", "cli", "late"]
        .iter()
        .map(|n| id_of(&b, n))
        .collect();
    b.ok(&["rm", "-f", "srv2", "cli", "late"]);
    for id in &ids {
        assert_released(&b, id, None);
    }
    b.ok(&["network", "rm", &front, &back]);
}

#[test]
fn fixed_addresses_are_honoured_and_conflicts_refused() {
    let Some(b) = bb_store() else { return };
    let net = user_net(&b, "fixed", "10.86.204.0/24");
    b.ok(&[
        "run",
        "-d",
        "--name",
        "f1",
        "--network",
        &net,
        "--ip",
        "10.86.204.10",
        "bb:1",
        "sleep",
        "3600",
    ]);
    assert_eq!(ip_of(&b, "f1"), "10.86.204.10");
    let addr = b.ok(&["exec", "f1", "busybox", "ip", "-4", "addr", "show", "eth0"]);
    assert!(addr.contains("10.86.204.10/24"), "{addr}");
    let cfg = b.ok(&["inspect", "-f", "{{json .NetworkSettings.Networks}}", "f1"]);
    assert!(
        cfg.contains(r#""IPAMConfig":{"IPv4Address":"10.86.204.10"}"#),
        "{cfg}"
    );
    // In use, the gateway, outside the subnet: each refused, naming the address.
    for (ip, why) in [
        ("10.86.204.10", "already in use"),
        ("10.86.204.1", "gateway"),
        ("10.86.99.3", "not in network"),
        ("10.86.204.255", "broadcast"),
    ] {
        let err = b.fails(&["run", "--rm", "--network", &net, "--ip", ip, "bb:1", "true"]);
        assert!(err.contains(ip) && err.contains(why), "{ip}: {err}");
    }
    let err = b.fails(&[
        "run",
        "--rm",
        "--network",
        &net,
        "--ip",
        "10.86.204.x",
        "bb:1",
        "true",
    ]);
    assert!(err.contains("10.86.204.x"), "{err}");
    // Docker's rule: not on the default bridge.
    let err = b.fails(&["run", "--rm", "--ip", "10.87.3.3", "bb:1", "true"]);
    assert!(err.contains("user-defined networks"), "{err}");
    // The failed runs left no container and no address behind.
    assert_eq!(b.ok(&["ps", "-a", "-q"]).lines().count(), 1);
    assert_eq!(
        b.ok(&["network", "inspect", "-f", "{{len .Containers}}", &net])
            .trim(),
        "1"
    );
    // connect --ip: the same checks, and the address asked for.
    b.ok(&["run", "-d", "--name", "f2", "bb:1", "sleep", "3600"]);
    let err = b.fails(&["network", "connect", "--ip", "10.86.204.10", &net, "f2"]);
    assert!(err.contains("10.86.204.10"), "{err}");
    b.ok(&["network", "connect", "--ip", "10.86.204.20", &net, "f2"]);
    let addr = b.ok(&["exec", "f2", "busybox", "ip", "-4", "addr", "show", "eth1"]);
    assert!(addr.contains("10.86.204.20/24"), "{addr}");
    // Freed by rm: the address can be taken again.
    b.ok(&["rm", "-f", "f1"]);
    b.ok(&[
        "run",
        "--rm",
        "--network",
        &net,
        "--ip",
        "10.86.204.10",
        "bb:1",
        "true",
    ]);
    b.ok(&["rm", "-f", "f2"]);
    b.ok(&["network", "rm", &net]);
}

/// A bridge of the test's own with an address, so the host has a route to its range; no
/// port, so it carries no traffic. Removed on drop.
struct HostRoute(String);

impl HostRoute {
    fn new(cidr_addr: &str) -> HostRoute {
        let name = format!("bgt{}", std::process::id());
        let ip = |args: &[&str]| {
            let st = std::process::Command::new("ip")
                .args(args)
                .status()
                .unwrap();
            assert!(st.success(), "ip {args:?}");
        };
        ip(&["link", "add", &name, "type", "bridge"]);
        let r = HostRoute(name);
        ip(&["addr", "add", cidr_addr, "dev", &r.0]);
        ip(&["link", "set", &r.0, "up"]);
        r
    }
}

impl Drop for HostRoute {
    fn drop(&mut self) {
        let _ = std::process::Command::new("ip")
            .args(["link", "del", &self.0])
            .status();
    }
}

#[test]
fn overlapping_subnets_are_refused() {
    let Some(b) = bb_store() else { return };
    let net = user_net(&b, "ovl", "10.86.205.0/24");
    // Another barge network.
    let err = b.fails(&["network", "create", "--subnet", "10.86.205.128/25", "ovl2"]);
    assert!(
        err.contains("10.86.205.128/25") && err.contains(&net),
        "{err}"
    );
    let err = b.fails(&["network", "create", "--subnet", "10.80.0.0/12", "ovl2"]);
    assert!(err.contains("10.80.0.0/12"), "{err}");
    // A route the host has.
    let host = HostRoute::new("10.86.206.1/24");
    let err = b.fails(&["network", "create", "--subnet", "10.86.206.0/23", "ovl2"]);
    assert!(
        err.contains("10.86.206.0/24") && err.contains(&host.0),
        "{err}"
    );
    drop(host);
    // Gone with the route: accepted, with the gateway asked for; --internal has no way out.
    let err = b.fails(&[
        "network",
        "create",
        "--subnet",
        "10.86.206.0/23",
        "--gateway",
        "10.86.208.1",
        "ovl2",
    ]);
    assert!(err.contains("10.86.208.1"), "{err}");
    let inner = format!("in{}", std::process::id());
    b.ok(&[
        "network",
        "create",
        "--subnet",
        "10.86.206.0/23",
        "--gateway",
        "10.86.207.254",
        "--internal",
        &inner,
    ]);
    let out = b.ok(&[
        "run",
        "--rm",
        "--network",
        &inner,
        "bb:1",
        "sh",
        "-c",
        "ip route; ping -c1 -W2 10.86.207.254 >/dev/null && echo gw",
    ]);
    assert!(!out.contains("default"), "{out}");
    assert!(
        out.contains("10.86.206.0/23 dev eth0") && out.ends_with("gw\n"),
        "{out}"
    );
    let doc = b.ok(&[
        "network",
        "inspect",
        "-f",
        "{{.Internal}} {{json .IPAM.Config}}",
        &inner,
    ]);
    assert!(
        doc.starts_with("true ") && doc.contains(r#""Gateway":"10.86.207.254""#),
        "{doc}"
    );
    b.ok(&["network", "rm", &net, &inner]);
}

#[test]
fn killed_barge_with_two_networks_leaves_nothing() {
    let Some(b) = bb_store() else { return };
    let net = user_net(&b, "kill", "10.86.209.0/24");
    b.ok(&[
        "run",
        "-d",
        "--name",
        "peer",
        "--network",
        &net,
        "bb:1",
        "sleep",
        "3600",
    ]);
    let mut child = b
        .cmd()
        .args(["run", "--rm", "--name", "doomed2", "bb:1", "sleep", "60"])
        .spawn()
        .unwrap();
    wait_until("the container to be running", || {
        b.ok(&["ps", "-q", "--filter", "name=doomed2"])
            .lines()
            .count()
            == 1
    });
    let id = id_of(&b, "doomed2");
    b.ok(&["network", "connect", &net, "doomed2"]);
    assert!(link_exists(&format!("veth{}-1", &id[..8])));
    let hosts = b.ok(&["exec", "peer", "cat", "/etc/hosts"]);
    assert!(hosts.contains("doomed2"), "{hosts}");
    child.kill().unwrap();
    child.wait().unwrap();
    wait_until("the --rm container to be removed", || {
        !b.ok(&["ps", "-a"]).contains("doomed2")
    });
    assert_released(&b, &id, None);
    let hosts = b.ok(&["exec", "peer", "cat", "/etc/hosts"]);
    assert!(!hosts.contains("doomed2"), "{hosts}");
    let peer = id_of(&b, "peer");
    b.ok(&["rm", "-f", "peer"]);
    assert_released(&b, &peer, None);
    assert_eq!(ipam(&b), "");
    b.ok(&["network", "rm", &net]);
}

#[test]
fn start_after_a_reboot_makes_the_namespace_again() {
    let Some(b) = bb_store() else { return };
    let net = user_net(&b, "boot", "10.86.213.0/24");
    let port = free_port();
    b.ok(&[
        "run",
        "-d",
        "--name",
        "svc",
        "--network",
        &net,
        "--ip",
        "10.86.213.7",
        "-p",
        &format!("127.0.0.1:{port}:80"),
        "bb:1",
        "sh",
        "-c",
        HTTPD,
    ]);
    b.ok(&["network", "connect", "bridge", "svc"]);
    let before = b.ok(&["exec", "svc", "busybox", "ip", "-4", "-o", "addr"]);
    b.ok(&["stop", "-t", "0", "svc"]);
    // What a reboot does to /run: the namespace's bind mount and file are gone.
    let id = id_of(&b, "svc");
    let ns = b.root().join("run/netns").join(&id);
    let st = std::process::Command::new("umount")
        .arg(&ns)
        .status()
        .unwrap();
    assert!(st.success());
    std::fs::remove_file(&ns).unwrap();
    b.ok(&["start", "svc"]);
    let after = b.ok(&["exec", "svc", "busybox", "ip", "-4", "-o", "addr"]);
    assert_eq!(before, after);
    assert!(after.contains("10.86.213.7/24"), "{after}");
    let routes = b.ok(&["exec", "svc", "busybox", "ip", "route"]);
    assert!(
        routes.contains("default via 10.86.213.1 dev eth0"),
        "{routes}"
    );
    wait_until("httpd through the published port", || {
        http_get(&format!("127.0.0.1:{port}")).is_some()
    });
    b.ok(&["rm", "-f", "svc"]);
    assert_released(&b, &id, Some(port));
    b.ok(&["network", "rm", &net]);
}

#[test]
fn ipv6_networks_give_containers_a_second_address() {
    let Some(b) = bb_store() else { return };
    let net = format!("six{}", std::process::id());
    b.ok(&[
        "network",
        "create",
        "--ipv6",
        "--subnet",
        "10.86.216.0/24",
        "--subnet",
        "fd86:b0:216::/64",
        &net,
    ]);
    let cfg = b.ok(&[
        "network",
        "inspect",
        "-f",
        "{{.EnableIPv6}} {{json .IPAM.Config}}",
        &net,
    ]);
    assert!(
        cfg.starts_with("true ") && cfg.contains(r#""Gateway":"fd86:b0:216::1""#),
        "{cfg}"
    );
    // The same IPv6 range again: refused; an IPv6 subnet without --ipv6 too.
    let err = b.fails(&[
        "network",
        "create",
        "--ipv6",
        "--subnet",
        "fd86:b0:216:0:1::/80",
        "six2",
    ]);
    assert!(err.contains("fd86:b0:216") && err.contains(&net), "{err}");
    b.fails(&["network", "create", "--subnet", "fd86:b0:217::/64", "six2"]);
    b.ok(&[
        "run",
        "-d",
        "--name",
        "srv6",
        "--network",
        &net,
        "bb:1",
        "sh",
        "-c",
        HTTPD,
    ]);
    let ip6 = b
        .ok(&[
            "inspect",
            "-f",
            "{{.NetworkSettings.GlobalIPv6Address}}",
            "srv6",
        ])
        .trim()
        .to_string();
    assert!(ip6.starts_with("fd86:b0:216:0:"), "{ip6}");
    let script = format!(
        "ip -6 route | grep -q 'default via fd86:b0:216::1' && echo routed; \
         ping -6 -c1 -W2 srv6 >/dev/null && echo by-name; \
         i=0; until wget -qO- 'http://[{ip6}]/' | grep -q hello-from; do \
           i=$((i+1)); [ $i -gt 50 ] && exit 9; sleep 0.1; done; echo http"
    );
    let out = b.ok(&[
        "run",
        "--rm",
        "--network",
        &net,
        "bb:1",
        "sh",
        "-c",
        &script,
    ]);
    assert_eq!(out, "routed\nby-name\nhttp\n");
    b.ok(&["rm", "-f", "srv6"]);
    b.ok(&["network", "rm", &net]);
}

#[test]
fn networks_are_isolated_from_each_other() {
    let Some(b) = bb_store() else { return };
    let a = user_net(&b, "isoa", "10.86.217.0/24");
    let z = user_net(&b, "isoz", "10.86.218.0/24");
    b.ok(&[
        "run",
        "-d",
        "--name",
        "ia",
        "--network",
        &a,
        "bb:1",
        "sleep",
        "3600",
    ]);
    b.ok(&[
        "run",
        "-d",
        "--name",
        "iz",
        "--network",
        &z,
        "bb:1",
        "sleep",
        "3600",
    ]);
    b.ok(&["run", "-d", "--name", "ib", "bb:1", "sleep", "3600"]);
    let (ip_z, ip_b) = (ip_of(&b, "iz"), ip_of(&b, "ib"));
    let ping = |from: &str, to: &str| {
        b.run(&["exec", from, "busybox", "ping", "-c1", "-W1", to])
            .status
            .success()
    };
    // The host routes between bridges, but not for barge's networks.
    assert!(!ping("ia", &ip_z), "user network to user network");
    assert!(!ping("ia", &ip_b), "user network to the default bridge");
    assert!(!ping("ib", &ip_z), "default bridge to a user network");
    // A published port is for everyone, other networks included (through their gateway,
    // one of the host's addresses).
    let port = free_port();
    b.ok(&[
        "run",
        "-d",
        "--name",
        "iweb",
        "-p",
        &format!("{port}:80"),
        "bb:1",
        "sh",
        "-c",
        HTTPD,
    ]);
    let script = format!(
        "i=0; until printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w2 10.86.217.1 {port} | grep -q hello-from; do \
           i=$((i+1)); [ $i -gt 50 ] && exit 9; sleep 0.1; done; echo reached"
    );
    assert_eq!(b.ok(&["exec", "ia", "sh", "-c", &script]), "reached\n");
    // Inside a network, and by its own name, all is well; joining the other network opens
    // the way through the new interface.
    assert!(ping("ia", "ia"));
    b.ok(&["network", "connect", &z, "ia"]);
    assert!(ping("ia", "iz"));
    assert!(ping("iz", "ia"));
    b.ok(&["rm", "-f", "ia", "iz", "ib", "iweb"]);
    b.ok(&["network", "rm", &a, &z]);
}
