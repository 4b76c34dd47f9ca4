//! Shell completion: clap_complete's dynamic engine. The scripts that `barge completion
//! SHELL` prints (and `__generate` writes to completions/) are small shims that call
//! `barge` itself with `_BARGE_COMPLETE=SHELL` set on every TAB, so subcommands, flags and
//! the names of images, containers, pods and volumes come from one place and are never stale.
//!
//! The engine is behind clap_complete's `unstable-dynamic` feature; Cargo.lock pins the
//! version, and the shims are locked by the staleness test in tests/cli.rs.
//!
//! Name lookups must never block a shell or create anything: see
//! [`crate::store::Store::completion_names`].

use std::ffi::OsString;
use std::path::PathBuf;

use clap::CommandFactory;
use clap_complete::engine::{ArgValueCandidates, CompletionCandidate};
use clap_complete::env::{CompleteEnv, Shells};

use super::Cli;
use crate::config::{Config, Paths};
use crate::reference::{familiar_repo, split_tag};

/// The environment variable that switches `barge` into completion mode.
pub const VAR: &str = "_BARGE_COMPLETE";

/// The shells barge writes completion scripts for, with their file names in completions/.
pub const SHELLS: [(&str, &str); 5] = [
    ("bash", "barge.bash"),
    ("zsh", "_barge"),
    ("fish", "barge.fish"),
    ("elvish", "barge.elv"),
    ("powershell", "_barge.ps1"),
];

/// Called first thing by `main`: when the shell asks for completions, answer and exit.
pub fn complete_if_asked() {
    CompleteEnv::with_factory(Cli::command)
        .var(VAR)
        .bin("barge")
        .completer("barge")
        .complete();
}

/// The registration script for `shell` (`bash`, `zsh`, ...).
pub fn script(shell: &str) -> Option<Vec<u8>> {
    let shells = Shells::builtins();
    let s = shells.completer(shell)?;
    let mut buf = Vec::new();
    s.write_registration(VAR, "barge", "barge", "barge", &mut buf)
        .ok()?;
    Some(buf)
}

/// The store the command line being completed would use: its `--root`, else what barge
/// would pick (BARGE_ROOT, the config file, the default).
fn root() -> PathBuf {
    let args: Vec<OsString> = std::env::args_os().collect();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--root" {
            if let Some(v) = it.next() {
                return PathBuf::from(v);
            }
        } else if let Some(v) = a.to_str().and_then(|s| s.strip_prefix("--root=")) {
            return PathBuf::from(v);
        }
    }
    let root = std::env::var_os("BARGE_ROOT").map(PathBuf::from);
    Paths::with_config(root, Config::load().unwrap_or_default()).root
}

fn images() -> Vec<CompletionCandidate> {
    let tags = crate::store::Store::completion_names(&root()).images;
    tags.iter()
        .map(|t| {
            let (repo, tag) = split_tag(t);
            CompletionCandidate::new(format!("{}:{tag}", familiar_repo(repo)))
        })
        .collect()
}

fn containers() -> Vec<CompletionCandidate> {
    let names = crate::store::Store::completion_names(&root()).containers;
    names.into_iter().map(CompletionCandidate::new).collect()
}

fn pods() -> Vec<CompletionCandidate> {
    let names = crate::store::Store::completion_names(&root()).pods;
    names.into_iter().map(CompletionCandidate::new).collect()
}

fn volumes() -> Vec<CompletionCandidate> {
    crate::volume::list(&root())
        .unwrap_or_default()
        .into_iter()
        .map(CompletionCandidate::new)
        .collect()
}

fn images_and_containers() -> Vec<CompletionCandidate> {
    let mut v = images();
    v.extend(containers());
    v
}

fn containers_and_pods() -> Vec<CompletionCandidate> {
    let mut v = containers();
    v.extend(pods());
    v
}

/// `add = ...` values for the arguments that name things.
pub fn image() -> ArgValueCandidates {
    ArgValueCandidates::new(images)
}
pub fn container() -> ArgValueCandidates {
    ArgValueCandidates::new(containers)
}
pub fn volume() -> ArgValueCandidates {
    ArgValueCandidates::new(volumes)
}
pub fn object() -> ArgValueCandidates {
    ArgValueCandidates::new(images_and_containers)
}
pub fn pod() -> ArgValueCandidates {
    ArgValueCandidates::new(pods)
}
/// `kube generate`: containers or pods.
pub fn workload() -> ArgValueCandidates {
    ArgValueCandidates::new(containers_and_pods)
}
