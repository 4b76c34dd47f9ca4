//! Hostile archives: every way a layer or an archive index could try to write outside the
//! store. Each test puts a canary file outside the store and checks it is untouched.

mod common;

use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;

use common::*;

struct Canary {
    _dir: tempfile::TempDir,
    dir: PathBuf,
    file: PathBuf,
    mtime: i64,
}

impl Canary {
    fn new() -> Canary {
        let d = tempfile::Builder::new()
            .prefix("barge-canary-")
            .tempdir()
            .unwrap();
        let dir = d.path().to_path_buf();
        let file = dir.join("canary");
        std::fs::write(&file, b"untouched").unwrap();
        let mtime = std::fs::metadata(&file).unwrap().mtime();
        Canary {
            _dir: d,
            dir,
            file,
            mtime,
        }
    }

    fn check(&self) {
        assert_eq!(
            std::fs::read(&self.file).unwrap(),
            b"untouched",
            "canary content"
        );
        let m = std::fs::symlink_metadata(&self.file).unwrap();
        assert!(m.file_type().is_file(), "canary is still a file");
        assert_eq!(m.nlink(), 1, "no hardlink to the canary");
        assert_eq!(m.mtime(), self.mtime);
        let names: Vec<_> = std::fs::read_dir(&self.dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "nothing new beside the canary: {names:?}");
    }
}

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

fn leak_b(s: String) -> &'static [u8] {
    Box::leak(s.into_bytes().into_boxed_slice())
}

/// Import an image with one layer of `entries`; returns whether it succeeded.
fn try_layer(b: &Barge, name: &str, entries: &[E]) -> bool {
    let img = Img::new(name, vec![layer(entries)]);
    let f = b.file(
        &format!("{}.tar", name.replace([':', '/'], "_")),
        &docker_archive(&[img]),
    );
    let o = b.run(&["import", &f]);
    if !o.status.success() {
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(125), "{err}");
        assert!(err.contains("barge: error:"), "{err}");
        eprintln!("{name}: {err}");
    }
    o.status.success()
}

fn depth_up() -> String {
    "../".repeat(10)
}

#[test]
fn dotdot_names_are_refused() {
    let c = Canary::new();
    let b = Barge::new();
    let rel = leak_b(format!("{}{}", depth_up(), c.file.display()).replace("//", "/"));
    assert!(!try_layer(
        &b,
        "dotdot:1",
        &[E::RawFile(b"../canary", b"pwned")]
    ));
    assert!(!try_layer(&b, "dotdot:2", &[E::RawFile(rel, b"pwned")]));
    assert!(!try_layer(
        &b,
        "dotdot:3",
        &[E::RawFile(b"a/../../canary", b"pwned")]
    ));
    c.check();
    assert!(b.ok(&["images", "-q"]).is_empty());
}

#[test]
fn absolute_names_land_inside_the_layer() {
    let c = Canary::new();
    let b = Barge::new();
    let abs = leak_b(c.file.display().to_string());
    assert!(try_layer(&b, "abs:1", &[E::RawFile(abs, b"inside")]));
    c.check();
    let chain = sha256(&layer(&[E::RawFile(abs, b"inside")]));
    let inside = b
        .root()
        .join("layers")
        .join(hexof(&chain))
        .join("diff")
        .join(c.file.strip_prefix("/").unwrap());
    assert_eq!(std::fs::read(inside).unwrap(), b"inside");
}

#[test]
fn symlink_then_file_through_it_stays_inside() {
    let c = Canary::new();
    let b = Barge::new();
    let dir = leak(c.dir.display().to_string());
    let up = leak(depth_up());
    let ok = try_layer(
        &b,
        "sym:1",
        &[
            E::Symlink("evil", dir),
            E::File("evil/canary", b"pwned"),
            E::Symlink("up", up),
            E::FileOwned(format!("up{}", c.file.display()), b"pwned".to_vec()),
            E::Symlink("evil2", dir),
            E::Dir("evil2/newdir"),
            E::Symlink("evil3", dir),
            E::File("evil3/.wh.canary", b""),
            E::File("evil3/.wh..wh..opq", b""),
        ],
    );
    assert!(ok, "resolved inside the layer, so the import succeeds");
    c.check();
}

#[test]
fn symlink_replaced_by_a_file_is_not_written_through() {
    let c = Canary::new();
    let b = Barge::new();
    let file = leak(c.file.display().to_string());
    // The second entry has the symlink's own name: it replaces the link, never follows it.
    assert!(try_layer(
        &b,
        "rep:1",
        &[E::Symlink("x", file), E::File("x", b"pwned")]
    ));
    assert!(try_layer(
        &b,
        "rep:2",
        &[E::Symlink("y", file), E::Fifo("y")]
    ));
    c.check();
}

#[test]
fn hardlinks_cannot_reach_outside() {
    let c = Canary::new();
    let b = Barge::new();
    let file = leak(c.file.display().to_string());
    let dir = leak(c.dir.display().to_string());
    let rel = leak_b(format!("{}{}", depth_up(), c.file.display()));
    assert!(!try_layer(&b, "hl:1", &[E::Hardlink("link", file)]));
    assert!(!try_layer(&b, "hl:2", &[E::RawHardlink(b"link", rel)]));
    assert!(!try_layer(
        &b,
        "hl:3",
        &[E::Symlink("evil", dir), E::Hardlink("link", "evil/canary")]
    ));
    // Linking to a symlink that points outside links the symlink, not its target.
    assert!(try_layer(
        &b,
        "hl:4",
        &[
            E::Symlink("s", file),
            E::Hardlink("link", "s"),
            E::File("link2", b"x")
        ]
    ));
    c.check();
}

#[test]
fn whiteouts_cannot_name_outside() {
    let c = Canary::new();
    let b = Barge::new();
    assert!(!try_layer(&b, "wh:1", &[E::RawFile(b"../.wh.canary", b"")]));
    assert!(!try_layer(&b, "wh:2", &[E::RawFile(b".wh..", b"")]));
    assert!(!try_layer(&b, "wh:3", &[E::RawFile(b"a/.wh...", b"")]));
    c.check();
}

#[test]
fn overlay_xattrs_from_archives_are_dropped() {
    if !is_root() {
        return;
    }
    let b = Barge::new();
    let entries = [
        E::Xattr("f", "trusted.overlay.redirect", b"/etc"),
        E::Xattr("g", "user.kept", b"1"),
    ];
    assert!(try_layer(&b, "xattr:1", &entries));
    let chain = sha256(&layer(&entries));
    let diff = b.root().join("layers").join(hexof(&chain)).join("diff");
    let get = |p: &str, k: &str| rustix::fs::getxattr(diff.join(p), k, &mut [0u8; 64]).ok();
    assert!(get("f", "trusted.overlay.redirect").is_none());
    assert_eq!(get("g", "user.kept"), Some(1));
}

#[test]
fn archive_indexes_cannot_point_outside_the_archive() {
    let c = Canary::new();
    let b = Barge::new();
    let file = c.file.display().to_string();
    let mut cases = Vec::new();
    for (config, layer_path) in [
        ("c.json".to_string(), format!("../../..{file}")),
        ("c.json".to_string(), file.clone()),
        (file.clone(), "l/layer.tar".to_string()),
        (
            "../../../../etc/passwd".to_string(),
            "l/layer.tar".to_string(),
        ),
    ] {
        let mut tb = tar::Builder::new(Vec::new());
        let l = layer(&[E::File("f", b"x")]);
        add(&mut tb, "l/layer.tar", &l);
        let img = Img::new("x:1", vec![l]);
        add(&mut tb, "c.json", &img.config());
        let m =
            serde_json::json!([{"Config": config, "RepoTags": ["esc:1"], "Layers": [layer_path]}]);
        add(&mut tb, "manifest.json", &serde_json::to_vec(&m).unwrap());
        cases.push(tb.into_inner().unwrap());
    }
    // An OCI index whose digest is not a digest (path traversal through a blob name).
    let mut tb = tar::Builder::new(Vec::new());
    add(&mut tb, "oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#);
    add(
        &mut tb,
        "index.json",
        br#"{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:../../../../etc/passwd","size":1}]}"#,
    );
    cases.push(tb.into_inner().unwrap());
    for (i, archive) in cases.iter().enumerate() {
        let f = b.file(&format!("esc{i}.tar"), archive);
        let err = b.fails(&["import", &f]);
        assert!(err.contains(&format!("esc{i}.tar")), "{err}");
    }
    c.check();
    assert!(b.ok(&["images", "-q"]).is_empty());
}

#[test]
fn huge_long_names_do_not_exhaust_memory() {
    // A GNU long-name entry claiming 1 GiB: refused after 4 MiB, not buffered.
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::GNULongName);
    h.set_size(1 << 30);
    {
        let gnu = h.as_gnu_mut().unwrap();
        gnu.name[..13].copy_from_slice(b"././@LongLink");
    }
    h.set_cksum();
    let mut layer_bytes = h.as_bytes().to_vec();
    layer_bytes.extend(std::iter::repeat_n(b'a', 8 << 20));
    let b = Barge::new();
    let img = Img::new("long:1", vec![layer_bytes]);
    let f = b.file("long.tar", &docker_archive(&[img]));
    let err = b.fails(&["import", &f]);
    assert!(
        err.contains("larger than 4 MiB") || err.contains("truncated"),
        "{err}"
    );
}
