//! Detached containers and their lifecycle through the real binary, as root: run -d,
//! the supervisor, ps, logs, stop/start/restart/kill/rm, restart policies, wait, rename.

mod common;

use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;

fn inspect(b: &Barge, name: &str) -> Value {
    let v: Value = serde_json::from_str(&b.ok(&["inspect", name])).unwrap();
    v[0].clone()
}

#[test]
fn run_detached_ps_logs_stop_start_rm() {
    let Some(b) = bb_store() else { return };
    let id = b.ok(&[
        "run",
        "-d",
        "--name",
        "web",
        "bb:1",
        "sh",
        "-c",
        "trap 'echo bye; exit 0' TERM; echo hello; echo oops >&2; while true; do sleep 0.1; done",
    ]);
    let id = id.trim();
    assert_eq!(id.len(), 64, "run -d prints the ID: {id}");
    let ps = b.ok(&["ps"]);
    assert!(
        ps.lines().next().unwrap().starts_with("CONTAINER ID"),
        "{ps}"
    );
    assert!(
        ps.contains(&id[..12]) && ps.contains("web") && ps.contains("Up "),
        "{ps}"
    );
    wait_until("logs", || b.ok(&["logs", "web"]).contains("hello"));
    let o = b.run(&["logs", "web"]);
    assert_eq!(String::from_utf8_lossy(&o.stdout), "hello\n");
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        "oops\n",
        "stderr lines go to stderr"
    );
    let ts = b.ok(&["logs", "-t", "--tail", "2", &id[..8]]);
    assert!(ts.contains("T") && ts.ends_with("hello\n"), "{ts}");
    let v = inspect(&b, "web");
    assert_eq!(v["State"]["Status"], "running");
    assert!(v["State"]["Pid"].as_i64().unwrap() > 0);
    // stop: TERM first, the trap answers.
    let t = Instant::now();
    b.ok(&["stop", "web"]);
    assert!(
        t.elapsed() < Duration::from_secs(5),
        "stopped by TERM, not the timeout"
    );
    let v = inspect(&b, "web");
    assert_eq!(v["State"]["Status"], "exited");
    assert_eq!(v["State"]["ExitCode"], 0);
    assert!(b.ok(&["logs", "web"]).contains("bye"));
    assert!(!b.ok(&["ps"]).contains("web"));
    let all = b.ok(&["ps", "-a", "--format", "{{.Names}} {{.Status}}"]);
    assert!(all.starts_with("web Exited (0)"), "{all}");
    // start again; rm of a running container needs -f.
    b.ok(&["start", "web"]);
    assert_eq!(inspect(&b, "web")["State"]["Status"], "running");
    b.fails(&["rm", "web"]);
    b.ok(&["rm", "-f", "web"]);
    assert!(b.ok(&["ps", "-a", "-q"]).is_empty());
    b.fails(&["inspect", "web"]);
    // Nothing left: no container dir, no supervisor.
    let dirs = std::fs::read_dir(b.root().join("containers"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(dirs, 0);
}

#[test]
fn exit_codes_wait_kill_and_stop_timeout() {
    let Some(b) = bb_store() else { return };
    b.ok(&[
        "run",
        "-d",
        "--name",
        "five",
        "bb:1",
        "sh",
        "-c",
        "sleep 0.3; exit 5",
    ]);
    assert_eq!(b.ok(&["wait", "five"]), "5\n");
    assert!(b.ok(&["ps", "-a"]).contains("Exited (5)"));
    // PID 1 without a TERM handler ignores TERM: stop kills it after -t.
    b.ok(&["run", "-d", "--name", "stubborn", "bb:1", "sleep", "60"]);
    let t = Instant::now();
    b.ok(&["stop", "-t", "1", "stubborn"]);
    assert!(t.elapsed() >= Duration::from_millis(900));
    assert_eq!(inspect(&b, "stubborn")["State"]["ExitCode"], 137);
    b.ok(&["start", "stubborn"]);
    b.ok(&["kill", "-s", "KILL", "stubborn"]);
    assert_eq!(b.ok(&["wait", "stubborn"]), "137\n");
    // A command that does not exist: run -d reports it as run does.
    let o = b.run(&["run", "-d", "--name", "nocmd", "bb:1", "nosuch"]);
    assert_eq!(
        o.status.code(),
        Some(127),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    b.ok(&["rename", "five", "cinq"]);
    assert_eq!(inspect(&b, "cinq")["Name"], "/cinq");
    b.ok(&["container", "prune", "-f"]);
    assert!(b.ok(&["ps", "-a", "-q"]).is_empty());
}

#[test]
fn restart_policy_on_failure() {
    let Some(b) = bb_store() else { return };
    b.ok(&[
        "run",
        "-d",
        "--name",
        "flaky",
        "--restart",
        "on-failure:2",
        "bb:1",
        "sh",
        "-c",
        "echo run; exit 1",
    ]);
    wait_until("two restarts", || {
        let v = inspect(&b, "flaky");
        v["RestartCount"] == 2 && v["State"]["Status"] == "exited"
    });
    std::thread::sleep(Duration::from_millis(800));
    let v = inspect(&b, "flaky");
    assert_eq!(v["RestartCount"], 2, "no third restart");
    assert_eq!(v["State"]["ExitCode"], 1);
    assert_eq!(b.ok(&["logs", "flaky"]).matches("run").count(), 3);
}

#[test]
fn supervisor_killed_then_ps_stop_rm_still_work() {
    let Some(b) = bb_store() else { return };
    b.ok(&[
        "run",
        "-d",
        "--name",
        "orphan",
        "bb:1",
        "sleep",
        &unique_sleep(),
    ]);
    let out = std::process::Command::new("sh")
        .args([
            "-c",
            "ps -eo pid,args | grep '[_]_supervise' | grep -v grep | awk '{print $1}'",
        ])
        .output()
        .unwrap();
    let pids: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    // Only kill our own store's supervisor.
    for pid in &pids {
        let cmd = std::fs::read_to_string(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        if cmd.contains(b.root().to_str().unwrap()) {
            std::process::Command::new("kill")
                .args(["-9", pid])
                .status()
                .unwrap();
        }
    }
    wait_until("the container reported exited", || {
        b.ok(&["ps", "-a"]).contains("Exited")
    });
    let ps = b.ok(&["ps"]);
    assert!(!ps.contains("orphan"), "not shown as running: {ps}");
    b.ok(&["stop", "orphan"]);
    b.ok(&["rm", "orphan"]);
    let left = std::process::Command::new("sh")
        .args([
            "-c",
            &format!("ps -eo args | grep -c '[s]leep {}'", unique_sleep()),
        ])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&left.stdout).trim(),
        "0",
        "the container died with its supervisor"
    );
}

#[test]
fn log_rotation_and_follow() {
    let Some(b) = bb_store() else { return };
    b.ok(&[
        "run",
        "-d",
        "--name",
        "chatty",
        "--log-opt",
        "max-size=2k",
        "--log-opt",
        "max-file=2",
        "bb:1",
        "sh",
        "-c",
        "i=0; while [ $i -lt 200 ]; do echo line $i; i=$((i+1)); done",
    ]);
    b.ok(&["wait", "chatty"]);
    let id = b.ok(&["inspect", "-f", "{{.Id}}", "chatty"]);
    let dir = b.root().join("containers").join(id.trim());
    let log = dir.join(format!("{}-json.log", id.trim()));
    let size = std::fs::metadata(&log).unwrap().len();
    assert!(size <= 2048, "rotated: {size}");
    assert!(dir.join(format!("{}-json.log.1", id.trim())).exists());
    assert!(
        !dir.join(format!("{}-json.log.2", id.trim())).exists(),
        "max-file=2 keeps two files"
    );
    let logs = b.ok(&["logs", "chatty"]);
    assert!(logs.ends_with("line 199\n"), "{logs}");
    // -f returns when the container ends, with everything it printed.
    b.ok(&[
        "run",
        "-d",
        "--name",
        "short",
        "bb:1",
        "sh",
        "-c",
        "sleep 0.5; echo done",
    ]);
    let t = Instant::now();
    let out = b.ok(&["logs", "-f", "short"]);
    assert_eq!(out, "done\n");
    assert!(t.elapsed() < Duration::from_secs(10));
    // json lines are Docker's shape.
    let line = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .last()
        .unwrap()
        .to_string();
    let v: Value = serde_json::from_str(&line).unwrap();
    assert!(v["log"].is_string() && v["stream"] == "stdout" && v["time"].is_string());
}

#[test]
fn create_then_start_and_many_at_once() {
    let Some(b) = bb_store() else { return };
    let id = b.ok(&["create", "--name", "later", "bb:1", "sleep", "30"]);
    assert_eq!(
        b.ok(&["ps", "-a", "--format", "{{.Status}}"]).trim(),
        "Created"
    );
    b.ok(&["start", id.trim()]);
    assert_eq!(inspect(&b, "later")["State"]["Status"], "running");
    // 50 detached containers started at once all run and list.
    let children: Vec<_> = (0..50)
        .map(|i| {
            b.cmd()
                .args([
                    "run",
                    "-d",
                    "--name",
                    &format!("par{i}"),
                    "bb:1",
                    "sleep",
                    "30",
                ])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        let o = c.wait_with_output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let running = b.ok(&["ps", "-q"]);
    assert_eq!(running.lines().count(), 51, "{running}");
    let ids: Vec<String> = running.lines().map(str::to_string).collect();
    let mut args = vec!["rm", "-f"];
    args.extend(ids.iter().map(String::as_str));
    b.ok(&args);
    assert!(b.ok(&["ps", "-a", "-q"]).is_empty());
}

#[test]
fn exec_runs_in_the_container_with_exit_codes() {
    let Some(b) = bb_store() else { return };
    b.ok(&["run", "-d", "--name", "box", "bb:1", "sleep", "60"]);
    let o = b.run(&["exec", "box", "ps", "-o", "pid,args"]);
    let ps = String::from_utf8_lossy(&o.stdout);
    assert!(
        ps.contains("1 sleep 60"),
        "exec joins the pid namespace: {ps}"
    );
    assert!(
        o.stderr.is_empty(),
        "no extra output: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(b.run(&["exec", "box", "true"]).status.code(), Some(0));
    assert_eq!(
        b.run(&["exec", "box", "sh", "-c", "exit 5"]).status.code(),
        Some(5)
    );
    let o = b.run(&["exec", "box", "nosuch"]);
    assert_eq!(o.status.code(), Some(127));
    assert!(String::from_utf8_lossy(&o.stderr).contains("not found"));
    assert_eq!(
        b.run(&["exec", "box", "/etc/passwd"]).status.code(),
        Some(126)
    );
    assert_eq!(
        b.ok(&[
            "exec",
            "-u",
            "daemon",
            "-w",
            "/tmp",
            "-e",
            "X=7",
            "box",
            "sh",
            "-c",
            "id -u; pwd; echo $X"
        ]),
        "1\n/tmp\n7\n"
    );
    let status = b.ok(&["exec", "box", "cat", "/proc/self/status"]);
    assert!(
        status.contains("CapEff:\t00000000a80425fb") && status.contains("Seccomp:\t2"),
        "{status}"
    );
    b.ok(&["stop", "-t", "0", "box"]);
    let o = b.run(&["exec", "box", "true"]);
    assert_eq!(
        o.status.code(),
        Some(125),
        "exec into a stopped container fails"
    );
}

#[test]
fn cp_and_export_stay_inside_the_container() {
    let Some(b) = bb_store() else { return };
    let canary = b.dir.path().join("canary");
    std::fs::create_dir(&canary).unwrap();
    let canary_s = canary.display().to_string();
    let script = format!(
        "mkdir -p /data {canary_s}; echo inside > /data/x; ln -s {canary_s} /data/out; ln -s ../../../../.. /data/up; sleep 60"
    );
    b.ok(&["run", "-d", "--name", "cpx", "bb:1", "sh", "-c", &script]);
    std::thread::sleep(Duration::from_millis(300));
    // Out of a running container.
    let dest = b.dir.path().join("got");
    b.ok(&["cp", "cpx:/data", dest.to_str().unwrap()]);
    assert_eq!(std::fs::read_to_string(dest.join("x")).unwrap(), "inside\n");
    assert!(
        std::fs::symlink_metadata(dest.join("out"))
            .unwrap()
            .file_type()
            .is_symlink(),
        "symlinks stay links"
    );
    // In, through symlinks that point outside: everything lands inside the container.
    let src = b.dir.path().join("payload");
    std::fs::write(&src, b"payload").unwrap();
    b.ok(&["cp", src.to_str().unwrap(), "cpx:/data/out/"]);
    b.ok(&["cp", src.to_str().unwrap(), "cpx:/data/up/tmp/"]);
    b.fails(&["cp", src.to_str().unwrap(), "cpx:/nonexistent/dir/"]);
    assert_eq!(
        std::fs::read_dir(&canary).unwrap().count(),
        0,
        "nothing written outside"
    );
    assert_eq!(
        b.ok(&["exec", "cpx", "cat", &format!("{canary_s}/payload")]),
        "payload"
    );
    assert_eq!(b.ok(&["exec", "cpx", "cat", "/tmp/payload"]), "payload");
    // A stopped container too.
    b.ok(&["stop", "-t", "0", "cpx"]);
    let x2 = b.dir.path().join("x2");
    b.ok(&["cp", "cpx:/data/x", x2.to_str().unwrap()]);
    assert_eq!(std::fs::read_to_string(&x2).unwrap(), "inside\n");
    b.ok(&["cp", src.to_str().unwrap(), "cpx:/root/p"]);
    let o = b.cmd().args(["export", "cpx"]).output().unwrap();
    assert!(o.status.success());
    let names: Vec<String> = tar::Archive::new(o.stdout.as_slice())
        .entries()
        .unwrap()
        .map(|e| e.unwrap().path().unwrap().display().to_string())
        .collect();
    assert!(names.iter().any(|n| n == "bin/busybox"), "{names:?}");
    assert!(
        names.iter().any(|n| n == "root/p"),
        "copied-in file is exported"
    );
    assert!(names.iter().any(|n| n == "data/x"));
    let mnt = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    // The container's network namespace (an nsfs bind mount) lives as long as it does.
    assert!(
        !mnt.lines()
            .any(|l| l.contains(b.root().to_str().unwrap()) && !l.contains(" nsfs ")),
        "no mount left on the host"
    );
}

#[test]
fn pause_unpause_and_stats() {
    let Some(b) = bb_store() else { return };
    b.ok(&[
        "run",
        "-d",
        "--name",
        "spin",
        "-m",
        "64m",
        "bb:1",
        "sh",
        "-c",
        "while true; do :; done",
    ]);
    std::thread::sleep(Duration::from_millis(300));
    let s = b.ok(&[
        "stats",
        "--no-stream",
        "--format",
        "{{.Name}} {{.MemUsage}} {{.PIDs}}",
    ]);
    assert!(
        s.starts_with("spin ") && s.contains("/ 64MiB") && s.trim().ends_with(" 1"),
        "{s}"
    );
    b.ok(&["pause", "spin"]);
    assert_eq!(b.ok(&["ps", "--format", "{{.State}}"]).trim(), "paused");
    let cpu = b.ok(&["stats", "--no-stream", "--format", "{{.CPUPerc}}"]);
    assert_eq!(cpu.trim(), "0.00%", "a frozen container uses no CPU");
    b.fails(&["pause", "spin"]);
    b.ok(&["unpause", "spin"]);
    assert_eq!(b.ok(&["ps", "--format", "{{.State}}"]).trim(), "running");
    b.ok(&["rm", "-f", "spin"]);
}

#[test]
fn attach_streams_output_and_returns_the_exit_code() {
    let Some(b) = bb_store() else { return };
    b.ok(&[
        "run",
        "-d",
        "--name",
        "talk",
        "bb:1",
        "sh",
        "-c",
        "sleep 0.7; echo out; echo err >&2; exit 6",
    ]);
    let o = b.run(&["attach", "talk"]);
    assert_eq!(o.status.code(), Some(6));
    assert_eq!(String::from_utf8_lossy(&o.stdout), "out\n");
    assert_eq!(String::from_utf8_lossy(&o.stderr), "err\n");
    b.fails(&["attach", "talk"]);
}

/// A sleep duration no other test or checkout uses, so `ps` finds only this test's process.
fn unique_sleep() -> String {
    format!("60.{}", std::process::id())
}

#[test]
fn start_interactive_feeds_stdin() {
    use std::io::Write as _;
    let Some(b) = bb_store() else { return };
    let id = b.ok(&[
        "create",
        "-i",
        "bb:1",
        "sh",
        "-c",
        "read x; echo \"read $x\"; exit 2",
    ]);
    let mut child = b
        .cmd()
        .args(["start", "-i", id.trim()])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"hello\n").unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(String::from_utf8_lossy(&o.stdout), "read hello\n");
}

/// `attach` to a container with a terminal: its size is ours, and follows a resize.
#[test]
fn attach_passes_the_terminal_size_and_its_changes() {
    use std::io::{Read, Write};
    let Some(b) = bb_store() else { return };
    let id = b.ok(&["run", "-dit", "bb:1", "sh"]).trim().to_string();
    let mut cmd = b.cmd();
    cmd.args(["attach", &id]);
    let (mut child, mut master) = spawn_in_pty(&mut cmd);
    let set_size = |master: &std::fs::File, rows: u16, cols: u16| {
        let ws = rustix::termios::Winsize {
            ws_row: rows,
            ws_col: cols,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        rustix::termios::tcsetwinsize(master, ws).unwrap();
    };
    set_size(&master, 31, 101);
    let mut seen = Vec::new();
    let mut expect = |master: &mut std::fs::File, input: &[u8], want: &str| {
        let deadline = Instant::now() + Duration::from_secs(10);
        // Asked again until it shows: the first keys may arrive before attach has
        // connected, and a resize takes a round trip.
        master.write_all(input).unwrap();
        loop {
            std::thread::sleep(Duration::from_millis(200));
            let mut buf = [0u8; 4096];
            while let Ok(n) = master.read(&mut buf) {
                if n == 0 {
                    break;
                }
                seen.extend_from_slice(&buf[..n]);
            }
            if String::from_utf8_lossy(&seen).contains(want) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "waiting for {want:?}: {}",
                String::from_utf8_lossy(&seen)
            );
            master.write_all(input).unwrap();
        }
    };
    expect(&mut master, b"stty size\n", "31 101");
    set_size(&master, 42, 123);
    expect(&mut master, b"stty size\n", "42 123");
    // ctrl-p ctrl-q detaches and leaves the container running.
    master.write_all(&[0x10, 0x11]).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "attach did not detach");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(b.ok(&["ps", "-q", "--no-trunc"]).contains(&id));
    b.ok(&["rm", "-f", &id]);
}

/// `--label` and `--label-file` (Docker's forms) set the container's labels, which
/// `inspect` shows and `ps --filter label=` selects by; a label without a key is refused.
#[test]
fn labels_from_flags_and_files_select_containers() {
    let Some(b) = bb_store() else { return };
    let file = b.root().join("labels.txt");
    std::fs::write(&file, "team=web\n# a comment\ntier\n").unwrap();
    let file = file.to_str().unwrap();
    let id = b.ok(&[
        "create",
        "--name",
        "labelled",
        "-l",
        "a=b",
        "--label",
        "c",
        "--label-file",
        file,
        "--label",
        "team=db",
        "bb:1",
        "true",
    ]);
    b.ok(&["create", "--name", "plain", "bb:1", "true"]);
    let v = inspect(&b, "labelled");
    assert_eq!(
        v["Config"]["Labels"],
        serde_json::json!({"a": "b", "c": "", "team": "db", "tier": ""}),
        "a flag replaces the file's value of the same key"
    );
    let by = |f: &str| b.ok(&["ps", "-a", "--filter", f, "--format", "{{.Names}}"]);
    assert_eq!(by("label=team=db").trim(), "labelled");
    assert_eq!(by("label=tier").trim(), "labelled");
    assert_eq!(by("label=team=web").trim(), "");
    assert!(id.trim().len() == 64);
    let o = b.run(&["create", "-l", "=x", "bb:1", "true"]);
    assert_eq!(o.status.code(), Some(125));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("invalid label"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}
