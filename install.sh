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
# rustup (rustup-init from static.rust-lang.org) when no cargo >= 1.89 is found. Running it
# again is harmless. It ends by reporting the kernel features and programs barge can use on
# this host. scripts/fresh-install-test.sh runs it on a fresh Debian or Ubuntu system.
set -eu
cd "$(dirname "$0")"

MIN_RUST=1.89
say() { echo "install.sh: $*" >&2; }
die() { say "error: $*"; exit 1; }

# HOME can be unset (env -i, some sudo and cron setups): rustup, cargo and the ~/.local
# prefix need it.
if [ -z "${HOME:-}" ]; then
  HOME=$(getent passwd "$(id -u)" 2>/dev/null | cut -d: -f6)
  [ -n "$HOME" ] || die "HOME is not set and user $(id -u) has no home directory in the passwd database"
  export HOME
fi

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
  # One line per file would be a hundred man pages: name the binary, count the rest.
  n=0
  for f in $(installed_files); do
    [ -e "$prefix/$f" ] || continue
    rm -f "$prefix/$f"
    if [ "$f" = bin/barge ]; then say "removed $prefix/$f"; else n=$((n + 1)); fi
  done
  [ "$n" = 0 ] || say "removed $n man pages and completion scripts under $prefix/share"
  say "barge is uninstalled from $prefix (the store, /var/lib/barge or ~/.local/share/barge, is kept)"
  exit 0
elif [ -n "${1:-}" ]; then
  die "unknown option $1 (usage: [PREFIX=DIR] [BARGE_BIN=FILE] ./install.sh [--uninstall])"
fi

# --- build prerequisites (as root, with the distribution's package manager) -------------
# Installs the packages of $2 that $1 (a package query command) does not find; $3 names them
# in messages. Returns non-zero when the package manager failed.
pkg_install() {
  query=$1 want=$2 what=$3 missing=""
  for p in $want; do $query "$p" >/dev/null 2>&1 || missing="$missing $p"; done
  [ -z "$missing" ] && return 0
  say "installing $what:$missing"
  if command -v apt-get >/dev/null 2>&1; then
    # An image's package lists are often empty or stale: always refresh them once.
    if [ -z "${apt_updated:-}" ]; then
      apt-get update -qq >/dev/null || die "apt-get update failed (no network?)"
      apt_updated=1
    fi
    # shellcheck disable=SC2086 # one word per package
    DEBIAN_FRONTEND=noninteractive DEBCONF_NOWARNINGS=yes \
      apt-get install -y -qq --no-install-recommends $missing >/dev/null
  else
    # shellcheck disable=SC2086 # one word per package
    dnf install -y -q $missing >/dev/null
  fi
}

install_build_deps() {
  # Build: a C compiler and libc headers (zstd, sqlite, ring), pkg-config and the libseccomp
  # headers; curl and CA certificates fetch rustup. Run: nftables (NAT and published ports of
  # the default bridge), newuidmap/newgidmap and slirp4netns (rootless users); without those
  # barge still builds and runs, so a failure to install them is only a warning (Ubuntu keeps
  # slirp4netns in universe, which a system may not enable).
  if command -v apt-get >/dev/null 2>&1; then
    query="dpkg -s"
    build="gcc libc6-dev pkg-config libseccomp-dev curl ca-certificates"
    run="nftables uidmap slirp4netns"
  elif command -v dnf >/dev/null 2>&1; then
    query="rpm -q"
    build="gcc glibc-devel pkgconf-pkg-config libseccomp-devel curl ca-certificates"
    # Fedora keeps the static libraries apart; without them barge is linked dynamically.
    static="glibc-static libseccomp-static"
    run="nftables shadow-utils slirp4netns"
  else
    say "no apt-get or dnf: make sure gcc, pkg-config, the libseccomp headers and nftables are installed"
    return 0
  fi
  pkg_install "$query" "$build" "build dependencies" || die "could not install the build dependencies (no network?)"
  [ -z "${static:-}" ] || pkg_install "$query" "$static" "static libraries" \
    || say "warning: could not install $static: barge will be linked dynamically (about 0.6 ms slower to start)"
  pkg_install "$query" "$run" "runtime programs" \
    || say "warning: could not install some of $run (the report at the end names what is missing)"
}

# True when `cargo` is on PATH and at least MIN_RUST.
cargo_ok() {
  command -v cargo >/dev/null 2>&1 || return 1
  v=$(cargo --version 2>/dev/null | awk '{print $2}')
  major=${v%%.*}; rest=${v#*.}; minor=${rest%%.*}
  want_minor=${MIN_RUST#*.}
  [ "${major:-0}" -gt 1 ] || { [ "${major:-0}" -eq 1 ] && [ "${minor:-0}" -ge "$want_minor" ]; }
}

# Downloads URL to FILE with curl or wget, HTTPS only.
fetch() {
  if command -v curl >/dev/null 2>&1; then
    curl --proto '=https' --tlsv1.2 -sSfL "$1" -o "$2"
  elif command -v wget >/dev/null 2>&1; then
    wget -q --https-only -O "$2" "$1"
  else
    die "curl or wget is needed to fetch rustup: install one, or Rust $MIN_RUST+ by hand, then re-run"
  fi
}

# Installs Rust with rustup-init, fetched from where https://sh.rustup.rs's script fetches
# it (that host alone can be unreachable, e.g. behind a proxy that allows the Rust
# distribution server), and checked against its published SHA-256.
install_rustup() {
  case $(uname -m) in
    x86_64 | amd64) triple=x86_64-unknown-linux-gnu ;;
    aarch64 | arm64) triple=aarch64-unknown-linux-gnu ;;
    armv7l | armv8l) triple=armv7-unknown-linux-gnueabihf ;;
    i?86) triple=i686-unknown-linux-gnu ;;
    riscv64) triple=riscv64gc-unknown-linux-gnu ;;
    ppc64le) triple=powerpc64le-unknown-linux-gnu ;;
    s390x) triple=s390x-unknown-linux-gnu ;;
    *) die "no rustup for $(uname -m) known to install.sh: install Rust $MIN_RUST or newer by hand, then re-run" ;;
  esac
  url=https://static.rust-lang.org/rustup/dist/$triple/rustup-init
  say "no cargo $MIN_RUST or newer found: installing Rust with rustup ($url)"
  tmp=$(mktemp -d)
  if ! fetch "$url" "$tmp/rustup-init" || ! fetch "$url.sha256" "$tmp/sha256"; then
    rm -rf "$tmp"
    die "cannot reach https://static.rust-lang.org (no network?): install Rust $MIN_RUST or newer by hand (https://rustup.rs), then re-run"
  fi
  want=$(cut -d' ' -f1 "$tmp/sha256")
  got=$(sha256sum "$tmp/rustup-init" | cut -d' ' -f1)
  if [ -z "$want" ] || [ "$want" != "$got" ]; then
    rm -rf "$tmp"
    die "rustup-init from $url does not match its SHA-256 ($got, expected $want)"
  fi
  chmod +x "$tmp/rustup-init"
  "$tmp/rustup-init" -y --profile minimal >/dev/null || { rm -rf "$tmp"; die "rustup-init failed"; }
  rm -rf "$tmp"
}

ensure_rust() {
  cargo_env=${CARGO_HOME:-$HOME/.cargo}/env
  # shellcheck disable=SC1090 # rustup's file, if rustup installed Rust before
  [ -f "$cargo_env" ] && . "$cargo_env"
  cargo_ok && return 0
  if command -v rustup >/dev/null 2>&1; then
    say "cargo is older than $MIN_RUST: updating the stable toolchain with rustup"
    rustup update stable >/dev/null 2>&1 || die "rustup could not update Rust (no network?): install Rust $MIN_RUST or newer, then re-run"
  else
    install_rustup
    # shellcheck disable=SC1090 # written by rustup-init just now
    . "$cargo_env"
  fi
  cargo_ok || die "cargo $MIN_RUST or newer is still not on PATH"
}

if [ -n "${BARGE_BIN:-}" ]; then
  [ -x "$BARGE_BIN" ] || die "BARGE_BIN=$BARGE_BIN is not an executable"
  bin=$BARGE_BIN
else
  [ "$(id -u)" = 0 ] && install_build_deps
  ensure_rust
  # Static where libc.a and libseccomp.a are installed: a faster start (see the script).
  bin=$(scripts/build-release.sh)
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
