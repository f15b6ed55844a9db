#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# VM job: mgbench, modegate against the paths a user would pick instead
# (tmpfs, the ENOTTY floor, io_uring), in this one boot.  Its sample lines
# go to the job output; scripts/bench-report.sh makes the table of them.
# The module gets a 16 MiB store so that the block loops walk 16 MiB of
# both the store and the tmpfs file.  The run fails only when a measurement
# could not be taken: numbers are judged by the report, not here.
# BENCH_ROUNDS, BENCH_SLAB_REQUESTS, BENCH_ASYNC_MS, BENCH_CALLS,
# BENCH_BYTES and BENCH_ONLY come from the kernel command line (make bench).
# shellcheck source=scripts/guest/lib.sh
. /usr/lib/modegate/lib.sh
if ! modprobe modegate store_size=$((16 << 20)); then
	result bench fail load_module
	exit 1
fi
# Only what is set is passed: the defaults live in mgbench.
set --
[ -n "${BENCH_ROUNDS:-}" ] && set -- "$@" -r "$BENCH_ROUNDS"
[ -n "${BENCH_SLAB_REQUESTS:-}" ] && set -- "$@" -s "$BENCH_SLAB_REQUESTS"
[ -n "${BENCH_ASYNC_MS:-}" ] && set -- "$@" -T "$BENCH_ASYNC_MS"
[ -n "${BENCH_CALLS:-}" ] && set -- "$@" -c "$BENCH_CALLS"
[ -n "${BENCH_BYTES:-}" ] && set -- "$@" -b "$BENCH_BYTES"
[ -n "${BENCH_ONLY:-}" ] && set -- "$@" -f "$BENCH_ONLY"
check bench mgbench mgbench "$@"
rmmod modegate || result bench fail unload_module
exit $rc
