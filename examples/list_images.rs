//! Open the store and print every image's names and size.
//! `cargo run --example list_images` (as root: /var/lib/barge; BARGE_ROOT to pick another).

fn main() -> Result<(), barge::Error> {
    let client = barge::client::Client::open_default()?;
    for image in client.images()? {
        let names = if image.names.is_empty() {
            "<none>".to_string()
        } else {
            image.names.join(", ")
        };
        println!("{names}\t{}\t{} bytes", image.id.short(), image.size);
    }
    Ok(())
}
