#!/bin/sh
# Smoke test of a release executable (scripts/build-release.sh's: static where it can be),
# which the test suite does not run (it runs the debug build): a container, a push and pull
# through a local registry named `localhost` (a name lookup through glibc, which a static
# executable does without loading NSS modules), and, when the `tester` user exists, a
# rootless container (the user's name through glibc too). As root; .ci/run calls it.
# Usage: scripts/smoke-release.sh BARGE
set -eu
here=$(cd "$(dirname "$0")" && pwd)
[ $# = 1 ] && [ -x "$1" ] || { echo "usage: $0 BARGE" >&2; exit 2; }
work=$(mktemp -d /tmp/barge-smoke.XXXXXX)
reg_pid=""
cleanup() {
  [ -z "$reg_pid" ] || kill "$reg_pid" 2>/dev/null || true
  rm -rf "$work" 2>/dev/null || true
}
trap cleanup EXIT
chmod 755 "$work"
# A copy that every user can run (the checkout may sit in root's home).
install -m 755 "$1" "$work/barge"
barge=$work/barge
fail() { echo "smoke-release: $*" >&2; exit 1; }

"$here/busybox-image.sh" "$work/busybox.tar" >/dev/null
"$barge" --root "$work/root" load -q -i "$work/busybox.tar" >/dev/null
out=$("$barge" --root "$work/root" run --rm busybox sh -c 'echo hi; grep Seccomp: /proc/self/status')
[ "$out" = "$(printf 'hi\nSeccomp:\t2')" ] || fail "run printed: $out"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$work/registry.yml" <<CFG
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $work/registry}}
http: {addr: 127.0.0.1:$port}
CFG
docker-registry serve "$work/registry.yml" >/dev/null 2>&1 &
reg_pid=$!
i=0
until python3 -c "import socket; socket.create_connection(('127.0.0.1', $port))" 2>/dev/null; do
  i=$((i + 1)); [ $i -lt 200 ] || fail "docker-registry did not start"; sleep 0.05
done
"$barge" --root "$work/root" tag busybox "localhost:$port/smoke/busybox:1"
"$barge" --root "$work/root" push -q "localhost:$port/smoke/busybox:1" >/dev/null
"$barge" --root "$work/pulled" pull -q "localhost:$port/smoke/busybox:1" >/dev/null
out=$("$barge" --root "$work/pulled" run --rm "localhost:$port/smoke/busybox:1" echo pulled)
[ "$out" = pulled ] || fail "run of the pulled image printed: $out"

if id tester >/dev/null 2>&1 && grep -q '^tester:' /etc/subuid; then
  home=$(getent passwd tester | cut -d: -f6)
  install -d -o tester "$work/rootless"
  out=$(cd / && runuser -u tester -- env HOME="$home" XDG_RUNTIME_DIR= \
    sh -c "'$barge' --root '$work/rootless' load -q -i '$work/busybox.tar' >/dev/null && '$barge' --root '$work/rootless' run --rm busybox id -u")
  [ "$out" = 0 ] || fail "rootless run printed: $out"
fi
echo "smoke-release: ok ($(file -b "$1" 2>/dev/null | cut -d, -f1-2))"
