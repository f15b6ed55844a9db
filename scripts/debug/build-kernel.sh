#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# build-kernel.sh - build, once, a small kernel the modegate VMs boot.
#
#   build-kernel.sh [FLAVOUR]    debug (the default) or kcsan
#
# Extracts Debian's linux-source-6.1 into a cache outside the repo, merges
# kernel/configs/kvm_guest.config + base.config + FLAVOUR.config (this
# directory) + selftests/config with the kernel's own
# scripts/kconfig/merge_config.sh -n (an allnoconfig, as
# tools/testing/selftests/wireguard/qemu does), fails when an option our
# fragments ask for did not take effect (merge_config's "Value requested ...
# not in final .config"), and builds bzImage plus what an external module
# build needs (make -C $KDIR M=<dir> modules).  The flavours:
#   debug  KASAN, lockdep, kmemleak, fault injection, UBSAN, gcov, KUnit
#   kcsan  the data-race detector (it excludes KASAN, so a kernel of its own)
#
# A stamp records the source tarball and the hash of the fragments: a second
# run with unchanged fragments does nothing but print the result.  When the
# fragments changed but the resulting .config did not, nothing is rebuilt
# either.  Output, also written to <cache>/FLAVOUR-6.1/env for Makefiles
# ("include") and shells ("."):
#   KIMAGE=<bzImage>
#   KDIR=<kernel tree>
#
# Environment:
#   MODEGATE_CACHE    cache root (default $HOME/.cache/modegate)
#   MODEGATE_KSRC     source tarball (default /usr/src/linux-source-6.1.tar.xz)
#   MODEGATE_JOBS     make -j (default: nproc)
#   MODEGATE_VERBOSE  1: stream the build log instead of keeping it in a file
#   MODEGATE_CONFIG_ONLY  1: only write and check <cache>/FLAVOUR-6.1/new.config
#                     (the built tree and its stamp are left alone)

set -eu -o pipefail

here=$(cd "$(dirname "$0")" && pwd)
flavour=${1:-debug}
case $flavour in
debug | kcsan) ;;
*)
	echo "build-kernel: unknown flavour '$flavour' (debug or kcsan)" >&2
	exit 1
	;;
esac
cache=${MODEGATE_CACHE:-$HOME/.cache/modegate}/$flavour-6.1
tarball=${MODEGATE_KSRC:-/usr/src/linux-source-6.1.tar.xz}
jobs=${MODEGATE_JOBS:-$(nproc)}
tree=$cache/linux
stamp=$cache/stamp
envfile=$cache/env
log=$cache/build.log
cfglog=$cache/config.log
new=$cache/new.config
# The selftests' own config fragment (kselftest convention) goes in too.
fragments="$here/base.config $here/$flavour.config $here/../../selftests/config"

die() {
	echo "build-kernel: $*" >&2
	exit 1
}

# merge_config.sh checks every requested value against the result; it only
# warns.  Fail on the options of our own fragments that did not take effect
# (kvm_guest.config is generic: its s390 and DRM options do not apply).
check_config() { # check_config MERGE-LOG FRAGMENT...
	local log=$1 sym bad=""

	shift
	while read -r sym; do
		if grep -qE "^(# )?${sym}[= ]" "$@"; then
			bad="$bad
  $(grep -A2 "^Value requested for $sym " "$log" | tail -n 2 | tr -s ' ' | paste -sd ';')"
		fi
	done < <(sed -n 's/^Value requested for \(CONFIG_[A-Za-z0-9_]*\) not in final .config$/\1/p' "$log")
	[ -z "$bad" ] || die "options the fragments ask for did not take effect:$bad"
}

print_result() {
	cat "$envfile"
}

bash "$here/../deps.sh" kernel
[ -r "$tarball" ] || die "kernel source tarball $tarball not found"

mkdir -p "$cache"
# Two users (e.g. make -j of two targets) must not build the same tree.
exec 9>"$cache/.lock"
flock 9

# shellcheck disable=SC2086 # $fragments is a list of paths without spaces
want="src=$(stat -c '%s-%Y' "$tarball") fragments=$(cat $fragments | sha256sum | cut -d' ' -f1)"
built=0
if [ -f "$stamp" ] && [ -f "$tree/arch/x86/boot/bzImage" ] && [ -f "$envfile" ]; then
	built=1
fi
if [ "$built" = 1 ] && [ "$(head -n1 "$stamp")" = "$want" ] &&
   [ "${MODEGATE_CONFIG_ONLY:-0}" != 1 ]; then
	echo "build-kernel: cached build is up to date ($(sed -n 2p "$stamp"))"
	print_result
	exit 0
fi

start=$(date +%s)

# A different tarball means a different tree: start over.
if [ -f "$stamp" ] && [ "$(head -n1 "$stamp" | cut -d' ' -f1)" != "${want%% *}" ]; then
	echo "build-kernel: source tarball changed, re-extracting"
	rm -f "$stamp"
	built=0
	rm -rf "$tree"
fi
if [ ! -f "$tree/.modegate-extracted" ]; then
	echo "build-kernel: extracting $tarball into $tree"
	rm -rf "$tree" "$tree.tmp"
	mkdir -p "$tree.tmp"
	tar -xJf "$tarball" -C "$tree.tmp" --strip-components=1
	touch "$tree.tmp/.modegate-extracted"
	mv "$tree.tmp" "$tree"
fi

# Configure into new.config, beside the built tree's .config.
echo "build-kernel: configuring $flavour (merge_config.sh -n kvm_guest.config base.config $flavour.config selftests/config)"
# shellcheck disable=SC2086
(cd "$tree" && KCONFIG_CONFIG=$new scripts/kconfig/merge_config.sh -n \
	kernel/configs/kvm_guest.config $fragments) >"$cfglog" 2>&1 ||
	{ tail -n 40 "$cfglog" >&2; die "merge_config.sh failed, see $cfglog"; }
# shellcheck disable=SC2086
check_config "$cfglog" $fragments
if [ "${MODEGATE_CONFIG_ONLY:-0}" = 1 ]; then
	echo "build-kernel: configuration written to $new"
	exit 0
fi
if [ "$built" = 1 ] && cmp -s "$new" "$tree/.config"; then
	echo "build-kernel: fragments changed, the configuration did not: keeping the build"
	printf '%s\n%s\n' "$want" "$(sed -n 2p "$stamp")" >"$stamp.new"
	mv "$stamp.new" "$stamp"
	print_result
	exit 0
fi
rm -f "$stamp"
cp "$new" "$tree/.config"

# "modules" writes Module.symvers (vmlinux's exports) so that modpost of an
# external module resolves its symbols instead of warning about each one.
echo "build-kernel: building the $flavour kernel: bzImage modules_prepare modules with -j$jobs (log: $log)"
if [ "${MODEGATE_VERBOSE:-0}" = 1 ]; then
	make -C "$tree" -j"$jobs" bzImage modules_prepare modules 2>&1 | tee "$log"
else
	make -C "$tree" -j"$jobs" bzImage modules_prepare modules >"$log" 2>&1 ||
		{ tail -n 40 "$log" >&2; die "kernel build failed, see $log"; }
fi

secs=$(($(date +%s) - start))
printf 'KIMAGE=%s\nKDIR=%s\n' "$tree/arch/x86/boot/bzImage" "$tree" >"$envfile"
printf '%s\nbuilt in %ds on %s\n' "$want" "$secs" "$(date -u +%FT%TZ)" >"$stamp"
echo "build-kernel: $flavour kernel built in $((secs / 60))m$((secs % 60))s ($secs s)"
print_result
