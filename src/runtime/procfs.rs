//! A running container seen through /proc, for when it has no cgroup of its own (rootless
//! on cgroup v1, or v2 without a delegated subtree): its processes are those of its pid
//! namespace (every barge container has one), and `stats` adds up their figures.

use std::fs;
use std::os::unix::fs::MetadataExt;

/// Pids (as this process sees them) of every process in the pid namespace of `init`,
/// `init` included, in ascending order. Those `barge exec` started are in it too, though
/// they are no descendants of init.
pub fn namespace_pids(init: i32) -> Vec<i32> {
    let Ok(ns) = fs::metadata(format!("/proc/{init}/ns/pid")).map(|m| (m.dev(), m.ino())) else {
        return Vec::new();
    };
    let Ok(rd) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut pids: Vec<i32> = rd
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            fs::metadata(format!("/proc/{pid}/ns/pid")).is_ok_and(|m| (m.dev(), m.ino()) == ns)
        })
        .collect();
    pids.sort_unstable();
    pids
}

/// What `stats` shows of a container without a cgroup.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProcUsage {
    /// Resident memory of its processes added up (pages they share count once per process).
    pub rss: u64,
    /// CPU time of its processes and of the children they reaped, in nanoseconds.
    pub cpu_ns: u64,
    pub pids: u64,
}

/// The usage of the processes of `init`'s pid namespace, from /proc/PID/stat.
pub fn usage(init: i32) -> ProcUsage {
    // SAFETY: sysconf has no preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    // SAFETY: as above.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) }.max(1) as u64;
    let mut u = ProcUsage::default();
    for pid in namespace_pids(init) {
        let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let Some(f) = stat_fields(&stat) else {
            continue;
        };
        // Fields after the command, from the state (field 3 of proc(5)) on: utime is 14,
        // stime 15, cutime 16, cstime 17, rss (pages) 24.
        let n = |i: usize| {
            f.get(i - 3)
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0)
        };
        u.cpu_ns += (n(14) + n(15) + n(16) + n(17)) * 1_000_000_000 / ticks;
        u.rss += n(24) * page;
        u.pids += 1;
    }
    u
}

/// The fields of /proc/PID/stat after the command (which may hold spaces and parentheses).
fn stat_fields(stat: &str) -> Option<Vec<&str>> {
    let (_, rest) = stat.rsplit_once(')')?;
    Some(rest.split_whitespace().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_skip_a_command_with_spaces_and_parentheses() {
        let stat = "42 (a b) c)) S 1 42 42 0 -1 0 0 0 0 0 7 3 1 1 20 0 1 0 100 1000 25";
        let f = stat_fields(stat).unwrap();
        assert_eq!(f[0], "S");
        assert_eq!(f[14 - 3], "7");
        assert_eq!(f[24 - 3], "25");
    }

    #[test]
    fn this_process_is_counted_in_its_own_namespace() {
        let me = std::process::id() as i32;
        assert!(namespace_pids(me).contains(&me));
        let u = usage(me);
        assert!(u.pids >= 1 && u.rss > 0, "{u:?}");
    }
}
