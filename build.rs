//! Records what `barge version` reports about the build: the git commit (when building from
//! a git checkout) and the compiler's version. Both are optional: a source tarball builds.

use std::process::Command;

fn output(cmd: &str, args: &[&str]) -> Option<String> {
    let o = Command::new(cmd).args(args).output().ok()?;
    let s = String::from_utf8(o.stdout).ok()?;
    (o.status.success() && !s.trim().is_empty()).then(|| s.trim().to_string())
}

fn main() {
    if let Some(commit) = output("git", &["rev-parse", "--short=12", "HEAD"]) {
        println!("cargo:rustc-env=BARGE_GIT_COMMIT={commit}");
    }
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    if let Some(v) = output(&rustc, &["--version"]) {
        println!("cargo:rustc-env=BARGE_RUSTC_VERSION={v}");
    }
    // Rerun when HEAD moves (a worktree's .git is a file naming the real git dir; a new
    // commit on the branch changes the ref file, which `git rev-parse --git-path` finds).
    for p in ["HEAD", "refs/heads"] {
        if let Some(path) = output("git", &["rev-parse", "--git-path", p]) {
            println!("cargo:rerun-if-changed={path}");
        }
    }
    println!("cargo:rerun-if-changed=build.rs");
}
