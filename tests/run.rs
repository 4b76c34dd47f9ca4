//! `barge run` through the real binary, as root: real namespaces, overlay and cgroups.

mod common;

use std::io::Read;
use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::*;

fn run(b: &Barge, args: &[&str]) -> (Option<i32>, String, String) {
    let mut full = vec!["run", "--rm"];
    full.extend_from_slice(args);
    let o = b.run(&full);
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn sh(b: &Barge, script: &str) -> String {
    let (code, out, err) = run(b, &["bb:1", "sh", "-c", script]);
    assert_eq!(code, Some(0), "{script}: {err}");
    out
}

#[test]
fn echo_and_exit_codes() {
    let Some(b) = bb_store() else { return };
    assert_eq!(run(&b, &["bb:1", "echo", "hi"]).1, "hi\n");
    assert_eq!(run(&b, &["bb:1", "sh", "-c", "exit 7"]).0, Some(7));
    let (code, _, err) = run(&b, &["bb:1", "nosuchcmd"]);
    assert_eq!(code, Some(127));
    assert!(
        err.contains("nosuchcmd") && err.contains("not found"),
        "{err}"
    );
    let (code, _, err) = run(&b, &["bb:1", "/etc/passwd"]);
    assert_eq!(code, Some(126), "{err}");
    // The image's CMD (sh) runs when no command is given; stdin is /dev/null here.
    assert_eq!(run(&b, &["bb:1"]).0, Some(0));
    // --pull never: a missing image must not send the test to Docker Hub.
    let (code, _, err) = run(&b, &["--pull", "never", "nosuch:image"]);
    assert_eq!(code, Some(125));
    assert!(err.contains("no such image: nosuch:image"), "{err}");
    let (code, _, err) = run(&b, &["--network", "bogus", "bb:1", "true"]);
    assert_eq!(code, Some(125), "{err}");
}

#[test]
fn sigterm_to_barge_reaches_the_container() {
    let Some(b) = bb_store() else { return };
    let mut child = b
        .cmd()
        // PID 1 ignores signals it has no handler for (as under Docker), so the container
        // handles TERM itself; what is tested is that barge forwards it.
        .args([
            "run",
            "--rm",
            "bb:1",
            "sh",
            "-c",
            "trap 'exit 143' TERM; sleep 30 & wait",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    rustix::process::kill_process(
        rustix::process::Pid::from_raw(child.id() as i32).unwrap(),
        rustix::process::Signal::TERM,
    )
    .unwrap();
    let st = child.wait().unwrap();
    assert_eq!(st.code(), Some(143), "{st:?}");
}

#[test]
fn env_workdir_user_entrypoint_hostname() {
    let Some(b) = bb_store() else { return };
    let out = sh(&b, "echo $PATH");
    assert!(out.contains("/usr/bin"), "{out}");
    let (_, out, _) = run(
        &b,
        &[
            "-e",
            "A=1",
            "-e",
            "HOME=/x",
            "bb:1",
            "sh",
            "-c",
            "echo $A $HOME",
        ],
    );
    assert_eq!(out, "1 /x\n");
    let envf = b.file("envfile", b"# comment\nB=2\n\nC=three\n");
    let (_, out, _) = run(&b, &["--env-file", &envf, "bb:1", "sh", "-c", "echo $B $C"]);
    assert_eq!(out, "2 three\n");
    let (_, out, _) = run(&b, &["-w", "/newdir/sub", "bb:1", "pwd"]);
    assert_eq!(out, "/newdir/sub\n");
    let (_, out, _) = run(&b, &["-u", "daemon", "bb:1", "id"]);
    assert_eq!(
        out,
        "uid=1(daemon) gid=1(daemon) groups=1(daemon),10(wheel)\n"
    );
    let (_, out, _) = run(
        &b,
        &["-u", "1234:5", "--group-add", "wheel", "bb:1", "id", "-G"],
    );
    assert_eq!(out, "5 10\n");
    let (code, _, err) = run(&b, &["-u", "nobody-here", "bb:1", "id"]);
    assert_eq!(code, Some(125));
    assert!(err.contains("unable to find user nobody-here"), "{err}");
    let (_, out, _) = run(&b, &["--entrypoint", "echo", "bb:1", "from", "entrypoint"]);
    assert_eq!(out, "from entrypoint\n");
    let (_, out, _) = run(
        &b,
        &[
            "-h",
            "myhost",
            "bb:1",
            "sh",
            "-c",
            "hostname; cat /etc/hostname; echo $HOSTNAME",
        ],
    );
    assert_eq!(out, "myhost\nmyhost\nmyhost\n");
}

#[test]
fn isolation_inside_the_container() {
    let Some(b) = bb_store() else { return };
    assert_eq!(sh(&b, "echo $$"), "1\n", "the command is PID 1");
    let status = sh(&b, "cat /proc/self/status");
    assert!(status.contains("CapEff:\t00000000a80425fb"), "{status}");
    assert!(status.contains("CapInh:\t0000000000000000"), "{status}");
    assert!(status.contains("CapAmb:\t0000000000000000"), "{status}");
    assert!(status.contains("Seccomp:\t2"), "{status}");
    // Masked: empty (or absent on kernels without it).
    assert_eq!(
        sh(
            &b,
            "cat /proc/kcore 2>/dev/null | wc -c; cat /proc/keys | wc -c"
        )
        .trim(),
        "0\n0"
    );
    assert_eq!(
        sh(&b, "cat /proc/timer_list 2>/dev/null | wc -c").trim(),
        "0"
    );
    assert_eq!(sh(&b, "ls /sys/firmware | wc -l").trim(), "0");
    let out = sh(
        &b,
        "echo 1 > /proc/sys/kernel/domainname 2>&1 && echo writable || echo refused",
    );
    assert!(out.contains("refused"), "/proc/sys is read-only: {out}");
    let out = sh(
        &b,
        "mount -t tmpfs t /mnt 2>&1 && echo mounted || echo refused",
    );
    assert!(out.contains("refused"), "{out}");
    assert_eq!(
        sh(&b, "ls /proc/self/fd | sort -n | head -3 | tr '\\n' ' '"),
        "0 1 2 "
    );
    assert_eq!(
        sh(&b, "ls /proc/self/fd | wc -l").trim(),
        "4",
        "0-2 and ls's own directory fd"
    );
    let pids = sh(&b, "ls -d /proc/[0-9]* | wc -l");
    assert!(
        pids.trim().parse::<i32>().unwrap() <= 3,
        "no host pids: {pids}"
    );
    let out = sh(&b, "touch /sys/x 2>&1 || echo ro");
    assert!(out.contains("ro") || out.contains("Read-only"), "{out}");
    let dev = sh(&b, "ls /dev | sort | tr '\\n' ' '");
    for d in [
        "full", "null", "ptmx", "pts", "random", "shm", "tty", "urandom", "zero",
    ] {
        assert!(dev.split(' ').any(|x| x == d), "/dev/{d} missing: {dev}");
    }
    // Default network: bridge, a namespace of its own with lo and eth0 only.
    let ifaces = sh(&b, "ls /sys/class/net | tr '\\n' ' '");
    assert_eq!(ifaces, "eth0 lo ", "{ifaces}");
    assert_eq!(sh(&b, "cat /etc/hosts | grep -c localhost").trim(), "2");
}

#[test]
fn mounts_read_only_root_and_tmpfs() {
    let Some(b) = bb_store() else { return };
    let host = b.dir.path().join("share");
    std::fs::create_dir(&host).unwrap();
    std::fs::write(host.join("in"), b"from host").unwrap();
    let v = format!("{}:/data", host.display());
    assert_eq!(
        sh_with(&b, &["-v", &v], "cat /data/in; echo out > /data/out"),
        "from host"
    );
    assert_eq!(std::fs::read_to_string(host.join("out")).unwrap(), "out\n");
    let vro = format!("{}:/data:ro", host.display());
    let out = sh_with(&b, &["-v", &vro], "echo x > /data/no 2>&1 || echo refused");
    assert!(out.contains("refused"), "{out}");
    assert!(!host.join("no").exists());
    let m = format!("type=bind,source={},target=/m,readonly", host.display());
    assert_eq!(sh_with(&b, &["--mount", &m], "cat /m/in"), "from host");
    let out = sh_with(
        &b,
        &["--read-only", "--tmpfs", "/scratch"],
        "touch /x 2>&1 || echo rootro; touch /scratch/y && echo tmpok",
    );
    assert!(out.contains("rootro") && out.contains("tmpok"), "{out}");
    // Named volumes persist between containers.
    sh_with(&b, &["-v", "vol1:/v"], "echo kept > /v/f");
    assert_eq!(sh_with(&b, &["-v", "vol1:/v"], "cat /v/f"), "kept\n");
    assert!(b.ok(&["volume", "ls", "-q"]).contains("vol1"));
    b.ok(&["volume", "rm", "vol1"]);
    let (code, _, err) = run(&b, &["-v", "relative/path:/x", "bb:1", "true"]);
    assert_eq!(code, Some(125), "{err}");
}

fn sh_with(b: &Barge, flags: &[&str], script: &str) -> String {
    let mut args: Vec<&str> = flags.to_vec();
    args.extend(["bb:1", "sh", "-c", script]);
    let (code, out, err) = run(b, &args);
    assert_eq!(code, Some(0), "{flags:?} {script}: {err}");
    out
}

#[test]
fn limits_pids_and_memory() {
    let Some(b) = bb_store() else { return };
    // A fork bomb stops at the pids limit instead of taking the machine.
    // (Counted with shell builtins only: once the limit is hit, nothing else can fork.)
    let out = sh_with(
        &b,
        &["--pids-limit", "20"],
        "(i=0; while [ $i -lt 60 ]; do sleep 5 & i=$((i+1)); done) 2>/dev/null; set -- /proc/[0-9]*; echo $#",
    );
    let n: i32 = out.trim().parse().unwrap();
    assert!(n <= 21, "pids limited: {n}");
    // Going over the memory limit: OOM-killed, 137, and barge says so.
    let (code, _, err) = run(
        &b,
        &[
            "-m",
            "16m",
            "--memory-swap",
            "16m",
            "bb:1",
            "sh",
            "-c",
            "x=a; while true; do x=$x$x; done",
        ],
    );
    assert_eq!(code, Some(137), "{err}");
    assert!(err.contains("OOM"), "{err}");
    let out = sh_with(&b, &["--ulimit", "nofile=100:200"], "ulimit -n; ulimit -Hn");
    assert_eq!(out, "100\n200\n");
}

#[test]
fn rm_cleans_up_and_names_are_unique() {
    let Some(b) = bb_store() else { return };
    sh(&b, "true");
    let dirs = std::fs::read_dir(b.root().join("containers"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(dirs, 0, "--rm removes the container directory");
    // A --rm container's overlay skips syncing its upper layer (`volatile`, shown as
    // `fsync=volatile` by newer kernels); one that stays keeps its writes durable.
    let root_opts = "grep ' / / ' /proc/self/mountinfo";
    let rm = sh(&b, root_opts);
    assert!(rm.contains("volatile"), "{rm}");
    let o = b.run(&["run", "--name", "durable", "bb:1", "sh", "-c", root_opts]);
    let kept = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success() && kept.contains("overlay"), "{kept}");
    assert!(!kept.contains("volatile"), "{kept}");
    assert!(b.run(&["rm", "durable"]).status.success());
    // Without --rm the name stays taken.
    let o = b.run(&["run", "--name", "keep", "bb:1", "true"]);
    assert!(o.status.success());
    let o = b.run(&["run", "--name", "keep", "bb:1", "true"]);
    assert_eq!(o.status.code(), Some(125));
    assert!(String::from_utf8_lossy(&o.stderr).contains("\"keep\" is already in use"));
    let o = b.run(&["run", "--name", "bad name!", "bb:1", "true"]);
    assert_eq!(o.status.code(), Some(125));
    // rmi of an image a container uses is refused.
    let o = b.run(&["rmi", "bb:1"]);
    assert_eq!(
        o.status.code(),
        Some(125),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn kill_9_of_barge_kills_the_container_and_the_next_barge_cleans_up() {
    let Some(b) = bb_store() else { return };
    let mut child = b
        .cmd()
        .args([
            "run",
            "--rm",
            "--name",
            "victim",
            "bb:1",
            "sleep",
            &unique_sleep(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    child.kill().unwrap();
    child.wait().unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let ps = std::process::Command::new("sh")
        .args([
            "-c",
            &format!("ps -eo args | grep -c '[s]leep {}'", unique_sleep()),
        ])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&ps.stdout).trim(),
        "0",
        "the container died with barge"
    );
    // The next run reaps it: the name is free again and the directory is gone.
    let o = b.run(&["run", "--rm", "--name", "victim", "bb:1", "true"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let dirs = std::fs::read_dir(b.root().join("containers"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(dirs, 0);
}

#[test]
fn tty_session_driven_through_a_pty() {
    let Some(b) = bb_store() else { return };
    let mut cmd = b.cmd();
    cmd.args(["run", "--rm", "-it", "bb:1", "sh"]);
    let (mut child, mut master) = spawn_in_pty(&mut cmd);
    let (status, text) = pty_session(
        &mut child,
        &mut master,
        b"tty; echo $TERM; exit 3\n",
        Duration::from_secs(20),
    );
    assert_eq!(
        status.code(),
        Some(3),
        "{status:?} {}",
        status.signal().unwrap_or(0)
    );
    assert!(
        text.contains("/dev/pts/0"),
        "the container has its own terminal: {text}"
    );
    assert!(text.contains("xterm"), "{text}");
}

#[test]
fn device_cgroup_denies_what_the_default_rules_do_not_allow() {
    let Some(b) = bb_store() else { return };
    // CAP_MKNOD lets the node be made ("m" is allowed for any device); the devices cgroup
    // refuses opening it. The standard nodes work.
    let out = sh(
        &b,
        "mknod /tmp/sda b 8 0 || exit 3; \
         if head -c1 /tmp/sda >/dev/null 2>/tmp/err; then exit 4; fi; cat /tmp/err; \
         mknod /tmp/fuse c 10 229 || exit 5; \
         if (exec 3<>/tmp/fuse) 2>/tmp/err; then exit 6; fi; cat /tmp/err; \
         echo x > /dev/null || exit 7; head -c3 /dev/zero | wc -c",
    );
    assert_eq!(out.matches("Operation not permitted").count(), 2, "{out}");
    assert!(out.ends_with("3\n"), "{out}");

    if !std::path::Path::new("/dev/fuse").exists() {
        eprintln!("no /dev/fuse on this host: --device part skipped");
        return;
    }
    // A device given with --device is usable, at the access it was given with.
    let out = sh_with(
        &b,
        &["--device", "/dev/fuse"],
        "exec 3<>/dev/fuse && echo opened",
    );
    assert_eq!(out, "opened\n");
    let (code, _, err) = run(
        &b,
        &[
            "--device",
            "/dev/fuse:/dev/fuse:r",
            "bb:1",
            "sh",
            "-c",
            "(exec 3</dev/fuse) || exit 1; (exec 4<>/dev/fuse) || exit 2",
        ],
    );
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("Operation not permitted"), "{err}");
    // --privileged allows every device.
    let out = sh_with(
        &b,
        &["--privileged"],
        "mknod /tmp/fuse c 10 229 && exec 3<>/tmp/fuse && echo opened",
    );
    assert_eq!(out, "opened\n");
}

#[test]
fn loopback_is_up_in_the_none_network() {
    let Some(b) = bb_store() else { return };
    let none = |script: &str| {
        let (code, out, err) = run(&b, &["--network", "none", "bb:1", "sh", "-c", script]);
        assert_eq!(code, Some(0), "{script}: {err}");
        out
    };
    let out = none("cat /sys/class/net/lo/flags; ping -c1 -W2 127.0.0.1 >/dev/null && echo pong");
    assert_eq!(out, "0x9\npong\n");
    // A server on 127.0.0.1 is reachable from inside.
    // (Retried: busybox nc can accept a probe connection before the real one.)
    let out = none(
        "for attempt in 1 2 3 4 5; do \
           nc -l -p 7777 > /tmp/got & srv=$!; i=0; \
           until echo hello | nc -w1 127.0.0.1 7777 2>/dev/null; do \
             i=$((i+1)); [ $i -gt 100 ] && exit 9; sleep 0.1; done; \
           wait $srv; grep -q hello /tmp/got && { cat /tmp/got; exit 0; }; \
         done; exit 8",
    );
    assert_eq!(out, "hello\n");
}

fn spawn_run(b: &Barge, args: &[&str]) -> std::process::Child {
    let mut full = vec!["run", "--rm"];
    full.extend_from_slice(args);
    b.cmd()
        .args(full)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits for the container to print its first line (e.g. once its trap is set).
fn wait_ready(child: &mut std::process::Child) {
    let mut line = [0u8; 6];
    child
        .stdout
        .as_mut()
        .unwrap()
        .read_exact(&mut line)
        .unwrap();
    assert_eq!(&line, b"ready\n");
}

fn signal(child: &std::process::Child, sig: rustix::process::Signal) {
    rustix::process::kill_process(
        rustix::process::Pid::from_raw(child.id() as i32).unwrap(),
        sig,
    )
    .unwrap();
}

#[test]
fn init_is_pid_1_reaps_zombies_and_forwards_signals() {
    let Some(b) = bb_store() else { return };
    let out = sh_with(
        &b,
        &["--init"],
        "echo $$; cat /proc/1/cmdline | tr '\\0' ' '; echo; \
         (sleep 0.2 &); sleep 1; ps -o pid,stat,comm",
    );
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some("2"), "{out}");
    // barge's own command line (host paths, -e values) is not shown to the container.
    assert_eq!(lines.next(), Some("barge-init "), "{out}");
    let ps: Vec<&str> = lines.collect();
    assert!(
        ps.iter()
            .any(|l| l.trim_start().starts_with("1 ") && l.contains("barge-init")),
        "{out}"
    );
    assert!(!ps.iter().any(|l| l.contains(" Z ")), "zombie left: {out}");
    // PID 1 runs barge's binary but is non-dumpable: the container cannot reach the host
    // binary (or PID 1's memory and environment) through /proc/1.
    let out = sh_with(
        &b,
        &["--init", "-e", "SECRET=x"],
        "readlink /proc/1/exe || echo exe-denied; cat /proc/1/environ || echo environ-denied; \
         readlink /proc/1/fd/0 || echo fd-denied; ls /proc/1/fd | tr '\\n' ' '",
    );
    // (PID 1 holds stdio only: no host descriptor.)
    assert_eq!(out, "exe-denied\nenviron-denied\nfd-denied\n0 1 2 ");
    // Exit codes pass through.
    let (code, _, _) = run(&b, &["--init", "bb:1", "sh", "-c", "exit 5"]);
    assert_eq!(code, Some(5));
    let (code, _, _) = run(&b, &["--init", "bb:1", "nosuchcmd"]);
    assert_eq!(code, Some(127));
    // `sleep` as PID 1 would ignore SIGTERM; under --init it dies of it: 128+15.
    let start = Instant::now();
    let child = spawn_run(&b, &["--init", "bb:1", "sleep", "30"]);
    std::thread::sleep(Duration::from_millis(500));
    signal(&child, rustix::process::Signal::TERM);
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(143), "{o:?}");
    assert!(start.elapsed() < Duration::from_secs(10));
}

#[test]
fn sig_proxy_false_keeps_signals_from_the_container() {
    let Some(b) = bb_store() else { return };
    let script = "trap 'exit 3' USR1; echo ready; sleep 1; exit 0";
    let mut child = spawn_run(&b, &["bb:1", "sh", "-c", script]);
    wait_ready(&mut child);
    signal(&child, rustix::process::Signal::USR1);
    assert_eq!(child.wait_with_output().unwrap().status.code(), Some(3));

    let mut child = spawn_run(&b, &["--sig-proxy=false", "bb:1", "sh", "-c", script]);
    wait_ready(&mut child);
    signal(&child, rustix::process::Signal::USR1);
    assert_eq!(child.wait_with_output().unwrap().status.code(), Some(0));

    // TERM is not forwarded (the trap would exit 7) but still ends barge, and the
    // container with it.
    let start = Instant::now();
    let child = spawn_run(
        &b,
        &[
            "--sig-proxy=false",
            "bb:1",
            "sh",
            "-c",
            "trap 'exit 7' TERM; sleep 30",
        ],
    );
    std::thread::sleep(Duration::from_millis(400));
    signal(&child, rustix::process::Signal::TERM);
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(143), "{o:?}");
    assert!(start.elapsed() < Duration::from_secs(10));
}

/// A sleep duration no other test or checkout uses, so `ps` finds only this test's process.
fn unique_sleep() -> String {
    format!("60.{}", std::process::id())
}

/// `--root` relative to the working directory: the store's paths go into the container's
/// spec and into re-executed supervisors, which need them absolute.
#[test]
fn relative_root_works_in_the_foreground_and_detached() {
    let Some(b) = bb_store() else { return };
    let rel = |args: &[&str]| {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_barge"));
        c.current_dir(b.root().parent().unwrap())
            .args(["--root", "store"])
            .args(args)
            .env("BARGE_NO_SYNC", "1")
            .env("BARGE_CONFIG", b.root().with_file_name("config.toml"))
            .stdin(Stdio::null());
        let o = c.output().unwrap();
        assert!(
            o.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).trim().to_string()
    };
    assert_eq!(
        rel(&["run", "--rm", "--network", "none", "bb:1", "echo", "hi"]),
        "hi"
    );
    let id = rel(&["run", "-d", "--network", "none", "bb:1", "sleep", "30"]);
    assert!(rel(&["ps", "-q", "--no-trunc"]).contains(&id));
    rel(&["rm", "-f", &id]);
}
