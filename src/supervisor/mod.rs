//! Supervisors: the foreground one (barge itself watches the container it runs) and the
//! detached one (a `barge __supervise` process per container, started by `launch`).

pub mod detached;
pub mod foreground;

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};

/// How the detached supervisor's container started.
pub enum Launched {
    /// Running; the container's init pid.
    Started(i32),
    /// The container could not start: Docker's exit code (126/127/125) and the message.
    Failed(i32, String),
}

/// The launched side of [`launch`]: a reporter that writes the one status line
/// (`started PID` or `error CODE MESSAGE`) to a copy of stdout taken now, once; later calls
/// do nothing. The copy is close-on-exec, so the container never holds the launcher's pipe.
pub fn status_reporter() -> impl FnMut(String) {
    use std::io::Write;
    use std::os::fd::{AsRawFd, FromRawFd};
    // SAFETY: fcntl(F_DUPFD_CLOEXEC) on our stdout returns a new fd (or -1) that nothing
    // else owns; `File` takes sole ownership of it.
    let mut status: Option<std::fs::File> = {
        let fd = unsafe { libc::fcntl(std::io::stdout().as_raw_fd(), libc::F_DUPFD_CLOEXEC, 3) };
        (fd >= 0).then(|| unsafe { std::fs::File::from_raw_fd(fd) })
    };
    move |line: String| {
        if let Some(mut s) = status.take() {
            let _ = writeln!(s, "{line}");
        }
    }
}

/// Start `barge <args>` (normally `__supervise ID`; `exe` is the barge binary) as a detached
/// process of its own session and wait for its first status line: `started PID` or
/// `error CODE MESSAGE`.
pub fn launch(
    exe: &std::path::Path,
    args: &[std::ffi::OsString],
    log: &std::path::Path,
) -> std::io::Result<Launched> {
    let stderr = std::fs::File::options()
        .create(true)
        .append(true)
        .open(log)?;
    let mut cmd = Command::new(exe);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(stderr)
        .current_dir("/");
    // SAFETY: setsid in the child before exec touches only the child; it detaches the
    // supervisor from the terminal and process group of the barge that launched it.
    unsafe {
        cmd.pre_exec(|| {
            rustix::process::setsid().map_err(std::io::Error::from)?;
            Ok(())
        });
    }
    let mut child = cmd.spawn()?;
    let mut out = child.stdout.take().expect("piped stdout");
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while out.read(&mut byte)? == 1 && byte[0] != b'\n' {
        line.push(byte[0]);
    }
    // The supervisor lives on after we exit; it is not ours to wait for.
    drop(child);
    let text = String::from_utf8_lossy(&line).into_owned();
    if let Some(pid) = text.strip_prefix("started ") {
        return Ok(Launched::Started(pid.trim().parse().unwrap_or(0)));
    }
    if let Some(rest) = text.strip_prefix("error ") {
        let (code, msg) = rest.split_once(' ').unwrap_or((rest, ""));
        return Ok(Launched::Failed(
            code.parse().unwrap_or(125),
            msg.to_string(),
        ));
    }
    Ok(Launched::Failed(
        125,
        format!(
            "the supervisor exited without starting the container (see {})",
            log.display()
        ),
    ))
}
