#!/bin/bash
# The fields AWS always returns, which tools read without fallbacks (a VPC's
# cidrBlockAssociationSet, a volume's snapshotId, an instance's metadataOptions, …), are in every
# answer, and nothing in an answer is outside botocore's model: every element of every response
# of the calls below is a member of the action's output shape (boto3 silently drops an element it
# does not know, so a misspelt field would otherwise be lost without a trace).
. "$(dirname "$0")/lib.sh"
vm_init
. "$(dirname "$0")/serve.sh"

/usr/bin/python3 - "$ENDPOINT" "$(next_block)" "$AMI" <<'PY' || fail "shapes"
import sys, time
import xml.etree.ElementTree as ET
import boto3

endpoint, block, ami = sys.argv[1:]
ec2 = boto3.client("ec2", endpoint_url=endpoint, region_name="us-east-1")
shapes = ec2.meta.service_model
unknown, seen = [], set()

def walk(elem, shape, path):
    """Every child element of elem must be a member of shape (EC2's XML: locationName or name)."""
    if shape.type_name == "structure":
        names = {(m.serialization.get("name") or n): m for n, m in shape.members.items()}
        for child in elem:
            tag = child.tag.split("}")[-1]
            if tag == "requestId" and path.count("/") == 0:
                continue
            if tag not in names:
                unknown.append("%s/%s" % (path, tag))
                continue
            seen.add("%s/%s" % (shape.name, tag))
            walk(child, names[tag], "%s/%s" % (path, tag))
    elif shape.type_name == "list":
        for child in elem:
            walk(child, shape.member, path + "/" + child.tag.split("}")[-1])

def check(http_response, model, **_):
    if http_response.status_code == 200:
        walk(ET.fromstring(http_response.content), model.output_shape, model.name)

ec2.meta.events.register("after-call.ec2", check)

vpc = ec2.create_vpc(CidrBlock=block + ".0.0/16")["Vpc"]
sub = ec2.create_subnet(VpcId=vpc["VpcId"], CidrBlock=block + ".1.0/24")["Subnet"]
sg = ec2.create_security_group(VpcId=vpc["VpcId"], GroupName="shapes", Description="shapes")["GroupId"]
ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[{
    "IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
    "IpRanges": [{"CidrIp": "192.0.2.0/24", "Description": "admin"}]}])
key = ec2.create_key_pair(KeyName="shapes")
vol = ec2.create_volume(Size=1, AvailabilityZone="us-east-1a")
run = ec2.run_instances(ImageId=ami, MinCount=1, MaxCount=1, SubnetId=sub["SubnetId"], KeyName="shapes")
inst = run["Instances"][0]["InstanceId"]

def need(what, obj, *fields):
    for f in fields:
        cur = obj
        for part in f.split("."):
            if isinstance(cur, list):
                cur = cur[0] if cur else {}
            if not isinstance(cur, dict) or part not in cur:
                sys.exit("%s lacks %s: %s" % (what, f, obj))
            cur = cur[part]

v = ec2.describe_vpcs(VpcIds=[vpc["VpcId"]])["Vpcs"][0]
for what, o in (("CreateVpc", vpc), ("DescribeVpcs", v)):
    need(what, o, "VpcId", "OwnerId", "State", "CidrBlock", "DhcpOptionsId", "InstanceTenancy", "IsDefault",
         "CidrBlockAssociationSet.AssociationId", "CidrBlockAssociationSet.CidrBlock",
         "CidrBlockAssociationSet.CidrBlockState.State")
s = ec2.describe_subnets(SubnetIds=[sub["SubnetId"]])["Subnets"][0]
for what, o in (("CreateSubnet", sub), ("DescribeSubnets", s)):
    need(what, o, "SubnetId", "SubnetArn", "VpcId", "OwnerId", "State", "CidrBlock", "AvailableIpAddressCount",
         "AvailabilityZone", "AvailabilityZoneId", "DefaultForAz", "MapPublicIpOnLaunch",
         "AssignIpv6AddressOnCreation", "Ipv6CidrBlockAssociationSet", "MapCustomerOwnedIpOnLaunch", "EnableDns64",
         "Ipv6Native", "PrivateDnsNameOptionsOnLaunch.HostnameType")
g = ec2.describe_security_groups(GroupIds=[sg])["SecurityGroups"][0]
need("DescribeSecurityGroups", g, "GroupId", "GroupName", "Description", "OwnerId", "VpcId", "IpPermissions",
     "IpPermissionsEgress.IpRanges.CidrIp")
ingress = [p for p in g["IpPermissions"] if p.get("FromPort") == 22]
assert ingress and ingress[0]["IpRanges"][0].get("Description") == "admin", "rule description not echoed: %s" % g
rules = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [sg]}])["SecurityGroupRules"]
assert any(r.get("Description") == "admin" for r in rules), rules
need("CreateKeyPair", key, "KeyPairId", "KeyName", "KeyFingerprint", "KeyMaterial")
need("DescribeKeyPairs", ec2.describe_key_pairs(KeyNames=["shapes"])["KeyPairs"][0], "KeyPairId", "KeyName",
     "KeyFingerprint", "KeyType")
for what, o in (("CreateVolume", vol), ("DescribeVolumes", ec2.describe_volumes(VolumeIds=[vol["VolumeId"]])["Volumes"][0])):
    need(what, o, "VolumeId", "Size", "SnapshotId", "AvailabilityZone", "State", "CreateTime", "VolumeType", "Iops",
         "Encrypted", "MultiAttachEnabled")
    assert what == "CreateVolume" or "Attachments" in o, o
i = ec2.describe_instances(InstanceIds=[inst])["Reservations"][0]["Instances"][0]
for what, o in (("RunInstances", run["Instances"][0]), ("DescribeInstances", i)):
    need(what, o, "InstanceId", "ImageId", "State.Code", "State.Name", "PrivateDnsName", "PublicDnsName",
         "StateTransitionReason", "AmiLaunchIndex", "ProductCodes", "InstanceType", "LaunchTime",
         "Placement.AvailabilityZone", "Placement.Tenancy", "Monitoring.State", "SubnetId", "VpcId",
         "PrivateIpAddress", "Architecture", "RootDeviceType", "RootDeviceName", "BlockDeviceMappings",
         "VirtualizationType", "ClientToken", "SecurityGroups", "SourceDestCheck", "Hypervisor", "NetworkInterfaces",
         "EbsOptimized", "EnaSupport", "CpuOptions.CoreCount", "CapacityReservationSpecification",
         "HibernationOptions.Configured", "MetadataOptions.HttpTokens", "MetadataOptions.HttpEndpoint",
         "EnclaveOptions.Enabled", "PlatformDetails", "UsageOperation", "PrivateDnsNameOptions.HostnameType",
         "MaintenanceOptions.AutoRecovery", "KeyName")
need("DescribeImages", ec2.describe_images(ImageIds=[ami])["Images"][0], "ImageId", "ImageLocation", "State",
     "OwnerId", "CreationDate", "Public", "Architecture", "ImageType", "Name", "RootDeviceType", "RootDeviceName",
     "BlockDeviceMappings", "VirtualizationType", "Hypervisor", "EnaSupport", "PlatformDetails", "UsageOperation")
need("DescribeNetworkInterfaces", ec2.describe_network_interfaces(
    Filters=[{"Name": "attachment.instance-id", "Values": [inst]}])["NetworkInterfaces"][0],
     "NetworkInterfaceId", "SubnetId", "VpcId", "AvailabilityZone", "Description", "OwnerId", "Status", "MacAddress",
     "PrivateIpAddress", "PrivateDnsName", "SourceDestCheck", "InterfaceType", "Groups", "Attachment.AttachmentId",
     "Attachment.Status", "Attachment.DeviceIndex", "PrivateIpAddresses.Primary", "RequesterManaged")
for call in (ec2.describe_regions, ec2.describe_availability_zones, ec2.describe_instance_types,
             ec2.describe_account_attributes, ec2.describe_tags, ec2.describe_snapshots,
             ec2.describe_volumes_modifications):
    call()
ec2.terminate_instances(InstanceIds=[inst])
assert not unknown, "elements outside the model: %s" % sorted(set(unknown))
print("%d distinct fields seen, all in the model" % len(seen))
PY
ok "every field AWS always returns is there (VPCs, subnets, groups and rule descriptions, key pairs, volumes, instances, images, interfaces)"
ok "every element of every answer is a member of the action's output shape in botocore's model"
