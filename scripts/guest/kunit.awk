# SPDX-License-Identifier: GPL-2.0
# The KTAP of one KUnit suite (/sys/kernel/debug/kunit/SUITE/results), one
# line per test case:
#   result kunit ok|fail|skip SUITE.CASE
# The cases are the lines one level down (four spaces); a parameterised
# case's own subtests, further down, are left to its line.  A skip is never
# a pass; a case the plan promised but that never reported is a failure, as
# is a suite that failed with no failed case (its suite_init failed) and a
# file with no suite in it.  Run with -v suite=NAME by the debug job
# (busybox awk).
/^    1\.\.[0-9]+/ { plan = substr($1, 4) + 0; planned = 1; next }
/^    (not )?ok [0-9]+ / {
	notok = ($1 == "not")
	name = notok ? $4 : $3
	if (name == "-")
		name = notok ? $5 : $4
	status = notok ? "fail" : "ok"
	if (!notok && index($0, "# SKIP"))
		status = "skip"
	printf "result kunit %s %s.%s\n", status, suite, name
	seen++
	failed += notok
	next
}
/^(not )?ok [0-9]+ / { top = $1; next }
END {
	if (!planned)
		printf "result kunit fail %s.no_ktap_output\n", suite
	for (i = seen; i < plan; i++)
		printf "result kunit fail %s.missing_case_%d\n", suite, i + 1
	if (top == "not" && !failed)
		printf "result kunit fail %s.suite_failed\n", suite
	else if (planned && top == "")
		printf "result kunit fail %s.no_suite_verdict\n", suite
}
