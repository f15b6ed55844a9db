#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Print the cache directory holding the files modegate takes from Debian's
# linux-source tarball, extracting them on first use.
set -eu
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
mg_linux_source
