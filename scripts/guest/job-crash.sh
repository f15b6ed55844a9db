#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# VM job of make crash (scripts/crash.sh): the blast radius of one bug.  A
# heartbeat and a second application print timestamps while a parser is
# fed a blob that lies about its record count (CRASH_MODE, from the kernel
# command line):
#   user       the user-mode parser: it dies of SIGSEGV, the rest go on
#   kernel     the kernel-mode parser (mgcrash.ko): an oops, panic_on_oops,
#              the whole machine stops (the host expects the panic)
#   validated  both parsers check the count: EINVAL twice, all survive
# The programs come from make crash's overlay, /usr/lib/mgcrash; modegate
# itself is not in this VM.
# shellcheck source=scripts/guest/lib.sh
. /usr/lib/modegate/lib.sh
d=/usr/lib/mgcrash
if [ ! -x "$d/mgparse" ] || [ ! -e "$d/mgcrash.ko" ]; then
	echo "job-crash: no $d (only make crash builds this VM)"
	exit 2
fi
"$d/mgparse" blob /tmp/blob || exit 2
echo 1 >/proc/sys/kernel/panic_on_oops

"$d/mgparse" beat heartbeat 100 &
hb=$!
"$d/mgparse" beat app 150 &
app=$!

# parse_status WHERE HOW: run the parser application, print its status.
parse_status() {
	"$d/mgparse" parse "$1" "$2" /tmp/blob 100
	st=$?
	echo "event job $(cut -d' ' -f1 /proc/uptime) status $1 $2 $st"
	return "$st"
}

# refused: the demo will not load without the harness's armed=1.
refused() {
	# shellcheck disable=SC2317 # called from the case below
	! insmod "$d/mgcrash.ko" 2>/dev/null
}

case ${CRASH_MODE:-} in
user)
	parse_status user trusting
	check crash user_parser_died_of_sigsegv [ "$st" = 139 ]
	;;
kernel)
	check crash demo_refuses_to_load_unarmed refused
	check crash demo_loads_armed insmod "$d/mgcrash.ko" armed=1 validate=0
	parse_status kernel trusting
	# Only reached when the kernel survived its own bug.
	result crash fail kernel_parser_brought_the_machine_down
	;;
validated)
	check crash demo_loads_armed insmod "$d/mgcrash.ko" armed=1 validate=1
	parse_status user validated
	check crash user_validated_parser_says_einval [ "$st" = 0 ]
	parse_status kernel validated
	check crash kernel_validated_parser_says_einval [ "$st" = 0 ]
	check crash demo_unloads rmmod mgcrash
	;;
*)
	echo "job-crash: CRASH_MODE=${CRASH_MODE:-}: user, kernel or validated"
	rc=2
	;;
esac
# The others' lanes go on after the parser's (the picture's tail), then
# stop; each must still be alive to be stopped.
sleep 2
check crash heartbeat_survived kill "$hb"
check crash app_survived kill "$app"
wait 2>/dev/null
exit "$rc"
