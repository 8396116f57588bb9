#!/bin/bash
# Run alone, after the parallel suite (it stalls the harness's libvirtd, which every other test
# shares): DescribeInstances through the API answers from the store while libvirt does not answer
# at all (SIGSTOP), as it does for seconds while it starts a domain or rebuilds its filters; the
# daemon's loop, not the request, brings the store up to date with libvirt.
. "$(dirname "$0")/../integ/lib.sh"
vm_init
. "$(dirname "$0")/../integ/serve.sh"
id=$(aws ec2 run-instances --image-id "$AMI" --count 1 --query 'Instances[0].InstanceId' --output text)
aws ec2 wait instance-running --instance-ids "$id" || fail "the instance did not run"

lv=$(cat "$VMMGR_TEST_RUN/libvirtd.pid")
kill -STOP "$lv"
rc=0
out=$(aws ec2 describe-instances --instance-ids "$id" --cli-read-timeout 20 --cli-connect-timeout 5 \
	--query 'Reservations[0].Instances[0].State.Name' --output text 2>&1) || rc=$?
kill -CONT "$lv"
[ "$rc" = 0 ] && [ "$out" = running ] || fail "describe-instances with libvirt stalled: $out (exit $rc)"
ok "describe-instances answers from the store while libvirtd does not answer"

aws ec2 stop-instances --instance-ids "$id" >/dev/null
aws ec2 wait instance-stopped --instance-ids "$id" || fail "the loop did not bring the stop into the store"
aws ec2 terminate-instances --instance-ids "$id" >/dev/null
aws ec2 wait instance-terminated --instance-ids "$id" || fail "terminate"
ok "the daemon's loop keeps the store current: stopped, then terminated"
