//! barge on a pure cgroup v2 host: scripts/vm-cgroup2.sh boots a small KVM guest with only
//! the unified hierarchy (the machines these tests usually run on are v1 or hybrid, where
//! the v2 code is never taken) and runs this build of barge there: limits, OOM, swap,
//! pause, stats, exec, device eBPF, a nested cgroup namespace, rootless in a delegated
//! subtree. The checks themselves are in scripts/vm-cgroup2-checks.sh; this test passes
//! when the guest reports no FAIL line.
//!
//! Skipped (with a "skipped:" line) without root, /dev/kvm, qemu-system-x86_64 or a kernel
//! in /boot: `.ci/run` installs qemu-system-x86 and linux-image-amd64.

use std::path::Path;
use std::process::Command;

fn skip(why: &str) {
    eprintln!("skipped: {why}");
}

#[test]
fn barge_works_on_a_pure_cgroup_v2_host() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return skip("needs root");
    }
    if !Path::new("/dev/kvm").exists() {
        return skip("no /dev/kvm");
    }
    let qemu_found = std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join("qemu-system-x86_64").is_file()));
    if !qemu_found {
        return skip("no qemu-system-x86_64 (apt-get install qemu-system-x86)");
    }
    let kernel = std::fs::read_dir("/boot").is_ok_and(|d| {
        d.flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with("vmlinuz-"))
    });
    if !kernel {
        return skip("no kernel in /boot (apt-get install linux-image-amd64)");
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new("sh")
        .arg(root.join("scripts/vm-cgroup2.sh"))
        .env("BARGE_BIN", env!("CARGO_BIN_EXE_barge"))
        .output()
        .expect("run scripts/vm-cgroup2.sh");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.code() == Some(77) {
        return skip(stderr.trim());
    }
    // The guest's verdicts, and what the script said about the run (boot, fallback, totals).
    let lines: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("PASS") || l.starts_with("FAIL") || l.starts_with("  |"))
        .collect();
    eprintln!("{}\n{}", lines.join("\n"), stderr.trim());
    assert!(
        out.status.success(),
        "vm-cgroup2.sh failed ({}):\n{}\n{}\nconsole: target/vm/console.log",
        out.status,
        lines
            .iter()
            .filter(|l| !l.starts_with("PASS"))
            .copied()
            .collect::<Vec<_>>()
            .join("\n"),
        stderr.trim()
    );
    assert!(
        lines.iter().any(|l| l.starts_with("PASS")),
        "no check ran:\n{stdout}"
    );
}
