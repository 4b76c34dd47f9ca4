//! Pods, `--network container:`, and Kubernetes manifests through the real binary, as
//! root. Traffic stays on loopback and on barge's own bridge.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::*;

/// A TCP port free on the host right now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("0.0.0.0:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `kubernetes-validate` (PyPI, schemas bundled, offline): in PATH, or in the venv
/// `.ci/run` makes. None when neither exists (the test says so and is skipped).
fn validator() -> Option<String> {
    let venv = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/target/kube-venv/bin/kubernetes-validate"
    );
    if Path::new(venv).exists() {
        return Some(venv.into());
    }
    Command::new("kubernetes-validate")
        .arg("--version")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|_| "kubernetes-validate".into())
}

fn validate(file: &str) {
    let Some(v) = validator() else {
        panic!(
            "kubernetes-validate is not installed (pip install kubernetes-validate; .ci/run does it)"
        );
    };
    let o = Command::new(v).args(["--strict", file]).output().unwrap();
    assert!(
        o.status.success(),
        "{file} does not validate:\n{}{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
        std::fs::read_to_string(file).unwrap()
    );
}

/// The network interfaces a container sees (names and addresses).
fn interfaces(b: &Barge, args: &[&str]) -> String {
    let mut a = vec!["run", "--rm"];
    a.extend_from_slice(args);
    a.extend_from_slice(&["bb:1", "cat", "/proc/net/if_inet6", "/proc/net/fib_trie"]);
    let out = b.ok(&a);
    let mut lines: Vec<&str> = out
        .lines()
        .filter(|l| l.contains("/32 host LOCAL") || l.contains(' '))
        .collect();
    lines.sort();
    lines.dedup();
    lines.join("\n")
}

fn ip_of_container(b: &Barge, name: &str) -> String {
    b.ok(&["inspect", "-f", "{{.NetworkSettings.IPAddress}}", name])
        .trim()
        .to_string()
}

#[test]
fn network_container_shares_the_other_containers_interfaces() {
    let Some(b) = bb_store() else { return };
    b.ok(&["run", "-d", "--name", "holder", "bb:1", "sleep", "1000"]);
    let ip = ip_of_container(&b, "holder");
    let joined = b.ok(&[
        "run",
        "--rm",
        "--network",
        "container:holder",
        "bb:1",
        "cat",
        "/proc/net/fib_trie",
        "/etc/hostname",
        "/etc/hosts",
    ]);
    assert!(
        joined.contains(&ip),
        "the joined namespace has holder's address {ip}:\n{joined}"
    );
    let holder_hostname = b.ok(&["exec", "holder", "hostname"]);
    assert!(
        joined.contains(holder_hostname.trim()),
        "holder's /etc files:\n{joined}"
    );
    // The same interfaces, seen from both.
    let from_exec = b.ok(&["exec", "holder", "cat", "/proc/net/if_inet6"]);
    let from_joined = b.ok(&[
        "run",
        "--rm",
        "--net",
        "container:holder",
        "bb:1",
        "cat",
        "/proc/net/if_inet6",
    ]);
    assert_eq!(from_exec, from_joined);
    // A container of its own network sees something else.
    assert_ne!(
        interfaces(&b, &[]),
        interfaces(&b, &["--network", "container:holder"])
    );
    // Ports belong to the namespace's owner: refused, naming the conflict.
    let err = b.fails(&[
        "run",
        "--rm",
        "--network",
        "container:holder",
        "-p",
        "8080:80",
        "bb:1",
        "true",
    ]);
    assert!(
        err.contains("--publish") && err.contains("container:holder"),
        "{err}"
    );
    let err = b.fails(&[
        "run",
        "--rm",
        "--network",
        "container:nosuch",
        "bb:1",
        "true",
    ]);
    assert!(err.contains("nosuch"), "{err}");
    // A created container joins at start; a stopped owner makes the start fail clearly.
    b.ok(&[
        "run",
        "-d",
        "--name",
        "alone",
        "--network",
        "none",
        "bb:1",
        "sleep",
        "1000",
    ]);
    b.ok(&[
        "create",
        "--name",
        "late",
        "--network",
        "container:alone",
        "--ipc",
        "container:alone",
        "bb:1",
        "sh",
        "-c",
        "cat /proc/net/if_inet6 | wc -l",
    ]);
    b.ok(&["stop", "-t", "0", "alone"]);
    let o = b.run(&["start", "late"]);
    assert_eq!(o.status.code(), Some(125));
    assert!(String::from_utf8_lossy(&o.stderr).contains("alone: it is not running"));
}

#[test]
fn pod_containers_share_localhost_hostname_and_published_ports() {
    let Some(b) = bb_store() else { return };
    let port = free_port();
    let pod_id = b
        .ok(&[
            "pod",
            "create",
            "--name",
            "pp",
            "-p",
            &format!("127.0.0.1:{port}:8080"),
            "--label",
            "tier=web",
        ])
        .trim()
        .to_string();
    assert_eq!(pod_id.len(), 64);
    b.ok(&[
        "run",
        "-d",
        "--pod",
        "pp",
        "--name",
        "srv",
        "bb:1",
        "sh",
        "-c",
        "mkdir -p /www && echo from-pod > /www/index.html && exec busybox httpd -f -p 8080 -h /www",
    ]);
    // Another member reaches it on localhost, and has the pod's hostname.
    let mut out = String::new();
    wait_until("wget on localhost inside the pod", || {
        let o = b.run(&[
            "run",
            "--rm",
            "--pod",
            "pp",
            "bb:1",
            "sh",
            "-c",
            "busybox wget -qO- http://127.0.0.1:8080/ && hostname",
        ]);
        out = String::from_utf8_lossy(&o.stdout).into_owned();
        o.status.success()
    });
    assert_eq!(out, "from-pod\npp\n");
    // The pod's published port reaches it from the host.
    wait_until("the pod's published port", || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    // One IPC namespace: a member sees the other's.
    let ipc = |c: &str| b.ok(&["exec", c, "readlink", "/proc/self/ns/ipc"]);
    b.ok(&[
        "run", "-d", "--pod", "pp", "--name", "side", "bb:1", "sleep", "1000",
    ]);
    assert_eq!(ipc("srv"), ipc("side"));
    let ls = b.ok(&["pod", "ls", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(ls.lines().next().unwrap()).unwrap();
    assert_eq!(v["Name"], "pp");
    assert_eq!(v["Status"], "Running");
    assert_eq!(v["NumberOfContainers"], "2");
    assert_eq!(v["Labels"]["tier"], "web");
    assert_eq!(b.ok(&["pod", "ls", "-q"]).trim(), &pod_id[..12]);
    let doc: serde_json::Value = serde_json::from_str(&b.ok(&["pod", "inspect", "pp"])).unwrap();
    assert_eq!(doc[0]["Containers"].as_array().unwrap().len(), 2);
    // Flags that belong to the pod are refused on its members.
    let err = b.fails(&["run", "--rm", "--pod", "pp", "-p", "9:9", "bb:1", "true"]);
    assert!(err.contains("--publish") && err.contains("--pod"), "{err}");
    let err = b.fails(&["run", "--rm", "--pod", "nosuchpod", "bb:1", "true"]);
    assert!(err.contains("no such pod: nosuchpod"), "{err}");
    // stop: members and infra; start: both again.
    let err = b.fails(&["pod", "rm", "pp"]);
    assert!(err.contains("pod pp is running"), "{err}");
    b.ok(&["pod", "stop", "-t", "1", "pp"]);
    assert!(b.ok(&["ps", "-q"]).is_empty());
    assert_eq!(b.ok(&["pod", "ls", "--format", "{{.Status}}"]), "Exited\n");
    b.ok(&["pod", "start", "pp"]);
    assert_eq!(b.ok(&["ps", "-q"]).lines().count(), 2);
    wait_until("httpd after pod start", || {
        b.run(&[
            "exec",
            "side",
            "busybox",
            "wget",
            "-qO-",
            "http://localhost:8080/",
        ])
        .status
        .success()
    });
    // rm -f: nothing left.
    b.ok(&["pod", "rm", "-f", "pp"]);
    assert_gone(&b, &pod_id);
    assert!(b.ok(&["ps", "-a", "-q"]).is_empty());
}

/// Nothing of pod `id` on the host: infra process, namespace files and mounts, veth,
/// address.
fn assert_gone(b: &Barge, id: &str) {
    let veth = format!("veth{}", &id[..11]);
    wait_until("the veth to go", || {
        !Path::new("/sys/class/net").join(&veth).exists()
    });
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(!mounts.contains(id), "mounts left:\n{mounts}");
    assert!(!b.root().join("run/netns").join(id).exists());
    assert!(!b.root().join("run/pods").join(id).exists());
    let ipam = b.sandbox_ids();
    assert!(!ipam.iter().any(|i| i == id), "{ipam:?}");
    let ps = Command::new("ps").args(["-eo", "args"]).output().unwrap();
    assert!(!String::from_utf8_lossy(&ps.stdout).contains(&format!("__pause {id}")));
    assert!(b.ok(&["pod", "ls", "-q"]).is_empty());
    assert_eq!(pod_cgroups(id), Vec::<std::path::PathBuf>::new());
}

/// The directories of pod `id`'s cgroup in every hierarchy of the host (v1 and v2).
fn pod_cgroups(id: &str) -> Vec<std::path::PathBuf> {
    let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    info.lines()
        .filter_map(|l| {
            let (pre, post) = l.split_once(" - ")?;
            let fs = post.split(' ').next()?;
            (fs == "cgroup" || fs == "cgroup2").then(|| pre.split(' ').nth(4))?
        })
        .map(|mp| Path::new(mp).join("barge").join(format!("pod-{id}")))
        .filter(|d| d.exists())
        .collect()
}

/// The cgroup paths of a process, one per hierarchy (`memory:/barge/...`).
fn cgroups_of(pid: &str) -> Vec<String> {
    std::fs::read_to_string(format!("/proc/{pid}/cgroup"))
        .unwrap()
        .lines()
        .filter_map(|l| l.split_once(':').map(|(_, rest)| rest.to_string()))
        .collect()
}

#[test]
fn a_pod_has_a_cgroup_for_its_infra_and_members_removed_with_it() {
    let Some(b) = bb_store() else { return };
    let id = b.ok(&["pod", "create", "--name", "cg"]).trim().to_string();
    let ctr = b
        .ok(&[
            "run", "-d", "--pod", "cg", "--name", "m1", "-m", "64m", "bb:1", "sleep", "1000",
        ])
        .trim()
        .to_string();
    let infra = b.ok(&["pod", "inspect", "-f", "{{.InfraPid}}", "cg"]);
    let infra = infra.trim();
    assert_ne!(infra, "0");
    let group = format!("/barge/pod-{id}");
    let infra_groups = cgroups_of(infra);
    let member = b.ok(&["inspect", "-f", "{{.State.Pid}}", "m1"]);
    let member_groups = cgroups_of(member.trim());
    // The memory controller: its own hierarchy on v1, the unified tree on v2.
    let memory = |groups: &[String]| {
        groups
            .iter()
            .find(|g| g.starts_with("memory:") || g.starts_with(':'))
            .cloned()
            .unwrap_or_default()
    };
    assert!(
        memory(&infra_groups).ends_with(&format!("{group}/infra")),
        "{infra_groups:?}"
    );
    assert!(
        memory(&member_groups).ends_with(&format!("{group}/{ctr}")),
        "{member_groups:?}"
    );
    // The member's limit is on its own group, below the pod's.
    let dirs = pod_cgroups(&id);
    assert!(!dirs.is_empty());
    if let Some(mem) = dirs.iter().find(|d| d.starts_with("/sys/fs/cgroup/memory")) {
        let limit = std::fs::read_to_string(mem.join(&ctr).join("memory.limit_in_bytes"));
        assert_eq!(limit.unwrap().trim(), "67108864");
    }
    // `system check` does not take a live pod's group for garbage.
    let check = b.run(&["system", "check"]);
    assert!(
        !String::from_utf8_lossy(&check.stdout).contains(&id),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
    b.ok(&["pod", "stop", "-t", "0", "cg"]);
    assert_eq!(pod_cgroups(&id), Vec::<std::path::PathBuf>::new());
    b.ok(&["pod", "start", "cg"]);
    assert!(!pod_cgroups(&id).is_empty());
    b.ok(&["pod", "rm", "-f", "cg"]);
    assert_gone(&b, &id);
}

const TWO: &str = r#"
apiVersion: v1
kind: Pod
metadata:
  name: duo
  labels: {app: duo}
spec:
  restartPolicy: Never
  volumes:
  - name: www
    emptyDir: {}
  containers:
  - name: server
    image: bb:1
    command: [sh, -c]
    args: ["echo hello-duo > /www/index.html && exec busybox httpd -f -p 8080 -h /www"]
    volumeMounts: [{name: www, mountPath: /www}]
    livenessProbe: {tcpSocket: {port: 8080}}
  - name: client
    image: bb:1
    command: [sh, -c, "for i in $(busybox seq 50); do busybox wget -qO- http://localhost:8080/ && exit 0; sleep 0.2; done; exit 1"]
"#;

#[test]
fn play_two_containers_talk_on_localhost_and_down_leaves_nothing() {
    let Some(b) = bb_store() else { return };
    let file = b.file("duo.yaml", TWO.as_bytes());
    let o = b.run(&["kube", "play", &file]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains("spec.containers[0].livenessProbe is not supported"),
        "the unsupported field is named: {err}"
    );
    let out = String::from_utf8_lossy(&o.stdout);
    let pod_id = out.lines().nth(1).unwrap().to_string();
    wait_until("the client to finish", || {
        b.ok(&[
            "ps",
            "-a",
            "--filter",
            "name=duo-client",
            "--format",
            "{{.Status}}",
        ])
        .starts_with("Exited")
    });
    assert!(
        b.ok(&[
            "ps",
            "-a",
            "--format",
            "{{.Status}}",
            "--filter",
            "name=duo-client"
        ])
        .contains("Exited (0)")
    );
    assert_eq!(b.ok(&["logs", "duo-client"]), "hello-duo\n");
    assert!(b.ok(&["volume", "ls", "-q"]).contains("duo-www"));
    // Playing it again is refused while it exists.
    let err = b.fails(&["kube", "play", &file]);
    assert!(err.contains("duo"), "{err}");
    b.ok(&["kube", "down", &file]);
    assert_gone(&b, &pod_id);
    assert!(b.ok(&["ps", "-a", "-q"]).is_empty());
    assert!(!b.ok(&["volume", "ls", "-q"]).contains("duo-www"));
    // Nothing under the store but images, layers, blobs and empty bookkeeping.
    let left: Vec<String> = b
        .store_files()
        .into_iter()
        .filter(|p| {
            ["containers/", "pods/", "volumes/", "run/"]
                .iter()
                .any(|d| p.starts_with(d))
                && !p.contains(".seccomp-cache")
        })
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn generate_validates_and_round_trips_through_play() {
    let Some(b) = bb_store() else { return };
    let port = free_port();
    let host_dir = tempfile::tempdir().unwrap();
    let host = host_dir.path().to_str().unwrap();
    b.ok(&[
        "run",
        "-d",
        "--name",
        "web_app",
        "-e",
        "GREETING=hi there",
        "-e",
        "MODE=prod",
        "-p",
        &format!("{port}:8080"),
        "-m",
        "64m",
        "--cpus",
        "0.5",
        "--cap-drop",
        "NET_RAW",
        "--cap-add",
        "SYS_TIME",
        "--read-only",
        "-v",
        &format!("{host}:/data:ro"),
        "-v",
        "kvol:/v",
        "--restart",
        "on-failure",
        "--entrypoint",
        "sh",
        "bb:1",
        "-c",
        "echo $GREETING && exec sleep 1000",
    ]);
    let yaml = b.ok(&["kube", "generate", "web_app"]);
    let pod_file = b.file("pod.yaml", yaml.as_bytes());
    validate(&pod_file);
    let dep = b.ok(&["kube", "generate", "--type", "deployment", "web_app"]);
    validate(&b.file("dep.yaml", dep.as_bytes()));
    assert!(
        dep.contains("kind: Deployment") && dep.contains("replicas: 1"),
        "{dep}"
    );
    for want in [
        "name: web-app-pod",
        "image: bb:1",
        "command:\n    - sh\n",
        "- -c\n",
        "name: GREETING\n      value: hi there",
        "containerPort: 8080",
        &format!("hostPort: {port}"),
        "protocol: TCP",
        "memory: '67108864'",
        "cpu: 500m",
        "- SYS_TIME",
        "- NET_RAW",
        "readOnlyRootFilesystem: true",
        &format!("path: {host}"),
        "claimName: kvol",
        "restartPolicy: OnFailure",
    ] {
        assert!(yaml.contains(want), "{want:?} missing in:\n{yaml}");
    }
    assert!(
        !yaml.contains("HOSTNAME"),
        "barge's own env is not the user's:\n{yaml}"
    );
    // Round trip: the original goes, the manifest brings back the same command, env, ports.
    let config = |name: &str| {
        let cmd = b.ok(&["inspect", "-f", "{{json .Config.Cmd}}", name]);
        let env: Vec<String> =
            serde_json::from_str(&b.ok(&["inspect", "-f", "{{json .Config.Env}}", name])).unwrap();
        // HOSTNAME is barge's, the pod's name after the trip.
        let env: Vec<String> = env
            .into_iter()
            .filter(|e| !e.starts_with("HOSTNAME="))
            .collect();
        (cmd, env)
    };
    let before = config("web_app");
    b.ok(&["rm", "-f", "web_app"]);
    b.ok(&["kube", "play", &pod_file]);
    assert_eq!(before, config("web-app-pod-web-app"));
    let pods = b.ok(&["pod", "ls", "--format", "{{.Ports}}"]);
    assert_eq!(pods.trim(), format!("0.0.0.0:{port}->8080/tcp"));
    wait_until("the played container's output", || {
        b.ok(&["logs", "web-app-pod-web-app"]) == "hi there\n"
    });
    // And generating the played pod gives the manifest back.
    let again = b.ok(&["kube", "generate", "web-app-pod"]);
    assert_eq!(again, yaml);
    b.ok(&["kube", "down", &pod_file]);
}

fn replicas_yaml(port: u16) -> String {
    format!(
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {{name: rep}}
spec:
  replicas: 3
  selector: {{matchLabels: {{app: rep}}}}
  template:
    metadata: {{labels: {{app: rep}}}}
    spec:
      containers:
      - name: web
        image: bb:1
        command: [sh, -c, "mkdir -p /w && hostname > /w/index.html && exec busybox httpd -f -p 8080 -h /w"]
        ports: [{{containerPort: 8080, hostPort: {port}, hostIP: 127.0.0.1}}]
"#
    )
}

/// Nothing made by a play is left: no pod, container, network attachment or infra.
fn assert_nothing_played(b: &Barge) {
    assert!(b.ok(&["pod", "ls", "-q"]).is_empty());
    assert!(b.ok(&["ps", "-a", "-q"]).is_empty());
    let ipam = b.sandbox_ids();
    assert!(ipam.is_empty(), "attachments left: {ipam:?}");
    let root = b.root().to_string_lossy().into_owned();
    let ps = Command::new("ps").args(["-eo", "args"]).output().unwrap();
    assert!(
        !String::from_utf8_lossy(&ps.stdout)
            .lines()
            .any(|l| l.contains(&root) && l.contains("__pause")),
        "an infra process is left"
    );
}

#[test]
fn deployment_replicas_share_one_host_port_with_the_first_only() {
    let Some(b) = bb_store() else { return };
    let port = free_port();
    let file = b.file("rep.yaml", replicas_yaml(port).as_bytes());
    let o = b.run(&["kube", "play", &file]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains(&format!(
            "spec.template.spec.containers[0].ports[0].hostPort {port}: published by rep-pod-0 only"
        )),
        "{err}"
    );
    let pods = b.ok(&["pod", "ls", "--format", "{{.Name}} {{.Status}} {{.Ports}}"]);
    let mut pods: Vec<&str> = pods.lines().collect();
    pods.sort();
    assert_eq!(
        pods,
        [
            format!("rep-pod-0 Running 127.0.0.1:{port}->8080/tcp"),
            "rep-pod-1 Running ".to_string(),
            "rep-pod-2 Running ".to_string(),
        ]
    );
    // The host port reaches the first replica; the others answer on their own addresses.
    let mut page = String::new();
    wait_until("the first replica on the host port", || {
        let o = Command::new(busybox_path())
            .args(["wget", "-qO-", &format!("http://127.0.0.1:{port}/")])
            .output()
            .unwrap();
        page = String::from_utf8_lossy(&o.stdout).into_owned();
        o.status.success()
    });
    assert_eq!(page, "rep-pod-0\n");
    let ip = b
        .ok(&[
            "pod",
            "inspect",
            "-f",
            "{{.NetworkSettings.IPAddress}}",
            "rep-pod-2",
        ])
        .trim()
        .to_string();
    wait_until("the third replica on its address", || {
        let o = Command::new(busybox_path())
            .args(["wget", "-qO-", &format!("http://{ip}:8080/")])
            .output()
            .unwrap();
        o.status.success() && o.stdout == b"rep-pod-2\n"
    });
    b.ok(&["kube", "down", &file]);
    assert_nothing_played(&b);
}

#[test]
fn a_play_that_fails_part_way_leaves_nothing() {
    let Some(b) = bb_store() else { return };
    let port = free_port();
    // Two pods of one manifest publishing one host port: refused before anything is made.
    let clash = format!(
        "{}---\n{}",
        replicas_yaml(port).replace("replicas: 3", "replicas: 1"),
        replicas_yaml(port)
            .replace("replicas: 3", "replicas: 1")
            .replace("name: rep}", "name: other}")
    );
    let err = b.fails(&["kube", "play", &b.file("clash.yaml", clash.as_bytes())]);
    assert!(
        err.contains("rep-pod") && err.contains("other-pod") && err.contains(&port.to_string()),
        "{err}"
    );
    assert_nothing_played(&b);
    // The second pod fails once the first runs (its image is missing and may not be
    // pulled): the first goes too.
    let late = format!(
        "{}---\n{}",
        replicas_yaml(port).replace("replicas: 3", "replicas: 2"),
        TWO.replace("image: bb:1", "image: nosuch:1\n    imagePullPolicy: Never")
    );
    let err = b.fails(&["kube", "play", &b.file("late.yaml", late.as_bytes())]);
    assert!(err.contains("nosuch"), "{err}");
    assert_nothing_played(&b);
    assert!(b.ok(&["volume", "ls", "-q"]).is_empty());
    // A pod of the manifest that exists already: refused before anything is made.
    b.ok(&["pod", "create", "--name", "duo"]);
    let err = b.fails(&["kube", "play", &b.file("late2.yaml", late.as_bytes())]);
    assert!(err.contains("pod duo already exists"), "{err}");
    assert_eq!(b.ok(&["pod", "ls", "--format", "{{.Name}}"]), "duo\n");
}

#[test]
fn ps_shows_and_filters_by_pod() {
    let Some(b) = bb_store() else { return };
    let id = b.ok(&["pod", "create", "--name", "pa"]).trim().to_string();
    b.ok(&["pod", "create", "--name", "pb"]);
    b.ok(&["create", "--pod", "pa", "--name", "in-a", "bb:1", "true"]);
    b.ok(&["create", "--pod", "pb", "--name", "in-b", "bb:1", "true"]);
    b.ok(&["create", "--name", "loose", "bb:1", "true"]);
    let table = b.ok(&["ps", "-a", "--pod"]);
    let header = table.lines().next().unwrap();
    assert!(
        header.ends_with("NAMES     POD ID         PODNAME"),
        "podman's columns last: {header:?}"
    );
    let row = table.lines().find(|l| l.contains("in-a")).unwrap();
    assert!(row.ends_with(&format!("{}   pa", &id[..12])), "{row:?}");
    let loose = table.lines().find(|l| l.contains("loose")).unwrap();
    assert!(loose.trim_end().ends_with("loose"), "{loose:?}");
    let names = |filter: &str| {
        let mut v: Vec<String> = b
            .ok(&[
                "ps",
                "-a",
                "--filter",
                filter,
                "--format",
                "{{.Names}} {{.PodName}}",
            ])
            .lines()
            .map(str::to_string)
            .collect();
        v.sort();
        v
    };
    assert_eq!(names("pod=pa"), ["in-a pa"]);
    assert_eq!(names(&format!("pod={}", &id[..8])), ["in-a pa"]);
    assert_eq!(names("pod=nosuch"), Vec::<String>::new());
    let v: serde_json::Value = serde_json::from_str(&b.ok(&[
        "ps",
        "-a",
        "--no-trunc",
        "--filter",
        "name=in-b",
        "--format",
        "json",
    ]))
    .unwrap();
    assert_eq!(v["PodName"], "pb");
    assert_eq!(v["Pod"].as_str().unwrap().len(), 64);
    // `pod ps` is `pod ls`, as in podman.
    assert_eq!(b.ok(&["pod", "ps", "-q"]), b.ok(&["pod", "ls", "-q"]));
}

#[test]
fn pod_top_stats_and_logs_cover_every_container() {
    let Some(b) = bb_store() else { return };
    let id = b.ok(&["pod", "create", "--name", "obs"]).trim().to_string();
    let err = b.fails(&["pod", "top", "obs"]);
    assert!(err.contains("pod obs has no running container"), "{err}");
    let one = b
        .ok(&[
            "run",
            "-d",
            "--pod",
            "obs",
            "--name",
            "one",
            "bb:1",
            "sh",
            "-c",
            "echo one-out; echo one-err >&2; exec sleep 1001",
        ])
        .trim()
        .to_string();
    // Later lines than one's, whatever the order the logs are read in.
    std::thread::sleep(Duration::from_millis(50));
    b.ok(&[
        "run",
        "-d",
        "--pod",
        "obs",
        "--name",
        "two",
        "bb:1",
        "sh",
        "-c",
        "echo two-a; echo two-b; exec sleep 1002",
    ]);
    wait_until("both containers' output", || {
        b.ok(&["logs", "two"]).lines().count() == 2 && !b.ok(&["logs", "one"]).is_empty()
    });
    let o = b.run(&["pod", "logs", "obs"]);
    assert!(o.status.success());
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        format!(
            "{one_id} one-out\n{two} two-a\n{two} two-b\n",
            one_id = &one[..12],
            two = &b.ok(&["ps", "-q", "--filter", "name=two"]).trim()
        )
    );
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        format!("{} one-err\n", &one[..12])
    );
    assert_eq!(
        b.ok(&["pod", "logs", "-n", "--tail", "1", "obs"]),
        "two two-b\n"
    );
    assert_eq!(
        b.ok(&["pod", "logs", "-n", "-c", "two", "obs"]),
        "two two-a\ntwo two-b\n"
    );
    b.ok(&["create", "--name", "outsider", "bb:1", "true"]);
    let err = b.fails(&["pod", "logs", "-c", "outsider", "obs"]);
    assert!(
        err.contains("container outsider is not in pod obs"),
        "{err}"
    );
    // top: the processes of both.
    let top = b.ok(&["pod", "top", "obs"]);
    assert!(top.starts_with("UID"), "{top}");
    assert!(
        top.contains("sleep 1001") && top.contains("sleep 1002"),
        "{top}"
    );
    // stats: a row per running container, under its pod.
    let stats = b.ok(&["pod", "stats", "--no-stream", "--format", "json"]);
    let rows: Vec<serde_json::Value> = stats
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let mut names: Vec<&str> = rows.iter().map(|r| r["Name"].as_str().unwrap()).collect();
    names.sort();
    assert_eq!(names, ["one", "two"]);
    for r in &rows {
        assert_eq!(r["Pod"], &id[..12]);
        assert_eq!(r["PIDS"], "1", "{r}");
    }
    let table = b.ok(&["pod", "stats", "--no-stream", "obs"]);
    assert!(table.starts_with("POD   "), "{table}");
    assert_eq!(table.lines().count(), 3, "{table}");
    // logs -f ends when every container of the pod has stopped.
    b.ok(&["pod", "rm", "-f", "obs"]);
    b.ok(&["pod", "create", "--name", "short"]);
    for n in ["s1", "s2"] {
        b.ok(&[
            "run",
            "-d",
            "--pod",
            "short",
            "--name",
            n,
            "bb:1",
            "sh",
            "-c",
            &format!("echo {n}-first; sleep 1; echo {n}-last"),
        ]);
    }
    let t0 = Instant::now();
    let mut followed: Vec<String> = b
        .ok(&["pod", "logs", "-f", "-n", "short"])
        .lines()
        .map(str::to_string)
        .collect();
    assert!(t0.elapsed() < Duration::from_secs(15));
    followed.sort();
    assert_eq!(
        followed,
        ["s1 s1-first", "s1 s1-last", "s2 s2-first", "s2 s2-last"]
    );
}

#[test]
fn pid_container_and_host_share_the_process_table() {
    let Some(b) = bb_store() else { return };
    b.ok(&["run", "-d", "--name", "pholder", "bb:1", "sleep", "1001"]);
    let ps = b.ok(&[
        "run",
        "--rm",
        "--pid",
        "container:pholder",
        "bb:1",
        "ps",
        "-o",
        "pid,comm",
    ]);
    let rows: Vec<Vec<&str>> = ps.lines().map(|l| l.split_whitespace().collect()).collect();
    assert!(rows.contains(&vec!["1", "sleep"]), "{ps}");
    // exec into the joiner lands in the same namespace.
    b.ok(&[
        "run",
        "-d",
        "--name",
        "pjoiner",
        "--pid",
        "container:pholder",
        "bb:1",
        "sleep",
        "1002",
    ]);
    let seen = b.ok(&["exec", "pholder", "ps", "-o", "comm"]);
    assert!(
        seen.contains("sleep") && seen.lines().count() >= 4,
        "{seen}"
    );
    let ns = |c: &str| b.ok(&["exec", c, "readlink", "/proc/self/ns/pid"]);
    assert_eq!(ns("pholder"), ns("pjoiner"));
    // The host's: its init among many processes.
    let host = b.ok(&[
        "run",
        "--rm",
        "--pid",
        "host",
        "bb:1",
        "sh",
        "-c",
        "echo $$; cat /proc/1/comm",
    ]);
    let mut lines = host.lines();
    assert_ne!(lines.next(), Some("1"), "{host}");
    let host_init = std::fs::read_to_string("/proc/1/comm").unwrap();
    assert_eq!(lines.next(), Some(host_init.trim()), "{host}");
    // Checked like --ipc container: at start, with the owner's name.
    b.ok(&[
        "create",
        "--name",
        "plate",
        "--pid",
        "container:pholder",
        "bb:1",
        "true",
    ]);
    b.ok(&["rm", "-f", "pjoiner"]);
    b.ok(&["stop", "-t", "0", "pholder"]);
    let o = b.run(&["start", "plate"]);
    assert_eq!(o.status.code(), Some(125));
    assert!(String::from_utf8_lossy(&o.stderr).contains("pholder: it is not running"));
    let err = b.fails(&["run", "--rm", "--pid", "elsewhere", "bb:1", "true"]);
    assert!(err.contains("invalid --pid"), "{err}");
    b.ok(&["pod", "create", "--name", "pp2"]);
    let err = b.fails(&[
        "run", "--rm", "--pod", "pp2", "--pid", "host", "bb:1", "true",
    ]);
    assert!(err.contains("--pid cannot be used with --pod"), "{err}");
}

#[test]
fn a_pod_can_share_its_pid_namespace() {
    let Some(b) = bb_store() else { return };
    let err = b.fails(&["pod", "create", "--share", "ipc,uts"]);
    assert!(err.contains("always shares its network namespace"), "{err}");
    let err = b.fails(&["pod", "create", "--share", "+cgroup"]);
    assert!(err.contains("cgroup"), "{err}");
    let id = b
        .ok(&["pod", "create", "--name", "sp", "--share", "+pid"])
        .trim()
        .to_string();
    b.ok(&[
        "run", "-d", "--pod", "sp", "--name", "spa", "bb:1", "sleep", "1001",
    ]);
    let ps = b.ok(&["run", "--rm", "--pod", "sp", "bb:1", "ps", "-o", "pid,comm"]);
    let rows: Vec<Vec<&str>> = ps.lines().map(|l| l.split_whitespace().collect()).collect();
    // The infra is the namespace's init, under a name that says nothing of the host.
    assert!(rows.contains(&vec!["1", "barge-pause"]), "{ps}");
    assert!(rows.iter().any(|r| r.get(1) == Some(&"sleep")), "{ps}");
    let cmdline = b.ok(&["exec", "spa", "cat", "/proc/1/cmdline"]);
    assert!(
        !cmdline.contains("__pause") && !cmdline.contains("--root"),
        "{cmdline:?}"
    );
    // barge's binary stays out of reach (CVE-2019-5736).
    let o = b.run(&["exec", "spa", "cat", "/proc/1/exe"]);
    assert!(!o.status.success());
    let doc: serde_json::Value = serde_json::from_str(&b.ok(&["pod", "inspect", "sp"])).unwrap();
    assert_eq!(
        doc[0]["SharedNamespaces"],
        serde_json::json!(["net", "ipc", "uts", "pid"])
    );
    // The recorded infra pid is the host's view of that init.
    let infra = doc[0]["InfraPid"].as_i64().unwrap();
    let member_ns = b.ok(&["exec", "spa", "readlink", "/proc/self/ns/pid"]);
    assert_eq!(
        std::fs::read_link(format!("/proc/{infra}/ns/pid"))
            .unwrap()
            .to_str()
            .unwrap(),
        member_ns.trim()
    );
    // A manifest says so with shareProcessNamespace, and brings it back.
    let yaml = b.ok(&["kube", "generate", "sp"]);
    assert!(yaml.contains("shareProcessNamespace: true"), "{yaml}");
    validate(&b.file("sp.yaml", yaml.as_bytes()));
    // stop, start, rm: the namespace goes with its init, and nothing is left.
    b.ok(&["pod", "stop", "-t", "0", "sp"]);
    assert!(!Path::new(&format!("/proc/{infra}")).exists());
    b.ok(&["pod", "start", "sp"]);
    let again = b.ok(&["exec", "spa", "ps", "-o", "pid,comm"]);
    assert!(again.contains("1 barge-pause"), "{again}");
    b.ok(&["pod", "rm", "-f", "sp"]);
    assert_gone(&b, &id);
    b.ok(&["kube", "play", &b.file("sp.yaml", yaml.as_bytes())]);
    let doc: serde_json::Value = serde_json::from_str(&b.ok(&["pod", "inspect", "sp"])).unwrap();
    assert_eq!(doc[0]["SharedNamespaces"][3], "pid");
}

#[test]
fn play_replace_recreates_what_the_manifest_made() {
    let Some(b) = bb_store() else { return };
    let manifest = |value: &str| {
        format!(
            r#"
apiVersion: v1
kind: Pod
metadata: {{name: rp}}
spec:
  volumes: [{{name: scratch, emptyDir: {{}}}}]
  containers:
  - name: c
    image: bb:1
    command: [sh, -c, "ls /s; touch /s/made-by-{value}; exec sleep 1000"]
    env: [{{name: V, value: "{value}"}}]
    volumeMounts: [{{name: scratch, mountPath: /s}}]
"#
        )
    };
    let file = b.file("rp.yaml", manifest("one").as_bytes());
    let first = b.ok(&["kube", "play", &file]);
    let first_pod = first.lines().nth(1).unwrap().to_string();
    wait_until("the first container's file", || {
        b.run(&["exec", "rp-c", "test", "-e", "/s/made-by-one"])
            .status
            .success()
    });
    let err = b.fails(&["kube", "play", &file]);
    assert!(err.contains("--replace"), "{err}");
    // A manifest that does not parse replaces nothing.
    let bad = b.file(
        "bad.yaml",
        b"kind: Pod\nmetadata: {name: rp}\nspec: {containers: []}\n",
    );
    b.fails(&["kube", "play", "--replace", &bad]);
    assert_eq!(b.ok(&["pod", "ls", "-q", "--no-trunc"]).trim(), first_pod);
    let file = b.file("rp.yaml", manifest("two").as_bytes());
    let second = b.ok(&["kube", "play", "--replace", &file]);
    let second_pod = second.lines().nth(1).unwrap().to_string();
    assert_ne!(first_pod, second_pod);
    assert_gone_but_for_listing(&first_pod);
    let env = b.ok(&["inspect", "-f", "{{json .Config.Env}}", "rp-c"]);
    assert!(env.contains("V=two") && !env.contains("V=one"), "{env}");
    // The emptyDir is a new one too: nothing of the first pod's.
    wait_until("the second container's file", || {
        b.run(&["exec", "rp-c", "test", "-e", "/s/made-by-two"])
            .status
            .success()
    });
    assert!(
        !b.run(&["exec", "rp-c", "test", "-e", "/s/made-by-one"])
            .status
            .success()
    );
    assert_eq!(b.ok(&["pod", "ls", "-q"]).lines().count(), 1);
    // --replace with nothing to replace is a plain play.
    b.ok(&["kube", "down", &file]);
    b.ok(&["kube", "play", "--replace", &file]);
    b.ok(&["kube", "down", &file]);
}

/// Nothing of pod `id` on the host: cgroup, mounts, veth.
fn assert_gone_but_for_listing(id: &str) {
    assert_eq!(pod_cgroups(id), Vec::<std::path::PathBuf>::new());
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(!mounts.contains(id), "mounts left:\n{mounts}");
    let veth = format!("veth{}", &id[..11]);
    wait_until("the veth to go", || {
        !Path::new("/sys/class/net").join(&veth).exists()
    });
}
