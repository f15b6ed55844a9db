#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# fetch-kernel.sh NAME - fetch a Debian kernel image plus the headers needed
# to build out-of-tree modules against it, without touching /etc/apt.
#
#   NAME     what
#   6.1      bookworm's installed kernel (/boot/vmlinuz-*, /usr/src/linux-headers-*)
#   6.12     linux-image-amd64 from bookworm-backports (MODEGATE_SUITE_6_12=trixie
#            for trixie's build instead)
#   6.12-rt  linux-image-rt-amd64 (PREEMPT_RT) from the same suite as 6.12
#   sid      the newest linux-image-amd64 in sid/unstable
#
# Everything lives under ${MODEGATE_CACHE:-$HOME/.cache/modegate}:
#   apt/                   private sources.list, lists, cache, downloaded .debs
#   kernels/NAME/root/     the dpkg -x extraction (symlinks fixed to stay inside)
#   kernels/NAME/env       KIMAGE=, KDIR=, KVER=, KCC=, KMAKEFLAGS=, ...
#                          (kernels/NAME-SUITE/ when MODEGATE_SUITE_6_12 is set)
#
# Prints the env lines on stdout (eval-able); progress goes to stderr.
# A module is then built with:  make -C "$KDIR" M="$PWD" $KMAKEFLAGS modules
#
# Environment:
#   MODEGATE_CACHE        cache root (default $HOME/.cache/modegate)
#   MODEGATE_MIRROR       Debian mirror (default: the one in /etc/apt/sources*)
#   MODEGATE_APT_MAX_AGE  refresh the private apt lists when older (minutes, 1440)
#   MODEGATE_SUITE_6_12   suite for 6.12 and 6.12-rt (default bookworm-backports)
#   MODEGATE_REFETCH=1    throw away kernels/NAME and fetch again
#   MODEGATE_KEEP_SRC=1   keep the kernel source tree used to rebuild kbuild tools

set -eu
set -o pipefail

PROG=${0##*/}
log() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() { log "error: $*"; exit 1; }

usage() {
	sed -n '3,27s/^# \{0,1\}//p' "$0" >&2
	exit 2
}

[ $# -eq 1 ] || usage
NAME=$1
case $NAME in
6.1 | 6.12 | 6.12-rt | sid) ;;
-h | --help) usage ;;
*) die "unknown kernel '$NAME' (want 6.1, 6.12, 6.12-rt or sid)" ;;
esac

CACHE=${MODEGATE_CACHE:-$HOME/.cache/modegate}
APTDIR=$CACHE/apt
KROOT=$CACHE/kernels/$NAME
SUITE_6_12=${MODEGATE_SUITE_6_12:-bookworm-backports}
case $NAME in
6.12*) [ "$SUITE_6_12" = bookworm-backports ] || KROOT=$KROOT-$SUITE_6_12 ;;
esac
ENVFILE=$KROOT/env
ARCH=amd64

# ---------------------------------------------------------------- helpers

# Print "VAR=value" lines, shell-quoted, for the env file and stdout.
emit_env() {
	printf 'KIMAGE=%q\nKDIR=%q\n' "$KIMAGE" "$KDIR"
	printf 'KNAME=%q\nKCACHE=%q\n' "$KNAME" "$KROOT"
	printf 'KVER=%q\nKPKGS=%q\n' "$KVER" "$KPKGS"
	printf 'KCC=%q\nKCC_WANTED=%q\nKMAKEFLAGS=%q\n' "$KCC" "$KCC_WANTED" "$KMAKEFLAGS"
	printf 'KTOOLS_REBUILT=%q\nKTOOLS_UNFIXED=%q\n' "$KTOOLS_REBUILT" "$KTOOLS_UNFIXED"
	printf 'KBUILD_TEST=%q\n' "$KBUILD_TEST"
}

# GLIBC_x.y -> integer x*1000+y, so versions compare with -gt.
glibc_num() {
	local v=${1#GLIBC_}
	echo $((${v%%.*} * 1000 + $(echo "$v" | cut -d. -f2)))
}

host_glibc() {
	local v
	v=$(getconf GNU_LIBC_VERSION) # "glibc 2.36"
	glibc_num "GLIBC_${v#glibc }"
}

# Highest GLIBC_x.y symbol version an ELF file needs (0 if none).
elf_glibc_need() {
	local max=0 n s
	for s in $(objdump -T "$1" 2>/dev/null | grep -o 'GLIBC_[0-9][0-9.]*' | sort -u); do
		n=$(glibc_num "$s")
		[ "$n" -le "$max" ] || max=$n
	done
	echo "$max"
}

is_elf() {
	[ -f "$1" ] && [ "$(head -c4 "$1" | od -An -c | tr -d ' ')" = '177ELF' ]
}

# The mirror the system uses for Debian main (not -security).
system_mirror() {
	local m
	m=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null |
		awk '/^URIs:/ { for (i = 2; i <= NF; i++) print $i }' |
		grep -E '/debian/?$' | head -n1 || true)
	if [ -z "$m" ]; then
		m=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
			awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) { print $i; break } }' |
			grep -E '/debian/?$' | head -n1 || true)
	fi
	echo "${m:-http://deb.debian.org/debian}"
}

APT_OPTS=(
	-o "Dir::Etc::SourceList=$APTDIR/sources.list"
	-o "Dir::Etc::SourceParts=/dev/null"
	-o "Dir::Etc::Preferences=/dev/null"
	-o "Dir::Etc::PreferencesParts=/dev/null"
	-o "Dir::State=$APTDIR/state"
	-o "Dir::State::status=$APTDIR/state/status"
	-o "Dir::Cache=$APTDIR/cache"
	-o "APT::Sandbox::User=$(id -un)"
	-o "Acquire::Languages=none"
	-o "APT::Architecture=$ARCH"
)
papt_get() { apt-get -q "${APT_OPTS[@]}" "$@"; }
papt_cache() { apt-cache "${APT_OPTS[@]}" "$@"; }

apt_setup() {
	local mirror keyring=/usr/share/keyrings/debian-archive-keyring.gpg
	local s lists_ok=0
	mirror=${MODEGATE_MIRROR:-$(system_mirror)}
	[ -r "$keyring" ] || die "$keyring missing (apt-get install debian-archive-keyring)"
	mkdir -p "$APTDIR/state/lists/partial" "$APTDIR/cache/archives/partial" "$APTDIR/debs"
	[ -e "$APTDIR/state/status" ] || : >"$APTDIR/state/status"
	{
		echo "# written by $PROG; private to modegate, not used by the system's apt"
		for s in bookworm bookworm-backports trixie sid; do
			echo "deb [signed-by=$keyring] $mirror $s main"
		done
	} >"$APTDIR/sources.list.new"
	if cmp -s "$APTDIR/sources.list.new" "$APTDIR/sources.list"; then
		rm -f "$APTDIR/sources.list.new"
		if [ -n "$(find "$APTDIR/state/lists" -maxdepth 1 -name '*_Packages*' \
			-mmin -"${MODEGATE_APT_MAX_AGE:-1440}" 2>/dev/null | head -n1)" ]; then
			lists_ok=1
		fi
	else
		mv "$APTDIR/sources.list.new" "$APTDIR/sources.list"
	fi
	if [ "$lists_ok" = 0 ]; then
		log "updating private apt lists in $APTDIR (mirror $mirror)"
		papt_get update >&2
	fi
}

# Newest version of PKG in SUITE (empty if none).
suite_version() {
	papt_cache madison "$1" |
		awk -F'|' -v s=" $2/" 'index($3, s) { gsub(/ /, "", $2); print $2; exit }'
}

# Names in the Depends: of PKG=VER (every alternative, versions stripped).
depends_of() {
	papt_cache show "$1=$2" 2>/dev/null |
		awk '/^Depends:/ { sub(/^Depends: */, ""); print; exit }' |
		tr ',|' '\n' | sed -e 's/(.*)//' -e 's/[[:space:]]//g' -e 's/:any$//' |
		grep -v '^$' || true
}

download() { # VER PKG...
	local ver=$1 p
	shift
	for p in "$@"; do
		if compgen -G "$APTDIR/debs/${p}_${ver}_*.deb" >/dev/null; then
			continue
		fi
		log "downloading $p=$ver"
		(cd "$APTDIR/debs" && papt_get download "$p=$ver" >&2)
	done
}

# Point absolute symlinks inside ROOT back into ROOT, and the flavour
# Makefiles' "include /usr/src/..." lines too.
fix_paths() {
	local root=$1 l t f
	while IFS= read -r -d '' l; do
		t=$(readlink "$l")
		case $t in
		/*) ln -sfn "$root$t" "$l" ;;
		esac
	done < <(find "$root" -type l -print0)
	for f in "$root"/usr/src/linux-headers-*/Makefile; do
		[ -f "$f" ] || continue
		if grep -q '^KBUILD_OUTPUT=/usr/src/\|^include /usr/src/' "$f"; then
			sed -i -e "s#^KBUILD_OUTPUT=/usr/src/#KBUILD_OUTPUT=$root/usr/src/#" \
				-e "s#^include /usr/src/#include $root/usr/src/#" "$f"
		fi
	done
}

# Compiler: the gcc-N the headers were built with if the host has it, else
# the host's default gcc-N (bookworm: gcc-12).
pick_cc() {
	local cfg=$KDIR/.config want
	want=$(sed -n 's/^CONFIG_CC_VERSION_TEXT="\([^ ]*\) .*/\1/p' "$cfg")
	want=${want#x86_64-linux-gnu-}
	KCC_WANTED=$want
	if command -v "$want" >/dev/null; then
		KCC=$want
	else
		KCC=gcc-$(gcc -dumpversion | cut -d. -f1)
		command -v "$KCC" >/dev/null || KCC=gcc
		log "$want (used to build $KVER) is not installable on this host; using $KCC"
	fi
}

# make overrides needed when KCC/pahole are older than what built the kernel.
pick_makeflags() {
	local cfg=$KDIR/.config have want
	KMAKEFLAGS="CC=$KCC"
	if grep -q '^CONFIG_CC_HAS_MIN_FUNCTION_ALIGNMENT=y' "$cfg" &&
		! "$KCC" -fmin-function-alignment=16 -Werror -c -x c /dev/null -o /dev/null 2>/dev/null; then
		# gcc < 14: fall back to -falign-functions like kernels built by gcc-12 do
		KMAKEFLAGS="$KMAKEFLAGS CONFIG_CC_HAS_MIN_FUNCTION_ALIGNMENT="
	fi
	if grep -q '^CONFIG_DEBUG_INFO_BTF_MODULES=y' "$cfg"; then
		want=$(sed -n 's/^CONFIG_PAHOLE_VERSION=//p' "$cfg")
		if ! command -v pahole >/dev/null; then
			KMAKEFLAGS="$KMAKEFLAGS CONFIG_DEBUG_INFO_BTF_MODULES="
		else
			have=$(pahole --version | tr -dc '0-9')
			if [ -n "$want" ] && [ "$have" -lt "$want" ]; then
				# pahole flags are picked from CONFIG_PAHOLE_VERSION, not the
				# pahole found at build time: tell kbuild the truth
				KMAKEFLAGS="$KMAKEFLAGS CONFIG_PAHOLE_VERSION=$have"
			fi
		fi
	fi
}

# kbuild ELF helpers that need a newer glibc than the host has.
too_new_tools() {
	local kb=$1 host f
	host=$(host_glibc)
	while IFS= read -r -d '' f; do
		is_elf "$f" || continue
		if [ "$(elf_glibc_need "$f")" -gt "$host" ]; then
			echo "${f#"$kb"/}"
		fi
	done < <(find "$kb" -type f -perm -u+x -print0)
}

# Rebuild the kbuild helpers from the same version's linux-source-X.Y
# (Debian patches applied) with the host compiler, and put them in place.
rebuild_tools() { # VER KBUILDDIR TOOL...
	local ver=$1 kb=$2 upstream series src t cand fixed="" unfixed=""
	shift 2
	upstream=${ver%%-*}
	series=$(echo "$upstream" | cut -d. -f1-2)
	download "$ver" "linux-source-$series"
	src=$KROOT/src
	rm -rf "$src"
	mkdir -p "$src"
	log "unpacking linux-source-$series to rebuild kbuild tools for host $(getconf GNU_LIBC_VERSION)"
	# the Kconfig/Makefile skeleton, include/, arch/, scripts/, tools/ are
	# needed; driver/fs/net sources are not (1.8 GB -> 0.3 GB)
	local top=linux-source-$series ex=() d
	for d in drivers sound net fs; do ex+=(--exclude="$top/$d/*.[ch]"); done
	ex+=(--exclude="$top/Documentation/*.rst" --exclude="$top/arch/*/boot/dts/*"
		--exclude="$top/tools/testing/*" --exclude="$top/tools/perf/*")
	dpkg-deb --fsys-tarfile "$APTDIR/debs/linux-source-${series}_${ver}_all.deb" |
		tar -xO "./usr/src/$top.tar.xz" |
		tar -xJ -C "$src" --anchored "${ex[@]}" --strip-components=1
	cp "$KDIR/.config" "$src/.config"
	# only host tools are wanted: never let a host rustc/bindgen pull in rust/
	"$src/scripts/config" --file "$src/.config" --disable RUST
	log "building host tools (olddefconfig + modules_prepare, HOSTCC=gcc)"
	make -s -C "$src" HOSTCC=gcc CC="$KCC" olddefconfig >&2
	make -s -C "$src" -j"$(nproc)" HOSTCC=gcc CC="$KCC" modules_prepare >&2
	# not built by modules_prepare: unifdef (headers_install), genksyms
	# (CONFIG_MODVERSIONS); cheap, so build them anyway
	make -s -C "$src" HOSTCC=gcc CC="$KCC" scripts_unifdef >&2 ||
		log "warning: could not build scripts/unifdef"
	make -s -C "$src" HOSTCC=gcc CC="$KCC" CONFIG_GENKSYMS=y scripts/genksyms/ >&2 ||
		log "warning: could not build scripts/genksyms"
	for t in "$@"; do
		case $t in
		*.real-x86 | *.real-lsb-64) cand=${t%.real-*} ;;
		*.real-*)
			# other-arch/endianness variants, never run for x86_64 modules
			unfixed="$unfixed $t"
			continue
			;;
		*) cand=$t ;;
		esac
		if is_elf "$src/$cand"; then
			install -m 0755 "$src/$cand" "$kb/$t"
			fixed="$fixed $t"
		else
			unfixed="$unfixed $t"
		fi
	done
	[ "${MODEGATE_KEEP_SRC:-0}" = 1 ] || rm -rf "$src"
	KTOOLS_REBUILT=${fixed# }
	KTOOLS_UNFIXED=${unfixed# }
}

# Build a hello-world module against KDIR in a temp dir; set KBUILD_TEST.
hello_test() {
	local d rc=0
	d=$(mktemp -d "${TMPDIR:-/tmp}/modegate-hello.XXXXXX")
	cat >"$d/hello.c" <<'EOF'
#include <linux/init.h>
#include <linux/module.h>
static int __init hello_init(void) { pr_info("modegate-hello: loaded\n"); return 0; }
static void __exit hello_exit(void) { pr_info("modegate-hello: unloaded\n"); }
module_init(hello_init);
module_exit(hello_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("modegate matrix hello world");
EOF
	echo 'obj-m := hello.o' >"$d/Kbuild"
	# shellcheck disable=SC2086 # KMAKEFLAGS is a list of make overrides
	make -C "$KDIR" M="$d" $KMAKEFLAGS modules >"$d/build.log" 2>&1 || rc=$?
	if [ "$rc" = 0 ] && [ -f "$d/hello.ko" ]; then
		KBUILD_TEST=ok
	else
		KBUILD_TEST="failed: $(grep -m1 -E 'error|Error|not found' "$d/build.log" || tail -n1 "$d/build.log")"
		log "hello module build failed against $KDIR:"
		tail -n 20 "$d/build.log" >&2
	fi
	rm -rf "$d"
}

# ---------------------------------------------------------------- kernels

KNAME=$NAME KIMAGE="" KDIR="" KVER="" KPKGS="" KCC="" KCC_WANTED="" KMAKEFLAGS=""
KTOOLS_REBUILT="" KTOOLS_UNFIXED="" KBUILD_TEST=""

if [ "${MODEGATE_REFETCH:-0}" = 1 ]; then
	rm -rf "$KROOT"
fi
if [ -s "$ENVFILE" ]; then
	cat "$ENVFILE"
	exit 0
fi
mkdir -p "$KROOT"

if [ "$NAME" = 6.1 ]; then
	# bookworm's own kernel: newest /boot/vmlinuz-6.1* with matching headers
	for img in $(find /boot -maxdepth 1 -name 'vmlinuz-6.1.*-amd64' | sort -V -r); do
		rel=${img#/boot/vmlinuz-}
		if [ -f "/usr/src/linux-headers-$rel/.config" ]; then
			KIMAGE=$img
			KDIR=/usr/src/linux-headers-$rel
			KVER=$rel
			break
		fi
	done
	[ -n "$KIMAGE" ] ||
		die "no /boot/vmlinuz-6.1*-amd64 with /usr/src/linux-headers-*: apt-get install linux-image-amd64 linux-headers-amd64"
	KPKGS=$(dpkg-query -W -f '${Package}=${Version} ' "linux-image-$KVER" "linux-headers-$KVER" 2>/dev/null || true)
	KPKGS=${KPKGS% }
else
	case $NAME in
	6.12) suite=$SUITE_6_12 flavour=amd64 ;;
	6.12-rt) suite=$SUITE_6_12 flavour=rt-amd64 ;;
	sid) suite=sid flavour=amd64 ;;
	esac
	apt_setup
	ver=$(suite_version "linux-image-$flavour" "$suite")
	[ -n "$ver" ] || die "linux-image-$flavour not found in $suite"
	hver=$(suite_version "linux-headers-$flavour" "$suite")
	[ "$hver" = "$ver" ] || die "linux-headers-$flavour $hver != linux-image-$flavour $ver in $suite"

	img_abi=$(depends_of "linux-image-$flavour" "$ver" | grep -m1 '^linux-image-' || true)
	hdr_abi=$(depends_of "linux-headers-$flavour" "$ver" | grep -m1 '^linux-headers-' || true)
	if [ -z "$img_abi" ] || [ -z "$hdr_abi" ]; then
		die "cannot resolve linux-*-$flavour=$ver"
	fi
	# newer kernels split the image: linux-binary-* (vmlinuz), linux-base-*
	# (config, System.map) and linux-modules-* (not needed here)
	pkgs="$img_abi $hdr_abi"
	for p in $(depends_of "$img_abi" "$ver" | grep -E '^linux-(binary|base)-' || true) \
		$(depends_of "$hdr_abi" "$ver" | grep -E '^linux-(headers|kbuild|base)-' | grep -v "^$img_abi" || true); do
		case " $pkgs " in *" $p "*) ;; *) pkgs="$pkgs $p" ;; esac
	done
	# shellcheck disable=SC2086 # word lists
	download "$ver" $pkgs
	KPKGS=""
	for p in $pkgs; do KPKGS="$KPKGS $p=$ver"; done
	KPKGS=${KPKGS# }

	root=$KROOT/root
	rm -rf "$root" "$root.tmp"
	mkdir -p "$root.tmp"
	for p in $pkgs; do
		log "extracting $p"
		dpkg -x "$APTDIR/debs/${p}_${ver}_"*.deb "$root.tmp"
	done
	mv "$root.tmp" "$root"
	fix_paths "$root"

	KVER=${hdr_abi#linux-headers-}
	KDIR=$root/usr/src/linux-headers-$KVER
	[ -f "$KDIR/.config" ] || die "no .config in $KDIR"
	for f in "$root/boot/vmlinuz-$KVER" "$root/usr/lib/modules/$KVER/vmlinuz"; do
		if [ -f "$f" ]; then
			KIMAGE=$f
			break
		fi
	done
	[ -n "$KIMAGE" ] || die "no vmlinuz for $KVER in $KROOT/root"
fi

pick_cc
pick_makeflags

kbuild=$(readlink -f "$KDIR/scripts/..")
tools=$(too_new_tools "$kbuild")
if [ -n "$tools" ]; then
	[ "$NAME" != 6.1 ] || die "system kbuild tools need a newer glibc?!"
	log "kbuild tools need more than host $(getconf GNU_LIBC_VERSION):" "$(tr "\n" " " <<<"$tools")"
	# shellcheck disable=SC2086 # word list
	rebuild_tools "$ver" "$kbuild" $tools
fi

hello_test
emit_env >"$ENVFILE"
cat "$ENVFILE"
