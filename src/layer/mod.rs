//! Layers: apply a layer tar stream (plain, gzip or zstd) into a directory in overlay format,
//! safely, and detect a stream's compression.
//!
//! The layer directory is the whole world of an apply: every path in the archive is resolved
//! with `openat2(RESOLVE_IN_ROOT)` below a directory fd, the last component is never
//! followed, and `..` is refused, so no archive can make barge write outside it.

mod apply;
mod budget;

pub use apply::{Applied, ApplyOptions, apply};
pub use budget::{Budget, BudgetReader, HEADER_BUDGET};

use std::io::{self, BufRead, Read};

/// The compression of a layer or archive stream, told by its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
    Xz,
    Bzip2,
}

impl Compression {
    pub fn detect(head: &[u8]) -> Compression {
        if head.starts_with(&[0x1f, 0x8b]) {
            Compression::Gzip
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Compression::Zstd
        } else if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
            Compression::Xz
        } else if head.starts_with(b"BZh") {
            Compression::Bzip2
        } else {
            Compression::None
        }
    }

    /// The OCI media type of a layer blob with this compression.
    pub fn layer_media_type(self) -> &'static str {
        match self {
            Compression::Gzip => "application/vnd.oci.image.layer.v1.tar+gzip",
            Compression::Zstd => "application/vnd.oci.image.layer.v1.tar+zstd",
            _ => "application/vnd.oci.image.layer.v1.tar",
        }
    }
}

/// Wrap a buffered reader in the decompressor its first bytes call for.
pub fn decompress<'a, R: BufRead + Send + 'a>(
    mut r: R,
) -> io::Result<(Compression, Box<dyn Read + Send + 'a>)> {
    let c = Compression::detect(r.fill_buf()?);
    let out: Box<dyn Read + Send + 'a> = match c {
        Compression::None => Box::new(r),
        Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(r)),
        Compression::Zstd => Box::new(zstd::stream::read::Decoder::with_buffer(r)?),
        Compression::Xz | Compression::Bzip2 => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{c:?} compression is not supported (use gzip, zstd or none)")
                    .to_lowercase(),
            ));
        }
    };
    Ok((c, out))
}

/// True when `head` (at least 512 bytes, decompressed) starts a tar archive.
pub fn looks_like_tar(head: &[u8]) -> bool {
    if head.len() < 512 {
        return false;
    }
    let magic = &head[257..263];
    if magic == b"ustar\0" || magic == b"ustar " {
        return true;
    }
    // v7 tar: no magic, but the header checksum must add up.
    let stored = std::str::from_utf8(&head[148..156])
        .ok()
        .and_then(|s| u32::from_str_radix(s.trim_matches(|c: char| c == '\0' || c == ' '), 8).ok());
    let sum: u32 = head[..512]
        .iter()
        .enumerate()
        .map(|(i, &b)| {
            if (148..156).contains(&i) {
                u32::from(b' ')
            } else {
                u32::from(b)
            }
        })
        .sum();
    stored == Some(sum) && head[0] != 0
}
