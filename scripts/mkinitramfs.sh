#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build the VM's initramfs: busybox, the module, the tool, the selftests
# and the shared libraries they need.
#
#   mkinitramfs.sh OUT.cpio.gz KVER MODULE.ko
#
# MODULE.ko "none": a VM without modegate (no module, tool or selftests).
#
# MG_ROOT_OVERLAY: a tree copied over the root (a make install DESTDIR, a
# DKMS-installed module; scripts/package.sh).
# MG_MODULES_DIR: where KVER's modules.order/modules.builtin* are (default
# /lib/modules/KVER; scripts/matrix points it into a fetched kernel's root).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
# shellcheck source=scripts/lib.sh
. "$here/lib.sh"

out=$1 kver=$2 ko=$3
root=$(mktemp -d)
chmod 0755 "$root"
trap 'rm -rf "$root"' EXIT

mkdir -p "$root"/{bin,sbin,dev,proc,sys,tmp,run,root,etc,usr/bin,usr/lib/modegate}
cp /bin/busybox "$root/bin/busybox"
for applet in sh mount; do
	ln -s busybox "$root/bin/$applet"
done

# The module where modprobe and libkmod look for it.
mdir=$root/lib/modules/$kver
mkdir -p "$mdir/extra"
if [ "$ko" != none ]; then
	cp "$ko" "$mdir/extra/modegate.ko"
	# Built beside it against a kernel with KUnit (module/kunit.c).
	if [ -e "$(dirname "$ko")/modegate_kunit.ko" ]; then
		cp "$(dirname "$ko")/modegate_kunit.ko" "$mdir/extra/"
	fi
fi
kmods=${MG_MODULES_DIR:-/lib/modules/$kver}
for f in modules.order modules.builtin modules.builtin.modinfo; do
	[ -e "$kmods/$f" ] && cp "$kmods/$f" "$mdir/"
done
touch "$mdir/modules.order" "$mdir/modules.builtin"
# Kernel modules the selftests load themselves (fuse_test: fuse), when the
# kernel has them as modules.
for f in "$kmods"/kernel/fs/fuse/fuse.ko*; do
	[ -e "$f" ] || continue
	mkdir -p "$mdir/kernel/fs/fuse"
	cp "$f" "$mdir/kernel/fs/fuse/"
done
# The overlay, before depmod indexes the tree.
[ -z "${MG_ROOT_OVERLAY:-}" ] || cp -a "$MG_ROOT_OVERLAY/." "$root/"
depmod -b "$root" "$kver" 2>/dev/null || /sbin/depmod -b "$root" "$kver"

# Programs: the tool, and the selftests installed the kselftest way
# (run_kselftest.sh, its runner and the "modegate" collection), with
# coreutils' timeout, which the runner needs for the "settings" timeout.
if [ "$ko" != none ]; then
	install -m 0755 "$top/userspace/modegate" "$root/usr/bin/modegate"
	if [ -x "$top/userspace/modegate-info32" ]; then
		install -m 0755 "$top/userspace/modegate-info32" "$root/usr/bin/modegate-info32"
	fi
	make -s --no-print-directory -C "$top/selftests" install \
		INSTALL_PATH="$root/usr/lib/modegate/kselftest" >/dev/null
fi
install -m 0755 /usr/bin/timeout "$root/usr/bin/timeout"
# Extra programs for some jobs (e.g. trinity for "fuzz"): MG_EXTRA_BINS.
for b in ${MG_EXTRA_BINS:-}; do
	install -m 0755 "$b" "$root/usr/bin/$(basename "$b")"
done
install -m 0755 "$here/guest/init" "$root/init"
install -m 0755 "$here"/guest/*.sh "$root/usr/lib/modegate/"
install -m 0644 "$here/guest/ktap.awk" "$here/guest/kunit.awk" "$root/usr/lib/modegate/"

# Shared libraries of every dynamic binary, with the loader.
copy_libs() {
	ldd "$1" 2>/dev/null | awk '/=> \//{print $3} /^\t\/lib/{print $1}' |
	while read -r lib; do
		[ -e "$root$lib" ] && continue
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
	done
}
find "$root/usr" -type f -perm -u+x | while read -r bin; do
	copy_libs "$bin"
done
# /lib64 etc. are merged-/usr symlinks on Debian: keep paths as ldd shows.
[ -d "$root/lib64" ] || mkdir -p "$root/lib64"

printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/sh\n' >"$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"

(cd "$root" && find . | cpio -o -H newc --quiet) | gzip -1 >"$out"
