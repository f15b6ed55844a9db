#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make check HOST=1: run the selftests on this machine's own kernel (a dev
# box that can load modules).  Loads ./modegate.ko, runs every program,
# unloads.  Writes "ok|fail|skip NAME" lines for scripts/tally.sh.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
[ "$(id -u)" = 0 ] || { echo "fail host.needs_root"; exit 1; }
if ! grep -q '^modegate ' /proc/modules; then
	insmod "$top/modegate.ko" || { echo "fail host.insmod"; exit 1; }
fi
cd "$top/selftests" || exit 1
# The selftests reload the module by name: make modprobe find this build.
mkdir -p "/lib/modules/$(uname -r)/extra"
cp "$top/modegate.ko" "/lib/modules/$(uname -r)/extra/modegate.ko"
depmod -a
for prog in $(make -s --no-print-directory print-progs); do
	"./$prog" 2>&1 | tee "/tmp/modegate-$prog.log" >&2
	awk -v prog="$prog" '/^ok [0-9]+ / { print (index($0, "# SKIP") ? "skip" : "ok"), prog "." $3 }
		/^not ok [0-9]+ / { print "fail", prog "." $4 }' "/tmp/modegate-$prog.log"
done
if rmmod modegate; then echo "ok host.unload"; else echo "fail host.unload"; fi
