#!/bin/bash
# Availability zones: a region of three zones after init (names, ids, filters); the default VPC has a
# default /20 subnet in each, in order; create-subnet takes a zone by name or id; run-instances
# --placement lands in that zone's default subnet and guests in three zones reach each other; a
# volume lives in a zone and is not attached across zones; the zones can be changed later (one with
# subnets is not removed); bad input is refused with EC2's codes and changes nothing; boto3 the same.
. "$(dirname "$0")/lib.sh"
vm_init
SERVE_ARGS="--metrics-interval 0"
. "$(dirname "$0")/serve.sh"

zones=$(vm describe-availability-zones --output json)
[ "$(jq -r '[.AvailabilityZones[] | .ZoneName + "=" + .ZoneId + "=" + .State] | join(" ")' <<<"$zones")" = \
	"us-east-1a=use1-az1=available us-east-1b=use1-az2=available us-east-1c=use1-az3=available" ] ||
	fail "describe-availability-zones: $zones"
[ "$(vm describe-availability-zones --filters Name=zone-id,Values=use1-az2 --query 'AvailabilityZones[].ZoneName' --output text)" = us-east-1b ] ||
	fail "zone-id filter"
[ "$(vm describe-availability-zones --filters Name=zone-name,Values=us-east-1c Name=state,Values=available \
	Name=region-name,Values=us-east-1 --output json | jq '.AvailabilityZones | length')" = 1 ] || fail "zone-name, state, region-name filters"
[ "$(vm describe-availability-zones --zone-names us-east-1a us-east-1c --query 'AvailabilityZones[].ZoneId' --output text)" = "use1-az1	use1-az3" ] ||
	fail "--zone-names"
expect_error InvalidParameterValue vm describe-availability-zones --zone-names us-east-1z
[ "$(aws ec2 describe-availability-zones --zone-ids use1-az3 --query 'AvailabilityZones[0].ZoneName' --output text)" = us-east-1c ] ||
	fail "aws ec2 describe-availability-zones --zone-ids"
ok "three zones (us-east-1a/b/c, use1-az1/2/3) with their filters"

vpc=$(vm describe-vpcs --filters Name=is-default,Values=true --query 'Vpcs[0].VpcId' --output text)
cidr=$(vm describe-vpcs --vpc-ids "$vpc" --query 'Vpcs[0].CidrBlock' --output text)
p=${cidr%.0.0/16}
defs=$(vm describe-subnets --filters Name=default-for-az,Values=true --output json |
	jq -r '[.Subnets[] | .AvailabilityZone + "=" + .AvailabilityZoneId + "=" + .CidrBlock] | sort | join(" ")')
[ "$defs" = "us-east-1a=use1-az1=$p.0.0/20 us-east-1b=use1-az2=$p.16.0/20 us-east-1c=use1-az3=$p.32.0/20" ] ||
	fail "the default VPC's default subnets: $defs"
def() { vm describe-subnets --filters Name=default-for-az,Values=true "Name=availability-zone,Values=$1" --query 'Subnets[0].SubnetId' --output text; }
sa=$(def us-east-1a) sb=$(def us-east-1b) sc=$(def us-east-1c)
ok "the default VPC has a default /20 subnet in each zone, in order"

n0=$(vm describe-subnets --output json | jq '.Subnets | length')
expect_error InvalidParameterValue vm create-subnet --vpc-id "$vpc" --cidr-block "$p.64.0/24" --availability-zone us-east-1z
expect_error InvalidParameterValue vm create-subnet --vpc-id "$vpc" --cidr-block "$p.64.0/24" --availability-zone-id use1-az9
expect_error InvalidParameterCombination vm create-subnet --vpc-id "$vpc" --cidr-block "$p.64.0/24" \
	--availability-zone us-east-1a --availability-zone-id use1-az3
[ "$(vm describe-subnets --output json | jq '.Subnets | length')" = "$n0" ] || fail "a refused create-subnet made a subnet"
s3j=$(aws ec2 create-subnet --vpc-id "$vpc" --cidr-block "$p.64.0/24" --availability-zone-id use1-az3 --output json)
s3=$(jq -r .Subnet.SubnetId <<<"$s3j")
[ "$(jq -r '.Subnet.AvailabilityZone + " " + .Subnet.AvailabilityZoneId' <<<"$s3j")" = "us-east-1c use1-az3" ] ||
	fail "create-subnet --availability-zone-id use1-az3: $s3j"
[ "$(vm describe-subnets --filters Name=availability-zone-id,Values=use1-az3 --output json | jq '.Subnets | length')" = 2 ] ||
	fail "availability-zone-id filter"
ok "create-subnet by zone name or id; unknown zones and a name/id mismatch refused, nothing made"

vm create-key-pair --key-name k --key-type ed25519 --output json | jq -r .KeyMaterial > "$T/k.pem"
chmod 600 "$T/k.pem"
allow_ssh "$(default_group "$vpc")" "$cidr"
expect_error InvalidParameterValue vm run-instances --image-id "$AMI" --placement AvailabilityZone=us-east-1z
expect_error InvalidParameterValue vm run-instances --image-id "$AMI" --placement AvailabilityZone=us-east-1a --subnet-id "$sb"
ia=$(launch --key-name k --placement AvailabilityZone=us-east-1a)
ib=$(aws ec2 run-instances --image-id "$AMI" --key-name k --placement AvailabilityZone=us-east-1b --query 'Instances[0].InstanceId' --output text)
ic=$(launch --key-name k --subnet-id "$s3")
for i in $ia $ib $ic; do wait_console "$i" "vmmgr: instance $i ready" 1; done
where() { vm describe-instances --instance-ids "$1" --output json | jq -r '.Reservations[0].Instances[0] | .Placement.AvailabilityZone + "	" + .SubnetId'; }
[ "$(where "$ia")" = "us-east-1a	$sa" ] || fail "--placement us-east-1a: $(where "$ia")"
[ "$(where "$ib")" = "us-east-1b	$sb" ] || fail "--placement us-east-1b: $(where "$ib")"
[ "$(where "$ic" | cut -f1)" = us-east-1c ] || fail "an instance in a us-east-1c subnet: $(where "$ic")"
[ "$(vm describe-instances --filters Name=availability-zone,Values=us-east-1b --query 'Reservations[].Instances[].InstanceId' --output text)" = "$ib" ] ||
	fail "describe-instances availability-zone filter"
ip_a=$(private_ip "$ia") ip_b=$(private_ip "$ib") ip_c=$(private_ip "$ic")
reach() { gssh "$T/k.pem" "$1" "ping -c 1 -W 3 $2 >/dev/null && echo yes || echo no"; }
[ "$(reach "$ip_a" "$ip_b")" = yes ] || fail "us-east-1a does not reach us-east-1b"
[ "$(reach "$ip_b" "$ip_c")" = yes ] || fail "us-east-1b does not reach us-east-1c"
[ "$(reach "$ip_c" "$ip_a")" = yes ] || fail "us-east-1c does not reach us-east-1a"
ok "run-instances --placement lands in the zone's default subnet; guests in three zones reach each other"

expect_error InvalidParameterValue vm create-volume --size 1 --availability-zone us-east-1z
vb=$(vm create-volume --size 1 --availability-zone us-east-1b --query VolumeId --output text)
vm wait volume-available --volume-ids "$vb"
[ "$(vm describe-volumes --volume-ids "$vb" --filters Name=availability-zone,Values=us-east-1b --query 'Volumes[].VolumeId' --output text)" = "$vb" ] ||
	fail "the volume is not listed in us-east-1b"
[ -z "$(vm describe-volumes --volume-ids "$vb" --filters Name=availability-zone,Values=us-east-1a --query 'Volumes[].VolumeId' --output text)" ] ||
	fail "the volume is listed in us-east-1a"
expect_error InvalidVolume.ZoneMismatch vm attach-volume --volume-id "$vb" --instance-id "$ia" --device /dev/sdf
[ "$(vm describe-volumes --volume-ids "$vb" --query 'Volumes[0].State' --output text)" = available ] ||
	fail "a refused attach changed the volume"
vm attach-volume --volume-id "$vb" --instance-id "$ib" --device /dev/sdf >/dev/null || fail "attach in the same zone"
[ "$(vm describe-volumes --filters "Name=attachment.instance-id,Values=$ic" --query 'Volumes[0].AvailabilityZone' --output text)" = us-east-1c ] ||
	fail "a root volume is not in its instance's zone"
ok "a volume lives in its zone: attached in it, refused across zones (InvalidVolume.ZoneMismatch); root volumes follow their instance"

expect_fail() { "$@" >/dev/null 2>&1 && fail "'$*' succeeded"; return 0; }
expect_fail vm init --accel tcg --availability-zones us-east-1a,us-east-1c
expect_fail vm init --accel tcg --availability-zones us-west-2a
[ "$(vm describe-availability-zones --output json | jq '.AvailabilityZones | length')" = 3 ] || fail "a refused zone change changed the zones"
vm init --accel tcg --availability-zones us-east-1a,us-east-1b,us-east-1c,us-east-1d >/dev/null || fail "adding us-east-1d"
[ "$(vm describe-availability-zones --output json | jq -r '.AvailabilityZones[3] | .ZoneName + " " + .ZoneId')" = "us-east-1d use1-az4" ] ||
	fail "us-east-1d was not added"
[ "$(vm describe-subnets --filters Name=default-for-az,Values=true Name=availability-zone,Values=us-east-1d --query 'Subnets[0].CidrBlock' --output text)" = "$p.48.0/20" ] ||
	fail "us-east-1d has no default subnet"
[ "$(where "$ia")" = "us-east-1a	$sa" ] || fail "adding a zone moved an instance"
[ "$(aws ec2 describe-availability-zones --query 'length(AvailabilityZones)')" = 4 ] ||
	fail "the running daemon does not show the zone init added"
ok "init --availability-zones adds a zone (with its default subnet; the running daemon sees it at once); removing one with subnets is refused"

python3 - "$ENDPOINT" "$AMI" <<'PY' || fail "boto3"
import sys
import boto3
ec2 = boto3.client("ec2", endpoint_url=sys.argv[1], region_name="us-east-1")
names = [z["ZoneName"] for z in ec2.describe_availability_zones()["AvailabilityZones"]]
assert names == ["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d"], names
vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]
p = vpc["CidrBlock"].rsplit(".", 2)[0]
sub = ec2.create_subnet(VpcId=vpc["VpcId"], CidrBlock=p + ".80.0/24", AvailabilityZoneId="use1-az2")["Subnet"]
assert sub["AvailabilityZone"] == "us-east-1b" and sub["AvailabilityZoneId"] == "use1-az2", sub
inst = ec2.run_instances(ImageId=sys.argv[2], MinCount=1, MaxCount=1, Placement={"AvailabilityZone": "us-east-1d"})["Instances"][0]
assert inst["Placement"]["AvailabilityZone"] == "us-east-1d", inst["Placement"]
ec2.terminate_instances(InstanceIds=[inst["InstanceId"]])
PY
ok "boto3: describe_availability_zones, create_subnet(AvailabilityZoneId=…), run_instances(Placement=…) in the new zone"

# a state dir from before zones (schema 18, one zone, one default subnet, an instance): made by
# taking a single-zone state dir back to that shape, then opened by this vmmgr and init again
S2="$T/state2"
v2() { "$VM_BIN" --state-dir "$S2" "$@"; }
b2=$(next_block)
ami2=$(v2 init --accel tcg --default-vpc-cidr "$b2.0.0/16" --availability-zones us-east-1a | awk '$1 == "image" {print $2}') ||
	fail "a single-zone init"
cleanup2() {
	local id
	for id in $(v2 describe-instances --output json 2>/dev/null | jq -r '.Reservations[].Instances[].InstanceId'); do
		v2 terminate-instances --instance-ids "$id" >/dev/null 2>&1 || true
	done
	for id in $(v2 describe-subnets --query 'Subnets[].SubnetId' --output text 2>/dev/null); do
		virsh -q -c "$LV" net-destroy "vmmgr-$id" >/dev/null 2>&1 || true
	done
	# its nftables tables: left in the harness's namespace, they would filter the tests after
	local t fam
	t=$(sqlite3 "$S2/state.db" "SELECT value FROM config WHERE key = 'firewall_table'" 2>/dev/null || true)
	[ -n "$t" ] && [ -n "$NS" ] && for fam in inet bridge; do ip netns exec "$NS" nft delete table "$fam" "$t" >/dev/null 2>&1 || true; done
	true
}
trap 'cleanup2; serve_cleanup' EXIT
old_sub=$(v2 describe-subnets --query 'Subnets[].SubnetId' --output text)
[ "$(wc -w <<<"$old_sub")" = 1 ] || fail "a single-zone state dir has one default subnet: $old_sub"
i2=$(v2 run-instances --image-id "$ami2" --output json | jq -r '.Instances[0].InstanceId')
v2 wait instance-running --instance-ids "$i2" || fail "the instance of the old state dir does not run"
# schema 18: without what 19 (zones), 20 (load balancers), 21 (metadata options), 22 (route tables), 23 (Elastic IPs), 24 (NAT gateways), 25 (public addresses at launch), 26 (alarm tags and EC2 actions), 27 (weighted forwards, redirects), 28 (certificates), 29 (stickiness) and 30 (routed VPCs) added
sqlite3 "$S2/state.db" "DROP TABLE alarm_tags; DROP TABLE alarm_ec2_actions; DROP TABLE nat_gateways; DROP TABLE addresses; DROP TABLE rt_associations; DROP TABLE routes; DROP TABLE route_tables; DROP TABLE internet_gateways;
	ALTER TABLE instances DROP COLUMN md_tokens; ALTER TABLE instances DROP COLUMN md_endpoint;
	ALTER TABLE instances DROP COLUMN md_hop_limit; ALTER TABLE instances DROP COLUMN md_tags;
	ALTER TABLE subnets DROP COLUMN az; ALTER TABLE volumes DROP COLUMN az;
	ALTER TABLE network_interfaces DROP COLUMN description; ALTER TABLE network_interfaces DROP COLUMN requester;
	ALTER TABLE network_interfaces DROP COLUMN dns_name; DROP TABLE elb_tags; DROP TABLE asg_target_groups; DROP TABLE elb_forwards; DROP TABLE elb_listener_certs;
	DROP TABLE elb_rules; DROP TABLE elb_listeners; DROP TABLE elb_targets; DROP TABLE elb_target_groups;
	DROP TABLE elb_attributes; DROP TABLE elb_lb_groups; DROP TABLE elb_lb_subnets; DROP TABLE elb_load_balancers; DROP TABLE acm_tags; DROP TABLE acm_certificates;
	ALTER TABLE vpcs DROP COLUMN routed;
	DELETE FROM config WHERE key = 'availability_zones'; PRAGMA user_version = 18;" || fail "making the old shape"
[ "$(v2 describe-subnets --subnet-ids "$old_sub" --query 'Subnets[0].AvailabilityZone' --output text)" = us-east-1a ] ||
	fail "the old subnet is not in us-east-1a after the migration"
[ "$(v2 describe-availability-zones --output json | jq -r '[.AvailabilityZones[].ZoneName] | join(" ")')" = us-east-1a ] ||
	fail "an old state dir should keep its one zone until init"
v2 init --accel tcg >/dev/null || fail "init of the old state dir"
[ "$(v2 describe-availability-zones --output json | jq -r '[.AvailabilityZones[].ZoneName] | join(" ")')" = "us-east-1a us-east-1b us-east-1c" ] ||
	fail "init did not give the old state dir three zones"
[ "$(v2 describe-subnets --filters Name=default-for-az,Values=true --output json | jq -r '[.Subnets[] | .SubnetId + "=" + .AvailabilityZone] | .[0]')" = "$old_sub=us-east-1a" ] ||
	fail "the old default subnet is not the us-east-1a one"
[ "$(v2 describe-subnets --filters Name=default-for-az,Values=true --output json | jq '.Subnets | length')" = 3 ] ||
	fail "the old state dir has no default subnets in the new zones"
st=$(v2 describe-instances --instance-ids "$i2" --output json | jq -r '.Reservations[0].Instances[0] | .State.Name + " " + .Placement.AvailabilityZone + " " + .SubnetId')
[ "$st" = "running us-east-1a $old_sub" ] || fail "the old state dir's instance after the migration: $st"
ok "a state dir from before zones migrates: its subnet and instance stay in us-east-1a, init adds us-east-1b and -1c"
