//! The process side of init: rlimits, user and groups, capabilities, and finding the
//! program the way execvp(3) would, but inside the container's root.

use std::ffi::CString;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use oci_spec::runtime::{Capabilities, LinuxCapabilities, PosixRlimit, PosixRlimitType, User};

use super::sys;

/// Docker's PATH when the image sets none.
pub(crate) const DEFAULT_PATH: &str =
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// A failure that init reports to the parent: the exit code the CLI should use and a message.
#[derive(Debug)]
pub(crate) struct Failure {
    pub code: i32,
    pub message: String,
}

impl Failure {
    pub(crate) fn runtime(message: impl Into<String>) -> Self {
        Failure {
            code: 125,
            message: message.into(),
        }
    }
}

impl From<super::RuntimeError> for Failure {
    fn from(e: super::RuntimeError) -> Self {
        Failure {
            code: e.exit_code(),
            message: e.to_string(),
        }
    }
}

fn resource(t: PosixRlimitType) -> Option<libc::__rlimit_resource_t> {
    Some(match t {
        PosixRlimitType::RlimitCpu => libc::RLIMIT_CPU,
        PosixRlimitType::RlimitFsize => libc::RLIMIT_FSIZE,
        PosixRlimitType::RlimitData => libc::RLIMIT_DATA,
        PosixRlimitType::RlimitStack => libc::RLIMIT_STACK,
        PosixRlimitType::RlimitCore => libc::RLIMIT_CORE,
        PosixRlimitType::RlimitRss => libc::RLIMIT_RSS,
        PosixRlimitType::RlimitNproc => libc::RLIMIT_NPROC,
        PosixRlimitType::RlimitNofile => libc::RLIMIT_NOFILE,
        PosixRlimitType::RlimitMemlock => libc::RLIMIT_MEMLOCK,
        PosixRlimitType::RlimitAs => libc::RLIMIT_AS,
        PosixRlimitType::RlimitLocks => libc::RLIMIT_LOCKS,
        PosixRlimitType::RlimitSigpending => libc::RLIMIT_SIGPENDING,
        PosixRlimitType::RlimitMsgqueue => libc::RLIMIT_MSGQUEUE,
        PosixRlimitType::RlimitNice => libc::RLIMIT_NICE,
        PosixRlimitType::RlimitRtprio => libc::RLIMIT_RTPRIO,
        PosixRlimitType::RlimitRttime => libc::RLIMIT_RTTIME,
        #[allow(unreachable_patterns)]
        _ => return None,
    })
}

/// Applies the rlimits. Raising a hard limit needs CAP_SYS_RESOURCE; without it the limit
/// is clamped to the current hard limit, with one warning, instead of failing the run:
/// a container asking for nofile=1048576 on a desktop whose hard limit is lower should
/// still start.
pub(crate) fn set_rlimits(limits: &[PosixRlimit]) -> Result<(), Failure> {
    let mut warned = false;
    for l in limits {
        let Some(res) = resource(l.typ()) else {
            continue;
        };
        let want = libc::rlimit {
            rlim_cur: l.soft(),
            rlim_max: l.hard(),
        };
        // SAFETY: `want` is a valid rlimit.
        if unsafe { libc::setrlimit(res, &want) } == 0 {
            continue;
        }
        let err = io::Error::last_os_error();
        if err.raw_os_error() != Some(libc::EPERM) {
            return Err(Failure::runtime(format!("setrlimit {}: {err}", l.typ())));
        }
        let mut cur = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: `cur` is valid for writes.
        unsafe { libc::getrlimit(res, &mut cur) };
        let clamped = libc::rlimit {
            rlim_max: want.rlim_max.min(cur.rlim_max),
            rlim_cur: want.rlim_cur.min(cur.rlim_max),
        };
        // SAFETY: as above.
        if unsafe { libc::setrlimit(res, &clamped) } != 0 {
            let err = io::Error::last_os_error();
            return Err(Failure::runtime(format!("setrlimit {}: {err}", l.typ())));
        }
        if !warned {
            warned = true;
            eprintln!(
                "barge: warning: {} limit {}/{} exceeds the hard limit {}; using {}/{}",
                l.typ(),
                l.soft(),
                l.hard(),
                cur.rlim_max,
                clamped.rlim_cur,
                clamped.rlim_max
            );
        }
    }
    Ok(())
}

fn cap_bits(set: Option<&Capabilities>) -> u64 {
    let mut bits = 0u64;
    for c in set.into_iter().flatten() {
        if let Ok(cap) = caps::Capability::from_str(&format!("CAP_{c}")) {
            bits |= 1u64 << cap.index();
        }
    }
    bits
}

fn last_cap() -> u8 {
    std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(40)
}

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: i32,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

const CAP_V3: u32 = 0x2008_0522;

/// Switches to the spec's user and groups and sets the five capability sets, in the order
/// the kernel requires: shrink the bounding set while CAP_SETPCAP is still held, keep the
/// permitted set across setuid, then set effective/permitted/inheritable in one capset and
/// raise the ambient ones.
pub(crate) fn switch_user_and_caps(
    user: &User,
    caps: Option<&LinuxCapabilities>,
) -> Result<(), Failure> {
    let f = |what: &str| {
        let e = io::Error::last_os_error();
        Failure::runtime(format!("{what}: {e}"))
    };
    let bounding = cap_bits(caps.and_then(|c| c.bounding().as_ref()));
    for cap in 0..=last_cap() {
        if bounding & (1u64 << cap) == 0 {
            sys::prctl(libc::PR_CAPBSET_DROP, cap as libc::c_ulong)
                .map_err(|e| Failure::runtime(format!("drop bounding capability {cap}: {e}")))?;
        }
    }
    sys::prctl(libc::PR_SET_KEEPCAPS, 1).map_err(|e| Failure::runtime(format!("keepcaps: {e}")))?;
    let groups: Vec<libc::gid_t> = user.additional_gids().clone().unwrap_or_default();
    // Raw syscalls: the process is single-threaded, and glibc's wrappers would try to
    // synchronise credentials across threads of a thread list that the raw clone left stale.
    // SAFETY: `groups` is valid for reads of its length.
    if unsafe { libc::syscall(libc::SYS_setgroups, groups.len(), groups.as_ptr()) } != 0 {
        // A user namespace whose gid_map its creator wrote without privilege (rootless
        // without subordinate ids) has setgroups denied for good, and maps no group but
        // one: the process keeps the user's own groups, which it had on the host anyway.
        let denied =
            std::fs::read_to_string("/proc/self/setgroups").is_ok_and(|s| s.trim() == "deny");
        if !denied {
            return Err(f("setgroups"));
        }
    }
    let (uid, gid) = (user.uid(), user.gid());
    // SAFETY: integer arguments only.
    if unsafe { libc::syscall(libc::SYS_setresgid, gid, gid, gid) } != 0 {
        return Err(f("setresgid"));
    }
    // SAFETY: integer arguments only.
    if unsafe { libc::syscall(libc::SYS_setresuid, uid, uid, uid) } != 0 {
        return Err(f("setresuid"));
    }
    sys::prctl(libc::PR_SET_KEEPCAPS, 0).map_err(|e| Failure::runtime(format!("keepcaps: {e}")))?;

    let eff = cap_bits(caps.and_then(|c| c.effective().as_ref()));
    let perm = cap_bits(caps.and_then(|c| c.permitted().as_ref()));
    let inh = cap_bits(caps.and_then(|c| c.inheritable().as_ref()));
    let mut data = [CapData::default(); 2];
    for (i, d) in data.iter_mut().enumerate() {
        let shift = 32 * i;
        d.effective = (eff >> shift) as u32;
        d.permitted = (perm >> shift) as u32;
        d.inheritable = (inh >> shift) as u32;
    }
    let mut hdr = CapHeader {
        version: CAP_V3,
        pid: 0,
    };
    // SAFETY: header and a two-element data array, as the v3 ABI requires.
    if unsafe { libc::syscall(libc::SYS_capset, &mut hdr, data.as_ptr()) } != 0 {
        return Err(f("capset"));
    }
    let ambient = cap_bits(caps.and_then(|c| c.ambient().as_ref()));
    for cap in 0..64u64 {
        if ambient & (1 << cap) != 0 {
            sys::prctl3(
                libc::PR_CAP_AMBIENT,
                libc::PR_CAP_AMBIENT_RAISE as libc::c_ulong,
                cap as libc::c_ulong,
            )
            .map_err(|e| Failure::runtime(format!("raise ambient capability {cap}: {e}")))?;
        }
    }
    Ok(())
}

/// Finds `prog` like execvp: a name with a slash is used as is, otherwise each PATH entry is
/// tried. Runs after pivot_root, so the search stays inside the container.
pub(crate) fn find_program(prog: &str, env: &[String]) -> Result<PathBuf, Failure> {
    if prog.is_empty() {
        return Err(Failure {
            code: 127,
            message: "exec: \"\": executable file not found in $PATH".into(),
        });
    }
    if prog.contains('/') {
        return Ok(PathBuf::from(prog));
    }
    let path = env
        .iter()
        .find_map(|e| e.strip_prefix("PATH="))
        .unwrap_or(DEFAULT_PATH);
    let mut denied = None;
    for dir in path.split(':') {
        let dir = if dir.is_empty() { "." } else { dir };
        let cand = Path::new(dir).join(prog);
        match std::fs::metadata(&cand) {
            Ok(m) if m.is_file() => {
                if m.permissions().mode() & 0o111 != 0 {
                    return Ok(cand);
                }
                denied.get_or_insert(cand);
            }
            _ => {}
        }
    }
    match denied {
        Some(p) => Err(Failure {
            code: 126,
            message: format!("exec: \"{}\": permission denied", p.display()),
        }),
        None => Err(Failure {
            code: 127,
            message: format!("exec: \"{prog}\": executable file not found in $PATH"),
        }),
    }
}

/// Execs `path`; only returns on failure, with Docker's exit code for it.
pub(crate) fn exec(path: &Path, args: &[String], env: &[String]) -> Failure {
    let to_c = |s: &str| CString::new(s).ok();
    let Ok(cpath) = CString::new(path.as_os_str().as_bytes()) else {
        return Failure::runtime("NUL byte in program path");
    };
    let cargs: Option<Vec<CString>> = args.iter().map(|a| to_c(a)).collect();
    let cenv: Option<Vec<CString>> = env.iter().map(|e| to_c(e)).collect();
    let (Some(cargs), Some(cenv)) = (cargs, cenv) else {
        return Failure::runtime("NUL byte in args or env");
    };
    let mut argv: Vec<*const libc::c_char> = cargs.iter().map(|c| c.as_ptr()).collect();
    argv.push(std::ptr::null());
    let mut envp: Vec<*const libc::c_char> = cenv.iter().map(|c| c.as_ptr()).collect();
    envp.push(std::ptr::null());
    // SAFETY: argv and envp are NULL-terminated arrays of NUL-terminated strings that live
    // until execve returns (it only returns on failure).
    unsafe { libc::execve(cpath.as_ptr(), argv.as_ptr(), envp.as_ptr()) };
    let e = io::Error::last_os_error();
    let shown = path.display();
    match e.raw_os_error() {
        Some(libc::ENOENT) => Failure {
            code: 127,
            message: format!("exec: \"{shown}\": no such file or directory"),
        },
        Some(libc::EACCES) | Some(libc::EPERM) | Some(libc::ENOEXEC) | Some(libc::EISDIR) => {
            Failure {
                code: 126,
                message: format!("exec: \"{shown}\": permission denied"),
            }
        }
        _ => Failure {
            code: 126,
            message: format!("exec: \"{shown}\": {e}"),
        },
    }
}
