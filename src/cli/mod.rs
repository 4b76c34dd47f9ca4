//! Command-line definitions (clap) and dispatch: parse -> call the library -> print via ui/.
//! One small file per command group.

mod image;
pub mod oci;
pub mod registry;
mod run;
mod system;
mod volume;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::config::Paths;

/// What a command wants `main` to exit with.
pub type ExitStatus = i32;

#[derive(Parser, Debug)]
#[command(
    name = "barge",
    version,
    about = "A daemonless, Docker-like container engine in one binary",
    long_about = "barge pulls, imports and runs containers without a daemon. Images live in an \
                  overlayfs store (default /var/lib/barge as root); every command is a short-lived \
                  process.",
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    /// Store root (default /var/lib/barge as root, ~/.local/share/barge otherwise)
    #[arg(long, global = true, env = "BARGE_ROOT", value_name = "DIR")]
    pub root: Option<PathBuf>,

    /// Show the whole error chain
    #[arg(long, global = true)]
    pub debug: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Import an image archive (docker save, OCI layout) or a root filesystem tarball
    #[command(visible_alias = "load")]
    Import(image::ImportArgs),
    /// Download an image from a registry
    Pull(registry::PullArgs),
    /// Upload an image to a registry
    Push(registry::PushArgs),
    /// Log in to a registry (credentials go to ~/.docker/config.json, as docker's)
    Login(registry::LoginArgs),
    /// Log out from a registry
    Logout(registry::LogoutArgs),
    /// Create and run a container from an image, in the foreground
    Run(Box<run::RunArgs>),
    /// List images
    Images(image::ImagesArgs),
    /// Manage images
    #[command(subcommand)]
    Image(ImageCommand),
    /// Remove one or more images
    Rmi(image::RmiArgs),
    /// Create a tag TARGET that refers to SOURCE
    Tag(image::TagArgs),
    /// Show low-level information on images, as JSON
    Inspect(image::InspectArgs),
    /// Show the history of an image
    History(image::HistoryArgs),
    /// Save images to a docker save archive (tar)
    Save(image::SaveArgs),
    /// Manage named volumes
    #[command(subcommand)]
    Volume(volume::VolumeCommand),
    /// Manage barge itself
    #[command(subcommand)]
    System(SystemCommand),
    /// Low-level, runc-compatible runtime commands (for podman --runtime and the OCI tests)
    Oci(oci::OciArgs),
    /// Write shell completions and man pages generated from these definitions
    #[command(hide = true, name = "__generate")]
    Generate(GenerateArgs),
}

#[derive(Subcommand, Debug)]
pub enum ImageCommand {
    /// List images
    #[command(visible_alias = "list")]
    Ls(image::ImagesArgs),
    /// Remove one or more images
    #[command(visible_alias = "remove")]
    Rm(image::RmiArgs),
    /// Show low-level information on images, as JSON
    Inspect(image::InspectArgs),
    /// Create a tag TARGET that refers to SOURCE
    Tag(image::TagArgs),
    /// Show the history of an image
    History(image::HistoryArgs),
    /// Save images to a docker save archive (tar)
    Save(image::SaveArgs),
    /// Import an image archive or a root filesystem tarball
    #[command(visible_alias = "load")]
    Import(image::ImportArgs),
    /// Download an image from a registry
    Pull(registry::PullArgs),
    /// Upload an image to a registry
    Push(registry::PushArgs),
    /// Remove dangling images and unreferenced layers and blobs
    Prune(image::PruneArgs),
}

#[derive(Subcommand, Debug)]
pub enum SystemCommand {
    /// Show disk usage
    Df(system::DfArgs),
}

#[derive(Args, Debug)]
pub struct GenerateArgs {
    /// Directory for completions/
    #[arg(long, default_value = "completions")]
    pub completions: PathBuf,
    /// Directory for man pages (man1)
    #[arg(long, default_value = "man")]
    pub man: PathBuf,
}

/// Run a parsed command line.
pub fn run(cli: Cli) -> crate::Result<ExitStatus> {
    let paths = Paths::resolve(cli.root.clone());
    match cli.command {
        Command::Import(a) | Command::Image(ImageCommand::Import(a)) => image::import(&paths, a),
        Command::Images(a) | Command::Image(ImageCommand::Ls(a)) => image::images(&paths, a),
        Command::Rmi(a) | Command::Image(ImageCommand::Rm(a)) => image::rmi(&paths, a),
        Command::Tag(a) | Command::Image(ImageCommand::Tag(a)) => image::tag(&paths, a),
        Command::Inspect(a) | Command::Image(ImageCommand::Inspect(a)) => image::inspect(&paths, a),
        Command::History(a) | Command::Image(ImageCommand::History(a)) => image::history(&paths, a),
        Command::Save(a) | Command::Image(ImageCommand::Save(a)) => image::save(&paths, a),
        Command::Image(ImageCommand::Prune(a)) => image::prune(&paths, a),
        Command::System(SystemCommand::Df(a)) => system::df(&paths, a),
        Command::Pull(a) | Command::Image(ImageCommand::Pull(a)) => registry::pull(&paths, a),
        Command::Push(a) | Command::Image(ImageCommand::Push(a)) => registry::push(&paths, a),
        Command::Login(a) => registry::login(a),
        Command::Logout(a) => registry::logout(a),
        Command::Run(a) => run::run(&paths, *a),
        Command::Volume(c) => volume::run(&paths, c),
        Command::Oci(a) => oci::run(a).map_err(|e| crate::Error::Other(format!("{e:#}"))),
        Command::Generate(a) => generate(a),
    }
}

/// Completions for bash, zsh and fish, and one man page per command.
fn generate(a: GenerateArgs) -> crate::Result<ExitStatus> {
    use crate::error::IoContext;
    use clap::CommandFactory;
    let mut cmd = Cli::command().disable_help_subcommand(true);
    std::fs::create_dir_all(&a.completions).at(&a.completions)?;
    for (shell, file) in [
        (clap_complete::Shell::Bash, "barge.bash"),
        (clap_complete::Shell::Zsh, "_barge"),
        (clap_complete::Shell::Fish, "barge.fish"),
    ] {
        let path = a.completions.join(file);
        let mut f = std::fs::File::create(&path).at(&path)?;
        clap_complete::generate(shell, &mut cmd, "barge", &mut f);
    }
    let man1 = a.man.join("man1");
    std::fs::create_dir_all(&man1).at(&man1)?;
    write_man(&cmd, "barge", &man1)?;
    Ok(0)
}

fn write_man(cmd: &clap::Command, name: &str, dir: &std::path::Path) -> crate::Result<()> {
    use crate::error::IoContext;
    let path = dir.join(format!("{name}.1"));
    let mut buf = Vec::new();
    clap_mangen::Man::new(cmd.clone().name(name.to_string()))
        .render(&mut buf)
        .at(&path)?;
    std::fs::write(&path, buf).at(&path)?;
    for sub in cmd.get_subcommands() {
        if sub.is_hide_set() || sub.get_name() == "help" {
            continue;
        }
        write_man(sub, &format!("{name}-{}", sub.get_name()), dir)?;
    }
    Ok(())
}
