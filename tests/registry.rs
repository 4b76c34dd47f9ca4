//! pull / push / login against a real registry (Debian's docker-registry on loopback) and
//! against a fake one that lies, cuts connections and counts requests. No internet.

mod common;

use std::process::{Command, Output};

use common::registry::{Behavior, Fake, Registry, push_img, put_blob, put_manifest};
use common::*;
use serde_json::json;

/// A store plus its own docker config dir and registries.toml, so nothing of the machine
/// leaks in.
struct T {
    b: Barge,
    docker_config: tempfile::TempDir,
}

impl T {
    fn new() -> T {
        T {
            b: Barge::new(),
            docker_config: tempfile::tempdir().unwrap(),
        }
    }

    /// Another store sharing this one's logins.
    fn sibling(&self) -> T {
        let t = T::new();
        let p = self.docker_config.path().join("config.json");
        if p.exists() {
            std::fs::copy(&p, t.docker_config.path().join("config.json")).unwrap();
        }
        t
    }

    fn cmd(&self) -> Command {
        let mut c = self.b.cmd();
        c.env("DOCKER_CONFIG", self.docker_config.path());
        c.env(
            "BARGE_REGISTRIES_CONF",
            self.docker_config.path().join("registries.toml"),
        );
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.cmd().args(args).output().unwrap()
    }

    fn ok(&self, args: &[&str]) -> (String, String) {
        let o = self.run(args);
        let (out, err) = (
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        );
        assert!(
            o.status.success(),
            "barge {args:?} failed:\nstdout: {out}\nstderr: {err}"
        );
        (out, err)
    }

    fn fails(&self, args: &[&str]) -> String {
        let o = self.run(args);
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        assert_eq!(
            o.status.code(),
            Some(125),
            "barge {args:?} should fail with 125:\n{err}"
        );
        let errors = err
            .lines()
            .filter(|l| l.starts_with("barge: error: "))
            .count();
        assert_eq!(errors, 1, "one error line: {err}");
        err
    }

    fn image_ids(&self) -> Vec<String> {
        let out = self.ok(&["images", "-q", "--no-trunc"]).0;
        out.lines().map(str::to_string).collect()
    }

    fn blobs(&self) -> Vec<String> {
        let d = self.b.root().join("blobs/sha256");
        std::fs::read_dir(d)
            .map(|r| {
                r.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default()
    }

    fn ingest(&self) -> Vec<String> {
        let d = self.b.root().join("ingest");
        std::fs::read_dir(d)
            .map(|r| {
                r.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The content of `path` in any unpacked layer.
    fn layer_file(&self, path: &str) -> Option<Vec<u8>> {
        let d = self.b.root().join("layers");
        for e in std::fs::read_dir(d).ok()?.flatten() {
            if let Ok(b) = std::fs::read(e.path().join("diff").join(path)) {
                return Some(b);
            }
        }
        None
    }
}

fn sample(tag: &str, name: &str, content: &[u8]) -> Img {
    let l1 = layer(&[
        E::Dir("etc/"),
        E::File("etc/os-release", b"ID=barge-test\n"),
    ]);
    let l2 = layer(&[E::FileOwned(name.to_string(), content.to_vec())]);
    Img::new(tag, vec![l1, l2]).compressed(gzip)
}

fn digest_line(stderr: &str) -> String {
    stderr
        .lines()
        .find_map(|l| l.strip_prefix("Digest: "))
        .unwrap_or_else(|| panic!("no Digest line in {stderr}"))
        .to_string()
}

#[test]
fn push_then_pull_gives_the_same_digest_and_files() {
    let reg = Registry::start(None);
    let src = T::new();
    let img = sample("app:1", "hello.txt", b"hello from the registry\n");
    src.b
        .import_stdin(&docker_archive(std::slice::from_ref(&img)), &[]);
    let dest = format!("{}/test/app:1", reg.host());
    let (out, err) = src.ok(&["push", "app:1", &dest]);
    assert!(err.contains("Pushed"), "{err}");
    let pushed = out
        .split("digest: ")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    // Again: everything is there already.
    let (_, err) = src.ok(&["push", "app:1", &dest]);
    assert!(err.contains("already exists"), "{err}");

    let dst = T::new();
    let (out, err) = dst.ok(&["pull", &dest]);
    assert_eq!(out.trim(), dest, "stdout is the full reference");
    assert_eq!(digest_line(&err), pushed);
    assert!(err.contains("Status: Downloaded newer image for"), "{err}");
    assert_eq!(dst.image_ids(), vec![img.id()]);
    assert_eq!(
        dst.layer_file("hello.txt").unwrap(),
        b"hello from the registry\n"
    );
    // The compressed blobs are kept for save/push; nothing is left in ingest/.
    for (b, _) in &img.layers {
        assert!(dst.blobs().contains(&hexof(&sha256(b)).to_string()));
    }
    assert!(
        dst.ingest().iter().all(|n| !n.ends_with(".partial")),
        "{:?}",
        dst.ingest()
    );

    let (_, err) = dst.ok(&["pull", &dest]);
    assert!(err.contains("Status: Image is up to date for"), "{err}");
    // -q: only the reference.
    let o = dst.run(&["pull", "-q", &dest]);
    assert!(o.status.success());
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), dest);
    assert!(
        o.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // By digest.
    let by_digest = format!("{}/test/app@{pushed}", reg.host());
    let (out, _) = T::new().ok(&["pull", &by_digest]);
    assert_eq!(out.trim(), by_digest);

    // Push to another repository of the same registry: blobs are mounted, not uploaded.
    let dest2 = format!("{}/other/app:2", reg.host());
    let (_, err) = dst.ok(&["push", &dest, &dest2]);
    assert!(err.contains("Mounted from test/app"), "{err}");
    let (_, err) = T::new().ok(&["pull", &dest2]);
    assert_eq!(digest_line(&err), pushed);
}

#[test]
fn multi_arch_index_picks_the_platform_and_variant() {
    let reg = Registry::start(None);
    let port = reg.port;
    let mut entries = Vec::new();
    let mut ids = std::collections::HashMap::new();
    for (arch, variant) in [
        ("amd64", None),
        ("arm", Some("v6")),
        ("arm", Some("v7")),
        ("arm64", Some("v8")),
        (host_arch(), None),
    ] {
        let mut img = sample(
            "",
            &format!("{arch}{}.txt", variant.unwrap_or("")),
            arch.as_bytes(),
        );
        img.arch = arch.to_string();
        let m = img.manifest();
        let d = push_img(port, "multi/img", &sha256(&m).replace(':', "-"), &img);
        let key = format!("{arch}/{}", variant.unwrap_or(""));
        if ids.contains_key(&key) {
            continue;
        }
        ids.insert(key, img.id());
        let mut platform = json!({"os": "linux", "architecture": arch});
        if let Some(v) = variant {
            platform["variant"] = json!(v);
        }
        entries.push(json!({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": d, "size": m.len(), "platform": platform}));
    }
    // An attestation-like entry without a platform is ignored.
    let index = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": entries,
    }))
    .unwrap();
    let index_digest = put_manifest(
        port,
        "multi/img",
        "latest",
        "application/vnd.oci.image.index.v1+json",
        &index,
    );
    let name = format!("{}/multi/img", reg.host());

    let t = T::new();
    let (out, err) = t.ok(&["pull", "--platform", "linux/arm/v7", &name]);
    assert_eq!(out.trim(), format!("{name}:latest"));
    assert!(err.contains("Using default tag: latest"), "{err}");
    assert_eq!(digest_line(&err), index_digest, "Digest: is the index's");
    assert_eq!(t.image_ids(), vec![ids["arm/v7"].clone()]);

    let t = T::new();
    t.ok(&["pull", "--platform", "linux/arm64", &name]);
    assert_eq!(t.image_ids(), vec![ids["arm64/v8"].clone()]);

    // The config file's default-platform stands in for --platform.
    let t = T::new();
    std::fs::write(
        t.b.root().with_file_name("config.toml"),
        "default-platform = \"linux/arm64\"\n",
    )
    .unwrap();
    t.ok(&["pull", &name]);
    assert_eq!(t.image_ids(), vec![ids["arm64/v8"].clone()]);

    let t = T::new();
    t.ok(&["pull", &name]);
    let host_key = if host_arch() == "amd64" {
        "amd64/".to_string()
    } else {
        format!("{}/", host_arch())
    };
    if let Some(id) = ids.get(&host_key) {
        assert_eq!(t.image_ids(), vec![id.clone()]);
    }

    let err = T::new().fails(&["pull", "--platform", "linux/s390x", &name]);
    assert!(err.contains("no image for platform linux/s390x"), "{err}");
}

#[test]
fn zstd_uncompressed_and_docker_media_types() {
    let reg = Registry::start(None);
    let port = reg.port;
    // zstd layers, OCI types.
    let img = sample("", "z.txt", b"zstd!").compressed(zstd);
    push_img(port, "z/img", "1", &img);
    // Uncompressed layers.
    let plain = Img::new("", vec![layer(&[E::File("plain.txt", b"plain")])]);
    push_img(port, "p/img", "1", &plain);
    // Docker schema 2 media types.
    let dimg = sample("", "docker.txt", b"docker types");
    for (b, _) in &dimg.layers {
        put_blob(port, "d/img", b);
    }
    let cfg = dimg.config();
    put_blob(port, "d/img", &cfg);
    let layers: Vec<_> = dimg
        .layers
        .iter()
        .map(|(b, _)| json!({"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "digest": sha256(b), "size": b.len()}))
        .collect();
    let m = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "digest": sha256(&cfg), "size": cfg.len()},
        "layers": layers,
    }))
    .unwrap();
    let md = put_manifest(
        port,
        "d/img",
        "1",
        "application/vnd.docker.distribution.manifest.v2+json",
        &m,
    );
    let list = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.list.v2+json",
        "manifests": [{"mediaType": "application/vnd.docker.distribution.manifest.v2+json", "digest": md, "size": m.len(),
                       "platform": {"os": "linux", "architecture": host_arch()}}],
    }))
    .unwrap();
    put_manifest(
        port,
        "d/img",
        "list",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        &list,
    );

    let t = T::new();
    t.ok(&["pull", &format!("{}/z/img:1", reg.host())]);
    assert_eq!(t.layer_file("z.txt").unwrap(), b"zstd!");
    t.ok(&["pull", &format!("{}/p/img:1", reg.host())]);
    assert_eq!(t.layer_file("plain.txt").unwrap(), b"plain");
    t.ok(&["pull", &format!("{}/d/img:1", reg.host())]);
    assert_eq!(t.layer_file("docker.txt").unwrap(), b"docker types");
    let t2 = T::new();
    t2.ok(&["pull", &format!("{}/d/img:list", reg.host())]);
    assert_eq!(t2.image_ids(), vec![dimg.id()]);
    // What was pulled with Docker types pushes back with the same digest.
    let (out, _) = t.ok(&[
        "push",
        &format!("{}/d/img:1", reg.host()),
        &format!("{}/d/copy:1", reg.host()),
    ]);
    assert!(out.contains(&md), "{out}");
}

#[test]
fn unknown_image_is_a_one_line_manifest_unknown() {
    let reg = Registry::start(None);
    let t = T::new();
    let err = t.fails(&["pull", &format!("{}/no/such:1", reg.host())]);
    assert!(err.contains("manifest unknown"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    let err = t.fails(&["pull", &format!("{}/no/such", reg.host())]);
    assert_eq!(err.lines().count(), 2, "{err}");
    assert!(
        err.starts_with("Using default tag: latest\nbarge: error: "),
        "{err}"
    );
    assert!(t.image_ids().is_empty());
}

#[test]
fn basic_auth_login_push_pull_logout() {
    let reg = Registry::start(Some(("barge", "s3cret")));
    let host = reg.host();
    let src = T::new();
    let img = sample("app:1", "auth.txt", b"behind a password");
    src.b
        .import_stdin(&docker_archive(std::slice::from_ref(&img)), &[]);
    let dest = format!("{host}/auth/app:1");
    let err = src.fails(&["push", "app:1", &dest]);
    assert!(
        err.contains(&format!("hint: log in with `barge login {host}`")),
        "{err}"
    );

    // Wrong password: refused, nothing written.
    let mut c = src.cmd();
    c.args(["login", "-u", "barge", "--password-stdin", &host]);
    let o = run_with_stdin(c, b"wrong\n");
    assert_eq!(
        o.status.code(),
        Some(125),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(!src.docker_config.path().join("config.json").exists());

    let mut c = src.cmd();
    c.args(["login", "-u", "barge", "--password-stdin", &host]);
    let o = run_with_stdin(c, b"s3cret\n");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), "Login Succeeded");
    let cfg: serde_json::Value = serde_json::from_slice(
        &std::fs::read(src.docker_config.path().join("config.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(cfg["auths"][&host]["auth"], "YmFyZ2U6czNjcmV0"); // base64("barge:s3cret")

    let (out, _) = src.ok(&["push", "app:1", &dest]);
    let pushed = out
        .split("digest: ")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    let dst = src.sibling();
    let (_, err) = dst.ok(&["pull", &dest]);
    assert_eq!(digest_line(&err), pushed);
    assert_eq!(dst.layer_file("auth.txt").unwrap(), b"behind a password");

    let (out, _) = dst.ok(&["logout", &host]);
    assert!(out.contains("Removing login credentials"), "{out}");
    let err = T::new().fails(&["pull", &dest]);
    assert!(err.contains("barge login"), "{err}");
    let err = dst.fails(&["pull", &format!("{host}/auth/app:2")]);
    assert!(err.contains("barge login"), "{err}");
}

fn run_with_stdin(mut c: Command, input: &[u8]) -> Output {
    use std::io::Write;
    c.stdin(std::process::Stdio::piped());
    c.stdout(std::process::Stdio::piped());
    c.stderr(std::process::Stdio::piped());
    let mut child = c.spawn().unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn lying_registries_are_rejected_and_nothing_is_stored() {
    let fake = Fake::start();
    let img = sample("", "lie.txt", b"truth");
    fake.image("lie/blob", "1", &img);
    // Wrong bytes for the second layer (same length).
    let (b, _) = &img.layers[1];
    let mut wrong = b.clone();
    let n = wrong.len();
    wrong[n - 9] ^= 0xff;
    fake.route(
        &format!("/v2/lie/blob/blobs/{}", sha256(b)),
        "application/octet-stream",
        wrong,
        None,
    );
    let t = T::new();
    let err = t.fails(&["pull", &format!("{}/lie/blob:1", fake.host())]);
    assert!(err.contains("digest mismatch"), "{err}");
    assert!(t.image_ids().is_empty());
    assert!(!t.blobs().contains(&hexof(&sha256(b)).to_string()));
    // The lying blob's bytes are thrown away (a good layer cut short by the failure may
    // keep its partial file for the next pull to resume).
    let lying_partial = format!("{}.partial", hexof(&sha256(b)));
    assert!(!t.ingest().contains(&lying_partial), "{:?}", t.ingest());

    // A manifest that is not the one asked for.
    let other = sample("", "other.txt", b"other");
    let d = fake.image("lie/manifest", "1", &img);
    fake.route(
        &format!("/v2/lie/manifest/manifests/{d}"),
        "application/vnd.oci.image.manifest.v1+json",
        other.manifest(),
        None,
    );
    let err = t.fails(&["pull", &format!("{}/lie/manifest@{d}", fake.host())]);
    assert!(err.contains("digest mismatch"), "{err}");

    // A manifest over 4 MiB.
    let mut huge = img.manifest();
    huge.truncate(huge.len() - 1);
    huge.extend_from_slice(
        format!(",\"annotations\":{{\"x\":\"{}\"}}}}", "a".repeat(5 << 20)).as_bytes(),
    );
    fake.route(
        "/v2/lie/huge/manifests/1",
        "application/vnd.oci.image.manifest.v1+json",
        huge,
        None,
    );
    let err = t.fails(&["pull", &format!("{}/lie/huge:1", fake.host())]);
    assert!(err.contains("larger than"), "{err}");

    // An endless blob body.
    fake.image("lie/endless", "1", &img);
    fake.route(
        &format!("/v2/lie/endless/blobs/{}", sha256(b)),
        "application/octet-stream",
        Vec::new(),
        Some(Behavior::Endless),
    );
    let err = t.fails(&["pull", &format!("{}/lie/endless:1", fake.host())]);
    assert!(
        err.contains("digest mismatch") || err.contains("bytes"),
        "{err}"
    );
    assert!(t.image_ids().is_empty());
    assert!(!t.ingest().contains(&lying_partial), "{:?}", t.ingest());

    // Schema 1: a clear error.
    fake.route(
        "/v2/lie/old/manifests/1",
        "application/vnd.docker.distribution.manifest.v1+prettyjws",
        br#"{"schemaVersion":1,"name":"x","tag":"1","fsLayers":[]}"#.to_vec(),
        None,
    );
    let err = t.fails(&["pull", &format!("{}/lie/old:1", fake.host())]);
    assert!(err.contains("schema 1"), "{err}");
}

fn big_img(tag: &str) -> Img {
    // Incompressible content so the blob is big enough to cut in the middle.
    let mut data = vec![0u8; 3 << 20];
    let mut x: u64 = 0x9e3779b97f4a7c15;
    for b in data.iter_mut() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *b = x as u8;
    }
    Img::new(tag, vec![layer(&[E::FileOwned("big.bin".into(), data)])]).compressed(gzip)
}

#[test]
fn a_cut_connection_resumes_with_range() {
    let fake = Fake::start();
    let img = big_img("");
    fake.image("cut/img", "1", &img);
    let (b, _) = &img.layers[0];
    let path = format!("/v2/cut/img/blobs/{}", sha256(b));
    let half = b.len() / 2;

    // Within one pull: the retry continues from where the cut happened.
    fake.route(
        &path,
        "application/octet-stream",
        b.clone(),
        Some(Behavior::CutAt(half, 1)),
    );
    let t = T::new();
    t.ok(&["pull", &format!("{}/cut/img:1", fake.host())]);
    let reqs = fake.requests(&path);
    assert_eq!(reqs.len(), 2, "{reqs:?}");
    assert_eq!(reqs[1].as_deref(), Some(format!("bytes={half}-").as_str()));
    assert_eq!(t.image_ids(), vec![img.id()]);

    // Across pulls: no retries, so the first pull fails and leaves a partial file; the
    // next pull asks only for the rest.
    let fake = Fake::start();
    fake.image("cut/img", "1", &img);
    fake.route(
        &path,
        "application/octet-stream",
        b.clone(),
        Some(Behavior::CutAt(half, 1)),
    );
    let t = T::new();
    let o = t
        .cmd()
        .env("BARGE_PULL_RETRIES", "0")
        .args(["pull", &format!("{}/cut/img:1", fake.host())])
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(125),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("connection lost"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        t.ingest().iter().any(|n| n.ends_with(".partial")),
        "{:?}",
        t.ingest()
    );
    t.ok(&["pull", &format!("{}/cut/img:1", fake.host())]);
    let reqs = fake.requests(&path);
    assert_eq!(
        reqs.last().unwrap().as_deref(),
        Some(format!("bytes={half}-").as_str()),
        "{reqs:?}"
    );
    assert_eq!(t.image_ids(), vec![img.id()]);
    let data = t.layer_file("big.bin").unwrap();
    assert_eq!(data.len(), 3 << 20);
}

#[test]
fn transient_errors_are_retried() {
    let fake = Fake::start();
    let img = sample("", "r.txt", b"retry");
    fake.image("retry/img", "1", &img);
    let m = img.manifest();
    fake.route(
        "/v2/retry/img/manifests/1",
        "application/vnd.oci.image.manifest.v1+json",
        m,
        Some(Behavior::Fail(503, 2)),
    );
    let (b, _) = &img.layers[0];
    let path = format!("/v2/retry/img/blobs/{}", sha256(b));
    fake.route(
        &path,
        "application/octet-stream",
        b.clone(),
        Some(Behavior::Fail(429, 1)),
    );
    let t = T::new();
    t.ok(&["pull", &format!("{}/retry/img:1", fake.host())]);
    assert_eq!(t.layer_file("r.txt").unwrap(), b"retry");
    assert_eq!(fake.requests(&path).len(), 2);
    assert_eq!(fake.requests("/v2/retry/img/manifests/1").len(), 3);
}

#[test]
fn concurrent_pulls_fetch_each_blob_once() {
    let fake = Fake::start();
    let img = big_img("");
    fake.image("conc/img", "1", &img);
    let (b, _) = &img.layers[0];
    let path = format!("/v2/conc/img/blobs/{}", sha256(b));
    fake.route(
        &path,
        "application/octet-stream",
        b.clone(),
        Some(Behavior::Slow),
    );
    let t = T::new();
    let name = format!("{}/conc/img:1", fake.host());
    let spawn = || {
        t.cmd()
            .args(["pull", &name])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (c1, c2) = (spawn(), spawn());
    for c in [c1, c2] {
        let o = c.wait_with_output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    assert_eq!(fake.requests(&path).len(), 1, "the blob is fetched once");
    assert_eq!(t.image_ids(), vec![img.id()]);
}

#[test]
fn mirrors_are_tried_first() {
    let mirror = Fake::start();
    let img = sample("", "m.txt", b"from the mirror");
    mirror.image("library/thing", "1", &img);
    let t = T::new();
    std::fs::write(
        t.docker_config.path().join("registries.toml"),
        format!(
            "[registries.\"docker.io\"]\nmirrors = [\"http://{}\"]\n",
            mirror.host()
        ),
    )
    .unwrap();
    let (out, _) = t.ok(&["pull", "thing:1"]);
    assert_eq!(out.trim(), "docker.io/library/thing:1");
    assert_eq!(t.layer_file("m.txt").unwrap(), b"from the mirror");
    let (out, _) = t.ok(&["images", "--format", "{{.Repository}}:{{.Tag}}"]);
    assert_eq!(out.trim(), "thing:1");
}

#[test]
fn run_pulls_a_missing_image() {
    if !is_root() {
        return;
    }
    let reg = Registry::start(None);
    let img = Img::new("", vec![busybox_layer()]).compressed(gzip);
    push_img(reg.port, "bb/box", "1", &img);
    let t = T::new();
    let name = format!("{}/bb/box:1", reg.host());
    let err = t.fails(&["run", "--rm", "--pull", "never", &name, "true"]);
    assert!(err.contains("no such image"), "{err}");
    let o = t.run(&["run", "--rm", &name, "echo", "pulled and ran"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), "pulled and ran");
    assert!(String::from_utf8_lossy(&o.stderr).contains("Unable to find image"));
}

#[test]
fn redirects_to_another_host_never_carry_credentials() {
    let reg = Fake::start();
    let storage = Fake::start();
    let img = sample("", "redir.txt", b"from blob storage");
    reg.image("private/img", "1", &img);
    storage.image("private/img", "1", &img);
    let (b, _) = &img.layers[1];
    let path = format!("/v2/private/img/blobs/{}", sha256(b));
    reg.route(
        &path,
        "",
        Vec::new(),
        Some(Behavior::Redirect(format!(
            "http://{}{path}",
            storage.host()
        ))),
    );
    let basic = "Basic YmFyZ2U6czNjcmV0"; // barge:s3cret
    reg.state.lock().unwrap().require_auth = Some(basic.to_string());
    let t = T::new();
    std::fs::write(
        t.docker_config.path().join("config.json"),
        format!(
            r#"{{"auths":{{"{}":{{"auth":"YmFyZ2U6czNjcmV0"}}}}}}"#,
            reg.host()
        ),
    )
    .unwrap();
    t.ok(&["pull", &format!("{}/private/img:1", reg.host())]);
    assert_eq!(t.layer_file("redir.txt").unwrap(), b"from blob storage");
    let seen = storage.state.lock().unwrap().auth_log.clone();
    assert!(!seen.is_empty(), "the blob came from the storage host");
    assert!(
        seen.iter().all(|(_, a)| a.is_none()),
        "credentials leaked: {seen:?}"
    );
    // The registry itself got them.
    let reg_seen = reg.state.lock().unwrap().auth_log.clone();
    assert!(reg_seen.iter().any(|(_, a)| a.as_deref() == Some(basic)));
}

#[test]
fn bearer_tokens_from_the_challenge() {
    let reg = Fake::start();
    let img = sample("", "token.txt", b"with a token");
    reg.image("tok/img", "1", &img);
    reg.route(
        "/token",
        "application/json",
        br#"{"token":"t0k3n"}"#.to_vec(),
        None,
    );
    {
        let mut st = reg.state.lock().unwrap();
        st.require_auth = Some("Bearer t0k3n".into());
        st.challenge = Some(format!(
            r#"Bearer realm="http://{}/token",service="fake",scope="repository:tok/img:pull""#,
            reg.host()
        ));
    }
    // Anonymous: the token request carries no credentials.
    let t = T::new();
    t.ok(&["pull", &format!("{}/tok/img:1", reg.host())]);
    assert_eq!(t.layer_file("token.txt").unwrap(), b"with a token");
    let log = reg.state.lock().unwrap().auth_log.clone();
    let token_reqs: Vec<_> = log
        .iter()
        .filter(|(p, _)| p.starts_with("/token"))
        .collect();
    assert_eq!(token_reqs.len(), 1, "one token per scope: {log:?}");
    assert!(token_reqs[0].0.contains("service=fake"), "{token_reqs:?}");
    assert!(
        token_reqs[0]
            .0
            .contains("scope=repository%3Atok%2Fimg%3Apull"),
        "{token_reqs:?}"
    );
    assert_eq!(token_reqs[0].1, None);
}

#[test]
fn credential_helpers_store_and_get() {
    let reg = Registry::start(Some(("helper", "pa55")));
    let host = reg.host();
    let t = T::new();
    // A docker-credential-* helper that keeps one secret in a file.
    let bin = t.docker_config.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let store = t.docker_config.path().join("helper-store.json");
    let script = format!(
        "#!/bin/sh\ncase $1 in\nstore) cat >{s} ;;\nget) read server; if [ -f {s} ]; then sed 's/ServerURL/Server/' {s}; else echo 'credentials not found in native keychain'; exit 1; fi ;;\nerase) rm -f {s} ;;\nesac\n",
        s = store.display()
    );
    let helper = bin.join("docker-credential-fake");
    std::fs::write(&helper, script).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(
        t.docker_config.path().join("config.json"),
        r#"{"credsStore":"fake"}"#,
    )
    .unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );

    let img = sample("app:1", "helper.txt", b"helper");
    t.b.import_stdin(&docker_archive(std::slice::from_ref(&img)), &[]);
    let mut c = t.cmd();
    c.env("PATH", &path)
        .args(["login", "-u", "helper", "--password-stdin", &host]);
    let o = run_with_stdin(c, b"pa55");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let saved = std::fs::read_to_string(&store).unwrap();
    assert!(saved.contains("\"Secret\":\"pa55\""), "{saved}");
    let cfg = std::fs::read_to_string(t.docker_config.path().join("config.json")).unwrap();
    assert!(
        !cfg.contains("pa55"),
        "the secret stays in the helper: {cfg}"
    );

    let dest = format!("{host}/helper/app:1");
    let o = t
        .cmd()
        .env("PATH", &path)
        .args(["push", "app:1", &dest])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = t
        .cmd()
        .env("PATH", &path)
        .args(["logout", &host])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(!store.exists());
}

#[test]
fn prune_removes_interrupted_downloads() {
    let fake = Fake::start();
    let img = big_img("");
    fake.image("cut/img", "1", &img);
    let (b, _) = &img.layers[0];
    let path = format!("/v2/cut/img/blobs/{}", sha256(b));
    fake.route(
        &path,
        "application/octet-stream",
        b.clone(),
        Some(Behavior::CutAt(b.len() / 3, 1)),
    );
    let t = T::new();
    let o = t
        .cmd()
        .env("BARGE_PULL_RETRIES", "0")
        .args(["pull", &format!("{}/cut/img:1", fake.host())])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(125));
    assert!(
        t.ingest().iter().any(|n| n.ends_with(".partial")),
        "{:?}",
        t.ingest()
    );
    t.ok(&["image", "prune", "-f"]);
    assert!(t.ingest().is_empty(), "{:?}", t.ingest());
}
