//! Progress of pulls and pushes on stderr: on a terminal, one bar per layer and a total
//! line (bytes, rate, ETA); otherwise one plain line per finished layer, as Docker prints
//! when its output is not a terminal.

use std::collections::HashMap;
use std::io::Write;
use std::sync::Mutex;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::digest::Digest;
use crate::registry::{LayerEvent, PullObserver};

pub struct Transfer {
    quiet: bool,
    /// "Pull complete" or "Pushed".
    done_word: &'static str,
    exists_word: &'static str,
    bars: Option<Bars>,
    plain_done: Mutex<HashMap<Digest, ()>>,
    header: Option<String>,
}

struct Bars {
    multi: MultiProgress,
    /// Added once the layers are known, below their bars.
    total: Mutex<Option<ProgressBar>>,
    layers: Mutex<HashMap<Digest, (ProgressBar, u64)>>,
}

impl Transfer {
    pub fn pull(quiet: bool) -> Transfer {
        Self::new(quiet, "Pull complete", "Already exists")
    }

    pub fn push(quiet: bool) -> Transfer {
        Self::new(quiet, "Pushed", "Layer already exists")
    }

    fn new(quiet: bool, done_word: &'static str, exists_word: &'static str) -> Transfer {
        let bars = (!quiet && super::stderr_is_terminal()).then(|| {
            let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
            Bars {
                multi,
                total: Mutex::new(None),
                layers: Mutex::new(HashMap::new()),
            }
        });
        Transfer {
            quiet,
            done_word,
            exists_word,
            bars,
            plain_done: Mutex::new(HashMap::new()),
            header: None,
        }
    }

    /// A line printed when the list of layers is known (`latest: Pulling from alpine`).
    pub fn with_header(mut self, line: String) -> Transfer {
        self.header = Some(line);
        self
    }

    /// Clear the bars (before the final lines are printed).
    pub fn finish(&self) {
        if let Some(b) = &self.bars {
            for (bar, _) in b.layers.lock().expect("bars").values() {
                bar.finish_and_clear();
            }
            if let Some(t) = b.total.lock().expect("bars").as_ref() {
                t.finish_and_clear();
            }
            let _ = b.multi.clear();
        }
    }

    fn line(&self, digest: &Digest, word: &str, bytes: Option<u64>) {
        if self.quiet {
            return;
        }
        if let Some(b) = &self.bars {
            let _ = b.multi.println(format!("{}: {word}", digest.short()));
            return;
        }
        if self
            .plain_done
            .lock()
            .expect("done")
            .insert(digest.clone(), ())
            .is_some()
        {
            return;
        }
        let size = bytes
            .map(|n| format!(" ({})", super::human_size(n)))
            .unwrap_or_default();
        let _ = writeln!(std::io::stderr().lock(), "{}: {word}{size}", digest.short());
    }
}

impl PullObserver for Transfer {
    fn layers(&self, layers: &[(Digest, u64)]) {
        if let Some(h) = &self.header
            && !self.quiet
        {
            match &self.bars {
                Some(b) => {
                    let _ = b.multi.println(h);
                }
                None => {
                    let _ = writeln!(std::io::stderr().lock(), "{h}");
                }
            }
        }
        let Some(b) = &self.bars else { return };
        let style = ProgressStyle::with_template("{prefix:12} {bar:30} {bytes}/{total_bytes}")
            .unwrap_or_else(|_| ProgressStyle::default_bar());
        let mut map = b.layers.lock().expect("bars");
        let mut total_bytes = 0;
        let mut fresh = Vec::new();
        for (d, size) in layers {
            if map.contains_key(d) || fresh.iter().any(|(f, _)| f == d) {
                continue;
            }
            total_bytes += size;
            fresh.push((d.clone(), *size));
        }
        for (d, size) in fresh {
            let bar = b.multi.add(ProgressBar::new(size));
            bar.set_style(style.clone());
            bar.set_prefix(d.short().to_string());
            map.insert(d, (bar, 0));
        }
        let total = b.multi.add(ProgressBar::new(total_bytes));
        total.set_style(
            ProgressStyle::with_template(
                "{prefix:12} {bar:30} {bytes}/{total_bytes} {bytes_per_sec} ETA {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        total.set_prefix("total");
        *b.total.lock().expect("bars") = Some(total);
    }

    fn layer(&self, digest: &Digest, event: LayerEvent) {
        if let Some(b) = &self.bars {
            let mut map = b.layers.lock().expect("bars");
            if let Some((bar, seen)) = map.get_mut(digest) {
                let now = match &event {
                    LayerEvent::Progress { done, .. } => *done,
                    LayerEvent::Done { bytes } => *bytes,
                    LayerEvent::Exists | LayerEvent::Mounted { .. } => bar.length().unwrap_or(0),
                };
                if let Some(t) = b.total.lock().expect("bars").as_ref() {
                    t.inc(now.saturating_sub(*seen));
                }
                *seen = now.max(*seen);
                bar.set_position(now);
                if !matches!(event, LayerEvent::Progress { .. }) {
                    bar.finish_and_clear();
                }
            }
        }
        match event {
            LayerEvent::Exists => self.line(digest, self.exists_word, None),
            LayerEvent::Done { bytes } => self.line(digest, self.done_word, Some(bytes)),
            LayerEvent::Mounted { from } => {
                self.line(digest, &format!("Mounted from {from}"), None)
            }
            LayerEvent::Progress { .. } => {}
        }
    }
}
