//! Create a container, start it in the background, wait for it, read its logs, remove it.
//! `cargo run --example run_detached -- busybox:latest` (as root, with the barge binary
//! built: `cargo build`).

use barge::client::{Client, ContainerSpec};

fn main() -> Result<(), barge::Error> {
    let image = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "busybox:latest".into());
    let client = Client::open_default()?;
    let id = client.create(&ContainerSpec::new(image).cmd([
        "sh",
        "-c",
        "echo hello from $HOSTNAME; exit 3",
    ]))?;
    client.start(&id)?;
    let code = client.wait(&id)?;
    for (stream, text) in client.logs(&id)? {
        print!("{stream}: {text}");
    }
    println!("exit code {code}");
    client.remove(&id, false)
}
