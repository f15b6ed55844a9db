#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# VM job: benchmarks.  Throughput of the store and the cost of an ioctl, as
# ratios to baselines measured in the same boot (/dev/zero, getppid), so
# that numbers from different machines and TCG runs can be compared.
verdict=${MODEGATE_VERDICT:-/dev/null}
if modprobe modegate && modegate bench && modegate --json bench >/tmp/bench.json; then
	echo "--- json"
	cat /tmp/bench.json
	echo "result bench ok bench" >"$verdict"
else
	echo "result bench fail bench" >"$verdict"
	exit 1
fi
rmmod modegate
