//! `barge oci ...` driven through the real binary, as root, with real namespaces, mounts
//! and cgroups.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{Bundle, cgroup_left, host_mounts_under, skip, unique_id};
use oci_spec::runtime::{
    LinuxMemoryBuilder, LinuxNamespaceType, LinuxPidsBuilder, LinuxResourcesBuilder, MountBuilder,
};

const BARGE: &str = env!("CARGO_BIN_EXE_barge");

struct Oci {
    root: tempfile::TempDir,
}

impl Oci {
    fn new() -> Oci {
        Oci {
            root: tempfile::tempdir().unwrap(),
        }
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(BARGE);
        c.arg("oci").arg("--root").arg(self.root.path()).args(args);
        c
    }

    fn out(&self, args: &[&str]) -> Output {
        self.cmd(args).stdin(Stdio::null()).output().unwrap()
    }

    /// `oci run` of a bundle; returns (exit code, stdout, stderr).
    fn run(&self, b: &Bundle, id: &str) -> (i32, String, String) {
        b.write();
        let o = self.out(&["run", "--bundle", b.path().to_str().unwrap(), id]);
        (
            o.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    }

    fn status(&self, id: &str) -> String {
        let o = self.out(&["state", id]);
        assert!(
            o.status.success(),
            "state: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        v["status"].as_str().unwrap().to_owned()
    }
}

fn sh(script: &str) -> Bundle {
    Bundle::new(&["sh", "-c", script])
}

#[test]
fn lifecycle_create_start_state_kill_delete() {
    if skip() {
        return;
    }
    let oci = Oci::new();
    let b = Bundle::new(&["sleep", "1000"]);
    b.write();
    let id = unique_id("life");
    let pid_file = b.path().join("pid");
    // create's stdio goes to the container, which outlives create: keep it off our pipes.
    let st = oci
        .cmd(&[
            "create",
            "--bundle",
            b.path().to_str().unwrap(),
            "--pid-file",
            pid_file.to_str().unwrap(),
            &id,
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(st.success());
    let pid = std::fs::read_to_string(&pid_file).unwrap();
    assert!(
        !pid.is_empty() && pid.chars().all(|c| c.is_ascii_digit()),
        "pid file {pid:?}"
    );
    assert_eq!(oci.status(&id), "created");

    let o = oci.out(&["delete", &id]);
    assert!(
        !o.status.success(),
        "delete of a created container must fail without --force"
    );

    let o = oci.out(&["start", &id]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(oci.status(&id), "running");
    let state: serde_json::Value =
        serde_json::from_slice(&oci.out(&["state", &id]).stdout).unwrap();
    assert_eq!(state["pid"].as_i64().unwrap().to_string(), pid);
    assert_eq!(state["id"], id.as_str());
    assert!(
        state["bundle"]
            .as_str()
            .unwrap()
            .ends_with(b.path().file_name().unwrap().to_str().unwrap())
    );

    let o = oci.out(&["delete", &id]);
    assert!(
        !o.status.success(),
        "delete of a running container must fail without --force"
    );

    // PID 1 of a pid namespace ignores SIGTERM without a handler; SIGKILL always works.
    let o = oci.out(&["kill", &id, "KILL"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let deadline = Instant::now() + Duration::from_secs(5);
    while oci.status(&id) != "stopped" {
        assert!(Instant::now() < deadline, "container did not stop");
        std::thread::sleep(Duration::from_millis(10));
    }
    let o = oci.out(&["delete", &id]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(cgroup_left(&id).is_empty());
    assert!(!oci.out(&["state", &id]).status.success());
}

#[test]
fn delete_force_kills_created_container() {
    if skip() {
        return;
    }
    let oci = Oci::new();
    let b = Bundle::new(&["sleep", "1000"]);
    b.write();
    let id = unique_id("force");
    let st = oci
        .cmd(&["create", "--bundle", b.path().to_str().unwrap(), &id])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(st.success());
    let o = oci.out(&["delete", "--force", &id]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(cgroup_left(&id).is_empty());
}

#[test]
fn inside_the_container() {
    if skip() {
        return;
    }
    let oci = Oci::new();
    // The shell's descriptors, listed before any redirection makes ash save fds of its own.
    let script = r#"
        ls /proc/$$/fd
        echo "pid=$$"
        echo "hostname=$(hostname)"
        grep -E '^(CapEff|Seccomp):' /proc/self/status | tr -d '\t' | tr ':' '='
        echo "kcore=$(cat /proc/kcore 2>/dev/null | wc -c)"
        echo "timer_list=$(cat /proc/timer_list 2>/dev/null | wc -c)"
        if echo 1 > /proc/sys/vm/overcommit_memory 2>/dev/null; then echo procsys=rw; else echo procsys=ro; fi
        if mount -t tmpfs none /mnt 2>/dev/null; then echo mount=ok; else echo mount=refused; fi
        echo "pids=$(ls /proc | grep -cE '^[0-9]+$')"
        echo "uid=$(id -u)"
    "#;
    let b = sh(script);
    let id = unique_id("inside");
    let (code, out, err) = oci.run(&b, &id);
    assert_eq!(code, 0, "stdout: {out}\nstderr: {err}");
    for want in [
        "pid=1",
        "hostname=barge",
        "CapEff=00000000a80425fb",
        "Seccomp=2",
        "kcore=0",
        "timer_list=0",
        "procsys=ro",
        "mount=refused",
        "uid=0",
    ] {
        assert!(
            out.lines().any(|l| l.trim() == want.trim()),
            "missing {want:?} in:\n{out}"
        );
    }
    let fds: Vec<&str> = out.lines().take_while(|l| !l.starts_with("pid=")).collect();
    assert_eq!(
        fds,
        ["0", "1", "2"],
        "descriptors leaked into the container"
    );
    let pids: usize = out
        .lines()
        .find_map(|l| l.strip_prefix("pids="))
        .unwrap()
        .parse()
        .unwrap();
    assert!(pids <= 4, "host pids visible: {pids}");
    assert!(
        cgroup_left(&id).is_empty(),
        "cgroup left: {:?}",
        cgroup_left(&id)
    );
    assert!(host_mounts_under(&b.rootfs()).is_empty());
}

#[test]
fn exit_codes() {
    if skip() {
        return;
    }
    let oci = Oci::new();
    let cases: &[(&[&str], i32, &str)] = &[
        (&["true"], 0, ""),
        (&["sh", "-c", "exit 7"], 7, ""),
        (&["/etc/notexec"], 126, "permission denied"),
        (
            &["nosuchprogram"],
            127,
            "executable file not found in $PATH",
        ),
        (&["/no/such/file"], 127, "no such file or directory"),
    ];
    for (args, want, msg) in cases {
        let b = Bundle::new(args);
        let id = unique_id("exit");
        let (code, out, err) = oci.run(&b, &id);
        assert_eq!(code, *want, "{args:?}: stdout {out} stderr {err}");
        assert!(err.contains(msg), "{args:?}: stderr {err:?} lacks {msg:?}");
        assert!(cgroup_left(&id).is_empty());
    }
}

/// SIGTERM sent to `barge oci run` is forwarded to the container (sig-proxy); a program
/// killed by signal N exits with 128+N. Without a pid namespace the program is not a
/// namespace init, so the default action of SIGTERM applies.
#[test]
fn sigterm_is_forwarded_and_gives_143() {
    if skip() {
        return;
    }
    let oci = Oci::new();
    let mut b = Bundle::new(&["sleep", "1000"]);
    b.remove_namespace(LinuxNamespaceType::Pid);
    b.write();
    let id = unique_id("term");
    let mut child = oci
        .cmd(&["run", "--bundle", b.path().to_str().unwrap(), &id])
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while oci.out(&["state", &id]).status.code() != Some(0) || oci.status(&id) != "running" {
        assert!(Instant::now() < deadline, "container did not start");
        std::thread::sleep(Duration::from_millis(10));
    }
    // SAFETY: signalling our own child process.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let st = child.wait().unwrap();
    assert_eq!(st.code(), Some(143));
    assert!(cgroup_left(&id).is_empty());
}

#[test]
fn kill_with_signal_name_gives_143() {
    if skip() {
        return;
    }
    let oci = Oci::new();
    let mut b = Bundle::new(&["sleep", "1000"]);
    b.remove_namespace(LinuxNamespaceType::Pid);
    b.write();
    let id = unique_id("kill");
    let mut child = oci
        .cmd(&["run", "--bundle", b.path().to_str().unwrap(), &id])
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if oci.out(&["kill", &id, "SIGTERM"]).status.success() {
            break;
        }
        assert!(Instant::now() < deadline, "kill never succeeded");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(child.wait().unwrap().code(), Some(143));
}

#[test]
fn pids_limit_stops_a_fork_bomb() {
    if skip() {
        return;
    }
    let oci = Oci::new();
    // ash gives up on the first failed fork; the count it reached tells how many got through.
    let mut b = sh(
        "( i=0; while [ $i -lt 40 ]; do sleep 2 & i=$((i+1)); echo $i > /tmp/started; done ) 2>/dev/null; \
         echo bomb=$?; read n < /tmp/started; echo started=$n",
    );
    b.set_resources(
        LinuxResourcesBuilder::default()
            .pids(LinuxPidsBuilder::default().limit(10i64).build().unwrap())
            .build()
            .unwrap(),
    );
    let id = unique_id("pids");
    let (code, out, err) = oci.run(&b, &id);
    assert_eq!(code, 0, "{out} {err}");
    let started: usize = out
        .lines()
        .find_map(|l| l.strip_prefix("started="))
        .unwrap_or_else(|| panic!("no count in {out:?} / {err}"))
        .parse()
        .unwrap();
    assert!(
        started < 10,
        "pids limit not enforced: {started} processes started"
    );
    assert!(!out.contains("bomb=0"), "{out}");
}

#[test]
fn memory_limit_oom_kill_gives_137() {
    if skip() {
        return;
    }
    let oci = Oci::new();
    // The shell keeps the whole command substitution in memory.
    let mut b = sh("x=$(head -c 300000000 /dev/zero | tr '\\0' a); echo survived ${#x}");
    let limit = 32 * 1024 * 1024;
    b.set_resources(
        LinuxResourcesBuilder::default()
            .memory(
                LinuxMemoryBuilder::default()
                    .limit(limit)
                    .swap(limit)
                    .build()
                    .unwrap(),
            )
            .build()
            .unwrap(),
    );
    let id = unique_id("oom");
    let (code, out, err) = oci.run(&b, &id);
    assert_eq!(code, 137, "stdout {out} stderr {err}");
    assert!(cgroup_left(&id).is_empty());
}

#[test]
fn bind_mounts_tmpfs_and_readonly_root() {
    if skip() {
        return;
    }
    let oci = Oci::new();
    let host = tempfile::tempdir().unwrap();
    std::fs::write(host.path().join("hello"), "from host\n").unwrap();
    let script = r#"
        cat /ro/hello
        if echo x > /ro/new 2>/dev/null; then echo ro=writable; else echo ro=readonly; fi
        if echo x > /rw/new 2>/dev/null; then echo rw=writable; else echo rw=readonly; fi
        if echo x > /scratch/f 2>/dev/null; then echo tmpfs=writable; else echo tmpfs=readonly; fi
        grep ' /scratch ' /proc/mounts | cut -d' ' -f3
        if touch /rootfile 2>/dev/null; then echo root=writable; else echo root=readonly; fi
    "#;
    let mut b = sh(script);
    let bind = |dest: &str, opts: &[&str]| {
        MountBuilder::default()
            .destination(dest)
            .typ("bind")
            .source(host.path())
            .options(opts.iter().map(|s| s.to_string()).collect::<Vec<_>>())
            .build()
            .unwrap()
    };
    let mut mounts = b.spec.mounts().clone().unwrap();
    mounts.push(bind("/ro", &["rbind", "ro"]));
    mounts.push(bind("/rw", &["rbind", "rw"]));
    mounts.push(
        MountBuilder::default()
            .destination("/scratch")
            .typ("tmpfs")
            .source("tmpfs")
            .options(vec!["nosuid".to_string(), "size=1m".to_string()])
            .build()
            .unwrap(),
    );
    b.spec.set_mounts(Some(mounts));
    b.spec.root_mut().as_mut().unwrap().set_readonly(Some(true));
    let id = unique_id("mounts");
    let (code, out, err) = oci.run(&b, &id);
    assert_eq!(code, 0, "{out} {err}");
    for want in [
        "from host",
        "ro=readonly",
        "rw=writable",
        "tmpfs=writable",
        "tmpfs",
        "root=readonly",
    ] {
        assert!(
            out.lines().any(|l| l == want),
            "missing {want:?} in:\n{out}\n{err}"
        );
    }
    assert_eq!(
        std::fs::read_to_string(host.path().join("new")).unwrap(),
        "x\n"
    );
    assert!(host_mounts_under(host.path()).is_empty());
    assert!(host_mounts_under(&b.rootfs()).is_empty());
}

#[test]
fn spec_writes_docker_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let o = Command::new(BARGE)
        .args(["oci", "spec", "--bundle"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(o.status.success());
    let spec = oci_spec::runtime::Spec::load(dir.path().join("config.json")).unwrap();
    let caps = spec
        .process()
        .as_ref()
        .unwrap()
        .capabilities()
        .as_ref()
        .unwrap();
    assert_eq!(caps.effective().as_ref().unwrap().len(), 14);
    assert!(spec.linux().as_ref().unwrap().seccomp().is_some());
    // A second call refuses to overwrite.
    let o = Command::new(BARGE)
        .args(["oci", "spec", "--bundle"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!o.status.success());
}

#[allow(dead_code)]
fn p(path: &Path) -> PathBuf {
    path.to_owned()
}

#[test]
fn device_rules_from_the_spec_are_enforced() {
    if skip() {
        return;
    }
    use oci_spec::runtime::{LinuxDeviceCgroupBuilder, LinuxDeviceType};
    let oci = Oci::new();
    // /dev/mem (1:1) is neither allowed by the rules nor one of the runtime's own nodes
    // (null, zero, full, random, urandom, tty, console, ptmx, pts), which stay usable.
    let mut b = sh(
        "echo x > /dev/null || exit 1; mknod /tmp/mem c 1 1 || exit 3; \
         if head -c1 /tmp/mem >/dev/null 2>/tmp/err; then exit 2; fi; cat /tmp/err; \
         head -c1 /dev/urandom | wc -c",
    );
    let rule = |allow: bool, typ: Option<LinuxDeviceType>, minor: Option<i64>, access: &str| {
        let mut r = LinuxDeviceCgroupBuilder::default()
            .allow(allow)
            .access(access);
        if let Some(t) = typ {
            r = r.typ(t).major(1i64);
        }
        if let Some(m) = minor {
            r = r.minor(m);
        }
        r.build().unwrap()
    };
    b.set_resources(
        LinuxResourcesBuilder::default()
            .devices(vec![
                rule(false, None, None, "rwm"),
                rule(true, Some(LinuxDeviceType::C), Some(3), "rwm"),
                rule(true, Some(LinuxDeviceType::C), Some(9), "r"),
            ])
            .build()
            .unwrap(),
    );
    let id = unique_id("dev");
    let (code, out, err) = oci.run(&b, &id);
    assert_eq!(code, 0, "{out} {err}");
    assert!(out.contains("Operation not permitted"), "{out}");
    assert!(out.ends_with("1\n"), "{out}");
    assert!(cgroup_left(&id).is_empty());
}

/// A config that denies every device (runtime-tools' generator writes just
/// `{"allow": false, "access": "rwm"}`) still gets the nodes the runtime itself puts in
/// /dev, as with runc: busybox sh opens /dev/null to put a job in the background. Other
/// nodes may be made (mknod, as runc allows) but not opened.
#[test]
fn deny_all_device_rule_keeps_the_runtime_devices_usable() {
    if skip() {
        return;
    }
    use oci_spec::runtime::LinuxDeviceCgroupBuilder;
    let oci = Oci::new();
    let mut b = sh(
        "sleep 0 & wait $! && echo x > /dev/null && head -c3 /dev/zero | wc -c && \
         mknod /tmp/sda b 8 0 && if head -c1 /tmp/sda >/dev/null 2>&1; then echo sda-readable; fi",
    );
    b.set_resources(
        LinuxResourcesBuilder::default()
            .devices(vec![
                LinuxDeviceCgroupBuilder::default()
                    .allow(false)
                    .access("rwm")
                    .build()
                    .unwrap(),
            ])
            .build()
            .unwrap(),
    );
    let id = unique_id("denyall");
    let (code, out, err) = oci.run(&b, &id);
    assert_eq!(code, 0, "{out} {err}");
    assert_eq!(out, "3\n", "{err}");
}

fn hook(path: &str, args: &[&str], timeout: Option<i64>) -> oci_spec::runtime::Hook {
    let mut h = oci_spec::runtime::HookBuilder::default()
        .path(path)
        .args(args.iter().map(|s| s.to_string()).collect::<Vec<_>>())
        .env(vec!["HOOKVAR=set-by-spec".to_owned()]);
    if let Some(t) = timeout {
        h = h.timeout(t);
    }
    h.build().unwrap()
}

impl Oci {
    /// `create` with its stdio (which the container inherits) kept off our pipes.
    fn create(&self, b: &Bundle, id: &str) -> std::process::ExitStatus {
        b.write();
        self.cmd(&["create", "--bundle", b.path().to_str().unwrap(), id])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap()
    }

    fn wait_stopped(&self, id: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.status(id) != "stopped" {
            assert!(Instant::now() < deadline, "{id} did not stop");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Hooks run in the order listed, at their points of the lifecycle, each with the state
/// on stdin (status created / running / stopped) and only the spec's environment; a
/// failing poststart or poststop hook is a warning and the next hook still runs.
#[test]
fn hooks_run_in_order_with_the_state_on_stdin() {
    if skip() {
        return;
    }
    let oci = Oci::new();
    let mut b = Bundle::new(&["true"]);
    let log = b.path().join("hooks.log");
    let rec = |name: &str| {
        let script = format!(
            "printf '{name} %s ' \"$HOOKVAR\" >> {l}; cat >> {l}; echo >> {l}",
            l = log.display()
        );
        hook("/bin/sh", &["sh", "-c", &script], Some(5))
    };
    let fail = hook("/bin/false", &["false"], None);
    let mut anns = std::collections::HashMap::new();
    anns.insert("org.example.hooks".to_owned(), "yes".to_owned());
    b.spec.set_annotations(Some(anns));
    #[allow(deprecated)]
    let hooks = oci_spec::runtime::HooksBuilder::default()
        .prestart(vec![rec("prestart")])
        .create_runtime(vec![rec("createRuntime")])
        .poststart(vec![fail.clone(), rec("poststart")])
        .poststop(vec![fail, rec("poststop")])
        .build()
        .unwrap();
    b.spec.set_hooks(Some(hooks));
    let id = unique_id("hooks");
    assert!(oci.create(&b, &id).success());
    let text = std::fs::read_to_string(&log).unwrap();
    assert_eq!(text.lines().count(), 2, "{text}");
    let o = oci.out(&["start", &id]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("barge: warning: poststart hook /bin/false: exited with status 1"),
        "{err}"
    );
    oci.wait_stopped(&id);
    let o = oci.out(&["delete", &id]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("poststop hook /bin/false"));

    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let names: Vec<&str> = lines.iter().map(|l| l.split(' ').next().unwrap()).collect();
    assert_eq!(
        names,
        ["prestart", "createRuntime", "poststart", "poststop"],
        "{text}"
    );
    let mut pid = None;
    for (line, status) in lines
        .iter()
        .zip(["created", "created", "running", "stopped"])
    {
        let mut parts = line.splitn(3, ' ');
        let (_, var, json) = (parts.next(), parts.next(), parts.next().unwrap());
        assert_eq!(var, Some("set-by-spec"), "{line}");
        let v: serde_json::Value = serde_json::from_str(json).unwrap();
        assert_eq!(v["id"], id.as_str());
        assert_eq!(v["status"], status, "{line}");
        assert_eq!(v["bundle"], b.path().to_str().unwrap());
        assert_eq!(v["annotations"]["org.example.hooks"], "yes");
        if status != "stopped" {
            let p = v["pid"].as_i64().unwrap();
            assert!(p > 0);
            assert_eq!(*pid.get_or_insert(p), p, "the same pid in every hook");
        }
    }
}

/// A failing prestart hook fails `create`: the program never runs and the container is
/// gone (no state, no cgroup). A hook that outlives its timeout counts as failed.
#[test]
fn failing_or_hanging_prestart_hook_destroys_the_container() {
    if skip() {
        return;
    }
    let oci = Oci::new();
    for (name, h) in [
        (
            "fail",
            hook("/bin/sh", &["sh", "-c", "echo nope >&2; exit 3"], None),
        ),
        ("hang", hook("/bin/sleep", &["sleep", "30"], Some(1))),
    ] {
        let mut b = sh("touch /ran");
        #[allow(deprecated)]
        let hooks = oci_spec::runtime::HooksBuilder::default()
            .prestart(vec![h])
            .build()
            .unwrap();
        b.spec.set_hooks(Some(hooks));
        b.write();
        let id = unique_id(&format!("prestart-{name}"));
        let started = Instant::now();
        let o = oci
            .cmd(&["create", "--bundle", b.path().to_str().unwrap(), &id])
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(125));
        let err = String::from_utf8_lossy(&o.stderr);
        if name == "fail" {
            assert!(
                err.contains("prestart hook /bin/sh: exited with status 3: nope"),
                "{err}"
            );
        } else {
            assert!(err.contains("timed out after 1s"), "{err}");
            assert!(started.elapsed() < Duration::from_secs(10));
        }
        assert!(!oci.out(&["state", &id]).status.success());
        assert!(!b.rootfs().join("ran").exists());
        assert!(cgroup_left(&id).is_empty());
    }
}

/// createContainer and startContainer hooks run inside the container in runc; barge
/// refuses them instead of skipping them.
#[test]
fn in_container_hooks_are_refused() {
    if skip() {
        return;
    }
    let oci = Oci::new();
    let mut b = Bundle::new(&["true"]);
    let hooks = oci_spec::runtime::HooksBuilder::default()
        .start_container(vec![hook("/bin/true", &["true"], None)])
        .build()
        .unwrap();
    b.spec.set_hooks(Some(hooks));
    b.write();
    let id = unique_id("startctr");
    let o = oci
        .cmd(&["create", "--bundle", b.path().to_str().unwrap(), &id])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(125));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("startContainer hooks are not supported"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(!oci.out(&["state", &id]).status.success());
}

/// A relative --pid-file is relative to the caller's directory, not to the bundle (create
/// moves into the bundle to resolve relative mount sources).
#[test]
fn relative_pid_file_is_relative_to_the_caller() {
    if skip() {
        return;
    }
    let oci = Oci::new();
    let b = Bundle::new(&["true"]);
    b.write();
    let caller = tempfile::tempdir().unwrap();
    let id = unique_id("pidrel");
    let st = oci
        .cmd(&[
            "create",
            "--bundle",
            b.path().to_str().unwrap(),
            "--pid-file",
            "init.pid",
            &id,
        ])
        .current_dir(caller.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(st.success());
    let pid = std::fs::read_to_string(caller.path().join("init.pid")).unwrap();
    assert!(!b.path().join("init.pid").exists());
    let state: serde_json::Value =
        serde_json::from_slice(&oci.out(&["state", &id]).stdout).unwrap();
    assert_eq!(state["pid"].as_i64().unwrap().to_string(), pid);
    assert!(oci.out(&["delete", "--force", &id]).status.success());
}

/// linux.rootfsPropagation "unbindable" makes the container's root unbindable (a bind of
/// `/` fails), while "private" still allows it.
#[test]
fn rootfs_propagation_unbindable_applies_to_the_new_root() {
    if skip() {
        return;
    }
    let oci = Oci::new();
    for (mode, want) in [("unbindable", "refused"), ("private", "bound")] {
        let mut b = sh(
            "mkdir -p /mnt/t && if mount -o rbind / /mnt/t 2>/dev/null; \
             then echo bound; else echo refused; fi",
        );
        let p = b.spec.process_mut().as_mut().unwrap();
        let mut caps = p.capabilities().clone().unwrap();
        let mut bounding = caps.bounding().clone().unwrap();
        bounding.insert(oci_spec::runtime::Capability::SysAdmin);
        caps.set_bounding(Some(bounding.clone()));
        caps.set_effective(Some(bounding.clone()));
        caps.set_permitted(Some(bounding));
        p.set_capabilities(Some(caps));
        let l = b.spec.linux_mut().as_mut().unwrap();
        l.set_seccomp(None);
        l.set_rootfs_propagation(Some(mode.to_owned()));
        let (code, out, err) = oci.run(&b, &unique_id("unbind"));
        assert_eq!(code, 0, "{mode}: {out} {err}");
        assert_eq!(out.trim(), want, "{mode}: {err}");
    }
}

/// A pid namespace given by path is joined: the container's init is not PID 1 there and
/// shares the namespace with the process that made it. barge itself stays where it was.
#[test]
fn joins_an_existing_pid_namespace_by_path() {
    if skip() {
        return;
    }
    // --kill-child: the sleeper (PID 1 of the new namespace) dies with unshare.
    let mut holder = Command::new("unshare")
        .args(["--pid", "--fork", "--kill-child", "sleep", "1000"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("unshare (util-linux)");
    let ns = format!("/proc/{}/ns/pid_for_children", holder.id());
    let deadline = Instant::now() + Duration::from_secs(5);
    let want = loop {
        let l = std::fs::read_link(&ns).unwrap();
        if l != std::fs::read_link("/proc/self/ns/pid").unwrap() {
            break l;
        }
        assert!(
            Instant::now() < deadline,
            "unshare did not make a pid namespace"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let oci = Oci::new();
    let mut b = sh("echo \"$$ $(readlink /proc/self/ns/pid)\"");
    b.remove_namespace(LinuxNamespaceType::Pid);
    let mut nss = b
        .spec
        .linux()
        .as_ref()
        .unwrap()
        .namespaces()
        .clone()
        .unwrap();
    nss.push(
        oci_spec::runtime::LinuxNamespaceBuilder::default()
            .typ(LinuxNamespaceType::Pid)
            .path(&ns)
            .build()
            .unwrap(),
    );
    b.spec
        .linux_mut()
        .as_mut()
        .unwrap()
        .set_namespaces(Some(nss));
    let (code, out, err) = oci.run(&b, &unique_id("pidns"));
    let _ = holder.kill();
    let _ = holder.wait();
    assert_eq!(code, 0, "{out} {err}");
    let (pid, link) = out.trim().split_once(' ').unwrap();
    assert_ne!(pid, "1", "{out}");
    assert_eq!(link, want.to_str().unwrap());
}

/// linux.resources.cpu.cpus/mems pin the container (cpuset; on v1 the new group is first
/// filled from its parent, or no process could join it), and the group goes with it.
#[test]
fn cpuset_pins_the_container() {
    if skip() {
        return;
    }
    let oci = Oci::new();
    let mut b = sh("grep -E '^(Cpus|Mems)_allowed_list' /proc/self/status | tr -d '\\t'");
    b.set_resources(
        LinuxResourcesBuilder::default()
            .cpu(
                oci_spec::runtime::LinuxCpuBuilder::default()
                    .cpus("0")
                    .mems("0")
                    .build()
                    .unwrap(),
            )
            .build()
            .unwrap(),
    );
    let id = unique_id("cpuset");
    let (code, out, err) = oci.run(&b, &id);
    assert_eq!(code, 0, "{out} {err}");
    assert_eq!(out, "Cpus_allowed_list:0\nMems_allowed_list:0\n", "{err}");
    assert!(!Path::new("/sys/fs/cgroup/cpuset/barge").join(&id).exists());
    assert!(cgroup_left(&id).is_empty());
}

/// Resources barge does not apply (blkio, hugetlb, net_cls/net_prio, rdma, realtime cpu)
/// fail create instead of being dropped silently.
#[test]
fn unsupported_resources_are_refused() {
    if skip() {
        return;
    }
    let oci = Oci::new();
    let mut b = Bundle::new(&["true"]);
    b.set_resources(
        LinuxResourcesBuilder::default()
            .block_io(
                oci_spec::runtime::LinuxBlockIoBuilder::default()
                    .weight(500u16)
                    .build()
                    .unwrap(),
            )
            .build()
            .unwrap(),
    );
    let id = unique_id("blkio");
    let (code, _, err) = oci.run(&b, &id);
    assert_eq!(code, 125);
    assert!(
        err.contains("linux.resources blockIO not supported"),
        "{err}"
    );
    assert!(cgroup_left(&id).is_empty());
}

/// A config.json whose ociVersion is not a 1.x SemVer version is refused.
#[test]
fn invalid_oci_version_is_refused() {
    if skip() {
        return;
    }
    let oci = Oci::new();
    let mut b = Bundle::new(&["true"]);
    b.spec.set_version("invalid".to_owned());
    b.write();
    let id = unique_id("ociver");
    let o = oci
        .cmd(&["create", "--bundle", b.path().to_str().unwrap(), &id])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(125));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("ociVersion \"invalid\" is not a SemVer version"),
        "{err}"
    );
    assert!(!oci.out(&["state", &id]).status.success());
}

#[test]
fn exec_into_a_running_container() {
    if skip() {
        return;
    }
    let oci = Oci::new();
    let b = Bundle::new(&["sleep", "1000"]);
    b.write();
    let id = unique_id("exec");
    let st = oci
        .cmd(&["create", "--bundle", b.path().to_str().unwrap(), &id])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(st.success());
    assert!(oci.out(&["start", &id]).status.success());
    let ex = |args: &[&str]| {
        let mut full = vec!["exec"];
        full.extend_from_slice(args);
        let o = oci.out(&full);
        (
            o.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    assert_eq!(ex(&[&id, "true"]).0, 0);
    assert_eq!(ex(&[&id, "sh", "-c", "exit 5"]).0, 5);
    let (code, _, err) = ex(&[&id, "nosuchcmd"]);
    assert_eq!(code, 127, "{err}");
    assert!(err.contains("not found"), "{err}");
    let (code, _, err) = ex(&[&id, "/etc/notexec"]);
    assert_eq!(code, 126, "{err}");
    // The container's pid namespace: its init is PID 1, the exec'd process is not.
    let (code, out, err) = ex(&[&id, "sh", "-c", "echo $$; ps -o pid,comm"]);
    assert_eq!(code, 0, "{err}");
    let mut lines = out.lines();
    assert_ne!(lines.next(), Some("1"), "{out}");
    assert!(
        lines.any(|l| l.split_whitespace().collect::<Vec<_>>() == ["1", "sleep"]),
        "{out}"
    );
    // Same cgroup, mount and net namespace as init; only stdio for descriptors; cwd at
    // the container's root.
    let (_, out, _) = ex(&[
        &id,
        "sh",
        "-c",
        "[ \"$(cat /proc/1/cgroup)\" = \"$(cat /proc/self/cgroup)\" ] && echo same-cgroup; \
         [ \"$(readlink /proc/1/ns/mnt)\" = \"$(readlink /proc/self/ns/mnt)\" ] && echo same-mnt; \
         [ \"$(readlink /proc/1/ns/net)\" = \"$(readlink /proc/self/ns/net)\" ] && echo same-net; \
         readlink /proc/self/cwd",
    ]);
    assert_eq!(out, "same-cgroup\nsame-mnt\nsame-net\n/\n");
    // ls itself opens the directory it lists as fd 3: nothing else is open.
    assert_eq!(ex(&[&id, "ls", "/proc/self/fd"]).1, "0\n1\n2\n3\n");
    // Options: user, env, cwd.
    let (code, out, err) = ex(&["-u", "65534:65534", &id, "id"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "uid=65534(nobody) gid=65534(nogroup)\n");
    let (_, out, _) = ex(&[
        "-e",
        "FOO=bar",
        "--cwd",
        "/tmp",
        &id,
        "sh",
        "-c",
        "echo $FOO; pwd",
    ]);
    assert_eq!(out, "bar\n/tmp\n");
    // The container's capabilities, seccomp mode and no_new_privs, not barge's.
    let state: serde_json::Value =
        serde_json::from_slice(&oci.out(&["state", &id]).stdout).unwrap();
    let status = std::fs::read_to_string(format!("/proc/{}/status", state["pid"])).unwrap();
    let (_, out, _) = ex(&[&id, "cat", "/proc/self/status"]);
    for key in ["CapEff:", "CapBnd:", "CapPrm:", "Seccomp:", "NoNewPrivs:"] {
        let line = |s: &str| s.lines().find(|l| l.starts_with(key)).map(str::to_owned);
        assert_eq!(line(&out), line(&status), "{key}");
    }
    assert!(out.contains("Seccomp:\t2"), "{out}");
    // Detached, with a pid file: barge returns at once, the process runs on.
    let pid_file = b.path().join("exec.pid");
    let (code, _, err) = ex(&[
        "-d",
        "--pid-file",
        pid_file.to_str().unwrap(),
        &id,
        "sh",
        "-c",
        "sleep 0.3; touch /tmp/detached-done",
    ]);
    assert_eq!(code, 0, "{err}");
    let pid: i32 = std::fs::read_to_string(&pid_file).unwrap().parse().unwrap();
    assert!(pid > 0);
    let deadline = Instant::now() + Duration::from_secs(5);
    while ex(&[&id, "test", "-e", "/tmp/detached-done"]).0 != 0 {
        assert!(Instant::now() < deadline, "detached process did not run");
        std::thread::sleep(Duration::from_millis(50));
    }

    assert!(oci.out(&["kill", &id, "KILL"]).status.success());
    let deadline = Instant::now() + Duration::from_secs(5);
    while oci.status(&id) != "stopped" {
        assert!(Instant::now() < deadline, "container did not stop");
        std::thread::sleep(Duration::from_millis(10));
    }
    let (code, _, err) = ex(&[&id, "true"]);
    assert_ne!(code, 0, "exec into a stopped container: {err}");
    assert!(oci.out(&["delete", &id]).status.success());
    assert!(cgroup_left(&id).is_empty());
}

#[test]
fn user_namespace_with_a_mapped_range() {
    if skip() {
        return;
    }
    use oci_spec::runtime::{LinuxIdMappingBuilder, LinuxNamespaceBuilder};
    use std::os::unix::fs::PermissionsExt;
    let oci = Oci::new();
    let mut b = sh("cat /proc/self/uid_map /proc/self/gid_map; id; \
         echo x > /data/f && stat -c '%u:%g' /data/f");
    // A host directory owned by the mapped root: the container's root writes files there
    // as host uid 100000.
    let data = b.path().join("data");
    std::fs::create_dir(&data).unwrap();
    std::os::unix::fs::chown(&data, Some(100000), Some(100000)).unwrap();
    // The mount point too: the mapped root cannot create it in the host-owned rootfs.
    std::fs::create_dir(b.rootfs().join("data")).unwrap();
    let mut mounts = b.spec.mounts().clone().unwrap();
    mounts.push(
        MountBuilder::default()
            .destination("/data")
            .typ("bind")
            .source(&data)
            .options(vec!["rbind".to_string(), "rw".to_string()])
            .build()
            .unwrap(),
    );
    b.spec.set_mounts(Some(mounts));
    // The mapped root (host uid 100000) must reach the root filesystem.
    std::fs::set_permissions(b.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let map = |c: u32, h: u32, n: u32| {
        LinuxIdMappingBuilder::default()
            .container_id(c)
            .host_id(h)
            .size(n)
            .build()
            .unwrap()
    };
    let l = b.spec.linux_mut().as_mut().unwrap();
    let mut ns = l.namespaces().clone().unwrap();
    ns.push(
        LinuxNamespaceBuilder::default()
            .typ(LinuxNamespaceType::User)
            .build()
            .unwrap(),
    );
    l.set_namespaces(Some(ns));
    l.set_uid_mappings(Some(vec![map(0, 100000, 65536)]));
    l.set_gid_mappings(Some(vec![map(0, 100000, 65536)]));
    let id = unique_id("userns");
    let (code, out, err) = oci.run(&b, &id);
    assert_eq!(code, 0, "{out} {err}");
    let lines: Vec<Vec<&str>> = out
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(lines[0], ["0", "100000", "65536"], "{out}");
    assert_eq!(lines[1], ["0", "100000", "65536"], "{out}");
    assert!(out.contains("uid=0(root) gid=0(root)"), "{out}");
    assert!(out.ends_with("0:0\n"), "{out}");
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(data.join("f")).unwrap();
    assert_eq!((m.uid(), m.gid()), (100000, 100000));
    assert!(cgroup_left(&id).is_empty());

    // exec joins the user namespace too.
    b.spec
        .process_mut()
        .as_mut()
        .unwrap()
        .set_args(Some(vec!["sleep".into(), "1000".into()]));
    b.write();
    let id = unique_id("userns-exec");
    let st = oci
        .cmd(&["create", "--bundle", b.path().to_str().unwrap(), &id])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(st.success());
    let o = oci.out(&["start", &id]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = oci.out(&[
        "exec",
        &id,
        "sh",
        "-c",
        "cat /proc/self/uid_map; touch /data/g",
    ]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{out} {}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(
        out.split_whitespace().collect::<Vec<_>>(),
        ["0", "100000", "65536"]
    );
    assert_eq!(std::fs::metadata(data.join("g")).unwrap().uid(), 100000);
    assert!(oci.out(&["delete", "--force", &id]).status.success());
}

#[test]
fn joins_the_pid_namespace_of_another_container() {
    if skip() {
        return;
    }
    let oci = Oci::new();
    let holder = Bundle::new(&["sleep", "1000"]);
    holder.write();
    let hid = unique_id("pidns-holder");
    let st = oci
        .cmd(&["create", "--bundle", holder.path().to_str().unwrap(), &hid])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(st.success());
    assert!(oci.out(&["start", &hid]).status.success());
    let state: serde_json::Value =
        serde_json::from_slice(&oci.out(&["state", &hid]).stdout).unwrap();
    let ns_file = format!("/proc/{}/ns/pid", state["pid"]);
    let holder_ns = std::fs::read_link(&ns_file).unwrap();
    let mut b = sh(
        "echo $$; readlink /proc/self/ns/pid; (sleep 1000 &); sleep 0.2; \
                    ps -o pid,ppid,comm",
    );
    let l = b.spec.linux_mut().as_mut().unwrap();
    let mut ns = l.namespaces().clone().unwrap();
    for n in ns.iter_mut() {
        if n.typ() == LinuxNamespaceType::Pid {
            n.set_path(Some(PathBuf::from(&ns_file)));
        }
    }
    l.set_namespaces(Some(ns));
    let id = unique_id("pidns-join");
    let (code, out, err) = oci.run(&b, &id);
    assert_eq!(code, 0, "{out} {err}");
    let mut lines = out.lines();
    // Not the namespace's init: the holder's sleep is PID 1, and it is visible.
    let me: u32 = lines.next().unwrap().parse().unwrap();
    assert!(me > 1, "{out}");
    assert_eq!(lines.next(), Some(holder_ns.to_str().unwrap()), "{out}");
    let rows: Vec<Vec<&str>> = out
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert!(rows.contains(&vec!["1", "0", "sleep"]), "{out}");
    // The child it left behind was reparented to the namespace's init (the holder's).
    assert!(
        rows.iter()
            .any(|r| r.len() == 3 && r[0] != "1" && r[1] == "1" && r[2] == "sleep"),
        "{out}"
    );
    // barge itself is back in its own pid namespace: a later container gets one of its own.
    let (code, out, _) = oci.run(&sh("echo $$"), &unique_id("pidns-after"));
    assert_eq!((code, out.as_str()), (0, "1\n"));
    // A namespace that is gone: refused before anything is made.
    assert!(oci.out(&["kill", &hid, "KILL"]).status.success());
    let deadline = Instant::now() + Duration::from_secs(5);
    while oci.status(&hid) != "stopped" {
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(10));
    }
    let (code, _, err) = oci.run(&b, &unique_id("pidns-gone"));
    assert_ne!(code, 0);
    assert!(err.contains("pid"), "{err}");
    assert!(oci.out(&["delete", &hid]).status.success());
    assert!(cgroup_left(&id).is_empty());
}
