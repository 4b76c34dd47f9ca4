//! The runtime library driven directly (as barge's own `run` does), as root.
//!
//! The runtime clones the calling process and requires it to be single-threaded; the test
//! harness has other threads, idle while a test holds `LOCK`. Each test takes the lock so
//! that only one clone happens at a time and no test thread is inside malloc meanwhile.

mod common;

use std::path::PathBuf;
use std::sync::Mutex;

use barge::runtime::{ExitStatus, Prestart, RootfsMount, RunOptions, RuntimeError, Stdio};
use barge::supervisor::foreground::run_foreground;
use common::{Bundle, cgroup_left, host_mounts_under, skip, unique_id};
use oci_spec::runtime::{LinuxMemoryBuilder, LinuxResourcesBuilder, Spec};

static LOCK: Mutex<()> = Mutex::new(());

fn run(
    id: &str,
    spec: Spec,
    rootfs_mount: Option<RootfsMount>,
) -> Result<barge::runtime::ExitOutcome, RuntimeError> {
    run_with(id, spec, rootfs_mount, None)
}

fn run_with(
    id: &str,
    spec: Spec,
    rootfs_mount: Option<RootfsMount>,
    prestart: Option<Prestart>,
) -> Result<barge::runtime::ExitOutcome, RuntimeError> {
    let state = tempfile::tempdir().unwrap();
    let _g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let r = run_foreground(RunOptions {
        id: id.to_owned(),
        spec,
        rootfs_mount,
        stdio: Stdio::Inherit,
        state_dir: state.path().join(id),
        init: false,
        sig_proxy: true,
        prestart,
    });
    assert!(!state.path().join(id).exists(), "state dir left behind");
    r
}

#[test]
fn exit_code_and_signal() {
    if skip() {
        return;
    }
    let b = Bundle::new(&["sh", "-c", "exit 7"]);
    let out = run(&unique_id("rt"), b.absolute_spec(), None).unwrap();
    assert_eq!(out.status, ExitStatus::Code(7));
    assert_eq!(out.code(), 7);
    assert!(!out.oom_killed);

    // A pid namespace's init cannot be killed from inside; without one it can.
    let mut b = Bundle::new(&["sh", "-c", "kill -KILL $$"]);
    b.remove_namespace(oci_spec::runtime::LinuxNamespaceType::Pid);
    let out = run(&unique_id("rt"), b.absolute_spec(), None).unwrap();
    assert_eq!(out.status, ExitStatus::Signal(9));
    assert_eq!(out.code(), 137);
}

#[test]
fn exec_failures_are_126_and_127() {
    if skip() {
        return;
    }
    let b = Bundle::new(&["no-such-command"]);
    match run(&unique_id("rt"), b.absolute_spec(), None) {
        Err(RuntimeError::Exec { code: 127, message }) => assert_eq!(
            message,
            "exec: \"no-such-command\": executable file not found in $PATH"
        ),
        other => panic!("unexpected {other:?}"),
    }
    let b = Bundle::new(&["/etc/passwd"]);
    let e = run(&unique_id("rt"), b.absolute_spec(), None).unwrap_err();
    assert_eq!(e.exit_code(), 126, "{e}");
}

#[test]
fn prestart_runs_before_the_program_and_its_failure_is_the_spawns() {
    if skip() {
        return;
    }
    let slow = |then: Result<(), String>| {
        Prestart(Box::new(move |_pid| {
            std::thread::sleep(std::time::Duration::from_millis(300));
            then
        }))
    };
    // The program finds what the step made after a while: init waited for it to finish.
    let b = Bundle::new(&["test", "-f", "/made-by-prestart"]);
    let marker = b.rootfs().join("made-by-prestart");
    let made = Prestart(Box::new(move |pid| {
        assert!(pid > 0);
        std::thread::sleep(std::time::Duration::from_millis(300));
        std::fs::write(&marker, "").map_err(|e| e.to_string())
    }));
    let out = run_with(&unique_id("rt"), b.absolute_spec(), None, Some(made)).unwrap();
    assert_eq!(out.status, ExitStatus::Code(0));
    // A failing step kills the container; its message is the error.
    let b = Bundle::new(&["true"]);
    let failed = slow(Err("no network".into()));
    match run_with(&unique_id("rt"), b.absolute_spec(), None, Some(failed)) {
        Err(RuntimeError::Prestart(m)) => assert_eq!(m, "no network"),
        other => panic!("unexpected {other:?}"),
    }
    // When init failed before the step did (its namespaces gone with it), init's failure is
    // the cause, with its exit code.
    let b = Bundle::new(&["no-such-command"]);
    let failed = slow(Err("no network".into()));
    let e = run_with(&unique_id("rt"), b.absolute_spec(), None, Some(failed)).unwrap_err();
    assert_eq!(e.exit_code(), 127, "{e}");
}

#[test]
fn oom_kill_is_reported() {
    if skip() {
        return;
    }
    let mut b = Bundle::new(&["sh", "-c", "x=$(head -c 300000000 /dev/zero | tr '\\0' a)"]);
    let limit = 24 * 1024 * 1024;
    b.set_resources(
        LinuxResourcesBuilder::default()
            .memory(
                LinuxMemoryBuilder::default()
                    .limit(limit)
                    .swap(limit)
                    .build()
                    .unwrap(),
            )
            .build()
            .unwrap(),
    );
    let id = unique_id("oom");
    let out = run(&id, b.absolute_spec(), None).unwrap();
    assert_eq!(out.code(), 137);
    assert!(out.oom_killed);
    assert!(cgroup_left(&id).is_empty());
}

fn overlay(lower: Vec<PathBuf>, scratch: &std::path::Path) -> RootfsMount {
    std::fs::create_dir_all(scratch.join("upper")).unwrap();
    std::fs::create_dir_all(scratch.join("work")).unwrap();
    RootfsMount {
        fstype: "overlay".into(),
        lowerdirs: lower,
        upperdir: Some(scratch.join("upper")),
        workdir: Some(scratch.join("work")),
        options: Vec::new(),
    }
}

/// The overlay is mounted inside the container's mount namespace only: writes land in the
/// upper dir, and nothing stays mounted on the host afterwards.
#[test]
fn overlay_rootfs_is_private_to_the_container() {
    if skip() {
        return;
    }
    let b = Bundle::new(&[
        "sh",
        "-c",
        "echo written > /newfile; grep -c ' / overlay ' /proc/mounts",
    ]);
    let scratch = tempfile::tempdir().unwrap();
    let target = scratch.path().join("merged");
    std::fs::create_dir(&target).unwrap();
    let mut spec = b.absolute_spec();
    spec.root_mut().as_mut().unwrap().set_path(target.clone());
    let m = overlay(vec![b.rootfs()], scratch.path());
    let out = run(&unique_id("ovl"), spec, Some(m)).unwrap();
    assert_eq!(out.code(), 0);
    assert_eq!(
        std::fs::read_to_string(scratch.path().join("upper/newfile")).unwrap(),
        "written\n"
    );
    assert!(!b.rootfs().join("newfile").exists());
    assert!(host_mounts_under(scratch.path()).is_empty());
    assert!(std::fs::read_dir(&target).unwrap().next().is_none());
}

/// More layers than fit in mount(2)'s one-page option string.
#[test]
fn overlay_with_many_layers() {
    if skip() {
        return;
    }
    let b = Bundle::new(&["sh", "-c", "test -f /layer-0 && test -f /layer-149"]);
    let scratch = tempfile::tempdir().unwrap();
    let mut lower = Vec::new();
    for i in (0..150).rev() {
        let d = scratch
            .path()
            .join(format!("layer-with-a-rather-long-directory-name-{i:04}"));
        std::fs::create_dir(&d).unwrap();
        std::fs::write(d.join(format!("layer-{i}")), "").unwrap();
        lower.push(d);
    }
    lower.push(b.rootfs());
    let total: usize = lower.iter().map(|p| p.as_os_str().len() + 1).sum();
    assert!(total > 4096);
    let target = scratch.path().join("merged");
    std::fs::create_dir(&target).unwrap();
    let mut spec = b.absolute_spec();
    spec.root_mut().as_mut().unwrap().set_path(target);
    let m = overlay(lower, &scratch.path().join("rw"));
    let out = run(&unique_id("layers"), spec, Some(m)).unwrap();
    assert_eq!(out.code(), 0);
    assert!(host_mounts_under(scratch.path()).is_empty());
}

#[test]
fn rlimit_above_hard_limit_is_clamped() {
    if skip() {
        return;
    }
    let mut b = Bundle::new(&["sh", "-c", "test $(ulimit -n) -ge 1"]);
    let p = b.spec.process_mut().as_mut().unwrap();
    p.set_rlimits(Some(vec![
        oci_spec::runtime::PosixRlimitBuilder::default()
            .typ(oci_spec::runtime::PosixRlimitType::RlimitNofile)
            .soft(u32::MAX as u64)
            .hard(u32::MAX as u64)
            .build()
            .unwrap(),
    ]));
    let out = run(&unique_id("rlim"), b.absolute_spec(), None).unwrap();
    assert_eq!(out.code(), 0);
}

/// A custom profile: default allow, mkdir fails with a chosen errno, and an argument
/// condition (kill with signal 0 refused, other signals allowed).
#[test]
fn custom_seccomp_profile() {
    if skip() {
        return;
    }
    use oci_spec::runtime::{
        LinuxSeccompAction, LinuxSeccompArgBuilder, LinuxSeccompBuilder, LinuxSeccompOperator,
        LinuxSyscallBuilder,
    };
    let mut b = Bundle::new(&[
        "sh",
        "-c",
        "mkdir /tmp/d 2>&1 | grep -q 'Permission denied' || exit 3; \
         kill -0 $$ 2>/dev/null && exit 4; \
         kill -CONT $$ || exit 5; exit 0",
    ]);
    let profile = LinuxSeccompBuilder::default()
        .default_action(LinuxSeccompAction::ScmpActAllow)
        .syscalls(vec![
            LinuxSyscallBuilder::default()
                .names(vec!["mkdir".to_string(), "mkdirat".to_string()])
                .action(LinuxSeccompAction::ScmpActErrno)
                .errno_ret(libc::EACCES as u32)
                .build()
                .unwrap(),
            LinuxSyscallBuilder::default()
                .names(vec!["kill".to_string()])
                .action(LinuxSeccompAction::ScmpActErrno)
                .args(vec![
                    LinuxSeccompArgBuilder::default()
                        .index(1usize)
                        .value(0u64)
                        .op(LinuxSeccompOperator::ScmpCmpEq)
                        .build()
                        .unwrap(),
                ])
                .build()
                .unwrap(),
        ])
        .build()
        .unwrap();
    b.spec
        .linux_mut()
        .as_mut()
        .unwrap()
        .set_seccomp(Some(profile));
    let out = run(&unique_id("scmp"), b.absolute_spec(), None).unwrap();
    assert_eq!(out.code(), 0);
}
