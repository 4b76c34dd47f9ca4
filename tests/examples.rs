//! The programs in examples/ run as a newcomer would run them: pull_and_run against a local
//! registry (Debian's docker-registry) holding an image built here, import_and_run on a
//! saved archive, list_images on the store they filled, run_detached in the background.
//! `cargo test` builds the examples; run alone (`cargo test --test examples`), this test
//! builds them first.

mod common;

use std::path::PathBuf;
use std::process::{Command, Output};

use common::registry::{Registry, push_img};
use common::*;

/// target/debug/examples/NAME, up to date: `cargo test --test examples` alone does not
/// build the examples, and a stale one would test old code (cheap when they are current).
fn example(name: &str) -> PathBuf {
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_barge"));
    let path = bin.parent().unwrap().join("examples").join(name);
    static BUILT: std::sync::Once = std::sync::Once::new();
    BUILT.call_once(|| {
        let status = Command::new(env!("CARGO"))
            .args(["build", "--quiet", "--examples"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .expect("cargo runs");
        assert!(status.success(), "cargo build --examples failed");
    });
    path
}

struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Env {
        Env {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// An example, with a store of its own and nothing of the machine's configuration.
    fn run(&self, name: &str, args: &[&str]) -> Output {
        let p = self.dir.path();
        let out = Command::new(example(name))
            .args(args)
            .env("BARGE_ROOT", p.join("store"))
            .env("BARGE_NO_SYNC", "1")
            .env("BARGE_CONFIG", p.join("config.toml"))
            .env("BARGE_REGISTRIES_CONF", p.join("registries.toml"))
            .env("DOCKER_CONFIG", p.join("docker"))
            .env("BARGE_PULL_RETRIES", "0")
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        eprintln!(
            "{name} {args:?}: {}\n--- stdout\n{}--- stderr\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        // A failed assertion must not leave containers (and their bridge namespaces).
        let _ = Command::new(env!("CARGO_BIN_EXE_barge"))
            .arg("--root")
            .arg(self.dir.path().join("store"))
            .args(["container", "prune", "-f"])
            .env("BARGE_CONFIG", self.dir.path().join("config.toml"))
            .output();
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn examples_pull_import_run_and_list() {
    if !is_root() {
        eprintln!("skipped: needs root");
        return;
    }
    let reg = Registry::start(None);
    let img = Img::new("ex/bb:1", vec![busybox_layer()]).compressed(gzip);
    push_img(reg.port, "ex/bb", "1", &img);
    let env = Env::new();

    // pull_and_run: progress on stderr; the container's output, captured by the program
    // (each line marked with its stream), and the exit code on stdout; the container's
    // exit code as its own.
    let reference = format!("{}/ex/bb:1", reg.host());
    let out = env.run(
        "pull_and_run",
        &[
            &reference,
            "sh",
            "-c",
            "echo hello from the registry; echo oops >&2; exit 3",
        ],
    );
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(
        text(&out.stdout),
        "stdout: hello from the registry\nstderr: oops\nexit code 3\n"
    );
    let err = text(&out.stderr);
    assert!(err.contains("1 layer(s)"), "{err}");
    assert!(err.contains(": pulled, "), "{err}");
    // Pulled again: nothing to fetch.
    let out = env.run("pull_and_run", &[&reference, "true"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stderr).contains("already here"));

    // import_and_run on a saved archive.
    let archive = env.dir.path().join("saved.tar");
    std::fs::write(
        &archive,
        docker_archive(&[Img::new(
            "ex/saved:2",
            vec![busybox_layer(), layer(&[E::File("saved", b"yes")])],
        )]),
    )
    .unwrap();
    let out = env.run(
        "import_and_run",
        &[
            archive.to_str().unwrap(),
            "ex/saved:2",
            "sh",
            "-c",
            "cat /saved; echo; exit 5",
        ],
    );
    assert_eq!(out.status.code(), Some(5));
    assert_eq!(text(&out.stdout), "yes\n");
    assert!(text(&out.stderr).contains("docker save archive"));

    // list_images: both images, by name, with sizes.
    let out = env.run("list_images", &[]);
    assert!(out.status.success());
    let listed = text(&out.stdout);
    assert!(listed.contains(&format!("{reference}\t")), "{listed}");
    assert!(listed.contains("ex/saved:2\t"), "{listed}");
    assert_eq!(listed.lines().count(), 2);

    // run_detached finds the barge binary beside target/debug/examples/ to supervise.
    let out = env.run("run_detached", &["ex/saved:2"]);
    assert!(out.status.success());
    let listed = text(&out.stdout);
    assert!(listed.starts_with("stdout: hello from "), "{listed}");
    assert!(listed.contains("\nstderr: oops\n"), "{listed}");
    assert!(listed.ends_with("exit code 3\n"), "{listed}");

    // Every container went: --rm, and run_detached's remove.
    let ps = Command::new(env!("CARGO_BIN_EXE_barge"))
        .arg("--root")
        .arg(env.dir.path().join("store"))
        .args(["ps", "-a", "-q"])
        .env("BARGE_CONFIG", env.dir.path().join("config.toml"))
        .output()
        .unwrap();
    assert_eq!(text(&ps.stdout), "");
}
