#!/bin/sh
# `run -d` + `stop` + `rm` cycle, barge vs podman, and the resident memory of barge's
# per-container supervisor vs podman's conmon for the same sleeping container.
. "$(dirname "$0")/common.sh"
store=$work/life-store
"$repo/scripts/busybox-image.sh" "$work/busybox.tar" >/dev/null 2>&1
"$barge" --root "$store" load -q -i "$work/busybox.tar" >/dev/null
cat >"$work/cycle-barge.sh" <<SH
id=\$($barge --root $store run -d busybox sleep 60) && $barge --root $store stop -t 0 \$id >/dev/null && $barge --root $store rm \$id >/dev/null
SH
P="podman --runtime runc --root $work/podman --runroot $work/podman-run"
cmds="'sh $work/cycle-barge.sh'"
if command -v podman >/dev/null; then
  $P load -q -i "$work/busybox.tar" >/dev/null 2>&1
  cat >"$work/cycle-podman.sh" <<SH
id=\$($P run -d busybox sleep 60) && $P stop -t 0 \$id >/dev/null && $P rm \$id >/dev/null
SH
  cmds="$cmds 'sh $work/cycle-podman.sh'"
fi
command -v hyperfine >/dev/null || { echo "install hyperfine (../shared/testbed/peers.sh)" >&2; exit 1; }
eval hyperfine -N --warmup 2 --runs "${RUNS:-10}" $cmds

id=$("$barge" --root "$store" run -d busybox sleep 60)
sleep 1
sup=$(pgrep -f "__supervise $id" | head -1)
echo "barge supervisor RSS: $(awk '/^VmRSS/{print $2, $3}' /proc/$sup/status)"
"$barge" --root "$store" rm -f "$id" >/dev/null
# A container that logs a line a second keeps the log path resident too.
id=$("$barge" --root "$store" run -d busybox sh -c 'while :; do echo tick; sleep 1; done')
sleep 3
sup=$(pgrep -f "__supervise $id" | head -1)
echo "barge supervisor RSS, logging: $(awk '/^VmRSS/{print $2, $3}' /proc/$sup/status)"
"$barge" --root "$store" rm -f "$id" >/dev/null
if command -v podman >/dev/null; then
  pid=$($P run -d busybox sleep 60)
  sleep 1
  conmon=$(pgrep -f "conmon.*$pid" | head -1)
  [ -n "$conmon" ] && echo "podman conmon RSS: $(awk '/^VmRSS/{print $2, $3}' /proc/$conmon/status)"
  $P rm -f "$pid" >/dev/null 2>&1
  pid=$($P run -d busybox sh -c 'while :; do echo tick; sleep 1; done')
  sleep 3
  conmon=$(pgrep -f "conmon.*$pid" | head -1)
  [ -n "$conmon" ] && echo "podman conmon RSS, logging: $(awk '/^VmRSS/{print $2, $3}' /proc/$conmon/status)"
  $P rm -f "$pid" >/dev/null 2>&1
fi
