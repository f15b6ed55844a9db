#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The one place that installs packages: the Debian packages modegate needs
# (and any given as arguments), only those missing.  make deps, and every
# target that needs them, run it.
set -eu

pkgs=(
	linux-image-amd64 linux-headers-amd64 linux-source-6.1
	gcc make libc6-dev gcc-multilib libkmod-dev kmod
	qemu-system-x86 busybox-static cpio xz-utils
	shellcheck sparse liburing-dev trinity gnuplot-nox rsync
	librsvg2-bin libxml2-utils fonts-dejavu-core debian-archive-keyring
	flex bison bc libelf-dev libssl-dev dwarves
	git dkms dpkg-dev debhelper dh-dkms lintian mandoc man-db udev systemd
	lcov
)
[ "$#" -gt 0 ] && pkgs+=("$@")

# One dpkg-query for all: cheap enough for every target that needs packages.
installed=" $(dpkg-query -W -f='${db:Status-Status} ${Package}\n' "${pkgs[@]}" 2>/dev/null |
	awk '$1 == "installed" { printf "%s ", $2 }')"
missing=()
for p in "${pkgs[@]}"; do
	[[ $installed == *" $p "* ]] || missing+=("$p")
done
[ "${#missing[@]}" -eq 0 ] && exit 0

sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo
echo "modegate: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Refresh the package lists first when they are missing or a day old.
lists=$(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' -mtime -1 2>/dev/null | head -n 1)
[ -n "$lists" ] || $sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}" ||
	{ $sudo apt-get update -q && $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"; }
