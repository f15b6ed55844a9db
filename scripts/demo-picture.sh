#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The demo's picture on the host.  The demo job prints the files it made
# between "@@modegate-file NAME" and "@@modegate-end" lines of its output;
# cut them out into DIR, check each SVG with xmllint, render it to a PNG
# with rsvg-convert, and print the rest of the output, then where they are.
#
#   demo-picture.sh OUTPUT DIR
set -eu
out=$1 dir=$2
mkdir -p "$dir"
rm -f "$dir"/*.svg "$dir"/*.png
awk -v dir="$dir" '
	/^@@modegate-file / { name = $2; gsub(/[^A-Za-z0-9._-]/, "_", name); f = dir "/" name; printf "" >f; next }
	/^@@modegate-end$/ { if (f != "") close(f); f = ""; next }
	f != "" { print >f; next }
	{ print }' "$out"
rc=0 n=0
for svg in "$dir"/*.svg; do
	[ -e "$svg" ] || continue
	n=$((n + 1))
	if ! xmllint --noout "$svg"; then
		echo "modegate: $svg is not valid XML"
		rc=1
	elif ! rsvg-convert -o "${svg%.svg}.png" "$svg"; then
		echo "modegate: rsvg-convert cannot render $svg"
		rc=1
	else
		echo "modegate: the async requests' journeys, drawn: $svg (PNG: ${svg%.svg}.png)"
	fi
done
if [ "$n" -eq 0 ]; then
	echo "modegate: the demo drew no picture (see the tour's async step above)"
	rc=1
fi
exit $rc
