#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# VM job: where the time goes.  perf (Debian's linux-perf) samples every
# CPU on cpu-clock -- a timer, so it works under TCG, which has no
# hardware counters -- while mgbench -m runs modegate's side of the
# figures named by PROFILE (mgbench -f; default async_qd32_adopt_mm).
# The call chains are folded here, in the guest (perf needs its kallsyms),
# and printed: the leaf functions of all that was not idle, then, under
# each of modegate's entry points, its share and its leaves.  Time spent
# with interrupts off (a hard irq, a spinlock_irqsave) is charged to the
# place that turned them back on: that is how cpu-clock sees it.  The
# setup's fill of the store is in it too (modegate_write_iter).
# The idle samples are counted apart: the loop runs on one CPU at a time,
# so on a 2-CPU guest about half the samples are idle.
# shellcheck source=scripts/guest/lib.sh
. /usr/lib/modegate/lib.sh
profile=${PROFILE:-async_qd32_adopt_mm}
if ! modprobe modegate store_size=$((16 << 20)); then
	result profile fail load_module
	exit 1
fi
echo 0 >/proc/sys/kernel/kptr_restrict
echo -1 >/proc/sys/kernel/perf_event_paranoid
echo "profile: $profile, modegate's side only (mgbench -m)"
check profile record perf record -q -o /tmp/perf.data -a -g -F 4000 -e cpu-clock -- \
	mgbench -m -r 3 -s 0 -T 1000 -f "$profile"
# One line per distinct chain: "count leaf;caller;...;root".
perf script -i /tmp/perf.data -F comm,ip,sym 2>/dev/null >/tmp/perf.script
awk '
	/^\t/ { if (n < 16) { st = (st == "" ? $NF : st ";" $NF); n++ } next }
	NF { if (st != "") c[st]++; st = ""; n = 0 }
	END { if (st != "") c[st]++; for (k in c) print c[k], k }' /tmp/perf.script >/tmp/folded
if [ ! -s /tmp/folded ]; then
	result profile fail fold
	exit 1
fi
# top ENTRY N: the samples under ENTRY (all if "-") and its N hottest leaves.
top() {
	awk -v e="$1" -v n="$2" '
		{ k = $1; $1 = ""; m = split(substr($0, 2), f, ";")
		  all += k; if (f[1] == "native_safe_halt") { idle += k; next }
		  hit = (e == "-"); for (i = 1; i <= m && !hit; i++) hit = (f[i] == e)
		  if (!hit) next; tot += k; leaf[f[1]] += k }
		END {
			if (!tot) { printf "%s: no samples\n", e; exit }
			printf "%s: %d samples, %.1f%% of the busy time (%d samples, %d idle)\n",
			       e == "-" ? "all" : e, tot, 100 * tot / (all - idle), all - idle, idle
			sort = "sort -rn | head -n " n
			for (l in leaf) printf "%8d %5.1f%%  %s\n", leaf[l], 100 * leaf[l] / tot, l | sort
			close(sort)
		}' /tmp/folded
}
top - 25
for e in modegate_ioc_async_submit modegate_line_irq modegate_async_work \
	 modegate_adopt_deliver modegate_pin_deliver modegate_remote_deliver \
	 modegate_buffered_deliver modegate_ioc_async_wait modegate_ioc_async_reap \
	 modegate_read_iter modegate_write_iter modegate_ioc_info; do
	grep -q "$e" /tmp/folded && { echo; top "$e" 12; }
done
rmmod modegate || result profile fail unload_module
exit $rc
