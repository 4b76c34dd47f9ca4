#!/bin/sh
# Where a `barge run --rm` spends its time, phase by phase, from the kernel's trace events
# (tracefs: a few microseconds per event, unlike strace), as medians over RUNS runs. As root.
#   benches/trace-run.sh [BARGE_ARGS...]   (default: run --rm --network none busybox /bin/true)
# Phases end at: main (Rust's runtime starts: its first poll), store (the first mkdir under
# the store), clone (the container's), child (the container's first mount), pivot
# (pivot_root), seccomp (the filter's load starts), exec (it returned), exit (the
# container's exit_group), reaped (wait4 returns it), end (barge's exit_group).
# Off-CPU time (what it waits for), with kernel stacks:
#   perf record -e sched:sched_switch -g -- barge ...; perf script | grep -A12 'prev_state=D'
. "$(dirname "$0")/common.sh"
store=$work/run-store
"$repo/scripts/busybox-image.sh" "$work/busybox.tar" >/dev/null 2>&1
"$barge" --root "$store" load -q -i "$work/busybox.tar" >/dev/null
[ $# -gt 0 ] || set -- run --rm --network none busybox /bin/true
T=/sys/kernel/tracing
[ -w $T/set_event ] || { echo "tracefs is not writable at $T (root, debugfs/tracefs mounted?)" >&2; exit 1; }
out=$(mktemp -d)
trap 'echo 0 > $T/tracing_on; echo > $T/set_event; echo > $T/set_event_pid; rm -rf "$out"' EXIT
i=0
while [ $i -lt "${RUNS:-15}" ]; do
  i=$((i + 1))
  echo 0 > $T/tracing_on; echo > $T/trace; echo > $T/set_event
  echo 1 > $T/options/event-fork
  for e in execve clone clone3 mount pivot_root seccomp exit_group wait4 mkdir poll; do
    echo "syscalls:sys_enter_$e" >> $T/set_event
  done
  for e in seccomp wait4 clone clone3; do echo "syscalls:sys_exit_$e" >> $T/set_event; done
  sh -c 'echo $$ > '$T'/set_event_pid; echo 1 > '$T'/tracing_on; exec "$@"' x "$barge" --root "$store" "$@" >/dev/null 2>&1
  echo 0 > $T/tracing_on
  grep -v '^#' $T/trace > "$out/$i"
done
python3 - "$out"/* <<'PY'
import re, statistics, sys
def phases(path):
    ev = []
    for line in open(path):
        m = re.match(r'\s*\S+-(\d+)\s+\[\d+\]\s+\S+\s+([\d.]+):\s+(.*)', line)
        if m:
            ev.append((float(m.group(2)) * 1000, m.group(1), m.group(3)))
    t0, pid0 = ev[0][0], ev[0][1]
    def first(pred, after=0.0):
        return next((t - t0 for t, p, e in ev if t - t0 >= after and pred(p, e)), float('nan'))
    t = {'start': 0.0}
    t['main'] = first(lambda p, e: e.startswith('sys_poll('))
    t['store'] = first(lambda p, e: e.startswith('sys_mkdir('))
    # The container's clone: barge's last clone before the one that pivots returns in it
    # (threads barge starts after it, such as the spares' sweep, are cloned later).
    pivoter = next((p for t, p, e in ev if e.startswith('sys_pivot_root')), None)
    born = first(lambda p, e: p == pivoter and e.startswith(('sys_clone -> 0x0', 'sys_clone3 -> 0x0')))
    clones = [t - t0 for t, p, e in ev if p == pid0 and e.startswith(('sys_clone(', 'sys_clone3(')) and t - t0 <= born]
    t['clone'] = clones[-1] if clones else float('nan')
    t['child'] = first(lambda p, e: p == pivoter and e.startswith('sys_mount'), t['clone'])
    t['pivot'] = first(lambda p, e: e.startswith('sys_pivot_root'))
    t['seccomp'] = first(lambda p, e: e.startswith('sys_seccomp('))
    t['exec'] = first(lambda p, e: e.startswith('sys_seccomp ->'))
    t['exit'] = first(lambda p, e: p != pid0 and e.startswith('sys_exit_group'))
    t['reaped'] = first(lambda p, e: p == pid0 and e.startswith('sys_wait4 -> 0x') and e.strip() != 'sys_wait4 -> 0x0', t['exit'])
    t['end'] = first(lambda p, e: p == pid0 and e.startswith('sys_exit_group'))
    return t
rows = [phases(p) for p in sys.argv[1:]]
keys = list(rows[0])
for a, b in zip(keys, keys[1:]):
    print('%-8s -> %-8s %6.2f ms' % (a, b, statistics.median(r[b] - r[a] for r in rows)))
print('total (median) %.2f ms over %d runs' % (statistics.median(r['end'] for r in rows), len(rows)))
PY
