#!/bin/sh
# Turn a root filesystem directory into a one-layer `docker save` archive, offline.
# Usage: scripts/rootfs-image.sh ROOTFS_DIR OUT.tar NAME:TAG [CMD]
set -eu
root=${1:?usage: rootfs-image.sh ROOTFS_DIR OUT.tar NAME:TAG [CMD]}
out=${2:?out}; tag=${3:?tag}; cmd=${4:-sh}
work=$(mktemp -d "${TMPDIR:-/tmp}/rootfs-image.XXXXXX"); trap 'rm -rf "$work"' EXIT
mkdir -p "$work/layer"
tar --numeric-owner --sort=name --mtime='2024-01-01 00:00:00' --xattrs --xattrs-include='security.capability' \
  -C "$root" -cf "$work/layer/layer.tar" .
diff_id=$(sha256sum "$work/layer/layer.tar" | cut -d' ' -f1)
arch=$(uname -m); case $arch in x86_64) arch=amd64 ;; aarch64) arch=arm64 ;; esac
printf '{"architecture":"%s","os":"linux","created":"2024-01-01T00:00:00Z","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["%s"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]},"history":[{"created":"2024-01-01T00:00:00Z","created_by":"scripts/rootfs-image.sh"}]}' \
  "$arch" "$cmd" "$diff_id" >"$work/config.json"
cfg=$(sha256sum "$work/config.json" | cut -d' ' -f1)
mkdir "$work/img"
mv "$work/config.json" "$work/img/$cfg.json"
mv "$work/layer" "$work/img/$diff_id"
printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":["%s/layer.tar"]}]' "$cfg" "$tag" "$diff_id" >"$work/img/manifest.json"
tar --numeric-owner --owner=0 --group=0 -C "$work/img" -cf "$out" "$diff_id" "$cfg.json" manifest.json
echo "$out: $tag (image ID sha256:$cfg)" >&2
