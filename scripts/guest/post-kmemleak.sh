#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Sourced by checks_end (lib.sh) after the module is unloaded: on a kernel
# with kmemleak, scan and fail on any object leaked since the job began
# (checks_begin cleared older reports).
kml=/sys/kernel/debug/kmemleak
if [ -w "$kml" ]; then
	# Two scans, as Documentation/dev-tools/kmemleak.rst advises: an
	# object must stay unreferenced across scans to be reported.
	echo scan >"$kml"
	echo scan >"$kml"
	if [ -s "$kml" ]; then
		echo "=== kmemleak: unreferenced objects"
		cat "$kml"
		result harness fail kmemleak_clean
	else
		result harness ok kmemleak_clean
	fi
fi
