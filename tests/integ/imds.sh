#!/bin/bash
# The instance metadata service at 169.254.169.254, asked from real guests with raw HTTP (busybox
# nc): IMDSv1 and IMDSv2 (tokens, their expiry and binding to the instance), what cloud-init and the
# AWS tools read (ids, addresses, MAC, zone, key, user-data, the identity document, listings),
# MetadataOptions at launch and through modify-instance-metadata-options (tokens required, endpoint
# disabled, bad input refused), one instance never reading another's data, a guest that fakes
# another's address unanswered, the service answering while `vmmgr serve` is down and restarted
# after kill -9.
. "$(dirname "$0")/lib.sh"
vm_init
SERVE_ARGS="--metrics-interval 0"
. "$(dirname "$0")/serve.sh"

vm create-key-pair --key-name k --key-type ed25519 --output json | jq -r .KeyMaterial > "$T/k.pem"
chmod 600 "$T/k.pem"
vpc=$(aws ec2 describe-vpcs --query 'Vpcs[0].VpcId' --output text)
cidr=$(aws ec2 describe-vpcs --query 'Vpcs[0].CidrBlock' --output text)
sg=$(default_group "$vpc")
allow_ssh "$sg" "$cidr"
ud=$'#!/bin/sh\necho user data for imds'
a=$(launch --instance-type t2.micro --key-name k --user-data "$ud")
b=$(aws ec2 run-instances --image-id "$AMI" --instance-type t2.micro --key-name k \
	--metadata-options HttpTokens=required,HttpPutResponseHopLimit=2 --query 'Instances[0].InstanceId' --output text)
[ "$(aws ec2 describe-instances --instance-ids "$b" --query 'Reservations[0].Instances[0].MetadataOptions.[HttpTokens,HttpPutResponseHopLimit,HttpEndpoint]' --output text)" = "required	2	enabled" ] ||
	fail "run-instances --metadata-options is not what describe-instances shows"
[ "$(aws ec2 describe-instances --instance-ids "$a" --query 'Reservations[0].Instances[0].MetadataOptions.[HttpTokens,HttpEndpoint]' --output text)" = "optional	enabled" ] ||
	fail "an instance's default metadata options are not optional/enabled"
# c has no config drive: its key, host name and user-data come from the metadata service
c=$(launch --instance-type t2.micro --key-name k --user-data $'#!/bin/sh\necho user data through imds' \
	--tag-specifications 'ResourceType=instance,Tags=[{Key=vmmgr:datasource,Value=imds}]')
o=$(aws ec2 run-instances --image-id "$AMI" --tag-specifications 'ResourceType=instance,Tags=[{Key=vmmgr:datasource,Value=floppy}]' 2>&1) &&
	fail "run-instances with vmmgr:datasource=floppy succeeded"
grep -q InvalidParameterValue <<<"$o" || fail "vmmgr:datasource=floppy: $o"
for i in "$a" "$b"; do wait_console "$i" "vmmgr: instance $i ready" 1; done
a_ip=$(private_ip "$a")
b_ip=$(private_ip "$b")

# md IP METHOD PATH [HEADER…]: the service's raw answer to the guest at IP
md() {
	local ip=$1 method=$2 path=$3 req h
	shift 3
	req="$method $path HTTP/1.0\\r\\n"
	for h in "$@"; do req+="$h\\r\\n"; done
	gssh "$T/k.pem" "$ip" "printf '$req\\r\\n' | nc -w 5 169.254.169.254 80; true"
}
code() { head -n 1 <<<"$1" | awk '{print $2}'; }
body() { sed '1,/^\r$/d' <<<"$1"; }
get() { # IP PATH [HEADER…]: the body of a 200 answer, or fail
	local r
	r=$(md "$1" GET "$2" "${@:3}")
	[ "$(code "$r")" = 200 ] || fail "GET $2 from $1: $(head -n 1 <<<"$r") (expected 200)"
	body "$r"
}
token() { # IP TTL: a session token
	local r
	r=$(md "$1" PUT /latest/api/token "X-aws-ec2-metadata-token-ttl-seconds: $2")
	[ "$(code "$r")" = 200 ] || fail "PUT /latest/api/token from $1: $(head -n 1 <<<"$r")"
	body "$r"
}

# IMDSv1: who am I, and only me
[ "$(get "$a_ip" /latest/meta-data/instance-id)" = "$a" ] || fail "instance-id from $a"
[ "$(get "$a_ip" /latest/meta-data/local-ipv4)" = "$a_ip" ] || fail "local-ipv4"
[ "$(get "$a_ip" /latest/meta-data/ami-id)" = "$AMI" ] || fail "ami-id"
[ "$(get "$a_ip" /latest/meta-data/instance-type)" = t2.micro ] || fail "instance-type"
mac=$(aws ec2 describe-instances --instance-ids "$a" --query 'Reservations[0].Instances[0].NetworkInterfaces[0].MacAddress' --output text)
[ "$(get "$a_ip" /latest/meta-data/mac)" = "$mac" ] || fail "mac"
zone=$(aws ec2 describe-instances --instance-ids "$a" --query 'Reservations[0].Instances[0].Placement.AvailabilityZone' --output text)
[ "$(get "$a_ip" /latest/meta-data/placement/availability-zone)" = "$zone" ] || fail "placement/availability-zone"
[ "$(get "$a_ip" /latest/meta-data/placement/region)" = us-east-1 ] || fail "placement/region"
dns=$(aws ec2 describe-instances --instance-ids "$a" --query 'Reservations[0].Instances[0].PrivateDnsName' --output text)
[ "$(get "$a_ip" /latest/meta-data/local-hostname)" = "$dns" ] || fail "local-hostname"
subnet=$(aws ec2 describe-instances --instance-ids "$a" --query 'Reservations[0].Instances[0].SubnetId' --output text)
[ "$(get "$a_ip" "/latest/meta-data/network/interfaces/macs/$mac/subnet-id")" = "$subnet" ] || fail "macs/…/subnet-id"
[ "$(get "$a_ip" "/latest/meta-data/network/interfaces/macs/$mac/vpc-ipv4-cidr-block")" = "$cidr" ] || fail "macs/…/vpc-ipv4-cidr-block"
[ "$(get "$a_ip" /latest/meta-data/security-groups)" = default ] || fail "security-groups"
[ "$(get "$a_ip" /latest/meta-data/public-keys/)" = "0=k" ] || fail "public-keys/ lists '0=k'"
pub=$(get "$a_ip" /latest/meta-data/public-keys/0/openssh-key)
[[ "$pub" == ssh-ed25519\ * ]] || fail "public-keys/0/openssh-key: '$pub'"
gssh "$T/k.pem" "$a_ip" "grep -qF '${pub%% k*}' /root/.ssh/authorized_keys" ||
	fail "the key the service gives is not the one the guest was given"
[ "$(get "$a_ip" /latest/user-data)" = "$ud" ] || fail "user-data"
list=$(get "$a_ip" /latest/meta-data/)
for k in ami-id instance-id instance-type local-hostname local-ipv4 mac network/ placement/ public-keys/ reservation-id; do
	grep -qx -- "$k" <<<"$list" || fail "meta-data/ does not list $k: $list"
done
[ "$(get "$a_ip" /latest/ | tr '\n' ' ')" = "dynamic meta-data user-data " ] || fail "/latest/ lists $(get "$a_ip" /latest/)"
doc=$(get "$a_ip" /latest/dynamic/instance-identity/document)
[ "$(jq -r '.instanceId + " " + .privateIp + " " + .region + " " + .availabilityZone' <<<"$doc")" = "$a $a_ip us-east-1 $zone" ] ||
	fail "identity document: $doc"
[ "$(code "$(md "$a_ip" GET /latest/meta-data/no-such-thing)")" = 404 ] || fail "an unknown path is not 404"
ok "IMDSv1 from a guest: its ids, addresses, MAC, zone, DNS name, groups, key, user-data, identity document, listings"

# the instance without a config drive
wait_console "$c" "vmmgr: metadata from 169.254.169.254 (key pair)" 1
wait_console "$c" "user data through imds" 1
c_ip=$(private_ip "$c")
xml=$(virsh_ dumpxml "$c")
! grep -q cidata.iso <<<"$xml" || fail "an instance with vmmgr:datasource=imds has a config drive"
grep -q "<entry name='manufacturer'>Amazon EC2</entry>" <<<"$xml" || fail "its domain does not carry EC2's SMBIOS strings"
uuid=$(virsh_ domuuid "$c")
[[ "$uuid" == ec2* ]] || fail "its domain UUID does not start with ec2: $uuid"
[ "$(gssh "$T/k.pem" "$c_ip" hostname)" = "${c_ip//./-}" ] || [ "$(gssh "$T/k.pem" "$c_ip" hostname)" = "ip-${c_ip//./-}" ] ||
	fail "host name of $c: $(gssh "$T/k.pem" "$c_ip" hostname)"
dmi=$(gssh "$T/k.pem" "$c_ip" "cat /sys/class/dmi/id/sys_vendor /sys/class/dmi/id/product_uuid /sys/class/dmi/id/product_serial 2>/dev/null; true")
echo "# the guest's DMI (sys_vendor, product_uuid, product_serial): $(tr '\n' ' ' <<<"${dmi:-none}")"
if [ -n "$dmi" ]; then
	[ "$(sed -n 1p <<<"$dmi")" = "Amazon EC2" ] || fail "the guest's sys_vendor: $dmi"
	[ "$(sed -n 2p <<<"$dmi" | tr A-Z a-z)" = "$(sed -n 3p <<<"$dmi" | tr A-Z a-z)" ] && [[ "$(sed -n 2p <<<"$dmi" | tr A-Z a-z)" == ec2* ]] ||
		fail "the guest's product uuid and serial (what cloud-init's ds-identify compares): $dmi"
fi
grep -q cidata.iso <<<"$(virsh_ dumpxml "$a")" || fail "a default instance has no config drive"
ok "vmmgr:datasource=imds: no config drive, EC2's SMBIOS strings (ec2 UUID = serial); the guest takes key, host name and user-data from the service"

# IMDSv2: tokens
t=$(token "$a_ip" 60)
[ "$(get "$a_ip" /latest/meta-data/instance-id "X-aws-ec2-metadata-token: $t")" = "$a" ] || fail "GET with a token"
[ "$(code "$(md "$a_ip" GET /latest/meta-data/instance-id "X-aws-ec2-metadata-token: x${t#?}")")" = 401 ] ||
	fail "a forged token is not 401"
[ "$(code "$(md "$a_ip" PUT /latest/api/token)")" = 400 ] || fail "PUT without a TTL is not 400"
[ "$(code "$(md "$a_ip" PUT /latest/api/token "X-aws-ec2-metadata-token-ttl-seconds: 21601")")" = 400 ] || fail "TTL 21601 is not 400"
[ "$(code "$(md "$a_ip" PUT /latest/api/token "X-aws-ec2-metadata-token-ttl-seconds: 60" "X-Forwarded-For: 1.2.3.4")")" = 403 ] ||
	fail "a token through a proxy (X-Forwarded-For) is not 403"
short=$(token "$a_ip" 1)
sleep 2
[ "$(code "$(md "$a_ip" GET /latest/meta-data/instance-id "X-aws-ec2-metadata-token: $short")")" = 401 ] ||
	fail "an expired token is not 401"
# b requires tokens (launched so): v1 refused, v2 answered; a's token is not b's
[ "$(code "$(md "$b_ip" GET /latest/meta-data/instance-id)")" = 401 ] || fail "v1 on an instance that requires tokens is not 401"
[ "$(code "$(md "$b_ip" GET /latest/meta-data/instance-id "X-aws-ec2-metadata-token: $t")")" = 401 ] ||
	fail "another instance's token is accepted"
tb=$(token "$b_ip" 60)
[ "$(get "$b_ip" /latest/meta-data/instance-id "X-aws-ec2-metadata-token: $tb")" = "$b" ] || fail "b reads its own id with its token"
[ "$(code "$(md "$b_ip" GET /latest/user-data "X-aws-ec2-metadata-token: $tb")")" = 404 ] || fail "b has no user-data: not 404"
ok "IMDSv2: a token opens the service for its TTL and its instance only; forged, expired, proxied and missing TTLs are refused"

# ModifyInstanceMetadataOptions
out=$(aws ec2 modify-instance-metadata-options --instance-id "$a" --http-tokens required --output json)
[ "$(jq -r '.InstanceId + " " + .InstanceMetadataOptions.HttpTokens' <<<"$out")" = "$a required" ] || fail "modify answer: $out"
[ "$(code "$(md "$a_ip" GET /latest/meta-data/instance-id)")" = 401 ] || fail "v1 still answered after --http-tokens required"
[ "$(get "$a_ip" /latest/meta-data/instance-id "X-aws-ec2-metadata-token: $t")" = "$a" ] || fail "v2 refused after --http-tokens required"
aws ec2 modify-instance-metadata-options --instance-id "$a" --http-endpoint disabled >/dev/null
[ "$(code "$(md "$a_ip" GET /latest/meta-data/instance-id "X-aws-ec2-metadata-token: $t")")" = 403 ] ||
	fail "the endpoint still answers when disabled"
python3 - "$ENDPOINT" "$a" <<'PY' || fail "boto3 ModifyInstanceMetadataOptions"
import sys, boto3
ec2 = boto3.client("ec2", endpoint_url=sys.argv[1], region_name="us-east-1")
r = ec2.modify_instance_metadata_options(InstanceId=sys.argv[2], HttpEndpoint="enabled", HttpTokens="optional")
assert r["InstanceMetadataOptions"]["HttpEndpoint"] == "enabled", r
d = ec2.describe_instances(InstanceIds=[sys.argv[2]])["Reservations"][0]["Instances"][0]["MetadataOptions"]
assert (d["HttpTokens"], d["HttpEndpoint"]) == ("optional", "enabled"), d
PY
[ "$(get "$a_ip" /latest/meta-data/instance-id)" = "$a" ] || fail "v1 not answered again after enabled/optional"
# instance tags in the metadata only when allowed
aws ec2 create-tags --resources "$a" --tags Key=Role,Value=web >/dev/null
[ "$(code "$(md "$a_ip" GET /latest/meta-data/tags/instance/Role)")" = 404 ] || fail "tags shown while InstanceMetadataTags is disabled"
aws ec2 modify-instance-metadata-options --instance-id "$a" --instance-metadata-tags enabled >/dev/null
[ "$(get "$a_ip" /latest/meta-data/tags/instance/Role)" = web ] || fail "tags/instance/Role with InstanceMetadataTags enabled"
grep -qx Role <<<"$(get "$a_ip" /latest/meta-data/tags/instance)" || fail "tags/instance does not list Role"
aws ec2 modify-instance-metadata-options --instance-id "$a" --instance-metadata-tags disabled >/dev/null
before=$(aws ec2 describe-instances --instance-ids "$a" --query 'Reservations[0].Instances[0].MetadataOptions' --output json)
for bad in "--http-put-response-hop-limit 65" "--http-tokens sometimes" "--http-endpoint off" "--http-protocol-ipv6 enabled"; do
	o=$(aws ec2 modify-instance-metadata-options --instance-id "$a" $bad 2>&1) &&
		fail "modify-instance-metadata-options $bad succeeded"
	grep -q InvalidParameterValue <<<"$o" || fail "modify $bad: $o"
done
[ "$(aws ec2 describe-instances --instance-ids "$a" --query 'Reservations[0].Instances[0].MetadataOptions' --output json)" = "$before" ] ||
	fail "refused modifications changed the options"
o=$(aws ec2 run-instances --image-id "$AMI" --metadata-options HttpTokens=maybe 2>&1) && fail "run-instances HttpTokens=maybe succeeded"
grep -q InvalidParameterValue <<<"$o" || fail "run-instances HttpTokens=maybe: $o"
o=$(aws ec2 modify-instance-metadata-options --instance-id i-0123456789abcdef0 --http-tokens required 2>&1) && fail "modify of no instance succeeded"
grep -q InvalidInstanceID.NotFound <<<"$o" || fail "modify of no instance: $o"
# a launch template's MetadataOptions reach its instances (Auto Scaling launches through the same parse)
aws ec2 create-launch-template --launch-template-name md-lt --launch-template-data \
	"{\"ImageId\":\"$AMI\",\"MetadataOptions\":{\"HttpTokens\":\"required\",\"InstanceMetadataTags\":\"enabled\"}}" >/dev/null
[ "$(aws ec2 describe-launch-template-versions --launch-template-name md-lt --query 'LaunchTemplateVersions[0].LaunchTemplateData.MetadataOptions.[HttpTokens,InstanceMetadataTags]' --output text)" = "required	enabled" ] ||
	fail "the launch template does not show its MetadataOptions"
o=$(aws ec2 create-launch-template --launch-template-name md-lt2 --launch-template-data '{"MetadataOptions":{"HttpTokens":"maybe"}}' 2>&1) &&
	fail "a launch template with HttpTokens=maybe was made"
grep -q InvalidParameterValue <<<"$o" || fail "launch template HttpTokens=maybe: $o"
lt=$(aws ec2 run-instances --launch-template LaunchTemplateName=md-lt --query 'Instances[0].InstanceId' --output text)
[ "$(aws ec2 describe-instances --instance-ids "$lt" --query 'Reservations[0].Instances[0].MetadataOptions.[HttpTokens,InstanceMetadataTags]' --output text)" = "required	enabled" ] ||
	fail "an instance from the template does not have its MetadataOptions"
aws ec2 terminate-instances --instance-ids "$lt" >/dev/null
ok "modify-instance-metadata-options (aws CLI, boto3): tokens required, endpoint disabled and enabled, instance tags take effect at once; bad values refused, nothing changed; launch templates carry MetadataOptions"

# a guest that sends from its neighbour's address is dropped before the service sees it
spoofed=$(gssh "$T/k.pem" "$a_ip" "gw=\$(ip route | sed -n 's/^default via \([0-9.]*\).*/\1/p')
	ip addr add $b_ip/32 dev eth0; ip route add 169.254.169.254/32 via \$gw src $b_ip
	printf 'GET /latest/meta-data/instance-id HTTP/1.0\r\nX-aws-ec2-metadata-token: $tb\r\n\r\n' | nc -w 4 169.254.169.254 80
	ip route del 169.254.169.254/32; ip addr del $b_ip/32 dev eth0; true")
[ -z "$spoofed" ] || fail "a guest faking its neighbour's address got an answer: $spoofed"
[ "$(get "$a_ip" /latest/meta-data/instance-id)" = "$a" ] || fail "after the spoofing attempt the guest's own requests fail"
ok "a guest that fakes another instance's address gets no answer (anti-spoofing drops it first)"

# the service outlives the daemon, and the daemon restarts it
mpid=$(cat "$S/imds/pid")
stop_serve
[ "$(get "$a_ip" /latest/meta-data/instance-id)" = "$a" ] || fail "the metadata service stopped with vmmgr serve"
start_serve
kill -9 "$mpid"
for _ in $(seq 40); do
	np=$(cat "$S/imds/pid" 2>/dev/null || true)
	[ -n "$np" ] && [ "$np" != "$mpid" ] && [ -d "/proc/$np" ] && break
	sleep 0.5
done
[ "$np" != "$mpid" ] || fail "vmmgr serve did not restart a killed metadata service"
for _ in $(seq 20); do
	r=$(md "$a_ip" GET /latest/meta-data/instance-id)
	[ "$(code "$r")" = 200 ] && break
	sleep 0.5
done
[ "$(body "$r")" = "$a" ] || fail "the restarted service does not answer: $r"
ok "the metadata service answers while vmmgr serve is down; killed, serve starts it again"
