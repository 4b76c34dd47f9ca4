#!/bin/sh
# `barge images` with 100 images in the store (goal: under 20 ms).
. "$(dirname "$0")/common.sh"
store=$work/images-store
if [ ! -f "$store/.ready" ]; then
  rm -rf "$store"
  tmp=$(mktemp -d)
  for i in $(seq 100); do
    mkdir -p "$tmp/r$i"; echo "$i" >"$tmp/r$i/file"
    tar -C "$tmp/r$i" -cf "$tmp/r$i.tar" .
    "$barge" --root "$store" import -q "$tmp/r$i.tar" "bench/img$i:latest" >/dev/null
  done
  rm -rf "$tmp"; touch "$store/.ready"
fi
if command -v hyperfine >/dev/null; then
  hyperfine -N --warmup 5 --runs 50 "$barge --root $store images"
else
  for i in $(seq 20); do elapsed "$barge" --root "$store" images; done | median
fi
