#!/bin/sh
# `barge run --rm busybox /bin/true` vs `runc run` and `crun run` of a prepared bundle and
# vs `podman run --rm`, side by side with hyperfine (../shared/testbed/peers.sh installs the
# peers). Compare ratios from one run, not absolute times. Also barge's peak RSS.
. "$(dirname "$0")/common.sh"
store=$work/run-store
"$repo/scripts/busybox-image.sh" "$work/busybox.tar" >/dev/null 2>&1
"$barge" --root "$store" load -q -i "$work/busybox.tar" >/dev/null
bundle=$work/bundle
rm -rf "$bundle"; mkdir -p "$bundle/rootfs"
tar -xf "$work/busybox.tar" -C "$work" --wildcards '*/layer.tar' 2>/dev/null || true
tar -xf "$(ls "$work"/*/layer.tar | head -1)" -C "$bundle/rootfs"
cmds="'$barge --root $store run --rm busybox /bin/true' '$barge --root $store run --rm --network none busybox /bin/true'"
# Like for like with the runc/crun bundle below, which has no seccomp filter (barge loads
# Docker's profile by default: about 0.5 ms of kernel time to load its 1,226 instructions).
cmds="$cmds '$barge --root $store run --rm --network none --security-opt seccomp=unconfined busybox /bin/true'"
if command -v runc >/dev/null; then
  (cd "$bundle" && runc spec && sed -i 's/"terminal": true/"terminal": false/; s/"sh"/"\/bin\/true"/' config.json \
    && python3 -c "import json;c=json.load(open('config.json'));c['process'].pop('rlimits',None);json.dump(c,open('config.json','w'))")
  cmds="$cmds 'runc run -b $bundle bench-runc'"
fi
if command -v crun >/dev/null; then
  # crun refuses the cgroup v1 hybrid layout unless the cgroup2 mount is hidden.
  if [ -d /sys/fs/cgroup/unified ]; then
    cmds="$cmds \"unshare -m sh -c 'umount /sys/fs/cgroup/unified 2>/dev/null; exec crun run -b $bundle bench-crun'\""
    # The wrapper alone, to subtract: crun's own time is the difference of the medians.
    cmds="$cmds \"unshare -m sh -c 'umount /sys/fs/cgroup/unified 2>/dev/null; exec true'\""
  else
    cmds="$cmds 'crun run -b $bundle bench-crun'"
  fi
fi
if command -v podman >/dev/null; then
  podman --root "$work/podman" --runroot "$work/podman-run" load -q -i "$work/busybox.tar" >/dev/null 2>&1
  cmds="$cmds 'podman --runtime runc --root $work/podman --runroot $work/podman-run run --rm busybox /bin/true'"
fi
command -v hyperfine >/dev/null || { echo "install hyperfine (../shared/testbed/peers.sh)" >&2; exit 1; }
eval hyperfine -N --warmup 3 --runs "${RUNS:-30}" --export-json "$work/run.json" $cmds
# Medians: on a shared machine a few slow runs move the means.
python3 -c '
import json, statistics, sys
for r in json.load(open(sys.argv[1]))["results"]:
    print("median %7.2f ms  %s" % (statistics.median(r["times"]) * 1000, r["command"]))
' "$work/run.json"
/usr/bin/time -f "barge run peak RSS: %M KB" "$barge" --root "$store" run --rm busybox /bin/true
