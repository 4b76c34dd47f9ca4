#!/bin/sh
# Cold pull from a local registry (Debian's docker-registry on loopback, plain HTTP) of
#   1. a Debian minbase image, one gzip layer;
#   2. the same files split into 6 gzip layers;
# barge pull vs `podman pull` vs `skopeo copy` (to an OCI dir, no unpack) vs the floor
# (`curl blob | tar -xzf -`, layer after layer). Median of $RUNS runs, page cache dropped
# before each; prints ratios. Images are pushed with skopeo (which gzips the layers).
# As root. Usage: benches/pull.sh   (RUNS=3 BENCH_DIR=/var/tmp/barge-bench by default)
. "$(dirname "$0")/common.sh"
command -v bc >/dev/null || { apt-get install -y -qq bc >/dev/null; }
[ -d "$work/debian" ] || sh "$here/debian-rootfs.sh" "$work/debian"
[ -f "$work/debian.tar" ] || "$repo/scripts/rootfs-image.sh" "$work/debian" "$work/debian.tar" bench/debian:1 bash
pw=$work/pull; rm -rf "$pw"; mkdir -p "$pw"

# The 6-layer image: the rootfs split by directory, as a docker save archive.
six=$pw/six.tar
(
  set -eu
  d=$pw/six; mkdir -p "$d"; root=$work/debian
  cd "$root"
  i=0; diffs=""; layers=""
  for part in "./usr/lib" "./usr/share" "./usr/bin ./usr/sbin ./usr/libexec" "./var" "./etc" "REST"; do
    i=$((i+1))
    if [ "$part" = REST ]; then
      set -- $(ls -A | grep -v -x -e usr -e var -e etc | sed 's|^|./|') $(ls -A usr | grep -v -x -e lib -e share -e bin -e sbin -e libexec | sed 's|^|./usr/|')
    else
      set -- $part
    fi
    tar --numeric-owner --sort=name --mtime='2024-01-01 00:00:00' -cf "$d/l$i.tar" "$@"
    h=$(sha256sum "$d/l$i.tar" | cut -d' ' -f1)
    mkdir -p "$d/$h"; mv "$d/l$i.tar" "$d/$h/layer.tar"
    diffs="$diffs${diffs:+,}\"sha256:$h\""; layers="$layers${layers:+,}\"$h/layer.tar\""
  done
  arch=$(uname -m); case $arch in x86_64) arch=amd64 ;; aarch64) arch=arm64 ;; esac
  printf '{"architecture":"%s","os":"linux","config":{"Cmd":["bash"]},"rootfs":{"type":"layers","diff_ids":[%s]}}' "$arch" "$diffs" >"$d/config.json"
  c=$(sha256sum "$d/config.json" | cut -d' ' -f1); mv "$d/config.json" "$d/$c.json"
  printf '[{"Config":"%s.json","RepoTags":["bench/six:1"],"Layers":[%s]}]' "$c" "$layers" >"$d/manifest.json"
  cd "$d" && tar -cf "$six" manifest.json "$c.json" $(ls -d */)
)

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$pw/reg"
cat >"$pw/reg/config.yml" <<YML
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $pw/reg/data}}
http: {addr: 127.0.0.1:$port}
YML
docker-registry serve "$pw/reg/config.yml" >"$pw/reg/log" 2>&1 &
regpid=$!
trap 'kill $regpid 2>/dev/null; rm -rf "$pw"' EXIT
until curl -s -o /dev/null "http://127.0.0.1:$port/v2/"; do sleep 0.1; done
reg=127.0.0.1:$port
skopeo copy -q --dest-tls-verify=false "docker-archive:$work/debian.tar" "docker://$reg/bench/debian:1"
skopeo copy -q --dest-tls-verify=false "docker-archive:$six" "docker://$reg/bench/six:1"

ratio() { echo "$1 / $2" | bc -l | cut -c1-5; }

bench() {
  name=$1
  layers=$(curl -s -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
    -H 'Accept: application/vnd.oci.image.manifest.v1+json' "http://$reg/v2/bench/$name/manifests/1" |
    python3 -c 'import json,sys; print(" ".join(l["digest"] for l in json.load(sys.stdin)["layers"]))')
  t_barge=$(for i in $(seq "$runs"); do rm -rf "$pw/store"; cold
    elapsed "$barge" --root "$pw/store" pull -q "$reg/bench/$name:1"; done | median)
  t_nosync=$(for i in $(seq "$runs"); do rm -rf "$pw/store"; cold
    BARGE_NO_SYNC=1 elapsed "$barge" --root "$pw/store" pull -q "$reg/bench/$name:1"; done | median)
  t_floor=$(for i in $(seq "$runs"); do rm -rf "$pw/floor"; mkdir -p "$pw/floor"; cold
    elapsed sh -c "for l in $layers; do curl -s http://$reg/v2/bench/$name/blobs/\$l | tar -xzf - -C '$pw/floor' || exit 1; done"; done | median)
  t_podman=$(for i in $(seq "$runs"); do rm -rf "$pw/podman" "$pw/podman-run"; cold
    elapsed podman --root "$pw/podman" --runroot "$pw/podman-run" pull -q --tls-verify=false "$reg/bench/$name:1"; done | median)
  t_skopeo=$(for i in $(seq "$runs"); do rm -rf "$pw/oci"; cold
    elapsed skopeo copy -q --src-tls-verify=false "docker://$reg/bench/$name:1" "oci:$pw/oci:1"; done | median)
  echo "== $name ($(echo $layers | wc -w) layers)"
  echo "floor (curl | tar -xz): ${t_floor}s"
  echo "barge pull:             ${t_barge}s   barge/floor = $(ratio "$t_barge" "$t_floor")"
  echo "barge pull, no sync:    ${t_nosync}s   barge/floor = $(ratio "$t_nosync" "$t_floor")"
  echo "podman pull:            ${t_podman}s   podman/barge = $(ratio "$t_podman" "$t_barge")"
  echo "skopeo copy (no unpack): ${t_skopeo}s  skopeo/barge = $(ratio "$t_skopeo" "$t_barge")"
  rm -rf "$pw/store" "$pw/floor" "$pw/podman" "$pw/podman-run" "$pw/oci"
}
bench debian
bench six
