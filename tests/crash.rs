//! Crash safety and concurrency of the store: kill -9 at many instants of an import, then
//! the store reads without error and the same import completes; imports running at once.

mod common;

use std::process::Stdio;
use std::time::Duration;

use common::*;

fn big_image(tag: &str, seed: u32) -> Img {
    // Several layers with enough data that an import takes a while.
    let mut layers = vec![busybox_layer()];
    for i in 0..4u32 {
        let data: Vec<u8> = (0..3_000_000u32)
            .map(|x| {
                (x.wrapping_add(seed)
                    .wrapping_mul(2654435761)
                    .wrapping_add(i)
                    >> 11) as u8
            })
            .collect();
        let mut entries = vec![E::Dir("data")];
        for j in 0..40 {
            entries.push(E::FileOwned(
                format!("data/small-{i}-{j}"),
                vec![j as u8; 1000],
            ));
        }
        entries.push(E::FileOwned(format!("data/blob{i}"), data));
        layers.push(layer(&entries));
    }
    Img::new(tag, layers).compressed(gzip)
}

#[test]
fn kill_9_at_any_instant_then_reimport() {
    let b = Barge::new();
    let img = big_image("crash:1", 1);
    let f = b.file("big.tar", &docker_archive(std::slice::from_ref(&img)));
    for delay_ms in [1u64, 10, 30, 60, 100, 150, 220, 300, 450] {
        let mut child = b
            .cmd()
            .env_remove("BARGE_NO_SYNC")
            .args(["import", &f])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        let _ = child.kill();
        let _ = child.wait();
        // The next command reads the store without error and shows nothing half-imported:
        // either no image, or the whole one.
        let ids = b.ok(&["images", "-q", "--no-trunc"]);
        assert!(
            ids.is_empty() || ids.trim() == img.id(),
            "after {delay_ms} ms: {ids}"
        );
        b.ok(&["images"]);
        if !ids.is_empty() {
            b.ok(&["rmi", "crash:1"]);
        }
    }
    let out = b.ok(&["import", &f]);
    assert_eq!(out, "Loaded image: crash:1\n");
    b.ok(&["image", "prune", "-f"]);
    assert!(
        !b.store_files().iter().any(|p| p.starts_with("tmp/")),
        "scratch of killed imports is gone: {:?}",
        b.store_files()
            .iter()
            .filter(|p| p.starts_with("tmp/"))
            .collect::<Vec<_>>()
    );
    // The complete layers are all there.
    let layers = std::fs::read_dir(b.root().join("layers")).unwrap().count();
    assert_eq!(layers, img.layers.len());
}

#[test]
fn concurrent_imports_both_succeed_and_share_layers() {
    let b = Barge::new();
    let one = big_image("one:1", 7);
    let mut two = one.clone();
    two.tags = vec!["two:1".into()];
    two.cmd = vec!["echo".into(), "two".into()];
    let f1 = b.file("one.tar", &docker_archive(std::slice::from_ref(&one)));
    let f2 = b.file("two.tar", &docker_archive(std::slice::from_ref(&two)));
    let children: Vec<_> = [&f1, &f2, &f1]
        .iter()
        .map(|f| {
            b.cmd()
                .args(["import", f])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        let o = c.wait_with_output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let ids = b.ok(&["images", "-q"]);
    assert_eq!(ids.lines().count(), 2, "{ids}");
    let layers = std::fs::read_dir(b.root().join("layers")).unwrap().count();
    assert_eq!(layers, one.layers.len(), "the two images share every layer");
}
