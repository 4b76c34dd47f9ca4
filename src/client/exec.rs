//! `exec`: another process in a running container, with the container's namespaces,
//! cgroup, capabilities, seccomp and limits.

use std::io::Read;
use std::os::fd::OwnedFd;

use super::Client;
use crate::container;
use crate::error::{Error, Result};
use crate::runtime::{self, Console, ExecOptions};

/// What to run in a container with [`Client::exec`], as a builder.
///
/// ```
/// use barge::client::ExecSpec;
/// let spec = ExecSpec::new(["sh", "-c", "id -u; pwd"])
///     .user("65534")
///     .workdir("/tmp")
///     .env("LANG", "C")
///     .capture_output();
/// # let _ = spec;
/// ```
#[derive(Clone, Debug)]
pub struct ExecSpec {
    pub(crate) args: Vec<String>,
    pub(crate) env: Vec<String>,
    pub(crate) user: Option<String>,
    pub(crate) workdir: Option<String>,
    pub(crate) capture: bool,
    pub(crate) tty: bool,
    pub(crate) interactive: bool,
    pub(crate) detach: bool,
}

impl ExecSpec {
    /// Run `args` (the program and its arguments; the program is looked up in the
    /// container's `PATH`), as the container's user, in its working directory, with this
    /// process's stdin, stdout and stderr.
    pub fn new<I, S>(args: I) -> ExecSpec
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        ExecSpec {
            args: args.into_iter().map(Into::into).collect(),
            env: Vec::new(),
            user: None,
            workdir: None,
            capture: false,
            tty: false,
            interactive: false,
            detach: false,
        }
    }

    /// Set an environment variable (over the container's).
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push(format!("{key}={value}"));
        self
    }

    /// Run as `name`, `uid`, `name:group` or `uid:gid` (looked up in the container's
    /// `/etc/passwd` and `/etc/group`).
    pub fn user(mut self, user: impl Into<String>) -> Self {
        self.user = Some(user.into());
        self
    }

    /// The working directory (absolute, inside the container).
    pub fn workdir(mut self, dir: impl Into<String>) -> Self {
        self.workdir = Some(dir.into());
        self
    }

    /// Collect stdout and stderr into [`ExecOutput`] instead of passing this process's
    /// own; stdin is then empty.
    pub fn capture_output(mut self) -> Self {
        self.capture = true;
        self
    }

    /// The CLI's `-t`, `-i` and `-d`.
    pub(crate) fn terminal(mut self, tty: bool, interactive: bool, detach: bool) -> Self {
        self.tty = tty;
        self.interactive = interactive;
        self.detach = detach;
        self
    }
}

/// How an exec'd process ended.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExecOutput {
    /// Its exit code; 128+N when killed by signal N.
    pub exit_code: i32,
    /// What it wrote to stdout, with [`ExecSpec::capture_output`] (else empty).
    pub stdout: Vec<u8>,
    /// What it wrote to stderr, with [`ExecSpec::capture_output`] (else empty).
    pub stderr: Vec<u8>,
}

fn pipe() -> Result<(OwnedFd, OwnedFd)> {
    rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)
        .map_err(|e| Error::io("pipe", e.into()))
}

/// Read both pipes to their end, whichever has data, so that neither fills up and blocks
/// the process.
fn drain(out: OwnedFd, err: OwnedFd) -> Result<(Vec<u8>, Vec<u8>)> {
    use rustix::event::{PollFd, PollFlags, poll};
    let mut bufs = (Vec::new(), Vec::new());
    let mut open = [
        Some(std::fs::File::from(out)),
        Some(std::fs::File::from(err)),
    ];
    let mut chunk = vec![0u8; 32 << 10];
    while open.iter().any(Option::is_some) {
        let mut fds: Vec<PollFd<'_>> = Vec::new();
        let mut which = Vec::new();
        for (i, f) in open.iter().enumerate() {
            if let Some(f) = f {
                fds.push(PollFd::new(f, PollFlags::IN));
                which.push(i);
            }
        }
        match poll(&mut fds, None) {
            Ok(_) => {}
            Err(rustix::io::Errno::INTR) => continue,
            Err(e) => return Err(Error::io("poll", e.into())),
        }
        let ready: Vec<usize> = fds
            .iter()
            .zip(&which)
            .filter(|(f, _)| !f.revents().is_empty())
            .map(|(_, i)| *i)
            .collect();
        drop(fds);
        for i in ready {
            let Some(f) = open[i].as_mut() else { continue };
            let n = match f.read(&mut chunk) {
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Error::io("exec output", e)),
            };
            if n == 0 {
                open[i] = None;
            } else if i == 0 {
                bufs.0.extend_from_slice(&chunk[..n]);
            } else {
                bufs.1.extend_from_slice(&chunk[..n]);
            }
        }
    }
    Ok(bufs)
}

impl Client {
    /// Run a process in the running container `id` and wait for it: its exit code, and
    /// its output with [`ExecSpec::capture_output`]. A program that cannot be found or
    /// run is [`Error::CommandNotFound`] or [`Error::CommandNotExecutable`]; a container
    /// that is not running is [`Error::Conflict`].
    ///
    /// The calling process must be single-threaded (see the module docs).
    ///
    /// ```no_run
    /// use barge::client::{Client, ExecSpec};
    /// let client = Client::open_default()?;
    /// let out = client.exec("web", &ExecSpec::new(["cat", "/etc/hostname"]).capture_output())?;
    /// println!("{} (exit {})", String::from_utf8_lossy(&out.stdout).trim(), out.exit_code);
    /// # Ok::<(), barge::Error>(())
    /// ```
    pub fn exec(&self, id: &str, spec: &ExecSpec) -> Result<ExecOutput> {
        let store = self.store()?;
        let c = container::find(&store, id)?;
        if !container::supervised(&c) {
            return Err(Error::Conflict(format!(
                "container {} is not running",
                c.name
            )));
        }
        let dir = container::container_dir(&store, &c.id);
        let (_, settings) = container::load_bundle(&dir)?;
        drop(store);
        let user = match &spec.user {
            None => None,
            Some(u) => {
                // The container's own files first (a user added at run time), then the
                // image's.
                let mut layers = vec![dir.join("upper")];
                layers.extend(settings.lowerdirs.iter().cloned());
                let (uid, gid, extra) = container::spec::resolve_user(&layers, u, &[])?;
                Some(
                    oci_spec::runtime::UserBuilder::default()
                        .uid(uid)
                        .gid(gid)
                        .additional_gids(extra)
                        .build()
                        .map_err(|e| Error::Other(e.to_string()))?,
                )
            }
        };
        let mut captured = None;
        let stdio = if spec.capture && !spec.tty {
            let null = std::fs::File::open("/dev/null").map_err(|e| Error::io("/dev/null", e))?;
            let (out_r, out_w) = pipe()?;
            let (err_r, err_w) = pipe()?;
            captured = Some((out_r, err_r));
            Some([OwnedFd::from(null), out_w, err_w])
        } else {
            None
        };
        let opts = ExecOptions {
            args: spec.args.clone(),
            env: spec.env.clone(),
            cwd: spec.workdir.as_ref().map(std::path::PathBuf::from),
            user,
            tty: spec.tty,
            console: if spec.tty {
                Console::Parent
            } else {
                Console::Inherit
            },
            die_with_parent: !spec.detach,
            stdio,
        };
        let root = container::state_root(&self.paths);
        let fail = |e| Error::runtime(&c.name, e);
        let mut p = runtime::exec_spawn(&root, &c.id, opts).map_err(fail)?;
        if spec.detach {
            return Ok(ExecOutput::default());
        }
        if spec.tty {
            let master = p
                .take_pty()
                .ok_or_else(|| Error::Other("exec: no terminal was created".into()))?;
            let status =
                crate::supervisor::foreground::relay_terminal(p.pid(), master, spec.interactive)
                    .map_err(fail)?;
            let exit_code = match status {
                runtime::ExitStatus::Code(c) => c,
                runtime::ExitStatus::Signal(s) => 128 + s,
            };
            return Ok(ExecOutput {
                exit_code,
                ..Default::default()
            });
        }
        let (stdout, stderr) = match captured {
            Some((out, err)) => drain(out, err)?,
            None => (Vec::new(), Vec::new()),
        };
        let o = p.wait().map_err(fail)?;
        Ok(ExecOutput {
            exit_code: o.code(),
            stdout,
            stderr,
        })
    }
}
