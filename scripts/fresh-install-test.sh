#!/bin/sh
# Runs ./install.sh for real on a fresh Debian or Ubuntu system: a minbase debootstrap with
# nothing else in it (no gcc, no cargo, no git, no curl), as root, with the network, then the
# README's offline quick start, a second ./install.sh (idempotent) and ./install.sh
# --uninstall. Prints one PASS/FAIL line per step with its duration; exits 0 when every step
# passed, 1 when one failed, 77 when this distribution cannot be tested here.
#
# Usage: scripts/fresh-install-test.sh [--rebuild] DISTRO
#   DISTRO    ubuntu-CODENAME or debian-CODENAME (checked: ubuntu-noble, debian-bookworm)
#   --rebuild debootstrap the base system again instead of using the cached one
#
# Needs root, debootstrap, and the distribution's archive, crates.io and static.rust-lang.org
# on the network; about 5 minutes on a lightly loaded 2-core machine (the release build
# dominates; much longer when the cores are busy) and 2 GB under /var/tmp.
# Not part of .ci/run for those reasons.
#
# Layout: /var/tmp/fresh-DISTRO/base is the cached debootstrap (kept between runs),
# /var/tmp/fresh-DISTRO/root this run's copy of it (kept after the run for inspection,
# replaced by the next run), /var/tmp/fresh-DISTRO/logs the logs of each step.
#
# Why a chroot and not a barge container: the system under test must start from a plain
# debootstrap and reach the network as a fresh machine does, and the barge inside must be
# free to mount overlays and make namespaces, cgroups and its bridge. A chroot in a private
# mount and PID namespace (unshare) does all of that with nothing between it and the host
# kernel, and its mounts and processes go away with the namespace however the run ends. The
# quick start runs in its own network namespace too: its `barge run` makes a barge0 bridge
# and an nft table, which must not meet the host's barge.
set -eu

say() { echo "fresh-install-test: $*" >&2; }
die() { say "error: $*"; exit 1; }
usage() { sed -n '2,/^set -eu/{/^#/s/^# \{0,1\}//p}' "$0" | sed -n '/^Usage/,/^  --rebuild/p' >&2; exit "${1:-2}"; }

rebuild=0
distro=""
while [ $# -gt 0 ]; do
  case $1 in
    --rebuild) rebuild=1 ;;
    -h | --help) usage 0 ;;
    -*) say "unknown option $1"; usage ;;
    *) [ -z "$distro" ] || usage; distro=$1 ;;
  esac
  shift
done
[ -n "$distro" ] || usage

arch=$(dpkg --print-architecture 2>/dev/null || uname -m)
case $distro in
  ubuntu-?*)
    suite=${distro#ubuntu-}
    if [ "$arch" = amd64 ] || [ "$arch" = i386 ]; then
      mirror=http://archive.ubuntu.com/ubuntu security=http://security.ubuntu.com/ubuntu
    else
      mirror=http://ports.ubuntu.com/ubuntu-ports security=$mirror
    fi
    # What a fresh Ubuntu install enables (debootstrap alone enables main only, and
    # slirp4netns is in universe).
    components="main restricted universe multiverse"
    ;;
  debian-?*)
    suite=${distro#debian-}
    mirror=http://deb.debian.org/debian security=http://deb.debian.org/debian-security
    components=main # a fresh Debian install's default
    ;;
  fedora*)
    say "skipped: $distro needs dnf --installroot and a Fedora mirror; only Debian and Ubuntu are scripted"
    exit 77
    ;;
  *) die "unknown DISTRO $distro (ubuntu-CODENAME or debian-CODENAME, e.g. ubuntu-noble, debian-bookworm)" ;;
esac

[ "$(id -u)" = 0 ] || die "must run as root (debootstrap, chroot, namespaces)"
here=$(cd "$(dirname "$0")/.." && pwd)
dir=/var/tmp/fresh-$distro
base=$dir/base
root=$dir/root
logs=$dir/logs

if ! command -v debootstrap >/dev/null 2>&1; then
  say "installing debootstrap"
  apt-get update -qq >/dev/null || die "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null || die "cannot install debootstrap"
fi

# Path of a keyring that verifies the Ubuntu archive, or nothing. Debian's ubuntu-keyring
# package has it (Debian 13+, Ubuntu); on older Debian it is fetched from Debian's next
# release with apt (signed by Debian's archive key, which this host trusts) into $dir.
ubuntu_keyring() {
  k=/usr/share/keyrings/ubuntu-archive-keyring.gpg
  [ -s "$k" ] || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ubuntu-keyring >/dev/null 2>&1 || true
  [ -s "$k" ] && { echo "$k"; return 0; }
  k=$dir/keyring/usr/share/keyrings/ubuntu-archive-keyring.gpg
  [ -s "$k" ] && { echo "$k"; return 0; }
  a=$dir/keyring-apt
  rm -rf "$a"
  mkdir -p "$a/lists/partial" "$a/cache/archives/partial" "$a/deb"
  echo 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main' >"$a/sources.list"
  set -- -o Dir::Etc::SourceList="$a/sources.list" -o Dir::Etc::SourceParts=/nonexistent \
    -o Dir::State::Lists="$a/lists" -o Dir::Cache="$a/cache" -o APT::Sandbox::User=root
  if apt-get "$@" update -qq >/dev/null 2>&1 && (cd "$a/deb" && apt-get "$@" download -qq ubuntu-keyring >/dev/null 2>&1); then
    dpkg-deb -x "$a"/deb/ubuntu-keyring_*.deb "$dir/keyring"
  fi
  rm -rf "$a"
  [ -s "$k" ] && echo "$k"
  return 0
}

# --- the cached base system --------------------------------------------------------------
if [ "$rebuild" = 1 ] || [ ! -e "$base/.fresh-complete" ]; then
  rm -rf "$base"
  mkdir -p "$dir"
  set -- --variant=minbase
  script=""
  case $distro in
    ubuntu-*)
      keyring=$(ubuntu_keyring)
      if [ -n "$keyring" ]; then
        set -- "$@" --keyring="$keyring"
      else
        say "warning: no Ubuntu archive keyring (package ubuntu-keyring): debootstrap with --no-check-gpg"
        set -- "$@" --no-check-gpg
      fi
      # An older debootstrap has no script for a newer Ubuntu; all of them since gutsy are one.
      [ -e "/usr/share/debootstrap/scripts/$suite" ] || script=/usr/share/debootstrap/scripts/gutsy
      ;;
    debian-*)
      [ -e "/usr/share/debootstrap/scripts/$suite" ] || script=/usr/share/debootstrap/scripts/sid
      ;;
  esac
  say "debootstrap $* $suite $base $mirror $script"
  t=$(date +%s)
  # shellcheck disable=SC2086 # $script is empty or one path
  debootstrap "$@" "$suite" "$base" "$mirror" $script >"$dir/debootstrap.log" 2>&1 \
    || { tail -n 20 "$dir/debootstrap.log" >&2; die "debootstrap failed (log: $dir/debootstrap.log)"; }
  # The sources a fresh install of this distribution has.
  case $distro in
    ubuntu-*)
      printf 'deb %s %s %s\ndeb %s %s-updates %s\ndeb %s %s-security %s\n' \
        "$mirror" "$suite" "$components" "$mirror" "$suite" "$components" \
        "$security" "$suite" "$components" >"$base/etc/apt/sources.list"
      ;;
    debian-*)
      printf 'deb %s %s %s\ndeb %s %s-updates %s\ndeb %s %s-security %s\n' \
        "$mirror" "$suite" "$components" "$mirror" "$suite" "$components" \
        "$security" "$suite" "$components" >"$base/etc/apt/sources.list"
      ;;
  esac
  apt-get clean -o RootDir="$base" 2>/dev/null || rm -f "$base"/var/cache/apt/archives/*.deb
  touch "$base/.fresh-complete"
  say "base system ready in $(($(date +%s) - t)) s"
fi

# --- this run's copy, with a clean clone of HEAD ----------------------------------------
if [ -n "$(git -C "$here" status --porcelain --untracked-files=no)" ]; then
  say "warning: $here has uncommitted changes: the test uses HEAD ($(git -C "$here" rev-parse --short HEAD)) only"
fi
rm -rf "$root" "$logs"
mkdir -p "$logs"
cp -a "$base" "$root"
rm -f "$root/.fresh-complete"
git clone -q --no-checkout "$here" "$root/root/barge"
git -C "$root/root/barge" fetch -q "$here" HEAD
git -C "$root/root/barge" checkout -q --detach FETCH_HEAD
# What any machine on this network has: the resolver configuration (a copy: /etc/resolv.conf
# is often a symlink into /run), and the local CA certificates the admin added the Debian way
# (e.g. a TLS-intercepting proxy's), which the ca-certificates package that install.sh
# installs adds to the system's bundle.
rm -f "$root/etc/resolv.conf"
cp -L /etc/resolv.conf "$root/etc/resolv.conf"
if [ -d /usr/local/share/ca-certificates ]; then
  mkdir -p "$root/usr/local/share/ca-certificates"
  cp -a /usr/local/share/ca-certificates/. "$root/usr/local/share/ca-certificates/"
fi

# The steps, run by the chroot's own /bin/sh (dash) with a login's environment.
cat >"$root/fresh-steps.sh" <<'EOF'
#!/bin/sh
cd /root/barge || exit 1
logs=/fresh-logs
step() { # NAME COMMAND...: runs COMMAND, its output to the terminal and to $logs/NAME.log
  name=$1; shift
  echo "==> $name: $*" >&2
  t=$(date +%s)
  { "$@"; echo $? >"$logs/$name.rc"; } 2>&1 | tee "$logs/$name.log" >&2
  rc=$(cat "$logs/$name.rc")
  echo "$name $rc $(($(date +%s) - t))" >>"$logs/results"
  return "$rc"
}
check() { # NAME SHELL-TEST...: a step with no output of its own
  name=$1; shift
  if sh -c "$*" >"$logs/$name.log" 2>&1; then echo "$name 0 0" >>"$logs/results"; else
    echo "$name 1 0" >>"$logs/results"; echo "==> $name failed: $*" >&2; cat "$logs/$name.log" >&2; fi
}
case $1 in
  online)
    check nothing-preinstalled '! command -v cargo && ! command -v rustc && ! command -v gcc && ! command -v cc && ! command -v git && ! command -v curl && [ ! -e /usr/local/bin/barge ]'
    step install ./install.sh || exit 1
    check barge-on-path 'command -v barge && barge version'
    # The README's offline quick start starts here; busybox-image.sh installs busybox-static
    # with apt, which needs the network.
    step busybox-image scripts/busybox-image.sh /tmp/busybox.tar || exit 1
    # Again, and without HOME (as under some sudo/cron setups): no package install, no
    # rustup, a no-op cargo build.
    step reinstall env -u HOME ./install.sh || exit 1
    check reinstall-no-rebuild '! grep -E "Compiling|installing build dependencies|installing Rust" '"$logs"/reinstall.log
    ;;
  offline)
    step load barge load -i /tmp/busybox.tar || exit 1
    step run sh -c 'out=$(barge run --rm busybox echo hi) && echo "$out" && [ "$out" = hi ]' || exit 1
    step uninstall ./install.sh --uninstall || exit 1
    check uninstalled '[ ! -e /usr/local/bin/barge ] && ! ls /usr/local/share/man/man1/barge* /usr/local/share/man/man5/barge* /usr/local/share/bash-completion/completions/barge /usr/local/share/zsh/site-functions/_barge /usr/local/share/fish/vendor_completions.d/barge.fish 2>/dev/null'
    ;;
esac
EOF
mkdir -p "$root/fresh-logs"

# Runs the steps of PHASE inside the chroot, in private mount and PID namespaces (and a
# network namespace of its own with --net): every mount and process made there ends with it.
in_chroot() { # [--net] PHASE
  net=""
  [ "$1" = --net ] && { net=--net; shift; }
  # --kill-child: the namespace's processes, and so its mounts, end with this script too.
  # shellcheck disable=SC2086,SC2016 # $net is empty or one flag; the inner script's own $1
  unshare --mount --pid --fork --kill-child --propagation private $net /bin/sh -eu -c '
    root=$1; phase=$2
    # A real system'"'"'s / is a mount point; barge'"'"'s runtime makes it private (EINVAL on a
    # plain directory).
    mount --bind "$root" "$root"
    mount -t proc proc "$root/proc"
    mount --rbind /sys "$root/sys"; mount --make-rslave "$root/sys"
    mount --rbind /dev "$root/dev"; mount --make-rslave "$root/dev"
    mount -t tmpfs -o mode=755 tmpfs "$root/run"
    exec nice -n 10 chroot "$root" /usr/bin/env -i HOME=/root USER=root LOGNAME=root TERM=dumb \
      PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin /bin/sh /fresh-steps.sh "$phase"
  ' in_chroot "$root" "$1" &
  upid=$!
  wait "$upid"
}
# A signal to this script ends the namespace (and its mounts): unshare ignores INT and TERM
# while it waits, but --kill-child passes its death on to the namespace's init.
upid=""
trap '[ -z "$upid" ] || kill -KILL "$upid" 2>/dev/null; exit 130' INT TERM HUP

t0=$(date +%s)
status=0
in_chroot online || status=1
[ "$status" = 0 ] && { in_chroot --net offline || status=1; }
cp -a "$root"/fresh-logs/. "$logs"/

say "results ($distro, $(date -u +%Y-%m-%dT%H:%MZ), HEAD $(git -C "$here" rev-parse --short HEAD)):"
while read -r name rc secs; do
  if [ "$rc" = 0 ]; then r=PASS; else r=FAIL; status=1; fi
  printf '  %s  %-22s %4d s\n' "$r" "$name" "$secs" >&2
done <"$logs/results"
for s in nothing-preinstalled install barge-on-path busybox-image reinstall reinstall-no-rebuild load run uninstall uninstalled; do
  grep -q "^$s " "$logs/results" || { printf '  FAIL  %-22s  (not reached)\n' "$s" >&2; status=1; }
done
build=$(sed -n 's/.*Finished .release. profile.* in \(.*\)$/\1/p' "$logs/install.log" 2>/dev/null | tail -n 1)
say "total $(($(date +%s) - t0)) s${build:+ (cargo build --release: $build)}; logs in $logs"
exit "$status"
