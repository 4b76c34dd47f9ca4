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
    total: ProgressBar,
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
            let total = multi.add(ProgressBar::new(0));
            total.set_style(
                ProgressStyle::with_template(
                    "{prefix:12} {bar:30} {bytes}/{total_bytes} {bytes_per_sec} ETA {eta}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            total.set_prefix("total");
            Bars {
                multi,
                total,
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
            b.total.finish_and_clear();
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
            let _ = writeln!(std::io::stderr().lock(), "{h}");
        }
        let Some(b) = &self.bars else { return };
        let style = ProgressStyle::with_template("{prefix:12} {bar:30} {bytes}/{total_bytes}")
            .unwrap_or_else(|_| ProgressStyle::default_bar());
        let mut map = b.layers.lock().expect("bars");
        let mut total = 0;
        for (d, size) in layers {
            if map.contains_key(d) {
                continue;
            }
            total += size;
            let bar = b.multi.insert_before(&b.total, ProgressBar::new(*size));
            bar.set_style(style.clone());
            bar.set_prefix(d.short().to_string());
            map.insert(d.clone(), (bar, 0));
        }
        b.total.set_length(total);
    }

    fn layer(&self, digest: &Digest, event: LayerEvent) {
        if let Some(b) = &self.bars {
            let mut map = b.layers.lock().expect("bars");
            if let Some((bar, seen)) = map.get_mut(digest) {
                let now = match &event {
                    LayerEvent::Progress { done, .. } => *done,
                    LayerEvent::Done { bytes } => *bytes,
                    LayerEvent::Exists => bar.length().unwrap_or(0),
                };
                b.total.inc(now.saturating_sub(*seen));
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
            LayerEvent::Progress { .. } => {}
        }
    }
}
