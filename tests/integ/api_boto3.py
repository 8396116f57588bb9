"""boto3 (Debian's python3-boto3) against `vmmgr serve`: idempotent RunInstances, the waiters,
and a SIGTERM that arrives while a launch is in flight.  Run by api_boto3.sh."""
import os
import signal
import sys
import threading
import time

import boto3
import botocore.exceptions

endpoint, ami, serve_pid = sys.argv[1], sys.argv[2], int(sys.argv[3])
ec2 = boto3.client("ec2", endpoint_url=endpoint, region_name="us-east-1")


def ok(msg):
    print("ok - " + msg, flush=True)


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr, flush=True)
    sys.exit(1)


def instances(**kw):
    return [i for r in ec2.describe_instances(**kw)["Reservations"] for i in r["Instances"]]


# the same ClientToken twice: one reservation; other parameters: IdempotentParameterMismatch
r1 = ec2.run_instances(ImageId=ami, MinCount=1, MaxCount=1, ClientToken="boto-1")
r2 = ec2.run_instances(ImageId=ami, MinCount=1, MaxCount=1, ClientToken="boto-1")
if r1["ReservationId"] != r2["ReservationId"] or len(instances()) != 1:
    fail("a retried RunInstances launched again")
try:
    ec2.run_instances(ImageId=ami, MinCount=1, MaxCount=1, InstanceType="t3.small", ClientToken="boto-1")
    fail("mismatched parameters under one token were accepted")
except botocore.exceptions.ClientError as e:
    if e.response["Error"]["Code"] != "IdempotentParameterMismatch":
        fail("wrong error: %s" % e.response["Error"])
ok("ClientToken: a retry returns the first reservation, other parameters are refused")

iid = r1["Instances"][0]["InstanceId"]
ec2.get_waiter("instance_running").wait(InstanceIds=[iid], WaiterConfig={"Delay": 1, "MaxAttempts": 60})
ok("boto3 waiter instance_running")

# botocore generates a ClientToken itself: a plain call launches exactly one instance
r3 = ec2.run_instances(ImageId=ami, MinCount=1, MaxCount=1)
if not r3["Instances"][0]["ClientToken"]:
    fail("boto3's own ClientToken was not recorded")
ok("boto3's generated ClientToken is honoured")

# SIGTERM while a launch is in flight: the launch completes and its answer arrives
result = {}


def launch():
    try:
        result["r"] = ec2.run_instances(ImageId=ami, MinCount=1, MaxCount=1, ClientToken="boto-sigterm")
    except Exception as e:  # noqa: BLE001 - reported below
        result["e"] = e


t = threading.Thread(target=launch)
t.start()
time.sleep(0.3)  # long enough for the request to be in flight, shorter than a launch
os.kill(serve_pid, signal.SIGTERM)
t.join(60)
if "e" in result:
    fail("the launch in flight failed on SIGTERM: %r" % result["e"])
print(result["r"]["Instances"][0]["InstanceId"])
ok("SIGTERM let the RunInstances in flight finish")
