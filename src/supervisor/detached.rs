//! The per-container supervisor of a detached container (`run -d`, `start`): it spawns the
//! container as its own child, owns its stdio (pipes, or the pty master), writes the log in
//! Docker's json-file format with size-based rotation, forwards the signals it receives,
//! reaps the container and reports how it ended.
//!
//! It runs in a process of its own (barge re-executed as `barge __supervise`, detached with
//! setsid) that stays single-threaded and small. Store updates, `--rm` and restart policies
//! are the caller's (container/ side), through [`Event`]s.

use std::fs::File;
use std::io::{self, Write};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::PathBuf;

use nix::sys::signal::{SigSet, SigmaskHow, Signal, sigprocmask};
use nix::sys::signalfd::{SfdFlags, SignalFd};

use crate::runtime::{
    Console, Container, ExitOutcome, ExitStatus, RootfsMount, RuntimeError, SpawnOptions,
    wait_status,
};

/// What to supervise.
pub struct DetachedOptions {
    pub id: String,
    pub spec: oci_spec::runtime::Spec,
    pub rootfs_mount: Option<RootfsMount>,
    pub state_dir: PathBuf,
    pub tty: bool,
    /// Keep the container's stdin open (`-i`); otherwise it reads /dev/null.
    pub stdin_open: bool,
    /// The json-file log.
    pub log_path: PathBuf,
    /// Rotate when the log reaches this size (`--log-opt max-size`); None: never.
    pub log_max_size: Option<u64>,
    /// How many files to keep, the current one included (`--log-opt max-file`).
    pub log_max_files: u32,
    /// Run barge's built-in init as PID 1 (`--init`).
    pub init: bool,
    /// A directory whose `attach.sock` serves `barge attach` (the container's directory).
    pub attach_dir: Option<PathBuf>,
}

/// Stream ids of the attach protocol: each message is `[id, len (u32, big endian), data]`,
/// as Docker's stdcopy frames it; a terminal's output is all stdout.
pub const ATTACH_STDOUT: u8 = 1;
pub const ATTACH_STDERR: u8 = 2;

/// The attach socket of a container directory, reached through a directory fd so the path
/// stays short (a socket path is limited to 108 bytes; store roots can be long).
pub fn attach_socket(dir: &std::fs::File) -> PathBuf {
    PathBuf::from(format!("/proc/self/fd/{}/attach.sock", dir.as_raw_fd()))
}

/// The control socket of a container with a terminal: `barge attach` sends the size of its
/// own terminal there, as one datagram `[RESIZE, rows (u16, big endian), cols (u16, big
/// endian)]`, when it starts and on every SIGWINCH. A datagram socket beside the stream one
/// keeps the stdin stream raw and each message whole (conmon has a control FIFO for this).
pub fn control_socket(dir: &std::fs::File) -> PathBuf {
    PathBuf::from(format!("/proc/self/fd/{}/ctl.sock", dir.as_raw_fd()))
}

/// The resize message of the control socket.
pub const CONTROL_RESIZE: u8 = 1;

/// What happened, for the caller to record.
pub enum Event {
    Started { pid: i32 },
}

const FORWARDED: &[Signal] = &[
    Signal::SIGTERM,
    Signal::SIGINT,
    Signal::SIGHUP,
    Signal::SIGQUIT,
    Signal::SIGUSR1,
    Signal::SIGUSR2,
];

fn sys(ctx: &str) -> impl FnOnce(nix::Error) -> RuntimeError + '_ {
    move |e| RuntimeError::sys(ctx, io::Error::from(e))
}

/// Run one container to its end. Must be called from a single-threaded process.
pub fn supervise(
    opts: DetachedOptions,
    events: &mut dyn FnMut(Event),
) -> Result<ExitOutcome, RuntimeError> {
    let mut mask = SigSet::empty();
    for s in FORWARDED {
        mask.add(*s);
    }
    sigprocmask(SigmaskHow::SIG_BLOCK, Some(&mask), None).map_err(sys("sigprocmask"))?;
    let sfd = SignalFd::with_flags(&mask, SfdFlags::SFD_CLOEXEC | SfdFlags::SFD_NONBLOCK)
        .map_err(sys("signalfd"))?;

    let mut log = JsonLog::open(opts.log_path.clone(), opts.log_max_size, opts.log_max_files)?;
    let devnull = File::options()
        .read(true)
        .write(true)
        .open("/dev/null")
        .map_err(|e| RuntimeError::file("/dev/null", e))?;
    // Without a tty the container inherits fds 0-2: point them at our pipes for the spawn.
    let mut pipes: Vec<(OwnedFd, &'static str)> = Vec::new();
    let mut stdin_keep: Option<OwnedFd> = None;
    let console = if opts.tty {
        Console::Parent
    } else {
        let (out_r, out_w) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)
            .map_err(|e| RuntimeError::sys("pipe", e))?;
        let (err_r, err_w) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)
            .map_err(|e| RuntimeError::sys("pipe", e))?;
        let stdin_src: OwnedFd = if opts.stdin_open {
            let (in_r, in_w) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)
                .map_err(|e| RuntimeError::sys("pipe", e))?;
            stdin_keep = Some(in_w);
            in_r
        } else {
            devnull
                .try_clone()
                .map_err(|e| RuntimeError::sys("dup", e))?
                .into()
        };
        for (src, target) in [
            (stdin_src.as_fd(), 0),
            (out_w.as_fd(), 1),
            (err_w.as_fd(), 2),
        ] {
            // SAFETY: dup2 onto our own standard fds; the old ones are /dev/null.
            if unsafe { libc::dup2(src.as_raw_fd(), target) } < 0 {
                return Err(RuntimeError::sys("dup2", io::Error::last_os_error()));
            }
        }
        pipes.push((out_r, "stdout"));
        pipes.push((err_r, "stderr"));
        Console::Inherit
    };
    // `barge attach` clients: output goes to them as it comes, their input to stdin. The
    // socket exists before the container starts, so an attach right after start finds it.
    let attach_dir = match &opts.attach_dir {
        Some(d) => File::open(d).ok(),
        None => None,
    };
    let listener = attach_dir.as_ref().and_then(|d| {
        let path = attach_socket(d);
        let _ = std::fs::remove_file(&path);
        let l = std::os::unix::net::UnixListener::bind(&path).ok()?;
        l.set_nonblocking(true).ok()?;
        Some(l)
    });
    let control = match (&attach_dir, opts.tty) {
        (Some(d), true) => {
            let path = control_socket(d);
            let _ = std::fs::remove_file(&path);
            std::os::unix::net::UnixDatagram::bind(&path)
                .and_then(|c| c.set_nonblocking(true).map(|()| c))
                .ok()
        }
        _ => None,
    };
    // Slots go None when a client leaves; the list is compacted before each poll so poll
    // slots and indices agree within one round.
    let spawned = Container::spawn(SpawnOptions {
        id: opts.id.clone(),
        bundle: opts
            .spec
            .root()
            .as_ref()
            .map(|r| r.path().clone())
            .unwrap_or_default(),
        spec: opts.spec,
        rootfs_mount: opts.rootfs_mount,
        console,
        state_dir: opts.state_dir,
        wait_for_start: false,
        die_with_parent: true,
        init: opts.init,
        stdio: None,
        prestart: None,
    });
    // Our own stdio goes back to /dev/null: only the container holds the pipes' write ends.
    for target in 0..3 {
        // SAFETY: dup2 of a valid fd onto our standard fds.
        unsafe { libc::dup2(devnull.as_raw_fd(), target) };
    }
    let mut c = spawned?;
    events(Event::Started { pid: c.pid() });
    if let Some(master) = c.take_pty() {
        pipes.push((master, "stdout"));
    }
    let pidfd = rustix::process::pidfd_open(
        rustix::process::Pid::from_raw(c.pid())
            .ok_or_else(|| RuntimeError::Init("bad pid".into()))?,
        rustix::process::PidfdFlags::empty(),
    )
    .map_err(|e| RuntimeError::sys("pidfd_open", e))?;
    let mut clients: Vec<Option<std::os::unix::net::UnixStream>> = Vec::new();
    let stdin_target: Option<OwnedFd> = match (&stdin_keep, opts.tty) {
        (Some(w), _) => w.try_clone().ok(),
        (None, true) => pipes.first().and_then(|(m, _)| m.try_clone().ok()),
        _ => None,
    };
    let mut partial: Vec<Vec<u8>> = vec![Vec::new(); pipes.len()];
    let mut open: Vec<bool> = vec![true; pipes.len()];
    let mut exited: Option<ExitStatus> = None;
    let mut buf = vec![0u8; 32 << 10];
    let mut shed = false;
    loop {
        if exited.is_none() {
            exited = wait_status(c.pid(), true).map_err(|e| RuntimeError::sys("waitpid", e))?;
        }
        // Done when init has exited and every pipe reached EOF (a pty master gives EIO once
        // the last slave closes).
        if exited.is_some() && !open.iter().any(|o| *o) {
            break;
        }
        clients.retain(Option::is_some);
        let mut fds: Vec<rustix::event::PollFd<'_>> = Vec::new();
        let mut which: Vec<usize> = Vec::new();
        for (i, (fd, _)) in pipes.iter().enumerate() {
            if open[i] {
                fds.push(rustix::event::PollFd::new(fd, rustix::event::PollFlags::IN));
                which.push(i);
            }
        }
        let sig_slot = fds.len();
        fds.push(rustix::event::PollFd::new(
            &sfd,
            rustix::event::PollFlags::IN,
        ));
        let pid_slot = fds.len();
        if exited.is_none() {
            fds.push(rustix::event::PollFd::new(
                &pidfd,
                rustix::event::PollFlags::IN,
            ));
        }
        let listen_slot = fds.len();
        if let Some(l) = &listener {
            fds.push(rustix::event::PollFd::new(l, rustix::event::PollFlags::IN));
        }
        let control_slot = fds.len();
        if let Some(c) = &control {
            fds.push(rustix::event::PollFd::new(c, rustix::event::PollFlags::IN));
        }
        let client_slot = fds.len();
        for cl in clients.iter().flatten() {
            fds.push(rustix::event::PollFd::new(cl, rustix::event::PollFlags::IN));
        }
        // After init exits, give stragglers holding the pipes a moment, then stop.
        let timeout = if exited.is_some() {
            Some(rustix::event::Timespec {
                tv_sec: 2,
                tv_nsec: 0,
            })
        } else {
            None
        };
        // Once, when everything is set up and the loop has run: what it faulted in
        // since is what it needs.
        if !shed {
            shed_memory();
            shed = true;
        }
        let n = match rustix::event::poll(&mut fds, timeout.as_ref()) {
            Ok(n) => n,
            Err(rustix::io::Errno::INTR) => continue,
            Err(e) => return Err(RuntimeError::sys("poll", e)),
        };
        if n == 0 && exited.is_some() {
            break;
        }
        let ready: Vec<(usize, bool)> = fds
            .iter()
            .enumerate()
            .map(|(slot, f)| (slot, !f.revents().is_empty()))
            .collect();
        drop(fds);
        for (slot, is_ready) in ready {
            if !is_ready {
                continue;
            }
            if slot == sig_slot {
                while let Ok(Some(info)) = sfd.read_signal() {
                    // SAFETY: kill has no memory-safety requirements.
                    unsafe { libc::kill(c.pid(), info.ssi_signo as i32) };
                }
            } else if slot == pid_slot && exited.is_none() {
                exited = wait_status(c.pid(), true).map_err(|e| RuntimeError::sys("waitpid", e))?;
            } else if control.is_some() && slot == control_slot {
                let mut msg = [0u8; 8];
                while let Some(Ok(n)) = control.as_ref().map(|c| c.recv(&mut msg)) {
                    if n == 5
                        && msg[0] == CONTROL_RESIZE
                        && let Some((master, _)) = pipes.first()
                    {
                        let ws = libc::winsize {
                            ws_row: u16::from_be_bytes([msg[1], msg[2]]),
                            ws_col: u16::from_be_bytes([msg[3], msg[4]]),
                            ws_xpixel: 0,
                            ws_ypixel: 0,
                        };
                        // SAFETY: TIOCSWINSZ reads one winsize from a valid pointer; the
                        // kernel then sends SIGWINCH to the terminal's foreground group.
                        unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCSWINSZ, &ws) };
                    }
                }
            } else if listener.is_some() && slot == listen_slot {
                if let Some(l) = &listener {
                    while let Ok((cl, _)) = l.accept() {
                        let _ = cl.set_nonblocking(true);
                        clients.push(Some(cl));
                    }
                }
            } else if slot >= client_slot {
                let k = slot - client_slot;
                let mut gone = false;
                if let Some(Some(cl)) = clients.get_mut(k) {
                    match std::io::Read::read(cl, &mut buf) {
                        Ok(0) => gone = true,
                        Ok(n) => {
                            if let Some(t) = &stdin_target {
                                let _ = rustix::io::write(t, &buf[..n]);
                            }
                        }
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                        Err(_) => gone = true,
                    }
                }
                if gone && k < clients.len() {
                    clients[k] = None;
                }
            } else if slot < sig_slot {
                let i = which[slot];
                let (fd, stream) = &pipes[i];
                match rustix::io::read(fd, &mut buf) {
                    Ok(0) | Err(rustix::io::Errno::IO) => {
                        open[i] = false;
                        if !partial[i].is_empty() {
                            log.line(stream, &std::mem::take(&mut partial[i]), false)?;
                        }
                    }
                    Ok(n) => {
                        if !clients.is_empty() {
                            let id = if *stream == "stderr" {
                                ATTACH_STDERR
                            } else {
                                ATTACH_STDOUT
                            };
                            let mut frame = Vec::with_capacity(n + 5);
                            frame.push(id);
                            frame.extend_from_slice(&(n as u32).to_be_bytes());
                            frame.extend_from_slice(&buf[..n]);
                            // A client that cannot keep up is dropped rather than allowed
                            // to stall the container's output.
                            for slot in clients.iter_mut() {
                                if let Some(cl) = slot
                                    && !write_all_nonblocking(cl, &frame)
                                {
                                    *slot = None;
                                }
                            }
                        }
                        partial[i].extend_from_slice(&buf[..n]);
                        while let Some(pos) = partial[i].iter().position(|b| *b == b'\n') {
                            let rest = partial[i].split_off(pos + 1);
                            let line = std::mem::replace(&mut partial[i], rest);
                            log.line(stream, &line, true)?;
                        }
                        // Docker splits very long lines too.
                        if partial[i].len() >= 16 << 10 {
                            log.line(stream, &std::mem::take(&mut partial[i]), false)?;
                        }
                    }
                    Err(rustix::io::Errno::INTR) | Err(rustix::io::Errno::AGAIN) => {}
                    Err(_) => open[i] = false,
                }
            }
        }
    }
    drop(stdin_keep);
    drop(clients);
    if let (Some(d), Some(_)) = (&attach_dir, &listener) {
        let _ = std::fs::remove_file(attach_socket(d));
    }
    if let (Some(d), Some(_)) = (&attach_dir, &control) {
        let _ = std::fs::remove_file(control_socket(d));
    }
    let status = exited.unwrap_or(ExitStatus::Code(0));
    Ok(c.finish(status))
}

fn write_all_nonblocking(cl: &mut std::os::unix::net::UnixStream, data: &[u8]) -> bool {
    let mut off = 0;
    let mut spins = 0;
    while off < data.len() {
        match cl.write(&data[off..]) {
            Ok(0) => return false,
            Ok(n) => off += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock && spins < 100 => {
                spins += 1;
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            Err(_) => return false,
        }
    }
    true
}

/// The supervisor lives as long as its container, so its footprint matters (conmon's is
/// about 1.9 MB here). Starting the container faulted in much of barge's code, its
/// relocation tables and libseccomp; the loop needs little of it. Dropping the resident
/// pages of read-only file mappings that hold no private copy (they fault back in from
/// the file if needed) and returning free heap to the kernel brings the supervisor's RSS
/// down to what the loop really uses.
pub(crate) fn shed_memory() {
    // SAFETY: malloc_trim only releases free heap memory.
    unsafe { libc::malloc_trim(0) };
    let Ok(smaps) = std::fs::read_to_string("/proc/self/smaps") else {
        return;
    };
    let mut current: Option<(usize, usize)> = None;
    for line in smaps.lines() {
        let mut f = line.split_whitespace();
        let Some(first) = f.next() else { continue };
        if let Some((a, b)) = first.split_once('-')
            && let (Ok(start), Ok(end)) =
                (usize::from_str_radix(a, 16), usize::from_str_radix(b, 16))
        {
            let perms = f.next().unwrap_or("");
            let path = f.nth(3).unwrap_or("");
            if path == "[stack]" {
                shed_stack(start);
            }
            // Read-only (r-xp or r--p: never writable, so never written through this
            // mapping), private and file backed.
            current =
                (matches!(perms, "r-xp" | "r--p") && path.starts_with('/')).then_some((start, end));
            continue;
        }
        // A mapping with anonymous pages holds private copies (RELRO data after
        // relocation): those pages differ from the file and must stay.
        if first == "Anonymous:"
            && let Some((start, end)) = current.take()
            && f.next() == Some("0")
        {
            // SAFETY: the range is a whole mapping of this process taken from
            // /proc/self/smaps, read-only, private, file backed and without private
            // copies: MADV_DONTNEED only drops pages that the kernel reads back from the
            // file on the next access (including the pages of this very function). The
            // process is single-threaded, so nothing writes a copy meanwhile.
            unsafe { libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_DONTNEED) };
        }
    }
}

/// Startup (argument parsing, the store, spawning) ran deeper than the loop ever will; the
/// stack pages it left below the current frame hold nothing live.
#[inline(never)]
fn shed_stack(lowest: usize) {
    let here = 0u8;
    let sp = std::hint::black_box(&here) as *const u8 as usize;
    // Keep a margin below this frame for the calls still to come (madvise itself, the
    // 128-byte red zone); everything further down is dead by the ABI.
    let end = (sp & !4095).saturating_sub(16 << 10);
    if end > lowest {
        // SAFETY: [lowest, end) is the unused part of this thread's own stack, below every
        // live frame with a margin: no reference points there, and the kernel gives zeroed
        // pages back if the stack grows into it again.
        unsafe {
            libc::madvise(
                lowest as *mut libc::c_void,
                end - lowest,
                libc::MADV_DONTNEED,
            )
        };
    }
}

/// One json-file log line: `{"log":"...","stream":"stdout","time":"..."}` and a newline.
/// Written by hand rather than through serde_json and chrono: this runs in the supervisor
/// for every line, and the generic paths fault in hundreds of KB of their code, which stays
/// resident for the container's life.
fn json_log_line(log: &str, stream: &str, time: String) -> Vec<u8> {
    let mut out = Vec::with_capacity(log.len() + stream.len() + time.len() + 40);
    out.extend_from_slice(b"{\"log\":\"");
    for c in log.chars() {
        match c {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\r' => out.extend_from_slice(b"\\r"),
            '\t' => out.extend_from_slice(b"\\t"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.extend_from_slice(format!("\\u{:04x}", c as u32).as_bytes())
            }
            c => out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
        }
    }
    out.extend_from_slice(b"\",\"stream\":\"");
    out.extend_from_slice(stream.as_bytes());
    out.extend_from_slice(b"\",\"time\":\"");
    out.extend_from_slice(time.as_bytes());
    out.extend_from_slice(b"\"}\n");
    out
}

/// The current UTC time as RFC 3339 with nanoseconds (`2006-01-02T15:04:05.999999999Z`).
fn now_rfc3339_nanos() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    rfc3339_nanos(now.as_secs() as i64, now.subsec_nanos())
}

fn rfc3339_nanos(secs: i64, nanos: u32) -> String {
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's days_from_civil, inverted).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    // Digits by hand rather than format!: the formatting machinery is code the
    // supervisor would otherwise keep resident for this one line.
    let mut out = String::with_capacity(30);
    push_digits(&mut out, year, 4);
    for (sep, value, width) in [
        ('-', month, 2),
        ('-', day, 2),
        ('T', rem / 3600, 2),
        (':', rem / 60 % 60, 2),
        (':', rem % 60, 2),
        ('.', i64::from(nanos), 9),
    ] {
        out.push(sep);
        push_digits(&mut out, value, width);
    }
    out.push('Z');
    out
}

/// The last `width` decimal digits of `value`, zero-padded.
fn push_digits(out: &mut String, value: i64, width: u32) {
    for i in (0..width).rev() {
        let d = (value / 10i64.pow(i)).rem_euclid(10) as u8;
        out.push(char::from(b'0' + d));
    }
}

/// Docker's json-file log driver format: `{"log":"...","stream":"stdout","time":"..."}`.
struct JsonLog {
    path: PathBuf,
    file: File,
    size: u64,
    max_size: Option<u64>,
    max_files: u32,
}

impl JsonLog {
    fn open(path: PathBuf, max_size: Option<u64>, max_files: u32) -> Result<JsonLog, RuntimeError> {
        let file = File::options()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| RuntimeError::file(&path, e))?;
        let size = file.metadata().map(|m| m.len()).unwrap_or(0);
        Ok(JsonLog {
            path,
            file,
            size,
            max_size,
            max_files: max_files.max(1),
        })
    }

    fn line(&mut self, stream: &str, data: &[u8], _complete: bool) -> Result<(), RuntimeError> {
        let text = json_log_line(&String::from_utf8_lossy(data), stream, now_rfc3339_nanos());
        if let Some(max) = self.max_size
            && self.size > 0
            && self.size + text.len() as u64 > max
        {
            self.rotate()?;
        }
        self.file
            .write_all(&text)
            .map_err(|e| RuntimeError::file(&self.path, e))?;
        self.size += text.len() as u64;
        Ok(())
    }

    /// `log` -> `log.1` -> ... -> `log.(max_files-1)`, dropping the oldest.
    fn rotate(&mut self) -> Result<(), RuntimeError> {
        let name = |i: u32| {
            let mut p = self.path.clone().into_os_string();
            p.push(format!(".{i}"));
            PathBuf::from(p)
        };
        if self.max_files <= 1 {
            self.file
                .set_len(0)
                .map_err(|e| RuntimeError::file(&self.path, e))?;
            self.size = 0;
            return Ok(());
        }
        let _ = std::fs::remove_file(name(self.max_files - 1));
        for i in (1..self.max_files - 1).rev() {
            let _ = std::fs::rename(name(i), name(i + 1));
        }
        std::fs::rename(&self.path, name(1)).map_err(|e| RuntimeError::file(&self.path, e))?;
        self.file = File::options()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(|e| RuntimeError::file(&self.path, e))?;
        self.size = 0;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_lines_match_serde_and_chrono() {
        for (secs, nanos) in [
            (0i64, 0u32),
            (951_782_400, 5),
            (1_796_000_123, 999_999_999),
            (4_102_444_800, 1),
        ] {
            let want = chrono::DateTime::from_timestamp(secs, nanos)
                .unwrap()
                .to_rfc3339_opts(chrono::SecondsFormat::Nanos, true);
            assert_eq!(rfc3339_nanos(secs, nanos), want);
        }
        // Every 13th day from 1970 to about 2134, leap years and centuries included.
        for day in (0..60_000i64).step_by(13) {
            let secs = day * 86_400 + 45_296;
            let want = chrono::DateTime::from_timestamp(secs, 7)
                .unwrap()
                .to_rfc3339_opts(chrono::SecondsFormat::Nanos, true);
            assert_eq!(rfc3339_nanos(secs, 7), want);
        }
        let log = "tab\there \"quoted\" back\\slash \u{1}\u{7f} é 😀\n";
        let line = json_log_line(log, "stderr", "T".into());
        assert_eq!(line.last(), Some(&b'\n'));
        let v: serde_json::Value = serde_json::from_slice(&line).unwrap();
        assert_eq!(v["log"], log);
        assert_eq!(v["stream"], "stderr");
        assert_eq!(v["time"], "T");
    }
}
