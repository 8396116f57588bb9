#!/bin/bash
# EC2 launch templates through the aws CLI: create (version 1), new versions from a source version,
# $Latest/$Default, describe with filters, modify the default, RunInstances from a template with
# explicit parameters over the template's, delete versions (not the default) and the template; bad
# input gets EC2's codes and changes nothing.
. "$(dirname "$0")/lib.sh"
vm_init
. "$(dirname "$0")/serve.sh"

expect_ec2() { # CODE ARGS…: the aws CLI fails with CODE
	local code=$1 out
	shift
	out=$(aws ec2 "$@" 2>&1) && fail "'$*' succeeded, expected $code"
	grep -q "($code)" <<<"$out" || fail "'$*': $out (expected $code)"
}
aws ec2 create-key-pair --key-name lt-key --query KeyMaterial --output text >/dev/null || fail "create-key-pair"
ud=$(printf '#!/bin/sh\necho from-template\n' | base64 -w0)
lt=$(aws ec2 create-launch-template --launch-template-name web --version-description first \
	--tag-specifications 'ResourceType=launch-template,Tags=[{Key=team,Value=ops}]' \
	--launch-template-data "{\"ImageId\":\"$AMI\",\"InstanceType\":\"t2.micro\",\"KeyName\":\"lt-key\",\"UserData\":\"$ud\",
	  \"TagSpecifications\":[{\"ResourceType\":\"instance\",\"Tags\":[{\"Key\":\"role\",\"Value\":\"web\"}]}],
	  \"BlockDeviceMappings\":[{\"DeviceName\":\"/dev/xvda\",\"Ebs\":{\"VolumeSize\":2,\"DeleteOnTermination\":true}}],
	  \"MetadataOptions\":{\"HttpTokens\":\"required\"}}" --output json) || fail "create-launch-template"
id=$(jq -r .LaunchTemplate.LaunchTemplateId <<<"$lt")
[[ "$id" == lt-* ]] || fail "LaunchTemplateId: $lt"
jq -e '.LaunchTemplate | .LaunchTemplateName == "web" and .DefaultVersionNumber == 1 and .LatestVersionNumber == 1 and
	.Tags == [{"Key":"team","Value":"ops"}]' <<<"$lt" >/dev/null || fail "create-launch-template: $lt"
v1=$(aws ec2 describe-launch-template-versions --launch-template-id "$id" --output json)
jq -e --arg ami "$AMI" --arg ud "$ud" '.LaunchTemplateVersions[0] | .VersionNumber == 1 and .DefaultVersion and
	.VersionDescription == "first" and .LaunchTemplateData.ImageId == $ami and .LaunchTemplateData.UserData == $ud and
	.LaunchTemplateData.InstanceType == "t2.micro" and .LaunchTemplateData.KeyName == "lt-key" and
	.LaunchTemplateData.BlockDeviceMappings[0].Ebs.VolumeSize == 2 and
	.LaunchTemplateData.TagSpecifications[0].Tags[0].Value == "web" and
	.LaunchTemplateData.MetadataOptions.HttpTokens == "required"' <<<"$v1" >/dev/null ||
	fail "describe-launch-template-versions: $v1"
ok "create-launch-template: version 1 is the default and round-trips its data"

# version 2 from version 1 with another type; version 3 from nothing
aws ec2 create-launch-template-version --launch-template-name web --source-version 1 --version-description bigger \
	--launch-template-data '{"InstanceType":"t3.small"}' --output json >"$T/v2.json" || fail "create version 2"
jq -e --arg ami "$AMI" '.LaunchTemplateVersion | .VersionNumber == 2 and (.DefaultVersion | not) and
	.LaunchTemplateData.InstanceType == "t3.small" and .LaunchTemplateData.ImageId == $ami and
	.LaunchTemplateData.KeyName == "lt-key"' "$T/v2.json" >/dev/null || fail "version 2: $(cat "$T/v2.json")"
aws ec2 create-launch-template-version --launch-template-id "$id" \
	--launch-template-data "{\"ImageId\":\"$AMI\"}" >/dev/null || fail "create version 3"
n=$(aws ec2 describe-launch-template-versions --launch-template-id "$id" --versions '$Latest' '$Default' \
	--query 'LaunchTemplateVersions[].VersionNumber' --output text)
[ "$n" = "1	3" ] || fail "\$Latest and \$Default: $n"
n=$(aws ec2 describe-launch-template-versions --launch-template-id "$id" --filters Name=instance-type,Values=t3.small \
	--query 'LaunchTemplateVersions[].VersionNumber' --output text)
[ "$n" = 2 ] || fail "filter instance-type: $n"
aws ec2 modify-launch-template --launch-template-id "$id" --default-version 2 >/dev/null || fail "modify-launch-template"
d=$(aws ec2 describe-launch-templates --launch-template-names web --query 'LaunchTemplates[0].[DefaultVersionNumber,LatestVersionNumber]' --output text)
[ "$d" = "2	3" ] || fail "default/latest after modify: $d"
n=$(aws ec2 describe-launch-templates --filters Name=tag:team,Values=ops --query 'length(LaunchTemplates)')
[ "$n" = 1 ] || fail "filter tag:team: $n"
ok "versions from a source version, \$Latest/\$Default, filters, modify-launch-template --default-version"

# RunInstances from the template's default (version 2): the template's type, key and tags; an
# explicit InstanceType beats the template's
iid=$(aws ec2 run-instances --launch-template LaunchTemplateName=web --count 1 \
	--query 'Instances[0].InstanceId' --output text) || fail "run-instances --launch-template"
i=$(aws ec2 describe-instances --instance-ids "$iid" --query 'Reservations[0].Instances[0]' --output json)
jq -e '.InstanceType == "t3.small" and .KeyName == "lt-key" and (.Tags | from_entries | .role == "web")' <<<"$i" >/dev/null ||
	fail "an instance from the template: $i"
iid2=$(aws ec2 run-instances --launch-template "LaunchTemplateId=$id,Version=1" --instance-type t3.nano --count 1 \
	--query 'Instances[0].InstanceId' --output text) || fail "run-instances --launch-template Version=1"
t=$(aws ec2 describe-instances --instance-ids "$iid2" --query 'Reservations[0].Instances[0].InstanceType' --output text)
[ "$t" = t3.nano ] || fail "an explicit InstanceType over the template's: $t"
ud_attr=$(aws ec2 describe-instance-attribute --instance-id "$iid2" --attribute userData --query UserData.Value --output text)
[ "$ud_attr" = "$ud" ] || fail "the template's user data: $ud_attr"
aws ec2 terminate-instances --instance-ids "$iid" "$iid2" >/dev/null || fail "terminate"
ok "run-instances --launch-template: the template's parameters, explicit ones over them"

# bad input changes nothing
before=$(aws ec2 describe-launch-template-versions --launch-template-id "$id" --output json | md5sum)
expect_ec2 InvalidLaunchTemplateName.AlreadyExistsException create-launch-template --launch-template-name web \
	--launch-template-data "{\"ImageId\":\"$AMI\"}"
expect_ec2 InvalidLaunchTemplateName.NotFoundException describe-launch-templates --launch-template-names nope
expect_ec2 InvalidLaunchTemplateId.Malformed describe-launch-templates --launch-template-ids lt-zz
expect_ec2 InvalidLaunchTemplateId.NotFound describe-launch-templates --launch-template-ids lt-0123456789abcdef0
expect_ec2 InvalidLaunchTemplateId.VersionNotFound describe-launch-template-versions --launch-template-id "$id" --versions 9
expect_ec2 InvalidLaunchTemplateId.VersionNotFound run-instances --launch-template "LaunchTemplateId=$id,Version=9" --count 1
expect_ec2 InvalidParameterValue create-launch-template --launch-template-name 'x y' --launch-template-data "{\"ImageId\":\"$AMI\"}"
expect_ec2 InvalidParameterValue create-launch-template-version --launch-template-id "$id" \
	--launch-template-data '{"BlockDeviceMappings":[{"DeviceName":"/dev/xvda","Ebs":{"VolumeSize":-1}}]}'
expect_ec2 InvalidAMIID.NotFound run-instances --launch-template "LaunchTemplateId=$id" --image-id ami-0123456789abcdef0 --count 1
after=$(aws ec2 describe-launch-template-versions --launch-template-id "$id" --output json | md5sum)
[ "$before" = "$after" ] || fail "a refused request changed the template"
ok "bad input: EC2's codes, nothing changed"

# delete versions: the default is refused, the others go; then the template
del=$(aws ec2 delete-launch-template-versions --launch-template-id "$id" --versions 2 3 --output json)
jq -e '(.SuccessfullyDeletedLaunchTemplateVersions | map(.VersionNumber)) == [3] and
	.UnsuccessfullyDeletedLaunchTemplateVersions[0].VersionNumber == 2 and
	.UnsuccessfullyDeletedLaunchTemplateVersions[0].ResponseError.Code == "launchTemplateVersionDefaultVersion"' <<<"$del" >/dev/null ||
	fail "delete-launch-template-versions: $del"
n=$(aws ec2 describe-launch-template-versions --launch-template-id "$id" --query 'LaunchTemplateVersions[].VersionNumber' --output text)
[ "$n" = "1	2" ] || fail "versions left: $n"
aws ec2 delete-launch-template --launch-template-id "$id" >/dev/null || fail "delete-launch-template"
n=$(aws ec2 describe-launch-templates --query 'length(LaunchTemplates)')
[ "$n" = 0 ] || fail "templates left: $n"
[ "$(sqlite3 "$S/state.db" "SELECT count(*) FROM launch_template_data")" = 0 ] || fail "a deleted template's data stayed"
ok "delete-launch-template-versions keeps the default; delete-launch-template leaves nothing"
