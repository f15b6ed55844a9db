#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# layers.sh - calls between the module's files go one way.
#
# From the built objects (module/*.o): for every function a file calls that
# another file of the module defines, an edge "caller -> definer".  Data
# (the module parameters in main.c, the per-CPU counters in stats.c) is
# shared state, not a call, and is left out.  Prints the
# edges, and fails if they form a cycle (tsort finds it).  The intended
# shape is in module/modegate.h.
set -eu
cd "$(dirname "$0")/../module"
objs=(*.o)
[ -e "${objs[0]}" ] || { echo "layers: no module/*.o: build the module first" >&2; exit 1; }

declare -A def
for o in "${objs[@]}"; do
	while read -r sym; do
		def[$sym]=${o%.o}
	done < <(nm --defined-only "$o" | awk '$2 == "T" { print $3 }')
done

edges=$(for o in "${objs[@]}"; do
	nm --undefined-only "$o" | awk '{ print $2 }' | while read -r sym; do
		d=${def[$sym]:-}
		[ -n "$d" ] && [ "$d" != "${o%.o}" ] && echo "${o%.o} $d"
	done
done | sort -u)

echo "$edges" | awk '{ print "layers: " $1 " -> " $2 }' >&2
if ! echo "$edges" | tsort >/dev/null 2>"${TMPDIR:-/tmp}/layers.$$"; then
	echo "layers: the calls between files form a cycle:" >&2
	cat "${TMPDIR:-/tmp}/layers.$$" >&2
	rm -f "${TMPDIR:-/tmp}/layers.$$"
	exit 1
fi
rm -f "${TMPDIR:-/tmp}/layers.$$"
echo "layers: no cycle"
