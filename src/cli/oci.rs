//! `barge oci ...`: a runc-compatible command line over the runtime, so that other engines
//! (podman --runtime, containerd shims) and the OCI validation suite can drive barge.

use std::io::Write;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use oci_spec::runtime::Spec;

use crate::runtime::{self, Console, RunOptions, RuntimeError, Stdio};

/// Where `barge oci` keeps container state unless `--root` says otherwise (runc: /run/runc).
pub const DEFAULT_ROOT: &str = "/run/barge/oci";

// Options shared by every `barge oci` command (runc's global flags; `--root` and `--debug`
// are barge's own global flags). No doc comment: it would replace the command's.
#[derive(Args, Debug)]
pub struct OciArgs {
    /// Directory for container state: barge's own global `--root` (or BARGE_ROOT), which
    /// here names the state directory as runc's does; /run/barge/oci by default. A flag of
    /// its own would clash with the global one when each command's arguments are built
    /// lazily (see `cli::Command`).
    #[arg(skip = PathBuf::from(DEFAULT_ROOT))]
    pub root: PathBuf,
    /// File to append error messages to
    #[arg(long, global = true)]
    pub log: Option<PathBuf>,
    /// Format of --log: text or json
    #[arg(long = "log-format", global = true, default_value = "text")]
    pub log_format: String,
    /// Accepted for runc compatibility; barge manages cgroupfs directly
    #[arg(long = "systemd-cgroup", global = true)]
    pub systemd_cgroup: bool,
    #[command(subcommand)]
    pub command: OciCommand,
}

#[derive(Subcommand, Debug)]
pub enum OciCommand {
    /// Create a container; its process waits for `start`
    Create {
        /// Bundle directory (holds config.json)
        #[arg(long, short = 'b', default_value = ".")]
        bundle: PathBuf,
        /// Write the init's pid to this file
        #[arg(long)]
        pid_file: Option<PathBuf>,
        /// Unix socket to send the terminal's master to
        #[arg(long)]
        console_socket: Option<PathBuf>,
        /// Accepted for runc compatibility
        #[arg(long)]
        no_pivot: bool,
        /// Accepted for runc compatibility
        #[arg(long)]
        no_new_keyring: bool,
        /// Accepted for runc compatibility (must be 0)
        #[arg(long, default_value_t = 0)]
        preserve_fds: u32,
        id: String,
    },
    /// Start a created container
    Start { id: String },
    /// Print a container's state as JSON
    State { id: String },
    /// Send a signal (default SIGTERM) to a container
    Kill {
        /// Signal every process of the container
        #[arg(long, short = 'a')]
        all: bool,
        id: String,
        signal: Option<String>,
    },
    /// Delete a stopped container
    Delete {
        /// Kill the container first if it still runs
        #[arg(long, short = 'f')]
        force: bool,
        id: String,
    },
    /// Write a default config.json (Docker's defaults)
    Spec {
        #[arg(long, short = 'b')]
        bundle: Option<PathBuf>,
    },
    /// Create, start and wait for a container; exit with its code
    Run {
        #[arg(long, short = 'b', default_value = ".")]
        bundle: PathBuf,
        #[arg(long)]
        pid_file: Option<PathBuf>,
        #[arg(long)]
        console_socket: Option<PathBuf>,
        id: String,
    },
    /// Run a process in a running container; exit with its code
    Exec {
        /// Give the process a terminal (its master goes to --console-socket)
        #[arg(long, short = 't')]
        tty: bool,
        /// Unix socket to send the terminal's master to
        #[arg(long)]
        console_socket: Option<PathBuf>,
        /// Working directory inside the container
        #[arg(long)]
        cwd: Option<PathBuf>,
        /// Set an environment variable (KEY=VALUE), on top of the container's
        #[arg(long, short = 'e')]
        env: Vec<String>,
        /// User to run as: `UID[:GID]` (GID 0 when not given)
        #[arg(long, short = 'u')]
        user: Option<String>,
        /// Additional group ids (with --user)
        #[arg(long = "additional-gids", short = 'g')]
        additional_gids: Vec<u32>,
        /// A process.json (args, env, cwd, user, terminal) instead of the command line
        #[arg(long, short = 'p')]
        process: Option<PathBuf>,
        /// Write the process's pid to this file
        #[arg(long)]
        pid_file: Option<PathBuf>,
        /// Do not wait for the process
        #[arg(long, short = 'd')]
        detach: bool,
        id: String,
        /// Command and arguments
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        command: Vec<String>,
    },
    /// List containers
    List {
        /// Only print ids
        #[arg(long, short = 'q')]
        quiet: bool,
        /// table or json
        #[arg(long, short = 'f', default_value = "table")]
        format: String,
    },
}

/// Runs one `barge oci` command; returns the process exit code.
pub fn run(args: OciArgs) -> anyhow::Result<i32> {
    let r = dispatch(&args);
    if let (Err(e), Some(log)) = (&r, &args.log) {
        write_log(log, &args.log_format, &format!("{e:#}"));
    }
    r
}

fn write_log(path: &Path, format: &str, msg: &str) {
    let time = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true);
    let line = if format == "json" {
        serde_json::json!({"level": "error", "msg": msg, "time": time}).to_string()
    } else {
        format!("time=\"{time}\" level=error msg=\"{msg}\"")
    };
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    {
        let _ = writeln!(f, "{line}");
    }
}

/// Loads `bundle/config.json` and makes root.path absolute. Relative bind-mount sources are
/// relative to the bundle, so the process moves there, as runc does.
fn load_bundle(bundle: &Path) -> anyhow::Result<(PathBuf, Spec)> {
    let bundle =
        std::fs::canonicalize(bundle).with_context(|| format!("bundle {}", bundle.display()))?;
    let config = bundle.join("config.json");
    let mut spec =
        Spec::load(&config).with_context(|| format!("cannot load {}", config.display()))?;
    check_oci_version(spec.version()).with_context(|| format!("invalid {}", config.display()))?;
    if let Some(root) = spec.root_mut() {
        let p = bundle.join(root.path());
        root.set_path(p);
    }
    std::env::set_current_dir(&bundle).with_context(|| format!("chdir {}", bundle.display()))?;
    Ok((bundle, spec))
}

/// The runtime spec requires ociVersion to be SemVer; barge implements the 1.x line.
/// Refusing anything else catches a config meant for something else, as crun does.
fn check_oci_version(v: &str) -> anyhow::Result<()> {
    let core = v.split(['-', '+']).next().unwrap_or("");
    let parts: Vec<&str> = core.split('.').collect();
    let numeric = parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
    if !numeric {
        bail!("ociVersion {v:?} is not a SemVer version");
    }
    if parts[0] != "1" {
        bail!("ociVersion {v} is not supported: barge implements runtime spec 1.x");
    }
    Ok(())
}

fn console(socket: Option<&Path>, spec: &Spec) -> anyhow::Result<Console> {
    let terminal = spec
        .process()
        .as_ref()
        .and_then(|p| p.terminal())
        .unwrap_or(false);
    match (terminal, socket) {
        (true, Some(s)) => {
            let stream = std::os::unix::net::UnixStream::connect(s)
                .with_context(|| format!("connect to console socket {}", s.display()))?;
            Ok(Console::Socket(OwnedFd::from(stream)))
        }
        (true, None) => bail!("process.terminal is set but no --console-socket was given"),
        (false, Some(_)) => bail!("--console-socket given but process.terminal is not set"),
        (false, None) => Ok(Console::Inherit),
    }
}

fn parse_signal(s: &str) -> anyhow::Result<i32> {
    if let Ok(n) = s.parse::<i32>() {
        return Ok(n);
    }
    let up = s.to_ascii_uppercase();
    let name = if up.starts_with("SIG") {
        up
    } else {
        format!("SIG{up}")
    };
    nix::sys::signal::Signal::from_str(&name)
        .map(|s| s as i32)
        .map_err(|_| anyhow::anyhow!("unknown signal {s:?}"))
}

fn dispatch(args: &OciArgs) -> anyhow::Result<i32> {
    let root = &args.root;
    match &args.command {
        OciCommand::Create {
            bundle,
            pid_file,
            console_socket,
            preserve_fds,
            id,
            ..
        } => {
            if *preserve_fds != 0 {
                bail!("--preserve-fds is not supported");
            }
            // Before load_bundle moves into the bundle: a relative --pid-file is relative
            // to the caller's directory.
            let pid_file = pid_file.as_ref().map(|p| absolute(p));
            let (bundle, spec) = load_bundle(bundle)?;
            let console = console(console_socket.as_deref(), &spec)?;
            runtime::create(root, id, &bundle, spec, console, pid_file.as_deref())?;
            Ok(0)
        }
        OciCommand::Start { id } => {
            runtime::start(root, id)?;
            Ok(0)
        }
        OciCommand::State { id } => {
            let s = runtime::state(root, id)?;
            println!("{}", serde_json::to_string_pretty(&s)?);
            Ok(0)
        }
        OciCommand::Kill { all, id, signal } => {
            let sig = parse_signal(signal.as_deref().unwrap_or("SIGTERM"))?;
            runtime::kill(root, id, sig, *all)?;
            Ok(0)
        }
        OciCommand::Delete { force, id } => {
            runtime::delete(root, id, *force)?;
            Ok(0)
        }
        OciCommand::Spec { bundle } => {
            let dir = bundle.clone().unwrap_or_else(|| PathBuf::from("."));
            let path = dir.join("config.json");
            if path.exists() {
                bail!("{} exists; remove it first", path.display());
            }
            let spec = crate::container::defaults::default_spec();
            let json = serde_json::to_string_pretty(&spec)?;
            std::fs::write(&path, json + "\n")
                .with_context(|| format!("write {}", path.display()))?;
            Ok(0)
        }
        OciCommand::Run {
            bundle,
            pid_file,
            console_socket,
            id,
        } => {
            if console_socket.is_some() {
                bail!("--console-socket is not supported by `run`; use create + start");
            }
            if root.join(id).join("state.json").exists() {
                return Err(RuntimeError::AlreadyExists(id.clone()).into());
            }
            let (_bundle, spec) = load_bundle(bundle)?;
            if spec.hooks().is_some() {
                bail!("`oci run` does not run hooks; use `oci create` and `oci start`");
            }
            let terminal = spec
                .process()
                .as_ref()
                .and_then(|p| p.terminal())
                .unwrap_or(false);
            if let Some(p) = pid_file {
                // The pid is only known once the container runs; runc writes it then, too.
                let _ = p;
            }
            let opts = RunOptions {
                id: id.clone(),
                spec,
                rootfs_mount: None,
                stdio: if terminal {
                    Stdio::Pty { stdin: true }
                } else {
                    Stdio::Inherit
                },
                state_dir: root.join(id),
                init: false,
                sig_proxy: true,
                prestart: None,
            };
            match crate::supervisor::foreground::run_foreground(opts) {
                Ok(out) => Ok(out.code()),
                Err(RuntimeError::Exec { code, message }) => {
                    eprintln!("barge: error: {message}");
                    Ok(code)
                }
                Err(e) => Err(e.into()),
            }
        }
        OciCommand::Exec {
            tty,
            console_socket,
            cwd,
            env,
            user,
            additional_gids,
            process,
            pid_file,
            detach,
            id,
            command,
        } => {
            let mut opts = runtime::ExecOptions {
                args: command.clone(),
                env: env.clone(),
                cwd: cwd.clone(),
                tty: *tty,
                die_with_parent: !*detach,
                ..Default::default()
            };
            if let Some(u) = user {
                opts.user = Some(parse_user(u, additional_gids)?);
            }
            if let Some(path) = process {
                let f = std::fs::File::open(path)
                    .with_context(|| format!("open {}", path.display()))?;
                let p: oci_spec::runtime::Process = serde_json::from_reader(f)
                    .with_context(|| format!("parse {}", path.display()))?;
                opts.args = p.args().clone().unwrap_or_default();
                opts.env.extend(p.env().clone().unwrap_or_default());
                opts.cwd = Some(p.cwd().clone());
                opts.user = Some(p.user().clone());
                opts.tty = p.terminal().unwrap_or(false);
            }
            if opts.tty {
                let Some(sock) = console_socket else {
                    bail!("--tty needs --console-socket");
                };
                let stream = std::os::unix::net::UnixStream::connect(sock)
                    .with_context(|| format!("connect to console socket {}", sock.display()))?;
                opts.console = Console::Socket(OwnedFd::from(stream));
            }
            let p = match runtime::exec_spawn(root, id, opts) {
                Ok(p) => p,
                Err(RuntimeError::Exec { code, message }) => {
                    eprintln!("barge: error: {message}");
                    return Ok(code);
                }
                Err(e) => return Err(e.into()),
            };
            if let Some(f) = pid_file {
                let f = absolute(f);
                let tmp = f.with_extension("barge-tmp");
                std::fs::write(&tmp, p.pid().to_string())
                    .and_then(|_| std::fs::rename(&tmp, &f))
                    .with_context(|| format!("write {}", f.display()))?;
            }
            if *detach {
                return Ok(0);
            }
            Ok(p.wait()?.code())
        }
        OciCommand::List { quiet, format } => {
            let all = runtime::list(root)?;
            if *quiet {
                for s in &all {
                    println!("{}", s.id);
                }
            } else if format == "json" {
                println!("{}", serde_json::to_string(&all)?);
            } else {
                println!(
                    "{:<20} {:<8} {:<10} {:<40} CREATED",
                    "ID", "PID", "STATUS", "BUNDLE"
                );
                for s in &all {
                    println!(
                        "{:<20} {:<8} {:<10} {:<40} {}",
                        s.id,
                        s.pid,
                        s.status,
                        s.bundle.display(),
                        s.created
                    );
                }
            }
            Ok(0)
        }
    }
}

/// runc's `--user UID[:GID]`.
fn parse_user(s: &str, additional_gids: &[u32]) -> anyhow::Result<oci_spec::runtime::User> {
    let (uid, gid) = match s.split_once(':') {
        Some((u, g)) => (u, g),
        None => (s, "0"),
    };
    let num = |x: &str| {
        x.parse::<u32>()
            .map_err(|_| anyhow::anyhow!("invalid --user {s:?}: use numeric UID[:GID]"))
    };
    let mut u = oci_spec::runtime::User::default();
    u.set_uid(num(uid)?);
    u.set_gid(num(gid)?);
    if !additional_gids.is_empty() {
        u.set_additional_gids(Some(additional_gids.to_vec()));
    }
    Ok(u)
}

fn absolute(p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_owned()
    } else {
        std::env::current_dir()
            .map(|d| d.join(p))
            .unwrap_or_else(|_| p.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::check_oci_version;

    #[test]
    fn oci_version_must_be_semver_1x() {
        for ok in ["1.0.0", "1.2.0", "1.0.2-dev", "1.1.0-rc.1+build"] {
            assert!(check_oci_version(ok).is_ok(), "{ok}");
        }
        for bad in ["invalid", "", "1.0", "2.0.0", "1.x.0", "v1.0.0"] {
            assert!(check_oci_version(bad).is_err(), "{bad}");
        }
    }
}
