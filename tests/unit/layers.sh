#!/bin/bash
# The modules (a top-level directory, a folder of vmmgr/, a service of vmmgr/services/) include
# each other without circles (issue 12): the service edges on top, then compute, then storage,
# images, net and the other mechanisms, core at the bottom.  scripts/layers.py --files names the
# includes that make a circle.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
now=$(python3 "$top/scripts/layers.py")
if [ -n "$now" ]; then
	echo "not ok - circles between modules (scripts/layers.py --files names the includes):"
	echo "$now" | sed 's/^/    /'
	exit 1
fi
echo "ok - the modules include each other without circles"
