#!/bin/sh
# Import of a `docker save` archive of a Debian minbase image (~120 MB unpacked): barge vs
# `podman load` of the same file vs the floor (`tar -xOf archive layer | tar -x`), each
# the median of $RUNS cold runs (page cache dropped before each). Prints ratios.
. "$(dirname "$0")/common.sh"
command -v bc >/dev/null || { apt-get install -y -qq bc >/dev/null; }
[ -d "$work/debian" ] || sh "$here/debian-rootfs.sh" "$work/debian"
[ -f "$work/debian.tar" ] || "$repo/scripts/rootfs-image.sh" "$work/debian" "$work/debian.tar" bench/debian:1 bash
layer=$(tar -tf "$work/debian.tar" | grep layer.tar)

t_barge=$(for i in $(seq "$runs"); do rm -rf "$work/store"; cold; elapsed "$barge" --root "$work/store" import -q "$work/debian.tar"; done | median)
t_floor=$(for i in $(seq "$runs"); do rm -rf "$work/floor"; mkdir -p "$work/floor"; cold
  elapsed sh -c "tar -xOf '$work/debian.tar' '$layer' | tar -x -C '$work/floor'"; done | median)
echo "barge import:      ${t_barge}s"
echo "floor (tar | tar): ${t_floor}s   barge/floor = $(echo "$t_barge / $t_floor" | bc -l | cut -c1-5)"
if command -v podman >/dev/null; then
  t_podman=$(for i in $(seq "$runs"); do rm -rf "$work/podman"; cold
    elapsed podman --root "$work/podman" --runroot "$work/podman-run" load -q -i "$work/debian.tar"; done | median)
  echo "podman load:       ${t_podman}s   podman/barge = $(echo "$t_podman / $t_barge" | bc -l | cut -c1-5)"
fi
# Without the final syncfs (what podman and tar skip) for reference:
t_nosync=$(for i in $(seq "$runs"); do rm -rf "$work/store"; cold; BARGE_NO_SYNC=1 elapsed "$barge" --root "$work/store" import -q "$work/debian.tar"; done | median)
echo "barge import, no sync: ${t_nosync}s"
rm -rf "$work/store" "$work/floor" "$work/podman" "$work/podman-run"
