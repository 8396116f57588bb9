#!/bin/bash
# Runs every benchmark.  Starts the harness's isolated libvirtd when none is running.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
scripts/deps.sh
scripts/build.sh
make -s bench/overlay_bench bench/seed bench/sampler_bench bench/asg_bench bench/cw_load
# the benchmarks' own libvirtd, in namespaces of its own (a host libvirtd is left alone)
run=$(mktemp -d /tmp/vmmgr-bench-harness.XXXXXX)
trap 'tests/harness/libvirtd-netns.sh stop "$run"; rm -rf "$run"' EXIT
tests/harness/libvirtd-netns.sh start "$run"
export VMMGR_LIBVIRT_URI=$(cat "$run/uri") VMMGR_TEST_RUN=$run
d=$(mktemp -d /tmp/vmmgr-overlay.XXXXXX)
bench/overlay_bench "$d" 11
rm -rf "$d"
bench/launch.sh "${1:-6}"
bench/volumes.sh 8
bench/dhcp.sh 5
bench/io.sh 3 128
d=$(mktemp -d /tmp/vmmgr-sampler.XXXXXX)
for n in 1 10 100; do bench/sampler_bench "$d/$n" "$n" 30; done
bench/sampler_bench "$d/day" 100 10 24
for outside in 0 1000 10000; do bench/asg_bench "$d/asg$outside" 100 3 "$outside" 20; done
rm -rf "$d"
bench/warm_pool.sh 2 1 3
bench/elb.sh 3 2000 8
bench/imds.sh 3 200
bench/imds.sh 3 200 routed
bench/nat.sh 3 32
bench/nat.sh 3 32 routed
if command -v moto_server >/dev/null; then
	bench/describe.sh 5 2
	bench/cloudwatch.sh 5 2
else
	echo "describe benchmark skipped: moto_server (the baseline) is not installed"
fi
