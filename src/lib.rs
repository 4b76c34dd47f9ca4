//! barge as a library: pull, import and run containers from Rust, with no daemon.
//!
//! The `barge` command-line tool is built on this crate. There is no engine to connect to:
//! a [`Client`] works directly on an on-disk store (SQLite metadata, a content store of
//! blobs, unpacked layers) that any number of programs and `barge` commands may share.
//!
//! # A tour
//!
//! Open a store, list its images:
//!
//! ```no_run
//! use barge::Client;
//!
//! // /var/lib/barge as root, ~/.local/share/barge otherwise; BARGE_ROOT overrides.
//! let client = Client::open_default()?;
//! for image in client.images()? {
//!     println!("{:?} {} bytes", image.names, image.size);
//! }
//! # Ok::<(), barge::Error>(())
//! ```
//!
//! Bring an image in, from a registry ([`Client::pull`], with a progress callback) or an
//! archive ([`Client::import`]: `docker save` output, an OCI layout, a root filesystem
//! tarball), then run a container in the foreground. It uses this process's stdin, stdout
//! and stderr, and [`Client::run`] returns when it has ended:
//!
//! ```no_run
//! use barge::client::{Client, ContainerSpec, PullOptions};
//!
//! let client = Client::open_default()?;
//! client.pull("busybox:latest", &PullOptions::new(), &|_progress| {})?;
//! let spec = ContainerSpec::new("busybox:latest")
//!     .cmd(["sh", "-c", "echo hello from $(hostname)"])
//!     .memory(64 << 20)
//!     .remove(true);
//! let outcome = client.run(&spec)?;
//! assert_eq!(outcome.exit_code, 0);
//! # Ok::<(), barge::Error>(())
//! ```
//!
//! Or in the background: [`Client::create`], [`Client::start`] (a small `barge`
//! supervisor process watches it and writes its log), then [`Client::exec`] into it,
//! [`Client::logs`], [`Client::stop`], [`Client::wait`], [`Client::remove`]:
//!
//! ```no_run
//! use std::time::Duration;
//! use barge::client::{Client, ContainerSpec, ExecSpec, LogOptions};
//!
//! let client = Client::open_default()?;
//! let id = client.create(&ContainerSpec::new("busybox:latest").cmd(["sleep", "600"]))?;
//! client.start(&id)?;
//! let out = client.exec(&id, &ExecSpec::new(["uname", "-r"]).capture_output())?;
//! println!("kernel {}", String::from_utf8_lossy(&out.stdout).trim());
//! for line in client.logs(&id, &LogOptions::new())? {
//!     print!("{}", line?.text);
//! }
//! client.stop(&id, Some(Duration::from_secs(2)))?;
//! client.remove(&id, false)?;
//! # Ok::<(), barge::Error>(())
//! ```
//!
//! And the rest of what the `barge` command does: list containers with a
//! [`client::ContainerFilter`], [`Client::inspect_container`], [`Client::top`],
//! [`Client::stats`], [`Client::kill`], [`Client::pause`], [`Client::attach`], copy files
//! in and out ([`Client::copy_to`], [`Client::copy_from`]), [`Client::export`];
//! [`Client::history`], [`Client::save`], [`Client::push`], [`Client::login`]; the
//! prunes ([`Client::prune_containers`], [`Client::prune_images`],
//! [`Client::prune_system`]).
//!
//! The `examples/` directory has whole programs: `list_images`, `import_and_run`,
//! `pull_and_run` and `run_detached`.
//!
//! # Errors
//!
//! Every call returns [`Result`]; an [`Error`] names what it is about and renders as one
//! line. [`Error::exit_code`] gives the exit code the `barge` command uses for it: 125
//! when barge failed, 126/127 ([`Error::CommandNotExecutable`],
//! [`Error::CommandNotFound`]) when the container's program could not be run. A
//! container's own exit code is not an error: it is in [`client::RunOutcome`] or
//! [`client::ExecOutput`].
//!
//! # Processes and privileges
//!
//! - Running containers from the library needs root: the rootless mode's shared user
//!   namespace is joined by the `barge` command, not yet by the library.
//! - [`Client::run`], [`Client::exec`], and [`Client::copy_from`], [`Client::copy_to`],
//!   [`Client::copy_from_tar`] and [`Client::export`] of a stopped container fork the
//!   calling process: call them while it is single-threaded (no other threads, no live
//!   async runtime).
//! - Detached containers are watched by `barge __supervise`, so [`Client::start`] needs
//!   the `barge` binary: beside the program, on `PATH`, or given with
//!   [`Client::with_binary`].
//! - Nothing in this crate prints or prompts; long operations report through callbacks.
//!
//! # Stability
//!
//! What these docs show is the API. The modules hidden from them (the command line, the
//! runtime, the store, ...) are public only for the `barge` binary, the tests and the fuzz
//! targets, and change without notice.

#![warn(missing_docs)]

pub mod client;
pub mod error;

mod digest;
mod reference;

pub use client::Client;
pub use digest::Digest;
pub use error::{Error, Result};
pub use reference::Reference;

// Internals: public for the barge binary (cli, ui), the integration tests and the fuzz
// targets, not for other programs.
#[doc(hidden)]
pub mod archive;
// Its doc comments are clap's help text (`NAME[:TAG]`), not rustdoc.
#[doc(hidden)]
#[allow(rustdoc::broken_intra_doc_links)]
pub mod cli;
#[doc(hidden)]
pub mod config;
#[doc(hidden)]
pub mod container;
#[doc(hidden)]
pub mod image;
#[doc(hidden)]
pub mod layer;
#[doc(hidden)]
pub mod runtime;
#[doc(hidden)]
pub mod store;
#[doc(hidden)]
pub mod supervisor;
#[doc(hidden)]
pub mod ui;
#[doc(hidden)]
pub use store::Store;

pub(crate) mod content;
pub(crate) mod kube;
pub(crate) mod network;
pub(crate) mod registry;
pub(crate) mod util;
pub(crate) mod volume;
