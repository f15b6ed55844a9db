# SPDX-License-Identifier: GPL-2.0
# The KTAP of the kernel's run_kselftest.sh, one line per test case:
#   result PROG ok|fail|skip NAME
# Each program's own TAP (the kselftest_harness results) is nested under the
# runner's line for it.  A skip is never a pass; a test the plan promised but
# that never reported, a program that failed without a failed test, timed
# out or printed no TAP, and a program the runner never reported are
# failures.  Run by the VM's check job (busybox awk) and by host-check.sh.
function finish(top, line) {
	if (prog == "")
		return
	for (i = seen; i < plan; i++)
		printf "result %s fail missing_test_%d\n", prog, i + 1
	if (top ~ /^not ok/ && index(line, "# TIMEOUT"))
		printf "result %s fail timeout\n", prog
	else if (top ~ /^not ok/ && !failed && seen >= plan)
		printf "result %s fail %s\n", prog, exitstatus(line)
	else if (top == "ok" && index(line, "# SKIP") && !seen)
		printf "result %s skip program\n", prog
	else if (!planned && !seen)
		printf "result %s fail no_tap_output\n", prog
	programs++
	prog = ""
}
function exitstatus(line) {
	if (match(line, /# exit=[0-9]+/))
		return "exit_status_" substr(line, RSTART + 7, RLENGTH - 7)
	return "no_verdict"
}
# The runner's plan and its line per program.
/^1\.\.[0-9]+/ { toplan = substr($1, 4) + 0; next }
/^# selftests: / {
	prog = $NF
	plan = seen = failed = planned = 0
	running = ""
	next
}
/^(not )?ok [0-9]+ selftests: / {
	finish($1 == "not" ? "not ok" : "ok", $0)
	next
}
# A program's own TAP, one level down.
/^# / {
	line = substr($0, 3)
	n = split(line, f, " ")
	if (line ~ /^1\.\.[0-9]+/) {
		plan = substr(f[1], 4) + 0
		planned = 1
	} else if (line ~ /^# +RUN /) {
		# The harness names a skipped test only on its "#  RUN" line.
		running = f[3]
	} else if (line ~ /^(not )?ok [0-9]+/) {
		notok = (f[1] == "not")
		name = notok ? f[4] : f[3]
		if (name == "#" || name == "")
			name = running
		status = notok ? "fail" : "ok"
		if (!notok && index(line, "# SKIP"))
			status = "skip"
		printf "result %s %s %s\n", prog, status, name
		seen++
		if (notok)
			failed++
	}
}
END {
	finish("not ok", "")
	if (!toplan && !programs)
		print "result runner fail no_ktap_output"
	for (i = programs; i < toplan; i++)
		printf "result runner fail missing_program_%d\n", i + 1
}
