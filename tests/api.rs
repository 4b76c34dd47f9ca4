//! The public library API, used as a newcomer would and through nothing else: import an
//! archive, list and tag images, run a container in the foreground (its output captured
//! too), create/start one in the background, exec into it (captured and not), read its
//! logs, stop and remove it; the builder's options; kill, pause, top, stats, cp both
//! ways, export, the container filter, history, save, prune; remove the image. A plain
//! `main` (no test harness threads): the API forks, which needs one thread.

mod common;

use std::time::{Duration, SystemTime};

use barge::client::{
    Client, ContainerFilter, ContainerSpec, ExecSpec, ImportOptions, LogOptions, LogStream,
    Removed, RestartPolicy, SystemPruneOptions,
};
use common::*;

fn main() {
    if !is_root() {
        eprintln!("api: skipped (needs root)");
        println!("0 passed, 0 failed, 1 skipped");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("bb.tar");
    std::fs::write(
        &archive,
        docker_archive(&[Img::new("api/bb:1", vec![busybox_layer()])]),
    )
    .unwrap();
    // SAFETY of the environment: set before any thread exists; the supervisor must not
    // sync the disk in tests.
    unsafe { std::env::set_var("BARGE_NO_SYNC", "1") };
    let client = Client::open(dir.path().join("store"))
        .unwrap()
        .with_binary(env!("CARGO_BIN_EXE_barge"));
    let started = SystemTime::now();

    images(&client, &archive);
    foreground(&client);
    captured(&client);
    builder(&client);
    background(&client, started);
    operations(&client, dir.path());
    save_history_prune(&client, dir.path());
    errors(&client);

    assert_eq!(
        client.remove_image("api/bb:1", false).unwrap(),
        [Removed::Untagged("api/bb:1".into())]
    );
    let removed = client.remove_image("api/bb:2", false).unwrap();
    assert!(matches!(
        &removed[..],
        [Removed::Untagged(_), Removed::Deleted(_)]
    ));
    assert!(client.images().unwrap().is_empty());
    println!("1 passed, 0 failed");
}

fn images(client: &Client, archive: &std::path::Path) {
    let imported = client
        .import(archive, &ImportOptions::new().tag("api/extra:x"))
        .unwrap();
    assert_eq!(imported.images.len(), 1);
    assert_eq!(imported.images[0].names, ["api/bb:1", "api/extra:x"]);
    assert!(
        imported.format.contains("docker save"),
        "{}",
        imported.format
    );
    client.remove_image("api/extra:x", false).unwrap();

    let images = client.images().unwrap();
    assert_eq!(images.len(), 1);
    assert_eq!(images[0].names, ["api/bb:1"]);
    assert_eq!(images[0].id, imported.images[0].id);
    assert!(images[0].size > 1000);
    assert_eq!(
        client.inspect_image("api/bb:1").unwrap()["RepoTags"][0],
        "api/bb:1"
    );
    client.tag("api/bb:1", "api/bb:2").unwrap();
    assert_eq!(
        client.inspect_image("api/bb:2").unwrap()["Id"],
        imported.images[0].id.to_string()
    );
}

fn foreground(client: &Client) {
    let out = client
        .run(
            &ContainerSpec::new("api/bb:1")
                .cmd(["sh", "-c", "exit 4"])
                .no_network()
                .remove(true),
        )
        .unwrap();
    assert_eq!(out.exit_code, 4);
    assert!(!out.oom_killed);
    assert!(
        client
            .containers(&ContainerFilter::new())
            .unwrap()
            .is_empty(),
        "--rm left it"
    );

    // Kept: it is listed as exited with its code.
    let out = client
        .run(
            &ContainerSpec::new("api/bb:1")
                .name("api-fg")
                .cmd(["true"])
                .no_network(),
        )
        .unwrap();
    assert_eq!((out.exit_code, out.name.as_str()), (0, "api-fg"));
    let listed = client.containers(&ContainerFilter::new()).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id, out.id);
    assert_eq!(listed[0].state, "exited");
    assert_eq!(listed[0].exit_code, Some(0));
    client.remove("api-fg", false).unwrap();
}

fn background(client: &Client, started: SystemTime) {
    let id = client
        .create(
            &ContainerSpec::new("api/bb:1")
                .name("api-bg")
                .env("GREETING", "hello")
                .tmpfs("/scratch")
                .pids_limit(50)
                .cmd([
                    "sh",
                    "-c",
                    "echo $GREETING; echo warn >&2; touch /tmp/ready; exec sleep 600",
                ]),
        )
        .unwrap();
    assert_eq!(
        client.containers(&ContainerFilter::new()).unwrap()[0].state,
        "created"
    );
    client.start(&id).unwrap();
    assert_eq!(
        client.containers(&ContainerFilter::new()).unwrap()[0].state,
        "running"
    );
    // Starting a running container does nothing.
    client.start("api-bg").unwrap();

    // exec, output captured: stdout and stderr apart, the exit code, the user and
    // directory asked for, the container's environment plus ours.
    let out = client
        .exec(
            "api-bg",
            &ExecSpec::new([
                "sh",
                "-c",
                "echo $GREETING $EXTRA; pwd; id -u; echo e >&2; exit 7",
            ])
            .env("EXTRA", "there")
            .workdir("/scratch")
            .user("65534")
            .capture_output(),
        )
        .unwrap();
    assert_eq!(out.exit_code, 7);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "hello there\n/scratch\n65534\n"
    );
    assert_eq!(out.stderr, b"e\n");
    // More output than a pipe holds: read while it runs, not after.
    let out = client
        .exec(
            "api-bg",
            &ExecSpec::new(["sh", "-c", "yes | head -n 50000"]).capture_output(),
        )
        .unwrap();
    assert_eq!(out.exit_code, 0);
    assert_eq!(out.stdout.iter().filter(|&&b| b == b'\n').count(), 50000);
    // Not captured: the exit code alone.
    let out = client
        .exec(&id[..12], &ExecSpec::new(["test", "-e", "/tmp/ready"]))
        .unwrap();
    assert_eq!(out.exit_code, 0);
    assert!(out.stdout.is_empty());
    match client.exec("api-bg", &ExecSpec::new(["nosuch"]).capture_output()) {
        Err(e @ barge::Error::CommandNotFound { .. }) => assert_eq!(e.exit_code(), 127),
        other => panic!("exec of a missing program: {other:?}"),
    }

    // Logs: both streams, in order, with their times.
    let lines: Vec<_> = client
        .logs(&id, &LogOptions::new())
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let texts: Vec<_> = lines.iter().map(|l| (l.stream, l.text.as_str())).collect();
    assert_eq!(
        texts,
        [
            (LogStream::Stdout, "hello\n"),
            (LogStream::Stderr, "warn\n")
        ]
    );
    assert!(lines[0].time >= started - Duration::from_secs(1));
    assert!(lines[0].time <= SystemTime::now());
    let tail: Vec<_> = client
        .logs(&id, &LogOptions::new().tail(1))
        .unwrap()
        .map(|l| l.unwrap().text)
        .collect();
    assert_eq!(tail, ["warn\n"]);
    let later: Vec<_> = client
        .logs(
            &id,
            &LogOptions::new().since(SystemTime::now() + Duration::from_secs(60)),
        )
        .unwrap()
        .collect();
    assert!(later.is_empty());

    // A running container is only removed by force.
    match client.remove(&id, false) {
        Err(e @ barge::Error::Conflict(_)) => assert_eq!(e.exit_code(), 125),
        other => panic!("rm of a running container: {other:?}"),
    }
    client.stop(&id, Some(Duration::from_secs(1))).unwrap();
    // sleep is PID 1 there, which ignores SIGTERM: killed after the timeout, 128 + 9.
    assert_eq!(client.wait(&id).unwrap(), 137);
    assert_eq!(
        client.containers(&ContainerFilter::new()).unwrap()[0].state,
        "exited"
    );
    assert!(matches!(
        client.exec(&id, &ExecSpec::new(["true"])),
        Err(barge::Error::Conflict(_))
    ));

    // Following the logs of a container that runs, to its end.
    client.remove(&id, false).unwrap();
    let id = client
        .create(&ContainerSpec::new("api/bb:1").no_network().cmd([
            "sh",
            "-c",
            "for i in 1 2 3; do echo $i; sleep 0.1; done",
        ]))
        .unwrap();
    client.start(&id).unwrap();
    let followed: Vec<_> = client
        .logs(&id, &LogOptions::new().follow(true))
        .unwrap()
        .map(|l| l.unwrap().text)
        .collect();
    assert_eq!(followed, ["1\n", "2\n", "3\n"]);
    assert_eq!(client.wait(&id).unwrap(), 0);
    client.remove(&id, false).unwrap();
    assert!(
        client
            .containers(&ContainerFilter::new())
            .unwrap()
            .is_empty()
    );
}

fn errors(client: &Client) {
    match client.run(
        &ContainerSpec::new("api/bb:1")
            .cmd(["nosuch"])
            .no_network()
            .remove(true),
    ) {
        Err(e @ barge::Error::CommandNotFound { .. }) => assert_eq!(e.exit_code(), 127),
        other => panic!("run of a missing program: {other:?}"),
    }
    match client.run(
        &ContainerSpec::new("api/bb:1")
            .cmd(["/etc/passwd"])
            .no_network()
            .remove(true),
    ) {
        Err(e @ barge::Error::CommandNotExecutable { .. }) => assert_eq!(e.exit_code(), 126),
        other => panic!("run of a file that is no program: {other:?}"),
    }
    // A failed start is reported by the supervisor with the same kinds.
    let id = client
        .create(&ContainerSpec::new("api/bb:1").cmd(["nosuch"]).no_network())
        .unwrap();
    match client.start(&id) {
        Err(e @ barge::Error::CommandNotFound { .. }) => assert_eq!(e.exit_code(), 127),
        other => panic!("start of a missing program: {other:?}"),
    }
    client.remove(&id, false).unwrap();
    assert!(
        client
            .containers(&ContainerFilter::new())
            .unwrap()
            .is_empty()
    );
    match client.inspect_image("nope:1") {
        Err(e @ barge::Error::NoSuchImage(_)) => assert_eq!(e.exit_code(), 125),
        other => panic!("inspect of a missing image: {other:?}"),
    }
    assert!(matches!(
        client.wait("nope"),
        Err(barge::Error::NoSuchContainer(_))
    ));
}

fn captured(client: &Client) {
    // Both streams apart, more than a pipe holds on each at once: read while it runs.
    let out = client
        .run(
            &ContainerSpec::new("api/bb:1")
                .cmd([
                    "sh",
                    "-c",
                    "echo first; echo warn >&2; yes e | head -n 30000 >&2; yes | head -n 50000; exit 5",
                ])
                .no_network()
                .remove(true)
                .capture_output(),
        )
        .unwrap();
    assert_eq!(out.exit_code, 5);
    assert!(out.stdout.starts_with(b"first\ny\n"));
    assert_eq!(out.stdout.iter().filter(|&&b| b == b'\n').count(), 50001);
    assert!(out.stderr.starts_with(b"warn\ne\n"));
    assert_eq!(out.stderr.iter().filter(|&&b| b == b'\n').count(), 30001);
    // stdin is empty, not ours.
    let out = client
        .run(
            &ContainerSpec::new("api/bb:1")
                .cmd(["sh", "-c", "cat; echo end"])
                .no_network()
                .remove(true)
                .capture_output(),
        )
        .unwrap();
    assert_eq!((out.exit_code, &out.stdout[..]), (0, &b"end\n"[..]));
    // Not captured: nothing collected.
    let out = client
        .run(
            &ContainerSpec::new("api/bb:1")
                .cmd(["true"])
                .no_network()
                .remove(true),
        )
        .unwrap();
    assert!(out.stdout.is_empty() && out.stderr.is_empty());
}

fn builder(client: &Client) {
    let run = |spec: ContainerSpec| {
        let out = client
            .run(&spec.no_network().remove(true).capture_output())
            .unwrap();
        assert_eq!(out.exit_code, 0, "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    // Resource limits and capabilities as the process sees them.
    let text = run(ContainerSpec::new("api/bb:1")
        .ulimit("nofile", 1000, 2000)
        .cap_drop("ALL")
        .cap_add("NET_BIND_SERVICE")
        .cmd([
            "sh",
            "-c",
            "ulimit -n; ulimit -Hn; grep CapEff /proc/self/status",
        ]));
    assert_eq!(text, "1000\n2000\nCapEff:\t0000000000000400\n");
    // --init: the program is not PID 1.
    assert_eq!(
        run(ContainerSpec::new("api/bb:1")
            .init(true)
            .cmd(["sh", "-c", "echo $$"])),
        "2\n"
    );
    assert_eq!(
        run(ContainerSpec::new("api/bb:1").cmd(["sh", "-c", "echo $$"])),
        "1\n"
    );
    // A device by its path: there, a character device.
    assert_eq!(
        run(ContainerSpec::new("api/bb:1")
            .device("/dev/zero")
            .device_as("/dev/null", "/dev/other-null", "rw")
            .cmd([
                "sh",
                "-c",
                "head -c 3 /dev/zero | wc -c; echo x > /dev/other-null && echo written"
            ])),
        "3\nwritten\n"
    );

    // Labels, the restart policy and published ports are recorded.
    let id = client
        .create(
            &ContainerSpec::new("api/bb:1")
                .name("api-labelled")
                .label("team", "web")
                .label("tier", "front")
                .restart(RestartPolicy::OnFailure { max_retries: 2 })
                .publish(47813, 80)
                .publish_udp(47813, 53)
                .cmd(["true"]),
        )
        .unwrap();
    let doc = client.inspect_container(&id).unwrap();
    assert_eq!(doc["Config"]["Labels"]["team"], "web");
    assert_eq!(doc["HostConfig"]["RestartPolicy"]["Name"], "on-failure");
    assert_eq!(doc["HostConfig"]["RestartPolicy"]["MaximumRetryCount"], 2);
    let ports: Vec<String> = client
        .ports(&id)
        .unwrap()
        .iter()
        .map(|p| p.to_string())
        .collect();
    assert_eq!(ports, ["0.0.0.0:47813->80/tcp", "0.0.0.0:47813->53/udp"]);
    let found = client
        .containers(&ContainerFilter::new().label("team=web").label("tier"))
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(
        found[0].labels.get("tier").map(String::as_str),
        Some("front")
    );
    assert!(
        client
            .containers(&ContainerFilter::new().label("team=db"))
            .unwrap()
            .is_empty()
    );
    client.remove(&id, false).unwrap();

    // What the builder cannot check is checked when the container is made.
    let invalid = |spec: ContainerSpec, what: &str| match client.create(&spec) {
        Err(e @ barge::Error::InvalidArgument(_)) => {
            assert_eq!(e.exit_code(), 125);
            assert!(e.to_string().contains(what), "{e}");
        }
        other => panic!("{what}: {other:?}"),
    };
    let bb = || ContainerSpec::new("api/bb:1");
    invalid(bb().network("nope-net"), "nope-net");
    invalid(bb().no_network().publish(8080, 80), "bridge");
    invalid(bb().device_as("/dev/null", "/dev/n", "rwx"), "permissions");
    invalid(bb().ulimit("nofile", 10, 5), "soft limit");
    invalid(bb().restart(RestartPolicy::Always).remove(true), "restart");
    invalid(bb().tty(true).capture_output(), "terminal");
    invalid(bb().no_network().ulimit("nosuch", 1, 1), "nosuch");
    assert!(
        client
            .containers(&ContainerFilter::new())
            .unwrap()
            .is_empty()
    );
}

/// Names of the entries of a tar archive.
fn tar_names(tar: &[u8]) -> Vec<String> {
    tar::Archive::new(tar)
        .entries()
        .unwrap()
        .map(|e| e.unwrap().path().unwrap().display().to_string())
        .collect()
}

fn operations(client: &Client, dir: &std::path::Path) {
    let id = client
        .create(
            &ContainerSpec::new("api/bb:1")
                .name("api-ops")
                .no_network()
                .cmd(["sh", "-c", "echo inside > /tmp/in.txt; exec sleep 600"]),
        )
        .unwrap();
    client.start(&id).unwrap();
    for _ in 0..100 {
        let out = client
            .exec(&id, &ExecSpec::new(["test", "-e", "/tmp/in.txt"]))
            .unwrap();
        if out.exit_code == 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }

    // The filter: by name part, ID prefix, image, state, newest.
    let ids = |f: ContainerFilter| -> Vec<String> {
        client
            .containers(&f)
            .unwrap()
            .into_iter()
            .map(|c| c.id)
            .collect()
    };
    let one = vec![id.clone()];
    assert_eq!(ids(ContainerFilter::new().name("pi-op")), one);
    assert_eq!(ids(ContainerFilter::new().id(&id[..6])), one);
    assert_eq!(ids(ContainerFilter::new().ancestor("api/bb:1")), one);
    assert_eq!(ids(ContainerFilter::new().running()), one);
    assert_eq!(ids(ContainerFilter::new().status("running").last(1)), one);
    assert!(ids(ContainerFilter::new().status("exited")).is_empty());
    assert!(ids(ContainerFilter::new().name("api-ops").ancestor("other:1")).is_empty());
    let c = client.container("api-ops").unwrap();
    assert_eq!(
        (c.state.as_str(), c.command.contains("sleep")),
        ("running", true)
    );
    assert!(c.status.starts_with("Up "), "{}", c.status);

    // top: the container's processes, and only those.
    let procs = client.top(&id).unwrap();
    assert_eq!(procs.len(), 1, "{procs:?}");
    assert_eq!(procs[0].command, "sleep 600");
    assert_eq!(procs[0].uid, 0);
    // stats: a sample from its cgroup.
    let st = client.stats("api-ops").unwrap();
    assert_eq!(
        (st.id.as_str(), st.name.as_str(), st.pids),
        (id.as_str(), "api-ops", 1)
    );
    assert!(
        st.memory_usage > 0 && st.memory_limit >= st.memory_usage,
        "{st:?}"
    );
    let later = client.stats(&id).unwrap();
    assert!(later.cpu_nanos >= st.cpu_nanos && later.time > st.time);

    // pause: frozen, listed as paused; twice is a conflict; unpause thaws.
    client.pause(&id).unwrap();
    assert_eq!(client.container(&id).unwrap().state, "paused");
    assert!(client.container(&id).unwrap().status.ends_with("(Paused)"));
    assert_eq!(ids(ContainerFilter::new().status("paused")), one);
    assert!(ids(ContainerFilter::new().status("running")).is_empty());
    assert!(matches!(client.pause(&id), Err(barge::Error::Conflict(_))));
    client.unpause(&id).unwrap();
    assert_eq!(client.container(&id).unwrap().state, "running");
    assert!(matches!(
        client.unpause(&id),
        Err(barge::Error::Conflict(_))
    ));

    // cp both ways while it runs.
    let host = dir.join("hello.txt");
    std::fs::write(&host, "from the host\n").unwrap();
    client.copy_to(&id, &host, "/tmp/").unwrap();
    let out = client
        .exec(
            &id,
            &ExecSpec::new(["cat", "/tmp/hello.txt"]).capture_output(),
        )
        .unwrap();
    assert_eq!(out.stdout, b"from the host\n");
    client
        .copy_from(&id, "/tmp/in.txt", &dir.join("out.txt"))
        .unwrap();
    assert_eq!(
        std::fs::read_to_string(dir.join("out.txt")).unwrap(),
        "inside\n"
    );
    let mut tar = Vec::new();
    client.copy_from_tar(&id, "/tmp/in.txt", &mut tar).unwrap();
    assert_eq!(tar_names(&tar), ["in.txt"]);
    assert!(matches!(
        client.copy_to(&id, &dir.join("nope"), "/tmp/"),
        Err(barge::Error::InvalidArgument(_))
    ));
    let mut running_tar = Vec::new();
    client.export(&id, &mut running_tar).unwrap();
    assert!(tar_names(&running_tar).iter().any(|n| n == "bin/busybox"));

    // kill: the signal asked for; then it is not running.
    assert!(matches!(
        client.kill(&id, "NOSUCH"),
        Err(barge::Error::InvalidArgument(_))
    ));
    client.kill(&id, "KILL").unwrap();
    assert_eq!(client.wait(&id).unwrap(), 137);
    assert!(matches!(
        client.kill(&id, "TERM"),
        Err(barge::Error::Conflict(_))
    ));
    assert!(matches!(client.top(&id), Err(barge::Error::Conflict(_))));
    assert!(matches!(client.pause(&id), Err(barge::Error::Conflict(_))));
    let st = client.stats(&id).unwrap();
    assert_eq!((st.memory_usage, st.pids), (0, 0));

    // A stopped container's files: its overlay is mounted in a forked child, whose
    // output must still reach a buffer of this process.
    let mut tar = Vec::new();
    client.export(&id, &mut tar).unwrap();
    let names = tar_names(&tar);
    assert!(names.iter().any(|n| n == "bin/busybox"), "{names:?}");
    assert!(names.iter().any(|n| n == "tmp/hello.txt"), "{names:?}");
    std::fs::remove_file(dir.join("out.txt")).unwrap();
    client
        .copy_from(&id, "/tmp/in.txt", &dir.join("out.txt"))
        .unwrap();
    assert_eq!(
        std::fs::read_to_string(dir.join("out.txt")).unwrap(),
        "inside\n"
    );
    let mut tar = Vec::new();
    client
        .copy_from_tar(&id, "/tmp/hello.txt", &mut tar)
        .unwrap();
    assert_eq!(tar_names(&tar), ["hello.txt"]);
    client.copy_to(&id, &host, "/tmp/again.txt").unwrap();
    let mut tar = Vec::new();
    client
        .copy_from_tar(&id, "/tmp/again.txt", &mut tar)
        .unwrap();
    assert_eq!(tar_names(&tar), ["again.txt"]);

    // prune: the stopped container goes, a running one stays.
    let keep = client
        .create(
            &ContainerSpec::new("api/bb:1")
                .no_network()
                .cmd(["sleep", "600"]),
        )
        .unwrap();
    client.start(&keep).unwrap();
    let pruned = client.prune_containers().unwrap();
    assert_eq!(pruned.containers, one);
    assert!(pruned.reclaimed > 0, "{pruned:?}");
    assert_eq!(ids(ContainerFilter::new()), std::slice::from_ref(&keep));
    client.remove(&keep, true).unwrap();
}

fn save_history_prune(client: &Client, dir: &std::path::Path) {
    let history = client.history("api/bb:1").unwrap();
    assert!(!history.is_empty());
    let id = client.images().unwrap()[0].id.clone();
    assert_eq!(history[0].id.as_ref(), Some(&id));
    assert!(history[1..].iter().all(|h| h.id.is_none()));
    assert!(history.iter().map(|h| h.size).sum::<u64>() > 1000);

    // save, then import into another store: the same image under the same name.
    let mut saved = Vec::new();
    client.save(&["api/bb:1"], &mut saved).unwrap();
    let path = dir.join("saved.tar");
    std::fs::write(&path, &saved).unwrap();
    let other = Client::open(dir.join("other-store")).unwrap();
    let imported = other.import(&path, &ImportOptions::new()).unwrap();
    assert_eq!(imported.images[0].id, id);
    assert_eq!(imported.images[0].names, ["api/bb:1"]);
    // By ID: no name.
    let mut by_id = Vec::new();
    client.save(&[id.as_str()], &mut by_id).unwrap();
    assert!(matches!(
        client.save(&["nope:1"], &mut Vec::new()),
        Err(barge::Error::NoSuchImage(_))
    ));

    // prune: tagged images stay unless all unused ones are asked for.
    assert!(other.prune_images(false).unwrap().images.is_empty());
    let pruned = other.prune_images(true).unwrap();
    assert_eq!(
        pruned.images,
        [Removed::Untagged("api/bb:1".into()), Removed::Deleted(id)]
    );
    assert!(pruned.reclaimed > 1000, "{pruned:?}");
    assert!(other.images().unwrap().is_empty());

    // system prune: stopped containers, and the images with all_images.
    other.import(&path, &ImportOptions::new()).unwrap();
    other
        .run(
            &ContainerSpec::new("api/bb:1")
                .name("left")
                .no_network()
                .cmd(["true"]),
        )
        .unwrap();
    let pruned = other
        .prune_system(&SystemPruneOptions::new().all_images(true).volumes(true))
        .unwrap();
    assert_eq!(pruned.containers.len(), 1);
    assert_eq!(pruned.images.len(), 2);
    assert!(
        other
            .containers(&ContainerFilter::new())
            .unwrap()
            .is_empty()
    );
    assert!(other.images().unwrap().is_empty());
}
