//! `barge import` of every archive format, the image commands around it, and the layer
//! applier's results on disk (real binary, real store).

mod common;

use common::*;
use serde_json::Value;

fn layer_dir(b: &Barge, chain: &str) -> std::path::PathBuf {
    b.root().join("layers").join(hexof(chain)).join("diff")
}

#[test]
fn classic_docker_save_archive() {
    let b = Barge::new();
    let img = Img::new("bars/one:1.0", vec![busybox_layer()]);
    let f = b.file("img.tar", &docker_archive(std::slice::from_ref(&img)));
    let o = b.run(&["import", &f]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "Loaded image: bars/one:1.0\n"
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("docker save archive"));
    let out = b.ok(&["images"]);
    let mut lines = out.lines();
    assert_eq!(
        lines
            .next()
            .unwrap()
            .split("   ")
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>(),
        ["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"]
    );
    let row = lines.next().unwrap();
    assert!(row.starts_with("bars/one"), "{row}");
    assert!(row.contains(&hexof(&img.id())[..12]), "{row}");
    // The unpacked layer is there, with the busybox binary byte for byte.
    let chain = sha256(&img.layers[0].1);
    let bb = std::fs::read(layer_dir(&b, &chain).join("bin/busybox")).unwrap();
    assert_eq!(bb, std::fs::read(busybox_path()).unwrap());
    assert_eq!(
        std::fs::read_link(layer_dir(&b, &chain).join("bin/sh"))
            .unwrap()
            .to_str(),
        Some("busybox")
    );
}

#[test]
fn docker25_archive_from_stdin_keeps_manifest_digest() {
    let b = Barge::new();
    let img = Img::new("alpine:3", vec![busybox_layer()]).compressed(gzip);
    let o = b.import_stdin(&docker25_archive(std::slice::from_ref(&img)), &[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("Docker 25+"));
    let v: Value = serde_json::from_str(&b.ok(&["image", "inspect", "alpine:3"])).unwrap();
    assert_eq!(v[0]["Id"], img.id());
    assert_eq!(v[0]["RepoTags"][0], "alpine:3");
    assert_eq!(v[0]["Descriptor"]["digest"], sha256(&img.manifest()));
    assert_eq!(v[0]["RootFS"]["Layers"][0], sha256(&img.layers[0].1));
    assert_eq!(v[0]["Architecture"], host_arch());
    assert_eq!(v[0]["Config"]["Cmd"][0], "sh");
    // name@digest finds it too.
    let by_digest = b.ok(&[
        "inspect",
        "--format",
        "{{.Id}}",
        &format!("alpine@{}", sha256(&img.manifest())),
    ]);
    assert_eq!(by_digest.trim(), img.id());
}

#[test]
fn oci_layout_picks_the_platform() {
    let b = Barge::new();
    let mut host = Img::new("", vec![layer(&[E::File("which", b"host")])]).compressed(zstd);
    host.arch = host_arch().into();
    let mut other = Img::new("", vec![layer(&[E::File("which", b"other")])]);
    other.arch = if host_arch() == "arm64" {
        "amd64".into()
    } else {
        "arm64".into()
    };
    let archive = oci_archive("docker.io/multi/arch:1", &[host.clone(), other.clone()]);
    let f = b.file("oci.tar", &archive);
    let out = b.ok(&["import", &f]);
    assert_eq!(out, "Loaded image: multi/arch:1\n");
    let id = b.ok(&["inspect", "-f", "{{.Id}}", "multi/arch:1"]);
    assert_eq!(id.trim(), host.id());
    // --platform takes the other one; --tag names it.
    let platform = format!("linux/{}", other.arch);
    let out = b.ok(&[
        "import",
        "--platform",
        &platform,
        "--tag",
        "multi/other:2",
        &f,
    ]);
    assert!(out.contains("multi/other:2"), "{out}");
    let id = b.ok(&["inspect", "-f", "{{.Id}}", "multi/other:2"]);
    assert_eq!(id.trim(), other.id());
    let err = b.fails(&["import", "--platform", "linux/s390x", &f]);
    assert!(err.contains("no image for platform linux/s390x"), "{err}");
}

#[test]
fn rootfs_tarballs_plain_gzip_zstd() {
    let b = Barge::new();
    let tar = layer(&[E::Dir("etc"), E::File("etc/hello", b"hi\n")]);
    for (i, data) in [tar.clone(), gzip(&tar), zstd(&tar)].iter().enumerate() {
        let f = b.file(&format!("rootfs{i}.tar"), data);
        let name = format!("rootfs:{i}");
        let o = b.run(&["import", &f, &name]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let stdout = String::from_utf8_lossy(&o.stdout);
        assert!(stdout.starts_with("sha256:"), "{stdout}");
        assert!(String::from_utf8_lossy(&o.stderr).contains("root filesystem tarball"));
    }
    let v: Value = serde_json::from_str(&b.ok(&["inspect", "rootfs:2"])).unwrap();
    assert_eq!(v[0]["RootFS"]["Layers"][0], sha256(&tar));
    // All three share the one layer.
    assert_eq!(
        std::fs::read_dir(b.root().join("layers")).unwrap().count(),
        1
    );
    let hist = b.ok(&["history", "rootfs:0"]);
    assert!(hist.contains("barge import"), "{hist}");
}

#[test]
fn whiteouts_opaque_dirs_hardlinks_and_replacements_mount_as_expected() {
    if !is_root() {
        eprintln!("skipped: needs root for overlay mounts");
        return;
    }
    let b = Barge::new();
    let l1 = layer(&[
        E::Dir("a"),
        E::File("a/gone", b"1"),
        E::File("a/kept", b"1"),
        E::Dir("opq"),
        E::File("opq/old", b"1"),
        E::Dir("dir2file"),
        E::File("dir2file/x", b"1"),
        E::File("file2dir", b"1"),
        E::File("replaced", b"old"),
        E::FileMode("suid", b"s", 0o4755, 0, 0),
        E::FileMode("owned", b"o", 0o640, 1000, 1001),
        E::Fifo("fifo"),
        E::CharDev("null", 1, 3),
    ]);
    let l2 = layer(&[
        E::File("a/.wh.gone", b""),
        E::File("opq/.wh..wh..opq", b""),
        E::File("opq/new", b"2"),
        E::File("dir2file", b"now a file"),
        E::Dir("file2dir"),
        E::File("file2dir/y", b"2"),
        E::File("replaced", b"new"),
        E::File("orig", b"linked"),
        E::Hardlink("link", "orig"),
        E::Symlink("sym", "/a/kept"),
    ]);
    let img = Img::new("layers:1", vec![l1.clone(), l2.clone()]);
    b.ok(&["import", &b.file("l.tar", &docker_archive(&[img]))]);
    let d1 = sha256(&l1);
    let chain2 = sha256(format!("{} {}", d1, sha256(&l2)).as_bytes());
    let lower = format!(
        "{}:{}",
        layer_dir(&b, &chain2).display(),
        layer_dir(&b, &d1).display()
    );
    let mnt = b.dir.path().join("mnt");
    std::fs::create_dir(&mnt).unwrap();
    let st = std::process::Command::new("mount")
        .args([
            "-t",
            "overlay",
            "overlay",
            "-o",
            &format!("lowerdir={lower}"),
        ])
        .arg(&mnt)
        .status()
        .unwrap();
    assert!(st.success());
    let check = || {
        use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
        let p = |s: &str| mnt.join(s);
        assert!(!p("a/gone").exists(), "whiteout hides a/gone");
        assert!(p("a/kept").exists());
        assert!(!p("opq/old").exists(), "opaque dir hides lower entries");
        assert_eq!(std::fs::read(p("opq/new")).unwrap(), b"2");
        assert_eq!(std::fs::read(p("dir2file")).unwrap(), b"now a file");
        assert_eq!(std::fs::read(p("file2dir/y")).unwrap(), b"2");
        assert_eq!(std::fs::read(p("replaced")).unwrap(), b"new");
        let m = std::fs::metadata(p("suid")).unwrap();
        assert_eq!(m.permissions().mode() & 0o7777, 0o4755);
        let m = std::fs::metadata(p("owned")).unwrap();
        assert_eq!(
            (m.uid(), m.gid(), m.permissions().mode() & 0o777),
            (1000, 1001, 0o640)
        );
        assert_eq!(m.mtime(), 1_700_000_000);
        assert!(
            std::fs::symlink_metadata(p("fifo"))
                .unwrap()
                .file_type()
                .is_fifo()
        );
        let n = std::fs::symlink_metadata(p("null")).unwrap();
        assert!(n.file_type().is_char_device());
        assert_eq!(n.rdev(), libc_makedev(1, 3));
        let a = std::fs::metadata(p("orig")).unwrap();
        let l = std::fs::metadata(p("link")).unwrap();
        assert_eq!(a.ino(), l.ino(), "hardlink shares the inode");
        assert_eq!(
            std::fs::read_link(p("sym")).unwrap().to_str(),
            Some("/a/kept")
        );
    };
    let r = std::panic::catch_unwind(check);
    let _ = std::process::Command::new("umount").arg(&mnt).status();
    r.unwrap();
}

fn libc_makedev(maj: u64, min: u64) -> u64 {
    ((maj & 0xfff) << 8) | (min & 0xff) | ((min & !0xff) << 12) | ((maj & !0xfff) << 32)
}

#[test]
fn images_listing_filters_and_formats() {
    let b = Barge::new();
    let a = Img::new("bars/one:1", vec![layer(&[E::File("a", b"a")])]);
    let c = Img::new("bars/two:2", vec![layer(&[E::File("c", b"c")])]);
    let d = Img::new("other:latest", vec![layer(&[E::File("d", b"d")])]);
    b.ok(&[
        "import",
        &b.file("all.tar", &docker_archive(&[a.clone(), c, d])),
    ]);
    let out = b.ok(&["images", "bars/*", "--format", "{{.Repository}}:{{.Tag}}"]);
    let mut names: Vec<&str> = out.lines().collect();
    names.sort();
    assert_eq!(names, ["bars/one:1", "bars/two:2"]);
    let json_lines = b.ok(&["images", "--format", "json"]);
    let rows: Vec<Value> = json_lines
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 3);
    for key in [
        "Containers",
        "CreatedAt",
        "CreatedSince",
        "Digest",
        "ID",
        "Repository",
        "Size",
        "Tag",
    ] {
        assert!(rows[0].get(key).is_some(), "missing {key}");
    }
    let q = b.ok(&["images", "-q", "--no-trunc"]);
    assert!(q.lines().any(|l| l == a.id()));
    assert_eq!(b.ok(&["images", "-q", "other"]).trim().len(), 12);
    let dig = b.ok(&["images", "--digests"]);
    assert!(dig.lines().next().unwrap().contains("DIGEST"));
    // Broken pipe is not an error.
    let st = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "'{}' --root '{}' images | head -c1 >/dev/null",
            env!("CARGO_BIN_EXE_barge"),
            b.root().display()
        ))
        .status()
        .unwrap();
    assert!(st.success());
}

#[test]
fn tag_rmi_and_prune() {
    let b = Barge::new();
    let img = Img::new("one:1", vec![layer(&[E::File("f", b"f")])]);
    let id = img.id();
    b.ok(&[
        "import",
        &b.file("i.tar", &docker_archive(std::slice::from_ref(&img))),
    ]);
    b.ok(&["tag", "one:1", "two:2"]);
    b.ok(&["image", "tag", &hexof(&id)[..8], "three"]);
    assert_eq!(b.ok(&["images", "-q"]).lines().count(), 1);
    // By ID with several tags: refused without -f (stdin is not a terminal: no prompt).
    let err = b.fails(&["rmi", &hexof(&id)[..12]]);
    assert!(err.contains("must be forced"), "{err}");
    assert!(err.contains("hint: use -f"), "{err}");
    // By name: untag only.
    assert_eq!(b.ok(&["rmi", "two:2"]), "Untagged: two:2\n");
    assert_eq!(
        b.ok(&["rmi", "-f", &id]),
        format!("Untagged: one:1\nUntagged: three:latest\nDeleted: {id}\n")
    );
    assert_eq!(b.ok(&["images", "-q"]), "");
    assert_eq!(
        b.store_files(),
        Vec::<String>::new(),
        "rmi leaves no blob or layer behind"
    );
    // A layer shared by two images stays until the last goes.
    let base = layer(&[E::File("base", b"b")]);
    let x = Img::new("x:1", vec![base.clone()]);
    let y = Img::new("y:1", vec![base.clone(), layer(&[E::File("top", b"t")])]);
    b.ok(&["import", &b.file("xy.tar", &docker_archive(&[x, y]))]);
    b.ok(&["rmi", "x:1"]);
    assert!(layer_dir(&b, &sha256(&base)).join("base").exists());
    b.ok(&["rmi", "y:1"]);
    assert!(!layer_dir(&b, &sha256(&base)).exists());
    // Dangling images go with prune; prune refuses to run unasked without a terminal.
    let z = Img::new("z:1", vec![layer(&[E::File("z", b"z")])]);
    b.ok(&[
        "import",
        &b.file("z.tar", &docker_archive(std::slice::from_ref(&z))),
    ]);
    let w = Img::new("z:1", vec![layer(&[E::File("w", b"w")])]);
    b.ok(&["import", &b.file("w.tar", &docker_archive(&[w]))]);
    let listing = b.ok(&["images"]);
    assert!(
        listing.contains("<none>"),
        "the retagged image is dangling: {listing}"
    );
    b.fails(&["image", "prune"]);
    let out = b.ok(&["image", "prune", "-f"]);
    assert!(out.contains(&format!("deleted: {}", z.id())), "{out}");
    assert!(out.contains("Total reclaimed space:"), "{out}");
    assert_eq!(b.ok(&["images", "-q"]).lines().count(), 1);
    let df = b.ok(&["system", "df"]);
    assert!(df.starts_with("TYPE"), "{df}");
    assert!(df.lines().nth(1).unwrap().starts_with("Images"), "{df}");
}

#[test]
fn save_round_trips_to_the_same_image_id() {
    let b = Barge::new();
    let img = Img::new(
        "round/trip:1",
        vec![busybox_layer(), layer(&[E::File("x", b"x")])],
    )
    .compressed(gzip);
    b.ok(&[
        "import",
        &b.file("in.tar", &docker_archive(std::slice::from_ref(&img))),
    ]);
    let saved = b.dir.path().join("out.tar");
    b.ok(&["save", "-o", saved.to_str().unwrap(), "round/trip:1"]);
    let b2 = Barge::new();
    let out = b2.ok(&["load", "-i", saved.to_str().unwrap()]);
    assert_eq!(out, "Loaded image: round/trip:1\n");
    assert_eq!(
        b2.ok(&["inspect", "-f", "{{.Id}}", "round/trip:1"]).trim(),
        img.id()
    );
    // And through a pipe, saved by ID: no name.
    let o = b.cmd().args(["save", &img.id()]).output().unwrap();
    assert!(o.status.success());
    let b3 = Barge::new();
    let loaded = b3.import_stdin(&o.stdout, &[]);
    assert_eq!(
        String::from_utf8_lossy(&loaded.stdout),
        format!("Loaded image ID: {}\n", img.id())
    );
    // History lists the layers newest first.
    let h = b.ok(&["history", "--format", "{{.CreatedBy}}", "round/trip:1"]);
    assert_eq!(h, "layer 1\nlayer 0\n");
}

#[test]
fn bad_inputs_fail_cleanly_and_change_nothing() {
    let b = Barge::new();
    let good = Img::new("good:1", vec![layer(&[E::File("f", b"f")])]);
    b.ok(&["import", &b.file("good.tar", &docker_archive(&[good]))]);
    let before = b.store_files();
    let images_before = b.ok(&["images"]);

    let err = b.fails(&["import", "/nonexistent/archive.tar"]);
    assert!(
        err.contains("/nonexistent/archive.tar") && err.contains("no such file"),
        "{err}"
    );
    let err = b.fails(&["import", &b.file("empty.tar", b"")]);
    assert!(err.contains("empty.tar") && err.contains("empty"), "{err}");
    let err = b.fails(&["import", &b.file("junk.tar", &[7u8; 4096])]);
    assert!(
        err.contains("junk.tar") && err.contains("not a tar archive"),
        "{err}"
    );

    let full = docker_archive(&[Img::new("trunc:1", vec![busybox_layer()])]);
    let err = b.fails(&["import", &b.file("trunc.tar", &full[..full.len() / 2])]);
    assert!(
        err.contains("trunc.tar") && err.contains("truncated"),
        "{err}"
    );

    // A diff ID that does not match the layer.
    let mut bad = Img::new("bad:1", vec![layer(&[E::File("f", b"real")])]);
    let mut cfg: Value = serde_json::from_slice(&bad.config()).unwrap();
    cfg["rootfs"]["diff_ids"][0] = Value::String(sha256(b"something else"));
    let archive = {
        let mut tb = tar::Builder::new(Vec::new());
        let l = bad.layers.remove(0).0;
        add(&mut tb, "l/layer.tar", &l);
        let c = serde_json::to_vec(&cfg).unwrap();
        add(&mut tb, "c.json", &c);
        add(
            &mut tb,
            "manifest.json",
            br#"[{"Config":"c.json","RepoTags":["bad:1"],"Layers":["l/layer.tar"]}]"#,
        );
        tb.into_inner().unwrap()
    };
    let err = b.fails(&["import", &b.file("badid.tar", &archive)]);
    assert!(
        err.contains("badid.tar") && err.contains("digest mismatch"),
        "{err}"
    );

    // A blob whose name is not its digest.
    let d25 = docker25_archive(&[Img::new("blob:1", vec![layer(&[E::File("f", b"1")])])]);
    let tampered = tamper_first_blob(&d25);
    let err = b.fails(&["import", &b.file("tampered.tar", &tampered)]);
    assert!(err.contains("digest mismatch"), "{err}");

    assert_eq!(
        b.store_files(),
        before,
        "a failed import leaves nothing behind"
    );
    assert_eq!(b.ok(&["images"]), images_before);
    let err = b.fails(&["inspect", "nope:1"]);
    assert!(err.contains("no such image: nope:1"), "{err}");
}

/// Flip a byte in the first blob of an archive without changing its name.
fn tamper_first_blob(archive: &[u8]) -> Vec<u8> {
    let mut a = tar::Archive::new(archive);
    let mut out = tar::Builder::new(Vec::new());
    let mut done = false;
    for e in a.entries().unwrap() {
        let mut e = e.unwrap();
        let path = e.path().unwrap().to_string_lossy().into_owned();
        let mut data = Vec::new();
        std::io::Read::read_to_end(&mut e, &mut data).unwrap();
        if !done && path.starts_with("blobs/sha256/") && !data.is_empty() {
            let n = data.len() - 1;
            data[n] ^= 1;
            done = true;
        }
        add(&mut out, &path, &data);
    }
    out.into_inner().unwrap()
}

#[test]
fn disk_full_is_reported_and_leaves_the_store_unchanged() {
    if !is_root() {
        eprintln!("skipped: needs root to mount a small tmpfs");
        return;
    }
    let b = Barge::new();
    let root = b.root();
    std::fs::create_dir_all(&root).unwrap();
    let st = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=3m", "tmpfs"])
        .arg(&root)
        .status()
        .unwrap();
    assert!(st.success());
    let big: Vec<u8> = (0..6_000_000u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    let img = Img::new("big:1", vec![layer(&[E::FileOwned("big".into(), big)])]);
    let f = b.file("big.tar", &docker_archive(&[img]));
    let o = b.run(&["import", &f]);
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    let files = b.store_files();
    let images = b.run(&["images", "-q"]);
    let _ = std::process::Command::new("umount").arg(&root).status();
    assert_eq!(o.status.code(), Some(125), "{err}");
    assert!(
        err.contains("No space left on device") || err.contains("no space"),
        "{err}"
    );
    assert!(err.contains("full"), "a hint says the disk is full: {err}");
    assert!(images.status.success());
    assert!(images.stdout.is_empty());
    assert!(
        files
            .iter()
            .all(|f| !f.starts_with("tmp/") && !f.starts_with("layers/")),
        "{files:?}"
    );
}

#[test]
fn generated_completions_and_man_pages_are_up_to_date() {
    let dir = tempfile::tempdir().unwrap();
    let comp = dir.path().join("completions");
    let man = dir.path().join("man");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_barge"))
        .args([
            "__generate",
            "--completions",
            comp.to_str().unwrap(),
            "--man",
            man.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(o.status.success());
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for f in ["barge.bash", "_barge", "barge.fish"] {
        assert_eq!(
            std::fs::read(comp.join(f)).unwrap(),
            std::fs::read(repo.join("completions").join(f)).unwrap_or_default(),
            "completions/{f} is stale: run `cargo run -- __generate`"
        );
    }
    for e in std::fs::read_dir(man.join("man1")).unwrap() {
        let e = e.unwrap();
        assert_eq!(
            std::fs::read(e.path()).unwrap(),
            std::fs::read(repo.join("man/man1").join(e.file_name())).unwrap_or_default(),
            "man/man1/{:?} is stale: run `cargo run -- __generate`",
            e.file_name()
        );
    }
}

#[test]
fn podman_load_accepts_barge_save() {
    let Ok(podman) = which("podman") else {
        eprintln!("skipped: podman is not installed");
        return;
    };
    let b = Barge::new();
    // One plain and one gzip layer: podman must read both from the archive.
    let img = Img::new("peer/check:1", vec![busybox_layer()]);
    let mut img2 = Img::new("peer/check:2", vec![layer(&[E::File("x", b"x")])]).compressed(gzip);
    img2.cmd = vec!["true".into()];
    b.ok(&[
        "import",
        &b.file("in.tar", &docker_archive(&[img.clone(), img2.clone()])),
    ]);
    let out = b.dir.path().join("out.tar");
    b.ok(&[
        "save",
        "-o",
        out.to_str().unwrap(),
        "peer/check:1",
        "peer/check:2",
    ]);
    let proot = b.dir.path().join("podman");
    let o = std::process::Command::new(&podman)
        .arg("--root")
        .arg(proot.join("root"))
        .arg("--runroot")
        .arg(proot.join("run"))
        .args(["load", "-i"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "podman load: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let o = std::process::Command::new(&podman)
        .arg("--root")
        .arg(proot.join("root"))
        .arg("--runroot")
        .arg(proot.join("run"))
        .args(["images", "--no-trunc", "--format", "{{.ID}}"])
        .output()
        .unwrap();
    let ids = String::from_utf8_lossy(&o.stdout);
    assert!(
        ids.contains(hexof(&img.id())),
        "podman keeps the image ID: {ids}"
    );
    assert!(ids.contains(hexof(&img2.id())), "{ids}");
}

fn which(name: &str) -> Result<std::path::PathBuf, ()> {
    std::env::var_os("PATH")
        .and_then(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join(name))
                .find(|p| p.is_file())
        })
        .ok_or(())
}
