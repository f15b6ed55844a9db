#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Run a VM job on the debug kernel (KASAN, lockdep, kmemleak, KFENCE,
# fault injection), building and caching that kernel first if needed.
#
#   run.sh JOB     JOB: debug (make check-debug), fuzz (make fuzz),
#                  stress (make stress)
#
# Results go to build/vm-debug-JOB/results for scripts/tally.sh.
set -eu -o pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
job=$1

start=$(date +%s)
bash "$here/build-kernel.sh" >&2
# shellcheck source=/dev/null
. "${MODEGATE_CACHE:-$HOME/.cache/modegate}/debug-6.1/env"
built=$(date +%s)
echo "modegate: debug kernel ready in $((built - start)) s" >&2

ko=$(bash "$top/scripts/build-ko.sh" debug "$KDIR" W=1)
KVER=$(cat "$KDIR/include/config/kernel.release")
export KVER KIMAGE
extra=
[ "$job" = fuzz ] && extra=$(command -v trinity || true)
# KASAN and kmemleak need room; a debug kernel under TCG needs time (the
# full fuzz: about 40 minutes on a busy 2-core machine).
timeout_s=3000
[ "$job" = fuzz ] && timeout_s=5400
KO=$ko VM_OUT=$top/build/vm-debug-$job VM_MEM=${VM_MEM:-3072} \
	VM_TIMEOUT=${VM_TIMEOUT:-$timeout_s} MG_EXTRA_BINS=$extra \
	bash "$top/scripts/vm.sh" "$job" || true
echo "modegate: debug $job run in $(($(date +%s) - built)) s" >&2
