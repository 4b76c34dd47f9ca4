//! The only place that writes to the terminal: tables, `--format`, sizes and times the way
//! Docker shows them, progress bars (only when stderr is a terminal), prompts (only when
//! stdin is a terminal) and error rendering.

pub mod template;
pub mod transfer;

use std::io::{self, IsTerminal, Write};

use serde_json::Value;

/// Docker's `units.HumanSizeWithPrecision(size, 3)`: SI units, 3 significant digits.
pub fn human_size(size: u64) -> String {
    const UNITS: [&str; 9] = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"];
    let mut s = size as f64;
    let mut i = 0;
    while s >= 1000.0 && i < UNITS.len() - 1 {
        s /= 1000.0;
        i += 1;
    }
    format!("{}{}", fmt_g3(s), UNITS[i])
}

/// Docker's `units.BytesSize` (binary units, as `stats` shows memory): `1.5MiB`.
pub fn human_size_binary(size: u64) -> String {
    const UNITS: [&str; 7] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let mut s = size as f64;
    let mut i = 0;
    while s >= 1024.0 && i < UNITS.len() - 1 {
        s /= 1024.0;
        i += 1;
    }
    format!("{}{}", fmt_g3(s), UNITS[i])
}

/// `%.3g` as Go prints it (no trailing zeros, no exponent for the values sizes take).
fn fmt_g3(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let digits = v.abs().log10().floor() as i32 + 1;
    let decimals = (3 - digits).max(0) as usize;
    let s = format!("{v:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// Docker's `units.HumanDuration`, as in "2 weeks ago" (the caller adds " ago").
pub fn human_duration(secs: i64) -> String {
    let s = secs.max(0);
    let m = s / 60;
    let h = m / 60;
    let d = h / 24;
    match () {
        _ if s < 1 => "Less than a second".into(),
        _ if s == 1 => "1 second".into(),
        _ if s < 60 => format!("{s} seconds"),
        _ if m == 1 => "About a minute".into(),
        _ if m < 60 => format!("{m} minutes"),
        _ if h == 1 && m < 90 => "About an hour".into(),
        _ if h < 48 => format!("{h} hours"),
        _ if h < 24 * 7 * 2 => format!("{d} days"),
        _ if h < 24 * 30 * 2 => format!("{} weeks", d / 7),
        _ if h < 24 * 365 * 2 => format!("{} months", d / 30),
        _ => format!("{} years", d / 365),
    }
}

/// "2 weeks ago" for an RFC 3339 time; "N/A" when unknown.
pub fn since(rfc3339: Option<&str>) -> String {
    match rfc3339.and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok()) {
        Some(t) => {
            let secs = (chrono::Utc::now() - t.with_timezone(&chrono::Utc)).num_seconds();
            format!("{} ago", human_duration(secs))
        }
        None => "N/A".into(),
    }
}

/// Docker's CreatedAt form: `2024-01-02 03:04:05 +0000 UTC`.
pub fn created_at(rfc3339: Option<&str>) -> String {
    match rfc3339.and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok()) {
        Some(t) => t
            .with_timezone(&chrono::Utc)
            .format("%Y-%m-%d %H:%M:%S +0000 UTC")
            .to_string(),
        None => String::new(),
    }
}

/// How rows are printed: Docker's table, `json` (one object per line) or a Go template.
#[derive(Clone, Debug)]
pub enum Format {
    Table,
    Json,
    Template { table: bool, text: String },
}

impl Format {
    pub fn parse(s: Option<&str>) -> Format {
        match s.map(str::trim) {
            None | Some("") | Some("table") => Format::Table,
            Some("json") | Some("{{json .}}") => Format::Json,
            Some(t) => match t.strip_prefix("table") {
                Some(rest) if rest.starts_with(char::is_whitespace) => Format::Template {
                    table: true,
                    text: rest.trim_start().to_string(),
                },
                _ => Format::Template {
                    table: false,
                    text: t.to_string(),
                },
            },
        }
    }
}

/// Print rows (JSON objects with Docker's field names) as a table of `columns`
/// ((header, field)), as JSON lines, or through a template.
pub fn print_rows(
    out: &mut dyn Write,
    format: &Format,
    columns: &[(&str, &str)],
    rows: &[Value],
) -> io::Result<()> {
    match format {
        Format::Json => {
            for r in rows {
                writeln!(out, "{}", serde_json::to_string(r).unwrap_or_default())?;
            }
            Ok(())
        }
        Format::Table => {
            let header: Vec<String> = columns.iter().map(|(h, _)| h.to_string()).collect();
            let body: Vec<Vec<String>> = rows
                .iter()
                .map(|r| {
                    columns
                        .iter()
                        .map(|(_, f)| template::field_text(r, f))
                        .collect()
                })
                .collect();
            write_table(out, &header, &body)
        }
        Format::Template { table, text } => {
            let tpl = template::Template::parse(text).map_err(io::Error::other)?;
            if *table {
                let header_line = tpl.header();
                let mut lines: Vec<Vec<String>> = Vec::new();
                for r in rows {
                    lines.push(tpl.render(r).split('\t').map(str::to_string).collect());
                }
                let header: Vec<String> = header_line.split('\t').map(str::to_string).collect();
                write_table(out, &header, &lines)
            } else {
                for r in rows {
                    writeln!(out, "{}", tpl.render(r))?;
                }
                Ok(())
            }
        }
    }
}

/// Columns padded like Go's tabwriter as Docker configures it
/// (`tabwriter.NewWriter(out, 10, 1, 3, ' ', 0)`): 3 spaces of padding, and a column is at
/// least 10 wide padding included, which is why Docker prints `TAG       IMAGE ID`.
pub fn write_table(out: &mut dyn Write, header: &[String], rows: &[Vec<String>]) -> io::Result<()> {
    const MIN_WIDTH: usize = 10;
    const PADDING: usize = 3;
    let n = header.len();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate().take(n) {
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    for w in &mut widths {
        *w = (*w + PADDING).max(MIN_WIDTH) - PADDING;
    }
    let mut line = |cells: &[String]| -> io::Result<()> {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i + 1 < cells.len().min(n) {
                s.push_str(c);
                s.extend(std::iter::repeat_n(
                    ' ',
                    widths[i] - c.chars().count() + PADDING,
                ));
            } else {
                s.push_str(c);
            }
        }
        writeln!(out, "{}", s.trim_end())
    };
    if !header.iter().all(|h| h.is_empty()) {
        line(header)?;
    }
    for r in rows {
        line(r)?;
    }
    Ok(())
}

pub fn stderr_is_terminal() -> bool {
    io::stderr().is_terminal()
}

pub fn stdin_is_terminal() -> bool {
    io::stdin().is_terminal()
}

/// Ask a yes/no question on the terminal. None when stdin is not a terminal (never prompt
/// a script): the caller then needs `--force`.
pub fn confirm(prompt: &str) -> Option<bool> {
    if !stdin_is_terminal() || !stderr_is_terminal() {
        return None;
    }
    dialoguer::Confirm::new()
        .with_prompt(prompt)
        .default(false)
        .interact()
        .ok()
}

/// Ask for one line of text on the terminal (`login` without `--username`).
pub fn prompt_line(prompt: &str) -> crate::Result<String> {
    dialoguer::Input::<String>::new()
        .with_prompt(prompt)
        .interact_text()
        .map_err(|e| crate::Error::Other(format!("{prompt}: {e}")))
}

/// Ask for a password on the terminal, without echo.
pub fn prompt_password(prompt: &str) -> crate::Result<String> {
    dialoguer::Password::new()
        .with_prompt(prompt)
        .interact()
        .map_err(|e| crate::Error::Other(format!("{prompt}: {e}")))
}

/// A byte progress bar on stderr, or nothing when stderr is not a terminal or `quiet`.
pub struct Progress {
    bar: Option<indicatif::ProgressBar>,
}

impl Progress {
    pub fn bytes(label: &str, quiet: bool) -> Progress {
        if quiet || !stderr_is_terminal() {
            return Progress { bar: None };
        }
        let bar =
            indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr());
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{prefix} {bar:30} {bytes}/{total_bytes} {bytes_per_sec}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar.set_prefix(label.to_string());
        Progress { bar: Some(bar) }
    }

    pub fn set(&self, done: u64, total: Option<u64>) {
        if let Some(b) = &self.bar {
            match total {
                Some(t) => b.set_length(t),
                None => b.set_length(done),
            }
            b.set_position(done);
        }
    }

    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

/// Set up the terminal side once, first thing: honour `NO_COLOR` (<https://no-color.org>):
/// any non-empty value turns colours off in everything that draws (progress bars, prompts).
pub fn init() {
    if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
        console::set_colors_enabled(false);
        console::set_colors_enabled_stderr(false);
    }
}

/// The error and every cause under it, one per line (`--debug`), then its debug form,
/// which names the variant and the OS error code.
pub fn cause_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(&format!("\n  caused by: {c}"));
        cur = c.source();
    }
    s.push_str(&format!("\n  debug: {e:?}"));
    s
}

/// A `--debug` line on stderr.
pub fn debug(msg: &str) {
    let _ = writeln!(io::stderr().lock(), "barge: debug: {msg}");
}

/// Print an error the house way: `barge: error: ...`, then a hint line if there is one.
pub fn error(msg: &str, hint: Option<&str>) {
    let mut e = io::stderr().lock();
    let _ = writeln!(e, "barge: error: {msg}");
    if let Some(h) = hint {
        let _ = writeln!(e, "hint: {h}");
    }
}

/// A message for people (not data): stderr.
pub fn info(msg: &str) {
    let _ = writeln!(io::stderr().lock(), "{msg}");
}

pub fn warn(msg: &str) {
    let _ = writeln!(io::stderr().lock(), "barge: warning: {msg}");
}

/// The terminal in raw mode for as long as this lives (`attach` to a container with a
/// tty): keys go to the container as typed; the old mode comes back on drop.
pub struct RawMode {
    saved: nix::sys::termios::Termios,
}

impl RawMode {
    /// None when stdin is not a terminal.
    pub fn enter() -> Option<RawMode> {
        let stdin = io::stdin();
        let saved = nix::sys::termios::tcgetattr(&stdin).ok()?;
        let mut raw = saved.clone();
        nix::sys::termios::cfmakeraw(&mut raw);
        nix::sys::termios::tcsetattr(&stdin, nix::sys::termios::SetArg::TCSANOW, &raw).ok()?;
        Some(RawMode { saved })
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        let _ = nix::sys::termios::tcsetattr(
            io::stdin(),
            nix::sys::termios::SetArg::TCSANOW,
            &self.saved,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_like_docker() {
        assert_eq!(human_size(0), "0B");
        assert_eq!(human_size(999), "999B");
        assert_eq!(human_size(7_331_000), "7.33MB");
        assert_eq!(human_size(123_456_789), "123MB");
        assert_eq!(human_size(1_234_567_890), "1.23GB");
        assert_eq!(human_size(10_000), "10kB");
    }

    #[test]
    fn durations_like_docker() {
        assert_eq!(human_duration(0), "Less than a second");
        assert_eq!(human_duration(30), "30 seconds");
        assert_eq!(human_duration(3600), "About an hour");
        assert_eq!(human_duration(86400 * 15), "2 weeks");
    }

    #[test]
    fn table_pads_like_docker() {
        let mut out = Vec::new();
        write_table(
            &mut out,
            &["A".into(), "BB".into()],
            &[vec!["xxxx".into(), "y".into()]],
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "A         BB\nxxxx      y\n"
        );
        let mut out = Vec::new();
        let long = "x".repeat(12);
        write_table(
            &mut out,
            &["A".into(), "B".into()],
            &[vec![long.clone(), "y".into()]],
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            format!("A{}B\n{long}   y\n", " ".repeat(14))
        );
    }
}
