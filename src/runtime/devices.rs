//! The devices cgroup: which device nodes a container may create (mknod) and open.
//!
//! spec.linux.resources.devices is an ordered list of allow/deny rules. On cgroup v1 the
//! `devices` controller takes them as they are: each rule is written, in order, to
//! `devices.allow` or `devices.deny`, and the kernel keeps a default (allow or deny) plus a
//! list of exceptions. Cgroup v2 has no devices controller; the kernel instead runs a
//! BPF_PROG_TYPE_CGROUP_DEVICE program attached to the group on every mknod and open of a
//! device node. barge computes the same default + exceptions that v1 would hold
//! ([`Policy::from_rules`], mirroring the kernel's devices controller) and assembles a
//! small program from it, so a rule list means the same on both versions.
//!
//! The program is loaded and attached by the parent before the container's init joins
//! the group, so nothing the container runs escapes it.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;

use oci_spec::runtime::{LinuxDeviceCgroup, LinuxDeviceType};

use super::error::{Result, RuntimeError};

/// Access bits, as both the v1 controller and the BPF context number them.
const ACC_MKNOD: u32 = 1;
const ACC_READ: u32 = 2;
const ACC_WRITE: u32 = 4;
const ACC_ALL: u32 = ACC_MKNOD | ACC_READ | ACC_WRITE;

/// Device types in the BPF context (BPF_DEVCG_DEV_BLOCK / _CHAR).
const DEV_BLOCK: u32 = 1;
const DEV_CHAR: u32 = 2;

fn access_bits(s: &str) -> u32 {
    s.chars().fold(0, |a, c| {
        a | match c {
            'm' => ACC_MKNOD,
            'r' => ACC_READ,
            'w' => ACC_WRITE,
            _ => 0,
        }
    })
}

fn access_str(bits: u32) -> String {
    let mut s = String::new();
    for (b, c) in [(ACC_READ, 'r'), (ACC_WRITE, 'w'), (ACC_MKNOD, 'm')] {
        if bits & b != 0 {
            s.push(c);
        }
    }
    s
}

/// A rule's device type: None for "all" (the v1 `a`), which resets the whole policy.
fn rule_type(r: &LinuxDeviceCgroup) -> Option<Option<u32>> {
    match r.typ() {
        None | Some(LinuxDeviceType::A) => Some(None),
        Some(LinuxDeviceType::B) => Some(Some(DEV_BLOCK)),
        Some(LinuxDeviceType::C) | Some(LinuxDeviceType::U) => Some(Some(DEV_CHAR)),
        // FIFOs are not device nodes; the controller does not see them.
        Some(LinuxDeviceType::P) => None,
    }
}

/// A major or minor number; None is the wildcard `*`.
fn number(n: Option<i64>) -> Option<u32> {
    n.filter(|n| *n >= 0).map(|n| n as u32)
}

/// The lines to write for cgroup v1, in order: (file, value). A line repeated within a
/// run of writes to the same file is written once: adding an exception the list already
/// holds changes nothing, and the runtime's own devices (see [`with_runtime_devices`])
/// repeat most of Docker's rules, which cost a write each (13 of 26 for a default run).
pub(crate) fn v1_writes(rules: &[LinuxDeviceCgroup]) -> Vec<(&'static str, String)> {
    let mut out: Vec<(&'static str, String)> = Vec::new();
    // The lines of the current run: since the last `a` or the last write to the other file.
    let mut run = std::collections::HashSet::new();
    for r in rules {
        let file = if r.allow() {
            "devices.allow"
        } else {
            "devices.deny"
        };
        let Some(t) = rule_type(r) else { continue };
        let line = match t {
            None => "a".to_owned(),
            Some(t) => {
                let n = |x: Option<u32>| x.map_or("*".to_owned(), |x| x.to_string());
                format!(
                    "{} {}:{} {}",
                    if t == DEV_BLOCK { 'b' } else { 'c' },
                    n(number(r.major())),
                    n(number(r.minor())),
                    access_str(access_bits(r.access().as_deref().unwrap_or("rwm")))
                )
            }
        };
        if out.last().is_some_and(|(f, _)| *f != file) || line == "a" {
            run.clear();
        }
        if run.insert(line.clone()) {
            out.push((file, line));
        }
    }
    out
}

/// The device nodes the runtime itself provides in /dev (the spec's default devices, the
/// pty devices) and mknod of any node, allowed after the spec's own rules as runc does, so
/// a config that denies everything (`{"allow": false}` alone, as runtime-tools' generator
/// writes) still has a usable /dev/null: without it busybox `sh` cannot even background a
/// job. The spec's `linux.devices` get no rule here: their access is the spec's rules'
/// business (Docker's `--device X:X:r` must stay read-only).
pub(crate) fn with_runtime_devices(rules: &[LinuxDeviceCgroup]) -> Vec<LinuxDeviceCgroup> {
    use oci_spec::runtime::LinuxDeviceCgroupBuilder as B;
    let rule = |typ: LinuxDeviceType, major: Option<i64>, minor: Option<i64>, access: &str| {
        let mut b = B::default().allow(true).typ(typ).access(access);
        if let Some(m) = major {
            b = b.major(m);
        }
        if let Some(m) = minor {
            b = b.minor(m);
        }
        b.build().expect("all fields set")
    };
    let mut out = rules.to_vec();
    out.push(rule(LinuxDeviceType::C, None, None, "m"));
    out.push(rule(LinuxDeviceType::B, None, None, "m"));
    for (major, minor) in [
        (1, 3),
        (1, 5),
        (1, 7),
        (1, 8),
        (1, 9),
        (5, 0),
        (5, 1),
        (5, 2),
    ] {
        out.push(rule(LinuxDeviceType::C, Some(major), Some(minor), "rwm"));
    }
    // Every /dev/pts/N.
    out.push(rule(LinuxDeviceType::C, Some(136), None, "rwm"));
    out
}

/// One exception of a [`Policy`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Exception {
    pub typ: u32,
    pub major: Option<u32>,
    pub minor: Option<u32>,
    pub access: u32,
}

/// What a v1 devices group holds after a list of rules: a default and the exceptions to it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Policy {
    pub default_allow: bool,
    pub exceptions: Vec<Exception>,
}

impl Policy {
    /// Applies `rules` in order, starting from allow-all (a new v1 group's state under the
    /// root group), the way the kernel's devices controller does: an `a` rule resets the
    /// default and drops all exceptions; a rule that agrees with the default removes access
    /// bits from the exception for exactly that type:major:minor; one that disagrees adds
    /// them (merged with an existing exception for the same device).
    pub fn from_rules(rules: &[LinuxDeviceCgroup]) -> Policy {
        let mut p = Policy {
            default_allow: true,
            exceptions: Vec::new(),
        };
        for r in rules {
            let Some(t) = rule_type(r) else { continue };
            let Some(typ) = t else {
                p.default_allow = r.allow();
                p.exceptions.clear();
                continue;
            };
            let ex = Exception {
                typ,
                major: number(r.major()),
                minor: number(r.minor()),
                access: access_bits(r.access().as_deref().unwrap_or("rwm")),
            };
            let same =
                |e: &Exception| e.typ == ex.typ && e.major == ex.major && e.minor == ex.minor;
            if r.allow() == p.default_allow {
                for e in p.exceptions.iter_mut().filter(|e| same(e)) {
                    e.access &= !ex.access;
                }
                p.exceptions.retain(|e| e.access != 0);
            } else if let Some(e) = p.exceptions.iter_mut().find(|e| same(e)) {
                e.access |= ex.access;
            } else if ex.access != 0 {
                p.exceptions.push(ex);
            }
        }
        p
    }

    /// Whether the policy lets everything through (then no program is needed).
    pub fn allows_all(&self) -> bool {
        self.default_allow && self.exceptions.is_empty()
    }

    /// The kernel's decision for one access, for tests: a deny-by-default group needs an
    /// exception covering every requested bit; an allow-by-default group refuses when any
    /// requested bit is in a matching exception.
    #[cfg(test)]
    pub fn check(&self, typ: u32, major: u32, minor: u32, access: u32) -> bool {
        let matches = |e: &&Exception| {
            e.typ == typ && e.major.is_none_or(|m| m == major) && e.minor.is_none_or(|m| m == minor)
        };
        if self.default_allow {
            !self
                .exceptions
                .iter()
                .filter(matches)
                .any(|e| e.access & access != 0)
        } else {
            self.exceptions
                .iter()
                .filter(matches)
                .any(|e| access & !e.access == 0)
        }
    }
}

/// One eBPF instruction (struct bpf_insn).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C)]
pub(crate) struct Insn {
    code: u8,
    /// dst in the low nibble, src in the high one.
    regs: u8,
    off: i16,
    imm: i32,
}

// Opcodes: class | operation | source.
const LDX_MEM_W: u8 = 0x61; // dst = *(u32 *)(src + off)
const ALU32_MOV_X: u8 = 0xbc; // wdst = wsrc
const ALU32_AND_K: u8 = 0x54; // wdst &= imm
const ALU32_RSH_K: u8 = 0x74; // wdst >>= imm
const ALU64_MOV_K: u8 = 0xb7; // dst = imm
const JMP_JNE_K: u8 = 0x55; // if dst != imm goto pc + off
const JMP_JEQ_K: u8 = 0x15; // if dst == imm goto pc + off
const JMP_JSET_K: u8 = 0x45; // if dst & imm goto pc + off
const JMP_EXIT: u8 = 0x95;

fn insn(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> Insn {
    Insn {
        code,
        regs: (src << 4) | dst,
        off,
        imm,
    }
}

// Registers: r1 = context on entry; r2-r6 hold its fields; r7 is scratch; r0 the verdict.
const R_TYPE: u8 = 3;
const R_ACCESS: u8 = 4;
const R_MAJOR: u8 = 5;
const R_MINOR: u8 = 6;
const R_TMP: u8 = 7;

/// Assembles the program for `p`: it returns 1 (allow) or 0 (deny) for the context
/// struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; }, where
/// access_type = access << 16 | type.
pub(crate) fn program(p: &Policy) -> Vec<Insn> {
    let mut prog = vec![
        insn(LDX_MEM_W, 2, 1, 0, 0),
        insn(ALU32_MOV_X, R_TYPE, 2, 0, 0),
        insn(ALU32_AND_K, R_TYPE, 0, 0, 0xffff),
        insn(ALU32_MOV_X, R_ACCESS, 2, 0, 0),
        insn(ALU32_RSH_K, R_ACCESS, 0, 0, 16),
        insn(LDX_MEM_W, R_MAJOR, 1, 4, 0),
        insn(LDX_MEM_W, R_MINOR, 1, 8, 0),
    ];
    for e in &p.exceptions {
        // Each block ends in "r0 = verdict; exit"; every test that fails jumps past it.
        // Jump offsets are patched once the block's length is known.
        let mut block = vec![insn(JMP_JNE_K, R_TYPE, 0, 0, e.typ as i32)];
        if let Some(m) = e.major {
            block.push(insn(JMP_JNE_K, R_MAJOR, 0, 0, m as i32));
        }
        if let Some(m) = e.minor {
            block.push(insn(JMP_JNE_K, R_MINOR, 0, 0, m as i32));
        }
        if p.default_allow {
            // A deny exception applies when any requested bit is in it.
            block.push(insn(ALU32_MOV_X, R_TMP, R_ACCESS, 0, 0));
            block.push(insn(ALU32_AND_K, R_TMP, 0, 0, e.access as i32));
            block.push(insn(JMP_JEQ_K, R_TMP, 0, 0, 0));
        } else if e.access & ACC_ALL != ACC_ALL {
            // An allow exception applies when it covers every requested bit.
            block.push(insn(
                JMP_JSET_K,
                R_ACCESS,
                0,
                0,
                (!e.access & ACC_ALL) as i32,
            ));
        }
        block.push(insn(ALU64_MOV_K, 0, 0, 0, i32::from(!p.default_allow)));
        block.push(insn(JMP_EXIT, 0, 0, 0, 0));
        let len = block.len();
        for (i, ins) in block.iter_mut().enumerate() {
            if ins.code != ALU64_MOV_K && ins.code != JMP_EXIT && ins.code & 0x07 == 0x05 {
                ins.off = (len - i - 1) as i16;
            }
        }
        prog.extend(block);
    }
    prog.push(insn(ALU64_MOV_K, 0, 0, 0, i32::from(p.default_allow)));
    prog.push(insn(JMP_EXIT, 0, 0, 0, 0));
    prog
}

// bpf(2) commands, program and attach types, flags (include/uapi/linux/bpf.h).
const BPF_PROG_LOAD: libc::c_int = 5;
const BPF_PROG_ATTACH: libc::c_int = 8;
const BPF_PROG_DETACH: libc::c_int = 9;
const BPF_PROG_GET_FD_BY_ID: libc::c_int = 13;
const BPF_PROG_QUERY: libc::c_int = 16;
const BPF_PROG_TYPE_CGROUP_DEVICE: u32 = 15;
const BPF_CGROUP_DEVICE: u32 = 6;
const BPF_F_ALLOW_MULTI: u32 = 2;

/// The parts of union bpf_attr that BPF_PROG_LOAD reads; the rest must be zero.
#[repr(C)]
#[derive(Default)]
struct ProgLoadAttr {
    prog_type: u32,
    insn_cnt: u32,
    insns: u64,
    license: u64,
    log_level: u32,
    log_size: u32,
    log_buf: u64,
    kern_version: u32,
    prog_flags: u32,
    prog_name: [u8; 16],
    prog_ifindex: u32,
    expected_attach_type: u32,
    _rest: [u64; 8],
}

/// BPF_PROG_ATTACH / BPF_PROG_DETACH.
#[repr(C)]
#[derive(Default)]
struct AttachAttr {
    target_fd: u32,
    attach_bpf_fd: u32,
    attach_type: u32,
    attach_flags: u32,
    replace_bpf_fd: u32,
    _rest: [u32; 11],
}

/// BPF_PROG_QUERY.
#[repr(C)]
#[derive(Default)]
struct QueryAttr {
    target_fd: u32,
    attach_type: u32,
    query_flags: u32,
    attach_flags: u32,
    prog_ids: u64,
    prog_cnt: u32,
    _rest: [u32; 11],
}

/// BPF_PROG_GET_FD_BY_ID.
#[repr(C)]
#[derive(Default)]
struct GetFdAttr {
    prog_id: u32,
    next_id: u32,
    open_flags: u32,
    _rest: [u32; 13],
}

fn bpf<T>(cmd: libc::c_int, attr: &mut T) -> io::Result<libc::c_long> {
    // SAFETY: `attr` is a zero-padded, repr(C) prefix of union bpf_attr for `cmd`, valid
    // for reads and writes of its size, which is passed along; any pointers inside it
    // point to buffers the caller keeps alive across the call.
    let r = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            cmd,
            attr as *mut T,
            std::mem::size_of::<T>() as libc::c_uint,
        )
    };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

fn owned(fd: libc::c_long) -> OwnedFd {
    // SAFETY: the kernel just returned this new descriptor; nothing else owns it.
    unsafe { OwnedFd::from_raw_fd(fd as i32) }
}

/// Loads `prog`; on failure, loads it again with the verifier's log for the message.
pub(crate) fn load(prog: &[Insn]) -> io::Result<OwnedFd> {
    let license = c"Apache-2.0";
    let mut attr = ProgLoadAttr {
        prog_type: BPF_PROG_TYPE_CGROUP_DEVICE,
        insn_cnt: prog.len() as u32,
        insns: prog.as_ptr() as u64,
        license: license.as_ptr() as u64,
        ..Default::default()
    };
    attr.prog_name[..12].copy_from_slice(b"barge_device");
    match bpf(BPF_PROG_LOAD, &mut attr) {
        Ok(fd) => Ok(owned(fd)),
        Err(e) => {
            let mut log = vec![0u8; 64 * 1024];
            attr.log_level = 1;
            attr.log_size = log.len() as u32;
            attr.log_buf = log.as_mut_ptr() as u64;
            let _ = bpf(BPF_PROG_LOAD, &mut attr);
            let end = log.iter().position(|b| *b == 0).unwrap_or(0);
            let text = String::from_utf8_lossy(&log[..end]);
            Err(io::Error::new(
                e.kind(),
                format!("{e}; verifier: {}", text.trim()),
            ))
        }
    }
}

/// Detaches every device program attached to the group itself (a group left over from an
/// earlier container with the same name may still carry one).
fn detach_all(dir: &OwnedFd) -> io::Result<()> {
    let mut ids = [0u32; 64];
    let mut q = QueryAttr {
        target_fd: dir.as_raw_fd() as u32,
        attach_type: BPF_CGROUP_DEVICE,
        prog_ids: ids.as_mut_ptr() as u64,
        prog_cnt: ids.len() as u32,
        ..Default::default()
    };
    bpf(BPF_PROG_QUERY, &mut q)?;
    for id in &ids[..(q.prog_cnt as usize).min(ids.len())] {
        let mut g = GetFdAttr {
            prog_id: *id,
            ..Default::default()
        };
        let prog = owned(bpf(BPF_PROG_GET_FD_BY_ID, &mut g)?);
        let mut d = AttachAttr {
            target_fd: dir.as_raw_fd() as u32,
            attach_bpf_fd: prog.as_raw_fd() as u32,
            attach_type: BPF_CGROUP_DEVICE,
            ..Default::default()
        };
        bpf(BPF_PROG_DETACH, &mut d)?;
    }
    Ok(())
}

/// Loads the program for `rules` and attaches it to the v2 group `dir`. The attachment
/// lives as long as the group; the program's descriptor is not needed afterwards.
///
/// BPF_F_ALLOW_MULTI: programs of ancestor groups keep running too (every one must allow),
/// so a container can be no less restricted than the group barge was placed in.
pub(crate) fn apply_v2(dir: &Path, rules: &[LinuxDeviceCgroup]) -> Result<()> {
    let policy = Policy::from_rules(rules);
    let d = rustix::fs::open(
        dir,
        rustix::fs::OFlags::DIRECTORY | rustix::fs::OFlags::RDONLY | rustix::fs::OFlags::CLOEXEC,
        rustix::fs::Mode::empty(),
    )
    .map_err(|e| RuntimeError::file(dir, e))?;
    let _ = detach_all(&d);
    if policy.allows_all() {
        return Ok(());
    }
    let prog = load(&program(&policy))
        .map_err(|e| RuntimeError::sys("load the device cgroup program", e))?;
    let mut a = AttachAttr {
        target_fd: d.as_raw_fd() as u32,
        attach_bpf_fd: prog.as_raw_fd() as u32,
        attach_type: BPF_CGROUP_DEVICE,
        attach_flags: BPF_F_ALLOW_MULTI,
        ..Default::default()
    };
    bpf(BPF_PROG_ATTACH, &mut a).map_err(|e| {
        RuntimeError::sys(
            format!("attach the device cgroup program to {}", dir.display()),
            e,
        )
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use oci_spec::runtime::LinuxDeviceCgroupBuilder;

    fn rule(
        allow: bool,
        t: Option<LinuxDeviceType>,
        maj: Option<i64>,
        min: Option<i64>,
        acc: &str,
    ) -> LinuxDeviceCgroup {
        let mut b = LinuxDeviceCgroupBuilder::default().allow(allow).access(acc);
        if let Some(t) = t {
            b = b.typ(t);
        }
        if let Some(m) = maj {
            b = b.major(m);
        }
        if let Some(m) = min {
            b = b.minor(m);
        }
        b.build().unwrap()
    }

    use LinuxDeviceType::{B, C};

    /// Docker's defaults, as container/spec.rs builds them (abridged).
    fn docker() -> Vec<LinuxDeviceCgroup> {
        vec![
            rule(false, None, None, None, "rwm"),
            rule(true, Some(C), None, None, "m"),
            rule(true, Some(B), None, None, "m"),
            rule(true, Some(C), Some(1), Some(3), "rwm"),
            rule(true, Some(C), Some(1), Some(9), "rwm"),
            rule(true, Some(C), Some(136), None, "rwm"),
            rule(true, Some(C), Some(10), Some(229), "r"),
        ]
    }

    #[test]
    fn v1_lines() {
        let w = v1_writes(&docker());
        assert_eq!(w[0], ("devices.deny", "a".to_owned()));
        assert_eq!(w[1], ("devices.allow", "c *:* m".to_owned()));
        assert_eq!(w[3], ("devices.allow", "c 1:3 rwm".to_owned()));
        assert_eq!(w[5], ("devices.allow", "c 136:* rwm".to_owned()));
        let w = v1_writes(&[rule(true, Some(LinuxDeviceType::A), None, None, "rwm")]);
        assert_eq!(w, vec![("devices.allow", "a".to_owned())]);
    }

    #[test]
    fn v1_repeats_are_written_once_unless_the_other_file_came_between() {
        let mut rules = docker();
        rules.extend(docker()[1..].iter().cloned());
        assert_eq!(v1_writes(&rules), v1_writes(&docker()));
        // deny a, allow X, deny X, allow X: the second allow undoes the deny.
        let x = |allow| rule(allow, Some(C), Some(1), Some(3), "rwm");
        let rules = [
            rule(false, None, None, None, "rwm"),
            x(true),
            x(false),
            x(true),
        ];
        let w = v1_writes(&rules);
        assert_eq!(w.len(), 4, "{w:?}");
        assert_eq!(w[3], ("devices.allow", "c 1:3 rwm".to_owned()));
        // deny a, allow X, deny a, allow X: the reset empties the list.
        let rules = [
            rule(false, None, None, None, "rwm"),
            x(true),
            rule(false, None, None, None, "rwm"),
            x(true),
        ];
        assert_eq!(v1_writes(&rules).len(), 4);
    }

    #[test]
    fn policy_follows_the_v1_controller() {
        let p = Policy::from_rules(&docker());
        assert!(!p.default_allow);
        assert!(p.check(DEV_CHAR, 1, 3, ACC_READ | ACC_WRITE));
        assert!(p.check(DEV_BLOCK, 8, 0, ACC_MKNOD));
        assert!(!p.check(DEV_BLOCK, 8, 0, ACC_READ));
        assert!(!p.check(DEV_CHAR, 1, 5, ACC_READ));
        assert!(p.check(DEV_CHAR, 136, 4, ACC_WRITE));
        assert!(p.check(DEV_CHAR, 10, 229, ACC_READ));
        assert!(!p.check(DEV_CHAR, 10, 229, ACC_READ | ACC_WRITE));
        // Allows for the same device merge; a later deny takes bits away.
        let mut rules = docker();
        rules.push(rule(true, Some(C), Some(10), Some(229), "w"));
        assert!(Policy::from_rules(&rules).check(DEV_CHAR, 10, 229, ACC_READ | ACC_WRITE));
        rules.push(rule(false, Some(C), Some(1), Some(3), "w"));
        let p = Policy::from_rules(&rules);
        assert!(p.check(DEV_CHAR, 1, 3, ACC_READ));
        assert!(!p.check(DEV_CHAR, 1, 3, ACC_WRITE));
        // Privileged: allow all, no program needed.
        let p = Policy::from_rules(&[rule(true, None, None, None, "rwm")]);
        assert!(p.allows_all());
        assert!(Policy::from_rules(&[]).allows_all());
        // Allow by default with a deny exception: any overlapping bit is refused.
        let p = Policy::from_rules(&[rule(false, Some(B), Some(8), None, "w")]);
        assert!(p.default_allow);
        assert!(!p.check(DEV_BLOCK, 8, 1, ACC_READ | ACC_WRITE));
        assert!(p.check(DEV_BLOCK, 8, 1, ACC_READ));
        assert!(p.check(DEV_CHAR, 8, 1, ACC_WRITE));
    }

    /// A tiny interpreter for the instructions `program` emits, so the generated code is
    /// checked against the policy on every input without a kernel.
    fn run(prog: &[Insn], typ: u32, major: u32, minor: u32, access: u32) -> u64 {
        let ctx = [access << 16 | typ, major, minor];
        let mut r = [0u64; 11];
        let mut pc = 0usize;
        loop {
            let i = prog[pc];
            let (dst, src) = ((i.regs & 0xf) as usize, (i.regs >> 4) as usize);
            let imm = i.imm as i64 as u64;
            pc += 1;
            let jump = |cond: bool, pc: &mut usize| {
                if cond {
                    *pc = (*pc as isize + i.off as isize) as usize;
                }
            };
            match i.code {
                LDX_MEM_W => {
                    assert_eq!(src, 1);
                    r[dst] = ctx[i.off as usize / 4] as u64;
                }
                ALU32_MOV_X => r[dst] = r[src] as u32 as u64,
                ALU32_AND_K => r[dst] = (r[dst] as u32 & i.imm as u32) as u64,
                ALU32_RSH_K => r[dst] = ((r[dst] as u32) >> i.imm) as u64,
                ALU64_MOV_K => r[dst] = imm,
                JMP_JNE_K => jump(r[dst] != imm, &mut pc),
                JMP_JEQ_K => jump(r[dst] == imm, &mut pc),
                JMP_JSET_K => jump(r[dst] & imm != 0, &mut pc),
                JMP_EXIT => return r[0],
                c => panic!("unexpected opcode {c:#x}"),
            }
        }
    }

    #[test]
    fn program_matches_policy_everywhere() {
        let mut sets = vec![docker()];
        let mut extra = docker();
        extra.push(rule(false, Some(C), Some(1), Some(3), "w"));
        extra.push(rule(true, Some(B), Some(7), None, "rw"));
        sets.push(extra);
        sets.push(vec![
            rule(false, Some(B), Some(8), None, "w"),
            rule(false, Some(C), None, Some(3), "m"),
        ]);
        for rules in sets {
            let p = Policy::from_rules(&rules);
            let prog = program(&p);
            for typ in [DEV_BLOCK, DEV_CHAR] {
                for major in [1, 5, 7, 8, 10, 136] {
                    for minor in [0, 1, 3, 9, 229] {
                        for access in 1..=7 {
                            assert_eq!(
                                run(&prog, typ, major, minor, access) == 1,
                                p.check(typ, major, minor, access),
                                "{p:?} {typ} {major}:{minor} {access}"
                            );
                        }
                    }
                }
            }
        }
    }

    /// The kernel accepts the program, and a process in the group gets exactly what the
    /// rules allow (this exercises the v2 path on hybrid hosts too: device programs act on
    /// the unified hierarchy whatever the v1 controllers do).
    #[test]
    fn kernel_enforces_the_program() {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 || !Path::new("/bin/busybox").exists() {
            eprintln!("skipped: needs root and /bin/busybox");
            return;
        }
        let Some(mnt) = super::super::cgroups::cgroup2_mount() else {
            eprintln!("skipped: no cgroup2 mount");
            return;
        };
        let dir = mnt.join(format!("barge-devtest-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let res = apply_v2(&dir, &docker());
        let out = res.as_ref().ok().map(|_| {
            let script = format!(
                "echo $$ > {}/cgroup.procs || exit 99; \
                 cat /dev/null || exit 1; \
                 if head -c1 /dev/zero >/dev/null 2>&1; then exit 2; fi; \
                 mknod /tmp/barge-devtest-$$ b 8 0 || exit 3; \
                 if head -c1 /tmp/barge-devtest-$$ >/dev/null 2>&1; then rm -f /tmp/barge-devtest-$$; exit 4; fi; \
                 rm -f /tmp/barge-devtest-$$; exit 0",
                dir.display()
            );
            std::process::Command::new("/bin/busybox")
                .args(["sh", "-c", &script])
                .status()
                .unwrap()
        });
        let _ = std::fs::remove_dir(&dir);
        res.unwrap();
        assert_eq!(out.unwrap().code(), Some(0));
    }
}
