#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# VM job: load the module, run every selftest program, unload.  Each test's
# result goes to the verdict port as "result PROG ok|fail|skip NAME".
dir=/usr/lib/modegate/selftests
verdict=${MODEGATE_VERDICT:-/dev/null}
timeout_s=$(sed -n 's/^timeout=//p' "$dir/settings")
rc=0

result() {
	echo "result $1 $2 $3" >"$verdict"
	[ "$2" = fail ] && rc=1
	return 0
}

# Leak checks begin (kmemleak, slab counts); post-*.sh finish them.
# shellcheck source=/dev/null
. /usr/lib/modegate/pre-leaks.sh

if ! modprobe modegate; then
	result harness fail load_module
	exit 1
fi
result harness ok load_module

only=$(echo "${MODEGATE_TESTS:-}" | tr , " ")
while read -r prog; do
	[ -n "$only" ] && ! echo " $only " | grep -q " $prog " && continue
	echo "=== $prog"
	log=/tmp/$prog.log
	(cd "$dir" && timeout "$timeout_s" "./$prog") >"$log" 2>&1
	prc=$?
	cat "$log"
	awk -v prog="$prog" -v prc="$prc" '
		/^1\.\.[0-9]+/ { plan = substr($1, 4) + 0 }
		# The harness names a skipped test only on its "#  RUN" line.
		/^#  RUN / { running = $3 }
		/^(not )?ok [0-9]+ / {
			notok = ($1 == "not")
			name = notok ? $4 : $3
			if (name == "#" || name == "") name = running
			status = notok ? "fail" : "ok"
			if (!notok && index($0, "# SKIP")) status = "skip"
			printf "result %s %s %s\n", prog, status, name
			seen++
			if (notok) failed++
		}
		END {
			for (i = seen; i < plan; i++)
				printf "result %s fail missing_test_%d\n", prog, i + 1
			if (prc != 0 && !failed && seen >= plan)
				printf "result %s fail exit_status_%d\n", prog, prc
			if (!plan && !seen)
				printf "result %s fail no_tap_output\n", prog
		}' "$log" >/tmp/results
	cat /tmp/results >"$verdict"
	grep -q '^result [^ ]* fail' /tmp/results && rc=1
done <"$dir/list"

# A module that cannot be unloaded after the tests leaked a reference.
if [ -d /sys/module/modegate ]; then
	if rmmod modegate; then
		result harness ok unload_module
	else
		result harness fail unload_module
	fi
fi
# job-debug.sh runs more before the post-run checks.
[ -n "${MODEGATE_NO_POST:-}" ] && exit $rc
for f in /usr/lib/modegate/post-*.sh; do
	# shellcheck disable=SC1090
	[ -e "$f" ] && . "$f"
done
exit $rc
