//! A container's logs: the json-file log its supervisor writes (rotated files first),
//! read as an iterator of lines, optionally following it while the container runs.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use super::Client;
use crate::container;
use crate::error::{Error, Result};
use crate::store::Store;

/// Which stream a log line was written to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogStream {
    /// The container's standard output.
    Stdout,
    /// The container's standard error.
    Stderr,
}

/// One line of a container's output.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct LogLine {
    /// Where the container wrote it.
    pub stream: LogStream,
    /// When the supervisor read it.
    pub time: SystemTime,
    /// The text, with its newline when it had one.
    pub text: String,
}

/// Which lines [`Client::logs`] yields.
#[derive(Clone, Debug, Default)]
pub struct LogOptions {
    pub(crate) follow: bool,
    pub(crate) tail: Option<usize>,
    pub(crate) since: Option<SystemTime>,
}

impl LogOptions {
    /// Every line logged so far, then the end.
    pub fn new() -> LogOptions {
        LogOptions::default()
    }

    /// Keep yielding new lines while the container runs; the iterator ends when it stops.
    pub fn follow(mut self, yes: bool) -> Self {
        self.follow = yes;
        self
    }

    /// Only the last `n` lines logged so far (then new ones, when following).
    pub fn tail(mut self, n: usize) -> Self {
        self.tail = Some(n);
        self
    }

    /// Only lines logged at or after `time`.
    pub fn since(mut self, time: SystemTime) -> Self {
        self.since = Some(time);
        self
    }
}

/// The lines of a container's log: an iterator from [`Client::logs`]. Following, `next`
/// blocks (polling every 50 ms) until a line arrives or the container stops.
pub struct Logs {
    store: Store,
    id: String,
    path: PathBuf,
    backlog: VecDeque<String>,
    reader: Option<BufReader<File>>,
    /// A line the supervisor has not finished writing yet.
    partial: String,
    follow: bool,
    since: Option<SystemTime>,
}

impl std::fmt::Debug for Logs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Logs")
            .field("id", &self.id)
            .field("follow", &self.follow)
            .finish_non_exhaustive()
    }
}

/// A json-file line (`{"log":"...","stream":"stdout","time":"..."}`); None when it is
/// not one.
fn parse(line: &str) -> Option<LogLine> {
    let v: serde_json::Value = serde_json::from_str(line).ok()?;
    let time = v["time"]
        .as_str()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map(SystemTime::from)
        .unwrap_or(SystemTime::UNIX_EPOCH);
    Some(LogLine {
        stream: if v["stream"] == "stderr" {
            LogStream::Stderr
        } else {
            LogStream::Stdout
        },
        time,
        text: v["log"].as_str().unwrap_or("").to_string(),
    })
}

impl Logs {
    fn wanted(&self, l: &LogLine) -> bool {
        self.since.is_none_or(|s| l.time >= s)
    }

    /// Whole lines appended since the last read; an unfinished one waits in `partial`.
    fn read_more(&mut self) -> Result<bool> {
        if self.reader.is_none() {
            self.reader = File::open(&self.path).ok().map(BufReader::new);
        }
        let Some(r) = self.reader.as_mut() else {
            return Ok(false);
        };
        let mut progressed = false;
        loop {
            let n = r
                .read_line(&mut self.partial)
                .map_err(|e| Error::io(&self.path, e))?;
            if n == 0 || !self.partial.ends_with('\n') {
                return Ok(progressed);
            }
            self.backlog.push_back(std::mem::take(&mut self.partial));
            progressed = true;
        }
    }

    fn running(&self) -> Result<bool> {
        Ok(self
            .store
            .containers()?
            .into_iter()
            .find(|x| x.id == self.id)
            .is_some_and(|x| container::supervised(&x)))
    }
}

impl Iterator for Logs {
    type Item = Result<LogLine>;

    fn next(&mut self) -> Option<Result<LogLine>> {
        loop {
            while let Some(raw) = self.backlog.pop_front() {
                if let Some(l) = parse(raw.trim_end_matches('\n'))
                    && self.wanted(&l)
                {
                    return Some(Ok(l));
                }
            }
            if !self.follow {
                return None;
            }
            match self.read_more() {
                Ok(true) => continue,
                Ok(false) => {}
                Err(e) => return Some(Err(e)),
            }
            match self.running() {
                Ok(true) => {}
                // A last read: lines written between the read above and the exit.
                Ok(false) => {
                    self.follow = false;
                    if let Err(e) = self.read_more() {
                        return Some(Err(e));
                    }
                    continue;
                }
                Err(e) => return Some(Err(e)),
            }
            // A rotation replaced the file: reopen it (the rest of the old one was read).
            if let (Ok(m), Some(r)) = (std::fs::metadata(&self.path), self.reader.as_ref())
                && let Ok(cur) = r.get_ref().metadata()
                && std::os::unix::fs::MetadataExt::ino(&m)
                    != std::os::unix::fs::MetadataExt::ino(&cur)
            {
                self.reader = None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Client {
    /// The output of container `id` as logged by its supervisor (detached containers;
    /// a foreground [`Client::run`] writes to this process's stdio instead).
    ///
    /// ```no_run
    /// use barge::client::{Client, LogOptions, LogStream};
    /// let client = Client::open_default()?;
    /// for line in client.logs("web", &LogOptions::new().tail(10))? {
    ///     let line = line?;
    ///     let tag = if line.stream == LogStream::Stderr { "err" } else { "out" };
    ///     print!("{tag}: {}", line.text);
    /// }
    /// # Ok::<(), barge::Error>(())
    /// ```
    pub fn logs(&self, id: &str, opts: &LogOptions) -> Result<Logs> {
        let store = self.store()?;
        let c = container::find(&store, id)?;
        let path = container::log_path(&store, &c.id);
        let mut logs = Logs {
            store,
            id: c.id,
            path,
            backlog: VecDeque::new(),
            reader: None,
            partial: String::new(),
            follow: opts.follow,
            since: opts.since,
        };
        // Rotated files first, oldest first.
        for i in (1..10).rev() {
            let p = PathBuf::from(format!("{}.{i}", logs.path.display()));
            if let Ok(f) = File::open(&p) {
                logs.backlog
                    .extend(BufReader::new(f).lines().map_while(|l| l.ok()));
            }
        }
        logs.read_more()?;
        if let Some(n) = opts.tail {
            let skip = logs.backlog.len().saturating_sub(n);
            logs.backlog.drain(..skip);
        }
        Ok(logs)
    }
}
