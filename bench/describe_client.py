"""Throughput and latency of one signed DescribeInstances request, sent again and again over
keep-alive connections by THREADS threads for SECONDS, without parsing the answers (the server is
what is measured, not the client).  Prints: requests/s, p50 ms, p95 ms, response bytes.

    describe_client.py ENDPOINT ACCESS_KEY SECRET SECONDS THREADS"""
import http.client
import sys
import threading
import time
import urllib.parse

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

endpoint, akid, secret, seconds, threads = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), int(sys.argv[5])
body = "Action=DescribeInstances&Version=2016-11-15"
req = AWSRequest(method="POST", url=endpoint + "/", data=body,
                 headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
SigV4Auth(Credentials(akid, secret), "ec2", "us-east-1").add_auth(req)
headers = dict(req.headers.items())
u = urllib.parse.urlparse(endpoint)

lat, sizes, lock = [], [], threading.Lock()
stop_at = time.monotonic() + seconds


def worker():
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    mine = []
    size = 0
    while time.monotonic() < stop_at:
        t0 = time.monotonic()
        conn.request("POST", "/", body=body, headers=headers)
        r = conn.getresponse()
        data = r.read()
        if r.status != 200:
            raise SystemExit("HTTP %d: %s" % (r.status, data[:300]))
        mine.append(time.monotonic() - t0)
        size = len(data)
    with lock:
        lat.extend(mine)
        sizes.append(size)


t0 = time.monotonic()
ts = [threading.Thread(target=worker) for _ in range(threads)]
for t in ts:
    t.start()
for t in ts:
    t.join()
elapsed = time.monotonic() - t0
lat.sort()
p = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] * 1000  # noqa: E731
print("%.1f %.1f %.1f %d" % (len(lat) / elapsed, p(0.5), p(0.95), max(sizes)))
