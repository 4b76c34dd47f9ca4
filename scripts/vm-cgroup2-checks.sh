# The checks scripts/vm-cgroup2.sh runs inside its guest (busybox sh, as root, on a pure
# cgroup v2 hierarchy mounted at /sys/fs/cgroup). One line per check: PASS or FAIL, then
# what was checked; a FAIL is followed by what was seen.
export BARGE_NO_SYNC=1
B="barge --root /tmp/store"
CG=/sys/fs/cgroup/barge
N="--network none"

pass() { echo "PASS: $1"; }
fail() {
  echo "FAIL: $1"
  shift
  for l in "$@"; do echo "  | $l"; done
}
# expect DESC WANT GOT: exact comparison.
expect() {
  if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "want: $2" "got:  $3"; fi
}
# contains DESC NEEDLE HAYSTACK
contains() {
  case $3 in
    *"$2"*) pass "$1" ;;
    *) fail "$1" "want a line with: $2" "got: $3" ;;
  esac
}
# A file under the container's group, seen from the host.
cgfile() { cat "$CG/$1/$2" 2>&1; }

info=$($B info 2>&1)
contains "barge info reports cgroup v2" "Cgroup Version: 2" "$info"

out=$($B load -i /busybox.tar 2>&1)
contains "load the busybox image" "busybox:latest" "$out"

out=$($B run --rm $N busybox echo hello 2>&1)
expect "run --rm echo" "hello" "$out"

# --- memory: the limit as the container sees it, the OOM kill, barge's message --------------
$B run --rm $N --memory 32m busybox sh -c \
  'cat /sys/fs/cgroup/memory.max; x=$(head -c 100000000 /dev/zero | tr "\0" a); echo survived' \
  >/tmp/oom.out 2>/tmp/oom.err
code=$?
expect "--memory 32m: memory hog exits 137" 137 "$code"
expect "--memory 32m: memory.max inside the container" 33554432 "$(head -n 1 /tmp/oom.out)"
contains "--memory 32m: barge reports the OOM kill on stderr" "OOM-killed" "$(cat /tmp/oom.err)"
id=$($B run -d --name oom $N --memory 32m busybox sh -c \
  'sleep 1; x=$(head -c 100000000 /dev/zero | tr "\0" a)' 2>&1)
expect "--memory 32m: memory.max of the running container's group" 33554432 "$(cgfile "$id" memory.max)"
$B wait oom >/tmp/wait.out 2>&1
expect "--memory 32m detached: exit code 137" 137 "$(cat /tmp/wait.out)"
expect "--memory 32m detached: inspect says OOMKilled" true \
  "$($B inspect -f '{{.State.OOMKilled}}' oom 2>&1)"
$B rm oom >/dev/null 2>&1
[ -d "$CG/$id" ] && fail "rm removes the OOM-killed container's group" "$CG/$id is still there" ||
  pass "rm removes the OOM-killed container's group"

# Docker's default when only --memory is given: as much swap as memory (memory+swap = 2x).
# Without it a desktop's swap (zram here) absorbs the hog and the limit does not hold.
id=$($B run -d --name swap1 $N --memory 32m busybox sleep 1000 2>&1)
expect "--memory 32m: memory.swap.max (Docker's default: as much as memory)" 33554432 \
  "$(cgfile "$id" memory.swap.max)"
$B rm -f swap1 >/dev/null 2>&1
id=$($B run -d --name swap2 $N --memory 32m --memory-swap 48m busybox sleep 1000 2>&1)
expect "--memory 32m --memory-swap 48m: memory.swap.max" 16777216 "$(cgfile "$id" memory.swap.max)"
$B rm -f swap2 >/dev/null 2>&1
id=$($B run -d --name swap3 $N --memory 32m --memory-swap -1 busybox sleep 1000 2>&1)
expect "--memory 32m --memory-swap -1: memory.swap.max" max "$(cgfile "$id" memory.swap.max)"
$B rm -f swap3 >/dev/null 2>&1

# --- pids: 100 background forks against a limit of 20 ---------------------------------------
# Each failed fork aborts the subshell; the container's init waits on a fifo (a builtin, no
# fork) until the sleeps are gone, then must still be able to run commands.
out=$($B run --rm $N --pids-limit 20 busybox sh -c '
  mkfifo /tmp/f
  echo "max=$(cat /sys/fs/cgroup/pids.max)"
  (for i in $(seq 1 100); do sleep 2 & done) 2>/tmp/err
  read -t 4 x <>/tmp/f
  grep -c "fork" /tmp/err >/dev/null && echo "fork failed"
  echo "alive, events: $(cat /sys/fs/cgroup/pids.events)"' 2>&1)
code=$?
expect "--pids-limit 20: the container survives the fork bomb (exit 0)" 0 "$code"
contains "--pids-limit 20: pids.max inside" "max=20" "$out"
contains "--pids-limit 20: forks fail" "fork failed" "$out"
contains "--pids-limit 20: the container runs commands afterwards" "alive, events: max " "$out"

# --- cpu -------------------------------------------------------------------------------------
id=$($B run -d --name cpu $N --cpus 0.5 busybox sleep 1000 2>&1)
expect "--cpus 0.5: cpu.max" "50000 100000" "$(cgfile "$id" cpu.max)"
$B rm -f cpu >/dev/null 2>&1

# --- lifecycle: pause/unpause, stats, top, exec, stop, rm ------------------------------------
id=$($B run -d --name life $N --memory 64m busybox sh -c 'while :; do sleep 1; done' 2>&1)
[ -d "$CG/$id" ] && pass "run -d: the group is $CG/<id>" || fail "run -d: the group is $CG/<id>" "$id" "$(ls $CG 2>&1)"
contains "run -d: init is in the group" "$($B inspect -f '{{.State.Pid}}' life)" "$(cgfile "$id" cgroup.procs)"
$B pause life >/dev/null 2>/tmp/err
expect "pause: exit 0" 0 "$?$(cat /tmp/err)"
expect "pause: cgroup.freeze" 1 "$(cgfile "$id" cgroup.freeze)"
contains "pause: the kernel reports the group frozen" "frozen 1" "$(cgfile "$id" cgroup.events)"
expect "pause: ps shows paused" paused "$($B ps -a --filter name=life --format '{{.State}}' 2>&1)"
expect "pause: inspect shows paused" "paused true" \
  "$($B inspect -f '{{.State.Status}} {{.State.Paused}}' life 2>&1)"
# A frozen process makes no progress: its sleep loop forks no new pids.
p1=$(cgfile "$id" cgroup.procs | tr '\n' ' ')
sleep 2
p2=$(cgfile "$id" cgroup.procs | tr '\n' ' ')
expect "pause: the processes are frozen (no new ones in 2 s)" "$p1" "$p2"
out=$($B pause life 2>&1)
contains "pause twice: refused" "already paused" "$out"
$B unpause life >/dev/null 2>/tmp/err
expect "unpause: exit 0" 0 "$?$(cat /tmp/err)"
expect "unpause: cgroup.freeze" 0 "$(cgfile "$id" cgroup.freeze)"
contains "unpause: the kernel reports the group thawed" "frozen 0" "$(cgfile "$id" cgroup.events)"
expect "unpause: ps shows running" running "$($B ps --filter name=life --format '{{.State}}' 2>&1)"

out=$($B stats --no-stream --format '{{.Name}} {{.MemUsage}} {{.PIDs}}' life 2>&1)
case $out in
  "life 0B / "*) fail "stats: memory from memory.current" "$out" ;;
  "life "*" / 64MiB "[12]) pass "stats: memory and pids from the v2 files ($out)" ;;
  *) fail "stats: memory and pids from the v2 files" "want: life N / 64MiB 1|2" "got: $out" ;;
esac
out=$($B top life 2>&1)
contains "top: lists the container's processes" "while :; do sleep 1; done" "$out"

out=$($B exec life sh -c 'grep -qx $$ /sys/fs/cgroup/cgroup.procs && echo in-group; cat /proc/self/cgroup' 2>&1)
expect "exec: lands in the container's group (seen inside, cgroup namespace root)" "in-group
0::/" "$out"
$B exec life sh -c 'exec sleep 3' &
sleep 1
out=""
for p in $(cgfile "$id" cgroup.procs); do
  [ "$(cat /proc/$p/cmdline 2>/dev/null | tr '\0' ' ')" = "sleep 3 " ] && out=found
done
expect "exec: the exec'd process is in $CG/<id> (seen from the host)" found "$out"
wait

$B pause life >/dev/null 2>&1
out=$(timeout -s KILL 20 $B exec life true 2>&1)
code=$?
[ "$code" -ne 0 ] && [ "$code" -ne 124 ] && pass "exec into a paused container is refused ($code: $out)" ||
  fail "exec into a paused container is refused" "exit $code (124: hung)" "$out"
$B unpause life >/dev/null 2>&1

$B stop -t 1 life >/dev/null 2>&1
expect "stop: exited" exited "$($B ps -a --filter name=life --format '{{.State}}' 2>&1)"
$B rm life >/dev/null 2>&1
[ -d "$CG/$id" ] && fail "rm: no group left behind" "$CG/$id exists" || pass "rm: no group left behind"

# Pause then stop: a frozen group must still be stoppable.
id=$($B run -d --name frozen $N busybox sleep 1000 2>&1)
$B pause frozen >/dev/null 2>&1
$B stop -t 1 frozen >/dev/null 2>/tmp/err
expect "stop of a paused container: exit 0" 0 "$?$(cat /tmp/err)"
$B rm frozen >/dev/null 2>&1
[ -d "$CG/$id" ] && fail "rm of a stopped paused container: no group left" "$CG/$id exists" ||
  pass "rm of a stopped paused container: no group left"

# A group left frozen (paused, then its supervisor killed) must not freeze the next start.
id=$($B run -d --name crash $N busybox sleep 1000 2>&1)
$B pause crash >/dev/null 2>&1
for p in $(pidof barge); do
  grep -q "__supervise" /proc/$p/cmdline 2>/dev/null && grep -q "$id" /proc/$p/cmdline && kill -9 $p
done
sleep 1
echo "  (after the kill: group $( [ -d "$CG/$id" ] && echo "left, cgroup.freeze=$(cgfile "$id" cgroup.freeze)" || echo gone))"
timeout -s KILL 20 $B start crash >/dev/null 2>/tmp/err
code=$?
expect "start after the supervisor of a paused container was killed" 0 "$code$(cat /tmp/err)"
out=$(timeout -s KILL 20 $B exec crash echo alive 2>&1)
expect "... and the restarted container runs" alive "$out"
$B rm -f crash >/dev/null 2>&1
[ -d "$CG/$id" ] && fail "... and rm -f leaves no group" "$CG/$id exists" || pass "... and rm -f leaves no group"

# Inside a container of another engine (Docker-in-Docker, a CI job): barge sees its own
# group as the root of a cgroup namespace, and that group holds processes.
nested() { unshare-util -C -m sh -c "umount /sys/fs/cgroup && mount -t cgroup2 cgroup2 /sys/fs/cgroup && $*" 2>&1; }
out=$(nested "$B run --rm $N busybox echo ok")
expect "nested (cgroup namespace root holds processes): a run without limits works" ok "$out"
out=$(nested "$B run --rm $N --memory 32m busybox true")
code=$?
expect "nested: a memory limit fails with 125" 125 "$code"
contains "nested: ... and says why" "holds processes" "$out"
contains "nested: ... and how to fix it" "hint: move those processes into a child group" "$out"

# --- devices: the eBPF program -----------------------------------------------------------------
out=$($B run --rm $N busybox sh -c 'mknod /tmp/sda b 8 0 && head -c1 /tmp/sda' 2>&1)
code=$?
[ "$code" -ne 0 ] && pass "devices: a block device the rules do not allow cannot be opened ($out)" ||
  fail "devices: a block device the rules do not allow cannot be opened" "exit $code: $out"
contains "devices: refused with EPERM" "Operation not permitted" "$out"
out=$($B run --rm $N busybox sh -c 'echo x >/dev/null && head -c 4 /dev/zero | wc -c' 2>&1)
expect "devices: /dev/null and /dev/zero work" 4 "$out"
out=$($B run --rm $N --device /dev/loop0 busybox sh -c 'head -c 0 /dev/loop0 && echo opened' 2>&1)
[ -e /dev/loop0 ] && expect "devices: --device /dev/loop0 is allowed" opened "$out"

# --- nothing left behind ----------------------------------------------------------------------
left=""
for d in "$CG"/*; do [ -d "$d" ] && left="$left $d"; done
expect "no container groups left under $CG" "" "$left"

# --- rootless, in a subtree delegated the way systemd's user@.service gets it -------------
# (no subordinate ids: one mapping, as for a user without /etc/subuid entries)
mkdir -p /etc
echo 'root:x:0:0:root:/root:/bin/sh' >/etc/passwd
echo 'tester:x:1000:1000::/home/tester:/bin/sh' >>/etc/passwd
printf 'root:x:0:\ntester:x:1000:\n' >/etc/group
mkdir -p /home/tester && chown 1000:1000 /home/tester
u=/sys/fs/cgroup/user.slice/user-1000.slice
svc=$u/user@1000.service
mkdir -p $svc/app.slice/test.scope
echo "+memory +pids" >$u/cgroup.subtree_control
chown -R 1000:1000 $svc
as_tester() {
  sh -c "echo \$\$ >$svc/app.slice/test.scope/cgroup.procs && exec setpriv-util --reuid 1000 --regid 1000 --clear-groups env -i PATH=/bin HOME=/home/tester BARGE_NO_SYNC=1 sh -c '$*'" 2>&1
}
out=$(as_tester "barge load -i /busybox.tar")
contains "rootless: load" "busybox:latest" "$out"
out=$(as_tester "barge info")
contains "rootless: info says rootless on cgroup v2" "Cgroup Version: 2" "$out"
out=$(as_tester "barge run --rm $N --memory 32m --pids-limit 30 busybox sh -c \"cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max /proc/self/cgroup\"")
expect "rootless: --memory and --pids-limit in the delegated subtree" "33554432
30
0::/" "$out"
id=$(as_tester "barge run -d --name rl $N --memory 32m busybox sleep 1000")
expect "rootless: the group is under user@1000.service/barge.slice" 33554432 "$(cat $svc/barge.slice/$id/memory.max 2>&1)"
out=$(as_tester "barge pause rl && barge ps --format {{.State}} && barge unpause rl && barge stats --no-stream --format {{.PIDs}} rl")
expect "rootless: pause, ps, unpause, stats" "rl
paused
rl
1" "$out"
out=$(as_tester "barge rm -f rl")
[ -d "$svc/barge.slice/$id" ] && fail "rootless: rm -f leaves no group" "$(ls $svc/barge.slice)" || pass "rootless: rm -f leaves no group"
out=$(as_tester "barge run --rm $N --memory 32m busybox sh -c \"x=\\\$(head -c 100000000 /dev/zero | tr \\\"\\\\0\\\" a)\"")
code=$?
expect "rootless: the memory hog is OOM-killed (137)" 137 "$code"
contains "rootless: ... and barge says so" "OOM-killed" "$out"
