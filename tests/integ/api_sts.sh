#!/bin/bash
# STS at the same endpoint, as Terraform's provider and Ansible's modules call it first:
# GetCallerIdentity through the aws CLI and both boto3s (Debian's 1.26 and a newer one when the
# machine has it), answering the account and an IAM ARN for the calling key in the AWS Query shape;
# other STS actions are InvalidAction in STS's error shape; a request signed for a service this
# endpoint does not offer is refused, and one signed for sts never reaches EC2's actions; the
# retired ClassicLink calls answer UnsupportedOperation.
. "$(dirname "$0")/lib.sh"
vm_init
. "$(dirname "$0")/serve.sh"

account=$(vm describe-security-groups --query 'SecurityGroups[0].OwnerId' --output text)
[[ "$account" =~ ^[0-9]{12}$ ]] || fail "no account id: $account"
out=$(aws sts get-caller-identity --output json) || fail "aws sts get-caller-identity"
[ "$(jq -r .Account <<<"$out")" = "$account" ] || fail "Account: $out"
[ "$(jq -r .Arn <<<"$out")" = "arn:aws:iam::$account:user/$AWS_ACCESS_KEY_ID" ] || fail "Arn: $out"
[ "$(jq -r .UserId <<<"$out")" = "$AWS_ACCESS_KEY_ID" ] || fail "UserId: $out"
ok "aws sts get-caller-identity: the account and the calling key's ARN"

for py in /usr/bin/python3 /root/.pyenv/shims/python3; do
	[ -x "$py" ] && "$py" -c 'import boto3' 2>/dev/null || continue
	"$py" - "$ENDPOINT" "$account" "$AWS_ACCESS_KEY_ID" <<'PY' || fail "boto3 with $py"
import sys
import boto3, botocore.exceptions
endpoint, account, key = sys.argv[1:]
sts = boto3.client("sts", endpoint_url=endpoint, region_name="us-east-1")
me = sts.get_caller_identity()
assert me["Account"] == account and me["Arn"] == "arn:aws:iam::%s:user/%s" % (account, key), me
try:
    sts.get_session_token()
    sys.exit("GetSessionToken answered")
except botocore.exceptions.ClientError as e:
    assert e.response["Error"]["Code"] == "InvalidAction", e.response
print("boto3 %s: sts ok" % boto3.__version__)
PY
done
ok "boto3's sts client: GetCallerIdentity; another STS action is InvalidAction"

sig=(--aws-sigv4 "aws:amz:us-east-1:sts" -u "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY")
body=$(curl -s "${sig[@]}" -d 'Action=DescribeInstances&Version=2016-11-15' "$ENDPOINT/")
grep -q '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>InvalidAction</Code>' <<<"$body" ||
	fail "an EC2 action signed for sts: $body"
body=$(curl -s "${sig[@]}" -d 'Action=GetCallerIdentity&Version=2016-11-15' "$ENDPOINT/")
grep -q '<Code>InvalidAction</Code>' <<<"$body" || fail "GetCallerIdentity with EC2's version: $body"
body=$(curl -s --aws-sigv4 "aws:amz:us-east-1:s3" -u "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" -d 'Action=ListBuckets' "$ENDPOINT/")
grep -q "offers no service 's3'" <<<"$body" || fail "a request signed for s3: $body"
ok "a request signed for sts never reaches EC2's actions; an unknown version or service is refused"

# the retired ClassicLink calls that tools still make first answer as AWS answers them today
for op in describe-vpc-classic-link describe-vpc-classic-link-dns-support; do
	out=$(aws ec2 "$op" 2>&1) && fail "$op answered: $out"
	grep -q '(UnsupportedOperation)' <<<"$out" || fail "$op: $out"
done
ok "describe-vpc-classic-link and …-dns-support: UnsupportedOperation"
