"""Writes a pod table of N pods: the real four, then generated ones, all valid and distinct.

Usage: gen_table.py N OUT  (reads config/pods.toml beside this folder)
"""
import pathlib
import sys

n, out = int(sys.argv[1]), pathlib.Path(sys.argv[2])
source = (pathlib.Path(__file__).resolve().parent.parent / "config" / "pods.toml").read_text()
regions = ["us-east-1", "us-west-2", "eu-central-1", "eu-west-1", "ap-southeast-2", "ap-northeast-1"]
parts = [source]
for i in range(n - 4):
    pod = f"{chr(97 + i // 26 % 26)}{chr(97 + i % 26)}{100 + i}"
    account = f"{100000000000 + i:012d}"
    parts.append(f"""
[[pods]]
id = "{pod}"
location = "Generated {i}"
aws_region = "{regions[i % len(regions)]}"
login_urls = ["https://app.{pod}.example.com"]

[pods.events_api]
events = ["https://s2s.{pod}.example.com/v2/events"]
bulkevents = ["https://s2s.{pod}.example.com/v2/bulkevents"]
bulkevents_historical = ["https://s2s.{pod}.example.com/v2/bulkevents/historical"]

[pods.sftp]
hosts = ["sftp.{pod}.example.com"]
port = 4422
ip = "10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}"

[pods.s3]
principals = ["arn:aws:iam::{account}:role/Prod-Role-DG12-Default", "arn:aws:iam::{account}:role/verifyrequest_lambda"]
""")
out.write_text("".join(parts))
