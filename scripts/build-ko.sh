#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build modegate.ko against another kernel tree without touching the
# in-tree build: the sources are copied to build/ko-NAME and built there.
#
#   build-ko.sh NAME KDIR [make args...]     prints the path of the .ko
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
name=$1 kdir=$2
shift 2
dst=$top/build/ko-$name
mkdir -p "$dst"
# Copy only what kbuild needs; keep timestamps so rebuilds are incremental.
cp -pu "$top/Kbuild" "$top/VERSION" "$dst/"
mkdir -p "$dst/module" "$dst/include/uapi/linux"
cp -pu "$top"/module/*.[ch] "$dst/module/"
cp -pu "$top/include/uapi/linux/modegate.h" "$dst/include/uapi/linux/"
make -C "$kdir" M="$dst" "$@" modules >"$dst/build.log" 2>&1 || {
	cat "$dst/build.log" >&2
	echo "modegate: module build against $kdir failed" >&2
	exit 1
}
echo "$dst/modegate.ko"
