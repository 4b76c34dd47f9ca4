#!/bin/sh
# Runs barge inside a small KVM guest booted with a pure cgroup v2 hierarchy and checks the v2
# code paths (limits, OOM, freezer, stats, device eBPF, exec) that a v1 or hybrid host never
# takes. Prints the guest's PASS/FAIL lines; exits 0 when every check passed, 1 when one
# failed or the guest did not finish, 77 when this machine cannot run the guest.
#
# Usage: scripts/vm-cgroup2.sh
# Needs: /dev/kvm, qemu-system-x86_64 (apt: qemu-system-x86), a kernel with its modules
# (apt: linux-image-amd64), busybox-static. The initramfs is built in target/vm/.
# Environment: BARGE_BIN (default: `cargo build`, then target/debug/barge),
# BARGE_VM_KERNEL (default: the newest /boot/vmlinuz-*), BARGE_VM_QEMU, BARGE_VM_TIMEOUT
# (seconds, default 600), BARGE_VM_ACCEL (kvm, the default, or tcg: emulation, no /dev/kvm
# needed; KVM falls back to it when the guest does not boot).
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
out=$here/target/vm
qemu=${BARGE_VM_QEMU:-qemu-system-x86_64}

skip() { echo "vm-cgroup2: skipped: $*" >&2; exit 77; }
if [ "${BARGE_VM_ACCEL:-kvm}" = kvm ]; then
  [ -c /dev/kvm ] && [ -w /dev/kvm ] || skip "no usable /dev/kvm (BARGE_VM_ACCEL=tcg emulates)"
fi
command -v "$qemu" >/dev/null || skip "no $qemu (apt-get install qemu-system-x86)"
kernel=${BARGE_VM_KERNEL:-$(ls -1 /boot/vmlinuz-* 2>/dev/null | sort -V | tail -n 1)}
[ -n "$kernel" ] && [ -r "$kernel" ] || skip "no kernel in /boot (apt-get install linux-image-amd64)"
kver=${kernel##*/vmlinuz-}
if [ -z "$(find "/lib/modules/$kver" -name 'overlay.ko*' 2>/dev/null)" ] && ! grep -q '^CONFIG_OVERLAY_FS=y' "/boot/config-$kver" 2>/dev/null; then
  skip "no overlay module for kernel $kver in /lib/modules/$kver"
fi
bb=$(command -v busybox) || skip "no busybox (apt-get install busybox-static)"
case $(LC_ALL=C ldd "$bb" 2>&1) in
  *"not a dynamic"* | *"statically linked"*) ;;
  *) skip "$bb is not static (apt-get install busybox-static)" ;;
esac

if [ -z "${BARGE_BIN:-}" ]; then
  (cd "$here" && cargo build --quiet)
  BARGE_BIN=$here/target/debug/barge
fi

# The guest's root: busybox, barge and the libraries it links, the overlay module, the
# busybox test image, the init scripts. Rebuilt from scratch on every run.
root=$out/root
rm -rf "$root"
mkdir -p "$root/bin" "$root/lib/modules" "$out"
cp "$bb" "$root/bin/busybox"
# busybox's unshare has no -C (cgroup namespace); util-linux's links only libc. setpriv
# runs the rootless checks as another user.
cp "$(command -v unshare)" "$root/bin/unshare-util"
cp "$(command -v setpriv)" "$root/bin/setpriv-util"
# The debug build is ~100 MB of debug info; the guest holds its initramfs in RAM.
if command -v strip >/dev/null; then
  strip -o "$root/bin/barge" "$BARGE_BIN"
else
  cp "$BARGE_BIN" "$root/bin/barge"
fi
ldd "$BARGE_BIN" "$root/bin/unshare-util" "$root/bin/setpriv-util" | awk '/=> \//{print $3} /^\t\//{print $1}' | while read -r lib; do
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
done
# ld.so is looked up under /lib64 and /lib/x86_64-linux-gnu alike on Debian (usrmerge).
[ -e /usr/lib64 ] && [ -d "$root/lib64" ] && mkdir -p "$root/usr" && ln -s ../lib64 "$root/usr/lib64"
# Modules, decompressed (busybox insmod reads plain .ko): overlay for the rootfs; zram and
# zsmalloc for a swap device, as desktops have (Fedora's zram), so that memory limits are
# checked with swap present.
module() {
  f=$(find "/lib/modules/$kver" -name "$1.ko*" 2>/dev/null | head -n 1)
  [ -n "$f" ] || return 0
  case $f in
    *.zst) zstd -dcq "$f" ;;
    *.xz) xz -dc "$f" ;;
    *.gz) gzip -dc "$f" ;;
    *) cat "$f" ;;
  esac >"$root/lib/modules/$1.ko"
}
for m in overlay zsmalloc zram; do module "$m"; done
"$here/scripts/busybox-image.sh" "$root/busybox.tar" >/dev/null 2>&1
cp "$here/scripts/vm-cgroup2-checks.sh" "$root/checks.sh"

# Stage 1 runs on the initramfs (rootfs), where pivot_root(2) is refused (EINVAL): copy
# everything onto a tmpfs and switch_root there, as an initramfs hands over to a real root.
cat >"$root/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox mkdir -p /dev /new
/bin/busybox mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
/bin/busybox mount -t tmpfs -o mode=755 tmpfs /new
for f in /*; do
  [ "$f" = /new ] || [ "$f" = /dev ] || /bin/busybox cp -a "$f" /new/
done
exec /bin/busybox switch_root /new /bin/busybox sh /stage2
EOF
cat >"$root/stage2" <<'EOF'
/bin/busybox --install -s /bin
export PATH=/bin HOME=/root
mkdir -p /proc /sys /dev /tmp /run /root
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts -o newinstance,ptmxmode=0666 devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
mount -t cgroup2 cgroup2 /sys/fs/cgroup
# What systemd does on a v2 host: the root group hands its controllers down.
for c in cpu memory pids io; do
  grep -qw "$c" /sys/fs/cgroup/cgroup.controllers && echo "+$c" >/sys/fs/cgroup/cgroup.subtree_control
done
ip link set lo up 2>/dev/null
for m in overlay zsmalloc zram; do
  [ -e /lib/modules/$m.ko ] && insmod /lib/modules/$m.ko
done
if [ -e /sys/block/zram0/disksize ]; then
  echo 256M >/sys/block/zram0/disksize && mkswap /dev/zram0 >/dev/null && swapon /dev/zram0
fi
# Where systemd puts things: init in init.scope, a login shell in a session scope below
# slices that hand the controllers down. barge runs from there, not from the root group.
cg=/sys/fs/cgroup
mkdir -p $cg/init.scope $cg/user.slice/user-0.slice/session-1.scope
echo $$ >$cg/init.scope/cgroup.procs
echo "+memory +pids" >$cg/user.slice/cgroup.subtree_control
echo "+memory +pids" >$cg/user.slice/user-0.slice/cgroup.subtree_control
echo "vm-cgroup2: kernel $(uname -r), $(nproc) cpus, swap $(awk '/SwapTotal/{print $2}' /proc/meminfo) kB, controllers: $(cat $cg/cgroup.subtree_control)"
sh -c "echo \$\$ >$cg/user.slice/user-0.slice/session-1.scope/cgroup.procs && exec sh /checks.sh"
echo "vm-cgroup2: checks finished"
sync
poweroff -f
EOF
chmod 755 "$root/init"

(cd "$root" && find . | "$bb" cpio -o -H newc 2>/dev/null) >"$out/initramfs.cpio"

log=$out/console.log
raw=$out/console.raw
limit=${BARGE_VM_TIMEOUT:-600}
# boot ACCEL: runs the guest; returns 3 when KVM did not get the guest to its init in time.
boot() {
  rm -f "$raw"
  : >"$raw"
  "$qemu" -accel "$1" -smp 2 -m 1024 -nographic -no-reboot -net none \
    -kernel "$kernel" -initrd "$out/initramfs.cpio" \
    -append "console=ttyS0 quiet panic=-1 cgroup_no_v1=all" </dev/null >"$raw" 2>&1 &
  qpid=$!
  tail -n +1 -f --pid=$qpid "$raw" | tr -d '\r' | grep -v '^qemu-system.*warning' &
  tpid=$!
  t=0
  while kill -0 $qpid 2>/dev/null; do
    if [ "$1" = kvm ] && [ $t -ge 60 ] && ! grep -q '^vm-cgroup2: kernel' "$raw"; then
      kill $qpid; wait $qpid 2>/dev/null; wait $tpid 2>/dev/null
      return 3
    fi
    if [ $t -ge "$limit" ]; then
      echo "vm-cgroup2: timed out after $limit s" >&2
      kill $qpid
      break
    fi
    sleep 1
    t=$((t + 1))
  done
  wait $qpid 2>/dev/null
  wait $tpid 2>/dev/null
  return 0
}
accel=${BARGE_VM_ACCEL:-kvm}
echo "vm-cgroup2: booting $kernel ($(du -m "$out/initramfs.cpio" | cut -f1) MB initramfs, $accel)" >&2
if ! boot "$accel"; then
  # Seen under nested virtualization: /dev/kvm opens, but the guest never gets past the
  # kernel's decompressor. Emulation is slower (about a minute here) but works anywhere.
  echo "vm-cgroup2: no guest init within 60 s under KVM; retrying with TCG emulation" >&2
  boot tcg
fi
tr -d '\r' <"$raw" >"$log"
fails=$(grep -c '^FAIL' "$log" || true)
passes=$(grep -c '^PASS' "$log" || true)
if ! grep -q '^vm-cgroup2: checks finished' "$log"; then
  echo "vm-cgroup2: the guest did not finish (timeout or crash); see $log" >&2
  exit 1
fi
echo "vm-cgroup2: $passes passed, $fails failed (console: $log)" >&2
[ "$fails" -eq 0 ] && [ "$passes" -gt 0 ]
