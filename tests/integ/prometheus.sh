#!/bin/bash
# Prometheus (Debian's) scrapes `vmmgr serve --metrics-listen` and answers PromQL about a real guest:
# the instance is up with its labels (its Auto Scaling group's name escaped as the text format says),
# its vCPU seconds grow while it spins, its network counters are there, and the endpoint's own request
# counts and latencies by action.  GET /metrics needs no
# signature on its own address, and is not served on the API's.
. "$(dirname "$0")/lib.sh"
vm_init
command -v prometheus >/dev/null || fail "no prometheus (scripts/deps.sh installs Debian's)"
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
SERVE_ARGS="--metrics-listen 127.0.0.1:0"
. "$(dirname "$0")/serve.sh"
murl=$(grep -o 'http://[0-9.:]*/metrics' "$T/serve.out") || fail "serve printed no metrics address: $(cat "$T/serve.out")"

id=$(launch --instance-type t2.micro --user-data '#!/bin/sh
while :; do :; done &
')
for _ in 1 2 3; do aws ec2 describe-instances --instance-ids "$id" >/dev/null; done
wait_console "$id" "vmmgr: instance $id ready" 1
sleep 5 # the daemon's reconcile sees it running
m=$(curl -sf "$murl")
grep -q "^vmmgr_instance_up{instance_id=\"$id\",instance_type=\"t2.micro\",image_id=\"$AMI\",auto_scaling_group=\"\"} 1$" <<<"$m" ||
	fail "GET /metrics: $(head -20 <<<"$m")"
curl -s "$ENDPOINT/metrics" | grep -q vmmgr_instance_up && fail "the API's port serves the metrics unsigned"

pport=$(free_port)
target=${murl#http://}
target=${target%/metrics}
cat > "$T/prometheus.yml" <<YML
global:
  scrape_interval: 2s
scrape_configs:
  - job_name: vmmgr
    static_configs:
      - targets: ["$target"]
    metrics_path: /metrics
YML
prometheus --config.file="$T/prometheus.yml" --storage.tsdb.path="$T/prom" --web.listen-address="127.0.0.1:$pport" \
	> "$T/prometheus.log" 2>&1 &
prom_pid=$!
trap 'kill "$prom_pid" 2>/dev/null; wait "$prom_pid" 2>/dev/null; serve_cleanup' EXIT
promql() { curl -sf --get "http://127.0.0.1:$pport/api/v1/query" --data-urlencode "query=$1" | jq -r '.data.result[0].value[1] // empty'; }
up=""
for _ in $(seq 60); do
	up=$(promql "vmmgr_instance_up{instance_id=\"$id\",instance_type=\"t2.micro\"}" || true)
	[ "$up" = 1 ] && break
	sleep 1
done
[ "$up" = 1 ] || fail "Prometheus does not see the instance up: '$up' ($(tail -5 "$T/prometheus.log"))"
sleep 10
cpu=$(promql "rate(vmmgr_instance_cpu_seconds_total{instance_id=\"$id\"}[10s])")
awk -v c="$cpu" 'BEGIN { exit !(c > 0.25) }' || fail "rate of a spinning guest's vCPU seconds: '$cpu'"
rx=$(promql "vmmgr_instance_network_receive_packets_total{instance_id=\"$id\"}")
[ -n "$rx" ] || fail "no network counter for $id"
n=$(promql 'sum(vmmgr_api_requests_total{service="ec2",action="DescribeInstances",code="200"})')
[ "${n:-0}" -ge 3 ] 2>/dev/null || fail "DescribeInstances requests counted: '$n'"
lat=$(promql 'vmmgr_api_request_duration_seconds_count{action="DescribeInstances"}')
[ "${lat:-0}" -ge 3 ] 2>/dev/null || fail "DescribeInstances latencies counted: '$lat'"
ok "Prometheus scrapes vmmgr: up=$up, a spinning guest uses $cpu vCPU-seconds/s, $n DescribeInstances counted"

# an instance attached to an Auto Scaling group carries its name (any characters: escaped)
subnet=$(aws ec2 describe-instances --instance-ids "$id" --query 'Reservations[0].Instances[0].SubnetId' --output text)
aws ec2 create-launch-template --launch-template-name prom-lt \
	--launch-template-data "{\"ImageId\":\"$AMI\",\"InstanceType\":\"t2.micro\"}" >/dev/null || fail "create-launch-template"
aws autoscaling create-auto-scaling-group --auto-scaling-group-name 'prom "web"' --min-size 0 --max-size 1 \
	--desired-capacity 0 --launch-template LaunchTemplateName=prom-lt --vpc-zone-identifier "$subnet" || fail "create-auto-scaling-group"
aws autoscaling attach-instances --auto-scaling-group-name 'prom "web"' --instance-ids "$id" || fail "attach-instances"
grp=""
for _ in $(seq 30); do
	grp=$(promql "vmmgr_instance_up{instance_id=\"$id\",auto_scaling_group=\"prom \\\"web\\\"\"}" || true)
	[ "$grp" = 1 ] && break
	sleep 1
done
[ "$grp" = 1 ] || fail "Prometheus does not see the instance in its group: $(curl -sf "$murl" | grep "^vmmgr_instance_up")"
ok "an instance of an Auto Scaling group is labelled with the group's name (quotes escaped)"
