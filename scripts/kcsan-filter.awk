# SPDX-License-Identifier: GPL-2.0
# The kernel log of a KCSAN run, without the reports that are not
# modegate's.  A KCSAN report sits between two lines of "="; it is kept when
# one of its frames is modegate's (a modegate_ function, or a function of
# the module, "[modegate]"), else dropped; every other line is kept.  Run by
# vm.sh on the console of VM_KERNEL=kcsan.
function flush() {
	if (ours)
		printf "%s", block
	block = ""
	ours = 0
}
index($0, "========================================") {
	if (inside) {
		block = block $0 "\n"
		inside = 0
		flush()
	} else {
		inside = 1
		block = $0 "\n"
	}
	next
}
inside {
	block = block $0 "\n"
	if ($0 ~ /[ \t]modegate_[A-Za-z0-9_.]*\+0x|\[modegate(_kunit)?\]|KCSAN: [a-z-]+ in .*modegate_/)
		ours = 1
	next
}
{ print }
END {
	# A report the log cut short: judged all the same.
	if (inside)
		flush()
}
