use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "barge",
    version,
    about = "A daemonless, Docker-like container CLI"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Low-level, runc-compatible container runtime commands
    Oci(barge::cli::oci::OciArgs),
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Oci(args) => barge::cli::oci::run(args),
    };
    let code = match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("barge: error: {e:#}");
            125
        }
    };
    std::process::exit(code);
}
