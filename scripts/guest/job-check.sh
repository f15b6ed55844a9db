#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# VM job: load the module, run the selftests through the kernel's
# run_kselftest.sh, unload, then the leak checks.
# shellcheck source=scripts/guest/lib.sh
. /usr/lib/modegate/lib.sh
checks_begin
run_suite
checks_end
exit $rc
