#!/bin/bash
# Every value bound to a statement of the store is checked (issue 12): the product's sources bind
# through vm_db_stmt, vm_db_bind, vm_db_bind_texts or vm_db_run (vmmgr/core/db.c), which check each
# bind and the statement's parameter count; a bare sqlite3_bind_* anywhere else fails this check.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
bare=$(grep -rn --include='*.c' 'sqlite3_bind_[a-z0-9]*(' acm autoscaling elb images imds metrics net storage vmmgr |
	grep -v '^vmmgr/core/db\.c:' | grep -v 'sqlite3_bind_parameter_count' || true)
if [ -n "$bare" ]; then
	echo "not ok - unchecked binds (use vm_db_stmt, vm_db_bind or vm_db_run):"
	echo "$bare" | sed 's/^/    /'
	exit 1
fi
echo "ok - every bind of the store goes through the checked helpers of vmmgr/core/db.c"
