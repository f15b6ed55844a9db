#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# VM job for make coverage, on the debug kernel (gcov): the debug job (the
# selftests, the KUnit suites, the fault-injection pass), a short fuzz and
# a short stress, each with its own results, in one boot; then the module's
# gcov counters, read with cat from /sys/kernel/debug/gcov as gcov.rst
# says (the kernel keeps an unloaded module's counts), go out on the
# output port as a base64 tar between two marker lines.
# shellcheck source=scripts/guest/lib.sh
. /usr/lib/modegate/lib.sh
for j in debug fuzz stress; do
	echo "=== coverage: job $j"
	sh "$guest/job-$j.sh" || rc=1
done

echo "=== coverage: gcov data"
gcov=/sys/kernel/debug/gcov
dst=/tmp/gcda
mkdir -p "$dst"
find "$gcov" -path '*/module/*.gcda' >/tmp/gcda.list
while read -r f; do
	cat "$f" >"$dst/$(basename "$f")"
done </tmp/gcda.list
if [ ! -s /tmp/gcda.list ]; then
	result coverage fail no_gcda_files
else
	result coverage ok gcda_files_read
fi
echo "=== gcov-tar-begin"
tar -C "$dst" -cz . | base64
echo "=== gcov-tar-end"
exit $rc
