#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make check HOST=1: run the selftests on this machine's own kernel (a dev
# box that can load modules), the way the VM's check job does: installed
# with make -C selftests install, run by the kernel's run_kselftest.sh,
# read by scripts/guest/ktap.awk.  Loads ./modegate.ko first, unloads
# after.  Writes "ok|fail|skip NAME" lines for scripts/tally.sh.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
# shellcheck source=scripts/lib.sh
. "$here/lib.sh"
[ "$(id -u)" = 0 ] || { echo "fail host.needs_root"; exit 1; }
if ! grep -q '^modegate ' /proc/modules; then
	insmod "$top/modegate.ko" || { echo "fail host.insmod"; exit 1; }
fi
# The selftests reload the module by name: make modprobe find this build.
mkdir -p "/lib/modules/$(uname -r)/extra"
cp "$top/modegate.ko" "/lib/modules/$(uname -r)/extra/modegate.ko"
depmod -a
inst=$top/build/kselftest
rm -rf "$inst"
make -s --no-print-directory -C "$top/selftests" install INSTALL_PATH="$inst" >&2
set --
for t in ${MODEGATE_TESTS:-}; do
	set -- "$@" -t "modegate:$t"
done
"$inst/run_kselftest.sh" "$@" 2>&1 | tee "$inst/ktap.log" >&2
awk -f "$here/guest/ktap.awk" "$inst/ktap.log" | mg_results
if rmmod modegate; then echo "ok host.unload"; else echo "fail host.unload"; fi
