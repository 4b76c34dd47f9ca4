//! Attach to a detached container: its live output as it comes, input to its stdin.

use std::io::{Read, Write};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::UnixStream;
use std::time::Duration;

use super::{Client, LogStream};
use crate::container;
use crate::error::{Error, Result};
use crate::supervisor::detached::{ATTACH_STDERR, CONTROL_RESIZE, attach_socket, control_socket};

/// Bytes a container wrote to one of its streams, as [`Attached::receive`] got them.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct OutputChunk {
    /// Where it wrote them (with a terminal, everything is [`LogStream::Stdout`]).
    pub stream: LogStream,
    /// What it wrote: any bytes, not necessarily whole lines.
    pub data: Vec<u8>,
}

/// A connection to a running container's output and input, from [`Client::attach`].
///
/// Its file descriptor ([`AsFd`]) becomes readable when output arrives, so a program can
/// wait on it together with its own input (poll).
#[derive(Debug)]
pub struct Attached {
    client: Client,
    id: String,
    sock: UnixStream,
    frame: Vec<u8>,
    tty: bool,
    stdin_open: bool,
    /// The supervisor's control socket, for a container with a terminal.
    control: Option<std::os::unix::net::UnixDatagram>,
}

impl Attached {
    /// The container has a terminal (`-t`): its output is one stream, as a terminal
    /// shows it.
    pub fn tty(&self) -> bool {
        self.tty
    }

    /// The container keeps its stdin open (`-i`): [`Attached::send`] reaches it.
    pub fn stdin_open(&self) -> bool {
        self.stdin_open
    }

    /// Wait for output and return what came, in order (at least one chunk); `None` once
    /// the container has ended and everything it wrote was received.
    pub fn receive(&mut self) -> Result<Option<Vec<OutputChunk>>> {
        let mut buf = vec![0u8; 32 << 10];
        loop {
            let n = match self.sock.read(&mut buf) {
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Error::io("attach socket", e)),
            };
            if n == 0 {
                return Ok(None);
            }
            self.frame.extend_from_slice(&buf[..n]);
            // The supervisor's frames: one byte stream, a big-endian u32 length, the data.
            let mut chunks = Vec::new();
            while self.frame.len() >= 5 {
                let f = &self.frame;
                let len = u32::from_be_bytes([f[1], f[2], f[3], f[4]]) as usize;
                if f.len() < 5 + len {
                    break;
                }
                let stream = if f[0] == ATTACH_STDERR {
                    LogStream::Stderr
                } else {
                    LogStream::Stdout
                };
                chunks.push(OutputChunk {
                    stream,
                    data: f[5..5 + len].to_vec(),
                });
                self.frame.drain(..5 + len);
            }
            if !chunks.is_empty() {
                return Ok(Some(chunks));
            }
        }
    }

    /// Write `data` to the container's stdin (when [`Attached::stdin_open`]; otherwise
    /// it is dropped).
    pub fn send(&mut self, data: &[u8]) -> Result<()> {
        self.sock
            .write_all(data)
            .map_err(|e| Error::io("attach socket", e))
    }

    /// Set the size of the container's terminal (rows, columns), as a terminal window
    /// does when it is resized: the container's foreground program gets SIGWINCH. Does
    /// nothing for a container without a terminal.
    pub fn resize(&self, rows: u16, cols: u16) -> Result<()> {
        let Some(ctl) = &self.control else {
            return Ok(());
        };
        let mut msg = [CONTROL_RESIZE, 0, 0, 0, 0];
        msg[1..3].copy_from_slice(&rows.to_be_bytes());
        msg[3..5].copy_from_slice(&cols.to_be_bytes());
        ctl.send(&msg)
            .map(|_| ())
            .map_err(|e| Error::io("control socket", e))
    }

    /// Wait (up to 30 s) for the container to be recorded as ended, after
    /// [`Attached::receive`] returned `None`; its exit code.
    pub fn wait(self) -> Result<i32> {
        let store = self.client.store()?;
        container::wait_stopped(&store, &self.id, Duration::from_secs(30))?;
        Ok(container::find(&store, &self.id)
            .ok()
            .and_then(|c| c.exit_code)
            .unwrap_or(0) as i32)
    }
}

impl AsFd for Attached {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.sock.as_fd()
    }
}

impl Client {
    /// Attach to the running detached container `id`: what it writes from now on, and
    /// its stdin when it was created to keep it open. Several programs may attach at
    /// once. A container that is not running is [`Error::Conflict`].
    pub fn attach(&self, id: &str) -> Result<Attached> {
        let store = self.store()?;
        let c = container::find(&store, id)?;
        if !container::supervised(&c) {
            return Err(Error::Conflict(format!(
                "you cannot attach to a stopped container {}; start it first",
                c.name
            )));
        }
        let dir = container::container_dir(&store, &c.id);
        let (_, settings) = container::load_bundle(&dir)?;
        let dirf = std::fs::File::open(&dir).map_err(|e| Error::io(&dir, e))?;
        let sock = UnixStream::connect(attach_socket(&dirf))
            .map_err(|e| Error::Other(format!("container {}: cannot attach: {e}", c.name)))?;
        let control = if settings.tty {
            let ctl = std::os::unix::net::UnixDatagram::unbound()
                .map_err(|e| Error::io("control socket", e))?;
            ctl.connect(control_socket(&dirf)).map_err(|e| {
                Error::Other(format!("container {}: no terminal control: {e}", c.name))
            })?;
            Some(ctl)
        } else {
            None
        };
        Ok(Attached {
            client: self.clone(),
            id: c.id,
            sock,
            frame: Vec::new(),
            tty: settings.tty,
            stdin_open: settings.stdin_open,
            control,
        })
    }
}
