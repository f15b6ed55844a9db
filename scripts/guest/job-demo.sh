#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# VM job: the main job.  Load the module, show the device at work, print
# the module's kernel log lines.
verdict=${MODEGATE_VERDICT:-/dev/null}
run() {
	echo "\$ $*"
	sh -c "$*"
}
rc=0
run modegate load || rc=1
run 'ls -l /dev/modegate' || rc=1
run modegate info || rc=1
run 'echo hi > /dev/modegate; cat /dev/modegate' || rc=1
if modegate tour --help >/dev/null 2>&1; then
	run modegate tour || rc=1
fi
echo
echo "--- kernel log lines of the module (dmesg | grep modegate)"
dmesg | grep -i modegate
run modegate unload || rc=1
echo "result demo $([ $rc = 0 ] && echo ok || echo fail) demo" >"$verdict"
exit $rc
