//! Registry commands: pull, push, login, logout.

use std::io::{Read, Write};

use clap::Args;

use super::ExitStatus;
use crate::client::{Client, PullOptions, Pulled, PushOptions, registry_host};
use crate::config::Paths;
use crate::error::{Error, Result};
use crate::reference::Reference;
use crate::ui::{self, transfer::Transfer};

#[derive(Args, Debug)]
pub struct PullArgs {
    /// Image to pull: NAME[:TAG] or NAME@DIGEST (alpine, user/app, host:port/path:tag)
    pub image: String,
    /// Platform to pull from a multi-platform image, os/arch[/variant] (default: this host)
    #[arg(long)]
    pub platform: Option<String>,
    /// Print only the image reference
    #[arg(short, long)]
    pub quiet: bool,
    /// How many layers to download at once
    #[arg(long, default_value_t = 4, value_name = "N")]
    pub max_concurrent_downloads: usize,
    /// Verify the registry's TLS certificate; false also allows plain HTTP
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub tls_verify: Option<bool>,
}

#[derive(Args, Debug)]
pub struct PushArgs {
    /// Image to push (name, tag or ID)
    pub image: String,
    /// Where to push it, NAME[:TAG] (default: IMAGE)
    pub destination: Option<String>,
    /// Print only the pushed digest
    #[arg(short, long)]
    pub quiet: bool,
    /// Verify the registry's TLS certificate; false also allows plain HTTP
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub tls_verify: Option<bool>,
}

#[derive(Args, Debug)]
pub struct LoginArgs {
    /// Registry (default: Docker Hub)
    pub server: Option<String>,
    /// User name
    #[arg(short, long)]
    pub username: Option<String>,
    /// Password (prefer --password-stdin: arguments are visible to other users)
    #[arg(short, long)]
    pub password: Option<String>,
    /// Read the password from standard input
    #[arg(long)]
    pub password_stdin: bool,
    /// Verify the registry's TLS certificate; false also allows plain HTTP
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub tls_verify: Option<bool>,
}

#[derive(Args, Debug)]
pub struct LogoutArgs {
    /// Registry (default: Docker Hub)
    pub server: Option<String>,
}

/// Pull one image, printing Docker's lines; used by `pull` and by `run --pull`.
pub fn pull_image(
    client: &Client,
    name: &str,
    platform: Option<&str>,
    quiet: bool,
    opts: PullOptions,
) -> Result<Pulled> {
    let reference = Reference::parse(name)?;
    let opts = match platform {
        Some(p) => opts.platform(p),
        None => opts,
    };
    let last = name.rsplit('/').next().unwrap_or(name);
    if !quiet && !last.contains(':') && !name.contains('@') {
        eprintln!("Using default tag: latest");
    }
    let shown = match (&reference.tag, &reference.digest) {
        (Some(t), _) => t.clone(),
        (None, Some(d)) => d.to_string(),
        _ => String::new(),
    };
    // Printed once the manifest is resolved, as Docker does: an unknown image is one line.
    let progress = Transfer::pull(quiet).with_header(format!(
        "{shown}: Pulling from {}",
        reference.familiar_name()
    ));
    let r = client.pull_observed(name, &opts, &progress);
    progress.finish();
    let report = r?;
    if !quiet {
        let mut e = std::io::stderr().lock();
        let _ = writeln!(e, "Digest: {}", report.digest);
        let status = if report.up_to_date {
            "Image is up to date for"
        } else {
            "Downloaded newer image for"
        };
        let _ = writeln!(e, "Status: {status} {}", report.name);
    }
    Ok(report)
}

pub fn pull(paths: &Paths, a: PullArgs) -> Result<ExitStatus> {
    let client = Client::from_paths(paths);
    let mut opts = PullOptions::new().max_concurrent_downloads(a.max_concurrent_downloads);
    if let Some(v) = a.tls_verify {
        opts = opts.tls_verify(v);
    }
    let report = pull_image(&client, &a.image, a.platform.as_deref(), a.quiet, opts)?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", report.reference).map_err(|e| Error::io("stdout", e))?;
    Ok(0)
}

pub fn push(paths: &Paths, a: PushArgs) -> Result<ExitStatus> {
    let client = Client::from_paths(paths);
    let mut opts = PushOptions::new();
    if let Some(d) = &a.destination {
        opts = opts.destination(d);
    }
    if let Some(v) = a.tls_verify {
        opts = opts.tls_verify(v);
    }
    // Checked before the first line is printed, as Docker does.
    client.resolve_image(&a.image)?;
    let dest = Client::push_destination(&a.image, &opts)?;
    if !a.quiet {
        eprintln!("The push refers to repository [{}]", dest.full_name());
    }
    let progress = Transfer::push(a.quiet);
    let r = client.push_observed(&a.image, &opts, &progress);
    progress.finish();
    let report = r?;
    let mut out = std::io::stdout().lock();
    let line = if a.quiet {
        format!("{}", report.digest)
    } else {
        format!(
            "{}: digest: {} size: {}",
            report.tag, report.digest, report.size
        )
    };
    writeln!(out, "{line}").map_err(|e| Error::io("stdout", e))?;
    Ok(0)
}

pub fn login(paths: &Paths, a: LoginArgs) -> Result<ExitStatus> {
    let server = registry_host(a.server.as_deref());
    if a.password.is_some() && a.password_stdin {
        return Err(Error::InvalidArgument(
            "--password and --password-stdin are mutually exclusive".into(),
        ));
    }
    let username = match a.username {
        Some(u) => u,
        None if a.password_stdin || !ui::stdin_is_terminal() => {
            return Err(Error::InvalidArgument(
                "login needs --username when there is no terminal to ask on".into(),
            ));
        }
        None => ui::prompt_line("Username")?,
    };
    let password = match (a.password, a.password_stdin) {
        (Some(p), _) => {
            ui::warn("using --password on the command line is insecure: use --password-stdin");
            p
        }
        (None, true) => {
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .map_err(|e| Error::io("stdin", e))?;
            s.trim_end_matches(['\n', '\r']).to_string()
        }
        (None, false) if ui::stdin_is_terminal() => ui::prompt_password("Password")?,
        (None, false) => {
            return Err(Error::InvalidArgument(
                "login needs a password: use --password-stdin".into(),
            ));
        }
    };
    Client::from_paths(paths).login(&server, &username, &password, a.tls_verify)?;
    println!("Login Succeeded");
    Ok(0)
}

pub fn logout(paths: &Paths, a: LogoutArgs) -> Result<ExitStatus> {
    let server = registry_host(a.server.as_deref());
    if Client::from_paths(paths).logout(&server)? {
        println!("Removing login credentials for {server}");
    } else {
        println!("Not logged in to {server}");
    }
    Ok(0)
}
