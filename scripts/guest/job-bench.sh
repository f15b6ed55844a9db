#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# VM job: benchmarks.  Throughput of the store and the cost of an ioctl, as
# ratios to baselines measured in the same boot (/dev/zero, getppid), so
# that numbers from different machines and TCG runs can be compared.
# shellcheck source=scripts/guest/lib.sh
. /usr/lib/modegate/lib.sh
if modprobe modegate && modegate bench && modegate --json bench >/tmp/bench.json; then
	echo "--- json"
	cat /tmp/bench.json
	result bench ok bench
else
	result bench fail bench
	exit 1
fi
rmmod modegate
