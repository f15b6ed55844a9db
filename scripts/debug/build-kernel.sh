#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# build-kernel.sh - build, once, the small debug kernel the modegate VMs boot.
#
# Extracts Debian's linux-source-6.1 into a cache outside the repo, applies
# kernel/configs/kvm_guest.config + base.config + debug.config (this
# directory) with "KCONFIG_ALLCONFIG=<merged> make allnoconfig", checks that
# every option the fragments ask for survived, and builds bzImage plus what
# an external module build needs (make -C $KDIR M=<dir> modules).
#
# A stamp records the hash of the fragments: a second run with unchanged
# fragments does nothing but print the result.  Output, also written to
# <cache>/debug-6.1/env for Makefiles ("include") and shells ("."):
#   KIMAGE=<bzImage>
#   KDIR=<kernel tree>
#
# Environment:
#   MODEGATE_CACHE    cache root (default $HOME/.cache/modegate)
#   MODEGATE_KSRC     source tarball (default /usr/src/linux-source-6.1.tar.xz)
#   MODEGATE_JOBS     make -j (default: nproc)
#   MODEGATE_VERBOSE  1: stream the build log instead of keeping it in a file

set -eu -o pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=${MODEGATE_CACHE:-$HOME/.cache/modegate}/debug-6.1
tarball=${MODEGATE_KSRC:-/usr/src/linux-source-6.1.tar.xz}
jobs=${MODEGATE_JOBS:-$(nproc)}
tree=$cache/linux
stamp=$cache/stamp
envfile=$cache/env
log=$cache/build.log
merged=$cache/merged.config
fragments="$here/base.config $here/debug.config"

die() {
	echo "build-kernel: $*" >&2
	exit 1
}

# Install what the build needs, and only what is missing.
ensure_packages() {
	local pkg missing=""

	for pkg in "$@"; do
		dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null |
			grep -q 'install ok installed' || missing="$missing $pkg"
	done
	[ -z "$missing" ] && return 0
	[ "$(id -u)" = 0 ] || die "missing packages:$missing (run as root or install them)"
	echo "build-kernel: installing$missing"
	# shellcheck disable=SC2086 # word splitting of the package list is wanted
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing
}

# Every "CONFIG_X=v" of the fragments must be in .config as is, and every
# "# CONFIG_X is not set" must be absent: allnoconfig silently drops
# options whose dependencies are not met.
check_config() {
	local config=$1 line sym bad=""

	shift
	while IFS= read -r line; do
		case $line in
		CONFIG_*=*)
			grep -qxF -- "$line" "$config" || bad="$bad
  wanted $line, got: $(grep -E "^(# )?${line%%=*}[= ]" "$config" || echo 'absent (dependencies not met)')"
			;;
		"# CONFIG_"*" is not set")
			sym=${line#\# }
			sym=${sym%% *}
			if grep -q "^$sym=" "$config"; then
				bad="$bad
  wanted $sym off, got: $(grep "^$sym=" "$config")"
			fi
			;;
		esac
	done < <(cat "$@")
	[ -z "$bad" ] || die "options the fragments ask for did not survive allnoconfig:$bad"
}

print_result() {
	cat "$envfile"
}

ensure_packages make gcc libc6-dev flex bison bc libelf-dev libssl-dev xz-utils
[ -r "$tarball" ] || [ -n "${MODEGATE_KSRC:-}" ] || ensure_packages linux-source-6.1
[ -r "$tarball" ] || die "kernel source tarball $tarball not found"

mkdir -p "$cache"
# Two users (e.g. make -j of two targets) must not build the same tree.
exec 9>"$cache/.lock"
flock 9

# shellcheck disable=SC2086 # $fragments is a list of paths without spaces
want="src=$(stat -c '%s-%Y' "$tarball") fragments=$(cat $fragments | sha256sum | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(head -n1 "$stamp")" = "$want" ] &&
   [ -f "$tree/arch/x86/boot/bzImage" ] && [ -f "$envfile" ]; then
	echo "build-kernel: cached build is up to date ($(sed -n 2p "$stamp"))"
	print_result
	exit 0
fi

start=$(date +%s)

# A different tarball means a different tree: start over.
if [ -f "$stamp" ] && [ "$(head -n1 "$stamp" | cut -d' ' -f1)" != "${want%% *}" ]; then
	echo "build-kernel: source tarball changed, re-extracting"
	rm -rf "$tree"
fi
rm -f "$stamp"
if [ ! -f "$tree/.modegate-extracted" ]; then
	echo "build-kernel: extracting $tarball into $tree"
	rm -rf "$tree" "$tree.tmp"
	mkdir -p "$tree.tmp"
	tar -xJf "$tarball" -C "$tree.tmp" --strip-components=1
	touch "$tree.tmp/.modegate-extracted"
	mv "$tree.tmp" "$tree"
fi

# shellcheck disable=SC2086
cat "$tree/kernel/configs/kvm_guest.config" $fragments >"$merged"

echo "build-kernel: configuring (allnoconfig + $(basename "$merged"))"
make -C "$tree" -s KCONFIG_ALLCONFIG="$merged" allnoconfig >"$log" 2>&1 ||
	{ tail -n 40 "$log" >&2; die "allnoconfig failed, see $log"; }
# shellcheck disable=SC2086
check_config "$tree/.config" $fragments

# "modules" writes Module.symvers (vmlinux's exports) so that modpost of an
# external module resolves its symbols instead of warning about each one.
echo "build-kernel: building bzImage modules_prepare modules with -j$jobs (log: $log)"
if [ "${MODEGATE_VERBOSE:-0}" = 1 ]; then
	make -C "$tree" -j"$jobs" bzImage modules_prepare modules 2>&1 | tee -a "$log"
else
	make -C "$tree" -j"$jobs" bzImage modules_prepare modules >>"$log" 2>&1 ||
		{ tail -n 40 "$log" >&2; die "kernel build failed, see $log"; }
fi

secs=$(($(date +%s) - start))
printf 'KIMAGE=%s\nKDIR=%s\n' "$tree/arch/x86/boot/bzImage" "$tree" >"$envfile"
printf '%s\nbuilt in %ds on %s\n' "$want" "$secs" "$(date -u +%FT%TZ)" >"$stamp"
echo "build-kernel: built in $((secs / 60))m$((secs % 60))s ($secs s)"
print_result
