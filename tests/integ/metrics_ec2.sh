#!/bin/bash
# The sampler of `vmmgr serve` turns libvirt's counters into the AWS/EC2 and AWS/EBS metrics of real
# guests: a guest spinning on its one vCPU shows CPUUtilization above 50 % within two periods of
# 10 s (under TCG on a 2-core host busy with the suite it got 59-78 %, not always above 80), an idle
# one below 20 %; NetworkIn grows while the host pings the guest; DiskWriteBytes and
# its root volume's VolumeWriteBytes grow while it writes; the status checks pass; the type's
# aggregate counts both instances; a stop and start (counters back to zero) gives no negative or
# huge point; `vmmgr top` shows the spinning guest first.
. "$(dirname "$0")/lib.sh"
vm_init
. "$(dirname "$0")/serve.sh"

p=$(vm describe-vpcs --query 'Vpcs[0].CidrBlock' --output text)
p=${p%.0.0/16}
busy=$(launch --instance-type t2.micro --user-data '#!/bin/sh
while :; do :; done &
while :; do dd if=/dev/zero of=/w bs=64k count=16 conv=fsync 2>/dev/null; sleep 1; done &
')
idle=$(launch --instance-type t2.micro)
vm authorize-security-group-ingress --group-id "$(default_group "$(vm describe-vpcs --query 'Vpcs[0].VpcId' --output text)")" \
	--protocol icmp --port -1 --cidr "$p.0.1/32" >/dev/null
wait_console "$busy" "vmmgr: instance $busy ready" 1
wait_console "$idle" "vmmgr: instance $idle ready" 1

iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
# stat NAMESPACE METRIC DIM=VALUE STATISTIC SECONDS: that statistic of each 10-s period of the last
# SECONDS, oldest first
stat() {
	local now
	now=$(date +%s)
	aws cloudwatch get-metric-statistics --namespace "$1" --metric-name "$2" --dimensions "Name=${3%%=*},Value=${3#*=}" \
		--start-time "$(iso $((now - $5)))" --end-time "$(iso $((now + 10)))" --period 10 --statistics "$4" \
		--output json | jq -c "[.Datapoints | sort_by(.Timestamp)[] | .$4]"
}
# above LIST LIMIT: some value of the list is above LIMIT
above() { jq -e "any(.[]; . > $2)" <<<"$1" >/dev/null; }

ip_idle=$(private_ip "$idle")
in_ns ping -q -c 40 -i 0.25 -s 1200 "$ip_idle" >/dev/null &
ping_pid=$!
sleep 25
wait "$ping_pid" || fail "the host's pings to $ip_idle were not answered"
cpu_busy=$(stat AWS/EC2 CPUUtilization "InstanceId=$busy" Maximum 30)
cpu_idle=$(stat AWS/EC2 CPUUtilization "InstanceId=$idle" Maximum 30 | jq -c '.[-2:]') # past its boot
above "$cpu_busy" 50 || fail "the spinning guest's CPUUtilization: $cpu_busy"
[ "$cpu_idle" != '[]' ] && ! above "$cpu_idle" 20 || fail "the idle guest's CPUUtilization: $cpu_idle"
ok "CPUUtilization: a spinning guest $cpu_busy, an idle one $cpu_idle (%, 10-s maxima)"
# vmmgr top: the same counters over 2 s, busiest first
top=$(vm top --delay 2 --iterations 1)
first=$(sed -n 3p <<<"$top")
[[ "$first" == "$busy "* ]] && awk '{ exit !($4 > 50) }' <<<"$first" || fail "vmmgr top: $top"
awk -v id="$idle" '$1 == id { found = 1; exit !($4 < 20) } END { exit !found }' <<<"$top" || fail "vmmgr top (idle): $top"
ok "vmmgr top shows the spinning guest first: $first"

net=$(stat AWS/EC2 NetworkIn "InstanceId=$idle" Sum 40)
pkts=$(stat AWS/EC2 NetworkPacketsIn "InstanceId=$idle" Sum 40)
above "$net" 5000 && above "$pkts" 4 || fail "NetworkIn $net, NetworkPacketsIn $pkts of a pinged guest"
out=$(stat AWS/EC2 NetworkOut "InstanceId=$idle" Sum 40)
above "$out" 5000 || fail "NetworkOut $out of a guest answering pings"
ok "NetworkIn/Out of a pinged guest: $net / $out bytes per 10 s"

vol=$(vm describe-instances --instance-ids "$busy" --query 'Reservations[0].Instances[0].BlockDeviceMappings[0].Ebs.VolumeId' --output text)
disk=$(stat AWS/EC2 DiskWriteBytes "InstanceId=$busy" Sum 40)
ebs=$(stat AWS/EBS VolumeWriteBytes "VolumeId=$vol" Sum 40)
ops=$(stat AWS/EBS VolumeWriteOps "VolumeId=$vol" Sum 40)
above "$disk" 100000 && above "$ebs" 100000 && above "$ops" 0 ||
	fail "a writing guest: DiskWriteBytes $disk, VolumeWriteBytes $ebs, VolumeWriteOps $ops"
ok "a writing guest: DiskWriteBytes $disk, its root volume's VolumeWriteBytes $ebs"

now=$(date +%s)
scf=$(aws cloudwatch get-metric-statistics --namespace AWS/EC2 --metric-name StatusCheckFailed \
	--dimensions "Name=InstanceId,Value=$idle" --start-time "$(iso $((now - 180)))" --end-time "$(iso $((now + 60)))" \
	--period 60 --statistics Maximum SampleCount --output json | jq -c '[.Datapoints[] | .Maximum]')
[ "$scf" != '[]' ] && ! above "$scf" 0 || fail "StatusCheckFailed of a healthy guest: $scf"
agg=$(stat AWS/EC2 CPUUtilization "InstanceType=t2.micro" SampleCount 30)
jq -e 'length > 0 and all(.[]; . == 2)' <<<"$agg" >/dev/null || fail "the t2.micro aggregate's SampleCount: $agg"
list=$(aws cloudwatch list-metrics --namespace AWS/EC2 --dimensions "Name=InstanceId,Value=$busy" --output json |
	jq -r '[.Metrics[].MetricName] | sort | join(" ")')
for m in CPUUtilization DiskReadBytes DiskWriteOps NetworkIn NetworkPacketsOut StatusCheckFailed_Instance StatusCheckFailed_System; do
	[[ " $list " == *" $m "* ]] || fail "list-metrics of $busy lacks $m: $list"
done
ok "status checks pass; the InstanceType aggregate counts both guests; list-metrics names the EC2 metrics"

# counters back to zero: a stop and start makes a new QEMU (and libvirt domain id)
vm stop-instances --instance-ids "$busy" --force >/dev/null
for _ in $(seq 60); do [ "$(state_of "$busy")" = stopped ] && break; sleep 1; done
vm start-instances --instance-ids "$busy" >/dev/null
wait_console "$busy" "vmmgr: instance $busy ready" 2
sleep 25
cpu=$(stat AWS/EC2 CPUUtilization "InstanceId=$busy" Minimum 300)
jq -e 'all(.[]; . >= 0 and . <= 100)' <<<"$cpu" >/dev/null || fail "CPUUtilization around a restart: $cpu"
for m in NetworkIn DiskWriteBytes DiskReadBytes; do
	v=$(stat AWS/EC2 $m "InstanceId=$busy" Minimum 300)
	w=$(stat AWS/EC2 $m "InstanceId=$busy" Maximum 300)
	jq -e 'all(.[]; . >= 0)' <<<"$v" >/dev/null && ! above "$w" 1e9 || fail "$m around a restart: min $v max $w"
done
ok "a stop and start (counters reset) gives no negative or huge point: CPUUtilization minima $cpu"
