#!/bin/bash
# The suite's runner of shell tests (Makefile.am: SH_LOG_COMPILER): runs the test and ends its log
# with how long it took, "# took N s", which tests/run-all.sh lists, slowest first.
start=$(date +%s)
rc=0
/bin/bash "$@" || rc=$?
echo "# took $(($(date +%s) - start)) s"
exit "$rc"
