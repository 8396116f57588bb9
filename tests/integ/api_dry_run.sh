#!/bin/bash
# DryRun=true on every action of the dispatch table, through the HTTP API as boto3 serializes it:
# each answers DryRunOperation (or the error AWS gives that request anyway), and nothing changes —
# the store, libvirt's domains, networks and filters, and the files of the state dir are the same
# after all of them.  The actions come from vmmgr/services/ec2/dispatch.c, so an action added there without a
# case here fails this test; the dispatcher's guard (vm_ctx_dry_run) covers a handler that forgot
# DryRun.  A control run without DryRun shows the comparison sees a change.
. "$(dirname "$0")/lib.sh"
vm_init
# the store is compared whole around each DryRun request: no sampler writing points meanwhile
SERVE_ARGS="--metrics-interval 0"
. "$(dirname "$0")/serve.sh"

p=$(next_block)
vpc=$(vm create-vpc --cidr-block "$p.0.0/16" --query Vpc.VpcId --output text)
vm create-tags --resources "$vpc" --tags Key=Name,Value=dry >/dev/null
vpc2=$(vm create-vpc --cidr-block "$(next_block).0.0/16" --query Vpc.VpcId --output text)
sub=$(vm create-subnet --vpc-id "$vpc" --cidr-block "$p.0.0/24" --query Subnet.SubnetId --output text)
sub2=$(vm create-subnet --vpc-id "$vpc" --cidr-block "$p.1.0/24" --query Subnet.SubnetId --output text)
sg=$(vm create-security-group --group-name web --description web --vpc-id "$vpc" --query GroupId --output text)
sg2=$(vm create-security-group --group-name spare --description spare --vpc-id "$vpc" --query GroupId --output text)
vm authorize-security-group-ingress --group-id "$sg" --protocol tcp --port 80 --cidr 0.0.0.0/0 >/dev/null
vm create-key-pair --key-name kp --query KeyName --output text >/dev/null
inst=$(launch --subnet-id "$sub" --security-group-ids "$sg")
vm wait instance-running --instance-ids "$inst"
wait_console "$inst" "vmmgr: instance $inst ready" 1
vol=$(vm create-volume --size 1 --availability-zone us-east-1a --query VolumeId --output text)
vol2=$(vm create-volume --size 1 --availability-zone us-east-1a --query VolumeId --output text)
vm wait volume-available --volume-ids "$vol" "$vol2"
vm attach-volume --volume-id "$vol2" --instance-id "$inst" --device /dev/sdf >/dev/null
vm wait volume-in-use --volume-ids "$vol2"
snap=$(vm create-snapshot --volume-id "$vol" --query SnapshotId --output text)
vm wait snapshot-completed --snapshot-ids "$snap"
igw=$(vm create-internet-gateway --query InternetGateway.InternetGatewayId --output text)
igw2=$(vm create-internet-gateway --query InternetGateway.InternetGatewayId --output text)
vm attach-internet-gateway --internet-gateway-id "$igw" --vpc-id "$vpc"
rtb=$(vm create-route-table --vpc-id "$vpc" --query RouteTable.RouteTableId --output text)
rtb2=$(vm create-route-table --vpc-id "$vpc" --query RouteTable.RouteTableId --output text)
vm create-route --route-table-id "$rtb" --destination-cidr-block 0.0.0.0/0 --gateway-id "$igw" >/dev/null
assoc=$(vm associate-route-table --route-table-id "$rtb" --subnet-id "$sub" --query AssociationId --output text)
vm init --accel tcg --public-ips 198.51.100.240-198.51.100.249 >/dev/null
eip=$(vm allocate-address --query AllocationId --output text)
eip2=$(vm allocate-address --query AllocationId --output text)
eipassoc=$(vm associate-address --allocation-id "$eip2" --instance-id "$inst" --query AssociationId --output text)
eip3=$(vm allocate-address --query AllocationId --output text)
nat=$(vm create-nat-gateway --subnet-id "$sub" --allocation-id "$eip3" --query NatGateway.NatGatewayId --output text)
aws ec2 create-launch-template --launch-template-name lt-dry --launch-template-data "{\"ImageId\":\"$AMI\"}" >/dev/null
aws ec2 create-launch-template-version --launch-template-name lt-dry --launch-template-data '{"InstanceType":"t3.small"}' >/dev/null

# state: the store (but the audit log, which records every request), libvirt, the files
state() {
	sqlite3 "$S/state.db" .dump | grep -v '^INSERT INTO audit '
	# this state dir's domains and networks only: the libvirtd is shared with the other tests
	virsh_ list --all --name | { grep -F -x -f <(sqlite3 "$S/state.db" "SELECT id FROM instances") || true; } | sort
	virsh_ net-list --all --name | { grep -F -x -f <(sqlite3 "$S/state.db" "SELECT 'vmmgr-' || id FROM subnets") || true; } | sort
	in_ns nft list table inet "$(fw_table)"
	in_ns nft list table bridge "$(fw_table)"
	# the guests write to their disks: a disk's virtual size, not its file's size
	(cd "$S" && find . -path ./locks -prune -o -type f ! -name 'state.db*' ! -name console.log ! -name jobs.log \
		-print | sort | while read -r f; do
			case "$f" in
			*.qcow2) echo "$f $(qemu-img info -U --output=json "$f" | jq '."virtual-size"')" ;;
			*) echo "$f" ;;
			esac
		done)
}
state > "$T/before"

PY=${PYTHON:-/usr/bin/python3}
"$PY" - "$ENDPOINT" "$(dirname "$0")/../../vmmgr/services/ec2/dispatch.c" <<PY || fail "DryRun answers"
import json, re, sys, urllib.request, urllib.error
import botocore.session
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
endpoint, table = sys.argv[1:]
actions = re.findall(r'\{ "(\w+)", \w+,', open(table).read())
assert len(actions) > 40, actions
sess = botocore.session.get_session()
ec2 = sess.create_client("ec2", region_name="us-east-1", endpoint_url=endpoint)
model = ec2.meta.service_model
creds = sess.get_credentials()

ami, inst, vpc, vpc2 = "$AMI", "$inst", "$vpc", "$vpc2"
sub, sub2, sg, sg2 = "$sub", "$sub2", "$sg", "$sg2"
vol, vol2, snap = "$vol", "$vol2", "$snap"
igw, igw2, rtb, rtb2, assoc = "$igw", "$igw2", "$rtb", "$rtb2", "$assoc"
eip, eip2, eipassoc, nat = "$eip", "$eip2", "$eipassoc", "$nat"
perm = lambda port: [{"IpProtocol": "tcp", "FromPort": port, "ToPort": port, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]
# each action's request: parameters that would succeed without DryRun, and the answer expected
cases = {
    "RunInstances": {"ImageId": ami, "MinCount": 1, "MaxCount": 1, "SubnetId": sub},
    "DescribeInstances": {},
    "TerminateInstances": {"InstanceIds": [inst]},
    "StopInstances": {"InstanceIds": [inst]},
    "StartInstances": {"InstanceIds": [inst]},
    "RebootInstances": {"InstanceIds": [inst]},
    "GetConsoleOutput": {"InstanceId": inst},
    "DescribeImages": {},
    "DescribeInstanceTypes": {},
    "CreateTags": {"Resources": [vpc], "Tags": [{"Key": "k", "Value": "v"}]},
    "DeleteTags": {"Resources": [vpc], "Tags": [{"Key": "Name"}]},
    "DescribeTags": {},
    "DescribeInstanceAttribute": {"InstanceId": inst, "Attribute": "instanceType"},
    "ModifyInstanceAttribute": {"InstanceId": inst, "DisableApiTermination": {"Value": True}},
    "ModifyInstanceMetadataOptions": {"InstanceId": inst, "HttpTokens": "required"},
    "DescribeRegions": {},
    "DescribeAvailabilityZones": {},
    "DescribeAccountAttributes": {},
    "DescribeVpcClassicLink": ({}, "UnsupportedOperation"),
    "DescribeVpcClassicLinkDnsSupport": ({}, "UnsupportedOperation"),
    "DescribeVpcAttribute": {"VpcId": vpc, "Attribute": "enableDnsSupport"},
    "ModifyVpcAttribute": {"VpcId": vpc, "EnableDnsHostnames": {"Value": True}},
    "CreateVpc": {"CidrBlock": "10.251.0.0/16"},
    "DescribeVpcs": {},
    "DeleteVpc": {"VpcId": vpc2},
    "CreateSubnet": {"VpcId": vpc, "CidrBlock": "$p.200.0/24"},
    "DescribeSubnets": {},
    "DeleteSubnet": {"SubnetId": sub2},
    "ModifySubnetAttribute": {"SubnetId": sub, "MapPublicIpOnLaunch": {"Value": True}},
    "CreateSecurityGroup": {"GroupName": "dry", "Description": "dry", "VpcId": vpc},
    "DescribeSecurityGroups": {},
    "DeleteSecurityGroup": {"GroupId": sg2},
    "AuthorizeSecurityGroupIngress": {"GroupId": sg, "IpPermissions": perm(22)},
    "AuthorizeSecurityGroupEgress": {"GroupId": sg, "IpPermissions": perm(443)},
    "RevokeSecurityGroupIngress": {"GroupId": sg, "IpPermissions": perm(80)},
    "RevokeSecurityGroupEgress": {"GroupId": sg, "IpPermissions": [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]},
    "DescribeSecurityGroupRules": {},
    "DescribeNetworkInterfaces": {},
    "CreateInternetGateway": {},
    "AttachInternetGateway": {"InternetGatewayId": igw2, "VpcId": vpc2},
    "DetachInternetGateway": {"InternetGatewayId": igw, "VpcId": vpc},
    "DeleteInternetGateway": {"InternetGatewayId": igw2},
    "DescribeInternetGateways": {},
    "CreateRouteTable": {"VpcId": vpc},
    "DeleteRouteTable": {"RouteTableId": rtb2},
    "DescribeRouteTables": {},
    "AssociateRouteTable": {"RouteTableId": rtb2, "SubnetId": sub2},
    "DisassociateRouteTable": {"AssociationId": assoc},
    "ReplaceRouteTableAssociation": {"AssociationId": assoc, "RouteTableId": rtb2},
    "CreateRoute": {"RouteTableId": rtb, "DestinationCidrBlock": "203.0.113.0/24", "GatewayId": igw},
    "ReplaceRoute": {"RouteTableId": rtb, "DestinationCidrBlock": "0.0.0.0/0", "GatewayId": igw},
    "DeleteRoute": {"RouteTableId": rtb, "DestinationCidrBlock": "0.0.0.0/0"},
    "AllocateAddress": {"Domain": "vpc"},
    "AssociateAddress": {"AllocationId": eip, "InstanceId": inst},
    "DisassociateAddress": {"AssociationId": eipassoc},
    "ReleaseAddress": {"AllocationId": eip},
    "DescribeAddresses": {},
    "CreateNatGateway": {"SubnetId": sub, "AllocationId": eip},
    "DeleteNatGateway": {"NatGatewayId": nat},
    "DescribeNatGateways": {},
    "CreateKeyPair": {"KeyName": "dry"},
    "ImportKeyPair": {"KeyName": "dry2", "PublicKeyMaterial": b"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHd5b2nqkjJ2KJqS6y2OZGzF2lE4Nc4Vx0nBtSmNcYvN dry"},
    "DescribeKeyPairs": {},
    "DeleteKeyPair": {"KeyName": "kp"},
    # reads files of the host by path: the CLI's alone, not an action of the HTTP API
    "ImportImage": ({"DiskContainers": [{"Url": "file:///etc/hostname"}]}, "InvalidAction"),
    "DeregisterImage": ({"ImageId": ami}, "InvalidParameterValue"),  # its instance still runs
    "CreateVolume": {"Size": 1, "AvailabilityZone": "us-east-1a"},
    "DescribeVolumes": {},
    "DeleteVolume": {"VolumeId": vol},
    "AttachVolume": {"VolumeId": vol, "InstanceId": inst, "Device": "/dev/sdg"},
    "DetachVolume": {"VolumeId": vol2},
    "ModifyVolume": {"VolumeId": vol, "Size": 2},
    "DescribeVolumesModifications": {},
    "CreateSnapshot": {"VolumeId": vol},
    "DescribeSnapshots": {},
    "DeleteSnapshot": {"SnapshotId": snap},
    "CopySnapshot": {"SourceSnapshotId": snap, "SourceRegion": "us-east-1"},
    "CreateImage": {"InstanceId": inst, "Name": "dry-image"},
    "CreateLaunchTemplate": {"LaunchTemplateName": "dry-lt", "LaunchTemplateData": {"ImageId": ami}},
    "CreateLaunchTemplateVersion": {"LaunchTemplateName": "lt-dry", "LaunchTemplateData": {"InstanceType": "t3.nano"}},
    "DescribeLaunchTemplates": {},
    "DescribeLaunchTemplateVersions": {"LaunchTemplateName": "lt-dry"},
    "ModifyLaunchTemplate": {"LaunchTemplateName": "lt-dry", "DefaultVersion": "2"},
    "DeleteLaunchTemplate": {"LaunchTemplateName": "lt-dry"},
    "DeleteLaunchTemplateVersions": {"LaunchTemplateName": "lt-dry", "Versions": ["2"]},
}

def call(action, params, dry):
    """The request as boto3 serializes it, with DryRun=true added (some actions' models lack it)."""
    op = model.operation_model(action)
    req = ec2._serializer.serialize_to_request(params, op)
    body = dict(req["body"])
    if dry:
        body["DryRun"] = "true"
    aws = AWSRequest(method="POST", url=endpoint + "/", data=body,
                     headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    SigV4Auth(creds, "ec2", "us-east-1").add_auth(aws)
    r = urllib.request.Request(endpoint + "/", data=aws.body.encode() if isinstance(aws.body, str) else aws.body,
                               headers=dict(aws.headers.items()), method="POST")
    try:
        with urllib.request.urlopen(r, timeout=60) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()

missing = [a for a in actions if a not in cases]
assert not missing, "no DryRun case for %s: add one" % missing
bad = []
for a in actions:
    params, want = cases[a] if isinstance(cases[a], tuple) else (cases[a], "DryRunOperation")
    status, text = call(a, params, True)
    code = re.search(r"<Code>([^<]*)</Code>", text)
    code = code.group(1) if code else "(none: HTTP %d)" % status
    if code != want:
        bad.append("%s: %s, not %s: %s" % (a, code, want, text[:300]))
assert not bad, "\n".join(bad)
print("%d actions answered DryRun as expected" % len(actions))
PY
ok "DryRun=true on every action of the dispatch table: DryRunOperation (or AWS's own refusal)"

state > "$T/after"
diff "$T/before" "$T/after" >&2 && ok "nothing changed: store, domains, networks, filters and files as before" ||
	fail "a DryRun request changed something (diff above)"

# the control: the same comparison sees a change made without DryRun
aws ec2 create-tags --resources "$vpc" --tags Key=k,Value=v
state > "$T/control"
! diff -q "$T/before" "$T/control" >/dev/null || fail "the comparison does not see a tag added"
ok "control: a change without DryRun shows in the comparison"
