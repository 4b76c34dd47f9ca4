//! Pull an image from a registry, run a command in it with its output captured, and
//! print what it wrote (each line marked with its stream) and its exit code.
//!
//! `cargo run --example pull_and_run -- busybox:latest echo hello` (as root;
//! `BARGE_ROOT=/tmp/store` for a store of its own; a registry on localhost is spoken to
//! over plain HTTP)

use barge::client::{Client, ContainerSpec, LayerProgress, PullEvent, PullOptions};

fn main() -> Result<(), barge::Error> {
    let mut args = std::env::args().skip(1);
    let Some(reference) = args.next() else {
        eprintln!("usage: pull_and_run IMAGE [CMD...]");
        std::process::exit(2);
    };
    let mut cmd: Vec<String> = args.collect();
    if cmd.is_empty() {
        cmd = vec!["uname".into(), "-a".into()];
    }
    let client = Client::open_default()?;

    // Progress arrives as events; this prints one line per layer when it is done.
    let pulled = client.pull(&reference, &PullOptions::new(), &|event| match event {
        PullEvent::Layers(layers) => eprintln!("{reference}: {} layer(s)", layers.len()),
        PullEvent::Layer {
            digest,
            progress: LayerProgress::Done { bytes },
        } => eprintln!("{}: pulled, {bytes} bytes", digest.short()),
        PullEvent::Layer {
            digest,
            progress: LayerProgress::Exists,
        } => eprintln!("{}: already here", digest.short()),
        _ => {}
    })?;
    eprintln!("{} is image {}", pulled.name, pulled.id.short());

    // In the foreground, its stdout and stderr collected (its stdin is empty); removed
    // when it has ended.
    let spec = ContainerSpec::new(&pulled.reference)
        .cmd(cmd)
        .remove(true)
        .capture_output();
    let outcome = client.run(&spec)?;
    for line in String::from_utf8_lossy(&outcome.stdout).lines() {
        println!("stdout: {line}");
    }
    for line in String::from_utf8_lossy(&outcome.stderr).lines() {
        println!("stderr: {line}");
    }
    println!("exit code {}", outcome.exit_code);
    std::process::exit(outcome.exit_code);
}
