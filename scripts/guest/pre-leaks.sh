#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Sourced by checks_begin (lib.sh) before a job's workload: start the leak checks that the
# post-*.sh hooks finish after the module is unloaded.
#  - kmemleak: forget what boot left behind, and stop the periodic scan:
#    on a KASAN kernel under TCG one scan holds a CPU for minutes, which
#    the async selftests want idle (interrupt_hits_the_idle_task saw the
#    scanner in 182 of 200 interrupts); post-kmemleak.sh scans on demand.
#  - slab counts: the live objects of the caches a leaked reference would
#    pin (mm_struct: a captured mm never dropped; filp: an fget() never
#    put).  kmemleak misses those when a stale pointer (a freed kernel
#    stack, say) still looks like a reference; a count does not.
if [ -w /sys/kernel/debug/kmemleak ]; then
	echo scan=off >/sys/kernel/debug/kmemleak
	echo clear >/sys/kernel/debug/kmemleak
fi
sh /usr/lib/modegate/slab.sh save
