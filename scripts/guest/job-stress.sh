#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# VM job: race stress.  mgstress runs the async lifecycle races (exit,
# exec, munmap, close, cancel against delivery; fork; fd passing; threads)
# for STRESS_SECONDS with rmmod attempts alongside, checks the counters back
# at zero, then STRESS_UNLOAD_CYCLES load/submit/close/unload cycles with
# deliveries pending; then a kmemleak scan.  STRESS_* and FUZZ_SEED come
# from the kernel command line.
verdict=${MODEGATE_VERDICT:-/dev/null}
dir=/usr/lib/modegate/selftests
seed=${FUZZ_SEED:-1}
rc=0
result() {
	echo "result stress $1 $2" >"$verdict"
	[ "$1" = fail ] && rc=1
	return 0
}
# Run mgstress; pass its "result ..." lines on; fail if it failed.
stress() {
	"$dir/mgstress" "$@" >/tmp/stress.out 2>&1
	src=$?
	cat /tmp/stress.out
	grep '^result ' /tmp/stress.out >"$verdict"
	[ $src = 0 ] || result fail "mgstress_exit_$src"
}

# Leak checks begin (kmemleak, slab counts); post-*.sh finish them.
# shellcheck source=/dev/null
. /usr/lib/modegate/pre-leaks.sh
modprobe modegate || { result fail load_module; exit 1; }
echo "=== mgstress: ${STRESS_SECONDS:-60} s, ${STRESS_WORKERS:-4} workers, seed $seed"
stress -d "${STRESS_SECONDS:-60}" -w "${STRESS_WORKERS:-4}" -s "$seed"
if rmmod modegate; then
	result ok unload_module
else
	result fail unload_module
fi
echo "=== mgstress: ${STRESS_UNLOAD_CYCLES:-50} unload cycles"
stress -U "${STRESS_UNLOAD_CYCLES:-50}" -s "$seed"
for f in /usr/lib/modegate/post-*.sh; do
	# shellcheck disable=SC1090
	[ -e "$f" ] && . "$f"
done
exit $rc
