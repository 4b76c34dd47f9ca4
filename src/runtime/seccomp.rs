//! spec.linux.seccomp -> a libseccomp filter.
//!
//! Syscall names the local libseccomp does not know are skipped, as runc and crun do, so one
//! profile serves kernels and libseccomp versions of different ages. libseccomp's own
//! "set no_new_privs on load" is turned off: no_new_privs is the spec's decision alone.

use std::fs;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::str::FromStr;

use libseccomp::{
    ScmpAction, ScmpArch, ScmpArgCompare, ScmpCompareOp, ScmpFilterAttr, ScmpFilterContext,
    ScmpSyscall,
};
use oci_spec::runtime::{
    LinuxSeccomp, LinuxSeccompAction, LinuxSeccompFilterFlag, LinuxSeccompOperator,
};

use super::error::{Result, RuntimeError};

fn err(e: impl std::fmt::Display) -> RuntimeError {
    RuntimeError::InvalidSpec(format!("seccomp: {e}"))
}

fn action(a: LinuxSeccompAction, errno: Option<u32>) -> Result<ScmpAction> {
    Ok(match a {
        LinuxSeccompAction::ScmpActKill | LinuxSeccompAction::ScmpActKillThread => {
            ScmpAction::KillThread
        }
        LinuxSeccompAction::ScmpActKillProcess => ScmpAction::KillProcess,
        LinuxSeccompAction::ScmpActTrap => ScmpAction::Trap,
        LinuxSeccompAction::ScmpActErrno => {
            ScmpAction::Errno(errno.unwrap_or(libc::EPERM as u32) as i32)
        }
        LinuxSeccompAction::ScmpActTrace => ScmpAction::Trace(errno.unwrap_or(0) as u16),
        LinuxSeccompAction::ScmpActLog => ScmpAction::Log,
        LinuxSeccompAction::ScmpActAllow => ScmpAction::Allow,
        LinuxSeccompAction::ScmpActNotify => {
            return Err(err(
                "SCMP_ACT_NOTIFY needs a listener, which barge does not provide",
            ));
        }
    })
}

fn op(o: LinuxSeccompOperator, value_two: Option<u64>) -> ScmpCompareOp {
    match o {
        LinuxSeccompOperator::ScmpCmpNe => ScmpCompareOp::NotEqual,
        LinuxSeccompOperator::ScmpCmpLt => ScmpCompareOp::Less,
        LinuxSeccompOperator::ScmpCmpLe => ScmpCompareOp::LessOrEqual,
        LinuxSeccompOperator::ScmpCmpEq => ScmpCompareOp::Equal,
        LinuxSeccompOperator::ScmpCmpGe => ScmpCompareOp::GreaterEqual,
        LinuxSeccompOperator::ScmpCmpGt => ScmpCompareOp::Greater,
        // OCI puts the mask in `value` and the expected result in `valueTwo`.
        LinuxSeccompOperator::ScmpCmpMaskedEq => ScmpCompareOp::MaskedEqual(value_two.unwrap_or(0)),
    }
}

/// Compiles the profile. Building is kept apart from loading so it can happen before any
/// privilege is dropped and be reported as a spec error.
pub(crate) fn build(s: &LinuxSeccomp) -> Result<ScmpFilterContext> {
    let default = action(s.default_action(), s.default_errno_ret())?;
    let mut ctx = ScmpFilterContext::new(default).map_err(err)?;
    ctx.set_ctl_nnp(false).map_err(err)?;
    for a in s.architectures().iter().flatten() {
        let name = a.to_string();
        let arch = ScmpArch::from_str(&name).map_err(err)?;
        if arch != ScmpArch::native() {
            ctx.add_arch(arch).map_err(err)?;
        }
    }
    for f in s.flags().iter().flatten() {
        match f {
            LinuxSeccompFilterFlag::SeccompFilterFlagLog => {
                ctx.set_ctl_log(true).map_err(err)?;
            }
            LinuxSeccompFilterFlag::SeccompFilterFlagSpecAllow => {
                ctx.set_ctl_ssb(true).map_err(err)?;
            }
            LinuxSeccompFilterFlag::SeccompFilterFlagTsync => {
                ctx.set_ctl_tsync(true).map_err(err)?;
            }
            LinuxSeccompFilterFlag::SeccompFilterFlagWaitKillableRecv => {
                ctx.set_filter_attr(ScmpFilterAttr::CtlWaitkill, 1)
                    .map_err(err)?;
            }
        }
    }
    for rule in s.syscalls().iter().flatten() {
        let act = action(rule.action(), rule.errno_ret())?;
        if act == default {
            // libseccomp refuses rules that repeat the default action; they change nothing.
            continue;
        }
        let conds: Vec<ScmpArgCompare> = rule
            .args()
            .iter()
            .flatten()
            .map(|a| {
                let value = if a.op() == LinuxSeccompOperator::ScmpCmpMaskedEq {
                    a.value_two().unwrap_or(0)
                } else {
                    a.value()
                };
                let o = if a.op() == LinuxSeccompOperator::ScmpCmpMaskedEq {
                    ScmpCompareOp::MaskedEqual(a.value())
                } else {
                    op(a.op(), a.value_two())
                };
                ScmpArgCompare::new(a.index() as u32, o, value)
            })
            .collect();
        // libseccomp ANDs the conditions of one rule but allows one condition per argument;
        // several conditions on the same argument mean "any of them", so they become
        // separate rules.
        let mut seen = std::collections::HashSet::new();
        let same_arg_twice = rule
            .args()
            .iter()
            .flatten()
            .any(|a| !seen.insert(a.index()));
        for name in rule.names() {
            let Ok(sc) = ScmpSyscall::from_name(name) else {
                continue;
            };
            let r = if conds.is_empty() {
                ctx.add_rule(act, sc)
            } else if same_arg_twice {
                conds
                    .iter()
                    .try_for_each(|c| ctx.add_rule_conditional(act, sc, &[*c]).map(drop))
                    .map(|_| &mut ctx)
            } else {
                ctx.add_rule_conditional(act, sc, &conds)
            };
            r.map_err(|e| err(format!("rule for {name}: {e}")))?;
        }
    }
    Ok(ctx)
}

/// A filter compiled to classic BPF, with the seccomp(2) flags to load it with.
pub(crate) struct Compiled {
    flags: libc::c_ulong,
    bpf: Vec<u8>,
}

const SECCOMP_FILTER_FLAG_TSYNC: libc::c_ulong = 1;
const SECCOMP_FILTER_FLAG_LOG: libc::c_ulong = 2;
const SECCOMP_FILTER_FLAG_SPEC_ALLOW: libc::c_ulong = 4;

/// Compiles the profile to BPF, through a cache in `cache_dir` keyed by the profile's JSON.
///
/// libseccomp needs about 15 ms of CPU to compile Docker's profile for three
/// architectures: as much as the whole rest of a container start. Loading the cached BPF
/// takes microseconds, and every container that uses the default profile hits the cache.
pub(crate) fn compile(s: &LinuxSeccomp, cache_dir: Option<&Path>) -> Result<Compiled> {
    use sha2::Digest;
    let mut flags = 0;
    for f in s.flags().iter().flatten() {
        flags |= match f {
            LinuxSeccompFilterFlag::SeccompFilterFlagLog => SECCOMP_FILTER_FLAG_LOG,
            LinuxSeccompFilterFlag::SeccompFilterFlagSpecAllow => SECCOMP_FILTER_FLAG_SPEC_ALLOW,
            LinuxSeccompFilterFlag::SeccompFilterFlagTsync => SECCOMP_FILTER_FLAG_TSYNC,
            // Only meaningful with a notify listener, which barge refuses anyway.
            LinuxSeccompFilterFlag::SeccompFilterFlagWaitKillableRecv => 0,
        };
    }
    let json = serde_json::to_vec(s).map_err(err)?;
    let version = libseccomp::ScmpVersion::current()
        .map(|v| format!("{}.{}.{}", v.major, v.minor, v.micro))
        .unwrap_or_default();
    let mut h = sha2::Sha256::new();
    h.update(b"barge-seccomp-1\0");
    h.update(version.as_bytes());
    h.update(std::env::consts::ARCH.as_bytes());
    h.update(&json);
    let key = hex::encode(h.finalize());
    let cached = cache_dir.map(|d| d.join(format!("{key}.bpf")));
    if let Some(p) = &cached
        && let Ok(bpf) = fs::read(p)
        && !bpf.is_empty()
        && bpf.len() % 8 == 0
    {
        return Ok(Compiled { flags, bpf });
    }
    let ctx = build(s)?;
    let mut tmp = fs::File::from(
        rustix::fs::memfd_create("barge-seccomp", rustix::fs::MemfdFlags::CLOEXEC)
            .map_err(|e| RuntimeError::sys("memfd_create", e))?,
    );
    ctx.export_bpf(&tmp).map_err(err)?;
    let mut bpf = Vec::new();
    tmp.seek(SeekFrom::Start(0))
        .and_then(|_| tmp.read_to_end(&mut bpf))
        .map_err(|e| RuntimeError::sys("read compiled seccomp filter", e))?;
    if let (Some(dir), Some(p)) = (cache_dir, &cached) {
        // Best effort, and atomic: a reader sees a whole filter or none.
        let _ = fs::create_dir_all(dir);
        let t = dir.join(format!(".{key}.{}", std::process::id()));
        if fs::write(&t, &bpf).is_ok() && fs::rename(&t, p).is_err() {
            let _ = fs::remove_file(&t);
        }
    }
    Ok(Compiled { flags, bpf })
}

#[repr(C)]
struct SockFprog {
    len: libc::c_ushort,
    filter: *const u8,
}

/// Installs the filter on the calling process.
pub(crate) fn load(c: &Compiled) -> Result<()> {
    let prog = SockFprog {
        len: (c.bpf.len() / 8) as libc::c_ushort,
        filter: c.bpf.as_ptr(),
    };
    // SAFETY: `prog` points to `len` 8-byte sock_filter instructions in `c.bpf`, which
    // outlives the call; the kernel copies the program.
    let r = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            1 as libc::c_ulong, // SECCOMP_SET_MODE_FILTER
            c.flags,
            &prog as *const SockFprog,
        )
    };
    if r != 0 {
        return Err(RuntimeError::sys(
            "load seccomp filter",
            std::io::Error::last_os_error(),
        ));
    }
    Ok(())
}
