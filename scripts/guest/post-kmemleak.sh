#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Sourced by the VM jobs after the module is unloaded: on a kernel with
# kmemleak, scan and fail on any object leaked since the job began (the
# job cleared older reports when it started).
# shellcheck disable=SC2034  # rc is the sourcing job's exit status
# shellcheck disable=SC2154  # verdict and result() come from the job
kml=/sys/kernel/debug/kmemleak
if [ -w "$kml" ]; then
	# Two scans, as Documentation/dev-tools/kmemleak.rst advises: an
	# object must stay unreferenced across scans to be reported.
	echo scan >"$kml"
	echo scan >"$kml"
	if [ -s "$kml" ]; then
		echo "=== kmemleak: unreferenced objects"
		cat "$kml"
		echo "result harness fail kmemleak_clean" >"$verdict"
		rc=1 # read by the job that sources this file
	else
		echo "result harness ok kmemleak_clean" >"$verdict"
	fi
fi
