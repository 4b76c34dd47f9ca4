#!/bin/sh
# What bridge networking costs `run`: `barge run --rm busybox /bin/true` with the default
# bridge, on a user network and with `--network none`, side by side with hyperfine (and
# `podman run --rm` with its default network when podman is installed). The goal is under
# 5 ms between bridge and none. BARGE=/path/to/barge compares another build.
. "$(dirname "$0")/common.sh"
store=$work/net-store
"$repo/scripts/busybox-image.sh" "$work/busybox.tar" >/dev/null 2>&1
"$barge" --root "$store" load -q -i "$work/busybox.tar" >/dev/null
"$barge" --root "$store" network rm benchnet >/dev/null 2>&1 || true
"$barge" --root "$store" network create benchnet >/dev/null
B="$barge --root $store run --rm"
cmds="'$B --network none busybox /bin/true' '$B busybox /bin/true' '$B --network benchnet busybox /bin/true'"
if command -v podman >/dev/null && [ -n "${PODMAN:-}" ]; then
  podman --root "$work/podman" --runroot "$work/podman-run" load -q -i "$work/busybox.tar" >/dev/null 2>&1
  cmds="$cmds 'podman --runtime runc --root $work/podman --runroot $work/podman-run run --rm busybox /bin/true'"
fi
command -v hyperfine >/dev/null || { echo "install hyperfine (../shared/testbed/peers.sh)" >&2; exit 1; }
eval hyperfine -N --warmup 3 --runs "${RUNS:-40}" $cmds
"$barge" --root "$store" network rm benchnet >/dev/null
