//! Image commands: import/load, images, rmi, tag, inspect, history, save, image prune.

use std::io::{self, IsTerminal, Read, Write};

use clap::Args;
use serde_json::{Value, json};

use super::ExitStatus;
use crate::archive::{Format as ArchiveFormat, ImportObserver, ImportOptions};
use crate::client::{Client, Removed};
use crate::config::Paths;
use crate::error::{Error, IoContext, Result};
use crate::image::model::Platform;
use crate::reference::Reference;
use crate::ui::{self, Format};

#[derive(Args, Debug)]
pub struct ImportArgs {
    /// Archive to read: a docker save or OCI archive, or a root filesystem tarball; "-" or
    /// nothing reads standard input
    pub file: Option<String>,
    /// Repository[:tag] for the image (mainly for root filesystem tarballs)
    pub reference: Option<String>,
    /// Archive to read (as `docker load -i`)
    #[arg(short = 'i', long = "input", value_name = "FILE")]
    pub input: Option<String>,
    /// Add a tag to the imported image (repeatable)
    #[arg(short = 't', long = "tag", value_name = "REPO[:TAG]")]
    pub tags: Vec<String>,
    /// Image to take from a multi-platform archive, os/arch[/variant]
    #[arg(long)]
    pub platform: Option<String>,
    /// History comment for a root filesystem import
    #[arg(short, long)]
    pub message: Option<String>,
    /// No progress output
    #[arg(short, long)]
    pub quiet: bool,
}

struct UiObserver<'a> {
    progress: &'a ui::Progress,
    quiet: bool,
    name: String,
}

impl ImportObserver for UiObserver<'_> {
    fn format(&self, f: &ArchiveFormat) {
        if !self.quiet {
            eprintln!("barge: {}: {f}", self.name);
        }
    }
    fn bytes(&self, read: u64, total: Option<u64>) {
        self.progress.set(read, total);
    }
}

pub fn import(paths: &Paths, a: ImportArgs) -> Result<ExitStatus> {
    let (file, reference) = match (&a.input, a.file, a.reference) {
        (Some(i), Some(f), None) => (Some(i.clone()), Some(f)),
        (Some(i), _, r) => (Some(i.clone()), r),
        (None, f, r) => (f, r),
    };
    let file = file.unwrap_or_else(|| "-".into());
    let mut tags = Vec::new();
    for t in reference.iter().chain(&a.tags) {
        let r = Reference::parse(t)?;
        if r.digest.is_some() {
            return Err(Error::InvalidArgument(format!(
                "{t}: a tag cannot carry a digest"
            )));
        }
        tags.push(r);
    }
    let platform = a
        .platform
        .as_deref()
        .or(paths.config.default_platform.as_deref())
        .map(Platform::parse)
        .transpose()?;
    let (input, total, name): (Box<dyn Read + Send>, Option<u64>, String) = if file == "-" {
        if io::stdin().is_terminal() {
            return Err(Error::InvalidArgument(
                "import needs an archive: give FILE, -i FILE, or pipe one in".into(),
            ));
        }
        (Box::new(io::stdin()), None, "stdin".into())
    } else {
        let f = std::fs::File::open(&file).map_err(|e| Error::Archive {
            file: file.clone(),
            msg: e.to_string().to_lowercase(),
        })?;
        let meta = f.metadata().at(&file)?;
        if meta.is_dir() {
            return Err(Error::Archive {
                file,
                msg: "is a directory, not an archive".into(),
            });
        }
        (Box::new(f), Some(meta.len()), file.clone())
    };
    let client = Client::from_paths(paths);
    let progress = ui::Progress::bytes("importing", a.quiet);
    let observer = UiObserver {
        progress: &progress,
        quiet: a.quiet,
        name: name.clone(),
    };
    let opts = ImportOptions {
        platform,
        tags,
        message: a.message,
    };
    let report = client.import_reader(input, &name, total, &opts, &observer);
    progress.finish();
    let report = report?;
    let mut out = io::stdout().lock();
    for img in &report.images {
        if matches!(report.format, ArchiveFormat::Rootfs(_)) {
            writeln!(out, "{}", img.id).at("stdout")?;
        } else if img.tags.is_empty() {
            writeln!(out, "Loaded image ID: {}", img.id).at("stdout")?;
        } else {
            for t in &img.tags {
                writeln!(out, "Loaded image: {t}").at("stdout")?;
            }
        }
    }
    Ok(0)
}

#[derive(Args, Debug)]
pub struct ImagesArgs {
    /// Only images whose repository matches, e.g. 'bars/*' or 'alpine:3*'
    pub pattern: Option<String>,
    /// Show all images (barge keeps no intermediate images, so this is the default list)
    #[arg(short, long)]
    pub all: bool,
    /// Only show image IDs
    #[arg(short, long)]
    pub quiet: bool,
    /// Show digests
    #[arg(long)]
    pub digests: bool,
    /// Don't truncate output
    #[arg(long)]
    pub no_trunc: bool,
    /// Output: table, json (one object per line) or a Go template
    #[arg(long)]
    pub format: Option<String>,
}

fn image_id(id: &crate::Digest, no_trunc: bool) -> String {
    if no_trunc {
        id.to_string()
    } else {
        id.short().to_string()
    }
}

pub fn images(paths: &Paths, a: ImagesArgs) -> Result<ExitStatus> {
    let rows = Client::from_paths(paths).image_rows(a.pattern.as_deref(), a.all)?;
    let mut out = io::stdout().lock();
    if a.quiet {
        let mut seen = std::collections::HashSet::new();
        for r in &rows {
            if seen.insert(r.image.id.clone()) {
                writeln!(out, "{}", image_id(&r.image.id, a.no_trunc)).at("stdout")?;
            }
        }
        return Ok(0);
    }
    let values: Vec<Value> = rows
        .iter()
        .map(|r| {
            let created = r.image.created.as_deref();
            json!({
                "Containers": "N/A",
                "CreatedAt": ui::created_at(created),
                "CreatedSince": ui::since(created),
                "Digest": r.digest.clone().unwrap_or_else(|| "<none>".into()),
                "ID": image_id(&r.image.id, a.no_trunc),
                "Repository": r.repository,
                "SharedSize": "N/A",
                "Size": ui::human_size(r.image.size),
                "Tag": r.tag,
                "UniqueSize": "N/A",
                "VirtualSize": ui::human_size(r.image.size),
            })
        })
        .collect();
    let mut columns = vec![("REPOSITORY", "Repository"), ("TAG", "Tag")];
    if a.digests {
        columns.push(("DIGEST", "Digest"));
    }
    columns.extend([
        ("IMAGE ID", "ID"),
        ("CREATED", "CreatedSince"),
        ("SIZE", "Size"),
    ]);
    ui::print_rows(
        &mut out,
        &Format::parse(a.format.as_deref()),
        &columns,
        &values,
    )
    .at("stdout")?;
    Ok(0)
}

#[derive(Args, Debug)]
pub struct RmiArgs {
    /// Images to remove (name[:tag], ID or ID prefix)
    #[arg(required = true, add = crate::cli::complete::image())]
    pub images: Vec<String>,
    /// Remove an image with several tags by ID, without asking
    #[arg(short, long)]
    pub force: bool,
    /// Accepted for Docker compatibility (barge never keeps untagged parents)
    #[arg(long)]
    pub no_prune: bool,
}

pub fn rmi(paths: &Paths, a: RmiArgs) -> Result<ExitStatus> {
    let client = Client::from_paths(paths);
    let mut out = io::stdout().lock();
    let mut failed = 0;
    for name in &a.images {
        let result = match client.remove_image(name, a.force) {
            Err(Error::Conflict(msg)) if msg.contains("must be forced") => {
                match ui::confirm(&format!(
                    "{name} is referenced in several repositories; remove it and all its tags?"
                )) {
                    Some(true) => client.remove_image(name, true),
                    Some(false) => {
                        failed += 1;
                        continue;
                    }
                    None => Err(Error::Conflict(msg)),
                }
            }
            r => r,
        };
        match result {
            Ok(events) => {
                for e in events {
                    match e {
                        Removed::Untagged(t) => writeln!(out, "Untagged: {t}"),
                        Removed::Deleted(d) => writeln!(out, "Deleted: {d}"),
                    }
                    .at("stdout")?;
                }
            }
            Err(e) => {
                failed += 1;
                let hint = matches!(e, Error::Conflict(_))
                    .then_some("use -f to remove the image and all its tags");
                ui::error(&e.to_string(), hint);
            }
        }
    }
    Ok(if failed > 0 { 125 } else { 0 })
}

#[derive(Args, Debug)]
pub struct TagArgs {
    /// Existing image (name[:tag] or ID)
    #[arg(add = crate::cli::complete::image())]
    pub source: String,
    /// New name[:tag]
    pub target: String,
}

pub fn tag(paths: &Paths, a: TagArgs) -> Result<ExitStatus> {
    Client::from_paths(paths).tag(&a.source, &a.target)?;
    Ok(0)
}

#[derive(Args, Debug)]
pub struct InspectArgs {
    /// Containers or images (name, ID or ID prefix)
    #[arg(required = true, add = crate::cli::complete::object())]
    pub names: Vec<String>,
    /// Go template applied to each object, e.g. '{{.Id}}' or '{{json .Config}}'
    #[arg(short, long)]
    pub format: Option<String>,
    /// Object type: image or container
    #[arg(long = "type")]
    pub kind: Option<String>,
}

pub fn inspect(paths: &Paths, a: InspectArgs) -> Result<ExitStatus> {
    let kind = a.kind.as_deref();
    if let Some(k) = kind
        && k != "image"
        && k != "container"
    {
        return Err(Error::InvalidArgument(format!(
            "inspect --type {k}: use image or container"
        )));
    }
    let client = Client::from_paths(paths);
    let mut docs = Vec::new();
    let mut failed = false;
    for n in &a.names {
        // Docker looks for a container first, then an image.
        if kind != Some("image")
            && let Ok(doc) = client.inspect_container(n)
        {
            docs.push(doc);
            continue;
        }
        let r = if kind == Some("container") {
            Err(Error::NoSuchContainer(n.clone()))
        } else {
            client.inspect_image(n)
        };
        match r {
            Ok(v) => docs.push(v),
            Err(Error::NoSuchImage(_)) if kind.is_none() => {
                ui::error(&format!("no such object: {n}"), None);
                failed = true;
            }
            Err(e) => {
                ui::error(&e.to_string(), None);
                failed = true;
            }
        }
    }
    print_docs(&docs, a.format.as_deref())?;
    Ok(if failed { 125 } else { 0 })
}

/// Print inspect documents: a JSON array (Docker's 4-space indent), or a template each.
pub fn print_docs(docs: &[Value], format: Option<&str>) -> Result<()> {
    let mut out = io::stdout().lock();
    match format {
        Some(f) if !f.is_empty() && f != "json" => {
            let tpl = ui::template::Template::parse(f).map_err(Error::InvalidArgument)?;
            for d in docs {
                writeln!(out, "{}", tpl.render(d)).at("stdout")?;
            }
        }
        _ => {
            let mut buf = Vec::new();
            let mut ser = serde_json::Serializer::with_formatter(
                &mut buf,
                serde_json::ser::PrettyFormatter::with_indent(b"    "),
            );
            serde::Serialize::serialize(&docs, &mut ser)
                .map_err(|e| Error::Other(e.to_string()))?;
            out.write_all(&buf).at("stdout")?;
            writeln!(out).at("stdout")?;
        }
    }
    Ok(())
}

#[derive(Args, Debug)]
pub struct HistoryArgs {
    #[arg(add = crate::cli::complete::image())]
    pub image: String,
    /// Print sizes and dates in human readable form
    #[arg(short = 'H', long, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub human: bool,
    /// Don't truncate output
    #[arg(long)]
    pub no_trunc: bool,
    /// Only show image IDs
    #[arg(short, long)]
    pub quiet: bool,
    /// Output: table, json or a Go template
    #[arg(long)]
    pub format: Option<String>,
}

pub fn history(paths: &Paths, a: HistoryArgs) -> Result<ExitStatus> {
    let rows = Client::from_paths(paths).history(&a.image)?;
    let mut out = io::stdout().lock();
    let id_text = |id: &Option<crate::Digest>| match id {
        Some(d) => image_id(d, a.no_trunc),
        None => "<missing>".into(),
    };
    if a.quiet {
        for r in &rows {
            writeln!(out, "{}", id_text(&r.id)).at("stdout")?;
        }
        return Ok(0);
    }
    let values: Vec<Value> = rows
        .iter()
        .map(|r| {
            let created_by = if a.no_trunc || r.created_by.chars().count() <= 45 {
                r.created_by.clone()
            } else {
                format!("{}…", r.created_by.chars().take(44).collect::<String>())
            };
            json!({
                "Comment": r.comment,
                "CreatedAt": r.created.clone().unwrap_or_default(),
                "CreatedBy": created_by,
                "CreatedSince": if a.human { ui::since(r.created.as_deref()) } else { r.created.clone().unwrap_or_default() },
                "ID": id_text(&r.id),
                "Size": if a.human { ui::human_size(r.size) } else { r.size.to_string() },
            })
        })
        .collect();
    let columns = [
        ("IMAGE", "ID"),
        ("CREATED", "CreatedSince"),
        ("CREATED BY", "CreatedBy"),
        ("SIZE", "Size"),
        ("COMMENT", "Comment"),
    ];
    ui::print_rows(
        &mut out,
        &Format::parse(a.format.as_deref()),
        &columns,
        &values,
    )
    .at("stdout")?;
    Ok(0)
}

#[derive(Args, Debug)]
pub struct SaveArgs {
    /// Images to save (name[:tag] or ID)
    #[arg(required = true, add = crate::cli::complete::image())]
    pub images: Vec<String>,
    /// Write to FILE ("-" for standard output) instead of standard output
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<String>,
}

pub fn save(paths: &Paths, a: SaveArgs) -> Result<ExitStatus> {
    let client = Client::from_paths(paths);
    match a.output.as_deref() {
        None | Some("-") => {
            if io::stdout().is_terminal() {
                return Err(Error::InvalidArgument(
                    "refusing to write an archive to a terminal: use -o FILE or redirect".into(),
                ));
            }
            let mut out = io::BufWriter::with_capacity(1 << 20, io::stdout().lock());
            client.save(&a.images, &mut out)?;
            out.flush().at("stdout")?;
        }
        Some(path) => {
            // Write beside the target and rename, so a failed save never leaves half a file
            // under the name asked for.
            let target = std::path::Path::new(path);
            let dir = target
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(std::path::Path::new("."));
            let tmp = dir.join(format!(
                ".{}.barge-tmp-{}",
                target
                    .file_name()
                    .map(|n| n.to_string_lossy())
                    .unwrap_or_default(),
                std::process::id()
            ));
            let result = (|| -> Result<()> {
                let f = std::fs::File::create(&tmp).at(&tmp)?;
                let mut w = io::BufWriter::with_capacity(1 << 20, f);
                client.save(&a.images, &mut w)?;
                let f = w
                    .into_inner()
                    .map_err(|e| Error::io(&tmp, e.into_error()))?;
                f.sync_all().at(&tmp)?;
                std::fs::rename(&tmp, target).at(target)
            })();
            if result.is_err() {
                let _ = std::fs::remove_file(&tmp);
            }
            result?;
        }
    }
    Ok(0)
}

#[derive(Args, Debug)]
pub struct PruneArgs {
    /// Remove all unused images, not just dangling ones
    #[arg(short, long)]
    pub all: bool,
    /// Do not ask for confirmation
    #[arg(short, long)]
    pub force: bool,
}

pub fn prune(paths: &Paths, a: PruneArgs) -> Result<ExitStatus> {
    if !a.force {
        let what = if a.all {
            "all images without at least one container associated to them"
        } else {
            "all dangling images"
        };
        match ui::confirm(&format!(
            "This will remove {what}. Are you sure you want to continue?"
        )) {
            Some(true) => {}
            Some(false) => return Ok(0),
            None => {
                return Err(Error::NeedsConfirmation("image prune".into()));
            }
        }
    }
    let report = Client::from_paths(paths).prune_images(a.all)?;
    let mut out = io::stdout().lock();
    print_pruned_images(&mut out, &report.images).at("stdout")?;
    writeln!(
        out,
        "Total reclaimed space: {}",
        ui::human_size(report.reclaimed)
    )
    .at("stdout")?;
    Ok(0)
}

/// The `Deleted Images:` section of `image prune` and `system prune` (nothing when none).
pub fn print_pruned_images(out: &mut dyn Write, images: &[Removed]) -> io::Result<()> {
    if images.is_empty() {
        return Ok(());
    }
    writeln!(out, "Deleted Images:")?;
    for e in images {
        match e {
            Removed::Untagged(t) => writeln!(out, "untagged: {t}")?,
            Removed::Deleted(d) => writeln!(out, "deleted: {d}")?,
        }
    }
    writeln!(out)
}
