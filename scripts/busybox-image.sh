#!/bin/sh
# Build a small busybox image as a `docker save` archive, offline, from the machine's
# busybox-static. Usage: scripts/busybox-image.sh OUT.tar [NAME:TAG]
# Then: barge load -i OUT.tar && barge run --rm busybox echo hi
set -eu
out=${1:?usage: busybox-image.sh OUT.tar [NAME:TAG]}
tag=${2:-busybox:latest}
here=$(cd "$(dirname "$0")" && pwd)
bb=$(command -v busybox || true)
static() { case $(LC_ALL=C ldd "$1" 2>&1) in *"not a dynamic"*|*"statically linked"*) return 0 ;; *) return 1 ;; esac; }
if [ -z "$bb" ] || ! static "$bb"; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq busybox-static >/dev/null
    bb=$(command -v busybox)
  else
    echo "busybox-image.sh: needs busybox-static (sudo apt-get install busybox-static)" >&2; exit 1
  fi
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/busybox-image.XXXXXX"); trap 'rm -rf "$work"' EXIT
root=$work/rootfs
mkdir -p "$root"/bin "$root"/etc "$root"/proc "$root"/sys "$root"/dev "$root"/tmp "$root"/root \
  "$root"/var/tmp "$root"/home "$root"/usr/bin "$root"/usr/sbin "$root"/sbin
chmod 1777 "$root"/tmp "$root"/var/tmp
cp "$bb" "$root"/bin/busybox
for app in $("$bb" --list); do [ "$app" = busybox ] || ln -sf busybox "$root/bin/$app"; done
printf 'root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1:daemon:/usr/sbin:/bin/false\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$root"/etc/passwd
printf 'root:x:0:\ndaemon:x:1:\nwheel:x:10:root\nnogroup:x:65534:\n' >"$root"/etc/group
"$here/rootfs-image.sh" "$root" "$out" "$tag" sh
