//! Named volumes: directories under `<root>/volumes/<name>/_data`, created on first use
//! (`-v name:/path`) or by `barge volume create`, kept until `barge volume rm`.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::error::{Error, IoContext, Result};

fn volumes_dir(root: &Path) -> PathBuf {
    root.join("volumes")
}

pub fn validate(name: &str) -> Result<()> {
    if crate::util::is_docker_name(name, 255) {
        Ok(())
    } else {
        Err(Error::InvalidArgument(format!(
            "invalid volume name {name:?}: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"
        )))
    }
}

/// The data directory of volume `name`, created when missing.
pub fn ensure(root: &Path, name: &str) -> Result<PathBuf> {
    validate(name)?;
    let data = volumes_dir(root).join(name).join("_data");
    if !data.is_dir() {
        std::fs::create_dir_all(&data).at(&data)?;
    }
    Ok(data)
}

pub fn exists(root: &Path, name: &str) -> bool {
    validate(name).is_ok() && volumes_dir(root).join(name).join("_data").is_dir()
}

/// Names of all volumes, sorted.
pub fn list(root: &Path) -> Result<Vec<String>> {
    let dir = volumes_dir(root);
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(&dir) {
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if validate(&name).is_ok() && e.path().join("_data").is_dir() {
                out.push(name);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Names of the volumes that some container mounts.
pub fn in_use(
    root: &Path,
    store: &crate::store::Store,
) -> Result<std::collections::HashSet<String>> {
    let mut used = std::collections::HashSet::new();
    let containers = store.containers()?;
    for v in list(root)? {
        let needle = volumes_dir(root).join(&v).join("_data");
        let needle = format!("\"{}\"", needle.display());
        if containers.iter().any(|c| c.config.contains(&needle)) {
            used.insert(v);
        }
    }
    Ok(used)
}

/// Docker's `volume inspect` document.
pub fn inspect(root: &Path, name: &str) -> Result<Value> {
    if !exists(root, name) {
        return Err(Error::InvalidArgument(format!("no such volume: {name}")));
    }
    let dir = volumes_dir(root).join(name);
    let created = std::fs::metadata(&dir)
        .and_then(|m| m.modified())
        .map(|t| {
            chrono::DateTime::<chrono::Utc>::from(t)
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        })
        .unwrap_or_default();
    Ok(json!({
        "CreatedAt": created,
        "Driver": "local",
        "Labels": {},
        "Mountpoint": dir.join("_data").display().to_string(),
        "Name": name,
        "Options": {},
        "Scope": "local",
    }))
}

/// Delete a volume and its data. The caller checks that no container uses it.
pub fn remove(root: &Path, name: &str) -> Result<()> {
    if !exists(root, name) {
        return Err(Error::InvalidArgument(format!("no such volume: {name}")));
    }
    let dir = volumes_dir(root).join(name);
    std::fs::remove_dir_all(&dir).at(&dir)
}
