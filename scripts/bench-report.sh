#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Turn mgbench's sample lines (the output of the VM's bench job) into a
# table with each goal beside its figure, DIR/bench.json, and a chart of
# the ratios (DIR/bench.svg and DIR/bench.png, when gnuplot is there).
#
#   bench-report.sh OUTPUT [DIR [VMLOG]]   DIR defaults to build/;
#                                          VMLOG: vm.sh's own lines
#
# Each ratio is taken per round, between the two sides measured back to
# back in that round; min, median and max are over the rounds.  A goal is
# judged on the median.  Nothing fails on a number: the exit status is 1
# only when a figure has no samples (a measurement could not be taken).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
# shellcheck source=scripts/lib.sh
. "$here/lib.sh"

in=${1:?usage: bench-report.sh OUTPUT [DIR [VMLOG]]}
dir=${2:-$top/build}
vmlog=${3:-}
[ -r "$in" ] || mg_die "no bench output $in"
mkdir -p "$dir"

strats="adopt_mm pin remote buffered"

# KEY|LABEL|FIG|SIDE|ANCHOR|UNIT|GOAL|CHART
#   ANCHOR "-": a figure of SIDE's values alone; else the ratio SIDE/ANCHOR.
#   GOAL: ">=X", "<=X", "aim>=X" (reported, with the issue's aim) or "-".
#   CHART: "speed" (plot the ratio), "inverse" (plot 1/ratio: a cost), "-".
figures() {
	local sz w q s goal size
	for sz in 4k 64k 1m; do
		for w in read write; do
			case $sz in
			4k) goal='aim>=0.9' size='4 KiB' ;;
			64k) goal='>=0.95' size='64 KiB' ;;
			*) goal=- size='1 MiB' ;;
			esac
			echo "store_${w}_$sz|store p$w, $size blocks, vs tmpfs|store_${w}_$sz|modegate|tmpfs|MiB/s|$goal|speed"
		done
	done
	echo "info_ioctl|INFO ioctl vs ENOTTY on /dev/null|info_ioctl|modegate|floor|ns|<=1.3|inverse"
	echo "info_floor|the ENOTTY floor itself|info_ioctl|floor|-|ns|-|-"
	for q in 1 32 256; do
		for s in $strats; do
			goal=-
			[ "$q" = 32 ] && { [ "$s" = adopt_mm ] || [ "$s" = pin ]; } && goal='>=0.5'
			echo "async_qd${q}_$s|async QD $q ${s^^} vs io_uring READ|async_qd${q}_$s|modegate|io_uring|req/s|$goal|speed"
		done
	done
	for s in $strats; do
		echo "irq_reap_p50_$s|interrupt-to-reap p50, ${s^^} QD 1|irq_reap_$s|p50|-|us|-|-"
		echo "irq_reap_p99_$s|interrupt-to-reap p99, ${s^^} QD 1|irq_reap_$s|p99|-|us|-|-"
	done
	for s in $strats; do
		echo "mem_per_req_$s|kernel memory per queued request beyond its data, ${s^^}|mem_per_req_$s|modegate|-|B|<=256|-"
	done
	# "No growth" within the noise: one leaked kmalloc-8 per request would
	# be 7.6 MiB over 1,000,000; kworkers coming and going move ~0.3 MiB.
	echo "slab_growth|Slab+VmallocUsed growth over the slab run|slab_growth|modegate|-|KiB|<=1024|-"
	echo "slab_growth_per_req|the same, per request|slab_growth_per_req|modegate|-|B|-|-"
	echo "slab_growth_requests|requests in the slab run (ADOPT_MM, QD 256)|slab_growth_requests|modegate|-|req|-|-"
	echo "slab_growth_rate|their rate|slab_growth_rate|modegate|-|req/s|-|-"
	# Where the time goes: the fixed cost of a call, the async stages.
	for w in read write; do
		echo "call_${w}_1b|profile: one 1-byte p${w} vs tmpfs|call_${w}_1b|modegate|tmpfs|ns|-|-"
	done
	for s in $strats; do
		echo "submit_irq_$s|profile: submit to interrupt p50, ${s^^} QD 1|submit_irq_$s|p50|-|us|-|-"
		echo "irq_deliver_$s|profile: interrupt to delivery p50, ${s^^} QD 1|irq_deliver_$s|p50|-|us|-|-"
	done
	for q in 32 256; do
		for s in $strats; do
			echo "async_qd${q}_${s}_batch|profile: completions per reap, ${s^^} QD $q|async_qd${q}_${s}_batch|modegate|-|req|-|-"
		done
	done
}

host_cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
host_cpus=$(nproc)
host_load=$(cut -d' ' -f1-3 /proc/loadavg)
# The stamp every table and chart carries: what was measured, when, how.
top=$(cd "$(dirname "$0")/.." && pwd)
version="modegate $(cat "$top/VERSION" 2>/dev/null || echo unknown)"
rev=$(git -C "$top" describe --always --dirty 2>/dev/null || true)
stamp="$version${rev:+ (git $rev)}, $(date -u '+%Y-%m-%d %H:%M UTC'), ${MG_BENCH_CMD:-make bench}"
accel=$(sed -n 's/^modegate: bench in .* s (\([a-z]*\), .*/\1/p' "${vmlog:-/dev/null}" 2>/dev/null | tail -n 1)

figures >"$dir/bench.figures"
rc=0
awk -v json="$dir/bench.json" -v dat="$dir/bench.dat" -v host_cpu="$host_cpu" \
	-v host_cpus="$host_cpus" -v host_load="$host_load" -v accel="${accel:-unknown}" \
	-v stamp="$stamp" '
function sortv(a, n,   i, j, t) {
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
			t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
		}
}
function median(a, n) {
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
function fmt(v, unit) {
	if (unit == "x") return sprintf("%.2f", v)
	if (v != 0 && v < 10 && v > -10) return sprintf("%.2f", v)
	return sprintf("%.0f", v)
}
function jarr(a, n,   i, s) {
	s = "["
	for (i = 1; i <= n; i++) s = s (i > 1 ? ", " : "") sprintf("%.6g", a[i])
	return s "]"
}
function jstats(a, n) {
	return sprintf("{\"min\": %.6g, \"median\": %.6g, \"max\": %.6g}", a[1], median(a, n), a[n])
}
# The verdict of @v against @goal: meets, short or reported.
function verdict(v, goal,   op, x) {
	if (goal == "-") return "reported"
	op = goal; sub(/[0-9.]+$/, "", op)
	x = substr(goal, length(op) + 1) + 0
	if (op == ">=" || op == "aim>=") return v >= x ? "meets" : "short"
	if (op == "<=") return v <= x ? "meets" : "short"
	return "?"
}
function goaltext(goal, unit,   op, x) {
	if (goal == "-") return "reported"
	op = goal; sub(/[0-9.]+$/, "", op)
	x = substr(goal, length(op) + 1)
	if (op == "aim>=") return "reported (aim >= " x "x)"
	return op " " x (unit == "x" ? "x" : " " unit)
}
FNR == NR {
	split($0, f, "|")
	nfig++
	key[nfig] = f[1]; label[nfig] = f[2]; fig[nfig] = f[3]; side[nfig] = f[4]
	anchor[nfig] = f[5]; unit[nfig] = f[6]; goal[nfig] = f[7]; chart[nfig] = f[8]
	next
}
$1 == "meta" && NF >= 3 { meta[$2] = $3; metas[++nmeta] = $2; next }
$1 == "sample" && NF == 6 {
	v[$2, $4, $3] = $5
	if (!(($2, $3) in seenr)) { seenr[$2, $3] = 1; nr[$2]++; rnd[$2, nr[$2]] = $3 }
	next
}
$1 == "error" { errors = errors "\n  " $0 }
END {
	printf "%s\n", stamp
	printf "modegate bench: kernel %s in a VM (%s), %s vCPUs; host: %s, %s CPUs, load average %s\n",
		meta["kernel"], accel, meta["cpus"], host_cpu, host_cpus, host_load
	printf "%s rounds, alternating the sides; median of the per-round ratios judged against each goal\n",
		meta["rounds"]
	if (meta["only"] != "")
		printf "only the figures whose name contains \"%s\" (BENCH_ONLY)\n", meta["only"]
	printf "\n"
	printf "| figure | modegate | anchor | ratio or value: min / median / max | goal | verdict |\n"
	printf "|---|---|---|---|---|---|\n"
	printf "{\n  \"stamp\": \"%s\",\n", stamp >json
	printf "  \"machine\": {\"kernel\": \"%s\", \"accel\": \"%s\", \"vcpus\": %d, \"host_cpu\": \"%s\", \"host_cpus\": %d, \"host_load\": \"%s\"},\n",
		meta["kernel"], accel, meta["cpus"], host_cpu, host_cpus, host_load >json
	printf "  \"meta\": {" >json
	for (i = 1; i <= nmeta; i++)
		if (metas[i] != "round")
			printf "%s\"%s\": \"%s\"", (i > 1 ? ", " : ""), metas[i], meta[metas[i]] >json
	printf "},\n  \"figures\": [\n" >json
	printf "" >dat
	for (i = 1; i <= nfig; i++) {
		n = 0; delete a; delete x; delete y
		for (k = 1; k <= nr[fig[i]]; k++) {
			r = rnd[fig[i], k]
			if (!((fig[i], side[i], r) in v)) continue
			if (anchor[i] != "-" && !((fig[i], anchor[i], r) in v)) continue
			n++
			x[n] = v[fig[i], side[i], r]
			if (anchor[i] != "-") {
				y[n] = v[fig[i], anchor[i], r]
				a[n] = y[n] ? x[n] / y[n] : 0
			} else
				a[n] = x[n]
		}
		u = anchor[i] != "-" ? "x" : unit[i]
		if (!n && meta["only"] != "" && index(fig[i], meta["only"]) == 0)
			continue	# not asked for (BENCH_ONLY)
		if (!n && key[i] ~ /^slab_growth/ && meta["slab_requests"] == "0") {
			printf "| %s | skipped (BENCH_SLAB_REQUESTS=0) | | | %s | n/a |\n", label[i], goaltext(goal[i], u)
			continue
		}
		if (!n) {
			missing++
			printf "| %s | n/a | | no samples | %s | n/a |\n", label[i], goaltext(goal[i], u)
			continue
		}
		sortv(a, n); sortv(x, n)
		med = median(a, n)
		ver = verdict(med, goal[i])
		if (anchor[i] != "-") {
			sortv(y, n)
			printf "| %s | %s %s | %s %s | %s / **%s** / %sx | %s | %s |\n", label[i],
				fmt(median(x, n)), unit[i], fmt(median(y, n)), unit[i],
				fmt(a[1], u), fmt(med, u), fmt(a[n], u), goaltext(goal[i], u), ver
		} else
			printf "| %s | %s %s | | %s / **%s** / %s %s | %s | %s |\n", label[i],
				fmt(med), unit[i], fmt(a[1]), fmt(med), fmt(a[n]), unit[i],
				goaltext(goal[i], u), ver
		if (anchor[i] != "-" && med) {
			spread = (a[n] - a[1]) / med
			nspread++; sp[nspread] = spread
		}
		printf "%s    {\"key\": \"%s\", \"label\": \"%s\", \"unit\": \"%s\", \"side\": \"%s\", \"anchor\": \"%s\", \"goal\": \"%s\", \"verdict\": \"%s\", \"rounds\": %d,\n",
			(printed ? ",\n" : ""), key[i], label[i], unit[i], side[i], anchor[i], goal[i], ver, n >json
		printed = 1
		if (anchor[i] != "-")
			printf "     \"ratio\": %s, \"value\": %s, \"anchor_value\": %s}", jstats(a, n), jstats(x, n), jstats(y, n) >json
		else
			printf "     \"value\": %s}", jstats(a, n) >json
		if (chart[i] == "speed")
			printf "\"%s\" %.4f %.4f %.4f %s\n", key[i], med, a[1], a[n],
				goal[i] == "-" ? "NaN" : substr(goal[i], index(goal[i], "=") + 1) >dat
		else if (chart[i] == "inverse")
			printf "\"%s\" %.4f %.4f %.4f %.4f\n", key[i], 1 / med, 1 / a[n], 1 / a[1],
				1 / substr(goal[i], index(goal[i], "=") + 1) >dat
	}
	printf "\n  ]\n}\n" >json
	if (nspread) {
		sortv(sp, nspread)
		printf "\nnoise: the spread (max - min) / median of a ratio over the rounds is %.0f%% typically (median over figures), %.0f%% at most\n",
			100 * median(sp, nspread), 100 * sp[nspread]
	}
	if (meta["eintr"] + 0)
		printf "note: %d ASYNC_WAIT/SUBMIT calls saw EINTR with no signal sent (io_uring task work) and were retried\n", meta["eintr"]
	if (errors != "") printf "\nmeasurements that could not be taken:%s\n", errors
	exit (missing || errors != "") ? 1 : 0
}' "$dir/bench.figures" "$in" || rc=1
rm -f "$dir/bench.figures"
echo
echo "modegate: wrote $dir/bench.json"

# The chart: speed relative to the anchor, 1 = as fast; bars are medians,
# whiskers min and max, dots the goals (a cost is plotted as 1/ratio).
if command -v gnuplot >/dev/null && [ -s "$dir/bench.dat" ]; then
	for term in "svg size 1100,520 dynamic font 'sans,11'|svg" \
		"pngcairo size 1100,520 font 'sans,9'|png"; do
		gnuplot <<EOF || rc=1
set terminal ${term%|*}
set output '$dir/bench.${term#*|}'
set title "modegate vs the anchor a user would pick instead (${accel:-TCG} VM; only ratios mean anything)\n$stamp; host: $host_cpus x $host_cpu" noenhanced
set ylabel "speed relative to the anchor (1 = as fast)"
set yrange [0:1.1<*]
set rmargin 8
set grid ytics
set xtics rotate by -40 left noenhanced
set key top right
set boxwidth 0.6
set style fill solid 0.5 border -1
set offsets 0.5, 0.5, 0, 0
plot '$dir/bench.dat' using 0:2:xtic(1) with boxes lc rgb "#4878a8" title "median over the rounds", \
     '' using 0:2:3:4 with yerrorbars lc rgb "black" pt -1 title "min .. max", \
     '' using 0:5 with points pt 7 ps 1.2 lc rgb "#c03030" title "goal", \
     1 with lines dt 2 lc rgb "gray" notitle
EOF
	done
	echo "modegate: wrote $dir/bench.svg and $dir/bench.png"
fi
exit $rc
