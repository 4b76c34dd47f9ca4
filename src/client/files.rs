//! Files of a container, running or not: copy out of it and into it (`cp`), and its whole
//! root filesystem as a tar (`export`).
//!
//! Paths inside the container are resolved below its root (`openat2` with
//! `RESOLVE_IN_ROOT`): a symlink in the container cannot lead to the host's files. A
//! stopped container's filesystem is mounted in a private mount namespace of a forked
//! child, so these calls fork too: the calling process must be single-threaded.

use std::io::Write;
use std::os::fd::BorrowedFd;
use std::path::Path;

use super::Client;
use crate::container;
use crate::error::{Error, Result};

impl Client {
    /// Run `work` on the container's root, reached as the runtime says (see
    /// `runtime::with_rootfs`); what it writes goes to `sink`.
    fn on_rootfs(
        &self,
        id: &str,
        work: &mut dyn FnMut(BorrowedFd<'_>, &mut dyn Write) -> std::result::Result<(), String>,
        sink: Option<&mut dyn Write>,
    ) -> Result<()> {
        let store = self.store()?;
        let c = container::find(&store, id)?;
        let dir = container::container_dir(&store, &c.id);
        let (_, settings) = container::load_bundle(&dir)?;
        let running = container::supervised(&c);
        drop(store);
        let state_root = container::state_root(&self.paths);
        let running = running.then_some((state_root.as_path(), c.id.as_str()));
        let mount = settings.rootfs_mount(&self.paths, &dir)?;
        let mountpoint = dir.join("rootfs");
        match sink {
            Some(sink) => {
                crate::runtime::with_rootfs_writing(running, &mount, &mountpoint, work, sink)
            }
            None => crate::runtime::with_rootfs(running, &mount, &mountpoint, &mut |root| {
                work(root, &mut std::io::sink())
            }),
        }
        .map_err(|e| Error::Other(format!("container {}: {e}", c.name)))
    }

    /// Copy `path` (a file or a directory tree) out of the container `id` to the host
    /// path `dest`: into `dest` when it is a directory, else as `dest` (Docker's `cp`
    /// rules). Symlinks are copied as symlinks.
    ///
    /// ```no_run
    /// use barge::client::Client;
    /// let client = Client::open_default()?;
    /// client.copy_from("web", "/etc/os-release", "/tmp/os-release".as_ref())?;
    /// # Ok::<(), barge::Error>(())
    /// ```
    pub fn copy_from(&self, id: &str, path: &str, dest: &Path) -> Result<()> {
        let src = Path::new(path);
        self.on_rootfs(
            id,
            &mut |root, _| {
                container::fs::copy_out(root, src, dest)
                    .map_err(|e| format!("{}: {e}", src.display()))
            },
            None,
        )
    }

    /// Write `path` of the container `id` (a file or a directory tree) to `out` as a tar
    /// archive, named by its last component (`cp CONTAINER:PATH -`).
    pub fn copy_from_tar(&self, id: &str, path: &str, out: &mut dyn Write) -> Result<()> {
        let src = Path::new(path);
        self.on_rootfs(
            id,
            &mut |root, w| {
                container::fs::tar_out(root, src, w).map_err(|e| format!("{}: {e}", src.display()))
            },
            Some(out),
        )
    }

    /// Copy the host path `src` (a file or a directory tree) into the container `id` at
    /// `dest`: into it when it is a directory there, else as that name.
    pub fn copy_to(&self, id: &str, src: &Path, dest: &str) -> Result<()> {
        if !src.exists() {
            return Err(Error::InvalidArgument(format!(
                "no such file or directory: {}",
                src.display()
            )));
        }
        let dest = Path::new(dest);
        self.on_rootfs(
            id,
            &mut |root, _| container::fs::copy_in(root, src, dest),
            None,
        )
    }

    /// Write the container's root filesystem to `out` as a tar archive: its image's files
    /// and its changes, without what is mounted on it (volumes, bind mounts, /proc,
    /// /sys, /dev of a running container).
    ///
    /// ```no_run
    /// use barge::client::Client;
    /// let client = Client::open_default()?;
    /// let mut tar = std::fs::File::create("/tmp/web.tar").unwrap();
    /// client.export("web", &mut tar)?;
    /// # Ok::<(), barge::Error>(())
    /// ```
    pub fn export(&self, id: &str, out: &mut dyn Write) -> Result<()> {
        self.on_rootfs(
            id,
            &mut |root, w| container::fs::tar_rootfs(root, w).map_err(|e| e.to_string()),
            Some(out),
        )
    }
}
