#!/bin/sh
# shellcheck disable=SC2317  # functions are called through part()
# SPDX-License-Identifier: GPL-2.0
# VM job: the main job.  Load the module, show the device at work, take the
# tour (with the bystander demonstration), print the module's kernel log
# lines.  Fails when any part fails, the tour included.  The tour's picture
# of the async requests is printed between @@modegate-file/@@modegate-end
# lines, which scripts/demo-picture.sh cuts out on the host.
# shellcheck source=scripts/guest/lib.sh
. /usr/lib/modegate/lib.sh
export NO_COLOR=1	# the output is a log file

# part NAME SHOWN COMMAND...: print SHOWN, run COMMAND, report NAME's result.
part() {
	name=$1 shown=$2
	shift 2
	echo "\$ $shown"
	check demo "$name" "$@"
	echo
}

start=$(cut -d. -f1 /proc/uptime)
part load "modegate load" modegate load
part node "ls -l /dev/modegate" ls -l /dev/modegate
part info "modegate info" modegate info
part store "echo hi > /dev/modegate; cat /dev/modegate" store_round_trip
part tour "modegate tour --bystander --svg /tmp/picture" \
	modegate tour --bystander --svg /tmp/picture
part stats "modegate stats" modegate stats
echo "--- kernel log lines of the module (dmesg | grep modegate)"
dmesg | grep -E '^\[[ 0-9.]+\] modegate'
echo
part unload "modegate unload" modegate unload
for f in /tmp/picture/*.svg; do
	[ -e "$f" ] || continue
	echo "@@modegate-file ${f##*/}"
	cat "$f"
	echo "@@modegate-end"
done
echo "--- the demo took $(($(cut -d. -f1 /proc/uptime) - start)) s in the VM"
exit $rc
