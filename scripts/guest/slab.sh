#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Live objects of the caches that leaked references would pin.
#
#   slab.sh save     record them in /tmp/modegate-slab.base
#   slab.sh check    print "CACHE BEFORE AFTER ok|leak" for each, waiting
#                    (5 s at most) for RCU-deferred frees to land; "ok"
#                    allows MG_SLAB_SLACK (8) objects of noise
#
# Only caches with their own slab (not merged into another: the debug
# kernel has no slab merging) are counted.  A shrink first flushes the
# per-CPU slabs and the KASAN quarantine, so the count is exact.
base=/tmp/modegate-slab.base
caches="mm_struct filp"
slack=${MG_SLAB_SLACK:-8}

count() {
	d=/sys/kernel/slab/$1
	[ -d "$d" ] && [ ! -L "$d" ] && [ -r "$d/objects" ] || return 0
	echo 1 >"$d/shrink" 2>/dev/null
	read -r n _ <"$d/objects"
	echo "$n"
}

case $1 in
save)
	: >"$base"
	for c in $caches; do
		n=$(count "$c")
		[ -n "$n" ] && echo "$c $n" >>"$base"
	done
	;;
check)
	[ -f "$base" ] || exit 0
	while read -r c before; do
		# Files are freed after an RCU grace period: give the count up
		# to 5 s to come all the way back, then judge it with the slack.
		i=0
		while :; do
			now=$(count "$c")
			[ "$now" -le "$before" ] && break
			i=$((i + 1))
			[ $i -ge 50 ] && break
			usleep 100000
		done
		if [ "$now" -le $((before + slack)) ]; then
			echo "$c $before $now ok"
		else
			echo "$c $before $now leak"
		fi
	done <"$base"
	;;
esac
