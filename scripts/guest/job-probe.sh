#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# VM job: prove the VM boots (used to decide whether KVM works here).
echo "result harness ok boot" >"${MODEGATE_VERDICT:-/dev/null}"
