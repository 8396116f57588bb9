#!/bin/bash
# Elastic Load Balancing v2 on HAProxy with real guests, through the aws CLI: an internal application
# load balancer in two zones over two instances running busybox httpd that answers with its instance
# id.  A third instance reaches both through the load balancer's DNS name; the targets' security
# group admits only the load balancer's group; a stopped httpd turns its target unhealthy within the
# thresholds and traffic goes to the other, a restarted one healthy again; a path rule sends /a/* to
# another target group; a weighted forward splits requests over two groups by their weights, and with
# stickiness a cookie keeps a client on the group of its first answer; redirects
# keep path and query, and a redirect as the default leaves the rules their targets; a network load
# balancer passes a raw TCP stream, and through a TLS listener decrypts it on the way; kill -9 of HAProxy is repaired with the targets' health intact;
# requests keep flowing while `vmmgr serve` is down; deregistration drains for the delay; bad input gets ELB's errors and changes nothing; deleting the
# load balancer leaves no interface, namespace or process.
. "$(dirname "$0")/lib.sh"
vm_init
SERVE_ARGS="--metrics-interval 0"
. "$(dirname "$0")/serve.sh"
elb() { aws elbv2 "$@"; }

vm create-key-pair --key-name k --key-type ed25519 --output json | jq -r .KeyMaterial > "$T/k.pem"
chmod 600 "$T/k.pem"
vpc=$(aws ec2 describe-vpcs --query 'Vpcs[0].VpcId' --output text)
cidr=$(aws ec2 describe-vpcs --query 'Vpcs[0].CidrBlock' --output text)
p=${cidr%.0.0/16}
sa=$(aws ec2 describe-subnets --filters Name=default-for-az,Values=true Name=availability-zone,Values=us-east-1a --query 'Subnets[0].SubnetId' --output text)
sb=$(aws ec2 describe-subnets --filters Name=default-for-az,Values=true Name=availability-zone,Values=us-east-1b --query 'Subnets[0].SubnetId' --output text)
gw_a=$p.0.1
lbsg=$(aws ec2 create-security-group --group-name lb --description "load balancer" --vpc-id "$vpc" --query GroupId --output text)
websg=$(aws ec2 create-security-group --group-name web --description "targets" --vpc-id "$vpc" --query GroupId --output text)
clsg=$(aws ec2 create-security-group --group-name client --description "client" --vpc-id "$vpc" --query GroupId --output text)
aws ec2 authorize-security-group-ingress --group-id "$lbsg" --protocol tcp --port 80 --cidr "$cidr" >/dev/null
aws ec2 authorize-security-group-ingress --group-id "$lbsg" --protocol tcp --port 7000 --cidr "$cidr" >/dev/null
# the targets take web traffic from the load balancer's group only (and ssh from the host side)
aws ec2 authorize-security-group-ingress --group-id "$websg" --protocol tcp --port 80 --source-group "$lbsg" >/dev/null
aws ec2 authorize-security-group-ingress --group-id "$websg" --protocol tcp --port 7000 --source-group "$lbsg" >/dev/null
for g in "$websg" "$clsg"; do allow_ssh "$g" "$p.0.0/16"; done

# httpd answers / with the instance id and /a/x with "a:<id>"; port 7000 a line "tcp:<id>"
ud='#!/bin/sh
id=$(ls /var/lib/vmmgr | sed -n "s/^user-data\.//p")
mkdir -p /www/a
echo "$id" > /www/index.html
echo "a:$id" > /www/a/x
httpd -p 80 -h /www
(while :; do echo "tcp:$id" | nc -l -p 7000; done) &
echo "vmmgr: httpd up"'
w1=$(launch --instance-type t2.micro --key-name k --subnet-id "$sa" --security-group-ids "$websg" --user-data "$ud")
w2=$(launch --instance-type t2.micro --key-name k --subnet-id "$sb" --security-group-ids "$websg" --user-data "$ud")
cl=$(launch --instance-type t2.micro --key-name k --subnet-id "$sa" --security-group-ids "$clsg")

# --- bad input: ELB's errors, nothing made ---------------------------------------------------------
aws ec2 create-subnet --vpc-id "$vpc" --cidr-block "$p.200.0/24" --availability-zone us-east-1a >/dev/null
sa2=$(aws ec2 describe-subnets --filters Name=cidr-block,Values="$p.200.0/24" --query 'Subnets[0].SubnetId' --output text)
expect_elb SubnetNotFound create-load-balancer --name web --scheme internal --subnets "$sa" subnet-0123456789abcdef0
expect_elb InvalidConfigurationRequest create-load-balancer --name web --scheme internal --subnets "$sa" "$sa2"
expect_elb ValidationError create-load-balancer --name web --scheme internal --subnets "$sa"
expect_elb InvalidSecurityGroup create-load-balancer --name web --scheme internal --subnets "$sa" "$sb" --security-groups sg-0123456789abcdef0
expect_elb ValidationError create-load-balancer --name=web- --subnets "$sa" "$sb"
# ports the aws CLI would refuse itself: boto3 without its parameter validation
/usr/bin/python3 - "$ENDPOINT" "$vpc" <<'PY' || fail "ports 0 and 70000"
import sys, boto3, botocore.config, botocore.exceptions
c = boto3.client("elbv2", endpoint_url=sys.argv[1], config=botocore.config.Config(parameter_validation=False))
for port in (0, 70000):
    try:
        c.create_target_group(Name="web-tg", Protocol="HTTP", Port=port, VpcId=sys.argv[2])
        sys.exit("port %d accepted" % port)
    except botocore.exceptions.ClientError as e:
        assert e.response["Error"]["Code"] == "ValidationError", e.response
PY
expect_elb ValidationError create-target-group --name web-tg --protocol HTTP --port 80 --vpc-id "$vpc" --matcher HttpCode=600
[ "$(elb describe-load-balancers --query 'length(LoadBalancers)')" = 0 ] || fail "a refused create left a load balancer"
[ "$(elb describe-target-groups --query 'length(TargetGroups)')" = 0 ] || fail "a refused create left a target group"
[ "$(aws ec2 describe-network-interfaces --filters Name=requester-managed,Values=true --query 'length(NetworkInterfaces)')" = 0 ] ||
	fail "a refused create left an interface"
aws ec2 delete-subnet --subnet-id "$sa2"
ok "bad input (unknown subnet, two subnets in a zone, one zone, unknown group, bad name, port 0/70000, matcher 600): ELB's errors, nothing made"

# --- the load balancer, its target group and listener -------------------------------------------------
tg=$(elb create-target-group --name web-tg --protocol HTTP --port 80 --vpc-id "$vpc" --health-check-interval-seconds 5 \
	--health-check-timeout-seconds 2 --healthy-threshold-count 2 --unhealthy-threshold-count 2 \
	--query 'TargetGroups[0].TargetGroupArn' --output text)
[[ "$tg" == arn:aws:elasticloadbalancing:us-east-1:*:targetgroup/web-tg/* ]] || fail "target group ARN: $tg"
expect_elb DuplicateTargetGroupName create-target-group --name web-tg --protocol HTTP --port 8080 --vpc-id "$vpc"
[ "$(elb create-target-group --name web-tg --protocol HTTP --port 80 --vpc-id "$vpc" --query 'TargetGroups[0].TargetGroupArn' --output text)" = "$tg" ] ||
	fail "the same CreateTargetGroup again is not the same group"
elb modify-target-group-attributes --target-group-arn "$tg" --attributes Key=deregistration_delay.timeout_seconds,Value=6 >/dev/null
lb_json=$(elb create-load-balancer --name web --scheme internal --subnets "$sa" "$sb" --security-groups "$lbsg" --output json)
lb=$(jq -r '.LoadBalancers[0].LoadBalancerArn' <<<"$lb_json")
dns=$(jq -r '.LoadBalancers[0].DNSName' <<<"$lb_json")
[[ "$dns" == internal-web-*.us-east-1.elb.amazonaws.com ]] || fail "DNS name: $dns"
jq -e '.LoadBalancers[0] | .Type == "application" and .Scheme == "internal" and .State.Code == "provisioning" and
	(.AvailabilityZones | map(.ZoneName) | sort) == ["us-east-1a", "us-east-1b"]' <<<"$lb_json" >/dev/null || fail "created: $lb_json"
expect_elb DuplicateLoadBalancerName create-load-balancer --name web --scheme internet-facing --subnets "$sa" "$sb"
timeout 120 /usr/bin/aws --endpoint-url "$ENDPOINT" elbv2 wait load-balancer-available --load-balancer-arns "$lb" ||
	fail "waiter load-balancer-available: $(elb describe-load-balancers --output json)"
lb_ips=$(elb describe-load-balancers --names web --query 'LoadBalancers[0].AvailabilityZones[].LoadBalancerAddresses[].PrivateIPv4Address' --output text)
[ "$(wc -w <<<"$lb_ips")" = 2 ] || fail "one address per subnet: $lb_ips"
enis=$(aws ec2 describe-network-interfaces --filters "Name=description,Values=ELB app/web/${lb##*/}" --output json)
jq -e '(.NetworkInterfaces | length) == 2 and all(.NetworkInterfaces[]; .RequesterManaged == true and .Status == "in-use" and
	.Groups[0].GroupId == "'"$lbsg"'")' <<<"$enis" >/dev/null || fail "the load balancer's interfaces: $enis"
ok "create-load-balancer: internal, two zones, an interface per subnet (requester-managed, ELB app/web/…), active"

l80=$(elb create-listener --load-balancer-arn "$lb" --protocol HTTP --port 80 --default-actions Type=forward,TargetGroupArn="$tg" \
	--query 'Listeners[0].ListenerArn' --output text)
expect_elb DuplicateListener create-listener --load-balancer-arn "$lb" --protocol HTTP --port 80 \
	--default-actions 'Type=fixed-response,FixedResponseConfig={StatusCode=404}'
expect_elb ResourceInUse delete-target-group --target-group-arn "$tg"
expect_elb InvalidTarget register-targets --target-group-arn "$tg" --targets Id=i-0123456789abcdef0
for i in "$w1" "$w2"; do wait_console "$i" "vmmgr: httpd up" 1; done
wait_console "$cl" "vmmgr: instance $cl ready" 1
elb register-targets --target-group-arn "$tg" --targets Id="$w1" Id="$w2"
health() { elb describe-target-health --target-group-arn "$tg" --output json |
	jq -r --arg i "$1" '.TargetHealthDescriptions[] | select(.Target.Id == $i) | .TargetHealth.State'; }
# not healthy before its checks passed (a healthy threshold of 2 at 5 s takes more than the call)
[ "$(health "$w1")" = initial ] || fail "a target just registered is $(health "$w1"), not initial"
timeout 120 /usr/bin/aws --endpoint-url "$ENDPOINT" elbv2 wait target-in-service --target-group-arn "$tg" \
	--targets Id="$w1" Id="$w2" || fail "waiter target-in-service: $(elb describe-target-health --target-group-arn "$tg" --output json)"
ok "register-targets: both targets healthy (waiter target-in-service)"

# --- traffic from a third instance, through the DNS name ---------------------------------------------
cl_ip=$(private_ip "$cl")
w1_ip=$(private_ip "$w1")
# N requests from the client through the load balancer's name, answers counted.  The guest's static
# busybox wget crashes on any address (glibc's resolver in a static binary): the name is looked up
# with its nslookup, from the VPC's DNS, and nc sends the requests, alternating over the addresses.
through() { # PATH N
	gssh "$T/k.pem" "$cl_ip" "ips=\$(nslookup $dns | sed -n '/^Name:/,\$ s/^Address: *//p'); set -- \$ips
		for i in \$(seq $2); do a=\$1; shift; set -- \$@ \$a; printf 'GET $1 HTTP/1.0\\r\\n\\r\\n' | nc -w 5 \$a 80 | tail -n 1 | grep . || echo failed; done" |
		sort | uniq -c | awk '{print $2"="$1}' | tr '\n' ' '
}
resolved=$(gssh "$T/k.pem" "$cl_ip" "nslookup $dns; true" | grep -oE "$p\.[0-9]+\.[0-9]+" | sort -u | tr '\n' ' ')
for ip in $lb_ips; do grep -qw "$ip" <<<"$resolved" || fail "$dns resolves to '$resolved' inside the VPC, not the load balancer's $lb_ips"; done
out=$(through / 8)
grep -q "$w1=" <<<"$out" && grep -q "$w2=" <<<"$out" && ! grep -q failed <<<"$out" ||
	fail "requests through $dns did not reach both targets: $out"
ok "the DNS name resolves to the load balancer's addresses inside the VPC; requests from another instance reach both targets ($out)"
tcp_open "$gw_a" "$w1_ip" 80 && fail "the targets' group (only the load balancer's group) let the host side in on port 80"
[ -z "$(gssh "$T/k.pem" "$cl_ip" "printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 $w1_ip 80 2>/dev/null; true")" ] || fail "the client reached a target directly"
ok "security groups: the targets admit only the load balancer's group, whose traffic still reaches them"

# --- health: httpd stopped → unhealthy within the thresholds, traffic to the other; started → healthy
gssh "$T/k.pem" "$w1_ip" "killall httpd"
t0=$(date +%s)
for i in $(seq 40); do [ "$(health "$w1")" = unhealthy ] && break; sleep 0.5; done
t1=$(date +%s)
[ "$(health "$w1")" = unhealthy ] || fail "a target whose httpd stopped is $(health "$w1") after 20 s"
[ $((t1 - t0)) -le 14 ] || fail "unhealthy after $((t1 - t0)) s (interval 5 s x threshold 2)"
reason=$(elb describe-target-health --target-group-arn "$tg" --targets Id="$w1" --query 'TargetHealthDescriptions[0].TargetHealth.Reason' --output text)
[ "$reason" = Target.FailedHealthChecks ] || [ "$reason" = Target.ResponseCodeMismatch ] || fail "reason: $reason"
out=$(through / 6)
[ "$out" = "$w2=6 " ] || fail "with one target unhealthy, requests went to: $out"
gssh "$T/k.pem" "$w1_ip" "httpd -p 80 -h /www"
for i in $(seq 40); do [ "$(health "$w1")" = healthy ] && break; sleep 0.5; done
[ "$(health "$w1")" = healthy ] || fail "a target whose httpd started again is $(health "$w1")"
ok "httpd stopped: unhealthy ($reason) in $((t1 - t0)) s and all requests to the other; started: healthy again"

# --- a path rule: /a/* to another target group ------------------------------------------------------
tga=$(elb create-target-group --name a-tg --protocol HTTP --port 80 --vpc-id "$vpc" --health-check-interval-seconds 5 \
	--health-check-timeout-seconds 2 --healthy-threshold-count 2 --query 'TargetGroups[0].TargetGroupArn' --output text)
elb register-targets --target-group-arn "$tga" --targets Id="$w2"
rule=$(elb create-rule --listener-arn "$l80" --priority 10 --conditions Field=path-pattern,Values='/a/*' \
	--actions Type=forward,TargetGroupArn="$tga" --query 'Rules[0].RuleArn' --output text)
expect_elb PriorityInUse create-rule --listener-arn "$l80" --priority 10 --conditions Field=path-pattern,Values='/b/*' \
	--actions Type=forward,TargetGroupArn="$tga"
timeout 60 /usr/bin/aws --endpoint-url "$ENDPOINT" elbv2 wait target-in-service --target-group-arn "$tga" || fail "a-tg: not in service"
out=$(through /a/x 4)
[ "$out" = "a:$w2=4 " ] || fail "/a/x went to: $out"
out=$(through / 6)
grep -q "$w1=" <<<"$out" && grep -q "$w2=" <<<"$out" || fail "the default action after a rule: $out"
[ "$(elb describe-rules --listener-arn "$l80" --query 'Rules[].Priority' --output text)" = "10	default" ] || fail "describe-rules"
# the same through vmmgr's own CLI (shorthand lists become the Query protocol's member lists)
vm elbv2 modify-rule --rule-arn "$rule" --conditions 'Field=path-pattern,Values=/a/*,/b/*' >/dev/null || fail "vmmgr elbv2 modify-rule"
[ "$(vm elbv2 describe-rules --rule-arns "$rule" --output json | jq -c '.Rules[0].Conditions[0].Values')" = '["/a/*","/b/*"]' ] ||
	fail "vmmgr elbv2 describe-rules: $(vm elbv2 describe-rules --rule-arns "$rule" --output json)"
ok "a path rule sends /a/* to its target group, the rest to the default"

# --- host-header rules: a fixed response, and a target group of type ip ------------------------------
w2_ip=$(private_ip "$w2")
host_req() { # HOST PATH: the last line of the answer through the load balancer's first address
	gssh "$T/k.pem" "$cl_ip" "a=\$(nslookup $dns | sed -n '/^Name:/,\$ s/^Address: *//p' | head -n 1)
		printf 'GET $2 HTTP/1.0\r\nHost: $1\r\n\r\n' | nc -w 5 \$a 80 | tail -n 1"
}
elb create-rule --listener-arn "$l80" --priority 20 --conditions Field=host-header,Values=fixed.example \
	--actions 'Type=fixed-response,FixedResponseConfig={StatusCode=200,ContentType=text/plain,MessageBody=fixed by rule}' >/dev/null
tgip=$(elb create-target-group --name ip-tg --protocol HTTP --port 80 --vpc-id "$vpc" --target-type ip --health-check-interval-seconds 5 \
	--health-check-timeout-seconds 2 --healthy-threshold-count 2 --query 'TargetGroups[0].TargetGroupArn' --output text)
expect_elb InvalidTarget register-targets --target-group-arn "$tgip" --targets Id=192.0.2.7
elb register-targets --target-group-arn "$tgip" --targets Id="$w2_ip"
elb create-rule --listener-arn "$l80" --priority 30 --conditions Field=host-header,Values=ip.example \
	--actions Type=forward,TargetGroupArn="$tgip" >/dev/null
timeout 60 /usr/bin/aws --endpoint-url "$ENDPOINT" elbv2 wait target-in-service --target-group-arn "$tgip" \
	--targets Id="$w2_ip" || fail "ip-tg: not in service: $(elb describe-target-health --target-group-arn "$tgip" --output json)"
[ "$(host_req fixed.example /)" = "fixed by rule" ] || fail "host fixed.example: '$(host_req fixed.example /)'"
for _ in 1 2 3; do
	[ "$(host_req ip.example /)" = "$w2" ] || fail "host ip.example (target $w2_ip by address): '$(host_req ip.example /)'"
done
ok "host-header rules: a fixed response with its body, and a target group of type ip (the target by its address)"

# --- weighted forwarding (ForwardConfig) and redirects --------------------------------------------------
tg1=$(elb create-target-group --name w1-tg --protocol HTTP --port 80 --vpc-id "$vpc" --health-check-interval-seconds 5 \
	--health-check-timeout-seconds 2 --healthy-threshold-count 2 --query 'TargetGroups[0].TargetGroupArn' --output text)
elb register-targets --target-group-arn "$tg1" --targets Id="$w1"
fwd() { # WEIGHT1 WEIGHT2: a forward action over w1-tg (w1) and ip-tg (w2), as JSON
	echo '[{"Type":"forward","ForwardConfig":{"TargetGroups":[{"TargetGroupArn":"'"$tg1"'","Weight":'"$1"'},{"TargetGroupArn":"'"$tgip"'","Weight":'"$2"'}]}}]'
}
expect_elb ValidationError create-rule --listener-arn "$l80" --priority 40 --conditions Field=host-header,Values=weighted.example \
	--actions "$(fwd 0 0)"
wrule=$(elb create-rule --listener-arn "$l80" --priority 40 --conditions Field=host-header,Values=weighted.example \
	--actions "$(fwd 3 1)" --query 'Rules[0].RuleArn' --output text)
[ "$(elb describe-rules --rule-arns "$wrule" --output json | jq -c '[.Rules[0].Actions[0].ForwardConfig.TargetGroups[].Weight]')" = "[3,1]" ] ||
	fail "describe-rules of a weighted rule: $(elb describe-rules --rule-arns "$wrule" --output json)"
expect_elb ResourceInUse delete-target-group --target-group-arn "$tg1"
timeout 60 /usr/bin/aws --endpoint-url "$ENDPOINT" elbv2 wait target-in-service --target-group-arn "$tg1" || fail "w1-tg: not in service"
weighted() { # N requests with Host weighted.example: "w1 w2" answer counts
	gssh "$T/k.pem" "$cl_ip" "a=\$(nslookup $dns | sed -n '/^Name:/,\$ s/^Address: *//p' | head -n 1)
		for i in \$(seq $1); do printf 'GET / HTTP/1.0\r\nHost: weighted.example\r\n\r\n' | nc -w 5 \$a 80 | tail -n 1; done" >"$T/weighted"
	echo "$(grep -cx "$w1" "$T/weighted") $(grep -cx "$w2" "$T/weighted")"
}
read -r n1 n2 <<<"$(weighted 60)"
[ $((n1 + n2)) = 60 ] && [ "$n2" -ge 1 ] && [ "$n1" -gt "$n2" ] || fail "weights 3:1 gave w1=$n1 w2=$n2 of 60"
elb modify-rule --rule-arn "$wrule" --actions "$(fwd 0 1)" >/dev/null
# a rule's change applies once HAProxy reloaded: asked again until a request goes the new way
for _ in $(seq 20); do [ "$(weighted 1)" = "0 1" ] && break; sleep 0.5; done
read -r m1 m2 <<<"$(weighted 20)"
[ "$m1 $m2" = "0 20" ] || fail "weights 0:1 gave w1=$m1 w2=$m2 of 20"
ok "weighted forwarding: 3:1 over two target groups gave $n1:$n2 of 60; 0:1 sends all to the second"

# --- stickiness of a weighted forward: the answer names its target group in a cookie, which keeps the
# client there; without the cookie the weights decide
sfwd() { # ENABLED [DURATION]
	echo '[{"Type":"forward","ForwardConfig":{"TargetGroups":[{"TargetGroupArn":"'"$tg1"'","Weight":1},{"TargetGroupArn":"'"$tgip"'","Weight":1}],"TargetGroupStickinessConfig":{"Enabled":'"$1${2:+,\"DurationSeconds\":$2}"'}}}]'
}
expect_elb ValidationError modify-rule --rule-arn "$wrule" --actions "$(sfwd true)"
expect_elb ValidationError modify-rule --rule-arn "$wrule" --actions "$(sfwd true 604801)"
elb modify-rule --rule-arn "$wrule" --actions "$(sfwd true 120)" >/dev/null
[ "$(elb describe-rules --rule-arns "$wrule" --output json | jq -c '.Rules[0].Actions[0].ForwardConfig.TargetGroupStickinessConfig')" = '{"Enabled":true,"DurationSeconds":120}' ] ||
	fail "describe-rules of a sticky rule: $(elb describe-rules --rule-arns "$wrule" --output json)"
sticky() { # COOKIE N: N requests with Host weighted.example carrying that AWSALBTG cookie ("": none); a line "ANSWER COOKIE" each
	gssh "$T/k.pem" "$cl_ip" "a=\$(nslookup $dns | sed -n '/^Name:/,\$ s/^Address: *//p' | head -n 1)
		for i in \$(seq $2); do r=\$(printf 'GET / HTTP/1.0\r\nHost: weighted.example\r\n${1:+Cookie: AWSALBTG=$1\r\n}\r\n' | nc -w 5 \$a 80 | tr -d '\r')
		echo \"\$(echo \"\$r\" | tail -n 1) \$(echo \"\$r\" | sed -n 's/^[Ss][Ee][Tt]-[Cc][Oo][Oo][Kk][Ii][Ee]: AWSALBTG=\([^;]*\); *[Mm]ax-[Aa]ge=120.*/\1/p')\"; done"
}
for _ in $(seq 20); do read -r t0 c0 <<<"$(sticky "" 1)"; [ -n "$c0" ] && break; sleep 0.5; done
[ -n "$c0" ] || fail "a sticky forward's answer sets no AWSALBTG cookie: $(sticky "" 1)"
for _ in $(seq 30); do read -r t1 c1 <<<"$(sticky "" 1)"; [ "$t1" != "$t0" ] && break; done
[ "$t1" != "$t0" ] && [ -n "$c1" ] && [ "$c1" != "$c0" ] || fail "without a cookie the weights 1:1 never chose the other group ($t0 $c0, $t1 $c1)"
[ "$(sticky "$c0" 12 | awk '{print $1}' | sort -u)" = "$t0" ] || fail "the cookie $c0 did not keep the client on $t0: $(sticky "$c0" 12 | tr '\n' ' ')"
[ "$(sticky "$c1" 12 | awk '{print $1}' | sort -u)" = "$t1" ] || fail "the cookie $c1 did not keep the client on $t1: $(sticky "$c1" 12 | tr '\n' ' ')"
elb modify-rule --rule-arn "$wrule" --actions "$(fwd 1 1)" >/dev/null
for _ in $(seq 20); do [ -z "$(sticky "$c0" 1 | awk '{print $2}')" ] && break; sleep 0.5; done
[ "$(sticky "$c0" 20 | awk '{print $1}' | sort -u | wc -l)" = 2 ] || fail "with stickiness off, the cookie still keeps the client on one group"
ok "weighted forward stickiness: the answer's AWSALBTG cookie (Max-Age the duration) keeps the client on its group, 12 of 12 for each; off again, the weights decide"

host_head() { # HOST PATH: the answer's status line and Location header
	gssh "$T/k.pem" "$cl_ip" "a=\$(nslookup $dns | sed -n '/^Name:/,\$ s/^Address: *//p' | head -n 1)
		printf 'GET $2 HTTP/1.0\r\nHost: $1\r\n\r\n' | nc -w 5 \$a 80" | tr -d '\r' | grep -iE '^(HTTP/|location:)' | tr '\n' ' '
}
redir='[{"Type":"redirect","RedirectConfig":{"Protocol":"HTTPS","Port":"443","Path":"/new/#{path}","StatusCode":"HTTP_301"}}]'
expect_elb ValidationError create-rule --listener-arn "$l80" --priority 50 --conditions Field=host-header,Values=redirect.example \
	--actions '[{"Type":"redirect","RedirectConfig":{"Protocol":"FTP","StatusCode":"HTTP_301"}}]'
expect_elb InvalidConfigurationRequest create-rule --listener-arn "$l80" --priority 50 --conditions Field=host-header,Values=redirect.example \
	--actions '[{"Type":"redirect","RedirectConfig":{"StatusCode":"HTTP_302"}}]'
elb create-rule --listener-arn "$l80" --priority 50 --conditions Field=host-header,Values=redirect.example \
	--actions "$redir" >/dev/null
for _ in $(seq 20); do
	got=$(host_head redirect.example '/old/x?q=1')
	[[ "$got" == *" 301 "* ]] && break
	sleep 0.5
done
[ "$got" = "HTTP/1.1 301 Moved Permanently location: https://redirect.example/new/old/x?q=1 " ] || fail "redirect rule: '$got'"
got=$(host_head redirect.example /plain)
[ "$got" = "HTTP/1.1 301 Moved Permanently location: https://redirect.example/new/plain " ] || fail "redirect without a query: '$got'"
# a redirect as the listener's default: the rules before it still forward
elb modify-listener --listener-arn "$l80" --default-actions \
	'[{"Type":"redirect","RedirectConfig":{"Host":"moved.example","Port":"8080","Query":"from=#{host}","StatusCode":"HTTP_302"}}]' >/dev/null
[ "$(elb describe-listeners --listener-arns "$l80" --query 'Listeners[0].DefaultActions[0].RedirectConfig.[Protocol,Port,Host,Path,Query,StatusCode]' --output text)" = \
	"#{protocol}	8080	moved.example	/#{path}	from=#{host}	HTTP_302" ] || fail "describe-listeners of a redirect: $(elb describe-listeners --listener-arns "$l80" --output json)"
for _ in $(seq 20); do
	got=$(host_head web.example /b)
	[[ "$got" == *" 302 "* ]] && break
	sleep 0.5
done
[ "$got" = "HTTP/1.1 302 Found location: http://moved.example:8080/b?from=web.example " ] || fail "the default redirect: '$got'"
out=$(through /a/x 2)
[ "$out" = "a:$w2=2 " ] || fail "with a redirect as default, the /a/* rule's requests went to: $out"
[ "$(host_head fixed.example /)" = "HTTP/1.1 200 OK " ] || fail "with a redirect as default, the fixed-response rule: '$(host_head fixed.example /)'"
elb modify-listener --listener-arn "$l80" --default-actions Type=forward,TargetGroupArn="$tg" >/dev/null
ok "redirects: a rule's HTTPS redirect keeps path and query; the listener's default redirect leaves the rules before it their targets"

# --- HTTPS: an imported certificate (ACM) on a listener; HTTP redirected to it ------------------------
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/tls.key" -out "$T/tls.crt" -days 2 -subj /CN=web.example \
	-addext subjectAltName=DNS:web.example,DNS:www.web.example 2>/dev/null || fail "openssl req"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/other.key" -out "$T/other.crt" -days 2 -subj /CN=other.example 2>/dev/null
expect_acm ValidationException import-certificate --certificate "fileb://$T/tls.crt" --private-key "fileb://$T/other.key"
[ "$(aws acm list-certificates --query 'length(CertificateSummaryList)')" = 0 ] || fail "a refused import left a certificate"
cert=$(aws acm import-certificate --certificate "fileb://$T/tls.crt" --private-key "fileb://$T/tls.key" --tags Key=app,Value=web \
	--query CertificateArn --output text) || fail "import-certificate"
jq -e '.Certificate | .DomainName == "web.example" and .SubjectAlternativeNames == ["web.example", "www.web.example"] and
	.Type == "IMPORTED" and .Status == "ISSUED" and .KeyAlgorithm == "RSA_2048" and .Subject == "CN=web.example"' \
	<<<"$(aws acm describe-certificate --certificate-arn "$cert" --output json)" >/dev/null ||
	fail "describe-certificate: $(aws acm describe-certificate --certificate-arn "$cert" --output json)"
[ "$(aws acm list-tags-for-certificate --certificate-arn "$cert" --query 'Tags[0].Value' --output text)" = web ] || fail "the certificate's tags"
aws ec2 authorize-security-group-ingress --group-id "$lbsg" --protocol tcp --port 443 --cidr "$cidr" >/dev/null
expect_elb CertificateNotFound create-listener --load-balancer-arn "$lb" --protocol HTTPS --port 443 \
	--certificates "CertificateArn=${cert%/*}/00000000-0000-4000-8000-000000000000" --default-actions Type=forward,TargetGroupArn="$tg"
expect_elb ValidationError create-listener --load-balancer-arn "$lb" --protocol HTTPS --port 443 --default-actions Type=forward,TargetGroupArn="$tg"
expect_elb SSLPolicyNotFound create-listener --load-balancer-arn "$lb" --protocol HTTPS --port 443 --certificates CertificateArn="$cert" \
	--ssl-policy NoSuchPolicy --default-actions Type=forward,TargetGroupArn="$tg"
l443=$(elb create-listener --load-balancer-arn "$lb" --protocol HTTPS --port 443 --certificates CertificateArn="$cert" \
	--ssl-policy ELBSecurityPolicy-TLS13-1-2-2021-06 --default-actions Type=forward,TargetGroupArn="$tg" \
	--query 'Listeners[0].ListenerArn' --output text) || fail "create-listener HTTPS"
[ "$(elb describe-listeners --listener-arns "$l443" --query 'Listeners[0].[Protocol,SslPolicy,Certificates[0].CertificateArn]' --output text)" = \
	"HTTPS	ELBSecurityPolicy-TLS13-1-2-2021-06	$cert" ] || fail "describe-listeners HTTPS: $(elb describe-listeners --listener-arns "$l443" --output json)"
read -r lb_ip _ <<<"$lb_ips"
# from the host side: curl trusting that certificate alone, by its name
for _ in $(seq 40); do
	got=$(in_ns curl -s -m 3 --cacert "$T/tls.crt" --resolve "web.example:443:$lb_ip" https://web.example/) && [ -n "$got" ] && break
	sleep 0.5
done
[ "$got" = "$w1" ] || [ "$got" = "$w2" ] || fail "https://web.example/ through the load balancer: '$got'"
# HTTP to HTTPS: a rule for the name redirects, the browser's way follows it
elb create-rule --listener-arn "$l80" --priority 60 --conditions Field=host-header,Values=web.example \
	--actions '[{"Type":"redirect","RedirectConfig":{"Protocol":"HTTPS","Port":"443","StatusCode":"HTTP_301"}}]' >/dev/null
# (/a/x would match the /a/* rule first: rules decide by priority; a rule applies once HAProxy reloaded)
for _ in $(seq 20); do
	got=$(in_ns curl -s -o /dev/null -w '%{http_code} %{redirect_url}' --resolve "web.example:80:$lb_ip" 'http://web.example/?q=1')
	[ "${got%% *}" = 301 ] && break
	sleep 0.5
done
[ "$got" = "301 https://web.example/?q=1" ] || fail "http://web.example/?q=1 was not redirected to HTTPS: '$got'"
got=$(in_ns curl -sL -m 5 --cacert "$T/tls.crt" --resolve "web.example:80:$lb_ip" --resolve "web.example:443:$lb_ip" http://web.example/)
[ "$got" = "$w1" ] || [ "$got" = "$w2" ] || fail "the redirect followed to HTTPS gave '$got'"
# a second certificate on the listener, chosen by the name the client asks for (SNI)
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/api.key" -out "$T/api.crt" -days 2 -subj /CN=api.example 2>/dev/null
cert2=$(aws acm import-certificate --certificate "fileb://$T/api.crt" --private-key "fileb://$T/api.key" --query CertificateArn --output text)
elb add-listener-certificates --listener-arn "$l443" --certificates CertificateArn="$cert2" >/dev/null || fail "add-listener-certificates"
[ "$(elb describe-listener-certificates --listener-arn "$l443" --query 'Certificates[].[CertificateArn,IsDefault]' --output text | tr '\t\n' '= ')" = \
	"$cert=True $cert2=False " ] || fail "describe-listener-certificates: $(elb describe-listener-certificates --listener-arn "$l443" --output json)"
for _ in $(seq 20); do
	got=$(in_ns curl -s -m 3 --cacert "$T/api.crt" --resolve "api.example:443:$lb_ip" https://api.example/) && [ -n "$got" ] && break
	sleep 0.5
done
[ "$got" = "$w1" ] || [ "$got" = "$w2" ] || fail "https://api.example/ (its own certificate by SNI): '$got'"
got=$(in_ns curl -s -m 3 --cacert "$T/tls.crt" --resolve "web.example:443:$lb_ip" https://web.example/)
[ "$got" = "$w1" ] || [ "$got" = "$w2" ] || fail "https://web.example/ beside a second certificate: '$got'"
expect_elb OperationNotPermitted remove-listener-certificates --listener-arn "$l443" --certificates CertificateArn="$cert"
expect_acm ResourceInUseException delete-certificate --certificate-arn "$cert2"
elb remove-listener-certificates --listener-arn "$l443" --certificates CertificateArn="$cert2" || fail "remove-listener-certificates"
for _ in $(seq 20); do
	in_ns curl -s -m 3 -o /dev/null --cacert "$T/api.crt" --resolve "api.example:443:$lb_ip" https://api.example/ || break
	sleep 0.5
done
in_ns curl -s -m 3 -o /dev/null --cacert "$T/api.crt" --resolve "api.example:443:$lb_ip" https://api.example/ &&
	fail "api.example's certificate still served after remove-listener-certificates"
aws acm delete-certificate --certificate-arn "$cert2" || fail "delete-certificate of a removed listener certificate"
expect_acm ResourceInUseException delete-certificate --certificate-arn "$cert"
[ "$(aws acm describe-certificate --certificate-arn "$cert" --query 'Certificate.InUseBy[0]' --output text)" = "$lb" ] ||
	fail "the certificate's InUseBy: $(aws acm describe-certificate --certificate-arn "$cert" --output json)"
elb delete-listener --listener-arn "$l443"
aws acm delete-certificate --certificate-arn "$cert" || fail "delete-certificate after its listener went"
expect_acm ResourceNotFoundException describe-certificate --certificate-arn "$cert"
ok "HTTPS: an imported certificate (ACM) served by an HTTPS listener with its SSL policy, a second one by SNI (added, removed); HTTP redirected to it; a certificate in use cannot be deleted"

# --- kill -9 of HAProxy: restarted by the controller, targets' health intact ----------------------------
lbid=${lb##*/}
old=$(cat "$S/elb/$lbid/haproxy.pid")
kill -9 "$old"
for i in $(seq 40); do
	new=$(cat "$S/elb/$lbid/haproxy.pid" 2>/dev/null || true)
	[ -n "$new" ] && [ "$new" != "$old" ] && kill -0 "$new" 2>/dev/null && break
	sleep 0.5
done
[ "$new" != "$old" ] || fail "HAProxy was not restarted after kill -9"
[ "$(health "$w1") $(health "$w2")" = "healthy healthy" ] || fail "after the restart: $(health "$w1") $(health "$w2")"
out=$(through / 6)
grep -q "$w1=" <<<"$out" && grep -q "$w2=" <<<"$out" || fail "after the restart: $out"
ok "kill -9 of HAProxy: restarted, both targets still healthy, serving both"

# --- vmmgr serve down for 30 s: HAProxy keeps serving ------------------------------------------------
stop_serve
read -r lb_ip _ <<<"$lb_ips"
fails=0 total=0
end=$(($(date +%s) + 30))
while [ "$(date +%s)" -lt "$end" ]; do
	total=$((total + 1))
	in_ns curl -s -m 3 "http://$lb_ip/" | grep -q '^i-' || fails=$((fails + 1))
	sleep 0.5
done
start_serve
[ "$fails" = 0 ] || fail "$fails of $total requests failed while vmmgr serve was down"
ok "vmmgr serve down for 30 s: $total requests from the host side, none failed"

# --- a network load balancer: a raw TCP stream ----------------------------------------------------------
tgt=$(elb create-target-group --name tcp-tg --protocol TCP --port 7000 --vpc-id "$vpc" --health-check-protocol HTTP \
	--health-check-port 80 --health-check-interval-seconds 5 --health-check-timeout-seconds 2 --healthy-threshold-count 2 \
	--query 'TargetGroups[0].TargetGroupArn' --output text)
nlb=$(elb create-load-balancer --name tcp --type network --scheme internal --subnets "$sa" --security-groups "$lbsg" \
	--query 'LoadBalancers[0].LoadBalancerArn' --output text)
ndns=$(elb describe-load-balancers --load-balancer-arns "$nlb" --query 'LoadBalancers[0].DNSName' --output text)
elb create-listener --load-balancer-arn "$nlb" --protocol TCP --port 7000 --default-actions Type=forward,TargetGroupArn="$tgt" >/dev/null
elb register-targets --target-group-arn "$tgt" --targets Id="$w1"
timeout 90 /usr/bin/aws --endpoint-url "$ENDPOINT" elbv2 wait target-in-service --target-group-arn "$tgt" || fail "tcp-tg: not in service"
# the client keeps its side open a while (its end of input would close the stream before the answer)
line=$(gssh "$T/k.pem" "$cl_ip" "sleep 2 | nc -w 3 \$(nslookup $ndns | sed -n '/^Name:/,\$ s/^Address: *//p' | head -n 1) 7000")
[ "$line" = "tcp:$w1" ] || fail "through the network load balancer: '$line' ($(gssh "$T/k.pem" "$cl_ip" "nslookup $ndns; true" | tr '\n' ' '))"
ok "a network load balancer passes a raw TCP stream ($line)"
# its TLS listener: HAProxy terminates TLS with an imported certificate, the stream goes on to the target as TCP
ncert=$(aws acm import-certificate --certificate "fileb://$T/tls.crt" --private-key "fileb://$T/tls.key" --query CertificateArn --output text)
aws ec2 authorize-security-group-ingress --group-id "$lbsg" --protocol tcp --port 7443 --cidr "$cidr" >/dev/null
expect_elb ValidationError create-listener --load-balancer-arn "$nlb" --protocol TLS --port 7443 --default-actions Type=forward,TargetGroupArn="$tgt"
expect_elb InvalidConfigurationRequest create-listener --load-balancer-arn "$nlb" --protocol TCP --port 7443 --certificates CertificateArn="$ncert" \
	--default-actions Type=forward,TargetGroupArn="$tgt"
elb create-listener --load-balancer-arn "$nlb" --protocol TLS --port 7443 --certificates CertificateArn="$ncert" \
	--ssl-policy ELBSecurityPolicy-TLS13-1-2-2021-06 --default-actions Type=forward,TargetGroupArn="$tgt" >/dev/null || fail "create-listener TLS"
nlb_ip=$(elb describe-load-balancers --load-balancer-arns "$nlb" --query 'LoadBalancers[0].AvailabilityZones[0].LoadBalancerAddresses[0].PrivateIPv4Address' --output text)
# from the host side, trusting that certificate alone, by its name (a listener applies once HAProxy reloaded)
for _ in $(seq 40); do
	line=$(sleep 2 | in_ns timeout 10 openssl s_client -quiet -verify_return_error -CAfile "$T/tls.crt" -servername web.example \
		-connect "$nlb_ip:7443" 2>/dev/null | head -n 1 || true)
	[ -n "$line" ] && break
	sleep 0.5
done
[ "$line" = "tcp:$w1" ] || fail "through the network load balancer's TLS listener: '$line'"
expect_acm ResourceInUseException delete-certificate --certificate-arn "$ncert"
ok "a network load balancer's TLS listener: TLS verified against the imported certificate, the stream on as TCP ($line); the certificate in use"

# --- deregistration: draining for the delay, then gone ----------------------------------------------------
elb deregister-targets --target-group-arn "$tg" --targets Id="$w1"
[ "$(health "$w1")" = draining ] || fail "deregistered: $(health "$w1"), not draining"
for i in $(seq 10); do out=$(through / 2); [ "$out" = "$w2=2 " ] && break; done
[ "$out" = "$w2=2 " ] || fail "a draining target still gets new requests: $out"
timeout 60 /usr/bin/aws --endpoint-url "$ENDPOINT" elbv2 wait target-deregistered --target-group-arn "$tg" --targets Id="$w1" ||
	fail "waiter target-deregistered"
st=$(elb describe-target-health --target-group-arn "$tg" --targets Id="$w1" --query 'TargetHealthDescriptions[0].TargetHealth.[State,Reason]' --output text)
[ "$st" = "unused	Target.NotRegistered" ] || fail "after the delay: $st"
ok "deregister-targets: draining for the delay (6 s), no new requests, then unused/Target.NotRegistered"

# --- delete: nothing left -----------------------------------------------------------------------------------
hpid=$(cat "$S/elb/$lbid/haproxy.pid")
elb delete-load-balancer --load-balancer-arn "$lb"
elb delete-load-balancer --load-balancer-arn "$lb" # gone already: no error
timeout 60 /usr/bin/aws --endpoint-url "$ENDPOINT" elbv2 wait load-balancers-deleted --load-balancer-arns "$lb" ||
	fail "waiter load-balancers-deleted"
for i in $(seq 40); do
	n=$(aws ec2 describe-network-interfaces --filters "Name=description,Values=ELB app/web/$lbid" --query 'length(NetworkInterfaces)')
	[ "$n" = 0 ] && break
	sleep 0.5
done
[ "$n" = 0 ] || fail "the deleted load balancer's interfaces are still there"
[ -e "/run/netns/vmmgr-lb-$lbid" ] && fail "the deleted load balancer's namespace is still there"
kill -0 "$hpid" 2>/dev/null && fail "the deleted load balancer's HAProxy still runs"
elb delete-target-group --target-group-arn "$tga" || fail "a target group no longer in use (its rule went with the load balancer)"
ok "delete-load-balancer: no interface, namespace or HAProxy left (waiter load-balancers-deleted)"
