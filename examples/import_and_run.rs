//! Import a saved image (e.g. from scripts/busybox-image.sh) and run a command in it.
//! `cargo run --example import_and_run -- /tmp/busybox.tar busybox:latest echo hello` (as root)

use barge::client::{Client, ContainerSpec};

fn main() -> Result<(), barge::Error> {
    let mut args = std::env::args().skip(1);
    let (Some(archive), Some(image)) = (args.next(), args.next()) else {
        eprintln!("usage: import_and_run ARCHIVE IMAGE [CMD...]");
        std::process::exit(2);
    };
    let cmd: Vec<String> = args.collect();
    let client = Client::open_default()?;
    let report = client.import_file(std::path::Path::new(&archive), &Default::default())?;
    eprintln!(
        "imported {} ({})",
        report.images[0].id.short(),
        report.format
    );
    let mut spec = ContainerSpec::new(image).remove(true);
    if !cmd.is_empty() {
        spec = spec.cmd(cmd);
    }
    let outcome = client.run(&spec)?;
    eprintln!("exit code {}", outcome.exit_code);
    std::process::exit(outcome.exit_code);
}
