#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Sourced by checks_begin (lib.sh) before a job's workload: start the leak checks that the
# post-*.sh hooks finish after the module is unloaded.
#  - kmemleak: forget what boot left behind.
#  - slab counts: the live objects of the caches a leaked reference would
#    pin (mm_struct: a captured mm never dropped; filp: an fget() never
#    put).  kmemleak misses those when a stale pointer (a freed kernel
#    stack, say) still looks like a reference; a count does not.
[ -w /sys/kernel/debug/kmemleak ] && echo clear >/sys/kernel/debug/kmemleak
sh /usr/lib/modegate/slab.sh save
