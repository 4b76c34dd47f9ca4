//! The public library API, used as a newcomer would and through nothing else: import an
//! archive, list and tag images, run a container in the foreground, create/start one in
//! the background, exec into it (captured and not), read its logs, stop and remove it,
//! remove the image. A plain `main` (no test harness threads): the API forks, which needs
//! one thread.

mod common;

use std::time::{Duration, SystemTime};

use barge::client::{
    Client, ContainerFilter, ContainerSpec, ExecSpec, ImportOptions, LogOptions, LogStream, Removed,
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
    background(&client, started);
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
