//! The public library API, used as a newcomer would: import an archive, list images, run a
//! container in the foreground, create/start/wait/logs/remove one in the background.
//! A plain `main` (no test harness threads): the API forks, which needs one thread.

mod common;

use barge::client::{Client, ContainerSpec};
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

    let report = client.import_file(&archive, &Default::default()).unwrap();
    assert_eq!(report.images[0].tags, ["api/bb:1"]);
    let images = client.images().unwrap();
    assert_eq!(images.len(), 1);
    assert_eq!(images[0].names, ["api/bb:1"]);
    assert!(images[0].size > 1000);
    assert_eq!(
        client.inspect_image("api/bb:1").unwrap()["RepoTags"][0],
        "api/bb:1"
    );

    let out = client
        .run(
            &ContainerSpec::new("api/bb:1")
                .cmd(["sh", "-c", "exit 4"])
                .remove(true),
        )
        .unwrap();
    assert_eq!(out.exit_code, 4);
    let out = client
        .run(&ContainerSpec::new("api/bb:1").cmd(["nosuch"]).remove(true))
        .unwrap();
    assert_eq!(out.exit_code, 127);

    let id = client
        .create(
            &ContainerSpec::new("api/bb:1")
                .name("api-bg")
                .env("GREETING", "hello")
                .cmd(["sh", "-c", "echo $GREETING; exit 3"]),
        )
        .unwrap();
    client.start(&id).unwrap();
    assert_eq!(client.wait(&id).unwrap(), 3);
    let logs = client.logs(&id).unwrap();
    assert_eq!(logs, vec![("stdout".to_string(), "hello\n".to_string())]);
    assert_eq!(client.containers().unwrap()[0].state, "exited");
    client.remove(&id, false).unwrap();
    assert!(client.containers().unwrap().is_empty());
    assert!(matches!(
        client.inspect_image("nope:1"),
        Err(barge::Error::NoSuchImage(_))
    ));
    client.remove_image("api/bb:1", false).unwrap();
    assert!(client.images().unwrap().is_empty());
    println!("1 passed, 0 failed");
}
