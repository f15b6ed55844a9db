#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The one place that installs packages: the Debian packages modegate needs,
# in groups, only those missing.  Each make target asks for the groups it
# needs; the script prints the groups asked for and what it installs.
#
#   deps.sh [GROUP | PACKAGE]...    no argument: every group (make deps)
#
# Groups (a group includes the ones it names with @):
#   base     build the module, the tool and the selftests; boot them in qemu;
#            draw the demo's picture (make demo)
#   check    @base and shellcheck (make check)
#   lint     @check, sparse and mandoc (make lint)
#   kernel   @check and what building a kernel from linux-source needs
#            (the debug kernel: make check-debug, stress, zoo)
#   fuzz     @kernel and trinity (make fuzz)
#   coverage @fuzz and lcov (make coverage)
#   bench    @base, liburing and gnuplot (make bench, make profile)
#   matrix   @kernel and Debian's archive keyring (make matrix)
#   package  @check, DKMS, debhelper, lintian, man, udev (make package)
# Any other argument is a package name (make profile asks for linux-perf).
set -eu

declare -A group=(
	[base]="linux-image-amd64 linux-headers-amd64 linux-source-6.1
		gcc make libc6-dev gcc-multilib libkmod-dev kmod
		qemu-system-x86 busybox-static cpio xz-utils
		librsvg2-bin libxml2-utils fonts-dejavu-core"
	[check]="@base shellcheck"
	[lint]="@check sparse mandoc"
	[kernel]="@check flex bison bc libelf-dev libssl-dev dwarves rsync"
	[fuzz]="@kernel trinity"
	[coverage]="@fuzz lcov"
	[bench]="@base liburing-dev gnuplot-nox"
	[matrix]="@kernel debian-archive-keyring"
	[package]="@check git dkms dpkg-dev debhelper dh-dkms lintian mandoc
		man-db udev systemd"
)

# expand NAME: the packages of group NAME (with the groups it names), or
# NAME itself when it is not a group.
pkgs=()
expand() {
	local w
	if [ -z "${group[$1]+set}" ]; then
		pkgs+=("$1")
		return
	fi
	for w in ${group[$1]}; do
		case $w in
		@*) expand "${w#@}" ;;
		*) pkgs+=("$w") ;;
		esac
	done
}
[ "$#" -gt 0 ] || set -- "${!group[@]}"
for a in "$@"; do
	expand "$a"
done
mapfile -t pkgs < <(printf '%s\n' "${pkgs[@]}" | sort -u)

# One dpkg-query for all: cheap enough for every target that needs packages.
installed=" $(dpkg-query -W -f='${db:Status-Status} ${Package}\n' "${pkgs[@]}" 2>/dev/null |
	awk '$1 == "installed" { printf "%s ", $2 }')"
missing=()
for p in "${pkgs[@]}"; do
	[[ $installed == *" $p "* ]] || missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then
	echo "modegate: packages for $*: all ${#pkgs[@]} installed"
	exit 0
fi

sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo
echo "modegate: packages for $*: installing ${#missing[@]} of ${#pkgs[@]} (and what they depend on): ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Refresh the package lists first when they are missing or a day old.
lists=$(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' -mtime -1 2>/dev/null | head -n 1)
[ -n "$lists" ] || $sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}" ||
	{ $sudo apt-get update -q && $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"; }
