//! Import a saved image (`docker save` output, an OCI archive or a root filesystem
//! tarball) and run a command in it, in the foreground.
//!
//! `cargo run --example import_and_run -- busybox.tar busybox:latest echo hello` (as root;
//! `BARGE_ROOT=/tmp/store` for a store of its own)

use barge::client::{Client, ContainerSpec, ImportOptions};

fn main() -> Result<(), barge::Error> {
    let mut args = std::env::args().skip(1);
    let (Some(archive), Some(image)) = (args.next(), args.next()) else {
        eprintln!("usage: import_and_run ARCHIVE IMAGE [CMD...]");
        std::process::exit(2);
    };
    let cmd: Vec<String> = args.collect();
    let client = Client::open_default()?;
    let imported = client.import(std::path::Path::new(&archive), &ImportOptions::new())?;
    for image in &imported.images {
        eprintln!(
            "imported {} {:?} ({})",
            image.id.short(),
            image.names,
            imported.format
        );
    }
    let mut spec = ContainerSpec::new(image).remove(true);
    if !cmd.is_empty() {
        spec = spec.cmd(cmd);
    }
    // The container writes to our stdout and stderr; its exit code becomes ours.
    let outcome = client.run(&spec)?;
    eprintln!("exit code {}", outcome.exit_code);
    std::process::exit(outcome.exit_code);
}
