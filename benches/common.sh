# Shared by the benchmark scripts: where things go and how to time them.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
work=${BENCH_DIR:-/var/tmp/barge-bench}
mkdir -p "$work"
# The executable install.sh installs (static where it can be): built, or rebuilt when stale.
barge=${BARGE:-$repo/$("$repo/scripts/build-release.sh")}
runs=${RUNS:-5}

# median of numbers on stdin
median() { sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else printf "%.4f\n", (a[NR/2]+a[NR/2+1])/2}'; }

# seconds, with sub-ms precision, that a command takes
elapsed() { s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N); echo "$e - $s" | bc -l; }

cold() { sync; echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true; }
