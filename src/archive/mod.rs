//! Image archives in and out: `docker save` (classic and Docker 25+ layouts), OCI image
//! layout archives and root filesystem tarballs.

mod import;
mod save;

pub use import::{
    Format, ImportObserver, ImportOptions, ImportReport, ImportedImage, Silent, import,
};
pub use save::{SaveItem, save};
