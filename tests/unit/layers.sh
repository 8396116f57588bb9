#!/bin/bash
# The modules (a top-level directory, a folder of vmmgr/, a service of vmmgr/services/) include
# each other without circles (issue 12): the service edges on top, then compute, then storage,
# images, net and the other mechanisms, core at the bottom.  scripts/layers.py --files names the
# includes that make a circle.  And within the modules the store layer (SQL) and the mechanism
# layer (libvirt, nftables, helper programs) live in files of their own (scripts/layers.py --mixed).
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
now=$(python3 "$top/scripts/layers.py")
if [ -n "$now" ]; then
	echo "not ok - circles between modules (scripts/layers.py --files names the includes):"
	echo "$now" | sed 's/^/    /'
	exit 1
fi
echo "ok - the modules include each other without circles"
mixed=$(python3 "$top/scripts/layers.py" --mixed)
if [ -n "$mixed" ]; then
	echo "not ok - files that run SQL and drive libvirt, nftables or a program too:"
	echo "$mixed" | sed 's/^/    /'
	exit 1
fi
echo "ok - no file runs SQL and drives libvirt, nftables or a helper program"
