"""Gives a running moto_server COUNT instances (boto3 run_instances in batches of 100).

    moto_seed.py ENDPOINT COUNT"""
import sys

import boto3

endpoint, count = sys.argv[1], int(sys.argv[2])
ec2 = boto3.client("ec2", endpoint_url=endpoint, region_name="us-east-1",
                   aws_access_key_id="testing", aws_secret_access_key="testing")
ami = ec2.describe_images()["Images"][0]["ImageId"]
left = count
while left:
    n = min(100, left)
    ec2.run_instances(ImageId=ami, MinCount=n, MaxCount=n, InstanceType="t3.nano",
                      TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": "bench"}]}])
    left -= n
