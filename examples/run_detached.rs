//! Create a container, start it in the background, wait for it, read its logs, remove it.
//!
//! `cargo run --example run_detached -- busybox:latest` (as root, with the barge binary
//! built: `cargo build`; it supervises the container)

use barge::client::{Client, ContainerSpec, LogOptions, LogStream};

fn main() -> Result<(), barge::Error> {
    let image = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "busybox:latest".into());
    let client = Client::open_default()?;
    let id = client.create(&ContainerSpec::new(image).cmd([
        "sh",
        "-c",
        "echo hello from $HOSTNAME; echo oops >&2; exit 3",
    ]))?;
    client.start(&id)?;
    let code = client.wait(&id)?;
    for line in client.logs(&id, &LogOptions::new())? {
        let line = line?;
        let stream = match line.stream {
            LogStream::Stdout => "stdout",
            LogStream::Stderr => "stderr",
        };
        print!("{stream}: {}", line.text);
    }
    println!("exit code {code}");
    client.remove(&id, false)
}
