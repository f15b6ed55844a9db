#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# VM job for make check-kcsan, on the KCSAN kernel: the selftests, then
# mgstress for STRESS_SECONDS (the async lifecycle races), then the leak
# checks.  The races KCSAN reports are judged by vm.sh from the kernel log.
# shellcheck source=scripts/guest/lib.sh
. /usr/lib/modegate/lib.sh
checks_begin
run_suite
echo "=== mgstress: ${STRESS_SECONDS:-60} s, ${STRESS_WORKERS:-4} workers, seed ${FUZZ_SEED:-1}"
check kcsan load_module modprobe modegate || exit 1
check kcsan mgstress "$MG_SELFTESTS/mgstress" -d "${STRESS_SECONDS:-60}" \
	-w "${STRESS_WORKERS:-4}" -s "${FUZZ_SEED:-1}"
check kcsan unload_module rmmod modegate
# The detector was on and watching all along: its own counters say so.
echo "=== /sys/kernel/debug/kcsan"
cat /sys/kernel/debug/kcsan
check kcsan detector_enabled_and_watching kcsan_active
checks_end
exit $rc
