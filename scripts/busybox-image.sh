#!/bin/sh
# Build a small busybox image as a `docker save` archive, offline, from the machine's
# busybox-static. Usage: scripts/busybox-image.sh OUT.tar [NAME:TAG]
# Then: barge import OUT.tar   (or: barge load -i OUT.tar)
set -eu
out=${1:?usage: busybox-image.sh OUT.tar [NAME:TAG]}
tag=${2:-busybox:latest}
bb=$(command -v busybox || true)
if [ -z "$bb" ] || ! "$bb" --list >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq busybox-static >/dev/null
    bb=$(command -v busybox)
  else
    echo "busybox-image.sh: needs busybox-static (apt-get install busybox-static)" >&2; exit 1
  fi
fi
case $(ldd "$bb" 2>&1) in *"not a dynamic"*|*"statically linked"*) ;; *)
  echo "busybox-image.sh: $bb is not static; install busybox-static" >&2; exit 1 ;; esac
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
root=$work/rootfs
mkdir -p "$root"/bin "$root"/etc "$root"/proc "$root"/sys "$root"/dev "$root"/tmp "$root"/root \
  "$root"/var/tmp "$root"/home "$root"/usr/bin "$root"/usr/sbin "$root"/sbin
chmod 1777 "$root"/tmp "$root"/var/tmp
cp "$bb" "$root"/bin/busybox
for app in $("$bb" --list); do [ "$app" = busybox ] || ln -sf busybox "$root/bin/$app"; done
printf 'root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1:daemon:/usr/sbin:/bin/false\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$root"/etc/passwd
printf 'root:x:0:\ndaemon:x:1:\nwheel:x:10:root\nnogroup:x:65534:\n' >"$root"/etc/group
mkdir -p "$work/img/layer"
tar --numeric-owner --owner=0 --group=0 --sort=name --mtime='2024-01-01 00:00:00' \
  -C "$root" -cf "$work/img/layer/layer.tar" .
diff_id=$(sha256sum "$work/img/layer/layer.tar" | cut -d' ' -f1)
arch=$(uname -m); case $arch in x86_64) arch=amd64 ;; aarch64) arch=arm64 ;; esac
printf '{"architecture":"%s","os":"linux","created":"2024-01-01T00:00:00Z","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["sh"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]},"history":[{"created":"2024-01-01T00:00:00Z","created_by":"scripts/busybox-image.sh"}]}' \
  "$arch" "$diff_id" >"$work/config.json"
cfg=$(sha256sum "$work/config.json" | cut -d' ' -f1)
mv "$work/config.json" "$work/img/$cfg.json"
mv "$work/img/layer" "$work/img/$diff_id"
printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":["%s/layer.tar"]}]' "$cfg" "$tag" "$diff_id" >"$work/img/manifest.json"
tar --numeric-owner --owner=0 --group=0 -C "$work/img" -cf "$out" "$diff_id" "$cfg.json" manifest.json
echo "$out: $tag (image ID sha256:$cfg)" >&2
