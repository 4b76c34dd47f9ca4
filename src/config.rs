//! Where barge keeps things: the store root and the runtime state directory.
//!
//! Root: `--root`, else `$BARGE_ROOT`, else `/var/lib/barge` as root and
//! `$XDG_DATA_HOME/barge` (default `~/.local/share/barge`) otherwise.
//! Runtime state: `/run/barge` as root, `$XDG_RUNTIME_DIR/barge` otherwise; with a custom
//! root, `<root>/run`, so stores given by `--root` never share state.

use std::path::PathBuf;

#[derive(Clone, Debug)]
pub struct Paths {
    pub root: PathBuf,
    pub run: PathBuf,
    pub rootless: bool,
}

impl Paths {
    pub fn resolve(root: Option<PathBuf>) -> Paths {
        let rootless = !rustix::process::geteuid().is_root();
        let home = || {
            std::env::var_os("HOME")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("/"))
        };
        match root {
            Some(root) => Paths {
                run: root.join("run"),
                root,
                rootless,
            },
            None if !rootless => Paths {
                root: PathBuf::from("/var/lib/barge"),
                run: PathBuf::from("/run/barge"),
                rootless,
            },
            None => {
                let data = std::env::var_os("XDG_DATA_HOME")
                    .map(PathBuf::from)
                    .unwrap_or_else(|| home().join(".local/share"));
                let run = std::env::var_os("XDG_RUNTIME_DIR")
                    .map(|d| PathBuf::from(d).join("barge"))
                    .unwrap_or_else(|| data.join("barge/run"));
                Paths {
                    root: data.join("barge"),
                    run,
                    rootless,
                }
            }
        }
    }
}
