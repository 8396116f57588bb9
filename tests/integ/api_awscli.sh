#!/bin/bash
# The real aws CLI (Debian's awscli) against `vmmgr serve`, with real guests: run-instances with
# tags, describe with filters, the CLI's own waiters, stop/start, terminate; DryRun; a wrong
# secret, an unsigned request and a stale signature are refused; the audit log records the calls.
. "$(dirname "$0")/lib.sh"
vm_init
. "$(dirname "$0")/serve.sh"

AMI=$(aws ec2 describe-images --owners self --filters Name=name,Values=vmmgr-tiny --query 'Images[0].ImageId' --output text)
[[ "$AMI" == ami-* ]] || fail "describe-images through the API: '$AMI'"

id=$(aws ec2 run-instances --image-id "$AMI" --instance-type t3.nano --count 1 \
	--tag-specifications 'ResourceType=instance,Tags=[{Key=Name,Value=api},{Key=odd,Value="<&>"}]' \
	--query 'Instances[0].InstanceId' --output text)
[[ "$id" =~ ^i-[0-9a-f]{17}$ ]] || fail "run-instances returned '$id'"
aws ec2 wait instance-running --instance-ids "$id" || fail "aws ec2 wait instance-running"
wait_console "$id" "vmmgr: instance $id ready" 1
ok "aws ec2 run-instances and wait instance-running: a real guest booted"

n=$(aws ec2 describe-instances --filters Name=tag:Name,Values=api Name=instance-state-name,Values=running \
	--query 'length(Reservations[].Instances[])' --output text)
[ "$n" = 1 ] || fail "describe-instances with filters through the API found $n"
[ "$(aws ec2 describe-instances --instance-ids "$id" --query 'Reservations[0].Instances[0].Tags[?Key==`odd`].Value' --output text)" = "<&>" ] ||
	fail "tag value did not round-trip through XML"
[ "$(aws ec2 describe-instances --max-results 5 --query 'length(Reservations)' --output text)" = 1 ] || fail "pagination"
ok "describe-instances: filters, escaped tags, pagination"

rc=0
out=$(aws ec2 run-instances --image-id "$AMI" --count 1 --dry-run 2>&1) || rc=$?
[ "$rc" != 0 ] && grep -q DryRunOperation <<<"$out" || fail "dry-run: $out"
[ "$(aws ec2 describe-instances --query 'length(Reservations[].Instances[])' --output text)" = 1 ] || fail "dry-run launched"
rc=0
out=$(aws ec2 terminate-instances --instance-ids i-0123456789abcdef0 2>&1) || rc=$?
grep -q InvalidInstanceID.NotFound <<<"$out" || fail "unknown instance: $out"
ok "DryRunOperation and InvalidInstanceID.NotFound reach the CLI"

aws ec2 stop-instances --instance-ids "$id" >/dev/null
aws ec2 wait instance-stopped --instance-ids "$id" || fail "aws ec2 wait instance-stopped"
aws ec2 start-instances --instance-ids "$id" >/dev/null
aws ec2 wait instance-running --instance-ids "$id" || fail "wait instance-running after start"
wait_console "$id" "vmmgr: instance $id ready" 2
ok "stop and start through the API"

img=$(aws ec2 create-image --instance-id "$id" --name "api image" --no-reboot --query ImageId --output text)
aws ec2 wait image-available --image-ids "$img" || fail "aws ec2 wait image-available"
[ "$(aws ec2 describe-images --page-size 1 --query 'Images[].ImageId' --output text | wc -w)" = 2 ] ||
	fail "the CLI's pagination (MaxResults=1, then NextToken) did not gather both images"
aws ec2 deregister-image --image-id "$img"
ok "create-image, wait image-available, paginated describe-images and deregister-image through the API"

[ "$(aws ec2 describe-instance-attribute --instance-id "$id" --attribute disableApiTermination --query 'DisableApiTermination.Value' --output text)" = False ] ||
	fail "describe-instance-attribute"
aws ec2 modify-instance-attribute --instance-id "$id" --disable-api-termination
rc=0
out=$(aws ec2 terminate-instances --instance-ids "$id" 2>&1) || rc=$?
grep -q OperationNotPermitted <<<"$out" || fail "termination protection: $out"
aws ec2 modify-instance-attribute --instance-id "$id" --no-disable-api-termination
[ "$(aws ec2 describe-instance-types --instance-types t3.micro --query 'InstanceTypes[0].BurstablePerformanceSupported' --output text)" = False ] ||
	fail "describe-instance-types"
[ "$(aws ec2 describe-regions --query 'Regions[0].RegionName' --output text)" = us-east-1 ] || fail "describe-regions"
[ "$(aws ec2 describe-availability-zones --query 'AvailabilityZones[0].ZoneName' --output text)" = us-east-1a ] || fail "describe-availability-zones"
aws ec2 describe-account-attributes --attribute-names supported-platforms >/dev/null || fail "describe-account-attributes"
ok "Terraform's read-back calls and termination protection"

aws ec2 create-key-pair --key-name api-key --key-type ed25519 --query KeyMaterial --output text > "$T/api.pem"
chmod 600 "$T/api.pem"
ssh-keygen -y -f "$T/api.pem" >/dev/null || fail "create-key-pair through the API gave no usable key"
ssh-keygen -q -t rsa -b 2048 -N '' -f "$T/imp"
aws ec2 import-key-pair --key-name api-imported --public-key-material "fileb://$T/imp.pub" >/dev/null
[ "$(aws ec2 describe-key-pairs --query 'length(KeyPairs)' --output text)" = 2 ] || fail "describe-key-pairs through the API"
aws ec2 delete-key-pair --key-name api-imported
ok "key pairs through the API (create, import with fileb://, describe, delete)"

vol=$(aws ec2 create-volume --size 1 --availability-zone us-east-1a --volume-type gp3 --query VolumeId --output text)
aws ec2 wait volume-available --volume-ids "$vol" || fail "aws ec2 wait volume-available"
snap=$(aws ec2 create-snapshot --volume-id "$vol" --query SnapshotId --output text)
aws ec2 wait snapshot-completed --snapshot-ids "$snap" || fail "aws ec2 wait snapshot-completed"
aws ec2 delete-snapshot --snapshot-id "$snap"
aws ec2 delete-volume --volume-id "$vol"
aws ec2 wait volume-deleted --volume-ids "$vol" || fail "aws ec2 wait volume-deleted"
ok "volumes and snapshots through the API with the CLI's waiters"

# networking through the API: VPC, subnet, group, rules (both argument forms), interface, waiters
[ "$(aws ec2 describe-vpcs --filters Name=is-default,Values=true --query 'length(Vpcs)' --output text)" = 1 ] ||
	fail "no default VPC through the API"
nb=$(next_block)
vpc=$(aws ec2 create-vpc --cidr-block "$nb.0.0/16" --tag-specifications 'ResourceType=vpc,Tags=[{Key=Name,Value=api}]' --query Vpc.VpcId --output text)
aws ec2 wait vpc-available --vpc-ids "$vpc" || fail "aws ec2 wait vpc-available"
aws ec2 modify-vpc-attribute --vpc-id "$vpc" --enable-dns-hostnames '{"Value": true}'
[ "$(aws ec2 describe-vpc-attribute --vpc-id "$vpc" --attribute enableDnsHostnames --query 'EnableDnsHostnames.Value' --output text)" = True ] ||
	fail "modify/describe-vpc-attribute"
sub=$(aws ec2 create-subnet --vpc-id "$vpc" --cidr-block "$nb.1.0/24" --query Subnet.SubnetId --output text)
aws ec2 wait subnet-available --subnet-ids "$sub" || fail "aws ec2 wait subnet-available"
[ "$(aws ec2 describe-subnets --filters "Name=vpc-id,Values=$vpc" --query 'Subnets[0].AvailableIpAddressCount' --output text)" = 251 ] ||
	fail "describe-subnets through the API"
sg=$(aws ec2 create-security-group --group-name api-web --description "api test" --vpc-id "$vpc" --query GroupId --output text)
aws ec2 wait security-group-exists --group-ids "$sg" || fail "aws ec2 wait security-group-exists"
aws ec2 authorize-security-group-ingress --group-id "$sg" --protocol tcp --port 22 --cidr "$nb.1.1/32" >/dev/null
aws ec2 authorize-security-group-ingress --group-id "$sg" \
	--ip-permissions "IpProtocol=tcp,FromPort=8000,ToPort=8080,UserIdGroupPairs=[{GroupId=$sg}]" >/dev/null
[ "$(aws ec2 describe-security-groups --group-ids "$sg" --query 'length(SecurityGroups[0].IpPermissions)' --output text)" = 2 ] ||
	fail "describe-security-groups through the API"
[ "$(aws ec2 describe-security-group-rules --filters "Name=group-id,Values=$sg" --query 'length(SecurityGroupRules)' --output text)" = 3 ] ||
	fail "describe-security-group-rules through the API"
out=$(aws ec2 authorize-security-group-ingress --group-id "$sg" --protocol tcp --port 22 --cidr "$nb.1.1/32" 2>&1) || rc=$?
grep -q InvalidPermission.Duplicate <<<"$out" || fail "duplicate rule through the API: $out"
ni=$(aws ec2 run-instances --image-id "$AMI" --instance-type t3.nano --subnet-id "$sub" --security-group-ids "$sg" \
	--private-ip-address "$nb.1.9" --query 'Instances[0].InstanceId' --output text)
[ "$(aws ec2 describe-network-interfaces --filters "Name=attachment.instance-id,Values=$ni" --query 'NetworkInterfaces[0].PrivateIpAddress' --output text)" = "$nb.1.9" ] ||
	fail "describe-network-interfaces through the API"
aws ec2 revoke-security-group-ingress --group-id "$sg" --protocol tcp --port 22 --cidr "$nb.1.1/32" >/dev/null
out=$(aws ec2 delete-security-group --group-id "$sg" 2>&1) || rc=$?
grep -q DependencyViolation <<<"$out" || fail "delete-security-group in use: $out"
aws ec2 terminate-instances --instance-ids "$ni" >/dev/null
aws ec2 wait instance-terminated --instance-ids "$ni"
aws ec2 delete-security-group --group-id "$sg"
aws ec2 delete-subnet --subnet-id "$sub"
aws ec2 delete-vpc --vpc-id "$vpc"
ok "VPCs, subnets, security groups, rules and network interfaces through the API with the CLI's waiters"

aws ec2 terminate-instances --instance-ids "$id" >/dev/null
aws ec2 wait instance-terminated --instance-ids "$id" || fail "aws ec2 wait instance-terminated"
! domain_exists "$id" || fail "domain left after terminate through the API"
ok "terminate and wait instance-terminated"

# authentication
rc=0
out=$(AWS_SECRET_ACCESS_KEY=wrong-secret aws ec2 describe-instances 2>&1) || rc=$?
[ "$rc" != 0 ] && grep -q SignatureDoesNotMatch <<<"$out" || fail "wrong secret accepted: $out"
rc=0
out=$(AWS_ACCESS_KEY_ID=AKIANOSUCHKEY0000000 aws ec2 describe-instances 2>&1) || rc=$?
grep -q AuthFailure <<<"$out" || fail "unknown key accepted: $out"
code=$(curl -s -o "$T/unsigned.xml" -w '%{http_code}' -d 'Action=DescribeInstances&Version=2016-11-15' "$ENDPOINT/")
[ "$code" = 401 ] && grep -q '<Code>AuthFailure</Code>' "$T/unsigned.xml" || fail "unsigned request: $code $(cat "$T/unsigned.xml")"
ok "wrong secret, unknown key and unsigned requests are refused"

# another signer (curl's own SigV4): GET with the query string, POST, an unknown action, a huge body
sig=(--aws-sigv4 "aws:amz:us-east-1:ec2" --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY")
curl -s "${sig[@]}" "$ENDPOINT/?Action=DescribeRegions&Version=2016-11-15" | grep -q '<regionName>us-east-1</regionName>' ||
	fail "signed GET"
curl -s "${sig[@]}" -d 'Action=DescribeAvailabilityZones&Version=2016-11-15' "$ENDPOINT/" | grep -q '<zoneName>us-east-1a</zoneName>' ||
	fail "signed POST from curl"
curl -s "${sig[@]}" -d 'Action=LaunchRockets&Version=2016-11-15' "$ENDPOINT/" | grep -q '<Code>InvalidAction</Code>' ||
	fail "unknown action"
# the progress bar is the CLI's own (ctx->progress), not a wire parameter: over HTTP it is unknown
snaps=$(vm describe-snapshots --query 'Snapshots[].SnapshotId' --output text | wc -w)
curl -s "${sig[@]}" -d 'Action=CreateSnapshot&Version=2016-11-15&VolumeId=vol-0123456789abcdef0&Progress=true' "$ENDPOINT/" |
	grep -q '<Code>UnknownParameter</Code>' || fail "Progress over HTTP was not refused as an unknown parameter"
[ "$(vm describe-snapshots --query 'Snapshots[].SnapshotId' --output text | wc -w)" = "$snaps" ] || fail "a refused CreateSnapshot made one"
head -c 2000000 /dev/zero | tr '\0' a > "$T/big"
code=$(curl -s -o /dev/null -w '%{http_code}' "${sig[@]}" --data-binary @"$T/big" "$ENDPOINT/")
[ "$code" = 413 ] || fail "a 2 MB body got $code"
ok "curl's SigV4: GET and POST; InvalidAction; Progress (the CLI's own) is an UnknownParameter and makes nothing; 413 for a body over 1 MiB"

grep -q "$AWS_SECRET_ACCESS_KEY" "$T/serve.err" && fail "the secret appears in the server log"
audit=$(vm audit --max-items 100000 --output json)
jq -e --arg id "$id" '[.Events[] | select(.Action == "RunInstances" and (.Resources | contains($id)))] | length == 1' <<<"$audit" >/dev/null ||
	fail "RunInstances is not in the audit log"
jq -e --arg k "$AWS_ACCESS_KEY_ID" '[.Events[] | select(.Principal == $k and .Action == "TerminateInstances" and .Result == "OperationNotPermitted")] | length == 1' <<<"$audit" >/dev/null ||
	fail "the refused terminate is not in the audit log"
ok "audit log: principal, action, resources, result"
