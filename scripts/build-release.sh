#!/bin/sh
# Builds barge for release, the way install.sh and the benchmarks do, and prints the path of
# the executable. Arguments go on to `cargo build`.
#
# Where the static C libraries are installed (Debian and Ubuntu: libc6-dev and
# libseccomp-dev; Fedora: glibc-static and libseccomp-static), barge is linked as a static
# PIE. Every container start begins with an exec of barge, and the dynamic loader spends
# about 0.6 ms of it mapping and relocating four libraries (measured against the same build
# linked dynamically). A static non-PIE executable would start 0.2-0.4 ms faster still (no
# 15,000 relocations, 65 fewer pages copied), but its code would sit at a fixed address:
# barge parses hostile archives and registry replies, partly in C (zstd), so it keeps ASLR.
# glibc's `files` and `dns` lookups work in a static program; other NSS modules are loaded
# from the system's glibc, the one barge was built against. BARGE_DYNAMIC=1, or a plain
# `cargo build --release`, gives the dynamic executable.
set -eu
cd "$(dirname "$0")/.."
cc=${CC:-cc}
host=$(rustc -vV | sed -n 's/^host: //p')
target_dir=${CARGO_TARGET_DIR:-target}
# `cc -print-file-name=X` prints X's full path when the compiler finds it, else X alone.
found() { case $("$cc" -print-file-name="$1" 2>/dev/null) in /*) return 0 ;; *) return 1 ;; esac; }
if [ -z "${BARGE_DYNAMIC:-}" ] && case $host in *-linux-gnu) true ;; *) false ;; esac &&
  found libc.a && found libseccomp.a; then
  # --target keeps these flags off the build scripts and proc macros, which cargo builds
  # for the host and which cannot be static.
  LIBSECCOMP_LINK_TYPE=static LIBSECCOMP_LIB_PATH=$(dirname "$("$cc" -print-file-name=libseccomp.a)") \
    RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static" \
    cargo build --release --locked --target "$host" "$@" >&2
  echo "$target_dir/$host/release/barge"
else
  [ -n "${BARGE_DYNAMIC:-}" ] ||
    echo "build-release.sh: libc.a or libseccomp.a not found: building a dynamic executable, about 0.6 ms slower to start" >&2
  cargo build --release --locked "$@" >&2
  echo "$target_dir/release/barge"
fi
