#!/bin/bash
# ClientToken: a retry returns the original reservation; other parameters under the same token
# are refused; concurrent retries make one reservation.
. "$(dirname "$0")/lib.sh"
vm_init

r1=$(vm run-instances --image-id "$AMI" --client-token tok-1 --output json)
r2=$(vm run-instances --image-id "$AMI" --client-token tok-1 --output json)
[ "$(jq -r .ReservationId <<<"$r1")" = "$(jq -r .ReservationId <<<"$r2")" ] || fail "retry made a new reservation"
[ "$(jq -c '[.Instances[].InstanceId]' <<<"$r1")" = "$(jq -c '[.Instances[].InstanceId]' <<<"$r2")" ] || fail "retry returned other instances"
[ "$(jq -r '.Instances[0].ClientToken' <<<"$r1")" = tok-1 ] || fail "ClientToken not shown"
ok "same token: same reservation"

expect_error IdempotentParameterMismatch vm run-instances --image-id "$AMI" --client-token tok-1 --instance-type t3.small
[ "$(vm describe-instances --output json | jq '[.Reservations[].Instances[]] | length')" = 1 ] || fail "mismatch launched something"
ok "same token, other parameters: IdempotentParameterMismatch, nothing launched"

for k in 1 2 3 4 5; do
	vm run-instances --image-id "$AMI" --client-token tok-2 --output json > "$T/par.$k" 2>&1 &
done
wait
rids=$(for k in 1 2 3 4 5; do jq -r .ReservationId "$T/par.$k"; done | sort -u)
[ "$(wc -l <<<"$rids")" = 1 ] || fail "concurrent retries made several reservations: $rids"
[ "$(vm describe-instances --output json | jq '[.Reservations[].Instances[]] | length')" = 2 ] || fail "concurrent retries launched more than one instance"
ok "five concurrent requests with one token: one reservation"

# a retry that names a private address: the address is its own first attempt's, not "in use"
p=${VMMGR_DEFAULT_VPC_CIDR%.0.0/16}
r3=$(vm run-instances --image-id "$AMI" --client-token tok-ip --private-ip-address "$p.0.9" --output json)
r4=$(vm run-instances --image-id "$AMI" --client-token tok-ip --private-ip-address "$p.0.9" --output json) ||
	fail "a retry with the same token and address was refused"
[ "$(jq -r .ReservationId <<<"$r3")" = "$(jq -r .ReservationId <<<"$r4")" ] || fail "the retry made a new reservation"
[ "$(jq -r '.Instances[0].PrivateIpAddress' <<<"$r4")" = "$p.0.9" ] || fail "the retry's answer lacks the address"
expect_error InvalidIPAddress.InUse vm run-instances --image-id "$AMI" --client-token tok-ip2 --private-ip-address "$p.0.9"
ok "a retry naming a private address returns the first reservation (another token: InvalidIPAddress.InUse)"

vm wait instance-running --filters Name=client-token,Values=tok-1,tok-2,tok-ip

# CreateVolume: the token first, before any check that depends on what changed since the first call
v0=$(vm create-volume --size 1 --query VolumeId --output text)
vm wait volume-available --volume-ids "$v0"
s0=$(vm create-snapshot --volume-id "$v0" --query SnapshotId --output text)
vm wait snapshot-completed --snapshot-ids "$s0"
v1=$(vm create-volume --snapshot-id "$s0" --client-token tok-vol --query VolumeId --output text)
vm delete-snapshot --snapshot-id "$s0"
v2=$(vm create-volume --snapshot-id "$s0" --client-token tok-vol --query VolumeId --output text) ||
	fail "a retried create-volume failed once its snapshot was gone"
[ "$v1" = "$v2" ] || fail "a retried create-volume made $v2 besides $v1"
expect_error IdempotentParameterMismatch vm create-volume --snapshot-id "$s0" --size 3 --client-token tok-vol
ok "a retried create-volume returns the first volume even when its snapshot is gone since"
