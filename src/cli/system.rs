//! `barge system ...`: disk usage.

use std::io::{self, Write as _};

use clap::Args;
use serde_json::json;

use super::ExitStatus;
use crate::config::Paths;
use crate::error::{IoContext, Result};
use crate::store::Store;
use crate::ui::{self, Format};

#[derive(Args, Debug)]
pub struct DfArgs {
    /// Output: table, json or a Go template
    #[arg(long)]
    pub format: Option<String>,
    /// Accepted for Docker compatibility; per-image detail comes later
    #[arg(short, long)]
    pub verbose: bool,
}

pub fn df(paths: &Paths, a: DfArgs) -> Result<ExitStatus> {
    let store = Store::open(&paths.root)?;
    let u = crate::image::disk_usage(&store)?;
    let pct = |part: u64, whole: u64| (part * 100).checked_div(whole).unwrap_or(0);
    let rows = vec![
        json!({
            "Type": "Images",
            "TotalCount": u.images.to_string(),
            "Active": u.active.to_string(),
            "Size": ui::human_size(u.size),
            "Reclaimable": format!("{} ({}%)", ui::human_size(u.reclaimable), pct(u.reclaimable, u.size)),
        }),
        json!({"Type": "Containers", "TotalCount": "0", "Active": "0", "Size": "0B", "Reclaimable": "0B"}),
        json!({"Type": "Local Volumes", "TotalCount": "0", "Active": "0", "Size": "0B", "Reclaimable": "0B"}),
        json!({"Type": "Build Cache", "TotalCount": "0", "Active": "0", "Size": "0B", "Reclaimable": "0B"}),
    ];
    let columns = [
        ("TYPE", "Type"),
        ("TOTAL", "TotalCount"),
        ("ACTIVE", "Active"),
        ("SIZE", "Size"),
        ("RECLAIMABLE", "Reclaimable"),
    ];
    let mut out = io::stdout().lock();
    ui::print_rows(
        &mut out,
        &Format::parse(a.format.as_deref()),
        &columns,
        &rows,
    )
    .at("stdout")?;
    out.flush().at("stdout")?;
    Ok(0)
}
