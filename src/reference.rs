//! Image references: `[registry[:port]/]path[:tag][@sha256:...]`, normalized the way Docker
//! does (`alpine` is `docker.io/library/alpine:latest`).
//!
//! The store keeps the fully qualified form; users see the familiar form (`alpine:latest`,
//! `localhost:5000/x/y:1`).

use std::fmt;

use crate::digest::Digest;
use crate::error::{Error, Result};

pub const DEFAULT_REGISTRY: &str = "docker.io";
pub const DEFAULT_TAG: &str = "latest";

/// An image reference, parsed and normalized as Docker does.
///
/// ```
/// use barge::Reference;
/// let r = Reference::parse("alpine")?;
/// assert_eq!(r.full_name(), "docker.io/library/alpine");
/// assert_eq!(r.tag.as_deref(), Some("latest"));
/// assert_eq!(r.to_string(), "alpine:latest");
/// assert_eq!(r.tagged().as_deref(), Some("docker.io/library/alpine:latest"));
/// let r = Reference::parse("localhost:5000/team/app:1.2")?;
/// assert_eq!((r.registry.as_str(), r.familiar_name().as_str()), ("localhost:5000", "localhost:5000/team/app"));
/// assert!(Reference::parse("no spaces").is_err());
/// # Ok::<(), barge::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Reference {
    /// Registry host, with port when given (`docker.io`, `localhost:5000`).
    pub registry: String,
    /// Repository path inside the registry (`library/alpine`).
    pub repository: String,
    /// The tag (`latest` when neither a tag nor a digest was given).
    pub tag: Option<String>,
    /// The digest after `@`, when given.
    pub digest: Option<Digest>,
}

fn valid_component(c: &str) -> bool {
    // [a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*
    if c.is_empty() {
        return false;
    }
    let b = c.as_bytes();
    let alnum = |x: u8| x.is_ascii_lowercase() || x.is_ascii_digit();
    if !alnum(b[0]) || !alnum(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if alnum(b[i]) {
            i += 1;
            continue;
        }
        // a separator run
        let start = i;
        while i < b.len() && !alnum(b[i]) {
            i += 1;
        }
        let sep = &c[start..i];
        let ok = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|x| x == b'-');
        if !ok {
            return false;
        }
    }
    true
}

fn valid_tag(t: &str) -> bool {
    let b = t.as_bytes();
    !b.is_empty()
        && b.len() <= 128
        && (b[0].is_ascii_alphanumeric() || b[0] == b'_')
        && b.iter()
            .all(|&x| x.is_ascii_alphanumeric() || x == b'_' || x == b'.' || x == b'-')
}

fn looks_like_registry(first: &str) -> bool {
    first.contains('.')
        || first.contains(':')
        || first == "localhost"
        || first.chars().any(|c| c.is_ascii_uppercase())
}

fn valid_registry(r: &str) -> bool {
    let (host, port) = match r.rsplit_once(':') {
        Some((h, p)) if !h.contains(']') || h.ends_with(']') => (h, Some(p)),
        _ => (r, None),
    };
    if let Some(p) = port
        && (p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) || p.len() > 5)
    {
        return false;
    }
    !host.is_empty()
        && host
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'[')
        && !host.contains("..")
        && host.bytes().all(|b| {
            b.is_ascii_alphanumeric()
                || b == b'.'
                || b == b'-'
                || b == b'['
                || b == b']'
                || b == b':'
        })
}

impl Reference {
    /// Parse and normalize a reference as typed by a user or found in an archive.
    pub fn parse(s: &str) -> Result<Reference> {
        let bad =
            |why: &str| Error::InvalidArgument(format!("invalid reference format {s:?}: {why}"));
        if s.is_empty() || s.len() > 255 * 2 {
            return Err(bad("empty or too long"));
        }
        let (rest, digest) = match s.split_once('@') {
            Some((r, d)) => (r, Some(Digest::parse(d).map_err(|_| bad("bad digest"))?)),
            None => (s, None),
        };
        // A tag is after the last ':' that follows the last '/'.
        let last_slash = rest.rfind('/').map(|i| i + 1).unwrap_or(0);
        let (name, tag) = match rest[last_slash..].rfind(':') {
            Some(i) => (&rest[..last_slash + i], Some(&rest[last_slash + i + 1..])),
            None => (rest, None),
        };
        if let Some(t) = tag
            && !valid_tag(t)
        {
            return Err(bad("bad tag"));
        }
        let mut parts: Vec<&str> = name.split('/').collect();
        let registry = if parts.len() > 1 && looks_like_registry(parts[0]) {
            let r = parts.remove(0);
            if !valid_registry(r) {
                return Err(bad("bad registry host"));
            }
            r.to_string()
        } else {
            DEFAULT_REGISTRY.to_string()
        };
        if parts.iter().any(|p| !valid_component(p)) {
            return Err(bad(
                "repository names must be lowercase letters, digits and separators",
            ));
        }
        let mut repository = parts.join("/");
        let registry = if registry == "index.docker.io" || registry == "registry-1.docker.io" {
            DEFAULT_REGISTRY.to_string()
        } else {
            registry
        };
        if registry == DEFAULT_REGISTRY && !repository.contains('/') {
            repository = format!("library/{repository}");
        }
        let tag = match (tag, &digest) {
            (Some(t), _) => Some(t.to_string()),
            (None, None) => Some(DEFAULT_TAG.to_string()),
            (None, Some(_)) => None,
        };
        Ok(Reference {
            registry,
            repository,
            tag,
            digest,
        })
    }

    /// `docker.io/library/alpine` (no tag).
    pub fn full_name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    /// `alpine`, `user/app`, `localhost:5000/app` (no tag), as Docker shows it.
    pub fn familiar_name(&self) -> String {
        familiar_repo(&self.full_name())
    }

    /// The stored name of a tag reference: `docker.io/library/alpine:latest`.
    pub fn tagged(&self) -> Option<String> {
        self.tag
            .as_ref()
            .map(|t| format!("{}:{t}", self.full_name()))
    }
}

/// Strip `docker.io/` and `library/` as Docker does when it shows a repository.
pub fn familiar_repo(full: &str) -> String {
    match full.strip_prefix("docker.io/") {
        Some(rest) => rest.strip_prefix("library/").unwrap_or(rest).to_string(),
        None => full.to_string(),
    }
}

/// Split a stored `registry/repo:tag` into (repo, tag).
pub fn split_tag(stored: &str) -> (&str, &str) {
    let last_slash = stored.rfind('/').map(|i| i + 1).unwrap_or(0);
    match stored[last_slash..].rfind(':') {
        Some(i) => (&stored[..last_slash + i], &stored[last_slash + i + 1..]),
        None => (stored, ""),
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.familiar_name())?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

/// Match a repository (familiar or full form) against a Docker-style pattern such as
/// `bars/*` or `alpine:3*` (shell glob where `*` does not cross `/`).
pub fn matches_pattern(pattern: &str, full_repo: &str, tag: &str) -> bool {
    let last_slash = pattern.rfind('/').map(|i| i + 1).unwrap_or(0);
    let (pat_repo, pat_tag) = match pattern[last_slash..].rfind(':') {
        Some(i) => (
            &pattern[..last_slash + i],
            Some(&pattern[last_slash + i + 1..]),
        ),
        None => (pattern, None),
    };
    if let Some(t) = pat_tag
        && !glob(t, tag)
    {
        return false;
    }
    glob(pat_repo, full_repo) || glob(pat_repo, &familiar_repo(full_repo))
}

/// Minimal glob: `*` (not across '/'), `?`, literal otherwise.
pub fn glob(pat: &str, s: &str) -> bool {
    let (p, t) = (pat.as_bytes(), s.as_bytes());
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == b'?' && t[ti] != b'/' || p[pi] == t[ti] && p[pi] != b'*') {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star
            && t[st] != b'/'
        {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == b'*' {
        pi += 1;
    }
    pi == p.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_like_docker() {
        let r = Reference::parse("alpine").unwrap();
        assert_eq!(r.tagged().unwrap(), "docker.io/library/alpine:latest");
        assert_eq!(r.to_string(), "alpine:latest");
        let r = Reference::parse("localhost:5000/a/b:1.0").unwrap();
        assert_eq!(r.registry, "localhost:5000");
        assert_eq!(r.repository, "a/b");
        assert_eq!(r.to_string(), "localhost:5000/a/b:1.0");
        let r = Reference::parse("user/app:v1").unwrap();
        assert_eq!(r.tagged().unwrap(), "docker.io/user/app:v1");
        let d = Digest::of(b"x");
        let r = Reference::parse(&format!("alpine@{d}")).unwrap();
        assert_eq!(r.tag, None);
        assert_eq!(r.digest, Some(d));
    }

    #[test]
    fn rejects_bad_input() {
        for s in [
            "",
            "Alpine",
            "a//b",
            "a:",
            "a:-x",
            "-a",
            "a@sha256:zz",
            "a b",
            "../x",
        ] {
            assert!(Reference::parse(s).is_err(), "{s}");
        }
    }

    #[test]
    fn patterns() {
        assert!(matches_pattern("bars/*", "docker.io/bars/one", "latest"));
        assert!(!matches_pattern(
            "bars/*",
            "docker.io/bars/one/two",
            "latest"
        ));
        assert!(matches_pattern(
            "alpine:3*",
            "docker.io/library/alpine",
            "3.20"
        ));
        assert!(!matches_pattern(
            "alpine:3*",
            "docker.io/library/alpine",
            "latest"
        ));
        assert!(matches_pattern(
            "alpine",
            "docker.io/library/alpine",
            "latest"
        ));
    }

    #[test]
    fn split() {
        assert_eq!(split_tag("localhost:5000/a:1"), ("localhost:5000/a", "1"));
    }
}
