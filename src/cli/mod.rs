//! Command-line definitions (clap) and dispatch: parse -> call the library -> print via ui/.
//! One small file per command group.

pub mod complete;
mod container;
mod image;
mod kube;
mod network;
pub mod oci;
mod pod;
pub mod registry;
pub(crate) mod run;
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

    /// Show the whole error chain and how long the command took (on stderr)
    #[arg(long, global = true)]
    pub debug: bool,

    #[command(subcommand)]
    pub command: Command,
}

// Each command's arguments are built only when that command runs: building all of
// them (hundreds of arguments with their help) took 0.9 ms of every invocation.
#[derive(Subcommand, Debug)]
#[command(defer = true)]
pub enum Command {
    /// Import an image archive (docker save, OCI layout) or a root filesystem tarball
    #[command(visible_alias = "load", after_long_help = EXAMPLES_IMPORT)]
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
    #[command(after_long_help = EXAMPLES_RUN)]
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
    #[command(after_long_help = EXAMPLES_PS)]
    Ps(container::PsArgs),
    /// Run a command in a running container
    Exec(container::ExecArgs),
    /// Attach to a running container's output (and input, when run with -i)
    Attach(container::AttachArgs),
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
    #[command(after_long_help = EXAMPLES_IMAGES)]
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
    #[command(after_long_help = EXAMPLES_SAVE)]
    Save(image::SaveArgs),
    /// Manage named volumes
    #[command(subcommand)]
    Volume(volume::VolumeCommand),
    /// Manage networks
    #[command(subcommand)]
    Network(network::NetworkCommand),
    /// Manage pods: containers sharing a network, IPC and UTS namespace
    #[command(subcommand)]
    Pod(pod::PodCommand),
    /// Kubernetes manifests: generate them from containers and pods, play them here
    #[command(subcommand)]
    Kube(kube::KubeCommand),
    /// Manage barge itself
    #[command(subcommand)]
    System(SystemCommand),
    /// Show how barge is set up on this host: store, storage driver, cgroups, security
    Info(system::InfoArgs),
    /// Show barge's version, git commit, Rust version and platform
    Version(system::InfoArgs),
    /// Print the completion script for a shell (bash, zsh, fish, elvish, powershell)
    #[command(after_long_help = EXAMPLES_COMPLETION)]
    Completion(CompletionArgs),
    /// Low-level, runc-compatible runtime commands (for podman --runtime and the OCI tests);
    /// `--root` is their state directory (default /run/barge/oci)
    Oci(oci::OciArgs),
    /// Watch a detached container (started by barge itself)
    #[command(hide = true, name = "__supervise")]
    Supervise(container::SuperviseArgs),
    /// A pod's infra process (started by barge itself)
    #[command(hide = true, name = "__pause")]
    PodInfra(pod::PauseArgs),
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
    /// Remove stopped containers, dangling images, unreferenced layers and blobs
    Prune(system::PruneArgs),
    /// Check the store for leftovers and inconsistencies, and optionally repair them
    #[command(
        long_about = "Check the store for leftovers and inconsistencies: layer directories \
                      without records, records whose layer directory is missing, blobs no image \
                      refers to, scratch and downloads of dead processes, containers marked \
                      running whose supervisor is gone, and cgroups under /barge of containers \
                      that no longer exist. One line per finding on stdout. Exit status: 0 when \
                      the store is consistent (or everything was repaired), 1 when problems \
                      remain."
    )]
    Check(system::CheckArgs),
    /// Show how barge is set up on this host
    Info(system::InfoArgs),
    /// Renew the rootless user namespace, so that changed /etc/subuid and /etc/subgid apply
    #[command(
        long_about = "Renew the rootless user namespace. A rootless barge works in a user \
                      namespace, held by the barge-pause process, whose id mappings were read \
                      from /etc/subuid and /etc/subgid when it was made. After those files \
                      change (usermod --add-subuids ...), this ends the pause so that the next \
                      barge command makes a new namespace with the new ranges. Containers \
                      keep their files. Refused while containers or pods run, unless --force \
                      stops them. As root there is nothing to renew.",
        after_long_help = EXAMPLES_MIGRATE
    )]
    Migrate(system::MigrateArgs),
}

const EXAMPLES_MIGRATE: &str = "Examples:
  sudo usermod --add-subuids 100000-165535 --add-subgids 100000-165535 $USER
  barge system migrate                    then the next command maps the new ranges
  barge system migrate --force            stop running containers first";

#[derive(Args, Debug)]
pub struct CompletionArgs {
    /// The shell to print the script for
    #[arg(value_parser = complete::SHELLS.map(|s| s.0))]
    pub shell: String,
}

const EXAMPLES_RUN: &str = "Examples:
  barge run --rm -it alpine sh                   an interactive shell, removed on exit
  barge run -d --name web -v data:/srv busybox httpd -f -h /srv
                                                 a detached container with a named volume
  barge run --rm --network host -e MODE=ci app:1 ./test.sh
  barge run --rm -m 256m --cpus 0.5 --read-only alpine echo hi";

const EXAMPLES_IMAGES: &str = "Examples:
  barge images                                   the table
  barge images 'myorg/*'                         images of one repository pattern
  barge images -q                                IDs only, for scripts
  barge images --format json                     one JSON object per line (Docker's fields)
  barge images --format '{{.Repository}}:{{.Tag}}\t{{.Size}}'";

const EXAMPLES_PS: &str = "Examples:
  barge ps                                       running containers
  barge ps -a -q                                 every container's ID
  barge ps --filter status=exited --format json
  barge ps -a --format 'table {{.Names}}\t{{.Status}}'";

const EXAMPLES_IMPORT: &str = "Examples:
  barge import alpine.tar                        a `docker save` or OCI archive
  docker save alpine | barge import -            from stdin
  barge load -i multi.tar --platform linux/arm64 one platform of a multi-platform archive
  barge import rootfs.tar.zst myimage:1          a root filesystem tarball, tagged";

const EXAMPLES_SAVE: &str = "Examples:
  barge save alpine:3 -o alpine.tar
  barge save app:1 app:2 > apps.tar
  barge save alpine | docker load                into Docker (or podman load)";

const EXAMPLES_COMPLETION: &str = "Examples:
  barge completion bash > /etc/bash_completion.d/barge
  barge completion zsh > /usr/local/share/zsh/site-functions/_barge
  barge completion fish > ~/.config/fish/completions/barge.fish
  echo 'eval (barge completion elvish | slurp)' >> ~/.config/elvish/rc.elv
  barge completion powershell >> $PROFILE

The scripts ask barge itself for candidates (names of images, containers and volumes
included), so they never go stale.";

#[derive(Args, Debug)]
pub struct GenerateArgs {
    /// Directory for completions/
    #[arg(long, default_value = "completions")]
    pub completions: PathBuf,
    /// Directory for man pages (man1 and man5)
    #[arg(long, default_value = "man")]
    pub man: PathBuf,
}

/// Run a parsed command line.
pub fn run(cli: Cli) -> crate::Result<ExitStatus> {
    use crate::error::IoContext;
    let oci_root = cli.root.clone();
    let paths = Paths::resolve(cli.root.clone());
    if needs_userns(&cli.command) {
        enter_rootless(&paths)?;
    }
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
        Command::System(SystemCommand::Prune(a)) => system::prune(&paths, a),
        Command::System(SystemCommand::Check(a)) => system::check(&paths, a),
        Command::System(SystemCommand::Migrate(a)) => system::migrate(&paths, a),
        Command::System(SystemCommand::Info(a)) | Command::Info(a) => system::info(&paths, a),
        Command::Version(a) => system::version(a),
        Command::Completion(a) => {
            use std::io::Write as _;
            let script = complete::script(&a.shell).ok_or_else(|| {
                crate::Error::InvalidArgument(format!("unknown shell {:?}", a.shell))
            })?;
            let mut out = std::io::stdout().lock();
            out.write_all(&script).at("stdout")?;
            out.flush().at("stdout")?;
            Ok(0)
        }
        Command::Pull(a) | Command::Image(ImageCommand::Pull(a)) => registry::pull(&paths, a),
        Command::Push(a) | Command::Image(ImageCommand::Push(a)) => registry::push(&paths, a),
        Command::Login(a) => registry::login(&paths, a),
        Command::Logout(a) => registry::logout(&paths, a),
        Command::Run(a) => run::run(&paths, *a),
        Command::Create(a) => {
            println!("{}", run::create(&paths, &a)?);
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
        Command::Attach(a) => container::attach(&paths, a),
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
        Command::Pod(c) => pod::run(&paths, c),
        Command::Kube(c) => kube::run(&paths, c),
        Command::PodInfra(a) => pod::pause(&paths, a),
        Command::Oci(mut a) => {
            if let Some(r) = oci_root {
                a.root = r;
            }
            oci::run(a).map_err(|e| crate::Error::Other(format!("{e:#}")))
        }
        Command::Generate(a) => generate(a),
    }
}

/// Commands that touch no store file and join no container stay outside the rootless
/// user namespace (and so never create it).
fn needs_userns(c: &Command) -> bool {
    !matches!(
        c,
        Command::Version(_)
            | Command::Completion(_)
            | Command::Generate(_)
            | Command::Login(_)
            | Command::Logout(_)
            | Command::Oci(_)
    )
}

/// An ordinary user's barge joins (or makes) the user's namespace before anything else:
/// see `runtime::userns` for why. A no-op as root and when already inside.
fn enter_rootless(paths: &Paths) -> crate::Result<()> {
    use crate::runtime::userns;
    if !paths.rootless || rustix::process::geteuid().is_root() {
        return Ok(());
    }
    let (uid, gid) = crate::config::host_ids();
    let name = crate::config::host_user_name();
    let setup = |e: crate::runtime::RuntimeError| {
        let msg = format!("rootless: {e}");
        let hint = if msg.contains("not installed") {
            "install the uidmap package (apt-get install uidmap), which has newuidmap and              newgidmap"
                .to_string()
        } else if msg.contains("refused") {
            crate::config::subid_hint()
        } else {
            "see `barge info`; the user namespace is held by the barge-pause process".to_string()
        };
        crate::Error::Hinted { msg, hint }
    };
    let dir = crate::config::user_run_dir();
    if let Some(parent) = dir.parent()
        && std::env::var_os("XDG_RUNTIME_DIR").is_some()
    {
        let _ = std::fs::create_dir_all(parent);
    }
    userns::private_dir(&dir, uid).map_err(setup)?;
    let joined = userns::join(&dir, &name, uid, gid).map_err(setup)?;
    // SAFETY: the process is single-threaded here (nothing has started a thread before the
    // command runs), so no other thread reads the environment meanwhile.
    unsafe { std::env::set_var(userns::ENV, format!("{uid}:{gid}")) };
    if joined.created && joined.mapping.single() {
        crate::ui::warn(&format!(
            "{name} has no subordinate ids in /etc/subuid or /etc/subgid: running with a              single id mapping, so only images whose files all belong to root can be used"
        ));
    }
    Ok(())
}

/// The hand-written barge-config(5), kept in the source so `__generate` writes every
/// file under man/ and one test checks them all.
const CONFIG_MAN: &str = include_str!("barge-config.5");

/// Completion scripts for every shell, one man page per command, and barge-config(5).
fn generate(a: GenerateArgs) -> crate::Result<ExitStatus> {
    use crate::error::IoContext;
    use clap::CommandFactory;
    let mut cmd = Cli::command().disable_help_subcommand(true);
    // Runs every command's deferred argument definitions, so the pages have them.
    cmd.build();
    std::fs::create_dir_all(&a.completions).at(&a.completions)?;
    for (shell, file) in complete::SHELLS {
        let path = a.completions.join(file);
        let script = complete::script(shell)
            .ok_or_else(|| crate::Error::Other(format!("no completion support for {shell}")))?;
        std::fs::write(&path, script).at(&path)?;
    }
    let man1 = a.man.join("man1");
    std::fs::create_dir_all(&man1).at(&man1)?;
    write_man(&cmd, "barge", &man1)?;
    let man5 = a.man.join("man5");
    std::fs::create_dir_all(&man5).at(&man5)?;
    let path = man5.join("barge-config.5");
    std::fs::write(&path, CONFIG_MAN).at(&path)?;
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
