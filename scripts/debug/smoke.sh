#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# smoke.sh - self-check of the debug kernel from build-kernel.sh.
#
# Builds a trivial module against KDIR (in a temporary directory outside the
# repo), packs it with a static busybox into an initramfs, boots KIMAGE in
# qemu (TCG), and inside the VM: insmod, rmmod, checks dmesg and a few
# debug facilities, writes a verdict on ttyS1 and leaves with "reboot -f".
# Passes when the verdict is PASS and the console shows no kernel splat.
#
# Environment:
#   MODEGATE_CACHE    as for build-kernel.sh
#   MODEGATE_TIMEOUT  seconds before the VM is killed (default 600)
#   MODEGATE_MACHINE  qemu machine type (default q35)
#   MODEGATE_KEEP     1: keep the temporary directory for inspection

set -eu -o pipefail

here=$(cd "$(dirname "$0")" && pwd)
timeout_s=${MODEGATE_TIMEOUT:-600}
machine=${MODEGATE_MACHINE:-q35}
smp=2

die() {
	echo "smoke: FAIL: $*" >&2
	exit 1
}

ensure_packages() {
	local pkg missing=""

	for pkg in "$@"; do
		dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null |
			grep -q 'install ok installed' || missing="$missing $pkg"
	done
	[ -z "$missing" ] && return 0
	[ "$(id -u)" = 0 ] || die "missing packages:$missing (run as root or install them)"
	echo "smoke: installing$missing"
	# shellcheck disable=SC2086 # word splitting of the package list is wanted
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing
}

ensure_packages qemu-system-x86 busybox-static cpio gzip

# Cheap when the cached build is up to date.
"$here/build-kernel.sh"
cache=${MODEGATE_CACHE:-$HOME/.cache/modegate}/debug-6.1
# shellcheck source=/dev/null
. "$cache/env"
[ -f "$KIMAGE" ] || die "no kernel image at $KIMAGE"

work=$(mktemp -d "${TMPDIR:-/tmp}/modegate-smoke.XXXXXX")
if [ "${MODEGATE_KEEP:-0}" = 1 ]; then
	echo "smoke: keeping $work"
else
	trap 'rm -rf "$work"' EXIT
fi

# --- 1. the tree works as KDIR -------------------------------------------
mkdir -p "$work/hello"
cat >"$work/hello/hello.c" <<'EOF'
// SPDX-License-Identifier: GPL-2.0
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt
#include <linux/module.h>
#include <linux/slab.h>

static void *hello_buf;

static int __init hello_init(void)
{
	hello_buf = kzalloc(64, GFP_KERNEL);
	if (!hello_buf)
		return -ENOMEM;
	pr_info("loaded\n");
	return 0;
}

static void __exit hello_exit(void)
{
	kfree(hello_buf);
	pr_info("unloaded\n");
}

module_init(hello_init);
module_exit(hello_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("modegate debug kernel smoke test");
EOF
echo 'obj-m := smoke_hello.o
smoke_hello-y := hello.o' >"$work/hello/Kbuild"
make -C "$KDIR" M="$work/hello" modules >"$work/module-build.log" 2>&1 ||
	{ cat "$work/module-build.log" >&2; die "external module build against $KDIR failed"; }
if grep -E 'WARNING|warning:' "$work/module-build.log"; then
	die "external module build warned (see above)"
fi
echo "smoke: built smoke_hello.ko against KDIR=$KDIR"

# --- 2. initramfs --------------------------------------------------------
root=$work/root
mkdir -p "$root/bin" "$root/dev" "$root/proc" "$root/sys" "$root/tmp"
cp /bin/busybox "$root/bin/busybox"
cp "$work/hello/smoke_hello.ko" "$root/"
echo "$smp" >"$root/expect-cpus"
cat >"$root/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t debugfs debugfs /sys/kernel/debug
mount -t tracefs tracefs /sys/kernel/tracing
echo "SMOKE: init reached, kernel $(uname -r), $(nproc) cpus"
verdict=PASS
fail() { echo "SMOKE: FAIL: $*"; verdict=FAIL; }
[ "$(nproc)" = "$(cat /expect-cpus)" ] || fail "expected $(cat /expect-cpus) cpus"
insmod /smoke_hello.ko || fail insmod
grep -q '^smoke_hello ' /proc/modules || fail "not in /proc/modules"
rmmod smoke_hello || fail rmmod
dmesg | grep -q 'smoke_hello: loaded' || fail "no load message"
dmesg | grep -q 'smoke_hello: unloaded' || fail "no unload message"
for f in /sys/kernel/debug/kmemleak /sys/kernel/debug/failslab \
	 /sys/kernel/debug/fail_usercopy /sys/kernel/tracing/events \
	 /sys/kernel/mm/transparent_hugepage/enabled; do
	[ -e "$f" ] || fail "missing $f"
done
echo "SMOKE: verdict $verdict"
echo "$verdict" >/dev/ttyS1
reboot -f
EOF
chmod +x "$root/init"
(cd "$root" && find . -print0 | cpio --null -o -H newc --quiet | gzip -9) >"$work/initramfs.cpio.gz"

# --- 3. boot -------------------------------------------------------------
echo "smoke: booting $KIMAGE (qemu TCG, timeout ${timeout_s}s)"
start=$(date +%s)
rc=0
timeout "$timeout_s" qemu-system-x86_64 -nodefaults -no-reboot \
	-machine "$machine" -cpu max -smp "$smp" -m 1G -display none \
	-kernel "$KIMAGE" -initrd "$work/initramfs.cpio.gz" \
	-append 'console=ttyS0 panic=-1 oops=panic panic_on_warn=1' \
	-serial "file:$work/console.log" -serial "file:$work/verdict.log" || rc=$?
secs=$(($(date +%s) - start))
console=$work/console.log

[ "$rc" != 124 ] || { tail -n 30 "$console" >&2; die "VM timed out after ${timeout_s}s"; }
[ "$rc" = 0 ] || { tail -n 30 "$console" >&2; die "qemu exited with $rc"; }
if grep -nE 'BUG:|WARNING:|Oops|Kernel panic|suspected memory leak|possible .*lock|Call Trace' "$console"; then
	die "kernel splat on the console (above)"
fi
grep -q 'SMOKE: init reached' "$console" || { tail -n 30 "$console" >&2; die "init not reached"; }
if grep -q 'SMOKE: FAIL' "$console"; then
	grep 'SMOKE:' "$console" >&2
	die "in-VM checks failed"
fi
[ "$(tr -d '\r' <"$work/verdict.log")" = PASS ] || die "no PASS verdict on ttyS1"

init_ts=$(sed -n 's/^\[ *\([0-9.]*\)\] Run \/init as init process.*/\1/p' "$console")
echo "smoke: PASS: boot + insmod/rmmod + reboot -f in ${secs}s wall (kernel reached /init at ${init_ts:-?}s)"
