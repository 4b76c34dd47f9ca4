//! Command-line definitions (clap) and dispatch: parse -> call the library -> print via ui/.
//! One small file per command group.

mod container;
mod image;
mod network;
pub mod oci;
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
    /// Create and run a container from an image, in the foreground
    Run(Box<run::RunArgs>),
    /// Create a container (stopped) from an image; prints its ID
    Create(Box<run::RunArgs>),
    /// Start stopped containers in the background
    Start(container::StartArgs),
    /// Stop running containers (stop signal, then SIGKILL)
    Stop(container::StopArgs),
    /// Send a signal to running containers
    Kill(container::KillArgs),
    /// Restart containers
    Restart(container::StopArgs),
    /// Remove containers
    Rm(container::RmArgs),
    /// List containers
    Ps(container::PsArgs),
    /// Run a command in a running container
    Exec(container::ExecArgs),
    /// Copy files between a container and the host
    Cp(container::CpArgs),
    /// Write a container's filesystem as a tar archive
    Export(container::ExportArgs),
    /// Pause all processes of containers (cgroup freezer)
    Pause(container::PauseArgs),
    /// Unpause containers
    Unpause(container::PauseArgs),
    /// Show CPU, memory and pids use of running containers
    Stats(container::StatsArgs),
    /// Show a container's output
    Logs(container::LogsArgs),
    /// Wait for containers to stop, then print their exit codes
    Wait(container::WaitArgs),
    /// Rename a container
    Rename(container::RenameArgs),
    /// Show the processes of a running container
    Top(container::TopArgs),
    /// List a container's published ports, or the host address of one port
    Port(container::PortArgs),
    /// Manage containers
    #[command(subcommand)]
    Container(container::ContainerCommand),
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
    /// Manage networks
    #[command(subcommand)]
    Network(network::NetworkCommand),
    /// Manage barge itself
    #[command(subcommand)]
    System(SystemCommand),
    /// Low-level, runc-compatible runtime commands (for podman --runtime and the OCI tests)
    Oci(oci::OciArgs),
    /// Watch a detached container (started by barge itself)
    #[command(hide = true, name = "__supervise")]
    Supervise(container::SuperviseArgs),
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
        Command::Inspect(a) => image::inspect(&paths, a),
        Command::Image(ImageCommand::Inspect(mut a)) => {
            a.kind.get_or_insert_with(|| "image".into());
            image::inspect(&paths, a)
        }
        Command::History(a) | Command::Image(ImageCommand::History(a)) => image::history(&paths, a),
        Command::Save(a) | Command::Image(ImageCommand::Save(a)) => image::save(&paths, a),
        Command::Image(ImageCommand::Prune(a)) => image::prune(&paths, a),
        Command::System(SystemCommand::Df(a)) => system::df(&paths, a),
        Command::Run(a) => run::run(&paths, *a),
        Command::Create(a) => {
            let mut store = crate::store::Store::open(&paths.root)?;
            let p = run::create(&paths, &a, &mut store)?;
            println!("{}", p.record.id);
            Ok(0)
        }
        Command::Start(a) => container::start(&paths, a),
        Command::Stop(a) => container::stop(&paths, a),
        Command::Kill(a) => container::kill(&paths, a),
        Command::Restart(a) => container::restart(&paths, a),
        Command::Rm(a) => container::rm(&paths, a),
        Command::Ps(a) | Command::Container(container::ContainerCommand::Ls(a)) => {
            container::ps(&paths, a)
        }
        Command::Logs(a) => container::logs(&paths, a),
        Command::Exec(a) => container::exec(&paths, a),
        Command::Pause(a) => container::pause(&paths, a),
        Command::Unpause(a) => container::unpause(&paths, a),
        Command::Stats(a) => container::stats(&paths, a),
        Command::Cp(a) => container::cp(&paths, a),
        Command::Export(a) => container::export(&paths, a),
        Command::Wait(a) => container::wait(&paths, a),
        Command::Rename(a) => container::rename(&paths, a),
        Command::Top(a) => container::top(&paths, a),
        Command::Port(a) => container::port(&paths, a),
        Command::Container(container::ContainerCommand::Prune(a)) => container::prune(&paths, a),
        Command::Container(container::ContainerCommand::Inspect(a)) => {
            container::inspect(&paths, a)
        }
        Command::Supervise(a) => container::supervise(&paths, a),
        Command::Volume(c) => volume::run(&paths, c),
        Command::Network(c) => network::run(&paths, c),
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
