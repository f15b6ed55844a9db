#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make crash: the blast radius of one bug, in user mode and in kernel mode.
#
# One content parser (crash/record.h) that trusts a blob's record count is
# built twice: into a user program (crash/mgparse.c) and into a demo module
# (crash/mgcrash.c, built here under build/crash/kmod and nowhere else).
# Three VM boots (scripts/vm.sh crash, no modegate in them) feed each the
# same lying blob while a heartbeat and a second application print
# timestamps (scripts/guest/job-crash.sh):
#   user       the user-mode parser dies of SIGSEGV; the others beat on
#   kernel     the kernel-mode parser oopses, panic_on_oops: all stop
#              (vm.sh's expected-panic mode, for this job only)
#   validated  both parsers check the count: EINVAL, and all survive
# Prints the three outcomes side by side, draws build/crash/blast.svg (each
# process's heartbeats on a time axis; checked with xmllint, rendered to
# blast.png) and ends with a tally line.
set -eu -o pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
# shellcheck source=scripts/lib.sh
. "$here/lib.sh"

out=$top/build/crash
results=$out/results
rm -rf "$out" && mkdir -p "$out/kmod" "$out/root/usr/lib/mgcrash"
: >"$results"
ok() { echo "ok crash.$1" >>"$results"; }
bad() { echo "fail crash.$1" >>"$results"; }
verdict() { # verdict NAME CONDITION...: ok or fail NAME
	local name=$1
	shift
	if "$@"; then ok "$name"; else bad "$name"; fi
}

# Build: the user program, and the module from a copy of crash/ (kbuild
# writes its objects next to the sources).
kver=$(mg_kver)
kdir=$(mg_kdir "$kver")
cc -O2 -Wall -Wextra -Werror -o "$out/root/usr/lib/mgcrash/mgparse" "$top/crash/mgparse.c"
cp "$top/crash/Kbuild" "$top/crash/mgcrash.c" "$top/crash/record.h" "$out/kmod/"
make -s -C "$kdir" M="$out/kmod" W=1 modules >"$out/kmod/build.log" 2>&1 ||
	{ cat "$out/kmod/build.log"; mg_die "the demo module does not build"; }
cp "$out/kmod/mgcrash.ko" "$out/root/usr/lib/mgcrash/"

for mode in user kernel validated; do
	echo "=== crash: the $mode run"
	expect=0
	[ "$mode" = kernel ] && expect=1
	KO=none MG_ROOT_OVERLAY=$out/root VM_OUT=$out/$mode VM_EXPECT_PANIC=$expect \
		VM_APPEND="CRASH_MODE=$mode" VM_TIMEOUT=${CRASH_TIMEOUT:-600} \
		bash "$top/scripts/vm.sh" crash >"$out/$mode.log" 2>&1 || true
	tail -n 1 "$out/$mode.log"
	sed -E "s/^([a-z]+) ([a-z]+)\./\1 \2.$mode./" "$out/$mode/results" >>"$results"
done

# lanes MODE: "NAME FIRST LAST COUNT" for each lane of the run's output.
lanes() {
	awk '$1 == "beat" {
		if (!($2 in first)) { first[$2] = $3; order[++n] = $2 }
		last[$2] = $3; count[$2]++
	} END { for (i = 1; i <= n; i++) print order[i], first[order[i]], last[order[i]], count[order[i]] }' \
		"$out/$1/output"
}
# at MODE WORD: the time of the parser's "parse" or "outcome" event.
at() { awk -v w="$2" '$1 == "event" && $2 == "parser" && $4 == w { print $3; exit }' "$out/$1/output"; }
outcome() { awk '$1 == "event" && $4 == "outcome" { o = o (o ? ", " : "") $5 } END { print o }' "$out/$1/output"; }
last_of() { lanes "$1" | awk -v l="$2" '$1 == l { print $3 }'; }
# console_time MODE REGEX: the kernel log's timestamp of the first match,
# on CLOCK_BOOTTIME (mgparse's anchor line gives the offset).
console_time() {
	awk -v re="$2" '
		match($0, /^\[ *[0-9.]+\]/) { t = substr($0, 2, RLENGTH - 2) + 0 } !RSTART { next }
		/mgparse: anchor / && off == "" { off = t - $NF }
		$0 ~ re && found == "" { found = t }
		END { if (found != "") printf "%.3f\n", found - off }' "$out/$1/console" 2>/dev/null
}
after() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a != "" && b != "" && a + 0 > b + 0) }'; }

# The host's verdicts on the lanes.
t_user=$(at user parse)
verdict user.parser_lane_cut_at_the_crash after "$t_user" "$(last_of user parser)"
verdict user.heartbeat_beat_on_after_the_crash after "$(last_of user heartbeat)" "$(awk -v t="$t_user" 'BEGIN { print t + 0.5 }')"
verdict user.app_beat_on_after_the_crash after "$(last_of user app)" "$(awk -v t="$t_user" 'BEGIN { print t + 0.5 }')"
t_kernel=$(at kernel parse)
t_panic=$(console_time kernel 'Kernel panic - not syncing')
t_oops=$(console_time kernel 'BUG: unable to handle page fault')
verdict kernel.console_says_kernel_panic test -n "$t_panic"
verdict kernel.no_outcome_ever_printed test -z "$(at kernel outcome)"
for l in heartbeat app parser; do
	# Alive up to the parse, nothing after the panic (the machine is gone).
	verdict "kernel.${l}_stopped_with_the_machine" after "$(last_of kernel "$l")" \
		"$(awk -v t="$t_kernel" 'BEGIN { print t - 0.3 }')"
done
t_valid=$(at validated parse)
for l in heartbeat app parser; do
	verdict "validated.${l}_beat_on" after "$(last_of validated "$l")" \
		"$(awk -v t="$t_valid" 'BEGIN { print t + 0.5 }')"
done
verdict validated.both_parsers_said_einval test "$(outcome validated)" = "EINVAL, EINVAL"

# The demo module is built here only: the top-level Kbuild names only
# modegate's objects, DKMS and the debs take Kbuild, Makefile, VERSION,
# module/ and include/ (debian/rules), make install a fixed list of files.
nowhere_else() {
	! grep -qs -e mgcrash -e crash/ "$top/Kbuild" "$top/dkms.conf" \
		"$top/debian/rules" "$top"/debian/*.install
}
verdict not_built_installed_or_packaged nowhere_else

# The three outcomes side by side.
row() { printf '%-21s %-31s %-31s %s\n' "$@"; }
rel() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "") print "-"; else printf "%+.2f s", a - b }'; }
echo
row "" "user-mode parser" "kernel-mode parser" "validated parsers"
row "" "(trusts the count)" "(trusts the count)" "(check count vs length)"
row "the parser" "SIGSEGV: $(grep -c '^beat parser' "$out/user/output") beats, then gone" \
	"oops $(rel "$t_oops" "$t_kernel") after the parse" "$(outcome validated)"
for l in heartbeat app; do
	row "$l last beat" "$(rel "$(last_of user "$l")" "$t_user") (beats on)" \
		"$(rel "$(last_of kernel "$l")" "$t_kernel") (then nothing)" \
		"$(rel "$(last_of validated "$l")" "$t_valid") (beats on)"
done
row "the machine" "running" "Kernel panic $(rel "$t_panic" "$t_kernel")" "running"
echo
echo "kernel run, the last lines before the machine stopped:"
grep '^beat heartbeat' "$out/kernel/output" | tail -n 1 | sed 's/^/  output:  /'
grep -m1 'Kernel panic - not syncing' "$out/kernel/console" |
	sed "s/^/  console: /; s/\$/   (at $t_panic on the heartbeats' clock)/"

# The picture: per run, one lane per process, a dot per beat, on seconds
# from the parse; the crash marks where lanes end.
picture() {
	local mode x t0 cut
	echo '<?xml version="1.0" encoding="UTF-8"?>'
	echo '<svg xmlns="http://www.w3.org/2000/svg" width="960" height="250" font-family="DejaVu Sans" font-size="12">'
	echo '<rect width="960" height="250" fill="white"/>'
	echo '<text x="480" y="20" text-anchor="middle" font-size="15">One bug, three blast radii: each process'"'"'s heartbeats around the parse of a lying blob</text>'
	x=10
	for mode in user kernel validated; do
		t0=$(at "$mode" parse)
		cut=""
		[ "$mode" = kernel ] && cut=$t_panic
		awk -v x="$x" -v t0="$t0" -v mode="$mode" -v cut="$cut" '
		function px(t) { return 70 + (t - t0 + 1) * 75 }
		BEGIN {
			title["user"] = "user-mode parser: SIGSEGV"
			title["kernel"] = "kernel-mode parser: panic"
			title["validated"] = "validated parsers: EINVAL"
			y["heartbeat"] = 80; y["app"] = 120; y["parser"] = 160
			printf "<g transform=\"translate(%d,0)\">\n", x
			printf "<text x=\"150\" y=\"48\" text-anchor=\"middle\" font-weight=\"bold\">%s</text>\n", title[mode]
			for (l in y) {
				printf "<text x=\"4\" y=\"%d\">%s</text>\n", y[l] + 4, l
				printf "<line x1=\"70\" y1=\"%d\" x2=\"295\" y2=\"%d\" stroke=\"#ddd\"/>\n", y[l], y[l]
			}
			for (s = -1; s <= 2; s++)
				printf "<text x=\"%d\" y=\"200\" text-anchor=\"middle\" font-size=\"10\">%+d s</text>\n", px(t0 + s), s
			printf "<line x1=\"%d\" y1=\"62\" x2=\"%d\" y2=\"175\" stroke=\"#888\" stroke-dasharray=\"3,3\"/>\n", px(t0), px(t0)
			printf "<text x=\"%d\" y=\"215\" text-anchor=\"middle\" font-size=\"10\">seconds from the parse</text>\n", px(t0 + 0.5)
		}
		$1 == "beat" && ($2 in y) && $3 >= t0 - 1 && $3 <= t0 + 2 {
			printf "<circle cx=\"%.1f\" cy=\"%d\" r=\"2.5\" fill=\"#2a6\"/>\n", px($3), y[$2]
		}
		$1 == "event" && $4 == "parse" { where = $5 }
		$1 == "event" && $4 == "outcome" {
			# Right of the moment, or left of it near the edge; the
			# second outcome below the lane.
			a = px($3) > 220 ? "end" : "start"
			printf "<text x=\"%.1f\" y=\"%d\" font-size=\"10\" fill=\"#26a\" text-anchor=\"%s\">%s (%s)</text>\n", px($3) + (a == "end" ? -2 : 2), y["parser"] + (nout++ % 2 ? 16 : -8), a, $5, where
		}
		END {
			if (mode == "user")
				printf "<text x=\"%.1f\" y=\"%d\" fill=\"#c00\" font-weight=\"bold\">&#x2715; SIGSEGV</text>\n", px(t0) + 2, y["parser"] + 5
			if (mode == "kernel" && cut != "") {
				printf "<line x1=\"%.1f\" y1=\"62\" x2=\"%.1f\" y2=\"175\" stroke=\"#c00\" stroke-width=\"3\"/>\n", px(cut), px(cut)
				printf "<text x=\"%.1f\" y=\"232\" fill=\"#c00\" font-weight=\"bold\" text-anchor=\"middle\">Kernel panic: every lane ends</text>\n", px(cut)
			}
			print "</g>"
		}' "$out/$mode/output"
		x=$((x + 315))
	done
	echo '</svg>'
}
picture >"$out/blast.svg"
verdict picture_is_valid_svg xmllint --noout "$out/blast.svg"
verdict picture_renders rsvg-convert -o "$out/blast.png" "$out/blast.svg"
echo
echo "modegate: picture in ${out#"$top"/}/blast.svg and blast.png; logs in ${out#"$top"/}/{user,kernel,validated}/"
