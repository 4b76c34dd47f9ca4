//! barge: a daemonless, Docker-like container engine in one binary.
//!
//! The crate is the library the `barge` binary is built on; see `DESIGN.md` in the
//! repository's docs for the layering. In short: `archive`/`image` work on the on-disk
//! `store` (SQLite metadata, a content store of blobs, unpacked `layer` directories).
//!
//! ```no_run
//! use barge::{Store, image};
//! let store = Store::open(std::path::Path::new("/var/lib/barge"))?;
//! for row in image::list(&store, None, false)? {
//!     println!("{}:{} {}", row.repository, row.tag, row.image.id.short());
//! }
//! # Ok::<(), barge::Error>(())
//! ```

pub mod archive;
pub mod cli;
pub mod client;
pub mod config;
pub mod container;
pub mod content;
pub mod digest;
pub mod error;
pub mod image;
pub mod kube;
pub mod layer;
pub mod network;
pub mod reference;
pub mod registry;
pub mod runtime;
pub mod store;
pub mod supervisor;
pub mod ui;
pub mod util;
pub mod volume;

pub use digest::Digest;
pub use error::{Error, Result};
pub use reference::Reference;
pub use store::Store;
