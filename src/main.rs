//! The `barge` binary: parse, dispatch, map errors to exit codes. Nothing else.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = match barge::cli::Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            // Docker exits 125 on a bad flag; --help and --version are not errors.
            let code = if e.use_stderr() { 125 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let debug = cli.debug;
    match barge::cli::run(cli) {
        Ok(code) => ExitCode::from(code.clamp(0, 255) as u8),
        Err(e) => {
            if is_broken_pipe(&e) {
                // `barge images | head -1` is not an error.
                return ExitCode::SUCCESS;
            }
            let hint = if e.is_no_space() {
                Some(
                    "the store's file system is full: free space, or run `barge image prune`"
                        .to_string(),
                )
            } else if let barge::Error::Unauthorized { registry, .. } = &e {
                Some(format!("log in with `barge login {registry}`"))
            } else if matches!(e, barge::Error::NoSuchImage(_)) {
                Some("see `barge images` for what is here, `barge pull` it, or `barge import` an archive".to_string())
            } else {
                None
            };
            let msg = if debug {
                format!("{e:?}")
            } else {
                e.to_string()
            };
            barge::ui::error(&msg, hint.as_deref());
            ExitCode::from(125)
        }
    }
}

fn is_broken_pipe(e: &barge::Error) -> bool {
    matches!(e, barge::Error::Io { source, .. } if source.kind() == std::io::ErrorKind::BrokenPipe)
}
