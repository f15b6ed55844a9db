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

# mg_results: the guest's "result GROUP ok|fail|skip NAME" lines (stdin) as
# the "ok|fail|skip GROUP.NAME" lines of scripts/tally.sh.
mg_results() {
	awk '$1 == "result" { print $3, $2 "." $4 }'
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
# linux-source tarball (the kselftest headers, lib.mk and runner,
# checkpatch.pl, kernel-doc, merge_config.sh), extracted once into the cache
# (again when a file is missing).
mg_linux_source() {
	local tarball dir ver f missing=()
	local files=(
		tools/testing/selftests/kselftest_harness.h
		tools/testing/selftests/kselftest.h
		tools/testing/selftests/lib.mk
		tools/testing/selftests/run_kselftest.sh
		tools/testing/selftests/kselftest/runner.sh
		tools/testing/selftests/kselftest/prefix.pl
		tools/testing/selftests/kselftest/module.sh
		scripts/checkpatch.pl
		scripts/kernel-doc
		scripts/spelling.txt
		scripts/const_structs.checkpatch
		scripts/kconfig/merge_config.sh
	)
	tarball=$(find /usr/src -maxdepth 1 -name 'linux-source-*.tar.xz' | sort -V | tail -n 1)
	[ -n "$tarball" ] || mg_die "linux-source is not installed: run 'make deps'"
	ver=$(basename "$tarball" .tar.xz)
	dir=$MODEGATE_CACHE/$ver-$(stat -c %Y "$tarball")
	mkdir -p "$dir"
	# Under a lock: a second caller must not read half-extracted files.
	(
		flock 9
		for f in "${files[@]}"; do
			[ -e "$dir/$f" ] || missing+=("$ver/$f")
		done
		[ "${#missing[@]}" -eq 0 ] ||
			tar -C "$dir" --strip-components=1 -xJf "$tarball" "${missing[@]}"
	) 9>"$dir.lock" || mg_die "cannot extract from $tarball"
	printf '%s\n' "$dir"
}
