#!/bin/bash
# Key pairs and user-data reach a real guest through the NoCloud config drive: the hostname from
# meta-data, the key pair's public key in root's authorized_keys (created and imported keys),
# user-data output on the console, user-data running once per instance; bad input refused.
. "$(dirname "$0")/lib.sh"
vm_init

vm create-key-pair --key-name made --key-type ed25519 --output json > "$T/made.json"
jq -r .KeyMaterial "$T/made.json" > "$T/made.pem"
chmod 600 "$T/made.pem"
made_pub=$(ssh-keygen -y -f "$T/made.pem" | awk '{print $1, $2}') || fail "the private key is not a valid OpenSSH key"
[ "$(jq -r .KeyFingerprint "$T/made.json")" = "$(ssh-keygen -lf "$T/made.pem" | awk '{print $2}' | sed 's/^SHA256://')=" ] ||
	fail "ed25519 fingerprint differs from ssh-keygen's"
vm create-key-pair --key-name made-rsa --output json | jq -r .KeyMaterial > "$T/rsa.pem"
head -n 1 "$T/rsa.pem" | grep -q "BEGIN RSA PRIVATE KEY" || fail "RSA key is not PKCS#1 PEM"
[ "$(vm describe-key-pairs --key-names made-rsa --output json | jq -r '.KeyPairs[0].KeyFingerprint')" = \
  "$(openssl pkcs8 -in "$T/rsa.pem" -nocrypt -topk8 -outform DER | openssl sha1 -c | awk '{print $2}')" ] ||
	fail "RSA fingerprint is not the SHA-1 of the PKCS#8 DER, as EC2 computes it"
ssh-keygen -q -t ed25519 -N '' -C mine -f "$T/mine"
vm import-key-pair --key-name mine --public-key-material "fileb://$T/mine.pub" >/dev/null
mine_pub=$(awk '{print $1, $2}' "$T/mine.pub")
ok "create-key-pair (ed25519, rsa) and import-key-pair with EC2's fingerprints"

expect_error InvalidKeyPair.Duplicate vm create-key-pair --key-name made
expect_error InvalidKeyPair.Duplicate vm import-key-pair --key-name mine --public-key-material "fileb://$T/mine.pub"
expect_error InvalidKey.Format vm import-key-pair --key-name junk --public-key-material "not a key"
expect_error InvalidKeyPair.NotFound vm run-instances --image-id "$AMI" --key-name nobody
expect_error InvalidKeyPair.NotFound vm describe-key-pairs --key-names nobody
head -c 16385 /dev/zero | tr '\0' x > "$T/big-ud"
expect_error InvalidParameterValue vm run-instances --image-id "$AMI" --user-data "file://$T/big-ud"
[ "$(vm describe-instances --output json | jq '.Reservations | length')" = 0 ] || fail "bad input launched something"
ok "duplicate, malformed and unknown keys and oversized user-data are refused, nothing launched"

cat > "$T/ud.sh" <<'UD'
#!/bin/sh
echo "user-data says hello from $(hostname)"
echo "authorized: $(cat /root/.ssh/authorized_keys)"
UD
a=$(launch --key-name made --user-data "file://$T/ud.sh")
b=$(launch --key-name mine --user-data "#!/bin/sh
echo second-instance-user-data")
wait_console "$a" "vmmgr: user-data exited 0" 1
wait_console "$b" "vmmgr: user-data exited 0" 1
c=$(console "$a")
label=$(vm describe-instances --instance-ids "$a" --query 'Reservations[0].Instances[0].PrivateDnsName' --output text | cut -d. -f1)
[[ "$label" == ip-* ]] || fail "no private DNS name: $label"
grep -qw "user-data says hello from $label" <<<"$c" || fail "hostname from meta-data ($label) not set: $c"
grep -qF "authorized: $made_pub" <<<"$c" || fail "created key not installed: $c"
grep -qF "second-instance-user-data" <<<"$(console "$b")" || fail "inline user-data did not run"
grep -qF "$mine_pub" <<<"$(vm describe-key-pairs --key-names mine --include-public-key --output json | jq -r '.KeyPairs[0].PublicKey')" ||
	fail "describe-key-pairs does not show the imported key"
[ "$(vm describe-instances --instance-ids "$a" --output json | jq -r '.Reservations[0].Instances[0].KeyName')" = made ] || fail "KeyName"
[ "$(vm describe-instance-attribute --instance-id "$a" --attribute userData --output json | jq -r .UserData.Value | base64 -d)" = "$(cat "$T/ud.sh")" ] ||
	fail "userData attribute does not give back the user data"
ok "hostname, key and user-data reach the guest; userData and KeyName read back"

# ssh (dropbear in the tiny image): the default group lets the host (the subnet's gateway) in on 22
vpc=$(vm describe-instances --instance-ids "$a" --query 'Reservations[0].Instances[0].VpcId' --output text)
gw=$(vm describe-subnets --filters "Name=vpc-id,Values=$vpc" --query 'Subnets[0].CidrBlock' --output text | cut -d/ -f1 | awk -F. '{print $1"."$2"."$3"."$4+1}')
allow_ssh "$(default_group "$vpc")" "$gw/32"
[ "$(gssh "$T/made.pem" "$(private_ip "$a")" hostname)" = "$label" ] || fail "ssh with the created key failed"
[ "$(gssh "$T/mine" "$(private_ip "$b")" 'cat /root/.ssh/authorized_keys' | awk '{print $1, $2}')" = "$mine_pub" ] ||
	fail "ssh with the imported key failed"
out=$(gssh "$T/mine" "$(private_ip "$a")" true 2>&1) && fail "ssh with another key was let in"
grep -qi "permission denied" <<<"$out" || fail "ssh with another key failed otherwise: $out"
ok "ssh as root with the created key and with the imported key; another key is refused"

vm reboot-instances --instance-ids "$a"
wait_console "$a" "vmmgr: instance $a ready" 2
sleep 2
[ "$(count_console "$a" "user-data says hello")" = 1 ] || fail "user-data ran again after a reboot"
ok "user-data runs once per instance"

vm delete-key-pair --key-name made
vm delete-key-pair --key-name made
expect_error InvalidKeyPair.NotFound vm describe-key-pairs --key-names made
vm terminate-instances --instance-ids "$a" "$b" >/dev/null
vm wait instance-terminated --instance-ids "$a" "$b"
for i in "$a" "$b"; do [ ! -e "$S/instances/$i" ] || fail "files of $i remain (config drive?)"; done
ok "delete-key-pair is idempotent; terminate removes the config drive"
