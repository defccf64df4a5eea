#!/usr/bin/env python3
"""Sets up keys on a moto KMS server for kms/tests/aws_moto.rs, through boto3 (not sealant).

  moto_admin.py ENDPOINT create-key              prints the new key's id
  moto_admin.py ENDPOINT disable-key ID
  moto_admin.py ENDPOINT schedule-deletion ID
  moto_admin.py ENDPOINT create-user NAME        prints "ACCESS_KEY_ID SECRET" of a user allowed kms:*
"""

import json
import sys

import boto3

endpoint, command, *args = sys.argv[1:]
session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1")
kms = session.client("kms", endpoint_url=endpoint)

if command == "create-key":
    print(kms.create_key(KeySpec="SYMMETRIC_DEFAULT", KeyUsage="ENCRYPT_DECRYPT")["KeyMetadata"]["Arn"])
elif command == "disable-key":
    kms.disable_key(KeyId=args[0].split("/")[-1])
elif command == "schedule-deletion":
    kms.schedule_key_deletion(KeyId=args[0].split("/")[-1], PendingWindowInDays=7)
elif command == "create-user":
    iam = session.client("iam", endpoint_url=endpoint)
    iam.create_user(UserName=args[0])
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}]}
    iam.put_user_policy(UserName=args[0], PolicyName="kms", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=args[0])["AccessKey"]
    print(key["AccessKeyId"], key["SecretAccessKey"])
else:
    sys.exit(f"unknown command {command}")
