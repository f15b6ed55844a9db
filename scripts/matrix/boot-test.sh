#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# boot-test.sh NAME [MODULE.ko...] - boot a kernel fetched by fetch-kernel.sh
# in qemu (TCG) with a busybox-static initramfs, insmod + rmmod a hello-world
# module built against that kernel's headers, then any extra MODULE.ko given
# (built by the caller against the same KDIR), and reboot -f.
#
# Prints one summary line:
#   NAME <uname -r> | build=ok boot=ok insmod=ok rmmod=ok | <uname -v>
# and exits 0 only if everything passed. The console log is kept in
# ${MODEGATE_CACHE:-$HOME/.cache/modegate}/kernels/NAME/boot.log; the
# MODEGATE_* variables of fetch-kernel.sh apply.
#
# Environment:
#   MODEGATE_BOOT_TIMEOUT  seconds before qemu is killed (default 300)
#   MODEGATE_APPEND        extra kernel command line words

set -eu
set -o pipefail

PROG=${0##*/}
HERE=$(cd "$(dirname "$0")" && pwd)
log() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() { log "error: $*"; exit 1; }

[ $# -ge 1 ] || die "usage: $PROG NAME [MODULE.ko...]"
NAME=$1
shift

for t in qemu-system-x86_64 cpio gzip make timeout; do
	command -v "$t" >/dev/null || die "$t not found"
done
BUSYBOX=${MODEGATE_BUSYBOX:-$(command -v busybox || true)}
[ -n "$BUSYBOX" ] || die "busybox not found (apt-get install busybox-static)"
if ldd "$BUSYBOX" >/dev/null 2>&1; then
	die "$BUSYBOX is dynamically linked (apt-get install busybox-static)"
fi

KIMAGE="" KDIR="" KVER="" KMAKEFLAGS="" KCACHE=""
envtext=$("$HERE/fetch-kernel.sh" "$NAME")
eval "$envtext"
[ -f "$KIMAGE" ] || die "no kernel image for $NAME"

BOOTLOG=${KCACHE:-${MODEGATE_CACHE:-$HOME/.cache/modegate}/kernels/$NAME}/boot.log
work=$(mktemp -d "${TMPDIR:-/tmp}/modegate-boot.XXXXXX")
trap 'rm -rf "$work"' EXIT

# ---- hello module
mkdir -p "$work/hello"
cat >"$work/hello/hello.c" <<'EOF'
#include <linux/init.h>
#include <linux/module.h>
static int __init hello_init(void) { pr_info("modegate-hello: loaded\n"); return 0; }
static void __exit hello_exit(void) { pr_info("modegate-hello: unloaded\n"); }
module_init(hello_init);
module_exit(hello_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("modegate matrix hello world");
EOF
echo 'obj-m := hello.o' >"$work/hello/Kbuild"
build=ok
# shellcheck disable=SC2086 # KMAKEFLAGS is a list of make overrides
if ! make -C "$KDIR" M="$work/hello" $KMAKEFLAGS modules >"$work/build.log" 2>&1; then
	build=FAILED
	tail -n 20 "$work/build.log" >&2
	echo "$NAME $KVER | build=FAILED boot=- insmod=- rmmod=- |"
	exit 1
fi

# ---- initramfs
ird=$work/initramfs
mkdir -p "$ird/bin" "$ird/dev" "$ird/proc" "$ird/sys" "$ird/mod"
cp "$BUSYBOX" "$ird/bin/busybox"
cp "$work/hello/hello.ko" "$ird/mod/00hello.ko"
n=1
for ko in "$@"; do
	[ -f "$ko" ] || die "$ko: no such module"
	cp "$ko" "$ird/mod/$(printf '%02d' "$n")$(basename "$ko")"
	n=$((n + 1))
done
cat >"$ird/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t securityfs securityfs /sys/kernel/security 2>/dev/null
echo "MG: uname-r $(uname -r)"
echo "MG: uname-v $(uname -v)"
echo "MG: lockdown $(cat /sys/kernel/security/lockdown 2>/dev/null || echo n/a)"
echo "MG: sig_enforce $(cat /sys/module/module/parameters/sig_enforce 2>/dev/null || echo n/a)"
for ko in /mod/*.ko; do
	m=$(basename "$ko" .ko); m=${m#[0-9][0-9]}
	if insmod "$ko"; then echo "MG: insmod $m OK"; else echo "MG: insmod $m FAILED"; fi
done
for ko in $(ls -r /mod/*.ko); do
	m=$(basename "$ko" .ko); m=${m#[0-9][0-9]}; m=$(echo "$m" | tr - _)
	[ -d "/sys/module/$m" ] || continue
	if rmmod "$m"; then echo "MG: rmmod $m OK"; else echo "MG: rmmod $m FAILED"; fi
done
dmesg | grep -E 'modegate|taint|BTF|Oops|BUG' | sed 's/^/MG: dmesg /'
echo "MG: tainted $(cat /proc/sys/kernel/tainted)"
echo "MG: done"
reboot -f
EOF
chmod +x "$ird/init"
(cd "$ird" && find . | cpio -o -H newc --quiet | gzip -1) >"$work/initramfs.gz"

# ---- boot
log "booting $KIMAGE (TCG, log in $BOOTLOG)"
rc=0
timeout "${MODEGATE_BOOT_TIMEOUT:-300}" qemu-system-x86_64 -nodefaults -no-reboot \
	-cpu max -smp 2 -m 1G -display none \
	-kernel "$KIMAGE" -initrd "$work/initramfs.gz" \
	-append "console=ttyS0 panic=-1 ${MODEGATE_APPEND:-}" \
	-serial stdio </dev/null >"$BOOTLOG" 2>&1 || rc=$?
tr -d '\r' <"$BOOTLOG" | grep '^MG: ' >&2 || true

boot=FAILED insmod=FAILED rmmod=FAILED
grep -q '^MG: done' "$BOOTLOG" && boot=ok
[ "$rc" = 0 ] || boot="FAILED(rc=$rc)"
nko=$(($# + 1))
[ "$(grep -c '^MG: insmod .* OK' "$BOOTLOG" || true)" = "$nko" ] && insmod=ok
[ "$(grep -c '^MG: rmmod .* OK' "$BOOTLOG" || true)" = "$nko" ] && rmmod=ok
uname_v=$(tr -d '\r' <"$BOOTLOG" | sed -n 's/^MG: uname-v //p')
echo "$NAME $KVER | build=$build boot=$boot insmod=$insmod rmmod=$rmmod | $uname_v"
[ "$boot$insmod$rmmod" = okokok ]
