# SPDX-License-Identifier: GPL-2.0
# Shared helpers for modegate's scripts.  Sourced, not run.
# shellcheck shell=bash

MODEGATE_CACHE=${MODEGATE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/modegate}
export MODEGATE_CACHE

mg_die() {
	printf 'modegate: %s\n' "$*" >&2
	exit 1
}

mg_note() {
	printf 'modegate: %s\n' "$*" >&2
}

# mg_kver: the kernel version the module is built for and booted with.
# KVER wins; else the running kernel when it has a build tree; else the
# newest installed Debian linux-headers-*-amd64.
mg_kver() {
	local k
	if [ -n "${KVER:-}" ]; then
		printf '%s\n' "$KVER"
		return
	fi
	k=$(uname -r)
	if [ -d "/lib/modules/$k/build" ] && [ -e "/boot/vmlinuz-$k" ]; then
		printf '%s\n' "$k"
		return
	fi
	k=$(find /usr/src -maxdepth 1 -name 'linux-headers-*-amd64' -printf '%f\n' 2>/dev/null |
		sed 's/^linux-headers-//' | sort -V | tail -n 1)
	[ -n "$k" ] || mg_die "no kernel headers found: run 'make deps'"
	printf '%s\n' "$k"
}

# mg_kdir KVER: the kbuild tree for KVER.
mg_kdir() {
	if [ -d "/lib/modules/$1/build" ]; then
		printf '%s\n' "/lib/modules/$1/build"
	elif [ -d "/usr/src/linux-headers-$1" ]; then
		printf '%s\n' "/usr/src/linux-headers-$1"
	else
		mg_die "no build tree for kernel $1 (install linux-headers-$1)"
	fi
}

# mg_linux_source: directory with the files modegate takes from Debian's
# linux-source tarball (kselftest_harness.h, kselftest.h, checkpatch.pl,
# kernel-doc), extracted once into the cache (again when a file is missing).
mg_linux_source() {
	local tarball dir ver
	tarball=$(find /usr/src -maxdepth 1 -name 'linux-source-*.tar.xz' | sort -V | tail -n 1)
	[ -n "$tarball" ] || mg_die "linux-source is not installed: run 'make deps'"
	ver=$(basename "$tarball" .tar.xz)
	dir=$MODEGATE_CACHE/$ver-$(stat -c %Y "$tarball")
	if [ ! -e "$dir/.done" ] || [ ! -e "$dir/scripts/kernel-doc" ]; then
		mkdir -p "$dir"
		tar -C "$dir" --strip-components=1 -xJf "$tarball" \
			"$ver/tools/testing/selftests/kselftest_harness.h" \
			"$ver/tools/testing/selftests/kselftest.h" \
			"$ver/scripts/checkpatch.pl" \
			"$ver/scripts/kernel-doc" \
			"$ver/scripts/spelling.txt" \
			"$ver/scripts/const_structs.checkpatch" ||
			mg_die "cannot extract from $tarball"
		touch "$dir/.done"
	fi
	printf '%s\n' "$dir"
}
