#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Sourced by checks_end (lib.sh) after the module is unloaded: the caches
# counted by pre-leaks.sh must be back where they were (within a few
# objects).
sh /usr/lib/modegate/slab.sh check >/tmp/modegate-slab.out
while read -r cache before after slack state; do
	echo "slab $cache: $before objects before the job, $after after (slack $slack)"
	if [ "$state" = ok ]; then
		result harness ok "slab_${cache}_back"
	else
		result harness fail "slab_${cache}_back"
	fi
done </tmp/modegate-slab.out
