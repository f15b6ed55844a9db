#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# VM job: prove the VM boots (used to decide whether KVM works here).
# shellcheck source=scripts/guest/lib.sh
. /usr/lib/modegate/lib.sh
result harness ok boot
