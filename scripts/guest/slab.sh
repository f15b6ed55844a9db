#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Live objects of the caches that leaked references would pin.
#
#   slab.sh save     record them in /tmp/modegate-slab.base
#   slab.sh check    print "CACHE BEFORE AFTER SLACK ok|leak" for each,
#                    waiting (5 s at most) for RCU-deferred frees to land;
#                    "ok" allows SLACK objects of noise (MG_SLAB_SLACK, 8)
#
# Only caches with their own slab (not merged into another: the debug
# kernel has no slab merging) are counted.  A shrink first flushes the
# per-CPU slabs and the KASAN quarantine, so the count is exact -- except
# for a SLAB_TYPESAFE_BY_RCU cache (filp since 6.12), whose count moves a
# whole slab at a time (measured on 6.12: 42, 84, 63 with nothing done):
# there the slack is a slab per CPU and one more, so a leak per request
# still shows and a single leaked object may not.
base=/tmp/modegate-slab.base
caches="mm_struct filp"

slack_of() {
	d=/sys/kernel/slab/$1
	s=${MG_SLAB_SLACK:-8}
	if [ "$(cat "$d/destroy_by_rcu" 2>/dev/null)" = 1 ]; then
		per=$(cat "$d/objs_per_slab" 2>/dev/null || echo 0)
		cpus=$(grep -c '^processor' /proc/cpuinfo)
		[ $((per * (cpus + 1))) -gt "$s" ] && s=$((per * (cpus + 1)))
	fi
	echo "$s"
}

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
		slack=$(slack_of "$c")
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
			echo "$c $before $now $slack ok"
		else
			echo "$c $before $now $slack leak"
		fi
	done <"$base"
	;;
esac
