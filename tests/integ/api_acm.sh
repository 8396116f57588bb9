#!/bin/bash
# ACM at the same endpoint (AWS JSON 1.1), for what HTTPS listeners serve: imported certificates
# through the aws CLI and both boto3s (Debian's 1.26 and a newer one when the machine has it).  An
# import reads the certificate's names, dates and key (RSA and EC); a key that does not match, a
# second certificate in the certificate field, a malformed or unknown ARN get ACM's errors and change
# nothing; an import at an existing ARN replaces the certificate and keeps the ARN; tags, paging,
# GetCertificate, delete; the same through `vmmgr acm`.  (The listener side is in elb.sh.)
. "$(dirname "$0")/lib.sh"
vm_init
. "$(dirname "$0")/serve.sh"

mk() { # NAME SUBJECT-CN KEYARGS…: a self-signed certificate $T/NAME.crt with its key $T/NAME.key
	local name=$1 cn=$2
	shift 2
	openssl req -x509 "$@" -nodes -keyout "$T/$name.key" -out "$T/$name.crt" -days 30 -subj "/CN=$cn" \
		-addext "subjectAltName=DNS:$cn,DNS:*.$cn" 2>/dev/null || fail "openssl req $name"
}
mk rsa web.example -newkey rsa:2048
mk ec api.example -newkey ec -pkeyopt ec_paramgen_curve:prime256v1
mk again web.example -newkey rsa:3072
expect_acm ValidationException import-certificate --certificate "fileb://$T/rsa.crt" --private-key "fileb://$T/ec.key"
cat "$T/rsa.crt" "$T/ec.crt" > "$T/two.crt"
expect_acm ValidationException import-certificate --certificate "fileb://$T/two.crt" --private-key "fileb://$T/rsa.key"
expect_acm InvalidArnException describe-certificate --certificate-arn arn:aws:acm:us-east-1:000000000000:certificate/not-a-uuid
[ "$(aws acm list-certificates --query 'length(CertificateSummaryList)')" = 0 ] || fail "a refused import left a certificate"
ok "bad input (a key of another certificate, two certificates, a malformed ARN): ACM's errors, nothing imported"

rsa=$(aws acm import-certificate --certificate "fileb://$T/rsa.crt" --private-key "fileb://$T/rsa.key" \
	--tags Key=app,Value=web Key=env,Value=lab --query CertificateArn --output text) || fail "import rsa"
ec=$(aws acm import-certificate --certificate "fileb://$T/ec.crt" --private-key "fileb://$T/ec.key" \
	--certificate-chain "fileb://$T/rsa.crt" --query CertificateArn --output text) || fail "import ec"
account=$(vm describe-security-groups --query 'SecurityGroups[0].OwnerId' --output text)
[[ "$rsa" =~ ^arn:aws:acm:us-east-1:$account:certificate/[0-9a-f-]{36}$ ]] || fail "the ARN: $rsa"
d=$(aws acm describe-certificate --certificate-arn "$rsa" --output json)
serial=$(openssl x509 -in "$T/rsa.crt" -noout -serial | sed 's/^serial=//; s/../&:/g; s/:$//' | tr A-F a-f)
jq -e --arg s "$serial" '.Certificate | .DomainName == "web.example" and .SubjectAlternativeNames == ["web.example", "*.web.example"]
	and .KeyAlgorithm == "RSA_2048" and .SignatureAlgorithm == "SHA256WITHRSA" and .Status == "ISSUED" and .Type == "IMPORTED"
	and .Serial == $s and .Subject == "CN=web.example" and .Issuer == "CN=web.example" and .InUseBy == []
	and .NotAfter > .NotBefore' <<<"$d" >/dev/null || fail "describe-certificate (rsa): $d"
[ "$(aws acm describe-certificate --certificate-arn "$ec" --query Certificate.KeyAlgorithm --output text)" = EC_prime256v1 ] ||
	fail "the EC certificate's key: $(aws acm describe-certificate --certificate-arn "$ec" --output json)"
g=$(aws acm get-certificate --certificate-arn "$ec" --output json)
[ "$(jq -r .Certificate <<<"$g")" = "$(cat "$T/ec.crt")" ] && [ "$(jq -r .CertificateChain <<<"$g")" = "$(cat "$T/rsa.crt")" ] ||
	fail "get-certificate: $g"
ok "import-certificate (RSA, EC with a chain): names, serial, key and signature algorithms, dates as the certificate has them"

[ "$(aws acm list-certificates --max-items 1 --output json | jq -r '.CertificateSummaryList[].DomainName')" = web.example ] ||
	fail "list-certificates --max-items 1: $(aws acm list-certificates --max-items 1 --output json)"
[ "$(aws acm list-certificates --query 'CertificateSummaryList[].DomainName' --output text)" = "web.example	api.example" ] ||
	fail "list-certificates: $(aws acm list-certificates --output json)"
[ "$(aws acm list-tags-for-certificate --certificate-arn "$rsa" --query 'Tags[].[Key,Value]' --output text | tr '\t\n' '= ')" = "app=web env=lab " ] ||
	fail "list-tags-for-certificate: $(aws acm list-tags-for-certificate --certificate-arn "$rsa" --output json)"
aws acm remove-tags-from-certificate --certificate-arn "$rsa" --tags Key=env || fail "remove-tags-from-certificate"
aws acm add-tags-to-certificate --certificate-arn "$rsa" --tags Key=owner,Value=me || fail "add-tags-to-certificate"
[ "$(aws acm list-tags-for-certificate --certificate-arn "$rsa" --query 'Tags[].Key' --output text)" = "app	owner" ] || fail "tags after changes"
ok "list-certificates (paged), tags added, listed and removed"

# imported again at its ARN: the new certificate, the same ARN
before=$(aws acm describe-certificate --certificate-arn "$rsa" --query Certificate.ImportedAt --output text)
sleep 1
[ "$(aws acm import-certificate --certificate-arn "$rsa" --certificate "fileb://$T/again.crt" --private-key "fileb://$T/again.key" \
	--query CertificateArn --output text)" = "$rsa" ] || fail "import again at the ARN"
d=$(aws acm describe-certificate --certificate-arn "$rsa" --output json)
jq -e --arg b "$before" '.Certificate | .KeyAlgorithm == "RSA_3072" and .ImportedAt != ($b | tonumber? // $b)' <<<"$d" >/dev/null ||
	fail "after the import again: $d"
ok "import-certificate at an existing ARN replaces the certificate and keeps the ARN"

for py in /usr/bin/python3 /root/.pyenv/shims/python3; do
	[ -x "$py" ] && "$py" -c 'import boto3' 2>/dev/null || continue
	"$py" - "$ENDPOINT" "$T" <<'PY' || fail "boto3 with $py"
import sys
import boto3, botocore.exceptions
endpoint, t = sys.argv[1:]
acm = boto3.client("acm", endpoint_url=endpoint, region_name="us-east-1")
arn = acm.import_certificate(Certificate=open(t + "/ec.crt", "rb").read(),
                             PrivateKey=open(t + "/ec.key", "rb").read())["CertificateArn"]
c = acm.describe_certificate(CertificateArn=arn)["Certificate"]
assert c["DomainName"] == "api.example" and c["KeyAlgorithm"] == "EC_prime256v1", c
assert c["NotAfter"] > c["NotBefore"], c
names = [s["DomainName"] for s in acm.list_certificates()["CertificateSummaryList"]]
assert names.count("api.example") == 2, names
page = acm.list_certificates(MaxItems=1)
assert len(page["CertificateSummaryList"]) == 1 and page["NextToken"], page
last = acm.list_certificates(MaxItems=10, NextToken=page["NextToken"])
rest = last["CertificateSummaryList"]
assert [s["DomainName"] for s in page["CertificateSummaryList"] + rest] == names and "NextToken" not in last, last
acm.delete_certificate(CertificateArn=arn)
try:
    acm.describe_certificate(CertificateArn=arn)
    sys.exit("a deleted certificate is described")
except botocore.exceptions.ClientError as e:
    assert e.response["Error"]["Code"] == "ResourceNotFoundException", e.response
print("boto3 %s: acm ok" % boto3.__version__)
PY
done
ok "boto3's acm client: import, describe (timestamps), list, delete, ResourceNotFoundException"

# the same through `vmmgr acm`, which calls the service without the HTTP API
cli=$(vm acm import-certificate --certificate "fileb://$T/ec.crt" --private-key "fileb://$T/ec.key" --tags Key=via,Value=cli \
	--query CertificateArn --output text) || fail "vmmgr acm import-certificate"
[[ "$cli" == arn:aws:acm:us-east-1:$account:certificate/* ]] || fail "vmmgr acm import-certificate: $cli"
[ "$(aws acm describe-certificate --certificate-arn "$cli" --query Certificate.DomainName --output text)" = api.example ] ||
	fail "the aws CLI does not see what vmmgr acm imported"
[ "$(vm acm describe-certificate --certificate-arn "$rsa" --query Certificate.KeyAlgorithm --output text)" = RSA_3072 ] ||
	fail "vmmgr acm describe-certificate: $(vm acm describe-certificate --certificate-arn "$rsa" --output json)"
[ "$(vm acm list-certificates --output json | jq -r '[.CertificateSummaryList[].CertificateArn] | index("'"$cli"'") != null')" = true ] ||
	fail "vmmgr acm list-certificates: $(vm acm list-certificates --output json)"
[ "$(vm acm list-tags-for-certificate --certificate-arn "$cli" --query 'Tags[0].Value' --output text)" = cli ] ||
	fail "vmmgr acm list-tags-for-certificate"
[ "$(vm acm get-certificate --certificate-arn "$cli" --query Certificate --output text)" = "$(cat "$T/ec.crt")" ] ||
	fail "vmmgr acm get-certificate"
rc=0; out=$(vm acm import-certificate --certificate "fileb://$T/rsa.crt" --private-key "fileb://$T/ec.key" 2>&1) || rc=$?
[ "$rc" != 0 ] && grep -q "(ValidationException)" <<<"$out" || fail "vmmgr acm with a key that does not match: $out"
vm acm delete-certificate --certificate-arn "$cli" || fail "vmmgr acm delete-certificate"
rc=0; out=$(vm acm describe-certificate --certificate-arn "$cli" 2>&1) || rc=$?
[ "$rc" != 0 ] && grep -q "(ResourceNotFoundException)" <<<"$out" || fail "vmmgr acm: a deleted certificate: $out"
ok "vmmgr acm: import (fileb://), describe, list, tags, get, delete; the same service the aws CLI sees, the same errors"

aws acm delete-certificate --certificate-arn "$rsa" && aws acm delete-certificate --certificate-arn "$ec" || fail "delete-certificate"
expect_acm ResourceNotFoundException delete-certificate --certificate-arn "$rsa"
[ "$(aws acm list-certificates --query 'length(CertificateSummaryList)')" = 0 ] || fail "certificates left after delete"
ok "delete-certificate: gone; deleting again is ResourceNotFoundException"
