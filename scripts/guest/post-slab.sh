#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Sourced by the VM jobs after the module is unloaded: the caches counted by
# pre-leaks.sh must be back where they were (within a few objects).
# shellcheck disable=SC2034  # rc is the sourcing job's exit status
# shellcheck disable=SC2154  # verdict comes from the job
sh /usr/lib/modegate/slab.sh check >/tmp/modegate-slab.out
while read -r cache before after slack state; do
	echo "slab $cache: $before objects before the job, $after after (slack $slack)"
	if [ "$state" = ok ]; then
		echo "result harness ok slab_${cache}_back" >"$verdict"
	else
		echo "result harness fail slab_${cache}_back" >"$verdict"
		rc=1 # read by the job that sources this file
	fi
done </tmp/modegate-slab.out
