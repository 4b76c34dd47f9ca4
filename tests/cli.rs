//! The command line as people and scripts meet it: exit codes of every error class,
//! output formats (golden tables and JSON with ids and times replaced), templates, broken
//! pipes, prompts without a terminal, completions and man pages, info/version, system
//! prune/check/df, the config file and install.sh.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};

use common::*;
use serde_json::Value;

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_barge")
}

fn code(o: &std::process::Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Two images that share their first layer, so sizes and shared sizes are known.
fn two_images(b: &Barge) -> (Img, Img) {
    let base = layer(&[E::Dir("etc"), E::File("etc/base", &[b'x'; 1000])]);
    let a = Img::new(
        "app:1",
        vec![base.clone(), layer(&[E::File("a", &[b'a'; 500])])],
    );
    let c = Img::new(
        "tools/cli:2",
        vec![base, layer(&[E::File("c", &[b'c'; 300])])],
    );
    b.ok(&[
        "import",
        &b.file("two.tar", &docker_archive(&[a.clone(), c.clone()])),
    ]);
    (a, c)
}

/// Cells of a table row (columns are separated by at least 3 spaces, cells hold at most
/// single spaces).
fn cells(line: &str) -> Vec<String> {
    line.split("   ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_string)
        .collect()
}

/// "2 years ago", "Less than a second ago", "Created 3 seconds ago" -> "<SINCE>".
fn no_times(s: &str) -> String {
    let words = [
        "second", "seconds", "minute", "minutes", "hour", "hours", "days", "weeks", "months",
        "years",
    ];
    let mut out: Vec<String> = Vec::new();
    let toks: Vec<&str> = s.split(' ').collect();
    let mut i = 0;
    while i < toks.len() {
        if i + 2 < toks.len() && words.contains(&toks[i + 1]) && toks[i + 2] == "ago" {
            out.push("<SINCE>".into());
            i += 3;
        } else if i + 3 < toks.len() && toks[i..i + 4] == ["Less", "than", "a", "second"] {
            out.push("<SINCE>".into());
            i += if toks.get(i + 4) == Some(&"ago") {
                5
            } else {
                4
            };
        } else {
            out.push(toks[i].to_string());
            i += 1;
        }
    }
    out.join(" ")
}

// ---------------------------------------------------------------------------------------
// Exit codes

#[test]
fn exit_codes_of_every_error_class() {
    let b = Barge::new();
    let img = Img::new("x:1", vec![layer(&[E::File("f", b"f")])]);
    b.ok(&["import", &b.file("x.tar", &docker_archive(&[img]))]);
    let cases: &[(&[&str], &str)] = &[
        (&["images", "--bogus-flag"], "unexpected argument"),
        (&["frobnicate"], "unrecognized subcommand"),
        (&["inspect", "--type", "image", "nope:1"], "no such"),
        (&["history", "nope:1"], "no such image: nope:1"),
        (&["run", "--pull", "never", "nope:1"], "no such image"),
        (&["stop", "nope"], "no such container: nope"),
        (&["logs", "nope"], "no such container: nope"),
        (&["ps", "--filter", "colour=red"], "unsupported filter"),
        (
            &["import", "/nonexistent/archive.tar"],
            "/nonexistent/archive.tar",
        ),
        (&["system", "prune"], "asks for confirmation"),
        (&["images", "--format", "{{.Repository"], "unclosed action"),
    ];
    for (args, want) in cases {
        let o = b.run(args);
        assert_eq!(code(&o), 125, "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(want), "{args:?}: {}", stderr(&o));
        // `inspect` prints `[]` for what it did not find, as Docker does.
        if args[0] != "inspect" {
            assert!(o.stdout.is_empty(), "{args:?}: errors go to stderr only");
        }
    }
    // barge's own errors are one `barge: error:` line (plus a hint).
    let o = b.run(&["history", "nope:1"]);
    assert!(
        stderr(&o).starts_with("barge: error: no such image"),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("\nhint: "), "{}", stderr(&o));
    // --help, --version and `help CMD` are not errors, and go to stdout.
    for args in [
        &["--help"][..],
        &["--version"],
        &["help", "run"],
        &["run", "--help"],
    ] {
        let o = b.run(args);
        assert_eq!(code(&o), 0, "{args:?}");
        assert!(!o.stdout.is_empty(), "{args:?}");
    }
}

#[test]
fn debug_shows_the_cause_chain_and_the_time_on_stderr() {
    let b = Barge::new();
    let o = b.run(&["--debug", "import", "/nonexistent/archive.tar"]);
    assert_eq!(code(&o), 125);
    let e = stderr(&o);
    assert!(e.contains("  debug: "), "{e}");
    assert!(e.contains("barge: debug: took "), "{e}");
    let o = b.run(&["--debug", "images"]);
    assert_eq!(code(&o), 0);
    assert!(stderr(&o).contains("barge: debug: took "));
    assert!(!stdout(&o).contains("took"), "timings are not data");
}

#[test]
fn help_has_examples_for_the_main_commands() {
    let b = Barge::new();
    for cmd in ["run", "images", "ps", "import", "save"] {
        let long = stdout(&b.run(&["help", cmd]));
        assert!(long.contains("Examples:\n  barge "), "{cmd}: {long}");
        // The short form stays short.
        assert!(!stdout(&b.run(&[cmd, "-h"])).contains("Examples:"), "{cmd}");
    }
}

// ---------------------------------------------------------------------------------------
// Output for scripts

#[test]
fn images_table_and_json_golden() {
    let b = Barge::new();
    let (a, c) = two_images(&b);
    let short = |i: &Img| hexof(&i.id())[..12].to_string();
    let table = b.ok(&["images"]);
    let mut lines = table.lines();
    assert_eq!(
        lines.next().unwrap(),
        "REPOSITORY   TAG       IMAGE ID       CREATED       SIZE"
    );
    let mut rows: Vec<Vec<String>> = lines.map(|l| cells(&no_times(l))).collect();
    rows.sort();
    assert_eq!(
        rows,
        [
            ["app", "1", &short(&a), "<SINCE>", "1.5kB"],
            ["tools/cli", "2", &short(&c), "<SINCE>", "1.3kB"],
        ]
    );
    let mut json: Vec<Value> = b
        .ok(&["images", "--format", "json"])
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    json.sort_by_key(|v| v["Repository"].as_str().unwrap().to_string());
    let mut first = json[0].clone();
    assert_eq!(first["ID"], short(&a));
    first["ID"] = "<ID>".into();
    first["CreatedSince"] = "<SINCE>".into();
    assert_eq!(
        serde_json::to_string(&first).unwrap(),
        r#"{"Containers":"N/A","CreatedAt":"2024-01-01 00:00:00 +0000 UTC","CreatedSince":"<SINCE>","Digest":"<none>","ID":"<ID>","Repository":"app","SharedSize":"N/A","Size":"1.5kB","Tag":"1","UniqueSize":"N/A","VirtualSize":"1.5kB"}"#
    );
    // Templates, with and without a table header.
    let mut t: Vec<String> = b
        .ok(&["images", "--format", "{{.Repository}}:{{.Tag}} {{.Size}}"])
        .lines()
        .map(str::to_string)
        .collect();
    t.sort();
    assert_eq!(t, ["app:1 1.5kB", "tools/cli:2 1.3kB"]);
    let t = b.ok(&[
        "images",
        "--format",
        "table {{.Repository}}\\t{{.Tag}}",
        "app",
    ]);
    assert_eq!(t, "REPOSITORY   TAG\napp          1\n");
    // -q: unique IDs, one a line.
    let mut q: Vec<String> = b
        .ok(&["images", "-q"])
        .lines()
        .map(str::to_string)
        .collect();
    q.sort();
    let mut want = vec![short(&a), short(&c)];
    want.sort();
    assert_eq!(q, want);
}

#[test]
fn inspect_history_and_volume_ls_formats() {
    let b = Barge::new();
    let (a, _) = two_images(&b);
    assert_eq!(b.ok(&["inspect", "-f", "{{.Id}}", "app:1"]).trim(), a.id());
    assert_eq!(
        b.ok(&[
            "inspect",
            "--format",
            "{{json .Config.Cmd}} {{.Os}}",
            "app:1"
        ])
        .trim(),
        r#"["sh"] linux"#
    );
    let doc: Value = serde_json::from_str(&b.ok(&["inspect", "app:1"])).unwrap();
    assert_eq!(doc[0]["RepoTags"][0], "app:1");
    // history
    let h = b.ok(&["history", "--format", "json", "app:1"]);
    let rows: Vec<Value> = h
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 2);
    for key in ["CreatedBy", "CreatedSince", "ID", "Size"] {
        assert!(rows[0].get(key).is_some(), "history json lacks {key}: {h}");
    }
    assert_eq!(
        b.ok(&["history", "--format", "{{.CreatedBy}}", "app:1"]),
        "layer 1\nlayer 0\n"
    );
    assert_eq!(b.ok(&["history", "-q", "app:1"]).lines().count(), 2);
    let table = b.ok(&["history", "app:1"]);
    assert_eq!(
        cells(table.lines().next().unwrap()),
        ["IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"]
    );
    // volume ls
    b.ok(&["volume", "create", "vol1"]);
    b.ok(&["volume", "create", "vol2"]);
    assert_eq!(b.ok(&["volume", "ls", "-q"]), "vol1\nvol2\n");
    assert_eq!(
        b.ok(&["volume", "ls"]),
        "DRIVER    VOLUME NAME\nlocal     vol1\nlocal     vol2\n"
    );
    let v: Value = serde_json::from_str(
        b.ok(&["volume", "ls", "--format", "json"])
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(v["Name"], "vol1");
    assert_eq!(v["Driver"], "local");
    assert_eq!(
        b.ok(&["volume", "ls", "--format", "{{.Name}}={{.Driver}}"]),
        "vol1=local\nvol2=local\n"
    );
    assert_eq!(
        b.ok(&["volume", "inspect", "-f", "{{.Name}}", "vol2"])
            .trim(),
        "vol2"
    );
}

#[test]
fn ps_and_container_inspect_golden() {
    if !is_root() {
        eprintln!("skipped: needs root");
        return;
    }
    let b = Barge::new();
    let img = Img::new("bb:1", vec![busybox_layer()]);
    b.ok(&["import", &b.file("bb.tar", &docker_archive(&[img]))]);
    let id = b
        .ok(&["create", "--name", "c1", "bb:1", "echo", "hi"])
        .trim()
        .to_string();
    assert_eq!(id.len(), 64);
    let table = b.ok(&["ps", "-a"]);
    let mut lines = table.lines();
    assert_eq!(
        cells(lines.next().unwrap()),
        [
            "CONTAINER ID",
            "IMAGE",
            "COMMAND",
            "CREATED",
            "STATUS",
            "PORTS",
            "NAMES"
        ]
    );
    let row = no_times(lines.next().unwrap()).replace(&id[..12], "<ID>");
    assert_eq!(
        cells(&row),
        ["<ID>", "bb:1", "\"echo hi\"", "<SINCE>", "Created", "c1"]
    );
    assert_eq!(b.ok(&["ps", "-a", "-q"]).trim(), &id[..12]);
    assert_eq!(b.ok(&["ps", "-q"]), "", "not running: only with -a");
    let mut v: Value =
        serde_json::from_str(b.ok(&["ps", "-a", "--format", "json"]).trim()).unwrap();
    assert_eq!(v["ID"], &id[..12]);
    v["ID"] = "<ID>".into();
    v["CreatedAt"] = "<TIME>".into();
    v["RunningFor"] = "<SINCE>".into();
    assert_eq!(
        serde_json::to_string(&v).unwrap(),
        r#"{"Command":"\"echo hi\"","CreatedAt":"<TIME>","ID":"<ID>","Image":"bb:1","Labels":"","LocalVolumes":"0","Mounts":"","Names":"c1","Networks":"bridge","Ports":"","RunningFor":"<SINCE>","Size":"N/A","State":"created","Status":"Created"}"#
    );
    assert_eq!(
        b.ok(&["ps", "-a", "--format", "{{.Names}} {{.State}}"]),
        "c1 created\n"
    );
    // Container inspect, with Docker's State fields.
    assert_eq!(
        b.ok(&[
            "inspect",
            "-f",
            "{{.State.Status}} {{.State.Running}} {{.Name}}",
            "c1"
        ])
        .trim(),
        "created false /c1"
    );
    assert_eq!(b.ok(&["inspect", "-f", "{{.State.Pid}}", "c1"]).trim(), "0");
    assert_eq!(
        b.ok(&["container", "inspect", "--format", "{{.Id}}", "c1"])
            .trim(),
        id
    );
    b.ok(&["rm", "c1"]);
}

#[test]
fn a_broken_pipe_is_not_an_error_for_any_listing() {
    let b = Barge::new();
    two_images(&b);
    // Enough volumes that `volume ls` outgrows a pipe buffer, so the write really fails.
    for i in 0..6000 {
        std::fs::create_dir_all(
            b.root()
                .join(format!("volumes/v{i:05}-padding-padding/_data")),
        )
        .unwrap();
    }
    for args in [
        "images",
        "images --format json",
        "ps -a",
        "history app:1",
        "volume ls",
        "volume ls --format json",
        "system df -v",
        "info",
        "version",
        "inspect app:1",
    ] {
        let st = Command::new("bash")
            .arg("-c")
            .arg(format!(
                "set -o pipefail; '{}' --root '{}' {args} | head -c1 >/dev/null",
                bin(),
                b.root().display()
            ))
            .env("BARGE_CONFIG", "/nonexistent")
            .status()
            .unwrap();
        assert!(st.success(), "{args}");
    }
}

#[test]
fn no_color_is_accepted_and_output_has_no_escapes() {
    let b = Barge::new();
    two_images(&b);
    for args in [&["images"][..], &["info"], &["system", "df"]] {
        let o = b.cmd().args(args).env("NO_COLOR", "1").output().unwrap();
        assert_eq!(code(&o), 0);
        assert!(
            !o.stdout.contains(&0x1b) && !o.stderr.contains(&0x1b),
            "{args:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// System commands

#[test]
fn info_and_version_as_text_json_and_templates() {
    let b = Barge::new();
    two_images(&b);
    let v: Value = serde_json::from_str(b.ok(&["info", "--format", "json"]).trim()).unwrap();
    assert_eq!(v["Images"], 2);
    assert_eq!(v["Containers"], 0);
    assert_eq!(v["Driver"], "overlay");
    assert_eq!(v["DockerRootDir"], b.root().display().to_string());
    for key in [
        "CgroupDriver",
        "CgroupVersion",
        "KernelVersion",
        "Rootless",
        "SecurityOptions",
        "Features",
        "OperatingSystem",
        "Architecture",
    ] {
        assert!(v.get(key).is_some(), "info lacks {key}");
    }
    assert_eq!(b.ok(&["info", "-f", "{{.Driver}}"]).trim(), "overlay");
    assert_eq!(b.ok(&["system", "info", "-f", "{{.Images}}"]).trim(), "2");
    let text = b.ok(&["info"]);
    assert!(text.contains("Storage Driver: overlay"), "{text}");
    assert!(text.contains("Cgroup Version: "), "{text}");
    let v: Value = serde_json::from_str(b.ok(&["version", "--format", "json"]).trim()).unwrap();
    assert_eq!(v["Client"]["Version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(v["Client"]["Os"], "linux");
    assert!(
        v["Client"]["RustVersion"]
            .as_str()
            .unwrap()
            .starts_with("rustc ")
    );
    assert!(v["Client"].get("GitCommit").is_some());
    assert!(b.ok(&["version"]).contains("Version:"));
}

#[test]
fn system_df_verbose_shows_shared_and_unique_sizes() {
    let b = Barge::new();
    two_images(&b);
    let out = b.ok(&["system", "df", "-v"]);
    let mut rows: Vec<Vec<String>> = out
        .lines()
        .skip_while(|l| !l.starts_with("REPOSITORY"))
        .skip(1)
        .take_while(|l| !l.is_empty())
        .map(|l| {
            let mut c = cells(&no_times(l));
            c.remove(2); // image ID
            c
        })
        .collect();
    rows.sort();
    assert_eq!(
        rows,
        [
            ["app", "1", "<SINCE>", "1.5kB", "1kB", "500B", "0"],
            ["tools/cli", "2", "<SINCE>", "1.3kB", "1kB", "300B", "0"],
        ]
    );
    assert!(out.contains("Containers space usage:"), "{out}");
    assert!(out.contains("Local Volumes space usage:"), "{out}");
    let v: Value =
        serde_json::from_str(b.ok(&["system", "df", "-v", "--format", "json"]).trim()).unwrap();
    assert_eq!(v["Images"].as_array().unwrap().len(), 2);
    let plain = b.ok(&["system", "df", "--format", "{{.Type}} {{.TotalCount}}"]);
    assert!(
        plain.starts_with("Images 2\nContainers 0\nLocal Volumes 0\n"),
        "{plain}"
    );
}

#[test]
fn system_prune_refuses_without_a_terminal_and_prunes_with_force() {
    let b = Barge::new();
    let img = Img::new("keep:1", vec![layer(&[E::File("k", b"k")])]);
    let dangling = Img::new("", vec![layer(&[E::File("d", b"d")])]);
    b.ok(&[
        "import",
        &b.file("i.tar", &docker_archive(&[img, dangling.clone()])),
    ]);
    b.ok(&["volume", "create", "unused"]);
    let before = b.store_files();
    // stdin is /dev/null (Barge::cmd): no prompt, a refusal with a hint, nothing removed.
    let o = b.run(&["system", "prune", "--volumes"]);
    assert_eq!(code(&o), 125);
    assert!(
        stderr(&o).contains("asks for confirmation"),
        "{}",
        stderr(&o)
    );
    assert!(
        stderr(&o).contains("hint: pass -f/--force"),
        "{}",
        stderr(&o)
    );
    assert_eq!(b.store_files(), before);
    // Also from a pipe that has an answer in it: still no prompt.
    let mut c = b.cmd();
    c.args(["system", "prune"]).stdin(Stdio::piped());
    let mut child = c
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write as _;
    child.stdin.take().unwrap().write_all(b"y\n").unwrap();
    assert_eq!(child.wait_with_output().unwrap().status.code(), Some(125));
    // -f prunes: the dangling image and, with --volumes, the unused volume.
    let out = b.ok(&["system", "prune", "-f", "--volumes"]);
    assert!(
        out.contains(&format!("deleted: {}", dangling.id())),
        "{out}"
    );
    assert!(out.contains("Deleted Volumes:\nunused"), "{out}");
    assert!(out.contains("Total reclaimed space: "), "{out}");
    assert_eq!(b.ok(&["images", "--format", "{{.Repository}}"]), "keep\n");
    assert_eq!(b.ok(&["volume", "ls", "-q"]), "");
}

#[test]
fn system_check_reports_and_repairs() {
    let b = Barge::new();
    let (a, _) = two_images(&b);
    let store_lines = |out: &str| -> Vec<String> {
        out.lines()
            .filter(|l| l.contains(&*b.root().display().to_string()) || l.contains("layer sha256"))
            .map(str::to_string)
            .collect()
    };
    let o = b.run(&["system", "check"]);
    assert!(store_lines(&stdout(&o)).is_empty(), "{}", stdout(&o));
    // A recorded layer whose directory will vanish (the first layer of app:1).
    let chain =
        serde_json::from_str::<Value>(&b.ok(&["inspect", "app:1"])).unwrap()[0]["RootFS"]["Layers"]
            [0]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        chain,
        sha256(&a.layers[0].1),
        "single-layer chain ID is the diff ID"
    );
    // Plant one problem of each kind the store can have (no barge runs in between: opening
    // the store would sweep the dead scratch dir).
    let root = b.root();
    std::fs::create_dir_all(
        root.join("layers/0000000000000000000000000000000000000000000000000000000000000000/diff"),
    )
    .unwrap();
    let orphan =
        root.join("blobs/sha256/1111111111111111111111111111111111111111111111111111111111111111");
    std::fs::write(&orphan, b"orphan").unwrap();
    std::fs::create_dir_all(root.join("tmp/dead-123/x")).unwrap();
    std::fs::write(root.join("tmp/dead-123.lock"), b"").unwrap();
    std::fs::remove_dir_all(root.join("layers").join(hexof(&chain))).unwrap();

    let o = b.run(&["system", "check"]);
    assert_eq!(code(&o), 1, "{}", stdout(&o));
    let found = stdout(&o);
    for want in [
        "layer directory without a record: ",
        "blob without a reference: ",
        "scratch of a dead process: ",
        &format!("layer {chain} is recorded but its directory"),
    ] {
        assert!(found.contains(want), "missing {want:?} in:\n{found}");
    }
    // Reporting changes nothing.
    assert!(orphan.exists());
    let o = b.run(&["system", "check", "--repair"]);
    let out = stdout(&o);
    // (The dead scratch dir is gone already: every command that opens the store sweeps
    // those, the check above included.)
    assert!(
        out.lines().filter(|l| l.starts_with("repaired: ")).count() >= 3,
        "{out}"
    );
    assert!(!out.contains("not repaired"), "{out}");
    assert_eq!(code(&o), 0, "{out}");
    assert!(!orphan.exists());
    let o = b.run(&["system", "check"]);
    assert!(store_lines(&stdout(&o)).is_empty(), "{}", stdout(&o));
    // Both images used the missing layer: they were unusable and are gone.
    assert_eq!(b.ok(&["images", "-q"]), "");
}

// ---------------------------------------------------------------------------------------
// Config

#[test]
fn config_file_sets_the_root_and_defaults_and_a_bad_one_warns() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("from-config");
    let cfg = dir.path().join("config.toml");
    std::fs::write(
        &cfg,
        format!(
            "root = \"{}\"\ndefault-network = \"host\"\n[log-opts]\nmax-size = \"1m\"\n",
            root.display()
        ),
    )
    .unwrap();
    let run = |args: &[&str], env: &[(&str, &Path)]| {
        let mut c = Command::new(bin());
        c.args(args)
            .env_remove("BARGE_ROOT")
            .env("BARGE_NO_SYNC", "1");
        for (k, v) in env {
            c.env(k, v);
        }
        c.stdin(Stdio::null()).output().unwrap()
    };
    let o = run(
        &["info", "-f", "{{.DockerRootDir}} {{json .ConfigFiles}}"],
        &[("BARGE_CONFIG", &cfg)],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(
        stdout(&o).trim(),
        format!("{} [\"{}\"]", root.display(), cfg.display())
    );
    // BARGE_ROOT wins over the file.
    let other = dir.path().join("env-root");
    let o = run(
        &["info", "-f", "{{.DockerRootDir}}"],
        &[("BARGE_CONFIG", &cfg), ("BARGE_ROOT", &other)],
    );
    assert_eq!(stdout(&o).trim(), other.display().to_string());
    // XDG_CONFIG_HOME is where the user's file is found.
    let xdg = dir.path().join("xdg");
    std::fs::create_dir_all(xdg.join("barge")).unwrap();
    std::fs::copy(&cfg, xdg.join("barge/config.toml")).unwrap();
    let o = Command::new(bin())
        .args(["info", "-f", "{{.DockerRootDir}}"])
        .env_remove("BARGE_ROOT")
        .env_remove("BARGE_CONFIG")
        .env("XDG_CONFIG_HOME", &xdg)
        .output()
        .unwrap();
    if !Path::new("/etc/barge/config.toml").exists() {
        assert_eq!(stdout(&o).trim(), root.display().to_string());
    }
    // A typo is reported (file and key) and barge still runs with the defaults.
    std::fs::write(&cfg, "rot = \"/x\"\n").unwrap();
    let o = run(
        &["--root", &other.display().to_string(), "images", "-q"],
        &[("BARGE_CONFIG", &cfg)],
    );
    assert_eq!(code(&o), 0);
    let e = stderr(&o);
    assert!(
        e.contains("barge: warning: config file ") && e.contains("rot"),
        "{e}"
    );
}

// ---------------------------------------------------------------------------------------
// Completions and man pages

#[test]
fn generated_completions_and_man_pages_are_up_to_date() {
    let dir = tempfile::tempdir().unwrap();
    let comp = dir.path().join("completions");
    let man = dir.path().join("man");
    let o = Command::new(bin())
        .args(["__generate", "--completions"])
        .arg(&comp)
        .arg("--man")
        .arg(&man)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let listing = |d: &Path| -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(d)
            .map(|rd| {
                rd.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    };
    for sub in ["completions", "man/man1", "man/man5"] {
        let fresh = dir.path().join(sub);
        let committed = repo.join(sub);
        assert_eq!(
            listing(&fresh),
            listing(&committed),
            "{sub}/ has missing or extra files: run `cargo run -- __generate`"
        );
        for f in listing(&fresh) {
            assert_eq!(
                std::fs::read(fresh.join(&f)).unwrap(),
                std::fs::read(committed.join(&f)).unwrap_or_default(),
                "{sub}/{f} is stale: run `cargo run -- __generate`"
            );
        }
    }
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let o = Command::new(bin())
            .args(["completion", shell])
            .output()
            .unwrap();
        assert_eq!(code(&o), 0, "{shell}");
        assert!(!o.stdout.is_empty(), "{shell}");
    }
    assert_eq!(
        Command::new(bin())
            .args(["completion", "tcsh"])
            .output()
            .unwrap()
            .status
            .code(),
        Some(125)
    );
}

fn have(prog: &str) -> bool {
    Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {prog}"))
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The committed scripts parse in their shells (bash always; zsh and fish when installed,
/// as .ci/run does), and fish, run for real, offers names from the store.
#[test]
fn completion_scripts_parse_and_fish_completes_names() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("completions");
    let checks: [(&str, &[&str], &str); 3] = [
        ("bash", &["-n"], "barge.bash"),
        ("zsh", &["-n"], "_barge"),
        ("fish", &["--no-execute"], "barge.fish"),
    ];
    for (shell, flags, file) in checks {
        if !have(shell) {
            eprintln!("{shell} not installed: not checked");
            continue;
        }
        let o = Command::new(shell)
            .args(flags)
            .arg(dir.join(file))
            .output()
            .unwrap();
        assert!(o.status.success(), "{file}: {}", stderr(&o));
    }
    if have("fish") {
        let b = Barge::new();
        b.ok(&["volume", "create", "fishvol"]);
        // The script runs `barge` from PATH.
        let bindir = b.dir.path().join("bin");
        std::fs::create_dir_all(&bindir).unwrap();
        std::os::unix::fs::symlink(bin(), bindir.join("barge")).unwrap();
        let path = format!(
            "{}:{}",
            bindir.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let o = Command::new("fish")
            .arg("-c")
            .arg(format!(
                "source '{}'; complete -C 'barge volume rm f'",
                dir.join("barge.fish").display()
            ))
            .env("PATH", path)
            .env("BARGE_ROOT", b.root())
            .env("BARGE_CONFIG", "/nonexistent")
            .output()
            .unwrap();
        assert_eq!(stdout(&o).trim(), "fishvol", "{}", stderr(&o));
    }
}

/// What the bash script asks barge for at a TAB after `words`.
fn complete(b: Option<&Barge>, words: &[&str]) -> Vec<String> {
    let mut c = Command::new(bin());
    c.env("_BARGE_COMPLETE", "bash")
        .env("_CLAP_COMPLETE_INDEX", (words.len() - 1).to_string())
        .env("_CLAP_IFS", "\n")
        .env("BARGE_CONFIG", "/nonexistent/config.toml")
        .arg("--")
        .args(words);
    match b {
        Some(b) => c.env("BARGE_ROOT", b.root()),
        None => c.env("BARGE_ROOT", "/nonexistent/barge-store"),
    };
    let o = c.output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    stdout(&o).lines().map(str::to_string).collect()
}

#[test]
fn completion_offers_names_of_images_containers_pods_and_volumes() {
    // No store: subcommands complete, names do not, and nothing is created.
    assert!(complete(None, &["barge", "ima"]).contains(&"images".to_string()));
    assert!(
        !complete(None, &["barge", "rmi", ""])
            .iter()
            .any(|c| !c.starts_with('-'))
    );
    assert!(!Path::new("/nonexistent/barge-store").exists());

    let b = Barge::new();
    two_images(&b);
    b.ok(&["volume", "create", "data1"]);
    let imgs = complete(Some(&b), &["barge", "rmi", ""]);
    assert!(
        imgs.contains(&"app:1".into()) && imgs.contains(&"tools/cli:2".into()),
        "{imgs:?}"
    );
    assert!(complete(Some(&b), &["barge", "run", "--rm", ""]).contains(&"app:1".into()));
    assert!(complete(Some(&b), &["barge", "volume", "rm", ""]).contains(&"data1".into()));
    // --root on the line being completed picks the store.
    let other = Barge::new();
    let words = [
        "barge",
        "--root",
        &b.root().display().to_string(),
        "history",
        "",
    ];
    assert!(complete(Some(&other), &words).contains(&"app:1".into()));
    if is_root() {
        let img = Img::new("bb:1", vec![busybox_layer()]);
        b.ok(&["import", &b.file("bb.tar", &docker_archive(&[img]))]);
        b.ok(&["create", "--name", "comp-c1", "bb:1", "true"]);
        assert!(complete(Some(&b), &["barge", "start", ""]).contains(&"comp-c1".into()));
        assert!(complete(Some(&b), &["barge", "inspect", ""]).contains(&"comp-c1".into()));
        // Pods: where a pod is named, and beside containers where either may be.
        b.ok(&["pod", "create", "--name", "comp-p1"]);
        for words in [
            &["barge", "pod", "rm", ""][..],
            &["barge", "run", "--pod", ""],
            &["barge", "pod", "inspect", ""],
        ] {
            let c = complete(Some(&b), words);
            assert!(c.contains(&"comp-p1".into()), "{words:?}: {c:?}");
            assert!(!c.contains(&"comp-c1".into()), "{words:?}: {c:?}");
        }
        let both = complete(Some(&b), &["barge", "kube", "generate", ""]);
        assert!(
            both.contains(&"comp-p1".into()) && both.contains(&"comp-c1".into()),
            "{both:?}"
        );
        b.ok(&["pod", "rm", "comp-p1"]);
        b.ok(&["rm", "comp-c1"]);
    }
}

// ---------------------------------------------------------------------------------------
// install.sh

#[test]
fn install_sh_into_a_prefix_and_uninstall() {
    let dir = tempfile::tempdir().unwrap();
    let prefix = dir.path().join("prefix");
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let install = |extra: &[&str]| {
        let o = Command::new("sh")
            .arg(repo.join("install.sh"))
            .args(extra)
            .env("PREFIX", &prefix)
            .env("BARGE_BIN", bin())
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(o.status.success(), "install.sh {extra:?}: {}", stderr(&o));
        o
    };
    let o = install(&[]);
    let e = stderr(&o);
    assert!(e.contains("overlay"), "kernel checks are reported: {e}");
    for f in [
        "bin/barge",
        "share/man/man1/barge.1",
        "share/man/man1/barge-run.1",
        "share/man/man5/barge-config.5",
        "share/bash-completion/completions/barge",
        "share/zsh/site-functions/_barge",
        "share/fish/vendor_completions.d/barge.fish",
    ] {
        assert!(prefix.join(f).exists(), "{f} not installed");
    }
    let o = Command::new(prefix.join("bin/barge"))
        .arg("--version")
        .output()
        .unwrap();
    assert!(stdout(&o).starts_with("barge "));
    // Idempotent.
    install(&[]);
    install(&["--uninstall"]);
    let left: Vec<_> = walk(&prefix).into_iter().filter(|p| p.is_file()).collect();
    assert!(left.is_empty(), "left behind: {left:?}");
    // Uninstalling twice is fine too.
    install(&["--uninstall"]);
}

fn walk(d: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(d) {
        for e in rd.flatten() {
            out.push(e.path());
            if e.file_type().unwrap().is_dir() {
                out.extend(walk(&e.path()));
            }
        }
    }
    out
}
