#!/bin/sh
# Build barge from the lock file and install it with its shell completions and man pages.
#
#   ./install.sh                   as root: into /usr/local; otherwise into ~/.local
#   PREFIX=/opt/barge ./install.sh
#   ./install.sh --uninstall       remove what an install with the same PREFIX put there
#   BARGE_BIN=target/debug/barge ./install.sh   install this binary instead of building
#
# On a fresh Debian/Ubuntu/Fedora machine, as root, it installs the build prerequisites
# (gcc, pkg-config, libseccomp headers) with the system's package manager, and Rust with
# rustup when no cargo >= 1.89 is found. Running it again is harmless. It ends by reporting
# the kernel features and programs barge can use on this host.
set -eu
cd "$(dirname "$0")"

MIN_RUST=1.89
say() { echo "install.sh: $*" >&2; }
die() { say "error: $*"; exit 1; }

if [ "$(id -u)" = 0 ]; then prefix=${PREFIX:-/usr/local}; else prefix=${PREFIX:-$HOME/.local}; fi

# Every file an install writes, relative to the prefix (the uninstall list).
installed_files() {
  echo bin/barge
  echo share/bash-completion/completions/barge
  echo share/zsh/site-functions/_barge
  echo share/fish/vendor_completions.d/barge.fish
  echo share/man/man5/barge-config.5
  # Man pages of every command: whatever barge-*.1 an install put there.
  for f in "$prefix"/share/man/man1/barge.1 "$prefix"/share/man/man1/barge-*.1; do
    [ -e "$f" ] && echo "share/man/man1/$(basename "$f")"
  done
  return 0
}

if [ "${1:-}" = "--uninstall" ]; then
  for f in $(installed_files); do
    if [ -e "$prefix/$f" ]; then rm -f "$prefix/$f"; say "removed $prefix/$f"; fi
  done
  say "barge is uninstalled from $prefix (the store, /var/lib/barge or ~/.local/share/barge, is kept)"
  exit 0
elif [ -n "${1:-}" ]; then
  die "unknown option $1 (usage: [PREFIX=DIR] [BARGE_BIN=FILE] ./install.sh [--uninstall])"
fi

# --- build prerequisites (as root, with the distribution's package manager) -------------
install_build_deps() {
  if command -v apt-get >/dev/null 2>&1; then
    missing=""
    # Build: gcc, libc6-dev, pkg-config, libseccomp-dev, curl (rustup). Run: nftables (NAT
    # and published ports of the default bridge), uidmap and slirp4netns (rootless users).
    for p in gcc libc6-dev pkg-config libseccomp-dev curl ca-certificates nftables uidmap slirp4netns; do
      dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
    done
    [ -z "$missing" ] && return 0
    say "installing build dependencies:$missing"
    apt-get update -qq >/dev/null || die "apt-get update failed (no network?)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null \
      || die "could not install$missing"
  elif command -v dnf >/dev/null 2>&1; then
    missing=""
    for p in gcc glibc-devel pkgconf-pkg-config libseccomp-devel curl nftables shadow-utils slirp4netns; do
      rpm -q "$p" >/dev/null 2>&1 || missing="$missing $p"
    done
    [ -z "$missing" ] && return 0
    say "installing build dependencies:$missing"
    dnf install -y -q $missing >/dev/null || die "could not install$missing (no network?)"
  else
    say "no apt-get or dnf: make sure gcc, pkg-config, the libseccomp headers and nftables are installed"
  fi
}

# True when `cargo` is on PATH and at least MIN_RUST.
cargo_ok() {
  command -v cargo >/dev/null 2>&1 || return 1
  v=$(cargo --version 2>/dev/null | awk '{print $2}')
  major=${v%%.*}; rest=${v#*.}; minor=${rest%%.*}
  want_minor=${MIN_RUST#*.}
  [ "${major:-0}" -gt 1 ] || { [ "${major:-0}" -eq 1 ] && [ "${minor:-0}" -ge "$want_minor" ]; }
}

ensure_rust() {
  [ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"
  cargo_ok && return 0
  if command -v rustup >/dev/null 2>&1; then
    say "cargo is older than $MIN_RUST: updating the stable toolchain with rustup"
    rustup update stable >/dev/null 2>&1 || die "rustup could not update Rust (no network?): install Rust $MIN_RUST or newer, then re-run"
  else
    say "no cargo $MIN_RUST or newer found: installing Rust with rustup (https://rustup.rs)"
    command -v curl >/dev/null 2>&1 || die "curl is needed to fetch rustup: install curl, or Rust $MIN_RUST+ by hand, then re-run"
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs -o /tmp/rustup-init.$$ \
      || die "cannot reach https://sh.rustup.rs (no network?): install Rust $MIN_RUST or newer by hand, then re-run"
    sh /tmp/rustup-init.$$ -y --profile minimal >/dev/null || { rm -f /tmp/rustup-init.$$; die "rustup failed"; }
    rm -f /tmp/rustup-init.$$
    . "$HOME/.cargo/env"
  fi
  cargo_ok || die "cargo $MIN_RUST or newer is still not on PATH"
}

if [ -n "${BARGE_BIN:-}" ]; then
  [ -x "$BARGE_BIN" ] || die "BARGE_BIN=$BARGE_BIN is not an executable"
  bin=$BARGE_BIN
else
  [ "$(id -u)" = 0 ] && install_build_deps
  ensure_rust
  cargo build --release --locked
  bin=target/release/barge
fi

# --- install -------------------------------------------------------------------------
gen=$(mktemp -d); trap 'rm -rf "$gen"' EXIT
"$bin" __generate --completions "$gen/completions" --man "$gen/man"
install -d "$prefix/bin" "$prefix/share/man/man1" "$prefix/share/man/man5" \
  "$prefix/share/bash-completion/completions" "$prefix/share/zsh/site-functions" \
  "$prefix/share/fish/vendor_completions.d"
# Install under a temporary name and rename: a running barge keeps its old binary.
install -m 755 "$bin" "$prefix/bin/.barge.new" && mv -f "$prefix/bin/.barge.new" "$prefix/bin/barge"
# Man pages of commands that no longer exist would linger: replace the set.
rm -f "$prefix"/share/man/man1/barge.1 "$prefix"/share/man/man1/barge-*.1
install -m 644 "$gen"/man/man1/*.1 "$prefix/share/man/man1/"
install -m 644 "$gen/man/man5/barge-config.5" "$prefix/share/man/man5/"
install -m 644 "$gen/completions/barge.bash" "$prefix/share/bash-completion/completions/barge"
install -m 644 "$gen/completions/_barge" "$prefix/share/zsh/site-functions/_barge"
install -m 644 "$gen/completions/barge.fish" "$prefix/share/fish/vendor_completions.d/barge.fish"
say "installed $prefix/bin/barge, its man pages and bash/zsh/fish completions"
case ":$PATH:" in *":$prefix/bin:"*) ;; *) say "note: add $prefix/bin to your PATH" ;; esac

# --- what this host offers -------------------------------------------------------------
check() { if eval "$2"; then say "  ok       $1"; else say "  missing  $1${3:+: $3}"; fi; }
say "kernel and programs:"
check "overlay file system" "grep -qw overlay /proc/filesystems || modinfo overlay >/dev/null 2>&1" \
  "barge's store needs overlayfs (modprobe overlay)"
check "user namespaces" "[ -e /proc/self/ns/user ] && [ \"\$(cat /proc/sys/user/max_user_namespaces 2>/dev/null || echo 0)\" -gt 0 ]" \
  "rootless containers and --userns need them"
if [ -e /sys/fs/cgroup/cgroup.controllers ]; then say "  ok       cgroup v2"; else say "  ok       cgroup v1 (limits work; v2 is preferred)"; fi
check "seccomp" "grep -q '^Seccomp:' /proc/self/status" "containers would run without a syscall filter"
check "nft" "command -v nft >/dev/null 2>&1" "the default bridge network needs it (package nftables); --network none|host work without"
for p in newuidmap newgidmap slirp4netns; do
  check "$p" "command -v $p >/dev/null 2>&1" "rootless use needs it (packages uidmap, slirp4netns)"
done
