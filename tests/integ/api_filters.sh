#!/bin/bash
# Every filter AWS documents for every Describe action vmmgr answers, generated from the reference
# (botocore's EC2 model, the documentation of each action's Filters member), through boto3:
# - every documented name is accepted (no InvalidParameterValue), and a value nothing has matches
#   nothing (a filter is never ignored);
# - every documented name that names a field of the answer (vpc-id → VpcId, is-default → IsDefault,
#   …) finds the resource by that field's value: what vmmgr has, it filters by;
# - the names tools send that the documentation lacks (Ansible's cidr-block for VPCs) work, a name
#   nobody documents is refused.
. "$(dirname "$0")/lib.sh"
vm_init
. "$(dirname "$0")/serve.sh"

# one of each kind of resource, tagged, so that every action has something to find
vpc=$(vm create-vpc --cidr-block "$(next_block).0.0/16" --tag-specifications 'ResourceType=vpc,Tags=[{Key=Name,Value=f}]' \
	--query Vpc.VpcId --output text)
cidr=$(vm describe-vpcs --vpc-ids "$vpc" --query 'Vpcs[0].CidrBlock' --output text)
subnet=$(vm create-subnet --vpc-id "$vpc" --cidr-block "${cidr%/*}/24" --query Subnet.SubnetId --output text)
vm create-tags --resources "$subnet" --tags Key=Name,Value=f
sg=$(vm create-security-group --vpc-id "$vpc" --group-name f --description "filters" --query GroupId --output text)
vm authorize-security-group-ingress --group-id "$sg" --protocol tcp --port 22 --cidr 192.0.2.0/24 >/dev/null
vm create-key-pair --key-name f --query KeyPairId --output text >/dev/null
vol=$(vm create-volume --size 1 --tag-specifications 'ResourceType=volume,Tags=[{Key=Name,Value=f}]' \
	--query VolumeId --output text)
vm wait volume-available --volume-ids "$vol"
vm modify-volume --volume-id "$vol" --size 2 >/dev/null
snap=$(vm create-snapshot --volume-id "$vol" --description f --query SnapshotId --output text)
vm wait snapshot-completed --snapshot-ids "$snap"
aws ec2 create-launch-template --launch-template-name flt --launch-template-data "{\"ImageId\":\"$AMI\",\"InstanceType\":\"t3.micro\"}" \
	--tag-specifications 'ResourceType=launch-template,Tags=[{Key=Name,Value=f}]' >/dev/null
igw=$(vm create-internet-gateway --tag-specifications 'ResourceType=internet-gateway,Tags=[{Key=Name,Value=f}]' \
	--query InternetGateway.InternetGatewayId --output text)
vm attach-internet-gateway --internet-gateway-id "$igw" --vpc-id "$vpc"
rtb=$(vm create-route-table --vpc-id "$vpc" --tag-specifications 'ResourceType=route-table,Tags=[{Key=Name,Value=f}]' \
	--query RouteTable.RouteTableId --output text)
vm create-route --route-table-id "$rtb" --destination-cidr-block 0.0.0.0/0 --gateway-id "$igw" >/dev/null
vm associate-route-table --route-table-id "$rtb" --subnet-id "$subnet" >/dev/null
vm init --accel tcg --public-ips 198.51.100.250-198.51.100.254 >/dev/null
alloc=$(vm allocate-address --tag-specifications 'ResourceType=elastic-ip,Tags=[{Key=Name,Value=f}]' --query AllocationId --output text)
nalloc=$(vm allocate-address --query AllocationId --output text)
nat=$(vm create-nat-gateway --subnet-id "$subnet" --allocation-id "$nalloc" \
	--tag-specifications 'ResourceType=natgateway,Tags=[{Key=Name,Value=f}]' --query NatGateway.NatGatewayId --output text)
inst=$(launch --subnet-id "$subnet" --key-name f --instance-type t3.micro \
	--tag-specifications 'ResourceType=instance,Tags=[{Key=Name,Value=f}]')
[[ "$inst" == i-* ]] || fail "launch: $inst"
vm associate-address --allocation-id "$alloc" --instance-id "$inst" >/dev/null

/usr/bin/python3 - "$ENDPOINT" <<'PY' || fail "filters"
import datetime, json, re, sys
import boto3, botocore.exceptions

endpoint = sys.argv[1]
MODEL = "/usr/lib/python3/dist-packages/awscli/botocore/data/ec2/2016-11-15/service-2.json"
model = json.load(open(MODEL))
ec2 = boto3.client("ec2", endpoint_url=endpoint, region_name="us-east-1")
NOTHING = "vmmgr-no-such-value"

def filters_member(action):
    """The name of an action's filter list: Filters, or Filter (DescribeNatGateways)."""
    inp = model["shapes"][model["operations"][action]["input"]["shape"]]["members"]
    return "Filter" if "Filter" in inp else "Filters"

def documented(action):
    inp = model["shapes"][model["operations"][action]["input"]["shape"]]["members"]
    doc = inp.get(filters_member(action), {}).get("documentation", "")
    names = []
    for n in re.findall(r"<li>\s*<p>\s*<code>([^<]+)</code>", doc):
        n = n.strip()
        n = "tag:Name" if n == "tag" or n.startswith("tag:") else n
        if re.fullmatch(r"[A-Za-z0-9:._-]+", n) and n not in names:
            names.append(n)
    return names

def call(action, **kw):
    return getattr(ec2, botocore.xform_name(action))(**kw)

def resources(action, out):
    """The resources of a Describe answer (instances flattened out of their reservations)."""
    if action == "DescribeInstances":
        return [i for r in out["Reservations"] for i in r["Instances"]]
    lists = [v for k, v in out.items() if isinstance(v, list)]
    assert len(lists) == 1, (action, list(out))
    return lists[0]

def camel(segment):
    return "".join(p[:1].upper() + p[1:] for p in segment.split("-"))

# what identifies a resource between two calls: its plain fields, less those that move on their own
# (an instance found pending is running by the next call)
MOVING = {"LaunchTime", "StateTransitionReason", "Progress", "PublicIpAddress", "PublicDnsName", "Status", "State"}

def ident(r):
    return {k: v for k, v in r.items() if not isinstance(v, (list, dict)) and k not in MOVING}

def text(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (str, int)):
        return str(v)
    return None

answered, checked, positive, missed = [], 0, 0, []
for action in sorted(model["operations"]):
    shape = model["shapes"][model["operations"][action].get("input", {}).get("shape", "")] \
        if "input" in model["operations"][action] else {}
    if not action.startswith("Describe") or not documented(action) or shape.get("required"):
        continue
    try:
        everything = resources(action, call(action))
    except botocore.exceptions.ClientError as e:
        code = e.response["Error"]["Code"]
        assert code in ("InvalidAction", "UnsupportedOperation"), (action, e.response["Error"])
        continue
    answered.append(action)
    for name in documented(action):
        try:
            got = resources(action, call(action, **{filters_member(action): [{"Name": name, "Values": [NOTHING]}]}))
        except botocore.exceptions.ClientError as e:
            sys.exit("%s: the documented filter %s is refused: %s" % (action, name, e.response["Error"]))
        assert got == [], "%s: %s=%s matched %s" % (action, name, NOTHING, got)
        checked += 1
        # a documented name that is a field of the answer finds each resource by its value
        field = camel(name)
        for r in everything:
            value = text(r.get(field))
            if value is None or value == "":
                continue
            got = resources(action, call(action, **{filters_member(action): [{"Name": name, "Values": [value]}]}))
            if ident(r) not in [ident(g) for g in got]:
                missed.append("%s: %s=%s does not find %s" % (action, name, value, r.get(field)))
            positive += 1
print("%d actions, %d documented filters accepted, %d field checks" % (len(answered), checked, positive))
assert not missed, "\n".join(missed)
for a in ("DescribeInstances", "DescribeVpcs", "DescribeSubnets", "DescribeSecurityGroups", "DescribeVolumes",
          "DescribeSnapshots", "DescribeImages", "DescribeKeyPairs", "DescribeNetworkInterfaces", "DescribeTags",
          "DescribeVolumesModifications", "DescribeInstanceTypes", "DescribeRegions", "DescribeAvailabilityZones",
          "DescribeSecurityGroupRules", "DescribeInternetGateways", "DescribeRouteTables", "DescribeAddresses", "DescribeNatGateways"):
    assert a in answered, "%s did not answer" % a
PY
ok "every documented filter of every Describe action is accepted, and a value nothing has matches nothing"
ok "every documented filter that names a field of the answer finds the resource by its value"

n() { aws ec2 "$1" --filters "${@:3}" --query "$2" --output text; }
[ "$(n describe-vpcs 'Vpcs[].VpcId' "Name=cidr-block,Values=$cidr")" = "$vpc" ] || fail "vpcs by cidr-block"
[ "$(n describe-vpcs 'Vpcs[].VpcId' "Name=cidr-block-association.cidr-block,Values=$cidr" \
	Name=cidr-block-association.state,Values=associated)" = "$vpc" ] || fail "vpcs by cidr-block-association"
[ "$(n describe-subnets 'Subnets[].SubnetId' "Name=subnet-arn,Values=*:subnet/$subnet")" = "$subnet" ] ||
	fail "subnets by subnet-arn"
[ "$(n describe-instances 'Reservations[].Instances[].InstanceId' "Name=network-interface.subnet-id,Values=$subnet" \
	Name=key-name,Values=f Name=architecture,Values=x86_64)" = "$inst" ] || fail "instances by interface, key, architecture"
[ -z "$(n describe-instances 'Reservations[].Instances[].InstanceId' Name=instance-lifecycle,Values=spot)" ] ||
	fail "an on-demand instance matched instance-lifecycle=spot"
[ "$(n describe-tags 'Tags[].ResourceId' Name=resource-type,Values=vpc Name=key,Values=Name)" = "$vpc" ] ||
	fail "describe-tags resource-type=vpc"
[ "$(n describe-volumes 'Volumes[].VolumeId' Name=encrypted,Values=false Name=multi-attach-enabled,Values=false Name=status,Values=available)" = "$vol" ] ||
	fail "volumes by encrypted and multi-attach-enabled"
[ "$(n describe-snapshots 'Snapshots[].SnapshotId' Name=volume-size,Values=2 Name=progress,Values=100%)" = "$snap" ] ||
	fail "snapshots by size and progress"
[ "$(n describe-route-tables 'RouteTables[].RouteTableId' "Name=association.subnet-id,Values=$subnet" \
	"Name=route.gateway-id,Values=$igw" Name=route.destination-cidr-block,Values=0.0.0.0/0 Name=route.state,Values=active \
	Name=route.origin,Values=CreateRoute Name=association.main,Values=false)" = "$rtb" ] || fail "route tables by association and route"
[ "$(n describe-route-tables 'RouteTables[].VpcId' Name=association.main,Values=true "Name=vpc-id,Values=$vpc")" = "$vpc" ] ||
	fail "the main route table by association.main"
[ "$(n describe-internet-gateways 'InternetGateways[].InternetGatewayId' "Name=attachment.vpc-id,Values=$vpc" \
	Name=attachment.state,Values=available)" = "$igw" ] || fail "internet gateways by attachment"
ok "the names tools send map to what vmmgr has (cidr-block, subnet-arn, network-interface.*, resource-type, …)"

# DryRun=true changes nothing, on the attribute actions too (the model gives them no DryRun, so
# the CLIs cannot send it; vmmgr takes it on every action, as its own CLI's --dry-run)
h0=$(aws ec2 describe-vpc-attribute --vpc-id "$vpc" --attribute enableDnsHostnames --query EnableDnsHostnames.Value --output text)
m0=$(aws ec2 describe-subnets --subnet-ids "$subnet" --query 'Subnets[0].MapPublicIpOnLaunch' --output text)
flip() { [ "$1" = True ] && echo false || echo true; }
sig=(--aws-sigv4 "aws:amz:us-east-1:ec2" -u "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY")
body=$(curl -s "${sig[@]}" -d "Action=ModifyVpcAttribute&Version=2016-11-15&VpcId=$vpc&EnableDnsHostnames.Value=$(flip "$h0")&DryRun=true" "$ENDPOINT/")
grep -q '<Code>DryRunOperation</Code>' <<<"$body" || fail "ModifyVpcAttribute with DryRun=true: $body"
body=$(curl -s "${sig[@]}" -d "Action=ModifySubnetAttribute&Version=2016-11-15&SubnetId=$subnet&MapPublicIpOnLaunch.Value=$(flip "$m0")&DryRun=true" "$ENDPOINT/")
grep -q '<Code>DryRunOperation</Code>' <<<"$body" || fail "ModifySubnetAttribute with DryRun=true: $body"
[ "$(aws ec2 describe-vpc-attribute --vpc-id "$vpc" --attribute enableDnsHostnames --query EnableDnsHostnames.Value --output text)" = "$h0" ] ||
	fail "ModifyVpcAttribute with DryRun=true changed the VPC"
[ "$(aws ec2 describe-subnets --subnet-ids "$subnet" --query 'Subnets[0].MapPublicIpOnLaunch' --output text)" = "$m0" ] ||
	fail "ModifySubnetAttribute with DryRun=true changed the subnet"
ok "ModifyVpcAttribute and ModifySubnetAttribute with DryRun=true: DryRunOperation, nothing changed"

out=$(aws ec2 describe-vpcs --filters Name=cidr-blocks,Values=x 2>&1) && fail "an undocumented filter answered: $out"
grep -q "InvalidParameterValue" <<<"$out" || fail "an undocumented filter: $out"
ok "a filter nobody documents is InvalidParameterValue"
