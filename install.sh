#!/bin/sh
# Build barge from the lock file and install it with its shell completions and man pages.
#   ./install.sh                 as root: into /usr/local; otherwise into ~/.local
#   PREFIX=/opt/barge ./install.sh
# Needs a Rust toolchain (rustup; Rust 1.89 or newer) and a C compiler. As root on
# Debian/Ubuntu the C build dependencies are installed with apt-get when missing.
set -eu
cd "$(dirname "$0")"
if [ "$(id -u)" = 0 ]; then prefix=${PREFIX:-/usr/local}; else prefix=${PREFIX:-$HOME/.local}; fi

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  missing=""
  for p in gcc libc6-dev pkg-config libseccomp-dev; do
    dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
  done
  if [ -n "$missing" ]; then
    echo "install.sh: installing build dependencies:$missing" >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
  fi
fi
command -v cargo >/dev/null || {
  echo "install.sh: cargo not found: install Rust with rustup (https://rustup.rs), then re-run" >&2; exit 1; }

cargo build --release --locked
bin=target/release/barge
gen=$(mktemp -d); trap 'rm -rf "$gen"' EXIT
"$bin" __generate --completions "$gen/completions" --man "$gen/man"

install -d "$prefix/bin" "$prefix/share/man/man1" "$prefix/share/bash-completion/completions" \
  "$prefix/share/zsh/site-functions" "$prefix/share/fish/vendor_completions.d"
install -m 755 "$bin" "$prefix/bin/barge"
install -m 644 "$gen"/man/man1/*.1 "$prefix/share/man/man1/"
install -m 644 "$gen/completions/barge.bash" "$prefix/share/bash-completion/completions/barge"
install -m 644 "$gen/completions/_barge" "$prefix/share/zsh/site-functions/_barge"
install -m 644 "$gen/completions/barge.fish" "$prefix/share/fish/vendor_completions.d/barge.fish"
echo "installed $prefix/bin/barge" >&2
case ":$PATH:" in *":$prefix/bin:"*) ;; *) echo "note: add $prefix/bin to your PATH" >&2 ;; esac
