//! The `barge` binary: parse, dispatch, map errors to exit codes. Nothing else.

use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;

fn main() -> ExitCode {
    let started = Instant::now();
    // A shell asking for completions (`_BARGE_COMPLETE=bash barge -- ...`) is answered
    // here and the process exits: nothing else runs, nothing is written.
    barge::cli::complete::complete_if_asked();
    barge::ui::init();
    let cli = match barge::cli::Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            // Docker exits 125 on a bad flag or an unknown command; --help and --version
            // are not errors.
            let code = if e.use_stderr() { 125 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let debug = cli.debug;
    let result = barge::cli::run(cli);
    let code = match result {
        Ok(code) => ExitCode::from(code.clamp(0, 255) as u8),
        // `barge images | head -1` is not an error.
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            let msg = if debug {
                barge::ui::cause_chain(&e)
            } else {
                e.to_string()
            };
            barge::ui::error(&msg, hint(&e).as_deref());
            ExitCode::from(e.exit_code().clamp(0, 255) as u8)
        }
    };
    if debug {
        barge::ui::debug(&format!("took {:.3}s", started.elapsed().as_secs_f64()));
    }
    code
}

fn hint(e: &barge::Error) -> Option<String> {
    if let barge::Error::Unauthorized { registry, .. } = e {
        return Some(format!("log in with `barge login {registry}`"));
    }
    if let barge::Error::Hinted { hint, .. } = e {
        return Some(hint.clone());
    }
    static_hint(e).map(str::to_string)
}

fn static_hint(e: &barge::Error) -> Option<&'static str> {
    match e {
        _ if e.is_no_space() => {
            Some("the store's file system is full: free space, or run `barge system prune`")
        }
        barge::Error::NoSuchImage(_) => Some(
            "see `barge images` for what is here, `barge pull` it, or `barge import` an archive",
        ),
        barge::Error::NoSuchContainer(_) => Some("see `barge ps -a` for the containers there are"),
        barge::Error::NoSuchPod(_) => Some("see `barge pod ls` for the pods there are"),
        barge::Error::NoSuchNetwork(_) => Some("see `barge network ls` for the networks there are"),
        barge::Error::NeedsConfirmation(_) => {
            Some("pass -f/--force to run it without asking (from a script, for example)")
        }
        _ => None,
    }
}

fn is_broken_pipe(e: &barge::Error) -> bool {
    matches!(e, barge::Error::Io { source, .. } if source.kind() == std::io::ErrorKind::BrokenPipe)
}
