//! `barge volume create|ls|rm|inspect|prune`.

use std::io::{self, Write};

use clap::{Args, Subcommand};
use serde_json::json;

use super::ExitStatus;
use crate::config::Paths;
use crate::error::{Error, IoContext, Result};
use crate::store::Store;
use crate::ui::{self, Format};
use crate::volume;

#[derive(Subcommand, Debug)]
pub enum VolumeCommand {
    /// Create a volume
    Create(CreateArgs),
    /// List volumes
    #[command(visible_alias = "list")]
    Ls(LsArgs),
    /// Remove one or more volumes
    #[command(visible_alias = "remove")]
    Rm(RmArgs),
    /// Show volumes as JSON
    Inspect(InspectArgs),
}

#[derive(Args, Debug)]
pub struct CreateArgs {
    /// Volume name (random when omitted)
    pub name: Option<String>,
}

#[derive(Args, Debug)]
pub struct LsArgs {
    /// Only show volume names
    #[arg(short, long)]
    pub quiet: bool,
    /// Output: table, json or a Go template
    #[arg(long)]
    pub format: Option<String>,
}

#[derive(Args, Debug)]
pub struct RmArgs {
    #[arg(required = true, add = crate::cli::complete::volume())]
    pub names: Vec<String>,
    /// Accepted for Docker compatibility
    #[arg(short, long)]
    pub force: bool,
}

#[derive(Args, Debug)]
pub struct InspectArgs {
    #[arg(required = true, add = crate::cli::complete::volume())]
    pub names: Vec<String>,
    /// Go template applied to each volume
    #[arg(short, long)]
    pub format: Option<String>,
}

/// Containers whose spec mounts this volume's data directory.
fn users(paths: &Paths, name: &str) -> Result<Vec<String>> {
    let store = Store::open(&paths.root)?;
    let needle = paths
        .root
        .join("volumes")
        .join(name)
        .join("_data")
        .display()
        .to_string();
    Ok(store
        .containers()?
        .into_iter()
        .filter(|c| c.config.contains(&format!("\"{needle}\"")))
        .map(|c| c.name)
        .collect())
}

pub fn run(paths: &Paths, cmd: VolumeCommand) -> Result<ExitStatus> {
    let mut out = io::stdout().lock();
    match cmd {
        VolumeCommand::Create(a) => {
            let name = a.name.unwrap_or_else(crate::container::new_id);
            volume::ensure(&paths.root, &name)?;
            writeln!(out, "{name}").at("stdout")?;
        }
        VolumeCommand::Ls(a) => {
            let names = volume::list(&paths.root)?;
            if a.quiet {
                for n in names {
                    writeln!(out, "{n}").at("stdout")?;
                }
            } else {
                let rows: Vec<_> = names
                    .iter()
                    .map(|n| json!({"Driver": "local", "Labels": "", "Links": "N/A", "Mountpoint": paths.root.join("volumes").join(n).join("_data").display().to_string(), "Name": n, "Scope": "local", "Size": "N/A"}))
                    .collect();
                ui::print_rows(
                    &mut out,
                    &Format::parse(a.format.as_deref()),
                    &[("DRIVER", "Driver"), ("VOLUME NAME", "Name")],
                    &rows,
                )
                .at("stdout")?;
            }
        }
        VolumeCommand::Rm(a) => {
            let mut failed = false;
            for n in &a.names {
                let used = users(paths, n)?;
                let r = if used.is_empty() {
                    volume::remove(&paths.root, n)
                } else {
                    Err(Error::Conflict(format!(
                        "volume {n} is in use by container {}",
                        used.join(", ")
                    )))
                };
                match r {
                    Ok(()) => writeln!(out, "{n}").at("stdout")?,
                    Err(e) => {
                        ui::error(&e.to_string(), None);
                        failed = true;
                    }
                }
            }
            return Ok(if failed { 125 } else { 0 });
        }
        VolumeCommand::Inspect(a) => {
            let mut docs = Vec::new();
            for n in &a.names {
                docs.push(volume::inspect(&paths.root, n)?);
            }
            // Docker's inspect output: 4-space indent, or a template per document.
            super::image::print_docs(&docs, a.format.as_deref())?;
        }
    }
    Ok(0)
}
