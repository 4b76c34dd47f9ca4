//! OCI lifecycle hooks (spec.hooks): programs the runtime runs on the host at fixed points
//! of `create`, `start` and `delete`, each given the container's state as JSON on stdin.
//!
//! - `prestart` (deprecated, kept for podman and older tools) and `createRuntime`: by
//!   `create`, once init is set up and blocked before exec. One failing fails `create`,
//!   and the container is destroyed (the spec's "stop the container, continue at delete").
//! - `poststart`: by `start`, after the program was released. A failure is a warning.
//! - `poststop`: by `delete`, once the container is gone. A failure is a warning.
//!
//! `createContainer` and `startContainer` run inside the container's namespaces in runc;
//! barge does not implement that and refuses a spec that has them rather than skip them.

use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use oci_spec::runtime::{Hook, Hooks, Spec};

use super::error::{Result, RuntimeError};
use super::state::State;

/// The points of the lifecycle where hooks run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stage {
    Prestart,
    CreateRuntime,
    Poststart,
    Poststop,
}

impl Stage {
    fn name(self) -> &'static str {
        match self {
            Stage::Prestart => "prestart",
            Stage::CreateRuntime => "createRuntime",
            Stage::Poststart => "poststart",
            Stage::Poststop => "poststop",
        }
    }

    fn hooks(self, h: &Hooks) -> &[Hook] {
        #[allow(deprecated)]
        let list = match self {
            Stage::Prestart => h.prestart(),
            Stage::CreateRuntime => h.create_runtime(),
            Stage::Poststart => h.poststart(),
            Stage::Poststop => h.poststop(),
        };
        list.as_deref().unwrap_or(&[])
    }
}

/// Refuses hooks barge cannot run where the spec says they run.
pub(crate) fn check(spec: &Spec) -> Result<()> {
    let Some(h) = spec.hooks() else {
        return Ok(());
    };
    for (name, list) in [
        ("createContainer", h.create_container()),
        ("startContainer", h.start_container()),
    ] {
        if list.as_ref().is_some_and(|l| !l.is_empty()) {
            return Err(RuntimeError::InvalidSpec(format!(
                "{name} hooks are not supported (they run inside the container's namespaces)"
            )));
        }
    }
    Ok(())
}

/// Runs the spec's hooks of `stage` in order, stopping at the first failure.
pub(crate) fn run(spec: &Spec, stage: Stage, state: &State) -> Result<()> {
    let Some(h) = spec.hooks() else {
        return Ok(());
    };
    let list = stage.hooks(h);
    if list.is_empty() {
        return Ok(());
    }
    let json = serde_json::to_vec(state).map_err(|e| RuntimeError::Hook {
        stage: stage.name(),
        path: Default::default(),
        message: e.to_string(),
    })?;
    for hook in list {
        run_one(hook, &json).map_err(|message| RuntimeError::Hook {
            stage: stage.name(),
            path: hook.path().clone(),
            message,
        })?;
    }
    Ok(())
}

/// Runs the hooks of a stage whose failure must not stop the lifecycle: each failure is
/// reported as a warning and the next hook still runs.
pub(crate) fn run_warn(spec: &Spec, stage: Stage, state: &State) {
    let Some(h) = spec.hooks() else {
        return;
    };
    let Ok(json) = serde_json::to_vec(state) else {
        return;
    };
    for hook in stage.hooks(h) {
        if let Err(m) = run_one(hook, &json) {
            eprintln!(
                "barge: warning: {} hook {}: {m}",
                stage.name(),
                hook.path().display()
            );
        }
    }
}

fn run_one(hook: &Hook, state: &[u8]) -> std::result::Result<(), String> {
    let path = hook.path();
    if !path.is_absolute() {
        return Err("the hook's path must be absolute".into());
    }
    let mut cmd = Command::new(path);
    let args = hook.args().as_deref().unwrap_or(&[]);
    if let Some((argv0, rest)) = args.split_first() {
        std::os::unix::process::CommandExt::arg0(&mut cmd, argv0);
        cmd.args(rest);
    }
    // The hook gets exactly the spec's environment, nothing of barge's.
    cmd.env_clear();
    for kv in hook.env().as_deref().unwrap_or(&[]) {
        if let Some((k, v)) = kv.split_once('=') {
            cmd.env(k, v);
        }
    }
    // Not the caller's directory: the bundle is the documented working directory of
    // nothing, and `/` cannot disappear under the hook.
    cmd.current_dir("/");
    // Output goes to an anonymous file, not a pipe: a chatty hook must not block on a
    // full pipe while we wait for it to exit.
    let mut log = rustix::fs::memfd_create("barge-hook", rustix::fs::MemfdFlags::CLOEXEC)
        .map(std::fs::File::from)
        .map_err(|e| format!("memfd: {e}"))?;
    let dup = || log.try_clone().map_err(|e| format!("dup: {e}"));
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::from(dup()?))
        .stderr(Stdio::from(dup()?));
    let mut child = cmd.spawn().map_err(|e| format!("cannot run it: {e}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A hook that does not read its stdin closes the pipe: not an error.
        let _ = stdin.write_all(state);
    }
    let timeout = hook
        .timeout()
        .filter(|t| *t > 0)
        .map(|t| Duration::from_secs(t as u64));
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break s,
            Ok(None) => {}
            Err(e) => return Err(format!("wait: {e}")),
        }
        if timeout.is_some_and(|t| start.elapsed() > t) {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("timed out after {}s", timeout.unwrap().as_secs()));
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    if status.success() {
        return Ok(());
    }
    let mut buf = Vec::new();
    let _ = log.seek(SeekFrom::Start(0));
    let _ = (&mut log).take(4096).read_to_end(&mut buf);
    let out = String::from_utf8_lossy(&buf).trim().to_owned();
    let what = match (
        status.code(),
        std::os::unix::process::ExitStatusExt::signal(&status),
    ) {
        (Some(c), _) => format!("exited with status {c}"),
        (None, Some(s)) => format!("killed by signal {s}"),
        _ => "failed".to_owned(),
    };
    Err(if out.is_empty() {
        what
    } else {
        format!("{what}: {out}")
    })
}

/// Reads the spec saved in a container's state directory (the bundle's config.json may be
/// gone by the time `start` or `delete` runs).
pub(crate) fn saved_spec(dir: &Path) -> Option<Spec> {
    let data = std::fs::read(dir.join(super::state::SPEC_FILE)).ok()?;
    serde_json::from_slice(&data).ok()
}
